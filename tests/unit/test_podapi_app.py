"""The pod-api bottle app, driven in-process through WSGI environs: the token,
the /git routes on temp repositories, and the proxy to a faked OpenCode."""

from __future__ import annotations

import base64
import io
import json
import re
from typing import ClassVar
from wsgiref.util import setup_testing_defaults

import pytest

from devaipod import runner
from devaipod.podapi import app as podapi
from devaipod.podapi import git, proxy

TOKEN = "t0ken-for-tests"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


def environ(method: str, path: str, headers: dict | None = None, body: bytes = b"") -> dict:
    path, _, query = path.partition("?")
    env = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query,
           "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body)) if body else ""}
    for name, value in (headers or {}).items():
        key = name.upper().replace("-", "_")
        env[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
    setup_testing_defaults(env)
    return env


class Response:
    def __init__(self, status: str, headers: list, body) -> None:
        self.code = int(status.split()[0])
        self.headers = headers
        self.body = body  # the app's iterable (not read yet)

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def read(self) -> bytes:
        try:
            return b"".join(self.body)
        finally:
            getattr(self.body, "close", lambda: None)()

    def json(self):
        return json.loads(self.read())


def call(app, method: str, path: str, headers: dict | None = None, body: bytes = b"",
         ) -> Response:
    started: list = []
    out = app(environ(method, path, headers, body),
              lambda status, hdrs, exc_info=None: started.extend([status, hdrs]))
    return Response(started[0], started[1], out)


class FakeUpstream:
    """Stands in for OpenCode; records what the app sent."""

    def __init__(self, status: int = 200, headers=(), body: bytes = b"{}") -> None:
        self.calls: list[tuple] = []
        self.answer = (status, list(headers), body)

    def request(self, method, target, headers, body, timeout=300):
        self.calls.append((method, target, headers, body, timeout))
        status, headers, data = self.answer
        if isinstance(data, Exception):
            raise data
        return status, headers, iter([data])


@pytest.fixture(autouse=True)
def _git_env(monkeypatch):
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for who in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{who}_NAME", "Ada Tester")
        monkeypatch.setenv(f"GIT_{who}_EMAIL", "ada@example.invalid")


def sh(*argv: str) -> str:
    return runner.capture(["git", *argv]).stdout.strip()


@pytest.fixture
def trees(tmp_path) -> git.Trees:
    main, agent = tmp_path / "main" / "proj", tmp_path / "agent" / "proj"
    main.mkdir(parents=True)
    sh("-C", str(main), "init", "-q", "-b", "main")
    (main / "a.txt").write_text("a\n")
    sh("-C", str(main), "add", "-A")
    sh("-C", str(main), "commit", "-q", "-m", "initial")
    sh("clone", "-q", "--shared", str(main), str(agent))
    (agent / "a.txt").write_text("a\nb\n")
    sh("-C", str(agent), "commit", "-q", "-am", "agent: add b")
    return git.Trees(str(main), str(agent))


@pytest.fixture
def upstream():
    return FakeUpstream()


@pytest.fixture
def app(trees, upstream):
    return podapi.make_app("pod1", "proj", upstream, TOKEN, trees=trees)


# --- the token --------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/git/status", "/git/review", "/summary", "/session"])
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"},
                                     {"Authorization": f"Basic {TOKEN}"},
                                     {"Cookie": f"token={TOKEN}"}])
def test_without_the_token_it_is_401(app, upstream, path, headers):
    resp = call(app, "GET", path, headers)
    assert resp.code == 401
    assert upstream.calls == []


def test_healthz_is_public(app):
    resp = call(app, "GET", "/healthz")
    assert resp.code == 200 and resp.json() == {"ok": True, "pod": "pod1", "project": "proj"}


def test_an_empty_token_lets_nobody_in(trees, upstream):
    app = podapi.make_app("pod1", "proj", upstream, "", trees=trees)
    assert call(app, "GET", "/git/status", {"Authorization": "Bearer "}).code == 401


# --- /git routes ------------------------------------------------------------------

def test_git_status_with_the_token(app, trees):
    resp = call(app, "GET", "/git/status", BEARER)
    assert resp.code == 200 and resp.header("Content-Type").startswith("application/json")
    body = resp.json()
    assert set(body) == {"workspace", "agent"}
    assert body["agent"]["branch"] == "main" and body["agent"]["dirty"] == []
    assert body["agent"]["head"] != body["workspace"]["head"]
    assert {"branch", "head", "dirty"} <= set(body["workspace"])


def test_git_log(app):
    commits = call(app, "GET", "/git/log?limit=1", BEARER).json()["commits"]
    assert [c["subject"] for c in commits] == ["agent: add b"]
    assert set(commits[0]) == {"sha", "subject", "author", "date"}
    assert len(call(app, "GET", "/git/log", BEARER).json()["commits"]) == 2
    bad = call(app, "GET", "/git/log?limit=many", BEARER)
    assert bad.code == 400 and "limit" in bad.json()["error"]


def test_git_review_shape(app, trees):
    resp = call(app, "GET", "/git/review", BEARER)
    assert resp.code == 200
    review = resp.json()
    assert list(review) == ["base", "head", "branch", "commits", "files"]
    assert review["base"] == sh("-C", trees.workspace, "rev-parse", "HEAD")
    assert review["head"] == sh("-C", trees.agent, "rev-parse", "HEAD")
    assert review["branch"] == "main"
    assert [set(c) for c in review["commits"]] == [{"sha", "subject", "author", "date"}]
    [entry] = review["files"]
    assert {"path", "status", "additions", "deletions", "diff"} <= set(entry)
    assert (entry["path"], entry["status"], entry["additions"], entry["deletions"]) == (
        "a.txt", "M", 1, 0)
    assert "+b\n" in entry["diff"]


@pytest.mark.parametrize("path", ["/git/status", "/git/log", "/git/review", "/git/events"])
def test_a_missing_tree_is_a_clean_503(tmp_path, upstream, path):
    app = podapi.make_app("pod1", "proj", upstream, TOKEN,
                          trees=git.Trees(str(tmp_path / "w"), str(tmp_path / "a")))
    resp = call(app, "GET", path, BEARER)
    assert resp.code == 503 and resp.header("Content-Type") == "application/json"
    body = resp.json()
    assert "is not there" in body["error"] and body["tree"] in ("workspace", "agent")
    assert "Traceback" not in body["error"]
    assert upstream.calls == []


def test_a_broken_tree_is_a_clean_500(tmp_path, trees, upstream):
    (tmp_path / "broken" / ".git").mkdir(parents=True)
    app = podapi.make_app("pod1", "proj", upstream, TOKEN,
                          trees=git.Trees(str(tmp_path / "broken"), trees.agent))
    resp = call(app, "GET", "/git/status", BEARER)
    assert resp.code == 500 and "has no .git directory" in resp.json()["error"]


def test_the_default_trees_are_the_mounts(upstream):
    app = podapi.make_app("pod1", "nosuchproject", upstream, TOKEN)
    body = call(app, "GET", "/git/status", BEARER).json()
    assert "/mnt/main-workspace/nosuchproject" in body["error"]


def test_git_events_streams_the_status_first(app, trees):
    resp = call(app, "GET", "/git/events", BEARER)
    assert resp.code == 200
    assert resp.header("Content-Type") == "text/event-stream"
    assert resp.header("Cache-Control") == "no-cache"
    stream = iter(resp.body)
    first = next(stream).decode()
    assert first.startswith("event: git.updated\ndata: ") and first.endswith("\n\n")
    data = json.loads(first.split("data: ", 1)[1])
    assert data == git.status(trees)
    resp.body.close()  # what the server does when the client has gone
    with pytest.raises(StopIteration):
        next(stream)


# --- the proxy ----------------------------------------------------------------------

def test_proxy_forwards_method_path_query_and_body(app, upstream):
    upstream.answer = (201, [("Content-Type", "application/json"), ("X-Upstream", "yes")],
                       b'{"id": "m1"}')
    resp = call(app, "POST", "/session/s1/message?directory=/x",
                {**BEARER, "Content-Type": "application/json", "X-Client": "c"},
                body=b'{"parts": []}')
    assert resp.code == 201 and resp.read() == b'{"id": "m1"}'
    assert resp.header("X-Upstream") == "yes"
    [(method, target, headers, body, timeout)] = upstream.calls
    assert (method, target, body, timeout) == (
        "POST", "/session/s1/message?directory=/x", b'{"parts": []}', 300)
    assert headers["X-Client"] == "c"


def test_proxy_streams_events_without_a_timeout(app, upstream):
    call(app, "GET", "/global/event", BEARER).read()
    assert upstream.calls[0][4] is None


def test_proxy_says_502_when_the_agent_is_down(app, upstream):
    upstream.answer = (0, [], ConnectionRefusedError("refused"))
    resp = call(app, "GET", "/session", BEARER)
    assert resp.code == 502 and b"the agent does not answer" in resp.read()


class FakeConnection:
    """http.client.HTTPConnection as Upstream uses it."""

    made: ClassVar[list[FakeConnection]] = []

    def __init__(self, host, port, timeout=None) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.sent: tuple | None = None
        self.closed = False
        FakeConnection.made.append(self)

    def request(self, method, target, body=None, headers=None):
        self.sent = (method, target, body, dict(headers or {}))

    def getresponse(self):
        return FakeHTTPResponse()

    def close(self):
        self.closed = True


class FakeHTTPResponse:
    status = 200

    def __init__(self) -> None:
        self.parts = [b"hello ", b"world", b""]

    def getheaders(self):
        return [("Content-Type", "text/plain"), ("Connection", "keep-alive"),
                ("Keep-Alive", "timeout=5"), ("Transfer-Encoding", "chunked"),
                ("Content-Length", "11"), ("X-Kept", "1")]

    def read1(self, n):
        return self.parts.pop(0)


def test_proxy_adds_basic_auth_and_drops_hop_by_hop_headers(trees, monkeypatch):
    monkeypatch.setattr(proxy.http.client, "HTTPConnection", FakeConnection)
    FakeConnection.made.clear()
    app = podapi.make_app("pod1", "proj", proxy.Upstream("127.0.0.1", 4096, "s3cret"), TOKEN,
                          trees=trees)
    resp = call(app, "PUT", "/config", {**BEARER, "Cookie": "a=b", "Connection": "close",
                                        "Te": "trailers", "Proxy-Authorization": "x",
                                        "X-Devaipod-Key": "the-browsers-key",
                                        "X-Keep": "k"}, body=b"{}")
    assert resp.code == 200 and resp.read() == b"hello world"
    [conn] = FakeConnection.made
    assert (conn.host, conn.port, conn.closed) == ("127.0.0.1", 4096, True)
    method, target, body, sent = conn.sent
    assert (method, target, body) == ("PUT", "/config", b"{}")
    expected = "Basic " + base64.b64encode(b"opencode:s3cret").decode()
    assert sent["Authorization"] == expected  # the pod's token is not passed on
    lowered = {k.lower() for k in sent}
    assert not lowered & {"cookie", "connection", "te", "proxy-authorization", "host",
                          "x-devaipod-key"}
    assert sent["X-Keep"] == "k"
    names = {k.lower() for k, _ in resp.headers}
    assert "x-kept" in names
    assert not names & {"connection", "keep-alive", "transfer-encoding"}


# --- the browser's ticket, cookie and key ------------------------------------------------

CONTROL_PLANE = "http://127.0.0.1:8080"


def ticket(pod: str = "pod1", until: float | None = None, **kwargs) -> str:
    import time

    from devaipod.http import browserauth

    return browserauth.ticket(TOKEN, pod, CONTROL_PLANE, until or time.time() + 3600, **kwargs)


def browser_login(app, value: str | None = None) -> tuple[str, str]:
    """Log in with a ticket: (the cookie "name=value", the key the login page holds)."""
    got = call(app, "GET", f"/_devaipod/login?ticket={value or ticket()}&next=/session/s1")
    assert got.code == 200, got.read()
    set_cookie = got.header("Set-Cookie")
    assert set_cookie.startswith("devaipod_pod_pod1=") and TOKEN not in set_cookie
    assert "httponly" in set_cookie.lower() and "samesite=strict" in set_cookie.lower()
    page = got.read().decode()
    key = re.search(r'<meta name="devaipod-key" content="([^"]+)">', page).group(1)
    assert '<meta name="devaipod-next" content="/session/s1">' in page
    assert "<script>" not in page and '<script src="/_devaipod/login.js">' in page
    policies = " ; ".join(v for k, v in got.headers if k.lower() == "content-security-policy")
    assert f"frame-ancestors {CONTROL_PLANE}" in policies and "script-src 'self'" in policies
    assert got.header("Cache-Control") == "no-store"
    return set_cookie.split(";", 1)[0], key


def test_the_cookie_without_the_key_is_refused(app, upstream):
    cookie, key = browser_login(app)
    assert call(app, "GET", "/session", {"Cookie": cookie}).code == 401
    assert call(app, "GET", "/session", {"Cookie": cookie, "X-Devaipod-Key": "x" * 32}).code \
        == 401
    assert call(app, "GET", "/session", {"X-Devaipod-Key": key}).code == 401
    assert upstream.calls == []
    ok = call(app, "GET", "/session", {"Cookie": cookie, "X-Devaipod-Key": key})
    assert ok.code == 200
    assert len(upstream.calls) == 1
    assert ok.header("Content-Security-Policy") == f"frame-ancestors {CONTROL_PLANE}"


def test_session_drives_the_proxy_but_not_from_another_origin(app, upstream):
    cookie, key = browser_login(app)
    creds = {"Cookie": cookie, "X-Devaipod-Key": key}
    ok = call(app, "POST", "/session", {**creds, "Origin": "http://h:1234", "Host": "h:1234"},
              b"{}")
    assert ok.code == 200 and upstream.calls
    refused = call(app, "POST", "/session", {**creds, "Origin": "http://h:8080",
                                             "Host": "h:1234"}, b"{}")
    assert refused.code == 403 and len(upstream.calls) == 1


def test_a_ticket_works_once(app):
    value = ticket()
    browser_login(app, value)
    again = call(app, "GET", f"/_devaipod/login?ticket={value}")
    assert again.code == 401 and again.header("Set-Cookie") is None


def test_wrong_or_expired_tickets_are_refused(app):
    import time

    for value in ("garbage", ticket(now=time.time() - 120), ticket(pod="pod2"),
                  ticket(until=time.time() - 1)):
        assert call(app, "GET", f"/_devaipod/login?ticket={value}").code == 401


def test_the_session_ends_with_the_control_planes(app, monkeypatch):
    import time

    cookie, key = browser_login(app, ticket(until=time.time() + 60))
    creds = {"Cookie": cookie, "X-Devaipod-Key": key}
    assert call(app, "GET", "/summary", creds).code != 401
    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)
    assert call(app, "GET", "/summary", creds).code == 401


def test_another_pods_session_is_not_this_pods(trees, upstream):
    other = podapi.make_app("pod2", "proj", upstream, TOKEN, trees=trees)
    cookie, key = browser_login(podapi.make_app("pod1", "proj", upstream, TOKEN, trees=trees))
    other_cookie = cookie.replace("devaipod_pod_pod1", "devaipod_pod_pod2")
    for sent in (cookie, other_cookie):
        assert call(other, "GET", "/session", {"Cookie": sent, "X-Devaipod-Key": key}).code \
            == 401


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil"])
def test_the_login_lands_on_this_sidecar_only(app, target):
    from urllib.parse import quote

    got = call(app, "GET", f"/_devaipod/login?ticket={ticket()}&next={quote(target)}")
    assert '<meta name="devaipod-next" content="/">' in got.read().decode()


def test_the_service_worker_is_public_and_may_control_the_whole_origin(app):
    got = call(app, "GET", "/_devaipod/sw.js")
    assert got.code == 200 and got.header("Service-Worker-Allowed") == "/"
    assert got.header("Content-Type").startswith("text/javascript")
    text = got.read().decode()
    assert "X-Devaipod-Key" in text and "self.location.origin" in text
    assert call(app, "GET", "/_devaipod/login.js").code == 200
    assert call(app, "GET", "/_devaipod/other.js").code == 401


def test_answers_to_the_cli_and_strangers_may_not_be_framed(app):
    for headers in ({}, BEARER):
        got = call(app, "GET", "/summary", headers)
        assert got.header("Content-Security-Policy") == "frame-ancestors 'none'"
        assert got.header("X-Content-Type-Options") == "nosniff"
