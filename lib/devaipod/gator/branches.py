"""The gator's branch tools: github_push, gh_create_branch, gh_update_pr_head.

The agent's branches are the ``agent-*`` ones, and its pull requests are
those the gator opened: their body starts with ``PR_MARKER``, as a pending
review's starts with ``REVIEW_MARKER``. So:

- ``github_push`` creates ``agent-<description>``, or fast-forwards it when
  it exists; never forced, and refused when a pull request the gator did
  not open has that branch as its head;
- ``gh_create_branch`` only creates a branch that does not exist;
- ``gh_update_pr_head`` moves the ``agent-*`` head branch of a pull request
  the gator opened (one from a fork needs push-new-branch there too): a
  fast-forward only, unless the agent has ``write`` on the repository.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from devaipod.gator import push
from devaipod.gator.forge import ForgeError
from devaipod.gator.tools import Gate, _repo

PR_MARKER = "<!-- service-gator-pr -->"
AGENT_REF = re.compile(r"^agent-[A-Za-z0-9-]{1,240}$")


def marked(body: str | None) -> str:
    """A pull request body that says the gator opened it."""
    return f"{PR_MARKER}\n{body or ''}"


def opened_by_gator(pr: dict) -> bool:
    return (pr.get("body") or "").startswith(PR_MARKER)


def _head_repo(pr: dict) -> str | None:
    return ((pr.get("head") or {}).get("repo") or {}).get("full_name")


def pulls_with_head(gate: Gate, head_repo: str, branch: str, bases: tuple[str, ...]) -> list:
    """Every pull request (any state) in HEAD_REPO and BASES whose head is HEAD_REPO:BRANCH.

    Filtered here too: GitHub ignores a ``head`` filter it cannot read.
    """
    owner = head_repo.split("/", 1)[0]
    found, seen = [], set()
    for base in dict.fromkeys((head_repo, *bases)):
        path = (f"repos/{base}/pulls?state=all&per_page=100"
                f"&head={quote(owner, safe='')}:{quote(branch, safe='')}")
        for pr in gate.gh.call("GET", path) or []:
            key = (base, pr.get("number"))
            if ((pr.get("head") or {}).get("ref") == branch and key not in seen
                    and _head_repo(pr) in (head_repo, None)):  # None: a deleted fork
                seen.add(key)
                found.append(pr)
    return found


def ours(gate: Gate, head_repo: str, branch: str, bases: tuple[str, ...] = ()) -> list:
    """The pull requests with head HEAD_REPO:BRANCH; refused if the gator did not open one."""
    prs = pulls_with_head(gate, head_repo, branch, bases)
    for pr in prs:
        if not opened_by_gator(pr):
            raise ForgeError(f"refused: {head_repo} branch {branch} is the head of pull "
                             f"request #{pr.get('number')}, which was not opened through the "
                             "gator; use another description")
    return prs


def _parent(gate: Gate, repo: str) -> tuple[str, ...]:
    """The repository REPO is a fork of (its pull requests may have REPO's branches as head)."""
    info = gate.gh.call("GET", f"repos/{repo}") or {}
    parents = [(info.get(k) or {}).get("full_name") for k in ("parent", "source")]
    return tuple(dict.fromkeys(_repo(p) for p in parents if p))


def github_push(gate: Gate, repo_path: str, commit_sha: str, repo: str, description: str,
                create_draft_pr: bool = True, base: str | None = None,
                title: str | None = None, body: str | None = None,
                use_fork: bool = False) -> str:
    repo = _repo(repo)
    if use_fork:
        raise ForgeError("use_fork is not supported by devaipod's gator; push to the "
                         "repository itself")
    branch = push.branch_name(description)
    gate.need(repo, "push-new-branch")
    if create_draft_pr:
        gate.need(repo, "create-draft")
        if not (base and title):
            raise ForgeError("create_draft_pr needs base and title")
    sha = push.check_sha(commit_sha)
    prs = ours(gate, repo, branch, _parent(gate, repo))
    message_body = push.push_commit(repo_path, sha, gate.gh.clone_url(repo), branch,
                                    gate.gh.auth_header(), gate.scopes().policy,
                                    f"github:{repo}")
    lines = [f"Pushed {sha[:12]} to {repo} branch {branch}"]
    open_pr = next((pr for pr in prs if pr.get("state") == "open"), None)
    if create_draft_pr and open_pr:
        lines.append(f"Updated pull request #{open_pr.get('number')}: "
                     f"{open_pr.get('html_url')}")
    elif create_draft_pr:
        pr = gate.gh.call("POST", f"repos/{repo}/pulls", {
            "title": title, "head": branch, "base": base, "draft": True,
            "body": marked(body if body is not None else message_body)})
        lines.append(f"Draft pull request #{pr.get('number')}: {pr.get('html_url')}")
    return "\n".join(lines)


def gh_create_branch(gate: Gate, repo: str, commit_sha: str, description: str,
                     issue_number: int | None = None) -> str:
    repo = _repo(repo)
    gate.need(repo, "push-new-branch")
    if issue_number is not None and int(issue_number) <= 0:
        raise ForgeError(f"issue_number {issue_number!r}: a positive number")
    branch = push.branch_name(description, issue_number)
    sha = push.check_sha(commit_sha)
    if gate.gh.request("GET", f"repos/{repo}/git/ref/heads/{branch}").ok:
        raise ForgeError(f"branch {branch} already exists in {repo}")
    # GitHub refuses to create a reference that exists: nothing is ever moved here
    gate.gh.call("POST", f"repos/{repo}/git/refs", {"ref": f"refs/heads/{branch}", "sha": sha})
    return f"Created branch {branch} at {sha[:12]} in {repo}"


def gh_update_pr_head(gate: Gate, repo: str, pull_number: int, commit_sha: str) -> str:
    repo = _repo(repo)
    sha = push.check_sha(commit_sha)
    gate.need(repo, "push-new-branch")
    n = int(pull_number)
    pr = gate.gh.call("GET", f"repos/{repo}/pulls/{n}") or {}
    head_repo, ref = _head_repo(pr), (pr.get("head") or {}).get("ref") or ""
    if not head_repo:
        raise ForgeError(f"refused: pull request #{n}'s head repository is gone")
    targets = tuple(dict.fromkeys((repo, _repo(head_repo))))
    for target in targets:
        gate.need(target, "push-new-branch")
    if not AGENT_REF.match(ref):
        raise ForgeError(f"refused: pull request #{n}'s head branch {ref!r} is not an "
                         "agent-* branch")
    if not opened_by_gator(pr):
        raise ForgeError(f"refused: pull request #{n} was not opened through the gator")
    ours(gate, head_repo, ref, (repo,))
    force = all(gate.scopes().allows(t, "write") for t in targets)
    try:
        gate.gh.call("PATCH", f"repos/{head_repo}/git/refs/heads/{ref}",
                     {"sha": sha, "force": force})
    except ForgeError as exc:
        hint = "" if force else " (without write access only a fast-forward is allowed)"
        raise ForgeError(f"{exc}{hint}") from None
    return f"Moved {head_repo} branch {ref} (pull request #{n}) to {sha[:12]}"
