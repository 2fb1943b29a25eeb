"""[limits]: the agent's and the worker's resources, from the config and the flags to
podman's argv, the label a rebuild keeps, and what list/status/debug show (an agent the
kernel killed at its memory limit is "oom")."""

from __future__ import annotations

import json

import pytest

from devaipod import layout
from devaipod.config import parse_config
from devaipod.errors import DevaipodError
from devaipod.podman.container import Limits, Spec, create_argv, size_text
from devaipod.workspace import diagnose, lookup, rebuild
from devaipod.workspace.inputs import limits
from devaipod.workspace.request import Request


def test_flags():
    assert Limits().flags() == []
    assert Limits(cpus=1.5, memory=512 * 1024**2, pids=64).flags() == [
        "--cpus", "1.5", "--memory", "512m", "--memory-swap", "512m", "--pids-limit", "64"]
    assert Limits(pids=0).flags() == ["--pids-limit", "-1"]  # 0: no limit
    argv = create_argv(Spec(name="a", image="i", resources=Limits(cpus=2).flags(),
                            command=["sleep"]))
    assert argv[argv.index("--cpus") + 1] == "2" and argv[-2:] == ["i", "sleep"]


@pytest.mark.parametrize(("size", "text"), [(4 * 1024**3, "4g"), (1536 * 1024, "1536k"),
                                            (1000, "1000b"), (3 * 1024**2, "3m")])
def test_size_text(size, text):
    assert size_text(size) == text


def test_the_label_round_trips_through_a_rebuild():
    lim = Limits(cpus=2.0, memory=4 * 1024**3, pids=100)
    assert lim.text() == "cpus=2 memory=4g pids=100"
    options = rebuild.limit_options(lim.text())
    assert options == {"cpus": 2.0, "memory": "4g", "pids_limit": 100}
    assert limits(Request("x", **options), parse_config("", "f")) == lim
    assert rebuild.limit_options(None) == {"cpus": None, "memory": None, "pids_limit": None}


def test_config_and_flags():
    cfg = parse_config('[limits]\ncpus = 2\nmemory = "4g"\n', "f")
    assert cfg.limits.memory == 4 * 1024**3 and cfg.limits.pids == layout.PIDS_LIMIT
    assert limits(Request("x"), cfg) == Limits(cpus=2.0, memory=4 * 1024**3, pids=4096)
    assert limits(Request("x", memory="512m", pids_limit=0, cpus=0.5), cfg) == Limits(
        cpus=0.5, memory=512 * 1024**2, pids=0)
    assert limits(Request("x"), parse_config("", "f")) == Limits(pids=4096)  # the default
    with pytest.raises(DevaipodError) as info:
        limits(Request("x", memory="lots"), cfg)
    assert "--memory" in info.value.format_message()
    with pytest.raises(DevaipodError, match=r"limits\.memory"):
        parse_config('[limits]\nmemory = "4 gigs"\n', "f")
    with pytest.raises(DevaipodError, match=r"limits\.cpus"):
        parse_config("[limits]\ncpus = 0\n", "f")


def test_plan_limits_the_agent_and_the_worker_only():
    from devaipod.workspace import plan
    from unit.test_plan_golden import github_gator_worker

    case = github_gator_worker()
    p = plan.build(case.inputs, "pw", "tok")
    by_role = {s.labels.get(layout.ROLE): s for s in p.containers}
    wanted = case.inputs.limits.flags()
    assert wanted and by_role["agent"].resources == wanted
    assert by_role["worker"].resources == wanted
    assert by_role["workspace"].resources == [] and by_role["api"].resources == []
    assert layout.read_label(p.labels, "limits") == case.inputs.limits.text()


def row(containers: dict[str, str]) -> lookup.Row:
    return lookup.Row(name="devaipod-w", short="w", status="Degraded", mode="up", repo="r",
                      source="s", task="", title="", created="", done=False,
                      containers=containers, labels={})


def test_an_agent_killed_at_its_memory_limit_is_oom(fp, podman_cmd):
    fp.allow_unregistered(False)
    inspected = [{"Name": "devaipod-w-agent", "State": {"Status": "exited", "OOMKilled": True}},
                 {"Name": "devaipod-w-worker", "State": {"Status": "exited",
                                                          "OOMKilled": False}}]
    fp.register(podman_cmd("container", "inspect", "devaipod-w-agent", "devaipod-w-worker"),
                stdout=json.dumps(inspected))
    r = row({"agent": "exited", "worker": "exited", "api": "running", "workspace": "exited"})
    lookup.mark_oom([r])
    assert r.containers == {"agent": "oom", "worker": "exited", "api": "running",
                            "workspace": "exited"}
    assert r.with_agent({"state": "error"}).agent == "oom"


def test_no_podman_call_when_nothing_stopped(fp):
    fp.allow_unregistered(False)
    r = row({"agent": "running", "api": "running"})
    lookup.mark_oom([r])
    assert r.with_agent({"state": "idle"}).agent == "idle"


def test_debug_shows_podmans_limits():
    assert diagnose.limits({"NanoCpus": 1500000000, "Memory": 536870912,
                            "PidsLimit": 64}) == "cpus=1.5 memory=512m pids=64"
    assert diagnose.limits({"CpuQuota": 200000, "CpuPeriod": 100000}) == "cpus=2"
    assert diagnose.limits({}) == ""


def test_oom_kills_are_read_from_either_cgroup_version():
    from devaipod.workspace.status import parse_oom_kills

    v1 = "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n"
    v2 = "low 0\nhigh 0\nmax 12\noom 2\noom_kill 2\noom_group_kill 0\n"
    assert (parse_oom_kills(v1), parse_oom_kills(v2), parse_oom_kills("")) == (3, 2, None)
    assert parse_oom_kills("oom_kill lots\n") is None
