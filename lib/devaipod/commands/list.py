"""devaipod list: the workspaces of this instance."""

from __future__ import annotations

import gc

import click

from devaipod import kube
from devaipod.clikit import command, context, emit_json, json_option, say
from devaipod.workspace import lookup


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


@command("list")
@json_option
def cli(as_json: bool) -> None:
    """List workspaces: name, agent state, mode, repository, task, last activity.

    The agent state is starting, working, idle, error, stopped, unknown or done.
    """
    rows = (kube.active(context()) or lookup).rows(agent=True)
    # what is left is the interpreter's exit: frozen, its objects are not walked again by
    # the collections of the shutdown (about 50 ms of CPU, a fifth of list's own: bench/list)
    gc.freeze()
    if as_json:
        emit_json([r.as_dict() for r in rows])
        return
    if not rows:
        click.echo("no workspaces", err=True)
        return
    fmt = "{:<28} {:<9} {:<4} {:<30} {:<26} {:<17} {}"
    click.echo(fmt.format("NAME", "STATE", "MODE", "REPO", "TASK", "ACTIVE", "LAST MESSAGE"))
    for r in rows:
        say(fmt.format(_short(r.short, 28), r.agent, r.mode, _short(r.repo, 30),
                              _short(r.task, 26), (r.last_activity or r.created)[:16],
                              _short(r.last_message, 40)))
