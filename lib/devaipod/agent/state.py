"""Agent state of many workspaces at once: one podman call, then HTTP to every sidecar at
the same time, within one short deadline.

A sidecar shares its pod's network namespace with the agent, so its answer is treated as
untrusted: at most ``MAX_BYTES`` are read, only the fields ``list`` shows are kept, with
their types checked, and what the agent wrote into the tool, the status line and the last
lines of output is made one printable line each, capped (devaipod.printable.one_line).
A sidecar that has not answered by the deadline (slow, or hostile and dripping its answer)
is shown as ``unknown``: each read waits at most until the deadline, so no thread outlives
it by more than a moment and the list never waits longer.

HTTP is spoken with h11 over a plain socket (http.client would cost ``list`` the import of
the email package and ssl, and could not bound the time of a whole answer).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any

import h11

from devaipod import errors, layout
from devaipod.agent.client import address, api_containers, token
from devaipod.printable import one_line

DEADLINE = 1.0  # seconds for all the summaries of one list
MAX_BYTES = 64 * 1024  # of one summary (the sidecar keeps at most 500 characters of text)
STATES = ("starting", "working", "idle", "error")
LINES, LINE_MAX, TOOL_MAX = 5, 200, 64  # last lines kept, characters of a line and a tool
# what the agent is doing: nothing known
NOW: dict[str, Any] = {"tool": None, "status": "", "lines": [], "stale": False}
STOPPED = {"state": "stopped", "message": "", "last_activity": None, **NOW}
UNKNOWN = {"state": "unknown", "message": "no answer in time", "last_activity": None, **NOW}


def starting(why: str) -> dict:
    return {"state": "starting", "message": why[:200], "last_activity": None, **NOW}


def unknown(why: str) -> dict:
    return {**UNKNOWN, "message": why}


def clean(answer: object) -> dict:
    """The fields of a sidecar's /summary that list shows, checked (anything else: unknown)."""
    if not isinstance(answer, dict):
        return unknown("the sidecar's answer is not a summary")
    state, message, last = (answer.get(k) for k in ("state", "message", "last_activity"))
    tool, status, lines = (answer.get(k) for k in ("tool", "status", "lines"))
    tool = one_line(tool, TOOL_MAX) if isinstance(tool, str) else ""
    return {"state": state if state in STATES else "unknown",
            "message": message[-500:] if isinstance(message, str) else "",
            "last_activity": last[:40] if isinstance(last, str) else None,
            "tool": tool or None,
            "status": one_line(status, LINE_MAX) if isinstance(status, str) else "",
            "lines": lines_of(lines),
            # the sidecar answered with what it kept while it asks OpenCode again (its
            # `as_of` is not kept: no row shows it)
            "stale": answer.get("stale") is True}


def lines_of(lines: object) -> list[str]:
    """At most the last LINES lines of a sidecar's output lines, each one printable line."""
    kept: list[str] = []
    for line in reversed(lines) if isinstance(lines, list) else ():
        shown = one_line(line, LINE_MAX) if isinstance(line, str) else ""
        if shown:
            kept.insert(0, shown)
            if len(kept) == LINES:
                break
    return kept


class TooLong(Exception):
    pass


def get(where: tuple[str, int], path: str, bearer: str, end: float) -> tuple[int, bytes]:
    """GET path from where: (status, body), all of it before ``end`` (time.monotonic).
    Raises TimeoutError after ``end``, OSError, h11.ProtocolError, TooLong."""

    def left() -> float:
        remaining = end - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the deadline passed")
        return remaining

    conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_BYTES)
    with socket.create_connection(where, timeout=left()) as sock:
        request = h11.Request(method="GET", target=path, headers=[
            ("Host", f"{where[0]}:{where[1]}"), ("Authorization", f"Bearer {bearer}"),
            ("Connection", "close")])
        sock.sendall(conn.send(request) + conn.send(h11.EndOfMessage()))
        status, body = 0, bytearray()
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                sock.settimeout(left())
                conn.receive_data(sock.recv(65536))
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                body += event.data
                if len(body) > MAX_BYTES:
                    raise TooLong
            elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                return status, bytes(body)


def summary(pod: str, info: dict | None, end: float) -> dict:
    """One sidecar's summary of its agent, asked for before ``end``."""
    if not info or info.get("State") != "running":
        return dict(STOPPED)
    where = address(info)
    if where is None:
        return starting(f"workspace '{layout.short(pod)}' has no published api port")
    try:
        status, body = get(where, "/summary", token(pod), end)
    except TimeoutError:
        return dict(UNKNOWN)
    except (OSError, errors.DevaipodError) as exc:
        return starting(f"the pod's API sidecar does not answer: {exc}")
    except TooLong:
        return unknown("the sidecar's answer is too long")
    except h11.ProtocolError as exc:
        return unknown(f"the sidecar's answer is broken: {str(exc)[:100]}")
    if status != 200:
        return starting(f"the sidecar answers HTTP {status}")
    try:
        return clean(json.loads(body))
    except (ValueError, RecursionError):
        return unknown("the sidecar's answer is not JSON")


class Asking:
    """The summaries of running sidecars, asked for at once (``ask``) while the caller does
    its other look-ups; ``result`` waits for them until the deadline, and no longer."""

    def __init__(self, infos: dict[str, dict], deadline: float) -> None:
        self.infos = infos
        self.found: dict[str, dict] = {}
        self.end = time.monotonic() + deadline
        running = [pod for pod, info in infos.items() if (info or {}).get("State") == "running"]
        # daemon threads: one still reading at the deadline never delays the exit
        self.threads = [threading.Thread(target=self._one, args=(pod,), daemon=True)
                        for pod in running]
        for thread in self.threads:
            thread.start()

    def _one(self, pod: str) -> None:
        self.found[pod] = summary(pod, self.infos[pod], self.end)

    def result(self, pods: list[str]) -> dict[str, dict]:
        """pod -> its summary; unknown if its sidecar has not answered by the deadline."""
        for thread in self.threads:
            thread.join(max(0.0, self.end - time.monotonic()))
        answered = dict(self.found)  # what comes after the deadline is not taken
        running = {pod for pod, info in self.infos.items()
                   if (info or {}).get("State") == "running"}
        return {p: answered.get(p) or dict(UNKNOWN if p in running else STOPPED)
                for p in pods}


def ask(infos: dict[str, dict] | None = None, deadline: float = DEADLINE) -> Asking:
    """Start asking every running sidecar of ``infos`` (pod -> its api container, from
    ``api_containers``) for its summary."""
    return Asking(api_containers() if infos is None else infos, deadline)


def summaries(pods: list[str], infos: dict[str, dict] | None = None,
              deadline: float = DEADLINE) -> dict[str, dict]:
    """pod -> {state, message, last_activity, tool, status, lines}; the state is starting,
    working, idle, error, stopped, or unknown when its sidecar did not answer within
    ``deadline`` seconds."""
    if not pods:
        return {}
    infos = api_containers() if infos is None else infos
    return ask({p: infos[p] for p in pods if p in infos}, deadline).result(pods)
