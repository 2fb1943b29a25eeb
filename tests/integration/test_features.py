"""devcontainer features, built by the real devcontainer CLI into the image of a real
workspace: a local feature with options, its own lifecycle command, the image reused."""

from __future__ import annotations

import json
import os

import pytest

from podfixtures import exec_in, leftovers, run_devaipod

from .test_devcontainer import EMPTY, make_project

pytestmark = pytest.mark.podman

FEATURE = {"id": "hello", "version": "1.0.0", "name": "Hello",
           "options": {"greeting": {"type": "string", "default": "hey"}},
           "containerEnv": {"HELLO_FEATURE": "on"},
           "postCreateCommand": "echo feature >> /workspaces/order.log"}
INSTALL = "#!/bin/sh\nset -e\necho \"$GREETING\" > /etc/hello-feature\n"


def featured_project(root, devenv: str) -> str:
    project = make_project(root, {
        "image": devenv,
        "features": {"./hello": {"greeting": "hi there"}},
        "postCreateCommand": "echo project >> /workspaces/order.log",
    })
    folder = root / ".devcontainer" / "hello"
    folder.mkdir()
    (folder / "devcontainer-feature.json").write_text(json.dumps(FEATURE))
    (folder / "install.sh").write_text(INSTALL)
    (folder / "install.sh").chmod(0o755)
    return project


def test_a_local_feature_is_built_into_the_image(podman_service, images, gitserver,
                                                  tmp_path, devcontainer_cli):
    project = featured_project(tmp_path / "proj", images["devenv"])
    name = f"{podman_service.instance}-feat"
    pod = f"devaipod-{name}"
    try:
        rc, _out, err = run_devaipod("up", project, "--name", name, "--network",
                                     gitserver.network)
        assert rc == 0, err
        assert "with features ./hello" in err
        for container in (f"{pod}-workspace", f"{pod}-agent"):
            assert exec_in(podman_service, container, "cat", "/etc/hello-feature") == \
                "hi there"
        # the feature's containerEnv is in the image; its postCreateCommand ran first
        assert "HELLO_FEATURE=on" in run_devaipod("exec", name, "-W", "--", "env")[1]
        assert exec_in(podman_service, f"{pod}-workspace", "cat",
                       "/workspaces/order.log").split() == ["feature", "project"]
        image = podman_service.podman("inspect", f"{pod}-workspace",
                                      "--format", "{{.ImageName}}").stdout.strip()
        assert image.startswith("localhost/devaipod-build:")
        # the user's own tree is not written to (no devcontainer-lock.json)
        assert sorted(p.name for p in (tmp_path / "proj/.devcontainer").iterdir()) == [
            "devcontainer.json", "hello"]
        # a second workspace of the same project reuses the image
        rc, _out, err = run_devaipod("up", project, "--name", f"{name}2", "--network",
                                     gitserver.network)
        assert rc == 0, err
        assert "(with features) is up to date" in err
    finally:
        for n in (name, f"{name}2"):
            run_devaipod("delete", n, "--force")
    assert leftovers(podman_service, pod) == EMPTY


def test_without_the_cli_features_are_a_warning(podman_service, images, tmp_path,
                                                monkeypatch):
    project = featured_project(tmp_path / "proj", images["devenv"])
    monkeypatch.delenv("DEVAIPOD_DEVCONTAINER_CLI", raising=False)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert not any(os.path.exists(f"{d}/devcontainer") for d in ("/usr/bin", "/bin"))
    rc, out, err = run_devaipod("up", project, "--dry-run")
    assert rc == 0, err
    assert "features need the devcontainer CLI (npm install -g @devcontainers/cli); " \
        "they are ignored" in err
    assert images["devenv"] in out
