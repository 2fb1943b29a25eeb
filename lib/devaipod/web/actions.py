"""What the control plane does to a pod, as plain functions (the CLI's twins)."""

from __future__ import annotations

import json
from typing import NoReturn

import bottle

from devaipod import errors, layout
from devaipod.http import browserauth
from devaipod.podman import container, pod
from devaipod.workspace import lifecycle as workspace_lifecycle
from devaipod.workspace import lookup, remove

LIFECYCLE = ("stop", "start", "delete", "done", "undone")


def resolve(name: str) -> str:
    try:
        return lookup.resolve(name)
    except errors.DevaipodError as exc:
        raise bottle.HTTPError(404, exc.format_message()) from None


def json_error(status: int, message: str) -> bottle.HTTPResponse:
    return bottle.HTTPResponse(json.dumps({"error": message}), status,
                               {"Content-Type": "application/json"})


def fail(exc: errors.DevaipodError, status: int = 400) -> NoReturn:
    raise json_error(status, exc.format_message())


def status(name: str) -> dict:
    from devaipod.workspace.status import gather

    return gather(name)


def lifecycle(name: str, action: str) -> dict:
    if action not in LIFECYCLE:
        raise bottle.HTTPError(404, f"no action {action}")
    try:
        if action == "stop":
            workspace_lifecycle.stop(name, timeout=5)
        elif action == "start":
            workspace_lifecycle.start(name)  # postStartCommand too, as `devaipod start`
        elif action == "delete":
            remove.purge(name)
        else:
            workspace_lifecycle.mark_done(name, done=action == "done")
    except errors.DevaipodError as exc:
        fail(exc)
    return {"ok": True}


def set_title(name: str, body) -> dict:
    """The request's {"title": ...} as the workspace's title, checked as `devaipod title`."""
    title = body.get("title") if isinstance(body, dict) else None
    if not isinstance(title, str):
        raise json_error(400, 'give {"title": "..."}')
    try:
        return {"ok": True, "title": workspace_lifecycle.set_title(name, title)}
    except errors.DevaipodError as exc:
        fail(exc)


def prunable() -> list[dict]:
    """What `devaipod prune` would delete now."""
    return [{"name": r.name, "short": r.short, "title": r.title, "task": r.task}
            for r in workspace_lifecycle.prunable()]


def prune(body) -> dict:
    """Delete the request's {"names": [...]} that are still marked done, and only those."""
    names = body.get("names") if isinstance(body, dict) else None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise json_error(400, 'give {"names": ["workspace", ...]} (see GET /api/prune)')
    try:
        return {"pruned": workspace_lifecycle.prune(names)}
    except errors.DevaipodError as exc:
        fail(exc)


GATOR_CHANGES = ("add", "revoke", "set")  # `devaipod gator add|revoke|set`


def gator(name: str, change: str | None = None, values: list[str] | None = None) -> dict:
    """The pod's GitHub grants as its gator has them now, after a CHANGE first (one of
    GATOR_CHANGES, with its scopes or grants: the CLI's functions)."""
    from devaipod.gator.scopes import Scopes
    from devaipod.workspace import gator as gator_

    if not pod.inspect(name).get("Labels", {}).get(layout.GATOR):
        return {"enabled": False, "grants": []}
    do = {"add": gator_.add, "revoke": gator_.revoke, "set": gator_.replace_all}
    try:
        scopes: Scopes = do[change](name, values or []) if change else gator_.read(name)
    except errors.DevaipodError as exc:
        fail(exc)
    return {"enabled": True, "grants": scopes.describe(), "scopes": scopes.to_json()}


# the New form's fields that are `up`/`run`'s options, by the name request.from_options
# knows them by ("gator" is --service-gator)
FORM_OPTIONS = {"name": "name", "image": "image", "network": "network", "title": "title",
                "mcp": "mcp", "gator": "service_gator", "service_gator_ro": "service_gator_ro",
                "service_gator_image": "service_gator_image", "pull": "pull",
                "no_auto_approve": "no_auto_approve", "devcontainer_json": "devcontainer_json",
                "use_default_devcontainer": "use_default_devcontainer",
                "trust_source": "trust_source"}


def creation_requests(body: dict, config=None) -> list:
    """The New form's fields as one Request per source (one per line), each checked by
    request.from_options, as `devaipod up|run` checks its own; a run without a task gets
    each source's default."""
    from devaipod.config_schema import Config
    from devaipod.workspace.request import default_task, from_options, split_sources

    if not isinstance(body, dict):
        raise json_error(400, "give the form's fields as a JSON object")
    if body.get("orchestration"):
        raise json_error(400, "the worker is set in devaipod.toml: [orchestration] enabled = true")
    source, mode = body.get("source"), body.get("mode") or "run"
    sources = split_sources(source) if isinstance(source, str) else []
    if not sources or mode not in ("up", "run"):
        raise json_error(400, "give a source and a mode (up or run)")
    if len(sources) > 1 and body.get("name"):
        raise json_error(400, "a name is for one workspace: leave it empty for several sources")
    options = {FORM_OPTIONS[k]: v for k, v in body.items() if k in FORM_OPTIONS}
    task = body.get("task")
    made = []
    try:
        for src in sources:
            req = from_options(src, mode, task, options)
            if mode == "run" and not req.task:
                default = default_task(src, config or Config())
                if not default:
                    raise json_error(400, f"run needs a task ({src} implies none)")
                req = from_options(src, mode, default, options)
            made.append(req)
    except errors.DevaipodError as exc:
        fail(exc)
    return made


def gator_scopes(value) -> list[str]:
    """The form's service-gator scopes, each checked as --service-gator would."""
    from devaipod.workspace.gator import check_scopes

    if value in (None, "", []):
        return []
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise json_error(400, "expected a list of scopes such as github:owner/repo:read")
    try:
        check_scopes(value)
    except errors.DevaipodError as exc:
        fail(exc)
    return [s.strip() for s in value]


def gator_change(body) -> tuple[str, list[str]]:
    """The request's {"add": [...]}, {"revoke": [...]} or {"set": [...]} (set may be
    empty: no grant left), each scope checked as the CLI checks it."""
    given = [k for k in GATOR_CHANGES if isinstance(body, dict) and k in body]
    values = body.get(given[0]) if len(given) == 1 else None
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values) or \
            (not values and given[0] != "set"):
        raise json_error(400, 'give one of {"add": [scope, ...]}, {"revoke": [grant, ...]} '
                         'or {"set": [scope, ...]}')
    if given[0] != "revoke":
        gator_scopes(values)
    return given[0], [v.strip() for v in values]


def update(name: str, config=None) -> dict:
    """Whether the agent runs an older image than the one its workspace is configured
    with (see workspace.rebuild.update_state)."""
    from devaipod.config_schema import Config
    from devaipod.workspace import rebuild

    try:
        return rebuild.update_state(name, config or Config())
    except errors.DevaipodError as exc:
        fail(exc, 409)


def client(name: str):
    from devaipod.agent.client import AgentError, Client

    try:
        return Client.for_pod(name)
    except AgentError as exc:
        fail(exc, 409)


def agent_url(name: str, origin: str, until: float) -> str:
    """The sidecar's login URL (on the host the browser reached us at), landing on the
    task's session in OpenCode's UI; its ticket lets ``origin`` alone frame the sidecar,
    for a browser session that ends at ``until``."""
    from urllib.parse import quote

    from devaipod.agent.client import token

    c = client(name)
    port = c.base.rsplit(":", 1)[1]
    host = browserauth.hostname(origin.split("://", 1)[1])
    ticket = browserauth.ticket(token(name), name, origin, until)
    url = f"http://{host}:{port}/_devaipod/login?ticket={ticket}"
    landing = session_page(c)
    return f"{url}&next={quote(landing, safe='')}" if landing else url


def session_page(c) -> str | None:
    """OpenCode's UI route of the oldest root session: /<base64url(dir)>/session/<id>."""
    import base64

    from devaipod.agent.client import AgentError

    try:
        sessions = [s for s in c.get("/session", timeout=5) or [] if not s.get("parentID")]
    except AgentError:
        return None
    if not sessions:
        return None
    oldest = min(sessions, key=lambda s: (s.get("time") or {}).get("created", 0))
    directory = base64.urlsafe_b64encode(oldest.get("directory", "").encode()).decode()
    return f"/{directory.rstrip('=')}/session/{oldest['id']}"


def review(name: str) -> dict:
    from devaipod.agent.client import AgentError
    from devaipod.workspace import review as review_

    try:
        return review_.load(name, client(name))
    except AgentError as exc:
        fail(exc, 502)


def review_comments(name: str, body) -> dict:
    """Send the request's {"head", "base", "comments": [...]} to the agent as one message."""
    from devaipod.agent.client import AgentError
    from devaipod.workspace import review as review_

    body = body if isinstance(body, dict) else {}
    try:
        sent = review_.send_comments(name, body.get("head"), body.get("base"),
                                     body.get("comments"), client(name))
    except review_.ReviewError as exc:
        fail(exc, 400)
    except AgentError as exc:
        fail(exc, 502)
    return {"ok": True, "sent": sent}


def verdict(name: str, what: str) -> dict:
    """Merge the reviewed range (the request's JSON: {"head", "base"}) or reject."""
    from devaipod.agent.client import AgentError
    from devaipod.workspace import review as review_

    if what not in ("merge", "reject"):
        raise bottle.HTTPError(404, f"no review action {what}")
    try:
        if what == "reject":
            review_.reject(name)
            return {"ok": True, "head": None}
        body = bottle.request.json or {}
        try:
            head, base = review_.check_range(body.get("head"), body.get("base"))
        except review_.ReviewError as exc:
            fail(exc, 400)
        return {"ok": True, "head": review_.land(name, head, base, client(name))}
    except AgentError as exc:
        fail(exc, 502)
    except review_.ReviewError as exc:
        fail(exc, 409)


def logs_argv(name: str, role: str, tail: int, follow: bool) -> list[str]:
    if role not in layout.ROLES:
        raise bottle.HTTPError(400, f"no container {role}")
    return container.logs_argv(layout.container(name, role), follow=follow,
                               tail=max(0, min(tail, 5000)))


def audit(name: str) -> dict:
    """The workspace's audit trail, oldest event first."""
    from devaipod.workspace import audit as trail

    try:
        return {"events": trail.read(name)}
    except errors.DevaipodError as exc:
        fail(exc, 404 if isinstance(exc, errors.NotFound) else 400)
