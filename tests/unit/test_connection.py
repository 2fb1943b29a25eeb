"""Which podman URL devaipod uses, and in which order it looks."""

from __future__ import annotations

from pathlib import Path

import pytest

from devaipod.podman import connection

RUNTIME = "/run/user/1000"
ROOTLESS = f"{RUNTIME}/podman/podman.sock"


def resolve(explicit=None, env=None, sockets=()):
    return connection.resolve(explicit, env or {}, exists=lambda path: path in sockets)


def full_env(**overrides):
    env = {
        "DEVAIPOD_PODMAN_URL": "unix:///from/devaipod.sock",
        "CONTAINER_HOST": "unix:///from/container-host.sock",
        "XDG_RUNTIME_DIR": RUNTIME,
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def test_explicit_url_wins_over_everything():
    assert resolve("unix:///explicit.sock", full_env(), {ROOTLESS}) == (
        "unix:///explicit.sock", "--url",
    )


def test_devaipod_variable_before_container_host():
    assert resolve(None, full_env(), {ROOTLESS}) == ("unix:///from/devaipod.sock",
                                                     "DEVAIPOD_PODMAN_URL")


def test_container_host_before_sockets():
    env = full_env(DEVAIPOD_PODMAN_URL=None)
    assert resolve(None, env, {ROOTLESS}) == ("unix:///from/container-host.sock",
                                              "CONTAINER_HOST")


def test_empty_variables_are_ignored():
    env = full_env(DEVAIPOD_PODMAN_URL="", CONTAINER_HOST="")
    assert resolve(None, env, {ROOTLESS}) == (f"unix://{ROOTLESS}", "XDG_RUNTIME_DIR")


def test_rootless_socket_only_when_it_exists():
    env = full_env(DEVAIPOD_PODMAN_URL=None, CONTAINER_HOST=None)
    assert resolve(None, env, sockets=()) == (f"unix://{connection.ROOTFUL_SOCKET}", "default")


def test_default_is_the_rootful_socket():
    assert resolve() == (f"unix://{connection.ROOTFUL_SOCKET}", "default")


@pytest.mark.parametrize("value", ["/some/dir/podman.sock", "relative/podman.sock"])
def test_socket_paths_become_absolute_unix_urls(value, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    url, _ = resolve(value)
    assert url.startswith("unix:///")
    assert connection.socket_path(url) == str(Path.cwd() / value)


def test_urls_are_kept_as_given():
    assert resolve("tcp://127.0.0.1:8888")[0] == "tcp://127.0.0.1:8888"
    assert connection.socket_path("tcp://127.0.0.1:8888") is None


def test_set_url_is_what_url_returns(monkeypatch):
    monkeypatch.setenv("DEVAIPOD_PODMAN_URL", "unix:///from/env.sock")
    monkeypatch.setattr(connection, "_explicit", None)
    assert connection.url() == "unix:///from/env.sock"
    connection.set_url("/other.sock")
    assert connection.url() == "unix:///other.sock"
