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
                pod_create={}, containers=[
                    Spec(f"{POD}-workspace", "img", labels={"io.devaipod.role": "workspace"}),
                    Spec(f"{POD}-agent", "img", labels={"io.devaipod.role": "agent"})])


class Podman:
    """Records what execute does; the clone fails when FAIL says so. The clone waits
    until the pod lane has made its containers: both lanes run at the same time."""

    def __init__(self, monkeypatch, fail: bool = False, gator: bool = False) -> None:
        self.done: list[str] = []
        self.fail = fail
        self.gator = gator  # the plan has the gator's init: the clone waits for it a while
        self.containers_made = threading.Event()
        self.cloned = threading.Event()
        self.gator_started = threading.Event()
        self.gator_meanwhile = False  # the gator's init ran while the clone did
        self.lock = threading.Lock()
        m = monkeypatch
        m.setattr(create.secret, "create", lambda name, value, labels: self.did(name))
        m.setattr(create.volume, "create", lambda name, labels: self.did(name))
        m.setattr(create.pod, "create", lambda name, **kw: self.did(f"pod {name}"))
        m.setattr(create.pod, "start", lambda name: self.did(f"start {name}"))
        m.setattr(create.container, "create", self.create)
        m.setattr(create.container, "start", lambda names: self.did(f"start {' '.join(names)}"))
        m.setattr(create.container, "run", self.run)
        m.setattr(create.container, "rm", self.rm)
        m.setattr(create.remove, "purge", lambda pod, keep, pod_kept, names:
                  self.did(f"purge {pod}"))

    def did(self, what: str) -> None:
        with self.lock:
            self.done.append(what)

    def rm(self, names: list[str], force: bool, ignore: bool) -> None:
        self.did(f"rm {' '.join(names)}")
        self.cloned.set()  # the waiting init container is gone: its run returns

    def create(self, spec: Spec) -> None:
        self.did(spec.name)
        if spec.name.endswith("-agent"):
            self.containers_made.set()

    def run(self, spec: Spec, check: bool = False) -> runner.Result:
        if spec.name.endswith("init-gator"):
            self.gator_started.set()
        if spec.name.endswith("init-clone"):
            assert self.containers_made.wait(10), "the pod lane did not run meanwhile"
            self.gator_meanwhile = self.gator and self.gator_started.wait(10)
            if self.fail:
                return runner.Result(["podman", "run"], 1, "", "fatal: no such repo")
        if spec.name.endswith("init-agent"):  # its script waits for the workspace's clone
            self.cloned.wait(10)
        self.did(spec.name)
        if spec.name.endswith("init-clone"):
            self.cloned.set()
        return runner.Result(["podman", "run"], 0, "", "")


def test_the_inits_run_while_the_pod_is_made(monkeypatch):
    podman = Podman(monkeypatch)
    create.execute(a_plan())
    assert set(podman.done) == {f"{POD}-a", f"{POD}-b", f"{POD}-workspace",
                                f"{POD}-agent-workspace", f"{POD}-init-clone",
                                f"{POD}-init-agent", f"pod {POD}", f"{POD}-agent",
                                f"start {POD}", f"start {POD}-agent"}
    assert podman.done.index(f"{POD}-init-clone") < podman.done.index(f"{POD}-init-agent")
    # the pod's infra starts as soon as the pod is made, before its containers are
    made = podman.done.index(f"pod {POD}")
    assert podman.done[made:].index(f"start {POD}") < podman.done[made:].index(f"{POD}-agent")
    # the agent's container is made while the trees are, and started alone once both
    # are there; the other containers are made meanwhile, then the pod's start
    assert podman.done[-3:] == [f"start {POD}-agent", f"{POD}-workspace", f"start {POD}"]
    assert podman.done.index(f"{POD}-init-agent") < podman.done.index(f"start {POD}-agent")


def test_the_gators_grants_are_written_while_the_trees_are_cloned(monkeypatch):
    podman = Podman(monkeypatch, gator=True)
    plan = a_plan()
    plan.volumes.append(f"{POD}-gator")
    plan.init.append(Spec(f"{POD}-init-gator", "img", mounts=[f"{POD}-gator:/g"]))
    plan.containers.append(Spec(f"{POD}-gator", "img", labels={"io.devaipod.role": "gator"}))
    create.execute(plan)
    assert podman.gator_meanwhile
    # the gator is made with the agent and started with it
    assert podman.done[-3:] == [f"start {POD}-agent {POD}-gator", f"{POD}-workspace",
                                f"start {POD}"]


def test_a_failed_clone_removes_all_once_the_pod_lane_is_done(monkeypatch):
    podman = Podman(monkeypatch, fail=True)
    with pytest.raises(errors.DevaipodError, match="no such repo"):
        create.execute(a_plan())
    assert podman.done[-1] == f"purge {POD}"  # after the containers the other lane made
    assert f"{POD}-agent" in podman.done
    assert f"rm {POD}-init-agent" in podman.done  # it waited for the clone: stopped
    assert f"start {POD}-agent" not in podman.done
    assert podman.done.count(f"start {POD}") == 1  # only the infra, before the failure


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
