"""GitLab's and Forgejo's REST APIs, as the gator calls them (the token stays here).

The web addresses come from ``SERVICE_GATOR_GITLAB_URL`` and
``SERVICE_GATOR_FORGEJO_URL`` (``[service-gator.gitlab|forgejo] url``; default
gitlab.com and codeberg.org); the APIs are ``/api/v4`` and ``/api/v1`` under
them. The tokens come from ``GITLAB_TOKEN`` and ``FORGEJO_TOKEN`` (or the
``*_FILE`` they name) and travel as headers: GitLab's ``PRIVATE-TOKEN``,
Forgejo's ``Authorization: token``; never in a URL. Redirects to another host
are not followed (``forge.OPENER``).

An endpoint names its project in the path, and the scope check sees the
project that is called: ``projects/GROUP%2FPROJECT/...`` on GitLab (the one
encoded separator allowed, and only in the project; a numeric project id is
refused: its path is unknown until asked), ``repos/OWNER/REPO/...`` on Forgejo
(GitHub's rules, ``forge.split_endpoint``).
"""

from __future__ import annotations

import os
import re
from urllib.parse import quote, unquote

from devaipod.gator.forge import ForgeError, GitHub, read_token, repo_of, split_endpoint
from devaipod.gator.scopes import PROJECT

_ONE_SLASH = re.compile(r"%2f", re.I)


class GitLab(GitHub):
    name, kind = "GitLab", "gitlab"

    def __init__(self, web: str | None = None, token: str | None = None) -> None:
        web = (web or os.environ.get("SERVICE_GATOR_GITLAB_URL") or "https://gitlab.com")
        token = token if token is not None else read_token(names=("GITLAB_TOKEN",))
        super().__init__(api=f"{web.rstrip('/')}/api/v4", web=web, token=token)

    def headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": "devaipod-gator"}
        if self.token:
            headers["PRIVATE-TOKEN"] = self.token
        return headers


class Forgejo(GitHub):
    name, kind = "Forgejo", "forgejo"

    def __init__(self, web: str | None = None, token: str | None = None) -> None:
        web = (web or os.environ.get("SERVICE_GATOR_FORGEJO_URL") or "https://codeberg.org")
        token = token if token is not None else read_token(names=("FORGEJO_TOKEN",))
        super().__init__(api=f"{web.rstrip('/')}/api/v1", web=web, token=token)

    def headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": "devaipod-gator"}
        if self.token:
            headers["Authorization"] = f"token {self.token}"
        return headers


def gitlab_endpoint(endpoint: str) -> tuple[str, str]:
    """``projects/group%2Fproject/merge_requests?state=opened`` -> (project path, the
    path to call, its project encoded once); anything else is refused."""
    text = endpoint.strip().removeprefix("/").removeprefix("api/v4/")
    head, sep, rest = text.partition("/")
    project, _, rest = rest.partition("/")
    if head != "projects" or not sep or not project:
        raise ForgeError(f"endpoint {endpoint!r} refused: give projects/GROUP%2FPROJECT/...")
    if project.isdigit():
        raise ForgeError(f"endpoint {endpoint!r} refused: name the project by its path "
                         "(GROUP%2FPROJECT), not its id")
    path = _ONE_SLASH.sub("/", project)
    if "%" in path or not PROJECT.match(path):
        raise ForgeError(f"endpoint {endpoint!r} refused: {unquote(project)!r} is not "
                         "GROUP%2FPROJECT")
    segments, query = split_endpoint(f"projects/x/{rest}" if rest else "projects/x")
    tail = "/".join(segments[2:])
    call = f"projects/{quote(path, safe='')}" + (f"/{tail}" if tail else "")
    return path, call + (f"?{query}" if query else "")


def forgejo_endpoint(endpoint: str) -> tuple[str, str]:
    """``/api/v1/repos/o/r/pulls`` -> ("o/r", "repos/o/r/pulls"); GitHub's rules."""
    text = endpoint.strip().removeprefix("/").removeprefix("api/v1/")
    segments, query = split_endpoint(text)
    repo = repo_of(segments)
    if repo is None:
        raise ForgeError(f"endpoint {endpoint!r} refused: give /api/v1/repos/OWNER/REPO/...")
    return repo, "/".join(segments) + (f"?{query}" if query else "")
