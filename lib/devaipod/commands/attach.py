"""devaipod attach: the agent's TUI and a shell, side by side in tmux."""

from __future__ import annotations

import sys

import click

from devaipod import podman, runner, tmux
from devaipod.clikit import command, context, workspace_argument
from devaipod.podman import container, secret
from devaipod.workspace import names

PORTS = {"agent": 4096, "worker": 4098}


def tui_command(pod: str, role: str, session: str | None) -> str:
    """The pane command: `opencode attach` inside the pod, password from its secret."""
    target = "worker" if role == "worker" else "agent"
    from devaipod.agent.task import checked_id

    cmd = ["opencode", "attach", f"http://127.0.0.1:{PORTS[target]}"]
    if session:
        cmd += ["--session", checked_id(session)]
    return pane(pod, role, cmd)


def pane(pod: str, role: str, cmd: list[str]) -> str:
    """The pane's command line: tmux gives it to the user's shell (sh, dash, bash...)."""
    argv = container.exec_argv(names.container(pod, role), secret.with_env(cmd),
                               interactive=True, tty=True)
    return runner.shell_join(podman.argv(argv))


def session_name(pod: str, role: str) -> str:
    suffix = "" if role == "agent" else f"-{role}"
    return f"{pod}{suffix}".replace(".", "-").replace(":", "-")


def pick_session(pod: str, given: str | None) -> str | None:
    from devaipod.agent import task
    from devaipod.agent.client import Client

    if given:
        return given
    c = Client.for_pod(pod)
    task.wait_ready(c, timeout=60)
    return task.oldest_root_session(c)


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
    role = "workspace" if in_workspace else "worker" if worker else "agent"
    if not container.exists(names.container(workspace, role)):
        raise click.ClickException(f"workspace '{names.short(workspace)}' has no {role} "
                                   "container")
    name = session_name(workspace, role)
    if not tmux.has_session(name):
        # the agent's sessions live in the agent's OpenCode; the worker has its own
        session = sid if role == "worker" else pick_session(workspace, sid)
        left = tui_command(workspace, role, session)
        tmux.new_layout(name, left, pane(workspace, role, ["bash"]))
    if context().dry_run:
        return
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        click.echo(name)
        return
    runner.replace(tmux.attach_argv(name))
