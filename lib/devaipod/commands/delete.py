"""devaipod delete: remove a workspace with its volumes and secrets."""

from __future__ import annotations

import click

from devaipod import errors
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
@click.option("-f", "--force", is_flag=True, help="Delete even when the pod is running.")
@dry_run_option
@json_option
def cli(workspace, force, as_json) -> None:
    """Delete WORKSPACE: its pod, containers, volumes and secrets.

    A running workspace is refused unless --force is given (stop it first).
    """
    state = pod.inspect(workspace).get("State", "")
    if state in ("Running", "Degraded") and not force:
        raise errors.DevaipodError(f"workspace '{workspace}' is running",
                                   "stop it first ('devaipod stop'), or pass --force")
    removed = remove.purge(workspace)
    if as_json:
        emit_json(removed)
    else:
        echo_result(workspace)
