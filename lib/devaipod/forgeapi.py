"""A pull request's or issue's title and head, from the forge's REST API (GitHub, GitLab,
Forgejo), asked from this machine (trusted) with the host's token, when there is one.

The token is the podman secret ``[trusted] secrets`` names for the forge's variable
(``forges.find``), read with a throwaway container (``secret.read``) and sent in an HTTP
header; redirects to another host are not followed (``gator.forge.OPENER``).

What comes back is the forge's data, and a PR's author chooses it: the title is
cleaned (one printable line, at most ``MAX_TITLE`` characters) and a fork is used
only when its URL is on the source's own scheme and host and its branch a plain name.

A look-up that fails (no answer, an error status, unexpected JSON) is a warning, not
an error: the workspace is made as without it (the PR's ref is fetched with git, the
task is "Review and continue URL", no title, no fork remote).
"""

from __future__ import annotations

import functools
import json
import logging
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from devaipod import errors
from devaipod.forges import Forge
from devaipod.source import Source

log = logging.getLogger("devaipod")

TIMEOUT = 20
MAX_TITLE = 200
_BRANCH = re.compile(r"^(?!-)(?!.*\.\.)[A-Za-z0-9._/-]{1,200}$")
_URL_SAFE = re.compile(r"^[A-Za-z0-9._~/:@%+-]+$")


class LookupFailed(Exception):
    """The forge did not answer as expected; the text says why."""


@dataclass(frozen=True)
class Details:
    title: str
    fork: tuple[str, str] | None = None  # the PR's head elsewhere: (clone URL, branch)


def number(src: Source) -> int | None:
    if src.pr_number:
        return src.pr_number
    tail = (src.issue_url or "").rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else None


def paths(src: Source, kind: str) -> tuple[str, str] | None:
    """(the PR's or issue's API path, the repository's) for forge KIND."""
    n = number(src)
    if n is None:
        return None
    item = "issues" if src.kind != "pr" else ("merge_requests" if kind == "gitlab" else "pulls")
    repo = (f"projects/{quote(f'{src.owner}/{src.name}', safe='')}" if kind == "gitlab"
            else f"repos/{src.owner}/{src.name}")
    return f"{repo}/{item}/{n}", repo


def auth_headers(kind: str, token: str | None) -> dict[str, str]:
    headers = {"Accept": "application/json", "User-Agent": "devaipod"}
    if token:
        headers.update({"github": {"Authorization": f"Bearer {token}"},
                        "gitlab": {"PRIVATE-TOKEN": token},
                        "forgejo": {"Authorization": f"token {token}"}}[kind])
    return headers


def get(forge: Forge, path: str, token: str | None) -> Any:
    from devaipod.gator.forge import OPENER

    req = urllib.request.Request(f"{forge.api_url}/{path}",
                                 headers=auth_headers(forge.kind, token))
    try:
        with OPENER.open(req, timeout=TIMEOUT) as resp:
            return json.loads(resp.read().decode("utf-8", "replace"))
    except urllib.error.HTTPError as exc:
        raise LookupFailed(f"{forge.api_url} said {exc.code} to GET {path}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise LookupFailed(f"cannot reach {forge.api_url}: "
                           f"{getattr(exc, 'reason', exc)}") from None
    except ValueError:
        raise LookupFailed(f"{forge.api_url}/{path} answered no JSON") from None


def clean_title(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise LookupFailed("the answer has no title")
    text = " ".join("".join(c if c.isprintable() else " " for c in value).split())
    return text[:MAX_TITLE]


def checked_fork(src: Source, url: Any, branch: Any) -> tuple[str, str] | None:
    """(URL, BRANCH) when both are safe to hand to git: on the source's scheme and host."""
    scheme = src.clone_url.split("://", 1)[0]
    if not (isinstance(url, str) and isinstance(branch, str)
            and url.startswith(f"{scheme}://{src.host}/") and _URL_SAFE.match(url)
            and "@" not in url.split("://", 1)[1] and _BRANCH.match(branch)):
        log.warning("the pull request's head repository %r is not on %s: no fork remote",
                    url, src.host)
        return None
    return url, branch


def fork_of(src: Source, forge: Forge, data: dict, token: str | None) -> tuple[str, str] | None:
    if forge.kind == "gitlab":
        source_id, target_id = data.get("source_project_id"), data.get("target_project_id")
        if source_id is None or source_id == target_id:
            return None
        project = get(forge, f"projects/{int(source_id)}", token)
        return checked_fork(src, project.get("http_url_to_repo"), data.get("source_branch"))
    head, base = data.get("head") or {}, data.get("base") or {}
    head_repo, base_repo = head.get("repo") or {}, base.get("repo") or {}
    if not head_repo or head_repo.get("full_name") == base_repo.get("full_name"):
        return None
    return checked_fork(src, head_repo.get("clone_url"), head.get("ref"))


def lookup(src: Source, forge: Forge, token: str | None) -> Details:
    """The title (and a PR's fork) of SRC; LookupFailed when the forge says otherwise."""
    found = paths(src, forge.kind)
    if found is None:
        raise LookupFailed(f"{src.display} names no pull request or issue")
    data = get(forge, found[0], token)
    if not isinstance(data, dict):
        raise LookupFailed("the answer is not a JSON object")
    title = clean_title(data.get("title"))
    try:
        fork = fork_of(src, forge, data, token) if src.kind == "pr" else None
    except (LookupFailed, TypeError, ValueError, AttributeError) as exc:
        log.warning("looking up the pull request's head repository failed: %s", exc)
        fork = None
    return Details(title, fork)


@functools.lru_cache(maxsize=16)
def details(src: Source, forge: Forge, secret: str | None, image: str) -> Details | None:
    """``lookup``, its token read from podman secret SECRET; None (and a warning) when it
    fails. Once per process: `run` asks for the task, then makes the workspace."""
    from devaipod.podman import secret as secret_

    try:
        token = secret_.read(secret, image) if secret else None
        return lookup(src, forge, token)
    except (LookupFailed, errors.DevaipodError) as exc:
        log.warning("looking up %s on the forge failed (%s); going on without its title",
                    src.display, exc)
        return None
