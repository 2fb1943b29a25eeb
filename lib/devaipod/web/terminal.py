"""Browser terminals: a WebSocket bridged to ``tmux attach`` on a pseudo-terminal.

The protocol is terminado's: JSON arrays, ``["stdin", text]`` and
``["set_size", rows, cols]`` from the browser, ``["stdout", text]`` to it.
tmux keeps the session when the browser goes away, and redraws the whole
screen when it comes back.
"""

from __future__ import annotations

import codecs
import fcntl
import json
import logging
import os
import select
import struct
import termios
import threading
import time

from devaipod import runner, terminals, tmux

log = logging.getLogger("devaipod")

FRAME = 1 << 18  # the most output bytes in one WebSocket frame
LINGER = 0.01  # how long a frame gathers a stream of output (seconds)


def ensure_session(pod: str, kind: str) -> str:
    """The tmux session for a pod's terminal, created when missing."""
    return terminals.shell(pod) if kind == "workspace" else terminals.tui_layout(pod, "agent")


def set_size(fd: int, rows: int, cols: int) -> None:
    rows, cols = max(2, min(int(rows), 500)), max(10, min(int(cols), 1000))
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


class Output:
    """A terminal's output in frames: a write after a quiet moment goes out at once (a
    keystroke's echo), while a stream of writes (tmux draws in many small writes, and a
    pty read gives at most 4 KiB) gathers in the pty until LINGER seconds after the last
    frame and goes out in one frame of up to FRAME bytes: at most 1/LINGER frames a
    second. While it gathers, tmux finds the pty full and draws less (it skips to the
    screen as it is when the pty drains)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.last = 0.0  # when the last frame was read

    def frame(self) -> str | None:
        """The next frame's text (waiting for it); None at the terminal's end."""
        data = os.read(self.fd, FRAME)
        if not data:
            return None
        if (wait := self.last + LINGER - time.monotonic()) > 0:  # a stream: let it gather
            time.sleep(wait)
            while len(data) < FRAME and select.select([self.fd], [], [], 0)[0]:
                try:
                    more = os.read(self.fd, FRAME - len(data))
                except OSError:  # the end (EIO): this frame still goes out
                    break
                if not more:
                    break
                data += more
        self.last = time.monotonic()
        return self.decoder.decode(data)


def pump_output(fd: int, conn) -> None:
    output = Output(fd)
    try:
        while (text := output.frame()) is not None:
            conn.send(json.dumps(["stdout", text]))
    except OSError:
        pass  # the terminal closed (EIO) or the browser went away
    finally:
        try:
            conn.send(json.dumps(["disconnect", "the terminal closed"]))
            conn.close()
        except Exception:
            pass


def handle_input(fd: int, message: str) -> None:
    try:
        kind, *args = json.loads(message)
    except (ValueError, TypeError):
        return
    if kind == "stdin" and args:
        os.write(fd, str(args[0]).encode())
    elif kind == "set_size" and len(args) >= 2:
        set_size(fd, args[0], args[1])


def serve(conn, session: str) -> None:
    proc, fd = runner.pty_spawn(tmux.attach_argv(session, nested_ok=True))
    reader = threading.Thread(target=pump_output, args=(fd, conn), daemon=True)
    reader.start()
    try:
        for message in conn:
            handle_input(fd, message)
    except Exception as exc:
        log.debug("terminal %s: %s", session, exc)
    finally:
        proc.terminate()  # only the tmux client: the session keeps running
        proc.wait(timeout=5)
        os.close(fd)
