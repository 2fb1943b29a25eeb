"""devaipod delete: remove a workspace with its volumes and secrets."""

from __future__ import annotations

import click

from devaipod import errors, layout
from devaipod.clikit import (
    command,
    context,
    dry_run_option,
    echo_result,
    emit_json,
    interactive,
    json_option,
    workspace_argument,
)
from devaipod.podman import pod
from devaipod.workspace import remove


@command("delete")
@workspace_argument
@click.option("-f", "--force", is_flag=True,
              help="Delete even when the pod is running, without asking.")
@click.option("--keep-audit", metavar="FILE", type=click.Path(dir_okay=False, writable=True),
              help="First write the workspace's audit trail (JSON Lines) to FILE.")
@dry_run_option
@json_option
def cli(workspace, force, keep_audit, as_json) -> None:
    """Delete WORKSPACE: its pod, containers, volumes and secrets.

    A running workspace is stopped and deleted after a yes on a terminal; without
    one it needs --force. Its audit trail goes with it, unless --keep-audit saves it.
    """
    from devaipod import kube

    if cluster := kube.active(context()):
        if keep_audit:
            raise errors.DevaipodError("--keep-audit: the audit trail is not kept on "
                                       "kubernetes yet", "delete without --keep-audit")
        if cluster.state(workspace) in ("Running", "Degraded") and not force:
            confirm_running(workspace)
        removed = cluster.delete(workspace)
        if as_json:
            emit_json(removed)
        else:
            echo_result(workspace)
        return
    state = pod.inspect(workspace).get("State", "")
    if state in ("Running", "Degraded") and not force:
        confirm_running(workspace)
    if keep_audit:
        export_audit(workspace, keep_audit)
    if state in ("Running", "Degraded") and not force:
        pod.stop(workspace, 10)
    removed = remove.purge(workspace)
    if as_json:
        emit_json(removed)
    else:
        echo_result(workspace)


def export_audit(workspace: str, path: str) -> None:
    """Write WORKSPACE's trail, with its deletion as the last event, to PATH; nothing is
    deleted when it cannot be written."""
    from devaipod import audit, runner
    from devaipod.workspace import audit as trail

    trail.note(workspace, "human", action="delete")
    events = trail.read(workspace)

    def write() -> None:
        try:
            with open(path, "w", encoding="ascii") as f:
                f.writelines(audit.line(ev) for ev in events)
        except OSError as exc:
            raise errors.DevaipodError(f"cannot write the audit trail to {path}: "
                                       f"{exc.strerror}", "nothing was deleted; give "
                                       "another --keep-audit FILE") from None

    runner.local(write)


def confirm_running(workspace: str) -> None:
    """Ask on a terminal before a running workspace goes; without one, refuse."""

    if not interactive():
        raise errors.DevaipodError(f"workspace '{workspace}' is running",
                                   "stop it first ('devaipod stop'), or pass --force")
    if not click.confirm(f"workspace '{layout.short(workspace)}' is running: "
                         "stop it and delete it with its volumes?", default=False):
        raise errors.DevaipodError("not deleted", "answer y to delete it, or pass --force")
