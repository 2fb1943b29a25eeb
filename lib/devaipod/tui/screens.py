"""The dashboard's dialogs: help, confirmation, launch, review and logs.

Text of the agent's (commit subjects, diffs, log lines) goes into ``Log``
widgets, which never read markup, after ``printable`` escapes its control
characters.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, Log, Static, TextArea

from devaipod.printable import printable
from devaipod.tui import view

HELP = """\
devaipod tui: the workspaces of this instance

  j/k, arrows   move                 /        filter (Esc clears)
  Enter, a      attach (agent TUI)   r        refresh now
  e             shell in the agent   E        shell in the workspace
  S             start / stop         m        mark done / active
  space         select (for d)       d        delete selected (or this one)
  v             review the agent's commits: m merge, x reject, q back
  l             the agent's logs     L        launch workspaces from URLs
  ?             this help            q        quit

Attach suspends the dashboard until you detach (C-b d; inside tmux,
C-b C-b d), then it comes back. Press any key to close this help."""


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    #help { width: auto; border: round $accent; padding: 0 1; background: $panel; }
    """

    def compose(self) -> ComposeResult:
        yield Static(Text(HELP), id="help")

    def on_key(self, event) -> None:
        event.stop()
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    """QUESTION and the names it is about; y/Enter: yes, n/Esc: no."""

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    #confirm { width: auto; max-width: 90%; border: thick $error; padding: 0 1;
               background: $panel; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("y,enter", "answer(True)", "yes"),
                                             Binding("n,escape", "answer(False)", "no")]

    def __init__(self, question: str, names: list[str]) -> None:
        super().__init__()
        self.question, self.names = question, names

    def compose(self) -> ComposeResult:
        body = Text(self.question + "\n\n")
        for name in self.names:
            body.append(f"  {printable(name)}\n", style="bold")
        body.append("\n[y]es / [n]o")
        yield Static(body, id="confirm")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class LaunchScreen(ModalScreen[tuple[str, str] | None]):
    """One or more repository, issue or PR URLs and a task; ctrl+s launches."""

    DEFAULT_CSS = """
    LaunchScreen { align: center middle; }
    #launch { width: 90%; height: auto; border: round $accent; background: $panel; }
    #urls { height: 8; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+s", "launch", "launch", priority=True),
                Binding("escape", "cancel", "cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(id="launch"):
            yield Label("Repository, issue or PR URLs (one a line; one workspace each):")
            yield TextArea(id="urls")
            yield Label("Task for the agent (empty: an idle agent, or the issue's default):")
            yield Input(id="task", placeholder="task")
            yield Label("ctrl+s: launch   Esc: cancel")

    def on_input_submitted(self, _event) -> None:
        self.action_launch()

    def action_launch(self) -> None:
        urls = self.query_one("#urls", TextArea).text
        if urls.strip():
            self.dismiss((urls, self.query_one("#task", Input).value))

    def action_cancel(self) -> None:
        self.dismiss(None)


class Pager(ModalScreen[None]):
    """Lines in a scrolling log: j/k, arrows, PgUp/PgDn, g/G; q or Esc closes."""

    DEFAULT_CSS = """
    Pager Log { border: round $accent; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q,escape", "close", "back"),
        Binding("j", "scroll('down')", show=False), Binding("k", "scroll('up')", show=False),
        Binding("g", "scroll('home')", show=False), Binding("G", "scroll('end')", show=False)]

    def __init__(self, title: str, lines: list[str]) -> None:
        super().__init__()
        self.title_text, self.lines = title, lines

    def compose(self) -> ComposeResult:
        log = Log(id="pager", auto_scroll=False)
        log.border_title = printable(self.title_text)
        yield log
        yield Footer()

    def on_mount(self) -> None:
        log = self.query_one(Log)
        log.write_lines([printable(line) for line in self.lines])
        log.scroll_home(animate=False)
        log.focus()

    def action_scroll(self, where: str) -> None:
        log = self.query_one(Log)
        {"down": log.scroll_down, "up": log.scroll_up, "home": log.scroll_home,
         "end": log.scroll_end}[where](animate=False)

    def action_close(self) -> None:
        self.dismiss(None)


class ReviewScreen(Pager):
    """The review (commits, files, each file's diff): m merges, x rejects (confirmed)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("m", "verdict('merge')", "merge"),
                Binding("x", "verdict('reject')", "reject")]

    def __init__(self, name: str, shown: dict) -> None:
        super().__init__(f"review of {name}", view.review_lines(shown))
        self.name_, self.shown = name, shown

    def action_verdict(self, what: str) -> None:
        question = ("Merge the commits shown into the workspace?" if what == "merge"
                    else "Reject: reset the agent's branch to the workspace's, dropping its "
                    "commits?")

        def answered(yes: bool | None) -> None:
            if yes:
                self.dismiss(None)
                self.app.verdict(self.name_, what, self.shown)  # type: ignore[attr-defined]

        self.app.push_screen(ConfirmScreen(question, [self.name_]), answered)
