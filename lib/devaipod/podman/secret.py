"""podman secret: argv builders and thin wrappers.

A secret's value only ever travels on stdin (``podman secret create NAME -``),
never on a command line.
"""

from __future__ import annotations

from typing import Any

from devaipod import podman


def create_argv(name: str, labels: dict[str, str] | None = None) -> list[str]:
    return ["secret", "create", *podman.label_args(labels or {}), name, "-"]


def inspect_argv(names: list[str]) -> list[str]:
    return ["secret", "inspect", *names]


def ls_argv() -> list[str]:
    # podman 4.3 prints the word "json" for `--format json` and ignores label
    # filters, so list IDs and inspect them.
    return ["secret", "ls", "--quiet"]


def rm_argv(names: list[str]) -> list[str]:
    return ["secret", "rm", *names]


def env_flag(name: str, target: str) -> list[str]:
    """``podman create`` flags that expose secret NAME as env var TARGET."""
    return ["--secret", f"{name},type=env,target={target}"]


def file_flag(name: str) -> list[str]:
    """``podman create`` flags that mount secret NAME at /run/secrets/NAME."""
    return ["--secret", name]


def create(name: str, value: str, labels: dict[str, str] | None = None) -> None:
    podman.change(create_argv(name, labels), input=value)


def exists(name: str) -> bool:
    # podman 4.3 has no `secret exists`; `secret inspect` exits 125 when missing
    result = podman.capture(inspect_argv([name]), check=False)
    return result.returncode == 0


def ls() -> list[dict[str, Any]]:
    """Every secret, as `podman secret inspect` shows it (two podman calls)."""
    ids = podman.capture(ls_argv()).stdout.split()
    return inspect(ids) if ids else []


def labels_of(info: dict[str, Any]) -> dict[str, str]:
    return (info.get("Spec") or {}).get("Labels") or {}


def name_of(info: dict[str, Any]) -> str:
    return (info.get("Spec") or {}).get("Name", "")


def inspect(names: list[str]) -> list[dict[str, Any]]:
    return podman.json(inspect_argv(names)) or []


def rm(names: list[str]) -> None:
    if names:
        podman.change(rm_argv(names))
