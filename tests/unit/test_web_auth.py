"""The control plane's auth, in process: login, sessions and their keys, logout, expiry,
rotation, bearer, tickets, WebSockets, and the security headers on every answer."""

from __future__ import annotations

import io
import json
import re
import time
from wsgiref.util import setup_testing_defaults

import pytest
from websockets.datastructures import Headers
from websockets.http11 import Request

from devaipod import errors
from devaipod.http import browserauth
from devaipod.web import app as web_app
from devaipod.web import auth, sockets


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def gate(monkeypatch, clock):
    monkeypatch.setattr(time, "sleep", lambda _s: None)  # failed logins wait
    return auth.Auth("the-right-token", clock=clock)


class Answer:
    def __init__(self, code: int, headers: list, body: bytes) -> None:
        self.code, self.headers, self.body = code, headers, body

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self):
        return json.loads(self.body)


def wsgi_call(application, path: str, headers: dict | None = None, method: str = "GET",
              body: bytes = b"") -> Answer:
    environ: dict = {}
    setup_testing_defaults(environ)
    path, _, query = path.partition("?")
    environ.update({"PATH_INFO": path, "QUERY_STRING": query, "REQUEST_METHOD": method,
                    "wsgi.input": io.BytesIO(body), "HTTP_HOST": "127.0.0.1:8080"})
    if body:
        environ["CONTENT_LENGTH"] = str(len(body))
    for key, value in (headers or {}).items():
        name = key.upper().replace("-", "_")
        environ[name if name in ("CONTENT_TYPE",) else "HTTP_" + name] = value
    status: list = []
    out = application(environ, lambda s, h, e=None: status.append((s, h)))
    try:
        data = b"".join(out)
    finally:
        getattr(out, "close", lambda: None)()
    return Answer(int(status[0][0].split()[0]), status[0][1], data)


@pytest.fixture
def wsgi(gate):
    application = web_app.make_app(gate)
    return lambda *args, **kwargs: wsgi_call(application, *args, **kwargs)


def login(wsgi) -> tuple[str, str]:
    """(Cookie header value, key) of a fresh login."""
    answer = wsgi("/login?token=the-right-token")
    assert answer.code == 303
    cookie = answer.header("Set-Cookie").split(";", 1)[0]
    key = re.fullmatch(r"/#key=([0-9a-f]+)", answer.header("Location")).group(1)
    return cookie, key


# an API route that needs no podman: a missing job is a 404 once logged in
PROBE = "/api/jobs/nosuchjob"


def test_pages_redirect_to_login_and_api_refuses(wsgi):
    answer = wsgi("/")
    assert answer.code == 303 and answer.header("Location").endswith("/login")
    answer = wsgi("/api/pods")
    assert answer.code == 401 and answer.json() == {"error": "log in first"}
    assert wsgi("/healthz").code == 200


def test_login_sets_a_signed_cookie_and_hands_out_the_key_once(wsgi, gate):
    answer = wsgi("/login?token=the-right-token")
    assert answer.code == 303
    cookie = answer.header("Set-Cookie")
    assert cookie.startswith(f"{auth.COOKIE}=")
    assert "the-right-token" not in cookie
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    assert f"Max-Age={12 * 3600}" in cookie
    assert answer.header("Cache-Control") == "no-store"
    value = cookie.split(";", 1)[0].split("=", 1)[1]
    sid, expiry, _mac = value.split(".")
    assert answer.header("Location") == f"/#key={gate.key(sid)}"
    assert int(expiry) == int(gate.clock()) + 12 * 3600
    # a second login is another session, with another key
    assert login(wsgi)[1] != gate.key(sid)


def test_the_cookie_alone_opens_pages_but_not_the_api(wsgi):
    cookie, key = login(wsgi)
    assert wsgi("/", {"Cookie": cookie}).code == 200
    alone = wsgi(PROBE, {"Cookie": cookie})
    assert alone.code == 401 and key.encode() not in alone.body
    assert wsgi(PROBE, {"Cookie": cookie, "X-Devaipod-Key": "0" * 64}).code == 401
    _other_cookie, other_key = login(wsgi)
    assert wsgi(PROBE, {"Cookie": cookie, "X-Devaipod-Key": other_key}).code == 401
    assert wsgi(PROBE, {"X-Devaipod-Key": key}).code == 401  # the key alone neither
    both = wsgi(PROBE, {"Cookie": cookie, "X-Devaipod-Key": key})
    assert both.code == 404 and both.json() == {"error": "no job nosuchjob"}
    assert key.encode() not in wsgi("/", {"Cookie": cookie}).body  # never sent again


def test_bearer_works_without_cookie_or_key(wsgi):
    assert wsgi(PROBE, {"Authorization": "Bearer the-right-token"}).code == 404
    assert wsgi(PROBE, {"Authorization": "Bearer nope"}).code == 401


def test_a_forged_or_tampered_cookie_is_refused(wsgi, gate):
    cookie, key = login(wsgi)
    name, value = cookie.split("=", 1)
    sid, expiry, mac = value.split(".")
    later = f"{name}={sid}.{int(expiry) + 3600}.{mac}"  # a longer life, same MAC
    assert wsgi(PROBE, {"Cookie": later, "X-Devaipod-Key": key}).code == 401
    other = auth.Auth("another-token", clock=gate.clock)
    forged, forged_key = other.new_session()
    assert wsgi(PROBE, {"Cookie": f"{name}={forged}", "X-Devaipod-Key": forged_key}).code == 401
    assert wsgi("/", {"Cookie": f"{name}={forged}"}).code == 303


def test_sessions_expire(monkeypatch, clock):
    monkeypatch.setattr(time, "sleep", lambda _s: None)
    gate = auth.Auth("the-right-token", session_hours=2, clock=clock)
    application = web_app.make_app(gate)
    cookie, key = login(lambda *a, **k: wsgi_call(application, *a, **k))
    creds = {"Cookie": cookie, "X-Devaipod-Key": key}
    clock.now += 2 * 3600 - 1
    assert wsgi_call(application, PROBE, creds).code == 404
    clock.now += 2
    assert wsgi_call(application, PROBE, creds).code == 401
    assert wsgi_call(application, "/", {"Cookie": cookie}).code == 303


def test_logout_revokes_the_session_and_clears_the_cookie(wsgi):
    cookie, key = login(wsgi)
    other_cookie, other_key = login(wsgi)
    refused = wsgi("/logout", {"Cookie": cookie}, method="POST")  # the cookie alone: no
    assert refused.code == 200 and refused.json()["revoked"] is False
    assert wsgi(PROBE, {"Cookie": cookie, "X-Devaipod-Key": key}).code == 404
    answer = wsgi("/logout", {"Cookie": cookie, "X-Devaipod-Key": key}, method="POST")
    assert answer.code == 200 and answer.json() == {"ok": True, "revoked": True}
    cleared = answer.header("Set-Cookie")
    assert cleared.startswith(f"{auth.COOKIE}=;") or "Max-Age=-1" in cleared \
        or "max-age=0" in cleared.lower()
    assert wsgi(PROBE, {"Cookie": cookie, "X-Devaipod-Key": key}).code == 401
    assert wsgi("/", {"Cookie": cookie}).code == 303
    assert wsgi(PROBE, {"Cookie": other_cookie, "X-Devaipod-Key": other_key}).code == 404


def test_logout_from_another_origin_is_refused(wsgi):
    cookie, key = login(wsgi)
    answer = wsgi("/logout", {"Cookie": cookie, "X-Devaipod-Key": key,
                              "Sec-Fetch-Site": "same-site"}, method="POST")
    assert answer.code == 403
    assert wsgi(PROBE, {"Cookie": cookie, "X-Devaipod-Key": key}).code == 404


def test_wrong_token_is_refused_and_slowed(monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr(time, "sleep", waits.append)
    gate = auth.Auth("right")
    assert not gate.login("wrong", "10.0.0.1")
    assert not gate.login("wrong", "10.0.0.1")
    assert not gate.login("wrong", "10.0.0.1")
    assert waits == sorted(waits) and waits[-1] > waits[0]
    assert gate.login("right", "10.0.0.1")


def test_a_wrong_login_sets_nothing(wsgi):
    answer = wsgi("/login?token=nope")
    assert answer.code == 303 and answer.header("Location") == "/login?error=1"
    assert answer.header("Set-Cookie") is None


# --- the token file and its rotation ------------------------------------------------------


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


def test_rotation_ends_every_session(tmp_path, monkeypatch, clock):
    monkeypatch.setenv("DEVAIPOD_STATE_DIR", str(tmp_path))
    monkeypatch.setattr(time, "sleep", lambda _s: None)
    source = auth.TokenFile(secret_file=tmp_path / "absent")
    old = source()
    gate = auth.Auth(source, clock=clock)
    application = web_app.make_app(gate)

    def call(*args, **kwargs):
        return wsgi_call(application, *args, **kwargs)

    answer = call(f"/login?token={old}")
    cookie = answer.header("Set-Cookie").split(";", 1)[0]
    creds = {"Cookie": cookie, "X-Devaipod-Key": answer.header("Location").split("=", 1)[1]}
    assert call(PROBE, creds).code == 404
    new = auth.rotate_token(secret_file=tmp_path / "absent")
    assert new != old and (tmp_path / "web-token").read_text() == new
    assert (tmp_path / "web-token").stat().st_mode & 0o777 == 0o600
    assert call(PROBE, creds).code == 401  # the running server noticed
    assert call(PROBE, {"Authorization": f"Bearer {old}"}).code == 401
    assert call(PROBE, {"Authorization": f"Bearer {new}"}).code == 404
    assert call(f"/login?token={old}").header("Location") == "/login?error=1"


def test_a_podman_secret_token_cannot_be_rotated(tmp_path, monkeypatch):
    monkeypatch.setenv("DEVAIPOD_STATE_DIR", str(tmp_path))
    secret = tmp_path / "secret"
    secret.write_text("from-podman-secret\n")
    with pytest.raises(errors.DevaipodError) as refused:
        auth.rotate_token(secret_file=secret)
    message = refused.value.format_message()
    assert "podman secret" in message and "\n" not in message.strip()
    assert not (tmp_path / "web-token").exists()


def test_rotate_token_prints_the_new_login_url(tmp_path, monkeypatch, capsys):
    from devaipod import cli

    monkeypatch.setenv("DEVAIPOD_STATE_DIR", str(tmp_path))
    monkeypatch.setattr(auth, "SECRET_FILE", tmp_path / "absent")
    monkeypatch.delenv("DEVAIPOD_CONTAINER", raising=False)
    with pytest.raises(SystemExit) as done:
        cli.main(["web", "--rotate-token", "--port", "9090"])
    assert done.value.code in (0, None)
    token = (tmp_path / "web-token").read_text()
    assert capsys.readouterr().out == f"Login URL: http://127.0.0.1:9090/login?token={token}\n"


# --- headers ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/login", "/healthz", "/", "/api/pods", "/static/app.js",
                                  "/static/nosuchfile", "/login?token=x"])
def test_every_answer_forbids_framing_and_sniffing(wsgi, path):
    answer = wsgi(path)
    [policy] = answer.all("Content-Security-Policy")
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["frame-ancestors"] == "'self'"
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"  # no inline script
    assert directives["connect-src"] == "'self'"
    assert directives["frame-src"] == "http://127.0.0.1:* https://127.0.0.1:*"
    assert answer.header("X-Frame-Options") == "SAMEORIGIN"
    assert answer.header("X-Content-Type-Options") == "nosniff"
    assert answer.header("Referrer-Policy") == "no-referrer"


def test_a_strange_host_frames_nothing(wsgi):
    answer = wsgi("/healthz", {"Host": "evil.example; script-src *"})
    assert "frame-src 'none'" in answer.header("Content-Security-Policy")


# --- tickets -------------------------------------------------------------------------------


def test_tickets_expire_and_are_bound_to_the_pod():
    now = 1_000_000.0
    t = browserauth.ticket("pod-token", "devaipod-a", "http://127.0.0.1:8080", now + 3600, now=now)
    body = browserauth.check_ticket("pod-token", "devaipod-a", t, now=now + 30)
    assert body["origin"] == "http://127.0.0.1:8080" and body["until"] == int(now + 3600)
    assert not browserauth.check_ticket("pod-token", "devaipod-b", t, now=now + 30)
    assert not browserauth.check_ticket("other-token", "devaipod-a", t, now=now + 30)
    assert not browserauth.check_ticket("pod-token", "devaipod-a", t, now=now + 120)
    assert not browserauth.check_ticket("pod-token", "devaipod-a", "garbage", now=now)
    payload, mac = t.split(".")
    assert not browserauth.check_ticket("pod-token", "devaipod-a", f"{payload}x.{mac}", now=now)
    bad = browserauth.ticket("pod-token", "devaipod-a", "http://x; script-src *", now + 60, now=now)
    assert not browserauth.check_ticket("pod-token", "devaipod-a", bad, now=now)


# --- WebSockets ------------------------------------------------------------------------------


def ws_request(path: str, *protocols: str, **headers: str) -> Request:
    items = list(headers.items())
    if protocols:
        items.append(("Sec-WebSocket-Protocol", ", ".join(protocols)))
    return Request(path, Headers(items))


def test_websocket_needs_origin_cookie_and_key(gate, monkeypatch):
    route = sockets.router(gate)
    value, key = gate.new_session()
    cookie = f"{auth.COOKIE}={value}"
    here = {"Host": "h:8080", "Origin": "http://h:8080"}
    assert route(ws_request("/ws/terminal/x", **here)).status_code == 401
    assert route(ws_request("/ws/terminal/x", "devaipod", **here, Cookie=cookie)).status_code \
        == 401  # the cookie without the key
    assert route(ws_request("/ws/terminal/x", "devaipod", "key.nope", **here,
                            Cookie=cookie)).status_code == 401
    foreign = ws_request("/ws/terminal/x", "devaipod", f"key.{key}", Host="h:8080",
                         Origin="http://h:9999", Cookie=cookie)
    assert route(foreign).status_code == 403
    no_origin = ws_request("/ws/terminal/x", "devaipod", f"key.{key}", Host="h:8080",
                           Cookie=cookie)
    assert route(no_origin).status_code == 403
    unknown = ws_request("/ws/other", "devaipod", f"key.{key}", **here, Cookie=cookie)
    assert route(unknown).status_code == 404  # past the auth: no such socket
    bearer = ws_request("/ws/other", Host="h:8080", Authorization="Bearer the-right-token")
    assert route(bearer).status_code == 404


def test_the_server_selects_the_devaipod_subprotocol():
    from devaipod.http import oneport

    assert oneport.select_subprotocol(None, ["devaipod", "key.abc"]) == "devaipod"
    assert oneport.select_subprotocol(None, []) is None


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
    assert browserauth.same_origin_write(method, headers, "h:8080") is allowed


def test_cross_origin_post_with_cookie_and_key_is_refused(wsgi):
    cookie, key = login(wsgi)
    answer = wsgi("/api/pods/x/done", {"Cookie": cookie, "X-Devaipod-Key": key,
                                       "Origin": "http://evil:1"}, method="POST")
    assert answer.code == 403 and b"cross-origin" in answer.body


@pytest.mark.parametrize(("header", "token", "allowed"), [
    ("Bearer tok", "tok", True),
    ("Bearer tok ", "tok", True),
    ("Bearer tok2", "tok", False),
    ("bearer tok", "tok", False),
    ("tok", "tok", False),
    ("Bearer ", "", False),       # a sidecar started without its token lets nobody in
    ("Bearer x", "", False),
    (None, "tok", False),
])
def test_one_bearer_check_for_the_control_plane_and_the_sidecar(header, token, allowed):
    assert browserauth.bearer(header, token) is allowed
