"""The control plane's login token, its browser sessions, and tickets for the sidecars.

The token is read from ``/run/secrets/devaipod-web-token`` (a podman
secret), else the state dir's ``web-token``, else generated and saved there
with mode 0600; a running server re-reads that file when it changes
(``devaipod web --rotate-token``), which ends every session.

A session is stateless, signed by the token: its cookie holds a random
session id, its expiry and their MAC. Browsers send a cookie to every port
of a host, so the cookie alone is worth nothing: each API call and WebSocket
also needs the session's key, HMAC(token, "api:" + id), which the server
hands out only in its answer to a successful login (in the redirect's URL
fragment), and which the pages keep in localStorage (per origin, so per
port). A logout revokes the session id in memory until it would expire.
Failed logins from one address are slowed down.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path

from devaipod import errors, state
from devaipod.http.browserauth import bearer, derive, equal

SECRET_FILE = Path("/run/secrets/devaipod-web-token")
COOKIE = "devaipod_session"
SESSION_HOURS = 12


def token_path() -> Path:
    return state.state_dir() / "web-token"


def load_token(secret_file: Path = SECRET_FILE) -> tuple[str, str]:
    """(token, where it came from)."""
    if secret_file.is_file():
        value = secret_file.read_text().strip()
        if value:
            return value, str(secret_file)
    path = token_path()
    if path.is_file() and path.read_text().strip():
        return path.read_text().strip(), str(path)
    token = secrets.token_urlsafe(32)
    state.write_private(path, token)
    return token, f"{path} (new)"


def rotate_token(secret_file: Path = SECRET_FILE) -> str:
    """A new token in the state dir's web-token (a running server picks it up)."""
    if secret_file.is_file() and secret_file.read_text().strip():
        raise errors.DevaipodError(
            f"the token comes from the podman secret {secret_file} and cannot be rotated here",
            "replace the secret: podman secret rm devaipod-web-token && "
            "openssl rand -hex 32 | podman secret create devaipod-web-token -, "
            "then recreate the devaipod container")
    token = secrets.token_urlsafe(32)
    state.write_private(token_path(), token)
    return token


class TokenFile:
    """The current token: the secret's, else the state dir's file, re-read when it changes."""

    def __init__(self, secret_file: Path = SECRET_FILE) -> None:
        self.value, self.origin = load_token(secret_file)
        self.fixed = self.origin == str(secret_file)
        self._seen = self._stamp()
        self._lock = threading.Lock()

    def _stamp(self):
        try:
            st = token_path().stat()
        except OSError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    def __call__(self) -> str:
        if self.fixed:
            return self.value
        stamp = self._stamp()
        if stamp != self._seen and stamp is not None:
            with self._lock:
                text = token_path().read_text().strip()
                if text:
                    self.value, self._seen = text, stamp
        return self.value


class Auth:
    def __init__(self, token: str | Callable[[], str], session_hours: float = SESSION_HOURS,
                 clock: Callable[[], float] = time.time) -> None:
        self._token = token if callable(token) else (lambda: token)
        self.seconds = int(session_hours * 3600)
        self.clock = clock
        self._revoked: dict[str, float] = {}  # session id -> its expiry
        self._failures: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    @property
    def token(self) -> str:
        return self._token()

    def _mac(self, sid: str, expiry: int) -> str:
        return derive(self.token, f"session:{sid}:{expiry}")

    def new_session(self) -> tuple[str, str]:
        """(the cookie's value, the session's key) of a new session."""
        sid, expiry = secrets.token_urlsafe(18), int(self.clock()) + self.seconds
        return f"{sid}.{expiry}.{self._mac(sid, expiry)}", self.key(sid)

    def key(self, sid: str) -> str:
        return derive(self.token, f"api:{sid}")

    def session(self, cookie: str | None) -> tuple[str, int] | None:
        """(session id, expiry) of a cookie signed by the current token, not expired nor
        revoked; else None."""
        sid, _, rest = (cookie or "").partition(".")
        expiry, _, mac = rest.partition(".")
        if not sid or not expiry.isdigit() or int(expiry) <= self.clock():
            return None
        if not equal(mac, self._mac(sid, int(expiry))):
            return None
        with self._lock:
            if sid in self._revoked:
                return None
        return sid, int(expiry)

    def bearer(self, authorization: str | None) -> bool:
        return bearer(authorization, self.token)

    def ok(self, cookie: str | None, key: str | None, authorization: str | None) -> bool:
        """The login token as a Bearer header, or a session's cookie AND its key."""
        if self.bearer(authorization):
            return True
        found = self.session(cookie)
        if not found or not key:
            return False
        return equal(key, self.key(found[0]))

    def logout(self, cookie: str | None, key: str | None) -> bool:
        """Revoke the session of a cookie and its key (until it would have expired)."""
        found = self.session(cookie)
        if not found or not key or not equal(key, self.key(found[0])):
            return False
        now = self.clock()
        with self._lock:
            self._revoked = {s: e for s, e in self._revoked.items() if e > now}
            self._revoked[found[0]] = found[1]
        return True

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
