"""Unit tests never reach a real podman: every podman call goes to a fake URL,
and pytest-subprocess (``fp``) refuses any command a test did not register."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devaipod.podman import connection

FAKE_URL = "unix:///nonexistent/devaipod-unit.sock"
FIXTURES = Path(__file__).parent.parent / "fixtures"


@pytest.fixture(autouse=True)
def _fake_url(monkeypatch):
    monkeypatch.setattr(connection, "_explicit", FAKE_URL)


@pytest.fixture
def podman_cmd(fp):
    """The argv pattern of ``podman --remote --url FAKE ARGS`` for ``fp.register``.

    plumbum runs the binary by its full path, hence ``fp.program``."""

    def cmd(*args: str) -> list:
        return [fp.program("podman"), "--remote", "--url", FAKE_URL, *args]

    return cmd


@pytest.fixture(scope="session")
def podman_431_errors() -> dict:
    """stderr that podman 4.3.1 really printed, by kind of failure."""
    return json.loads((FIXTURES / "podman-4.3.1" / "errors.json").read_text())
