"""GitHub's REST API, as the gator calls it: the token stays in this process.

The API and web addresses default to github.com's; a GitHub Enterprise (or
the tests' fake forge) is chosen with ``SERVICE_GATOR_GITHUB_API`` and
``SERVICE_GATOR_GITHUB_URL``. The token comes from ``GH_TOKEN`` or
``GITHUB_TOKEN`` (or the file named by ``GH_TOKEN_FILE``/``GITHUB_TOKEN_FILE``).
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from devaipod.gator.scopes import REPO

API = "https://api.github.com"
WEB = "https://github.com"
TIMEOUT = 30
_BAD_ESCAPE = re.compile(r"%(2e|2f|5c|00)", re.I)


class _SameHost(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only on the same scheme and host: the token must not go elsewhere."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        old, new = urlsplit(req.full_url), urlsplit(newurl)
        if (old.scheme, old.netloc) != (new.scheme, new.netloc):
            return None  # answered as the redirect itself: an HTTPError the caller reports
        return super().redirect_request(req, fp, code, msg, headers, newurl)


OPENER = urllib.request.build_opener(_SameHost)  # also forgeapi's


class ForgeError(Exception):
    """A request the gator refuses or the forge failed; its text goes to the agent."""


def read_token(env: Mapping[str, str] | None = None,
               names: tuple[str, ...] = ("GH_TOKEN", "GITHUB_TOKEN")) -> str | None:
    env = os.environ if env is None else env
    for var in names:
        if env.get(var, "").strip():
            return env[var].strip()
        path = env.get(f"{var}_FILE")
        if path and os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                return f.read().strip() or None
    return None


def split_endpoint(endpoint: str) -> tuple[list[str], str]:
    """``repos/o/r/pulls?state=all`` -> (path segments, query); refuses tricks.

    No scheme or host, no ``.``/``..``/empty segment, no escaped dot, slash
    or backslash: the repository the scope check sees is the one called.
    """
    text = endpoint.strip()
    path, _, query = text.partition("?")
    path = path.removeprefix("/")
    if "://" in text or text.startswith("//") or "\\" in text or _BAD_ESCAPE.search(path):
        raise ForgeError(f"endpoint {endpoint!r} refused: give a path such as repos/OWNER/REPO")
    segments = path.split("/")
    if not path or any(s in ("", ".", "..") for s in segments):
        raise ForgeError(f"endpoint {endpoint!r} refused: empty, '.' or '..' path segment")
    if segments[0] == "api" and segments[1:2] == ["v3"]:
        segments = segments[2:]
    return segments, query


def repo_of(segments: list[str]) -> str | None:
    """``owner/repo`` of a ``repos/owner/repo/...`` path, else None."""
    if len(segments) >= 3 and segments[0] == "repos":
        repo = f"{unquote(segments[1])}/{unquote(segments[2])}"
        if not REPO.match(repo):
            raise ForgeError(f"{repo!r} is not a valid OWNER/REPO")
        return repo
    return None


@dataclass
class Response:
    status: int
    text: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        return json.loads(self.text) if self.text.strip() else None


class GitHub:
    def __init__(self, api: str | None = None, web: str | None = None,
                 token: str | None = None) -> None:
        self.api = (api or os.environ.get("SERVICE_GATOR_GITHUB_API") or API).rstrip("/")
        self.web = (web or os.environ.get("SERVICE_GATOR_GITHUB_URL") or WEB).rstrip("/")
        self.token = token if token is not None else read_token()

    @property
    def graphql_url(self) -> str:
        """``{api}/graphql``; GitHub Enterprise's is ``/api/graphql`` beside ``/api/v3``."""
        base = self.api.removesuffix("/v3") if self.api.endswith("/api/v3") else self.api
        return f"{base}/graphql"

    def request(self, method: str, path: str, body: Any = None) -> Response:
        """One API call; ``path`` is relative to the API root (already checked)."""
        return self.send(method, f"{self.api}/{path.lstrip('/')}", body)

    name = "GitHub"
    kind = "github"

    def headers(self) -> dict[str, str]:
        headers = {"Accept": "application/vnd.github+json", "User-Agent": "devaipod-gator",
                   "X-GitHub-Api-Version": "2022-11-28"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def send(self, method: str, url: str, body: Any = None) -> Response:
        """One call to URL, an address of this forge's API."""
        headers = self.headers()
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(url, data=data, method=method.upper(), headers=headers)
        try:
            with OPENER.open(req, timeout=TIMEOUT) as resp:
                return Response(resp.status, resp.read().decode("utf-8", "replace"))
        except urllib.error.HTTPError as exc:
            return Response(exc.code, exc.read().decode("utf-8", "replace"))
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ForgeError(f"cannot reach {self.api}: {reason}") from None

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """A call that must succeed: its JSON, or ForgeError with GitHub's message."""
        resp = self.request(method, path, body)
        if not resp.ok:
            try:
                message = (resp.json() or {}).get("message") or resp.text
            except ValueError:
                message = resp.text
            raise ForgeError(f"{self.name} said {resp.status} to {method} {path}: {message}")
        return resp.json()

    @property
    def host(self) -> str:
        """host[:port] of the web address."""
        return urlsplit(self.web).netloc

    def clone_url(self, repo: str) -> str:
        return f"{self.web}/{repo}.git"

    def auth_header(self) -> str | None:
        """The header git sends (``http.extraHeader``): never part of a URL."""
        from devaipod.forges import basic_header

        return basic_header(self.kind, self.token) if self.token else None
