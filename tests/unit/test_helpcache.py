"""`devaipod --help` from the kept text: the same bytes as click's, never a stale one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from devaipod import helpcache

LIB = str(Path(helpcache.__file__).parents[1])


def run(code: list[str], cache: Path, columns: str = "80") -> subprocess.CompletedProcess:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "COLUMNS": columns,
           "PYTHONPATH": LIB}
    return subprocess.run([sys.executable, "-X", "importtime", *code], capture_output=True,
                          text=True, env=env, timeout=60)


def by_click(cache: Path, columns: str = "80") -> str:
    """click's own rendering (dispatch.run never reads the kept text)."""
    proc = run(["-c", "from devaipod.dispatch import run; run(['--help'])"], cache, columns)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_is_clicks_text_then_kept_and_read_without_click(tmp_path, flag):
    first = run(["-m", "devaipod", flag], tmp_path)
    assert first.returncode == 0 and first.stdout == by_click(tmp_path)
    assert " click\n" in first.stderr  # rendered by click the first time
    assert len(list((tmp_path / "devaipod").glob("help-*.txt"))) == 1
    again = run(["-m", "devaipod", flag], tmp_path)
    assert again.returncode == 0 and again.stdout == first.stdout
    assert " click\n" not in again.stderr and " click." not in again.stderr


def test_a_text_kept_for_another_terminal_width_is_not_shown(tmp_path):
    narrow = run(["-m", "devaipod", "--help"], tmp_path, columns="60")
    wide = run(["-m", "devaipod", "--help"], tmp_path, columns="100")
    assert narrow.stdout == by_click(tmp_path, "60")
    assert wide.stdout == by_click(tmp_path, "100")
    assert narrow.stdout != wide.stdout  # the case is real: the width changes the text
    assert len(list((tmp_path / "devaipod").glob("help-*.txt"))) == 2


def test_an_unusable_cache_is_only_slower(tmp_path):
    (tmp_path / "file").write_text("not a directory")
    proc = run(["-m", "devaipod", "--help"], tmp_path / "file")
    assert proc.returncode == 0 and proc.stdout == by_click(tmp_path)


def test_read_gives_back_only_the_text_of_the_same_key(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert helpcache.read() is None
    helpcache.write("kept\n")
    assert helpcache.read() == "kept\n"
    target, _head = helpcache.entry()
    Path(target).write_text("another key's first line\nstale\n")  # a crc32 collision
    assert helpcache.read() is None
    helpcache.write("kept\n")
    monkeypatch.setattr(helpcache, "__version__", "0.0.0-other")  # any source changed
    assert helpcache.read() is None


def test_texts_of_older_sources_are_removed(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(helpcache, "__version__", "0.0.0-old")
    helpcache.write("old\n")
    monkeypatch.setenv("COLUMNS", "61")
    helpcache.write("old, narrow\n")
    monkeypatch.undo()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    helpcache.write("new\n")
    assert [p.read_text().split("\n", 1)[1] for p in (tmp_path / "devaipod").iterdir()] == ["new\n"]


def test_every_module_the_help_is_made_of_is_in_the_key():
    """dispatch's group, clikit's global options and verbs' table: a change to any of them
    changes the key (the modules `devaipod --help` imports from devaipod, read from
    -X importtime, must all be in SOURCES)."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c",
                           "from devaipod.dispatch import help_text; help_text()"],
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": LIB})
    mods = {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines() if "|" in line}
    ours = {m.split(".")[1] for m in mods if m.startswith("devaipod.")}
    assert ours and {f"{m}.py" for m in ours} <= set(helpcache.SOURCES)
