"""A private podman service: start it, talk to it, remove every trace of it.

Shared by the test session (``tests/conftest.py``) and the benchmarks in
``bench/``. All the service's state lives in a temp dir T (storage, runroot,
tmp dir, events, networks, secrets, volumes); the machine's storage
(/var/lib/containers/storage) is added as a read-only image store, so images
built by ``make images`` are visible, but nothing created through the service
lands there. ``teardown`` removes T and checks that nothing is left.
``DEVAIPOD_TEST_IMAGESTORE`` overrides the read-only image store (default:
the machine's storage).

Errors are reported through a ``fail(message)`` callable that must raise:
conftest passes ``pytest.fail``; the default raises :class:`HarnessError`.
This module imports neither pytest nor devaipod.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

MACHINE_STORE = "/var/lib/containers/storage"


class HarnessError(RuntimeError):
    """The private podman service could not be started, used or removed."""


def _raise(message: str) -> NoReturn:
    raise HarnessError(message)


Fail = Callable[[str], NoReturn]


@dataclass
class PodmanService:
    """The private podman service: where it is and how to talk to it."""

    tmp: Path
    url: str
    instance: str
    env: dict[str, str] = field(default_factory=dict)  # CONTAINERS_* for podman itself
    fail: Fail = field(default=_raise, repr=False, compare=False)

    def podman(self, *args: str, input: str | None = None, check: bool = True):
        """Run ``podman --remote --url URL ARGS`` directly (not via devaipod)."""
        proc = subprocess.run(
            ["podman", "--remote", "--url", self.url, *args],
            input=input, capture_output=True, text=True, timeout=120,
        )
        if check and proc.returncode != 0:
            self.fail(f"podman {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
        return proc


def write_configs(tmp: Path) -> dict[str, str]:
    """containers.conf and storage.conf under T; returns the env that selects them."""
    store = os.environ.get("DEVAIPOD_TEST_IMAGESTORE", MACHINE_STORE)
    (tmp / "containers.conf").write_text(f"""\
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]

[engine]
runtime = "runc"
tmp_dir = "{tmp}/tmp"
events_logger = "file"
events_logfile_path = "{tmp}/events/events.log"
# exec via the API leaves 2 conmons per exec until this delay (containers/podman#20415)
exit_command_delay = 2

[network]
network_config_dir = "{tmp}/networks"
""")
    storage = f"""\
[storage]
driver = "overlay"
graphroot = "{tmp}/root"
runroot = "{tmp}/runroot"
"""
    (tmp / "storage.conf").write_text(
        storage + f'\n[storage.options]\nadditionalimagestores = ["{store}"]\n'
    )
    # used for the final reset: without the shared store, reset cannot touch it
    (tmp / "storage-reset.conf").write_text(storage)
    write_default_network(tmp / "networks", tmp.name)
    return {
        "CONTAINERS_CONF": str(tmp / "containers.conf"),
        "CONTAINERS_STORAGE_CONF": str(tmp / "storage.conf"),
    }


def write_default_network(directory: Path, seed: str) -> None:
    """The service's default network on a bridge and subnet of its own.

    Every podman instance names its default network's bridge podman0 on
    10.88.0.0/16, each with its own address allocation: two services running
    at once (two test sessions, or a test session beside the machine's own
    podman) would hand out the same addresses on one bridge.
    """
    import hashlib
    import json

    digest = hashlib.sha256(seed.encode()).digest()
    subnet = f"10.{200 + digest[0] % 50}.{digest[1]}"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "podman.json").write_text(json.dumps({
        "name": "podman", "id": "2f259bab93aaaaa2542ba43ef33eb990d0999ee1b9924b557b7be53c0b7a1bb9",
        "driver": "bridge", "network_interface": f"dp{digest[2:5].hex()}",
        "created": "2026-01-01T00:00:00Z",
        "subnets": [{"subnet": f"{subnet}.0/24", "gateway": f"{subnet}.1"}],
        "ipv6_enabled": False, "internal": False, "dns_enabled": False,
        "ipam_options": {"driver": "host-local"}}))


def answers(url: str) -> bool:
    proc = subprocess.run(
        ["podman", "--remote", "--url", url, "version"], capture_output=True, timeout=30
    )
    return proc.returncode == 0


def start(tmp: Path, env: dict[str, str], url: str, fail: Fail = _raise) -> subprocess.Popen:
    """Start ``podman system service`` on ``url`` (its own session: Ctrl-C spares it)."""
    log = open(tmp / "service.log", "wb")  # noqa: SIM115 (kept open by the service)
    proc = subprocess.Popen(
        ["podman", "system", "service", "--time=0", url],
        env={**os.environ, **env}, stdin=subprocess.DEVNULL, stdout=log,
        stderr=subprocess.STDOUT, start_new_session=True,
    )
    log.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        if answers(url):
            return proc
        time.sleep(0.1)
    stop(proc)
    log_text = (tmp / "service.log").read_text(errors="replace")
    shutil.rmtree(tmp, ignore_errors=True)
    fail(f"private podman service on {url} did not answer; its log:\n{log_text}")


def stop(proc: subprocess.Popen, timeout: float = 15) -> None:
    """End PROC: SIGTERM, then SIGKILL if it has not exited within TIMEOUT seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def processes_of(tmp: Path) -> list[int]:
    """PIDs whose command line names T (conmons the service started)."""
    pids = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if str(tmp).encode() in (proc / "cmdline").read_bytes():
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


def reap(tmp: Path, timeout: float = 10) -> None:
    """Wait for the service's leftover processes; terminate stragglers by PID."""
    deadline = time.monotonic() + timeout
    while (pids := processes_of(tmp)) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)


def mounts_under(tmp: Path) -> list[str]:
    with open("/proc/self/mounts") as mounts:
        points = [line.split()[1] for line in mounts]
    return sorted((p for p in points if p.startswith(f"{tmp}/")), reverse=True)


def launch(prefix: str = "devaipod-test-", instance_prefix: str = "test",
           fail: Fail = _raise) -> tuple[PodmanService, subprocess.Popen]:
    """A new temp dir T, its configs and a service on ``unix://T/podman.sock``.

    The service's instance name (for ``DEVAIPOD_INSTANCE``) is
    ``<instance_prefix>-<8 hex>``.
    """
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    env = write_configs(tmp)
    url = f"unix://{tmp}/podman.sock"
    proc = start(tmp, env, url, fail)
    service = PodmanService(tmp, url, f"{instance_prefix}-{secrets.token_hex(4)}", env, fail)
    return service, proc


def teardown(service: PodmanService, proc: subprocess.Popen, fail: Fail = _raise) -> None:
    """Remove every pod and container, stop the service, reset its storage, remove T."""
    if proc.poll() is None:  # fast removal first: reset waits 10 s per stubborn container
        service.podman("pod", "rm", "--all", "--force", "--time", "0", check=False)
        service.podman("rm", "--all", "--force", "--time", "0", check=False)
    stop(proc)
    tmp = service.tmp
    env = {**os.environ, **service.env,
           "CONTAINERS_STORAGE_CONF": str(tmp / "storage-reset.conf")}
    subprocess.run(
        ["podman", "--root", f"{tmp}/root", "--runroot", f"{tmp}/runroot",
         "system", "reset", "--force"],
        env=env, capture_output=True, timeout=300,
    )
    reap(tmp)
    for point in mounts_under(tmp):
        subprocess.run(["umount", "--lazy", point], capture_output=True)
    shutil.rmtree(tmp, ignore_errors=True)
    left = [*map(str, processes_of(tmp)), *mounts_under(tmp), *([str(tmp)] * tmp.exists())]
    if left:
        fail(f"the podman test harness left behind: {', '.join(left)}")


# -- for scripts (the benchmarks): a service that goes away even on Ctrl-C --

class _Deferred:
    """Holds SIGINT/SIGTERM while a critical section runs; re-raises afterwards."""

    def __init__(self) -> None:
        self.caught: int | None = None

    def handler(self, signum, _frame) -> None:
        self.caught = signum

    @contextlib.contextmanager
    def held(self):
        previous = {sig: signal.signal(sig, self.handler)
                    for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _sigterm_as_interrupt(_signum, _frame) -> NoReturn:
    raise KeyboardInterrupt


@contextlib.contextmanager
def private_service(prefix: str = "devaipod-bench-", instance_prefix: str = "bench"):
    """A private service for a script: ``with private_service() as svc: ...``.

    Ctrl-C or SIGTERM at any point ends the block with KeyboardInterrupt and
    the service is still removed; signals that arrive while it starts or is
    being removed are held until it is done (start) or ignored (removal).
    """
    if shutil.which("podman") is None:
        _raise("podman is not installed (hack/setup-host.sh installs it)")
    previous_term = signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    deferred = _Deferred()
    service = proc = None
    try:
        with deferred.held():
            service, proc = launch(prefix, instance_prefix)
        if deferred.caught is not None:
            raise KeyboardInterrupt
        yield service
    finally:
        with deferred.held():
            if service is not None:
                teardown(service, proc)
        signal.signal(signal.SIGTERM, previous_term)


def devaipod_env(service: PodmanService) -> dict[str, str]:
    """The environment that points devaipod at ``service`` (as the test session does)."""
    return {"DEVAIPOD_PODMAN_URL": service.url, "DEVAIPOD_INSTANCE": service.instance}


@dataclass
class GitServer:
    """A git daemon container serving ``git://HOST/repo.git`` on ``network``."""

    network: str
    host: str

    @property
    def git_url(self) -> str:
        return f"git://{self.host}/repo.git"


GIT_ENV = {"GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.invalid",
           "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.invalid",
           "PATH": "/usr/bin:/bin"}


def _git(*args: str, cwd: Path) -> None:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                          env={**GIT_ENV, "HOME": str(cwd)})
    if proc.returncode != 0:
        _raise(f"git {' '.join(args)}: {proc.stderr}")


# git daemon on 9418 and git's "dumb" HTTP protocol on 8000, over /srv
SERVE_GIT = ("cd /srv && python3 -m http.server 8000 >/dev/null 2>&1 & "
             "exec git daemon --reuseaddr --export-all --base-path=/srv /srv")


def serve_git(service: PodmanService, srv: Path, network: str, host: str, image: str,
              probe: str = "repo.git") -> None:
    """Serve the bare repositories under SRV as HOST on NETWORK (made here), and wait
    until ``git://HOST/PROBE`` answers. ``stop_git`` removes both."""
    service.podman("network", "create", network)
    service.podman(
        "run", "-d", "--name", host, "--network", network, "--init",
        "--label", f"io.devaipod.instance={service.instance}",
        "-v", f"{srv}:/srv:ro", image, "sh", "-c", SERVE_GIT)
    deadline = time.monotonic() + 30
    while True:
        answer = service.podman("run", "--rm", "--network", network, image,
                                "git", "ls-remote", f"git://{host}/{probe}", check=False)
        if answer.returncode == 0:
            return
        if time.monotonic() > deadline:
            _raise(f"git server {host} did not answer: {answer.stderr}")
        time.sleep(0.5)


def stop_git(service: PodmanService, network: str, host: str) -> None:
    service.podman("rm", "-f", "-t", "0", host, check=False)
    service.podman("network", "rm", "-f", network, check=False)


def git_server(service: PodmanService, image: str, files: dict[str, str] | None = None
               ) -> GitServer:
    """A one-commit repository served as ``git://<instance>-git/repo.git`` on
    ``<instance>-net``; the files go under T/gitserver."""
    root = service.tmp / "gitserver"
    work, bare = root / "work", root / "srv" / "repo.git"
    work.mkdir(parents=True)
    _git("init", "-q", "-b", "main", cwd=work)
    for name, text in (files or {"README.md": "hello from the bench repo\n"}).items():
        (work / name).write_text(text)
        _git("add", name, cwd=work)
    _git("commit", "-qm", "first", cwd=work)
    bare.parent.mkdir(parents=True)
    _git("clone", "-q", "--bare", str(work), str(bare), cwd=root)
    server = GitServer(f"{service.instance}-net", f"{service.instance}-git")
    serve_git(service, root / "srv", server.network, server.host, image)
    return server


def remove_git_server(service: PodmanService, server: GitServer) -> None:
    stop_git(service, server.network, server.host)


def poll(check: Callable[[], object], timeout: float, interval: float = 0.5) -> tuple[bool, object]:
    """Call CHECK until it returns something true or TIMEOUT seconds pass: (done, its
    last answer)."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return True, last
        time.sleep(interval)
    return False, last
