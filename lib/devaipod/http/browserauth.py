"""What the browser-facing servers (the control plane and the pods' sidecars) share.

Browsers scope cookies by host, not port: a cookie of ``127.0.0.1:8080`` also
goes to every other port of 127.0.0.1, such as a dev server the agent runs.
So a cookie alone never authorizes anything here: every request needs a key
(``X-Devaipod-Key``) that only pages of the server's own origin hold.

The control plane hands a browser into a pod's sidecar with a ticket: signed
with the pod's token, short-lived, single-use, naming the control plane's
origin (the only page allowed to frame the sidecar) and when the browser's
session ends.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Callable, Iterable

KEY_HEADER = "X-Devaipod-Key"
TICKET_SECONDS = 60
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
ORIGIN = re.compile(r"^https?://[A-Za-z0-9.\-]+(:\d{1,5})?$|^https?://\[[0-9a-fA-F:.]+\](:\d{1,5})?$")


def derive(key: str, purpose: str) -> str:
    return hmac.new(key.encode(), purpose.encode(), hashlib.sha256).hexdigest()


def equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def bearer(authorization: str | None, token: str) -> bool:
    """``Authorization: Bearer <token>`` names this token (non-browser clients)."""
    header = authorization or ""
    given = header[7:].strip() if header.startswith("Bearer ") else ""
    return bool(token and given) and equal(given, token)


def valid_origin(origin: str) -> bool:
    """A plain scheme://host[:port], safe to write into a CSP header."""
    return bool(ORIGIN.match(origin or ""))


def hostname(netloc: str) -> str:
    """``host`` of ``host:port`` (``[::1]`` of ``[::1]:8080``)."""
    return netloc if netloc.endswith("]") else netloc.rsplit(":", 1)[0]


def same_origin_write(method: str, headers, host: str | None) -> bool:
    """A browser's state-changing request must come from this origin.

    Cookies are "same-site" across ports, so SameSite alone lets a page on
    another port of this host post with our cookie: check Origin (or
    Sec-Fetch-Site) as well. Requests with neither header come from
    non-browser clients (which have no cookie of ours to abuse).
    """
    if method.upper() in SAFE_METHODS:
        return True
    fetch_site = headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site in ("same-origin", "none")
    origin = headers.get("Origin")
    if origin is None:
        return True
    return bool(host) and origin.split("://", 1)[-1] == host


# --- tickets: the control plane -> a pod's sidecar --------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def ticket(pod_token: str, pod: str, origin: str, until: float,
           now: float | None = None) -> str:
    """A credential, valid TICKET_SECONDS and once, that logs a browser into one pod's
    sidecar for a session ending at ``until``, framed by ``origin`` only."""
    body = {"pod": pod, "exp": int((now or time.time()) + TICKET_SECONDS),
            "until": int(until), "origin": origin, "nonce": secrets.token_urlsafe(12)}
    payload = _b64(json.dumps(body, separators=(",", ":")).encode())
    return f"{payload}.{derive(pod_token, f'ticket:{payload}')}"


def check_ticket(pod_token: str, pod: str, value: str, now: float | None = None) -> dict | None:
    """The ticket's fields if it is right, for this pod and not expired; else None."""
    payload, _dot, mac = (value or "").partition(".")
    if not pod_token or not mac or not equal(mac, derive(pod_token, f"ticket:{payload}")):
        return None
    try:
        body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:
        return None
    now = now or time.time()
    if (not isinstance(body, dict) or body.get("pod") != pod
            or not isinstance(body.get("exp"), int) or body["exp"] < now
            or not isinstance(body.get("until"), int) or body["until"] <= now
            or not valid_origin(body.get("origin", "")) or not body.get("nonce")):
        return None
    return body


# --- security headers on every response ------------------------------------------------------

HeadersFor = Callable[[dict], Iterable[tuple[str, str]]]


def with_headers(app, headers_for: HeadersFor):
    """Wrap a WSGI app: every response gets ``headers_for(environ)`` (computed when the
    response starts, so the app may leave hints in the environ)."""

    def wrapped(environ, start_response):
        def start(status, headers, exc_info=None):
            return start_response(status, [*headers, *headers_for(environ)], exc_info)

        return app(environ, start)

    return wrapped
