"""A workspace pod as podman sees it: containers, mounts, port, labels, git trees."""

from __future__ import annotations

import json

import pytest

from podfixtures import exec_in, inspect, run_devaipod

pytestmark = pytest.mark.podman


@pytest.fixture(scope="module")
def pod(request, podman_service, gitserver, images):
    """One shared workspace for the read-only checks of this module."""
    name = f"{podman_service.instance}-shape"
    rc, _out, err = run_devaipod("up", gitserver.git_url, "--name", name, "--network",
                                gitserver.network, "--title", "shape check", "up task")
    assert rc == 0, err
    yield f"devaipod-{name}"
    run_devaipod("delete", "--force", name)


def mounts(info: dict) -> dict[str, tuple[str, bool]]:
    return {m["Destination"]: (m.get("Name") or m.get("Source"), m["RW"])
            for m in info["Mounts"]}


def test_containers_and_roles(podman_service, pod):
    names = {c["Name"] for c in inspect(podman_service, pod, kind="pod")[0]["Containers"]}
    assert {f"{pod}-workspace", f"{pod}-agent", f"{pod}-api"} <= names
    for role in ("workspace", "agent", "api"):
        info = inspect(podman_service, f"{pod}-{role}")[0]
        assert info["State"]["Running"], f"{role} is not running: {info['State']}"
        assert info["Config"]["Labels"]["io.devaipod.role"] == role
        assert info["HostConfig"]["Init"] is True
        assert "/tmp" in info["HostConfig"]["Tmpfs"]


def test_mounts_read_only_where_they_should_be(podman_service, pod):
    ws = mounts(inspect(podman_service, f"{pod}-workspace")[0])
    assert ws["/workspaces"] == (f"{pod}-workspace", True)
    assert ws["/mnt/main-workspace"] == (f"{pod}-workspace", False)
    assert ws["/mnt/agent-workspace"] == (f"{pod}-agent-workspace", False)
    assert ws["/opt/devaipod"] == (f"{pod}-agent-home", False)
    agent = mounts(inspect(podman_service, f"{pod}-agent")[0])
    assert agent["/workspaces"] == (f"{pod}-agent-workspace", True)
    assert agent["/mnt/main-workspace"] == (f"{pod}-workspace", False)
    assert agent["/home/devenv"] == (f"{pod}-agent-home", True)
    api = mounts(inspect(podman_service, f"{pod}-api")[0])
    # the sidecar reads the trees; it writes only the audit trail (for the control plane)
    assert api.pop("/var/lib/devaipod-audit") == (f"{pod}-audit", True)
    assert all(not rw for _src, rw in api.values() if _src and _src.startswith(pod))
    # no container of the agent's, and not the human's workspace, has the trail
    assert not any(src == f"{pod}-audit" for src, _rw in [*ws.values(), *agent.values()])


def test_only_the_api_port_is_published(podman_service, pod):
    info = inspect(podman_service, pod, kind="pod")[0]
    bindings = info["InfraConfig"]["PortBindings"]
    assert set(bindings) == {"8090/tcp"}
    assert bindings["8090/tcp"][0]["HostPort"] not in ("", "8090", "0")


def test_pod_labels(podman_service, pod, gitserver):
    labels = inspect(podman_service, pod, kind="pod")[0]["Labels"]
    assert labels["io.devaipod.mode"] == "up"
    assert labels["io.devaipod.source"] == gitserver.git_url
    assert labels["io.devaipod.task"] == "up task"
    assert labels["io.devaipod.title"] == "shape check"
    assert labels["io.devaipod.instance"] == podman_service.instance
    assert labels["io.devaipod.created"].startswith("20")


def test_api_sidecar_answers_health(podman_service, pod):
    out = exec_in(podman_service, f"{pod}-workspace", "curl", "-sf", "--retry", "10",
                  "--retry-connrefused", "--retry-delay", "1", "http://127.0.0.1:8090/healthz")
    assert json.loads(out)["pod"] == pod


def test_agent_clone_uses_alternates(podman_service, pod):
    project = "repo"
    alternates = exec_in(podman_service, f"{pod}-agent", "cat",
                         f"/workspaces/{project}/.git/objects/info/alternates")
    assert alternates == f"/mnt/main-workspace/{project}/.git/objects"
    remotes = exec_in(podman_service, f"{pod}-agent", "git", "remote", "-v")
    assert f"workspace\t/mnt/main-workspace/{project}" in remotes


def test_commits_flow_both_ways(podman_service, pod):
    agent, ws = f"{pod}-agent", f"{pod}-workspace"
    exec_in(podman_service, agent, "sh", "-c",
            "echo agent-work > agent.txt && git add agent.txt && git commit -qm 'agent commit'")
    agent_sha = exec_in(podman_service, agent, "git", "rev-parse", "HEAD")
    exec_in(podman_service, ws, "git", "fetch", "-q", "agent")
    assert exec_in(podman_service, ws, "git", "rev-parse", "agent/main") == agent_sha
    exec_in(podman_service, ws, "sh", "-c",
            "echo human > human.txt && git add human.txt && "
            "git -c user.name=H -c user.email=h@x commit -qm 'human commit'")
    human_sha = exec_in(podman_service, ws, "git", "rev-parse", "HEAD")
    exec_in(podman_service, agent, "git", "fetch", "-q", "workspace")
    assert exec_in(podman_service, agent, "git", "rev-parse", "workspace/main") == human_sha


def test_agent_cannot_write_the_main_tree(podman_service, pod):
    out = podman_service.podman("exec", f"{pod}-agent", "touch",
                                "/mnt/main-workspace/repo/x", check=False)
    assert out.returncode != 0 and "Read-only file system" in out.stderr


def test_opencode_connect_is_workspace_only(podman_service, pod):
    mode = exec_in(podman_service, f"{pod}-workspace", "stat", "-c", "%a",
                   "/run/devaipod-bin/opencode-connect")
    assert mode == "555"
    missing = podman_service.podman("exec", f"{pod}-agent", "test", "-e",
                                    "/run/devaipod-bin/opencode-connect", check=False)
    assert missing.returncode == 1


def test_sidecar_refuses_requests_without_the_token(podman_service, pod):
    port = inspect(podman_service, pod, kind="pod")[0]["InfraConfig"]["PortBindings"][
        "8090/tcp"][0]["HostPort"]
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/session", timeout=10)
    assert refused.value.code == 401
    health = urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10)
    assert json.loads(health.read())["ok"] is True
