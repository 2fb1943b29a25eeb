"""The dashboard's keys that leave the table: attach and exec (the dashboard suspended),
review with merge/reject, logs, and launching workspaces with their progress."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from textual.app import App

from devaipod.printable import printable
from devaipod.tui import screens, view


class Actions(App):
    """Mixed into the Dashboard, which provides what is declared here."""

    if TYPE_CHECKING:
        source: Any
        progress: Any

        def current_name(self) -> str | None: ...
        def error(self, exc: BaseException) -> None: ...
        def say(self, text: str) -> None: ...
        def in_thread(self, what: str, func, *args) -> None: ...
        def action_refresh(self) -> None: ...

    def foreground(self, func, *args) -> None:
        """Run FUNC in the terminal, the dashboard suspended; back to it afterwards."""
        try:
            with self.suspend():
                func(*args)
        except Exception as exc:  # shown; the dashboard goes on
            self.error(exc)
        self.action_refresh()

    def action_attach(self) -> None:
        name = self.current_name()
        if name:
            self.foreground(self.source.attach, name)

    def action_exec(self, role: str) -> None:
        name = self.current_name()
        if name:
            self.foreground(self.source.exec, name, role)

    def action_review(self) -> None:
        name = self.current_name()
        if not name:
            return

        def load() -> None:
            try:
                shown = self.source.review(name)
            except Exception as exc:
                self.call_from_thread(self.error, exc)
                return
            self.call_from_thread(self.push_screen, screens.ReviewScreen(name, shown))

        self.run_worker(load, thread=True)

    def verdict(self, name: str, what: str, shown: dict) -> None:
        """Merge or reject, as `devaipod review --merge/--reject` and the web."""
        if what == "merge":
            self.in_thread(f"merged into {name}", self.source.merge, name, shown)
        else:
            self.in_thread(f"rejected: {name}'s agent branch reset", self.source.reject, name)

    def action_logs(self) -> None:
        name = self.current_name()
        if not name:
            return

        def load() -> None:
            try:
                text = self.source.logs(name)
            except Exception as exc:
                self.call_from_thread(self.error, exc)
                return
            self.call_from_thread(self.push_screen,
                                  screens.Pager(f"logs of {name}'s agent", text.splitlines()))

        self.run_worker(load, thread=True)

    def action_launch(self) -> None:
        def answered(form: tuple[str, str] | None) -> None:
            if form:
                urls, task = form
                for source in view.launch_sources(urls):
                    self.launch(source, task.strip())

        self.push_screen(screens.LaunchScreen(), answered)

    def launch(self, source: str, task: str) -> None:
        """One workspace for SOURCE, its steps in the progress pane."""
        log = self.progress
        log.add_class("shown")
        tag = printable(source)

        def line(text: str) -> None:
            self.call_from_thread(log.write_line, f"{tag}: {printable(text)}")

        def work() -> None:
            try:
                made = self.source.launch(source, task, line)
            except Exception as exc:
                line(f"failed: {exc}")
                self.call_from_thread(self.error, exc)
            else:
                line(f"created {made}")
                self.call_from_thread(self.say, f"created {made}")
            self.call_from_thread(self.action_refresh)

        log.write_line(f"{tag}: launching")
        self.run_worker(work, thread=True)


class ToApp(logging.Handler):
    """devaipod's log records while the dashboard runs: notifications, not stderr (which
    would write over the screen)."""

    def __init__(self, app) -> None:
        super().__init__(logging.INFO)
        self.app = app

    def emit(self, record: logging.LogRecord) -> None:
        severity = "error" if record.levelno >= logging.ERROR else \
            "warning" if record.levelno >= logging.WARNING else "information"
        text = printable(record.getMessage())
        try:
            self.app.call_from_thread(self.app.notify, text, severity=severity, markup=False)
        except RuntimeError:  # on the app's own thread
            self.app.notify(text, severity=severity, markup=False)
