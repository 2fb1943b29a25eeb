"""github_pending_review_tool (and forgejo_pending_review_tool, on Forgejo's review API,
which is GitHub's): the agent drafts a review, a human submits it.

Reviews are created without an ``event``, so the forge keeps them PENDING;
their body starts with a hidden marker, and only marked, still pending
reviews can be changed or deleted through the gator.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from devaipod.gator.forge import ForgeError, GitHub
from devaipod.gator.scopes import PROJECT
from devaipod.gator.tools import REVIEW_MARKER, Gate, _repo

OPERATIONS = ("list", "create", "get", "update", "delete", "extended-help")
HELP = """github_pending_review_tool operations:
  list    pending reviews made through the gator on repo#pull_number
  create  a new pending review: body, comments [{path, line, side, body}];
          refused if one exists unless replace=true; dry_run=true shows the request
  get     one review by review_id
  update  change the body of a pending review made through the gator
  delete  delete a pending review made through the gator
The human submits the review on GitHub; the agent cannot."""


def _ours(review: dict) -> bool:
    return (review.get("body") or "").startswith(REVIEW_MARKER)


def _pending_ours(client: GitHub, base: str) -> list[dict]:
    reviews = client.call("GET", f"{base}/reviews") or []
    return [r for r in reviews if _ours(r) and r.get("state") == "PENDING"]


def _marked(body: str | None) -> str:
    return f"{REVIEW_MARKER}\n{body or ''}"


def _editable(client: GitHub, base: str, review_id: int | None) -> str:
    if review_id is None:
        raise ForgeError("review_id is required")
    review = client.call("GET", f"{base}/reviews/{int(review_id)}")
    if not _ours(review) or review.get("state") != "PENDING":
        raise ForgeError(f"review {review_id} is not a pending review made through the gator")
    return f"{base}/reviews/{int(review_id)}"


def github_pending_review_tool(gate: Gate, operation: str, repo: str, pull_number: int,
                               review_id: int | None = None, body: str | None = None,
                               comments: list[dict[str, Any]] | None = None,
                               dry_run: bool = False, replace: bool = False) -> str:
    return pending_review(gate, "github", operation, repo, pull_number, review_id, body,
                          comments, dry_run, replace)


def forgejo_pending_review_tool(gate: Gate, operation: str, repo: str, pull_number: int,
                                review_id: int | None = None, body: str | None = None,
                                comments: list[dict[str, Any]] | None = None,
                                dry_run: bool = False, replace: bool = False) -> str:
    """The same on Forgejo, whose review API is GitHub's (a review without an event is
    pending); Forgejo cannot change a review's body: update is delete and create."""
    if operation == "update":
        raise ForgeError("Forgejo cannot change a pending review: delete it and create "
                         "another (or create with replace=true)")
    return pending_review(gate, "forgejo", operation, repo, pull_number, review_id, body,
                          comments, dry_run, replace)


def pending_review(gate: Gate, service: str, operation: str, repo: str, pull_number: int,
                   review_id: int | None, body: str | None,
                   comments: list[dict[str, Any]] | None, dry_run: bool,
                   replace: bool) -> str:
    if operation == "extended-help":
        return HELP.replace("github_pending_review_tool", f"{service}_pending_review_tool")
    if operation not in OPERATIONS:
        raise ForgeError(f"operation {operation!r}: use one of {', '.join(OPERATIONS)}")
    repo = _repo(repo)
    client = gate.gh if service == "github" else gate.client(service)
    base = f"repos/{repo}/pulls/{int(pull_number)}"
    if operation in ("list", "get"):
        gate.need(repo, "read", service)
        found = (_pending_ours(client, base) if operation == "list"
                 else client.call("GET", f"{base}/reviews/{int(review_id or 0)}"))
        return json.dumps(found, indent=2)
    gate.need(repo, "pending-review", service)
    if operation == "update":
        return json.dumps(client.call("PUT", _editable(client, base, review_id),
                                      {"body": _marked(body)}), indent=2)
    if operation == "delete":
        client.call("DELETE", _editable(client, base, review_id))
        return f"Deleted pending review {review_id}"
    request = {"body": _marked(body), "comments": comments or []}
    if dry_run:
        return "Would POST " + f"{base}/reviews:\n" + json.dumps(request, indent=2)
    existing = _pending_ours(client, base)
    if existing and not replace:
        raise ForgeError(f"pending review {existing[0].get('id')} exists; update it, or "
                         "pass replace=true")
    for review in existing:
        client.call("DELETE", f"{base}/reviews/{review['id']}")
    created = client.call("POST", f"{base}/reviews", request)
    return (f"Created pending review {created.get('id')} on {repo}#{pull_number}; "
            "a human must submit it.")


NOTE_OPERATIONS = ("list", "create", "get", "update", "delete", "extended-help")
NOTE_HELP = """gitlab_pending_review_tool operations (GitLab's draft notes: its pending review):
  list    draft notes made through the gator on project!merge_request_iid
  create  a new draft note: body (dry_run=true shows the request)
  get     one draft note by note_id
  update  change the body of a draft note made through the gator
  delete  delete a draft note made through the gator
Draft notes stay unpublished until a human publishes the review; the agent cannot.
The grant is create-draft (upstream's GitLab table has no pending-review)."""


def _note_path(project: str, iid: int) -> str:
    if not PROJECT.match(project or ""):
        raise ForgeError(f"project {project!r}: expected GROUP/PROJECT")
    return f"projects/{quote(project, safe='')}/merge_requests/{int(iid)}/draft_notes"


def _note_editable(client: GitHub, base: str, note_id: int | None) -> str:
    if note_id is None:
        raise ForgeError("note_id is required")
    note = client.call("GET", f"{base}/{int(note_id)}")
    if not str(note.get("note") or "").startswith(REVIEW_MARKER):
        raise ForgeError(f"draft note {note_id} was not made through the gator")
    return f"{base}/{int(note_id)}"


def gitlab_pending_review_tool(gate: Gate, operation: str, project: str,
                               merge_request_iid: int, note_id: int | None = None,
                               body: str | None = None, dry_run: bool = False) -> str:
    if operation == "extended-help":
        return NOTE_HELP
    if operation not in NOTE_OPERATIONS:
        raise ForgeError(f"operation {operation!r}: use one of {', '.join(NOTE_OPERATIONS)}")
    base, client = _note_path(project, merge_request_iid), gate.client("gitlab")
    if operation in ("list", "get"):
        gate.need(project, "read", "gitlab")
        if operation == "get":
            return json.dumps(client.call("GET", f"{base}/{int(note_id or 0)}"), indent=2)
        notes = client.call("GET", base) or []
        return json.dumps([n for n in notes
                           if str(n.get("note") or "").startswith(REVIEW_MARKER)], indent=2)
    gate.need(project, "create-draft", "gitlab")
    if operation == "update":
        return json.dumps(client.call("PUT", _note_editable(client, base, note_id),
                                      {"note": _marked(body)}), indent=2)
    if operation == "delete":
        client.call("DELETE", _note_editable(client, base, note_id))
        return f"Deleted draft note {note_id}"
    request = {"note": _marked(body)}
    if dry_run:
        return f"Would POST {base}:\n" + json.dumps(request, indent=2)
    created = client.call("POST", base, request)
    return (f"Created draft note {created.get('id')} on {project}!{merge_request_iid}; "
            "a human must publish it.")
