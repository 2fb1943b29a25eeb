"""podman image: argv builders and thin wrappers."""

from __future__ import annotations

import json
from typing import Any

from devaipod import podman


def exists_argv(ref: str) -> list[str]:
    return ["image", "exists", ref]


def inspect_argv(ref: str) -> list[str]:
    return ["image", "inspect", ref]


def build_argv(
    tag: str,
    context: str,
    containerfile: str | None = None,
    build_args: dict[str, str] | None = None,
    target: str | None = None,
    labels: dict[str, str] | None = None,
) -> list[str]:
    args = ["build", "--pull=never", "--tag", tag]
    if containerfile:
        args += ["--file", containerfile]
    for key, value in (build_args or {}).items():
        args += ["--build-arg", f"{key}={value}"]
    if target:
        args += ["--target", target]
    args += podman.label_args(labels or {})
    return [*args, context]


def tag_argv(ref: str, new: str) -> list[str]:
    return ["tag", ref, new]


def rm_argv(refs: list[str], force: bool = False) -> list[str]:
    return ["image", "rm", *(["--force"] if force else []), *refs]


def exists(ref: str, dry_assume: bool | None = None) -> bool:
    return podman.exists(exists_argv(ref), dry_assume)


def inspect(ref: str) -> dict[str, Any]:
    data = podman.json(inspect_argv(ref))
    return data[0] if isinstance(data, list) else data


def labels(ref: str) -> dict[str, str]:
    """The image's labels; under --dry-run, of an image the plan would build: none."""
    out = podman.capture(inspect_argv(ref), planned="[{}]").stdout
    data = json.loads(out or "[{}]")
    first = data[0] if isinstance(data, list) and data else {}
    return ((first.get("Config") or {}).get("Labels") or {}) if isinstance(first, dict) else {}


def rm(refs: list[str], force: bool = False) -> None:
    podman.change(rm_argv(refs, force))
