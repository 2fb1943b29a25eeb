"""The tmux layout of a pod's terminals, for `devaipod attach` and the web's Terminal tab.

A layout is a detached tmux session named after the pod: the agent's TUI
(``opencode attach`` inside the pod) on the left, a shell beside it. The web's
workspace terminal is a shell alone. Each pane's command is a ``podman exec``
line that tmux gives to the user's shell (sh, dash, bash...): it is joined
with POSIX quoting (``runner.shell_join``), never bash's ``$'...'``, and the
session id it names (which the agent's OpenCode reports) must look like one.
"""

from __future__ import annotations

from devaipod import layout, podman, runner, tmux
from devaipod.podman import container, secret

PORTS = layout.OPENCODE_PORTS


def tui_command(pod: str, role: str, session: str | None) -> str:
    """The pane command: `opencode attach` inside the pod, password from its secret."""
    from devaipod.agent.task import checked_id

    target = "worker" if role == "worker" else "agent"
    cmd = ["opencode", "attach", f"http://127.0.0.1:{PORTS[target]}"]
    if session:
        cmd += ["--session", checked_id(session)]
    return pane(pod, role, cmd)


def pane(pod: str, role: str, cmd: list[str]) -> str:
    """The pane's command line: tmux gives it to the user's shell (sh, dash, bash...)."""
    argv = container.exec_argv(layout.container(pod, role), secret.with_env(cmd),
                               interactive=True, tty=True)
    return runner.shell_join(podman.argv(argv))


def session_name(pod: str, role: str) -> str:
    suffix = "" if role == "agent" else f"-{role}"
    return f"{pod}{suffix}".replace(".", "-").replace(":", "-")


def pick_session(pod: str, given: str | None) -> str | None:
    """GIVEN, else the agent's oldest root session (waiting for it to be ready)."""
    from devaipod.agent import task
    from devaipod.agent.client import Client

    if given:
        return given
    c = Client.for_pod(pod)
    task.wait_ready(c, timeout=60)
    return task.oldest_root_session(c)


def tui_layout(pod: str, role: str, sid: str | None = None) -> str:
    """The tmux session with ROLE's TUI and a shell in ROLE's container, made when
    missing (an existing one is reused as it is); returns its name."""
    name = session_name(pod, role)
    if not tmux.has_session(name):
        # the agent's sessions live in the agent's OpenCode; the worker has its own
        session = sid if role == "worker" else pick_session(pod, sid)
        tmux.new_layout(name, tui_command(pod, role, session), pane(pod, role, ["bash"]))
    return name


def shell(pod: str) -> str:
    """The tmux session with a shell alone in the workspace container, made when missing;
    returns its name."""
    name = session_name(pod, "shell")
    if not tmux.has_session(name):
        runner.capture(tmux.new_session_argv(name, pane(pod, "workspace", ["bash"])),
                       mutating=True)
    return name
