"""The sidecar's routes (bottle)."""

from __future__ import annotations

import json
import os
import time

from devaipod import layout
from devaipod.http import browserauth
from devaipod.podapi import browser, git
from devaipod.podapi.proxy import Upstream
from devaipod.podapi.summary import Cached

PUBLIC = {"/healthz", "/_devaipod/login", "/_devaipod/sw.js", "/_devaipod/login.js"}
FRAMING = "devaipod.frame_ancestors"  # the environ's note for the CSP header


def cookie_name(pod: str) -> str:
    return browser.cookie_name(pod)


def bearer(request, token: str) -> bool:
    """The pod's token as a Bearer header (the CLI, the control plane)."""
    return browserauth.bearer(request.get_header("Authorization"), token)


def authorized(request, token: str, sessions: browser.Sessions) -> str | None:
    """Who may frame the answer ("'none'" for the CLI) when the request is authorized:
    the pod's token, or a browser's cookie together with its session's key."""
    if bearer(request, token):
        return "'none'"
    session = sessions.check(request.get_cookie(cookie_name(sessions.pod)),
                             request.get_header(browserauth.KEY_HEADER))
    return session.origin if session else None


def security_headers(environ: dict) -> list[tuple[str, str]]:
    framing = environ.get(FRAMING, "'none'")
    return [("Content-Security-Policy", browser.csp(framing)),
            ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer")]


SSE_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
               "X-Accel-Buffering": "no"}


def make_app(pod: str, project: str, upstream: Upstream, token: str,
             trees: git.Trees | None = None, summary_cache: Cached | None = None):
    """The sidecar as a WSGI app (bottle's, with the security headers added)."""
    import bottle

    trees = trees or git.Trees.for_project(project)
    cache = summary_cache or Cached(upstream, follow=False)
    sessions = browser.Sessions(pod, token)

    app = bottle.Bottle()
    app.default_error_handler = lambda res: f"{res.status_line}: {res.body}\n"

    @app.hook("before_request")
    def _auth():
        req = bottle.request
        if not browserauth.same_origin_write(req.method, req.headers, req.get_header("Host")):
            raise bottle.HTTPError(403, "cross-origin request refused")
        framing = authorized(req, token, sessions)
        if framing is not None:
            req.environ[FRAMING] = framing
        elif req.path not in PUBLIC:
            raise bottle.HTTPError(401, "this pod's API needs its token (or reload the "
                                        "Agent tab: the browser's session is gone)")

    @app.get("/healthz")
    def healthz():
        return {"ok": True, "pod": pod, "project": project}

    add_login(app, bottle, sessions)

    @app.get("/summary")
    def summary():
        return {"pod": pod, **cache.get()}

    # read-only views of the two trees; merging and rejecting are the control plane's
    @app.get("/git/status")
    def git_status():
        return git_json(bottle, lambda: git.status(trees))

    @app.get("/git/log")
    def git_log():
        limit = bottle.request.query.get("limit") or str(git.LOG_DEFAULT)
        if not limit.isdigit():
            return json_error(bottle, 400, "limit must be a positive number")
        return git_json(bottle, lambda: git.log(trees, int(limit)))

    @app.get("/git/review")
    def git_review():
        return git_json(bottle, lambda: git.review(trees))

    @app.get("/git/events")
    def git_events():
        failed = git_json(bottle, lambda: git.check_trees(trees))
        if failed is not None:
            return failed
        return bottle.HTTPResponse(body=git.events(trees), headers=SSE_HEADERS)

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]

    @app.route("/", method=methods)  # OpenCode's web UI
    @app.route("/<path:path>", method=methods)
    def proxy(path=""):
        return forward(bottle, upstream)

    return browserauth.with_headers(app, security_headers)


def add_login(app, bottle, sessions: browser.Sessions) -> None:
    @app.get("/_devaipod/login")
    def login():
        """A ticket from the control plane logs the browser in (the Agent tab's iframe)."""
        found = sessions.login(bottle.request.query.get("ticket") or "")
        if found is None:
            raise bottle.HTTPError(401, "the ticket is wrong, used or expired; "
                                        "reload the Agent tab")
        sid, session = found
        bottle.request.environ[FRAMING] = session.origin
        bottle.response.set_cookie(cookie_name(sessions.pod), sid, httponly=True,
                                   samesite="strict", path="/",
                                   max_age=max(0, int(session.until - time.time())))
        bottle.response.set_header("Cache-Control", "no-store")
        bottle.response.set_header("Content-Security-Policy",
                                   browser.csp(session.origin, page=True))
        bottle.response.content_type = "text/html; charset=utf-8"
        return browser.login_page(session.key,
                                  browser.landing(bottle.request.query.get("next")))

    @app.get("/_devaipod/<name>")
    def own_script(name):
        if name not in browser.STATIC:
            raise bottle.HTTPError(404, "no such file")
        bottle.response.content_type = "text/javascript; charset=utf-8"
        bottle.response.set_header("Cache-Control", "no-cache")
        if name == "sw.js":
            bottle.response.set_header("Service-Worker-Allowed", "/")
        return browser.static_file(name)


def json_error(bottle, status: int, message: str, **extra):
    return bottle.HTTPResponse(body=json.dumps({"error": message, **extra}), status=status,
                               headers={"Content-Type": "application/json"})


def git_json(bottle, compute):
    """compute()'s answer; a missing tree is a 503, a failing git a 500, both JSON."""
    try:
        return compute()
    except git.TreeMissing as exc:
        return json_error(bottle, 503, str(exc), tree=exc.which)
    except git.GitError as exc:
        return json_error(bottle, 500, str(exc))


def forward(bottle, upstream: Upstream):
    req = bottle.request
    target = req.fullpath + (f"?{req.query_string}" if req.query_string else "")
    body = req.body.read() if req.content_length else None
    stream = target.startswith(("/event", "/global/event"))
    try:
        status, headers, chunks = upstream.request(
            req.method, target, dict(req.headers), body,
            timeout=None if stream else 2 if target.startswith("/global/health") else 300)
    except OSError as exc:
        raise bottle.HTTPError(502, f"the agent does not answer: {exc}") from None
    return bottle.HTTPResponse(body=chunks, status=status, headers=headers)


def upstream_from_environment(port: int = layout.AGENT_PORT) -> Upstream:
    return Upstream("127.0.0.1", port, os.environ.get("OPENCODE_SERVER_PASSWORD", ""))


def from_environment(pod: str, project: str, port: int = layout.AGENT_PORT):
    upstream = upstream_from_environment(port)
    return make_app(pod, project, upstream, os.environ.get("DEVAIPOD_API_TOKEN", ""),
                    summary_cache=Cached(upstream))
