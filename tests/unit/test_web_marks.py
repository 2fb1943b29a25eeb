"""The control plane's title and prune routes, in process: the same library functions as
`devaipod title` and `devaipod prune`, behind the same login as every API route."""

from __future__ import annotations

import json

import pytest

from devaipod.web import app as web_app
from devaipod.workspace import lifecycle, lookup, remove

from .test_web_auth import clock, gate, login, wsgi_call  # noqa: F401

BEARER = {"Authorization": "Bearer the-right-token", "Content-Type": "application/json"}


def row(name: str, done: bool) -> lookup.Row:
    return lookup.Row(name=name, short=name.removeprefix("devaipod-"), status="Running",
                      mode="up", repo="r", source="s", task="t", title=f"title of {name}",
                      created="", done=done, containers={}, labels={})


@pytest.fixture
def did(monkeypatch):
    """Three workspaces, two of them done; what the routes did to them."""
    did: dict[str, list] = {"purged": [], "volumes": []}
    rows = [row("devaipod-a", True), row("devaipod-b", False), row("devaipod-c", True)]
    monkeypatch.setattr(lookup, "rows", lambda agent=False: rows)
    monkeypatch.setattr(lookup, "resolve", lambda name, latest=False: f"devaipod-{name}")
    monkeypatch.setattr(remove, "purge", lambda name, **_: did["purged"].append(name))
    monkeypatch.setattr(lifecycle.volume, "rm", lambda names, force=False: None)
    monkeypatch.setattr(lifecycle.volume, "create",
                        lambda name, labels: did["volumes"].append((name, labels)))
    return did


@pytest.fixture
def call(gate):  # noqa: F811
    application = web_app.make_app(gate)

    def send(path, method="GET", body=None, headers=BEARER):
        data = json.dumps(body).encode() if body is not None else b""
        return wsgi_call(application, path, headers, method=method, body=data)
    return send


def test_a_title_is_set_through_set_title(call, did):
    answer = call("/api/pods/x/title", "PUT", {"title": "  fix   the login  "})
    assert answer.code == 200 and answer.json() == {"ok": True, "title": "fix the login"}
    [(volume, labels)] = did["volumes"]
    assert "devaipod-x" in volume and "fix the login" in labels.values()


@pytest.mark.parametrize("body", [{"title": "red \x1b[31m"}, {"title": "x" * 201},
                                  {"title": 3}, {}, ["title"]])
def test_a_bad_title_is_a_400_with_the_reason(call, did, body):
    answer = call("/api/pods/x/title", "PUT", body)
    assert answer.code == 400 and answer.json()["error"]
    assert did["volumes"] == []


def test_prune_lists_the_done_workspaces(call, did):
    answer = call("/api/prune")
    assert answer.code == 200
    assert [w["name"] for w in answer.json()] == ["devaipod-a", "devaipod-c"]
    assert answer.json()[0]["title"] == "title of devaipod-a"
    assert did["purged"] == []


def test_prune_deletes_only_names_still_done(call, did):
    answer = call("/api/prune", "POST", {"names": ["devaipod-a", "devaipod-b", "devaipod-z"]})
    assert answer.code == 200 and answer.json() == {"pruned": ["devaipod-a"]}
    assert did["purged"] == ["devaipod-a"]  # b is not done, z is not there, c not asked


@pytest.mark.parametrize("body", [{}, {"names": "devaipod-a"}, {"names": [1]}, None])
def test_prune_without_a_list_of_names_deletes_nothing(call, did, body):
    assert call("/api/prune", "POST", body).code == 400
    assert did["purged"] == []


def test_the_cli_prunes_the_same_selection(did):
    assert lifecycle.prune() == ["devaipod-a", "devaipod-c"]
    assert did["purged"] == ["devaipod-a", "devaipod-c"]


@pytest.mark.parametrize(("method", "path", "body"), [
    ("PUT", "/api/pods/x/title", {"title": "t"}),
    ("GET", "/api/prune", None),
    ("POST", "/api/prune", {"names": ["devaipod-a"]}),
])
def test_the_routes_need_the_cookie_and_the_key_and_this_origin(call, did, method, path,
                                                                 body):
    json_type = {"Content-Type": "application/json"}
    assert call(path, method, body, json_type).code == 401
    cookie, key = login(lambda login_path: call(login_path, headers={}))
    assert call(path, method, body, {**json_type, "Cookie": cookie}).code == 401
    assert call(path, method, body, {**json_type, "X-Devaipod-Key": key}).code == 401
    if method != "GET":
        evil = {**json_type, "Cookie": cookie, "X-Devaipod-Key": key, "Origin": "http://evil:1"}
        assert call(path, method, body, evil).code == 403
    assert did["purged"] == [] and did["volumes"] == []  # refused did nothing
    both = {**json_type, "Cookie": cookie, "X-Devaipod-Key": key}
    assert call(path, method, body, both).code == 200
