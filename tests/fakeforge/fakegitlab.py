"""The fake forge's GitLab REST API subset (/api/v4), for devaipod's merge-request look-up.

Every call needs the token (PRIVATE-TOKEN: TOKEN, or an Authorization header as for the
GitHub API). A project is named by its id or its URL-encoded path (owner%2Frepo); ids
number the forge's repositories in sorted order from 1.

  GET /user
  GET /projects/{id}                              {id, path_with_namespace, http_url_to_repo, ...}
  GET /projects/{id}/merge_requests[?state=opened|closed|merged|all][&source_branch=B]
  POST /projects/{id}/merge_requests              {source_branch, target_branch, title,
                                                   description?}: "Draft: " titles are drafts
  GET /projects/{id}/merge_requests/{iid}         {iid, title, source_branch, source_project_id,
                                                   target_project_id, sha, description, draft,
                                                   ...}
  GET /projects/{id}/issues/{iid}                 (any iid: "Issue iid")
  GET|POST /projects/{id}/merge_requests/{iid}/draft_notes            {note}
  GET|PUT|DELETE /projects/{id}/merge_requests/{iid}/draft_notes/{n}  (PUT: {note})
                                                  draft notes: a pending review

Merge requests are the forge's pull requests (seeded from refs/merge-requests/N/head, or
refs/pull/N/head, and DIR/forge.json).
"""

from __future__ import annotations

import re
import subprocess
from typing import Any
from urllib.parse import unquote

API = "/api/v4"
NOT_FOUND = {"message": "404 Not found"}
ROUTE = re.compile(r"/projects/(?P<id>[^/]+)"
                   r"(?:/(?P<kind>merge_requests|issues)(?:/(?P<n>\d+))?)?")
NOTES = re.compile(r"/projects/(?P<id>[^/]+)/merge_requests/(?P<n>\d+)/draft_notes"
                   r"(?:/(?P<note>\d+))?")


def projects(forge: Any) -> list[str]:
    return sorted(f"{bare.parent.name}/{bare.name[:-4]}" for bare in forge.root.glob("*/*.git"))


def project_of(forge: Any, ident: str) -> tuple[int, str] | None:
    """(id, owner/repo) of a project id or URL-encoded path."""
    names = projects(forge)
    if ident.isdigit():
        n = int(ident)
        return (n, names[n - 1]) if 0 < n <= len(names) else None
    full = unquote(ident)
    return (names.index(full) + 1, full) if full in names else None


def show_project(forge: Any, pid: int, full: str, host: str) -> dict:
    return {"id": pid, "path_with_namespace": full, "name": full.split("/")[-1],
            "visibility": "private" if full in forge.private else "public",
            "http_url_to_repo": f"http://{host}/{full}.git",
            "web_url": f"http://{host}/{full}"}


def show_mr(forge: Any, pid: int, full: str, pull: dict, host: str) -> dict:
    head = pull.get("head_repo", full)
    found = project_of(forge, head.replace("/", "%2F"))
    state = {"open": "opened"}.get(pull["state"], pull["state"])
    return {"iid": pull["number"], "title": pull["title"], "state": state,
            "description": pull.get("body") or "", "draft": bool(pull.get("draft")),
            "source_branch": pull["head"], "target_branch": pull["base"],
            "source_project_id": found[0] if found else pid, "target_project_id": pid,
            "sha": pull["sha"], "web_url": f"http://{host}/{full}/-/merge_requests/"
                                           f"{pull['number']}"}


def ref_sha(forge: Any, full: str, branch: str) -> str | None:
    out = subprocess.run(["git", "-C", str(forge.bare(full)), "rev-parse", "--verify", "-q",
                          f"refs/heads/{branch}^{{commit}}"], capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 else None


def list_mrs(forge: Any, pid: int, full: str, query: dict, host: str) -> tuple[int, Any]:
    state, source = query.get("state", "all"), query.get("source_branch")
    with forge.lock:
        pulls = sorted(forge.state(full, forge.bare(full)).pulls.values(),
                       key=lambda p: -p["number"])
        shown = [show_mr(forge, pid, full, p, host) for p in pulls]
    return 200, [m for m in shown if state in ("all", m["state"])
                 and source in (None, m["source_branch"])]


def create_mr(forge: Any, pid: int, full: str, body: Any, host: str) -> tuple[int, Any]:
    body = body if isinstance(body, dict) else {}
    for name in ("source_branch", "target_branch", "title"):
        if not isinstance(body.get(name), str) or not body[name].strip():
            return 400, {"message": f"{name} is missing"}
    with forge.lock:
        sha = ref_sha(forge, full, body["source_branch"])
        if not sha or not ref_sha(forge, full, body["target_branch"]):
            return 400, {"message": "Invalid source or target branch"}
        state = forge.state(full, forge.bare(full))
        n, state.next_pull = state.next_pull, state.next_pull + 1
        state.pulls[n] = {"number": n, "title": body["title"], "state": "open",
                          "draft": body["title"].startswith(("Draft:", "[Draft]")),
                          "head": body["source_branch"], "base": body["target_branch"],
                          "body": body.get("description") or "", "user": forge.login,
                          "sha": sha}
        return 201, show_mr(forge, pid, full, state.pulls[n], host)


def draft_notes(forge: Any, method: str, full: str, n: int, note: str | None,
                body: Any) -> tuple[int, Any]:
    with forge.lock:
        state = forge.state(full, forge.bare(full))
        if n not in state.pulls:
            return 404, NOT_FOUND
        notes = state.draft_notes
        if note is None and method == "GET":
            return 200, [d for d in notes.values() if d["merge_request_iid"] == n]
        if note is None and method == "POST":
            text = body.get("note") if isinstance(body, dict) else None
            if not isinstance(text, str) or not text:
                return 400, {"message": "note is missing"}
            made = {"id": next(forge.comment_ids), "note": text, "merge_request_iid": n,
                    "author_id": 1}
            notes[made["id"]] = made
            return 201, made
        found = notes.get(int(note or 0))
        if found is None or found["merge_request_iid"] != n:
            return 404, NOT_FOUND
        if method == "GET":
            return 200, found
        if method == "PUT" and isinstance(body, dict) and isinstance(body.get("note"), str):
            found["note"] = body["note"]
            return 200, found
        if method == "DELETE":
            del notes[found["id"]]
            return 204, None
        return 400, {"message": "bad request"}


def api(forge: Any, method: str, path: str, query: dict, body: Any,
        host: str) -> tuple[int, Any]:
    if path == "/user" and method == "GET":
        return 200, {"username": forge.login, "id": 1}
    if (notes := NOTES.fullmatch(path)) is not None:
        found = project_of(forge, notes["id"])
        return (draft_notes(forge, method, found[1], int(notes["n"]), notes["note"], body)
                if found else (404, NOT_FOUND))
    route = ROUTE.fullmatch(path)
    found = project_of(forge, route["id"]) if route else None
    if route is None or found is None:
        return 404, NOT_FOUND
    pid, full = found
    if method == "POST" and route["kind"] == "merge_requests" and route["n"] is None:
        return create_mr(forge, pid, full, body, host)
    if method != "GET":
        return 404, NOT_FOUND
    if route["kind"] is None:
        return 200, show_project(forge, pid, full, host)
    if route["n"] is None:
        return list_mrs(forge, pid, full, query, host) if route["kind"] == "merge_requests" \
            else (404, NOT_FOUND)
    n = int(route["n"])
    if route["kind"] == "issues":
        return 200, {"iid": n, "title": f"Issue {n}", "state": "opened"}
    with forge.lock:
        pull = forge.state(full, forge.bare(full)).pulls.get(n)
        return (200, show_mr(forge, pid, full, pull, host)) if pull else (404, NOT_FOUND)
