"""GET /api/pods' cache: one look-up and one encoding per refresh, whatever the clients;
its ETag, and a 304 for a client that holds the answer."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from devaipod.web import app as web_app
from devaipod.web import auth
from devaipod.web.app import PodsCache
from devaipod.workspace import lookup

from .test_web_auth import wsgi_call

BEARER = {"Authorization": "Bearer tok"}


def test_the_list_is_read_and_encoded_once_per_refresh(monkeypatch):
    reads = []

    def rows(agent=False):
        reads.append(agent)
        row = {"name": f"p{len(reads)}"}
        return [SimpleNamespace(as_dict=lambda: row)]

    monkeypatch.setattr(lookup, "rows", rows)
    dumps = []
    real = json.dumps
    monkeypatch.setattr(json, "dumps", lambda v, **k: dumps.append(v) or real(v, **k))
    cache = PodsCache(ttl=3600)
    for _ in range(20):
        assert json.loads(cache.encoded()[0]) == cache.get() == [{"name": "p1"}]
    assert reads == [True] and len(dumps) == 1
    first = cache.encoded()[1]
    cache.invalidate()
    body, etag = cache.encoded()
    assert json.loads(body) == [{"name": "p2"}] and len(dumps) == 2
    assert etag != first and etag == web_app.entity_tag(body)


ROW = {"name": "devaipod-a", "short": "a", "agent": "idle", "containers": {"agent": "running"},
       "labels": {"io.devaipod.task": "x" * 500}}


@pytest.fixture
def application(monkeypatch):
    row = dict(ROW)
    monkeypatch.setattr(lookup, "rows", lambda agent=False: [SimpleNamespace(
        as_dict=lambda: row)])
    # read each time
    monkeypatch.setattr(web_app, "PodsCache", lambda **kw: PodsCache(ttl=-1, **kw))
    return web_app.make_app(auth.Auth("tok")), row


def test_the_list_leaves_the_labels_out(application):
    answer = wsgi_call(application[0], "/api/pods", BEARER)
    assert answer.code == 200
    assert answer.json() == [{k: v for k, v in ROW.items() if k != "labels"}]


def test_a_client_holding_the_answer_gets_a_304(application):
    app, row = application
    first = wsgi_call(app, "/api/pods", BEARER)
    etag = first.header("ETag")
    assert first.code == 200 and etag and "no-cache" in first.header("Cache-Control")
    for held in (etag, f'W/{etag}', f'"other", {etag}', "*"):
        again = wsgi_call(app, "/api/pods", {**BEARER, "If-None-Match": held})
        assert (again.code, again.body, again.header("ETag")) == (304, b"", etag)
    assert wsgi_call(app, "/api/pods", {**BEARER, "If-None-Match": '"other"'}).code == 200
    # the same list read again has the same ETag; a new list is a new answer
    row["agent"] = "working"
    changed = wsgi_call(app, "/api/pods", {**BEARER, "If-None-Match": etag})
    assert changed.code == 200 and changed.json()[0]["agent"] == "working"
    assert changed.header("ETag") != etag


def test_no_304_without_login(application):
    etag = wsgi_call(application[0], "/api/pods", BEARER).header("ETag")
    assert wsgi_call(application[0], "/api/pods", {"If-None-Match": etag}).code == 401
