"""errors.classify maps podman's real messages to named errors."""

from __future__ import annotations

import pytest

from devaipod import errors

URL = "unix:///run/user/1000/podman/podman.sock"


def podman_argv(verb: str) -> list[str]:
    return ["podman", "--remote", "--url", URL, *verb.split(), "nosuch"]


def cases(podman_431_errors, kind):
    return [(podman_argv(verb), stderr) for verb, stderr in podman_431_errors[kind]]


def test_no_such_objects_are_not_found(podman_431_errors):
    for argv, stderr in cases(podman_431_errors, "not_found"):
        err = errors.classify(argv, 125, stderr)
        assert isinstance(err, errors.NotFound), (argv, stderr)


def test_names_in_use_are_already_exists(podman_431_errors):
    for argv, stderr in cases(podman_431_errors, "already_exists"):
        err = errors.classify(argv, 125, stderr)
        assert isinstance(err, errors.AlreadyExists), (argv, stderr)


def test_other_failures_are_plain_command_errors(podman_431_errors):
    for argv, stderr in cases(podman_431_errors, "other"):
        err = errors.classify(argv, 2, stderr)
        assert isinstance(err, errors.CommandError)
        assert not isinstance(err, errors.NotFound | errors.PodmanUnreachable), stderr


def test_unreachable_names_the_socket_and_how_to_start_it(podman_431_errors):
    [(argv, stderr)] = cases(podman_431_errors, "unreachable")
    err = errors.classify(argv, 125, stderr)
    assert isinstance(err, errors.PodmanUnreachable)
    message = err.format_message()
    assert "\n" not in message
    assert URL in message
    assert "podman system service" in message and "podman.socket" in message


def test_error_carries_the_evidence():
    argv = ["podman", "--remote", "--url", URL, "pod", "create", "--name", "p"]
    stderr = "some warning\nError: something broke\n"
    err = errors.classify(argv, 125, stderr)
    assert (err.argv, err.returncode, err.stderr) == (argv, 125, stderr)
    assert err.exit_code == 125
    assert err.format_message() == "podman pod create failed (exit 125): something broke"


@pytest.mark.parametrize("returncode, exit_code", [(1, 1), (255, 255), (-9, 1), (300, 1)])
def test_exit_code_is_the_childs_when_valid(returncode, exit_code):
    assert errors.CommandError(["git", "clone"], returncode, "").exit_code == exit_code


def test_non_podman_commands_are_never_podman_errors():
    err = errors.classify(["git", "clone", "x"], 128, "fatal: no such container\n")
    assert type(err) is errors.CommandError


@pytest.mark.parametrize("argv, short", [
    (["podman", "--remote", "--url", URL, "volume", "create", "v"], "podman volume create"),
    (["/usr/bin/podman", "--remote", "--url", URL, "run", "--rm", "img"], "podman run"),
    (["podman", "pod"], "podman pod"),
    (["git", "-C", "/x", "clone", "url"], "git clone"),
    (["tmux", "-L", "sock", "attach", "-t", "s"], "tmux attach"),
    (["true"], "true"),
])
def test_describe(argv, short):
    assert errors.describe(argv) == short


def test_last_line_skips_blank_lines_and_the_error_prefix():
    assert errors.last_line("one\nError: two\n\n  \n") == "two"
    assert errors.last_line("") == "no error message"
