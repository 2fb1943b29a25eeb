"""devcontainer features: the CLI's argv and environment, the image tag, and the
features' own configuration folded into the project's (the spec's merge)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devaipod.devcontainer import features
from devaipod.devcontainer.model import Lifecycle, NamedCommand, parse
from devaipod.errors import DevaipodError

SRC = "repo:.devcontainer/devcontainer.json"


def test_features_are_parsed_as_a_map() -> None:
    dc = parse(json.dumps({"image": "x", "features": {"./hello": {"greeting": "hi"},
                                                       "ghcr.io/f/node:1": "lts",
                                                       "ghcr.io/f/git:1": True}}), SRC)
    assert dc.features == {"./hello": {"greeting": "hi"}, "ghcr.io/f/node:1": "lts",
                           "ghcr.io/f/git:1": True}


def test_feature_options_of_another_type_are_refused() -> None:
    with pytest.raises(DevaipodError, match=r"features\.x: expected an object, a string"):
        parse(json.dumps({"features": {"x": 3}}), SRC)


def test_the_cli_builds_only(tmp_path: Path) -> None:
    argv = features.build_argv("/bin/devcontainer", tmp_path, tmp_path / "dc.json", "t:1")
    assert argv[:2] == ["/bin/devcontainer", "build"]
    assert argv[argv.index("--docker-path") + 1] == "podman"
    assert argv[argv.index("--image-name") + 1] == "t:1"


def test_the_cli_sees_none_of_our_secrets(monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    """A feature option "${localEnv:GH_TOKEN}" is substituted by the CLI from its own
    environment: that environment holds nothing but what podman and node need."""
    monkeypatch.setenv("GH_TOKEN", "ghp_secret")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws")
    monkeypatch.setenv("PATH", "/usr/bin")
    for kept in features.KEPT_ENV[1:]:
        monkeypatch.delenv(kept, raising=False)
    monkeypatch.setattr(features, "auth_file", lambda: None)
    env = features.cli_env("unix:///run/p.sock", tmp_path)
    assert env == {"PATH": "/usr/bin", "CONTAINER_HOST": "unix:///run/p.sock",
                   "HOME": str(tmp_path), "TMPDIR": str(tmp_path)}


def test_the_cli_uses_podmans_registry_logins(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    auth = tmp_path / "auth.json"
    auth.write_text('{"auths": {"reg.example:5000": {"auth": "dTpw"}}}')
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(auth))
    home = tmp_path / "home"
    home.mkdir()
    env = features.cli_env("unix:///run/p.sock", home)
    config = Path(env["DOCKER_CONFIG"]) / "config.json"
    assert config.is_symlink() and config.read_text() == auth.read_text()
    assert env["REGISTRY_AUTH_FILE"] == str(auth)


def _repo(tmp_path: Path, install: str = "echo hi") -> tuple[Path, str]:
    folder = tmp_path / ".devcontainer"
    (folder / "hello").mkdir(parents=True)
    (folder / "devcontainer.json").write_text('{"image": "base", "features": {"./hello": {}}}')
    (folder / "hello" / "install.sh").write_text(install)
    return tmp_path, ".devcontainer/devcontainer.json"


def test_the_tag_follows_every_input(tmp_path: Path) -> None:
    root, rel = _repo(tmp_path)
    dc = parse((root / rel).read_text(), SRC)
    first = features.tag(root, rel, dc)
    assert first == features.tag(root, rel, dc)
    assert first.startswith("localhost/devaipod-build:")
    (root / ".devcontainer" / "hello" / "install.sh").write_text("echo changed")
    second = features.tag(root, rel, dc)
    assert second != first
    other_base = parse('{"image": "other", "features": {"./hello": {}}}', SRC)
    assert features.tag(root, rel, other_base) != second


def _lc(*commands: str) -> Lifecycle:
    return Lifecycle(tuple(NamedCommand("c", ("sh", "-c", c)) for c in commands))


def test_merge_runs_the_features_commands_first_and_adds_lists() -> None:
    project = parse(json.dumps({
        "image": "x", "remoteUser": "me", "capAdd": ["SYS_PTRACE"],
        "containerEnv": {"A": "project"}, "postCreateCommand": "make",
        "customizations": {"devaipod": {"envAllowlist": ["MINE"]}}}), SRC)
    entries = [
        {"id": "./one", "postCreateCommand": "one", "capAdd": ["NET_ADMIN", "SYS_PTRACE"],
         "containerEnv": {"A": "feature", "B": "feature"}, "remoteUser": "vscode",
         "customizations": {"devaipod": {"envAllowlist": ["GH_TOKEN"]}}},
        {"id": "./two", "postCreateCommand": ["two", "x"], "privileged": True},
        {"postCreateCommand": "make", "capAdd": ["SYS_PTRACE"]},  # the project's own
    ]
    merged = features.merge(project, entries)
    assert [c.argv for c in merged.post_create_command.commands] == [
        ("/bin/sh", "-c", "one"), ("two", "x"), ("/bin/sh", "-c", "make")]
    assert merged.cap_add == ("NET_ADMIN", "SYS_PTRACE")
    assert merged.container_env == {"A": "project", "B": "feature"}
    assert merged.remote_user == "me"
    assert merged.privileged is True
    assert merged.env_allowlist == ("MINE",)  # a feature cannot widen the allow-list
    assert merged.image == "x"


def test_merge_warns_about_what_is_not_applied_and_checks_each_entry() -> None:
    project = parse('{"image": "x"}', SRC)
    merged = features.merge(project, [{"id": "dind", "entrypoint": "/init.sh", "init": True}])
    assert merged.warnings == (f"{SRC}: feature dind: devaipod does not apply entrypoint, init",)
    with pytest.raises(DevaipodError, match="feature bad: capAdd"):
        features.merge(project, [{"id": "bad", "capAdd": "ALL"}])


def test_merge_keeps_feature_mounts_for_the_host_bind_check() -> None:
    project = parse('{"image": "x"}', SRC)
    merged = features.merge(project, [{"id": "f", "mounts": [
        {"type": "bind", "source": "/root/.ssh", "target": "/s"}]}])
    assert [(m.type, m.source) for m in merged.mounts] == [("bind", "/root/.ssh")]


def test_a_repository_reads_no_secret_of_ours_through_local_env() -> None:
    """A repository's "${localEnv:GH_TOKEN}" (in build args, containerEnv or mounts)
    would put our token into the image or the workspace's inspect output."""
    from devaipod.workspace.inputs import repo_env
    env = {"HOME": "/root", "GH_TOKEN": "t", "MY_FORGE": "f", "AWS_SECRET_ACCESS_KEY": "a",
           "LANG": "C"}
    assert repo_env(env, frozenset({"MY_FORGE"})) == {"HOME": "/root", "LANG": "C"}
