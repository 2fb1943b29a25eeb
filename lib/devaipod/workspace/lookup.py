"""Find workspaces: list them (a fixed number of podman calls), resolve a name."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from devaipod import errors, layout
from devaipod.podman import pod, volume


@dataclass
class Row:
    name: str
    short: str
    status: str
    mode: str
    repo: str
    source: str
    task: str
    title: str
    created: str
    done: bool
    containers: dict[str, str]
    labels: dict[str, str]
    agent: str = ""  # starting, working, idle, error, stopped, done
    last_message: str = ""
    last_activity: str | None = None
    agent_tool: str | None = None  # what the agent is doing now: the tool it runs,
    agent_status: str = ""  # a status line (running bash: make test, idle ...)
    agent_lines: list[str] = field(default_factory=list)  # and its output's last lines

    def with_agent(self, summary: dict) -> Row:
        self.agent = "done" if self.done else summary.get("state", "")
        self.last_message = summary.get("message", "")
        self.last_activity = summary.get("last_activity")
        self.agent_tool = summary.get("tool")
        self.agent_status = summary.get("status", "")
        self.agent_lines = summary.get("lines", [])
        return self

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def pods() -> list[dict[str, Any]]:
    """This instance's pods as `podman pod ps` reports them, newest first."""
    found = [p for p in pod.ps(layout.instance_filter()) if layout.in_instance(p.get("Labels"))]
    return sorted(found, key=lambda p: p.get("Created", ""), reverse=True)


def marks() -> dict[str, dict[str, str]]:
    """pod -> its marks ({"done": TIME, "title": TEXT}), from one `podman volume ls`."""
    found: dict[str, dict[str, str]] = {}
    # podman 4.3 ORs repeated label filters on volumes: filter here
    for v in volume.ls({"label": layout.MARK}):
        lb = v.get("Labels") or {}
        kind = lb.get(layout.MARK, "")
        if layout.in_instance(lb) and kind in ("done", "title"):
            value = lb.get(f"{layout.LABEL}.{kind}", "")
            found.setdefault(lb.get(layout.POD, ""), {})[kind] = value
    return found


def _label(labels: dict[str, str], key: str) -> str:
    return layout.read_label(labels, key) or ""


def row(info: dict[str, Any], marked: dict[str, dict[str, str]]) -> Row:
    labels = info.get("Labels") or {}
    prefix = info["Name"] + "-"
    containers = {
        c["Names"].removeprefix(prefix): c.get("Status", "")
        for c in info.get("Containers") or []
        if c.get("Names", "").startswith(prefix)
    }
    return Row(
        name=info["Name"], short=layout.short(info["Name"]), status=info.get("Status", ""),
        mode=_label(labels, "mode"), repo=_label(labels, "repo"),
        source=_label(labels, "source"), task=_label(labels, "task"),
        title=marked.get(info["Name"], {}).get("title") or _label(labels, "title"),
        created=_label(labels, "created"),
        done="done" in marked.get(info["Name"], {}), containers=containers, labels=labels,
    )


def rows(agent: bool = False) -> list[Row]:
    """Every workspace of this instance: two podman calls however many there are
    (three with the agents' states, which come over HTTP from each pod's sidecar: asked
    for as soon as the third call names the sidecars, while the other two still run)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:  # the look-ups do not depend on each other
        infos_f, done_f = pool.submit(pods), pool.submit(marks)
        asking = None
        if agent:
            from devaipod.agent import state

            asking = state.ask()
        found = [row(info, done_f.result()) for info in infos_f.result()]
    if asking is not None:
        states = asking.result([r.name for r in found])
        found = [r.with_agent(states[r.name]) for r in found]
    return found


def resolve(name: str | None, latest: bool = False) -> str:
    """A workspace name (short or full) or --latest -> the full pod name."""
    infos = pods()
    existing = [p["Name"] for p in infos]
    if latest or not name:
        if not existing:
            raise errors.DevaipodError("there is no workspace", "create one with 'devaipod up URL'")
        if not latest:
            raise errors.DevaipodError("no workspace given", "name one, or pass --latest")
        return existing[0]
    full = layout.normalize(name)
    if full in existing:
        return full
    raise not_found(name, existing)


def not_found(name: str, existing: list[str]) -> errors.DevaipodError:
    import difflib  # imported here: `devaipod list` does without it

    shorts = [layout.short(e) for e in existing]
    close = difflib.get_close_matches(layout.short(layout.normalize(name)), shorts, n=3)
    hint = (f"did you mean {', '.join(close)}?" if close
            else "'devaipod list' shows the workspaces")
    return errors.DevaipodError(f"no workspace named '{name}'", hint)
