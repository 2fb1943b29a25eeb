"""Agent state of many workspaces at once: one podman call, then HTTP to every sidecar at
the same time, within one short deadline.

A sidecar shares its pod's network namespace with the agent, so its answer is treated as
untrusted: at most ``MAX_BYTES`` are read, only the fields ``list`` shows are kept, with
their types checked. A sidecar that has not answered by the deadline (slow, or hostile and
dripping its answer) is shown as ``unknown``; its socket is then shut down, so that no
thread outlives the deadline by more than a moment and the list never waits for it.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from http.client import HTTPConnection, HTTPException

from devaipod import errors, layout
from devaipod.agent.client import address, api_containers, token

DEADLINE = 1.0  # seconds for all the summaries of one list
MAX_BYTES = 64 * 1024  # of one summary (the sidecar keeps at most 500 characters of text)
STATES = ("starting", "working", "idle", "error")
STOPPED = {"state": "stopped", "message": "", "last_activity": None}
UNKNOWN = {"state": "unknown", "message": "no answer in time", "last_activity": None}


def starting(why: str) -> dict:
    return {"state": "starting", "message": why[:200], "last_activity": None}


def clean(answer: object) -> dict:
    """The fields of a sidecar's /summary that list shows, checked (anything else: unknown)."""
    if not isinstance(answer, dict):
        return {**UNKNOWN, "message": "the sidecar's answer is not a summary"}
    state, message, last = (answer.get(k) for k in ("state", "message", "last_activity"))
    return {"state": state if state in STATES else "unknown",
            "message": message[-500:] if isinstance(message, str) else "",
            "last_activity": last[:40] if isinstance(last, str) else None}


class Sockets:
    """The sockets of the fetches under way; ``close`` shuts them down (the deadline)."""

    def __init__(self) -> None:
        self.lock, self.open, self.closed = threading.Lock(), set(), False

    def add(self, sock: socket.socket) -> None:
        with self.lock:
            if not self.closed:
                self.open.add(sock)
                return
        sock.close()
        raise TimeoutError("the deadline passed")

    def close(self) -> None:
        with self.lock:
            self.closed = True
            for sock in self.open:
                with contextlib.suppress(OSError):  # already closed
                    sock.shutdown(socket.SHUT_RDWR)


def fetch(pod: str, where: tuple[str, int], sockets: Sockets, timeout: float) -> dict:
    """GET /summary from one sidecar (raises OSError, HTTPException, DevaipodError)."""
    bearer = token(pod)
    sock = socket.create_connection(where, timeout=timeout)
    sockets.add(sock)
    try:
        conn = HTTPConnection(*where, timeout=timeout)
        conn.sock = sock
        conn.request("GET", "/summary", headers={"Authorization": f"Bearer {bearer}"})
        resp = conn.getresponse()
        body = resp.read(MAX_BYTES + 1)
    finally:
        sock.close()
    if resp.status != 200:
        return starting(f"the sidecar answers HTTP {resp.status}")
    if len(body) > MAX_BYTES:
        return {**UNKNOWN, "message": "the sidecar's answer is too long"}
    try:
        return clean(json.loads(body))
    except (ValueError, RecursionError):
        return {**UNKNOWN, "message": "the sidecar's answer is not JSON"}


def summary(pod: str, info: dict | None, sockets: Sockets, timeout: float) -> dict:
    if not info or info.get("State") != "running":
        return dict(STOPPED)
    where = address(info)
    if where is None:
        return starting(f"workspace '{layout.short(pod)}' has no published api port")
    try:
        return fetch(pod, where, sockets, timeout)
    except TimeoutError:
        return dict(UNKNOWN)
    except (OSError, errors.DevaipodError) as exc:
        return starting(f"the pod's API sidecar does not answer: {exc}")
    except HTTPException as exc:  # a broken answer
        return {**UNKNOWN, "message": f"the sidecar's answer is broken: {type(exc).__name__}"}


def summaries(pods: list[str], infos: dict[str, dict] | None = None,
              deadline: float = DEADLINE) -> dict[str, dict]:
    """pod -> {state, message, last_activity}: starting, working, idle, error, stopped, or
    unknown when its sidecar did not answer within ``deadline`` seconds."""
    if not pods:
        return {}
    infos = api_containers() if infos is None else infos
    found: dict[str, dict] = {}
    sockets = Sockets()

    def one(pod: str) -> None:
        found[pod] = summary(pod, infos.get(pod), sockets, deadline)

    # daemon threads: a thread still waiting at the deadline never delays the exit
    threads = [threading.Thread(target=one, args=(p,), daemon=True) for p in pods]
    end = time.monotonic() + deadline
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, end - time.monotonic()))
    answered = dict(found)  # what came after the deadline is not taken
    sockets.close()
    return {p: answered.get(p) or dict(UNKNOWN) for p in pods}
