"""The record of a workspace's reviews, on the trusted side: devaipod's state directory
(``reviews/<pod>.json``, the owner's alone), never a volume the agent mounts.

``open``: the rounds of comments sent to the agent since the last merge (each
``{time, base, head, comments}``, ``head`` the commit the human commented on); ``merged``:
the merged reviews, oldest first (each ``{time, base, head, merged, comments}``: the
range reviewed, the workspace's HEAD after the merge, and every comment sent on the way).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from devaipod import state

KEEP_MERGED = 50


def path(pod: str) -> Path:
    return state.state_dir() / "reviews" / f"{pod}.json"


def read(pod: str) -> dict:
    """The record ({"open": [...], "merged": [...]}; empty lists when there is none)."""
    try:
        data = json.loads(path(pod).read_text())
    except (FileNotFoundError, ValueError):
        data = {}
    if not isinstance(data, dict):
        data = {}
    return {"open": list(data.get("open") or []), "merged": list(data.get("merged") or [])}


def forget(pod: str) -> None:
    """The record goes with its workspace (a new one of the same name starts afresh)."""
    path(pod).unlink(missing_ok=True)


def write(pod: str, data: dict) -> None:
    state.write_private(path(pod), json.dumps(data, indent=1))


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def add_round(pod: str, base: str, head: str, comments: list[dict]) -> dict:
    """Record comments sent on the range BASE..HEAD; returns the round."""
    data = read(pod)
    entry = {"time": now(), "base": base, "head": head, "comments": comments}
    data["open"].append(entry)
    write(pod, data)
    return entry


def add_merge(pod: str, base: str, head: str, merged: str) -> dict:
    """Record the merge of BASE..HEAD (the workspace now at MERGED) with the comments sent
    since the last one; the open rounds close."""
    data = read(pod)
    comments = [c | {"head": r.get("head")} for r in data["open"]
                for c in r.get("comments") or []]
    entry = {"time": now(), "base": base, "head": head, "merged": merged,
             "comments": comments}
    data["merged"] = [*data["merged"], entry][-KEEP_MERGED:]
    data["open"] = []
    write(pod, data)
    return entry


def close_open(pod: str) -> None:
    """Forget the open rounds (the agent's branch was reset: they are moot)."""
    data = read(pod)
    if data["open"]:
        data["open"] = []
        write(pod, data)
