"""What the user typed as SOURCE (``devaipod up/run SOURCE``), parsed.

Pure: no subprocess, no network. The only file-system look-up is ``isdir``
for local paths, passed in so tests can fake it.

Accepted forms (see ``parse``):

- ``https://host/owner/repo[.git]``, ``http://...`` and ``git://host/[owner/]repo``;
- ``git@host:owner/repo[.git]`` and ``ssh://git@host[:port]/owner/repo``
  (turned into ``https://host/owner/repo``, cloned with the host's token; the
  ssh URL is kept as ``ssh_url``: with an ssh-agent it is cloned instead);
- ``github.com/owner/repo`` without a scheme, for the hosts in ``KNOWN_HOSTS``
  and ``extra_hosts`` and ``forge_kinds`` (a known host wins over a local directory of that name:
  write ``./github.com/...`` for the directory);
- PR / MR URLs (git fetches ``pr_ref``; ``forgeapi`` adds the title and the fork);
- issue URLs (kind "remote", with ``default_task = "Fix <issue url>"``);
- an existing local directory (not inside the devaipod container).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace

from devaipod.errors import DevaipodError

KNOWN_HOSTS = ("github.com", "gitlab.com", "codeberg.org", "bitbucket.org", "gitea.com")
# forges whose repositories are always exactly owner/repo (extra path = a page)
_TWO_LEVEL = {"github", "forgejo", "gitea"}

FORMS_HINT = (
    "accepted: https://host/owner/repo, github.com/owner/repo (also gitlab.com, "
    "codeberg.org, bitbucket.org, gitea.com), git@host:owner/repo, "
    "ssh://git@host/owner/repo, git://host/repo, a PR/MR or issue URL, "
    "or an existing local directory"
)
CONTAINER_LOCAL = (
    "local paths are not supported inside the devaipod container "
    "(sibling containers are created by the host's podman)"
)
CONTAINER_HINT = "use a remote URL such as https://github.com/owner/repo"

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_URL_CHARS = re.compile(r"^[!-~]+$")  # printable ASCII, no space
_URL_BAD = re.compile(r"[\"<>\\^`{|}]")
_TYPO = re.compile(r"^(https?);//", re.IGNORECASE)
_URL = re.compile(r"^(?P<scheme>[^:/?#]+)://(?P<netloc>[^/?#]*)(?P<path>[^?#]*)(?:[?#].*)?$")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*$")
_HOSTPORT = re.compile(
    r"^(?P<host>\[[0-9a-f:.]+\]|[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?)(?::(?P<port>[0-9]{0,5}))?$"
)
_SCP = re.compile(r"^(?P<user>[A-Za-z0-9._+-]+)@(?P<hostport>[A-Za-z0-9_.-]+):(?P<path>.*)$")
_N = r"0*(?P<n>[1-9][0-9]{0,9})(?:/.*)?$"
_OR = r"^/(?P<owner>[^/]+)/(?P<name>[^/]+)/"
_NESTED = r"^/(?P<owner>.+?)/(?P<name>[^/]+)/-/"
# (regex, kind, forge or None = from the host name, path of the canonical URL)
_SHAPES = (
    (re.compile(_NESTED + r"merge_requests/" + _N), "pr", "gitlab", "-/merge_requests"),
    (re.compile(_OR + r"pull/" + _N), "pr", "github", "pull"),
    (re.compile(_OR + r"pulls/" + _N), "pr", "forgejo", "pulls"),
    (re.compile(_NESTED + r"issues/" + _N), "issue", "gitlab", "-/issues"),
    (re.compile(_OR + r"issues/" + _N), "issue", None, "issues"),
)


@dataclass(frozen=True)
class Source:
    kind: str  # "remote" | "pr" | "local"
    clone_url: str  # what git clones: a URL, or the absolute local path
    display: str  # what the user gave, normalised
    repo: str  # label form: host/owner/repo, or local/<dirname>
    project: str  # directory name under /workspaces
    host: str = ""  # host[:port]; "" for local paths
    owner: str = ""  # may contain "/" (GitLab groups) or be "" (git://host/repo)
    name: str = ""
    forge: str = "unknown"  # "github" | "gitlab" | "forgejo" | "gitea" | "unknown"
    pr_number: int | None = None
    pr_ref: str | None = None  # refs/pull/N/head or refs/merge-requests/N/head
    issue_url: str | None = None
    default_task: str | None = None
    ssh_url: str | None = None  # the ssh:// (or git@host:) URL the user gave


def parse(
    text: str,
    *,
    extra_hosts: Iterable[str] = (),
    forge_kinds: Mapping[str, str] | None = None,
    in_container: bool = False,
    isdir: Callable[[str], bool] = os.path.isdir,
) -> Source:
    """Parse SOURCE; raise DevaipodError (one line + hint) if it is none of the forms."""
    text = text.strip()
    if not text:
        raise DevaipodError("no SOURCE given", FORMS_HINT)
    if _CONTROL.search(text):
        raise DevaipodError(f"{text!r} contains control characters", FORMS_HINT)
    text = _TYPO.sub(lambda m: m[1] + "://", text)
    kinds = dict(forge_kinds or {})
    if "://" in text:
        return _parse_url(text, kinds)
    if m := _SCP.match(text):
        return _parse_url(f"ssh://{m['user']}@{m['hostport']}/{m['path'].lstrip('/')}", kinds)
    hosts = {h.strip().lower().rstrip("/") for h in (*KNOWN_HOSTS, *extra_hosts, *kinds)}
    if text.split("/", 1)[0].lower() in hosts:
        return _parse_url("https://" + text, kinds)
    return _parse_local(text, in_container, isdir)


def forge_of(host: str, kinds: Mapping[str, str] | None = None) -> str:
    """The forge of HOST: KINDS (the config's [forges]) says, else its name suggests;
    "unknown" when it suggests none."""
    host = host.lower()
    if kinds and host in kinds:
        return kinds[host]
    for word, forge in (("github", "github"), ("gitlab", "gitlab"), ("codeberg", "forgejo"),
                        ("forgejo", "forgejo"), ("gitea", "gitea")):
        if word in host:
            return forge
    return "unknown"


def sanitise(name: str) -> str:
    """A safe directory name: only [A-Za-z0-9._-], never "", "." or ".."."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).lstrip("-")
    return safe if safe.strip(".") else "workspace"


def _parse_local(text: str, in_container: bool, isdir: Callable[[str], bool]) -> Source:
    path = os.path.expanduser(text)
    looks_local = text in (".", "..") or text.startswith(("/", "./", "../", "~"))
    if in_container and (looks_local or isdir(path)):
        raise DevaipodError(CONTAINER_LOCAL, CONTAINER_HINT)
    if not isdir(path):
        raise DevaipodError(f"{text!r} is neither a git URL nor an existing directory", FORMS_HINT)
    path = os.path.abspath(path)
    name = os.path.basename(path) or "root"
    return Source(kind="local", clone_url=path, display=path, repo=f"local/{name}",
                  project=sanitise(name), name=name)


def _parse_url(url: str, kinds: dict[str, str]) -> Source:
    if not _URL_CHARS.match(url) or _URL_BAD.search(url):
        raise DevaipodError(f"{url!r} contains characters not allowed in a git URL", FORMS_HINT)
    m = _URL.match(url)
    if not m or not _SCHEME.match(m["scheme"].lower()):
        raise DevaipodError(f"{url!r} is not a valid URL", FORMS_HINT)
    scheme = m["scheme"].lower()
    if scheme not in ("https", "http", "git", "ssh"):
        raise DevaipodError(f"unsupported URL scheme {scheme!r}", FORMS_HINT)
    userinfo, _, hostport = m["netloc"].rpartition("@")
    if ":" in userinfo:
        raise DevaipodError("the URL contains a password (user:password@host)",
                            "remove it; git gets credentials from a credential helper or token")
    hm = _HOSTPORT.match(hostport.lower())
    if not hm:
        raise DevaipodError(f"{url!r} has no valid host name", FORMS_HINT)
    host = hm["host"]
    if hm["port"] and scheme != "ssh":  # an ssh port is not the https port
        host += ":" + hm["port"]
    if scheme == "ssh":
        scheme = "https"
    path = m["path"].rstrip("/")
    if scheme in ("https", "http"):
        for regex, kind, forge, tail in _SHAPES:
            if sm := regex.match(path):
                return _shaped(scheme, host, sm, kind, forge, tail, kinds)
    ssh = m["scheme"].lower() == "ssh"
    src = _plain(url, scheme, host, path, not ssh, kinds)
    return replace(src, ssh_url=url) if ssh else src


def _plain(url: str, scheme: str, host: str, path: str, keep_git: bool,
           kinds: dict[str, str]) -> Source:
    forge = forge_of(host, kinds)
    hostname = re.sub(r":[0-9]*$", "", host)
    segs = [s for s in path.split("/-/")[0].split("/") if s]
    if any(s in (".", "..") for s in segs):
        raise DevaipodError(f"{url!r} has '.' or '..' in its path", FORMS_HINT)
    if forge in _TWO_LEVEL or hostname == "bitbucket.org":
        segs = segs[:2]
    *owner_segs, last = segs or [""]
    name = last.removesuffix(".git")
    if not name:
        raise DevaipodError(f"{url!r} has no repository path",
                            f"expected {scheme}://{host}/owner/repo")
    owner = "/".join(owner_segs)
    if not owner and (forge != "unknown" or hostname in KNOWN_HOSTS):
        raise DevaipodError(f"{url!r} needs both an owner and a repository",
                            f"expected {scheme}://{host}/owner/repo")
    suffix = ".git" if keep_git and last.endswith(".git") else ""
    src = _remote(scheme, host, owner, name, forge)
    clone = src.clone_url + suffix
    return replace(src, clone_url=clone, display=clone)


def _shaped(scheme: str, host: str, m: re.Match[str], kind: str,
            forge: str | None, tail: str, kinds: dict[str, str]) -> Source:
    owner, name, n = m["owner"], m["name"].removesuffix(".git"), int(m["n"])
    if not name or any(s in (".", "..") for s in owner.split("/")):
        raise DevaipodError(f"{scheme}://{host}{m[0]} has no valid repository path", FORMS_HINT)
    if forge == "forgejo" and "gitea" in host:
        forge = "gitea"
    src = _remote(scheme, host, owner, name, forge or forge_of(host, kinds))
    url = f"{src.clone_url}/{tail}/{n}"
    if kind == "issue":
        return replace(src, display=url, issue_url=url, default_task=f"Fix {url}")
    ref = f"refs/merge-requests/{n}/head" if forge == "gitlab" else f"refs/pull/{n}/head"
    return replace(src, kind="pr", display=url, pr_number=n, pr_ref=ref,
                    default_task=f"Review and continue {url}")


def _remote(scheme: str, host: str, owner: str, name: str, forge: str) -> Source:
    path = f"{owner}/{name}" if owner else name
    url = f"{scheme}://{host}/{path}"
    return Source(kind="remote", clone_url=url, display=url, repo=f"{host}/{path}",
                  project=sanitise(name), host=host, owner=owner, name=name, forge=forge)
