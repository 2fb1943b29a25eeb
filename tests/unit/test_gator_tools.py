"""The gator's tools through its MCP server, against the fake forge on 127.0.0.1.

The server runs in-process (the MCP SDK's in-memory client); the forge is
tests/fakeforge/fakeforge.py with a bare repository acme/widget.git; the
agent's tree is a real clone under a temporary "/workspaces".
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from devaipod.gator import branches, push, server
from devaipod.gator.forge import ForgeError, GitHub, split_endpoint
from devaipod.gator.scopes import Scopes, repo_grant

FAKEFORGE = Path(__file__).resolve().parents[1] / "fakeforge" / "fakeforge.py"
TOKEN = "gator-test-token-5f1e"
GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main"]


def git(*args, cwd=None) -> str:
    return subprocess.run([*GIT, *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture
def forge(tmp_path):
    root, seed = tmp_path / "forge", tmp_path / "seed"
    bare = root / "acme" / "widget.git"
    git("init", "-q", "--bare", str(bare))
    git("init", "-q", str(seed))
    (seed / "README").write_text("hello\n")
    git("add", "README", cwd=seed)
    git("commit", "-qm", "first", cwd=seed)
    git("push", "-q", str(bare), "main", cwd=seed)
    proc = subprocess.Popen([sys.executable, str(FAKEFORGE), "--port", "0", "--host",
                             "127.0.0.1", "--root", str(root), "--token", TOKEN],
                            stdout=subprocess.PIPE, text=True)
    port = re.search(r"listening on (\d+)", proc.stdout.readline())[1]
    yield {"url": f"http://127.0.0.1:{port}", "bare": bare}
    proc.terminate()
    proc.wait(5)


@pytest.fixture
def agent_tree(tmp_path, forge, monkeypatch):
    """The agent's clone with one new commit, under a stand-in for /workspaces."""
    workspaces = tmp_path / "workspaces"
    tree = workspaces / "widget"
    git("clone", "-q", str(forge["bare"]), str(tree))
    (tree / "fix.txt").write_text("the agent's fix\n")
    git("add", "fix.txt", cwd=tree)
    git("commit", "-qm", "Fix the thing\n\nLonger explanation.", cwd=tree)
    # a hook the gator must never run
    hook = tree / ".git" / "hooks" / "pre-push"
    hook.write_text(f"#!/bin/sh\ntouch {tmp_path}/HOOK_RAN\n")
    hook.chmod(0o755)
    monkeypatch.setattr(push, "WORKSPACES", str(workspaces))
    return tree


def run_async(fn):
    """anyio.run in a thread of its own: the browser tests' Playwright keeps an
    event loop running in the main thread for the whole session."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(anyio.run, fn).result()


def call(scopes: Scopes, forge, tool: str, args: dict, readonly=False, token=TOKEN):
    """(is_error, text) of one tool call through the MCP server."""
    from mcp.client.client import Client

    gh = GitHub(api=forge["url"] + "/api/v3", web=forge["url"], token=token)
    srv = server.build(lambda: scopes, gh, readonly)

    async def go():
        async with Client(srv) as client:
            result = await client.call_tool(tool, args)
            return result.is_error, "".join(c.text for c in result.content)

    return run_async(go)


def forge_json(forge, path):
    import urllib.request

    req = urllib.request.Request(forge["url"] + "/api/v3/" + path,
                                 headers={"Authorization": f"token {TOKEN}"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


GRANT = Scopes(repos={"acme/widget": repo_grant("create-draft", "push-new-branch")})


def test_tools_list_has_service_gators_names(forge):
    from mcp.client.client import Client

    async def go():
        async with Client(server.build(lambda: GRANT, GitHub(token=None))) as client:
            return {t.name for t in (await client.list_tools()).tools}

    assert run_async(go) == {"status", "github_api_tool", "github_push", "gh_create_branch",
                             "gh_update_pr_head", "github_pending_review_tool",
                             "gl", "forgejo", "git_push_local",
                             "forgejo_pending_review_tool", "gitlab_pending_review_tool"}


def test_status_names_the_grants_and_never_the_token(forge):
    err, text = call(GRANT, forge, "status", {})
    assert not err and text.startswith("Service-Gator v")
    assert "github:acme/widget:read,create-draft,push-new-branch" in text
    assert TOKEN not in text


def test_push_opens_a_draft_pull_request(forge, agent_tree, tmp_path):
    sha = git("rev-parse", "HEAD", cwd=agent_tree)
    err, text = call(GRANT, forge, "github_push", {
        "repo_path": str(agent_tree), "commit_sha": sha, "repo": "acme/widget",
        "description": "fix-thing", "base": "main", "title": "Fix the thing"})
    assert not err, text
    assert git("rev-parse", "refs/heads/agent-fix-thing", cwd=forge["bare"]) == sha
    pr = forge_json(forge, "repos/acme/widget/pulls")[0]
    assert pr["draft"] and pr["head"]["ref"] == "agent-fix-thing"
    assert pr["body"] == f"{branches.PR_MARKER}\nLonger explanation."
    assert f"#{pr['number']}" in text
    assert not (tmp_path / "HOOK_RAN").exists()
    # never forced: a commit not descending from the branch is refused
    git("reset", "-q", "--hard", "HEAD~1", cwd=agent_tree)
    (agent_tree / "other.txt").write_text("x")
    git("add", "other.txt", cwd=agent_tree)
    git("commit", "-qm", "other", cwd=agent_tree)
    err, text = call(GRANT, forge, "github_push", {
        "repo_path": str(agent_tree), "commit_sha": git("rev-parse", "HEAD", cwd=agent_tree),
        "repo": "acme/widget", "description": "fix-thing", "create_draft_pr": False})
    assert err and "pushing to agent-fix-thing failed" in text
    assert git("rev-parse", "refs/heads/agent-fix-thing", cwd=forge["bare"]) == sha


@pytest.mark.parametrize(("scopes", "args", "why"), [
    (Scopes(repos={"acme/widget": repo_grant()}), {}, "no push-new-branch permission"),
    (GRANT, {"repo": "acme/other"}, "no push-new-branch permission on acme/other"),
    (GRANT, {"description": "-bad"}, "description"),
    (GRANT, {"commit_sha": "abc"}, "40-character"),
    (GRANT, {"repo_path": "/etc"}, "not under"),
    (GRANT, {"repo_path": "relative/path"}, "absolute path"),
    (GRANT, {"use_fork": True}, "use_fork"),
])
def test_push_refusals(forge, agent_tree, scopes, args, why):
    base = {"repo_path": str(agent_tree), "commit_sha": git("rev-parse", "HEAD", cwd=agent_tree),
            "repo": "acme/widget", "description": "x", "create_draft_pr": False}
    err, text = call(scopes, forge, "github_push", {**base, **args})
    assert err and why in text
    assert git("for-each-ref", "refs/heads/agent-*", cwd=forge["bare"]) == ""


def test_readonly_server_refuses_writes(forge, agent_tree):
    err, text = call(GRANT, forge, "github_push", {
        "repo_path": str(agent_tree), "commit_sha": git("rev-parse", "HEAD", cwd=agent_tree),
        "repo": "acme/widget", "description": "x", "create_draft_pr": False}, readonly=True)
    assert err and "read-only" in text
    err, text = call(GRANT, forge, "github_api_tool", {"endpoint": "repos/acme/widget"},
                     readonly=True)
    assert not err and json.loads(text)["full_name"] == "acme/widget"


def test_api_tool_checks_the_repository_it_calls(forge):
    err, text = call(GRANT, forge, "github_api_tool",
                     {"endpoint": "repos/acme/widget/branches", "jq": ".[].name"})
    assert not err and text.strip() == "main"
    # jq runs without the gator's environment: no token through `env`
    err, text = call(GRANT, forge, "github_api_tool",
                     {"endpoint": "repos/acme/widget", "jq": "env | keys | length"})
    assert not err and text.strip() == "0"
    for endpoint in ("repos/acme/widget/../../other/repo", "repos/acme/%2e%2e/x",
                     "https://evil.example/repos/acme/widget", "//evil/x", "user"):
        err, text = call(GRANT, forge, "github_api_tool", {"endpoint": endpoint})
        assert err and "refused" in text, endpoint
    err, text = call(GRANT, forge, "github_api_tool",
                     {"endpoint": "repos/acme/widget/issues/1/comments", "method": "POST",
                      "body": {"body": "hi"}})
    assert err and "no write permission" in text
    item = Scopes(repos=GRANT.repos, issues={"acme/widget#1": {"read": True, "write": True}})
    err, text = call(item, forge, "github_api_tool",
                     {"endpoint": "repos/acme/widget/issues/1/comments", "method": "POST",
                      "body": {"body": "hi"}})
    assert not err and json.loads(text)["body"] == "hi"


def test_pending_reviews(forge, agent_tree):
    sha = git("rev-parse", "HEAD", cwd=agent_tree)
    call(GRANT, forge, "github_push", {"repo_path": str(agent_tree), "commit_sha": sha,
                                       "repo": "acme/widget", "description": "r",
                                       "base": "main", "title": "t"})
    number = forge_json(forge, "repos/acme/widget/pulls")[0]["number"]
    base = {"repo": "acme/widget", "pull_number": number}
    err, text = call(GRANT, forge, "github_pending_review_tool",
                     {**base, "operation": "create", "body": "looks fine"})
    assert err and "no pending-review permission" in text
    review_grant = Scopes(repos={"acme/widget": repo_grant("pending-review")})
    err, text = call(review_grant, forge, "github_pending_review_tool",
                     {**base, "operation": "create", "body": "looks fine"})
    assert not err, text
    reviews = forge_json(forge, f"repos/acme/widget/pulls/{number}/reviews")
    assert reviews[0]["state"] == "PENDING" and reviews[0]["body"].startswith("<!--")
    err, text = call(review_grant, forge, "github_pending_review_tool",
                     {**base, "operation": "create", "body": "again"})
    assert err and "exists" in text
    err, text = call(review_grant, forge, "github_pending_review_tool",
                     {**base, "operation": "update", "review_id": reviews[0]["id"],
                      "body": "changed"})
    assert not err and "changed" in text
    err, text = call(review_grant, forge, "github_pending_review_tool",
                     {**base, "operation": "delete", "review_id": reviews[0]["id"]})
    assert not err and forge_json(forge, f"repos/acme/widget/pulls/{number}/reviews") == []


def test_create_branch_only_makes_new_agent_branches(forge):
    main = git("rev-parse", "main", cwd=forge["bare"])
    err, text = call(GRANT, forge, "gh_create_branch", {
        "repo": "acme/widget", "commit_sha": main, "description": "start", "issue_number": 3})
    assert not err and git("rev-parse", "agent-3-start", cwd=forge["bare"]) == main
    err, text = call(GRANT, forge, "gh_create_branch", {
        "repo": "acme/widget", "commit_sha": main, "description": "start", "issue_number": 3})
    assert err and "already exists" in text
    err, text = call(GRANT, forge, "gh_create_branch", {
        "repo": "acme/widget", "commit_sha": main, "description": "x", "issue_number": -1})
    assert err and "positive" in text


def human_pull(forge, head: str, sha: str, body: str = "by a human") -> int:
    """A branch HEAD at SHA and a pull request from it, made by the human (the token)."""
    forge_api(forge, "POST", "repos/acme/widget/git/refs", {"ref": f"refs/heads/{head}",
                                                            "sha": sha})
    return forge_api(forge, "POST", "repos/acme/widget/pulls",
                     {"title": "t", "head": head, "base": "main", "body": body})["number"]


def forge_api(forge, method, path, body):
    import urllib.request

    req = urllib.request.Request(forge["url"] + "/api/v3/" + path, method=method,
                                 data=json.dumps(body).encode(),
                                 headers={"Authorization": f"token {TOKEN}",
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def own_pull(forge, tree, description="mine") -> tuple[int, str]:
    """A draft pull request the gator opened from the agent's HEAD: (number, sha)."""
    sha = git("rev-parse", "HEAD", cwd=tree)
    err, text = call(GRANT, forge, "github_push", {
        "repo_path": str(tree), "commit_sha": sha, "repo": "acme/widget",
        "description": description, "base": "main", "title": "t"})
    assert not err, text
    return int(re.search(r"#(\d+)", text)[1]), sha


def test_update_pr_head_moves_only_the_gators_own_pull_requests(forge, agent_tree):
    main = git("rev-parse", "main", cwd=forge["bare"])
    number, sha = own_pull(forge, agent_tree)
    git("commit", "-q", "--allow-empty", "-m", "more", cwd=agent_tree)
    newer = git("rev-parse", "HEAD", cwd=agent_tree)
    call(GRANT, forge, "gh_create_branch", {"repo": "acme/widget", "commit_sha": main,
                                            "description": "scratch"})
    human = human_pull(forge, "feature", main)
    unmarked = human_pull(forge, "agent-someone", main)
    refused = [(human, sha, "'feature' is not an agent-* branch"),
               (unmarked, sha, "not opened through the gator"),
               (number, main, "not a fast forward")]  # only push-new-branch: no force
    for pull, target, why in refused:
        before = git("for-each-ref", cwd=forge["bare"])
        err, text = call(GRANT, forge, "gh_update_pr_head",
                         {"repo": "acme/widget", "pull_number": pull, "commit_sha": target})
        assert err and why in text, text
        assert git("for-each-ref", cwd=forge["bare"]) == before
    err, text = call(GRANT, forge, "gh_update_pr_head",
                     {"repo": "acme/widget", "pull_number": number, "commit_sha": sha},
                     readonly=True)
    assert err and "read-only" in text
    # a fast-forward of its own PR is fine; a forced move needs write
    git("push", "-q", str(forge["bare"]), f"{newer}:refs/heads/agent-scratch", cwd=agent_tree)
    err, text = call(GRANT, forge, "gh_update_pr_head",
                     {"repo": "acme/widget", "pull_number": number, "commit_sha": newer})
    assert not err and git("rev-parse", "agent-mine", cwd=forge["bare"]) == newer, text
    writer = Scopes(repos={"acme/widget": repo_grant("write")})
    err, text = call(writer, forge, "gh_update_pr_head",
                     {"repo": "acme/widget", "pull_number": number, "commit_sha": main})
    assert not err and git("rev-parse", "agent-mine", cwd=forge["bare"]) == main, text


def test_update_pr_head_refuses_a_branch_shared_with_a_human_pull_request(forge, agent_tree):
    number, sha = own_pull(forge, agent_tree)
    forge_api(forge, "POST", "repos/acme/widget/pulls",
              {"title": "human", "head": "agent-mine", "base": "main", "body": "mine"})
    git("commit", "-q", "--allow-empty", "-m", "more", cwd=agent_tree)
    newer = git("rev-parse", "HEAD", cwd=agent_tree)
    git("push", "-q", str(forge["bare"]), f"{newer}:refs/heads/elsewhere", cwd=agent_tree)
    err, text = call(GRANT, forge, "gh_update_pr_head",
                     {"repo": "acme/widget", "pull_number": number, "commit_sha": newer})
    assert err and "not opened through the gator" in text
    assert git("rev-parse", "agent-mine", cwd=forge["bare"]) == sha


def test_push_updates_its_own_pull_request_and_no_one_elses(forge, agent_tree):
    number, sha = own_pull(forge, agent_tree)
    git("commit", "-q", "--allow-empty", "-m", "more", cwd=agent_tree)
    newer = git("rev-parse", "HEAD", cwd=agent_tree)
    err, text = call(GRANT, forge, "github_push", {
        "repo_path": str(agent_tree), "commit_sha": newer, "repo": "acme/widget",
        "description": "mine", "base": "main", "title": "t"})
    assert not err and f"Updated pull request #{number}" in text, text
    assert len(forge_json(forge, "repos/acme/widget/pulls?state=all")) == 1
    # an agent-* branch a human opened a pull request from is not the agent's
    human_pull(forge, "agent-human", sha)
    err, text = call(GRANT, forge, "github_push", {
        "repo_path": str(agent_tree), "commit_sha": newer, "repo": "acme/widget",
        "description": "human", "create_draft_pr": False})
    assert err and "not opened through the gator" in text
    assert git("rev-parse", "agent-human", cwd=forge["bare"]) == sha


def test_redirects_to_another_host_are_not_followed(monkeypatch):
    """The token goes only to the forge's own host, even when it redirects elsewhere."""
    import http.server
    import threading

    seen: list[str | None] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.headers.get("Authorization"))
            if self.path.startswith("/moved"):
                self.send_response(301)
                self.send_header("Location", f"http://localhost:{port}/elsewhere")
            else:
                self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = httpd.server_address[1]
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        gh = GitHub(api=f"http://127.0.0.1:{port}", token="tok")
        assert gh.request("GET", "moved").status == 301  # localhost is another host
        assert seen == ["Bearer tok"]
    finally:
        httpd.shutdown()


def test_endpoint_splitting():
    assert split_endpoint("/repos/o/r/pulls?state=all") == (["repos", "o", "r", "pulls"],
                                                             "state=all")
    assert split_endpoint("api/v3/repos/o/r")[0] == ["repos", "o", "r"]
    for bad in ("", "repos//x", "repos/./x", "repos/o/r\\..", "repos/o/%2F"):
        with pytest.raises(ForgeError):
            split_endpoint(bad)


def test_scope_file_is_reread_and_a_broken_one_grants_nothing(tmp_path):
    path = tmp_path / "scopes.json"
    sf = server.ScopeFile(str(path))
    assert sf().empty
    path.write_text(json.dumps(GRANT.to_json()))
    assert sf() == GRANT
    path.write_text("{broken")
    assert sf().empty
    path.write_text(json.dumps(Scopes(gh_read=True).to_json()) + " ")
    assert sf().gh_read
