"""WebSocket routes of the control plane.

A browser's socket must come from this origin and carry the session's cookie
and its key; browsers cannot add a header to a WebSocket, so the key comes as
a second subprotocol (``["devaipod", "key.<KEY>"]``; the server answers
``devaipod``). Other clients may send ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

from http import HTTPStatus
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlsplit

from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from devaipod import errors
from devaipod.web import auth, terminal


def refuse(status: HTTPStatus, text: str) -> Response:
    return Response(status.value, status.phrase, Headers([("Content-Type", "text/plain")]),
                    text.encode())


def same_origin(request: Request) -> bool:
    origin, host = request.headers.get("Origin"), request.headers.get("Host")
    return bool(origin and host) and urlsplit(origin).netloc == host


def offered(request: Request) -> list[str]:
    return [p.strip() for line in request.headers.get_all("Sec-WebSocket-Protocol")
            for p in line.split(",") if p.strip()]


def key_of(request: Request) -> str | None:
    return next((p[4:] for p in offered(request) if p.startswith("key.")), None)


def logged_in(request: Request, gate: auth.Auth) -> bool:
    cookie = SimpleCookie(request.headers.get("Cookie", ""))
    value = cookie[auth.COOKIE].value if auth.COOKIE in cookie else None
    return gate.ok(value, key_of(request), None)


def router(gate: auth.Auth):
    def route(request: Request):
        if not gate.bearer(request.headers.get("Authorization")):
            if not same_origin(request):
                return refuse(HTTPStatus.FORBIDDEN, "cross-origin WebSocket refused\n")
            if not logged_in(request, gate):
                return refuse(HTTPStatus.UNAUTHORIZED, "log in first\n")
        url = urlsplit(request.path)
        parts = url.path.strip("/").split("/")
        if len(parts) != 3 or parts[:2] != ["ws", "terminal"]:
            return refuse(HTTPStatus.NOT_FOUND, "no such socket\n")
        kind = parse_qs(url.query).get("kind", ["agent"])[0]
        if kind not in ("agent", "workspace"):
            return refuse(HTTPStatus.BAD_REQUEST, "kind is agent or workspace\n")
        try:
            from devaipod.workspace import lookup

            session = terminal.ensure_session(lookup.resolve(parts[2]), kind)
        except errors.DevaipodError as exc:
            return refuse(HTTPStatus.NOT_FOUND, exc.format_message() + "\n")
        return lambda conn: terminal.serve(conn, session)

    return route
