"""The editors' SSH server: SSH over stdin/stdout, sessions run in a pod's container.

``devaipod exec [-W|--worker] --stdio WORKSPACE`` is the ProxyCommand of the
SSH configs devaipod writes (see ``sshconfig``): the SSH client talks to this
server through the command's stdin and stdout, so nothing listens on a
port and the container needs no sshd. Whoever can run the ProxyCommand can
already run ``podman exec`` in the pod, so the server asks for no
password or key, and its host key is made afresh for each connection.

A shell or a command runs as ``podman exec`` in the container (with a
terminal when the client asks for one, resized with the client's window);
the ``sftp`` subsystem runs the container's own ``sftp-server``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading

from devaipod import podman, runner
from devaipod.podman import container, secret

SHELL = 'exec bash -l 2>/dev/null || exec sh -l'
SFTP = ('for p in /usr/lib/openssh/sftp-server /usr/libexec/openssh/sftp-server '
        '/usr/lib/ssh/sftp-server /usr/libexec/sftp-server; do '
        '[ -x "$p" ] && exec "$p" -e; done; '
        'echo "devaipod: no sftp-server in this container (install openssh-sftp-server)" >&2; '
        'exit 127')


def session_argv(target: str, command: str | None, subsystem: str | None,
                 tty: bool) -> list[str] | None:
    """The ``podman exec`` for one SSH session; None for a subsystem other than sftp."""
    if subsystem is not None and subsystem != SFTP_SUBSYSTEM:
        return None
    script = SFTP if subsystem else command or SHELL
    inner = ["sh", "-c", script] if subsystem else secret.with_env(["sh", "-c", script])
    return podman.argv(container.exec_argv(target, inner, interactive=True, tty=tty))


SFTP_SUBSYSTEM = "devaipod-sftp"  # asyncssh would serve "sftp" from this machine's files


def _server_class(target: str):
    import asyncssh

    class Process(asyncssh.SSHServerProcess):
        """A session whose sftp subsystem is relayed into the container, like a command."""

        def subsystem_requested(self, subsystem: str) -> bool:
            return subsystem == "sftp"

        def session_started(self) -> None:
            if self._chan.get_subsystem() == "sftp":
                self._chan._subsystem = SFTP_SUBSYSTEM
            super().session_started()

    class Server(asyncssh.SSHServer):
        def begin_auth(self, username: str) -> bool:
            return False  # no authentication: see the module's docstring

        def session_requested(self):
            return Process(_handler(target), None, 0, False)

        def connection_requested(self, dest_host: str, dest_port: int, *_orig):
            """ssh -L: the connection is made from inside the container."""
            return _forwarder(forward_argv(target, dest_host, dest_port))

    return Server


async def _relay_pty(process, argv: list[str]) -> int:
    """The session on a local pseudo-terminal, sized like the client's."""
    import asyncssh

    cols, rows, *_ = process.term_size
    proc, master = runner.pty_spawn(argv, rows=rows or 24, cols=cols or 80)
    loop = asyncio.get_running_loop()
    reader = os.fdopen(os.dup(master), "rb", buffering=0)
    done = _pump(loop, reader.read, process.stdout.write)  # EIO when the terminal closes
    try:
        while not done.is_set():
            try:
                data = await process.stdin.read(65536)
            except asyncssh.TerminalSizeChanged as change:
                _resize(master, change.height, change.width)
                continue
            if not data:
                break
            os.write(master, data)
        await done.wait()
        return await loop.run_in_executor(None, proc.wait)
    finally:
        _end(proc)
        reader.close()
        os.close(master)


def _pump(loop, read, write) -> asyncio.Event:
    """Copy from the blocking ``read`` to the loop's ``write`` in a thread, until the end
    of the data (or an error: the other side closed); the event is set then."""
    done = asyncio.Event()

    def pump() -> None:
        with contextlib.suppress(OSError, ValueError):
            while data := read(65536):
                loop.call_soon_threadsafe(write, data)
        loop.call_soon_threadsafe(done.set)

    threading.Thread(target=pump, daemon=True).start()
    return done


def _resize(fd: int, rows: int, cols: int) -> None:
    import fcntl
    import struct
    import termios

    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


async def _relay_pipes(process, argv: list[str]) -> int:
    proc = runner.spawn(argv)
    try:
        await process.redirect(stdin=proc.stdin, stdout=proc.stdout, stderr=proc.stderr)
        code = await asyncio.get_running_loop().run_in_executor(None, proc.wait)
        await process.stdout.drain()
        return code
    finally:
        _end(proc)


def _end(proc) -> None:
    """The session's podman exec, ended if the client went away first."""
    if proc.poll() is None:
        proc.terminate()


def _handler(target: str):
    async def handle(process) -> None:
        tty = process.term_type is not None and process.subsystem is None
        argv = session_argv(target, process.command, process.subsystem, tty)
        if argv is None:
            process.stderr.write(f"devaipod: no subsystem {process.subsystem}\n")
            process.exit(1)
            return
        code = await (_relay_pty(process, argv) if tty else _relay_pipes(process, argv))
        process.exit(code)

    return handle


# $1 host, $2 port: a TCP connection made inside the container, on stdin/stdout
FORWARD = (
    'if command -v bash >/dev/null; then exec bash -c \''
    'exec 3<>"/dev/tcp/$1/$2" || exit 1; cat <&3 & cat >&3; wait\' bash "$1" "$2"; '
    'elif command -v nc >/dev/null; then exec nc "$1" "$2"; fi; '
    'echo "devaipod: no bash or nc in this container to forward with" >&2; exit 127')


def forward_argv(target: str, host: str, port: int) -> list[str]:
    return podman.argv(container.exec_argv(
        target, ["sh", "-c", FORWARD, "sh", host, str(port)], interactive=True))


def _forwarder(argv: list[str]):
    async def relay(reader, writer) -> None:
        proc = runner.spawn(argv)
        loop = asyncio.get_running_loop()
        done = _pump(loop, proc.stdout.read1, writer.write)
        try:
            with contextlib.suppress(OSError, ValueError):
                while data := await reader.read(65536):
                    await loop.run_in_executor(None, _feed, proc.stdin, data)
                proc.stdin.close()
            await done.wait()
            writer.write_eof()
            await loop.run_in_executor(None, proc.wait)
            writer.close()
        finally:
            _end(proc)

    return relay


def _feed(pipe, data: bytes) -> None:
    pipe.write(data)
    pipe.flush()


def _stdio_socket() -> socket.socket:
    """One end of a socket pair whose other end is relayed to stdin and stdout."""
    ours, theirs = socket.socketpair()

    def stdin_to_socket() -> None:
        with contextlib.suppress(OSError):  # either side went away
            while data := os.read(0, 65536):
                theirs.sendall(data)
            theirs.shutdown(socket.SHUT_WR)

    def socket_to_stdout() -> None:
        with contextlib.suppress(OSError):
            while data := theirs.recv(65536):
                os.write(1, data)

    for pump in (stdin_to_socket, socket_to_stdout):
        threading.Thread(target=pump, daemon=True).start()
    return ours


async def serve(target: str) -> None:
    import asyncssh

    key = asyncssh.generate_private_key("ssh-ed25519")
    conn = await asyncssh.run_server(
        _stdio_socket(), server_factory=_server_class(target), server_host_keys=[key],
        encoding=None, line_editor=False, agent_forwarding=False, x11_forwarding=False)
    await conn.wait_closed()


def main(target: str) -> None:
    """Serve SSH for container TARGET on stdin/stdout until the client goes."""
    import logging

    import asyncssh

    debug = logging.getLogger("devaipod").isEnabledFor(logging.DEBUG)
    ssh_log = logging.getLogger("asyncssh")
    ssh_log.setLevel(logging.DEBUG if debug else logging.WARNING)
    if debug:
        ssh_log.addHandler(logging.StreamHandler())
        asyncssh.set_debug_level(1)
    with contextlib.suppress(asyncssh.Error, ConnectionError):  # the client went away
        asyncio.run(serve(target))
