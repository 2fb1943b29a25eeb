"""The web form's fields become a `devaipod up|run` command line."""

from __future__ import annotations

import json
import sys

import bottle
import pytest

from devaipod.web import actions, jobs


def test_gator_scopes_become_service_gator_flags():
    spec = actions.creation_spec({"source": "https://github.com/o/r", "mode": "up",
                                  "gator": ["github:o/r:read,draft", " github:read-all "]})
    assert spec["gator"] == ["github:o/r:read,draft", "github:read-all"]
    assert jobs.creation_argv(spec) == [
        sys.executable, "-m", "devaipod", "up", "--service-gator", "github:o/r:read,draft",
        "--service-gator", "github:read-all", "--", "https://github.com/o/r"]


@pytest.mark.parametrize(("gator", "message"), [
    (["gitlab:g/p"], "only GitHub scopes"),
    (["github:o/r:fly"], "unknown permission"),
    ("github:o/r", "expected a list"),
])
def test_bad_scopes_are_a_400_with_the_reason(gator, message):
    with pytest.raises(bottle.HTTPResponse) as raised:
        actions.creation_spec({"source": "https://github.com/o/r", "mode": "up",
                               "gator": gator})
    assert raised.value.status_code == 400
    assert message in json.loads(raised.value.body)["error"]


def test_orchestration_is_refused_with_where_to_set_it():
    with pytest.raises(bottle.HTTPResponse) as raised:
        actions.creation_spec({"source": "x", "mode": "up", "orchestration": True})
    assert "[orchestration] enabled" in json.loads(raised.value.body)["error"]
