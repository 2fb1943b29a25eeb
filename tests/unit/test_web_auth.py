"""The control plane's auth, in process: login, cookies, bearer, tickets, WebSockets."""

from __future__ import annotations

import io
import json
import time
from wsgiref.util import setup_testing_defaults

import pytest
from websockets.datastructures import Headers
from websockets.http11 import Request

from devaipod.web import app as web_app
from devaipod.web import auth, sockets


@pytest.fixture
def gate(monkeypatch):
    monkeypatch.setattr(time, "sleep", lambda _s: None)  # failed logins wait
    return auth.Auth("the-right-token")


@pytest.fixture
def wsgi(gate):
    application = web_app.make_app(gate)

    def call(path: str, headers: dict | None = None, method: str = "GET"):
        environ: dict = {}
        setup_testing_defaults(environ)
        path, _, query = path.partition("?")
        environ.update({"PATH_INFO": path, "QUERY_STRING": query, "REQUEST_METHOD": method,
                        "wsgi.input": io.BytesIO(b"")})
        for key, value in (headers or {}).items():
            environ["HTTP_" + key.upper().replace("-", "_")] = value
        status: list = []
        body = b"".join(application(environ, lambda s, h, e=None: status.append((s, h))))
        code = int(status[0][0].split()[0])
        return code, dict(status[0][1]), body

    return call


def test_pages_redirect_to_login_and_api_refuses(wsgi):
    code, headers, _ = wsgi("/")
    assert code == 303 and headers["Location"].endswith("/login")
    code, _, body = wsgi("/api/pods")
    assert code == 401 and "error" in json.loads(body)
    assert wsgi("/healthz")[0] == 200


def test_login_sets_a_derived_httponly_strict_cookie(wsgi, gate):
    code, headers, _ = wsgi("/login?token=the-right-token")
    assert code == 303
    cookie = headers["Set-Cookie"]
    assert f"{auth.COOKIE}={gate.session}" in cookie
    assert "the-right-token" not in cookie
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower()


def test_wrong_token_is_refused_and_slowed(monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr(time, "sleep", waits.append)
    gate = auth.Auth("right")
    assert not gate.login("wrong", "10.0.0.1")
    assert not gate.login("wrong", "10.0.0.1")
    assert not gate.login("wrong", "10.0.0.1")
    assert waits == sorted(waits) and waits[-1] > waits[0]
    assert gate.login("right", "10.0.0.1")


def test_cookie_and_bearer_both_work(gate):
    assert gate.ok(gate.session, None)
    assert gate.ok(None, "Bearer the-right-token")
    assert not gate.ok("the-right-token", None)  # the raw token is not a session
    assert not gate.ok(None, "Bearer nope")


def test_tickets_expire_and_are_bound_to_the_pod():
    now = 1_000_000.0
    t = auth.ticket("pod-token", "devaipod-a", now=now)
    assert auth.check_ticket("pod-token", "devaipod-a", t, now=now + 30)
    assert not auth.check_ticket("pod-token", "devaipod-b", t, now=now + 30)
    assert not auth.check_ticket("other-token", "devaipod-a", t, now=now + 30)
    assert not auth.check_ticket("pod-token", "devaipod-a", t, now=now + 120)
    assert not auth.check_ticket("pod-token", "devaipod-a", "garbage", now=now)


def ws_request(path: str, **headers: str) -> Request:
    return Request(path, Headers(list(headers.items())))


def test_websocket_without_auth_or_from_elsewhere_is_refused(gate):
    route = sockets.router(gate)
    cookie = f"{auth.COOKIE}={gate.session}"
    anonymous = route(ws_request("/ws/terminal/x", Host="h:8080", Origin="http://h:8080"))
    assert anonymous.status_code == 401
    foreign = route(ws_request("/ws/terminal/x", Host="h:8080", Origin="http://evil:8080",
                               Cookie=cookie))
    assert foreign.status_code == 403
    no_origin = route(ws_request("/ws/terminal/x", Host="h:8080", Cookie=cookie))
    assert no_origin.status_code == 403
    unknown = route(ws_request("/ws/other", Host="h:8080", Origin="http://h:8080",
                               Cookie=cookie))
    assert unknown.status_code == 404


def test_token_file_is_made_private_and_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("DEVAIPOD_STATE_DIR", str(tmp_path))
    token, origin = auth.load_token(secret_file=tmp_path / "absent")
    assert origin.endswith("(new)")
    assert (tmp_path / "web-token").stat().st_mode & 0o777 == 0o600
    again, origin2 = auth.load_token(secret_file=tmp_path / "absent")
    assert again == token and not origin2.endswith("(new)")
    secret = tmp_path / "secret"
    secret.write_text("from-podman-secret\n")
    assert auth.load_token(secret_file=secret)[0] == "from-podman-secret"


@pytest.mark.parametrize(("method", "headers", "allowed"), [
    ("GET", {"Origin": "http://evil:1"}, True),                  # reads are not writes
    ("POST", {}, True),                                          # curl, scripts
    ("POST", {"Origin": "http://h:8080"}, True),
    ("POST", {"Origin": "http://h:9999"}, False),                # another port, same site
    ("POST", {"Sec-Fetch-Site": "same-site"}, False),
    ("POST", {"Sec-Fetch-Site": "same-origin", "Origin": "http://h:8080"}, True),
    ("DELETE", {"Sec-Fetch-Site": "cross-site"}, False),
])
def test_state_changing_requests_must_be_same_origin(method, headers, allowed):
    assert auth.same_origin_write(method, headers, "h:8080") is allowed


def test_cross_origin_post_with_the_cookie_is_refused(wsgi, gate):
    cookie = f"{auth.COOKIE}={gate.session}"
    code, _, body = wsgi("/api/pods/x/done", {"Cookie": cookie, "Origin": "http://evil:1",
                                             "Host": "h:8080"}, method="POST")
    assert code == 403 and b"cross-origin" in body
