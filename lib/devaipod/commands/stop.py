"""devaipod stop: stop a workspace's pod."""

from __future__ import annotations

import click

from devaipod.clikit import command, dry_run_option, echo_result, workspace_argument


@command("stop")
@workspace_argument
@click.option("-t", "--time", "timeout", type=int, default=None, metavar="SECONDS",
              help="Seconds to wait before killing the containers.")
@dry_run_option
def cli(workspace, timeout) -> None:
    """Stop WORKSPACE's pod; `devaipod start` brings it back as it was."""
    from devaipod.workspace import lifecycle

    lifecycle.stop(workspace, timeout)
    echo_result(workspace)
