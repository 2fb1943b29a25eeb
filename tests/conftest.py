"""Test harness: a private podman service per test session.

Tests marked ``@pytest.mark.podman`` (or using ``podman_service``,
``test_image`` or ``devaipod_cli``) get a podman API service of their own,
started once per session and only when such a test is selected. All its
state lives in a temp dir T (storage, runroot, tmp dir, events, networks);
the machine's storage (/var/lib/containers/storage) is added as a read-only
image store, so images built by ``make images`` are visible, but nothing the
tests create lands there. T is removed at the end. Starting and removing the
service is ``tests/harness.py``'s job, shared with the benchmarks in bench/.

Environment of the session (in-process and for ``devaipod`` subprocesses):
``DEVAIPOD_PODMAN_URL=unix://T/podman.sock`` and
``DEVAIPOD_INSTANCE=test-<hex>``. ``DEVAIPOD_TEST_IMAGESTORE`` overrides the
read-only image store (default: the machine's storage).
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

# plumbum runs `uname -p` when first imported; import it before any test
# fakes subprocesses with pytest-subprocess, so that call is never faked.
import plumbum
import pytest

from devaipod import clikit, runner
from devaipod.podman import connection

if str(Path(__file__).parent) not in sys.path:  # pytest puts tests/ there; be sure
    sys.path.insert(0, str(Path(__file__).parent))
import harness
from harness import MACHINE_STORE, PodmanService  # noqa: F401 (re-exported)

# the fixtures of the tests that make pods (integration, adversarial, browser)
pytest_plugins = ["podfixtures"]

TEST_IMAGES = ("localhost/devaipod-devenv:latest", "localhost/devaipod-base:bookworm")


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
    monkeypatch.setattr(clikit, "_context", [])  # each test reads its own configuration
    logger = logging.getLogger("devaipod")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    logger.setLevel(logging.NOTSET)
    logger.propagate = True


@pytest.fixture(scope="session")
def podman_service():
    """The private podman service; the session env points devaipod at it."""
    if shutil.which("podman") is None:
        pytest.fail("podman is not installed: podman tests need it "
                    "(run `make test`, or hack/setup-host.sh, to install it)")
    service, proc = harness.launch("devaipod-test-", "test", fail=pytest.fail)
    url = service.url
    # the pods' tokens go to a state dir of the session's own, not ~/.local/state
    state = service.tmp / "state"
    state.mkdir(exist_ok=True)
    session_env = {"DEVAIPOD_PODMAN_URL": url, "DEVAIPOD_INSTANCE": service.instance,
                   "DEVAIPOD_STATE_DIR": str(state)}
    patch = pytest.MonkeyPatch()
    for key, value in session_env.items():
        patch.setenv(key, value)
        patch.setitem(plumbum.local.env, key, value)  # plumbum's copy of the env
    patch.setattr(connection, "_explicit", url)
    try:
        yield service
    finally:
        patch.undo()
        harness.teardown(service, proc, fail=pytest.fail)


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
