"""The sidecar keeps the agent's summary until OpenCode's event stream says it changed, and
says what the agent is doing (tool, status line, last lines of output) from OpenCode's
messages, whose shapes here are those the real OpenCode (1.18) gives for a `bash` call
of the fake LLM (tests/fakellm) while it runs and once it completed."""

from __future__ import annotations

import json
import queue
import threading
import time

import pytest

from devaipod.podapi.summary import Cached, event_type, summarize

IDLE = {"/global/health": {"healthy": True}, "/session/status": {},
        "/session": [{"id": "s1", "time": {"created": 1, "updated": 2}}],
        "/session/s1/message?limit=5": [
            {"info": {"role": "assistant"}, "parts": [{"type": "text", "text": "done"}]}],
        "/permission": []}


class Upstream:
    """OpenCode's API from canned answers, and an event stream fed by the test."""

    def __init__(self) -> None:
        self.answers = dict(IDLE)
        self.calls: list[str] = []
        self.events: queue.Queue = queue.Queue()

    def request(self, method, target, headers, body, timeout=300):
        if target == "/global/event":
            return 200, [], self._stream()
        self.calls.append(target)
        if target not in self.answers:
            raise OSError(f"{target}: connection refused")
        return 200, [], iter([json.dumps(self.answers[target]).encode()])

    def _stream(self):
        while (item := self.events.get()) is not None:
            yield item
        raise OSError("stream closed")

    def event(self, kind: str) -> None:
        data = {"directory": "/w", "payload": {"type": kind, "properties": {}}}
        self.events.put(f"data: {json.dumps(data)}\n\n".encode())


def wait_connected(cache: Cached) -> None:
    deadline = time.monotonic() + 5
    while not cache._connected:
        assert time.monotonic() < deadline, "never connected"
        time.sleep(0.01)


def settle(up: Upstream) -> None:
    deadline = time.monotonic() + 5
    while not up.events.empty():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(0.05)  # the follower has read what it took off the queue


def test_kept_until_an_event_then_asked_again():
    up = Upstream()
    cache = Cached(up, min_interval=0, first_wait=5)
    wait_connected(cache)
    first = cache.get()  # the first request waits for the first summary
    assert first["state"] == "idle" and first["as_of"]
    assert cache.idle(5)
    got = cache.get()
    assert got["state"] == "idle" and not got["stale"]
    asked = len(up.calls)
    assert cache.get()["message"] == "done" and len(up.calls) == asked  # kept
    up.event("server.heartbeat")
    settle(up)
    cache.get()
    assert len(up.calls) == asked  # a heartbeat changes nothing
    up.answers["/session/status"] = {"s1": {"type": "busy"}}
    up.event("session.status")
    settle(up)
    got = cache.get()  # answered with what is kept, while OpenCode is asked again
    assert got["state"] == "idle" and got["stale"]
    assert cache.idle(5)
    got = cache.get()
    assert got["state"] == "working" and not got["stale"] and len(up.calls) > asked


class Asking:
    """A summarize that blocks until the test lets it go on, and counts its calls."""

    def __init__(self) -> None:
        self.entered = threading.Semaphore(0)
        self.go = threading.Event()
        self.calls = 0
        self.answer: dict | Exception = {"state": "idle", "message": "m"}

    def __call__(self, _up) -> dict:
        self.calls += 1
        self.entered.release()
        self.go.wait()
        if isinstance(self.answer, Exception):
            raise self.answer
        return dict(self.answer)


def connected(ask: Asking, **kwargs) -> Cached:
    cache = Cached(Upstream(), follow=False, ask=ask, first_wait=0, **kwargs)
    cache._bump(connected=True)
    return cache


def test_answered_at_once_with_one_refresh_at_a_time():
    ask = Asking()
    cache = connected(ask, min_interval=0)
    got = cache.get()  # nothing kept yet, OpenCode not answered: unknown, not invented
    assert got["state"] == "unknown" and got["stale"] and got["as_of"] is None
    assert ask.entered.acquire(timeout=5)
    for _ in range(20):  # while the refresh runs: answered, no second refresh
        assert cache.get()["state"] == "unknown"
    assert ask.calls == 1
    ask.go.set()
    assert cache.idle(5)
    assert ask.calls == 1  # no event while it ran: its answer is current
    got = cache.get()
    assert got == {**got, "state": "idle", "stale": False} and got["as_of"]
    assert ask.calls == 1  # kept


def test_an_event_during_a_refresh_makes_one_more_if_asked_for():
    ask = Asking()
    cache = connected(ask, min_interval=0)
    cache.get()
    assert ask.entered.acquire(timeout=5)
    cache._bump()  # its answer may predate this event
    assert cache.idle(0) is False
    ask.go.set()
    assert cache.idle(5) and ask.calls == 1  # nobody asked since: no more
    ask.go.clear()
    cache._bump()
    cache.get()  # starts one
    assert ask.entered.acquire(timeout=5)
    cache._bump()
    cache.get()  # asked while it runs, after an event: one more
    cache.get()
    ask.go.set()
    assert cache.idle(5) and ask.calls == 3


def test_an_event_while_it_is_kept_the_last_is_answered_marked_stale():
    ask = Asking()
    ask.go.set()
    cache = connected(ask, min_interval=0)
    cache.get()
    assert cache.idle(5) and cache.get()["state"] == "idle"
    ask.go.clear()
    ask.answer = {"state": "working", "message": "w"}
    cache.saw(b'data: {"payload": {"type": "session.status"}}')
    got = cache.get()
    assert got["state"] == "idle" and got["stale"]
    assert ask.entered.acquire(timeout=5)
    ask.go.set()
    assert cache.idle(5)
    assert cache.get()["state"] == "working" and not cache.get()["stale"]


def test_opencode_failing_keeps_the_last_and_says_why():
    ask = Asking()
    ask.go.set()
    cache = connected(ask, min_interval=0)
    cache.get()
    assert cache.idle(5)
    ask.answer = ValueError("not JSON")
    cache._bump()  # an event
    cache.get()
    assert cache.idle(5)
    got = cache.get()
    assert got["state"] == "idle" and got["stale"] and "not JSON" in got["refresh_error"]
    assert cache.idle(5)
    ask.answer = {"state": "working", "message": "again"}
    cache.get()
    assert cache.idle(5)
    got = cache.get()
    assert got["state"] == "working" and "refresh_error" not in got


def test_starting_is_answered_and_asked_again():
    ask = Asking()
    ask.go.set()
    ask.answer = {"state": "starting", "message": ""}
    cache = connected(ask, min_interval=0)
    cache.get()
    assert cache.idle(5)
    assert cache.get()["state"] == "starting"
    assert cache.idle(5) and ask.calls == 2  # never kept as current


def test_events_cannot_make_it_ask_more_than_once_per_interval(monkeypatch):
    """The agent spams events: refreshes wait for the interval since the last one."""
    slept: list[float] = []
    monkeypatch.setattr("time.sleep", slept.append)  # the refresh thread's waits
    ask = Asking()
    ask.go.set()
    cache = connected(ask, min_interval=30)
    for _ in range(50):
        cache._bump()
        cache.get()
    assert cache.idle(5)
    assert 1 <= ask.calls <= 50 and len(slept) == ask.calls
    assert slept[0] == 0 and all(s > 29 for s in slept[1:])


def test_without_the_stream_every_summary_is_stale():
    ask = Asking()
    ask.go.set()
    cache = Cached(Upstream(), follow=False, ask=ask, min_interval=0, first_wait=5)
    assert cache.get()["state"] == "idle"
    assert cache.idle(5)
    assert cache.get()["stale"]  # a missed event is possible: asked again
    assert cache.idle(5) and ask.calls == 2


def test_event_type():
    assert event_type(b'data: {"payload": {"type": "message.updated"}}') == "message.updated"
    assert event_type(b'data: {"type": "server.connected"}') == "server.connected"
    assert event_type(b"data: not json") == "?"
    assert event_type(b": keep-alive") is None and event_type(b"") is None


COMMAND = "for i in 1 2 3 4 5 6 7; do echo line$i; sleep 0.7; done"
OUTPUT = "".join(f"line{i}\n" for i in range(1, 8))
USER = {"info": {"role": "user", "time": {"created": 1}},
        "parts": [{"type": "text", "text": f"RUN_BASH {COMMAND}"}]}


def bash_part(status: str, output: str | None = None) -> dict:
    state = {"status": status, "input": {"command": COMMAND, "description": "fake"},
             "time": {"start": 2}}
    if status == "pending":  # the model is still writing the call's arguments
        state = {"status": status, "input": {}, "raw": ""}
    elif status == "running":
        state["metadata"] = {"output": output or ""}
    elif status == "completed":
        state.update(output=output, title=COMMAND,
                     metadata={"output": output, "exit": 0, "truncated": False})
    return {"type": "tool", "tool": "bash", "callID": "call_1", "state": state}


def assistant(*parts: dict, finish: str = "tool-calls", error: dict | None = None) -> dict:
    info = {"role": "assistant", "finish": finish, **({"error": error} if error else {})}
    return {"info": info, "parts": [{"type": "step-start"}, *parts]}


def opencode(messages: list[dict], busy: bool = True, asked: list | None = None) -> Upstream:
    up = Upstream()
    up.answers.update({"/session/status": {"s1": {"type": "busy"}} if busy else {},
                       "/session/s1/message?limit=5": messages, "/permission": asked or []})
    return up


def test_a_running_tool_its_command_and_its_output_so_far():
    got = summarize(opencode([USER, assistant(bash_part("running", "line1\nline2\n"))]))
    assert got["state"] == "working" and got["tool"] == "bash"
    assert got["status"] == f"running bash: {COMMAND}"
    assert got["lines"] == ["line1", "line2"]
    got = summarize(opencode([USER, assistant(bash_part("pending"))]))  # no input yet
    assert (got["tool"], got["status"], got["lines"]) == ("bash", "running bash", [])


def test_idle_after_the_turn_the_last_lines_of_the_reply():
    done = assistant({"type": "text", "text": f"FAKE_DONE: {OUTPUT}"}, finish="stop")
    got = summarize(opencode([USER, assistant(bash_part("completed", OUTPUT)), done],
                             busy=False))
    assert (got["state"], got["tool"], got["status"]) == ("idle", None, "idle")
    assert got["lines"] == ["line3", "line4", "line5", "line6", "line7"]
    # between the tool and the reply: the tool's output, and no tool runs
    got = summarize(opencode([USER, assistant(bash_part("completed", OUTPUT))]))
    assert (got["tool"], got["status"], got["lines"][-1]) == (None, "working", "line7")


def test_waiting_for_permission():
    asked = [{"id": "per_1", "sessionID": "s1", "permission": "external_directory",
              "patterns": ["/x/*"], "tool": {"messageID": "m", "callID": "call_1"}},
             {"id": "per_2", "sessionID": "other", "permission": "bash"}]
    # (the real OpenCode asks {"permission": "bash", "patterns": ["echo hi"], "metadata":
    # {"command": "echo hi"}, "always": ["echo *"], ...} for a bash call it must not run)
    got = summarize(opencode([USER, assistant(bash_part("running"))], asked=asked))
    assert got["status"] == "waiting for permission: external_directory (/x/*)"
    got = summarize(opencode([USER, assistant(bash_part("running"))], asked=asked[1:]))
    assert got["status"].startswith("running bash")


def test_an_error_is_the_status_line():
    error = {"name": "APIError", "data": {"message": "rate\nlimited"}}
    got = summarize(opencode([USER, assistant(finish="stop", error=error)], busy=False))
    assert (got["state"], got["status"]) == ("error", "error: rate limited")
    up = Upstream()
    up.answers.pop("/global/health")  # OpenCode does not answer yet
    got = summarize(up)
    assert (got["state"], got["tool"], got["status"], got["lines"]) == \
        ("starting", None, "starting", [])


@pytest.mark.parametrize("output, raw, shown", [
    ("\x1b[32mok\x1b[0m\n\x1b]0;title\x07\n\n  spaced\tout  \n",
     ["\x1b[32mok\x1b[0m", "\x1b]0;title\x07", "spaced out"], ["ok", "spaced out"]),
    ("x" * 1000, ["x" * 200], ["x" * 200]),
    ("evil\u202etxt\r\n", ["evil\u202etxt"], ["evil\\u202etxt"]),
])
def test_output_lines_are_cut_here_and_made_printable_by_the_reader(output, raw, shown):
    """The sidecar only cuts the agent's text into lines; list and the control plane
    (agent.state.clean) make them printable."""
    from devaipod.agent.state import clean

    got = summarize(opencode([USER, assistant(bash_part("running", output))]))
    assert got["lines"] == raw
    assert clean(got)["lines"] == shown
