"""github_pending_review_tool: the agent drafts a review, a human submits it.

Reviews are created without an ``event``, so GitHub keeps them PENDING;
their body starts with a hidden marker, and only marked, still pending
reviews can be changed or deleted through the gator.
"""

from __future__ import annotations

import json
from typing import Any

from devaipod.gator.forge import ForgeError
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


def _pending_ours(gate: Gate, base: str) -> list[dict]:
    reviews = gate.gh.call("GET", f"{base}/reviews") or []
    return [r for r in reviews if _ours(r) and r.get("state") == "PENDING"]


def _marked(body: str | None) -> str:
    return f"{REVIEW_MARKER}\n{body or ''}"


def _editable(gate: Gate, base: str, review_id: int | None) -> str:
    if review_id is None:
        raise ForgeError("review_id is required")
    review = gate.gh.call("GET", f"{base}/reviews/{int(review_id)}")
    if not _ours(review) or review.get("state") != "PENDING":
        raise ForgeError(f"review {review_id} is not a pending review made through the gator")
    return f"{base}/reviews/{int(review_id)}"


def github_pending_review_tool(gate: Gate, operation: str, repo: str, pull_number: int,
                               review_id: int | None = None, body: str | None = None,
                               comments: list[dict[str, Any]] | None = None,
                               dry_run: bool = False, replace: bool = False) -> str:
    if operation == "extended-help":
        return HELP
    if operation not in OPERATIONS:
        raise ForgeError(f"operation {operation!r}: use one of {', '.join(OPERATIONS)}")
    repo = _repo(repo)
    base = f"repos/{repo}/pulls/{int(pull_number)}"
    if operation in ("list", "get"):
        gate.need(repo, "read")
        found = (_pending_ours(gate, base) if operation == "list"
                 else gate.gh.call("GET", f"{base}/reviews/{int(review_id or 0)}"))
        return json.dumps(found, indent=2)
    gate.need(repo, "pending-review")
    if operation == "update":
        return json.dumps(gate.gh.call("PUT", _editable(gate, base, review_id),
                                       {"body": _marked(body)}), indent=2)
    if operation == "delete":
        gate.gh.call("DELETE", _editable(gate, base, review_id))
        return f"Deleted pending review {review_id}"
    request = {"body": _marked(body), "comments": comments or []}
    if dry_run:
        return "Would POST " + f"{base}/reviews:\n" + json.dumps(request, indent=2)
    existing = _pending_ours(gate, base)
    if existing and not replace:
        raise ForgeError(f"pending review {existing[0].get('id')} exists; update it, or "
                         "pass replace=true")
    for review in existing:
        gate.gh.call("DELETE", f"{base}/reviews/{review['id']}")
    created = gate.gh.call("POST", f"{base}/reviews", request)
    return (f"Created pending review {created.get('id')} on {repo}#{pull_number}; "
            "a human must submit it.")
