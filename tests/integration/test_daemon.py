"""The Quick Start's daemon container, against the private podman service.

Debian's podman 4.3 rejects ``--add-host=host.containers.internal:host-gateway``
and adds ``host.containers.internal`` to containers by itself, so the
Quick Start's command runs here without that one flag.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.request

import pytest

from podfixtures import run_devaipod

pytestmark = pytest.mark.podman


@pytest.fixture(scope="module")
def daemon(podman_service, images, tmp_path_factory, gitserver, fakellm):
    inst = podman_service.instance
    name, volume = f"{inst}-devaipod", f"{inst}-devaipod-state"
    socket_path = podman_service.url.removeprefix("unix://")
    podman_service.podman("secret", "create", f"{inst}-dkey", "-", input="sk-daemon-key")
    config = tmp_path_factory.mktemp("daemon") / "devaipod.toml"
    config.write_text(f'[trusted]\nsecrets = [\n  "ANTHROPIC_API_KEY={inst}-dkey",\n]\n')
    podman_service.podman("volume", "create", "--label", f"io.devaipod.instance={inst}", volume)
    ssh_dir = tmp_path_factory.mktemp("ssh-config.d")  # the Quick Start's ~/.ssh/config.d/devaipod

    def start() -> str:
        podman_service.podman(
            "run", "-d", "--name", name, "--privileged", "--replace",
            "-p", "127.0.0.1::8080", "-v", f"{socket_path}:/run/docker.sock",
            "-e", f"DEVAIPOD_HOST_SOCKET={socket_path}", "-e", f"DEVAIPOD_INSTANCE={inst}",
            "-v", f"{volume}:/var/lib/devaipod",
            "-v", f"{config}:/root/.config/devaipod.toml:ro",
            "-v", f"{ssh_dir}:/run/devaipod-ssh:Z", images["api"])
        return login_url(podman_service, name)

    yield {"name": name, "start": start, "network": gitserver.network, "ssh_dir": ssh_dir}
    podman_service.podman("rm", "-f", "-t", "0", name, check=False)
    podman_service.podman("volume", "rm", "-f", volume, check=False)
    podman_service.podman("secret", "rm", f"{inst}-dkey", check=False)


def login_url(svc, name: str) -> str:
    deadline = time.monotonic() + 30
    logs = ""
    while time.monotonic() < deadline:
        logs = svc.podman("logs", name, check=False).stdout
        match = re.search(r"Login URL: (\S+)", logs)
        if match:
            port = svc.podman("port", name, "8080").stdout.strip().rsplit(":", 1)[1]
            return re.sub(r"//[^/]+/", f"//127.0.0.1:{port}/", match.group(1))
        time.sleep(0.3)
    pytest.fail(f"no login URL in the daemon's logs: {logs}")


def in_daemon(svc, name: str, *args: str) -> tuple[int, str, str]:
    proc = svc.podman("exec", name, "devaipod", *args, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def test_quickstart_daemon(daemon, podman_service, gitserver):
    svc, name = podman_service, daemon["name"]
    url = daemon["start"]()
    token = url.split("token=")[1]
    with urllib.request.urlopen(url.split("/login")[0] + "/healthz", timeout=10) as resp:
        assert json.loads(resp.read())["ok"] is True

    ws = f"{svc.instance}-daemon-ws"
    rc, out, err = in_daemon(svc, name, "run", gitserver.git_url, "--name", ws, "--network",
                             daemon["network"], "-c", "WRITE_FILE daemon.txt from the daemon")
    assert rc == 0, err
    try:
        deadline = time.monotonic() + 90
        row = {}
        while time.monotonic() < deadline:  # the agent state comes from the pod's sidecar,
            rc, out, err = in_daemon(svc, name, "list", "--json")  # via the host gateway
            row = next((r for r in json.loads(out) if r["short"] == ws), {})
            if row.get("agent") == "idle" and row.get("last_message"):
                break
            time.sleep(1)
        assert row.get("agent") == "idle", row
        written = svc.podman("exec", f"devaipod-{ws}-agent", "cat", "daemon.txt").stdout
        assert written.strip() == "from the daemon"
        rc, out, err = in_daemon(svc, name, "exec", ws, "-W", "--", "git", "remote")
        assert rc == 0 and "agent" in out.split(), err
        check_ssh_export(svc, name, daemon["ssh_dir"], f"devaipod-{ws}")

        assert daemon["start"]().endswith(token)  # --replace keeps the token (state volume)
        svc.podman("stop", "-t", "2", name)
        state = svc.podman("pod", "inspect", f"devaipod-{ws}", "--format", "{{.State}}")
        assert state.stdout.strip() == "Running"  # pods outlive the daemon
    finally:
        run_devaipod("delete", "--force", ws)


def check_ssh_export(svc, name: str, ssh_dir, pod: str) -> None:
    """The Quick Start's SSH export: the config lands in the mounted directory, and its
    ProxyCommand (here with this test's daemon name) gets a real ssh into the workspace."""
    text = (ssh_dir / pod).read_text()
    assert f"ProxyCommand podman exec -i devaipod devaipod exec -W --stdio {pod}\n" in text
    proxy = f"podman --remote --url {svc.url} exec -i {name} devaipod exec -W --stdio {pod}"
    done = subprocess.run(
        ["ssh", "-F", "/dev/null", "-o", f"ProxyCommand={proxy}", "-o",
         "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o",
         "LogLevel=ERROR", pod, "cat README.md"],
        capture_output=True, text=True, timeout=120)
    assert done.stdout == "hello from the test repo\n", done.stderr


def test_local_path_is_refused_in_the_daemon(daemon, podman_service):
    daemon["start"]()
    rc, _out, err = in_daemon(podman_service, daemon["name"], "up", "/tmp")
    assert rc != 0 and "not supported inside the devaipod container" in err
    assert "Traceback" not in err
