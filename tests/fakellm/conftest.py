"""Fixtures for the fake LLM: an in-process server on 127.0.0.1 and a tiny client."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

FAKELLM_PY = Path(__file__).with_name("fakellm.py")


def _load_fakellm():
    """Import fakellm.py by path (it is a script, not part of a package)."""
    if "fakellm" not in sys.modules:
        spec = importlib.util.spec_from_file_location("fakellm", FAKELLM_PY)
        module = importlib.util.module_from_spec(spec)
        sys.modules["fakellm"] = module
        spec.loader.exec_module(module)
    return sys.modules["fakellm"]


fakellm = _load_fakellm()


@dataclass
class FakeClient:
    """Where the fake listens, and plain-HTTP helpers to talk to it."""

    server: object  # fakellm.FakeLLM
    url: str  # http://127.0.0.1:PORT (no /v1)

    def http(self, method: str, path: str, body=None, timeout: float = 10):
        """(status, headers, raw bytes) of one request; HTTP errors are returned too."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.headers, err.read()

    def json(self, method: str, path: str, body=None):
        status, _, raw = self.http(method, path, body)
        assert status == 200, raw
        return json.loads(raw)

    def requests(self) -> list[dict]:
        return self.json("GET", "/_requests")

    def chats(self) -> list[dict]:
        """Recorded chat-completion requests only."""
        return [r for r in self.requests() if r["path"].endswith("/chat/completions")]


@contextlib.contextmanager
def running_fake(log_path: str | None = None) -> Iterator[FakeClient]:
    server = fakellm.FakeLLM(("127.0.0.1", 0), log_path)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield FakeClient(server, f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def fake_llm() -> Iterator[FakeClient]:
    with running_fake() as client:
        yield client


@pytest.fixture(scope="module")
def fake_llm_shared() -> Iterator[FakeClient]:
    """One fake for a whole test module (e.g. shared with a running OpenCode)."""
    with running_fake() as client:
        yield client
