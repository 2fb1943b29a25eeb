"""What a user asks for when a workspace is made: `up`/`run`'s options, the web's form.

Both the CLI and the control plane build a :class:`Request` with
:func:`from_options` (which checks every option, with the CLI's messages) and
hand it to ``workspace.create.create()``; nothing else decides how a workspace
is made. The control plane runs ``devaipod up|run`` with :func:`cli_args`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from devaipod import errors
from devaipod.config_schema import Config

if TYPE_CHECKING:
    from devaipod.forgeapi import Details
    from devaipod.source import Source


@dataclass(frozen=True)
class Request:
    source: str
    mode: str = "up"  # "up": an idle agent; "run": the task is sent
    task: str | None = None
    name: str | None = None
    image: str | None = None
    network: str | None = None
    title: str | None = None
    mcp: tuple[str, ...] = ()  # NAME=URL
    auto_approve: bool = True
    devcontainer_json: str | None = None
    use_default_devcontainer: bool = False
    service_gator: tuple[str, ...] = ()  # scopes
    service_gator_image: str | None = None
    service_gator_ro: bool = False
    trust_source: bool = False
    # rebuild: read devcontainer.json (and a build's context) from this workspace volume,
    # where the user may have edited it, when it has one (not for an untrusted PR)
    workspace_volume: str | None = None
    pull: str | None = None  # --pull: when images are pulled (else [podman] pull)
    # --cpus, --memory ("512m", "4g"), --pids-limit of the agent and worker: else [limits]
    cpus: float | None = None
    memory: str | None = None
    pids_limit: int | None = None
    egress: str | None = None  # --egress: "open" or "allow-list" (else [network] egress)
    allow: tuple[str, ...] = ()  # --allow: hosts added to [network] allow


MODES = ("up", "run")
PULL = ("missing", "always", "never")
TITLE_MAX = 200
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
TEXT_OPTIONS = ("name", "image", "network", "title", "service_gator_image",
                "devcontainer_json", "pull", "egress")
LIST_OPTIONS = ("mcp", "service_gator", "allow")
EGRESS = ("open", "allow-list")
FLAG_OPTIONS = ("no_auto_approve", "use_default_devcontainer", "service_gator_ro",
                "trust_source")
LIMIT_OPTIONS = ("cpus", "memory", "pids_limit")  # [limits] cpus, memory, pids


def from_options(source: str, mode: str, task: str | None, options: Mapping[str, Any]
                 ) -> Request:
    """The Request of `up`/`run`'s SOURCE, TASK and options (click's names: ``mcp``,
    ``no_auto_approve``, ...), every option checked: the one check of the CLI and the
    control plane's New form. A mistake is a DevaipodError naming the CLI's option."""
    unknown = set(options) - {*TEXT_OPTIONS, *LIST_OPTIONS, *FLAG_OPTIONS, *LIMIT_OPTIONS}
    if unknown:
        raise errors.DevaipodError(f"unknown option {sorted(unknown)[0]!r}")
    if mode not in MODES:
        raise errors.DevaipodError(f"mode {mode!r}: expected up or run")
    source = _text(source, "SOURCE")
    if not source:
        raise errors.DevaipodError("no SOURCE given", "give a repository URL or path")
    text: dict[str, Any] = {k: _text(options.get(k), f"--{k.replace('_', '-')}") or None
                            for k in TEXT_OPTIONS}
    lists: dict[str, Any] = {
        k: tuple(s.strip() for s in _strings(options.get(k), f"--{k.replace('_', '-')}")
                 if s.strip()) for k in LIST_OPTIONS}
    flags: dict[str, Any] = {k: _flag(options.get(k), f"--{k.replace('_', '-')}")
                             for k in FLAG_OPTIONS}
    for flag in lists["mcp"]:
        parse_mcp(flag)
    from devaipod.workspace.gator import check_scopes

    check_scopes(lists["service_gator"])
    if text["name"] and not NAME.match(layout_short(text["name"])):
        raise errors.DevaipodError(f"--name {text['name']!r}: expected letters, digits, "
                                   "'.', '_' and '-'", "e.g. --name fix-login")
    if text["pull"] and text["pull"] not in PULL:
        raise errors.DevaipodError(f"--pull {text['pull']!r}: expected missing, always or never")
    if text["egress"] and text["egress"] not in EGRESS:
        raise errors.DevaipodError(f"--egress {text['egress']!r}: expected open or allow-list")
    if lists["allow"]:
        from devaipod.workspace import egress

        lists["allow"] = tuple(egress.check(lists["allow"]))
    if text["title"] is not None:
        text["title"] = check_title(text["title"]) or None
    if text["devcontainer_json"]:
        from devaipod import devcontainer

        devcontainer.parse(text["devcontainer_json"], "--devcontainer-json")
    auto_approve = not flags.pop("no_auto_approve")
    return Request(source, mode, task=_text(task, "TASK") or None, auto_approve=auto_approve,
                   **text, **lists, **flags, **_limits(options))


def _limits(options: Mapping[str, Any]) -> dict[str, Any]:
    """--cpus, --memory and --pids-limit, checked as [limits] is (config_schema's kinds)."""
    from devaipod.config_schema import COUNT, CPUS, SIZE, Invalid

    kinds = {"cpus": CPUS, "memory": SIZE, "pids_limit": COUNT}
    out: dict[str, Any] = {}
    for key, kind in kinds.items():
        value = options.get(key)
        if value in (None, ""):
            continue
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise errors.DevaipodError(f"--{key.replace('_', '-')}: expected {kind.name}")
        try:
            converted = kind.convert(value)
        except Invalid as exc:
            raise errors.DevaipodError(f"--{key.replace('_', '-')}: {exc.reason}",
                                       exc.hint or "e.g. --cpus 2 --memory 4g "
                                       "--pids-limit 4096") from None
        out[key] = str(value).strip() if key == "memory" else converted
    return out


def cli_args(r: Request) -> list[str]:
    """`devaipod up|run`'s arguments that make R again (``from_options`` of them is R)."""
    argv: list[str] = []
    for key in TEXT_OPTIONS:
        if getattr(r, key):
            argv += [f"--{key.replace('_', '-')}", getattr(r, key)]
    for key in LIST_OPTIONS:
        for value in getattr(r, key):
            argv += [f"--{key.replace('_', '-')}", value]
    flags = {"no_auto_approve": not r.auto_approve, "use_default_devcontainer":
             r.use_default_devcontainer, "service_gator_ro": r.service_gator_ro,
             "trust_source": r.trust_source}
    argv += [f"--{k.replace('_', '-')}" for k in FLAG_OPTIONS if flags[k]]
    for key in LIMIT_OPTIONS:
        if getattr(r, key) is not None:
            argv += [f"--{key.replace('_', '-')}", f"{getattr(r, key):g}" if key == "cpus"
                     else str(getattr(r, key))]
    return [*argv, "--", r.source, *([r.task] if r.task else [])]


def split_sources(text: str) -> list[str]:
    """The sources of a launch form (the TUI's, the web's): one per word or line, each
    once, in order."""
    seen: list[str] = []
    for word in text.split():
        if word not in seen:
            seen.append(word)
    return seen


def parse_mcp(flag: str) -> tuple[str, str]:
    """``--mcp NAME=URL`` as (NAME, URL)."""
    name, sep, url = flag.partition("=")
    if not sep or not name or "://" not in url:
        raise errors.DevaipodError(f"--mcp {flag!r}: expected NAME=URL",
                                   "e.g. --mcp docs=http://127.0.0.1:9000/mcp")
    return name, url


def check_title(title: str) -> str:
    """A workspace's title, whitespace folded (`--title`, `devaipod title`)."""
    from devaipod import printable

    title = " ".join(title.split())
    if len(title) > TITLE_MAX or printable.printable(title) != title:
        raise errors.DevaipodError("a title is one line of at most 200 printable characters",
                                   "shorten it")
    return title


def layout_short(name: str) -> str:
    from devaipod import layout

    return layout.short(layout.normalize(name))


def _text(value: Any, option: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise errors.DevaipodError(f"{option}: expected text")
    return value.strip()


def _strings(value: Any, option: str) -> tuple[str, ...]:
    if value in (None, ""):
        return ()
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or \
            not all(isinstance(v, str) for v in value):
        raise errors.DevaipodError(f"{option}: expected a list of texts")
    return tuple(value)


def _flag(value: Any, option: str) -> bool:
    if value in (None, False, True):
        return bool(value)
    raise errors.DevaipodError(f"{option}: expected true or false")


def parse_source(text: str, config: Config, **kwargs: Any) -> Source:
    """SOURCE parsed with the config's extra hosts and forge hosts."""
    from devaipod import forges, source

    return source.parse(text, extra_hosts=tuple(config.git.extra_hosts),
                        forge_kinds=forges.kinds(config.forges), **kwargs)


def details(src: Source, config: Config) -> Details | None:
    """A PR's or issue's title (and a PR's fork) from its forge; None when SRC is neither,
    its host is no known forge, or the look-up fails (a warning)."""
    from devaipod import forgeapi, forges, images

    scheme = src.clone_url.split("://", 1)[0]
    forge = forges.find(src.host, config.forges, scheme) if src.host else None
    if forge is None or not (src.pr_number or src.issue_url):
        return None
    secret = {s.env: s.secret for s in config.trusted.secrets}.get(forge.token_var)
    return forgeapi.details(src, forge, secret, images.api_image(config.api_image))


def default_task(text: str, config: Config) -> str | None:
    """The task a source implies when none is given: "Fix <issue url>", for a pull request
    "Review and continue <url>: <its title>" (the title from the forge, when it answers)."""
    src = parse_source(text, config, isdir=lambda _p: False)
    found = details(src, config) if src.kind == "pr" else None
    return f"{src.default_task}: {found.title}" if found else src.default_task
