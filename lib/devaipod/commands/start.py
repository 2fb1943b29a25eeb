"""devaipod start / stop: start or stop a workspace's pod."""

from __future__ import annotations

import click

from devaipod.clikit import command, dry_run_option, workspace_argument
from devaipod.podman import pod


@command("start")
@workspace_argument
@dry_run_option
def cli(workspace) -> None:
    """Start WORKSPACE's pod (its trees are kept in volumes)."""
    pod.start(workspace)
    click.echo(workspace)
