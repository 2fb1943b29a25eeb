#!/usr/bin/env python3
"""A fake GitHub (git smart HTTP and a small REST API subset), for tests only; also a
Forgejo (the same routes under /api/v1) and a GitLab (/api/v4, see gitlab.py) subset.

Standard library only (plus the git command):
  python3 fakeforge.py --port 8000 --root DIR --token TOKEN [--host 0.0.0.0] [--login fake-user]
                       [--web-host HOST:PORT]
(--port 0 picks a free port; the stdout line "fakeforge listening on <port>" names it.)
DIR holds bare repositories as DIR/<owner>/<repo>.git; the forge updates them.

Git, through `git http-backend` as a CGI: /<owner>/<repo>.git/... and /<owner>/<repo>/...
  Fetch and clone need no credentials, but for a private repository. Push needs the token:
  HTTP Basic with it as the password (any user name), or "Authorization: Bearer TOKEN" /
  "Authorization: token TOKEN"; else 401 with `WWW-Authenticate: Basic realm="fakeforge"`.

DIR/forge.json (optional): {"private": ["owner/repo", ...], "pulls": {"owner/repo#N":
  {"title": ..., "head_repo": "fork/repo", "head": "branch"}}}: private repositories refuse
  clone and fetch (401) without the token, and a PR's seeded title and head are replaced
  (its head branch then lives in head_repo: a PR from a fork).

API under /api/v3; every call needs the token as above (else 401 "Bad credentials"):
  GET    /user
  GET    /repos/{o}/{r}
  GET    /repos/{o}/{r}/branches
  GET    /repos/{o}/{r}/git/ref/{heads|tags}/{name}    (also .../git/refs/...)
  POST   /repos/{o}/{r}/git/refs                       {ref, sha}
  PATCH  /repos/{o}/{r}/git/refs/{heads|tags}/{name}   {sha, force?}
  GET    /repos/{o}/{r}/pulls[?state=open|closed|all][&head=OWNER:BRANCH]
  POST   /repos/{o}/{r}/pulls                          {title, head, base, body?, draft?}
  GET    /repos/{o}/{r}/pulls/{n}
  GET    /repos/{o}/{r}/pulls/{n}/reviews
  POST   /repos/{o}/{r}/pulls/{n}/reviews              {body?, event?, comments?, commit_id?}
  GET    /repos/{o}/{r}/pulls/{n}/reviews/{id}
  PUT    /repos/{o}/{r}/pulls/{n}/reviews/{id}         {body}
  DELETE /repos/{o}/{r}/pulls/{n}/reviews/{id}         (pending reviews only)
  GET    /repos/{o}/{r}/pulls/{n}/reviews/{id}/comments
  GET    /repos/{o}/{r}/issues/{n}                     (any n: "Issue n")
  POST   /repos/{o}/{r}/issues/{n}/comments            {body}
Forgejo: the same routes under /api/v1 (its API is GitHub's for these calls).
GitLab: /api/v4, see gitlab.py (PRIVATE-TOKEN: TOKEN is accepted too).
And GraphQL, outside /api/v3 as on GitHub Enterprise (the token needed too):
  POST   /api/graphql                                  {query, ...}
  answers {"data": {"viewer": {"login": LOGIN}}} to any document: it executes nothing,
  tests look at the recorded requests.
Pull requests and reviews live in memory. Each refs/pull/N/head (or
refs/merge-requests/N/head) found in a repository seeds PR N ("PR N", head branch "pr-N");
new PRs are numbered after the highest and get refs/pull/N/head written. A PR's head.sha
follows its head branch (API or git push).

Test hooks (no credentials): GET /_requests lists {method, path, authorized, body} of every
request (body null for git traffic); POST /_reset clears the list. The token is never logged.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hmac
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))  # also under python -I
import fakegitlab as gitlab

API = "/api/v3"
APIS = (API, "/api/v1")  # GitHub's and Forgejo's
GRAPHQL = "/api/graphql"
NAME = r"[A-Za-z0-9_.-]+"
GIT_PATH = re.compile(rf"/(?P<owner>{NAME})/(?P<repo>{NAME}?)(?:\.git)?"
                      r"(?P<rest>/(?:info/refs|HEAD|git-upload-pack|git-receive-pack|objects/.+))")
HEX = re.compile(r"[0-9a-fA-F]{7,64}")
EVENTS = {"COMMENT": "COMMENTED", "APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED"}
NOT_FOUND = {"message": "Not Found"}


class ApiError(Exception):
    def __init__(self, status: int, message: str, **extra):
        super().__init__(message)
        self.status, self.data = status, {"message": message, **extra}


def invalid(resource: str, field_name: str, code: str = "invalid") -> ApiError:
    return ApiError(422, "Validation Failed",
                    errors=[{"resource": resource, "field": field_name, "code": code}])


# --- the bare repositories, read and written with git ------------------------------------

def git(repo: Path, *args: str, stdin: str | None = None) -> str | None:
    """git's stdout (stripped) in the bare repository REPO, or None if it failed."""
    result = subprocess.run(["git", "-c", "safe.directory=*", "--git-dir", str(repo), *args],
                            input=stdin, capture_output=True, text=True, timeout=60)
    return result.stdout.strip() if result.returncode == 0 else None


def ref_sha(repo: Path, ref: str) -> str | None:
    return git(repo, "rev-parse", "--verify", "--quiet", ref) if ref.startswith("refs/") else None


def find_object(repo: Path, sha: Any) -> dict | None:
    """{"sha": full id, "type": "commit"|...} of a hex object id in REPO, else None."""
    if not isinstance(sha, str) or not HEX.fullmatch(sha):
        return None
    out = git(repo, "cat-file", "--batch-check=%(objectname) %(objecttype)", stdin=sha + "\n")
    full, _, kind = (out or "").partition(" ")
    return {"sha": full, "type": kind} if kind and kind != "missing" else None


def default_branch(repo: Path) -> str:
    return (git(repo, "symbolic-ref", "HEAD") or "refs/heads/main").removeprefix("refs/heads/")


def refs(repo: Path, prefix: str) -> list[tuple[str, str]]:
    """(refname, sha) of every ref under PREFIX, e.g. "refs/heads/"."""
    out = git(repo, "for-each-ref", "--format=%(refname) %(objectname)", prefix) or ""
    return [tuple(line.split(" ", 1)) for line in out.splitlines()]


# --- in-memory state ---------------------------------------------------------------------

@dataclass
class RepoState:
    pulls: dict[int, dict] = field(default_factory=dict)
    reviews: dict[int, dict] = field(default_factory=dict)  # review id -> review
    draft_notes: dict[int, dict] = field(default_factory=dict)  # GitLab's, by note id
    next_pull: int = 1


class Forge:
    def __init__(self, root: str, token: str, login: str):
        self.root, self.token, self.login = Path(root), token, login
        self.lock = threading.RLock()
        self.repos: dict[str, RepoState] = {}
        self.review_ids, self.comment_ids = itertools.count(100), itertools.count(1000)
        extra = self.root / "forge.json"
        self.extra = json.loads(extra.read_text()) if extra.is_file() else {}
        self.private = set(self.extra.get("private", []))
        for bare in sorted(self.root.glob("*/*.git")):
            self.state(f"{bare.parent.name}/{bare.name[:-4]}", bare)

    def bare(self, full: str) -> Path:
        return self.root / f"{full}.git"

    def authorized(self, header: str | None) -> bool:
        """Does an Authorization header carry the token (Basic password, Bearer or token)?"""
        scheme, _, value = (header or "").strip().partition(" ")
        value = value.strip()
        if scheme.lower() == "basic":
            try:
                value = base64.b64decode(value, validate=True).decode().partition(":")[2]
            except ValueError:
                return False
        elif scheme.lower() not in ("bearer", "token"):
            return False
        return bool(value) and hmac.compare_digest(value.encode(), self.token.encode())

    def state(self, full: str, repo: Path) -> RepoState:
        """The repository's PRs and reviews; PRs seeded from refs/pull/N/head at first use."""
        if full not in self.repos:
            state, base = RepoState(), default_branch(repo)
            for ref, sha in refs(repo, "refs/pull/") + refs(repo, "refs/merge-requests/"):
                if found := re.fullmatch(r"refs/(?:pull|merge-requests)/(\d+)/head", ref):
                    n = int(found[1])
                    state.pulls[n] = {"number": n, "title": f"PR {n}", "state": "open",
                                      "draft": False, "head": f"pr-{n}", "base": base,
                                      "body": "", "user": "someone", "sha": sha,
                                      **self.extra.get("pulls", {}).get(f"{full}#{n}", {})}
            state.next_pull = max(state.pulls, default=0) + 1
            self.repos[full] = state
        return self.repos[full]

    def api(self, method: str, path: str, query: dict, body: Any, host: str) -> tuple[int, Any]:
        for verb, pattern, func in ROUTES:
            found = pattern.fullmatch(path)
            if found and verb == method:
                body = {} if body is None else body
                if not isinstance(body, dict):
                    return 400, {"message": "Problems parsing JSON"}
                args, repo = found.groupdict(), None
                if "owner" in args:
                    repo = self.root / args["owner"] / f"{args['name']}.git"
                    if args["owner"] in (".", "..") or not (repo / "HEAD").is_file():
                        return 404, NOT_FOUND
                with self.lock:
                    return func(Call(self, args, repo, body, query, host))
        return 404, NOT_FOUND


@dataclass
class Call:
    """One API request: the route's named groups, the bare repository (it exists), the JSON
    body, the query, the Host header."""

    forge: Forge
    args: dict[str, str]
    repo: Path | None
    body: dict
    query: dict[str, str]
    host: str

    @property
    def full(self) -> str:
        return f"{self.args['owner']}/{self.args['name']}"

    @property
    def state(self) -> RepoState:
        return self.forge.state(self.full, self.repo)

    def pull(self) -> dict:
        pull = self.state.pulls.get(int(self.args["n"]))
        if pull is None:
            raise ApiError(404, "Not Found")
        return pull

    def review(self) -> dict:
        review = self.state.reviews.get(int(self.args["id"]))
        if review is None or review["pull"] != self.pull()["number"]:
            raise ApiError(404, "Not Found")
        return review


# --- API handlers: Call -> (status, JSON) ------------------------------------------------

def get_user(c: Call):
    return 200, {"login": c.forge.login, "id": 1}


def get_repo(c: Call):
    repo, name = c.repo, c.args["name"]
    return 200, {"full_name": c.full, "name": name, "owner": {"login": c.args["owner"]},
                 "default_branch": default_branch(repo),
                 "private": c.full in c.forge.private,
                 "clone_url": f"http://{c.host}/{c.full}.git",
                 "html_url": f"http://{c.host}/{c.full}"}


def list_branches(c: Call):
    return 200, [{"name": ref.removeprefix("refs/heads/"), "commit": {"sha": sha}}
                 for ref, sha in refs(c.repo, "refs/heads/")]


def get_ref(c: Call):
    ref = f"refs/{c.args['ref']}"
    sha = ref_sha(c.repo, ref)
    if not sha:
        raise ApiError(404, "Not Found")
    return 200, {"ref": ref, "object": find_object(c.repo, sha)}


def create_ref(c: Call):
    repo, ref = c.repo, c.body.get("ref")
    if not isinstance(ref, str) or not ref.startswith("refs/") or ref.count("/") < 2 or \
            git(repo, "check-ref-format", ref) is None:
        raise ApiError(422, "Reference name is not valid")
    if ref_sha(repo, ref):
        raise ApiError(422, "Reference already exists")
    target = find_object(repo, c.body.get("sha"))
    if not target:
        raise ApiError(422, "Object does not exist")
    if git(repo, "update-ref", ref, target["sha"], "") is None:
        raise ApiError(422, "Reference update failed")
    return 201, {"ref": ref, "object": target}


def update_ref(c: Call):
    repo, ref = c.repo, f"refs/{c.args['ref']}"
    old, target = ref_sha(repo, ref), find_object(repo, c.body.get("sha"))
    if not old:
        raise ApiError(422, "Reference does not exist")
    if not target:
        raise ApiError(422, "Object does not exist")
    fast_forward = git(repo, "merge-base", "--is-ancestor", old, target["sha"]) is not None
    if not c.body.get("force") and not fast_forward:
        raise ApiError(422, "Update is not a fast forward")
    if git(repo, "update-ref", ref, target["sha"], old) is None:
        raise ApiError(422, "Reference update failed")
    return 200, {"ref": ref, "object": target}


def show_pull(c: Call, pull: dict) -> dict:
    """A PR as GitHub shows it; head.sha is re-read from its branch (or refs/pull/N/head)."""
    repo, n, pull_ref = c.repo, pull["number"], f"refs/pull/{pull['number']}/head"
    branch_sha = ref_sha(repo, f"refs/heads/{pull['head']}")
    if branch_sha and branch_sha != ref_sha(repo, pull_ref):
        git(repo, "update-ref", pull_ref, branch_sha)
    head_full = pull.get("head_repo", c.full)
    if head_full != c.full:  # a fork's branch: refs/pull/N/head is the forge's copy
        branch_sha = ref_sha(c.forge.bare(head_full), f"refs/heads/{pull['head']}")
    pull["sha"] = branch_sha or ref_sha(repo, pull_ref) or pull["sha"]
    here = {"full_name": c.full, "clone_url": f"http://{c.host}/{c.full}.git"}
    head = {"full_name": head_full, "clone_url": f"http://{c.host}/{head_full}.git"}
    return {"number": n, "title": pull["title"], "state": pull["state"], "draft": pull["draft"],
            "head": {"ref": pull["head"], "sha": pull["sha"], "repo": head},
            "base": {"ref": pull["base"], "repo": here}, "body": pull["body"],
            "html_url": f"http://{c.host}/{c.full}/pull/{n}", "user": {"login": pull["user"]}}


def list_pulls(c: Call):
    wanted, head = c.query.get("state", "open"), c.query.get("head")
    pulls = sorted(c.state.pulls.values(), key=lambda p: -p["number"])
    shown = [show_pull(c, p) for p in pulls if wanted in ("all", p["state"])]
    if head and ":" in head:  # like GitHub, a head filter without "owner:" is ignored
        owner, _, branch = head.partition(":")
        shown = [p for p in shown if p["head"]["ref"] == branch and owner == c.args["owner"]]
    return 200, shown


def get_pull(c: Call):
    return 200, show_pull(c, c.pull())


def create_pull(c: Call):
    repo, body = c.repo, c.body
    for name in ("title", "head", "base"):
        if not isinstance(body.get(name), str) or not body[name].strip():
            raise invalid("PullRequest", name, "missing_field")
    head = body["head"].split(":", 1)[-1]
    sha = ref_sha(repo, f"refs/heads/{head}")
    if not sha:
        raise invalid("PullRequest", "head")
    if not ref_sha(repo, f"refs/heads/{body['base']}"):
        raise invalid("PullRequest", "base")
    state = c.state
    n, state.next_pull = state.next_pull, state.next_pull + 1
    state.pulls[n] = {"number": n, "title": body["title"], "state": "open",
                      "draft": bool(body.get("draft")), "head": head, "base": body["base"],
                      "body": body.get("body") or "", "user": c.forge.login, "sha": sha}
    git(repo, "update-ref", f"refs/pull/{n}/head", sha)
    return 201, show_pull(c, state.pulls[n])


def show_review(review: dict) -> dict:
    return {key: review[key] for key in ("id", "body", "state", "user", "commit_id")}


def list_reviews(c: Call):
    n = c.pull()["number"]
    return 200, [show_review(r) for r in c.state.reviews.values() if r["pull"] == n]


def create_review(c: Call):
    pull, body = c.pull(), c.body
    event = body.get("event")
    if event is not None and event not in EVENTS:
        raise invalid("PullRequestReview", "event")
    comments = body.get("comments") or []
    if not isinstance(comments, list) or not all(
            isinstance(x, dict) and x.get("path") and x.get("body") for x in comments):
        raise invalid("PullRequestReviewComment", "comments")
    review_id, user = next(c.forge.review_ids), {"login": c.forge.login}
    commit = body.get("commit_id") or show_pull(c, pull)["head"]["sha"]
    review = {"id": review_id, "body": body.get("body") or "", "user": user,
              "state": EVENTS[event] if event else "PENDING", "commit_id": commit,
              "pull": pull["number"],
              "comments": [{"id": next(c.forge.comment_ids), "pull_request_review_id": review_id,
                            "path": x["path"], "line": x.get("line"), "side": x.get("side"),
                            "body": x["body"], "commit_id": commit, "user": user}
                           for x in comments]}
    c.state.reviews[review_id] = review
    return 200, show_review(review)


def get_review(c: Call):
    return 200, show_review(c.review())


def update_review(c: Call):
    review = c.review()
    if not isinstance(c.body.get("body"), str):
        raise invalid("PullRequestReview", "body", "missing_field")
    review["body"] = c.body["body"]
    return 200, show_review(review)


def delete_review(c: Call):
    review = c.review()
    if review["state"] != "PENDING":
        raise ApiError(422, "Can not delete a non-pending pull request review")
    del c.state.reviews[review["id"]]
    return 200, show_review(review)


def review_comments(c: Call):
    return 200, c.review()["comments"]


def get_issue(c: Call):
    n = int(c.args["n"])
    return 200, {"number": n, "title": f"Issue {n}", "state": "open", "body": ""}


def comment_issue(c: Call):
    if not isinstance(c.body.get("body"), str) or not c.body["body"]:
        raise invalid("IssueComment", "body", "missing_field")
    return 201, {"id": next(c.forge.comment_ids), "body": c.body["body"],
                 "user": {"login": c.forge.login}}


def _routes(*table):
    repo = rf"/repos/(?P<owner>{NAME})/(?P<name>{NAME})"
    return [(verb, re.compile(pattern.replace("{repo}", repo)), func)
            for verb, pattern, func in table]


PULL, REVIEW = r"{repo}/pulls/(?P<n>\d+)", r"{repo}/pulls/(?P<n>\d+)/reviews/(?P<id>\d+)"
ROUTES = _routes(
    ("GET", r"/user", get_user),
    ("GET", r"{repo}", get_repo),
    ("GET", r"{repo}/branches", list_branches),
    ("GET", r"{repo}/git/refs?/(?P<ref>(?:heads|tags)/.+)", get_ref),
    ("POST", r"{repo}/git/refs", create_ref),
    ("PATCH", r"{repo}/git/refs/(?P<ref>(?:heads|tags)/.+)", update_ref),
    ("GET", r"{repo}/pulls", list_pulls),
    ("POST", r"{repo}/pulls", create_pull),
    ("GET", PULL, get_pull),
    ("GET", PULL + "/reviews", list_reviews),
    ("POST", PULL + "/reviews", create_review),
    ("GET", REVIEW, get_review),
    ("PUT", REVIEW, update_review),
    ("DELETE", REVIEW, delete_review),
    ("GET", REVIEW + "/comments", review_comments),
    ("GET", r"{repo}/issues/(?P<n>\d+)", get_issue),
    ("POST", r"{repo}/issues/(?P<n>\d+)/comments", comment_issue),
)


# --- HTTP --------------------------------------------------------------------------------

class RequestLog:
    """Every request seen (thread-safe): method, path, authorized, body; never the token."""

    def __init__(self):
        self.lock, self.items = threading.Lock(), []

    def add(self, record: dict) -> None:
        with self.lock:
            self.items.append(record)

    def all(self) -> list[dict]:
        with self.lock:
            return list(self.items)

    def clear(self) -> dict:
        with self.lock:
            self.items.clear()
        return {"ok": True}


def decode(raw: bytes) -> Any:
    """A request body as JSON, else text, else None."""
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


def split_cgi(out: bytes) -> tuple[bytes, bytes, bytes]:
    """A CGI's output as (headers, separator, body); no separator: (out, b"", b"")."""
    found = re.search(rb"\r?\n\r?\n", out)
    return (out[:found.start()], found[0], out[found.end():]) if found else (out, b"", b"")


class Handler(BaseHTTPRequestHandler):
    server: FakeForge
    protocol_version = "HTTP/1.1"  # keep-alive, and "100 Continue" for curl's big POSTs

    def log_message(self, format, *args):  # quiet: requests are recorded instead
        pass

    def handle_any(self):
        split = urlsplit(self.path)
        raw, forge = self.read_body(), self.server.forge
        if split.path == "/_requests" and self.command == "GET":
            return self.send_json(200, self.server.requests.all())
        if split.path == "/_reset" and self.command == "POST":
            return self.send_json(200, self.server.requests.clear())
        authorized = forge.authorized(self.headers.get("Authorization")) or (
            bool(self.headers.get("PRIVATE-TOKEN")) and forge.authorized(
                "token " + self.headers["PRIVATE-TOKEN"]))
        git_path = GIT_PATH.fullmatch(split.path)
        self.server.requests.add({"method": self.command, "path": self.path,
                                  "authorized": authorized,
                                  "body": None if git_path else decode(raw)})
        if split.path == GRAPHQL:
            return self.serve_graphql(raw, authorized)
        for root in APIS:
            if split.path.startswith(root + "/"):
                return self.serve_api(unquote(split.path[len(root):]), split.query, raw,
                                      authorized)
        if split.path.startswith(gitlab.API + "/"):
            return self.serve_api(split.path[len(gitlab.API):], split.query, raw, authorized,
                                  gitlab.api)
        if git_path:
            return self.serve_git(git_path, split.query, raw, authorized)
        self.send_json(404, NOT_FOUND)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

    def read_body(self) -> bytes:
        if "chunked" not in self.headers.get("Transfer-Encoding", "").lower():
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))
        parts = []
        while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
            parts.append(self.rfile.read(size))
            self.rfile.readline()  # the CRLF after each chunk
        while self.rfile.readline().strip():  # trailers, up to the blank line
            pass
        return b"".join(parts)

    def send(self, status: int, body: bytes, headers: list[tuple[str, str]]) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, status: int, data: Any) -> None:
        self.send(status, json.dumps(data).encode(), [("Content-Type", "application/json")])

    def serve_api(self, path: str, query: str, raw: bytes, authorized: bool,
                  api=None) -> None:
        if not authorized:
            return self.send_json(401, {"message": "Bad credentials"})
        try:
            body = json.loads(raw) if raw.strip() else None
        except ValueError:
            return self.send_json(400, {"message": "Problems parsing JSON"})
        host = self.server.web_host or self.headers.get("Host") or \
            f"localhost:{self.server.server_address[1]}"
        try:
            status, data = (api or Forge.api)(self.server.forge, self.command, path,
                                              dict(parse_qsl(query)), body, host)
        except ApiError as err:
            status, data = err.status, err.data
        if status == 204:  # No Content, as GitLab answers a DELETE
            return self.send(204, b"", [])
        self.send_json(status, data)

    def serve_graphql(self, raw: bytes, authorized: bool) -> None:
        if not authorized:
            return self.send_json(401, {"message": "Bad credentials"})
        if self.command != "POST":
            return self.send_json(404, NOT_FOUND)
        body = decode(raw)
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return self.send_json(400, {"message": "Problems parsing JSON"})
        self.send_json(200, {"data": {"viewer": {"login": self.server.forge.login}}})

    def serve_git(self, found: re.Match, query: str, raw: bytes, authorized: bool) -> None:
        pushing = "service=git-receive-pack" in query or found["rest"] == "/git-receive-pack"
        private = f"{found['owner']}/{found['repo']}" in self.server.forge.private
        if (pushing or private) and not authorized:
            return self.send(401, b"authentication required\n",
                             [("WWW-Authenticate", 'Basic realm="fakeforge"'),
                              ("Content-Type", "text/plain")])
        env = self.cgi_env(f"/{found['owner']}/{found['repo']}.git{found['rest']}", query,
                           len(raw), authorized)
        result = subprocess.run(["git", "http-backend"], input=raw, env=env,
                                capture_output=True, timeout=300)
        head, sep, body = split_cgi(result.stdout)
        status, headers = 200, []
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name.lower() not in ("content-length", "transfer-encoding", "connection"):
                headers.append((name.strip(), value.strip()))
        if not sep:
            status, headers, body = 502, [("Content-Type", "text/plain")], result.stderr
        self.send(status, body, headers)

    def cgi_env(self, path_info: str, query: str, length: int, authorized: bool) -> dict:
        config = [("safe.directory", "*"), ("http.receivepack", str(authorized).lower())]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GIT_CONFIG_NOSYSTEM": "1",
               "GIT_CONFIG_GLOBAL": os.devnull, "GIT_PROJECT_ROOT": str(self.server.forge.root),
               "GIT_HTTP_EXPORT_ALL": "1", "GATEWAY_INTERFACE": "CGI/1.1",
               "SERVER_PROTOCOL": "HTTP/1.1", "REQUEST_METHOD": self.command,
               "PATH_INFO": path_info, "QUERY_STRING": query,
               "CONTENT_TYPE": self.headers.get("Content-Type", ""),
               "CONTENT_LENGTH": str(length), "REMOTE_ADDR": self.client_address[0],
               "GIT_CONFIG_COUNT": str(len(config))}
        for n, (key, value) in enumerate(config):
            env[f"GIT_CONFIG_KEY_{n}"], env[f"GIT_CONFIG_VALUE_{n}"] = key, value
        for header in ("Content-Encoding", "Git-Protocol"):
            if self.headers.get(header):
                env["HTTP_" + header.upper().replace("-", "_")] = self.headers[header]
        if authorized:
            env["REMOTE_USER"] = self.server.forge.login
        return env


class FakeForge(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], forge: Forge, web_host: str | None = None):
        super().__init__(address, Handler)
        self.forge, self.requests, self.web_host = forge, RequestLog(), web_host


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--host", default="0.0.0.0", help="address to bind (default: all)")
    parser.add_argument("--root", required=True, help="DIR with bare repos DIR/<owner>/<repo>.git")
    parser.add_argument("--token", required=True, help="the one token the forge accepts")
    parser.add_argument("--login", default="fake-user", help="the token's user (GET /user)")
    parser.add_argument("--web-host", help="host[:port] of the URLs the API shows "
                        "(default: the request's Host header)")
    args = parser.parse_args(argv)
    server = FakeForge((args.host, args.port), Forge(args.root, args.token, args.login),
                       args.web_host)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # also as PID 1 in a container
    print(f"fakeforge listening on {server.server_address[1]}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
