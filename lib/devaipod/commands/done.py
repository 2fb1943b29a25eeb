"""devaipod done: mark a workspace finished (prune removes done ones)."""

from __future__ import annotations

import click

from devaipod.clikit import command, dry_run_option, echo_result, workspace_argument
from devaipod.podman import volume
from devaipod.workspace import names


@command("done")
@workspace_argument
@click.option("--undo", is_flag=True, help="Mark it active again.")
@dry_run_option
def cli(workspace, undo) -> None:
    """Mark WORKSPACE done, or active again with --undo.

    The mark is a small volume labelled io.devaipod.done, so that `list`
    sees every workspace's state in one podman call.
    """
    marker = names.done_volume(workspace)
    if undo:
        volume.rm([marker], force=True)
    elif not volume.exists(marker):
        import datetime

        now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        volume.create(marker, labels={**names.base_labels(workspace), names.DONE: now})
    echo_result(workspace)
