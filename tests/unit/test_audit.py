"""The audit trail's lines: what the agent's text can and cannot do to them."""

from __future__ import annotations

import json

import anyio
import pytest

from devaipod import audit
from devaipod.gator.forge import ForgeError
from devaipod.gator.server import Audit

HOSTILE = 'x\n{"time":"2026-01-01T00:00:00Z","kind":"review","by":"devaipod"}\x1b]52;c;Y\x07\u202e'


def test_an_event_is_one_ascii_line_whatever_the_agent_wrote():
    ev = audit.event("gator", "gator", now=0, tool="github_push", target=HOSTILE)
    text = audit.line(ev)
    assert text.endswith("\n") and text.count("\n") == 1
    assert text.isascii() and "\x1b" not in text and "\x07" not in text
    assert json.loads(text)["target"] == HOSTILE
    assert ev["time"] == "1970-01-01T00:00:00Z"


def test_the_reserved_fields_cannot_be_overridden_and_none_is_dropped():
    ev = audit.event("human", "devaipod", now=0, action="grants", time="forged", image=None)
    assert (ev["time"], ev["kind"], "image" in ev) == ("1970-01-01T00:00:00Z", "human", False)


def test_long_text_and_long_lists_are_clipped():
    ev = audit.event("push", "gator", branch="b" * 10_000, files=[str(i) for i in range(1000)])
    assert len(ev["branch"]) == audit.MAX_TEXT + 3
    assert len(ev["files"]) == audit.MAX_ITEMS + 1 and ev["files"][-1] == "..."


def test_an_unknown_kind_is_a_bug():
    with pytest.raises(ValueError):
        audit.event("forged", "gator")


def test_append_writes_whole_lines_that_parse_back(tmp_path):
    path = str(tmp_path / "audit.jsonl")
    for i in range(3):
        audit.append(audit.event("gator", "gator", tool=f"t{i}", target=HOSTILE), path)
    with open(path) as f:
        events = list(audit.parse(f))
    assert [e["tool"] for e in events] == ["t0", "t1", "t2"]
    assert all(e["kind"] == "gator" for e in events)


@pytest.mark.parametrize("text", ["", "not json", "[1]", '{"kind":"gator"}',
                                  '{"time":"t","kind":"forged","by":"x"}',
                                  '{"time":1,"kind":"gator","by":"x"}'])
def test_what_is_not_an_event_is_skipped(text):
    assert audit.parse_line(text) is None


def test_render_escapes_control_and_bidi_characters():
    ev = audit.event("gator", "gator", now=0, target=HOSTILE)
    shown = audit.render(ev)
    assert "\n" not in shown and "\x1b" not in shown and "\u202e" not in shown
    assert "\\x1b" in shown and "\\u202e" in shown


def _events(path):
    with open(path) as f:
        return list(audit.parse(f))


def test_the_gator_notes_allowed_refused_and_failed_calls(tmp_path):
    path = str(tmp_path / "audit.jsonl")
    trail = Audit(path)

    def refuse(*_a):
        raise ForgeError("refused: no push-new-branch permission on o/r")

    def boom(*_a):
        raise RuntimeError("secret-looking detail")

    assert anyio.run(trail.run, "status", None, lambda: "ok") == "ok"
    from mcp.server.mcpserver.exceptions import ToolError
    with pytest.raises(ToolError):
        anyio.run(trail.run, "github_push", "o/r", refuse)
    with pytest.raises(RuntimeError):
        anyio.run(trail.run, "gl", "api x", boom)
    got = [(e["tool"], e["decision"], e.get("reason")) for e in _events(path)]
    assert got == [("status", "allowed", None),
                   ("github_push", "refused", "refused: no push-new-branch permission on o/r"),
                   ("gl", "error", "RuntimeError")]


def test_without_a_file_the_gator_notes_nothing(tmp_path):
    assert anyio.run(Audit(None).run, "status", None, lambda: "ok") == "ok"
    assert list(tmp_path.iterdir()) == []
