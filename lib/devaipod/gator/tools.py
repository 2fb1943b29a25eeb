"""The gator's tools: check the scope, then act with the token the agent never sees.

Names, arguments and behaviour follow service-gator's, so prompts and
OpenCode configurations written for it work unchanged. Every function takes
a ``Gate`` and returns the text the agent reads; a refusal or a failure is
raised as ``ForgeError`` and becomes an error result.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from devaipod import __version__, runner
from devaipod.gator import gql
from devaipod.gator.forge import ForgeError, GitHub, repo_of, split_endpoint
from devaipod.gator.scopes import REPO, Scopes

REVIEW_MARKER = "<!-- service-gator-review -->"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@dataclass
class Gate:
    scopes: Callable[[], Scopes]
    gh: GitHub
    readonly: bool = False
    others: dict[str, GitHub] = field(default_factory=dict)  # "gitlab", "forgejo" clients

    def need(self, repo: str, op: str, service: str = "github") -> None:
        where = repo if service == "github" else f"{service}:{repo}"
        if self.readonly and op != "read":
            raise ForgeError(f"refused: this gator is read-only ({op} on {where})")
        if not self.scopes().allows(repo, op, service):
            raise ForgeError(f"refused: no {op} permission on {where} "
                             "(the human grants it with 'devaipod gator add')")

    def client(self, service: str) -> GitHub:
        if service not in self.others:
            raise ForgeError(f"this gator has no {service} address")
        return self.others[service]


def _repo(repo: str) -> str:
    if not REPO.match(repo or ""):
        raise ForgeError(f"repo {repo!r}: expected OWNER/REPO")
    return repo


def status(gate: Gate) -> str:
    scopes = gate.scopes()
    lines = [f"Service-Gator v{__version__} (devaipod)", "",
             f"GitHub: {'token configured' if gate.gh.token else 'no token'} ({gate.gh.api})"]
    lines += [f"{c.name}: {'token configured' if c.token else 'no token'} ({c.api})"
              for c in gate.others.values()]
    lines += [f"  {line}" for line in scopes.describe()] or ["  no access granted"]
    if gate.readonly:
        lines.append("  (read-only endpoint)")
    lines += ["", "Push policy (a push that breaks it is refused):"]
    lines += [f"  {line}" for line in scopes.policy.describe()
              if not line.endswith(":allow-workflows")]
    lines += ["", "Push commits with github_push (branches are named agent-<description>);",
              "open pull requests as drafts; a human submits reviews."]
    return "\n".join(lines)


def _check_api(gate: Gate, segments: list[str], query: str, method: str, body: Any) -> None:
    repo = repo_of(segments)
    if segments == ["graphql"]:
        if query:
            raise ForgeError("refused: a GraphQL document goes in the body, not the address")
        gql.check_read_only(body)
        scopes = gate.scopes()
        if not (scopes.gh_read or scopes.graphql == "read"):
            raise ForgeError("refused: GraphQL needs [service-gator.gh] graphql = \"read\"")
        return
    if repo is None:
        if method != "GET" or not gate.scopes().gh_read:
            raise ForgeError(f"refused: {'/'.join(segments)} needs global read "
                             "([service-gator.gh] read = true)")
        return
    if method == "GET":
        gate.need(repo, "read")
        return
    item = segments[3:5] if len(segments) >= 5 else []
    if gate.readonly:
        raise ForgeError(f"refused: this gator is read-only ({method} on {repo})")
    if (len(item) == 2 and item[0] in ("pulls", "issues") and item[1].isdigit()
            and gate.scopes().allows_item(repo, item[0], int(item[1]), "write")):
        return
    gate.need(repo, "write")


def github_api_tool(gate: Gate, endpoint: str, method: str = "GET", body: Any = None,
                    jq: str | None = None) -> str:
    method = (method or "GET").upper()
    if method not in METHODS:
        raise ForgeError(f"method {method!r}: use one of {', '.join(METHODS)}")
    segments, query = split_endpoint(endpoint)
    if isinstance(body, str) and body.strip():
        try:
            body = json.loads(body)
        except ValueError as exc:
            raise ForgeError(f"body is not JSON: {exc}") from None
    _check_api(gate, segments, query, method, body)
    if segments == ["graphql"]:
        resp = gate.gh.send("POST", gate.gh.graphql_url, body)
    else:
        path = "/".join(segments) + (f"?{query}" if query else "")
        resp = gate.gh.request(method, path, body or None)
    return answer(resp, jq)


def answer(resp, jq: str | None) -> str:
    """What the agent reads of RESP: its text (filtered by JQ), or the status and text."""
    text = resp.text
    if jq and resp.ok:
        # an empty environment: jq's `env` and `$ENV` would show the token
        result = runner.capture(["env", "-i", "jq", "-r", jq], input=text, check=False,
                                timeout=30)
        if not result.ok:
            raise ForgeError(f"jq failed: {result.stderr.strip()}")
        text = result.stdout
    return text if resp.ok else f"HTTP {resp.status}\n{text}"
