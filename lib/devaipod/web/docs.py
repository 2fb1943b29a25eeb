"""The man pages in the control plane: /docs lists them, /docs/<page> renders one.

The sources are man/*.md, the same markdown that go-md2man makes the man pages of
(`make man`). They are rendered with markdown-it-py, raw HTML off: a `<` in a page is
text. A page is found by its name in the directory's listing, never by joining a path.
"""

from __future__ import annotations

import html
import os
import re
from functools import lru_cache
from pathlib import Path

from markdown_it import MarkdownIt
from mdit_py_plugins.deflist import deflist_plugin

SUFFIX = ".md"
# **devaipod-up**(1) → a link, for the pages that exist (the name is then one of ours)
XREF = re.compile(r"<strong>([a-z0-9.-]+)</strong>\(([1-9])\)")


def man_dir() -> Path:
    """man/ of a checkout, else the image's copy (Containerfile)."""
    for candidate in (os.environ.get("DEVAIPOD_MAN_DIR"),
                      Path(__file__).resolve().parents[3] / "man",
                      "/usr/share/devaipod/man"):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return Path("/usr/share/devaipod/man")


def pages(root: Path) -> dict[str, Path]:
    """{"devaipod-up.1": path, ...}: the directory's markdown files, by name."""
    try:
        found = sorted(p for p in root.iterdir() if p.name.endswith(SUFFIX) and p.is_file())
    except OSError:
        return {}
    return {p.name.removesuffix(SUFFIX): p for p in found}


def title_line(text: str) -> tuple[str, str]:
    """go-md2man's first line, `% name section`, as (name, section); ("", "") if none."""
    first = text.split("\n", 1)[0]
    if not first.startswith("%"):
        return "", ""
    words = first[1:].split()
    return (words[0] if words else ""), (words[1] if len(words) > 1 else "")


def summary(text: str) -> str:
    """The NAME section's line without the name: "create a workspace pod ..."."""
    found = re.search(r"^## NAME\n(.+)$", text, re.M)
    if not found:
        return ""
    line = found.group(1).replace("\\-", "-")
    return line.split(" - ", 1)[1].strip() if " - " in line else line.strip()


@lru_cache(maxsize=1)
def markdown() -> MarkdownIt:
    # commonmark with raw HTML off (escaped as text); GFM tables and go-md2man's
    # definition lists (a term, then lines starting with ": ")
    return MarkdownIt("commonmark", {"html": False}).enable("table").use(deflist_plugin)


def body_html(text: str, known: set[str]) -> str:
    """A page's markdown as HTML: its `%` title line dropped, cross-references linked."""
    if text.startswith("%"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
    rendered = markdown().render(text)

    def link(found: re.Match) -> str:
        name = f"{found.group(1)}.{found.group(2)}"
        if name not in known:
            return found.group(0)
        return f'<a href="/docs/{name}"><strong>{found.group(1)}</strong></a>({found.group(2)})'

    return XREF.sub(link, rendered)


def index_html(root: Path) -> str:
    """The list of pages: a link and the NAME line of each."""
    items = []
    for name, path in pages(root).items():
        about = summary(path.read_text(encoding="utf-8", errors="replace"))
        items.append(f'<li><a href="/docs/{html.escape(name)}" data-testid="doc-link">'
                     f"{html.escape(name)}</a> — {html.escape(about)}</li>")
    return '<ul class="doc-index" data-testid="doc-index">\n' + "\n".join(items) + "\n</ul>"


def page_html(root: Path, name: str) -> str | None:
    """The rendered page `name` (e.g. "devaipod-up.1"), None if there is no such page."""
    found = pages(root)
    path = found.get(name)
    if path is None:
        return None
    return body_html(path.read_text(encoding="utf-8", errors="replace"), set(found))
