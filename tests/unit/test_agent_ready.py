"""agent.task.wait_ready: probes that overlap, so one caught before OpenCode answers
does not hold back the next."""

from __future__ import annotations

import threading

import pytest

from devaipod.agent import task
from devaipod.agent.client import AgentError


class Hanging:
    """The first HANG probes are accepted but not answered (as OpenCode just before it
    listens) until released or 5 s pass; later ones are answered."""

    def __init__(self, hang: int) -> None:
        self.hang, self.calls = hang, 0
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.gave_up = 0
        self.answered_while_hanging: list[bool] = []

    def get(self, path: str, timeout: float = 30):
        assert path == "/global/health"
        with self.lock:
            self.calls += 1
            n = self.calls
        if n <= self.hang:
            if not self.release.wait(5):
                self.gave_up += 1
                raise AgentError("timed out")
            return {"healthy": True}
        self.answered_while_hanging.append(self.gave_up == 0)
        return {"healthy": True}


def test_a_hanging_probe_does_not_hold_back_the_next():
    client = Hanging(hang=2)
    try:
        task.wait_ready(client, timeout=60, every=0.01, each=30)
    finally:
        client.release.set()
    assert client.answered_while_hanging[:1] == [True]


class Down:
    def get(self, path: str, timeout: float = 30):
        raise AgentError("connection refused")


def test_never_ready_is_one_clear_error():
    with pytest.raises(AgentError, match=r"did not become ready.*connection refused"):
        task.wait_ready(Down(), timeout=0.2, every=0.02, each=0.05)


class Counting(Hanging):
    """Probes hang until released; counts how many hang at once."""

    def __init__(self) -> None:
        super().__init__(hang=10**6)
        self.hanging = self.most = 0

    def get(self, path: str, timeout: float = 30):
        with self.lock:
            self.hanging += 1
            self.most = max(self.most, self.hanging)
        try:
            self.release.wait(timeout)
            raise AgentError("timed out")
        finally:
            with self.lock:
                self.hanging -= 1


def test_a_slow_sidecar_gets_at_most_ten_probes_at_a_time():
    client = Counting()
    with pytest.raises(AgentError, match="did not become ready"):
        task.wait_ready(client, timeout=0.5, every=0.01, each=0.2)
    assert 3 < client.most <= 10
