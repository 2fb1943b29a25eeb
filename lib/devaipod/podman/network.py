"""podman network: argv builders and thin wrappers."""

from __future__ import annotations

from typing import Any

from devaipod import podman


def create_argv(name: str, labels: dict[str, str] | None = None,
                internal: bool = False) -> list[str]:
    """``internal``: a network with no route out of it (its members reach each other)."""
    return ["network", "create", *(["--internal"] if internal else []),
            *podman.label_args(labels or {}), name]


def ls_argv(filters: dict[str, str | list[str]] | None = None) -> list[str]:
    return ["network", "ls", "--format", "json", *podman.filter_args(filters or {})]


def exists_argv(name: str) -> list[str]:
    return ["network", "exists", name]


def inspect_argv(name: str) -> list[str]:
    return ["network", "inspect", name]


def rm_argv(name: str, force: bool = False) -> list[str]:
    return ["network", "rm", *(["--force"] if force else []), name]


def create(name: str, labels: dict[str, str] | None = None, internal: bool = False) -> None:
    podman.change(create_argv(name, labels, internal))


def ls(filters: dict[str, str | list[str]] | None = None) -> list[dict[str, Any]]:
    return podman.json(ls_argv(filters)) or []


def exists(name: str, dry_assume: bool | None = None) -> bool:
    return podman.exists(exists_argv(name), dry_assume)


def inspect(name: str) -> dict[str, Any]:
    data = podman.json(inspect_argv(name))
    return data[0] if isinstance(data, list) else data


def rm(name: str, force: bool = False) -> None:
    podman.change(rm_argv(name, force))
