"""Bounds on the GETs that cost a process: the gator's grants and followed logs.

Reading a pod's grants starts a short-lived container: the answer is cached
a few seconds per pod, and one lock per pod lets one helper container run at
a time (a grant takes the same lock). Following a log is a ``podman logs -f``
for as long as the client stays: a few per pod and a few more overall.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Iterator
from typing import Any

GATOR_SECONDS = 5.0
FOLLOWS_PER_POD = 2
FOLLOWS = 16


class PerPod:
    """A value per pod, computed by one caller at a time, kept ``ttl`` seconds."""

    def __init__(self, ttl: float = GATOR_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.clock = ttl, clock
        self._locks: dict[str, threading.Lock] = {}
        self._values: dict[str, tuple[float, Any]] = {}
        self._guard = threading.Lock()

    def lock(self, pod: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(pod, threading.Lock())

    def get(self, pod: str, compute: Callable[[], Any]) -> Any:
        """The cached value, or ``compute()``'s (under the pod's lock)."""
        with self.lock(pod):
            hit = self._values.get(pod)
            if hit and self.clock() - hit[0] < self.ttl:
                return hit[1]
            value = compute()
            self._values[pod] = (self.clock(), value)
            return value

    def update(self, pod: str, compute: Callable[[], Any]) -> Any:
        """``compute()`` under the pod's lock (a change); its answer becomes the cached one."""
        with self.lock(pod):
            self._values.pop(pod, None)
            value = compute()
            self._values[pod] = (self.clock(), value)
            return value


class TooMany(Exception):
    pass


class Follows:
    """Counts the followed logs; ``slot(pod)`` raises TooMany beyond the bounds."""

    def __init__(self, per_pod: int = FOLLOWS_PER_POD, total: int = FOLLOWS) -> None:
        self.per_pod, self.total = per_pod, total
        self._count: dict[str, int] = {}
        self._lock = threading.Lock()

    def take(self, pod: str) -> None:
        with self._lock:
            if self._count.get(pod, 0) >= self.per_pod:
                raise TooMany(f"at most {self.per_pod} followed logs per workspace at a time; "
                              "close another Logs tab of this workspace")
            if sum(self._count.values()) >= self.total:
                raise TooMany(f"at most {self.total} followed logs at a time; "
                              "close some Logs tabs")
            self._count[pod] = self._count.get(pod, 0) + 1

    def give_back(self, pod: str) -> None:
        with self._lock:
            self._count[pod] -= 1
            if not self._count[pod]:
                del self._count[pod]

    def active(self, pod: str | None = None) -> int:
        with self._lock:
            return self._count.get(pod, 0) if pod else sum(self._count.values())

    def hold(self, pod: str, items: Iterator) -> Held:
        """``items`` under a slot taken now (raises TooMany now), given back when the
        stream ends or is closed (the client went away)."""
        self.take(pod)
        return Held(items, lambda: self.give_back(pod))


class Held:
    """An iterable that calls ``release`` once, when it ends or is closed (WSGI servers
    close a response's iterable when the client goes away)."""

    def __init__(self, items: Iterator, release: Callable[[], None]) -> None:
        self._release, self._released = release, False
        self._lock = threading.Lock()
        self._gen = self._run(items)

    def _run(self, items: Iterator) -> Generator:
        try:
            yield from items
        finally:
            self._give_back()

    def __iter__(self) -> Iterator:
        return self._gen

    def close(self) -> None:
        self._gen.close()  # closes ``items`` too (and ends its command)
        self._give_back()

    def _give_back(self) -> None:
        with self._lock:
            if self._released:
                return
            self._released = True
        self._release()
