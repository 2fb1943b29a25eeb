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
