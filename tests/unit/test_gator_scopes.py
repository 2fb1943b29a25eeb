"""The gator's scope model, scope strings, and which pod gets which grants."""

from __future__ import annotations

import json

import pytest

from devaipod import config, errors, source
from devaipod.gator.scopes import OPS, ScopeError, Scopes, parse_flag, repo_grant
from devaipod.workspace import gator, plan
from devaipod.workspace.credentials import Partition


def test_upstream_defaults_apply_to_fields_left_out():
    s = Scopes.from_json({"scopes": {"gh": {"repos": {"o/r": {"read": True}}}}})
    assert s.repos["o/r"] == {"read": True, "create-draft": True, "pending-review": True,
                              "push-new-branch": False, "write": False}
    assert s.allows("o/r", "pending-review") and not s.allows("o/r", "push-new-branch")


@pytest.mark.parametrize(("granted", "op", "allowed"), [
    ("push-new-branch", "create-draft", True),  # push implies draft (upstream back-compat)
    ("push-new-branch", "read", True),
    ("create-draft", "push-new-branch", False),
    ("pending-review", "create-draft", False),
    ("write", "pending-review", True),
    ("read", "write", False),
])
def test_implications(granted, op, allowed):
    s = Scopes(repos={"o/r": repo_grant(granted)})
    assert s.allows("o/r", op) is allowed


def test_exact_key_beats_pattern_and_longest_prefix_wins():
    s = Scopes(repos={"o/*": repo_grant("write"), "o/ro": repo_grant(),
                      "*": repo_grant(), "o/pre*": repo_grant("push-new-branch")})
    assert s.allows("o/any", "write")
    assert not s.allows("o/ro", "write")  # exact entry wins over o/*
    assert s.allows("o/prefix", "push-new-branch") and not s.allows("o/prefix", "write")
    assert s.allows("x/y", "read") and not s.allows("x/y", "create-draft")
    assert not Scopes(repos={"*/*": repo_grant()}).allows("a/b", "read")  # upstream: literal


def test_item_grant_allows_a_write_on_that_pull_request_only():
    s = Scopes(repos={"o/r": repo_grant()}, prs={"o/r#7": {"read": True, "write": True}})
    assert s.allows_item("o/r", "pulls", 7, "write")
    assert not s.allows_item("o/r", "pulls", 8, "write")
    assert not s.allows_item("o/r", "issues", 7, "write")


def test_global_read_and_readonly_view():
    s = Scopes(gh_read=True, repos={"o/r": repo_grant("write")},
               prs={"o/r#1": {"read": True, "write": True}})
    assert s.allows("any/repo", "read") and not s.allows("any/repo", "write")
    ro = s.readonly()
    assert ro.allows("o/r", "read") and not any(ro.allows("o/r", op) for op in OPS[1:])
    assert not ro.allows_item("o/r", "pulls", 1, "write")


def test_round_trip_and_describe():
    s = Scopes(gh_read=True, repos={"o/r": repo_grant("push-new-branch")})
    again = Scopes.from_json(json.loads(json.dumps(s.to_json())))
    assert again == s
    assert again.describe() == ["github:read-all", "github:o/r:read,push-new-branch"]
    assert Scopes().describe() == [] and Scopes().empty


@pytest.mark.parametrize("doc", [
    [], {"gh": []}, {"gh": {"repos": {"o/r": {"reed": True}}}},
    {"gh": {"repos": {"o/r": {"read": "yes"}}}}, {"gh": {"prs": {"o/r": {"read": True}}}},
    {"gh": {"graphql": "write"}},
])
def test_bad_documents_are_refused(doc):
    with pytest.raises(ScopeError):
        Scopes.from_json(doc)


@pytest.mark.parametrize(("text", "repo", "granted"), [
    ("github:o/r", "o/r", {"read"}),
    ("gh:o/r:draft,push", "o/r", {"read", "create-draft", "push-new-branch"}),
    ("github:o/*:write", "o/*", {"read", "write"}),
    ("github:o/r:review", "o/r", {"read", "pending-review"}),
])
def test_parse_flag(text, repo, granted):
    got_repo, perms = parse_flag(text)
    assert got_repo == repo and {k for k, v in perms.items() if v} == granted


def test_parse_flag_global_read_and_errors():
    assert parse_flag("github:read-all") == (None, None)
    assert parse_flag("github:readonly-all") == (None, None)
    for bad, why in [("jira:P", "only GitHub scopes"), ("github:o", "not OWNER/REPO"),
                     ("github:o/r:fly", "unknown permission"), ("o/r", "expected")]:
        with pytest.raises(ScopeError, match=why):
            parse_flag(bad)


def _cfg(text: str = ""):
    return config.parse_config(text, "test.toml").service_gator


GH = source.parse("https://github.com/octo/hello")
OTHER = source.parse("git://gitserver/repo.git")


def test_github_source_gets_the_automatic_grant():
    s = gator.plan_scopes(_cfg(), GH)
    assert s.repos == {"octo/hello": repo_grant(*gator.AUTO)}
    assert gator.plan_scopes(_cfg(), GH, readonly=True).repos["octo/hello"] == repo_grant()


def test_no_gator_without_grants_or_when_disabled():
    assert gator.plan_scopes(_cfg(), OTHER) is None
    assert gator.plan_scopes(_cfg("[service-gator]\nenabled = false\n"), GH) is None
    enabled = gator.plan_scopes(_cfg("[service-gator]\nenabled = true\n"), OTHER)
    assert enabled is not None and enabled.empty


def test_flags_replace_the_automatic_grant_and_add_to_the_config():
    cfg = _cfg('[service-gator.gh.repos]\n"a/b" = { read = true, write = true }\n')
    s = gator.plan_scopes(cfg, GH, ("github:x/y:push",))
    assert set(s.repos) == {"a/b", "x/y"}
    assert s.repos["a/b"]["write"] and s.repos["x/y"]["push-new-branch"]
    # a flag even overrides enabled = false
    off = _cfg("[service-gator]\nenabled = false\n")
    assert gator.plan_scopes(off, OTHER, ("github:read-all",)).gh_read
    with pytest.raises(errors.DevaipodError, match="only GitHub"):
        gator.plan_scopes(_cfg(), GH, ("jira:PROJ",))


def test_configured_github_enterprise_host_counts_as_github():
    cfg = _cfg('[service-gator.gh]\nurl = "http://forge:8000"\n')
    src = source.parse("http://forge:8000/owner/repo")
    assert gator.plan_scopes(cfg, src).repos == {"owner/repo": repo_grant(*gator.AUTO)}
    assert gator.forge_env(cfg) == {"SERVICE_GATOR_GITHUB_URL": "http://forge:8000",
                                    "SERVICE_GATOR_GITLAB_URL": "https://gitlab.com",
                                    "SERVICE_GATOR_FORGEJO_URL": "https://codeberg.org"}


def _inputs(**kw) -> plan.Inputs:
    return plan.Inputs(pod="devaipod-hello-abc123", source=GH, image="img", api_image="api",
                       creds=Partition(env={"gator": {"GH_USER": "me"}},
                                       flags={"gator": [["--secret", "s1,type=mount"]]}),
                       **kw)


def test_plan_with_a_gator():
    scopes = Scopes(repos={"octo/hello": repo_grant("push-new-branch")})
    p = plan.build(_inputs(gator=scopes, gator_image="gimg"), "pw", "tok")
    names = [c.name for c in p.containers]
    assert names == [f"{p.pod}-workspace", f"{p.pod}-agent", f"{p.pod}-gator", f"{p.pod}-api"]
    g = p.containers[2]
    assert g.image == "gimg" and g.env["GH_USER"] == "me" and ["--secret", "s1,type=mount"] \
        in g.secrets
    assert f"{p.pod}-gator:{gator.SCOPE_DIR}:ro" in g.mounts
    assert "127.0.0.1:8765" in g.command and "--read-only-server" not in g.command
    assert f"{p.pod}-gator" in p.volumes
    # only the gator mounts the grants' volume
    others = [m for c in p.containers if c is not g for m in c.mounts]
    assert not any(m.startswith(f"{p.pod}-gator:") for m in others)
    init = next(s for s in p.init if s.name.endswith("-init-gator"))
    assert json.loads(init.command[-1]) == scopes.to_json() and init.network == "none"
    oc = json.loads(p.secrets[f"{p.pod}-opencode-config"])
    assert oc["mcp"]["service-gator"]["url"] == "http://127.0.0.1:8765/mcp"
    assert oc["instructions"] == ["/home/devenv/.config/opencode/devaipod-gator.md"]
    assert p.labels["io.devaipod.service-gator"] == "github:octo/hello:read,push-new-branch"


def test_plan_without_a_gator_and_worker_modes():
    p = plan.build(_inputs(), "pw", "tok")
    assert not any(c.name.endswith("-gator") for c in p.containers)
    assert "mcp" not in json.loads(p.secrets[f"{p.pod}-opencode-config"])
    for mode, url in [("readonly", "http://127.0.0.1:8766/mcp"),
                      ("inherit", "http://127.0.0.1:8765/mcp"), ("none", None)]:
        p = plan.build(_inputs(gator=Scopes(), orchestration=True, worker_gator=mode), "", "")
        worker = json.loads(p.secrets[f"{p.pod}-worker-opencode-config"])
        assert (worker.get("mcp") or {}).get("service-gator", {}).get("url") == url
        g = next(c for c in p.containers if c.name.endswith("-gator"))
        assert ("--read-only-server" in g.command) is (mode == "readonly")
