"""`devaipod rebuild` against real podman: the workspace's own devcontainer.json, the
lifecycle commands it runs again, and what a failed rebuild leaves."""

from __future__ import annotations

import json

import pytest

from podfixtures import exec_in, run_devaipod

from .test_devcontainer import make_project

pytestmark = pytest.mark.podman

DC = ".devcontainer/devcontainer.json"


@pytest.fixture
def project_ws(podman_service, images, gitserver, tmp_path, unique):
    """A workspace of a local project whose devcontainer.json has lifecycle commands."""
    project = make_project(tmp_path / "proj", {
        "image": images["devenv"],
        "containerEnv": {"REBUILD_MARK": "from-the-source"},
        "postCreateCommand": "echo created >> /workspaces/created.log",
        "postStartCommand": "echo started >> /workspaces/started.log",
    })
    name = unique("rb")
    rc, _out, err = run_devaipod("up", project, "--name", name, "--network", gitserver.network)
    assert rc == 0, err
    yield name, f"devaipod-{name}"
    run_devaipod("delete", "--force", name)


def lines(svc, pod: str, path: str) -> list[str]:
    return exec_in(svc, f"{pod}-workspace", "cat", path, check=False).splitlines()


def edit_in_workspace(svc, pod: str, devcontainer: dict) -> None:
    """The user edits devcontainer.json in the workspace (not committed)."""
    svc.podman("exec", "-i", f"{pod}-workspace", "sh", "-c", f"cat > /workspaces/proj/{DC}",
               input=json.dumps(devcontainer))


def test_rebuild_reads_the_workspaces_devcontainer_and_runs_post_start(
        project_ws, podman_service, images):
    """devcontainer.json is read from the workspace's tree (an uncommitted edit counts);
    postStartCommand runs after every rebuild, the create commands only when asked."""
    name, pod = project_ws
    assert lines(podman_service, pod, "/workspaces/created.log") == ["created"]
    edit_in_workspace(podman_service, pod, {
        "image": images["devenv"], "containerEnv": {"REBUILD_MARK": "edited-in-the-workspace"},
        "postCreateCommand": "echo created >> /workspaces/created.log",
        "postStartCommand": "echo started-2 >> /workspaces/started.log"})
    rc, out, err = run_devaipod("rebuild", name)
    assert rc == 0, err
    assert out.strip() == pod
    env = run_devaipod("exec", name, "-W", "--", "env")[1]
    assert "REBUILD_MARK=edited-in-the-workspace" in env
    assert lines(podman_service, pod, "/workspaces/started.log") == ["started", "started-2"]
    assert lines(podman_service, pod, "/workspaces/created.log") == ["created"]
    rc, _out, err = run_devaipod("rebuild", name, "--run-create")
    assert rc == 0, err
    assert lines(podman_service, pod, "/workspaces/created.log") == ["created", "created"]
    # the image too comes from the workspace's devcontainer.json: now a build of its own
    podman_service.podman(
        "exec", "-i", f"{pod}-workspace", "sh", "-c",
        "cat > /workspaces/proj/.devcontainer/Dockerfile",
        input=f"FROM {images['devenv']}\nRUN echo rebuilt > /rebuild-mark\n")
    edit_in_workspace(podman_service, pod, {"build": {"dockerfile": "Dockerfile"}})
    rc, _out, err = run_devaipod("rebuild", name)
    assert rc == 0, err
    for role in ("workspace", "agent"):
        assert exec_in(podman_service, f"{pod}-{role}", "cat", "/rebuild-mark") == "rebuilt"


def test_a_failed_rebuild_says_what_is_kept_and_can_be_run_again(
        project_ws, podman_service, images):
    """A rebuild that fails before the old containers go leaves the workspace as it was;
    one that fails after says that the volumes are kept, and rebuilding again works."""
    name, pod = project_ws
    exec_in(podman_service, f"{pod}-agent", "sh", "-c",
            "cd /workspaces/proj && echo agent > agent.txt && git add agent.txt && "
            "git commit -qm 'agent work'")
    rc, _out, err = run_devaipod("rebuild", name, "--image", "localhost/no-such-image:1")
    assert rc != 0 and "image localhost/no-such-image:1 not found" in err, err
    state = podman_service.podman("pod", "inspect", pod, "--format", "{{.State}}").stdout
    assert state.strip() == "Running"  # untouched

    edit_in_workspace(podman_service, pod, {
        "image": images["devenv"], "postStartCommand": "echo broken; exit 7"})
    rc, _out, err = run_devaipod("rebuild", name)
    errors = [ln for ln in err.splitlines() if ln.startswith("Error:")]
    assert rc != 0 and len(errors) == 1, err
    assert "rebuilding" in errors[0] and "volumes" in errors[0] and "kept" in errors[0]
    assert "Traceback" not in err
    volumes = podman_service.podman("volume", "ls", "-q", "--filter",
                                    f"label=io.devaipod.pod={pod}").stdout.split()
    assert f"{pod}-workspace" in volumes and f"{pod}-agent-workspace" in volumes
    secrets = podman_service.podman("secret", "ls", "--format", "{{.Name}}").stdout.split()
    assert f"{pod}-opencode-password" in secrets and f"{pod}-api-token" in secrets
    containers = podman_service.podman("ps", "-a", "--format", "{{.Names}}", "--filter",
                                       "label=io.devaipod.role").stdout.split()
    assert not [c for c in containers if c.startswith(pod)], err  # the failed containers went,
    assert podman_service.podman("pod", "exists", pod).returncode == 0  # the pod stays
    rc, out, _err = run_devaipod("list")
    assert name in out

    # the user mends the file in the volume; rebuilding again brings the workspace back
    podman_service.podman(
        "run", "--rm", "-v", f"{pod}-workspace:/w", images["base"], "sh", "-c",
        f"printf '%s' '{json.dumps({'image': images['devenv']})}' > /w/proj/{DC}")
    rc, _out, err = run_devaipod("rebuild", name)
    assert rc == 0, err
    log = exec_in(podman_service, f"{pod}-agent", "git", "-C", "/workspaces/proj", "log",
                  "-1", "--format=%s")
    assert log == "agent work"  # the agent's tree survived both
