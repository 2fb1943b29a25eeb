"""Test harness: a private podman service per test session.

Tests marked ``@pytest.mark.podman`` (or using ``podman_service``,
``test_image`` or ``devaipod_cli``) get a podman API service of their own,
started once per session and only when such a test is selected. All its
state lives in a temp dir T (storage, runroot, tmp dir, events, networks);
the machine's storage (/var/lib/containers/storage) is added as a read-only
image store, so images built by ``make images`` are visible, but nothing the
tests create lands there. T is removed at the end.

Environment of the session (in-process and for ``devaipod`` subprocesses):
``DEVAIPOD_PODMAN_URL=unix://T/podman.sock`` and
``DEVAIPOD_INSTANCE=test-<hex>``. ``DEVAIPOD_TEST_IMAGESTORE`` overrides the
read-only image store (default: the machine's storage).
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

# plumbum runs `uname -p` when first imported; import it before any test
# fakes subprocesses with pytest-subprocess, so that call is never faked.
import plumbum
import pytest

from devaipod import clikit, runner
from devaipod.podman import connection

MACHINE_STORE = "/var/lib/containers/storage"
TEST_IMAGES = ("localhost/devaipod-devenv:latest", "localhost/devaipod-base:bookworm")


@dataclass
class PodmanService:
    """The private podman service: where it is and how to talk to it."""

    tmp: Path
    url: str
    instance: str
    env: dict[str, str] = field(default_factory=dict)  # CONTAINERS_* for podman itself

    def podman(self, *args: str, input: str | None = None, check: bool = True):
        """Run ``podman --remote --url URL ARGS`` directly (not via devaipod)."""
        proc = subprocess.run(
            ["podman", "--remote", "--url", self.url, *args],
            input=input, capture_output=True, text=True, timeout=120,
        )
        if check and proc.returncode != 0:
            pytest.fail(f"podman {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
        return proc


def pytest_collection_modifyitems(config, items):
    """A test that uses the service (directly or through a fixture) is a podman test."""
    for item in items:
        if "podman_service" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.podman)


@pytest.fixture(autouse=True)
def _podman_when_marked(request):
    """Start the session's podman service for every test marked ``podman``."""
    if request.node.get_closest_marker("podman"):
        request.getfixturevalue("podman_service")


@pytest.fixture(autouse=True)
def _fresh_state(monkeypatch, _podman_when_marked):
    """Each test starts with no --dry-run, no --debug, no --url and a plain logger."""
    monkeypatch.setattr(runner, "options", runner.Options())
    for name, default in vars(clikit.Settings).items():
        if not name.startswith("_"):
            monkeypatch.setattr(clikit.settings, name, default)
    monkeypatch.setattr(connection, "_explicit", connection._explicit)  # undo any --url
    logger = logging.getLogger("devaipod")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    logger.setLevel(logging.NOTSET)
    logger.propagate = True


def _write_configs(tmp: Path) -> dict[str, str]:
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
    return {
        "CONTAINERS_CONF": str(tmp / "containers.conf"),
        "CONTAINERS_STORAGE_CONF": str(tmp / "storage.conf"),
    }


def _answers(url: str) -> bool:
    proc = subprocess.run(
        ["podman", "--remote", "--url", url, "version"], capture_output=True, timeout=30
    )
    return proc.returncode == 0


def _start(tmp: Path, env: dict[str, str], url: str) -> subprocess.Popen:
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
        if _answers(url):
            return proc
        time.sleep(0.1)
    _stop(proc)
    log_text = (tmp / "service.log").read_text(errors="replace")
    shutil.rmtree(tmp, ignore_errors=True)
    pytest.fail(f"private podman service on {url} did not answer; its log:\n{log_text}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _processes_of(tmp: Path) -> list[int]:
    """PIDs whose command line names T (conmons the service started)."""
    pids = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if str(tmp).encode() in (proc / "cmdline").read_bytes():
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


def _reap(tmp: Path, timeout: float = 10) -> None:
    """Wait for the service's leftover processes; terminate stragglers by PID."""
    deadline = time.monotonic() + timeout
    while (pids := _processes_of(tmp)) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)


def _mounts_under(tmp: Path) -> list[str]:
    with open("/proc/self/mounts") as mounts:
        points = [line.split()[1] for line in mounts]
    return sorted((p for p in points if p.startswith(f"{tmp}/")), reverse=True)


def _teardown(service: PodmanService, proc: subprocess.Popen) -> None:
    if proc.poll() is None:  # fast removal first: reset waits 10 s per stubborn container
        service.podman("pod", "rm", "--all", "--force", "--time", "0", check=False)
        service.podman("rm", "--all", "--force", "--time", "0", check=False)
    _stop(proc)
    tmp = service.tmp
    env = {**os.environ, **service.env,
           "CONTAINERS_STORAGE_CONF": str(tmp / "storage-reset.conf")}
    subprocess.run(
        ["podman", "--root", f"{tmp}/root", "--runroot", f"{tmp}/runroot",
         "system", "reset", "--force"],
        env=env, capture_output=True, timeout=300,
    )
    _reap(tmp)
    for point in _mounts_under(tmp):
        subprocess.run(["umount", "--lazy", point], capture_output=True)
    shutil.rmtree(tmp, ignore_errors=True)
    left = [*map(str, _processes_of(tmp)), *_mounts_under(tmp), *([str(tmp)] * tmp.exists())]
    if left:
        pytest.fail(f"the podman test harness left behind: {', '.join(left)}")


@pytest.fixture(scope="session")
def podman_service():
    """The private podman service; the session env points devaipod at it."""
    if shutil.which("podman") is None:
        pytest.fail("podman is not installed: podman tests need it "
                    "(run `make test`, or hack/setup-host.sh, to install it)")
    tmp = Path(tempfile.mkdtemp(prefix="devaipod-test-"))
    env = _write_configs(tmp)
    url = f"unix://{tmp}/podman.sock"
    proc = _start(tmp, env, url)
    service = PodmanService(tmp, url, f"test-{secrets.token_hex(4)}", env)
    session_env = {"DEVAIPOD_PODMAN_URL": url, "DEVAIPOD_INSTANCE": service.instance}
    patch = pytest.MonkeyPatch()
    for key, value in session_env.items():
        patch.setenv(key, value)
        patch.setitem(plumbum.local.env, key, value)  # plumbum's copy of the env
    patch.setattr(connection, "_explicit", url)
    try:
        yield service
    finally:
        patch.undo()
        _teardown(service, proc)


@pytest.fixture(scope="session")
def test_image(podman_service):
    """A usable base image visible to the private service."""
    for ref in TEST_IMAGES:
        if podman_service.podman("image", "exists", ref, check=False).returncode == 0:
            return ref
    pytest.fail(f"no test image: none of {', '.join(TEST_IMAGES)} is in "
                f"{os.environ.get('DEVAIPOD_TEST_IMAGESTORE', MACHINE_STORE)}; "
                "build them with `make images` (hack/build-images.sh)")


@pytest.fixture
def devaipod_cli(podman_service):
    """Run ``devaipod ARGS`` as a subprocess; returns (rc, stdout, stderr)."""

    def run(*args: str, input: str | None = None, timeout: float = 120):
        proc = subprocess.run(
            [sys.executable, "-m", "devaipod", *args], input=input,
            capture_output=True, text=True, timeout=timeout, env=dict(os.environ),
        )
        return proc.returncode, proc.stdout, proc.stderr

    return run


@pytest.fixture
def unique(podman_service):
    """Names unique to this session and test: ``unique("pod")``."""
    counter = iter(range(1_000_000))

    def name(word: str) -> str:
        return f"{podman_service.instance}-{word}-{secrets.token_hex(2)}{next(counter)}"

    return name
