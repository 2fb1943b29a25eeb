"""podman container: argv builders and thin wrappers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from devaipod import podman


@dataclass
class Spec:
    """Everything ``podman create``/``podman run`` needs for one container."""

    name: str
    image: str
    command: list[str] = field(default_factory=list)
    pod: str | None = None
    entrypoint: str | None = None
    user: str | None = None
    workdir: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    secrets: list[list[str]] = field(default_factory=list)  # flag groups from secret.py
    mounts: list[str] = field(default_factory=list)  # "volume-or-path:dest[:ro]"
    labels: dict[str, str] = field(default_factory=dict)
    network: str | None = None
    publish: list[str] = field(default_factory=list)
    security: list[str] = field(default_factory=list)  # --cap-*, --security-opt, --device
    health: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)  # user passthrough (already validated)
    resources: list[str] = field(default_factory=list)  # Limits.flags()
    init: bool = True
    tmpfs_tmp: bool = True
    pull: str | None = "never"  # images are checked up front; never reach a registry


_UNITS = (("g", 1024**3), ("m", 1024**2), ("k", 1024))


def size_text(size: int) -> str:
    """Bytes the way podman writes them: "512m", "4g", else "1000b"."""
    return next((f"{size // n}{unit}" for unit, n in _UNITS if size and size % n == 0),
                f"{size}b")


@dataclass(frozen=True)
class Limits:
    """A container's resources: podman's ``--cpus``, ``--memory`` (swap included: no
    more swap than that) and ``--pids-limit``; None: podman's own default; pids 0: no
    limit."""

    cpus: float | None = None
    memory: int | None = None  # bytes
    pids: int | None = None

    def flags(self) -> list[str]:
        args = ["--cpus", f"{self.cpus:g}"] if self.cpus else []
        if self.memory:
            args += ["--memory", size_text(self.memory), "--memory-swap",
                     size_text(self.memory)]
        if self.pids is not None:
            args += ["--pids-limit", str(self.pids) if self.pids else "-1"]
        return args

    def text(self) -> str:
        """``cpus=2 memory=4g pids=4096`` (what is set), or ""; read by ``parse``."""
        return " ".join(f"{k}={v}" for k, v in (
            ("cpus", f"{self.cpus:g}" if self.cpus else None),
            ("memory", size_text(self.memory) if self.memory else None),
            ("pids", str(self.pids) if self.pids is not None else None)) if v is not None)

    @classmethod
    def parse(cls, text: str | None) -> dict[str, str]:
        """``text()``'s words as {key: value} (a label written by ``text``)."""
        return dict(w.split("=", 1) for w in (text or "").split() if "=" in w)


def _options(spec: Spec) -> list[str]:
    args = ["--name", spec.name]
    if spec.pull:
        args.append(f"--pull={spec.pull}")
    if spec.pod:
        args += ["--pod", spec.pod]
    if spec.init:
        args.append("--init")
    if spec.tmpfs_tmp:
        args += ["--tmpfs", "/tmp"]
    if spec.user:
        args += ["--user", spec.user]
    if spec.workdir:
        args += ["--workdir", spec.workdir]
    if spec.entrypoint is not None:
        args += ["--entrypoint", spec.entrypoint]
    if spec.network:
        args += ["--network", spec.network]
    for port in spec.publish:
        args += ["--publish", port]
    args += podman.label_args(spec.labels)
    for key, value in spec.env.items():
        args += ["--env", f"{key}={value}"]
    for group in spec.secrets:
        args += group
    for mount in spec.mounts:
        args += ["--volume", mount]
    return [*args, *spec.security, *spec.health, *spec.resources, *spec.extra]


def create_argv(spec: Spec) -> list[str]:
    return ["create", *_options(spec), spec.image, *spec.command]


def run_argv(spec: Spec, remove: bool = True) -> list[str]:
    return ["run", *(["--rm"] if remove else []), *_options(spec), spec.image, *spec.command]


def exec_argv(
    name: str,
    command: list[str],
    interactive: bool = False,
    tty: bool = False,
    user: str | None = None,
    workdir: str | None = None,
    env: dict[str, str] | None = None,
    detach_keys: bool = True,
) -> list[str]:
    args = ["exec"]
    if interactive:
        args.append("--interactive")
    if tty:
        args.append("--tty")
    if interactive and detach_keys:
        args += ["--detach-keys", ""]
    if user:
        args += ["--user", user]
    if workdir:
        args += ["--workdir", workdir]
    for key, value in (env or {}).items():
        args += ["--env", f"{key}={value}"]
    return [*args, name, *command]


def exists_argv(name: str) -> list[str]:
    return ["container", "exists", name]


def inspect_argv(names: list[str]) -> list[str]:
    return ["container", "inspect", *names]


def ps_argv(filters: dict[str, str | list[str]] | None = None, all: bool = True) -> list[str]:
    return [
        "ps", *(["--all"] if all else []), "--format", "json",
        *podman.filter_args(filters or {}),
    ]


def logs_argv(name: str, follow: bool = False, tail: int | None = None) -> list[str]:
    args = ["logs"]
    if follow:
        args.append("--follow")
    if tail is not None:
        args += ["--tail", str(tail)]
    return [*args, name]


def rm_argv(names: list[str], force: bool = False, ignore: bool = False) -> list[str]:
    """``ignore``: a container that is not there is no error."""
    return ["rm", *(["--force"] if force else []), *(["--ignore"] if ignore else []), *names]


def start_argv(names: list[str]) -> list[str]:
    """Start the created containers NAMES (and what they need: their pod's infra)."""
    return ["start", *names]


def create(spec: Spec) -> str:
    return podman.change(create_argv(spec)).stdout.strip()


def start(names: list[str]) -> None:
    podman.change(start_argv(names))


def cp_argv(source: str, name: str, dest: str) -> list[str]:
    """Copy the host path SOURCE to DEST in container NAME."""
    return ["cp", source, f"{name}:{dest}"]


def run(spec: Spec, **kwargs: Any):
    return podman.change(run_argv(spec), **kwargs)


def exec_capture(name: str, command: list[str], **kwargs: Any):
    check = kwargs.pop("check", True)
    return podman.capture(exec_argv(name, command, **kwargs), check=check)


def exists(name: str) -> bool:
    return podman.exists(exists_argv(name))


def inspect(names: list[str]) -> list[dict[str, Any]]:
    return podman.json(inspect_argv(names)) or []


def inspect_present(names: list[str]) -> list[dict[str, Any]]:
    """NAMES inspected, but those that went since they were listed."""
    return podman.json_present(inspect_argv(names))


def ps(filters: dict[str, str | list[str]] | None = None) -> list[dict[str, Any]]:
    return podman.json(ps_argv(filters)) or []


def rm(names: list[str], force: bool = False, ignore: bool = False) -> None:
    if names:
        podman.change(rm_argv(names, force, ignore))
