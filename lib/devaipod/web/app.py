"""The control plane's routes: pages, the JSON API, events (see web/API.md)."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import bottle

from devaipod import podman, runner
from devaipod.web import actions, auth
from devaipod.web.jobs import Jobs, creation_argv

PUBLIC = ("/login", "/healthz", "/static/")


def web_dir() -> Path:
    for candidate in (os.environ.get("DEVAIPOD_WEB_DIR"),
                      Path(__file__).resolve().parents[3] / "web",
                      "/usr/share/devaipod/web"):
        if candidate and (Path(candidate) / "static").is_dir():
            return Path(candidate)
    return Path("/usr/share/devaipod/web")


class PodsCache:
    """`GET /api/pods` for any number of clients: at most one refresh a second."""

    def __init__(self, ttl: float = 1.0) -> None:
        self.ttl, self.lock, self.at, self.value = ttl, threading.Lock(), 0.0, []

    def get(self) -> list[dict]:
        """The list, refreshed by one request at a time; others get the last one meanwhile."""
        if time.monotonic() - self.at <= self.ttl:
            return self.value
        if not self.lock.acquire(blocking=self.at == 0.0):
            return self.value  # someone is refreshing: the previous list will do
        try:
            if time.monotonic() - self.at > self.ttl:
                from devaipod.workspace import lookup

                self.value = [actions.public(r.as_dict()) for r in lookup.rows(agent=True)]
                self.at = time.monotonic()
            return self.value
        finally:
            self.lock.release()

    def invalidate(self) -> None:
        with self.lock:
            self.at = 0.0


def make_app(gate: auth.Auth) -> bottle.Bottle:
    app = bottle.Bottle()
    app.config["devaipod.jobs"] = Jobs()
    app.config["devaipod.pods"] = PodsCache()
    static = web_dir()

    @app.hook("before_request")
    def _require_login():
        path, req = bottle.request.path, bottle.request
        if not auth.same_origin_write(req.method, req.headers, req.get_header("Host")):
            raise bottle.HTTPResponse(json.dumps({"error": "cross-origin request refused"}),
                                      403, {"Content-Type": "application/json"})
        if path.startswith(PUBLIC) or gate.ok(req.get_cookie(auth.COOKIE),
                                              req.get_header("Authorization")):
            return
        if path.startswith("/api/"):
            raise bottle.HTTPResponse(json.dumps({"error": "log in first"}), 401,
                                      {"Content-Type": "application/json"})
        raise bottle.HTTPResponse(status=303, headers={"Location": "/login"})

    def error_json(res: bottle.HTTPError) -> str:
        bottle.response.content_type = "application/json"
        return json.dumps({"error": str(res.body)})

    app.default_error_handler = error_json

    @app.get("/healthz")
    def healthz():
        return {"ok": True}

    @app.get("/login")
    def login():
        token = bottle.request.query.get("token")
        if token is None:
            return bottle.static_file("login.html", root=static / "static")
        if not gate.login(token, bottle.request.remote_addr or "?"):
            return bottle.HTTPResponse(status=303, headers={"Location": "/login?error=1"})
        bottle.response.set_cookie(auth.COOKIE, gate.session, httponly=True,
                                   samesite="strict", path="/")
        bottle.response.status = 303
        bottle.response.set_header("Location", "/")
        return ""

    for route, page in (("/", "pods.html"), ("/new", "new.html"),
                        ("/pods/<name>", "pod.html")):
        app.route(route, "GET", lambda page=page, **_: bottle.static_file(
            page, root=static / "static"))

    @app.get("/static/<path:path>")
    def static_files(path):
        return bottle.static_file(path, root=static / "static")

    @app.get("/vendor/<package>/<path:path>")
    def vendor(package, path):
        roots = {"xterm": "@xterm/xterm", "xterm-addon-fit": "@xterm/addon-fit"}
        if package not in roots:
            raise bottle.HTTPError(404, "no such package")
        return bottle.static_file(path, root=static / "node_modules" / roots[package])

    add_api(app)
    return app


def add_api(app: bottle.Bottle) -> None:
    jobs: Jobs = app.config["devaipod.jobs"]
    pods: PodsCache = app.config["devaipod.pods"]

    @app.get("/api/pods")
    def list_pods():
        bottle.response.content_type = "application/json"
        return json.dumps(pods.get())

    @app.post("/api/pods")
    def create_pod():
        spec = actions.creation_spec(bottle.request.json or {})
        job = jobs.start(creation_argv(spec))
        pods.invalidate()
        bottle.response.status = 202
        return {"job": job.id}

    @app.get("/api/jobs/<job_id>")
    def job_state(job_id):
        return job_or_404(jobs, job_id).as_dict()

    @app.get("/api/jobs/<job_id>/events")
    def job_events(job_id):
        job = job_or_404(jobs, job_id)
        bottle.response.content_type = "text/event-stream"
        bottle.response.set_header("Cache-Control", "no-cache")
        return sse_job(job)

    @app.get("/api/pods/<name>")
    def pod_status(name):
        return actions.status(actions.resolve(name))

    @app.get("/api/pods/<name>/gator")
    def gator_get(name):
        return actions.gator(actions.resolve(name))

    @app.post("/api/pods/<name>/gator")
    def gator_add(name):
        scopes = actions.gator_scopes((bottle.request.json or {}).get("add"))
        if not scopes:
            raise actions.json_error(400, 'give {"add": ["github:owner/repo:read", ...]}')
        return actions.gator(actions.resolve(name), scopes)

    @app.post("/api/pods/<name>/<action>")
    def pod_action(name, action):
        result = actions.lifecycle(actions.resolve(name), action)
        pods.invalidate()
        return result

    @app.get("/api/pods/<name>/agent")
    def agent_frame(name):
        host = (bottle.request.get_header("Host") or "127.0.0.1").rsplit(":", 1)[0]
        return {"url": actions.agent_url(actions.resolve(name), host)}

    @app.get("/api/pods/<name>/review")
    def review(name):
        return actions.review(actions.resolve(name))

    @app.post("/api/pods/<name>/review/<verdict>")
    def review_verdict(name, verdict):
        return actions.verdict(actions.resolve(name), verdict)

    @app.get("/api/pods/<name>/logs")
    def logs(name):
        pod = actions.resolve(name)
        q = bottle.request.query
        argv = actions.logs_argv(pod, q.get("container", "agent"),
                                 int(q.get("tail", "200") or 200), q.get("follow") == "1")
        bottle.response.content_type = "text/event-stream"
        bottle.response.set_header("Cache-Control", "no-cache")
        return (f"data: {line}\n\n" for line in runner.lines(podman.argv(argv)))


def job_or_404(jobs: Jobs, job_id: str):
    job = jobs.get(job_id)
    if job is None:
        raise bottle.HTTPError(404, f"no job {job_id}")
    return job


def sse_job(job):
    for line in job.follow():
        yield ": keepalive\n\n" if line is None else f"event: line\ndata: {line}\n\n"
    yield f"event: end\ndata: {json.dumps(job.as_dict())}\n\n"


def serve(host: str, port: int) -> None:
    from devaipod.web import oneport, sockets

    token, origin = auth.load_token()
    gate = auth.Auth(token)
    app = make_app(gate)
    server = oneport.make_server(host, port, app, sockets.router(gate))
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    print(f"devaipod web: token from {origin}", flush=True)
    print(f"Login URL: http://{shown}:{server.server_port}/login?token={token}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()

