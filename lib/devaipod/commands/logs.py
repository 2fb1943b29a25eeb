"""devaipod logs: a workspace container's logs."""

from __future__ import annotations

import sys

import click

from devaipod import podman
from devaipod.clikit import command, workspace_argument
from devaipod.podman import container
from devaipod.workspace import names


@command("logs")
@workspace_argument
@click.option("-c", "--container", "role", default="agent", show_default=True,
              type=click.Choice(names.ROLES), help="Which container.")
@click.option("-f", "--follow", is_flag=True, help="Keep following the log.")
@click.option("-n", "--tail", type=int, default=None, metavar="N", help="Only the last N lines.")
def cli(workspace, role, follow, tail) -> None:
    """Show the logs of one of WORKSPACE's containers (default: the agent)."""
    argv = container.logs_argv(names.container(workspace, role), follow=follow, tail=tail)
    sys.exit(podman.stream(argv, check=True))
