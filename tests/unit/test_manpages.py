"""The man pages in man/ document every verb and every option click declares.

The option lists come from click's own objects (``devaipod.cli`` and each
verb's command), so adding an option without documenting it fails here,
naming the verb and the option. A verb that is a click group
(``devaipod opencode WORKSPACE send ...``) documents the options of all its
subcommands, nested ones included, in its own page.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from devaipod import cli, dispatch

ROOT = Path(__file__).resolve().parents[2]
MAN = ROOT / "man"
BIN = ROOT / "bin"
HELP = {"--help", "-h"}
SECTIONS = ("## NAME", "## SYNOPSIS", "## DESCRIPTION", "## OPTIONS", "## EXAMPLES",
            "## SEE ALSO")
# an option heading in the podman dialect: #### **--long**, **-s**=*VALUE*
HEADING = re.compile(r"^#### (.+)$", re.MULTILINE)
HEADING_OPT = re.compile(r"\*\*(-{1,2}[A-Za-z0-9][\w-]*)\*\*")


def command(verb: str) -> click.Command:
    ctx = click.Context(dispatch.cli)
    cmd = dispatch.cli.get_command(ctx, verb)
    assert cmd is not None, f"devaipod.cli.VERBS lists '{verb}' but it has no command"
    return cmd


def options(cmd: click.Command) -> list[click.Option]:
    return [p for p in cmd.params if isinstance(p, click.Option)]


def subcommands(cmd: click.Command, path: tuple[str, ...] = ()):
    """(path, command) for every subcommand of a group, nested ones too:
    ``(("session", "list"), <Command list>)``."""
    if not isinstance(cmd, click.Group):
        return
    ctx = click.Context(cmd)
    for name in cmd.list_commands(ctx):
        sub = cmd.get_command(ctx, name)
        assert sub is not None, f"{' '.join((*path, name))}: listed but has no command"
        yield (*path, name), sub
        yield from subcommands(sub, (*path, name))


def all_options(cmd: click.Command) -> list[tuple[str, click.Option]]:
    """(where, option) for the verb's own options and its subcommands' ones."""
    found = [("", opt) for opt in options(cmd)]
    for path, sub in subcommands(cmd):
        found += [(" ".join(path), opt) for opt in options(sub)]
    return found


def names(opt: click.Option) -> list[str]:
    """The option's names, long ones first: ``['--time', '-t']``."""
    found = [n for n in (*opt.opts, *opt.secondary_opts) if n not in HELP]
    return sorted(found, key=lambda n: not n.startswith("--"))


def heading_for(opt: click.Option) -> str:
    """The heading podman would write: ``#### **--time**, **-t**=*SECONDS*``."""
    value = "" if opt.is_flag else f"=*{opt.metavar or opt.name.upper()}*"
    return "#### " + ", ".join(f"**{n}**" for n in names(opt)) + value


GLOBAL = [n for opt in options(dispatch.cli) for n in names(opt)]
VERBS = sorted(cli.VERBS)


def page(name: str) -> str:
    path = MAN / f"{name}.1.md"
    assert path.is_file(), f"{path.relative_to(ROOT)} is missing"
    return path.read_text()


def documented(text: str) -> dict[str, str]:
    """Option name -> its heading line, for every ``#### **--opt**`` heading."""
    found: dict[str, str] = {}
    for heading in HEADING.findall(text):
        for name in HEADING_OPT.findall(heading):
            found[name] = heading
    return found


def mentioned(text: str, name: str) -> bool:
    return re.search(rf"\*\*{re.escape(name)}\*\*", text) is not None


@pytest.mark.parametrize("verb", VERBS)
def test_page_exists_in_podman_dialect(verb):
    text = page(f"devaipod-{verb}")
    first = text.splitlines()[0] if text else ""
    assert first == f"% devaipod-{verb} 1", f"devaipod-{verb}.1.md: first line is {first!r}"
    missing = [s for s in SECTIONS if not re.search(rf"^{s}$", text, re.MULTILINE)]
    assert not missing, f"devaipod-{verb}.1.md lacks the sections {missing}"


@pytest.mark.parametrize("verb", VERBS)
def test_every_option_is_documented(verb):
    """Each option of the verb, and of each of its subcommands when it is a
    group, has a ``#### **--long**, **-s**`` heading; the verb's global ones
    (also on ``devaipod`` itself) may just be named."""
    text = page(f"devaipod-{verb}")
    headings = documented(text)
    problems = []
    for where, opt in all_options(command(verb)):
        wanted = names(opt)
        if not wanted:
            continue
        wanted_in = f" of '{verb} {where}'" if where else ""
        if not where and set(wanted) <= set(GLOBAL):
            problems += [f"{n} (global: name it as **{n}**)" for n in wanted
                         if not mentioned(text, n)]
            continue
        problems += [f"{n}{wanted_in} (add '{heading_for(opt)}' under ## OPTIONS)"
                     for n in wanted if n not in headings]
        heading = headings.get(wanted[0], "")
        if heading and not opt.is_flag and "=*" not in heading:
            problems.append(f"{wanted[0]}{wanted_in} takes a value: its heading needs "
                            "'=*VALUE*'")
    assert not problems, f"man/devaipod-{verb}.1.md: undocumented: {', '.join(problems)}"


@pytest.mark.parametrize("verb", VERBS)
def test_no_documented_option_is_gone(verb):
    """A heading for an option the command no longer has is stale."""
    declared = {n for _where, opt in all_options(command(verb)) for n in names(opt)}
    stale = sorted(set(documented(page(f"devaipod-{verb}"))) - declared - HELP)
    assert not stale, f"man/devaipod-{verb}.1.md documents options {verb} lacks: {stale}"


@pytest.mark.parametrize("verb", VERBS)
def test_every_subcommand_is_named(verb):
    """A group verb's page names each subcommand that does something (not the
    groups between) in bold: ``**session list**``."""
    text = page(f"devaipod-{verb}")
    missing = [" ".join(path) for path, sub in subcommands(command(verb))
               if not isinstance(sub, click.Group) and f"**{' '.join(path)}**" not in text]
    assert not missing, f"man/devaipod-{verb}.1.md does not name the subcommands {missing}"


def test_group_options_are_collected():
    """The check above sees nested subcommands' options (opencode session list --json)."""
    group = click.Group("g", commands=[
        click.Group("session", commands=[
            click.Command("list", params=[click.Option(["--json"], is_flag=True)])]),
        click.Command("send", params=[click.Option(["-s", "--session"])]),
    ])
    found = {(where, names(opt)[0]) for where, opt in all_options(group)}
    assert found == {("session list", "--json"), ("send", "--session")}


@pytest.mark.parametrize("name", GLOBAL)
def test_global_option_in_devaipod_page(name):
    assert name in documented(page("devaipod")), (
        f"man/devaipod.1.md: global option {name} has no '#### **{name}**' heading")


@pytest.mark.parametrize("verb", VERBS)
def test_verb_listed_in_devaipod_page(verb):
    text = page("devaipod")
    assert f"**devaipod-{verb}(1)**" in text, (
        f"man/devaipod.1.md does not list **devaipod-{verb}(1)**")


def test_every_program_in_bin_has_a_page():
    programs = sorted(p.name for p in BIN.iterdir() if p.name.startswith("devaipod-"))
    assert programs, "bin/ has no devaipod-VERB programs"
    missing = [f"man/{p}.1.md" for p in programs if not (MAN / f"{p}.1.md").is_file()]
    assert not missing, f"programs in bin/ without a man page: {missing}"
