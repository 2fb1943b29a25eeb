"""devaipod status: one workspace in detail."""

from __future__ import annotations

import click

from devaipod.clikit import command, emit_json, json_option, workspace_argument
from devaipod.podman import pod
from devaipod.workspace import lookup


def api_port(info: dict) -> str | None:
    bindings = ((info.get("InfraConfig") or {}).get("PortBindings") or {}).get("8090/tcp")
    return bindings[0].get("HostPort") if bindings else None


def gather(name: str) -> dict:
    info = pod.inspect(name)
    row = lookup.row({"Name": info["Name"], "Status": info.get("State", ""),
                      "Labels": info.get("Labels"),
                      "Containers": [{"Names": c["Name"], "Status": c.get("State", "")}
                                     for c in info.get("Containers") or []]},
                     lookup.done_pods())
    data = row.as_dict()
    data["api_port"] = api_port(info)
    return data


@command("status")
@workspace_argument
@json_option
def cli(workspace, as_json) -> None:
    """Show the state of WORKSPACE: pod, containers, sidecar port, labels."""
    data = gather(workspace)
    if as_json:
        emit_json(data)
        return
    click.echo(f"workspace  {data['short']} ({data['name']})")
    click.echo(f"state      {'done' if data['done'] else data['status'].lower()}")
    for key in ("mode", "repo", "source", "task", "title", "created"):
        if data[key]:
            click.echo(f"{key:<10} {data[key]}")
    if data["api_port"]:
        click.echo(f"api        127.0.0.1:{data['api_port']}")
    for role, state in sorted(data["containers"].items()):
        click.echo(f"  {role:<12} {state}")
