"""devaipod debug: one workspace's diagnostics, for a bug report or a stuck agent."""

from __future__ import annotations

import click

from devaipod.clikit import command, emit_json, json_option, say, workspace_argument


@command("debug")
@workspace_argument
@json_option
def cli(workspace, as_json) -> None:
    """Show WORKSPACE's diagnostics: containers, mounts, secrets, agent, MCP, gator, logs."""
    from devaipod import audit
    from devaipod.printable import printable
    from devaipod.workspace.diagnose import gather

    data = gather(workspace)
    if as_json:
        emit_json(printable_tree(data, printable))
        return
    click.echo(f"workspace {data['short']} ({data['name']}): {data['state'].lower()}")
    agent = data["agent"]
    health = "healthy" if agent["healthy"] else f"not healthy ({agent.get('error') or '?'})"
    say(f"agent     {health} {agent.get('version') or ''}".rstrip())
    for name, status in sorted(agent["mcp"].items()):
        say(f"  mcp     {name}: {status}")
    gator = data["gator"]
    if gator["present"]:
        reach = "reachable" if gator["reachable"] else "NOT reachable from the agent"
        click.echo(f"gator     {reach}")
        for grant in gator["grants"] or [gator["error"] or "no access granted"]:
            click.echo(f"  grant   {grant}")
    egress = data["egress"]
    click.echo(f"egress    {egress['mode']}" + (
        f": {', '.join(egress.get('allow') or []) or egress.get('error') or '(not running)'}"
        if egress["mode"] != "open" else ""))
    proxy = egress.get("container")
    if proxy:
        click.echo(f"  proxy   {proxy['name']}: {proxy['state']}")
        for line in proxy["log"]:
            say(f"  log     {line}")
    trail = data["audit"]
    click.echo(f"audit     {trail['error'] or str(trail['events']) + ' events'}")
    for ev in trail["last"]:
        say(f"  event   {audit.render(ev)}")
    for c in data["containers"]:
        code = f" (exit {c['exit_code']})" if c["state"] == "exited" else ""
        code += " (oom: killed at its memory limit)" if c["oom_killed"] else ""
        click.echo(f"\n{c['role']}: {c['state']}{code}  {c['image']}")
        if c["limits"]:
            click.echo(f"  limits  {c['limits']}")
        for m in c["mounts"]:
            click.echo(f"  mount   {m['destination']} <- {m['source']} "
                       f"({'rw' if m['rw'] else 'ro'})")
        click.echo(f"  secrets {', '.join(c['secrets']) or '-'}")
        for line in c["log"]:
            say(f"  log     {line}")


def printable_tree(data, printable):
    """Every string in DATA made printable (log lines and OpenCode's answers are the
    agent's text)."""
    if isinstance(data, dict):
        return {k: printable_tree(v, printable) for k, v in data.items()}
    if isinstance(data, list):
        return [printable_tree(v, printable) for v in data]
    return printable(data) if isinstance(data, str) else data
