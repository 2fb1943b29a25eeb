"""The pod's gator: which grants it gets, its container, and its scope file.

The grants come from ``[service-gator]``, then ``--service-gator`` flags on
top, else an automatic grant for a GitHub source (read, create-draft,
push-new-branch on that repository; read only with ``run -R``). They are
written as JSON to the volume ``{pod}-gator``, which only the gator mounts
(read-only): the agent can neither read nor change what it is allowed.

Each of the gator's endpoints has a bearer token of its own (podman secrets
``{pod}-gator-token`` and ``{pod}-gator-ro-token``, files in the gator
only); the agent's OpenCode configuration carries the first, the worker's
the second (the first with ``[orchestration.worker] gator = "inherit"``).
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import replace
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from devaipod import audit, errors, layout, podman
from devaipod.gator.policy import ALLOW, Policy
from devaipod.gator.scopes import (
    GL_OPS,
    OPS,
    Perms,
    ScopeError,
    Scopes,
    parse_scope,
    repo_grant,
    split_allowance,
)
from devaipod.podman.container import Spec
from devaipod.podman.secret import with_env
from devaipod.workspace import audit as trail

if TYPE_CHECKING:
    from devaipod.config_schema import ItemPerms, RepoPerms, ServiceGatorConfig
    from devaipod.source import Source

log = logging.getLogger("devaipod")

SCOPE_DIR = "/var/lib/service-gator"
SCOPE_FILE = f"{SCOPE_DIR}/scopes.json"
TOKEN_FILE = "/run/devaipod-gator/token"  # the full endpoint's bearer token
RO_TOKEN_FILE = "/run/devaipod-gator/ro-token"  # the read-only endpoint's
AUTO = ("read", "create-draft", "push-new-branch")
# where the gator reaches GitLab and Forgejo unless [service-gator.gitlab|forgejo] url says
WEB_DEFAULTS = {"gitlab": "https://gitlab.com", "forgejo": "https://codeberg.org"}

# $1 the scope document; written next to the old one, then renamed (the gator
# never reads half a file)
WRITE = r"""
set -eu
umask 022
printf '%s\n' "$1" > /cfg/scopes.json.new
mv -f /cfg/scopes.json.new /cfg/scopes.json
"""


def volume(pod: str) -> str:
    return layout.volume(pod, "gator")


def from_config(sg: ServiceGatorConfig) -> Scopes:
    """``[service-gator]`` of devaipod.toml as a scope document."""
    gh = sg.gh

    def perms(p: RepoPerms) -> dict[str, bool]:
        return {"read": p.read, "create-draft": p.create_draft,
                "pending-review": p.pending_review, "push-new-branch": p.push_new_branch,
                "write": p.write}

    def item(p: ItemPerms) -> dict[str, bool]:
        return {"read": p.read, "write": p.write}

    if sg.jira.projects or sg.jira.issues:
        log.warning("[service-gator.jira] is ignored: devaipod's gator has no JIRA tools")
    return Scopes(gh_read=gh.read, graphql=gh.graphql or "none",
                  repos={k: perms(v) for k, v in gh.repos.items()},
                  prs={k: item(v) for k, v in gh.prs.items()},
                  issues={k: item(v) for k, v in gh.issues.items()},
                  gitlab_host=urlsplit(web_url(sg, "gitlab")).netloc,
                  forgejo_host=urlsplit(web_url(sg, "forgejo")).netloc,
                  policy=Policy(deny_paths=sg.deny_paths, max_file_size=sg.max_file_size,
                                max_commits=sg.max_commits))


def github_repo(src: Source, web_url: str | None) -> str | None:
    """``owner/repo`` when the source is on GitHub (or the configured GitHub's host)."""
    hosts = {"github.com", "www.github.com"}
    if web_url:
        hosts.add(urlsplit(web_url).netloc.lower())
    if src.kind == "local" or src.host.lower() not in hosts or not src.owner or "/" in src.owner:
        return None
    return f"{src.owner}/{src.name}"


def web_url(sg: ServiceGatorConfig, service: str) -> str:
    """The web address of the GitLab or Forgejo the gator reaches."""
    configured = sg.gitlab.url if service == "gitlab" else sg.forgejo.url
    return (configured or WEB_DEFAULTS[service]).rstrip("/")


def other_repo(src: Source, sg: ServiceGatorConfig) -> tuple[str, str] | None:
    """("gitlab"|"forgejo", path) when the source is on the GitLab or Forgejo the gator
    reaches (a merge request's project too)."""
    if src.kind == "local" or src.forge not in ("gitlab", "forgejo") or not src.owner:
        return None
    if urlsplit(web_url(sg, src.forge)).netloc.lower() != src.host.lower():
        return None
    return src.forge, f"{src.owner}/{src.name}"


def split_flags(flags: list[str] | tuple[str, ...]) -> tuple[
        list[tuple[str, str | None, Perms | None]], list[str]]:
    """The ``--service-gator`` strings FLAGS parsed: (service, repo, perms) each, and the
    targets (``service:TARGET``) they give ``allow-workflows``."""
    try:
        split = [split_allowance(flag.strip()) for flag in flags]
        parsed = [parse_scope(flag) for flag, _allow in split if flag]
    except ScopeError as exc:
        raise errors.DevaipodError(str(exc), "e.g. github:owner/repo:read,push or "
                                   "gitlab:group/project:read") from None
    return parsed, [allow for _flag, allow in split if allow]


def check_scopes(flags: list[str] | tuple[str, ...]) -> list[tuple[str, str | None, Perms | None]]:
    """The ``--service-gator`` strings FLAGS parsed: (service, repo, perms) each."""
    return split_flags(flags)[0]


def with_flags(scopes: Scopes, flags: list[str] | tuple[str, ...]) -> Scopes:
    """SCOPES plus the ``--service-gator`` strings FLAGS (a repository's grant is replaced)."""
    parsed, allowances = split_flags(flags)
    tables = {"github": dict(scopes.repos), "gitlab": dict(scopes.gitlab),
              "forgejo": dict(scopes.forgejo)}
    for service, repo, perms in parsed:
        if repo is not None and perms is not None:  # (None, None): GitHub read-all
            tables[service][repo] = perms
    allowed = tuple(dict.fromkeys((*scopes.policy.allow_workflows,
                                   *allowances)))
    return replace(scopes, repos=tables["github"], gitlab=tables["gitlab"],
                   forgejo=tables["forgejo"],
                   policy=replace(scopes.policy, allow_workflows=allowed),
                   gh_read=scopes.gh_read or any(repo is None for _s, repo, _p in parsed))


def plan_scopes(sg: ServiceGatorConfig, src: Source, flags: tuple[str, ...] = (),
                readonly: bool = False) -> Scopes | None:
    """The pod's grants, or None when it gets no gator."""
    scopes = with_flags(from_config(sg), flags)
    granted = ("read",) if readonly else AUTO
    auto = github_repo(src, sg.gh.url)
    if not flags and auto and auto not in scopes.repos and sg.enabled is not False:
        scopes.repos[auto] = repo_grant(*granted)
    other = other_repo(src, sg)
    if not flags and other and sg.enabled is not False:
        service, repo = other
        table = scopes.table(service)
        if repo not in table:
            table[repo] = repo_grant(*granted, ops=GL_OPS if service == "gitlab" else OPS)
    enabled = sg.enabled if sg.enabled is not None and not flags else not scopes.empty
    return scopes if enabled or flags else None


def document(scopes: Scopes) -> str:
    return json.dumps(scopes.to_json(), sort_keys=True)


def write_spec(pod: str, image: str, scopes: Scopes, labels: dict[str, str]) -> Spec:
    """A short-lived container that writes the scope file into the gator's volume."""
    return Spec(name=f"{pod}-init-gator", image=image, network="none", entrypoint="",
                labels=labels, mounts=[f"{volume(pod)}:/cfg"],
                command=["sh", "-c", WRITE, "sh", document(scopes)])


def read(pod: str) -> Scopes:
    """The scopes in the pod's gator volume (works while the pod is stopped)."""
    spec = Spec(name=f"{pod}-gator-read-{secrets.token_hex(3)}", image=helper_image(pod),
                network="none", entrypoint="", labels=layout.base_labels(pod),
                mounts=[f"{volume(pod)}:/cfg:ro"], command=["cat", "/cfg/scopes.json"])
    from devaipod.podman import container

    result = podman.capture(container.run_argv(spec), check=False)
    if not result.ok:
        raise errors.DevaipodError(f"cannot read the gator's scopes of {layout.short(pod)}: "
                                   f"{errors.last_line(result.stderr)}",
                                   "does the workspace have a gator? see 'devaipod status'")
    return Scopes.from_json(json.loads(result.stdout))


def helper_image(pod: str) -> str:
    """The image of the short-lived containers that read and write POD's grants."""
    from devaipod import images
    from devaipod.workspace import lookup

    return images.helper_image(lookup.sidecar(pod))


def write(pod: str, scopes: Scopes) -> None:
    """Replace the pod's grants; its gator applies them at the next call."""
    from devaipod.podman import container as container_

    spec = write_spec(pod, helper_image(pod), scopes, layout.base_labels(pod))
    spec.name = f"{pod}-gator-write-{secrets.token_hex(3)}"
    container_.run(spec)
    trail.note(pod, "human", action="grants", grants=scopes.describe())


def add(pod: str, flags: list[str]) -> Scopes:
    """Grant the ``--service-gator`` scopes FLAGS in the pod; returns the grants now."""
    updated = with_flags(read(pod), flags)
    write(pod, updated)
    return updated


def replace_all(pod: str, flags: list[str]) -> Scopes:
    """The pod's grants are the ``--service-gator`` scopes FLAGS, and no other (none when
    FLAGS is empty); returns the grants now."""
    updated = with_flags(cleared(read(pod)), flags)
    write(pod, updated)
    return updated


def cleared(scopes: Scopes) -> Scopes:
    """SCOPES without any grant (the forges' hosts, the GraphQL setting and the push
    policy's limits kept; its allow-workflows grants go too)."""
    return replace(scopes, gh_read=False, repos={}, prs={}, issues={}, gitlab={}, forgejo={},
                   policy=replace(scopes.policy, allow_workflows=()))


def revoke(pod: str, grants: list[str]) -> Scopes:
    """Take back GRANTS (as ``gator show`` prints them, or a scope without its
    permissions: ``github:owner/repo``); returns the grants now."""
    updated = without(read(pod), grants, layout.short(pod))
    write(pod, updated)
    return updated


def without(scopes: Scopes, grants: list[str], workspace: str = "the workspace") -> Scopes:
    """SCOPES less GRANTS; an error names a grant it does not hold."""
    tables = {"github:": dict(scopes.repos), "github:pr ": dict(scopes.prs),
              "github:issue ": dict(scopes.issues), "gitlab:": dict(scopes.gitlab),
              "forgejo:": dict(scopes.forgejo)}
    gh_read = scopes.gh_read
    allowed = list(scopes.policy.allow_workflows)
    for grant in grants:
        text = grant.strip()
        service, _, rest = text.partition(":")
        service = {"gh": "github", "gl": "gitlab"}.get(service, service)
        if service == "github" and rest in ("read-all", "readonly-all") and gh_read:
            gh_read = False
            continue
        target = f"{service}:{rest.removesuffix(':' + ALLOW)}"
        if rest.endswith(f":{ALLOW}") and target in allowed:
            allowed.remove(target)
            continue
        kind = next((k for k in ("pr ", "issue ") if rest.startswith(k)), "")
        key = rest[len(kind):].partition(":")[0]
        table = tables.get(f"{service}:{kind}")
        if table is None or key not in table:
            raise errors.DevaipodError(f"{workspace} has no grant {text!r}",
                                       f"see 'devaipod gator show {workspace}'")
        del table[key]
    return replace(scopes, gh_read=gh_read, repos=tables["github:"],
                   prs=tables["github:pr "], issues=tables["github:issue "],
                   gitlab=tables["gitlab:"], forgejo=tables["forgejo:"],
                   policy=replace(scopes.policy, allow_workflows=tuple(allowed)))


def new_token() -> str:
    """A gator endpoint's bearer token (secrets ``{pod}-gator-token``, ``-gator-ro-token``)."""
    return secrets.token_urlsafe(32)


def token_flags(pod: str) -> list[list[str]]:
    """Both endpoints' tokens as files in the gator (and in no other container)."""
    return [["--secret", f"{name},type=mount,target={path}"] for name, path in (
        (layout.gator_token_secret(pod), TOKEN_FILE),
        (layout.gator_ro_token_secret(pod), RO_TOKEN_FILE))]


def container(pod: str, image: str, port: int, env: dict[str, str],
              secret_flags: list[list[str]], labels: dict[str, str],
              readonly_port: int | None = None) -> Spec:
    cmd = ["service-gator", "--mcp-server", f"127.0.0.1:{port}", "--token-file", TOKEN_FILE,
           "--scope-file", SCOPE_FILE, "--audit-file", audit.FILE]
    if readonly_port:
        cmd += ["--read-only-server", f"127.0.0.1:{readonly_port}",
                "--read-only-token-file", RO_TOKEN_FILE]
    return Spec(
        name=layout.container(pod, "gator"), image=image, pod=pod, entrypoint="",
        command=with_env(cmd), env=env, secrets=[*token_flags(pod), *secret_flags],
        labels=labels,
        security=["--cap-drop", "ALL", "--security-opt", "no-new-privileges"],
        mounts=[f"{layout.volume(pod, 'agent-workspace')}:/workspaces:ro",
                f"{layout.volume(pod, 'workspace')}:/mnt/main-workspace:ro",
                f"{volume(pod)}:{SCOPE_DIR}:ro", trail.mount(pod)],
    )


def forge_env(sg: ServiceGatorConfig) -> dict[str, str]:
    env = {}
    if sg.gh.url:
        env["SERVICE_GATOR_GITHUB_URL"] = sg.gh.url
    if sg.gh.api_url:
        env["SERVICE_GATOR_GITHUB_API"] = sg.gh.api_url
    env["SERVICE_GATOR_GITLAB_URL"] = web_url(sg, "gitlab")
    env["SERVICE_GATOR_FORGEJO_URL"] = web_url(sg, "forgejo")
    return env


INSTRUCTIONS = """# GitHub access (service-gator)

You hold no GitHub credentials: `git push` and `gh` will not work. The MCP
server `service-gator` acts for you within the grants the human gave:
call its `status` tool to see them. Push a commit with `github_push`
(repo_path = your tree under /workspaces, the full commit id, repo =
OWNER/REPO, a short description: the branch is agent-<description>); it
opens a draft pull request when you give base and title. On GitLab and
Forgejo: read with `gl` / `forgejo`, push with `git_push_local`
(target = gitlab:GROUP/PROJECT or forgejo:OWNER/REPO).
"""
