"""What the gator lets an agent do: the scope document and its checks.

The document is service-gator's JSON form, so an upstream gator image reads
the same file::

    {"scopes": {"gh": {"read": false, "graphql": "none",
                       "repos": {"owner/repo": {"read": true, "create-draft": true,
                                                "pending-review": false,
                                                "push-new-branch": true, "write": false}},
                       "prs": {"owner/repo#1": {"read": true, "write": true}},
                       "issues": {}}}}

A repository key is ``owner/repo`` or a pattern ending in ``*`` (``owner/*``,
``*``): an exact key wins, else the longest matching prefix. As upstream, a
field left out of a repository entry defaults to read, create-draft and
pending-review; devaipod itself always writes every field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

OPS = ("read", "create-draft", "pending-review", "push-new-branch", "write")
GH_DEFAULTS = {"read": True, "create-draft": True, "pending-review": True,
               "push-new-branch": False, "write": False}
# which grants satisfy an operation (service-gator's implication table)
SATISFIED_BY = {
    "read": OPS,
    "create-draft": ("create-draft", "push-new-branch", "write"),
    "pending-review": ("pending-review", "write"),
    "push-new-branch": ("push-new-branch", "write"),
    "write": ("write",),
}
REPO = re.compile(r"^[A-Za-z0-9_.-]{1,39}/[A-Za-z0-9_.-]{1,100}$")
ITEM = re.compile(r"^([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)#([0-9]+)$")

Perms = dict[str, bool]


class ScopeError(ValueError):
    """A scope document or a scope string that cannot be understood."""


def _perms(value: Any, where: str, defaults: Perms) -> Perms:
    if not isinstance(value, dict):
        raise ScopeError(f"{where}: expected an object of permissions")
    unknown = set(value) - set(defaults)
    if unknown:
        raise ScopeError(f"{where}: unknown permission {sorted(unknown)[0]!r}; "
                         f"known: {', '.join(defaults)}")
    if any(not isinstance(v, bool) for v in value.values()):
        raise ScopeError(f"{where}: permissions are true or false")
    return {**defaults, **value}


def _table(data: dict, key: str, defaults: Perms, check: re.Pattern | None = None) -> dict:
    raw = data.get(key)
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        raise ScopeError(f"gh.{key}: expected an object")
    out = {}
    for name, value in raw.items():
        if check and not check.match(name):
            raise ScopeError(f"gh.{key}: {name!r} is not OWNER/REPO#N")
        out[name] = _perms(value, f"gh.{key}.{name}", defaults)
    return out


@dataclass(frozen=True)
class Scopes:
    gh_read: bool = False
    graphql: str = "none"
    repos: dict[str, Perms] = field(default_factory=dict)
    prs: dict[str, Perms] = field(default_factory=dict)
    issues: dict[str, Perms] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> Scopes:
        """The wrapper form ``{"scopes": {...}}`` or a bare scope object."""
        if isinstance(data, dict) and "scopes" in data:
            data = data["scopes"]
        if not isinstance(data, dict):
            raise ScopeError("a scope document is a JSON object")
        gh = data.get("gh")
        gh = {} if gh is None else gh
        if not isinstance(gh, dict):
            raise ScopeError("gh: expected an object")
        graphql = gh.get("graphql", "none")
        graphql = {True: "read", False: "none", None: "none"}.get(graphql, graphql)
        if graphql not in ("none", "read"):
            raise ScopeError("gh.graphql: expected \"none\" or \"read\"")
        item = {"read": True, "write": True}
        return cls(gh_read=bool(gh.get("read", False)), graphql=graphql,
                   repos=_table(gh, "repos", GH_DEFAULTS),
                   prs=_table(gh, "prs", item, ITEM), issues=_table(gh, "issues", item, ITEM))

    def to_json(self) -> dict:
        return {"scopes": {"gh": {"read": self.gh_read, "graphql": self.graphql,
                                  "repos": self.repos, "prs": self.prs,
                                  "issues": self.issues}}}

    @property
    def empty(self) -> bool:
        return not (self.gh_read or self.repos or self.prs or self.issues)

    def repo_perms(self, repo: str) -> Perms | None:
        if repo in self.repos:
            return self.repos[repo]
        prefixes = [k for k in self.repos if k.endswith("*") and repo.startswith(k[:-1])]
        return self.repos[max(prefixes, key=len)] if prefixes else None

    def allows(self, repo: str, op: str) -> bool:
        if op == "read" and self.gh_read:
            return True
        perms = self.repo_perms(repo) or {}
        return any(perms.get(grant) for grant in SATISFIED_BY[op])

    def allows_item(self, repo: str, kind: str, number: int, op: str) -> bool:
        """A read or write of pull request / issue NUMBER: its own grant, else the repo's."""
        table = self.prs if kind == "pulls" else self.issues
        item = table.get(f"{repo}#{number}")
        if item is not None and item.get(op):
            return True
        return self.allows(repo, op)

    def readonly(self) -> Scopes:
        """The same reach, reads only (the worker's view)."""
        def ro(perms: Perms, ops) -> Perms:
            return {op: (op == "read" and any(perms.values())) for op in ops}
        return replace(self, repos={k: ro(v, OPS) for k, v in self.repos.items()},
                       prs={k: ro(v, ("read", "write")) for k, v in self.prs.items()},
                       issues={k: ro(v, ("read", "write")) for k, v in self.issues.items()})

    def describe(self) -> list[str]:
        """One line per grant, e.g. ``github:owner/repo:read,push-new-branch``."""
        lines = ["github:read-all"] if self.gh_read else []
        for kind, table in (("", self.repos), ("pr ", self.prs), ("issue ", self.issues)):
            for key, perms in sorted(table.items()):
                granted = [op for op, on in perms.items() if on]
                lines.append(f"github:{kind}{key}:{','.join(granted) or 'none'}")
        return lines


PERM_ALIASES = {"read": "read", "write": "write", "create-draft": "create-draft",
                "draft": "create-draft", "pending-review": "pending-review",
                "review": "pending-review", "push-new-branch": "push-new-branch",
                "push": "push-new-branch"}


def repo_grant(*granted: str) -> Perms:
    """A complete repository entry: every field written, reads always included."""
    return {op: op == "read" or op in granted for op in OPS}


def parse_flag(text: str) -> tuple[str | None, Perms | None]:
    """``--service-gator`` strings: ``github:read-all`` or ``github:OWNER/REPO[:PERM,...]``.

    Returns (repo, perms), or (None, None) for global read. OWNER/* and *
    patterns are allowed; every permission implies read.
    """
    service, sep, rest = text.partition(":")
    if service not in ("github", "gh") or not sep:
        if service in ("gitlab", "jira", "forgejo"):
            raise ScopeError(f"scope {text!r}: only GitHub scopes are supported")
        raise ScopeError(f"scope {text!r}: expected github:OWNER/REPO[:PERMS] "
                         "or github:read-all")
    if rest in ("read-all", "readonly-all"):
        return None, None
    target, _, perms = rest.partition(":")
    if target != "*" and not re.match(r"^[A-Za-z0-9_.-]+/([A-Za-z0-9_.-]+|\*)$", target):
        raise ScopeError(f"scope {text!r}: {target!r} is not OWNER/REPO or OWNER/*")
    granted = []
    for perm in filter(None, perms.split(",")):
        if perm not in PERM_ALIASES:
            raise ScopeError(f"scope {text!r}: unknown permission {perm!r}; known: "
                             "read, create-draft, pending-review, push-new-branch, write")
        granted.append(PERM_ALIASES[perm])
    return target, repo_grant(*granted)
