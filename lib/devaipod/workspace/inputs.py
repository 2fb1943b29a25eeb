"""Turn what the user asked for (source, options, config) into a plan's inputs."""

from __future__ import annotations

import dataclasses
import logging
import os
import secrets as _secrets
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from devaipod import config, devcontainer, errors, forges, images, layout, runner, source
from devaipod.podman import network as network_
from devaipod.podman import pod
from devaipod.podman.container import Limits
from devaipod.state import in_container
from devaipod.workspace import credentials, homefiles
from devaipod.workspace import egress as egress_
from devaipod.workspace import gator as gator_
from devaipod.workspace import pull as pull_
from devaipod.workspace.plan import Inputs
from devaipod.workspace.request import Request, details, parse_mcp, parse_source

if TYPE_CHECKING:
    from devaipod.config_schema import GpuConfig

log = logging.getLogger("devaipod")


def credential_inputs(cfg: config.Config, agent_allowlist: Iterable[str] = ()
                      ) -> credentials.Inputs:
    return credentials.Inputs(
        agent_allowlist=tuple(agent_allowlist),
        env_allowlist=tuple(cfg.env.allowlist),
        env_vars=dict(cfg.env.vars),
        trusted_allowlist=tuple(cfg.trusted.env.allowlist),
        trusted_vars=dict(cfg.trusted.env.vars),
        trusted_secrets=tuple((s.env, s.secret) for s in cfg.trusted.secrets),
        file_secrets=tuple((s.env, s.secret) for s in cfg.trusted.file_secrets),
        llm_env=frozenset(cfg.llm_api_key_vars),
        host_env=dict(os.environ),
    )


def clone_auth(src: source.Source, cfg: config.Config) -> forges.CloneAuth | None:
    """The clone containers' token, or the user's ssh-agent for an ssh source (not from
    inside the devaipod container: its socket is not the host's)."""
    sock = os.environ.get("SSH_AUTH_SOCK") if not in_container() else None
    known = os.path.expanduser("~/.ssh/known_hosts")
    scheme = src.clone_url.split("://", 1)[0]
    forge = forges.find(src.host, cfg.forges, scheme) if src.host else None
    return credentials.clone_auth(src, forge, ((s.env, s.secret) for s in cfg.trusted.secrets),
                                  sock or None, known if os.path.isfile(known) else None)


def local_origin(path: str) -> str | None:
    result = runner.capture(["git", "-C", path, "remote", "get-url", "origin"], check=False)
    return result.stdout.strip() or None


def make(request: Request, cfg: config.Config, *, new: bool = True,
         local: bool = True) -> Inputs:
    """Everything a plan needs; ``new`` checks first that the name is free. ``local``
    False: the pod runs elsewhere (a Kubernetes cluster, which pulls its images from a
    registry): no image is pulled, checked or built here, the name is the backend's to
    check, and a remote repository's devcontainer.json is not read (see ``remote_view``)."""
    r = request
    src = parse_source(r.source, cfg, in_container=in_container())
    if not local and src.kind == "local":
        raise errors.DevaipodError(f"{src.clone_url}: a cluster cannot clone a path of this "
                                   "machine", "push the branch and give the repository's URL")
    if not local:
        r = remote_view(r)
    sg = cfg.service_gator
    scopes = gator_.plan_scopes(sg, src, tuple(r.service_gator), r.service_gator_ro)
    pod_name = layout.new_pod_name(src.project, r.name)
    home_copies = homefiles.plan(pod_name, cfg, in_container=in_container(),
                                 worker=cfg.orchestration.enabled)
    if src.kind == "local" and not os.path.isdir(os.path.join(src.clone_url, ".git")):
        raise errors.DevaipodError(f"{src.clone_url} is not a git repository",
                                   "run 'git init' there, or give a git URL")
    network = r.network or cfg.podman.network
    if r.allow and (r.egress or cfg.network.egress) == "open":
        raise errors.DevaipodError("--allow needs --egress allow-list",
                                   "add --egress allow-list, or set [network] egress")
    api_image = images.api_image(cfg.api_image)
    pull = pull_.policy(r.pull, cfg)
    if local:
        pull_.ensure([api_image], pull)  # it also reads the project's devcontainer.json
    dotfiles = (source.parse(cfg.dotfiles.url, extra_hosts=tuple(cfg.git.extra_hosts))
                if cfg.dotfiles else None)
    volume = (devcontainer.Volume(r.workspace_volume, src.project)
              if r.workspace_volume and (src.pr_ref is None or r.trust_source) else None)
    auth = clone_auth(src, cfg)
    hidden = frozenset(credentials.trusted_names(credential_inputs(cfg)))
    # independent look-ups, at the same time (each may run a container); the name's
    # error comes first
    _free, found, (dc, json_rel, dc_src) = at_once(
        partial(check_name, pod_name) if new and local else lambda: None,
        partial(details, src, cfg),  # a PR's or issue's title and fork, from the forge
        partial(apply_devcontainer, src, pod_name, r.devcontainer_json,
                r.use_default_devcontainer, api_image, network,
                dotfiles if local else None, r.trust_source,
                volume, auth, hidden))
    repo_auth = auth if dc_src is not dotfiles else None
    creds = credentials.partition(pod_name,
                                  credential_inputs(cfg, dc.env_allowlist if dc else ()))
    for var in creds.refused:
        log.warning("devcontainer.json: envAllowlist names %s, a trusted or secret-looking "
                    "variable: not given to the agent", var)
    image = r.image
    if not local and not image and dc and (dc.features or dc.build):
        raise errors.DevaipodError(
            f"{dc.source}: builds an image (build or features), which a cluster cannot",
            "build it, push it to a registry the cluster pulls from, and pass --image")
    if not image and dc and dc.features:
        assert dc_src is not None  # found with dc
        pull_.ensure([dc.image] if dc.image else [], pull)  # the CLI builds FROM it
        built = devcontainer.with_features(dc_src, json_rel, dc, api_image, network, repo_auth)
        if built is not None:
            image, dc = built
            checked(dc, from_repo=dc_src is not dotfiles and not r.trust_source)
    if not image and dc and dc.image:
        image = dc.image
    elif not image and dc and dc.build:
        assert dc_src is not None  # found with dc
        image = devcontainer.build(dc_src, json_rel, dc, api_image, network, pull, repo_auth)
    image_from = "option" if r.image else "devcontainer" if image else "default"
    return Inputs(
        pod=pod_name, source=src, mode=r.mode, image_from=image_from,
        image=image or images.default_image(cfg.default_image),
        api_image=api_image, devcontainer=dc, nested=cfg.container_nesting,
        task=r.task or None, title=r.title or (found.title if found else None),
        network=network,
        publish_address="0.0.0.0" if in_container() else "127.0.0.1",
        creds=creds, trust_source=r.trust_source,
        origin=local_origin(src.clone_url) if src.kind == "local" else None,
        mcp=mcp_servers(cfg, r.mcp), auto_approve=r.auto_approve,
        orchestration=cfg.orchestration.enabled,
        dotfiles=(cfg.dotfiles.url, cfg.dotfiles.script) if cfg.dotfiles else None,
        gator=scopes, gator_image=r.service_gator_image or sg.image or api_image,
        gator_port=sg.port, gator_env=gator_.forge_env(sg),
        worker_gator=cfg.orchestration.worker.gator,
        home_copies=home_copies, gpu_roles=gpu_roles(cfg.gpu), pull=pull,
        clone_auth=auth, fork=found.fork if found else None, limits=limits(r, cfg),
        egress=r.egress or cfg.network.egress,
        allow=tuple(egress_.check([*cfg.network.allow, *r.allow])),
    )


def remote_view(r: Request) -> Request:
    """The request as a cluster backend carries it out: a remote repository's
    devcontainer.json would be read by a throwaway podman container here, so it is not
    read (--devcontainer-json, or the default image instead)."""
    if r.devcontainer_json or r.use_default_devcontainer:
        return r
    log.info("kubernetes: the repository's devcontainer.json is not read; give it with "
             "--devcontainer-json, or the image with --image")
    return dataclasses.replace(r, use_default_devcontainer=True)


def limits(r: Request, cfg: config.Config) -> Limits:
    """The agent's and the worker's resources: [limits], each overridden by its flag."""
    from devaipod.config_schema import COUNT, CPUS, SIZE, Invalid

    given = cfg.limits
    values: dict[str, Any] = {}
    for flag, key, kind, value, default in (
            ("--cpus", "cpus", CPUS, r.cpus, given.cpus),
            ("--memory", "memory", SIZE, r.memory, given.memory),
            ("--pids-limit", "pids", COUNT, r.pids_limit, given.pids)):
        try:
            values[key] = kind.convert(value) if value is not None else default
        except Invalid as exc:
            raise errors.DevaipodError(f"{flag}: {exc.reason}", exc.hint or
                                       'e.g. --cpus 2 --memory 4g --pids-limit 4096') from None
    return Limits(**values)


def at_once(*calls: Callable[[], Any]) -> list[Any]:
    """What CALLS return, run at the same time (in order under --dry-run); the first
    error, in the order of CALLS, once all are done."""
    results: list[Any] = [None] * len(calls)

    def keep(n: int) -> None:
        results[n] = calls[n]()

    failed = runner.in_parallel([partial(keep, n) for n in range(len(calls))])
    if failed:
        raise failed[0]
    return results


CDI_DIRS = ("/etc/cdi", "/var/run/cdi")
GPU_TARGETS = {"workspace": ("workspace",), "agent": ("agent", "worker"),
               "all": ("workspace", "agent", "worker")}


def gpu_roles(gpu: GpuConfig, cdi_dirs: tuple[str, ...] = CDI_DIRS) -> tuple[str, ...]:
    """Which containers get the GPUs: [gpu] enabled, or by default (auto) when this host
    has an NVIDIA CDI spec (not checked inside the devaipod container: not its host)."""
    enabled = gpu.enabled
    if enabled is None:
        enabled = not in_container() and any(
            name.startswith("nvidia") for d in cdi_dirs if os.path.isdir(d)
            for name in os.listdir(d))
    return GPU_TARGETS[gpu.target] if enabled else ()


def apply_devcontainer(src: source.Source, pod_name: str, inline: str | None,
                       use_default: bool, helper_image: str, network: str | None,
                       dotfiles: source.Source | None = None, trust_source: bool = False,
                       volume: devcontainer.Volume | None = None,
                       auth: forges.CloneAuth | None = None,
                       hidden: frozenset[str] = frozenset()
                       ) -> tuple[devcontainer.DevContainer | None, str,
                                  source.Source | devcontainer.Volume | None]:
    """The devcontainer.json to apply, variables resolved, its path and its repo's source.

    A repository's devcontainer.json is input from whoever wrote the branch: for a pull
    request it (and its build context) come from the repository's default branch, not
    from the PR's head, and a repository's file may not bind host paths; unless the
    user says ``trust_source``. ``volume``: the workspace's volume, read first (rebuild).
    """
    trusted_view = src if trust_source or src.pr_ref is None else \
        dataclasses.replace(src, pr_ref=None)
    if trusted_view is not src:
        log.info("pull request: devcontainer.json comes from %s's default branch, not the "
                 "PR's head, and its lifecycle commands run in the agent only (give "
                 "--trust-source to use the PR's and run them in your workspace)", src.repo)
    found = devcontainer.read(trusted_view, inline=inline, use_default=use_default,
                         helper_image=helper_image, network=network, dotfiles=dotfiles,
                         volume=volume, auth=auth)
    if found is None:
        return None, "", None
    dc, json_rel, dc_src = found
    from_repo = dc_src is not dotfiles and bool(json_rel) and not trust_source
    local = src.clone_url if src.kind == "local" else f"/{src.project}"
    dc = devcontainer.substitute(dc, repo_env(os.environ, hidden) if from_repo else os.environ,
                                 local_workspace_folder=local, devcontainer_id=pod_name,
                                 workspace_folder=f"/workspaces/{src.project}")
    checked(dc, from_repo)
    return dc, json_rel, dc_src


def repo_env(env: Mapping[str, str], hidden: frozenset[str]) -> dict[str, str]:
    """What a repository's ``${localEnv:...}`` may read of ours: no trusted variable and
    none that looks secret (they would land in a build argument or the image)."""
    return {k: v for k, v in env.items()
            if k not in hidden and not layout.LOOKS_SECRET.search(k)}


def checked(dc: devcontainer.DevContainer, from_repo: bool) -> None:
    """Refuse what a configuration may not do (binds of host paths when it comes from
    the repository, or the workspace's copy of it) and warn about what is ignored."""
    if from_repo:
        refuse_host_binds(dc)
    _args, warnings = devcontainer.security_args(dc)  # refuses what it must, now
    for warning in (*dc.warnings, *warnings):
        log.warning("%s", warning)


def refuse_host_binds(dc: devcontainer.DevContainer) -> None:
    """A repository's devcontainer.json may not bind the host's files into the pod."""
    for mount in dc.mounts:
        if mount.type == "bind":
            raise errors.DevaipodError(
                f"{dc.source}: mounts binds the host path {mount.source} into the workspace",
                "a repository may not bind host paths; pass --trust-source if you trust it, "
                "or use --devcontainer-json")


def check_name(pod_name: str) -> None:
    if pod.exists(pod_name, dry_assume=False):
        raise errors.DevaipodError(
            f"workspace '{layout.short(pod_name)}' already exists",
            "pick another --name, or remove it with 'devaipod delete'")


def preflight(i: Inputs) -> None:
    """Fail early, before anything is created, on the mistakes a user can make; pull the
    images that are to be pulled (the sidecar's was, by ``make``: it reads devcontainer.json)."""
    images = [i.image, *([i.gator_image] if i.gator is not None else [])]
    at_once(partial(pull_.ensure, [ref for ref in images if ref != i.api_image], i.pull),
            partial(check_network, i.network))


def check_network(name: str | None) -> None:
    if name and not network_.exists(name, dry_assume=True):
        raise errors.DevaipodError(f"podman network '{name}' does not exist",
                                   f"create it with 'podman network create {name}'")


def new_password() -> str:
    return _secrets.token_hex(16)


def new_token() -> str:
    return _secrets.token_urlsafe(32)


def mcp_servers(cfg: config.Config, flags: tuple[str, ...]) -> dict[str, dict]:
    """[mcp.NAME] servers of the config, then --mcp NAME=URL flags on top."""
    servers = {name: {"url": s.url, "headers": dict(s.headers)}
               for name, s in cfg.mcp.items() if s.enabled}
    for flag in flags:
        name, url = parse_mcp(flag)
        servers[name] = {"url": url, "headers": {}}
    return servers
