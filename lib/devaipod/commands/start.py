"""devaipod start: start a workspace's pod."""

from __future__ import annotations

from devaipod.clikit import command, dry_run_option, echo_result, workspace_argument
from devaipod.workspace import lifecycle


@command("start")
@workspace_argument
@dry_run_option
def cli(workspace) -> None:
    """Start WORKSPACE's pod (its trees are kept in volumes)."""
    lifecycle.start(workspace)
    echo_result(workspace)
