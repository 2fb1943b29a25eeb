"""Forward a request to OpenCode, streaming the answer back (SSE included)."""

from __future__ import annotations

import base64
import http.client
from collections.abc import Iterator

HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
    "trailer", "trailers", "transfer-encoding", "upgrade", "content-length", "host",
    "authorization", "cookie",
    "x-devaipod-key",  # the browser's key for the sidecar: OpenCode has no use for it
}


def basic(password: str, user: str = "opencode") -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class Upstream:
    def __init__(self, host: str, port: int, password: str) -> None:
        self.host, self.port, self.password = host, port, password

    def request(self, method: str, target: str, headers: dict[str, str],
                body: bytes | None, timeout: float | None = 300):
        """Send one request; return (status, headers, chunk iterator)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        sent = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}
        if self.password:
            sent["Authorization"] = basic(self.password)
        conn.request(method, target, body=body, headers=sent)
        resp = conn.getresponse()
        out = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]
        return resp.status, out, _chunks(conn, resp)


def _chunks(conn, resp) -> Iterator[bytes]:
    try:
        while True:
            chunk = resp.read1(65536)
            if not chunk:
                return
            yield chunk
    finally:
        conn.close()
