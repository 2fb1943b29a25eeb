"""The sidecar's routes (bottle)."""

from __future__ import annotations

import hmac
import json
import os

from devaipod.podapi import git
from devaipod.podapi.proxy import Upstream
from devaipod.podapi.summary import Cached
from devaipod.web import auth

PUBLIC = {"/healthz", "/_devaipod/login"}


def cookie_name(pod: str) -> str:
    """One cookie per pod: cookies ignore ports, and every sidecar is on this host."""
    return "devaipod_pod_" + "".join(c if c.isalnum() else "_" for c in pod)


def authorized(request, token: str, pod: str = "") -> bool:
    """The pod's token as a Bearer header (CLI, control plane), or the browser's cookie."""
    if not token:
        return False
    header = request.get_header("Authorization", "")
    given = header[7:] if header.startswith("Bearer ") else ""
    if given and hmac.compare_digest(given.encode(), token.encode()):
        return True
    cookie = request.get_cookie(cookie_name(pod)) or ""
    return bool(cookie) and hmac.compare_digest(cookie.encode(),
                                                 auth.derive(token, "pod-cookie").encode())


SSE_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
               "X-Accel-Buffering": "no"}


def make_app(pod: str, project: str, upstream: Upstream, token: str,
             trees: git.Trees | None = None, summary_cache: Cached | None = None):
    import bottle

    trees = trees or git.Trees.for_project(project)
    cache = summary_cache or Cached(upstream, follow=False)

    app = bottle.Bottle()
    app.default_error_handler = lambda res: f"{res.status_line}: {res.body}\n"

    @app.hook("before_request")
    def _auth():
        req = bottle.request
        if not auth.same_origin_write(req.method, req.headers, req.get_header("Host")):
            raise bottle.HTTPError(403, "cross-origin request refused")
        if req.path not in PUBLIC and not authorized(req, token, pod):
            raise bottle.HTTPError(401, "this pod's API needs its token")

    @app.get("/healthz")
    def healthz():
        return {"ok": True, "pod": pod, "project": project}

    @app.get("/_devaipod/login")
    def login():
        """A ticket from the control plane logs the browser in (the Agent tab's iframe)."""
        ticket = bottle.request.query.get("ticket") or ""
        if not auth.check_ticket(token, pod, ticket):
            raise bottle.HTTPError(401, "the ticket is wrong or expired; reload the page")
        bottle.response.set_cookie(cookie_name(pod), auth.derive(token, "pod-cookie"),
                                   httponly=True,
                                   samesite="strict", path="/")
        target = bottle.request.query.get("next") or "/"
        if not target.startswith("/") or target.startswith("//"):
            target = "/"  # only a page of this sidecar
        bottle.response.status = 303
        bottle.response.set_header("Location", target)
        return ""

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

    return app


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


def upstream_from_environment(port: int = 4096) -> Upstream:
    return Upstream("127.0.0.1", port, os.environ.get("OPENCODE_SERVER_PASSWORD", ""))


def from_environment(pod: str, project: str, port: int = 4096):
    upstream = upstream_from_environment(port)
    return make_app(pod, project, upstream, os.environ.get("DEVAIPOD_API_TOKEN", ""),
                    summary_cache=Cached(upstream))
