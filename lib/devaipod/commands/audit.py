"""devaipod audit: show a workspace's audit trail."""

from __future__ import annotations

import click

from devaipod.clikit import command, emit_json, json_option, say, workspace_argument


@command("audit")
@workspace_argument
@click.option("-f", "--follow", is_flag=True,
              help="Keep printing events as they are written (while the pod runs).")
@json_option
def cli(workspace, follow, as_json) -> None:
    """Show WORKSPACE's audit trail: gator calls, pushes and what humans did.

    One event a line (with --json, one JSON object a line; without --follow, a JSON
    array). Only trusted parts write it: the gator and devaipod itself.
    """
    import json

    from devaipod import audit
    from devaipod.workspace import audit as trail

    if follow:
        trail.follow(workspace, lambda ev: click.echo(json.dumps(ev)) if as_json
                     else say(audit.render(ev)))
        return
    events = trail.read(workspace)
    if as_json:
        emit_json(events)
        return
    for ev in events:
        say(audit.render(ev))
