"""service-gator: the pod's MCP server for scoped GitHub, GitLab and Forgejo access.

    service-gator --mcp-server 127.0.0.1:8765 --token-file FILE --scope-file FILE
                  [--read-only-server 127.0.0.1:8766 --read-only-token-file FILE]
                  [--audit-file FILE]

MCP (Streamable HTTP) at ``/mcp``, ``GET /healthz``. The scope file is read
again whenever it changes (``devaipod gator add|edit`` rewrite it), so new
grants apply at the next call; an unreadable file grants nothing. The
read-only server serves the same tools with every write refused (the
worker's view). Each server answers only requests carrying its own token
(``Authorization: Bearer``, from its token file); ``/healthz`` is open.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import sys
from typing import Any

from devaipod import audit
from devaipod.gator import auth, branches, othertools, push, reviews, tools
from devaipod.gator.forge import ForgeError, GitHub
from devaipod.gator.otherforge import Forgejo, GitLab
from devaipod.gator.scopes import ScopeError, Scopes

log = logging.getLogger("service-gator")

INSTRUCTIONS = (
    "Scoped GitHub access. Call `status` first to see what you may do. Push commits with "
    "`github_push` (never with git: you hold no credentials); it creates agent-* branches "
    "and draft pull requests. Use `github_pending_review_tool` for reviews a human submits. "
    "On GitLab and Forgejo: read with `gl` and `forgejo`, push with `git_push_local`, "
    "draft reviews with `gitlab_pending_review_tool` and `forgejo_pending_review_tool`."
)


class ScopeFile:
    """The scopes in FILE, re-read when its modification time or size changes."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._scopes = Scopes()

    def __call__(self) -> Scopes:
        try:
            st = os.stat(self.path)
        except OSError:
            if self._stamp is not None:
                log.warning("scope file %s is gone: no access", self.path)
            self._stamp, self._scopes = None, Scopes()
            return self._scopes
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                with open(self.path, encoding="utf-8") as f:
                    self._scopes = Scopes.from_json(json.load(f))
                log.info("scopes loaded: %s", "; ".join(self._scopes.describe()) or "none")
            except (OSError, ValueError, ScopeError) as exc:
                log.error("scope file %s unusable, no access: %s", self.path, exc)
                self._scopes = Scopes()
        return self._scopes


class Audit:
    """Each tool call as an event in the workspace's audit trail (``--audit-file``): the
    tool, what it acted on, allowed or refused and why; a push's branch and commit too."""

    def __init__(self, path: str | None) -> None:
        self.path = path

    def note(self, kind: str, **fields: Any) -> None:
        if not self.path:
            return
        try:
            audit.append(audit.event(kind, "gator", **fields), self.path)
        except OSError as exc:
            log.error("cannot write the audit trail %s: %s", self.path, exc)

    async def run(self, tool: str, target: str | None, fn, *args, **kwargs) -> str:
        """A tool's work, off the event loop; a refusal becomes the tool's error result."""
        import anyio.to_thread
        from mcp.server.mcpserver.exceptions import ToolError

        pushed: dict = {}
        push.PUSHED.set(pushed)  # this task's own context: the call's thread sees a copy
        try:
            result = await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))
        except ForgeError as exc:
            self.note("gator", tool=tool, target=target, decision="refused", reason=str(exc))
            raise ToolError(str(exc)) from None
        except Exception as exc:
            self.note("gator", tool=tool, target=target, decision="error",
                      reason=type(exc).__name__)
            raise
        self.note("gator", tool=tool, target=target, decision="allowed")
        if pushed:
            self.note("push", **pushed)
        return result


def _register(server, gate: tools.Gate, log_: Audit) -> None:
    _run = log_.run

    async def status() -> str:
        """What this gator lets you do on GitHub. Call it first."""
        log_.note("gator", tool="status", decision="allowed")
        return tools.status(gate)

    async def github_api_tool(endpoint: str, method: str = "GET", body: dict | None = None,
                              jq: str | None = None) -> str:
        """Call the GitHub REST API, e.g. endpoint="repos/OWNER/REPO/pulls".

        GET needs read access to the repository; other methods need write
        access (or write on that pull request or issue). ``jq`` filters the
        JSON answer.
        """
        return await _run("github_api_tool", f"{method} {endpoint}", tools.github_api_tool,
                          gate, endpoint, method, body, jq)

    async def github_push(repo_path: str, commit_sha: str, repo: str, description: str,
                          create_draft_pr: bool = True, base: str | None = None,
                          title: str | None = None, body: str | None = None,
                          use_fork: bool = False) -> str:
        """Push a commit of your tree (repo_path under /workspaces) to branch
        agent-<description> of repo (OWNER/REPO), and open a draft pull request
        against base with title (create_draft_pr, the default). Pushing again with
        the same description fast-forwards the branch and updates its pull request."""
        return await _run("github_push", repo, branches.github_push, gate, repo_path,
                          commit_sha, repo, description, create_draft_pr, base, title, body,
                          use_fork)

    async def gh_create_branch(repo: str, commit_sha: str, description: str,
                               issue_number: int | None = None) -> str:
        """Create branch agent-[<issue_number>-]<description> at a commit already on GitHub."""
        return await _run("gh_create_branch", repo, branches.gh_create_branch, gate, repo,
                          commit_sha, description,
                          issue_number)

    async def gh_update_pr_head(repo: str, pull_number: int, commit_sha: str) -> str:
        """Move the agent-* head branch of a pull request opened through this gator to
        commit_sha (already on GitHub): a fast-forward, unless you have write access."""
        return await _run("gh_update_pr_head", f"{repo}#{pull_number}",
                          branches.gh_update_pr_head, gate, repo, pull_number, commit_sha)

    async def github_pending_review_tool(
            operation: str, repo: str, pull_number: int, review_id: int | None = None,
            body: str | None = None, comments: list[dict[str, Any]] | None = None,
            dry_run: bool = False, replace: bool = False) -> str:
        """Pending (unsubmitted) pull request reviews: operation is list, create, get,
        update, delete or extended-help. A human submits them."""
        return await _run("github_pending_review_tool", f"{repo}#{pull_number}",
                          reviews.github_pending_review_tool, gate, operation, repo,
                          pull_number, review_id, body, comments, dry_run, replace)

    for fn in (status, github_api_tool, github_push, gh_create_branch, gh_update_pr_head,
               github_pending_review_tool):
        server.add_tool(fn, structured_output=False)
    _register_others(server, gate, log_)


def _register_others(server, gate: tools.Gate, log_: Audit) -> None:
    _run = log_.run

    async def gl(args: list[str]) -> str:
        """Read GitLab's REST API (read only): args = ["api",
        "projects/GROUP%2FPROJECT/merge_requests", "--jq", EXPR]; the project is named by
        its URL-encoded path and needs read access."""
        return await _run("gl", " ".join(map(str, args[:2])), othertools.gl, gate, args)

    async def forgejo(args: list[str], host: str | None = None) -> str:
        """Read Forgejo's REST API (read only): args = ["api",
        "/api/v1/repos/OWNER/REPO/pulls", "--jq", EXPR]; the repository needs read access.
        host, if given, must be this gator's Forgejo."""
        return await _run("forgejo", " ".join(map(str, args[:2])), othertools.forgejo, gate,
                          args, host)

    async def git_push_local(repo_path: str, commit_sha: str, target: str, description: str,
                             create_draft: bool = False, base: str | None = None,
                             title: str | None = None, body: str | None = None) -> str:
        """Push a commit of your tree (repo_path under /workspaces) to branch
        agent-<description> of target (gitlab:GROUP/PROJECT or forgejo:OWNER/REPO; for
        GitHub use github_push). create_draft (with base and title) opens a draft merge
        request / pull request; pushing again fast-forwards the branch."""
        return await _run("git_push_local", target, othertools.git_push_local, gate,
                          repo_path, commit_sha, target, description, create_draft, base,
                          title, body)

    async def forgejo_pending_review_tool(
            operation: str, repo: str, pull_number: int, review_id: int | None = None,
            body: str | None = None, comments: list[dict[str, Any]] | None = None,
            dry_run: bool = False, replace: bool = False) -> str:
        """Pending (unsubmitted) Forgejo pull request reviews: operation is list, create,
        get, delete or extended-help. A human submits them."""
        return await _run("forgejo_pending_review_tool", f"{repo}#{pull_number}",
                          reviews.forgejo_pending_review_tool, gate, operation, repo,
                          pull_number, review_id, body, comments, dry_run, replace)

    async def gitlab_pending_review_tool(
            operation: str, project: str, merge_request_iid: int, note_id: int | None = None,
            body: str | None = None, dry_run: bool = False) -> str:
        """GitLab draft notes on a merge request (its pending review): operation is list,
        create, get, update, delete or extended-help. A human publishes them."""
        return await _run("gitlab_pending_review_tool", f"{project}!{merge_request_iid}",
                          reviews.gitlab_pending_review_tool, gate, operation, project,
                          merge_request_iid, note_id, body, dry_run)

    for fn in (gl, forgejo, git_push_local, forgejo_pending_review_tool,
               gitlab_pending_review_tool):
        server.add_tool(fn, structured_output=False)


def clients() -> dict[str, GitHub]:
    """The GitLab and Forgejo clients, from the gator's environment."""
    return {"gitlab": GitLab(), "forgejo": Forgejo()}


def build(scopes, gh: GitHub | None = None, readonly: bool = False,
          others: dict[str, GitHub] | None = None, audit_file: str | None = None):
    """The MCP server (an ``MCPServer``) with the gator's tools and /healthz."""
    from mcp.server.mcpserver import MCPServer
    from starlette.responses import JSONResponse

    from devaipod import __version__

    server = MCPServer("service-gator", instructions=INSTRUCTIONS, version=__version__,
                       log_level="WARNING")
    _register(server, tools.Gate(scopes, gh or GitHub(), readonly,
                                 clients() if others is None else others),
              Audit(audit_file))

    @server.custom_route("/healthz", methods=["GET"])
    async def healthz(_request):
        return JSONResponse({"ok": True, "readonly": readonly})

    return server


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host or "127.0.0.1", int(port)


def app(scopes, gh: GitHub, readonly: bool, token: str, host: str,
        others: dict[str, GitHub] | None = None, audit_file: str | None = None):
    """The ASGI app of one endpoint: the MCP server behind its bearer token."""
    server = build(scopes, gh, readonly, others, audit_file)
    return auth.BearerGate(server.streamable_http_app(host=host), token)


async def serve(scope_file: str, endpoints: list[tuple[str, bool, str]],
                audit_file: str | None = None) -> None:
    """Serve each (HOST:PORT, read-only?, token) of ENDPOINTS."""
    import anyio
    import uvicorn

    scopes, gh, others = ScopeFile(scope_file), GitHub(), clients()
    async with anyio.create_task_group() as group:
        for addr, readonly, token in endpoints:
            host, port = _address(addr)
            # no WebSockets (MCP does not use them) and no logging.config: less to import
            config = uvicorn.Config(app(scopes, gh, readonly, token, host, others, audit_file),
                                    host=host,
                                    port=port, ws="none", log_config=None,
                                    log_level="warning")
            group.start_soon(uvicorn.Server(config).serve)
            log.info("serving MCP on http://%s:%d/mcp%s", host, port,
                     " (read-only)" if readonly else "")


def setup_logging() -> None:
    """The gator's log on stderr, without rich: MCPServer's ``configure_logging`` imports
    rich for a handler that ``logging.basicConfig``, already done here, then ignores;
    rich costs the gator about 1.5 MB of memory (bench/rss) and nothing else uses it."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="service-gator: %(message)s")
    sys.modules.setdefault("rich.console", None)  # type: ignore[arg-type]  # ImportError


def main(argv: list[str] | None = None) -> None:
    import argparse

    import anyio

    parser = argparse.ArgumentParser(prog="service-gator", description=__doc__.split("\n")[0])
    parser.add_argument("--mcp-server", required=True, metavar="HOST:PORT")
    parser.add_argument("--token-file", required=True, metavar="FILE",
                        help="the bearer token the --mcp-server's client sends")
    parser.add_argument("--scope-file", required=True, metavar="FILE")
    parser.add_argument("--read-only-server", metavar="HOST:PORT")
    parser.add_argument("--audit-file", metavar="FILE",
                        help="append each tool call to this audit trail (JSON Lines)")
    parser.add_argument("--read-only-token-file", metavar="FILE",
                        help="the bearer token the --read-only-server's client sends")
    args = parser.parse_args(argv)
    if bool(args.read_only_server) != bool(args.read_only_token_file):
        parser.error("--read-only-server and --read-only-token-file go together")
    setup_logging()
    try:
        endpoints = [(args.mcp_server, False, auth.read_token(args.token_file))]
        if args.read_only_server:
            endpoints.append((args.read_only_server, True,
                              auth.read_token(args.read_only_token_file)))
    except ValueError as exc:
        parser.error(str(exc))
    if len({token for _addr, _ro, token in endpoints}) != len(endpoints):
        parser.error("each endpoint needs a token of its own")
    with contextlib.suppress(KeyboardInterrupt):
        anyio.run(serve, args.scope_file, endpoints, args.audit_file)


if __name__ == "__main__":
    main()
