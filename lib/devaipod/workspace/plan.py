"""The plan of a workspace pod: pure data, no podman calls.

``build(inputs)`` returns every volume, secret, init container, the pod and
its containers, in the order they are created; ``create.py`` carries it out.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from devaipod import __version__, devcontainer, forges, gitsafe, layout
from devaipod.agent import config as agent_config
from devaipod.podman.container import Limits, Spec
from devaipod.podman.secret import BIN_DIR, env_flag, program_flag, with_env
from devaipod.workspace import audit as audit_
from devaipod.workspace import dotfiles, homefiles, scripts
from devaipod.workspace import egress as egress_
from devaipod.workspace import gator as gator_
from devaipod.workspace import worker as worker_
from devaipod.workspace.credentials import Partition

if TYPE_CHECKING:
    from devaipod.devcontainer import DevContainer
    from devaipod.errors import DevaipodError
    from devaipod.forges import CloneAuth
    from devaipod.gator.scopes import Scopes
    from devaipod.source import Source

AGENT_PORT = layout.AGENT_PORT
API_PORT = layout.API_PORT
AGENT_HOME = "/home/devenv"
SAFE_GIT = {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "safe.directory",
            "GIT_CONFIG_VALUE_0": "*"}
GIT_SHADOW = f"{BIN_DIR}/devaipod-git-shadow"


def own_repository(project: str) -> dict[str, str]:
    """The workspace trusts its own repository only: git there refuses the agent's tree
    under /mnt/agent-workspace (another user's), whose config would run programs."""
    return {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "safe.directory",
            "GIT_CONFIG_VALUE_0": f"/workspaces/{project}"}
OPENCODE_OFFLINE = {
    "OPENCODE_DISABLE_MODELS_FETCH": "1",
    "OPENCODE_DISABLE_AUTOUPDATE": "1",
    "OPENCODE_DISABLE_SHARE": "1",
    "OPENCODE_DISABLE_LSP_DOWNLOAD": "1",
}


@dataclass
class Inputs:
    pod: str
    source: Source
    image: str
    api_image: str
    mode: str = "up"
    task: str | None = None
    title: str | None = None
    network: str | None = None
    publish_address: str = "127.0.0.1"
    creds: Partition = field(default_factory=Partition)
    origin: str | None = None  # origin URL to record (local sources)
    mcp: dict[str, dict[str, Any]] = field(default_factory=dict)
    auto_approve: bool = True
    orchestration: bool = False
    dotfiles: tuple[str, str | None] | None = None  # (url, install script)
    devcontainer: DevContainer | None = None  # resolved
    nested: bool = False  # container-nesting in the config
    gator: Scopes | None = None  # None: no gator
    gator_image: str = ""
    gator_port: int = layout.GATOR_PORT
    gator_env: dict[str, str] = field(default_factory=dict)  # GitHub Enterprise addresses
    worker_gator: str = "readonly"  # [orchestration.worker] gator
    home_copies: list[homefiles.Copy] = field(default_factory=list)  # [bind_home]
    gpu_roles: tuple[str, ...] = ()  # containers given the host's GPUs ([gpu])
    trust_source: bool = False  # --trust-source: a PR's code may run in the workspace
    # where the image came from: "option" (--image), "devcontainer" or "default"; a
    # rebuild keeps an --image and resolves the others again
    image_from: str = "option"
    pull: str = "missing"  # when images are pulled ([podman] pull, --pull)
    clone_auth: CloneAuth | None = None  # the init clone's token or ssh-agent, its only
    fork: tuple[str, str] | None = None  # a PR's head in another repository: (URL, branch)
    limits: Limits = field(default_factory=Limits)  # of the agent and the worker
    egress: str = "open"  # [network] egress, --egress: "open" or "allow-list"
    allow: tuple[str, ...] = ()  # [network] allow and --allow (checked)

    @property
    def stored_task(self) -> str | None:
        """`up` stores its task as the agent's instructions; `run` sends it instead."""
        return self.task if self.mode == "up" and self.task else None


@dataclass
class Step:
    """A command run in one of the pod's containers once it runs."""

    what: str
    container: str
    argv: list[str]
    user: str | None = None
    workdir: str | None = None
    group: str | None = None  # neighbouring steps of one group run in parallel


@dataclass
class Plan:
    pod: str
    project: str
    labels: dict[str, str]
    volumes: list[str]
    secrets: dict[str, str]  # name -> value (sent on stdin)
    init: list[Spec]
    pod_create: dict[str, Any]  # pod.create()'s keyword arguments
    containers: list[Spec]
    after_start: list[Step] = field(default_factory=list)
    copies: list[homefiles.Copy] = field(default_factory=list)  # right after the pod starts
    # init container name -> its failure as one line, from its stderr (a refused clone)
    explain: dict[str, Callable[[str], DevaipodError]] = field(default_factory=dict)
    egress: egress_.Setup | None = None  # allow-list mode: the network and the proxy


def pod_labels(i: Inputs) -> dict[str, str]:
    src = i.source
    return {**layout.base_labels(i.pod), **layout.write_labels({
        "mode": i.mode, "source": src.display, "repo": src.repo, "project": src.project,
        "image": i.image, "image-from": i.image_from,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "version": __version__, "task": i.task, "title": i.title, "forge": src.forge,
        "post-start": devcontainer.start_label(i.devcontainer),
        "pr": str(src.pr_number) if src.pr_number else None,
        "issue": src.issue_url, "network": i.network,
        "lifecycle-in": ",".join(lifecycle_roles(i)) if i.devcontainer else None,
        "trust-source": "true" if i.trust_source else None,
        "limits": i.limits.text() or None,
        "egress": i.egress if i.egress != "open" else None})}


def _role_labels(i: Inputs, role: str) -> dict[str, str]:
    return {**layout.base_labels(i.pod), layout.ROLE: role}


def init_clone(i: Inputs, project: str) -> Spec:
    src = i.source
    mounts = [f"{layout.volume(i.pod, 'workspace')}:/workspaces"]
    security: list[str] = []
    auth = i.clone_auth
    url = auth.url(src.clone_url, src.ssh_url) if auth else src.clone_url
    if auth:  # the token (or ssh-agent) is this container's only: never the pod's
        mounts += auth.mounts()
        security = auth.security()
    if src.kind == "local":
        mounts.append(f"{src.clone_url.rstrip('/')}/.git:/mnt/host-git:ro")
        security = ["--security-opt", "label=disable"]
        url = "/mnt/host-git"
    pr_branch = f"pr-{src.pr_number}" if src.pr_number else None
    return Spec(
        name=f"{i.pod}-init-clone", image=i.image, mounts=mounts, security=security,
        labels=_role_labels(i, "init"), network=i.network, entrypoint="",
        secrets=auth.secret_flags() if auth else [], env=auth.env() if auth else {},
        command=scripts.clone_workspace_argv(url, project, src.pr_ref, pr_branch, i.origin,
                                             f"{GIT_SHADOW} upload-pack",
                                             auth.args if auth else ("", ""), i.fork),
    )


def init_agent(i: Inputs, project: str) -> Spec:
    return Spec(
        name=f"{i.pod}-init-agent", image=i.image, network="none", entrypoint="", user="0",
        labels=_role_labels(i, "init"),
        mounts=[f"{layout.volume(i.pod, 'workspace')}:/mnt/main-workspace:ro",
                f"{layout.volume(i.pod, 'agent-workspace')}:/workspaces",
                f"{layout.volume(i.pod, 'agent-home')}:{AGENT_HOME}"],
        command=scripts.clone_agent_argv(
            project, agent_config.task_text(i.stored_task, i.source.repo)
            if i.stored_task else None, worker=i.orchestration,
            gator_text=gator_.INSTRUCTIONS if i.gator is not None else None,
            workspace_user=i.devcontainer.user if i.devcontainer else None),
    )


def take_over(pod: str, image: str, worker: bool) -> Spec:
    """Give the agent's (and worker's) trees and homes to the agent's user: for `rebuild`
    of a workspace made when the agent ran as root."""
    kinds = ("agent-workspace", "agent-home") + (layout.WORKER_VOLUMES if worker else ())
    mounts = [f"{layout.volume(pod, kind)}:/v/{kind}" for kind in kinds]
    return Spec(name=f"{pod}-init-owner", image=image, network="none", entrypoint="",
                user="0", labels={**layout.base_labels(pod), layout.ROLE: "init"},
                mounts=mounts, command=["chown", "-R", layout.AGENT_USER, "/v"])


def workspace(i: Inputs, project: str, labels: dict[str, str]) -> Spec:
    dc = i.devcontainer
    env = {**i.creds.env_for("workspace"), **devcontainer.workspace_env(dc),
           **own_repository(project), "OPENCODE_AGENT_URL": f"http://127.0.0.1:{AGENT_PORT}"}
    secrets = [env_flag(layout.password_secret(i.pod), "OPENCODE_SERVER_PASSWORD"),
               program_flag(layout.opencode_connect_secret(i.pod), "opencode-connect"),
               program_flag(layout.git_shadow_secret(i.pod), "devaipod-git-shadow"),
               *devcontainer.secret_flags(dc), *i.creds.flags_for("workspace")]
    return Spec(
        name=layout.container(i.pod, "workspace"), image=i.image, pod=i.pod,
        entrypoint="", command=with_env(["sleep", "infinity"]),
        workdir=workdir(i, project), user=dc.user if dc else None,
        security=devcontainer.security(dc, i.nested) + gpu_flags(i, "workspace"),
        extra=devcontainer.mounts(dc),
        env=env, secrets=secrets,
        labels={**labels, layout.ROLE: "workspace"},
        mounts=[f"{layout.volume(i.pod, 'workspace')}:/workspaces",
                f"{layout.volume(i.pod, 'workspace')}:/mnt/main-workspace:ro",
                f"{layout.volume(i.pod, 'agent-home')}:/opt/devaipod:ro",
                f"{layout.volume(i.pod, 'agent-workspace')}:/mnt/agent-workspace:ro"],
    )


def agent(i: Inputs, project: str) -> Spec:
    env = agent_env(i, "agent")
    extra_mounts = []
    if i.orchestration:
        env["OPENCODE_WORKER_URL"] = f"http://127.0.0.1:{worker_.WORKER_PORT}"
        extra_mounts = [f"{layout.volume(i.pod, 'worker-workspace')}:/mnt/worker-workspace:ro"]
    # devcontainer `secrets` are the human's: the workspace's only
    secrets = [env_flag(layout.password_secret(i.pod), "OPENCODE_SERVER_PASSWORD"),
               env_flag(layout.opencode_config_secret(i.pod), "OPENCODE_CONFIG_CONTENT"),
               *i.creds.flags_for("agent")]
    return Spec(
        name=layout.container(i.pod, "agent"), image=i.image, pod=i.pod, entrypoint="",
        user=layout.AGENT_USER,
        command=with_env(["opencode", "serve", "--port", str(AGENT_PORT),
                          "--hostname", "127.0.0.1"]),
        workdir=f"/workspaces/{project}", env=env, secrets=secrets,
        labels=_role_labels(i, "agent"),
        security=devcontainer.security(i.devcontainer, i.nested) + gpu_flags(i, "agent"),
        mounts=[f"{layout.volume(i.pod, 'agent-workspace')}:/workspaces",
                f"{layout.volume(i.pod, 'workspace')}:/mnt/main-workspace:ro",
                f"{layout.volume(i.pod, 'agent-home')}:{AGENT_HOME}", *extra_mounts],
    )


def agent_env(i: Inputs, role: str) -> dict[str, str]:
    return {**i.creds.env_for(role), **SAFE_GIT, **OPENCODE_OFFLINE,
            **homefiles.agent_env(i.home_copies),
            "HOME": AGENT_HOME, "XDG_CONFIG_HOME": f"{AGENT_HOME}/.config",
            "XDG_DATA_HOME": f"{AGENT_HOME}/.local/share"}


def api(i: Inputs, project: str) -> Spec:
    health = ["--health-cmd", f"curl -sf http://127.0.0.1:{API_PORT}/healthz",
              "--health-interval", "5s", "--health-retries", "3",
              "--health-start-period", "5s"]
    return Spec(
        name=layout.container(i.pod, "api"), image=i.api_image, pod=i.pod,
        entrypoint="",
        command=with_env(["devaipod", "pod-api", "--port", str(API_PORT), "--project", project,
                          "--pod", i.pod, *gator_links(i)]),
        env={"HOME": "/tmp"},
        secrets=[env_flag(layout.password_secret(i.pod), "OPENCODE_SERVER_PASSWORD"),
                 env_flag(layout.api_token_secret(i.pod), "DEVAIPOD_API_TOKEN")],
        labels=_role_labels(i, "api"), health=health,
        security=["--cap-drop", "ALL", "--security-opt", "no-new-privileges"],
        mounts=[f"{layout.volume(i.pod, 'agent-workspace')}:/mnt/agent-workspace:ro",
                f"{layout.volume(i.pod, 'workspace')}:/mnt/main-workspace:ro",
                audit_.mount(i.pod)],
    )


GPU_DEVICE = "nvidia.com/gpu=all"  # the CDI name nvidia-ctk gives all GPUs


def gpu_flags(i: Inputs, role: str) -> list[str]:
    return ["--device", GPU_DEVICE] if role in i.gpu_roles else []


def gator_port(i: Inputs, role: str) -> int | None:
    """The gator endpoint the agent or the worker uses (the worker's may be read-only)."""
    if i.gator is None or (role == "worker" and (not i.orchestration or
                                                 i.worker_gator == "none")):
        return None
    readonly = role == "worker" and i.worker_gator == "readonly"
    return i.gator_port + 1 if readonly else i.gator_port


def gator_secret(i: Inputs, role: str) -> str | None:
    """The secret with the bearer token of ROLE's gator endpoint, if ROLE uses the gator."""
    port = gator_port(i, role)
    if port is None:
        return None
    return (layout.gator_token_secret(i.pod) if port == i.gator_port
            else layout.gator_ro_token_secret(i.pod))


def gator_links(i: Inputs) -> list[str]:
    """The sidecar keeps each OpenCode connected to its gator endpoint (pod-api --gator-link);
    the worker's link names the variable with the worker's own password."""
    links = []
    for role, opencode, var in (("agent", AGENT_PORT, ""),
                                ("worker", worker_.WORKER_PORT, worker_.PASSWORD_VAR)):
        port = gator_port(i, role)
        if port:
            links += ["--gator-link", f"{opencode}:{port}" + (f":{var}" if var else "")]
    return links


def workdir(i: Inputs, project: str) -> str:
    dc = i.devcontainer
    return (dc.workspace_folder if dc and dc.workspace_folder else None) or \
        f"/workspaces/{project}"


def lifecycle_roles(i: Inputs) -> tuple[str, ...]:
    """Where the lifecycle commands run. A pull request's are the repository's, but they
    run the PR's code (scripts, package hooks): next to the user's credentials only with
    --trust-source; the agent (untrusted anyway) runs them always."""
    untrusted = i.source.pr_ref is not None and not i.trust_source
    return ("agent",) if untrusted else ("workspace", "agent")


def lifecycle_steps(i: Inputs, project: str, keys: tuple[str, ...]) -> list[Step]:
    """devcontainer lifecycle commands, in the workspace and then in the agent."""
    dc = i.devcontainer
    if dc is None:
        return []
    steps = []
    in_workspace = "workspace" in lifecycle_roles(i)
    for key, parallel, entries in devcontainer.batches(dc, keys):
        for label, argv in entries if in_workspace else ():
            steps.append(Step(devcontainer.describe(label, argv),
                              layout.container(i.pod, "workspace"),
                              argv, user=dc.user, workdir=workdir(i, project),
                              group=f"{key} (workspace)" if parallel else None))
        for label, argv in entries:
            steps.append(Step(devcontainer.describe(f"{label} (agent)", argv),
                              layout.container(i.pod, "agent"), argv,
                              workdir=f"/workspaces/{project}",
                              group=f"{key} (agent)" if parallel else None))
    return steps


def opencode_config(i: Inputs, role: str, tokens: dict[str, str]) -> str:
    """The agent's OpenCode config; the worker's differs only in its gator access.
    TOKENS: the gator's bearer tokens by secret name."""
    mcp, instructions = dict(i.mcp), []
    if i.stored_task and role == "agent":
        instructions.append(agent_config.TASK_FILE)
    port, secret = gator_port(i, role), gator_secret(i, role)
    if port and secret:
        token = tokens[secret]
        mcp["service-gator"] = {"url": f"http://127.0.0.1:{port}/mcp",
                                "headers": {"Authorization": f"Bearer {token}"}}
        instructions.append(agent_config.GATOR_FILE)
    return agent_config.content(mcp, i.auto_approve, instructions)


def gator(i: Inputs) -> Spec:
    worker = gator_port(i, "worker")
    readonly = worker if worker != i.gator_port else None
    env = {**i.creds.env_for("gator"), **i.gator_env, **SAFE_GIT, "HOME": "/tmp"}
    return gator_.container(i.pod, i.gator_image or i.api_image, i.gator_port, env,
                            i.creds.flags_for("gator"), _role_labels(i, "gator"), readonly)


def egress(i: Inputs, project: str, publish: list[str]) -> egress_.Setup:
    """Allow-list mode's proxy: the list, the forge the gator reaches, and the LLM hosts
    of the repository's opencode.json (not an untrusted pull request's)."""
    allow = [*i.allow]
    if i.gator is not None:
        allow += egress_.forge_hosts(i.source, i.gator_env,
                                     [h for h in (i.gator.gitlab_host, i.gator.forgejo_host)
                                      if h])
    untrusted = i.source.pr_ref is not None and not i.trust_source
    configs = [] if untrusted else [f"/mnt/workspace/{project}/opencode.json"]
    return egress_.setup(i.pod, i.api_image, egress_.check(allow), i.network, publish,
                         layout.base_labels(i.pod), configs,
                         [f"{layout.volume(i.pod, 'workspace')}:/mnt/workspace:ro"])


def behind_proxy(plan: Plan) -> None:
    """In allow-list mode the pod has no route out but its proxy: every container is
    told so, its ports are published by the proxy, and its volume is the pod's."""
    assert plan.egress is not None
    plan.pod_create.update(network=plan.egress.network, publish=[])
    plan.volumes.append(egress_.volume_name(plan.pod))
    for spec in plan.containers:
        spec.env.update(egress_.proxy_env(plan.pod))


def build(i: Inputs, password: str, api_token: str,
          lifecycle: tuple[str, ...] = devcontainer.CREATE + devcontainer.START) -> Plan:
    """The plan of workspace I; ``lifecycle``: the devcontainer commands it runs once the
    pod runs (a rebuild runs postStartCommand only, unless asked for the create ones)."""
    project = i.source.project
    labels = pod_labels(i)
    if i.gator is not None:
        labels[layout.GATOR] = "; ".join(i.gator.describe()) or "none"
    tokens = {} if i.gator is None else {layout.gator_token_secret(i.pod): gator_.new_token(),
                                         layout.gator_ro_token_secret(i.pod): gator_.new_token()}
    secrets = {layout.password_secret(i.pod): password,
               layout.api_token_secret(i.pod): api_token,
               layout.opencode_config_secret(i.pod): opencode_config(i, "agent", tokens),
               layout.opencode_connect_secret(i.pod): scripts.OPENCODE_CONNECT,
               layout.git_shadow_secret(i.pod): gitsafe.program(),
               **tokens, **i.creds.pod_secrets}
    publish = [f"{i.publish_address}::{API_PORT}",
               *devcontainer.publish(i.devcontainer, i.publish_address)]
    pod_create = {"labels": labels, "network": i.network, "publish": publish}
    init = [init_clone(i, project), init_agent(i, project)]
    containers = [workspace(i, project, labels), agent(i, project), api(i, project)]
    volumes = [*layout.volumes(i.pod, worker=i.orchestration), audit_.volume_name(i.pod)]
    if i.gator is not None:
        volumes.append(gator_.volume(i.pod))
        init.append(gator_.write_spec(i.pod, i.api_image, i.gator, _role_labels(i, "init")))
        containers.insert(2, gator(i))
    after_start: list[Step] = []
    if i.dotfiles:
        url, script = i.dotfiles
        init.append(dotfiles.init_spec(i.pod, i.image, url, script, i.network,
                                       _role_labels(i, "init")))
        after_start.append(Step("installing the dotfiles in the workspace",
                                layout.container(i.pod, "workspace"),
                                dotfiles.install_argv(dotfiles.WORKSPACE_CHECKOUT, script)))
    after_start += lifecycle_steps(i, project, lifecycle)
    if i.orchestration:
        init.append(worker_.init_worker(i.pod, i.image, project, _role_labels(i, "init")))
        secrets[worker_.config_secret(i.pod)] = opencode_config(i, "worker", tokens)
        secrets[layout.worker_password_secret(i.pod)] = worker_.new_password()
        for spec in containers:  # the agent drives the worker; the sidecar connects it
            if spec.labels.get(layout.ROLE) in ("agent", "api"):
                spec.secrets.append(worker_.password_flag(i.pod))
        containers.append(worker_.worker(i.pod, i.image, project, agent_env(i, "worker"),
                                         i.creds.flags_for("worker"),
                                         _role_labels(i, "worker"),
                                         security=gpu_flags(i, "worker")))
    for spec in containers:  # the untrusted ones; the workspace keeps its runArgs
        if spec.labels.get(layout.ROLE) in layout.LIMITED_ROLES:
            spec.resources = i.limits.flags()
    p = Plan(
        pod=i.pod, project=project, labels=labels,
        volumes=volumes, secrets=secrets, init=init,
        pod_create=pod_create, containers=containers, after_start=after_start,
        copies=list(i.home_copies),
        explain={} if i.source.kind == "local" else {init[0].name: partial(
            forges.explain_clone, i.source.display, i.clone_auth, i.source.host)},
        egress=egress(i, project, publish) if i.egress == "allow-list" else None,
    )
    if p.egress is not None:
        behind_proxy(p)
    return p
