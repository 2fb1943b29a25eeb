"""What a user asks for when a workspace is made: `up`/`run`'s options, the web's form.

Both the CLI and the control plane build a :class:`Request` and hand it to
``workspace.create.create()``; nothing else decides how a workspace is made.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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
    egress: str | None = None  # --egress: "open" or "allow-list" (else [network] egress)
    allow: tuple[str, ...] = ()  # --allow: hosts added to [network] allow


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
