"""devaipod's own state directory: the web token, the pods' API tokens.

``DEVAIPOD_STATE_DIR``, else ``/var/lib/devaipod`` inside the devaipod
container (a volume in the Quick Start), else
``$XDG_STATE_HOME/devaipod`` (``~/.local/state/devaipod``).
"""

from __future__ import annotations

import os
from pathlib import Path


def in_container() -> bool:
    """Whether devaipod runs as the daemon container (its image sets DEVAIPOD_CONTAINER=1)."""
    return os.environ.get("DEVAIPOD_CONTAINER") == "1"


def state_dir() -> Path:
    if os.environ.get("DEVAIPOD_STATE_DIR"):
        return Path(os.environ["DEVAIPOD_STATE_DIR"])
    if in_container():
        return Path("/var/lib/devaipod")
    base = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    return Path(base) / "devaipod"


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only (0600, from the start), whole:
    a reader sees the old file or the new one, never half of it."""
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def token_path(pod: str) -> Path:
    return state_dir() / "pods" / f"{pod}.token"


def save_pod_token(pod: str, token: str) -> None:
    write_private(token_path(pod), token)


def pod_token(pod: str) -> str | None:
    try:
        return token_path(pod).read_text().strip() or None
    except FileNotFoundError:
        return None


def forget_pod(pod: str) -> None:
    token_path(pod).unlink(missing_ok=True)
