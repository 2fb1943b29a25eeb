"""An ssh source cloned with the user's ssh-agent (issue 12, item 2).

A real SSH server (asyncssh, in this process) serves the test repository with
``git-upload-pack`` to one public key, on the test network's gateway address; a real
``ssh-agent`` holds that key. The test images have no ssh client, so the pod's image is
the devenv image plus this machine's ``/usr/bin/ssh`` (both Debian 12). devaipod mounts
the agent's socket and ~/.ssh/known_hosts (the server's host key) into the clone
containers only.
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from podfixtures import exec_in, inspect, run_devaipod

pytestmark = pytest.mark.podman
asyncssh = pytest.importorskip("asyncssh")


def serve_git_over_ssh(root: Path, address: str, user_key: str, host_key,
                       served: list[str]) -> tuple[int, object]:
    """An SSH server on ADDRESS (a free port) that runs git-upload-pack on ROOT's bare
    repositories for USER_KEY only, recording each command in SERVED; (port, stop)."""
    loop = asyncio.new_event_loop()

    async def handle(process) -> None:
        words = shlex.split(process.command or "")
        repo = (root / words[-1].lstrip("/")).resolve() if len(words) == 2 else None
        if words[:1] != ["git-upload-pack"] or repo is None or not repo.is_relative_to(root):
            process.exit(1)
            return
        served.append(process.command)
        proc = await asyncio.create_subprocess_exec(
            "git", "upload-pack", str(repo), stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        await process.redirect(stdin=proc.stdin, stdout=proc.stdout, stderr=proc.stderr)
        process.exit(await proc.wait())

    keys = asyncssh.import_authorized_keys(user_key)
    server = loop.run_until_complete(asyncssh.create_server(
        asyncssh.SSHServer, address, 0, server_host_keys=[host_key],
        authorized_client_keys=keys, process_factory=handle, encoding=None))
    port = server.sockets[0].getsockname()[1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def stop() -> None:
        server.close()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)

    return port, stop


@pytest.fixture
def ssh_setup(podman_service, gitserver, images, tmp_path) -> Iterator[dict]:
    svc = podman_service
    net = json.loads(svc.podman("network", "inspect", gitserver.network).stdout)
    net = net[0] if isinstance(net, list) else net
    gateway = net["subnets"][0]["gateway"]
    root = tmp_path / "srv"
    (root / "owner").mkdir(parents=True)
    subprocess.run(["git", "clone", "-q", "--bare", gitserver.shas["work"],
                    str(root / "owner" / "repo.git")], check=True)
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                    str(tmp_path / "id")], check=True)
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    served: list[str] = []
    port, stop = serve_git_over_ssh(root, gateway, (tmp_path / "id.pub").read_text(),
                                    host_key, served)
    (home / ".ssh" / "known_hosts").write_text(
        f"[{gateway}]:{port} {host_key.export_public_key().decode()}")
    sock = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)],
                             stdout=subprocess.DEVNULL)
    image = f"localhost/{svc.instance}-ssh-devenv:test"
    try:
        while not sock.exists():
            assert agent.poll() is None, "ssh-agent did not start"
        subprocess.run(["ssh-add", "-q", str(tmp_path / "id")], check=True,
                       env={**os.environ, "SSH_AUTH_SOCK": str(sock)})
        ctx = tmp_path / "image"
        ctx.mkdir()
        shutil.copy("/usr/bin/ssh", ctx / "ssh")
        (ctx / "ssh.Containerfile").write_text(f"FROM {images['devenv']}\n"
                                           "COPY ssh /usr/bin/ssh\n")
        # podman 4.3's service reads a plain "Containerfile" from its own cwd: another name
        built = subprocess.run(["podman", "--remote", "--url", svc.url, "build", "-q", "-t",
                                image, "-f", "ssh.Containerfile", "."], cwd=ctx,
                               capture_output=True, text=True, timeout=300)
        assert built.returncode == 0, built.stdout[-3000:] + built.stderr
        yield {"url": f"ssh://git@{gateway}:{port}/owner/repo.git", "home": home,
               "sock": str(sock), "image": image, "main": gitserver.shas["main"],
               "served": served}
    finally:
        stop()
        agent.terminate()
        agent.wait(10)


def test_ssh_source_clones_with_the_ssh_agent(ssh_setup, podman_service, gitserver,
                                              monkeypatch, unique, tmp_path):
    svc = podman_service
    (tmp_path / "devaipod.toml").write_text("")
    monkeypatch.setenv("DEVAIPOD_CONFIG", str(tmp_path / "devaipod.toml"))
    monkeypatch.setenv("HOME", str(ssh_setup["home"]))
    monkeypatch.setenv("SSH_AUTH_SOCK", ssh_setup["sock"])
    name = unique("ssh")
    try:
        rc, _out, err = run_devaipod("up", ssh_setup["url"], "--name", name, "--network",
                                     gitserver.network, "--image", ssh_setup["image"],
                                     timeout=400)
        assert rc == 0, err
        # the peek and the init clone, each with the agent's key (the only one it takes)
        assert len(ssh_setup["served"]) >= 2, ssh_setup["served"]
        pod = f"devaipod-{name}"
        ws = f"{pod}-workspace"
        assert exec_in(svc, ws, "git", "-C", "/workspaces/repo", "rev-parse", "HEAD") == \
            ssh_setup["main"]
        assert exec_in(svc, ws, "git", "-C", "/workspaces/repo", "remote", "get-url",
                       "origin") == ssh_setup["url"]
        ids = svc.podman("ps", "-aq", "--filter", f"pod={pod}").stdout.split()
        shown = json.dumps(inspect(svc, *ids))
        assert ssh_setup["sock"] not in shown and "devaipod-ssh" not in shown
        # the agent without the key: one line, and nothing made
        subprocess.run(["ssh-add", "-q", "-D"], check=True, capture_output=True,
                       env={**os.environ, "SSH_AUTH_SOCK": ssh_setup["sock"]})
        refused = unique("ssh")
        rc, _out, err = run_devaipod("up", ssh_setup["url"], "--name", refused, "--network",
                                     gitserver.network, "--image", ssh_setup["image"])
        assert rc != 0 and "refused the keys of your ssh-agent" in err, err
        assert [ln for ln in err.splitlines() if ln.startswith("Error:")] == [
            next(ln for ln in err.splitlines() if "refused the keys" in ln)]
        assert not svc.podman("ps", "-aq", "--filter",
                              f"label=io.devaipod.pod=devaipod-{refused}").stdout.strip()
    finally:
        run_devaipod("delete", "--force", name)
        svc.podman("rmi", "-f", ssh_setup["image"], check=False)
