"""Workspace lifecycle against real podman: list, status, stop/start, done, prune, delete."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from podfixtures import exec_in, leftovers, run_devaipod

pytestmark = pytest.mark.podman


def nothing_left(svc, pod: str) -> None:
    assert leftovers(svc, pod) == {"pods": [], "containers": [], "volumes": [], "secrets": []}


def test_list_and_status_report_the_workspace(workspace_factory, podman_service, gitserver):
    name = f"{podman_service.instance}-ls"
    workspace_factory(name, "a task")
    rc, out, err = run_devaipod("list", "--json")
    assert rc == 0, err
    rows = {r["short"]: r for r in json.loads(out)}
    assert rows[name]["status"] == "Running"
    assert rows[name]["task"] == "a task"
    assert rows[name]["repo"].endswith("repo")
    rc, out, err = run_devaipod("status", name, "--json")
    assert rc == 0, err
    status = json.loads(out)
    assert status["containers"]["agent"] == "running"
    assert status["api_port"].isdigit()


def test_stop_and_start_keep_both_trees(workspace_factory, podman_service):
    name = f"{podman_service.instance}-stst"
    workspace_factory(name)
    pod = f"devaipod-{name}"
    exec_in(podman_service, f"{pod}-workspace", "sh", "-c", "echo mine > human-file")
    exec_in(podman_service, f"{pod}-agent", "sh", "-c", "echo agent > agent-file")
    assert run_devaipod("stop", name, "-t", "0")[0] == 0
    state = json.loads(run_devaipod("status", name, "--json")[1])
    assert state["status"] in ("Exited", "Stopped")
    assert run_devaipod("start", name)[0] == 0
    assert exec_in(podman_service, f"{pod}-workspace", "cat", "human-file") == "mine"
    assert exec_in(podman_service, f"{pod}-agent", "cat", "agent-file") == "agent"


def test_delete_leaves_nothing(workspace_factory, podman_service):
    name = f"{podman_service.instance}-del"
    workspace_factory(name)
    rc, _out, err = run_devaipod("delete", name)
    assert rc != 0 and "running" in err and "--force" in err
    rc, _out, err = run_devaipod("delete", "--force", name)
    assert rc == 0, err
    nothing_left(podman_service, f"devaipod-{name}")


def test_prune_removes_only_done_workspaces(workspace_factory, podman_service):
    done, busy = (f"{podman_service.instance}-{w}" for w in ("pdone", "pbusy"))
    workspace_factory(done)
    workspace_factory(busy)
    assert run_devaipod("done", done)[0] == 0
    rows = {r["short"]: r for r in json.loads(run_devaipod("list", "--json")[1])}
    assert rows[done]["done"] and not rows[busy]["done"]
    rc, out, err = run_devaipod("prune")
    assert rc == 0, err
    assert out.split() == [f"devaipod-{done}"]
    nothing_left(podman_service, f"devaipod-{done}")
    assert run_devaipod("status", busy)[0] == 0


def test_done_undo(workspace_factory, podman_service):
    name = f"{podman_service.instance}-undo"
    workspace_factory(name)
    run_devaipod("done", name)
    run_devaipod("done", "--undo", name)
    assert json.loads(run_devaipod("status", name, "--json")[1])["done"] is False


def test_five_parallel_ups_give_five_pods(podman_service, gitserver):
    names = [f"{podman_service.instance}-par{i}" for i in range(5)]

    def up(name: str):
        return run_devaipod("up", gitserver.git_url, "--name", name,
                            "--network", gitserver.network)

    try:
        with ThreadPoolExecutor(5) as pool:
            results = list(pool.map(up, names))
        failed = [f"{n}: exit {rc}\n{e}" for n, (rc, _o, e) in zip(names, results, strict=True)
                  if rc]
        assert not failed, "\n".join(failed)  # a str: pytest shows it whole
        rows = {r["short"]: r for r in json.loads(run_devaipod("list", "--json")[1])}
        for name in names:
            assert rows[name]["status"] == "Running"
            readme = exec_in(podman_service, f"devaipod-{name}-agent", "cat", "README.md")
            assert readme == "hello from the test repo"
    finally:
        for name in names:
            run_devaipod("delete", "--force", name)


def test_logs_and_exec(workspace_factory, podman_service):
    name = f"{podman_service.instance}-lx"
    workspace_factory(name)
    rc, out, err = run_devaipod("exec", name, "-W", "--", "git", "remote")
    assert rc == 0, err
    assert out.split() == ["agent", "origin"]
    rc, out, err = run_devaipod("exec", name, "--", "sh", "-c", "echo $HOME; exit 3")
    assert (rc, out.strip()) == (3, "/home/devenv")
    deadline = time.monotonic() + 60  # the agent prints its line ~2 s after start
    while time.monotonic() < deadline:
        rc, out, err = run_devaipod("logs", name, "-c", "agent", "-n", "50")
        assert rc == 0, err
        if "opencode server listening" in out + err:
            break
        time.sleep(1)
    else:
        pytest.fail(f"no listening line in the agent's logs: {out + err!r}")


def test_rebuild_keeps_volumes(workspace_factory, podman_service, images):
    name = f"{podman_service.instance}-rb"
    workspace_factory(name)
    pod = f"devaipod-{name}"
    exec_in(podman_service, f"{pod}-workspace", "sh", "-c", "echo kept > kept.txt")
    old_id = podman_service.podman("inspect", "--format", "{{.Id}}", f"{pod}-agent").stdout
    rc, _out, err = run_devaipod("rebuild", name, "--image", images["devenv"])
    assert rc == 0, err
    new_id = podman_service.podman("inspect", "--format", "{{.Id}}", f"{pod}-agent").stdout
    assert new_id != old_id
    assert exec_in(podman_service, f"{pod}-workspace", "cat", "kept.txt") == "kept"


def test_cleanup_removes_orphans_only(workspace_factory, podman_service):
    name = f"{podman_service.instance}-cl"
    workspace_factory(name)
    inst = podman_service.instance
    orphan = f"devaipod-{inst}-gone-workspace"
    podman_service.podman("volume", "create", "--label", "io.devaipod.managed=true",
                          "--label", f"io.devaipod.pod=devaipod-{inst}-gone",
                          "--label", f"io.devaipod.instance={inst}", orphan)
    net = f"devaipod-{inst}-gone-internal"  # an allow-list workspace's network
    podman_service.podman("network", "create", "--internal", "--label",
                          "io.devaipod.managed=true", "--label",
                          f"io.devaipod.pod=devaipod-{inst}-gone", "--label",
                          f"io.devaipod.instance={inst}", net)
    rc, out, err = run_devaipod("cleanup", "--dry-run")
    assert rc == 0, err
    assert f"volume rm --force {orphan}" in out  # the plan, exactly
    assert f"network rm --force {net}" in out
    assert podman_service.podman("volume", "exists", orphan, check=False).returncode == 0
    rc, out, err = run_devaipod("cleanup")
    assert rc == 0 and f"volume {orphan}" in out and f"network {net}" in out, err
    assert podman_service.podman("volume", "exists", orphan, check=False).returncode == 1
    assert podman_service.podman("network", "exists", net, check=False).returncode == 1
    assert run_devaipod("status", name)[0] == 0


def test_title_is_set_shown_listed_and_removed(workspace_factory, podman_service):
    name = f"{podman_service.instance}-ttl"
    workspace_factory(name, "--title", "first")
    assert run_devaipod("title", name)[1] == "first\n"  # the label given at creation
    rc, out, err = run_devaipod("title", name, "Fix  the\tREADME")
    assert (rc, out) == (0, "Fix the README\n"), err
    rows = {r["short"]: r for r in json.loads(run_devaipod("list", "--json")[1])}
    assert rows[name]["title"] == "Fix the README"
    assert run_devaipod("stop", name, "-t", "0")[0] == 0
    assert run_devaipod("title", name)[1] == "Fix the README\n"  # kept while stopped
    rc, _out, err = run_devaipod("title", name, "bad\x1b]52;c;eA==\x07")
    assert rc == 1 and "printable" in err and len(err.strip().splitlines()) == 1
    assert run_devaipod("title", name)[1] == "Fix the README\n"  # a refused title changes nothing
    assert run_devaipod("title", name, "")[1] == "(no title set)\n"
    assert run_devaipod("title", name)[1] == "first\n"  # back to the label
