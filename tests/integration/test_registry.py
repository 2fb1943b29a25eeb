"""Images pulled from a real registry: Debian's docker-registry on 127.0.0.1 with TLS from a
test CA the private podman trusts and htpasswd logins (tests/registry.py).

The test images (the devenv image, devaipod's own) are pushed into it under several tags,
so that each test pulls a name its podman has not seen. Credentials travel as podman's
own: ``podman login --password-stdin`` into the auth file ``$REGISTRY_AUTH_FILE`` names.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import harness
import registry as registry_
from podfixtures import GIT_ENV, exec_in, free_port, inspect, leftovers, run_devaipod

pytestmark = pytest.mark.podman

EMPTY = {"pods": [], "containers": [], "volumes": [], "secrets": []}


@pytest.fixture(scope="module")
def registry(podman_service, images, tmp_path_factory):
    """The registry, with the devenv image as devenv:{cold,build,login} and devaipod's as
    devaipod:{test,gator}; ``auth`` is an auth file logged in to it."""
    tmp = tmp_path_factory.mktemp("registry")
    with registry_.serve(tmp / "registry") as reg:
        auth = tmp / "auth.json"
        reg.login(auth)
        for tag in ("cold", "build", "login"):
            reg.push(podman_service.url, images["devenv"], f"devenv:{tag}", auth)
        for tag in ("test", "gator"):
            reg.push(podman_service.url, images["api"], f"devaipod:{tag}", auth)
        reg.auth = auth
        yield reg


@pytest.fixture
def logged_out(tmp_path, monkeypatch):
    """An auth file with no login in it, as $REGISTRY_AUTH_FILE."""
    path = tmp_path / "auth.json"
    path.write_text('{"auths": {}}')
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(path))
    return path


def project(root: Path, devcontainer: dict, dockerfile: str | None = None) -> str:
    """A local git repository with DEVCONTAINER as its .devcontainer/devcontainer.json.

    The build file is named Dockerfile: podman 4.3's remote build takes a --file of the
    context from the service's working directory when one of that name is there (the
    test service runs in this checkout, which has a Containerfile)."""
    (root / ".devcontainer").mkdir(parents=True)
    (root / ".devcontainer" / "devcontainer.json").write_text(json.dumps(devcontainer))
    if dockerfile:
        (root / ".devcontainer" / "Dockerfile").write_text(dockerfile)
    env = {**GIT_ENV, "PATH": "/usr/bin:/bin", "HOME": str(root)}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "init"]):
        subprocess.run(["git", *args], cwd=root, env=env, check=True)
    return str(root)


def image_there(svc, ref: str) -> bool:
    return svc.podman("image", "exists", ref, check=False).returncode == 0


def last_line(err: str) -> str:
    return err.strip().splitlines()[-1]


def test_a_pull_that_needs_a_login_is_one_line_then_works_after_login(
        podman_service, gitserver, registry, logged_out, tmp_path, monkeypatch):
    """A Dockerfile FROM the registry and a gator image from it: without a login, one
    line naming the registry and nothing left; after `podman login`, the workspace comes
    up with both, the pulls' progress on stderr; `rebuild --pull=always` pulls again."""
    svc, host = podman_service, registry.host
    base, gator = registry.ref("devenv:build"), registry.ref("devaipod:gator")
    src = project(tmp_path / "proj", {"build": {"dockerfile": "Dockerfile"}},
                  f"FROM {base}\nRUN echo from-the-registry > /registry-mark\n")
    name = f"{svc.instance}-reg"
    pod = f"devaipod-{name}"
    args = ("up", src, "--name", name, "--network", gitserver.network,
            "--service-gator", "github:owner/repo", "--service-gator-image", gator)
    rc, _out, err = run_devaipod(*args)
    assert rc != 0 and "Traceback" not in err, err
    assert last_line(err) == (f"Error: pulling {base}: registry {host} needs a login; "
                              f"run 'podman login {host}'"), err
    assert leftovers(svc, pod) == EMPTY and not image_there(svc, base)

    registry.login(logged_out)
    # the sidecar's image from the registry too (--pull=always pulls it again below)
    monkeypatch.setenv("DEVAIPOD_CONTAINER_IMAGE", registry.ref("devaipod:test"))
    try:
        rc, _out, err = run_devaipod(*args)
        assert rc == 0, err
        assert f"Trying to pull {base}" in err  # the build's FROM, pulled
        assert f"devaipod: pulling {gator}" in err  # the gator's image: a step ...
        assert "devaipod:   Copying blob sha256:" in err  # ... with a line per layer
        assert exec_in(svc, f"{pod}-workspace", "cat", "/registry-mark") == "from-the-registry"
        (gator_container,) = inspect(svc, f"{pod}-gator")
        assert gator_container["ImageName"] == gator
        assert gator_container["State"]["Running"]

        # --pull=always: the sidecar's image pulled again though it is there, once (the
        # workspace's, built here as localhost/devaipod-build:..., is not pulled; a rebuild
        # runs the gator from the sidecar's image: --service-gator-image is not kept)
        rc, _out, err = run_devaipod("rebuild", name, "--pull=always")
        assert rc == 0, err
        pulls = [ln for ln in err.splitlines() if ln.startswith("devaipod: pulling ")]
        assert pulls == [f"devaipod: pulling {registry.ref('devaipod:test')}"], err
        assert exec_in(svc, f"{pod}-workspace", "cat", "/registry-mark") == "from-the-registry"
    finally:
        run_devaipod("delete", "--force", name)


def test_a_missing_tag_is_one_line_and_leaves_nothing(podman_service, gitserver, registry,
                                                      monkeypatch):
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(registry.auth))
    ref = registry.ref("devenv:no-such-tag")
    name = f"{podman_service.instance}-regmiss"
    rc, _out, err = run_devaipod("up", gitserver.git_url, "--name", name, "--network",
                                 gitserver.network, "--image", ref)
    assert rc != 0 and "Traceback" not in err
    assert last_line(err) == (f"Error: image {ref} not found in registry {registry.host}; "
                              "check the image's name and tag")
    assert leftovers(podman_service, f"devaipod-{name}") == EMPTY


def test_login_needed_and_unreachable_registry_on_a_plain_pull(
        podman_service, gitserver, registry, logged_out):
    """`--image` from the registry without a login, and from a registry nothing answers:
    one line each, nothing made."""
    svc = podman_service
    ref = registry.ref("devenv:login")
    name = f"{svc.instance}-reglogin"
    rc, _out, err = run_devaipod("up", gitserver.git_url, "--name", name, "--network",
                                 gitserver.network, "--image", ref)
    assert rc != 0 and "Traceback" not in err
    assert last_line(err) == (f"Error: pulling {ref}: registry {registry.host} needs a "
                              f"login; run 'podman login {registry.host}'")
    assert leftovers(svc, f"devaipod-{name}") == EMPTY and not image_there(svc, ref)

    nowhere = f"127.0.0.1:{free_port()}/devenv:test"
    rc, _out, err = run_devaipod("up", gitserver.git_url, "--name", name, "--network",
                                 gitserver.network, "--image", nowhere)
    assert rc != 0 and "Traceback" not in err
    assert last_line(err).startswith(f"Error: cannot reach registry {nowhere.split('/')[0]} "
                                     f"to pull {nowhere}: connection refused;")
    assert leftovers(svc, f"devaipod-{name}") == EMPTY


@pytest.fixture
def cold_service(tmp_path, monkeypatch):
    """A private podman service of its own whose image store is empty: every image an
    `up` needs comes from the registry."""
    empty = tmp_path / "empty-store"
    empty.mkdir()
    monkeypatch.setenv("DEVAIPOD_TEST_IMAGESTORE", str(empty))
    service, proc = harness.launch("devaipod-test-cold-", "cold", fail=pytest.fail)
    try:
        yield service
    finally:
        harness.teardown(service, proc, fail=pytest.fail)


def test_a_devcontainer_image_from_the_registry_with_a_cold_store(
        cold_service, registry, tmp_path):
    """The sidecar's image and devcontainer.json's `image` are pulled into an empty store;
    each pull's progress is in the job log the control plane reads (--progress=json)."""
    from devaipod.web.jobs import Job

    svc = cold_service
    assert svc.podman("images", "-q").stdout.strip() == ""
    api, image = registry.ref("devaipod:test"), registry.ref("devenv:cold")
    src = project(tmp_path / "proj", {"image": image})
    env = {**os.environ, **harness.devaipod_env(svc), "DEVAIPOD_CONTAINER_IMAGE": api,
           "DEVAIPOD_STATE_DIR": str(svc.tmp / "state"), "REGISTRY_AUTH_FILE": str(registry.auth)}
    name = f"{svc.instance}-cold"
    (svc.tmp / "state").mkdir()

    def devaipod(*args: str):
        return subprocess.run([sys.executable, "-m", "devaipod", *args], env=env,
                              capture_output=True, text=True, timeout=600)

    try:
        proc = devaipod("up", src, "--name", name, "--progress=json")
        assert proc.returncode == 0, proc.stderr
        job = Job("j", [])
        for line in proc.stdout.splitlines():
            job.event(line)
        for ref in (api, image):
            assert f"pulling {ref}" in job.lines
        assert sum(ln.startswith("  Copying blob sha256:") for ln in job.lines) >= 2
        assert job.final == {"state": "succeeded", "pod": f"devaipod-{name}"}
        (workspace,) = inspect(svc, f"devaipod-{name}-workspace")
        assert workspace["ImageName"] == image and workspace["State"]["Running"]
        assert exec_in(svc, f"devaipod-{name}-agent", "git", "-C", "/workspaces/proj",
                       "log", "--format=%s") == "init"
    finally:
        devaipod("delete", "--force", name)


def test_a_feature_published_to_the_registry_is_built_in(
        podman_service, images, gitserver, registry, tmp_path, monkeypatch, devcontainer_cli,
        unique):
    """A feature published with the devcontainer CLI's own `features publish` is fetched
    from the registry (TLS from the test CA, podman's login) into a workspace's image."""
    src = tmp_path / "featsrc" / "src" / "hello"
    src.mkdir(parents=True)
    (src / "devcontainer-feature.json").write_text(json.dumps({
        "id": "hello", "version": "1.0.0", "name": "Hello",
        "options": {"greeting": {"type": "string", "default": "hey"}}}))
    (src / "install.sh").write_text("#!/bin/sh\nset -e\necho \"$GREETING\" > /etc/hello-feature\n")
    (src / "install.sh").chmod(0o755)
    publish_env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path),
                   "NODE_EXTRA_CA_CERTS": str(registry.ca),
                   "DEVCONTAINERS_OCI_AUTH": f"{registry.host}|{registry.user}|"
                                             f"{registry.password}"}
    published = subprocess.run(
        [str(devcontainer_cli), "features", "publish", "--registry", registry.host,
         "--namespace", "features", str(src.parent)],
        env=publish_env, capture_output=True, text=True, timeout=300)
    assert published.returncode == 0, published.stdout + published.stderr
    feature = f"{registry.host}/features/hello:1"
    root = tmp_path / "proj"
    proj = project(root, {"image": images["devenv"],
                          "features": {feature: {"greeting": "from the registry"}}})
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(registry.auth))
    monkeypatch.setenv("NODE_EXTRA_CA_CERTS", str(registry.ca))
    name = unique("regfeat")
    pod = f"devaipod-{name}"
    try:
        rc, _out, err = run_devaipod("up", proj, "--name", name, "--network", gitserver.network)
        assert rc == 0, err
        assert f"with features {feature}" in err
        assert exec_in(podman_service, f"{pod}-workspace", "cat", "/etc/hello-feature") == \
            "from the registry"
    finally:
        run_devaipod("delete", "--force", name)
    assert leftovers(podman_service, pod) == EMPTY
