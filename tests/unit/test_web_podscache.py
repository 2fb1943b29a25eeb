"""GET /api/pods' cache: one look-up and one encoding per refresh, whatever the clients;
stale while revalidate (a read is answered from the list held while one refresh runs, but
waits after invalidate()); its ETag, and a 304 for a client that holds the answer."""

from __future__ import annotations

import json
import logging
import threading
from types import SimpleNamespace

import pytest

from devaipod.web import app as web_app
from devaipod.web import auth
from devaipod.web.app import PodsCache
from devaipod.workspace import lookup

from .test_web_auth import wsgi_call

BEARER = {"Authorization": "Bearer tok"}


class Rows:
    """A backend's `list`: call N lists one pod named after ``state`` at the time of the
    call; calls from ``block_from`` on wait for ``release`` (after setting ``started``)
    before they return, and a call whose number is in ``fail`` raises."""

    def __init__(self, block_from: int = 0, fail: tuple[int, ...] = ()) -> None:
        self.calls, self.state, self.block_from, self.fail = 0, "p", block_from, fail
        self.started, self.release = threading.Event(), threading.Event()

    def __call__(self) -> list:
        self.calls += 1
        row = {"name": f"{self.state}{self.calls}"}
        if self.block_from and self.calls >= self.block_from:
            self.started.set()
            assert self.release.wait(30)
        if self.calls in self.fail:
            raise RuntimeError(f"podman failed (call {self.calls})")
        return [SimpleNamespace(as_dict=lambda: row)]


def ended(cache: PodsCache, count: int) -> None:
    """Wait until ``count`` refreshes have ended (the 30 s are a bound, not a measure)."""
    with cache.changed:
        assert cache.changed.wait_for(lambda: cache.ended >= count, timeout=30)


def test_a_stale_list_is_answered_at_once_while_one_refresh_runs():
    rows = Rows(block_from=2)
    cache = PodsCache(ttl=-1, rows=rows)  # always stale
    assert cache.get() == [{"name": "p1"}]  # the first read waits: nothing to give yet
    for _ in range(20):  # the refresh is blocked: every read gets the list held
        assert cache.get() == [{"name": "p1"}]
        assert json.loads(cache.encoded()[0]) == [{"name": "p1"}]
    assert rows.started.wait(30)
    assert rows.calls == 2 and (cache.begun, cache.ended) == (2, 1)  # ONE refresh
    rows.release.set()
    ended(cache, 2)
    assert cache.get() == [{"name": "p2"}]


def test_at_most_one_refresh_per_ttl():
    rows = Rows()
    cache = PodsCache(ttl=3600, rows=rows)
    for _ in range(20):
        assert cache.get() == [{"name": "p1"}]
    assert rows.calls == 1 and cache.begun == 1


def test_after_invalidate_a_read_waits_for_a_refresh_begun_after_it():
    """An action changed the pods while a refresh was reading the list: that refresh's
    list may predate the change, the read after invalidate() must not get it."""
    rows = Rows(block_from=2)
    cache = PodsCache(ttl=-1, rows=rows)
    assert cache.get() == [{"name": "p1"}]
    assert cache.get() == [{"name": "p1"}]  # refresh 2 begins, reads "p", blocks
    assert rows.started.wait(30)
    rows.state = "new"  # the action
    cache.invalidate()
    got = []
    reader = threading.Thread(target=lambda: got.append(cache.get()))
    reader.start()
    rows.release.set()
    reader.join(30)
    assert got == [[{"name": "new3"}]] and rows.calls == 3


def test_a_failed_refresh_keeps_the_list_and_is_tried_again(caplog):
    rows = Rows(fail=(2,))
    cache = PodsCache(ttl=-1, rows=rows)
    assert cache.get() == [{"name": "p1"}]
    with caplog.at_level(logging.WARNING, logger="devaipod"):
        assert cache.get() == [{"name": "p1"}]  # refresh 2 runs, and fails
        ended(cache, 2)
    assert "podman failed (call 2)" in caplog.text
    assert cache.get() == [{"name": "p1"}]  # the list held; refresh 3 begins
    ended(cache, 3)
    assert cache.get() == [{"name": "p3"}] and cache.begun >= cache.ended


def test_a_failed_refresh_after_invalidate_answers_the_list_held():
    rows = Rows(fail=(2,))
    cache = PodsCache(ttl=3600, rows=rows)
    assert cache.get() == [{"name": "p1"}]
    cache.invalidate()
    assert cache.get() == [{"name": "p1"}]  # waited for refresh 2, which failed
    assert cache.ended == 2 and cache.begun == 2  # not refreshing forever


def test_a_first_read_that_fails_raises_and_the_next_one_reads_again():
    rows = Rows(fail=(1,))
    cache = PodsCache(ttl=3600, rows=rows)
    with pytest.raises(RuntimeError, match="call 1"):
        cache.get()
    assert cache.get() == [{"name": "p2"}]


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
    made = []
    monkeypatch.setattr(web_app, "PodsCache", lambda **kw: made.append(PodsCache(**kw))
                        or made[-1])
    app = web_app.make_app(auth.Auth("tok"))
    return app, row, made[0]


def test_the_list_leaves_the_labels_out(application):
    answer = wsgi_call(application[0], "/api/pods", BEARER)
    assert answer.code == 200
    assert answer.json() == [{k: v for k, v in ROW.items() if k != "labels"}]


def test_a_client_holding_the_answer_gets_a_304(application):
    app, row, cache = application
    first = wsgi_call(app, "/api/pods", BEARER)
    etag = first.header("ETag")
    assert first.code == 200 and etag and "no-cache" in first.header("Cache-Control")
    for held in (etag, f'W/{etag}', f'"other", {etag}', "*"):
        again = wsgi_call(app, "/api/pods", {**BEARER, "If-None-Match": held})
        assert (again.code, again.body, again.header("ETag")) == (304, b"", etag)
    assert wsgi_call(app, "/api/pods", {**BEARER, "If-None-Match": '"other"'}).code == 200
    # the same list read again has the same ETag; a new list is a new answer
    row["agent"] = "working"
    cache.invalidate()  # as an action does: the next read has the new list
    changed = wsgi_call(app, "/api/pods", {**BEARER, "If-None-Match": etag})
    assert changed.code == 200 and changed.json()[0]["agent"] == "working"
    assert changed.header("ETag") != etag


def test_no_304_without_login(application):
    etag = wsgi_call(application[0], "/api/pods", BEARER).header("ETag")
    assert wsgi_call(application[0], "/api/pods", {"If-None-Match": etag}).code == 401
