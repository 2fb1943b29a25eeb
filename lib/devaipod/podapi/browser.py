"""The sidecar's browser sessions: a ticket in, a cookie and a key out.

OpenCode's web UI (proxied by the sidecar) is not our code and cannot add a
header, so the login answers with a small page of our own that registers a
service worker (``/_devaipod/sw.js``, scope ``/``) holding the session's key;
the worker adds ``X-Devaipod-Key`` to every request of this origin, and the
page then goes on to OpenCode's UI. A cookie without the key (a dev server on
another port of the host got it) is refused. Sessions live in memory: a
restarted sidecar forgets them, and the Agent tab logs in again.
"""

from __future__ import annotations

import html
import secrets
import threading
import time
from dataclasses import dataclass
from importlib import resources

from devaipod.http import browserauth

MAX_SESSIONS = 64
STATIC = ("sw.js", "login.js")


def cookie_name(pod: str) -> str:
    """One cookie per pod: cookies ignore ports, and every sidecar is on this host."""
    return "devaipod_pod_" + "".join(c if c.isalnum() else "_" for c in pod)


@dataclass
class Session:
    key: str
    origin: str  # the control plane's, the only page that may frame this sidecar
    until: float


class Sessions:
    def __init__(self, pod: str, token: str) -> None:
        self.pod, self.token = pod, token
        self._sessions: dict[str, Session] = {}
        self._used: dict[str, float] = {}  # ticket nonces, until their ticket expires
        self._lock = threading.Lock()

    def login(self, ticket: str, now: float | None = None) -> tuple[str, Session] | None:
        """(session id, session) for a right ticket used for the first time; else None."""
        now = now or time.time()
        body = browserauth.check_ticket(self.token, self.pod, ticket, now=now)
        if body is None:
            return None
        with self._lock:
            self._used = {n: exp for n, exp in self._used.items() if exp >= now}
            if body["nonce"] in self._used:
                return None
            self._used[body["nonce"]] = body["exp"]
            self._sessions = {s: v for s, v in self._sessions.items() if v.until > now}
            while len(self._sessions) >= MAX_SESSIONS:
                del self._sessions[next(iter(self._sessions))]  # the oldest goes
            sid = secrets.token_urlsafe(24)
            session = Session(secrets.token_urlsafe(24), body["origin"], float(body["until"]))
            self._sessions[sid] = session
        return sid, session

    def check(self, sid: str | None, key: str | None,
              now: float | None = None) -> Session | None:
        """The session of a cookie and key that belong together; else None."""
        if not sid or not key:
            return None
        with self._lock:
            session = self._sessions.get(sid)
        if session is None or session.until <= (now or time.time()):
            return None
        return session if browserauth.equal(key, session.key) else None


def static_file(name: str) -> str:
    return resources.files("devaipod.podapi").joinpath("static", name).read_text()


def login_page(key: str, target: str) -> str:
    """The page that installs the service worker with the key, then goes to ``target``."""
    return static_file("login.html").replace(
        "{{key}}", html.escape(key, quote=True)).replace(
        "{{next}}", html.escape(target, quote=True))


def landing(target: str | None) -> str:
    """Only a page of this sidecar: a path, not //host nor a URL."""
    target = target or "/"
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def csp(frame_ancestors: str, page: bool = False) -> str:
    """Our own pages (the login page) get a strict policy; OpenCode's only frame-ancestors."""
    policy = f"frame-ancestors {frame_ancestors}"
    if page:
        policy = ("default-src 'none'; script-src 'self'; connect-src 'self'; "
                  f"base-uri 'none'; form-action 'none'; {policy}")
    return policy
