"""GET /api/pods' cache: one look-up and one encoding per refresh, whatever the clients."""

from __future__ import annotations

import json
from types import SimpleNamespace

from devaipod.web.app import PodsCache
from devaipod.workspace import lookup


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
        assert json.loads(cache.encoded()) == cache.get() == [{"name": "p1"}]
    assert reads == [True] and len(dumps) == 1
    cache.invalidate()
    assert json.loads(cache.encoded()) == [{"name": "p2"}] and len(dumps) == 2
