"""podman pod: argv builders and thin wrappers."""

from __future__ import annotations

from typing import Any

from devaipod import podman


def create_argv(
    name: str,
    labels: dict[str, str] | None = None,
    publish: list[str] | None = None,
    network: str | None = None,
) -> list[str]:
    args = ["pod", "create", "--name", name, *podman.label_args(labels or {})]
    for port in publish or []:
        args += ["--publish", port]
    if network:
        args += ["--network", network]
    return args


def exists_argv(name: str) -> list[str]:
    return ["pod", "exists", name]


def inspect_argv(name: str) -> list[str]:
    return ["pod", "inspect", name]


def ps_argv(filters: dict[str, str | list[str]] | None = None) -> list[str]:
    return ["pod", "ps", "--format", "json", *podman.filter_args(filters or {})]


def start_argv(name: str) -> list[str]:
    return ["pod", "start", name]


def stop_argv(name: str, timeout: int | None = None) -> list[str]:
    args = ["pod", "stop"]
    if timeout is not None:
        args += ["--time", str(timeout)]
    return [*args, name]


def rm_argv(name: str, force: bool = False) -> list[str]:
    return ["pod", "rm", *(["--force"] if force else []), name]


def create(name: str, **kwargs: Any) -> str:
    return podman.change(create_argv(name, **kwargs)).stdout.strip()


def exists(name: str, dry_assume: bool | None = None) -> bool:
    return podman.exists(exists_argv(name), dry_assume)


def inspect(name: str) -> dict[str, Any]:
    data = podman.json(inspect_argv(name))
    return data[0] if isinstance(data, list) else data


def ps(filters: dict[str, str | list[str]] | None = None) -> list[dict[str, Any]]:
    return podman.json(ps_argv(filters)) or []


def start(name: str) -> None:
    podman.change(start_argv(name))


def stop(name: str, timeout: int | None = None) -> None:
    podman.change(stop_argv(name, timeout))


def rm(name: str, force: bool = False) -> None:
    podman.change(rm_argv(name, force))
