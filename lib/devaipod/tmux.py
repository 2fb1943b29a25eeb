"""tmux: argv builders and thin wrappers (sessions for `devaipod attach`)."""

from __future__ import annotations

import os

from devaipod import runner


def has_session_argv(name: str) -> list[str]:
    return ["tmux", "has-session", "-t", f"={name}"]


def new_session_argv(name: str, command: str, width: int = 200, height: int = 50) -> list[str]:
    return ["tmux", "new-session", "-d", "-s", name, "-x", str(width), "-y", str(height),
            command]


def split_argv(target: str, command: str) -> list[str]:
    return ["tmux", "split-window", "-h", "-t", target, command]


def select_pane_argv(target: str) -> list[str]:
    return ["tmux", "select-pane", "-t", target]


def attach_argv(name: str, nested_ok: bool = False) -> list[str]:
    """Attach to a session; inside tmux, switch to it (unless a new client is wanted)."""
    if os.environ.get("TMUX") and not nested_ok:
        return ["tmux", "switch-client", "-t", f"={name}"]
    return ["tmux", "attach-session", "-t", f"={name}"]


def has_session(name: str) -> bool:
    return runner.capture(has_session_argv(name), check=False).ok


def new_layout(name: str, left: str, right: str) -> None:
    """A detached session: ``left`` in the first pane, ``right`` beside it."""
    runner.capture(new_session_argv(name, left), mutating=True)
    runner.capture(split_argv(f"={name}:0", right), mutating=True)
    runner.capture(select_pane_argv(f"={name}:0.0"), mutating=True)
