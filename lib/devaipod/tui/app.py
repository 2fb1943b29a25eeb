"""The dashboard: a table of the workspaces, refreshed from `list`'s data, and its keys."""

from __future__ import annotations

import logging
import threading
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Input, Log, Static

from devaipod import errors
from devaipod.printable import printable
from devaipod.tui import screens, view
from devaipod.tui.actions import Actions, ToApp
from devaipod.tui.source import Source


class Dashboard(Actions, App):
    TITLE = "devaipod"
    CSS = """
    #filter { dock: bottom; display: none; }
    #filter.shown { display: block; }
    #progress { height: 8; display: none; border-top: solid $accent; }
    #progress.shown { display: block; }
    #detail { height: 2; color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "move(1)", "down", show=False), Binding("k", "move(-1)", "up", show=False),
        Binding("enter,a", "attach", "attach"), Binding("e", "exec('agent')", "exec"),
        Binding("E", "exec('workspace')", "exec -W", show=False),
        Binding("S", "start_stop", "start/stop"), Binding("space", "select", "select", show=False),
        Binding("d", "delete", "delete"), Binding("m", "done", "done"),
        Binding("v", "review", "review"), Binding("l", "logs", "logs"),
        Binding("L", "launch", "launch"), Binding("r", "refresh", "refresh"),
        Binding("slash", "filter", "filter"), Binding("question_mark", "help", "help"),
        Binding("q", "quit", "quit"),
    ]

    def __init__(self, source: Source | None = None, interval: float = 5.0) -> None:
        super().__init__()
        self.source = source or Source()
        self.interval = interval
        self.rows: list = []
        self.marked: set[str] = set()
        self.query_text = ""
        self.frame = 0
        self._loading = threading.Lock()

    def compose(self) -> ComposeResult:
        yield DataTable(id="table", cursor_type="row", zebra_stripes=True)
        yield Static(id="detail", markup=False)
        yield Log(id="progress")
        yield Input(id="filter", placeholder="filter: words in name, state, repo, task, message")
        yield Footer()

    def on_mount(self) -> None:
        # the main screen's widgets (query_one would look in a dialog on top)
        self.table = table = self.query_one(DataTable)
        self.filter_box = self.query_one("#filter", Input)
        self.detail_bar = self.query_one("#detail", Static)
        self.progress = self.query_one("#progress", Log)
        for label in view.COLUMNS:
            table.add_column(label, key=label or "mark")
        logger = logging.getLogger("devaipod")  # log lines would write over the screen
        self._handlers = list(logger.handlers)
        for handler in self._handlers:
            logger.removeHandler(handler)
        logger.addHandler(ToApp(self))
        self.action_refresh()
        self.set_interval(self.interval, self.action_refresh)
        self.set_interval(0.15, self.spin)
        table.focus()

    def on_unmount(self) -> None:
        logger = logging.getLogger("devaipod")
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        for handler in self._handlers:
            logger.addHandler(handler)

    # the data
    def action_refresh(self) -> None:
        """One `list` look-up in a thread (none while one is under way)."""
        if self._loading.acquire(blocking=False):
            self.run_worker(self._load, thread=True, group="refresh")

    def _load(self) -> None:
        try:
            rows = self.source.rows()
        except errors.DevaipodError as exc:
            self.call_from_thread(self.error, exc)
            return
        finally:
            self._loading.release()
        self.call_from_thread(self.show, rows)

    def show(self, rows: list) -> None:
        self.rows = rows
        names = {view.field(r, "name") for r in rows}
        self.marked &= names
        self.redraw()

    def shown_rows(self) -> list:
        return view.shown(self.rows, self.query_text)

    def redraw(self) -> None:
        table = self.table
        current = self.current_name()
        table.clear()
        for row in self.shown_rows():
            name = view.field(row, "name")
            table.add_row(*view.cells(row, name in self.marked, self.frame), key=name)
        names = [view.field(r, "name") for r in self.shown_rows()]
        if current in names:
            table.move_cursor(row=names.index(current), animate=False)
        self.sub_title = f"{len(self.rows)} workspaces" + (
            f", {len(names)} shown" if self.query_text else "")
        self.update_detail()

    def spin(self) -> None:
        """Turn the spinner of the working agents (no look-up)."""
        self.frame += 1
        table = self.table
        for row in self.shown_rows():
            if view.field(row, "agent") == "working" and not view.field(row, "done"):
                table.update_cell(view.field(row, "name"), "STATE",
                                  view.state_cell(row, self.frame))

    def current(self):
        table = self.table
        rows = self.shown_rows()
        if not rows or not 0 <= table.cursor_row < len(rows):
            return None
        return rows[table.cursor_row]

    def current_name(self) -> str | None:
        row = self.current()
        return view.field(row, "name") if row is not None else None

    def update_detail(self) -> None:
        row = self.current()
        self.detail_bar.update(view.detail(row) if row is not None else "")

    def on_data_table_row_highlighted(self, _event) -> None:
        self.update_detail()

    def on_data_table_row_selected(self, _event) -> None:
        """Enter on a row (the table's own binding): attach."""
        self.action_attach()

    def error(self, exc: BaseException) -> None:
        self.notify(printable(str(exc)), severity="error", markup=False, timeout=10)

    def say(self, text: str) -> None:
        self.notify(printable(text), markup=False)

    def in_thread(self, what: str, func, *args) -> None:
        """Run FUNC(*ARGS) in a thread; say WHAT when done (or the error), then refresh."""
        def work() -> None:
            try:
                func(*args)
            except Exception as exc:  # shown, the dashboard goes on
                self.call_from_thread(self.error, exc)
            else:
                self.call_from_thread(self.say, what)
            self.call_from_thread(self.action_refresh)

        self.run_worker(work, thread=True)

    # keys
    def action_move(self, step: int) -> None:
        table = self.table
        table.action_cursor_down() if step > 0 else table.action_cursor_up()

    def action_select(self) -> None:
        name = self.current_name()
        if name:
            self.marked ^= {name}
            self.redraw()
            self.action_move(1)

    def action_delete(self) -> None:
        names = sorted(self.marked) or [n for n in [self.current_name()] if n]
        if not names:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.marked -= set(names)
                for name in names:
                    self.in_thread(f"deleted {name}", self.source.delete, name)

        self.push_screen(screens.ConfirmScreen(
            f"Delete {len(names)} workspace{'s' * (len(names) > 1)} with their "
            "volumes and secrets (running ones too)?", names), answered)

    def action_start_stop(self) -> None:
        row = self.current()
        if row is None:
            return
        name = view.field(row, "name")
        if view.field(row, "status") in ("Running", "Degraded"):
            self.in_thread(f"stopped {name}", self.source.stop, name)
        else:
            self.in_thread(f"started {name}", self.source.start, name)

    def action_done(self) -> None:
        row = self.current()
        if row is not None:
            done = not view.field(row, "done")
            name = view.field(row, "name")
            self.in_thread(f"{name}: {'done' if done else 'active'}", self.source.done, name, done)

    def action_filter(self) -> None:
        box = self.filter_box
        box.add_class("shown")
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            self.query_text = event.value
            self.redraw()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            self.table.focus()

    def on_key(self, event) -> None:
        box = self.filter_box
        if event.key == "escape" and box.has_focus:
            box.value = ""
            box.remove_class("shown")
            self.table.focus()
            event.stop()

    def action_help(self) -> None:
        self.push_screen(screens.HelpScreen())
