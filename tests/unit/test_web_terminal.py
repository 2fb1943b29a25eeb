"""The web terminal's output frames (lib/devaipod/web/terminal.py: Output)."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import tty

import pytest

from devaipod.web import terminal


@pytest.fixture
def term():
    """A pty in raw mode: (master, slave)."""
    master, slave = pty.openpty()
    tty.setraw(slave)
    yield master, slave
    for fd in (master, slave):
        with contextlib.suppress(OSError):
            os.close(fd)


@pytest.fixture
def sleeps(monkeypatch):
    """The seconds Output slept, instead of sleeping."""
    slept: list[float] = []
    monkeypatch.setattr(terminal.time, "sleep", slept.append)
    return slept


def test_output_after_a_quiet_moment_goes_out_at_once(term, sleeps):
    master, slave = term
    os.write(slave, b"q")
    assert terminal.Output(master).frame() == "q"
    assert sleeps == []


def test_a_stream_gathers_in_one_frame_beyond_one_pty_read(term, sleeps):
    master, slave = term
    out = terminal.Output(master)
    os.write(slave, b"first")
    assert out.frame() == "first"
    body = b"x" * 10_000  # more than the 4 KiB one pty read gives
    os.write(slave, body)
    assert out.frame() == body.decode()  # a stream: it waited, then took all there was
    assert len(sleeps) == 1 and 0 < sleeps[0] <= terminal.LINGER


def test_a_frame_holds_at_most_frame_bytes(term, sleeps, monkeypatch):
    monkeypatch.setattr(terminal, "FRAME", 6000)
    master, slave = term
    out = terminal.Output(master)
    os.write(slave, b"a")
    out.frame()
    os.write(slave, b"y" * 9000)
    frames = [out.frame()]  # the kernel may hand the pty's bytes over in several pieces
    while sum(map(len, frames)) < 9000:
        frames.append(out.frame())
    assert "".join(frames) == "y" * 9000
    assert max(map(len, frames)) <= 6000


def test_a_character_split_between_frames_is_decoded_whole(term, sleeps):
    master, slave = term
    out = terminal.Output(master)
    snowman = "\u2603".encode()
    os.write(slave, snowman[:1])
    first = out.frame()
    os.write(slave, snowman[1:])
    assert first + out.frame() == "\u2603"


class Conn:
    """A WebSocket that keeps what it is sent."""

    def __init__(self) -> None:
        self.sent: list[list[str]] = []
        self.closed = False

    def send(self, message: str) -> None:
        self.sent.append(json.loads(message))

    def close(self) -> None:
        self.closed = True


def test_the_pump_sends_stdout_then_disconnect_at_the_end(term, sleeps):
    master, slave = term
    os.write(slave, b"bye")
    os.close(slave)  # the end: the next read fails (EIO) or gives b""
    conn = Conn()
    terminal.pump_output(master, conn)
    assert conn.sent == [["stdout", "bye"], ["disconnect", "the terminal closed"]]
    assert conn.closed


def test_the_last_output_of_a_stream_goes_out_before_the_end(term, sleeps):
    master, slave = term
    out = terminal.Output(master)
    os.write(slave, b"a")
    out.frame()  # a stream now: the next frame gathers
    os.write(slave, b"last words")
    os.close(slave)
    assert out.frame() == "last words"
