"""Tests of the fake GitHub forge: the script runs as a subprocess, driven by git and urllib."""

from __future__ import annotations

import base64
import contextlib
import gzip
import http.client
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

FAKEFORGE_PY = Path(__file__).with_name("fakeforge.py")
TOKEN = "fake-s3cret-T0KEN"
IDENTITY = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}


def git_env() -> dict[str, str]:
    """The environment of every git call: no user config, no prompts, a fixed identity."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("GIT_") and k not in ("SSH_ASKPASS", "GIT_ASKPASS")}
    return {**env, **IDENTITY, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0"}


def git(*args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(["git", *args], cwd=cwd, env=git_env(), capture_output=True,
                            text=True, timeout=60)
    assert not check or result.returncode == 0, result.stderr
    return result


def rev(repo: Path, ref: str) -> str | None:
    result = git("--git-dir", str(repo), "rev-parse", "--verify", "--quiet", ref, check=False)
    return result.stdout.strip() or None


def commit(work: Path, name: str, content: str | bytes = "x") -> str:
    path = work / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    git("add", name, cwd=work)
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", name, cwd=work)
    return git("rev-parse", "HEAD", cwd=work).stdout.strip()


@dataclass
class Forge:
    url: str  # http://127.0.0.1:PORT
    host: str  # 127.0.0.1:PORT
    bare: Path  # the repository acme/widget
    shas: dict[str, str]  # main, feature, seed: commits in it

    def http(self, method: str, path: str, body=None, auth: str | None = f"token {TOKEN}"):
        """(status, headers, parsed JSON or raw bytes); HTTP errors are returned too."""
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = auth
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                status, head, raw = resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as err:
            status, head, raw = err.code, err.headers, err.read()
        is_json = head.get("Content-Type") == "application/json"
        return status, head, json.loads(raw) if is_json else raw

    def api(self, method: str, path: str, body=None, auth: str | None = f"token {TOKEN}"):
        status, _, data = self.http(method, "/api/v3" + path, body, auth)
        return status, data

    def requests(self) -> list[dict]:
        return self.http("GET", "/_requests", auth=None)[2]

    def repo_url(self, user: str | None = None, suffix: str = ".git") -> str:
        who = f"{user}@" if user else ""
        return f"http://{who}{self.host}/acme/widget{suffix}"


@pytest.fixture
def forge(tmp_path) -> Iterator[Forge]:
    """The script on 127.0.0.1 over DIR/acme/widget.git: main, feature (ahead of main) and
    refs/pull/1/head (a commit on no branch)."""
    root, work = tmp_path / "forge", tmp_path / "seed"
    bare = root / "acme" / "widget.git"
    git("init", "-q", "--bare", "-b", "main", str(bare))
    git("init", "-q", "-b", "main", str(work))
    shas = {"main": commit(work, "README", "hello\n")}
    git("checkout", "-q", "-b", "feature", cwd=work)
    shas["feature"] = commit(work, "feature.txt")
    git("checkout", "-q", "-b", "seed", "main", cwd=work)
    shas["seed"] = commit(work, "seed.txt")
    git("push", "-q", str(bare), "main", "feature", "seed:refs/pull/1/head", cwd=work)
    # -I -S: no site-packages, so the script must do with the standard library
    proc = subprocess.Popen(
        [sys.executable, "-I", "-S", str(FAKEFORGE_PY), "--port", "0", "--host", "127.0.0.1",
         "--root", str(root), "--token", TOKEN],
        stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        found = re.fullmatch(r"fakeforge listening on (\d+)\n", line)
        assert found, line
        host = f"127.0.0.1:{found[1]}"
        yield Forge(f"http://{host}", host, bare, shas)
    finally:
        proc.terminate()
        assert proc.wait(5) == 0  # SIGTERM is handled: a clean exit


def clone(forge: Forge, dest: Path, suffix: str = ".git") -> Path:
    git("clone", "-q", forge.repo_url(suffix=suffix), str(dest))
    return dest


# --- git --------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".git", ""])
def test_clone_and_fetch_without_credentials(forge, tmp_path, suffix):
    work = clone(forge, tmp_path / "clone", suffix)
    assert git("rev-parse", "HEAD", cwd=work).stdout.strip() == forge.shas["main"]
    assert (work / "README").read_text() == "hello\n"
    git("fetch", "-q", "origin", "feature", cwd=work)
    assert git("rev-parse", "FETCH_HEAD", cwd=work).stdout.strip() == forge.shas["feature"]
    seen = [r for r in forge.requests() if "/acme/widget" in r["path"]]
    assert seen and all(r["authorized"] is False and r["body"] is None for r in seen)
    assert f"/acme/widget{suffix}/info/refs?service=git-upload-pack" in {r["path"] for r in seen}


def test_push_refused_without_credentials(forge, tmp_path):
    work = clone(forge, tmp_path / "clone")
    commit(work, "new.txt")
    result = git("push", "origin", "main", cwd=work, check=False)
    assert result.returncode != 0
    assert rev(forge.bare, "refs/heads/main") == forge.shas["main"]
    status, headers, _ = forge.http(
        "GET", "/acme/widget.git/info/refs?service=git-receive-pack", auth=None)
    assert status == 401 and headers["WWW-Authenticate"] == 'Basic realm="fakeforge"'
    status, _, _ = forge.http("POST", "/acme/widget/git-receive-pack", auth="Bearer nope")
    assert status == 401


def test_push_with_basic_password_token(forge, tmp_path):
    work = clone(forge, tmp_path / "clone")
    new = commit(work, "new.txt")
    wrong = git("push", forge.repo_url("anyone:wrong"), "main", cwd=work, check=False)
    assert wrong.returncode != 0
    git("push", "-q", forge.repo_url(f"anyone:{TOKEN}"), "main", cwd=work)
    assert rev(forge.bare, "refs/heads/main") == new


@pytest.mark.parametrize("header", [
    f"Authorization: Bearer {TOKEN}",
    f"Authorization: token {TOKEN}",
    "Authorization: Basic " + base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode(),
])
def test_push_with_extra_header(forge, tmp_path, header):
    work = clone(forge, tmp_path / "clone")
    new = commit(work, "new.txt")
    git("-c", f"http.extraHeader={header}", "push", "-q", "origin", "main:topic", cwd=work)
    assert rev(forge.bare, "refs/heads/topic") == new
    pushes = [r for r in forge.requests() if "receive-pack" in r["path"]]
    assert pushes and all(r["authorized"] for r in pushes)


def test_chunked_push(forge, tmp_path):
    """Past http.postBuffer, git sends the pack with Transfer-Encoding: chunked."""
    work = clone(forge, tmp_path / "clone")
    new = commit(work, "big.bin", os.urandom(200_000))
    git("-c", "http.postBuffer=1024", "-c", f"http.extraHeader=Authorization: Bearer {TOKEN}",
        "push", "-q", "origin", "main", cwd=work)
    assert rev(forge.bare, "refs/heads/main") == new


def test_gzip_request_body(forge):
    want = forge.shas["main"]
    request = f"0032want {want}\n".encode() + b"0000" + b"0009done\n"
    conn = http.client.HTTPConnection(forge.host, timeout=30)
    conn.request("POST", "/acme/widget/git-upload-pack", gzip.compress(request), {
        "Content-Type": "application/x-git-upload-pack-request", "Content-Encoding": "gzip"})
    resp = conn.getresponse()
    body = resp.read()
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "application/x-git-upload-pack-result"
    assert body.startswith(b"0008NAK\n") and b"PACK" in body


# --- API: auth, repository, refs ---------------------------------------------------------

def test_api_needs_the_token(forge):
    for auth in (None, "token wrong", f"Basic {TOKEN}", "Bearer"):
        assert forge.api("GET", "/user", auth=auth) == (401, {"message": "Bad credentials"})
    for auth in (f"token {TOKEN}", f"Bearer {TOKEN}"):
        assert forge.api("GET", "/user", auth=auth) == (200, {"login": "fake-user", "id": 1})


def test_repository_and_branches(forge):
    status, repo = forge.api("GET", "/repos/acme/widget")
    assert status == 200
    assert repo == {"full_name": "acme/widget", "name": "widget", "owner": {"login": "acme"},
                    "default_branch": "main", "private": False,
                    "clone_url": f"http://{forge.host}/acme/widget.git",
                    "html_url": f"http://{forge.host}/acme/widget"}
    status, branches = forge.api("GET", "/repos/acme/widget/branches")
    assert status == 200
    assert {b["name"]: b["commit"]["sha"] for b in branches} == {
        "main": forge.shas["main"], "feature": forge.shas["feature"]}
    for form in ("ref", "refs"):
        assert forge.api("GET", f"/repos/acme/widget/git/{form}/heads/feature") == (200, {
            "ref": "refs/heads/feature", "object": {"sha": forge.shas["feature"],
                                                    "type": "commit"}})
        assert forge.api("GET", f"/repos/acme/widget/git/{form}/heads/nope")[0] == 404
    assert forge.api("GET", "/repos/acme/nothing") == (404, {"message": "Not Found"})
    assert forge.api("GET", "/repos/acme/nothing/pulls")[0] == 404
    assert forge.api("GET", "/repos/acme/widget/wiki") == (404, {"message": "Not Found"})
    assert forge.http("GET", "/nowhere", auth=None)[0] == 404


def test_create_ref(forge):
    body = {"ref": "refs/heads/new", "sha": forge.shas["feature"]}
    assert forge.api("POST", "/repos/acme/widget/git/refs", body) == (201, {
        "ref": "refs/heads/new", "object": {"sha": forge.shas["feature"], "type": "commit"}})
    assert rev(forge.bare, "refs/heads/new") == forge.shas["feature"]
    assert forge.api("POST", "/repos/acme/widget/git/refs", body) == (
        422, {"message": "Reference already exists"})
    unknown = {"ref": "refs/heads/other", "sha": "1" * 40}
    assert forge.api("POST", "/repos/acme/widget/git/refs", unknown) == (
        422, {"message": "Object does not exist"})
    assert rev(forge.bare, "refs/heads/other") is None


def test_create_ref_with_chunked_body(forge):
    body = json.dumps({"ref": "refs/heads/chunky", "sha": forge.shas["main"]}).encode()
    conn = http.client.HTTPConnection(forge.host, timeout=30)
    conn.request("POST", "/api/v3/repos/acme/widget/git/refs", iter([body[:10], body[10:]]),
                 {"Authorization": f"token {TOKEN}", "Content-Type": "application/json"},
                 encode_chunked=True)
    assert conn.getresponse().status == 201
    assert rev(forge.bare, "refs/heads/chunky") == forge.shas["main"]


def test_update_ref_fast_forward_or_force(forge):
    main, feature, seed = forge.shas["main"], forge.shas["feature"], forge.shas["seed"]
    path = "/repos/acme/widget/git/refs/heads/main"
    status, data = forge.api("PATCH", path, {"sha": feature})
    assert status == 200 and data["object"]["sha"] == feature
    assert rev(forge.bare, "refs/heads/main") == feature
    for sha in (main, seed):  # backwards, sideways
        assert forge.api("PATCH", path, {"sha": sha, "force": False}) == (
            422, {"message": "Update is not a fast forward"})
    assert rev(forge.bare, "refs/heads/main") == feature
    assert forge.api("PATCH", path, {"sha": seed, "force": True})[0] == 200
    assert rev(forge.bare, "refs/heads/main") == seed
    assert forge.api("PATCH", path, {"sha": "2" * 40, "force": True}) == (
        422, {"message": "Object does not exist"})
    assert forge.api("PATCH", "/repos/acme/widget/git/refs/heads/nope", {"sha": main})[0] == 422


# --- API: pull requests, reviews, issues -------------------------------------------------

def test_seeded_pull_request(forge):
    status, pull = forge.api("GET", "/repos/acme/widget/pulls/1")
    assert status == 200
    here = {"full_name": "acme/widget", "clone_url": f"http://{forge.host}/acme/widget.git"}
    assert pull == {"number": 1, "title": "PR 1", "state": "open", "draft": False,
                    "head": {"ref": "pr-1", "sha": forge.shas["seed"], "repo": here},
                    "base": {"ref": "main", "repo": here}, "body": "",
                    "html_url": f"http://{forge.host}/acme/widget/pull/1",
                    "user": {"login": "someone"}}
    assert forge.api("GET", "/repos/acme/widget/pulls") == (200, [pull])
    assert forge.api("GET", "/repos/acme/widget/pulls/9")[0] == 404


def test_create_pull_request(forge, tmp_path):
    body = {"title": "Add feature", "head": "acme:feature", "base": "main", "body": "please"}
    status, pull = forge.api("POST", "/repos/acme/widget/pulls", body)
    assert status == 201
    assert pull["number"] == 2  # after the seeded PR 1
    assert (pull["title"], pull["body"], pull["state"], pull["draft"]) == (
        "Add feature", "please", "open", False)
    assert pull["head"]["ref"] == "feature" and pull["head"]["sha"] == forge.shas["feature"]
    assert pull["base"]["ref"] == "main" and pull["user"] == {"login": "fake-user"}
    assert rev(forge.bare, "refs/pull/2/head") == forge.shas["feature"]
    status, draft = forge.api("POST", "/repos/acme/widget/pulls",
                              {"title": "t", "head": "feature", "base": "main", "draft": True})
    assert status == 201 and draft["number"] == 3 and draft["draft"] is True
    status, pulls = forge.api("GET", "/repos/acme/widget/pulls?state=all")
    assert status == 200 and sorted(p["number"] for p in pulls) == [1, 2, 3]
    assert forge.api("GET", "/repos/acme/widget/pulls?state=closed") == (200, [])
    status, heads = forge.api("GET", "/repos/acme/widget/pulls?state=all&head=acme:feature")
    assert status == 200 and sorted(p["number"] for p in heads) == [2, 3]
    assert forge.api("GET", "/repos/acme/widget/pulls?head=other:feature") == (200, [])
    # like GitHub, a head filter without an owner is ignored
    assert len(forge.api("GET", "/repos/acme/widget/pulls?head=feature")[1]) == 3

    # the head branch moves: by the API, then by a push
    forge.api("PATCH", "/repos/acme/widget/git/refs/heads/feature",
              {"sha": forge.shas["seed"], "force": True})
    assert forge.api("GET", "/repos/acme/widget/pulls/2")[1]["head"]["sha"] == forge.shas["seed"]
    work = clone(forge, tmp_path / "clone")
    git("checkout", "-q", "feature", cwd=work)
    pushed = commit(work, "more.txt")
    git("push", "-q", forge.repo_url(f"x:{TOKEN}"), "feature", cwd=work)
    assert forge.api("GET", "/repos/acme/widget/pulls/2")[1]["head"]["sha"] == pushed
    assert rev(forge.bare, "refs/pull/2/head") == pushed


def test_graphql_answers_and_records(forge):
    query = {"query": "mutation { x }"}
    status, _, data = forge.http("POST", "/api/graphql", query)
    assert status == 200 and data == {"data": {"viewer": {"login": "fake-user"}}}
    assert forge.http("POST", "/api/graphql", query, auth=None)[0] == 401
    assert forge.http("POST", "/api/graphql", {"q": 1})[0] == 400
    seen = [r for r in forge.requests() if r["path"] == "/api/graphql"]
    assert [(r["authorized"], r["body"]) for r in seen] == [
        (True, query), (False, query), (True, {"q": 1})]


@pytest.mark.parametrize(("body", "field"), [
    ({"title": "t", "head": "missing", "base": "main"}, "head"),
    ({"title": "t", "head": "acme:missing", "base": "main"}, "head"),
    ({"head": "feature", "base": "main"}, "title"),
    ({"title": "t", "head": "feature"}, "base"),
])
def test_create_pull_request_validation(forge, body, field):
    status, data = forge.api("POST", "/repos/acme/widget/pulls", body)
    assert status == 422 and data["message"] == "Validation Failed"
    assert [e["field"] for e in data["errors"]] == [field]
    assert rev(forge.bare, "refs/pull/2/head") is None


def test_reviews(forge):
    reviews = "/repos/acme/widget/pulls/1/reviews"
    comment = {"path": "seed.txt", "line": 1, "side": "RIGHT", "body": "nit"}
    status, pending = forge.api("POST", reviews, {"body": "draft", "comments": [comment]})
    assert status == 200
    assert pending == {"id": 100, "body": "draft", "state": "PENDING",
                       "user": {"login": "fake-user"}, "commit_id": forge.shas["seed"]}
    assert forge.api("GET", f"{reviews}/100") == (200, pending)
    status, comments = forge.api("GET", f"{reviews}/100/comments")
    assert status == 200 and len(comments) == 1
    assert {k: comments[0][k] for k in comment} == comment
    assert comments[0]["pull_request_review_id"] == 100
    status, updated = forge.api("PUT", f"{reviews}/100", {"body": "final words"})
    assert status == 200 and updated == {**pending, "body": "final words"}

    for event, state in [("COMMENT", "COMMENTED"), ("APPROVE", "APPROVED"),
                         ("REQUEST_CHANGES", "CHANGES_REQUESTED")]:
        status, review = forge.api("POST", reviews, {"body": event, "event": event,
                                                     "commit_id": forge.shas["main"]})
        assert status == 200 and review["state"] == state
        assert review["commit_id"] == forge.shas["main"]
    status, listed = forge.api("GET", reviews)
    assert status == 200 and [r["id"] for r in listed] == [100, 101, 102, 103]

    assert forge.api("DELETE", f"{reviews}/101") == (
        422, {"message": "Can not delete a non-pending pull request review"})
    assert forge.api("DELETE", f"{reviews}/100") == (200, updated)
    assert forge.api("GET", f"{reviews}/100")[0] == 404
    assert [r["id"] for r in forge.api("GET", reviews)[1]] == [101, 102, 103]
    assert forge.api("GET", "/repos/acme/widget/pulls/5/reviews")[0] == 404
    assert forge.api("POST", reviews, {"event": "MERGE"})[0] == 422


def test_issues(forge):
    assert forge.api("GET", "/repos/acme/widget/issues/7") == (200, {
        "number": 7, "title": "Issue 7", "state": "open", "body": ""})
    status, made = forge.api("POST", "/repos/acme/widget/issues/7/comments", {"body": "hi"})
    assert status == 201 and made["body"] == "hi" and isinstance(made["id"], int)


# --- test hooks ---------------------------------------------------------------------------

def test_requests_log_and_reset(forge, tmp_path):
    basic = "Basic " + base64.b64encode(f"me:{TOKEN}".encode()).decode()
    forge.api("GET", "/user", auth=None)
    forge.api("GET", "/user", auth=basic)
    forge.api("POST", "/repos/acme/widget/issues/3/comments", {"body": "note"},
              auth=f"Bearer {TOKEN}")
    work = clone(forge, tmp_path / "clone")
    commit(work, "new.txt")
    git("push", "-q", forge.repo_url(f"me:{TOKEN}"), "main", cwd=work)

    seen = forge.requests()
    assert TOKEN not in json.dumps(seen)
    assert seen[:3] == [
        {"method": "GET", "path": "/api/v3/user", "authorized": False, "body": None},
        {"method": "GET", "path": "/api/v3/user", "authorized": True, "body": None},
        {"method": "POST", "path": "/api/v3/repos/acme/widget/issues/3/comments",
         "authorized": True, "body": {"body": "note"}}]
    gits = seen[3:]
    assert gits and all(r["body"] is None for r in gits)
    assert {r["authorized"] for r in gits if "receive-pack" in r["path"]} == {False, True}
    assert not any(r["authorized"] for r in gits if "upload-pack" in r["path"])

    assert forge.http("POST", "/_reset", auth=None)[0] == 200
    assert forge.requests() == []


# --- private repositories, a PR from a fork, the Forgejo and GitLab APIs ---------------

@pytest.fixture
def private(forge) -> Forge:
    """acme/widget made private; acme/fork (a copy) holds the head of PR 2 of acme/widget."""
    root = forge.bare.parents[1]
    fork = root / "acme" / "fork.git"
    git("clone", "-q", "--bare", str(forge.bare), str(fork))
    git("--git-dir", str(forge.bare), "update-ref", "refs/pull/2/head", forge.shas["feature"])
    git("--git-dir", str(forge.bare), "update-ref", "refs/merge-requests/3/head",
        forge.shas["feature"])
    (root / "forge.json").write_text(json.dumps({
        "private": ["acme/widget"],
        "pulls": {"acme/widget#2": {"title": "From a fork", "head_repo": "acme/fork",
                                    "head": "feature"},
                  "acme/widget#3": {"title": "An MR", "head_repo": "acme/fork",
                                    "head": "feature"}}}))
    return forge


def test_private_repository_refuses_clone_without_the_token(private, tmp_path):
    # forge.json is read when the forge starts: start a second one over the same root
    with serve(private.bare.parents[1]) as url:
        bad = git("clone", f"{url}/acme/widget.git", str(tmp_path / "a"), check=False)
        assert bad.returncode != 0 and "could not read Username" in bad.stderr
        wrong = "Authorization: Basic " + base64.b64encode(b"x-access-token:nope").decode()
        assert git("-c", f"http.extraHeader={wrong}", "clone", f"{url}/acme/widget.git",
                   str(tmp_path / "b"), check=False).returncode != 0
        good = "Authorization: Basic " + base64.b64encode(f"oauth2:{TOKEN}".encode()).decode()
        git("-c", f"http.extraHeader={good}", "clone", "-q", f"{url}/acme/widget.git",
            str(tmp_path / "c"))
        assert (tmp_path / "c" / "README").read_text() == "hello\n"
        git("clone", "-q", f"{url}/acme/fork.git", str(tmp_path / "d"))  # public


def test_forgejo_and_gitlab_apis_show_a_pull_request_from_a_fork(private):
    with serve(private.bare.parents[1]) as url:
        pull = get_json(f"{url}/api/v1/repos/acme/widget/pulls/2", {"Authorization":
                                                                    f"token {TOKEN}"})
        assert pull["title"] == "From a fork" and pull["head"]["ref"] == "feature"
        assert pull["head"]["repo"]["full_name"] == "acme/fork"
        assert pull["head"]["repo"]["clone_url"].endswith("/acme/fork.git")
        assert pull["head"]["sha"] == private.shas["feature"]
        mr = get_json(f"{url}/api/v4/projects/acme%2Fwidget/merge_requests/3",
                      {"PRIVATE-TOKEN": TOKEN})
        assert (mr["title"], mr["source_branch"]) == ("An MR", "feature")
        assert mr["source_project_id"] != mr["target_project_id"]
        project = get_json(f"{url}/api/v4/projects/{mr['source_project_id']}",
                           {"PRIVATE-TOKEN": TOKEN})
        assert project["http_url_to_repo"].endswith("/acme/fork.git")
        issue = get_json(f"{url}/api/v4/projects/acme%2Fwidget/issues/9",
                         {"PRIVATE-TOKEN": TOKEN})
        assert issue["title"] == "Issue 9"
        with pytest.raises(urllib.error.HTTPError) as refused:
            get_json(f"{url}/api/v4/projects/1", {"PRIVATE-TOKEN": "nope"})
        assert refused.value.code == 401


def get_json(url: str, headers: dict[str, str]):
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                timeout=30) as resp:
        return json.loads(resp.read())


@contextlib.contextmanager
def serve(root: Path) -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-I", "-S", str(FAKEFORGE_PY), "--port", "0", "--host", "127.0.0.1",
         "--root", str(root), "--token", TOKEN], stdout=subprocess.PIPE, text=True)
    try:
        found = re.fullmatch(r"fakeforge listening on (\d+)\n", proc.stdout.readline())
        assert found
        yield f"http://127.0.0.1:{found[1]}"
    finally:
        proc.terminate()
        assert proc.wait(5) == 0


def test_gitlab_merge_requests_list_and_create(forge):
    def gl(method, path, body=None):
        status, _, data = forge.http(method, "/api/v4/projects/acme%2Fwidget" + path, body)
        return status, data

    status, mr = gl("POST", "/merge_requests", {"source_branch": "feature",
                                               "target_branch": "main", "title": "Draft: x",
                                               "description": "why"})
    assert status == 201 and mr["iid"] == 2 and mr["draft"] and mr["description"] == "why"
    assert (mr["source_branch"], mr["target_branch"], mr["state"]) == ("feature", "main",
                                                                       "opened")
    assert mr["sha"] == forge.shas["feature"]
    status, found = gl("GET", "/merge_requests?source_branch=feature&state=all")
    assert status == 200 and [m["iid"] for m in found] == [2]
    status, every = gl("GET", "/merge_requests")
    assert status == 200 and [m["iid"] for m in every] == [2, 1]
    assert gl("POST", "/merge_requests", {"source_branch": "nope", "target_branch": "main",
                                          "title": "t"})[0] == 400
    assert gl("POST", "/merge_requests", {"source_branch": "feature"})[0] == 400
    posted = [r for r in forge.requests() if r["method"] == "POST"]
    assert posted[0]["path"] == "/api/v4/projects/acme%2Fwidget/merge_requests"
