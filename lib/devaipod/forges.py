"""Which forge a host is, which trusted token it takes, and how git is given that token.

Pure: no subprocess, no network.

A host's forge: ``[forges."HOST"] kind`` in devaipod.toml, else github.com → github,
gitlab.com → gitlab, codeberg.org → forgejo. Its token: ``[forges."HOST"] token``, else
by kind ``GH_TOKEN``, ``GITLAB_TOKEN``, ``FORGEJO_TOKEN``; the variable must be one of
``[trusted] secrets`` (a podman secret) to be used.

How the token travels when a repository is cloned (the init clone and the
devcontainer.json peek, each a throwaway container): the podman secret is mounted as
the file ``TOKEN_FILE`` in that one container, and ``AUTH_SH`` there turns it into an
HTTP header in git's *environment* (``GIT_CONFIG_*``: ``http.<https://host/>.extraHeader``),
exactly as the gator passes its token when it pushes (``basic_header``). Never in a URL,
an argv, a label, the repository's config or a file of a volume.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass

from devaipod.errors import DevaipodError, last_line

KINDS = ("github", "gitlab", "forgejo")
BUILTIN = {"github.com": "github", "gitlab.com": "gitlab", "codeberg.org": "forgejo"}
TOKEN_VARS = {"github": "GH_TOKEN", "gitlab": "GITLAB_TOKEN", "forgejo": "FORGEJO_TOKEN"}
# the user name of HTTP Basic: GitHub's convention; GitLab takes any name with a personal
# token and "oauth2" with an OAuth token; Forgejo ignores it when the password is a token
GIT_USERS = {"github": "x-access-token", "gitlab": "oauth2", "forgejo": "x-access-token"}
TOKEN_DIR = "/run/devaipod-git"
TOKEN_FILE = f"{TOKEN_DIR}/token"
SSH_DIR = "/run/devaipod-ssh"


@dataclass(frozen=True)
class Forge:
    host: str  # host[:port], as in the source URL
    kind: str  # one of KINDS
    token_var: str  # the trusted variable holding its token
    api_url: str  # REST API root, as this machine reaches it

    @property
    def git_user(self) -> str:
        return GIT_USERS[self.kind]


def default_api(kind: str, host: str, scheme: str = "https") -> str:
    if host == "github.com":
        return "https://api.github.com"
    path = {"github": "/api/v3", "gitlab": "/api/v4", "forgejo": "/api/v1"}[kind]
    return f"{scheme}://{host}{path}"


def find(host: str, configured: Mapping[str, object] | None = None,
         scheme: str = "https") -> Forge | None:
    """The forge HOST is (``configured``: ``[forges]`` of the config), else None."""
    host = host.lower()
    cfg = {h.lower(): c for h, c in (configured or {}).items()}.get(host)
    kind = getattr(cfg, "kind", None) or BUILTIN.get(host)
    if kind is None:
        return None
    token = getattr(cfg, "token", None) or TOKEN_VARS[kind]
    api = getattr(cfg, "api_url", None) or default_api(kind, host, scheme)
    return Forge(host, kind, token, api.rstrip("/"))


def kinds(configured: Mapping[str, object] | None) -> dict[str, str]:
    """host -> kind of every configured forge host (for ``source.parse``)."""
    return {host.lower(): getattr(cfg, "kind", "") for host, cfg in (configured or {}).items()}


def basic_header(kind: str, token: str) -> str:
    """The ``Authorization`` header git sends to forge KIND with TOKEN (http.extraHeader)."""
    basic = base64.b64encode(f"{GIT_USERS[kind]}:{token}".encode()).decode()
    return f"Authorization: Basic {basic}"


# defines git_auth USER PREFIX: when TOKEN_FILE exists, git's environment carries the
# header `Authorization: Basic base64(USER:token)` for URLs under PREFIX. The token is
# read by the shell (printf is a built-in) and piped to base64: it is in no argv.
AUTH_SH = rf"""
export GIT_TERMINAL_PROMPT=0
git_auth() {{
  [ -n "$1" ] && [ -s {TOKEN_FILE} ] || return 0
  basic=$(printf '%s:%s' "$1" "$(cat {TOKEN_FILE})" | base64 | tr -d '\n')
  export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0="http.$2.extraHeader" \
    GIT_CONFIG_VALUE_0="Authorization: Basic $basic"
  unset basic
}}
"""

# defines retry_lookup COMMAND...: COMMAND, run again after 1 s and 2 s while it fails only
# because a host name did not resolve. On a podman network, podman's DNS server
# (aardvark-dns before 1.11; Debian 12 has 1.4) drops queries while it reloads, which it
# does each time a container joins or leaves (containers/aardvark-dns#389): several
# workspaces made at once hit it. COMMAND's stdout passes through; its last stderr is
# printed when it is done, after a line per retry.
LOOKUP_FAILED = "unable to look up|could not resolve host|temporary failure in name resolution"
LOOKUP_SH = rf"""
retry_lookup() {{
  for pause in 1 2 ""; do
    status=0
    {{ err=$("$@" 2>&1 >&3) || status=$?; }} 3>&1
    if [ "$status" = 0 ] || [ -z "$pause" ] \
       || ! printf '%s' "$err" | grep -qiE '{LOOKUP_FAILED}'; then
      [ -z "$err" ] || printf '%s\n' "$err" >&2
      return "$status"
    fi
    echo "a host name did not resolve; trying again in $pause s" >&2
    sleep "$pause"
  done
}}
"""
# what the scripts that reach a forge start with
NET_SH = (AUTH_SH + LOOKUP_SH).lstrip("\n")


@dataclass(frozen=True)
class CloneAuth:
    """How the clone and peek containers authenticate: a token or the user's ssh-agent."""

    forge: Forge | None = None
    secret: str | None = None  # podman secret with the token ([trusted] secrets)
    prefix: str = ""  # the URLs the header is sent to: scheme://host/
    ssh_socket: str | None = None  # the host's SSH_AUTH_SOCK: clone the ssh URL with it
    known_hosts: str | None = None  # the host's ~/.ssh/known_hosts, if any

    @property
    def user(self) -> str:
        """git_auth's first argument: "" when there is no token."""
        return self.forge.git_user if self.forge and self.secret else ""

    @property
    def args(self) -> tuple[str, str]:
        """git_auth's arguments in the scripts: (user, URL prefix); ("", "") for none."""
        return (self.user, self.prefix) if self.user else ("", "")

    def url(self, clone_url: str, ssh_url: str | None) -> str:
        """What the container clones: the ssh URL when the ssh-agent is given, else CLONE_URL."""
        return ssh_url if self.ssh_socket and ssh_url else clone_url

    def secret_flags(self) -> list[list[str]]:
        return [["--secret", f"{self.secret},type=mount,target={TOKEN_FILE}"]] \
            if self.secret else []

    def mounts(self) -> list[str]:
        if not self.ssh_socket:
            return []
        known = [f"{self.known_hosts}:{SSH_DIR}/known_hosts:ro"] if self.known_hosts else []
        return [f"{self.ssh_socket}:{SSH_DIR}/agent.sock", *known]

    def security(self) -> list[str]:
        return ["--security-opt", "label=disable"] if self.ssh_socket else []

    def env(self) -> dict[str, str]:
        if not self.ssh_socket:
            return {}
        command = (f"ssh -o BatchMode=yes -o StrictHostKeyChecking=yes "
                   f"-o UserKnownHostsFile={SSH_DIR}/known_hosts")
        return {"SSH_AUTH_SOCK": f"{SSH_DIR}/agent.sock", "GIT_SSH_COMMAND": command}

    def flags(self) -> list[str]:
        """All of it as ``podman run`` flags (the peek container)."""
        out = [flag for group in self.secret_flags() for flag in group]
        for mount in self.mounts():
            out += ["--volume", mount]
        for key, value in self.env().items():
            out += ["--env", f"{key}={value}"]
        return out + self.security()


# what git prints when the forge wants credentials or refuses the ones given
_REFUSED = re.compile(r"could not read (Username|Password)|Authentication failed|"
                      r"returned error: 40[134]|terminal prompts disabled|"
                      r"repository '[^']*' not found|Repository not found|"
                      r"Permission denied \(publickey|Host key verification failed", re.I)


def clone_error(display: str, stderr: str, auth: CloneAuth | None, host: str,
                last: str) -> DevaipodError:
    """One line for a failed clone of DISPLAY; LAST: git's last line of STDERR."""
    if auth and auth.ssh_socket and re.search(r"cannot run ssh|ssh: not found", stderr):
        return DevaipodError(f"cloning {display}: the image has no ssh client",
                             "give the https URL (cloned with the forge's token), or an "
                             "image with openssh-client")
    if not _REFUSED.search(stderr):
        return DevaipodError(f"cloning {display} failed: {last}",
                             "check the URL, and that this machine (or the pod's network) "
                             "can reach it")
    forge = auth.forge if auth else None
    if auth and auth.ssh_socket:
        return DevaipodError(f"cloning {display}: the ssh server refused the keys of your "
                             f"ssh-agent ({last})",
                             f"check `ssh -T git@{host.split(':')[0]}`, and that the host is "
                             "in ~/.ssh/known_hosts")
    if auth and auth.secret and forge:
        return DevaipodError(f"cloning {display}: the forge refused the credentials of "
                             f"{forge.token_var} ({last})",
                             f"check that {forge.token_var} is valid and may read the "
                             "repository")
    var = forge.token_var if forge else "GH_TOKEN"
    more = "" if forge else f', and say which forge it is: [forges."{host}"] kind = ...'
    return DevaipodError(f"cloning {display}: the forge asks for credentials (or has no "
                         f"such repository) and there is no token for host {host}",
                         f'add "{var}=<podman secret>" to [trusted] secrets{more}')


def explain_clone(display: str, auth: CloneAuth | None, host: str, stderr: str
                  ) -> DevaipodError:
    """The init clone's failure (its STDERR) as one line: a refused token names its variable."""
    return clone_error(display, stderr, auth, host, last_line(stderr))
