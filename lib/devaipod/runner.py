"""The one module that runs external commands (podman, git, tmux).

Three ways to run an argv list:

- ``capture(argv)``: output captured; raises a typed error on a non-zero exit.
- ``stream(argv)``: the child inherits the terminal; returns its exit code.
- ``replace(argv)``: the child replaces this process (interactive attach).

Commands that change something are run with ``mutating=True``; under
``--dry-run`` those are printed (``join``: shlex quoting, one per line, on stdout)
instead of run, while read-only look-ups still run so that the plan printed
is the plan a real run would carry out. ``--debug`` logs every command run,
with secrets redacted: ``+ argv`` for a change, ``. argv`` for a look-up.

A read-only ``capture`` (the look-ups of ``devaipod list``, ``status``, the control
plane's pod list) starts its child with ``subprocess`` directly: importing plumbum costs
more than such a command's own run (tens of ms), and plumbum would add nothing there (the
environment and the working dir are passed explicitly). Everything else goes through
plumbum.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import NoReturn

from devaipod import errors
from devaipod.layout import LOOKS_SECRET

log = logging.getLogger("devaipod")


@dataclass
class Options:
    dry_run: bool = False
    planned: list[list[str]] = field(default_factory=list)


options = Options()


@dataclass(frozen=True)
class Result:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


_SECRET_KEY = LOOKS_SECRET
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_URL_CREDS = re.compile(r"(://)[^/@\s]+@")
_SECRET_FLAGS = {"--password", "--opencode-password", "--token", "--creds"}


def redact(argv: list[str]) -> list[str]:
    """argv with secret-looking values masked, for logs and error messages."""
    out: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next:
            out.append("***")
            hide_next = False
            continue
        if arg in _SECRET_FLAGS:
            hide_next = True
            out.append(arg)
            continue
        flag, eq, value = arg.partition("=")
        if eq and flag in _SECRET_FLAGS:
            out.append(f"{flag}=***")
            continue
        key, eq, value = arg.partition("=")
        if eq and _SECRET_KEY.search(key) and _ENV_NAME.fullmatch(key) and value:
            out.append(f"{key}=***")
            continue
        out.append(_URL_CREDS.sub(r"\1***@", arg))
    return out


def quote(arg: str) -> str:
    """shlex.quote, but an argument with newlines becomes one bash $'...' word.

    For showing a command on one line only: a shell that is not bash (dash) reads
    ``$'...'`` differently; a command line a shell will run is ``shell_join``'s."""
    if "\n" not in arg:
        return shlex.quote(arg)
    escaped = arg.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n")
    return f"$'{escaped}'"


def join(argv: list[str]) -> str:
    """A command line, on one line, that bash runs as exactly ``argv``."""
    return " ".join(quote(a) for a in argv)


def shell_join(argv: list[str]) -> str:
    """A command line any POSIX shell runs as exactly ``argv`` (newlines kept quoted)."""
    return shlex.join(argv)


def display(argv: list[str]) -> str:
    return join(redact(argv))


INSTALL_HINTS = {"kubectl": "install kubectl (https://kubernetes.io/docs/tasks/tools/), "
                            "or use --backend podman"}


def resolve(argv: list[str]) -> list[str]:
    """argv with argv[0] resolved on PATH; a clear error when it is missing."""
    prog = argv[0]
    path = shutil.which(prog)
    if path is None:
        raise errors.ExecutableNotFound(
            f"{prog} is not installed (not found on PATH)",
            hint=INSTALL_HINTS.get(prog, f"install {prog} (on Debian: apt-get install {prog})"),
        )
    return [path, *argv[1:]]


def _command(argv: list[str]):
    from plumbum import local  # imported here: keeps `devaipod --help` light

    full = resolve(argv)
    return local[full[0]][full[1:]]


def _popen(argv: list[str], mutating: bool, **kwargs) -> subprocess.Popen:
    """Start argv with pipes: a look-up without plumbum (see the module's doc)."""
    if mutating:
        return _command(argv).popen(**kwargs)
    return subprocess.Popen(resolve(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, **kwargs)


def _plan(argv: list[str]) -> Result:
    # the plan is printed exactly: secrets never travel on a command line
    options.planned.append(list(argv))
    click_echo(join(argv))
    return Result(list(argv), 0, "", "")


def click_echo(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def capture(
    argv: list[str],
    *,
    input: str | None = None,
    check: bool = True,
    mutating: bool = False,
    timeout: float | None = None,
    env: dict[str, str] | None = None,
    cwd: str | None = None,
    planned: str | None = None,
    dry_assume: int | None = None,
) -> Result:
    """Run argv with stdout and stderr captured.

    Under --dry-run: ``planned`` is the answer of a look-up of something the plan makes
    (a container a dry run did not create), without running it; ``dry_assume`` is the
    exit status a check (e.g. ``podman pod exists``) is taken to have when podman
    cannot be reached, so that a dry run needs no podman service for its checks."""
    if mutating and options.dry_run:
        return _plan(argv)
    if planned is not None and options.dry_run:
        return Result(list(argv), 0, planned, "")
    log.debug("%s %s", "+" if mutating else ".", display(argv))
    # plumbum snapshots os.environ at import; always pass the current one
    # its own process group: a timeout or Ctrl-C ends the child and its children
    kwargs: dict = {"env": {**os.environ, **(env or {})}, "start_new_session": True}
    if cwd is not None:
        kwargs["cwd"] = cwd
    proc = _popen(argv, mutating, **kwargs)
    try:
        out, err = proc.communicate(input=input.encode() if input is not None else None,
                                    timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc, signal.SIGKILL)
        proc.communicate()
        raise errors.CommandError(redact(argv), 124, f"timed out after {timeout:g}s") from None
    except BaseException:
        _terminate(proc)
        raise
    result = Result(list(argv), proc.returncode, _text(out), _text(err))
    if dry_assume is not None and options.dry_run and not result.ok and isinstance(
            errors.classify(argv, result.returncode, result.stderr), errors.PodmanUnreachable):
        log.warning("podman cannot be reached: not checked in this dry run: %s",
                    display(argv[argv.index("--url") + 2:] if "--url" in argv else argv))
        return Result(list(argv), dry_assume, "", "")
    if check and not result.ok:
        raise errors.classify(redact(argv), result.returncode, result.stderr)
    return result


def local(change: Callable[..., None], *args) -> None:
    """A change to this machine's own files (state, ssh config): not made under --dry-run,
    whose output is the podman commands alone."""
    if not options.dry_run:
        change(*args)


def in_parallel(calls: list[Callable[[], None]]) -> list[BaseException]:
    """Run CALLS at the same time (one after the other under --dry-run, so that the
    printed plan keeps its order); the exceptions they raised, in their order."""
    if options.dry_run or len(calls) < 2:
        failed: list[BaseException] = []
        for call in calls:
            try:
                call()
            except Exception as exc:
                failed.append(exc)
        return failed
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(len(calls)) as pool:
        futures = [pool.submit(call) for call in calls]
        return [err for f in futures if (err := f.exception()) is not None]


def capture_bytes(argv: list[str], timeout: float | None = 600, *, input: bytes | None = None,
                  env: dict[str, str] | None = None, cwd: str | None = None) -> bytes:
    """Run a read-only command whose stdout is binary (a tar stream, git objects)."""
    log.debug(". %s", display(argv))
    proc = _popen(argv, False, env={**os.environ, **(env or {})}, start_new_session=True,
                  **({"cwd": cwd} if cwd is not None else {}))
    try:
        out, err = proc.communicate(input=input, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc, signal.SIGKILL)
        proc.communicate()
        raise errors.CommandError(redact(argv), 124, f"timed out after {timeout:g}s") from None
    except BaseException:
        _terminate(proc)
        raise
    if proc.returncode != 0:
        raise errors.classify(redact(argv), proc.returncode, _text(err))
    return out


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    if isinstance(data, bytes):
        return data.decode("utf-8", errors="replace")
    return data


def _kill_group(proc, sig: int) -> None:
    """Signal the child's process group (capture), or just the child (stream)."""
    try:
        if os.getpgid(proc.pid) == proc.pid:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
    except (ProcessLookupError, PermissionError):
        pass


def _terminate(proc) -> None:
    """End a child on Ctrl-C or an error."""
    if proc.poll() is None:
        _kill_group(proc, signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            _kill_group(proc, signal.SIGKILL)


def stream(argv: list[str], *, mutating: bool = False, check: bool = False,
           stdin=None) -> int:
    """Run argv attached to this terminal; return its exit code."""
    if mutating and options.dry_run:
        _plan(argv)
        return 0
    log.debug("%s %s", "+" if mutating else ".", display(argv))
    cmd = _command(argv)
    proc = cmd.popen(stdin=stdin, stdout=None, stderr=None, env=dict(os.environ))
    try:
        rc = proc.wait()
    except BaseException:
        _terminate(proc)
        raise
    if check and rc != 0:
        raise errors.classify(redact(argv), rc, "")
    return rc


def watch(argv: list[str], on_line: Callable[[str], None], *,
          env: dict[str, str] | None = None, lines: str = "stderr",
          mutating: bool = False, inherit_env: bool = True) -> Result:
    """Run argv, passing each line of one stream to ``on_line`` as it comes, and capture
    the other: ``lines`` is "stderr" (stdout captured), "stdout" (stderr captured) or
    "merged" (both, as one stream). ``inherit_env=False``: ``env`` is the whole
    environment (for a program that reads input from someone else); it goes through
    ``env -i`` (plumbum always adds its own copy of ours), so its values are not secret."""
    if not inherit_env:
        argv = ["env", "-i", *(f"{k}={v}" for k, v in (env or {}).items()), *argv]
        env = None
    if mutating and options.dry_run:
        return _plan(argv)
    log.debug("%s %s", "+" if mutating else ".", display(argv))
    cmd = _command(argv)
    extra = {"stderr": subprocess.STDOUT} if lines == "merged" else {}
    proc = cmd.popen(env={**os.environ, **(env or {})}, start_new_session=True,
                     stdin=subprocess.DEVNULL, **extra)
    stream, other = ((proc.stderr, proc.stdout) if lines == "stderr"
                     else (proc.stdout, None if lines == "merged" else proc.stderr))
    captured: list[bytes] = []
    reader = None
    if other is not None:
        reader = threading.Thread(target=lambda: captured.append(other.read()), daemon=True)
        reader.start()
    try:
        for raw in stream:
            on_line(_text(raw).rstrip("\n"))
        proc.wait()
    except BaseException:
        _terminate(proc)
        raise
    if reader:
        reader.join()
    rest = _text(b"".join(captured))
    return Result(list(argv), proc.returncode, rest if lines == "stderr" else "",
                  rest if lines == "stdout" else "")


def lines(argv: list[str], idle: float | None = None) -> Generator[str | None, None, None]:
    """Run argv and yield its output lines (stdout and stderr merged) as they come;
    with ``idle``, also None after each ``idle`` seconds without output.

    Closing the generator (e.g. a web client went away) ends the command.
    """
    log.debug(". %s", display(argv))
    cmd = _command(argv)
    proc = cmd.popen(env=dict(os.environ), start_new_session=True, stdin=subprocess.DEVNULL,
                     stderr=subprocess.STDOUT)
    try:
        yield from (_text(raw).rstrip("\n") for raw in proc.stdout) if idle is None \
            else _lines_or_ticks(proc.stdout.fileno(), idle)
    finally:
        _terminate(proc)
        proc.stdout.close()


def _lines_or_ticks(fd: int, idle: float) -> Iterator[str | None]:
    import select

    pending = b""
    while True:
        if not select.select([fd], [], [], idle)[0]:
            yield None
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        *done, pending = (pending + chunk).split(b"\n")
        yield from (_text(raw) for raw in done)
    if pending:
        yield _text(pending)


def pty_spawn(argv: list[str], rows: int = 24, cols: int = 80):
    """Start argv on a new pseudo-terminal; return (process, master fd)."""
    import fcntl
    import pty
    import struct
    import termios

    log.debug("+ pty %s", display(argv))
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def controlling_tty() -> None:  # runs in the child: the pty becomes its terminal
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = _command(argv).popen(stdin=slave, stdout=slave, stderr=slave, close_fds=True,
                                start_new_session=True, preexec_fn=controlling_tty,
                                env={**{k: v for k, v in os.environ.items() if k != "TMUX"},
                                     "TERM": "xterm-256color"})
    os.close(slave)
    return proc, master


def spawn(argv: list[str]):
    """Start argv with pipes for stdin, stdout and stderr; the caller relays and waits.

    For the SSH server, whose sessions are `podman exec` processes.
    """
    log.debug("+ %s", display(argv))
    return _command(argv).popen(stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True,
                                env=dict(os.environ))


def replace(argv: list[str]) -> NoReturn:
    """Replace this process with argv (for interactive attach)."""
    if options.dry_run:
        _plan(argv)
        sys.exit(0)
    full = resolve(argv)
    log.debug("+ exec %s", display(argv))
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(full[0], full)
