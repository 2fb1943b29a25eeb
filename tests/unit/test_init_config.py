"""devaipod init and devaipod config (podman faked with fp, the CLI run by CliRunner)."""

from __future__ import annotations

import json
import secrets
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from devaipod import clikit, config, dispatch
from devaipod.commands import init as init_cmd
from devaipod.config_schema import SecretRef

NO_SUCH = 'Error: inspecting secret: no such secret "{name}"\n'


@pytest.fixture(autouse=True)
def _clean(monkeypatch, tmp_path):
    """No --config left over from another test; no credentials from the real environment."""
    monkeypatch.setattr(clikit.settings, "config", None)
    for var in ("DEVAIPOD_CONFIG", "ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GH_TOKEN",
                "MY_LLM_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setattr(init_cmd, "interactive", lambda: False)


@pytest.fixture
def conf(tmp_path, monkeypatch) -> Path:
    for var in ("GH_TOKEN", "GITLAB_TOKEN", "FORGEJO_TOKEN"):  # the host's are not the test's
        monkeypatch.delenv(var, raising=False)
    return tmp_path / "cfg" / "devaipod.toml"


def run(args: list[str], input: str | None = None):
    clikit.settings.config = None  # each run is a new process: --config does not carry over
    return CliRunner().invoke(dispatch.cli, args, input=input, catch_exceptions=False)


class FakeSecrets:
    """Registers `podman secret inspect/rm/create` for names; records create's stdin."""

    def __init__(self, fp, podman_cmd):
        self.fp, self.cmd = fp, podman_cmd
        self.stdin: dict[str, list[bytes]] = {}

    def missing(self, name: str) -> None:
        self.fp.register(self.cmd("secret", "inspect", name), returncode=125,
                         stderr=NO_SUCH.format(name=name))

    def existing(self, name: str) -> None:
        self.fp.register(self.cmd("secret", "inspect", name), stdout=f'[{{"ID": "{name}"}}]')

    def removable(self, name: str) -> None:
        self.fp.register(self.cmd("secret", "rm", name), stdout=name)

    def creatable(self, name: str) -> None:
        received = self.stdin.setdefault(name, [])
        self.fp.register(self.cmd("secret", "create", name, "-"),
                         stdin_callable=received.append)

    def argvs(self) -> list[list[str]]:
        return [[str(a) for a in call] for call in self.fp.calls]


@pytest.fixture
def podman_secrets(fp, podman_cmd):
    return FakeSecrets(fp, podman_cmd)


def words(argvs: list[list[str]]) -> list[tuple[str, ...]]:
    """Each podman call as its words after ``--url URL``."""
    return [tuple(argv[4:]) for argv in argvs]


# ---------------------------------------------------------------- init


def test_init_non_interactive_creates_secrets_from_the_environment(
        conf, monkeypatch, podman_secrets):
    llm, gh = secrets.token_urlsafe(24), "ghp_" + secrets.token_hex(12)
    monkeypatch.setenv("ANTHROPIC_API_KEY", llm)
    monkeypatch.setenv("GH_TOKEN", gh)
    forgejo = secrets.token_hex(20)
    monkeypatch.setenv("FORGEJO_TOKEN", forgejo)
    monkeypatch.delenv("GITLAB_TOKEN", raising=False)
    podman_secrets.existing("fj")  # --forgejo-secret: an existing secret, replaced
    podman_secrets.removable("fj")
    podman_secrets.creatable("fj")
    podman_secrets.missing("anthropic_api_key")
    podman_secrets.creatable("anthropic_api_key")
    podman_secrets.existing("gh_token")  # replaced: rm, then create
    podman_secrets.removable("gh_token")
    podman_secrets.creatable("gh_token")

    result = run(["init", "--config", str(conf), "--dotfiles", "https://github.com/o/dots",
                  "--forgejo-secret", "fj"])

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(conf)
    assert words(podman_secrets.argvs()) == [
        ("secret", "inspect", "anthropic_api_key"),
        ("secret", "create", "anthropic_api_key", "-"),
        ("secret", "inspect", "gh_token"),
        ("secret", "rm", "gh_token"),
        ("secret", "create", "gh_token", "-"),
        ("secret", "inspect", "fj"),
        ("secret", "rm", "fj"),
        ("secret", "create", "fj", "-"),
    ]
    # the values travel on stdin only: never in argv, the file or the output
    assert podman_secrets.stdin == {"anthropic_api_key": [llm.encode()],
                                    "gh_token": [gh.encode()], "fj": [forgejo.encode()]}
    assert "GITLAB_TOKEN is not set: left out" in result.stderr
    text = conf.read_text()
    for value in (llm, gh, forgejo):
        assert all(value not in arg for argv in podman_secrets.argvs() for arg in argv)
        assert value not in text
        assert value not in result.output
    assert "created podman secret anthropic_api_key" in result.stderr
    assert "replaced podman secret gh_token" in result.stderr

    loaded = config.load_config(conf)
    assert loaded.trusted.secrets == (SecretRef("ANTHROPIC_API_KEY", "anthropic_api_key"),
                                      SecretRef("GH_TOKEN", "gh_token"),
                                      SecretRef("FORGEJO_TOKEN", "fj"))
    assert loaded.dotfiles is not None and loaded.dotfiles.url == "https://github.com/o/dots"
    # the hints are there, commented out
    for hint in ("# [service-gator.gh]", "# read = true", "# [env]", "# default-image ="):
        assert hint in text


def test_init_refuses_to_overwrite_without_force(conf):
    conf.parent.mkdir(parents=True)
    conf.write_text("# mine\n")
    result = CliRunner().invoke(dispatch.cli, ["init", "--config", str(conf)])
    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert "already exists" in line and "--force" in line
    assert conf.read_text() == "# mine\n"  # and no podman call (fp refuses any)


def test_init_force_overwrites(conf):
    conf.parent.mkdir(parents=True)
    conf.write_text("# mine\n")
    result = run(["init", "--config", str(conf), "--force", "--dotfiles", "git@h:o/d.git"])
    assert result.exit_code == 0, result.output
    loaded = config.load_config(conf)
    assert loaded.dotfiles.url == "git@h:o/d.git"
    assert loaded.trusted.secrets == ()
    assert "ANTHROPIC_API_KEY is not set" in result.stderr


def test_init_writes_the_default_path(tmp_path, podman_secrets, monkeypatch):
    result = run(["init", "--no-input"])
    default = tmp_path / "home" / ".config" / "devaipod.toml"
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(default)
    assert config.load_config(default).trusted.secrets == ()


def test_init_reuses_named_secrets_and_lists_other_llm_vars(conf, podman_secrets):
    podman_secrets.existing("my-llm")
    podman_secrets.existing("gh")
    result = run(["init", "--config", str(conf), "--llm-env", "MY_LLM_KEY",
                  "--llm-secret", "my-llm", "--github-secret", "gh"])
    assert result.exit_code == 0, result.output
    assert all(argv[4:6] == ["secret", "inspect"] for argv in podman_secrets.argvs())
    loaded = config.load_config(conf)
    assert loaded.trusted.secrets == (SecretRef("MY_LLM_KEY", "my-llm"),
                                      SecretRef("GH_TOKEN", "gh"))
    assert "MY_LLM_KEY" in loaded.llm_api_key_vars  # so the key reaches the agent
    assert "using the existing podman secret my-llm" in result.stderr


def test_init_named_secret_that_is_missing_is_an_error(conf, podman_secrets):
    podman_secrets.missing("nope")
    result = CliRunner().invoke(dispatch.cli, ["init", "--config", str(conf),
                                          "--github-secret", "nope"])
    assert result.exit_code == 1
    assert "'nope' does not exist" in result.stderr
    assert not conf.exists()


def test_init_interactive_reads_keys_without_echo(conf, monkeypatch, podman_secrets):
    monkeypatch.setattr(init_cmd, "interactive", lambda: True)
    key = "sk-" + secrets.token_urlsafe(24)
    gitlab = "glpat-" + secrets.token_urlsafe(16)
    podman_secrets.missing("openai_api_key")
    podman_secrets.creatable("openai_api_key")
    podman_secrets.missing("gitlab_token")
    podman_secrets.creatable("gitlab_token")
    # no GitHub token, a GitLab token, no Forgejo token
    answers = ["https://github.com/o/dots", "OPENAI_API_KEY", key, "", gitlab, ""]

    result = run(["init", "--config", str(conf)], input="\n".join(answers) + "\n")

    assert result.exit_code == 0, result.output
    assert "Dotfiles repository URL" in result.output
    assert "GitLab token (GITLAB_TOKEN)" in result.output
    assert "Forgejo token (FORGEJO_TOKEN)" in result.output
    assert podman_secrets.stdin == {"openai_api_key": [key.encode()],
                                    "gitlab_token": [gitlab.encode()]}
    for value in (key, gitlab):
        assert value not in result.output  # hidden input is not echoed
        assert all(value not in arg for argv in podman_secrets.argvs() for arg in argv)
        assert value not in conf.read_text()
    loaded = config.load_config(conf)
    assert loaded.trusted.secrets == (SecretRef("OPENAI_API_KEY", "openai_api_key"),
                                      SecretRef("GITLAB_TOKEN", "gitlab_token"))
    assert loaded.dotfiles.url == "https://github.com/o/dots"


def test_init_no_input_asks_nothing_on_a_terminal(conf, monkeypatch):
    monkeypatch.setattr(init_cmd, "interactive", lambda: True)
    result = run(["init", "--config", str(conf), "--no-input"])
    assert result.exit_code == 0, result.output
    assert "?" not in result.output and "URL" not in result.output


def test_init_rejects_bad_names(conf):
    result = CliRunner().invoke(dispatch.cli, ["init", "--config", str(conf),
                                              "--llm-secret", "a/b"])
    assert result.exit_code == 2
    assert "--llm-secret" in result.output
    result = CliRunner().invoke(dispatch.cli, ["init", "--config", str(conf), "--llm-env", "1X"])
    assert result.exit_code == 2
    assert not conf.exists()


def test_rendered_file_escapes_strings():
    text = init_cmd.render('https://h/"q"\\\x7f', [], "ANTHROPIC_API_KEY")
    assert tomllib.loads(text)["dotfiles"]["url"] == 'https://h/"q"\\\x7f'


# ---------------------------------------------------------------- config


SAMPLE = """\
default-image = "quay.io/me/devenv:1"

[env]
allowlist = ["TZ"]

[env.vars]
EDITOR = "vim"
OPENAI_API_KEY = "sk-plain-value"
HTTPS_PROXY = "http://user:hunter2@proxy:3128"

[trusted]
secrets = ["GH_TOKEN=gh_token"]

[trusted.env.vars]
DB_PASSWORD = "pw-value"

[dotfiles]
url = "https://me:tok-value@github.com/me/dots"

[mcp.docs]
url = "https://docs.example/mcp?api_key=q-value&x=1"
headers = { Authorization = "Bearer h-value" }
"""
SECRET_VALUES = ("sk-plain-value", "hunter2", "pw-value", "tok-value", "q-value", "h-value")


def shown_keys(path: Path) -> set[str]:
    """The keys of ``origins``, less ``mcp``: [mcp.docs] is shown by its own keys."""
    keys = set(config.load_config(path).origins)
    assert {"mcp", "mcp.docs.url"} <= keys
    return keys - {"mcp"}


@pytest.fixture
def sample(tmp_path) -> Path:
    path = tmp_path / "devaipod.toml"
    path.write_text(SAMPLE)
    return path


def test_config_show_masks_secrets_and_reports_origins(sample):
    result = run(["config", "show", "--config", str(sample)])
    assert result.exit_code == 0, result.output
    for value in SECRET_VALUES:
        assert value not in result.output
    lines = {line.split(" = ", 1)[0]: line for line in result.stdout.splitlines()
             if not line.startswith("#")}
    src = config.display_path(sample)
    assert lines["default-image"] == f'default-image = "quay.io/me/devenv:1"  # {src}:1'
    assert lines["env.allowlist"] == f'env.allowlist = ["TZ"]  # {src}:4'
    assert lines["env.vars"] == (
        'env.vars = { EDITOR = "vim", OPENAI_API_KEY = "***", '
        f'HTTPS_PROXY = "http://***@proxy:3128" }}  # {src}:6')
    assert lines["trusted.secrets"] == f'trusted.secrets = ["GH_TOKEN=gh_token"]  # {src}:12'
    assert lines["trusted.env.vars"].startswith('trusted.env.vars = { DB_PASSWORD = "***" }')
    assert lines["dotfiles.url"].startswith('dotfiles.url = "https://***@github.com/me/dots"')
    assert lines["mcp.docs.headers"] == (
        f'mcp.docs.headers = {{ Authorization = "***" }}  # {src}:22')
    assert "api_key=***&x=1" in lines["mcp.docs.url"]
    assert lines["ssh.auto-config"] == "ssh.auto-config = true  # default"
    assert lines["orchestration.worker-timeout"] == (
        'orchestration.worker-timeout = "30m"  # default')
    assert lines["api-image"] == "api-image = (unset)  # default"
    # every key the loader knows is shown (a named table with entries: by its entries)
    assert set(lines) == shown_keys(sample)


def test_config_show_json_shape(sample):
    result = run(["--config", str(sample), "config", "show", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"path", "values"}
    assert data["path"] == str(sample)
    values = data["values"]
    assert all(set(item) == {"value", "origin"} for item in values.values())
    assert set(values) == shown_keys(sample)
    src = config.display_path(sample)
    assert values["default-image"] == {"value": "quay.io/me/devenv:1", "origin": f"{src}:1"}
    assert values["env.vars"]["value"]["OPENAI_API_KEY"] == "***"
    assert values["mcp.docs.headers"]["value"] == {"Authorization": "***"}
    assert values["trusted.secrets"]["value"] == ["GH_TOKEN=gh_token"]
    assert values["orchestration.worker-timeout"] == {"value": "30m", "origin": "default"}
    assert values["api-image"] == {"value": None, "origin": "default"}
    assert values["service-gator.gh.repos"] == {"value": {}, "origin": "default"}
    for value in SECRET_VALUES:
        assert value not in result.stdout


def test_config_show_without_a_file_shows_the_defaults(tmp_path):
    result = run(["config", "show", "--json"])
    assert result.exit_code == 0, result.output
    values = json.loads(result.stdout)["values"]
    assert {item["origin"] for item in values.values()} == {"default"}
    assert set(values) >= {"default-image", "dotfiles.url", "mcp", "llm.env"}


def test_config_show_invalid_file_is_one_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[trusted]\nsecret = []\n")
    result = CliRunner().invoke(dispatch.cli, ["config", "show", "--config", str(bad)])
    assert result.exit_code == 1
    assert f"{config.display_path(bad)}:2: unknown key 'trusted.secret'" in result.stderr


def test_config_path(sample, tmp_path, monkeypatch):
    result = run(["config", "path", "--config", str(sample)])
    assert (result.exit_code, result.stdout) == (0, f"{sample}\n")
    assert "exists" in result.stderr
    monkeypatch.setenv("DEVAIPOD_CONFIG", str(tmp_path / "none.toml"))
    data = json.loads(run(["config", "path", "--json"]).stdout)
    assert data == {"path": str(tmp_path / "none.toml"), "exists": False,
                    "source": "DEVAIPOD_CONFIG"}
