"""devaipod done: mark a workspace finished (prune removes done ones)."""

from __future__ import annotations

import click

from devaipod.clikit import command, dry_run_option, echo_result, workspace_argument
from devaipod.workspace import lifecycle


@command("done")
@workspace_argument
@click.option("--undo", is_flag=True, help="Mark it active again.")
@dry_run_option
def cli(workspace, undo) -> None:
    """Mark WORKSPACE done, or active again with --undo.

    The mark is a small volume labelled io.devaipod.done, so that `list`
    sees every workspace's state in one podman call.
    """
    lifecycle.mark_done(workspace, done=not undo)
    echo_result(workspace)
