"""Who may call a gator endpoint: the one client holding that endpoint's token.

Both endpoints listen on the pod's shared 127.0.0.1, where every container
of the pod (the agent, the worker, anything they start) can connect. So each
endpoint has a secret of its own, mounted in the gator as a file and given
only to its client's OpenCode configuration: the agent's for the full
endpoint, the worker's for the read-only one. Every request but
``/healthz`` (the sidecar's probe) must carry ``Authorization: Bearer
<token>``, else it is answered 401 before the MCP server sees it.
"""

from __future__ import annotations

import hmac

OPEN_PATHS = ("/healthz",)
MIN_LENGTH = 16


def authorized(header: str | None, token: str) -> bool:
    """Whether an Authorization header carries TOKEN as a bearer token (constant time)."""
    scheme, _, value = (header or "").strip().partition(" ")
    if not token or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(value.strip().encode(), token.encode())


def read_token(path: str) -> str:
    """The token in the file PATH; ValueError if it is missing or too short to be one."""
    try:
        with open(path, encoding="utf-8") as f:
            token = f.read().strip()
    except OSError as exc:
        raise ValueError(f"cannot read the token file {path}: {exc.strerror}") from None
    if len(token) < MIN_LENGTH:
        raise ValueError(f"the token in {path} is shorter than {MIN_LENGTH} characters")
    return token


class BearerGate:
    """ASGI middleware: the wrapped app only sees requests that carry the token."""

    def __init__(self, app, token: str) -> None:
        if len(token) < MIN_LENGTH:
            raise ValueError("a gator endpoint needs a token")
        self.app, self.token = app, token

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] in ("http", "websocket") and scope.get("path") not in OPEN_PATHS:
            header = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not authorized(header.decode("latin-1"), self.token):
                await _refuse(scope, send)
                return
        await self.app(scope, receive, send)


async def _refuse(scope, send) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    body = b'{"error": "unauthorized: this endpoint needs its bearer token"}'
    await send({"type": "http.response.start", "status": 401,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"www-authenticate", b'Bearer realm="service-gator"')]})
    await send({"type": "http.response.body", "body": body})
