"""SSH configs for editors, and the podman exec behind each SSH session."""

from __future__ import annotations

import shlex
import stat
import sys

import pytest

from devaipod import sshconfig, sshserver


@pytest.fixture
def confdir(tmp_path, monkeypatch):
    monkeypatch.setenv("DEVAIPOD_SSH_CONFIG_DIR", str(tmp_path / "ssh"))
    monkeypatch.delenv("DEVAIPOD_CONTAINER", raising=False)
    monkeypatch.delenv("DEVAIPOD_INSTANCE", raising=False)
    monkeypatch.setattr("devaipod.podman.connection.url", lambda: "unix:///run/test.sock")
    return tmp_path / "ssh"


def test_written_with_a_host_block_per_container(confdir):
    path = sshconfig.write("devaipod-demo-1a2b3c", worker=True, user="ada")
    assert path == confdir / "devaipod-demo-1a2b3c"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    for alias, flags in (("devaipod-demo-1a2b3c", ["-W"]), ("devaipod-demo-1a2b3c-agent", []),
                         ("devaipod-demo-1a2b3c-worker", ["--worker"])):
        proxy = shlex.join([sys.executable, "-m", "devaipod", "--url", "unix:///run/test.sock",
                            "exec", *flags, "--stdio", "devaipod-demo-1a2b3c"])
        assert f"Host {alias}\n  HostName {alias}\n  User ada\n  ProxyCommand {proxy}\n" in text
    assert "StrictHostKeyChecking no" in text


def test_in_the_daemon_container(confdir, monkeypatch):
    monkeypatch.setenv("DEVAIPOD_CONTAINER", "1")
    assert "ProxyCommand podman exec -i devaipod devaipod exec -W --stdio devaipod-x\n" in \
        sshconfig.text("devaipod-x")
    monkeypatch.delenv("DEVAIPOD_SSH_CONFIG_DIR")
    monkeypatch.setattr(sshconfig, "EXPORT_DIR", confdir / "not-mounted")
    assert sshconfig.config_dir() is None  # nowhere the host's ssh would look


def test_stale_configs_of_this_instance_only(confdir, monkeypatch):
    sshconfig.write("devaipod-gone")
    sshconfig.write("devaipod-live")
    monkeypatch.setenv("DEVAIPOD_INSTANCE", "other")
    sshconfig.write("devaipod-theirs")
    assert sshconfig.stale({"devaipod-theirs"}) == []  # "other" sees only its own
    assert sshconfig.stale(set()) == [confdir / "devaipod-theirs"]
    monkeypatch.delenv("DEVAIPOD_INSTANCE")
    assert sshconfig.stale({"devaipod-live"}) == [confdir / "devaipod-gone"]
    sshconfig.remove("devaipod-gone")
    assert not (confdir / "devaipod-gone").exists()


def test_session_argv():
    shell = sshserver.session_argv("c1", None, None, tty=True)
    assert shell[shell.index("exec"):][:4] == ["exec", "--interactive", "--tty",
                                               "--detach-keys"]
    assert shell[-1] == sshserver.SHELL and "c1" in shell
    command = sshserver.session_argv("c1", "ls -l", None, tty=False)
    assert "--tty" not in command and command[-1] == "ls -l"
    sftp = sshserver.session_argv("c1", None, sshserver.SFTP_SUBSYSTEM, tty=False)
    assert sftp[-3:] == ["sh", "-c", sshserver.SFTP]
    assert sshserver.session_argv("c1", None, "other", tty=False) is None
