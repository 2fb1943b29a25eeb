"""[limits] on a real pod: --cpus, --memory and --pids-limit reach the agent's container
(not the human's workspace), show in status and debug; a fork bomb in the agent stops at
its pids limit while the pod stays usable; an agent killed at its memory limit is "oom"."""

from __future__ import annotations

import json

import pytest

from podfixtures import exec_in, inspect, run_devaipod

pytestmark = pytest.mark.podman

PIDS = 128
MEMORY = 768 * 1024**2
ATTEMPTS = 600  # forks the bomb tries; the test config's nproc (1024) is above it

# python3 - N: fork N children that sleep (until one fork fails); print how many were made;
# then kill them
BOMB = """
import os, signal, sys, time
kids = []
for _ in range(int(sys.argv[1])):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(300)
        os._exit(0)
    kids.append(pid)
print(len(kids), flush=True)
for k in kids:
    os.kill(k, signal.SIGKILL)
for k in kids:
    os.waitpid(k, 0)
"""

# the agent's OpenCode made the OOM killer's first choice (raising one's own score needs
# no privilege), then a process that wants more memory than the container has
HOG = """
for p in /proc/[0-9]*; do
  case $(tr '\\0' ' ' < $p/cmdline 2>/dev/null) in
    *opencode*serve*) echo 1000 > $p/oom_score_adj ;;
  esac
done
python3 -c 'a = bytearray(2 * 1024**3)' || true
"""


@pytest.fixture(scope="module")
def limited(podman_service, gitserver, images):
    name = f"{podman_service.instance}-limits"
    rc, _out, err = run_devaipod("up", gitserver.git_url, "--name", name, "--network",
                                gitserver.network, "--cpus", "1.5", "--memory", "768m",
                                "--pids-limit", str(PIDS))
    assert rc == 0, err
    yield name, f"devaipod-{name}"
    run_devaipod("delete", "--force", name)


def test_the_agent_gets_the_limits_and_the_workspace_does_not(podman_service, limited):
    _name, pod = limited
    agent = inspect(podman_service, f"{pod}-agent")[0]["HostConfig"]
    assert (agent["PidsLimit"], agent["Memory"]) == (PIDS, MEMORY)
    workspace = inspect(podman_service, f"{pod}-workspace")[0]["HostConfig"]
    assert workspace["PidsLimit"] != PIDS and not workspace["Memory"]


def test_status_and_debug_show_them(limited):
    name, _pod = limited
    rc, out, err = run_devaipod("status", name, "--json")
    assert rc == 0, err
    assert json.loads(out)["limits"] == f"cpus=1.5 memory=768m pids={PIDS}"
    rc, out, err = run_devaipod("status", name)
    assert f"limits     cpus=1.5 memory=768m pids={PIDS}" in out, out
    rc, out, err = run_devaipod("debug", name)
    assert rc == 0, err
    agent_part = out.split("\nagent: ", 1)[1]
    assert f"limits  cpus=1.5 memory=768m pids={PIDS}" in agent_part.split("\n\n")[0]


def test_a_fork_bomb_stops_at_the_pids_limit(podman_service, limited):
    """Attack: the agent forks until the machine's process table is full."""
    _name, pod = limited
    proc = podman_service.podman("exec", "-i", f"{pod}-agent", "python3", "-", str(ATTEMPTS),
                                 input=BOMB)
    made = int(proc.stdout.split()[0])
    assert 0 < made < PIDS, proc.stdout  # OpenCode's own threads count too
    # the machine and the pod stay usable: the workspace and the agent run commands
    assert exec_in(podman_service, f"{pod}-workspace", "echo", "ok") == "ok"
    assert exec_in(podman_service, f"{pod}-agent", "echo", "ok") == "ok"


def oom_reported(svc, image: str) -> bool:
    """Whether this machine's podman reports State.OOMKilled (conmon sees the kernel's
    OOM kill; not in every nested cgroup v1 setup)."""
    name = f"{svc.instance}-oomprobe"
    svc.podman("run", "--name", name, "--memory", "32m", "--memory-swap", "32m", image,
               "python3", "-c", "a = bytearray(256 * 1024**2)", check=False)
    try:
        return inspect(svc, name)[0]["State"].get("OOMKilled") is True
    finally:
        svc.podman("rm", "-f", name, check=False)


def test_an_agent_over_its_memory_limit_is_oom_in_status(podman_service, limited, images):
    name, pod = limited
    if not oom_reported(podman_service, images["devenv"]):
        pytest.skip("this machine's podman never reports State.OOMKilled")
    podman_service.podman("exec", f"{pod}-agent", "sh", "-c", HOG, check=False)
    podman_service.podman("wait", f"{pod}-agent", check=False)
    rc, out, err = run_devaipod("status", name, "--json")
    assert rc == 0, err
    data = json.loads(out)
    assert data["agent"] == "oom" and data["containers"]["agent"] == "oom", data
    rc, out, err = run_devaipod("list")
    assert any(line.split()[:2] == [name, "oom"] for line in out.splitlines()), out


def test_a_memory_hog_in_the_agent_is_counted_in_status(podman_service, limited):
    """A process of the agent's over its memory limit is killed by the kernel, OpenCode
    lives on; status counts the kill from the agent's cgroup (on any cgroup version)."""
    name, pod = limited
    rc, out, err = run_devaipod("status", name, "--json")
    assert rc == 0 and json.loads(out)["agent_oom_kills"] == 0, (out, err)
    hog = podman_service.podman("exec", f"{pod}-agent", "python3", "-c",
                                "a = bytearray(2 * 1024**3)", check=False)
    assert hog.returncode == 137, hog  # SIGKILL, from the kernel
    rc, out, err = run_devaipod("status", name, "--json")
    data = json.loads(out)
    assert data["agent_oom_kills"] >= 1 and data["containers"]["agent"] == "running", data
    rc, out, err = run_devaipod("status", name)
    assert "of the agent's processes killed at its memory limit" in out, out
