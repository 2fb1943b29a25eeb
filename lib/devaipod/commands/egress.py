"""devaipod egress: show and change an allow-list workspace's allowed hosts, live."""

from __future__ import annotations

import click

from devaipod.clikit import command, emit_json, json_option, workspace_argument


@command("egress")
@workspace_argument
@click.argument("action", required=False, type=click.Choice(["show", "allow", "deny"]))
@click.argument("hosts", nargs=-1, metavar="[HOST]...")
@json_option
def cli(workspace, action, hosts, as_json) -> None:
    """Show WORKSPACE's egress allow-list, or allow or deny HOST on it, live.

    HOST is a host name, *.DOMAIN (any subdomain) or HOST:PORT (HTTPS to
    that port). The proxy reads the list again at once; the change is noted in
    the audit trail. Only a workspace made with --egress allow-list has a list.
    """
    from devaipod import errors
    from devaipod.workspace import egress

    if action in ("allow", "deny") and not hosts:
        raise errors.DevaipodError(f"egress {action}: no HOST given",
                                   f"devaipod egress WORKSPACE {action} HOST")
    if action in ("allow", "deny"):
        listed = egress.change(workspace, hosts if action == "allow" else (),
                               hosts if action == "deny" else ())
    else:
        egress.need_running(workspace)
        listed = egress.allowed(workspace) or []
    if as_json:
        emit_json({"mode": "allow-list", "allow": listed})
        return
    click.echo("\n".join(listed) or "no host allowed")
