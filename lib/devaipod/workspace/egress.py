"""A workspace's egress: open (the pod's network as it is) or an allow-list.

In ``allow-list`` mode the pod joins an internal podman network of its own,
``{pod}-internal``, which has no route out. The container ``{pod}-egress``
(outside the pod, on that network and on the pod's usual one) is the only way
out: tinyproxy, run by ``devaipod.egressproxy``, lets through the hosts on the
list and refuses the rest, each refusal written into the audit trail. The
pod's containers get ``HTTP(S)_PROXY``; its published ports move to the egress
container, which relays them to the pod (an internal network publishes none).

All containers of a pod share one network namespace, so the list is the whole
pod's: the forge the gator talks to is on it too (the agent has no token for it).

The list lives in the volume ``{pod}-egress``; ``allow``/``deny`` rewrite it
through the running proxy and make it read it again (SIGHUP), as the gator's
grants are rewritten in its volume.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from devaipod import egressproxy, errors, layout, podman, runner
from devaipod.podman import container, network
from devaipod.podman.container import Spec
from devaipod.workspace import audit as audit_

if TYPE_CHECKING:
    from devaipod.source import Source

log = logging.getLogger("devaipod")

MODES = ("open", "allow-list")
PYTHON = "/opt/devaipod/bin/python"  # the image's devaipod
NO_PROXY = "localhost,127.0.0.1,::1"


def name(pod: str) -> str:
    return layout.container(pod, "egress")


def network_name(pod: str) -> str:
    return layout.egress_network(pod)


def volume_name(pod: str) -> str:
    return layout.volume(pod, "egress")


def check(entries: Iterable[str], what: str = "--allow") -> list[str]:
    """ENTRIES as the proxy keeps them; a bad one is the user's error, in one line."""
    try:
        return egressproxy.normalize(entries)
    except egressproxy.BadEntry as exc:
        raise errors.DevaipodError(f"{what}: {exc}",
                                   "give HOST, *.DOMAIN or HOST:PORT") from None


def proxy_env(pod: str) -> dict[str, str]:
    """What the pod's containers are given: every client goes through the proxy."""
    url = f"http://{name(pod)}:{egressproxy.PORT}"
    return {"HTTP_PROXY": url, "HTTPS_PROXY": url, "http_proxy": url, "https_proxy": url,
            "NO_PROXY": NO_PROXY, "no_proxy": NO_PROXY}


def forge_hosts(source: Source, gator_env: dict[str, str], more: Iterable[str] = ()) -> list[str]:
    """The hosts the gator talks to: the source's forge (and GitHub's API host), the
    GitHub Enterprise, GitLab or Forgejo addresses it is given."""
    hosts = [source.host] if source.kind != "local" and source.host else []
    if source.host == "github.com":
        hosts.append("api.github.com")
    hosts += [urlsplit(v).netloc for v in gator_env.values() if "://" in v]
    hosts += [h for h in more if h]
    out = []
    for h in hosts:
        try:
            out += egressproxy.normalize([h])
        except egressproxy.BadEntry:
            log.warning("egress: %r is no host name; not allowed", h)
    return out


def ports_of(publish: list[str]) -> list[int]:
    """The container ports of ``podman --publish`` specs (ADDRESS:HOST:CONTAINER)."""
    return [int(spec.rsplit(":", 1)[-1].split("/")[0]) for spec in publish]


@dataclass
class Setup:
    """What allow-list mode adds to a plan."""

    network: str  # the pod's internal network
    spec: Spec  # the proxy; its --from (the internal subnet) is added when known
    allow: list[str] = field(default_factory=list)


def setup(pod: str, image: str, allow: list[str], outside: str | None, publish: list[str],
          labels: dict[str, str], llm_configs: Iterable[str] = (),
          mounts: Iterable[str] = ()) -> Setup:
    """The egress of POD: IMAGE's devaipod runs the proxy with the list ALLOW, reaching out
    on OUTSIDE (the pod's network, else podman's default); PUBLISH are the pod's ports,
    relayed; LLM_CONFIGS the OpenCode configurations (in MOUNTS) whose providers it adds."""
    command = [PYTHON, "-m", "devaipod.egressproxy"]
    for entry in allow:
        command += ["--allow", entry]
    for path in llm_configs:
        command += ["--llm-config", path]
    for port in ports_of(publish):
        command += ["--forward", f"{port}:{pod}:{port}"]
    spec = Spec(name=name(pod), image=image, entrypoint="", command=command,
                network=f"{outside or 'podman'},{network_name(pod)}", publish=list(publish),
                labels={**labels, layout.ROLE: "egress"},
                mounts=[f"{volume_name(pod)}:{egressproxy.STATE_DIR}", audit_.mount(pod),
                        *mounts],
                security=["--cap-drop", "ALL", "--security-opt", "no-new-privileges"])
    return Setup(network=network_name(pod), spec=spec, allow=list(allow))


def make(s: Setup) -> None:
    """The internal network and the proxy, created (not started)."""
    network.create(s.network, labels={k: v for k, v in s.spec.labels.items()
                                      if k != layout.ROLE}, internal=True)
    subnet = "SUBNET"  # a dry run made no network
    if not runner.options.dry_run:
        subnets = network.inspect(s.network).get("subnets") or [{}]
        subnet = subnets[0].get("subnet") or "0.0.0.0/0"
    container.create(replace(s.spec, command=[*s.spec.command, "--from", subnet]))


def exists(pod: str) -> bool:
    return container.exists(name(pod))


def start(pod: str, known: bool = False) -> None:
    """Start the proxy of POD, if it has one (KNOWN: it has), before the pod: the agent
    needs it."""
    if known or exists(pod):
        podman.change(["start", name(pod)])


def stop(pod: str, timeout: int | None = None) -> None:
    if exists(pod):
        podman.change(["stop", *([f"--time={timeout}"] if timeout is not None else []),
                       name(pod)])


def _running(pod: str) -> bool:
    found = container.inspect_present([name(pod)])
    return bool(found and (found[0].get("State") or {}).get("Running"))


def need_running(pod: str) -> None:
    if not exists(pod):
        raise errors.DevaipodError(f"workspace {layout.short(pod)} has open egress",
                                   "make it with --egress allow-list to keep a list")
    if not _running(pod):
        raise errors.DevaipodError(f"workspace {layout.short(pod)} is not running",
                                   f"start it with 'devaipod start {layout.short(pod)}'")


def allowed(pod: str) -> list[str] | None:
    """POD's allow-list (None: open egress or not running)."""
    if not exists(pod) or not _running(pod):
        return None
    out = container.exec_capture(name(pod), ["cat", egressproxy.ALLOW_FILE]).stdout
    return egressproxy.normalize(line for line in out.splitlines() if line.strip())


# $1: the whole new list (one entry a line); written whole, then the proxy reads it
_WRITE = f'printf "%s" "$1" > {egressproxy.ALLOW_FILE}.new && ' \
         f'mv {egressproxy.ALLOW_FILE}.new {egressproxy.ALLOW_FILE}'


def change(pod: str, add: Iterable[str] = (), remove: Iterable[str] = ()) -> list[str]:
    """Add ADD to POD's list and take REMOVE off it, live; the new list."""
    need_running(pod)
    add, remove = check(add, "allow"), check(remove, "deny")
    current = allowed(pod) or []
    new = [e for e in current if e not in remove] + [e for e in add if e not in current]
    text = "".join(e + "\n" for e in new)
    podman.change(container.exec_argv(name(pod), ["sh", "-c", _WRITE, "sh", text]))
    podman.change(["kill", "--signal", "HUP", name(pod)])
    audit_.note(pod, "egress", action="allow" if add else "deny",
                hosts=[*add, *remove], decision="changed")
    return new


def describe(pod: str, labels: dict[str, str] | None) -> dict:
    """For `status`, `debug` and the pod page: the mode and, while it runs, the list."""
    mode = layout.read_label(labels, "egress") or "open"
    out: dict = {"mode": mode}
    if mode != "open":
        try:
            out["allow"] = allowed(pod)
        except errors.DevaipodError as exc:
            out["error"] = exc.format_message()
    return out
