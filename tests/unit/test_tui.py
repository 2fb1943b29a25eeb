"""The dashboard's keys with Textual's test pilot (App.run_test), on a fake source."""

from __future__ import annotations

import asyncio
import threading

import pytest
from textual.widgets import DataTable, Input, Log

from devaipod.tui import view
from devaipod.tui.app import Dashboard
from devaipod.tui.screens import ConfirmScreen, HelpScreen, LaunchScreen, Pager, ReviewScreen


def row(short: str, agent: str = "idle", **more) -> dict:
    return {"name": f"devaipod-{short}", "short": short, "status": "Running", "agent": agent,
            "repo": f"https://example.com/o/{short}", "task": f"task of {short}", "title": "",
            "last_message": f"message of {short}", "last_activity": "2026-12-01T10:00:00",
            "created": "2026-12-01T09:00:00", "done": False, "containers": {}, **more}


class FakeSource:
    def __init__(self, rows: list[dict]) -> None:
        self.data = rows
        self.calls: list[tuple] = []
        self.lock = threading.Lock()

    def record(self, *call) -> None:
        with self.lock:
            self.calls.append(call)

    def rows(self):
        self.record("rows")
        return [dict(r) for r in self.data]

    def delete(self, name):
        self.record("delete", name)
        self.data = [r for r in self.data if r["name"] != name]

    def start(self, name):
        self.record("start", name)

    def stop(self, name):
        self.record("stop", name)

    def done(self, name, done):
        self.record("done", name, done)

    def review(self, name):
        self.record("review", name)
        return REVIEW

    def merge(self, name, shown):
        self.record("merge", name, shown["head"])
        return "c" * 40

    def reject(self, name):
        self.record("reject", name)

    def logs(self, name):
        self.record("logs", name)
        return "line one\n[red]line two\x1b[2J\n"

    def attach(self, name):
        self.record("attach", name)

    def exec(self, name, role):
        self.record("exec", name, role)

    def launch(self, source, task, on_line):
        self.record("launch", source, task)
        on_line("step one")
        return f"devaipod-new-{len(self.calls)}"


def sync(test):
    """Run the coroutine test in its own event loop (no pytest asyncio plugin needed)."""
    import functools

    @functools.wraps(test)
    def run(*args, **kwargs):
        asyncio.run(test(*args, **kwargs))

    return run


REVIEW = {"base": "a" * 40, "head": "b" * 40, "branch": "main",
          "commits": [{"sha": "b" * 40, "subject": "[bold]agent: add x[/bold]"}],
          "files": [{"path": "x", "diff": "diff --git a/x b/x\n+hello\x1b]52;c;eA==\x07"}]}


ROWS = [row("alpha"), row("beta", "working"), row("gamma", "error")]


async def settle(pilot, app) -> None:
    """Wait for the dashboard's threads to finish and their results to be shown."""
    for _ in range(200):
        await pilot.pause()
        if not any(w.is_running for w in app.workers):
            break
        await asyncio.sleep(0.01)
    await pilot.pause()


def names(app) -> list[str]:
    return [view.field(r, "short") for r in app.shown_rows()]


def cursor(app) -> str:
    return view.field(app.current(), "short")


@sync
async def test_lists_and_moves_with_j_k_and_arrows():
    app = Dashboard(FakeSource(list(ROWS)), interval=3600)
    async with app.run_test() as pilot:
        await settle(pilot, app)
        assert names(app) == ["alpha", "beta", "gamma"]
        assert app.query_one(DataTable).row_count == 3
        assert cursor(app) == "alpha"
        await pilot.press("j")
        assert cursor(app) == "beta"
        await pilot.press("down")
        assert cursor(app) == "gamma"
        await pilot.press("k", "up")
        assert cursor(app) == "alpha"


@sync
async def test_filter_narrows_and_escape_clears():
    app = Dashboard(FakeSource(list(ROWS)), interval=3600)
    async with app.run_test() as pilot:
        await settle(pilot, app)
        await pilot.press("slash", *"gam")
        assert app.query_one("#filter", Input).has_focus
        assert names(app) == ["gamma"]
        await pilot.press("enter")
        assert app.query_one(DataTable).has_focus and names(app) == ["gamma"]
        await pilot.press("slash", "escape")
        assert names(app) == ["alpha", "beta", "gamma"]


@sync
async def test_delete_selected_after_confirmation():
    source = FakeSource(list(ROWS))
    app = Dashboard(source, interval=3600)
    async with app.run_test() as pilot:
        await settle(pilot, app)
        await pilot.press("space", "j", "space")  # alpha and gamma selected
        assert app.marked == {"devaipod-alpha", "devaipod-gamma"}
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # no: nothing deleted
        await settle(pilot, app)
        assert not [c for c in source.calls if c[0] == "delete"]
        await pilot.press("d", "y")
        await settle(pilot, app)
        assert sorted(c for c in source.calls if c[0] == "delete") == [
            ("delete", "devaipod-alpha"), ("delete", "devaipod-gamma")]
        assert names(app) == ["beta"] and not app.marked


@sync
async def test_delete_without_selection_is_the_current_row():
    source = FakeSource(list(ROWS))
    app = Dashboard(source, interval=3600)
    async with app.run_test() as pilot:
        await settle(pilot, app)
        await pilot.press("j", "d", "enter")
        await settle(pilot, app)
        assert [c for c in source.calls if c[0] == "delete"] == [("delete", "devaipod-beta")]


@sync
async def test_help_opens_and_any_key_closes():
    app = Dashboard(FakeSource(list(ROWS)), interval=3600)
    async with app.run_test() as pilot:
        await settle(pilot, app)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("q")  # closes the help, does not quit
        assert not isinstance(app.screen, HelpScreen) and app.is_running
        assert cursor(app) == "alpha"  # the key closed the help, nothing else


@sync
async def test_start_stop_and_done():
    source = FakeSource([row("alpha"), row("beta", status="Exited", agent="stopped")])
    app = Dashboard(source, interval=3600)
    async with app.run_test() as pilot:
        await settle(pilot, app)
        await pilot.press("S", "j", "S", "m")
        await settle(pilot, app)
        acted = [c for c in source.calls if c[0] != "rows"]
        assert sorted(acted) == [("done", "devaipod-beta", True), ("start", "devaipod-beta"),
                                 ("stop", "devaipod-alpha")]


@sync
async def test_launch_one_workspace_per_url():
    source = FakeSource(list(ROWS))
    app = Dashboard(source, interval=3600)
    async with app.run_test() as pilot:
        await settle(pilot, app)
        await pilot.press("L")
        assert isinstance(app.screen, LaunchScreen)
        app.screen.query_one("#urls").text = "https://example.com/o/a\nhttps://example.com/o/b\n"
        app.screen.query_one("#task", Input).value = "fix it"
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        assert sorted(c for c in source.calls if c[0] == "launch") == [
            ("launch", "https://example.com/o/a", "fix it"),
            ("launch", "https://example.com/o/b", "fix it")]
        progress = "\n".join(app.query_one("#progress").lines)
        assert "https://example.com/o/a: step one" in progress
        assert "created devaipod-new" in progress


@sync
async def test_agent_text_is_not_markup():
    """A title with Rich markup and an escape sequence is shown as its characters."""
    hostile = "\x1b]52;c;ZXZpbA==\x07[bold red]PWNED[/][link=https://e.example]x"
    app = Dashboard(FakeSource([row("evil", task=hostile, last_message=hostile)]),
                    interval=3600)
    async with app.run_test() as pilot:
        await settle(pilot, app)
        table = app.query_one(DataTable)
        for column in (4, 6):  # the task, the last message
            cell = table.get_cell_at((0, column))
            assert cell.plain.startswith("\\x1b]52;c;ZXZpbA==\\x07[bold red]P")
            assert not cell.spans and "\x1b" not in cell.plain


@sync
async def test_review_pager_and_merge_after_confirmation():
    source = FakeSource(list(ROWS))
    app = Dashboard(source, interval=3600)
    async with app.run_test() as pilot:
        await settle(pilot, app)
        await pilot.press("v")
        await settle(pilot, app)
        assert isinstance(app.screen, ReviewScreen)
        lines = list(app.screen.query_one(Log).lines)
        assert any("[bold]agent: add x[/bold]" in line for line in lines)
        assert "+hello\\x1b]52;c;eA==\\x07" in lines
        await pilot.press("m")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot, app)
        assert ("merge", "devaipod-alpha", "b" * 40) in source.calls
        assert not isinstance(app.screen, ReviewScreen)
        await pilot.press("v")
        await settle(pilot, app)
        await pilot.press("x", "n", "q")  # reject, but not confirmed
        await settle(pilot, app)
        assert not [c for c in source.calls if c[0] == "reject"]
        assert not isinstance(app.screen, ReviewScreen)


@sync
async def test_logs_pager():
    app = Dashboard(FakeSource(list(ROWS)), interval=3600)
    async with app.run_test() as pilot:
        await settle(pilot, app)
        await pilot.press("l")
        await settle(pilot, app)
        assert isinstance(app.screen, Pager)
        assert list(app.screen.query_one(Log).lines) == ["line one", "[red]line two\\x1b[2J"]
        await pilot.press("escape")
        assert not isinstance(app.screen, Pager)


@sync
async def test_enter_and_a_attach_the_dashboard_suspended(monkeypatch):
    app = Dashboard(FakeSource(list(ROWS)), interval=3600)
    ran: list[tuple] = []
    monkeypatch.setattr(Dashboard, "foreground", lambda self, func, *args: ran.append(
        (func.__name__, *args)))
    async with app.run_test() as pilot:
        await settle(pilot, app)
        await pilot.press("enter", "j", "a", "e", "E")
    assert ran == [("attach", "devaipod-alpha"), ("attach", "devaipod-beta"),
                   ("exec", "devaipod-beta", "agent"), ("exec", "devaipod-beta", "workspace")]


def test_filter_matches_every_word():
    assert view.matches(row("alpha", "working"), "alp work")
    assert not view.matches(row("alpha"), "alp beta")


def test_launch_sources_one_per_word():
    assert view.launch_sources("a\n b a\n\nc") == ["a", "b", "c"]


def test_attach_argv_outside_and_inside_tmux(monkeypatch):
    from devaipod.tui.source import attach_argv

    monkeypatch.delenv("TMUX", raising=False)
    assert attach_argv("devaipod-x", None) == ["tmux", "attach-session", "-t", "=devaipod-x"]
    # inside tmux: a client of the same server nested in the dashboard's pane
    assert attach_argv("devaipod-x", "/tmp/tmux-0/default,123,0") == [
        "env", "-u", "TMUX", "tmux", "-S", "/tmp/tmux-0/default", "attach-session", "-t",
        "=devaipod-x"]


def fake_watch(events: list[dict], rc: int = 0):
    import json

    from devaipod import runner

    calls = []

    def watch(argv, on_line, **kwargs):
        calls.append(argv)
        for event in events:
            on_line(json.dumps(event))
        return runner.Result(list(argv), rc, "", "boom" if rc else "")

    return watch, calls


def test_launch_runs_run_with_progress_events(monkeypatch):
    from devaipod.tui import source

    watch, calls = fake_watch([{"step": "pull images", "state": "started"},
                               {"output": "Trying to pull"},
                               {"state": "succeeded", "pod": "devaipod-repo-1a2b"}])
    monkeypatch.setattr(source.runner, "watch", watch)
    lines: list[str] = []
    made = source.Source().launch("https://example.com/o/r", "fix it", lines.append)
    assert made == "devaipod-repo-1a2b"
    assert lines == ["pull images", "  Trying to pull"]
    argv = calls[0]
    assert argv[1:5] == ["-m", "devaipod", "run", "--progress=json"]
    assert argv[-3:] == ["--", "https://example.com/o/r", "fix it"]


def test_launch_without_a_task_is_up_and_a_failure_raises(monkeypatch):
    from devaipod import errors
    from devaipod.tui import source

    watch, calls = fake_watch([{"state": "failed", "error": "no such repository"}], rc=1)
    monkeypatch.setattr(source.runner, "watch", watch)
    with pytest.raises(errors.DevaipodError, match="no such repository"):
        source.Source().launch("https://example.com/o/r", "", lambda _line: None)
    assert calls[0][3] == "up" and calls[0][-1] == "https://example.com/o/r"


# --- `devaipod run`'s form -----------------------------------------------------------------


@sync
async def test_run_form_completes_a_recent_source_and_returns_the_answers():
    from devaipod.tui.launcher import Launch, RunForm

    app = RunForm(["https://example.invalid/octo/hello", "git://h/repo.git"])
    async with app.run_test() as pilot:
        await pilot.press("h", "t", "t", "p")
        await pilot.pause()
        await pilot.press("right")  # take the suggestion
        assert app.query_one("#source", Input).value == "https://example.invalid/octo/hello"
        await pilot.press("enter")  # to the task
        for key in "fix it":
            await pilot.press("space" if key == " " else key)
        await pilot.press("tab", "space")  # the attach checkbox
        await pilot.press("ctrl+s")
    assert app.return_value == Launch("https://example.invalid/octo/hello", "fix it", True)


@sync
async def test_run_form_escape_makes_nothing_and_an_empty_source_is_not_sent():
    from devaipod.tui.launcher import RunForm

    app = RunForm([])
    async with app.run_test() as pilot:
        await pilot.press("ctrl+s")  # no source: stays
        await pilot.pause()
        assert app.is_running
        await pilot.press("escape")
    assert app.return_value is None


def test_recent_sources_newest_first_once():
    from types import SimpleNamespace

    from devaipod.tui.launcher import recent_sources

    rows = [SimpleNamespace(source=s) for s in ("b", "a", "b", "", "c")]
    assert recent_sources(rows) == ["b", "a", "c"]
