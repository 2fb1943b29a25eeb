"""WebSocket routes of the control plane: auth by cookie, same-origin only."""

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


def logged_in(request: Request, gate: auth.Auth) -> bool:
    cookie = SimpleCookie(request.headers.get("Cookie", ""))
    value = cookie[auth.COOKIE].value if auth.COOKIE in cookie else None
    return gate.ok(value, request.headers.get("Authorization"))


def router(gate: auth.Auth):
    def route(request: Request):
        if not logged_in(request, gate):
            return refuse(HTTPStatus.UNAUTHORIZED, "log in first\n")
        if not same_origin(request):
            return refuse(HTTPStatus.FORBIDDEN, "cross-origin WebSocket refused\n")
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
