"""The control plane's pages: rendered from web/templates/, one head and one top bar for
all (base.tpl), no inline script, and every element the scripts look up is there."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from devaipod import errors
from devaipod.web import app as web_app
from devaipod.web import auth

from .test_web_auth import wsgi_call

WEB = Path(__file__).resolve().parents[2] / "web"
BEARER = {"Authorization": "Bearer the-right-token"}
# path → (the title, the page's script, the nav link marked current: "" none, None no bar)
PAGES = {"/": ("Workspaces", "pods", "/"), "/new": ("New workspace", "new", "/new"),
         "/pods/devaipod-x": ("Workspace", "pod", ""), "/login": ("Log in", "login", None),
         "/docs": ("Manual", "docs", "/docs")}
# the scripts of each page: its own and those it loads (pod.js: its header's and its tabs')
SCRIPTS = {"pods": ["pods"], "new": ["new"], "login": ["login"],
           "pod": ["pod", "gator", "agent", "terminal", "review", "logs", "audit"]}


class Page(HTMLParser):
    """What the tests look at in a page: its head's elements, scripts, ids, top bar."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.title, self.scripts, self.inline, self.styles = "", [], [], []
        self.ids: set[str] = set()
        self.heads = self.bars = 0
        self.nav: list[tuple[str, str | None]] = []  # (href, aria-current)
        self.tabs: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.stack.append(tag)
        self.heads += tag == "head"
        self.bars += "topbar" in (a.get("class") or "").split()
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "script":
            self.scripts.append((a.get("type"), a.get("src")))
        if tag == "link" and a.get("rel") == "stylesheet":
            self.styles.append(a["href"])
        if tag == "a" and "nav" in self.stack:
            self.nav.append((a["href"], a.get("aria-current")))
        if a.get("role") == "tab":
            self.tabs.append(a["data-tab"])
        for name, value in attrs:
            if name.startswith("on") or (value or "").strip().lower().startswith("javascript:"):
                self.inline.append(f"{tag} {name}")

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop() != tag:
            pass

    def handle_data(self, data):
        if self.stack[-1:] == ["title"]:
            self.title += data
        elif self.stack[-1:] == ["script"] and data.strip():
            self.inline.append(data)


@pytest.fixture
def wsgi():
    application = web_app.make_app(auth.Auth("the-right-token"))
    return lambda *args, **kwargs: wsgi_call(application, *args, **kwargs)


@pytest.mark.parametrize("path", PAGES)
def test_each_page_has_the_shared_head_and_its_bar(wsgi, path):
    title, script, nav = PAGES[path]
    answer = wsgi(path, BEARER)
    assert answer.code == 200
    assert answer.header("Content-Type").startswith("text/html")
    page = Page(answer.body.decode())
    assert page.heads == 1 and page.title == f"{title} · devaipod"
    assert page.styles == ["/static/app.css"]
    assert page.scripts == [("module", f"/static/{script}.js")]
    assert page.inline == []  # the policy allows no inline script
    if nav is None:
        assert page.bars == 0 and "logout-button" not in page.ids
    else:
        assert page.bars == 1 and "logout-button" in page.ids
        assert page.nav[:3] == [(href, "page" if nav == href else None)
                                for href in ("/", "/new", "/docs")]


def test_a_pod_named_like_a_page_gets_the_pod_page(wsgi):
    for name in ("pods", "new", "login", "pod"):
        assert Page(wsgi(f"/pods/{name}", BEARER).body.decode()).title == "Workspace · devaipod"


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_element_a_script_looks_up_is_on_its_page(wsgi, script):
    path = next(p for p, (_t, s, _n) in PAGES.items() if s == script)
    ids = Page(wsgi(path, BEARER).body.decode()).ids
    wanted = set()
    for module in SCRIPTS[script]:
        text = (WEB / "static" / f"{module}.js").read_text()
        wanted |= set(re.findall(r'(?:\$|getElementById)\("([\w-]+)"\)', text))
    assert wanted and wanted <= ids, sorted(wanted - ids)


def test_each_tab_of_the_pod_page_has_a_module_that_shows_it(wsgi):
    tabs = Page(wsgi("/pods/devaipod-x", BEARER).body.decode()).tabs
    assert tabs == ["agent", "terminal", "review", "logs", "audit"]
    for tab in tabs:
        text = (WEB / "static" / f"{tab}.js").read_text()
        assert re.search(r"^export (async )?function show\(", text, re.M), tab


def test_the_head_and_the_bar_are_written_once():
    files = [p for p in WEB.rglob("*") if p.is_file() and "node_modules" not in p.parts
             and p.suffix in (".tpl", ".html", ".js")]
    for marker in ("<head", 'class="topbar"', 'id="logout-button"', '<link rel="stylesheet"'):
        holders = [p.relative_to(WEB).as_posix() for p in files if marker in p.read_text()]
        assert holders == ["templates/base.tpl"], (marker, holders)


def test_missing_templates_say_where_the_pages_are_looked_for(tmp_path):
    (tmp_path / "static").mkdir()
    with pytest.raises(errors.DevaipodError) as failed:
        web_app.render_pages(tmp_path)
    assert str(tmp_path / "templates") in str(failed.value)
    assert "DEVAIPOD_WEB_DIR" in failed.value.hint
