"""`devaipod run` without SOURCE on a terminal: a small form (source, completed from the
sources of this instance's workspaces; task; attach when ready) instead of an error."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.suggester import SuggestFromList
from textual.widgets import Checkbox, Input, Label


@dataclass
class Launch:
    source: str
    task: str
    attach: bool


class RunForm(App[Launch | None]):
    """Enter in the task (or ctrl+s) runs; Esc leaves without making anything."""

    CSS = """
    #form { height: auto; border: round $accent; padding: 0 1; }
    Input { margin-bottom: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+s", "run", "run", priority=True),
                                             Binding("escape", "cancel", "cancel")]

    def __init__(self, recent: list[str], source: str = "") -> None:
        super().__init__()
        self.recent, self.initial = recent, source

    def compose(self) -> ComposeResult:
        with Vertical(id="form"):
            yield Label("devaipod run: a workspace for SOURCE, the agent on TASK")
            yield Label("Source (repository, issue or PR URL, or a path; Tab completes):")
            yield Input(self.initial, id="source", placeholder="https://github.com/owner/repo",
                        suggester=SuggestFromList(self.recent, case_sensitive=False))
            yield Label("Task (empty: the issue's or PR's default):")
            yield Input(id="task", placeholder="task for the agent")
            yield Checkbox("attach to the agent when it starts", id="attach")
            yield Label("Enter: next / run   ctrl+s: run   Esc: cancel")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "source" and event.value.strip():
            self.query_one("#task", Input).focus()
        elif event.input.id == "task":
            self.action_run()

    def action_run(self) -> None:
        source = self.query_one("#source", Input).value.strip()
        if not source:
            self.query_one("#source", Input).focus()
            return
        self.exit(Launch(source, self.query_one("#task", Input).value.strip(),
                         self.query_one("#attach", Checkbox).value))

    def action_cancel(self) -> None:
        self.exit(None)


def recent_sources(rows) -> list[str]:
    """The sources of the workspaces, newest first, each once."""
    seen: list[str] = []
    for row in rows:
        if row.source and row.source not in seen:
            seen.append(row.source)
    return seen


def ask(source: str = "") -> Launch | None:
    """The form on this terminal; None when it was left with Esc."""
    from devaipod import errors
    from devaipod.workspace import lookup

    try:
        recent = recent_sources(lookup.rows())
    except errors.DevaipodError:  # no podman yet: nothing to complete from
        recent = []
    return RunForm(recent, source).run()
