"""The sidecar keeps the agent's summary until OpenCode's event stream says it changed, and
says what the agent is doing (tool, status line, last lines of output) from OpenCode's
messages, whose shapes here are those the real OpenCode (1.18) gives for a `bash` call
of the fake LLM (tests/fakellm) while it runs and once it completed."""

from __future__ import annotations

import json
import queue
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
    cache = Cached(up)
    wait_connected(cache)
    assert cache.get()["state"] == "idle"
    asked = len(up.calls)
    assert cache.get()["message"] == "done" and len(up.calls) == asked  # kept
    up.event("server.heartbeat")
    settle(up)
    cache.get()
    assert len(up.calls) == asked  # a heartbeat changes nothing
    up.answers["/session/status"] = {"s1": {"type": "busy"}}
    up.event("session.status")
    settle(up)
    assert cache.get()["state"] == "working" and len(up.calls) > asked


def test_without_the_stream_every_call_asks_opencode():
    up = Upstream()
    cache = Cached(up, follow=False)
    cache.get()
    asked = len(up.calls)
    cache.get()
    assert len(up.calls) == 2 * asked
    up = Upstream()
    cache = Cached(up)
    wait_connected(cache)
    up.events.put(None)  # the stream ends: nothing is kept any more
    deadline = time.monotonic() + 5
    while cache._connected:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    cache.get()
    asked = len(up.calls)
    cache.get()
    assert len(up.calls) == 2 * asked


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
