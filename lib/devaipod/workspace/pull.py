"""The images a workspace needs, there before anything of it is made.

``[podman] pull`` (or ``--pull``) says when an image is pulled, as podman's own
``--pull`` does: ``missing`` (the default) when it is not on this machine,
``always`` every time, ``never`` not at all (a missing image is an error).
Images named ``localhost/...`` were built here: they are never pulled. The
pulls are made up front, one step each with podman's progress as its output
lines (on stderr, and in the control plane's job log), so that a failed pull
leaves nothing behind. The containers are then created with ``--pull=never``.
"""

from __future__ import annotations

from collections.abc import Iterable

from devaipod import errors
from devaipod.config_schema import Config
from devaipod.podman import image as image_
from devaipod.workspace.create import output, step


def policy(given: str | None, cfg: Config) -> str:
    """The pull policy: ``--pull`` when given, else the configuration's."""
    return given or cfg.podman.pull


def ensure(refs: Iterable[str], pull: str) -> None:
    """Each of REFS (once) is on this machine, pulled as policy PULL says."""
    for ref in dict.fromkeys(r for r in refs if r):
        ensure_one(ref, pull)


def ensure_one(ref: str, pull: str) -> None:
    if pull != "always" or not image_.pullable(ref):
        if image_.exists(ref, dry_assume=True):
            return
        if not image_.pullable(ref):
            raise errors.DevaipodError(
                f"image {ref} not found",
                "build it first (make images), or choose another with --image")
        if pull == "never":
            raise errors.DevaipodError(
                f"image {ref} not found, and the pull policy is never",
                f"pull it with 'podman pull {ref}', or use --pull=missing")
    with step(f"pulling {ref}"):
        image_.pull(ref, output)
