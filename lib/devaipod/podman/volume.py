"""podman volume: argv builders and thin wrappers."""

from __future__ import annotations

from typing import Any

from devaipod import podman


def create_argv(name: str, labels: dict[str, str] | None = None) -> list[str]:
    return ["volume", "create", *podman.label_args(labels or {}), name]


def exists_argv(name: str) -> list[str]:
    return ["volume", "exists", name]


def inspect_argv(name: str) -> list[str]:
    return ["volume", "inspect", name]


def ls_argv(filters: dict[str, str | list[str]] | None = None) -> list[str]:
    return ["volume", "ls", "--format", "json", *podman.filter_args(filters or {})]


def rm_argv(names: list[str], force: bool = False) -> list[str]:
    return ["volume", "rm", *(["--force"] if force else []), *names]


def create(name: str, labels: dict[str, str] | None = None) -> None:
    podman.change(create_argv(name, labels))


def exists(name: str) -> bool:
    return podman.exists(exists_argv(name))


def inspect(name: str) -> dict[str, Any]:
    data = podman.json(inspect_argv(name))
    return data[0] if isinstance(data, list) else data


def ls(filters: dict[str, str | list[str]] | None = None) -> list[dict[str, Any]]:
    return podman.json(ls_argv(filters)) or []


def rm(names: list[str], force: bool = False) -> None:
    if names:
        podman.change(rm_argv(names, force))
