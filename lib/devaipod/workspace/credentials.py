"""Which container gets which variable and which secret.

| source                                  | workspace | agent | worker | gator |
|-----------------------------------------|-----------|-------|--------|-------|
| [env] allowlist + vars                  | yes       | yes   | yes    | no    |
| [trusted.env] allowlist + vars          | yes       | no    | no     | yes   |
| [trusted] secrets                       | yes       | no*   | no*    | yes   |
| [trusted] file_secrets                  | yes       | no    | no     | yes   |
| LLM keys in devaipod's own environment  | yes       | yes   | yes    | no    |
| DEVAIPOD_AGENT_<X> in the environment   | no        | yes   | yes    | no    |
| devcontainer envAllowlist (**)          | no        | yes   | yes    | no    |

The forge token of the source's host (a ``[trusted] secrets`` variable, ``forges.find``)
also goes to the one container that clones the repository (the init clone, and the
devcontainer.json peek before it), and the user's ssh-agent socket for an ssh source:
``clone_auth``. Neither is ever a flag of a pod container.

(*) a trusted secret whose variable is an LLM key (ANTHROPIC_API_KEY, ...)
reaches the agent and worker too, so that the Quick Start's configuration
works as written.
(**) the repository's allow-list never sends the agent a trusted variable or one that
looks secret (GH_TOKEN, AWS_SECRET_ACCESS_KEY, ...): those are refused and listed in
``Partition.refused``.

Values never travel on a command line: every trusted value, and any value
that looks secret (its name says KEY, TOKEN, SECRET, PASSWORD ... or it is
an LLM key), becomes a podman secret owned by the pod, and only its name
appears in ``podman create``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from devaipod import forges, layout
from devaipod.podman import secret
from devaipod.source import Source

SECRETISH = layout.LOOKS_SECRET
ALL = ("workspace", "agent", "worker")
TRUSTED = ("workspace", "gator")
AGENT_PREFIX = "DEVAIPOD_AGENT_"


@dataclass(frozen=True)
class Inputs:
    agent_allowlist: tuple[str, ...] = ()  # devcontainer customizations.devaipod.envAllowlist
    env_allowlist: tuple[str, ...] = ()
    env_vars: Mapping[str, str] = field(default_factory=dict)
    trusted_allowlist: tuple[str, ...] = ()
    trusted_vars: Mapping[str, str] = field(default_factory=dict)
    trusted_secrets: tuple[tuple[str, str], ...] = ()  # (ENV, secret name)
    file_secrets: tuple[tuple[str, str], ...] = ()
    llm_env: frozenset[str] = frozenset()
    host_env: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Partition:
    env: dict[str, dict[str, str]] = field(default_factory=dict)
    flags: dict[str, list[list[str]]] = field(default_factory=dict)
    pod_secrets: dict[str, str] = field(default_factory=dict)  # name -> value
    refused: list[str] = field(default_factory=list)  # envAllowlist names not sent

    def env_for(self, role: str) -> dict[str, str]:
        return dict(self.env.get(role, {}))

    def flags_for(self, role: str) -> list[list[str]]:
        return list(self.flags.get(role, []))


def _selected(allowlist: Iterable[str], explicit: Mapping[str, str], host: Mapping[str, str]
              ) -> dict[str, str]:
    values = {name: host[name] for name in allowlist if name in host}
    values.update(explicit)
    return values


_secret_name = layout.env_secret


class _Builder:
    def __init__(self, pod: str, llm_env: frozenset[str]) -> None:
        self.pod = pod
        self.llm_env = llm_env
        self.out = Partition()

    def value(self, var: str, value: str, roles: Iterable[str],
              secret_value: bool = False) -> None:
        if secret_value or SECRETISH.search(var) or var in self.llm_env:
            name = _secret_name(self.pod, var)
            self.out.pod_secrets[name] = value
            self.flag(secret.env_flag(name, var), roles)
            return
        for role in roles:
            self.out.env.setdefault(role, {})[var] = value

    def flag(self, flags: list[str], roles: Iterable[str]) -> None:
        for role in roles:
            if flags not in self.out.flags.setdefault(role, []):
                self.out.flags[role].append(flags)


def trusted_names(inputs: Inputs) -> set[str]:
    """The variables the workspace alone may have."""
    return {*inputs.trusted_allowlist, *inputs.trusted_vars,
            *(var for var, _ in inputs.trusted_secrets),
            *(var for var, _ in inputs.file_secrets)} - set(inputs.llm_env)


def partition(pod: str, inputs: Inputs) -> Partition:
    b = _Builder(pod, inputs.llm_env)
    host = inputs.host_env
    for var, value in _selected(inputs.env_allowlist, inputs.env_vars, host).items():
        b.value(var, value, ALL)
    for var, value in _selected(inputs.trusted_allowlist, inputs.trusted_vars, host).items():
        b.value(var, value, TRUSTED, secret_value=True)
    for var in sorted(inputs.llm_env):
        if host.get(var):
            b.value(var, host[var], ALL)
    trusted = trusted_names(inputs)
    for var in inputs.agent_allowlist:
        if var in trusted or (SECRETISH.search(var) and var not in inputs.llm_env):
            b.out.refused.append(var)
        elif var in host:
            b.value(var, host[var], ("agent", "worker"))
    for key, value in host.items():
        if key.startswith(AGENT_PREFIX) and len(key) > len(AGENT_PREFIX):
            b.value(key[len(AGENT_PREFIX):], value, ("agent", "worker"))
    for var, name in inputs.trusted_secrets:
        roles = TRUSTED + (("agent", "worker") if var in inputs.llm_env else ())
        b.flag(secret.env_flag(name, var), roles)
    for var, name in inputs.file_secrets:
        b.flag(secret.file_flag(name), TRUSTED)
        for role in TRUSTED:
            b.out.env.setdefault(role, {})[var] = f"/run/secrets/{name}"
    return b.out


def clone_auth(src: Source, forge: forges.Forge | None,
               trusted_secrets: Iterable[tuple[str, str]], ssh_socket: str | None = None,
               known_hosts: str | None = None) -> forges.CloneAuth | None:
    """How the clone containers authenticate for SRC: the ssh-agent for an ssh source when
    SSH_SOCKET is given, else the token of FORGE's variable when it is a trusted secret."""
    if src.kind == "local" or not (forge or (ssh_socket and src.ssh_url)):
        return None
    if ssh_socket and src.ssh_url:
        return forges.CloneAuth(forge, ssh_socket=ssh_socket, known_hosts=known_hosts)
    assert forge is not None
    scheme = src.clone_url.split("://", 1)[0]
    return forges.CloneAuth(forge, dict(trusted_secrets).get(forge.token_var),
                            prefix=f"{scheme}://{src.host}/")
