"""devaipod.toml: locating, parsing, checking, documenting."""

from __future__ import annotations

import re
import tomllib
from datetime import timedelta
from pathlib import Path

import pytest

from devaipod.config import (
    BUILTIN_LLM_KEY_VARS,
    Config,
    SecretRef,
    config_path,
    key_lines,
    load_config,
    parse_config,
    schema_fields,
    schema_keys,
)
from devaipod.errors import DevaipodError

SRC = "~/.config/devaipod.toml"
MAN_PAGE = Path(__file__).parents[2] / "man" / "devaipod.toml.5.md"


def load(text: str) -> Config:
    return parse_config(text, SRC)


def error(text: str) -> str:
    with pytest.raises(DevaipodError) as info:
        load(text)
    message = info.value.format_message()
    assert "\n" not in message
    return message


# ---------------------------------------------------------------- finding the file


def test_explicit_path_wins(tmp_path: Path) -> None:
    env = {"DEVAIPOD_CONFIG": "/env.toml", "XDG_CONFIG_HOME": "/xdg", "HOME": "/home/u"}
    assert config_path(tmp_path / "a.toml", env) == (tmp_path / "a.toml", True)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"DEVAIPOD_CONFIG": "/env.toml", "XDG_CONFIG_HOME": "/xdg"}, ("/env.toml", True)),
        ({"XDG_CONFIG_HOME": "/xdg", "HOME": "/home/u"}, ("/xdg/devaipod.toml", False)),
        ({"XDG_CONFIG_HOME": "rel", "HOME": "/home/u"},
         ("/home/u/.config/devaipod.toml", False)),
        ({"HOME": "/home/u"}, ("/home/u/.config/devaipod.toml", False)),
    ],
)
def test_config_path_order(env: dict[str, str], expected: tuple[str, bool]) -> None:
    path, explicit = config_path(None, env)
    assert (str(path), explicit) == expected


def test_missing_default_file_means_defaults(tmp_path: Path) -> None:
    config = load_config(environ={"HOME": str(tmp_path)})
    assert config == Config()
    assert set(config.origins.values()) == {"default"}


@pytest.mark.parametrize("how", ["argument", "env"])
def test_missing_explicit_file_is_an_error(tmp_path: Path, how: str) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(DevaipodError, match=r"nope\.toml: no such file"):
        if how == "argument":
            load_config(missing, environ={})
        else:
            load_config(environ={"DEVAIPOD_CONFIG": str(missing)})


def test_reads_the_file(tmp_path: Path) -> None:
    (tmp_path / "devaipod.toml").write_text('default-image = "img"\n')
    config = load_config(environ={"XDG_CONFIG_HOME": str(tmp_path)})
    assert config.default_image == "img"
    assert config.origins["default-image"] == f"{tmp_path}/devaipod.toml:1"


def test_unreadable_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(DevaipodError, match="cannot read: Is a directory"):
        load_config(tmp_path, environ={})
    with pytest.raises(DevaipodError, match="cannot read: embedded null byte"):
        load_config("a\0b", environ={})
    (tmp_path / "bin.toml").write_bytes(b"a = '\xff'\n")
    with pytest.raises(DevaipodError, match=r"not UTF-8 text \(byte 5\)"):
        load_config(tmp_path / "bin.toml", environ={})


# ---------------------------------------------------------------- the Quick Start

QUICKSTART_LLM = """\
[trusted]
secrets = [
"ANTHROPIC_API_KEY=anthropic_api_key",
# "GH_TOKEN=gh_token",
]
"""

QUICKSTART_GH = """\
[trusted]
secrets = ["GH_TOKEN=gh_token"]
[service-gator.gh]
read = true
"""


def test_quickstart_llm_secret() -> None:
    config = load(QUICKSTART_LLM)
    assert config.trusted.secrets == (SecretRef("ANTHROPIC_API_KEY", "anthropic_api_key"),)
    assert not config.service_gator.active


def test_quickstart_global_read() -> None:
    config = load(QUICKSTART_GH)
    assert config.trusted.secrets == (SecretRef("GH_TOKEN", "gh_token"),)
    assert config.service_gator.gh.read
    assert config.service_gator.active


# ---------------------------------------------------------------- each table


def test_defaults() -> None:
    config = load("")
    assert config.default_image is None and config.api_image is None
    assert not config.container_nesting
    assert config.dotfiles is None
    assert config.service_gator.port == 8765 and config.service_gator.enabled is None
    assert config.orchestration.worker_timeout == timedelta(minutes=30)
    assert config.orchestration.worker.gator == "readonly"
    assert config.ssh.auto_config
    assert config.gpu.enabled is None and config.gpu.target == "workspace"
    assert config.podman.network is None
    assert config.llm_api_key_vars == BUILTIN_LLM_KEY_VARS


def test_top_level() -> None:
    config = load('default-image = "a"\napi-image = "b"\ncontainer-nesting = true\n')
    assert (config.default_image, config.api_image, config.container_nesting) == ("a", "b", True)


def test_env_and_trusted_env() -> None:
    config = load("""
[env]
allowlist = ["TZ", "LANG"]
[env.vars]
EDITOR = "vi"
[trusted.env]
allowlist = ["GH_HOST"]
vars = { JIRA_HOST = "https://jira" }
""")
    assert config.env.allowlist == ("TZ", "LANG")
    assert config.env.vars == {"EDITOR": "vi"}
    assert config.trusted.env.allowlist == ("GH_HOST",)
    assert config.trusted.env.vars == {"JIRA_HOST": "https://jira"}


def test_trusted_secrets_and_file_secrets() -> None:
    config = load('[trusted]\nsecrets = ["A=a"]\nfile_secrets = ["GOOGLE_CREDS=gcloud.json"]\n')
    assert config.trusted.secrets == (SecretRef("A", "a"),)
    assert config.trusted.file_secrets == (SecretRef("GOOGLE_CREDS", "gcloud.json"),)


def test_llm_env_extends_builtin_list() -> None:
    config = load('[llm]\nenv = ["MY_LLM_KEY", "OPENAI_API_KEY"]\n')
    assert config.llm_api_key_vars == (*BUILTIN_LLM_KEY_VARS, "MY_LLM_KEY")


def test_dotfiles() -> None:
    config = load('[dotfiles]\nurl = "https://github.com/me/dots"\nscript = "setup.sh"\n')
    assert config.dotfiles is not None
    assert (config.dotfiles.url, config.dotfiles.script) == ("https://github.com/me/dots",
                                                              "setup.sh")
    assert error("[dotfiles]\nscript = 'x'\n") == (
        f"{SRC}:1: missing key 'dotfiles.url'; [dotfiles] needs url = ...")


def test_service_gator() -> None:
    config = load("""
[service-gator]
port = 9000
[service-gator.gh]
graphql = "read"
[service-gator.gh.repos]
"o/r" = { read = true, create-draft = true, push-new-branch = true }
"o/*" = { read = true }
[service-gator.gh.prs]
"o/r#12" = { write = true }
[service-gator.gh.issues."o/r#7"]
read = true
[service-gator.jira.projects]
PROJ = { read = true, create = true }
[service-gator.jira.issues]
"PROJ-1" = { write = true }
""")
    gator = config.service_gator
    assert gator.port == 9000 and gator.active
    assert gator.gh.graphql == "read"
    repo = gator.gh.repos["o/r"]
    assert (repo.read, repo.create_draft, repo.push_new_branch, repo.write) == (
        True, True, True, False)
    assert gator.gh.repos["o/*"].read and not gator.gh.repos["o/*"].create_draft
    assert gator.gh.prs["o/r#12"].write and not gator.gh.prs["o/r#12"].read
    assert gator.gh.issues["o/r#7"].read
    assert gator.jira.projects["PROJ"].create and not gator.jira.projects["PROJ"].write
    assert gator.jira.issues["PROJ-1"].write


@pytest.mark.parametrize(
    ("text", "active"),
    [
        ("", False),
        ("[service-gator]\nenabled = true", True),
        ("[service-gator]\nenabled = false\n[service-gator.gh]\nread = true", False),
        ('[service-gator.jira.projects]\nX = {}', True),
    ],
)
def test_service_gator_auto_enable(text: str, active: bool) -> None:
    assert load(text).service_gator.active is active


def test_bind_home() -> None:
    config = load('[bind_home]\npaths = [".gitconfig"]\n[bind_home_workspace]\npaths = ["a"]\n')
    assert config.bind_home.paths == (".gitconfig",)
    assert config.bind_home_workspace.paths == ("a",)


@pytest.mark.parametrize(
    ("value", "expected"),
    [('"90s"', 90), ('"30m"', 1800), ('"2h"', 7200), ('"1h30m"', 5400), ("45", 45)],
)
def test_worker_timeout_durations(value: str, expected: int) -> None:
    config = load(f"[orchestration]\nenabled = true\nworker-timeout = {value}\n")
    assert config.orchestration.enabled
    assert config.orchestration.worker_timeout == timedelta(seconds=expected)


@pytest.mark.parametrize("value", ['"30"', '"m"', '""', '"0s"', "0", "-5", '"1d"', "1.5"])
def test_bad_durations(value: str) -> None:
    assert "expected a duration" in error(f"[orchestration]\nworker-timeout = {value}\n")


@pytest.mark.parametrize("gator", ["readonly", "inherit", "none"])
def test_worker_gator(gator: str) -> None:
    assert load(f'[orchestration.worker]\ngator = "{gator}"').orchestration.worker.gator == gator


def test_ssh_mcp_git_podman() -> None:
    config = load("""
[ssh]
auto-config = false
[mcp.docs]
url = "https://docs/mcp"
headers = { Authorization = "Bearer x" }
[mcp.off]
url = "http://off"
enabled = false
[git]
extra_hosts = ["git.example.com"]
[podman]
network = "devaipod"
""")
    assert not config.ssh.auto_config
    assert config.mcp["docs"].url == "https://docs/mcp" and config.mcp["docs"].enabled
    assert config.mcp["docs"].headers == {"Authorization": "Bearer x"}
    assert not config.mcp["off"].enabled
    assert config.git.extra_hosts == ("git.example.com",)
    assert config.podman.network == "devaipod"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("false", False), ('"auto"', None), ('"enabled"', True),
     ('"disabled"', False), ('"true"', True), ('"false"', False)],
)
def test_gpu_enabled(value: str, expected: bool | None) -> None:
    config = load(f'[gpu]\nenabled = {value}\ntarget = "all"\n')
    assert config.gpu.enabled is expected and config.gpu.target == "all"


# ---------------------------------------------------------------- errors


def test_unknown_key_suggests_the_nearest() -> None:
    text = "\n".join(["# comment"] * 5) + '\n[trusted]\nsecret = ["A=a"]\n'
    assert error(text) == (
        f"{SRC}:7: unknown key 'trusted.secret'; did you mean 'trusted.secrets'?")


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [
        ("[orchestration]\nworker_timeout = '1h'", "orchestration.worker-timeout"),
        ("[ssh]\nauto_config = true", "ssh.auto-config"),
        ("default_image = 'x'", "default-image"),
        ("[servicegator]\nport = 1", "service-gator"),
        ("[service-gator.gh.repos.'o/r']\ncreate_draft = true",
         'service-gator.gh.repos."o/r".create-draft'),
    ],
)
def test_documented_misspellings(text: str, suggestion: str) -> None:
    assert error(text).endswith(f"did you mean '{suggestion}'?")


def test_unknown_key_without_suggestion() -> None:
    assert error("[zzz]\nq = 1") == (
        f"{SRC}:1: unknown key 'zzz'; see devaipod.toml(5) for the valid keys")


@pytest.mark.parametrize(("table", "hint"), [("sidecar", "not supported"),
                                             ("secrets.gh", "use [trusted] secrets")])
def test_left_out_tables(table: str, hint: str) -> None:
    assert hint in error(f"[{table}]\nimage = 'x'\n")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("container-nesting = 'yes'", "'container-nesting': expected a boolean, got string 'yes'"),
        ("default-image = 3", "'default-image': expected a string, got integer 3"),
        ("[service-gator]\nport = '8765'", "'service-gator.port': expected a port number"),
        ("[service-gator]\nport = 70000", "'service-gator.port': expected a port number"),
        ("[service-gator]\nport = true", "'service-gator.port': expected a port number"),
        ("[env]\nallowlist = 'TZ'", "'env.allowlist': expected a list of environment variable"),
        ("[env]\nallowlist = ['A B']", "'env.allowlist': expected an environment variable name"),
        ("[env.vars]\nX = 1", "'env.vars': expected a string, got integer 1"),
        ("[env.vars]\n'1X' = 'a'", "'env.vars': expected an environment variable name"),
        ("[gpu]\nenabled = 'maybe'", "'gpu.enabled': expected true, false or \"auto\""),
        ("[gpu]\ntarget = 'none'", "'gpu.target': expected \"workspace\", \"agent\" or \"all\""),
        ("[service-gator.gh]\ngraphql = 'write'", "'service-gator.gh.graphql': expected"),
        ("env = 1", "'env': expected a table, got integer 1"),
        ("[mcp]\ndocs = 'http://x'", "'mcp.docs': expected a table, got string"),
        ("[mcp.docs]\nheaders = {}", "missing key 'mcp.docs.url'"),
        ("[service-gator.gh.repos]\nnoslash = {}",
         "'service-gator.gh.repos.noslash': expected a name like \"OWNER/REPO\""),
        ("[service-gator.gh.prs]\n'o/r' = {}", "expected a name like \"OWNER/REPO#N\""),
        ("[[mcp]]\nurl = 'x'", "'mcp': expected a table, got an array"),
    ],
)
def test_wrong_types(text: str, message: str) -> None:
    assert message in error(text)


@pytest.mark.parametrize(
    "entry", ['"FOO"', '"=x"', '"1A=x"', '"A="', '"A=b,c"', '"A=b c"', '"A-B=x"', "1", "[]"]
)
def test_bad_secret_specs(entry: str) -> None:
    message = error(f"[trusted]\nfile_secrets = [{entry}]\n")
    assert message.startswith(f"{SRC}:2: 'trusted.file_secrets': expected \"ENV=secret_name\"")
    assert message.endswith('write e.g. "ANTHROPIC_API_KEY=anthropic_api_key"')


def test_secret_env_given_twice() -> None:
    assert "sets A twice" in error('[trusted]\nsecrets = ["A=a", "A=b"]\n')


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a = 1\n[x\n", f"{SRC}:2: invalid TOML: Expected ']' at the end of a table "
                        "declaration (column 3)"),
        ("a = 1\na = 2\n", f"{SRC}:2: invalid TOML: Cannot overwrite a value (column 6)"),
        ("a =", f"{SRC}:1: invalid TOML: Invalid value (at end of document)"),
        ("a = " + "9" * 5000, f"{SRC}: invalid TOML: a number is too long"),
        ("a = " + "[" * 5000, f"{SRC}: invalid TOML: values nested too deeply"),
    ],
)
def test_bad_toml(text: str, message: str) -> None:
    assert error(text) == message


def test_line_numbers_for_dotted_and_inline_keys() -> None:
    text = """\
[service-gator]
gh.repos."o/r".read = 1
[service-gator.jira]
projects = { P = { read = "yes" } }
"""
    assert error(text).startswith(f"{SRC}:2: 'service-gator.gh.repos.\"o/r\".read'")
    assert error(text.replace("read = 1", "read = true")).startswith(
        f"{SRC}:4: 'service-gator.jira.projects.P.read'")


def test_key_lines() -> None:
    text = '# c\n[a]\nb = 1\nc."d.e" = 2\n[ "x" . y ]  # t\n\'z\' = [\n  "q=1",\n]\n'
    assert key_lines(text) == {
        ("a",): 2, ("a", "b"): 3, ("a", "c"): 4, ("a", "c", "d.e"): 4,
        ("x",): 5, ("x", "y"): 5, ("x", "y", "z"): 6,
    }


# ---------------------------------------------------------------- origins


def test_origins() -> None:
    config = load('[trusted]\nsecrets = ["A=a"]\n\n[mcp.docs]\nurl = "http://d"\n')
    assert config.origins["trusted.secrets"] == f"{SRC}:2"
    assert config.origins["mcp"] == f"{SRC}:4"
    assert config.origins["mcp.docs.url"] == f"{SRC}:5"
    assert config.origins["mcp.docs.enabled"] == "default"
    assert config.origins["service-gator.port"] == "default"
    assert config.origins["dotfiles.url"] == "default"


PLACEHOLDERS = {"NAME", '"OWNER/REPO"', '"OWNER/REPO#N"', "PROJECT", '"PROJECT-N"', '"HOST"'}


def test_every_schema_key_has_an_origin() -> None:
    expected = set()
    for key in schema_keys():
        parts = key.split(".")
        hole = next((i for i, part in enumerate(parts) if part in PLACEHOLDERS), None)
        expected.add(key if hole is None else ".".join(parts[:hole]))
    assert set(load("").origins) == expected


# ---------------------------------------------------------------- the man page


def documented_keys(text: str) -> dict[str, str]:
    """Dotted key -> its entry line, from ``## [table] and [table]`` headings and
    ``**key** (type, default)`` lines."""
    keys: dict[str, str] = {}
    tables: list[str] = []
    for line in text.splitlines():
        if line.startswith("#"):
            tables = [""] if "TOP-LEVEL" in line else re.findall(r"\[([^\]]+)\]", line)
        elif key := re.match(r"\*\*([\w-]+)\*\* \(", line):
            keys.update({f"{t}.{key[1]}" if t else key[1]: line for t in tables})
    return keys


def test_man_page_documents_every_key() -> None:
    documented = documented_keys(MAN_PAGE.read_text())
    known = set(schema_keys())
    assert not known - set(documented), f"undocumented: {sorted(known - set(documented))}"
    assert not set(documented) - known, f"unknown: {sorted(set(documented) - known)}"


def test_man_page_states_simple_defaults() -> None:
    documented = documented_keys(MAN_PAGE.read_text())
    for key, f in schema_fields():
        if isinstance(f.default, bool | int | str):
            shown = str(f.default).lower() if isinstance(f.default, bool) else f.default
            shown = f'"{shown}"' if isinstance(f.default, str) else shown
            assert f"default {shown})" in documented[key], key


def test_man_page_examples_load() -> None:
    blocks = re.findall(r"```\n(.*?)```", MAN_PAGE.read_text(), re.DOTALL)
    assert len(blocks) >= 3
    for block in blocks:
        tomllib.loads(block)
        load(block)


def test_man_page_has_quickstart_examples() -> None:
    text = MAN_PAGE.read_text()
    assert '"ANTHROPIC_API_KEY=anthropic_api_key"' in text
    assert "[service-gator.gh]\nread = true" in text
    assert text.startswith("% devaipod.toml 5\n")
