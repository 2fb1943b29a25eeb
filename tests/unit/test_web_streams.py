"""The control plane's GETs with a cost (the gator's grants, followed logs) are bounded,
and its server-sent events carry every line as JSON."""

from __future__ import annotations

import json
import re
import threading
import time

import pytest

from devaipod import runner
from devaipod.web import actions, auth, jobs, limits
from devaipod.web import app as web_app

from .test_web_auth import wsgi_call

BEARER = {"Authorization": "Bearer tok"}


@pytest.fixture
def application(monkeypatch):
    monkeypatch.setattr(actions, "resolve", lambda name: f"devaipod-{name}")
    return web_app.make_app(auth.Auth("tok"))


def sse_events(raw: str) -> list[tuple[str, str]]:
    """(event, data) as an EventSource sees them: lines end at CR, LF or CRLF."""
    events, kind, data = [], "message", []
    for line in re.split(r"\r\n|\r|\n", raw):
        if not line:
            if data:
                events.append((kind, "\n".join(data)))
            kind, data = "message", []
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
        elif line.startswith("event:"):
            kind = line[6:].strip()
    return events


EVIL = 'one\rdata: injected\r\revent: end\ndata: {"state": "forged"}\r\n\u2028two'


def test_log_lines_are_json_and_cannot_make_events(application, monkeypatch):
    def lines(argv, idle=None):
        yield from [EVIL, None, "plain"]

    monkeypatch.setattr(runner, "lines", lines)
    answer = wsgi_call(application, "/api/pods/p/logs?container=agent&tail=5", BEARER)
    assert answer.code == 200 and answer.header("Content-Type") == "text/event-stream"
    events = sse_events(answer.body.decode())
    assert [kind for kind, _ in events] == ["message", "message"]
    assert [json.loads(data) for _, data in events] == [EVIL, "plain"]
    assert b": keepalive" in answer.body  # the quiet tick


def test_job_lines_are_json_too():
    job = jobs.Job("j1", ["true"])
    job.event(json.dumps({"output": EVIL}))
    job.event(json.dumps({"state": "succeeded", "pod": "devaipod-x"}))
    job.finish(runner.Result(["true"], 0, "", ""))
    events = sse_events("".join(web_app.sse_job(job)))
    assert [kind for kind, _ in events] == ["line", "end"]
    assert json.loads(events[0][1]) == "  " + EVIL
    assert json.loads(events[1][1])["state"] == "succeeded"


def test_lines_ticks_when_quiet_and_ends_the_command_when_closed(tmp_path):
    import os

    pid_file = tmp_path / "pid"
    script = f"echo $$ > {pid_file}; echo one; printf 'two\\rthree'; exec sleep 30"
    lines = runner.lines(["sh", "-c", script], idle=0.1)
    assert next(lines) == "one"
    assert next(lines) is None  # quiet: a tick (the unfinished line waits for its end)
    pid = int(pid_file.read_text())
    os.kill(pid, 0)  # still running
    lines.close()  # the client went away: the command ends
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    done = runner.lines(["sh", "-c", "echo a; printf 'b\\rc'"], idle=5)
    assert list(done) == ["a", "b\rc"]


# --- followed logs ------------------------------------------------------------------------------


class FakeFollow:
    """runner.lines for `podman logs -f`: one line, then quiet until closed."""

    def __init__(self) -> None:
        self.running = 0
        self.lock = threading.Lock()

    def __call__(self, argv, idle=None):
        with self.lock:
            self.running += 1
        try:
            yield "hello"
            while "--follow" in argv:
                yield None
        finally:
            with self.lock:
                self.running -= 1


def open_stream(application, path: str):
    """Start a streaming answer: (code, its body iterator, the iterable to close)."""
    from io import BytesIO
    from wsgiref.util import setup_testing_defaults

    environ: dict = {}
    setup_testing_defaults(environ)
    p, _, q = path.partition("?")
    environ.update({"PATH_INFO": p, "QUERY_STRING": q, "wsgi.input": BytesIO(b""),
                    "HTTP_AUTHORIZATION": "Bearer tok"})
    status: list = []
    out = application(environ, lambda s, h, e=None: status.append(s))
    code = int(status[0].split()[0])
    if code == 200:  # the server writes on: the command starts
        chunks = iter(out)
        assert next(chunks).startswith(b": streaming") and b"hello" in next(chunks)
    return code, out


def test_follows_are_bounded_per_pod_and_in_all(application, monkeypatch):
    fake = FakeFollow()
    monkeypatch.setattr(runner, "lines", fake)
    follow = "/api/pods/{}/logs?container=agent&follow=1"
    held = []
    for _ in range(2):
        code, out = open_stream(application, follow.format("a"))
        assert code == 200
        held.append(out)
    code, out = open_stream(application, follow.format("a"))
    assert code == 429 and b"at most 2" in b"".join(out)
    assert fake.running == 2
    held[0].close()  # a client goes away: its slot and its command end
    assert fake.running == 1
    code, out = open_stream(application, follow.format("a"))
    assert code == 200
    held[0] = out
    not_followed = wsgi_call(application, "/api/pods/a/logs?container=agent", BEARER)
    assert not_followed.code == 200  # one that ends by itself is not counted
    for out in held:
        out.close()
    assert fake.running == 0


def test_follows_in_all():
    follows = limits.Follows(per_pod=2, total=3)
    for pod in ("a", "a", "b"):
        follows.take(pod)
    with pytest.raises(limits.TooMany, match="at most 3"):
        follows.take("c")
    follows.give_back("a")
    follows.take("c")
    assert follows.active() == 3 and follows.active("a") == 1


def test_held_gives_back_once_however_it_ends():
    given: list[int] = []
    ended = limits.Held(iter([1, 2]), lambda: given.append(1))
    assert list(ended) == [1, 2]
    ended.close()
    assert given == [1]
    never_started = limits.Held(iter([1]), lambda: given.append(2))
    never_started.close()
    assert given == [1, 2]


# --- the gator's grants --------------------------------------------------------------------------


def test_gator_reads_are_cached_and_one_at_a_time(application, monkeypatch):
    calls, running, most = [], [0], [0]
    lock = threading.Lock()

    def gator(name, change=None, values=None):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05)
        calls.append((name, change, values))
        with lock:
            running[0] -= 1
        return {"enabled": True, "grants": [f"read {len(calls)}"]}

    monkeypatch.setattr(actions, "gator", gator)
    answers: list = []
    threads = [threading.Thread(target=lambda: answers.append(
        wsgi_call(application, "/api/pods/a/gator", BEARER).json())) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [("devaipod-a", None, None)] and most[0] == 1
    assert answers == [{"enabled": True, "grants": ["read 1"]}] * 6
    granted = wsgi_call(application, "/api/pods/a/gator", {**BEARER, "Content-Type":
                        "application/json"}, method="POST",
                        body=json.dumps({"add": ["github:o/r:read"]}).encode())
    assert granted.json() == {"enabled": True, "grants": ["read 2"]}
    again = wsgi_call(application, "/api/pods/a/gator", BEARER).json()
    assert again == {"enabled": True, "grants": ["read 2"]}  # the grant's answer, cached
    assert len(calls) == 2 and calls[1] == ("devaipod-a", "add", ["github:o/r:read"])


def test_the_cache_expires(monkeypatch):
    now = [0.0]
    cache = limits.PerPod(ttl=5, clock=lambda: now[0])
    count = iter(range(100))
    assert cache.get("a", lambda: next(count)) == 0
    now[0] = 4.9
    assert cache.get("a", lambda: next(count)) == 0
    assert cache.get("b", lambda: next(count)) == 1
    now[0] = 5.1
    assert cache.get("a", lambda: next(count)) == 2
