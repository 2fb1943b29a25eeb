"""devaipod status: one workspace in detail."""

from __future__ import annotations

import click

from devaipod import kube, layout
from devaipod.clikit import command, context, emit_json, json_option, say, workspace_argument
from devaipod.workspace.status import gather


@command("status")
@workspace_argument
@json_option
def cli(workspace, as_json) -> None:
    """Show the state of WORKSPACE: pod, containers, sidecar port (labels with --json)."""
    cluster = kube.active(context())
    data = cluster.status(workspace) if cluster else gather(workspace)
    if as_json:
        emit_json(data)
        return
    click.echo(f"workspace  {data['short']} ({data['name']})")
    click.echo(f"pod        {data['status'].lower()}")
    click.echo(f"agent      {data['agent']}")
    if data["last_message"]:
        say(f"message    {' '.join(data['last_message'].split())[:200]}")
    if data["agent_status"] not in ("", "starting", "working", "idle"):  # if more than a state
        say(f"now        {data['agent_status']}")
        for line in data["agent_lines"]:
            say(f"           {line}")
    for key in ("mode", "repo", "source", "task", "title", "created"):
        if data[key]:
            click.echo(f"{key:<10} {data[key]}")
    if data["limits"]:
        click.echo(f"limits     {data['limits']} (agent, worker)")
    if data.get("agent_oom_kills"):
        click.echo(f"oom        {data['agent_oom_kills']} of the agent's processes killed at "
                   "its memory limit")
    if data["api_port"]:
        click.echo(f"api        {data['api_address']}:{data['api_port']}")
    egress = data["egress"]
    if egress["mode"] != "open":
        listed = egress.get("allow")
        click.echo(f"egress     {egress['mode']}: " + (
            ", ".join(listed) if listed else egress.get("error") or "(none)"
            if listed is not None else "(proxy not running)"))
    grants = data["labels"].get(layout.GATOR)
    if grants:
        click.echo(f"gator      {grants} (at creation; now: devaipod gator show)")
    for role, state in sorted(data["containers"].items()):
        click.echo(f"  {role:<12} {state}")
