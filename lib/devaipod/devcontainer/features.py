"""devcontainer ``features``: built into the image by the devcontainer CLI.

The CLI (``@devcontainers/cli`` from npm, the reference implementation) does
what the spec asks of a feature build: it resolves local and OCI features,
orders them, writes the Dockerfile and runs ``podman build``. devaipod runs it
when it is on PATH (or named by ``DEVAIPOD_DEVCONTAINER_CLI``); without it, a
configuration's features are ignored with a warning.

The CLI reads input that the repository wrote (devcontainer.json and the
features), so it runs as an untrusted program would: on a copy of the
repository, with an environment of its own (no token of the user's can be
substituted into a feature's options through ``${localEnv:...}``; its home and
temp dir are devaipod's cache for it), and it is only ever asked to ``build``
(it runs no lifecycle command, not even ``initializeCommand``).

The image it makes carries the features' own configuration (capabilities,
mounts, lifecycle commands, ...) in the ``devcontainer.metadata`` label: the
entries with an ``id`` (the others are the base image's, which devaipod does not
read, and the project's own). :func:`merge` folds it into the configuration as the spec says: the
features' lifecycle commands run before the project's, lists add up, and a
single value the project sets wins.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

from devaipod import errors, podman, runner
from devaipod.devcontainer import model as devcontainer
from devaipod.podman import image as image_

log = logging.getLogger("devaipod")

CLI_ENV = "DEVAIPOD_DEVCONTAINER_CLI"
# what the CLI may see of our environment: nothing the repository could read back
KEPT_ENV = ("PATH", "LANG", "LC_ALL", "REGISTRY_AUTH_FILE", "NODE_EXTRA_CA_CERTS",
            "SSL_CERT_FILE", "SSL_CERT_DIR")
METADATA_LABEL = "devcontainer.metadata"
# what a feature may ask for that devaipod does not apply
NOT_APPLIED = ("init", "entrypoint", "overrideCommand", "shutdownAction", "portsAttributes",
               "otherPortsAttributes", "hostRequirements", "userEnvProbe")


def cli() -> str | None:
    """The devcontainer CLI, or None."""
    return os.environ.get(CLI_ENV) or shutil.which("devcontainer")


def missing_warning(dc: devcontainer.DevContainer) -> str:
    return (f"{dc.source}: features need the devcontainer CLI "
            "(npm install -g @devcontainers/cli); they are ignored")


def build_argv(cli_path: str, root: Path, config: Path, tag: str, lockfile: bool = True
               ) -> list[str]:
    """``lockfile=False``: the CLI writes no ``devcontainer-lock.json`` (into a tree
    that is the user's own, not a copy)."""
    return [cli_path, "build", "--workspace-folder", str(root), "--config", str(config),
            "--docker-path", "podman", "--buildkit", "never", "--image-name", tag,
            "--log-format", "text", *([] if lockfile else ["--no-lockfile"])]


def cli_env(podman_url: str, home: Path) -> dict[str, str]:
    """The CLI's whole environment: podman's URL, a home and temp dir of its own, and
    podman's registry logins (the CLI fetches published features itself)."""
    kept = {k: os.environ[k] for k in KEPT_ENV if k in os.environ}
    env = {**kept, "CONTAINER_HOST": podman_url, "HOME": str(home), "TMPDIR": str(home)}
    if (logins := registry_logins(home)) is not None:
        env["DOCKER_CONFIG"] = str(logins)
    return env


def auth_file() -> Path | None:
    """podman's auth file (what ``podman login`` wrote), as podman looks for it."""
    runtime = os.environ.get("XDG_RUNTIME_DIR") or f"/run/containers/{os.getuid()}"
    for path in (os.environ.get("REGISTRY_AUTH_FILE"), f"{runtime}/containers/auth.json",
                 os.path.expanduser("~/.config/containers/auth.json")):
        if path and os.path.isfile(path):
            return Path(path)
    return None


def registry_logins(home: Path) -> Path | None:
    """A Docker config directory whose config.json is podman's auth file (the same
    format): a link, so that the logins are not copied anywhere."""
    found = auth_file()
    if found is None:
        return None
    folder = home / "docker"
    folder.mkdir(mode=0o700, exist_ok=True)
    link = folder / "config.json"
    link.unlink(missing_ok=True)
    link.symlink_to(found.resolve())
    return folder


def cli_home() -> Path:
    """The CLI's home and temp dir: ``$XDG_CACHE_HOME/devaipod/devcontainer-cli``; it
    keeps the CLI's caches (e.g. the spec's control manifest, fetched every 5 minutes)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    home = Path(base) / "devaipod" / "devcontainer-cli"
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    return home


def _digest_tree(digest, top: Path) -> None:
    for path in sorted(p for p in top.rglob("*") if p.is_file() and ".git" not in p.parts):
        digest.update(str(path.relative_to(top)).encode() + b"\0" + path.read_bytes())


def tag(root: Path, json_rel: str, dc: devcontainer.DevContainer) -> str:
    """The built image's tag: a hash of the configuration's folder (local features
    live there), the build context when there is one, and the base image."""
    config = root / json_rel
    digest = hashlib.sha256(b"features\0" + config.read_bytes())
    _digest_tree(digest, config.parent)
    if dc.build is not None:
        _digest_tree(digest, devcontainer.build_context_dir(config, dc.build, root=root))
    digest.update(repr((dc.image, dc.build)).encode())
    return f"localhost/devaipod-build:{digest.hexdigest()[:16]}"


def build(root: Path, json_rel: str, dc: devcontainer.DevContainer, cli_path: str,
          lockfile: bool = True) -> str:
    """The image with the features of ``dc`` (found at ``root/json_rel``), built once."""
    built = tag(root, json_rel, dc)
    if image_.exists(built):
        log.info("devcontainer image %s (with features) is up to date", built)
        return built
    log.info("building the devcontainer image %s with features %s", built,
             ", ".join(dc.features))
    home = cli_home()
    try:
        result = runner.watch(build_argv(cli_path, root, root / json_rel, built, lockfile),
                              lambda line: log.info("  %s", line),
                              env=cli_env(podman.connection.url(), home), lines="merged",
                              mutating=True, inherit_env=False)
    finally:  # what the CLI leaves of each build; its caches stay
        for left in home.glob("devcontainercli-*/container-features"):
            shutil.rmtree(left, ignore_errors=True)
    if result.returncode != 0:
        raise errors.DevaipodError(
            f"building the devcontainer image with features failed (exit {result.returncode})",
            "see the devcontainer CLI's output above")
    return built


def metadata(image: str) -> list[dict]:
    """The ``devcontainer.metadata`` label of ``image``: a list of configuration objects."""
    try:
        entries = json.loads(image_.labels(image).get(METADATA_LABEL) or "[]")
    except ValueError:
        raise errors.DevaipodError(f"{image}: its {METADATA_LABEL} label is not JSON",
                                   "rebuild the image") from None
    entries = entries if isinstance(entries, list) else [entries]
    return [e for e in entries if isinstance(e, dict)]


def _lifecycle(first: devcontainer.Lifecycle, then: devcontainer.Lifecycle
               ) -> devcontainer.Lifecycle:
    if not first.commands:
        return then
    if not then.commands:
        return first
    return devcontainer.Lifecycle(first.commands + then.commands, False)


def _fold(base: devcontainer.DevContainer, over: devcontainer.DevContainer
          ) -> devcontainer.DevContainer:
    """``over`` (the project's configuration) on top of ``base`` (a feature's)."""
    singles: dict[str, Any] = {
        f: getattr(over, f) or getattr(base, f)
        for f in ("name", "workspace_folder", "container_user", "remote_user")}
    lifecycles: dict[str, Any] = {attr: _lifecycle(getattr(base, attr), getattr(over, attr))
                                  for attr in devcontainer.LIFECYCLE.values()}
    return dataclasses.replace(
        over, **singles, **lifecycles,
        container_env={**base.container_env, **over.container_env},
        remote_env={**base.remote_env, **over.remote_env},
        cap_add=tuple(dict.fromkeys(base.cap_add + over.cap_add)),
        security_opt=tuple(dict.fromkeys(base.security_opt + over.security_opt)),
        privileged=base.privileged or over.privileged,
        mounts=base.mounts + over.mounts,
        warnings=base.warnings + over.warnings)


def merge(dc: devcontainer.DevContainer, entries: list[dict]) -> devcontainer.DevContainer:
    """``dc`` with the features' entries of the image's metadata folded in, in the
    spec's order."""
    merged = devcontainer.DevContainer(source=dc.source)
    # the entries without an id are the base image's and the project's own (the CLI
    # records it too): devaipod takes the project's from devcontainer.json itself
    for entry in (e for e in entries if e.get("id")):
        what = f"{dc.source}: feature {entry['id']}"
        ignored = sorted(k for k in NOT_APPLIED if entry.get(k) not in (None, False))
        part = devcontainer.parse(json.dumps(entry), what)
        if ignored:
            note = f"{what}: devaipod does not apply {', '.join(ignored)}"
            part = dataclasses.replace(part, warnings=(*part.warnings, note))
        merged = _fold(merged, part)
    return _fold(merged, dataclasses.replace(dc, warnings=()))
