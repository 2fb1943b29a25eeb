"""The agent's state, last message, last activity and what it is doing now (the tool it
runs, a status line, the last lines of its output), from OpenCode's API."""

from __future__ import annotations

import datetime
import json
from typing import Any

from devaipod.podapi.proxy import Upstream

LINES = 5  # the last lines of output the summary carries
LINE_MAX = 200  # characters of one such line, and of the status line


def one_line(text: str) -> str:
    """Whitespace runs made one space, cut at LINE_MAX. Nothing more: the text is the
    agent's, and its readers (devaipod.agent.state.clean) make it printable."""
    return " ".join(text.split())[:LINE_MAX]


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


def parts(messages: list[dict]) -> list[dict]:
    """The parts of the newest assistant message and those before it, newest first."""
    found: list[dict] = []
    for msg in reversed(messages):
        if (msg.get("info") or {}).get("role") == "assistant":
            found.extend(p for p in reversed(msg.get("parts") or []) if isinstance(p, dict))
    return found


def running_tool(messages: list[dict]) -> dict | None:
    """The newest tool part still pending or running, if any."""
    for part in parts(messages):
        if part.get("type") == "tool" and \
                (part.get("state") or {}).get("status") in ("pending", "running"):
            return part
    return None


def tool_about(part: dict) -> str:
    """What a tool call works on, from its input (bash's command, a file's path ...)."""
    state = part.get("state") or {}
    given = state.get("input")
    given = given if isinstance(given, dict) else {}
    for key in ("command", "filePath", "path", "pattern", "url", "description"):
        value = given.get(key)
        if isinstance(value, str) and value.strip():
            return value
    title = state.get("title")
    return title if isinstance(title, str) else ""


def output_of(part: dict) -> str:
    """The text a part shows: a text part's, a tool's output (so far, while it runs)."""
    if part.get("type") == "text":
        return part.get("text") or ""
    if part.get("type") != "tool":
        return ""
    state = part.get("state") or {}
    found = state.get("output") or state.get("error") or \
        (state.get("metadata") or {}).get("output")
    return found if isinstance(found, str) else ""


def last_lines(messages: list[dict]) -> list[str]:
    """The last LINES non-empty lines of the newest output, each one line of at most
    LINE_MAX characters."""
    for part in parts(messages):
        kept: list[str] = []
        for line in reversed(output_of(part).splitlines()):  # from the end: output is long
            if line := one_line(line):
                kept.insert(0, line)
                if len(kept) == LINES:
                    break
        if kept:
            return kept
    return []


def status_line(state: str, tool: dict | None, asked: list[dict], error: str) -> str:
    """One short line: running bash: make test, waiting for permission, idle, error: ..."""
    if state == "working" and asked:
        what, patterns = asked[0].get("permission"), asked[0].get("patterns")
        line = "waiting for permission" + (f": {what}" if isinstance(what, str) else "")
        if isinstance(patterns, list) and patterns and isinstance(patterns[0], str):
            line += f" ({patterns[0]})"  # e.g. bash (make test)
    elif state == "working" and tool:
        about = tool_about(tool)
        line = f"running {tool.get('tool')}" + (f": {about}" if about else "")
    elif state == "error":
        line = f"error: {error}" if error else "error"
    else:
        line = state
    return one_line(line)


def permissions(up: Upstream, session: str | None) -> list[dict]:
    """The newest session's permission requests waiting for an answer (none if OpenCode
    cannot say)."""
    try:
        asked = get_json(up, "/permission")
    except (OSError, ValueError):
        return []
    return [a for a in asked if isinstance(a, dict) and a.get("sessionID") == session] \
        if isinstance(asked, list) else []


def summarize(up: Upstream) -> dict[str, Any]:
    try:
        get_json(up, "/global/health", timeout=2)
    except (OSError, ValueError):
        return {"state": "starting", "message": "", "last_activity": None, "sessions": 0,
                "tool": None, "status": "starting", "lines": []}
    busy = get_json(up, "/session/status") or {}
    sessions = get_json(up, "/session") or []
    newest = max(sessions, key=lambda s: (s.get("time") or {}).get("updated", 0), default=None)
    messages: list[dict] = []
    message, error, waiting = "", None, False
    if newest:
        messages = get_json(up, f"/session/{newest['id']}/message?limit=5") or []
        message, error = last_text(messages)
        # a prompt just sent: the session is not busy yet, but the agent has work
        waiting = bool(messages) and (messages[-1].get("info") or {}).get("role") == "user"
    state = "working" if busy or waiting else "idle"
    why = ""
    if not busy and error and error.get("name") != "MessageAbortedError":
        state = "error"
        why = (error.get("data") or {}).get("message") or error.get("name", "")
        message = message or why
    tool = running_tool(messages) if state == "working" else None
    asked = permissions(up, newest["id"]) if busy and newest else []
    return {
        "state": state,
        "message": message[-500:],
        "last_activity": iso((newest or {}).get("time", {}).get("updated")),
        "sessions": len(root_sessions(sessions)),
        "session": (newest or {}).get("id"),
        "tool": tool.get("tool") if tool and isinstance(tool.get("tool"), str) else None,
        "status": status_line(state, tool, asked, str(why)),
        "lines": last_lines(messages),
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


MIN_INTERVAL = 0.5  # seconds from one refresh's start to the next: events cannot make more
EVENT_MAX = 1 << 20  # bytes of one event line kept while it is read
FIRST_WAIT = 0.15  # seconds a request waits for the first summary (OpenCode down: at once)


def asked_at() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


class Cached:
    """The last summary, answered at once (stale while it is being revalidated).

    A thread follows OpenCode's ``/global/event`` stream; any event other than a
    heartbeat makes the kept summary stale, and so does a lost stream (a missed event
    would otherwise go unseen). A request for a stale summary starts ONE background
    refresh (``ask``, summarize) and is answered with what is kept, marked
    ``"stale": true`` with the time it was asked (``as_of``); only the very first
    request waits, at most FIRST_WAIT, as there is nothing to answer with yet (and then
    answers ``unknown``). The agent controls OpenCode and its events: refreshes never
    overlap, start at most once per ``min_interval``, and run again only while someone
    asks. A refresh that fails keeps the last summary (``refresh_error`` says why).
    """

    def __init__(self, up: Upstream, follow: bool = True, ask=summarize,
                 min_interval: float = MIN_INTERVAL, first_wait: float = FIRST_WAIT) -> None:
        import threading

        self.up, self.ask = up, ask
        self.min_interval, self.first_wait = min_interval, first_wait
        self._cond = threading.Condition()
        self._generation = 0  # bumped by every event and every (dis)connection
        self._connected = False
        self._kept: dict[str, Any] | None = None
        self._kept_generation: int | None = None  # None: stale whatever comes
        self._as_of: str | None = None
        self._error: str | None = None
        self._refreshing = False
        self._wanted = False  # asked for while a refresh ran: one more when it ends
        self._last_start = float("-inf")
        if follow:
            threading.Thread(target=self._follow, name="opencode-events", daemon=True).start()

    def get(self) -> dict[str, Any]:
        with self._cond:
            if not self._current():
                self._refresh()
                if self._kept is None and self.first_wait > 0:
                    self._cond.wait_for(lambda: self._kept is not None, self.first_wait)
            return self._answer()

    def idle(self, timeout: float | None = None) -> bool:
        """Wait until no refresh runs (True), or ``timeout`` seconds (False)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._refreshing, timeout)

    def _current(self) -> bool:
        return self._connected and self._kept_generation == self._generation

    def _answer(self) -> dict[str, Any]:
        if self._kept is None:
            value: dict[str, Any] = {
                "state": "unknown", "message": self._error or "asking OpenCode",
                "last_activity": None, "tool": None, "status": "", "lines": []}
        else:
            value = dict(self._kept)
        value.update(stale=not self._current(), as_of=self._as_of)
        if self._error:
            value["refresh_error"] = self._error
        return value

    def _refresh(self) -> None:
        """Start the refresh thread, or have the running one go once more (lock held)."""
        import threading

        if self._refreshing:
            self._wanted = True
            return
        self._refreshing = True
        threading.Thread(target=self._refreshes, name="summary", daemon=True).start()

    def _refreshes(self) -> None:
        import time

        while True:
            time.sleep(max(0.0, self._last_start + self.min_interval - time.monotonic()))
            with self._cond:
                generation, self._wanted = self._generation, False
                self._last_start = time.monotonic()
            try:
                value, error = self.ask(self.up), None
            except Exception as exc:  # OpenCode's answers are the agent's
                value, error = None, f"OpenCode: {type(exc).__name__}: {exc}"[:LINE_MAX]
            with self._cond:
                self._keep(generation, value, error)
                self._cond.notify_all()  # the waiters look once this block lets the lock go
                if not (self._wanted and not self._current()):
                    self._refreshing = False
                    return

    def _keep(self, generation: int, value: dict[str, Any] | None, error: str | None) -> None:
        self._error = error
        if value is None:
            return
        self._kept, self._as_of = value, asked_at()
        # "starting": OpenCode is not up yet; asked again at the next request
        current = self._connected and generation == self._generation and \
            value.get("state") != "starting"
        self._kept_generation = generation if current else None

    def saw(self, line: bytes) -> None:
        kind = event_type(line)
        if kind is not None and kind not in QUIET:
            self._bump()

    def _bump(self, connected: bool | None = None) -> None:
        with self._cond:
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
                        if len(pending) > EVENT_MAX:  # kept no longer: taken as an event
                            pending = b""
                            self._bump()
            except (OSError, http.client.HTTPException):
                pass
            self._bump(connected=False)
            time.sleep(1)
