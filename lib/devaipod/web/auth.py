"""The control plane's login token, sessions, and tickets for the pods' sidecars.

The token is read from ``/run/secrets/devaipod-web-token`` (a podman
secret), else the state dir's ``web-token``, else generated and saved there
with mode 0600. The session cookie holds a value derived from the token,
never the token itself. Failed logins from one address are slowed down.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from pathlib import Path

from devaipod import state

SECRET_FILE = Path("/run/secrets/devaipod-web-token")
COOKIE = "devaipod_session"
TICKET_SECONDS = 60


def load_token(secret_file: Path = SECRET_FILE) -> tuple[str, str]:
    """(token, where it came from)."""
    if secret_file.is_file():
        value = secret_file.read_text().strip()
        if value:
            return value, str(secret_file)
    path = state.state_dir() / "web-token"
    if path.is_file() and path.read_text().strip():
        return path.read_text().strip(), str(path)
    token = secrets.token_urlsafe(32)
    state.write_private(path, token)
    return token, f"{path} (new)"


def derive(key: str, purpose: str) -> str:
    return hmac.new(key.encode(), purpose.encode(), hashlib.sha256).hexdigest()


def equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def ticket(pod_token: str, pod: str, now: float | None = None) -> str:
    """A short-lived credential that logs a browser into one pod's sidecar."""
    expiry = int((now or time.time()) + TICKET_SECONDS)
    return f"{expiry}.{derive(pod_token, f'ticket:{pod}:{expiry}')}"


def check_ticket(pod_token: str, pod: str, value: str, now: float | None = None) -> bool:
    expiry, _dot, mac = value.partition(".")
    if not expiry.isdigit() or int(expiry) < (now or time.time()):
        return False
    return equal(mac, derive(pod_token, f"ticket:{pod}:{expiry}"))


SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def same_origin_write(method: str, headers, host: str | None) -> bool:
    """A browser's state-changing request must come from this origin.

    Cookies are "same-site" across ports, so SameSite alone lets a page on
    another port of this host post with our cookie: check Origin (or
    Sec-Fetch-Site) as well. Requests with neither header come from
    non-browser clients.
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


class Auth:
    def __init__(self, token: str) -> None:
        self.token = token
        self.session = derive(token, "session")
        self._failures: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def ok(self, cookie: str | None, authorization: str | None) -> bool:
        if cookie and equal(cookie, self.session):
            return True
        if authorization and authorization.startswith("Bearer "):
            return equal(authorization[7:].strip(), self.token)
        return False

    def login(self, given: str, address: str) -> bool:
        """Check a login attempt; a failure waits longer the more an address fails."""
        if equal(given, self.token):
            with self._lock:
                self._failures.pop(address, None)
            return True
        with self._lock:
            count, _ = self._failures.get(address, (0, 0.0))
            self._failures[address] = (count + 1, time.time())
        time.sleep(min(0.25 * 2 ** count, 8.0))
        return False
