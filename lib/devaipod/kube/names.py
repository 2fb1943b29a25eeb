"""Kubernetes names and labels for devaipod's podman names and labels, in one place.

Object and volume names must be DNS-1123 labels (``[a-z0-9-]``, at most 63 characters,
alphanumeric at both ends); a podman name that does not fit (``_`` and ``.`` are allowed
there, and it may be longer) is mapped by ``name()``: lower case, every other character a
``-``, cut to fit, and a hash of the original appended, so that two podman names never
map to one. Label values must be at most 63 characters of
``[A-Za-z0-9._-]``, alphanumeric at both ends: a podman label whose value does not fit (a
URL, a task, a time) becomes an annotation of the same key instead (``labels()``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

MAX = 63
_BAD = re.compile(r"[^a-z0-9-]+")
_VALUE = re.compile(r"^([A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?)?$")


def name(text: str, limit: int = MAX) -> str:
    """TEXT as a DNS-1123 label of at most LIMIT characters (itself when it is one)."""
    out = _BAD.sub("-", text.lower()).strip("-") or "x"
    if out == text and len(out) <= limit:
        return out
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    return f"{out[:limit - len(digest) - 1].rstrip('-')}-{digest}"


def text(value: str) -> str:
    """VALUE, a multi-line one without its leading blank space: podman 4.3.1's kube play
    refuses a stream with a multi-line string whose first line is empty or starts with a
    space (it re-reads its own YAML with another parser), however it is quoted. Leading
    blank lines and indentation mean nothing to a shell script or to a task's text."""
    return value.lstrip() if "\n" in value else value


def label_value_ok(value: str) -> bool:
    return len(value) <= MAX and bool(_VALUE.match(value))


def labels(podman_labels: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """(labels, annotations) of PODMAN_LABELS: each key kept, its value a label's where it
    may be one, else an annotation's."""
    keep = {k: v for k, v in podman_labels.items() if label_value_ok(v)}
    return keep, {k: text(v) for k, v in podman_labels.items() if k not in keep}


def metadata(object_name: str, podman_labels: Mapping[str, str],
             namespace: str | None = None) -> dict:
    """An object's metadata: its name, namespace and the podman labels (see ``labels``)."""
    kept, notes = labels(podman_labels)
    meta: dict = {"name": object_name}
    if namespace:
        meta["namespace"] = namespace
    meta["labels"] = kept
    if notes:
        meta["annotations"] = notes
    return meta
