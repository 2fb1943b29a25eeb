"""One check of `up`/`run`'s options (request.from_options) for the CLI and the web's
New form: the same Request, the same messages."""

from __future__ import annotations

import json
import sys

import bottle
import pytest
from click.testing import CliRunner

from devaipod import dispatch, errors
from devaipod.web import actions, jobs
from devaipod.workspace import request
from devaipod.workspace.request import Request, cli_args, from_options, split_sources

SRC = "https://github.com/o/r"
DEVCONTAINER = '{"image": "quay.io/x/y:1", // a comment\n "containerEnv": {"A": "b"}}'
EVERYTHING = {"name": "w1", "image": "img:1", "network": "net", "title": "  A  title ",
              "mcp": ["docs=http://127.0.0.1:9000/mcp", "more=https://m.example/mcp"],
              "service_gator": ["github:o/r:read", "gitlab:g/p:read"],
              "service_gator_image": "gator:1", "service_gator_ro": True,
              "no_auto_approve": True, "devcontainer_json": DEVCONTAINER,
              "use_default_devcontainer": True, "trust_source": True, "pull": "never"}


def test_every_option_makes_its_field():
    r = from_options(SRC, "run", "do it", EVERYTHING)
    assert r == Request(SRC, "run", task="do it", name="w1", image="img:1", network="net",
                        title="A title", mcp=("docs=http://127.0.0.1:9000/mcp",
                                              "more=https://m.example/mcp"),
                        auto_approve=False, devcontainer_json=DEVCONTAINER,
                        use_default_devcontainer=True,
                        service_gator=("github:o/r:read", "gitlab:g/p:read"),
                        service_gator_image="gator:1", service_gator_ro=True,
                        trust_source=True, pull="never")


def test_cli_args_make_the_same_request_again():
    """The web's job runs `devaipod run ARGS`: click parses them back into the Request."""
    r = from_options(SRC, "run", "do it", EVERYTHING)
    seen = []
    argv = cli_args(r)
    assert argv[-3:] == ["--", SRC, "do it"]

    def capture(source, mode, task, options):
        seen.append(from_options(source, mode, task, options))
        raise errors.DevaipodError("stop here")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(request, "from_options", capture)
        result = CliRunner().invoke(dispatch.cli, ["run", *argv])
    assert "stop here" in result.output, result.output
    assert seen == [r]


BAD = [
    ({"mcp": ["docs"]}, "--mcp 'docs': expected NAME=URL; e.g. --mcp docs=http://127.0.0.1:9000/mcp"),
    ({"mcp": ["=http://x"]}, "--mcp '=http://x': expected NAME=URL"),
    ({"mcp": ["docs=127.0.0.1:9000"]}, "--mcp 'docs=127.0.0.1:9000': expected NAME=URL"),
    ({"service_gator": ["jira:P"]}, "scope 'jira:P': only GitHub scopes"),
    ({"service_gator": ["github:o/r:fly"]}, "unknown permission 'fly'"),
    ({"pull": "sometimes"}, "--pull 'sometimes': expected missing, always or never"),
    ({"title": "a\u202eb"}, "a title is one line of at most 200 printable characters"),
    ({"name": "bad name!"}, "--name 'bad name!': expected letters, digits"),
    ({"devcontainer_json": "{not json"}, "--devcontainer-json"),
    ({"mcp": "docs=http://x"}, "--mcp: expected a list of texts"),
    ({"no_auto_approve": "yes"}, "--no-auto-approve: expected true or false"),
    ({"image": 3}, "--image: expected text"),
    ({"bogus": 1}, "unknown option 'bogus'"),
]


@pytest.mark.parametrize(("options", "message"), BAD)
def test_a_bad_option_is_one_clear_error(options, message):
    with pytest.raises(errors.DevaipodError) as raised:
        from_options(SRC, "up", None, options)
    assert message in raised.value.format_message()


def cli_error(args: list[str]) -> str:
    result = CliRunner().invoke(dispatch.cli, ["up", *args, SRC])
    assert result.exit_code != 0
    return result.output


def web_error(body: dict) -> str:
    with pytest.raises(bottle.HTTPResponse) as raised:
        actions.creation_requests({"source": SRC, "mode": "up", **body})
    assert raised.value.status_code == 400
    return json.loads(raised.value.body)["error"]


@pytest.mark.parametrize(("args", "body"), [
    (["--mcp", "docs"], {"mcp": ["docs"]}),
    (["--mcp", "a=http://x", "--mcp", "b"], {"mcp": ["a=http://x", "b"]}),
    (["--service-gator", "github:o/r:fly"], {"gator": ["github:o/r:fly"]}),
    (["--title", "x\u202ey"], {"title": "x\u202ey"}),
    (["--devcontainer-json", "{nope"], {"devcontainer_json": "{nope"}),
])
def test_the_cli_and_the_web_refuse_alike(args, body):
    """The same message, word for word, from `devaipod up` and from POST /api/pods."""
    message = web_error(body)
    assert f"Error: {message}" in cli_error(args)


def test_both_go_through_from_options(monkeypatch):
    calls = []

    def spy(source, mode, task, options):
        calls.append((source, mode, dict(options)))
        raise errors.DevaipodError("checked")

    monkeypatch.setattr(request, "from_options", spy)
    assert "checked" in cli_error(["--mcp", "a=http://x", "--no-auto-approve"])
    assert web_error({"mcp": ["a=http://x"], "no_auto_approve": True}) == "checked"
    (_s, _m, cli_opts), (_s2, _m2, web_opts) = calls
    assert cli_opts["mcp"] == ("a=http://x",) and cli_opts["no_auto_approve"] is True
    assert web_opts == {"mcp": ["a=http://x"], "no_auto_approve": True}


def test_several_sources_make_a_request_each():
    made = actions.creation_requests({"source": f"{SRC}\n https://github.com/o/s\n{SRC}\n",
                                      "mode": "up", "mcp": ["d=http://x/mcp"],
                                      "title": "batch"})
    assert [r.source for r in made] == [SRC, "https://github.com/o/s"]
    assert all(r.mcp == ("d=http://x/mcp",) and r.title == "batch" for r in made)
    argvs = [jobs.creation_argv(r) for r in made]
    assert argvs[1] == [sys.executable, "-m", "devaipod", "up", "--progress=json",
                        "--title", "batch", "--mcp", "d=http://x/mcp", "--",
                        "https://github.com/o/s"]


def test_a_name_is_for_one_source_only():
    assert "a name is for one workspace" in web_error({"source": f"{SRC} {SRC}x",
                                                       "name": "w"})


def test_split_sources_is_the_tuis():
    from devaipod.tui import view

    assert split_sources("a\n b a\n\nc") == view.launch_sources("a\n b a\n\nc") == \
        ["a", "b", "c"]


def test_the_limits_are_checked_once_and_made_again_by_cli_args():
    from devaipod.workspace.request import cli_args, from_options

    r = from_options("https://example.com/o/r", "up", None,
                     {"cpus": 1.5, "memory": "512m", "pids_limit": 128})
    assert (r.cpus, r.memory, r.pids_limit) == (1.5, "512m", 128)
    again = cli_args(r)
    assert again[again.index("--cpus") + 1] == "1.5"
    assert again[again.index("--pids-limit") + 1] == "128"
    for bad in ({"memory": "lots"}, {"cpus": "-1"}, {"pids_limit": "many"},
                {"pids_limit": True}):
        with pytest.raises(errors.DevaipodError, match=r"^--(memory|cpus|pids-limit): "):
            from_options("https://example.com/o/r", "up", None, bad)
