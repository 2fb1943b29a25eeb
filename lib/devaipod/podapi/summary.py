"""The agent's state, last message and last activity, from OpenCode's API."""

from __future__ import annotations

import datetime
import json
from typing import Any

from devaipod.podapi.proxy import Upstream


def get_json(up: Upstream, path: str, timeout: float = 3) -> Any:
    status, _headers, chunks = up.request("GET", path, {"Accept": "application/json"}, None,
                                          timeout=timeout)
    data = b"".join(chunks)
    if status != 200:
        raise OSError(f"GET {path}: HTTP {status}")
    return json.loads(data or b"null")


def iso(ms: float | None) -> str | None:
    if not ms:
        return None
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC).isoformat(
        timespec="seconds")


def root_sessions(sessions: list[dict]) -> list[dict]:
    """Sessions the user started (not sub-agents'), oldest first."""
    roots = [s for s in sessions if not s.get("parentID")]
    return sorted(roots, key=lambda s: (s.get("time") or {}).get("created", 0))


def last_text(messages: list[dict]) -> tuple[str, dict | None]:
    """The newest assistant message's text, and its error if it ended in one."""
    for msg in reversed(messages):
        info = msg.get("info") or {}
        if info.get("role") != "assistant":
            continue
        texts = [p.get("text", "") for p in msg.get("parts") or [] if p.get("type") == "text"]
        return "".join(texts).strip(), info.get("error")
    return "", None


def summarize(up: Upstream) -> dict[str, Any]:
    try:
        get_json(up, "/global/health", timeout=2)
    except (OSError, ValueError):
        return {"state": "starting", "message": "", "last_activity": None, "sessions": 0}
    busy = get_json(up, "/session/status") or {}
    sessions = get_json(up, "/session") or []
    newest = max(sessions, key=lambda s: (s.get("time") or {}).get("updated", 0), default=None)
    message, error, waiting = "", None, False
    if newest:
        messages = get_json(up, f"/session/{newest['id']}/message?limit=5") or []
        message, error = last_text(messages)
        # a prompt just sent: the session is not busy yet, but the agent has work
        waiting = bool(messages) and (messages[-1].get("info") or {}).get("role") == "user"
    state = "working" if busy or waiting else "idle"
    if not busy and error and error.get("name") != "MessageAbortedError":
        state = "error"
        message = message or ((error.get("data") or {}).get("message") or error.get("name", ""))
    return {
        "state": state,
        "message": message[-500:],
        "last_activity": iso((newest or {}).get("time", {}).get("updated")),
        "sessions": len(root_sessions(sessions)),
        "session": (newest or {}).get("id"),
    }


# events that say nothing about the agent's work
QUIET = {"server.connected", "server.heartbeat"}


def event_type(line: bytes) -> str | None:
    """The type of one SSE ``data:`` line of OpenCode's event stream (None: not an event)."""
    if not line.startswith(b"data:"):
        return None
    try:
        data = json.loads(line[5:])
    except ValueError:
        return "?"
    if not isinstance(data, dict):
        return "?"
    payload = data.get("payload")
    if not isinstance(payload, dict):
        payload = data
    return str(payload.get("type") or "?")


class Cached:
    """The summary, computed again only after OpenCode reports an event.

    A thread follows OpenCode's ``/global/event`` stream; any event other than
    a heartbeat makes the kept summary stale. While the stream is not
    connected, every call asks OpenCode afresh, so a missed event can only
    cost time, never show a stale state.
    """

    def __init__(self, up: Upstream, follow: bool = True) -> None:
        import threading

        self.up = up
        self._lock = threading.Lock()
        self._generation = 0  # bumped by every event and every (dis)connection
        self._connected = False
        self._kept: tuple[int, dict[str, Any]] | None = None
        if follow:
            threading.Thread(target=self._follow, name="opencode-events", daemon=True).start()

    def get(self) -> dict[str, Any]:
        with self._lock:
            generation = self._generation
            if self._connected and self._kept and self._kept[0] == generation:
                return self._kept[1]
        value = summarize(self.up)
        with self._lock:
            if self._connected and generation == self._generation and \
                    value["state"] != "starting":
                self._kept = (generation, value)
        return value

    def saw(self, line: bytes) -> None:
        kind = event_type(line)
        if kind is not None and kind not in QUIET:
            self._bump()

    def _bump(self, connected: bool | None = None) -> None:
        with self._lock:
            self._generation += 1
            if connected is not None:
                self._connected = connected

    def _follow(self) -> None:
        import http.client
        import time

        while True:
            try:
                status, _headers, chunks = self.up.request(
                    "GET", "/global/event", {"Accept": "text/event-stream"}, None, timeout=None)
                if status == 200:
                    self._bump(connected=True)
                    pending = b""
                    for chunk in chunks:
                        *lines, pending = (pending + chunk).split(b"\n")
                        for line in lines:
                            self.saw(line)
            except (OSError, http.client.HTTPException):
                pass
            self._bump(connected=False)
            time.sleep(1)
