"""`devaipod gator revoke` and `gator set` (and the web's, which calls the same)."""

from __future__ import annotations

import json

import bottle
import pytest

from devaipod import errors, layout
from devaipod.gator.scopes import Scopes, repo_grant
from devaipod.web import actions
from devaipod.workspace import gator

HELD = gator.with_flags(Scopes(gitlab_host="gl.example", graphql="read"), [
    "github:read-all", "github:o/r:read,push", "github:o/other", "gitlab:g/p:read",
    "forgejo:f/r:read"])
HELD = Scopes.from_json({"scopes": {**HELD.to_json()["scopes"], "gh": {
    **HELD.to_json()["scopes"]["gh"], "prs": {"o/r#4": {"read": True, "write": True}}}}})


def test_revoke_takes_back_a_line_of_gator_show():
    lines = HELD.describe()
    assert "github:o/r:read,push-new-branch" in lines
    left = gator.without(HELD, ["github:o/r:read,push-new-branch"])
    assert "o/r" not in left.repos and "o/other" in left.repos
    assert not left.allows("o/r", "push-new-branch") and left.allows("o/r", "read")  # read-all


def test_revoke_by_scope_without_permissions_and_every_kind():
    left = gator.without(HELD, ["github:o/r", "github:read-all", "gl:g/p",
                                "forgejo:f/r:read", "github:pr o/r#4:read,write"])
    assert left.describe() == ["github:o/other:read"]
    assert not left.allows("o/r", "read") and not left.allows_item("o/r", "pulls", 4, "write")
    assert left.gitlab_host == "gl.example" and left.graphql == "read"


@pytest.mark.parametrize("grant", ["github:o/nope", "gitlab:o/r", "jira:X", "github:read-all"])
def test_revoking_what_is_not_held_is_an_error(grant):
    held = gator.without(HELD, ["github:read-all"]) if grant == "github:read-all" else HELD
    with pytest.raises(errors.DevaipodError, match="has no grant"):
        gator.without(held, [grant], "w")


def test_set_replaces_every_grant(monkeypatch):
    written = []
    monkeypatch.setattr(gator, "read", lambda pod: HELD)
    monkeypatch.setattr(gator, "write", lambda pod, scopes: written.append(scopes))
    now = gator.replace_all("devaipod-w", ["github:o/new:read"])
    assert now.describe() == ["github:o/new:read"] and written == [now]
    assert now.repos == {"o/new": repo_grant("read")} and now.gitlab_host == "gl.example"
    assert gator.replace_all("devaipod-w", []).empty
    revoked = gator.revoke("devaipod-w", ["github:o/other"])
    assert "o/other" not in revoked.repos and written[-1] == revoked


@pytest.mark.parametrize(("body", "expected"), [
    ({"add": ["github:o/r:read"]}, ("add", ["github:o/r:read"])),
    ({"revoke": [" github:o/r:read "]}, ("revoke", ["github:o/r:read"])),
    ({"set": []}, ("set", [])),
])
def test_the_web_names_the_change(body, expected):
    assert actions.gator_change(body) == expected


@pytest.mark.parametrize(("body", "message"), [
    ({}, "give one of"), ({"add": []}, "give one of"), ({"revoke": "x"}, "give one of"),
    ({"add": ["a"], "set": ["b"]}, "give one of"), ({"set": ["jira:X"]}, "only GitHub"),
])
def test_the_web_refuses_a_bad_change(body, message):
    with pytest.raises(bottle.HTTPResponse) as raised:
        actions.gator_change(body)
    assert message in json.loads(raised.value.body)["error"]


def test_the_web_changes_through_the_clis_functions(monkeypatch):
    from devaipod.podman import pod

    monkeypatch.setattr(pod, "inspect", lambda name: {"Labels": {layout.GATOR: "x"}})
    calls = []
    for name in ("add", "revoke", "replace_all"):
        monkeypatch.setattr(gator, name, lambda pod, values, n=name: calls.append(n) or HELD)
    for change in ("add", "revoke", "set"):
        assert actions.gator("devaipod-w", change, ["x"])["grants"] == HELD.describe()
    assert calls == ["add", "revoke", "replace_all"]


# --- the pod page's "update available" (workspace.rebuild.update_state) -------------------


@pytest.mark.parametrize(("image_from", "default", "configured", "update"), [
    ("option", None, "sha256:aaa", False),  # the same image
    ("option", None, "sha256:bbb", True),  # the tag now names a newer image
    ("devcontainer", None, None, False),  # not on this machine: not known
    ("default", "img:1", "sha256:aaa", False),
    ("default", "img:2", "sha256:aaa", True),  # default-image changed in the config
])
def test_update_compares_the_agents_image_with_the_configured_one(
        monkeypatch, image_from, default, configured, update):
    from devaipod.config_schema import Config
    from devaipod.podman import container, image, pod
    from devaipod.workspace import rebuild

    labels = layout.write_labels({"image": "img:1", "image-from": image_from})
    monkeypatch.setattr(pod, "inspect", lambda name: {"Labels": labels})
    monkeypatch.setattr(container, "inspect", lambda names: [{"Image": "sha256:aaa"}])

    def inspect(ref):
        if configured is None:
            raise errors.NotFound(["podman"], 125, "no such image")
        return {"Id": configured}

    monkeypatch.setattr(image, "inspect", inspect)
    monkeypatch.delenv("DEVAIPOD_DEFAULT_IMAGE", raising=False)
    state = rebuild.update_state("devaipod-w", Config(default_image=default))
    assert state["update"] is update
    assert state["running"] == "sha256:aaa" and bool(state["reason"]) is update


def test_allow_workflows_is_revoked_and_cleared_like_any_grant():
    from devaipod.workspace.gator import cleared, with_flags, without

    scopes = with_flags(Scopes(), ["github:owner/repo:read,allow-workflows"])
    assert "github:owner/repo:allow-workflows" in scopes.describe()
    less = without(scopes, ["github:owner/repo:allow-workflows"])
    assert less.policy.allow_workflows == () and "owner/repo" in less.repos
    assert cleared(scopes).policy.allow_workflows == ()
