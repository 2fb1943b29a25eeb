"""The agent smuggles a second request in the body of a first one on a kept-alive
connection to its sidecar.

The sidecar's server (``http/oneport.py``, shared with the control plane) keeps an
HTTP/1.1 connection open for the next request only after a GET or HEAD without a body
whose answer had its length: a body the app left unread would otherwise be read as the
connection's next request. The agent shares the pod's network namespace, so it reaches the
sidecar on 127.0.0.1:8090 with any bytes it likes.
"""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.podman

# python3 - REQUEST(JSON string): send REQUEST on one connection to the sidecar (once it
# listens), read until the server closes it (or 10 s pass): print the status lines it
# answered and whether it closed the connection
RAW = """
import json, re, socket, sys, time
deadline = time.monotonic() + 120  # the sidecar may still be starting
while True:
    try:
        s = socket.create_connection(("127.0.0.1", 8090), timeout=10)
        break
    except ConnectionRefusedError:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.5)
s.sendall(json.loads(sys.argv[1]).encode())
data, closed = b"", False
try:
    while chunk := s.recv(65536):
        data += chunk
    closed = True
except socket.timeout:
    pass
# an answer's status line follows the body before it directly (no line break)
lines = [m.decode() for m in re.findall(rb"HTTP/1\\.[01] [0-9]{3}", data)]
print(json.dumps({"statuses": lines, "closed": closed}))
"""

SMUGGLED = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"


def send(pod, request: str) -> dict:
    """REQUEST's bytes on one connection from the agent's container, as the agent."""
    proc = pod.svc.podman("exec", "-i", pod.container("agent"), "python3", "-",
                          json.dumps(request), input=RAW)
    return json.loads(proc.stdout)


def test_a_request_in_a_body_is_not_served(hostile_pod):
    """Attack: the agent sends the sidecar a GET whose body (announced by Content-Length,
    or chunked) is a second request, so that the sidecar reads the body as the
    connection's next request and serves what the first one's checks never saw."""
    pod = hostile_pod()
    # the control: two bodiless GETs on one connection get two answers (the server does
    # keep the connection, so a served smuggled request would show as a second answer)
    both = send(pod, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" + SMUGGLED
                + "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert len(both["statuses"]) == 3 and both["closed"], both
    sized = send(pod, "GET /healthz HTTP/1.1\r\nHost: x\r\n"
                 f"Content-Length: {len(SMUGGLED)}\r\n\r\n{SMUGGLED}")
    chunked = send(pod, "GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
                   f"\r\n\r\n{len(SMUGGLED):x}\r\n{SMUGGLED}\r\n0\r\n\r\n")
    for answer in (sized, chunked):
        assert len(answer["statuses"]) == 1, answer  # the first request's answer only
        assert answer["closed"], answer  # and the connection ends with it
