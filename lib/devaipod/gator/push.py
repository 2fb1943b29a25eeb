"""Pushing an agent's commit without trusting the agent's repository.

The agent's tree may carry hooks, filters, a promisor remote or ``core.*``
settings meant to run code in whoever works in it. So git never works *in*
it: the push is made from a shadow of it (``devaipod.gitsafe``), a trusted
git dir that reads the agent's objects as data, to a new ``agent-*`` branch,
never forced. The token travels as an HTTP header in git's environment, not
in a URL or on a command line.

Before the push, the forge's branches and tags are fetched into the shadow,
and the commits the push adds are checked against the content policy
(``devaipod.gator.policy``): a refusal is raised before anything is sent.
"""

from __future__ import annotations

import os
import re
from contextvars import ContextVar

from devaipod import gitsafe
from devaipod.gator import pushcheck
from devaipod.gator.forge import ForgeError
from devaipod.gator.policy import Policy

WORKSPACES = "/workspaces"
SHA = re.compile(r"^[0-9a-f]{40}$")
DESCRIPTION = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,198}[A-Za-z0-9])?$")


# the tool call's record of what it pushed (set by the server around each call: see
# gator.server.Audit), for the audit trail's push event
PUSHED: ContextVar[dict | None] = ContextVar("pushed", default=None)


def note_push(**fields) -> None:
    record = PUSHED.get()
    if record is not None:
        record.update(fields)


def check_sha(sha: str) -> str:
    if not SHA.match(sha or ""):
        raise ForgeError(f"commit_sha {sha!r} is not a full 40-character commit id")
    return sha


def branch_name(description: str, issue: int | None = None) -> str:
    """``agent-[<issue>-]<description>``: the only branches the agent can create."""
    if not DESCRIPTION.match(description or ""):
        raise ForgeError(f"description {description!r}: use 1-200 letters, digits and '-' "
                         "(not at either end)")
    return f"agent-{issue}-{description}" if issue else f"agent-{description}"


def check_repo_path(path: str, root: str | None = None) -> str:
    """An existing git tree under /workspaces, symbolic links resolved."""
    root = root or WORKSPACES
    if not path or not os.path.isabs(path) or ".." in path.split("/"):
        raise ForgeError(f"repo_path {path!r}: give an absolute path under {root}")
    real = os.path.realpath(path)
    if real != root and not real.startswith(root.rstrip("/") + "/"):
        raise ForgeError(f"repo_path {path!r} is not under {root}")
    if not os.path.exists(os.path.join(real, ".git")):
        raise ForgeError(f"repo_path {path!r} is not a git repository")
    return real


def push_config(header: str | None) -> tuple[tuple[str, str], ...]:
    """What the push needs beyond the shadow's environment (which allows no protocol)."""
    pairs = (("protocol.https.allow", "always"), ("protocol.http.allow", "always"))
    return (*pairs, ("http.extraHeader", header)) if header else pairs


def _git(shadow: str, args: list[str], what: str, **kwargs) -> str:
    result = gitsafe.capture(shadow, args, timeout=300, **kwargs)
    if not result.ok:
        detail = result.stderr.strip().splitlines()[-1:] or [f"exit {result.returncode}"]
        raise ForgeError(f"{what} failed: {detail[0]}")
    return result.stdout


FORGE_REFS = ("+refs/heads/*:refs/forge/heads/*", "+refs/tags/*:refs/forge/tags/*")


def forge_tips(shadow: str, remote_url: str, header: str | None) -> list[str]:
    """The ids of the forge's branches and tags, fetched (with their history) from it."""
    _git(shadow, ["fetch", "-q", "--no-tags", "--no-write-fetch-head", remote_url,
                  *FORGE_REFS], "fetching the forge's branches", more=push_config(header))
    out = _git(shadow, ["for-each-ref", "--format=%(objectname)", "refs/forge/"],
               "listing the forge's branches")
    return sorted(set(out.split()))


def push_commit(repo_path: str, sha: str, remote_url: str, branch: str,
                header: str | None, policy: Policy | None = None, target: str = "") -> str:
    """Push SHA of the agent's tree at REPO_PATH to BRANCH; returns the commit's body.
    With POLICY, the commits it adds to TARGET (``github:OWNER/REPO``) are checked first."""
    source = check_repo_path(repo_path)
    check_sha(sha)
    try:
        with gitsafe.shadow(source) as shadow:
            _git(shadow, ["cat-file", "-e", f"{sha}^{{commit}}"],
                 f"reading commit {sha[:12]} from {repo_path}")
            body = _git(shadow, ["log", "-1", "--format=%b", sha], "reading the commit message")
            commits: list[str] = []
            files: list[str] = []
            if policy is not None:
                commits, files = pushcheck.check(
                    policy, shadow, sha, forge_tips(shadow, remote_url, header), target)
            _git(shadow, ["push", "-q", remote_url, f"{sha}:refs/heads/{branch}"],
                 f"pushing to {branch}", more=push_config(header))
            note_push(target=target, branch=branch, sha=sha, commits=commits, files=files)
    except gitsafe.ShadowError as exc:
        raise ForgeError(f"reading {repo_path} failed: {exc}") from None
    return body.strip()
