"""devaipod start / stop: start or stop a workspace's pod."""

from __future__ import annotations

from devaipod.clikit import command, dry_run_option, echo_result, workspace_argument
from devaipod.podman import pod


@command("start")
@workspace_argument
@dry_run_option
def cli(workspace) -> None:
    """Start WORKSPACE's pod (its trees are kept in volumes)."""
    pod.start(workspace)
    echo_result(workspace)
