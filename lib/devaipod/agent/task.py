"""Give the agent a task and follow it: sessions, prompts, the event stream."""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from collections.abc import Callable

from devaipod.agent.client import AgentError, Client

log = logging.getLogger("devaipod")

# OpenCode's session ids; the agent controls what its OpenCode reports, and an id
# ends up in URLs and in the command line of a tmux pane
SESSION_ID = re.compile(r"ses_[A-Za-z0-9]{1,64}")


def checked_id(value: object) -> str:
    """VALUE if it is an OpenCode session id, else one clear error."""
    if isinstance(value, str) and SESSION_ID.fullmatch(value):
        return value
    raise AgentError(f"{str(value)[:80]!r} is not an OpenCode session id",
                     "session ids look like ses_0123abcd...")


def wait_ready(client: Client, timeout: float = 120, every: float = 0.1,
               each: float = 1, at_most: int = 10) -> None:
    """Until OpenCode answers its health check through the sidecar.

    A probe goes out EVERY seconds, each in a thread of its own and waiting up to
    EACH seconds, AT_MOST of them at a time: OpenCode accepts connections a moment
    before it answers any, and a probe caught in that moment must not hold back the
    next one; a slow sidecar is not flooded."""
    deadline = time.monotonic() + timeout
    ready = threading.Event()
    slots = threading.Semaphore(at_most)
    last = [""]

    def probe() -> None:
        try:
            client.get("/global/health", timeout=each)
            ready.set()
        except (AgentError, OSError, ValueError) as exc:  # a read that timed out, bad JSON
            last[0] = str(exc)
        finally:
            slots.release()

    while time.monotonic() < deadline:
        if slots.acquire(blocking=False):
            threading.Thread(target=probe, daemon=True).start()
        if ready.wait(every):
            return
    if ready.wait(each):  # the probes still out
        return
    raise AgentError(f"the agent did not become ready in {timeout:.0f}s: {last[0]}",
                     "see 'devaipod logs WORKSPACE -c agent'")


def new_session(client: Client, title: str | None = None) -> str:
    return checked_id(client.post("/session", {"title": title} if title else {})["id"])


def send(client: Client, session: str, text: str) -> None:
    client.call("POST", f"/session/{session}/prompt_async",
                {"parts": [{"type": "text", "text": text}]})


def oldest_root_session(client: Client) -> str | None:
    """The oldest root session's id; sessions whose id is no OpenCode id are skipped."""
    sessions = [s for s in client.get("/session") or [] if isinstance(s, dict)
                and not s.get("parentID") and SESSION_ID.fullmatch(str(s.get("id", "")))]
    sessions.sort(key=lambda s: (s.get("time") or {}).get("created", 0))
    return sessions[0]["id"] if sessions else None


def current_session(client: Client) -> str:
    """The session a message to the agent goes to: the oldest root one (the task's), or a
    new one when there is none."""
    return oldest_root_session(client) or new_session(client)


class Follower:
    """Reads the event stream in a thread, so nothing is missed before the prompt."""

    def __init__(self, client: Client) -> None:
        self.events: queue.Queue = queue.Queue()
        self.connected = threading.Event()
        self.thread = threading.Thread(target=self._read, args=(client,), daemon=True)
        self.thread.start()
        self.connected.wait(15)  # OpenCode says server.connected first

    def _read(self, client: Client) -> None:
        try:
            for event in client.events():
                self.connected.set()
                self.events.put(event)
        except AgentError as exc:
            self.events.put({"type": "devaipod.stream-error", "properties": {"error": str(exc)}})
        finally:
            self.connected.set()

    def until_idle(self, session: str, show: Callable[[str], None]) -> dict | None:
        """Show each step of ``session``; return its error, if it ended in one."""
        error = None
        seen: set[str] = set()
        while True:
            event = self.events.get()
            kind, props = event.get("type", ""), event.get("properties") or {}
            if kind == "devaipod.stream-error":
                raise AgentError(props["error"])
            if props.get("sessionID", session) != session and kind != "file.edited":
                continue
            if kind == "session.error":
                error = props.get("error") or {"name": "error"}
            elif kind == "session.idle":
                return error
            else:
                line = describe(kind, props, seen)
                if line:
                    show(line)


def describe(kind: str, props: dict, seen: set[str]) -> str | None:
    """One line for an event worth showing, or None."""
    if kind == "file.edited":
        return f"edited {props.get('file', '?')}"
    if kind != "message.part.updated":
        return None
    part = props.get("part") or {}
    if part.get("type") != "tool":
        return None
    status = (part.get("state") or {}).get("status")
    key = f"{part.get('callID')}:{status}"
    if status not in ("completed", "error") or key in seen:
        return None
    seen.add(key)
    st = part["state"]
    what = st.get("title") or short_input(st.get("input") or {})
    return f"tool {part.get('tool')}: {what}" + (" (failed)" if status == "error" else "")


def short_input(data: dict) -> str:
    for key in ("command", "filePath", "pattern", "url"):
        if data.get(key):
            return str(data[key])[:120]
    return ""


def final_reply(client: Client, session: str) -> str:
    messages = client.get(f"/session/{session}/message?limit=3") or []
    for msg in reversed(messages):
        if (msg.get("info") or {}).get("role") == "assistant":
            return "".join(p.get("text", "") for p in msg.get("parts") or []
                           if p.get("type") == "text").strip()
    return ""
