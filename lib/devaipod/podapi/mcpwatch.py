"""Connect OpenCode to the pod's gator once both run, whatever started first.

OpenCode connects its MCP servers once, when it starts; a server that did
not answer yet stays "failed". The containers of a pod start together, so
at every start of the pod the sidecar waits for the gator and for each
OpenCode (the agent's, the worker's), and asks OpenCode to connect again
where it failed. Only ``/healthz`` of the gator is probed: its MCP endpoints
need the bearer tokens that only the OpenCodes' configurations hold.
"""

from __future__ import annotations

import http.client
import logging
import os
import threading
import time

from devaipod.podapi.proxy import Upstream
from devaipod.podapi.summary import get_json

log = logging.getLogger("devaipod")
NAME = "service-gator"


def opencode(port: int, password_var: str = "OPENCODE_SERVER_PASSWORD") -> Upstream:
    """The OpenCode on 127.0.0.1:PORT, with the password in the variable PASSWORD_VAR
    (the agent's and the worker's OpenCode have passwords of their own)."""
    return Upstream("127.0.0.1", port, os.environ.get(password_var, ""))


def healthy(port: int) -> bool:
    """Whether the gator on 127.0.0.1:PORT answers its /healthz."""
    try:
        get_json(Upstream("127.0.0.1", port, ""), "/healthz", timeout=2)
        return True
    except (OSError, ValueError, http.client.HTTPException):
        return False


def _status(up: Upstream) -> str | None:
    data = get_json(up, "/mcp", timeout=10)
    return ((data or {}).get(NAME) or {}).get("status")


def connect(up: Upstream) -> bool:
    """True once OpenCode reports the gator connected (asking it to reconnect if needed)."""
    try:
        state = _status(up)
        if state == "connected":
            return True
        if state is None:  # not (yet) in this OpenCode's configuration
            return False
        log.info("OpenCode on port %d: %s %s, connecting again", up.port, NAME, state)
        status, _headers, chunks = up.request("POST", f"/mcp/{NAME}/connect", {}, b"",
                                              timeout=30)
        b"".join(chunks)
        return status == 200 and _status(up) == "connected"
    except (OSError, ValueError, http.client.HTTPException):
        return False


def watch(upstreams: list[Upstream], gator_ports: list[int], timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    pending = list(zip(upstreams, gator_ports, strict=True))
    while pending and time.monotonic() < deadline:
        pending = [(up, port) for up, port in pending
                   if not (healthy(port) and connect(up))]
        if pending:
            time.sleep(1)
    for up, _port in pending:
        log.warning("OpenCode on port %d is not connected to %s", up.port, NAME)


def start(upstreams: list[Upstream], gator_ports: list[int]) -> None:
    threading.Thread(target=watch, args=(upstreams, gator_ports), name="mcp-watch",
                     daemon=True).start()
