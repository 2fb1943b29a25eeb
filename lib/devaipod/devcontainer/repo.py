"""A project's devcontainer.json, applied to the workspace before anything is made.

Resolution: ``--devcontainer-json`` (inline), else the project's own file
(unless ``--use-default-devcontainer``), else ``--image`` / ``default-image``
with an empty configuration. For a remote source the file is read from a
shallow clone made by a throwaway container (on the pod's network, so it
sees what the workspace will see); a ``build`` gets its context the same way
and is built once per set of inputs (the tag is a hash of them).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from devaipod import errors, forges, podman, runner
from devaipod.devcontainer import features
from devaipod.devcontainer import model as devcontainer
from devaipod.podman import image as image_

if TYPE_CHECKING:
    from devaipod.forges import CloneAuth
    from devaipod.source import Source

log = logging.getLogger("devaipod")

# $1 URL, $2 ref to fetch ("" for the default branch), $3 "tar:<dir>" to export a build context,
# $4 $5 git_auth's user ("": no token) and URL prefix
PEEK = r"""
set -eu
url=$1 ref=$2 mode=$3
git() { command git -c safe.directory='*' "$@"; }
@AUTH@git_auth "$4" "$5"
# shallow where the server allows it (git's "dumb" HTTP does not)
clone() {
  git clone -q --depth 1 --no-checkout "$url" /tmp/r 2>/dev/null \
    || git clone -q --no-checkout "$url" /tmp/r
}
fetch() { git fetch -q --depth 1 origin "$ref" 2>/dev/null || git fetch -q origin "$ref"; }
retry_lookup clone
cd /tmp/r
rev=HEAD
if [ -n "$ref" ]; then
  retry_lookup fetch
  rev=FETCH_HEAD
fi
case "$mode" in tar:*)
  git checkout -q "$rev" -- . && exec tar -C "/tmp/r/${mode#tar:}" -c . ;;
esac
more=$(git ls-tree -r --name-only "$rev" -- .devcontainer \
  | grep '^\.devcontainer/[^/]*/devcontainer\.json$' | sort || true)
for f in .devcontainer/devcontainer.json .devcontainer.json $more; do
  if git cat-file -e "$rev:$f" 2>/dev/null; then echo "$f"; git show "$rev:$f"; exit 0; fi
done
""".replace("@AUTH@", forges.NET_SH)


# $1 the project's directory in the volume, $2 "tar:<dir>" to export a build context
VOLUME_PEEK = r"""
set -eu
cd "/w/$1"
case "$2" in tar:*) exec tar -C "${2#tar:}" -c . ;; esac
for f in .devcontainer/devcontainer.json .devcontainer.json .devcontainer/*/devcontainer.json; do
  if [ -f "$f" ]; then echo "$f"; cat "$f"; exit 0; fi
done
"""


@dataclass(frozen=True)
class Volume:
    """A workspace volume's checkout, as where devcontainer.json comes from (a rebuild
    honours the user's edits in the workspace)."""

    volume: str
    project: str
    kind: str = "volume"

    @property
    def display(self) -> str:
        return f"volume {self.volume}"


def _volume_argv(image: str, vol: Volume, mode: str = "") -> list[str]:
    return ["run", "--rm", "--pull=never", "--network", "none", "--entrypoint", "",
            "--volume", f"{vol.volume}:/w:ro", image, "sh", "-c", VOLUME_PEEK, "sh",
            vol.project, mode]


def read_volume(vol: Volume, image: str) -> tuple[str, str] | None:
    result = podman.capture(_volume_argv(image, vol), check=False, timeout=120)
    if result.returncode != 0:
        raise errors.DevaipodError(f"reading devcontainer.json from {vol.display} failed: "
                                   f"{errors.last_line(result.stderr)}")
    path, _nl, text = result.stdout.partition("\n")
    return (path.strip(), text) if path.strip() else None


def _peek_argv(image: str, network: str | None, src: Source, ref: str | None,
               mode: str = "", auth: CloneAuth | None = None) -> list[str]:
    """The throwaway clone; AUTH: the token (a podman secret) or ssh-agent, its only."""
    net = ["--network", network] if network else []
    url = auth.url(src.clone_url, src.ssh_url) if auth else src.clone_url
    return ["run", "--rm", "--pull=never", "--entrypoint", "", *net,
            *(auth.flags() if auth else []), image,
            "sh", "-c", PEEK, "sh", url, ref or "", mode, *(auth.args if auth else ("", ""))]


def read_remote(src: Source, image: str, network: str | None,
                auth: CloneAuth | None = None) -> tuple[str, str] | None:
    """(path in the repo, text) of the project's devcontainer.json, or None."""
    result = podman.capture(_peek_argv(image, network, src, src.pr_ref, auth=auth),
                            check=False, timeout=300)
    if result.returncode != 0:
        error = errors.classify(result.argv, result.returncode, result.stderr)
        if isinstance(error, errors.PodmanUnreachable):
            raise error  # not the repository's fault
        raise forges.clone_error(src.display, result.stderr, auth, src.host,
                                 errors.last_line(result.stderr))
    path, _nl, text = result.stdout.partition("\n")
    return (path.strip(), text) if path.strip() else None


def read_local(root: str) -> tuple[str, str] | None:
    found = devcontainer.find(root)
    if found is None:
        return None
    return str(found.relative_to(root)), found.read_text(encoding="utf-8", errors="replace")


def read(src: Source | Volume, helper_image: str, network: str | None,
         auth: CloneAuth | None = None) -> tuple[str, str] | None:
    if isinstance(src, Volume):
        return read_volume(src, helper_image)
    return (read_local(src.clone_url) if src.kind == "local"
            else read_remote(src, helper_image, network, auth))


def resolve(src: Source, *, inline: str | None, use_default: bool, helper_image: str,
            network: str | None, dotfiles: Source | None = None, volume: Volume | None = None,
            auth: CloneAuth | None = None
            ) -> tuple[devcontainer.DevContainer, str, Source | Volume] | None:
    """(configuration, its path in its repo, that repo's source), or None.

    In order: inline, the project's (unless ``use_default``: from VOLUME when given and
    it has one, else from SRC), the dotfiles'.
    """
    if inline:
        return devcontainer.parse(inline, "--devcontainer-json"), "", src
    project: list[Source | Volume] = ([] if use_default else
                                      [o for o in (volume, src) if o is not None])
    for origin in project + ([dotfiles] if dotfiles else []):
        found = read(origin, helper_image, network, auth if origin is src else None)
        if found is not None:
            path, text = found
            return devcontainer.parse(text, f"{origin.display}:{path}"), path, origin
    return None


@contextlib.contextmanager
def repo_root(src: Source | Volume, helper_image: str, network: str | None,
              auth: CloneAuth | None = None) -> Iterator[Path]:
    """The repository's files on this machine (a temp copy for remote sources and
    volumes, removed afterwards; links out of the copy are refused when unpacking)."""
    if isinstance(src, Volume):
        argv = _volume_argv(helper_image, src, "tar:.")
    elif src.kind == "local":
        yield Path(src.clone_url)
        return
    else:
        argv = _peek_argv(helper_image, network, src, src.pr_ref, "tar:.", auth)
    data = runner.capture_bytes(podman.argv(argv))
    tmp = Path(tempfile.mkdtemp(prefix="devaipod-build-"))
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            tar.extractall(tmp, filter="data")
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def build_tag(context: Path, dockerfile: Path, spec: devcontainer.Build) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in context.rglob("*") if p.is_file() and ".git" not in p.parts):
        digest.update(str(path.relative_to(context)).encode() + b"\0" + path.read_bytes())
    digest.update(dockerfile.read_bytes())
    digest.update(repr((sorted(spec.args.items()), spec.target)).encode())
    return f"localhost/devaipod-build:{digest.hexdigest()[:16]}"


def build(src: Source | Volume, json_rel: str, dc: devcontainer.DevContainer,
          helper_image: str, network: str | None, pull: str = "missing",
          auth: CloneAuth | None = None) -> str:
    """The image of a ``build`` devcontainer: built once, reused while its inputs hold
    (with ``pull`` "always", built again: its FROM images are pulled, its layers cached).
    ``pull`` is the policy of the FROM images (podman build --pull)."""
    spec = dc.build
    assert spec is not None, "build() is for a devcontainer.json with 'build'"
    with repo_root(src, helper_image, network, auth) as root:
        return _build(root, json_rel, spec, pull)


def _build(root: Path, json_rel: str, spec: devcontainer.Build, pull: str) -> str:
    json_path = root / json_rel
    context = devcontainer.build_context_dir(json_path, spec, root=root)
    dockerfile = devcontainer.dockerfile_path(json_path, spec, root=root)
    if not dockerfile.is_file():
        raise errors.DevaipodError(f"build.dockerfile {spec.dockerfile!r} not found",
                                   f"looked for {dockerfile.relative_to(root)}")
    tag = build_tag(context, dockerfile, spec)
    if pull != "always" and image_.exists(tag):
        log.info("devcontainer image %s is up to date", tag)
        return tag
    log.info("building the devcontainer image %s", tag)
    argv = podman.argv(image_.build_argv(tag, str(context), str(dockerfile),
                                         dict(spec.args), spec.target, pull=pull))
    said: list[str] = []

    def line(text: str) -> None:
        said.append(text)
        log.info("  %s", text)

    result = runner.watch(argv, line, lines="merged", mutating=True)
    if result.returncode != 0:
        problem = image_.build_pull_error("\n".join(said[-20:]))
        if problem is not None:
            raise problem
        raise errors.DevaipodError(
            f"building the devcontainer image failed (exit {result.returncode})",
            "see podman build's output above")
    return tag


def with_features(src: Source | Volume, json_rel: str, dc: devcontainer.DevContainer,
                  helper_image: str, network: str | None, auth: CloneAuth | None = None
                  ) -> tuple[str, devcontainer.DevContainer] | None:
    """(image, configuration with the features' own) of a devcontainer with features,
    built by the devcontainer CLI; None (and a warning) when they cannot be built."""
    cli = features.cli()
    if cli is None or not json_rel:
        log.warning("%s", features.missing_warning(dc) if cli is None else
                    f"{dc.source}: features need a devcontainer.json in a repository; "
                    "they are ignored")
        return None
    own_tree = not isinstance(src, Volume) and src.kind == "local"  # not a copy
    with repo_root(src, helper_image, network, auth) as root:
        image = features.build(root, json_rel, dc, cli, lockfile=not own_tree)
    return image, features.merge(dc, features.metadata(image))
