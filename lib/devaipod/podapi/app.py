"""The sidecar's routes (bottle)."""

from __future__ import annotations

import hmac
import os

from devaipod.podapi.proxy import Upstream
from devaipod.podapi.summary import summarize

PUBLIC = {"/healthz"}


def authorized(request, token: str) -> bool:
    header = request.get_header("Authorization", "")
    given = header[7:] if header.startswith("Bearer ") else ""
    return bool(token) and hmac.compare_digest(given.encode(), token.encode())


def make_app(pod: str, project: str, upstream: Upstream, token: str):
    import bottle

    app = bottle.Bottle()
    app.default_error_handler = lambda res: f"{res.status_line}: {res.body}\n"

    @app.hook("before_request")
    def _auth():
        if bottle.request.path not in PUBLIC and not authorized(bottle.request, token):
            raise bottle.HTTPError(401, "this pod's API needs its token")

    @app.get("/healthz")
    def healthz():
        return {"ok": True, "pod": pod, "project": project}

    @app.get("/summary")
    def summary():
        return {"pod": pod, **summarize(upstream)}

    @app.route("/<path:path>", method=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def proxy(path):
        return forward(bottle, upstream)

    return app


def forward(bottle, upstream: Upstream):
    req = bottle.request
    target = req.fullpath + (f"?{req.query_string}" if req.query_string else "")
    body = req.body.read() if req.content_length else None
    stream = target.startswith(("/event", "/global/event"))
    try:
        status, headers, chunks = upstream.request(
            req.method, target, dict(req.headers), body, timeout=None if stream else 300)
    except OSError as exc:
        raise bottle.HTTPError(502, f"the agent does not answer: {exc}") from None
    return bottle.HTTPResponse(body=chunks, status=status, headers=headers)


def from_environment(pod: str, project: str, port: int = 4096):
    upstream = Upstream("127.0.0.1", port, os.environ.get("OPENCODE_SERVER_PASSWORD", ""))
    return make_app(pod, project, upstream, os.environ.get("DEVAIPOD_API_TOKEN", ""))
