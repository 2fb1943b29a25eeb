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

GitLab and Forgejo grants are upstream's ``gitlab`` and ``forgejo`` sections::

    "gitlab": {"host": "gitlab.com", "projects": {"group/sub/project": {"read": true,
               "create-draft": true, "approve": false, "push-new-branch": true,
               "write": false}}, "mrs": {}, "issues": {}},
    "forgejo": [{"host": "codeberg.org", "repos": {"owner/repo": {"read": true,
                 "create-draft": false, "pending-review": false, "push-new-branch": false,
                 "write": false}}, "prs": {}, "issues": {}}]

A field left out there defaults to false (as upstream). devaipod's gator keeps one
Forgejo (its address is the gator's ``SERVICE_GATOR_FORGEJO_URL``); the ``host`` keys
are kept for upstream's image. Every grant implies read; write implies everything.

devaipod's push content policy (``devaipod.gator.policy``) sits next to the scopes,
outside them (upstream's image ignores it)::

    {"scopes": {...}, "push-policy": {"deny-paths": [".github/workflows/**"],
     "max-file-size": 10485760, "max-commits": 100,
     "allow-workflows": ["github:owner/repo"]}}

A document without it gets the default policy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from devaipod.gator.policy import ALLOW, Policy

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
GL_OPS = ("read", "create-draft", "approve", "push-new-branch", "write")
NONE_DEFAULTS = {op: False for op in OPS}
GL_NONE = {op: False for op in GL_OPS}
SATISFIED_BY["approve"] = ("approve", "write")
SATISFIED_BY["read"] = (*OPS, "approve")  # upstream: any GitLab grant implies read
SERVICES = {"github": "github", "gh": "github", "gitlab": "gitlab", "gl": "gitlab",
            "forgejo": "forgejo"}
# a GitLab project path (groups nest) or a Forgejo OWNER/REPO; "." and ".." never
PROJECT = re.compile(r"^(?!.*(?:^|/)\.{1,2}(?:/|$))"
                     r"[A-Za-z0-9_.-]{1,255}(?:/[A-Za-z0-9_.-]{1,255}){1,20}$")
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


def _table(data: dict, key: str, defaults: Perms, check: re.Pattern | None = None,
           where: str = "gh") -> dict:
    raw = data.get(key)
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        raise ScopeError(f"{where}.{key}: expected an object")
    out = {}
    for name, value in raw.items():
        if check and not check.match(name):
            raise ScopeError(f"{where}.{key}: {name!r} is not OWNER/REPO#N")
        out[name] = _perms(value, f"{where}.{key}.{name}", defaults)
    return out


def _section(data: dict, key: str) -> dict:
    value = data.get(key)
    value = {} if value is None else value
    if not isinstance(value, dict):
        raise ScopeError(f"{key}: expected an object")
    return value


def _forgejo(data: dict) -> tuple[str | None, dict[str, Perms]]:
    """(host, repos) of upstream's list of Forgejo hosts: devaipod's gator has one."""
    hosts = data.get("forgejo") or []
    hosts = [hosts] if isinstance(hosts, dict) else hosts
    if not isinstance(hosts, list) or len(hosts) > 1 or \
            not all(isinstance(h, dict) for h in hosts):
        raise ScopeError("forgejo: expected a list of one host's grants")
    if not hosts:
        return None, {}
    host = hosts[0].get("host")
    return (host if isinstance(host, str) else None,
            _table(hosts[0], "repos", NONE_DEFAULTS, where="forgejo"))


@dataclass(frozen=True)
class Scopes:
    gh_read: bool = False
    graphql: str = "none"
    repos: dict[str, Perms] = field(default_factory=dict)
    prs: dict[str, Perms] = field(default_factory=dict)
    issues: dict[str, Perms] = field(default_factory=dict)
    gitlab: dict[str, Perms] = field(default_factory=dict)  # project path -> GL_OPS
    gitlab_host: str | None = None
    forgejo: dict[str, Perms] = field(default_factory=dict)  # OWNER/REPO -> OPS
    forgejo_host: str | None = None
    policy: Policy = field(default_factory=Policy)

    @classmethod
    def from_json(cls, data: Any) -> Scopes:
        """The wrapper form ``{"scopes": {...}}`` or a bare scope object."""
        policy = Policy()
        if isinstance(data, dict) and "scopes" in data:
            try:
                policy = Policy.from_json(data.get("push-policy"))
            except ValueError as exc:
                raise ScopeError(str(exc)) from None
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
        gitlab = _section(data, "gitlab")
        gl_host = gitlab.get("host")
        fj_host, forgejo = _forgejo(data)
        return cls(gh_read=bool(gh.get("read", False)), graphql=graphql,
                   repos=_table(gh, "repos", GH_DEFAULTS),
                   prs=_table(gh, "prs", item, ITEM), issues=_table(gh, "issues", item, ITEM),
                   gitlab=_table(gitlab, "projects", GL_NONE, where="gitlab"),
                   gitlab_host=gl_host if isinstance(gl_host, str) else None,
                   forgejo=forgejo, forgejo_host=fj_host, policy=policy)

    def to_json(self) -> dict:
        scopes: dict[str, Any] = {"gh": {"read": self.gh_read, "graphql": self.graphql,
                                         "repos": self.repos, "prs": self.prs,
                                         "issues": self.issues}}
        if self.gitlab:
            scopes["gitlab"] = {"projects": self.gitlab, "mrs": {}, "issues": {},
                                **({"host": self.gitlab_host} if self.gitlab_host else {})}
        if self.forgejo:
            scopes["forgejo"] = [{"host": self.forgejo_host or "codeberg.org",
                                  "repos": self.forgejo, "prs": {}, "issues": {}}]
        return {"scopes": scopes, "push-policy": self.policy.to_json()}

    @property
    def empty(self) -> bool:
        return not (self.gh_read or self.repos or self.prs or self.issues or self.gitlab
                    or self.forgejo)

    def table(self, service: str) -> dict[str, Perms]:
        return {"github": self.repos, "gitlab": self.gitlab, "forgejo": self.forgejo}[service]

    def repo_perms(self, repo: str, service: str = "github") -> Perms | None:
        table = self.table(service)
        if repo in table:
            return table[repo]
        prefixes = [k for k in table if k.endswith("*") and repo.startswith(k[:-1])]
        return table[max(prefixes, key=len)] if prefixes else None

    def allows(self, repo: str, op: str, service: str = "github") -> bool:
        if op == "read" and self.gh_read and service == "github":
            return True
        perms = self.repo_perms(repo, service) or {}
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
                       issues={k: ro(v, ("read", "write")) for k, v in self.issues.items()},
                       gitlab={k: ro(v, GL_OPS) for k, v in self.gitlab.items()},
                       forgejo={k: ro(v, OPS) for k, v in self.forgejo.items()})

    def describe(self) -> list[str]:
        """One line per grant, e.g. ``github:owner/repo:read,push-new-branch``."""
        lines = ["github:read-all"] if self.gh_read else []
        for kind, table in (("", self.repos), ("pr ", self.prs), ("issue ", self.issues)):
            for key, perms in sorted(table.items()):
                granted = [op for op, on in perms.items() if on]
                lines.append(f"github:{kind}{key}:{','.join(granted) or 'none'}")
        for service in ("gitlab", "forgejo"):
            for key, perms in sorted(self.table(service).items()):
                granted = [op for op, on in perms.items() if on]
                lines.append(f"{service}:{key}:{','.join(granted) or 'none'}")
        return lines + [f"{t}:{ALLOW}" for t in self.policy.allow_workflows]


PERM_ALIASES = {"read": "read", "write": "write", "create-draft": "create-draft",
                "draft": "create-draft", "pending-review": "pending-review",
                "review": "pending-review", "push-new-branch": "push-new-branch",
                "push": "push-new-branch"}


def repo_grant(*granted: str, ops: tuple[str, ...] = OPS) -> Perms:
    """A complete repository entry: every field written, reads always included."""
    return {op: op == "read" or op in granted for op in ops}


def parse_flag(text: str) -> tuple[str | None, Perms | None]:
    """``--service-gator`` strings: ``github:read-all`` or ``github:OWNER/REPO[:PERM,...]``.

    Returns (repo, perms), or (None, None) for global read. OWNER/* and *
    patterns are allowed; every permission implies read.
    """
    service, sep, rest = text.partition(":")
    if service not in ("github", "gh") or not sep:
        if service == "jira":
            raise ScopeError(f"scope {text!r}: only GitHub scopes are supported "
                             "(and gitlab:, forgejo:)")
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


def parse_scope(text: str) -> tuple[str, str | None, Perms | None]:
    """Any ``--service-gator`` string: (service, target, perms); see ``parse_flag``.

    ``gitlab:GROUP/[SUBGROUP/]PROJECT[:PERMS]`` (read, create-draft, approve,
    push-new-branch, write) and ``forgejo:OWNER/REPO[:PERMS]`` (GitHub's).
    """
    service = SERVICES.get(text.partition(":")[0])
    if service in (None, "github"):
        return ("github", *parse_flag(text))
    ops = GL_OPS if service == "gitlab" else OPS
    target, _, perms = text.partition(":")[2].partition(":")
    if not PROJECT.match(target) or (service == "forgejo" and not REPO.match(target)):
        shape = "GROUP/PROJECT" if service == "gitlab" else "OWNER/REPO"
        raise ScopeError(f"scope {text!r}: {target!r} is not {shape}")
    granted = [PERM_ALIASES.get(p, p) for p in filter(None, perms.split(","))]
    for perm in granted:
        if perm not in ops:
            raise ScopeError(f"scope {text!r}: unknown permission {perm!r}; known: "
                             f"{', '.join(ops)}")
    return service, target, repo_grant(*granted, ops=ops)


def split_allowance(text: str) -> tuple[str | None, str | None]:
    """A ``--service-gator`` string with ``allow-workflows`` among its permissions:
    (the string without it, or None when nothing is left; ``service:TARGET``, or None
    when it has no allow-workflows). allow-workflows lifts the push policy's
    deny-paths on TARGET and leaves its other grants as they are."""
    service, _, rest = text.partition(":")
    target, sep, perms = rest.partition(":")
    granted = perms.split(",") if sep else []
    if ALLOW not in granted:
        return text, None
    parse_scope(f"{service}:{target}")  # checks the service and the target
    kept = [p for p in granted if p and p != ALLOW]
    return (f"{service}:{target}:{','.join(kept)}" if kept else None,
            f"{SERVICES[service]}:{target}")
