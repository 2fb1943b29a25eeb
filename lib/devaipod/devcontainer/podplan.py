"""What a devcontainer.json changes in the pod's plan (pure)."""

from __future__ import annotations

import json
import shlex
from typing import TYPE_CHECKING

from devaipod.devcontainer import args
from devaipod.podman.secret import env_flag

if TYPE_CHECKING:
    from devaipod.devcontainer.model import DevContainer

CREATE = ("onCreateCommand", "updateContentCommand", "postCreateCommand")
START = ("postStartCommand",)


def security(dc: DevContainer | None, nested: bool) -> list[str]:
    """The workspace's (and the agent's) capabilities, devices and security options."""
    if dc is None:
        return list(args.NESTED_ARGS) if nested else []
    return args.security_args(dc, nested=nested)[0]


def workspace_env(dc: DevContainer | None) -> dict[str, str]:
    if dc is None:
        return {}
    merged = {**dc.container_env, **dc.remote_env}
    return {k: v for k, v in merged.items() if v is not None}


def mounts(dc: DevContainer | None) -> list[str]:
    return [a for spec in (dc.mount_specs() if dc else []) for a in ("--mount", spec)]


def publish(dc: DevContainer | None, address: str) -> list[str]:
    return dc.publish_specs(address) if dc else []


def secret_flags(dc: DevContainer | None) -> list[list[str]]:
    """devcontainer ``secrets``: podman secrets of those names, as variables of that name."""
    return [env_flag(name, name) for name in sorted(dc.secrets)] if dc else []


def batches(dc: DevContainer | None, keys: tuple[str, ...]
            ) -> list[tuple[str, bool, list[tuple[str, list[str]]]]]:
    """(key, parallel, [(label, argv)]) of the lifecycle commands ``keys``, in order; the
    entries of an object-form command run in parallel."""
    out: list[tuple[str, bool, list[tuple[str, list[str]]]]] = []
    if dc is None:
        return out
    for key in keys:
        lc = dc.lifecycle(key)
        # an object form's commands are named "<key> <name>"; the one command of the
        # string or array form is named after its key alone
        entries = [(f"{key} {entry.name}" if lc.parallel else key,
                    args.command_argv(entry)) for entry in lc.commands]
        if entries:
            out.append((key, lc.parallel, entries))
    return out


def commands(dc: DevContainer | None, keys: tuple[str, ...]) -> list[tuple[str, list[str]]]:
    """(label, argv) of the lifecycle commands ``keys``, in order."""
    return [entry for _key, _parallel, entries in batches(dc, keys) for entry in entries]


def parallel(label_entries: list[tuple[str, list[str]]]) -> bool:
    """Whether stored (label, argv) entries came from an object-form command (named ones)."""
    return any(" " in label for label, _argv in label_entries)


def start_label(dc: DevContainer | None) -> str | None:
    """postStartCommand as a label, so that `devaipod start` can run it again."""
    found = commands(dc, START)
    return json.dumps(found) if found else None


def describe(label: str, argv: list[str]) -> str:
    return f"{label}: {shlex.join(argv)[:120]}"
