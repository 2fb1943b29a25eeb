"""devaipod attach: the agent's TUI and a shell, side by side in tmux."""

from __future__ import annotations

import click

from devaipod import layout, runner, terminals, tmux
from devaipod.clikit import command, context, interactive, workspace_argument
from devaipod.podman import container


@command("attach")
@workspace_argument
@click.option("-W", "--workspace", "in_workspace", is_flag=True,
              help="Run the TUI and the shell in the workspace container.")
@click.option("--worker", is_flag=True, help="Attach to the worker's agent.")
@click.option("-s", "--session", "sid", metavar="SID",
              help="OpenCode session (default: the oldest root session).")
def cli(workspace, in_workspace, worker, sid) -> None:
    """Open tmux with WORKSPACE's agent TUI in one pane and a shell in the other.

    Detaching (C-b d) leaves everything running; attaching again reuses the
    same tmux session. Without a terminal, the session is made and its name
    printed, for `tmux attach -t NAME` later.
    """
    attach(workspace, "workspace" if in_workspace else "worker" if worker else "agent", sid)


def attach(workspace: str, role: str = "agent", sid: str | None = None) -> None:
    """Attach this terminal to the tmux session of ROLE's TUI (made if missing); without a
    terminal, print the session's name (on kubernetes: the TUI, without tmux)."""
    from devaipod import kube

    if cluster := kube.active(context()):
        return cluster.attach(workspace, role, sid, interactive())
    if not container.exists(layout.container(workspace, role)):
        raise click.ClickException(f"workspace '{layout.short(workspace)}' has no {role} "
                                   "container")
    name = terminals.tui_layout(workspace, role, sid)
    if context().dry_run:
        return
    if not interactive():
        click.echo(name)
        return
    runner.replace(tmux.attach_argv(name))
