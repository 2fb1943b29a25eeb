"""What a user asks for when a workspace is made: `up`/`run`'s options, the web's form.

Both the CLI and the control plane build a :class:`Request` and hand it to
``workspace.create.create()``; nothing else decides how a workspace is made.
"""

from __future__ import annotations

from dataclasses import dataclass

from devaipod.config_schema import Config


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


def default_task(text: str, config: Config) -> str | None:
    """The task a source implies when none is given ("Fix <issue url>", a PR's ...)."""
    from devaipod import source

    return source.parse(text, extra_hosts=tuple(config.git.extra_hosts),
                        isdir=lambda _p: False).default_task
