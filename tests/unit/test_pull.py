"""Pulling images: the policy, podman pull's argv and progress, and what a failed pull
says (podman faked with fp; the stderr below is what podman 4.3.1 printed against
Debian's docker-registry 2.8.2, see tests/integration/test_registry.py)."""

from __future__ import annotations

import logging

import pytest

from devaipod import errors, podman, runner
from devaipod.config_schema import Config, PodmanConfig
from devaipod.podman import image
from devaipod.workspace import pull

REF = "127.0.0.1:39913/devenv:test"
TRYING = f"Trying to pull {REF}...\n"
NEEDS_LOGIN = TRYING + (
    f"Error: initializing source docker://{REF}: reading manifest test in "
    "127.0.0.1:39913/devenv: unauthorized: authentication required\n")
MISSING = ("Trying to pull 127.0.0.1:39913/devenv:nope...\nError: initializing source "
           "docker://127.0.0.1:39913/devenv:nope: reading manifest nope in "
           "127.0.0.1:39913/devenv: manifest unknown: manifest unknown\n")
REFUSED = ("Trying to pull 127.0.0.1:1/x:y...\nError: initializing source "
           "docker://127.0.0.1:1/x:y: pinging container registry 127.0.0.1:1: Get "
           '"https://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused\n')
NO_HOST = ("Trying to pull nosuch.invalid/x:y...\nError: initializing source "
           "docker://nosuch.invalid/x:y: pinging container registry nosuch.invalid: Get "
           '"https://nosuch.invalid/v2/": dial tcp: lookup nosuch.invalid on '
           "10.255.255.53:53: no such host\n")
PROGRESS = [f"Trying to pull {REF}...", "Getting image source signatures",
            "Copying blob sha256:bdfbd1c63fd2", "Copying blob sha256:b33b633dc056",
            "Copying config sha256:9d0da500dd66", "Writing manifest to image destination",
            "Storing signatures"]


def test_pull_and_build_argv():
    assert image.pull_argv(REF) == ["pull", REF]
    assert image.build_argv("t:1", ".", pull="missing") == [
        "build", "--pull=missing", "--tag", "t:1", "."]
    assert image.build_argv("t:1", ".", pull="always")[1] == "--pull=always"


@pytest.mark.parametrize(("ref", "registry"), [
    (REF, "127.0.0.1:39913"), ("quay.io/org/img:1", "quay.io"),
    ("ghcr.io/cgwalters/devaipod:latest", "ghcr.io"), ("debian:bookworm", "docker.io"),
    ("library/debian", "docker.io"), ("localhost/devaipod-devenv:latest", "localhost"),
    ("registry.example:5000/a/b@sha256:00", "registry.example:5000"),
])
def test_registry_of_a_reference(ref, registry):
    assert image.registry(ref) == registry


def test_localhost_images_are_not_pullable():
    assert not image.pullable("localhost/devaipod-devenv:latest")
    assert image.pullable(REF) and image.pullable("debian:bookworm")


@pytest.mark.parametrize(("stderr", "line"), [
    (NEEDS_LOGIN, f"pulling {REF}: registry 127.0.0.1:39913 needs a login; "
                  "run 'podman login 127.0.0.1:39913'"),
    (MISSING, "image 127.0.0.1:39913/devenv:nope not found in registry 127.0.0.1:39913; "
              "check the image's name and tag"),
])
def test_a_failed_pull_is_one_clear_line(stderr, line):
    ref = stderr.split("Trying to pull ", 1)[1].split("...", 1)[0]
    assert image.pull_error(ref, stderr).format_message() == line


@pytest.mark.parametrize(("stderr", "ref", "reason"), [
    (REFUSED, "127.0.0.1:1/x:y", "connection refused"),
    (NO_HOST, "nosuch.invalid/x:y", "no such host"),
    ("Error: ... x509: certificate signed by unknown authority\n", "q.io/a",
     "x509: certificate signed by unknown authority"),
])
def test_an_unreachable_registry_is_one_line(stderr, ref, reason):
    message = image.pull_error(ref, stderr).format_message()
    registry = image.registry(ref)
    assert message.startswith(f"cannot reach registry {registry} to pull {ref}: {reason};")
    assert "\n" not in message


def test_an_unknown_pull_failure_keeps_podmans_last_line():
    assert image.pull_error(REF, "Error: something odd\n").format_message() == \
        f"pulling {REF} failed: something odd"


def test_a_build_that_failed_pulling_its_from_says_so():
    output = (f"STEP 1/2: FROM {REF}\n{TRYING}\nError: creating build container: "
              + NEEDS_LOGIN.splitlines()[1].removeprefix("Error: "))
    problem = image.build_pull_error(output)
    assert problem is not None and problem.message == \
        f"pulling {REF}: registry 127.0.0.1:39913 needs a login"
    assert image.build_pull_error("STEP 2/2: RUN false\nError: building at STEP "
                                  '"RUN false": exit status 1\n') is None


def test_policy_is_the_flag_else_the_configuration():
    cfg = Config(podman=PodmanConfig(pull="never"))
    assert pull.policy(None, Config()) == "missing"
    assert pull.policy(None, cfg) == "never"
    assert pull.policy("always", cfg) == "always"


def exists(fp, podman_cmd, ref: str, there: bool) -> None:
    fp.register(podman_cmd("image", "exists", ref), returncode=0 if there else 1)


def test_missing_pulls_only_what_is_not_there_with_progress(fp, podman_cmd, caplog):
    exists(fp, podman_cmd, "q.io/present:1", True)
    exists(fp, podman_cmd, REF, False)
    fp.register(podman_cmd("pull", REF), stderr="\n".join(PROGRESS) + "\n", stdout="9d0d\n")
    with caplog.at_level(logging.INFO, logger="devaipod"):
        pull.ensure(["q.io/present:1", REF, REF], "missing")
    pulls = [c for c in fp.calls if "pull" in c]
    assert len(pulls) == 1
    events = [r.progress for r in caplog.records if hasattr(r, "progress")]
    assert events[0] == {"step": f"pulling {REF}", "state": "started"}
    assert [e["output"] for e in events[1:]] == PROGRESS  # a line per layer, as it comes


def test_always_pulls_even_what_is_there_but_never_a_localhost_image(fp, podman_cmd):
    exists(fp, podman_cmd, "localhost/built:1", True)
    fp.register(podman_cmd("pull", REF), stderr=TRYING)
    pull.ensure(["localhost/built:1", REF], "always")
    assert [c[-1] for c in fp.calls] == ["localhost/built:1", REF]


def test_never_refuses_a_missing_image_and_says_how_to_pull_it(fp, podman_cmd):
    exists(fp, podman_cmd, REF, False)
    with pytest.raises(errors.DevaipodError) as caught:
        pull.ensure([REF], "never")
    assert caught.value.format_message() == (
        f"image {REF} not found, and the pull policy is never; pull it with 'podman pull {REF}', "
        "or use --pull=missing")
    assert len(fp.calls) == 1


def test_a_missing_localhost_image_is_not_pulled(fp, podman_cmd):
    exists(fp, podman_cmd, "localhost/devaipod-devenv:latest", False)
    with pytest.raises(errors.DevaipodError) as caught:
        pull.ensure(["localhost/devaipod-devenv:latest"], "missing")
    assert caught.value.format_message() == (
        "image localhost/devaipod-devenv:latest not found; build it first (make images), "
        "or choose another with --image")
    assert len(fp.calls) == 1


def test_a_pull_that_needs_a_login_is_one_line_without_podmans_error(fp, podman_cmd, caplog):
    exists(fp, podman_cmd, REF, False)
    fp.register(podman_cmd("pull", REF), returncode=125, stderr=NEEDS_LOGIN)
    with caplog.at_level(logging.INFO, logger="devaipod"), \
            pytest.raises(errors.DevaipodError) as caught:
        pull.ensure([REF], "missing")
    assert caught.value.format_message() == (
        f"pulling {REF}: registry 127.0.0.1:39913 needs a login; "
        "run 'podman login 127.0.0.1:39913'")
    outputs = [r.progress.get("output") for r in caplog.records if hasattr(r, "progress")]
    assert outputs == [None, TRYING.strip()]  # podman's own "Error:" line is not repeated


def test_a_dead_podman_service_is_said_as_such(fp, podman_cmd):
    exists(fp, podman_cmd, REF, False)
    fp.register(podman_cmd("pull", REF), returncode=125,
                stderr="Cannot connect to Podman. Please verify your connection\n")
    with pytest.raises(errors.DevaipodError) as caught:
        pull.ensure([REF], "missing")
    assert caught.value.message == \
        f"pulling {REF} failed: Cannot connect to Podman. Please verify your connection"
    assert caught.value.hint.startswith("nothing answers at ")


def test_dry_run_prints_the_pull_and_pulls_nothing(fp, podman_cmd, capsys):
    runner.options.dry_run = True
    exists(fp, podman_cmd, REF, False)
    pull.ensure([REF], "missing")
    assert runner.options.planned == [podman.argv(["pull", REF])]
    assert capsys.readouterr().out == runner.join(podman.argv(["pull", REF])) + "\n"
    assert len(fp.calls) == 1  # the look-up only


def test_up_run_and_rebuild_carry_pull_to_the_request():
    from devaipod.commands.up import request
    from devaipod.workspace import rebuild

    assert request("https://h/o/r", "up", None, {"pull": "never"}).pull == "never"
    assert request("https://h/o/r", "up", None, {"pull": None}).pull is None
    labels = {"io.devaipod.source": "https://h/o/r"}
    assert rebuild.request("devaipod-x", labels, None, "always").pull == "always"
    assert rebuild.request("devaipod-x", labels, None).pull is None
