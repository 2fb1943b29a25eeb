"""The gator's GitLab and Forgejo tools (gl, forgejo, git_push_local) through its MCP
server, against the fake forge (its /api/v4 and /api/v1), and their scope grammar."""

from __future__ import annotations

import json

import pytest

from devaipod.gator import branches, server
from devaipod.gator.forge import ForgeError, GitHub
from devaipod.gator.otherforge import Forgejo, GitLab, forgejo_endpoint, gitlab_endpoint
from devaipod.gator.scopes import GL_OPS, ScopeError, Scopes, parse_scope, repo_grant
from devaipod.workspace import gator as gator_
from unit.test_gator_tools import TOKEN, agent_tree, forge, git, run_async  # noqa: F401

GL = Scopes(gitlab={"acme/widget": repo_grant("create-draft", "push-new-branch", ops=GL_OPS)})
FJ = Scopes(forgejo={"acme/widget": repo_grant("create-draft", "push-new-branch")})
READ = Scopes(gitlab={"acme/widget": repo_grant(ops=GL_OPS)},
              forgejo={"acme/widget": repo_grant()})


def call(scopes: Scopes, where: dict, tool: str, args: dict, token: str = TOKEN):
    """(is_error, text) of one tool call; GitLab and Forgejo are the fake forge WHERE."""
    from mcp.client.client import Client

    others: dict[str, GitHub] = {"gitlab": GitLab(web=where["url"], token=token),
                                 "forgejo": Forgejo(web=where["url"], token=token)}
    srv = server.build(lambda: scopes, GitHub(token=None), False, others)

    async def go():
        async with Client(srv) as client:
            result = await client.call_tool(tool, args)
            return result.is_error, "".join(c.text for c in result.content)

    return run_async(go)


def test_scope_strings_and_the_document():
    assert parse_scope("gitlab:grp/sub/proj:push,draft") == (
        "gitlab", "grp/sub/proj", {"read": True, "create-draft": True, "approve": False,
                                   "push-new-branch": True, "write": False})
    assert parse_scope("forgejo:o/r:review")[2]["pending-review"]
    assert parse_scope("github:o/r:read")[:2] == ("github", "o/r")
    for bad, why in [("gitlab:g/p:review", "unknown permission"), ("forgejo:a/b/c", "not"),
                     ("gitlab:g/../p", "not"), ("gitlab:g", "not"), ("jira:P", "only")]:
        with pytest.raises(ScopeError, match=why):
            parse_scope(bad)
    s = gator_.with_flags(Scopes(), ["gitlab:g/p:push", "forgejo:o/r"])
    assert s.describe() == ["gitlab:g/p:read,push-new-branch", "forgejo:o/r:read"]
    again = Scopes.from_json(json.loads(gator_.document(s)))
    assert again.gitlab == s.gitlab and again.forgejo == s.forgejo and not again.empty
    assert again.allows("g/p", "create-draft", "gitlab")  # upstream: push implies draft
    assert not again.allows("g/p", "write", "gitlab") and not again.allows("g/p", "read")
    assert not again.allows("o/r", "push-new-branch", "forgejo")
    assert again.readonly().describe() == ["gitlab:g/p:read", "forgejo:o/r:read"]
    # upstream's forms: fields default to false, forgejo is a list of hosts
    up = Scopes.from_json({"gitlab": {"projects": {"g/p": {"approve": True}}},
                           "forgejo": [{"host": "codeberg.org",
                                        "repos": {"o/r": {"write": True}}}]})
    assert up.allows("g/p", "read", "gitlab") and not up.allows("g/p", "create-draft", "gitlab")
    assert up.allows("o/r", "push-new-branch", "forgejo") and up.forgejo_host == "codeberg.org"
    with pytest.raises(ScopeError):
        Scopes.from_json({"forgejo": [{"host": "a"}, {"host": "b"}]})


def test_a_gitlab_or_forgejo_source_gets_the_automatic_grant():
    from devaipod import config, source

    sg = config.parse_config('[service-gator.forgejo]\nurl = "https://git.example"\n',
                             "t.toml").service_gator
    gl = source.parse("https://gitlab.com/grp/sub/proj")
    fj = source.parse("https://git.example/o/r", forge_kinds={"git.example": "forgejo"})
    assert gator_.plan_scopes(sg, gl).gitlab == {
        "grp/sub/proj": repo_grant(*gator_.AUTO, ops=GL_OPS)}
    assert gator_.plan_scopes(sg, fj, readonly=True).forgejo == {"o/r": repo_grant()}
    assert gator_.forge_env(sg)["SERVICE_GATOR_FORGEJO_URL"] == "https://git.example"
    other = source.parse("https://codeberg.org/o/r")  # not the configured Forgejo
    assert gator_.plan_scopes(sg, other) is None


@pytest.mark.parametrize(("endpoint", "want"), [
    ("projects/grp%2Fsub%2Fproj/merge_requests?state=opened",
     ("grp/sub/proj", "projects/grp%2Fsub%2Fproj/merge_requests?state=opened")),
    ("/api/v4/projects/g%2fp", ("g/p", "projects/g%2Fp")),
])
def test_gitlab_endpoints(endpoint, want):
    assert gitlab_endpoint(endpoint) == want


@pytest.mark.parametrize("endpoint", [
    "projects/1/merge_requests", "projects/g%2F..%2Fother", "projects/g%252Fp",
    "projects/g%2Fp/../../other%2Fp", "projects/g%2Fp/x%2Fy", "https://evil/projects/g%2Fp",
    "user", "projects/g/p", "groups/g/projects",
])
def test_gitlab_endpoint_refusals(endpoint):
    with pytest.raises(ForgeError, match="refused"):
        gitlab_endpoint(endpoint)


def test_forgejo_endpoints():
    assert forgejo_endpoint("/api/v1/repos/o/r/pulls?state=all") == (
        "o/r", "repos/o/r/pulls?state=all")
    for bad in ("repos/o/%2e%2e/x", "/api/v1/user", "repos/o/r/../../x/y", "//evil/repos/o/r"):
        with pytest.raises(ForgeError, match="refused"):
            forgejo_endpoint(bad)


def test_reads_check_the_project_and_send_the_token_as_a_header(forge):  # noqa: F811
    err, text = call(READ, forge, "gl", {"args": ["api", "projects/acme%2Fwidget", "--jq",
                                                  ".path_with_namespace"]})
    assert not err and text.strip() == "acme/widget", text
    err, text = call(READ, forge, "forgejo", {"args": ["api", "/api/v1/repos/acme/widget"]})
    assert not err and json.loads(text)["full_name"] == "acme/widget", text
    for tool, args, why in [
            ("gl", ["api", "projects/acme%2Fother"], "no read permission on gitlab:acme/other"),
            ("gl", ["api", "projects/acme%2Fwidget", "-X", "POST"], "read only"),
            ("gl", ["repo", "view"], "only the api subcommand"),
            ("forgejo", ["api", "/api/v1/repos/acme/other"], "no read permission"),
            ("forgejo", ["api", "repos/acme/widget/pulls", "--method", "DELETE"], "read only")]:
        err, text = call(READ, forge, tool, {"args": args})
        assert err and why in text, (args, text)
    err, text = call(READ, forge, "forgejo", {"args": ["api", "repos/acme/widget"],
                                              "host": "evil.example"})
    assert err and "not this gator's Forgejo" in text
    err, text = call(Scopes(), forge, "gl", {"args": ["api", "projects/acme%2Fwidget"]})
    assert err and "no read permission" in text


@pytest.mark.parametrize(("scopes", "target", "title"), [
    (GL, "gitlab:acme/widget", "Draft: Fix"), (FJ, "forgejo:acme/widget", "WIP: Fix")])
def test_push_local_pushes_and_opens_a_draft(forge, agent_tree, scopes, target, title):  # noqa: F811
    sha = git("rev-parse", "HEAD", cwd=agent_tree)
    args = {"repo_path": str(agent_tree), "commit_sha": sha, "target": target,
            "description": "fix", "create_draft": True, "base": "main", "title": "Fix"}
    err, text = call(scopes, forge, "git_push_local", args)
    assert not err and "Pushed" in text and "Draft" in text, text
    assert git("rev-parse", "refs/heads/agent-fix", cwd=forge["bare"]) == sha
    err, text = call(scopes, forge, "gl" if "gitlab" in target else "forgejo", {"args": [
        "api", "projects/acme%2Fwidget/merge_requests" if "gitlab" in target
        else "repos/acme/widget/pulls"]})
    made = json.loads(text)[0]
    assert made["title"] == title
    assert (made.get("description") or made.get("body")) == \
        f"{branches.PR_MARKER}\nLonger explanation."
    err, again = call(scopes, forge, "git_push_local", args)  # the same: no second request
    assert not err and "Updated request" in again, again


def test_push_local_refusals(forge, agent_tree):  # noqa: F811
    sha = git("rev-parse", "HEAD", cwd=agent_tree)
    base = {"repo_path": str(agent_tree), "commit_sha": sha, "description": "x"}
    for scopes, target, why in [
            (READ, "gitlab:acme/widget", "no push-new-branch permission"),
            (READ, "forgejo:acme/widget", "no push-new-branch permission"),
            (GL, "gitlab:acme/other", "no push-new-branch permission"),
            (GL, "github:acme/widget", "use github_push"),
            (GL, "gitlab:acme/../widget", "expected gitlab:")]:
        err, text = call(scopes, forge, "git_push_local", {**base, "target": target})
        assert err and why in text, (target, text)
    # a merge request the gator did not open has agent-x as its source: refused
    git("push", "-q", str(forge["bare"]), f"{sha}:refs/heads/agent-x", cwd=agent_tree)
    mine = {"source_branch": "agent-x", "target_branch": "main", "title": "human's"}
    GitLab(web=forge["url"], token=TOKEN).call(
        "POST", "projects/acme%2Fwidget/merge_requests", mine)
    err, text = call(GL, forge, "git_push_local", {**base, "target": "gitlab:acme/widget"})
    assert err and "not opened through the gator" in text
    assert git("for-each-ref", "--format=%(refname)", "refs/heads/agent-*",
               cwd=forge["bare"]) == "refs/heads/agent-x"


def test_the_source_check_reads_every_page():
    from devaipod.gator import othertools, tools

    class Pages(GitHub):
        def call(self, method, path, body=None):
            page = int(path.rsplit("page=", 1)[1])
            if page < 3:
                return [{"number": n, "head": {"ref": "other"}} for n in range(50)]
            return [{"number": 999, "head": {"ref": "agent-x"}, "body": "by a human"}]

    gate = tools.Gate(lambda: FJ, GitHub(token=None), others={"forgejo": Pages(token=None)})
    found = othertools._requests_with_source(gate, "forgejo", "acme/widget", "agent-x")
    assert [f["number"] for f in found] == [999]

    class Endless(Pages):
        def call(self, method, path, body=None):
            return [{"number": n, "head": {"ref": "other"}} for n in range(50)]

    gate.others["forgejo"] = Endless(token=None)
    with pytest.raises(ForgeError, match="more than"):
        othertools._requests_with_source(gate, "forgejo", "acme/widget", "agent-x")


GL_NOTES = Scopes(gitlab={"acme/widget": repo_grant("create-draft", ops=GL_OPS)})
FJ_REVIEW = Scopes(forgejo={"acme/widget": repo_grant("pending-review")})


def _open_request(forge, scopes, agent_tree, target: str) -> int:  # noqa: F811
    sha = git("rev-parse", "HEAD", cwd=agent_tree)
    grant = Scopes(gitlab={"acme/widget": repo_grant("create-draft", "push-new-branch",
                                                     ops=GL_OPS)},
                   forgejo={"acme/widget": repo_grant("create-draft", "push-new-branch")})
    err, text = call(grant, forge, "git_push_local", {
        "repo_path": str(agent_tree), "commit_sha": sha, "target": target,
        "description": "rev", "create_draft": True, "base": "main", "title": "Rev"})
    assert not err, text
    return int(text.rsplit("!" if "gitlab" in target else "#", 1)[1].split(":")[0])


def test_gitlab_draft_notes_are_a_pending_review(forge, agent_tree):  # noqa: F811
    """Draft notes (GitLab's pending review) with create-draft; only the gator's own
    notes are listed, changed or deleted; a read grant makes none."""
    iid = _open_request(forge, GL_NOTES, agent_tree, "gitlab:acme/widget")
    where = {"project": "acme/widget", "merge_request_iid": iid}
    err, text = call(READ, forge, "gitlab_pending_review_tool",
                     {"operation": "create", **where, "body": "nit"})
    assert err and "no create-draft permission on gitlab:acme/widget" in text, text
    err, text = call(GL_NOTES, forge, "gitlab_pending_review_tool",
                     {"operation": "create", **where, "body": "Please rename x."})
    assert not err and "Created draft note" in text, text
    note_id = int(text.split("draft note ", 1)[1].split(" ", 1)[0])
    err, text = call(GL_NOTES, forge, "gitlab_pending_review_tool",
                     {"operation": "update", **where, "note_id": note_id, "body": "Rename x."})
    assert not err, text
    err, text = call(READ, forge, "gitlab_pending_review_tool", {"operation": "list", **where})
    notes = json.loads(text)
    assert [n["note"] for n in notes] == ["<!-- service-gator-review -->\nRename x."]
    err, text = call(GL_NOTES, forge, "gitlab_pending_review_tool",
                     {"operation": "delete", **where, "note_id": note_id})
    assert not err and "Deleted" in text, text
    err, text = call(READ, forge, "gitlab_pending_review_tool", {"operation": "list", **where})
    assert json.loads(text) == []
    err, text = call(GL_NOTES, forge, "gitlab_pending_review_tool",
                     {"operation": "create", "project": "acme/../widget",
                      "merge_request_iid": iid, "body": "x"})
    assert err and "expected GROUP/PROJECT" in text, text


def test_forgejo_pending_reviews(forge, agent_tree):  # noqa: F811
    """Forgejo's pending reviews with pending-review, through its GitHub-shaped API."""
    number = _open_request(forge, FJ_REVIEW, agent_tree, "forgejo:acme/widget")
    where = {"repo": "acme/widget", "pull_number": number}
    err, text = call(READ, forge, "forgejo_pending_review_tool",
                     {"operation": "create", **where, "body": "x"})
    assert err and "no pending-review permission on forgejo:acme/widget" in text, text
    err, text = call(FJ_REVIEW, forge, "forgejo_pending_review_tool",
                     {"operation": "create", **where, "body": "Looks close."})
    assert not err and "Created pending review" in text, text
    err, text = call(FJ_REVIEW, forge, "forgejo_pending_review_tool",
                     {"operation": "list", **where})
    reviews = json.loads(text)
    assert [(r["state"], r["body"]) for r in reviews] == [
        ("PENDING", "<!-- service-gator-review -->\nLooks close.")]
    err, text = call(FJ_REVIEW, forge, "forgejo_pending_review_tool",
                     {"operation": "update", **where, "review_id": reviews[0]["id"]})
    assert err and "cannot change a pending review" in text, text
