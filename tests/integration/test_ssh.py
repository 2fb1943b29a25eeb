"""Editors over SSH: the config `up` writes, and a real ssh client through
`devaipod exec --stdio` (the embedded SSH server) into the pod's containers."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import time
import urllib.request

import pytest

from podfixtures import run_devaipod

pytestmark = pytest.mark.podman


@pytest.fixture
def ssh_ws(workspace_factory, podman_service, tmp_path, monkeypatch):
    monkeypatch.setenv("DEVAIPOD_SSH_CONFIG_DIR", str(tmp_path / "ssh"))
    name = f"{podman_service.instance}-ssh"
    workspace_factory(name)
    pod = f"devaipod-{name}"
    config = tmp_path / "ssh" / pod

    def ssh(*args: str, input: str | None = None, program: str = "ssh"):
        return subprocess.run([program, "-F", str(config), *args], input=input,
                              capture_output=True, text=True, timeout=120, env=dict(os.environ))

    return name, pod, config, ssh


def test_up_writes_the_config_and_ssh_reaches_each_container(ssh_ws):
    _name, pod, config, ssh = ssh_ws
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    text = config.read_text()
    assert f"Host {pod}\n" in text and f"Host {pod}-agent\n" in text
    assert f"Host {pod}-worker" not in text  # no worker here
    done = ssh(pod, "cat README.md; pwd")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["hello from the test repo", "/workspaces/repo"]
    agent = ssh(f"{pod}-agent", "git remote")
    assert "workspace" in agent.stdout.split(), agent.stderr
    assert ssh(pod, "exit 3").returncode == 3
    assert ssh(pod, "wc -c", input="12345").stdout.strip() == "5"
    tty = ssh("-tt", pod, "tty; stty size", input="")
    assert "/dev/pts/" in tty.stdout, tty.stdout + tty.stderr


def test_local_port_forwarding_reaches_a_server_in_the_container(ssh_ws, podman_service):
    """ssh -L (what VS Code's Remote-SSH uses): the connection starts inside the container."""
    _name, pod, config, _ssh = ssh_ws
    podman_service.podman("exec", "-d", f"{pod}-workspace", "python3", "-m", "http.server",
                          "9999", "--bind", "127.0.0.1", "--directory", "/workspaces/repo")
    port = free_port()
    tunnel = subprocess.Popen(["ssh", "-F", str(config), "-N", "-L",
                               f"127.0.0.1:{port}:127.0.0.1:9999", pod],
                              stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        deadline, body = time.monotonic() + 60, ""
        while time.monotonic() < deadline and "README.md" not in body:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as resp:
                    body = resp.read().decode()
            except OSError:
                time.sleep(0.5)
        assert "README.md" in body  # the directory listing served inside the container
    finally:
        tunnel.terminate()
        tunnel.wait(10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_sftp_and_delete(ssh_ws):
    name, pod, config, ssh = ssh_ws
    batch = "put {src} /tmp/up.txt\nget /workspaces/repo/README.md {dst}\n"
    src = config.parent / "up.txt"
    src.write_text("sent over sftp\n")
    dst = config.parent / "down.txt"
    done = ssh("-b", "-", pod, input=batch.format(src=src, dst=dst), program="sftp")
    assert done.returncode == 0, done.stdout + done.stderr
    assert dst.read_text() == "hello from the test repo\n"
    assert ssh(pod, "cat /tmp/up.txt").stdout == "sent over sftp\n"
    rc, _out, err = run_devaipod("delete", "--force", name)
    assert rc == 0, err
    assert not config.exists()
