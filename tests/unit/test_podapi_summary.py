"""The sidecar keeps the agent's summary until OpenCode's event stream says it changed."""

from __future__ import annotations

import json
import queue
import time

from devaipod.podapi.summary import Cached, event_type

IDLE = {"/global/health": {"healthy": True}, "/session/status": {},
        "/session": [{"id": "s1", "time": {"created": 1, "updated": 2}}],
        "/session/s1/message?limit=5": [
            {"info": {"role": "assistant"}, "parts": [{"type": "text", "text": "done"}]}]}


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
