"""A workspace's audit trail: one append-only JSON Lines file, written only by trusted parts.

The file is ``audit.jsonl`` in the volume ``{pod}-audit``, which the gator
and the sidecar mount and no agent or worker container does. Each line is one
event::

    {"time": "2026-12-01T17:20:03Z", "kind": "gator", "by": "gator",
     "tool": "github_push", "target": "owner/repo", "decision": "allowed", ...}

``kind`` is one of :data:`KINDS`; ``by`` the component that wrote it. Every
other field is a short string, number, boolean or list of short strings:
what identifies the action, never a token or a request's body. Much of it is
the agent's text (repository names, branch descriptions, refusals that quote
it): a line is JSON with every non-ASCII character escaped, so no newline or
terminal control of the agent's reaches the file raw, and a line is written
in one ``write`` so writers never interleave.

This module is pure (no podman): the gator writes with :func:`append`, the
control plane's ``workspace.audit`` reads the file through podman.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Iterator
from typing import Any

DIR = "/var/lib/devaipod-audit"
FILE = f"{DIR}/audit.jsonl"
KINDS = ("gator", "push", "egress", "review", "human")
MAX_TEXT = 500  # characters of one field's text
MAX_ITEMS = 200  # entries of one list field (a push's files)
_RESERVED = ("time", "kind", "by")


def _field(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, list | tuple):
        items = [_field(v) for v in value[:MAX_ITEMS]]
        return items + (["..."] if len(value) > MAX_ITEMS else [])
    text = str(value)
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "..."


def event(kind: str, by: str, now: float | None = None, **fields: Any) -> dict[str, Any]:
    """One event of KIND written by BY; FIELDS clipped to short text (None dropped)."""
    if kind not in KINDS:
        raise ValueError(f"unknown audit event kind {kind!r}")
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
    out: dict[str, Any] = {"time": stamp, "kind": kind, "by": by}
    for key, value in fields.items():
        if key not in _RESERVED and value is not None:
            out[key] = _field(value)
    return out


def line(ev: dict[str, Any]) -> str:
    """EV as one line of the file (ASCII JSON: no raw newline, control or bidi character)."""
    return json.dumps(ev, ensure_ascii=True, separators=(",", ":"), sort_keys=False) + "\n"


def append(ev: dict[str, Any], path: str = FILE) -> None:
    """Add EV to the file at PATH in one write (O_APPEND: writers never interleave)."""
    data = line(ev).encode("ascii")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def parse_line(text: str) -> dict[str, Any] | None:
    """One line of the file as an event, or None when it is not one (blank, cut short)."""
    text = text.strip()
    if not text:
        return None
    try:
        ev = json.loads(text)
    except ValueError:
        return None
    if not isinstance(ev, dict) or not isinstance(ev.get("time"), str) \
            or ev.get("kind") not in KINDS or not isinstance(ev.get("by"), str):
        return None
    return {str(k): _field(v) for k, v in ev.items()}


def parse(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    for text in lines:
        ev = parse_line(text)
        if ev is not None:
            yield ev


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(_text(v) for v in value)
    return json.dumps(value) if not isinstance(value, str) else value


def render(ev: dict[str, Any]) -> str:
    """EV as one line for a terminal: time, kind, who, then key=value (escaped)."""
    from devaipod.printable import printable

    rest = " ".join(f"{k}={_text(v)}" for k, v in ev.items() if k not in _RESERVED)
    return printable(f"{ev['time']} {ev['kind']:<6} {ev['by']:<13} {rest}".rstrip()
                     .replace("\n", "\\n").replace("\t", " "))
