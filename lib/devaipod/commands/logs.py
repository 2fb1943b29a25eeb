"""devaipod logs: a workspace container's logs."""

from __future__ import annotations

import sys

import click

from devaipod import errors, kube, layout, podman
from devaipod.clikit import command, context, workspace_argument
from devaipod.podman import container


@command("logs")
@workspace_argument
@click.option("-c", "--container", "role", default="agent", show_default=True,
              type=click.Choice(layout.ROLES), help="Which container.")
@click.option("-f", "--follow", is_flag=True, help="Keep following the log.")
@click.option("-n", "--tail", type=int, default=None, metavar="N", help="Only the last N lines.")
def cli(workspace, role, follow, tail) -> None:
    """Show the logs of one of WORKSPACE's containers (default: the agent)."""
    if cluster := kube.active(context()):
        sys.exit(cluster.logs(workspace, role, follow, tail))
    target = layout.container(workspace, role)
    if not container.exists(target):
        raise errors.DevaipodError(f"workspace '{layout.short(workspace)}' has no {role} container",
                                   f"its containers: {', '.join(present(workspace))}")
    # podman's own error, if any, has already reached the terminal
    sys.exit(podman.stream(container.logs_argv(target, follow=follow, tail=tail)))


def present(workspace: str) -> list[str]:
    return [c["Names"][0].removeprefix(workspace + "-")
            for c in container.ps({"pod": workspace}) if c["Names"][0].startswith(workspace)]
