"""The devaipod dispatcher: version, verb suggestions, one-line errors, --debug."""

from __future__ import annotations

import difflib
import os
import secrets
import shlex
import subprocess
import sys
import types

import click
import pytest

from devaipod import __version__, cli, clikit, dispatch, podman
from devaipod.podman import volume

EXISTS = "Error: volume with name {name} already exists: volume already exists\n"


def run_main(args: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as caught:
        cli.main(args)
    out, err = capsys.readouterr()
    return caught.value.code, out, err


@pytest.fixture
def verb(monkeypatch):
    """Install a verb ``probe NAME`` that creates volume NAME (or raises ``failure``)."""
    state = types.SimpleNamespace(failure=None)

    @clikit.command("probe")
    @clikit.dry_run_option
    @click.argument("name")
    def probe(name):
        if state.failure is not None:
            raise state.failure
        volume.create(name)

    monkeypatch.setitem(cli.VERBS, "probe", "probe_for_tests")
    module = types.SimpleNamespace(cli=probe)
    monkeypatch.setitem(sys.modules, "devaipod.commands.probe_for_tests", module)
    return state


def test_version(capsys):
    """`devaipod --version` answers before importing click, with click's own words."""
    from click.testing import CliRunner

    code, out, _ = run_main(["--version"], capsys)
    assert code == 0
    assert __version__ in out.split()
    assert out == CliRunner().invoke(dispatch.cli, ["--version"]).output
    assert out == CliRunner().invoke(dispatch.cli, ["--debug", "--version"]).output
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "devaipod", "--version"],
                          capture_output=True, text=True)
    assert proc.stdout == out
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines()}
    assert not imported & {"click", "logging", "devaipod.dispatch"}


def test_unknown_verb_suggests_the_nearest(capsys, verb):
    name = sorted(cli.VERBS)[0]
    typo = name[:-1] + ("x" if name[-1] != "x" else "y")
    code, _, err = run_main([typo], capsys)
    [nearest] = difflib.get_close_matches(typo, cli.VERBS, n=1)
    assert code != 0
    assert f"did you mean '{nearest}'" in err


def test_program_name_is_the_verb():
    unknown = f"nosuch{secrets.token_hex(2)}"
    assert cli.program_args(f"/usr/bin/devaipod-{unknown}", ["x"]) == ["x"]
    verb = sorted(cli.VERBS)[0]
    assert cli.program_args(f"/usr/bin/devaipod-{verb}", ["x"]) == [verb, "x"]
    assert cli.program_args("devaipod", [verb]) == [verb]


def test_verb_runs_podman(fp, capsys, verb):
    name = secrets.token_hex(4)
    fp.register([fp.program("podman"), *podman.argv(volume.create_argv(name))[1:]])
    code, _, err = run_main(["probe", name], capsys)
    assert (code, err) == (0, "")
    assert fp.call_count([fp.program("podman"), fp.any()]) == 1


def test_podman_error_is_one_line_with_the_child_exit_code(fp, capsys, verb):
    name = secrets.token_hex(4)
    fp.register([fp.program("podman"), fp.any()], returncode=125,
                stderr="warning: noise\n" + EXISTS.format(name=name))
    code, out, err = run_main(["probe", name], capsys)
    assert code == 125
    assert len(err.splitlines()) == 1, err
    assert err.startswith("Error: ") and name in err
    assert "Traceback" not in err and out == ""


def test_debug_shows_the_command_and_the_traceback(fp, capsys, verb):
    name = secrets.token_hex(4)
    fp.register([fp.program("podman"), fp.any()], returncode=125, stderr=EXISTS.format(name=name))
    code, _, err = run_main(["--debug", "probe", name], capsys)
    assert code == 125
    assert "Traceback" in err
    logged = [shlex.split(line.split(" + ", 1)[1]) for line in err.splitlines() if " + " in line]
    assert logged == [podman.argv(volume.create_argv(name))]
    assert err.rstrip().splitlines()[-1].startswith("Error: ")


def test_internal_error_is_one_line_without_debug(capsys, verb):
    verb.failure = RuntimeError(secrets.token_hex(4))
    code, _, err = run_main(["probe", "x"], capsys)
    assert code == 70
    assert len(err.splitlines()) == 1 and str(verb.failure) in err
    assert "--debug" in err and "Traceback" not in err


def test_internal_error_raises_with_debug(capsys, verb):
    verb.failure = RuntimeError(secrets.token_hex(4))
    with pytest.raises(RuntimeError) as caught:
        cli.main(["probe", "--debug", "x"])
    assert caught.value is verb.failure


def test_dry_run_prints_the_plan_and_runs_nothing(fp, capsys, verb):
    name = secrets.token_hex(4)
    code, out, err = run_main(["probe", "--dry-run", name], capsys)
    assert (code, err) == (0, "")
    assert [shlex.split(line) for line in out.splitlines()] == [
        podman.argv(volume.create_argv(name))]
    assert list(fp.calls) == []


def one_commit_repo(repo):
    """A git repository at REPO with one empty commit (no global git config read)."""
    git_env = {"GIT_CONFIG_GLOBAL": "/dev/null", "HOME": str(repo.parent),
               "PATH": os.environ["PATH"], "GIT_AUTHOR_NAME": "A", "GIT_AUTHOR_EMAIL": "a@x",
               "GIT_COMMITTER_NAME": "A", "GIT_COMMITTER_EMAIL": "a@x"}
    subprocess.run(["git", "init", "-q", str(repo)], check=True, env=git_env)
    subprocess.run(["git", "-C", str(repo), "commit", "-q", "--allow-empty", "-m", "x"],
                   check=True, env=git_env)
    return repo


def test_up_dry_run_needs_no_podman_service(tmp_path):
    """Nothing to look up but checks (name free, images, network): the dry run prints the
    plan, and says which checks it could not make."""
    import os
    import subprocess

    repo = one_commit_repo(tmp_path / "proj")
    env = {**os.environ, "DEVAIPOD_PODMAN_URL": f"unix://{tmp_path}/no.sock",
           "DEVAIPOD_CONFIG": str(tmp_path / "none.toml"), "DEVAIPOD_STATE_DIR": str(tmp_path)}
    (tmp_path / "none.toml").write_text("")
    proc = subprocess.run([sys.executable, "-m", "devaipod", "up", "--dry-run",
                           "--use-default-devcontainer", "--name", "dry", str(repo)],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "pod create --name devaipod-dry" in proc.stdout
    assert "not checked in this dry run: pod exists devaipod-dry" in proc.stderr
    assert not list(tmp_path.glob("pod-tokens*"))  # the dry run saved nothing

    # a remote source's devcontainer.json is read by a container: one clear line
    proc = subprocess.run([sys.executable, "-m", "devaipod", "up", "--dry-run", "--name", "dry",
                           "https://example.invalid/o/r"],
                          capture_output=True, text=True, env=env, timeout=60)
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("Error:")]
    assert proc.returncode != 0 and len(errors) == 1 and "cannot reach podman" in errors[0]


def test_help_lists_every_verb_from_the_table_without_importing_them(tmp_path):
    """--help's one-line summaries come from cli.SUMMARIES (no verb is imported for it):
    each must be what the verb's own command says, and no verb may lack one."""
    ctx = click.Context(dispatch.cli)
    assert sorted(cli.SUMMARIES) == sorted(cli.VERBS)
    for verb in cli.VERBS:
        command = dispatch.cli.get_command(ctx, verb)
        assert command is not None
        assert cli.SUMMARIES[verb] == command.get_short_help_str(limit=10**6), verb
    code = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "devaipod", "--help"],
        capture_output=True, text=True,
        env={**os.environ, "COLUMNS": "80", "XDG_CACHE_HOME": str(tmp_path)})  # click renders
    assert code.returncode == 0
    assert "attach" in code.stdout and "Open tmux with" in code.stdout
    assert "devaipod.commands" not in code.stderr  # the import-time log
    assert " logging\n" not in code.stderr


def test_service_gator_is_gator(capsys):
    """The original's verb name runs the same command; --help lists the verb once."""
    from click.testing import CliRunner

    from devaipod.verbs import ALIASES

    assert set(ALIASES.values()) <= set(cli.VERBS) and not set(ALIASES) & set(cli.VERBS)
    ctx = click.Context(dispatch.cli)
    gator = dispatch.cli.get_command(ctx, "gator")
    assert dispatch.cli.get_command(ctx, "service-gator") is gator
    listed = [line.split()[0] for line in CliRunner().invoke(dispatch.cli, ["--help"]).output
              .split("Commands:")[1].splitlines() if line.startswith("  ")]
    assert "gator" in listed and "service-gator" not in listed
    assert cli.program_args("/usr/bin/devaipod-service-gator", ["show"]) == [
        "service-gator", "show"]


def test_version_and_quiet_after_a_verb(capsys, verb):
    code, out, _ = run_main(["probe", "--version"], capsys)
    assert code == 0 and out == f"devaipod, version {__version__}\n"


def test_quiet_keeps_warnings_only(monkeypatch, capsys):
    import logging

    @clikit.command("talk")
    def talk():
        log = logging.getLogger("devaipod.talk")
        log.info("step one")
        log.warning("careful")
        click.echo("result")

    monkeypatch.setitem(cli.VERBS, "talk", "talk_for_tests")
    monkeypatch.setitem(sys.modules, "devaipod.commands.talk_for_tests",
                        types.SimpleNamespace(cli=talk))
    monkeypatch.setattr(clikit.settings, "quiet", False)
    code, out, err = run_main(["talk"], capsys)
    assert (code, out) == (0, "result\n") and "step one" in err and "careful" in err
    code, out, err = run_main(["talk", "-q"], capsys)
    assert (code, out) == (0, "result\n") and "step one" not in err and "careful" in err
    logging.getLogger("devaipod").setLevel(logging.INFO)


def test_opencode_subcommand_help_needs_no_workspace(capsys, fp):
    """`opencode WS send --help` shows the help without looking WS up (no podman call)."""
    code, out, _ = run_main(["opencode", "no-such-ws", "send", "--help"], capsys)
    assert code == 0 and "Send MESSAGE" in out
    code, out, _ = run_main(["opencode", "no-such-ws", "mcp", "tools", "--help"], capsys)
    assert code == 0 and "--server" in out
    assert list(fp.calls) == []


def test_source_defaults_to_the_dotfiles_repository(tmp_path):
    """`up` without SOURCE uses [dotfiles] url; without that, one clear line."""
    repo = one_commit_repo(tmp_path / "dots")
    conf = tmp_path / "devaipod.toml"
    conf.write_text("")
    env = {**os.environ, "DEVAIPOD_PODMAN_URL": f"unix://{tmp_path}/no.sock",
           "DEVAIPOD_CONFIG": str(conf), "DEVAIPOD_STATE_DIR": str(tmp_path)}
    up = [sys.executable, "-m", "devaipod", "up", "--dry-run", "--use-default-devcontainer",
          "--name", "dots"]
    proc = subprocess.run(up, capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [
        "Error: no SOURCE given; give a repository URL or path, or set [dotfiles] url in "
        "devaipod.toml to use that one"]
    conf.write_text(f'[dotfiles]\nurl = "{repo}"\n')
    proc = subprocess.run(up, capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert f"io.devaipod.source={repo}" in proc.stdout
