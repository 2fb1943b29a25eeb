"""podman, always as ``podman --remote --url URL``.

Each noun module (pod, container, volume, secret, image, network) holds pure
``*_argv`` builders that return the podman arguments as a list, and thin
wrappers that run them through this module.
"""

from __future__ import annotations

import json as _json
from typing import Any

from devaipod import errors, runner
from devaipod.podman import connection


def argv(args: list[str]) -> list[str]:
    """The full command line for podman arguments ``args``."""
    return ["podman", "--remote", "--url", connection.url(), *args]


def capture(args: list[str], **kwargs: Any) -> runner.Result:
    return runner.capture(argv(args), **kwargs)


def change(args: list[str], **kwargs: Any) -> runner.Result:
    """Run a podman command that changes something (printed under --dry-run)."""
    return runner.capture(argv(args), mutating=True, **kwargs)


def stream(args: list[str], **kwargs: Any) -> int:
    return runner.stream(argv(args), **kwargs)


def replace(args: list[str]):
    return runner.replace(argv(args))


def json(args: list[str], **kwargs: Any) -> Any:
    """Run a read-only podman command whose stdout is JSON."""
    out = capture(args, **kwargs).stdout.strip()
    if not out:
        return None
    return _json.loads(out)


def json_present(args: list[str], **kwargs: Any) -> list[Any]:
    """Run a ``podman NOUN inspect A B ...`` of objects just listed: the ones still there.
    One that went meanwhile (another devaipod removed it) is left out: podman prints the
    others and fails with "no such" for it."""
    result = capture(args, check=False, **kwargs)
    if not result.ok:
        error = errors.classify(result.argv, result.returncode, result.stderr)
        if not isinstance(error, errors.NotFound):
            raise error
    return _json.loads(result.stdout.strip() or "[]")


def exists(args: list[str], dry_assume: bool | None = None) -> bool:
    """Run a ``podman NOUN exists`` command: exit 0 is yes, 1 is no. ``dry_assume``: the
    answer a dry run takes when podman cannot be reached (see runner.capture)."""
    assume = None if dry_assume is None else (0 if dry_assume else 1)
    result = capture(args, check=False, dry_assume=assume)
    if result.returncode in (0, 1):
        return result.returncode == 0
    raise errors.classify(argv(args), result.returncode, result.stderr)


def label_args(labels: dict[str, str]) -> list[str]:
    out: list[str] = []
    for key, value in labels.items():
        out += ["--label", f"{key}={value}"]
    return out


def filter_args(filters: dict[str, str | list[str]]) -> list[str]:
    out: list[str] = []
    for key, value in filters.items():
        for v in [value] if isinstance(value, str) else value:
            out += ["--filter", f"{key}={v}"]
    return out
