"""create.execute's lanes: the init containers run while the pod and its containers are
made; a failure in one lane lets the other finish before everything is removed."""

from __future__ import annotations

import threading

import pytest

from devaipod import errors, runner
from devaipod.podman.container import Spec
from devaipod.workspace import create, inputs
from devaipod.workspace.plan import Plan

POD = "devaipod-lanes"


def a_plan() -> Plan:
    ws, agent = f"{POD}-workspace", f"{POD}-agent-workspace"
    return Plan(pod=POD, project="p", labels={}, volumes=[ws, agent],
                secrets={f"{POD}-a": "1", f"{POD}-b": "2"},
                init=[Spec(f"{POD}-init-clone", "img", mounts=[f"{ws}:/workspaces"]),
                      Spec(f"{POD}-init-agent", "img", mounts=[f"{ws}:/m:ro",
                                                              f"{agent}:/workspaces"])],
                pod_create={}, containers=[Spec(f"{POD}-workspace", "img"),
                                           Spec(f"{POD}-agent", "img")])


class Podman:
    """Records what execute does; the clone fails when FAIL says so. The clone waits
    until the pod lane has made its containers: both lanes run at the same time."""

    def __init__(self, monkeypatch, fail: bool = False) -> None:
        self.done: list[str] = []
        self.fail = fail
        self.containers_made = threading.Event()
        self.lock = threading.Lock()
        m = monkeypatch
        m.setattr(create.secret, "create", lambda name, value, labels: self.did(name))
        m.setattr(create.volume, "create", lambda name, labels: self.did(name))
        m.setattr(create.pod, "create", lambda name, **kw: self.did(f"pod {name}"))
        m.setattr(create.pod, "start", lambda name: self.did(f"start {name}"))
        m.setattr(create.container, "create", self.create)
        m.setattr(create.container, "run", self.run)
        m.setattr(create.container, "rm", lambda names, force, ignore:
                  self.did(f"rm {' '.join(names)}"))
        m.setattr(create.remove, "purge", lambda pod, keep, pod_kept, names:
                  self.did(f"purge {pod}"))

    def did(self, what: str) -> None:
        with self.lock:
            self.done.append(what)

    def create(self, spec: Spec) -> None:
        self.did(spec.name)
        if spec.name.endswith("-agent"):
            self.containers_made.set()

    def run(self, spec: Spec, check: bool = False) -> runner.Result:
        if spec.name.endswith("init-clone"):
            assert self.containers_made.wait(10), "the pod lane did not run meanwhile"
            if self.fail:
                return runner.Result(["podman", "run"], 1, "", "fatal: no such repo")
        self.did(spec.name)
        return runner.Result(["podman", "run"], 0, "", "")


def test_the_inits_run_while_the_pod_is_made(monkeypatch):
    podman = Podman(monkeypatch)
    create.execute(a_plan())
    assert set(podman.done) == {f"{POD}-a", f"{POD}-b", f"{POD}-workspace",
                                f"{POD}-agent-workspace", f"{POD}-init-clone",
                                f"{POD}-init-agent", f"pod {POD}", f"{POD}-agent",
                                f"start {POD}"}
    assert podman.done.index(f"{POD}-init-clone") < podman.done.index(f"{POD}-init-agent")
    assert podman.done[-1] == f"start {POD}"


def test_a_failed_clone_removes_all_once_the_pod_lane_is_done(monkeypatch):
    podman = Podman(monkeypatch, fail=True)
    with pytest.raises(errors.DevaipodError, match="no such repo"):
        create.execute(a_plan())
    assert podman.done[-1] == f"purge {POD}"  # after the containers the other lane made
    assert f"{POD}-agent" in podman.done
    assert f"rm {POD}-init-agent" in podman.done  # it waited for the clone: stopped
    assert f"start {POD}" not in podman.done


def test_the_agents_clone_waits_for_the_workspaces(monkeypatch):
    """Both start at once: the agent's script is told to wait for the workspace's."""
    podman = Podman(monkeypatch)
    seen = {}
    run = podman.run
    monkeypatch.setattr(create.container, "run",
                        lambda spec, check=False: (seen.setdefault(spec.name, spec.command),
                                                   run(spec, check))[1])
    plan = a_plan()
    plan.init[1].command = ["sh", "-c", "script", "sh", "project"]
    create.execute(plan)
    assert seen[f"{POD}-init-agent"] == ["sh", "-c", "script", "sh", "project", "wait"]
    assert plan.init[1].command[-1] == "project"  # the plan itself is unchanged


def test_at_once_returns_in_order_and_raises_the_first_error():
    assert inputs.at_once(lambda: 1, lambda: 2) == [1, 2]
    later = threading.Event()

    def first():
        raise errors.DevaipodError("first")

    def second():
        later.set()
        raise errors.DevaipodError("second")

    with pytest.raises(errors.DevaipodError, match="first"):
        inputs.at_once(first, second)
    assert later.is_set()  # it ran all the same
