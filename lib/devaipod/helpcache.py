"""``devaipod --help`` without importing click: click's own text, kept from the last time.

click renders the help (``devaipod.dispatch``); the text is kept in
``$XDG_CACHE_HOME/devaipod`` (``~/.cache/devaipod``) under a key made of everything
the rendering depends on: the terminal's size as click reads it (``$COLUMNS`` and
the size of standard output's terminal), the version, and the size and mtime of
the modules that make the help and of click itself. Any change makes a new key, so
a kept text is never out of date; a cache that cannot be read or written is only a
slower ``--help``.
"""

from __future__ import annotations

import os
import sys
import zlib

from devaipod import __version__

# what the top-level help is made of (devaipod.dispatch's group, its options, the verb table)
SOURCES = ("__init__.py", "cli.py", "clikit.py", "dispatch.py", "verbs.py", "helpcache.py")


def cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(base, "devaipod")


def terminal() -> str:
    """What click's width comes from (shutil.get_terminal_size's inputs), as text."""
    out = sys.__stdout__
    try:
        size = str(os.get_terminal_size(out.fileno()).columns) if out else "-"
    except (AttributeError, ValueError, OSError):
        size = "-"
    return f"{os.environ.get('COLUMNS', '')}/{size}"


def stamp(path: str) -> str:
    try:
        st = os.stat(path)
    except OSError:
        return f"{path}:-"
    return f"{path}:{st.st_mtime_ns}:{st.st_size}"


def click_init() -> str:
    """click's ``__init__.py`` on sys.path, found without importing it."""
    for entry in sys.path:
        path = os.path.join(entry or ".", "click", "__init__.py")
        if os.path.isfile(path):
            return path
    return "click"


def sources() -> str:
    here = os.path.dirname(os.path.abspath(__file__))
    return "\t".join([__version__, stamp(click_init()),
                      *(stamp(os.path.join(here, name)) for name in SOURCES)])


def crc(text: str) -> str:
    return f"{zlib.crc32(text.encode()):08x}"


def entry() -> tuple[str, str]:
    """(the file's path, its first line: the whole key, checked on reading)."""
    src, term = sources(), terminal()
    name = f"help-{crc(src)}-{crc(term)}.txt"
    return os.path.join(cache_dir(), name), f"{src}\t{term}"


def read() -> str | None:
    target, head = entry()
    try:
        with open(target, encoding="utf-8") as f:
            first, _nl, text = f.read().partition("\n")
    except (OSError, UnicodeDecodeError):
        return None
    return text if first == head else None


def write(text: str) -> None:
    """Keep TEXT (written whole or not at all); texts of other sources are removed."""
    target, head = entry()
    folder, mine = os.path.split(target)
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        tmp = f"{target}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(f"{head}\n{text}")
        os.replace(tmp, target)
        for name in os.listdir(folder):
            if name.startswith("help-") and not name.startswith(mine[:len("help-") + 8]):
                os.unlink(os.path.join(folder, name))
    except OSError:
        pass
