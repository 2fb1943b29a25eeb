"""Pushing an agent's commit without trusting the agent's repository.

The agent's tree may carry hooks, filters or ``core.*`` settings meant to run
code in whoever works in it. So git never works *in* it: a fresh repository
in a temporary directory fetches the one commit from it (git's upload-pack
reads objects and refs only), and pushes that commit to a new ``agent-*``
branch, never forced. The token travels as an HTTP header in git's
environment, not in a URL or on a command line.
"""

from __future__ import annotations

import os
import re
import tempfile

from devaipod import runner
from devaipod.gator.forge import ForgeError

WORKSPACES = "/workspaces"
SHA = re.compile(r"^[0-9a-f]{40}$")
DESCRIPTION = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,198}[A-Za-z0-9])?$")


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


def git_env(header: str | None) -> dict[str, str]:
    pairs = [("safe.directory", "*"), ("uploadpack.allowAnySHA1InWant", "true"),
             ("protocol.file.allow", "always"), ("core.hooksPath", "/dev/null")]
    if header:
        pairs.append(("http.extraHeader", header))
    env = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null",
           "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "/bin/false",
           "GIT_CONFIG_COUNT": str(len(pairs))}
    for n, (key, value) in enumerate(pairs):
        env[f"GIT_CONFIG_KEY_{n}"] = key
        env[f"GIT_CONFIG_VALUE_{n}"] = value
    return env


def _git(args: list[str], cwd: str, env: dict[str, str], what: str) -> str:
    result = runner.capture(["git", *args], cwd=cwd, env=env, check=False, timeout=300)
    if not result.ok:
        detail = result.stderr.strip().splitlines()[-1:] or [f"exit {result.returncode}"]
        raise ForgeError(f"{what} failed: {detail[0]}")
    return result.stdout


def push_commit(repo_path: str, sha: str, remote_url: str, branch: str,
                header: str | None) -> str:
    """Push SHA of the agent's tree at REPO_PATH to BRANCH; returns the commit's body."""
    source = check_repo_path(repo_path)
    check_sha(sha)
    env = git_env(header)
    with tempfile.TemporaryDirectory(prefix="gator-push-") as tmp:
        _git(["init", "-q", "--bare", tmp], tmp, env, "preparing a clean repository")
        _git(["fetch", "-q", "--no-tags", source, sha], tmp, env,
             f"reading commit {sha[:12]} from {repo_path}")
        body = _git(["log", "-1", "--format=%b", sha], tmp, env, "reading the commit message")
        _git(["push", "-q", remote_url, f"{sha}:refs/heads/{branch}"], tmp, env,
             f"pushing to {branch}")
    return body.strip()
