"""devaipod delete: remove a workspace with its volumes and secrets."""

from __future__ import annotations

import click

from devaipod import errors, layout
from devaipod.clikit import (
    command,
    dry_run_option,
    echo_result,
    emit_json,
    json_option,
    workspace_argument,
)
from devaipod.podman import pod
from devaipod.workspace import remove


@command("delete")
@workspace_argument
@click.option("-f", "--force", is_flag=True,
              help="Delete even when the pod is running, without asking.")
@dry_run_option
@json_option
def cli(workspace, force, as_json) -> None:
    """Delete WORKSPACE: its pod, containers, volumes and secrets.

    A running workspace is stopped and deleted after a yes on a terminal; without
    one it needs --force.
    """
    state = pod.inspect(workspace).get("State", "")
    if state in ("Running", "Degraded") and not force:
        confirm_running(workspace)
        pod.stop(workspace, 10)
    removed = remove.purge(workspace)
    if as_json:
        emit_json(removed)
    else:
        echo_result(workspace)


def confirm_running(workspace: str) -> None:
    """Ask on a terminal before a running workspace goes; without one, refuse."""
    import sys

    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise errors.DevaipodError(f"workspace '{workspace}' is running",
                                   "stop it first ('devaipod stop'), or pass --force")
    if not click.confirm(f"workspace '{layout.short(workspace)}' is running: "
                         "stop it and delete it with its volumes?", default=False):
        raise errors.DevaipodError("not deleted", "answer y to delete it, or pass --force")
