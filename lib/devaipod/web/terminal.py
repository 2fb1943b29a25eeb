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
import struct
import termios
import threading

from devaipod import runner, terminals, tmux

log = logging.getLogger("devaipod")


def ensure_session(pod: str, kind: str) -> str:
    """The tmux session for a pod's terminal, created when missing."""
    return terminals.shell(pod) if kind == "workspace" else terminals.tui_layout(pod, "agent")


def set_size(fd: int, rows: int, cols: int) -> None:
    rows, cols = max(2, min(int(rows), 500)), max(10, min(int(cols), 1000))
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def pump_output(fd: int, conn) -> None:
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    try:
        while True:
            data = os.read(fd, 65536)
            if not data:
                break
            conn.send(json.dumps(["stdout", decoder.decode(data)]))
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
