"""Each gator endpoint answers only its own client: bearer tokens, and who gets which."""

from __future__ import annotations

import json

import anyio
import pytest

from devaipod.gator import auth, server
from devaipod.gator.forge import GitHub
from devaipod.gator.scopes import Scopes

TOKEN = "full-endpoint-token-0123456789"


@pytest.mark.parametrize(("header", "ok"), [
    (f"Bearer {TOKEN}", True),
    (f"bearer   {TOKEN} ", True),
    (None, False),
    ("", False),
    ("Bearer", False),
    (f"Basic {TOKEN}", False),
    (f"token {TOKEN}", False),
    (f"Bearer {TOKEN}x", False),
    (f"Bearer {TOKEN[:-1]}", False),
    ("Bearer other-token-0123456789", False),
])
def test_authorized(header, ok):
    assert auth.authorized(header, TOKEN) is ok


def test_no_token_authorizes_nothing():
    assert not auth.authorized("Bearer ", "")
    with pytest.raises(ValueError):
        auth.BearerGate(lambda *a: None, "")


def test_read_token(tmp_path):
    path = tmp_path / "token"
    path.write_text(TOKEN + "\n")
    assert auth.read_token(str(path)) == TOKEN
    path.write_text("short")
    with pytest.raises(ValueError, match="shorter"):
        auth.read_token(str(path))
    with pytest.raises(ValueError, match="cannot read"):
        auth.read_token(str(tmp_path / "missing"))


def asgi(app, path: str, headers: dict[str, str] | None = None, method: str = "GET"):
    """(status, body) of one request to the ASGI APP."""
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "server": ("127.0.0.1", 8765),
             "client": ("127.0.0.1", 5000),
             "headers": [(b"host", b"127.0.0.1:8765")] + [
                 (k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]}
    anyio.run(app, scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], body


def test_the_gate_stops_requests_without_the_token():
    seen = []

    async def inner(scope, receive, send):
        seen.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    gate = auth.BearerGate(inner, TOKEN)
    for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"},
                    {"Authorization": f"Basic {TOKEN}"}):
        assert asgi(gate, "/mcp", headers, "POST")[0] == 401
        assert asgi(gate, "/.well-known/oauth-protected-resource", headers)[0] == 401
    assert seen == []
    assert asgi(gate, "/mcp", {"Authorization": f"Bearer {TOKEN}"}, "POST") == (200, b"ok")
    assert asgi(gate, "/healthz") == (200, b"ok")
    assert seen == ["/mcp", "/healthz"]


def test_the_gators_app_is_behind_the_gate():
    app = server.app(lambda: Scopes(), GitHub(token=None), True, TOKEN, "127.0.0.1")
    status, body = asgi(app, "/mcp", {}, "POST")
    assert status == 401 and b"bearer token" in body
    status, body = asgi(app, "/healthz")
    assert status == 200 and json.loads(body) == {"ok": True, "readonly": True}


def test_service_gator_needs_a_token_of_its_own_per_endpoint(tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_text(TOKEN)
    b.write_text(TOKEN)
    scope = ["--scope-file", str(tmp_path / "scopes.json")]
    cases = [
        ([], "--token-file"),
        (["--token-file", str(tmp_path / "missing")], "cannot read"),
        (["--token-file", str(a), "--read-only-server", "127.0.0.1:1"], "go together"),
        (["--token-file", str(a), "--read-only-server", "127.0.0.1:1",
          "--read-only-token-file", str(b)], "a token of its own"),
    ]
    for args, why in cases:
        with pytest.raises(SystemExit):
            server.main(["--mcp-server", "127.0.0.1:1", *scope, *args])
        assert why in capsys.readouterr().err
