"""The manual in the control plane: /docs lists man/*.md, /docs/<page> renders one,
raw HTML escaped, and only a page of the listing is ever read (no path traversal)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from devaipod.web import app as web_app
from devaipod.web import auth, docs

from .test_web_auth import wsgi_call

MAN = Path(__file__).resolve().parents[2] / "man"
BEARER = {"Authorization": "Bearer the-right-token"}


@pytest.fixture
def wsgi():
    application = web_app.make_app(auth.Auth("the-right-token"))
    return lambda *args, **kwargs: wsgi_call(application, *args, **kwargs)


@pytest.fixture
def man(tmp_path, monkeypatch):
    """A man/ of two pages, and a secret beside it that no URL may reach."""
    root = tmp_path / "man"
    root.mkdir()
    (root / "tool.1.md").write_text(
        "% tool 1\n\n## NAME\ntool\\-x - does <b>things</b>\n\n## DESCRIPTION\n"
        "Hello <script>alert(1)</script> <img src=x onerror=alert(2)>\n\n"
        "See **other**(1) and **missing**(1).\n\n<div onclick=\"x()\">block</div>\n")
    (root / "other.1.md").write_text("% other 1\n\n## NAME\nother - the other one\n")
    (tmp_path / "secret.md").write_text("SECRET-CONTENT")
    (root / "notes.txt").write_text("not a page")
    monkeypatch.setenv("DEVAIPOD_MAN_DIR", str(root))
    return root


def test_the_index_lists_every_man_page_with_its_name_line(wsgi):
    answer = wsgi("/docs", BEARER)
    assert answer.code == 200
    text = answer.body.decode()
    names = re.findall(r'href="/docs/([^"]+)"', text)
    assert names == sorted(p.name.removesuffix(".md") for p in MAN.glob("*.md"))
    assert "devaipod-up.1" in names
    assert "create a workspace pod with an idle agent" in text


def test_a_page_renders_with_its_headings_and_linked_references(wsgi):
    answer = wsgi("/docs/devaipod-up.1", BEARER)
    assert answer.code == 200
    text = answer.body.decode()
    assert "<title>devaipod-up.1 · devaipod</title>" in text
    for heading in ("NAME", "SYNOPSIS", "DESCRIPTION"):
        assert f"<h2>{heading}</h2>" in text
    assert "% devaipod-up 1" not in text  # go-md2man's title line is not shown
    assert '<a href="/docs/devaipod.1"><strong>devaipod</strong></a>(1)' in text


def test_an_unknown_page_is_404(wsgi):
    assert wsgi("/docs/devaipod-nope.1", BEARER).code == 404
    assert wsgi("/docs/devaipod-up.1.md", BEARER).code == 404


def test_the_docs_are_behind_the_login(wsgi):
    for path in ("/docs", "/docs/devaipod-up.1"):
        answer = wsgi(path)
        assert answer.code == 303 and answer.header("Location") == "/login"


@pytest.mark.parametrize("path", [
    "/docs/../secret", "/docs/..%2Fsecret", "/docs/%2e%2e%2fsecret", "/docs/..%252Fsecret",
    "/docs/%2E%2E/secret", "/docs/..\\secret", "/docs/..%5Csecret", "/docs/%00secret",
    "/docs//etc/passwd", "/docs/%2Fetc%2Fpasswd", "/docs/tool.1%00", "/docs/notes.txt",
    "/docs/notes",
])
def test_path_traversal_is_refused(man, path):
    application = web_app.make_app(auth.Auth("the-right-token"))
    answer = wsgi_call(application, path, BEARER)
    assert answer.code in (404, 400), (path, answer.code)
    assert b"SECRET-CONTENT" not in answer.body and b"not a page" not in answer.body


@pytest.mark.parametrize("name", ["../secret", "..%2Fsecret", "%2e%2e/secret", "/etc/passwd",
                                  "../man/tool.1", "tool.1/", "", ".", ".."])
def test_only_a_listed_name_is_a_page(man, name):
    assert docs.page_html(man, name) is None


def test_raw_html_in_a_page_is_escaped(man):
    application = web_app.make_app(auth.Auth("the-right-token"))
    answer = wsgi_call(application, "/docs/tool.1", BEARER)
    assert answer.code == 200
    text = answer.body.decode()
    article = text[text.index("<article"):text.index("</article>")]
    assert "<script>" not in article and "<img" not in article and "<div onclick" not in article
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in article
    assert "&lt;img src=x onerror=alert(2)&gt;" in article
    assert '<a href="/docs/other.1"><strong>other</strong></a>(1)' in article
    assert "<strong>missing</strong>(1)" in article and 'href="/docs/missing.1"' not in article


def test_the_index_escapes_the_name_lines(man):
    html = docs.index_html(man)
    assert "does &lt;b&gt;things&lt;/b&gt;" in html and "<b>" not in html
    assert re.findall(r'href="/docs/([^"]+)"', html) == ["other.1", "tool.1"]


def test_man_dir_is_found_in_a_checkout(monkeypatch):
    monkeypatch.delenv("DEVAIPOD_MAN_DIR", raising=False)
    assert docs.man_dir() == MAN


def test_every_help_link_of_the_pages_names_a_man_page():
    web = Path(__file__).resolve().parents[2] / "web"
    linked = {name for tpl in (web / "templates").glob("*.tpl")
              for name in re.findall(r'href="/docs/([^"]+)"', tpl.read_text())}
    assert "devaipod-web.1" in linked
    assert linked <= set(docs.pages(MAN)), sorted(linked - set(docs.pages(MAN)))


def test_go_md2man_definition_lists_and_no_script_links(tmp_path):
    (tmp_path / "t.1.md").write_text("% t 1\n\n## STATES\n**idle**\n: nothing runs.\n\n"
                                     "[click](javascript:alert(1))\n")
    html = docs.page_html(tmp_path, "t.1")
    assert "<dt><strong>idle</strong></dt>\n<dd>nothing runs.</dd>" in html
    assert "href=\"javascript:" not in html and "<a" not in html
