"""devaipod opencode: script the agent (OpenCode) of a workspace."""

from __future__ import annotations

import click

from devaipod.clikit import emit_json, group, json_option, say


def client(ctx: click.Context):
    """The agent's client, once OpenCode answers (it starts in a few seconds). WORKSPACE is
    resolved here, when a sub-verb runs, so that `opencode WS send --help` needs no pod."""
    from devaipod.agent import task
    from devaipod.agent.client import Client
    from devaipod.workspace import lookup

    c = Client.for_pod(lookup.resolve(ctx.obj))
    task.wait_ready(c, timeout=90)
    return c


def pick_session(c, sid: str | None, create: bool = False) -> str:
    from devaipod.agent import task

    sid = sid or task.oldest_root_session(c)
    if sid is None and create:
        sid = task.new_session(c)
    if sid is None:
        raise click.UsageError("the agent has no session yet; give one with -s")
    return sid


@group("opencode")
@click.argument("workspace")
@click.pass_context
def cli(ctx: click.Context, workspace: str) -> None:
    """Talk to WORKSPACE's agent: send messages, list sessions, abort."""
    ctx.obj = workspace


@cli.command("send")
@click.argument("message")
@click.option("-s", "--session", "sid", metavar="SID", help="Session (default: the oldest).")
@json_option
@click.pass_context
def send(ctx, message, sid, as_json) -> None:
    """Send MESSAGE and wait for the agent's reply."""
    from devaipod.agent import task

    c = client(ctx)
    sid = pick_session(c, sid, create=True)
    reply = c.post(f"/session/{sid}/message", {"parts": [{"type": "text", "text": message}]},
                   timeout=3600)
    if as_json:
        emit_json(reply)
        return
    text = "".join(p.get("text", "") for p in (reply or {}).get("parts") or []
                   if p.get("type") == "text").strip()
    say(text or task.final_reply(c, sid))


@cli.group("session")
def session() -> None:
    """The agent's sessions."""


@session.command("list")
@json_option
@click.pass_context
def session_list(ctx, as_json) -> None:
    """List the root sessions, oldest first."""
    from devaipod.podapi.summary import root_sessions

    sessions = root_sessions(client(ctx).get("/session") or [])
    if as_json:
        emit_json(sessions)
        return
    for s in sessions:
        say(f"{s['id']}  {s.get('title', '')}")


@session.command("show")
@click.argument("sid")
@json_option
@click.pass_context
def session_show(ctx, sid, as_json) -> None:
    """Show session SID's messages."""
    messages = client(ctx).get(f"/session/{sid}/message")
    if as_json:
        emit_json(messages)
        return
    for msg in messages or []:
        role = (msg.get("info") or {}).get("role", "?")
        for part in msg.get("parts") or []:
            if part.get("type") == "text" and part.get("text", "").strip():
                say(f"{role}: {part['text'].strip()}")
            elif part.get("type") == "tool":
                say(f"{role}: [tool {part.get('tool')}]")


@cli.group("mcp")
def mcp() -> None:
    """The agent's MCP servers."""


@mcp.command("list")
@json_option
@click.pass_context
def mcp_list(ctx, as_json) -> None:
    """List the MCP servers the agent knows and their status."""
    servers = client(ctx).get("/mcp") or {}
    if as_json:
        emit_json(servers)
        return
    for name, info in sorted(servers.items()):
        say(f"{name}  {(info or {}).get('status', '')}")


@mcp.command("tools")
@click.option("-s", "--server", metavar="SERVER", help="Only the tools of MCP server SERVER.")
@json_option
@click.pass_context
def mcp_tools(ctx, server, as_json) -> None:
    """List the tools the agent can call (an MCP server's are named SERVER_TOOL)."""
    ids = sorted(str(i) for i in client(ctx).get("/experimental/tool/ids") or [])
    if server:
        ids = [i for i in ids if i.startswith(f"{tool_prefix(server)}_")]
    if as_json:
        emit_json(ids)
        return
    for tool in ids:
        say(tool)


def tool_prefix(server: str) -> str:
    """How OpenCode names an MCP server in its tools' ids (other characters become _)."""
    import re

    return re.sub(r"[^a-zA-Z0-9_-]", "_", server)


@cli.command("status")
@json_option
@click.pass_context
def status(ctx, as_json) -> None:
    """The agent's state, last message and last activity."""
    data = client(ctx).get("/summary")
    if as_json:
        emit_json(data)
        return
    say(f"{data['state']}  {data.get('last_activity') or ''}")
    if data.get("message"):
        say(data["message"])


@cli.command("abort")
@click.option("-s", "--session", "sid", metavar="SID", help="Session (default: every busy one).")
@click.pass_context
def abort(ctx, sid) -> None:
    """Stop the agent's current turn."""
    c = client(ctx)
    busy = [sid] if sid else list((c.get("/session/status") or {}).keys())
    for s in busy:
        c.post(f"/session/{s}/abort")
        click.echo(s)
