"""The dashboard's table: columns, cells and the filter, as pure functions.

Every text that comes from the agent or its pod is made a ``rich.text.Text``
with ``plain``: Rich never reads markup in it, and its control characters are
shown escaped (devaipod.printable), so a task title such as ``[link=...]`` or
an escape sequence is displayed as the characters it is.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text

from devaipod.printable import printable

COLUMNS = ("", "NAME", "STATE", "REPO", "TASK", "ACTIVE", "LAST MESSAGE")
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
STATE_STYLE = {"working": "bold yellow", "idle": "green", "error": "bold red",
               "starting": "cyan", "stopped": "dim", "done": "dim"}


def plain(text: object, width: int | None = None, style: str = "") -> Text:
    """TEXT on one line as inert text: no markup, control characters escaped."""
    line = printable(" ".join(str(text or "").split()))
    if width and len(line) > width:
        line = line[: width - 1] + "…"
    return Text(line, style=style, no_wrap=True)


def field(row: Any, name: str, default: Any = "") -> Any:
    """A row's field: a lookup.Row or its dict (`list --json`)."""
    if isinstance(row, dict):
        return row.get(name, default)
    return getattr(row, name, default)


def state_cell(row: Any, frame: int = 0) -> Text:
    """The agent's state, with a spinner while it works; a ✓ when done."""
    state = field(row, "agent") or ("stopped" if field(row, "status") != "Running" else "")
    if field(row, "done"):
        state = "done"
    mark = {"working": SPINNER[frame % len(SPINNER)], "done": "✓"}.get(state, " ")
    return Text(f"{mark} {state}", style=STATE_STYLE.get(state, ""), no_wrap=True)


def task_text(row: Any) -> str:
    return field(row, "title") or field(row, "task") or ""


def cells(row: Any, marked: bool, frame: int = 0) -> list[Text]:
    """One table row: mark, name, state, repo, task, last activity, last message."""
    active = (field(row, "last_activity") or field(row, "created") or "")[:16].replace("T", " ")
    return [Text("*" if marked else " ", style="bold magenta"),
            plain(field(row, "short"), 28), state_cell(row, frame),
            plain(field(row, "repo"), 30), plain(task_text(row), 34),
            plain(active, 16), plain(field(row, "last_message"), 60)]


def matches(row: Any, query: str) -> bool:
    """The filter: every word of QUERY in the name, state, repo, task or last message."""
    hay = " ".join(str(field(row, k) or "") for k in
                   ("short", "agent", "repo", "task", "title", "last_message")).lower()
    return all(word in hay for word in query.lower().split())


def shown(rows: list, query: str) -> list:
    return [r for r in rows if matches(r, query)] if query.strip() else list(rows)


def detail(row: Any) -> Text:
    """The lines under the table for the selected workspace: its name, status and
    containers; its last message in full (as far as the screen is wide)."""
    parts = [f"{field(row, 'name')}", f"pod {field(row, 'status')}",
             f"source {field(row, 'source')}"]
    containers = field(row, "containers") or {}
    if containers:
        parts.append("containers " + ", ".join(f"{k}:{v.split(' ')[0]}"
                                               for k, v in sorted(containers.items())))
    line = plain("   ".join(parts))
    line.append("\n")
    return line.append_text(plain(field(row, "last_message") or "(no message)"))


def launch_sources(text: str) -> list[str]:
    """The URLs pasted in the launch form: one per word or line, duplicates once (as the
    web's New form)."""
    from devaipod.workspace.request import split_sources

    return split_sources(text)


def review_lines(shown: dict) -> list[str]:
    """The review pager's lines: the range, the commits, then each file's diff."""
    commits = shown.get("commits") or []
    lines = [f"{shown.get('base') or '(none)'}..{shown.get('head') or '(none)'}  "
             f"{len(commits)} commit{'s' * (len(commits) != 1)} of the agent's"
             f"{'  (branch ' + shown['branch'] + ')' if shown.get('branch') else ''}"]
    if shown.get("error"):
        lines.append(f"note: {shown['error']}")
    lines += [f"  {(c.get('sha') or '')[:12]}  {c.get('subject') or ''}" for c in commits]
    for entry in shown.get("files") or []:
        lines += ["", *(entry.get("diff") or f"{entry.get('path')}: no diff").splitlines()]
    if not commits:
        lines.append("nothing to review: the agent has no commits the workspace lacks")
    return lines
