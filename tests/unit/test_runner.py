"""runner: capture, stdin, errors, redaction, --dry-run (podman faked with fp)."""

from __future__ import annotations

import logging
import secrets
import shlex

import pytest

from devaipod import errors, podman, runner
from devaipod.podman import container, pod, secret, volume


def test_capture_returns_the_output(fp, podman_cmd):
    out = secrets.token_hex(4)
    fp.register(podman_cmd("pod", "ps", "--format", "json"), stdout=f'[{{"Name": "{out}"}}]')
    assert [p["Name"] for p in pod.ps()] == [out]


def test_capture_raises_with_argv_returncode_and_stderr(fp, podman_cmd):
    stderr = f"Error: broke {secrets.token_hex(4)}\n"
    fp.register(podman_cmd("volume", "rm", "v1"), returncode=3, stderr=stderr)
    with pytest.raises(errors.CommandError) as caught:
        volume.rm(["v1"])
    assert caught.value.argv == podman.argv(volume.rm_argv(["v1"]))
    assert (caught.value.returncode, caught.value.stderr) == (3, stderr)


def test_check_false_returns_the_failure(fp, podman_cmd):
    fp.register(podman_cmd("container", "exists", "c1"), returncode=1)
    assert container.exists("c1") is False
    fp.register(podman_cmd("container", "exists", "c1"), returncode=0)
    assert container.exists("c1") is True


def test_exists_raises_for_other_exit_codes(fp, podman_cmd):
    fp.register(podman_cmd("pod", "exists", "p1"), returncode=125, stderr="Error: boom\n")
    with pytest.raises(errors.CommandError):
        pod.exists("p1")


def test_secret_exists_does_not_hide_a_dead_service(fp, podman_cmd):
    stderr = "Error: unable to connect to Podman socket: dial unix /x.sock: connect\n"
    fp.register(podman_cmd("secret", "inspect", "s1"), returncode=125, stderr=stderr)
    with pytest.raises(errors.PodmanUnreachable):
        secret.exists("s1")
    fp.register(podman_cmd("secret", "inspect", "s1"), returncode=125,
                stderr='Error: inspecting secret: no such secret "s1"\n')
    assert secret.exists("s1") is False


def test_secrets_listed_leave_out_one_removed_before_the_inspect(fp, podman_cmd):
    fp.register(podman_cmd("secret", "ls", "--quiet"), stdout="id1\nid2\n")
    fp.register(podman_cmd("secret", "inspect", "id1", "id2"), returncode=125,
                stdout='[{"ID": "id1", "Spec": {"Name": "kept"}}]',
                stderr='Error: inspecting secret: no such secret "id2"\n')
    assert [secret.name_of(s) for s in secret.ls()] == ["kept"]
    fp.register(podman_cmd("secret", "ls", "--quiet"), stdout="id1\n")
    fp.register(podman_cmd("secret", "inspect", "id1"), returncode=125,
                stderr="Error: database is locked\n")
    with pytest.raises(errors.CommandError, match="database is locked"):
        secret.ls()  # any other failure is not a shorter list


def test_secret_value_goes_by_stdin_not_argv(fp, podman_cmd):
    value = secrets.token_urlsafe(16)
    received = []
    fp.register(podman_cmd("secret", "create", "s1", "-"), stdin_callable=received.append)
    secret.create("s1", value)
    assert received == [value.encode()]
    assert all(value not in arg for arg in fp.calls[0])


def test_stdin_reaches_a_real_child():
    text = f"{secrets.token_hex(8)}\nsecond line\n"
    assert runner.capture(["cat"], input=text).stdout == text


def test_timeout_kills_and_raises_124():
    with pytest.raises(errors.CommandError) as caught:
        runner.capture(["sleep", "5"], timeout=0.2)
    assert caught.value.returncode == 124


def test_missing_program_is_a_clear_error():
    name = f"devaipod-no-such-program-{secrets.token_hex(4)}"
    with pytest.raises(errors.ExecutableNotFound) as caught:
        runner.capture([name])
    assert name in caught.value.format_message()
    assert caught.value.exit_code == 127


def test_redact_masks_secret_env_values():
    value = secrets.token_hex(8)
    argv = ["podman", "run", "--env", f"OPENAI_API_KEY={value}", "--env", f"LANG={value}",
            f"GH_TOKEN={value}", f"DB_PASSWORD={value}"]
    assert runner.redact(argv) == [
        "podman", "run", "--env", "OPENAI_API_KEY=***", "--env", f"LANG={value}",
        "GH_TOKEN=***", "DB_PASSWORD=***",
    ]


def test_redact_masks_password_flags():
    value = secrets.token_hex(8)
    assert runner.redact(["login", "--password", value, "--user", value]) == [
        "login", "--password", "***", "--user", value,
    ]
    assert runner.redact([f"--password={value}", f"--token={value}"]) == [
        "--password=***", "--token=***",
    ]


def test_redact_masks_url_credentials():
    user, token = secrets.token_hex(4), secrets.token_hex(8)
    url = f"https://{user}:{token}@git.example.com/org/repo.git"
    [shown] = runner.redact([url])
    assert token not in shown and user not in shown
    assert shown.endswith("@git.example.com/org/repo.git")
    assert runner.redact(["https://git.example.com/x.git"]) == ["https://git.example.com/x.git"]


def test_secrets_stay_out_of_logs_and_errors(fp, caplog):
    value = secrets.token_hex(8)
    fp.register([fp.program("git"), fp.any()], returncode=128, stderr="fatal: denied\n")
    caplog.set_level(logging.DEBUG, logger="devaipod")
    with pytest.raises(errors.CommandError) as caught:
        runner.capture(["git", "clone", f"https://u:{value}@h/r.git", "--password", value])
    assert value not in caplog.text
    assert value not in caught.value.command_line
    assert value not in caught.value.format_message()


def test_timeout_error_is_redacted():
    value = secrets.token_hex(8)
    with pytest.raises(errors.CommandError) as caught:
        runner.capture(["sh", "-c", "exec sleep 5", "sh", "--password", value], timeout=0.2)
    assert value not in caught.value.command_line


def test_dry_run_prints_mutating_commands_and_runs_none(fp, capsys):
    runner.options.dry_run = True
    volume.create("v1", {"k": "v"})
    pod.create("p1")
    container.rm(["c 1"], force=True)
    expected = [podman.argv(volume.create_argv("v1", {"k": "v"})),
                podman.argv(pod.create_argv("p1")),
                podman.argv(container.rm_argv(["c 1"], force=True))]
    assert runner.options.planned == expected
    assert [shlex.split(line) for line in capsys.readouterr().out.splitlines()] == expected
    assert list(fp.calls) == []


def test_dry_run_still_runs_read_only_commands(fp, podman_cmd, capsys):
    runner.options.dry_run = True
    fp.register(podman_cmd("volume", "exists", "v1"), returncode=1)
    assert volume.exists("v1") is False
    assert fp.call_count(podman_cmd("volume", "exists", "v1")) == 1
    assert runner.options.planned == []
    assert capsys.readouterr().out == ""


def test_dry_run_never_prints_a_secret_value(fp, capsys):
    runner.options.dry_run = True
    value = secrets.token_urlsafe(16)
    secret.create("s1", value)
    assert value not in capsys.readouterr().out
    assert runner.options.planned == [podman.argv(secret.create_argv("s1"))]


def test_stream_returns_the_exit_code(fp, podman_cmd):
    fp.register(podman_cmd("logs", "c1"), returncode=7)
    assert podman.stream(container.logs_argv("c1")) == 7


def test_replace_under_dry_run_plans_and_exits(fp, capsys):
    runner.options.dry_run = True
    with pytest.raises(SystemExit) as caught:
        podman.replace(container.exec_argv("c1", ["sh"], interactive=True))
    assert caught.value.code == 0
    assert runner.options.planned == [podman.argv(container.exec_argv("c1", ["sh"], True))]
    assert list(fp.calls) == []


def test_with_env_exports_each_secret_file(tmp_path):
    values = {"DEVAIPOD_A": secrets.token_urlsafe(12), "DEVAIPOD_B": "two words $HOME 'q'"}
    for name, value in values.items():
        (tmp_path / name).write_text(value)
    argv = secret.with_env(["sh", "-c", 'printf "%s|%s" "$DEVAIPOD_A" "$DEVAIPOD_B"'])
    argv[2] = argv[2].replace(secret.ENV_DIR, str(tmp_path))  # the loader, on a local dir
    assert runner.capture(argv).stdout == "|".join(values.values())


def test_with_env_runs_the_command_when_there_are_no_secrets(tmp_path):
    argv = secret.with_env(["sh", "-c", "echo $#-$0", "zero"])
    argv[2] = argv[2].replace(secret.ENV_DIR, str(tmp_path))
    assert runner.capture(argv).stdout.strip() == "0-zero"


def test_watch_without_our_environment(monkeypatch) -> None:
    """inherit_env=False: the program sees ENV and nothing of ours (plumbum would add
    its own copy of our environment to any env= it is given)."""
    monkeypatch.setenv("DEVAIPOD_TEST_SECRET", "not for it")
    seen: list[str] = []
    result = runner.watch(["env"], seen.append, env={"PATH": "/usr/bin:/bin", "A": "b"},
                          lines="stdout", inherit_env=False)
    assert result.returncode == 0
    assert sorted(seen) == ["A=b", "PATH=/usr/bin:/bin"]
