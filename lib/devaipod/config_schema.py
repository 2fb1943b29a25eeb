"""The schema of ``devaipod.toml``: frozen dataclasses whose fields are the keys.

Each field carries its TOML spelling, its kind (how a TOML value is checked
and converted), its default and a one-line doc in ``field(metadata=...)``.
The loader in :mod:`devaipod.config` walks these classes; the man-page test
walks them too, so a key cannot exist without being documented. A TOML key is
the field name with ``_`` written as ``-``, unless the field says ``key=``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import MISSING, Field, dataclass, field, fields
from datetime import date, time, timedelta
from typing import Any

from devaipod.forges import KINDS
from devaipod.gator.policy import DENY_PATHS, MAX_COMMITS, MAX_FILE_SIZE
from devaipod.layout import GATOR_PORT, PIDS_LIMIT

BUILTIN_LLM_KEY_VARS = (
    "ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY",
    "GOOGLE_GENERATIVE_AI_API_KEY", "AZURE_OPENAI_API_KEY", "OPENROUTER_API_KEY",
    "GROQ_API_KEY", "MISTRAL_API_KEY", "COHERE_API_KEY", "XAI_API_KEY", "DEEPSEEK_API_KEY",
)

ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# podman refuses ',', '/' and '=' in secret names; ',' would also split the --secret flag
SECRET_NAME = re.compile(r"[^\s,/=]{1,253}")


class Invalid(Exception):
    """A value does not fit its key. ``reason`` reads after the key's name."""

    def __init__(self, reason: str, hint: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.hint = hint


# ---------------------------------------------------------------- kinds


@dataclass(frozen=True)
class Kind:
    """How one key's TOML value is checked and converted."""

    name: str  # shown in error messages: "expected <name>"
    convert: Callable[[Any], Any]


def shown(value: Any) -> str:
    """A short, one-line description of a TOML value for an error message."""
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, str):
        text = repr(value)
        return "string " + (text if len(text) <= 40 else text[:36] + "...'")
    if isinstance(value, int):
        return f"integer {value}" if abs(value) < 10**18 else "a large integer"
    kinds: list[tuple[type | tuple[type, ...], str]] = [
        (float, "a float"), (list, "an array"), (dict, "a table"), ((date, time), "a date/time")]
    return next((name for cls, name in kinds if isinstance(value, cls)), "a value")


def expect(name: str, value: Any, fits: bool) -> None:
    if not fits:
        raise Invalid(f"expected {name}, got {shown(value)}")


def _typed(name: str, cls: type) -> Kind:
    def convert(value: Any) -> Any:
        expect(name, value, isinstance(value, cls))
        return value

    return Kind(name, convert)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _port(value: Any) -> int:
    expect("a port number 1-65535", value, _is_int(value) and 0 < value < 65536)
    return value


_DURATION = re.compile(r"(?:(\d{1,6})h)?(?:(\d{1,6})m)?(?:(\d{1,6})s)?")


def _duration(value: Any) -> timedelta:
    seconds = value if _is_int(value) and value < 10**9 else 0
    if isinstance(value, str) and (match := _DURATION.fullmatch(value)):
        hours, minutes, secs = (int(g or 0) for g in match.groups())
        seconds = hours * 3600 + minutes * 60 + secs
    expect('a duration like "30m", "90s" or "1h30m"', value, seconds > 0)
    return timedelta(seconds=seconds)


def _list_of(name: str, item: Callable[[Any], Any]) -> Kind:
    def convert(value: Any) -> tuple[Any, ...]:
        expect(name, value, isinstance(value, list))
        return tuple(item(v) for v in value)

    return Kind(name, convert)


def _env_name(value: Any) -> str:
    expect("an environment variable name", value,
           isinstance(value, str) and bool(ENV_NAME.fullmatch(value)))
    return value


def _map_of(name: str, check_key: Callable[[Any], str]) -> Kind:
    def convert(value: Any) -> dict[str, str]:
        expect(name, value, isinstance(value, dict))
        return {check_key(k): STRING.convert(v) for k, v in value.items()}

    return Kind(name, convert)


@dataclass(frozen=True)
class SecretRef:
    """``ENV=secret_name``: podman secret ``secret`` exposed as ``env``."""

    env: str
    secret: str


def _secret_ref(value: Any) -> SecretRef:
    env, sep, secret = value.partition("=") if isinstance(value, str) else ("", "", "")
    if not sep or not ENV_NAME.fullmatch(env) or not SECRET_NAME.fullmatch(secret):
        raise Invalid(f'expected "ENV=secret_name" entries, got {shown(value)}',
                      hint='write e.g. "ANTHROPIC_API_KEY=anthropic_api_key"')
    return SecretRef(env, secret)


def _secret_refs(value: Any) -> tuple[SecretRef, ...]:
    refs = _list_of('a list of "ENV=secret_name"', _secret_ref).convert(value)
    envs = [ref.env for ref in refs]
    twice = next((env for env in envs if envs.count(env) > 1), None)
    if twice:
        raise Invalid(f"sets {twice} twice", hint="give each variable one secret")
    return refs


def choice(*values: str) -> Kind:
    """One of the given strings."""
    quoted = [f'"{v}"' for v in values]
    name = ", ".join(quoted[:-1]) + " or " + quoted[-1]

    def convert(value: Any) -> str:
        expect(name, value, isinstance(value, str) and value in values)
        return value

    return Kind(name, convert)


_SWITCH = {True: True, False: False, "true": True, "false": False,
           "enabled": True, "disabled": False, "auto": None}


def _switch(value: Any) -> bool | None:
    expect('true, false or "auto"', value, isinstance(value, bool | str) and value in _SWITCH)
    return _SWITCH[value]


_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
_SIZE = re.compile(r"([0-9]{1,15})\s*([kmgt]?)i?b?", re.IGNORECASE)


def _size(value: Any) -> int:
    """Bytes: a number, or a string like "512m", "4g", "10MiB"."""
    match = _SIZE.fullmatch(value.strip()) if isinstance(value, str) else None
    size = value if _is_int(value) and value >= 0 else None
    if match:
        size = int(match[1]) * _UNITS[match[2].lower()]
    expect('a size in bytes, or a string like "512m" or "4g"', value, size is not None)
    return int(size)  # type: ignore[arg-type]


def _count(value: Any) -> int:
    expect("a whole number >= 0", value, _is_int(value) and 0 <= value < 10**12)
    return value


def _cpus(value: Any) -> float:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    expect("a number of CPUs > 0 (e.g. 2 or 1.5)", value, number and 0 < value <= 4096)
    return float(value)


STRING = _typed("a string", str)
BOOL = _typed("a boolean", bool)
PORT = Kind("a port number", _port)
DURATION = Kind("a duration", _duration)
STRINGS = _list_of("a list of strings", STRING.convert)
ENV_NAME_KIND = Kind("an environment variable name", _env_name)
ENV_NAMES = _list_of("a list of environment variable names", _env_name)
ENV_MAP = _map_of('a table of NAME = "value"', _env_name)
STRING_MAP = _map_of("a table of strings", STRING.convert)
SECRETS = Kind('a list of "ENV=secret_name"', _secret_refs)
SWITCH = Kind('true, false or "auto"', _switch)
SIZE = Kind("a size", _size)
COUNT = Kind("a whole number", _count)
CPUS = Kind("a number of CPUs", _cpus)

# ---------------------------------------------------------------- field helpers


def opt(default: Any, kind: Kind, doc: str, key: str | None = None) -> Any:
    """A key with a default value."""
    meta = {"kind": kind, "doc": doc, "key": key}
    if isinstance(default, dict):
        return field(default_factory=dict, metadata=meta)
    return field(default=default, metadata=meta)


def required(kind: Kind, doc: str) -> Any:
    """A key that must be given whenever its table is."""
    return field(metadata={"kind": kind, "doc": doc, "key": None})


def section(cls: type, doc: str, key: str | None = None, optional: bool = False) -> Any:
    """A sub-table with fixed keys. ``optional``: None unless the table is present."""
    meta = {"section": cls, "doc": doc, "key": key}
    if optional:
        return field(default=None, metadata=meta)
    return field(default_factory=cls, metadata=meta)


def named(cls: type, doc: str, placeholder: str, pattern: str = r".+") -> Any:
    """A table of user-named sub-tables, each with the keys of ``cls``."""
    meta = {"entry": cls, "doc": doc, "key": None, "placeholder": placeholder,
            "pattern": re.compile(pattern)}
    return field(default_factory=dict, metadata=meta)


def toml_key(f: Field[Any]) -> str:
    return f.metadata.get("key") or f.name.replace("_", "-")


def is_required(f: Field[Any]) -> bool:
    return f.default is MISSING and f.default_factory is MISSING


def schema_fields(cls: type | None = None, prefix: str = "") -> Iterator[tuple[str, Field[Any]]]:
    """(dotted key, field) for every key; user-named tables appear as placeholders."""
    for f in fields(cls or Config):
        key = prefix + toml_key(f)
        if "doc" not in f.metadata:
            continue
        if "section" in f.metadata:
            yield from schema_fields(f.metadata["section"], key + ".")
        elif "entry" in f.metadata:
            yield from schema_fields(f.metadata["entry"], f"{key}.{f.metadata['placeholder']}.")
        else:
            yield key, f


def schema_keys(cls: type | None = None, prefix: str = "") -> Iterator[str]:
    """Every dotted key the schema knows, as in :func:`schema_fields`."""
    return (key for key, _ in schema_fields(cls, prefix))


# ---------------------------------------------------------------- the tables


@dataclass(frozen=True)
class EnvConfig:
    allowlist: tuple[str, ...] = opt((), ENV_NAMES, "Host variables copied by name, if set.")
    vars: dict[str, str] = opt({}, ENV_MAP, "Explicit values; they override the allowlist.")


@dataclass(frozen=True)
class TrustedConfig:
    secrets: tuple[SecretRef, ...] = opt((), SECRETS, "Podman secrets exposed as env vars.")
    file_secrets: tuple[SecretRef, ...] = opt(
        (), SECRETS, "Podman secrets mounted as files; ENV holds the path.", key="file_secrets")
    env: EnvConfig = section(EnvConfig, "Variables for the workspace and gator only.")


@dataclass(frozen=True)
class DotfilesConfig:
    url: str = required(STRING, "Git URL of the dotfiles repository.")
    script: str | None = opt(None, STRING, "Install script inside the repository.")


@dataclass(frozen=True)
class RepoPerms:
    read: bool = opt(False, BOOL, "Read the repository.")
    create_draft: bool = opt(False, BOOL, "Open draft pull requests.")
    pending_review: bool = opt(False, BOOL, "Leave pending (unsubmitted) reviews.")
    push_new_branch: bool = opt(False, BOOL, "Push new agent-* branches.")
    write: bool = opt(False, BOOL, "Full write access.")


@dataclass(frozen=True)
class ItemPerms:
    read: bool = opt(False, BOOL, "Read this pull request or issue.")
    write: bool = opt(False, BOOL, "Comment on and change it.")


@dataclass(frozen=True)
class JiraProjectPerms:
    read: bool = opt(False, BOOL, "Read the project's issues.")
    create: bool = opt(False, BOOL, "Create issues.")
    write: bool = opt(False, BOOL, "Transition and assign issues.")


_REPO = r"[A-Za-z0-9_.-]+/(?:[A-Za-z0-9_.-]+|\*)"
_ITEM = r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+#[0-9]+"
_JIRA = r"[A-Za-z][A-Za-z0-9_]*"


@dataclass(frozen=True)
class GhConfig:
    read: bool = opt(False, BOOL, "Global read-only access to GitHub.")
    graphql: str | None = opt(None, choice("none", "read"), "GraphQL access.")
    repos: dict[str, RepoPerms] = named(RepoPerms, "Per-repository grants.", '"OWNER/REPO"', _REPO)
    prs: dict[str, ItemPerms] = named(ItemPerms, "Per-PR grants.", '"OWNER/REPO#N"', _ITEM)
    issues: dict[str, ItemPerms] = named(ItemPerms, "Per-issue grants.", '"OWNER/REPO#N"', _ITEM)
    url: str | None = opt(None, STRING, "Web address of GitHub (Enterprise); default github.com.")
    api_url: str | None = opt(None, STRING, "REST API address; default api.github.com.")


@dataclass(frozen=True)
class JiraConfig:
    projects: dict[str, JiraProjectPerms] = named(
        JiraProjectPerms, "Per-project grants.", "PROJECT", _JIRA)
    issues: dict[str, ItemPerms] = named(ItemPerms, "Per-issue grants.", '"PROJECT-N"',
                                         _JIRA + r"-[0-9]+")


@dataclass(frozen=True)
class GitLabGatorConfig:
    url: str | None = opt(None, STRING, "Web address of the GitLab; default https://gitlab.com.")


@dataclass(frozen=True)
class ForgejoGatorConfig:
    url: str | None = opt(None, STRING, "Web address of the Forgejo; default https://codeberg.org.")


@dataclass(frozen=True)
class ServiceGatorConfig:
    enabled: bool | None = opt(None, BOOL, "Run the gator; unset means: if anything is granted.")
    port: int = opt(GATOR_PORT, PORT, "Port the gator's MCP server listens on inside the pod.")
    image: str | None = opt(None, STRING, "Image of the gator container.")
    gh: GhConfig = section(GhConfig, "GitHub scopes.")
    jira: JiraConfig = section(JiraConfig, "JIRA scopes.")
    gitlab: GitLabGatorConfig = section(GitLabGatorConfig, "The GitLab the gator reaches.")
    forgejo: ForgejoGatorConfig = section(ForgejoGatorConfig, "The Forgejo the gator reaches.")
    deny_paths: tuple[str, ...] = opt(
        DENY_PATHS, STRINGS, "Pushes changing these paths are refused (globs, ** spans dirs).")
    max_file_size: int = opt(MAX_FILE_SIZE, SIZE,
                             "Pushes adding a larger file are refused; 0: no limit.")
    max_commits: int = opt(MAX_COMMITS, COUNT,
                           "Pushes adding more commits are refused; 0: no limit.")

    @property
    def active(self) -> bool:
        """Whether the pod gets a gator: ``enabled``, or else any grant at all."""
        if self.enabled is not None:
            return self.enabled
        gh, jira = self.gh, self.jira
        return bool(gh.read or gh.repos or gh.prs or gh.issues or jira.projects or jira.issues)


@dataclass(frozen=True)
class PathsConfig:
    paths: tuple[str, ...] = opt((), STRINGS, "Paths relative to $HOME.")


@dataclass(frozen=True)
class WorkerConfig:
    gator: str = opt("readonly", choice("readonly", "inherit", "none"), "Worker's gator access.")


@dataclass(frozen=True)
class OrchestrationConfig:
    enabled: bool = opt(False, BOOL, "Create the worker container.")
    worker_timeout: timedelta = opt(timedelta(minutes=30), DURATION, "Worker task time limit.")
    worker: WorkerConfig = section(WorkerConfig, "The worker container.")


@dataclass(frozen=True)
class SshConfig:
    auto_config: bool = opt(True, BOOL, "Write an SSH config entry per workspace.")


@dataclass(frozen=True)
class McpServer:
    url: str = required(STRING, "URL of the remote MCP server.")
    enabled: bool = opt(True, BOOL, "Whether the agent uses it.")
    headers: dict[str, str] = opt({}, STRING_MAP, "HTTP headers sent with each request.")


@dataclass(frozen=True)
class GitConfig:
    extra_hosts: tuple[str, ...] = opt(
        (), STRINGS, "Bare hostnames that get https:// prepended.", key="extra_hosts")


@dataclass(frozen=True)
class ForgeHost:
    kind: str = required(choice(*KINDS), "Which forge the host runs.")
    token: str | None = opt(None, ENV_NAME_KIND,
                            "[trusted] secrets variable with its token; default by kind.")
    api_url: str | None = opt(None, STRING, "Its REST API address, as this machine reaches it.")


@dataclass(frozen=True)
class GpuConfig:
    enabled: bool | None = opt(None, SWITCH, "Pass GPUs through; None means auto-detect.")
    target: str = opt("workspace", choice("workspace", "agent", "all"), "Containers given GPUs.")


@dataclass(frozen=True)
class PodmanConfig:
    network: str | None = opt(None, STRING, "Named podman network for pods.")
    pull: str = opt("missing", choice("missing", "always", "never"),
                    "When images are pulled: missing, always or never.")


@dataclass(frozen=True)
class LimitsConfig:
    cpus: float | None = opt(None, CPUS, "CPUs for the agent and the worker; unset: no limit.")
    memory: int | None = opt(None, SIZE, "Memory of the agent and the worker; unset: no limit.")
    pids: int = opt(PIDS_LIMIT, COUNT, "Processes in the agent and the worker; 0: no limit.")


@dataclass(frozen=True)
class NetworkConfig:
    egress: str = opt("open", choice("open", "allow-list"),
                      "The pod's way out: open, or only through a proxy to allowed hosts.")
    allow: tuple[str, ...] = opt((), STRINGS, "Hosts the proxy lets through (allow-list).")


@dataclass(frozen=True)
class BackendConfig:
    kind: str = opt("podman", choice("podman", "kubernetes"),
                    "Where workspaces run: podman on this machine, or a Kubernetes cluster.")


@dataclass(frozen=True)
class KubernetesConfig:
    context: str | None = opt(None, STRING, "kubeconfig context; unset: the current one.")
    namespace: str | None = opt(None, STRING, "Namespace of the workspaces; unset: the "
                                "context's own.")
    storage_class: str | None = opt(None, STRING, "StorageClass of the workspaces' volumes "
                                    "(PVCs); unset: the cluster's default.")


@dataclass(frozen=True)
class LlmConfig:
    env: tuple[str, ...] = opt((), ENV_NAMES, "Extra env var names that hold LLM API keys.")


@dataclass(frozen=True)
class Config:
    """The whole file. ``origins``: dotted key -> ``"default"`` or ``"FILE:LINE"``."""

    default_image: str | None = opt(None, STRING, "Image used when no devcontainer.json is found.")
    api_image: str | None = opt(None, STRING, "Image of the pod-api sidecar.")
    container_nesting: bool = opt(False, BOOL, "Apply the nested-container security set.")
    env: EnvConfig = section(EnvConfig, "Variables for workspace, agent and worker.")
    trusted: TrustedConfig = section(TrustedConfig, "Credentials kept from the agent.")
    dotfiles: DotfilesConfig | None = section(DotfilesConfig, "Dotfiles repository.",
                                              optional=True)
    service_gator: ServiceGatorConfig = section(ServiceGatorConfig, "Scoped forge access.")
    bind_home: PathsConfig = section(PathsConfig, "Home files copied in.", key="bind_home")
    bind_home_workspace: PathsConfig = section(
        PathsConfig, "Home files for the workspace only.", key="bind_home_workspace")
    orchestration: OrchestrationConfig = section(OrchestrationConfig, "The worker.")
    ssh: SshConfig = section(SshConfig, "Editor access over SSH.")
    mcp: dict[str, McpServer] = named(McpServer, "Extra MCP servers.", "NAME")
    git: GitConfig = section(GitConfig, "Source URL handling.")
    forges: dict[str, ForgeHost] = named(ForgeHost, "Self-hosted forges, by host[:port].",
                                         '"HOST"', r"[A-Za-z0-9_.-]+(?::[0-9]{1,5})?")
    gpu: GpuConfig = section(GpuConfig, "GPU passthrough.")
    podman: PodmanConfig = section(PodmanConfig, "Podman settings.")
    llm: LlmConfig = section(LlmConfig, "LLM API keys.")
    limits: LimitsConfig = section(LimitsConfig, "Resources of the agent and the worker.")
    network: NetworkConfig = section(NetworkConfig, "The pod's egress.")
    backend: BackendConfig = section(BackendConfig, "Where workspaces run.")
    kubernetes: KubernetesConfig = section(KubernetesConfig, "The cluster of the kubernetes "
                                           "backend.")
    origins: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def llm_api_key_vars(self) -> tuple[str, ...]:
        """The built-in LLM key variable names plus ``[llm] env``, without repeats."""
        return tuple(dict.fromkeys(BUILTIN_LLM_KEY_VARS + self.llm.env))
