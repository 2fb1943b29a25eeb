"""The control plane's routes: pages, the JSON API, events (see web/API.md)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from contextlib import closing
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import bottle

from devaipod import podman, runner
from devaipod.context import Context
from devaipod.http import browserauth
from devaipod.web import actions, auth
from devaipod.web.jobs import Jobs, creation_argv, rebuild_argv
from devaipod.web.limits import Follows, PerPod, TooMany

if TYPE_CHECKING:
    from devaipod.workspace.lookup import Row

PUBLIC = ("/login", "/logout", "/healthz", "/static/")
KEEPALIVE = 5.0  # seconds between comments on a quiet stream: a gone client is noticed
log = logging.getLogger("devaipod")
SSE = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
       "X-Accel-Buffering": "no"}


def web_dir() -> Path:
    for candidate in (os.environ.get("DEVAIPOD_WEB_DIR"),
                      Path(__file__).resolve().parents[3] / "web",
                      "/usr/share/devaipod/web"):
        if candidate and (Path(candidate) / "static").is_dir():
            return Path(candidate)
    return Path("/usr/share/devaipod/web")


def render_pages(web: Path) -> dict[str, str]:
    """The pages, rendered once: web/templates/<page>.tpl, each in the frame of base.tpl
    (the head and the top bar they share)."""
    from devaipod.errors import DevaipodError

    lookup = [str(web / "templates")]
    try:
        return {name: bottle.SimpleTemplate(name=f"{name}.tpl", lookup=lookup).render()
                for name in ("pods", "new", "pod", "login")}
    except bottle.TemplateError as exc:
        raise DevaipodError(f"the control plane's pages cannot load from {lookup[0]}: {exc}",
                            hint="point DEVAIPOD_WEB_DIR at devaipod's web/ directory") from exc


def entity_tag(body: bytes) -> str:
    """A strong ETag of an answer's bytes."""
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """Does a request's If-None-Match name ``etag`` (weak comparison, RFC 9110 13.1.2)?"""
    tags = (t.strip().removeprefix("W/") for t in (if_none_match or "").split(","))
    return any(t in (etag, "*") for t in tags)


def listed(row: dict) -> dict:
    """A row of `GET /api/pods`: the workspace's podman labels left out (the pages never
    read them, and they were most of the answer's bytes; `GET /api/pods/<name>` has them)."""
    return {k: v for k, v in row.items() if k != "labels"}


def _podman_rows() -> list[Row]:
    from devaipod.workspace import lookup

    return lookup.rows(agent=True)


def backend_rows(ctx: Context) -> Callable[[], list[Row]]:
    """The rows of CTX's backend's `list` (podman's, or the cluster's workspace Pods)."""
    from devaipod import kube

    cluster = kube.active(ctx)
    return _podman_rows if cluster is None else partial(cluster.rows, agent=True)


class PodsCache:
    """`GET /api/pods` for any number of clients: at most one refresh a second, encoded
    once per refresh (20 clients do not each encode the same list again), with its ETag.

    Stale while revalidate: a read that finds the list older than ``ttl`` starts ONE
    refresh (a thread) and is answered at once from the list it holds, as is every read
    until the refresh ends; only the first read (no list yet) and a read after
    ``invalidate()`` (an action changed the pods: the user must see it) wait for a
    refresh. A refresh that fails keeps the list it had (logged; tried again ``ttl``
    later); a read with no list to give gets the refresh's error."""

    def __init__(self, ttl: float = 1.0, rows: Callable[[], list[Row]] | None = None) -> None:
        self.ttl, self.changed = ttl, threading.Condition()
        self.rows = rows or _podman_rows  # the backend's `list`
        self.at = 0.0  # when the last refresh ended
        self.begun = self.ended = 0  # refreshes begun and ended (one runs: begun > ended)
        self.need = 1  # the first refresh whose list a read may be answered with
        self.error: Exception | None = None  # the last refresh's, if it failed
        # the list, its JSON and the JSON's ETag
        self.current: tuple[list[dict], bytes, str] | None = None

    def get(self) -> list[dict]:
        return self._fresh()[0]

    def encoded(self) -> tuple[bytes, str]:
        """``get()`` as JSON and its ETag (both made once, when the list was read)."""
        return self._fresh()[1:]

    def _fresh(self) -> tuple[list[dict], bytes, str]:
        with self.changed:
            if self.begun == self.ended and (self.current is None or self.ended < self.need
                                             or time.monotonic() - self.at > self.ttl):
                self.begun += 1
                threading.Thread(target=self._refresh, name="pods-refresh",
                                 daemon=True).start()
            if self.current is None or self.ended < self.need:
                until = max(self.need, self.begun)  # the running refresh, or the one after
                self.changed.wait_for(lambda: self.ended >= until)
            if self.current is None:
                raise self.error or RuntimeError("the pod list was not read")
            return self.current

    def _refresh(self) -> None:
        """Refreshes, one after another, until one begun after the last invalidate() ends."""
        while True:
            made, error = None, None
            try:
                value = [listed(r.as_dict()) for r in self.rows()]
                body = json.dumps(value).encode()
                made = (value, body, entity_tag(body))
            except Exception as exc:  # the list stays as it was; the server goes on
                log.warning("devaipod web: reading the pod list failed: %s", exc)
                error = exc
            with self.changed:
                self.current, self.error = made or self.current, error
                self.at, self.ended = time.monotonic(), self.ended + 1
                self.changed.notify_all()
                if self.ended >= self.need:
                    return
                self.begun += 1

    def invalidate(self) -> None:
        """The next read waits for a refresh begun after this call."""
        with self.changed:
            self.need = self.begun + 1


def security_headers(environ: dict) -> list[tuple[str, str]]:
    """Every answer: no framing but by our own pages, which may frame the sidecars only."""
    host = browserauth.hostname(environ.get("HTTP_HOST", ""))
    frames = (f"http://{host}:* https://{host}:*" if browserauth.valid_origin(f"http://{host}")
              else "'none'")
    policy = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
              "img-src 'self' data:; connect-src 'self'; font-src 'self'; "
              f"frame-src {frames}; frame-ancestors 'self'; base-uri 'none'; "
              "form-action 'self'; object-src 'none'")
    return [("Content-Security-Policy", policy), ("X-Frame-Options", "SAMEORIGIN"),
            ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer")]


def make_app(gate: auth.Auth, ctx: Context | None = None):
    """The control plane as a WSGI app: bottle's routes, and the security headers."""
    app = bottle.Bottle()
    ctx = ctx or Context()
    app.config["devaipod.context"] = ctx
    app.config["devaipod.jobs"] = Jobs()
    app.config["devaipod.pods"] = PodsCache(rows=backend_rows(ctx))
    app.config["devaipod.gate"] = gate
    static = web_dir()

    @app.hook("before_request")
    def _require_login():
        path, req = bottle.request.path, bottle.request
        if not browserauth.same_origin_write(req.method, req.headers, req.get_header("Host")):
            raise actions.json_error(403, "cross-origin request refused")
        if path.startswith(PUBLIC):
            return
        cookie, bearer = req.get_cookie(auth.COOKIE), req.get_header("Authorization")
        if path.startswith("/api/"):
            if not gate.ok(cookie, req.get_header(browserauth.KEY_HEADER), bearer):
                raise actions.json_error(401, "log in first")
        elif not (gate.session(cookie) or gate.bearer(bearer)):
            raise bottle.HTTPResponse(status=303, headers={"Location": "/login"})

    def error_json(res: bottle.HTTPError) -> str:
        bottle.response.content_type = "application/json"
        return json.dumps({"error": str(res.body)})

    app.default_error_handler = error_json

    @app.get("/healthz")
    def healthz():
        return {"ok": True}

    pages = render_pages(static)
    add_login(app, gate, pages["login"])

    for route, name in (("/", "pods"), ("/new", "new"), ("/pods/<name>", "pod")):
        app.route(route, "GET", lambda page=pages[name], **_: page)

    @app.get("/static/<path:path>")
    def static_files(path):
        return bottle.static_file(path, root=static / "static")

    @app.get("/vendor/<package>/<path:path>")
    def vendor(package, path):
        roots = {"xterm": "@xterm/xterm", "xterm-addon-fit": "@xterm/addon-fit"}
        if package not in roots:
            raise bottle.HTTPError(404, "no such package")
        return bottle.static_file(path, root=static / "node_modules" / roots[package])

    add_docs(app, static)
    add_api(app)
    return browserauth.with_headers(app, security_headers)


def add_docs(app: bottle.Bottle, web: Path) -> None:
    """/docs and /docs/<page>: the man pages, rendered from man/*.md (web/API.md)."""
    from devaipod.web import docs

    frame = bottle.SimpleTemplate(name="docs.tpl", lookup=[str(web / "templates")])
    root = docs.man_dir()

    @app.get("/docs")
    def docs_index():
        return frame.render(title="Manual", page="", content=docs.index_html(root))

    @app.get("/docs/<name>")
    def docs_page(name):
        content = docs.page_html(root, name)
        if content is None:
            raise bottle.HTTPError(404, f"no manual page {name!r}")
        return frame.render(title=name, page=name, content=content)


def add_login(app: bottle.Bottle, gate: auth.Auth, page: str) -> None:
    @app.get("/login")
    def login():
        """The token in, a session out: its cookie, and its key in the redirect's fragment
        (the pages keep it in localStorage; it is never sent again by this server)."""
        token = bottle.request.query.get("token")
        if token is None:
            return page
        if not gate.login(token, bottle.request.remote_addr or "?"):
            return bottle.HTTPResponse(status=303, headers={"Location": "/login?error=1"})
        cookie, key = gate.new_session()
        bottle.response.set_cookie(auth.COOKIE, cookie, httponly=True, samesite="strict",
                                   path="/", max_age=gate.seconds)
        bottle.response.set_header("Cache-Control", "no-store")
        bottle.response.status = 303
        bottle.response.set_header("Location", f"/#key={key}")
        return ""

    @app.post("/logout")
    def logout():
        req = bottle.request
        revoked = gate.logout(req.get_cookie(auth.COOKIE), req.get_header(browserauth.KEY_HEADER))
        bottle.response.delete_cookie(auth.COOKIE, path="/", httponly=True,
                                      samesite="strict")
        return {"ok": True, "revoked": revoked}


def add_api(app: bottle.Bottle) -> None:
    jobs: Jobs = app.config["devaipod.jobs"]
    pods: PodsCache = app.config["devaipod.pods"]
    gate: auth.Auth = app.config["devaipod.gate"]
    gators, follows = PerPod(), Follows()

    @app.get("/api/pods")
    def list_pods():
        """The list, or 304 when the client has it (If-None-Match: its ETag); the browser
        keeps it and asks again each time (no-cache), answered from its cache on a 304."""
        body, etag = pods.encoded()
        headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
        if matches(bottle.request.get_header("If-None-Match"), etag):
            return bottle.HTTPResponse(status=304, headers=headers)
        for name, value in headers.items():
            bottle.response.set_header(name, value)
        bottle.response.content_type = "application/json"
        return body

    @app.post("/api/pods")
    def create_pod():
        ctx: Context = app.config["devaipod.context"]
        made = actions.creation_requests(bottle.request.json or {}, ctx.config)
        ids = [jobs.start(creation_argv(req, ctx.config_file)).id for req in made]
        pods.invalidate()
        bottle.response.status = 202
        return {"job": ids[0], "jobs": ids}

    @app.get("/api/jobs/<job_id>")
    def job_state(job_id):
        return job_or_404(jobs, job_id).as_dict()

    @app.get("/api/jobs/<job_id>/events")
    def job_events(job_id):
        return bottle.HTTPResponse(sse_job(job_or_404(jobs, job_id)), headers=SSE)

    @app.get("/api/pods/<name>")
    def pod_status(name):
        return actions.status(actions.resolve(name))

    @app.get("/api/pods/<name>/gator")
    def gator_get(name):
        pod = actions.resolve(name)  # a helper container per read: cached, one at a time
        return gators.get(pod, lambda: actions.gator(pod))

    @app.post("/api/pods/<name>/gator")
    def gator_change(name):
        change, values = actions.gator_change(bottle.request.json)
        pod = actions.resolve(name)
        return gators.update(pod, lambda: actions.gator(pod, change, values))

    @app.get("/api/pods/<name>/update")
    def update_state(name):
        return actions.update(actions.resolve(name), app.config["devaipod.context"].config)

    @app.post("/api/pods/<name>/rebuild")
    def rebuild(name):
        ctx: Context = app.config["devaipod.context"]
        job = jobs.start(rebuild_argv(actions.resolve(name), ctx.config_file))
        pods.invalidate()
        bottle.response.status = 202
        return {"job": job.id}

    @app.put("/api/pods/<name>/title")
    def pod_title(name):
        result = actions.set_title(actions.resolve(name), bottle.request.json)
        pods.invalidate()
        return result

    @app.get("/api/prune")
    def prune_list():
        bottle.response.content_type = "application/json"
        return json.dumps(actions.prunable())

    @app.post("/api/prune")
    def prune():
        result = actions.prune(bottle.request.json)
        pods.invalidate()
        return result

    @app.post("/api/pods/<name>/<action>")
    def pod_action(name, action):
        result = actions.lifecycle(actions.resolve(name), action)
        pods.invalidate()
        return result

    @app.get("/api/pods/<name>/agent")
    def agent_frame(name):
        req = bottle.request
        origin = f"{req.urlparts.scheme}://{req.get_header('Host') or '127.0.0.1'}"
        if not browserauth.valid_origin(origin):
            raise actions.json_error(400, f"cannot frame the agent for {origin!r}")
        session = gate.session(req.get_cookie(auth.COOKIE))
        until = session[1] if session else time.time() + gate.seconds
        return {"url": actions.agent_url(actions.resolve(name), origin, until)}

    @app.get("/api/pods/<name>/review")
    def review(name):
        return actions.review(actions.resolve(name))

    @app.post("/api/pods/<name>/review/comments")  # before <verdict>, which it would match
    def review_comments(name):
        return actions.review_comments(actions.resolve(name), bottle.request.json)

    @app.post("/api/pods/<name>/review/<verdict>")
    def review_verdict(name, verdict):
        return actions.verdict(actions.resolve(name), verdict)

    @app.get("/api/pods/<name>/audit")
    def audit(name):
        return actions.audit(actions.resolve(name))

    @app.get("/api/pods/<name>/logs")
    def logs(name):
        pod, q = actions.resolve(name), bottle.request.query
        tail, follow = q.get("tail") or "200", q.get("follow") == "1"
        argv = actions.logs_argv(pod, q.get("container", "agent"),
                                 int(tail) if tail.isdigit() else 200, follow)
        stream = sse_lines(podman.argv(argv))
        if follow:  # a `podman logs -f` for as long as the client stays: a few at a time
            try:
                stream = follows.hold(pod, stream)
            except TooMany as exc:
                raise actions.json_error(429, str(exc)) from None
        return bottle.HTTPResponse(stream, headers=SSE)


def job_or_404(jobs: Jobs, job_id: str):
    job = jobs.get(job_id)
    if job is None:
        raise bottle.HTTPError(404, f"no job {job_id}")
    return job


# Every `data:` line is JSON (a string, or the job as an object): a CR or LF in a log
# line cannot start a line of its own, so nothing the agent prints makes an event.

def sse_job(job):
    for line in job.follow():
        yield ": keepalive\n\n" if line is None else f"event: line\ndata: {json.dumps(line)}\n\n"
    yield f"event: end\ndata: {json.dumps(job.as_dict())}\n\n"


def sse_lines(argv: list[str]):
    """A command's output lines as events; a comment when quiet, so that a client gone
    away is noticed (the write fails) and the command ends."""
    yield ": streaming\n\n"
    with closing(runner.lines(argv, idle=KEEPALIVE)) as lines:
        for line in lines:
            yield ": keepalive\n\n" if line is None else f"data: {json.dumps(line)}\n\n"


def login_url(host: str, port: int, token: str) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    return f"http://{shown}:{port}/login?token={token}"


def serve(host: str, port: int, session_hours: float = auth.SESSION_HOURS,
          ctx: Context | None = None) -> None:
    from devaipod.http import oneport
    from devaipod.web import sockets

    token = auth.TokenFile()
    gate = auth.Auth(token, session_hours)
    app = make_app(gate, ctx)
    server = oneport.make_server(host, port, app, sockets.router(gate))
    print(f"devaipod web: token from {token.origin}", flush=True)
    print(f"Login URL: {login_url(host, server.server_port, token.value)}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()

