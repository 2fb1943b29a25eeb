"""devaipod list: the workspaces of this instance."""

from __future__ import annotations

import click

from devaipod.clikit import command, emit_json, json_option
from devaipod.workspace import lookup


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


@command("list")
@json_option
def cli(as_json: bool) -> None:
    """List workspaces: name, state, mode, repository, task, creation time."""
    rows = lookup.rows()
    if as_json:
        emit_json([r.as_dict() for r in rows])
        return
    if not rows:
        click.echo("no workspaces", err=True)
        return
    fmt = "{:<28} {:<9} {:<4} {:<32} {:<28} {}"
    click.echo(fmt.format("NAME", "STATE", "MODE", "REPO", "TASK", "CREATED"))
    for r in rows:
        state = "done" if r.done else r.status.lower()
        click.echo(fmt.format(_short(r.short, 28), state, r.mode, _short(r.repo, 32),
                              _short(r.task, 28), r.created[:16]))
