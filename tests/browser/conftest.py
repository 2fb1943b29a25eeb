"""Fixtures for the browser tests: `devaipod web`, Debian's Chromium driven by Playwright.

- ``control_plane``: one `devaipod web` per module, on 127.0.0.1 with a state
  dir of its own and a config file (DEVAIPOD_CONFIG) that puts new pods on the
  test network (the New page has no network field) and hands them the Quick
  Start's trusted LLM key (a podman secret made here).
- ``browser``: Chromium from /usr/bin/chromium (``apt-get install chromium``;
  `make test` does it), never a browser downloaded by ``playwright install``.
- ``logged_in``: a browser context logged in through the printed login URL
  (``logged_in.devaipod_key``: the session's key, which the pages keep in
  localStorage and send with every API call).
- ``page``: a fresh page in that context; its full-page screenshot is saved as
  ``test-output/screenshots/<test>.png`` when the test ends (passed or not),
  unless the test saved one itself with ``shot(page)``; a Content-Security-Policy
  violation on it fails the test.

The git server and the fake LLM are the integration tests' (their helpers),
but under names of their own (``<instance>-ui*``): the session fixtures of
tests/podfixtures.py have fixed names, which would clash with the integration
tests' in one session.
"""

from __future__ import annotations

import re
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import harness

try:  # the tests' own imports: `from .conftest import expect`
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture fails with a clear message
    expect = None
    PlaywrightError = Exception
else:
    expect.set_options(timeout=30_000)

from podfixtures import (
    free_port,  # noqa: F401 (the browser tests' import)
    run_devaipod,
    serve_test_repos,
    start_fakellm,
    web_server,
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
VIEWPORT = {"width": 1280, "height": 900}


@dataclass
class ControlPlane:
    base: str
    token: str
    port: int
    env: dict[str, str]
    log: Path
    output: list[str] = field(default_factory=list)

    @property
    def login_url(self) -> str:
        return f"{self.base}/login?token={self.token}"

    def devaipod(self, *args: str, timeout: float = 300):
        """``devaipod ARGS`` with the control plane's environment: (rc, out, err)."""
        proc = subprocess.run([sys.executable, "-m", "devaipod", *args], capture_output=True,
                              text=True, timeout=timeout, env=self.env)
        return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture(scope="module")
def ui_git(podman_service, images, tmp_path_factory):
    """The integration tests' git server, as ``<instance>-ui-git`` on ``<instance>-ui-net``."""
    with serve_test_repos(podman_service, tmp_path_factory.mktemp("ui-gitserver"),
                           f"{podman_service.instance}-ui", images["base"]) as server:
        yield server


@pytest.fixture(scope="module")
def ui_llm(podman_service, ui_git, images):
    """The fake LLM, as ``<instance>-ui-llm:18080`` on the git server's network."""
    name = f"{podman_service.instance}-ui-llm"
    try:
        yield start_fakellm(podman_service, name, ui_git.network, images["base"])
    finally:
        podman_service.podman("rm", "-f", "-t", "0", name, check=False)


@pytest.fixture(scope="module")
def web_config(podman_service, ui_git, tmp_path_factory):
    """DEVAIPOD_CONFIG: pods on the test network, the trusted LLM key as a secret."""
    inst = podman_service.instance
    secret = f"{inst}-uikey"
    podman_service.podman("secret", "create", secret, "-", input="sk-browser-key")
    path = tmp_path_factory.mktemp("ui-config") / "devaipod.toml"
    path.write_text(f'[podman]\nnetwork = "{ui_git.network}"\n\n'
                    f'[trusted]\nsecrets = ["ANTHROPIC_API_KEY={secret}"]\n')
    yield path
    podman_service.podman("secret", "rm", secret, check=False)


@pytest.fixture(scope="module")
def control_plane(podman_service, web_config, tmp_path_factory):
    SCREENSHOTS.parent.mkdir(parents=True, exist_ok=True)
    log = SCREENSHOTS.parent / "devaipod-web.log"  # the server's own log, for a person to read
    with log.open("w") as err, web_server(tmp_path_factory.mktemp("ui-state"),
                                          {"DEVAIPOD_CONFIG": str(web_config)},
                                          stderr=err) as web:
        yield ControlPlane(web.base, web.token, web.port, web.env, log, web.output)


_DRIVER: dict = {"users": 0, "playwright": None}


@contextmanager
def playwright_session():
    """Playwright's driver, one per process: its sync API cannot run twice at once, and
    the adversarial tests drive Chromium too (counted; stopped when the last user ends)."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests drive Debian's Chromium; "
                    "install it with `apt-get install -y chromium` (or `make browser`)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        pytest.fail(f"Python Playwright is missing ({exc}): install the test extra, "
                    "`.venv/bin/pip install -e '.[test]'` (never `playwright install`)")
    if not _DRIVER["users"]:
        _DRIVER["playwright"] = sync_playwright().start()
    _DRIVER["users"] += 1
    try:
        yield _DRIVER["playwright"]
    finally:
        _DRIVER["users"] -= 1
        if not _DRIVER["users"]:
            _DRIVER["playwright"].stop()


@contextmanager
def chromium():
    """Debian's Chromium, headless, through the shared driver."""
    with playwright_session() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def browser():
    """Chromium for one module: Playwright's sync driver runs an asyncio loop in this
    thread while it lives, which later tests (anyio.run) must not find running."""
    with chromium() as browser:
        yield browser


@pytest.fixture
def new_context(browser):
    """``new_context()``: a fresh context (no cookies); closed after the test."""
    made = []

    def make(**kwargs):
        context = browser.new_context(viewport=VIEWPORT, **kwargs)
        context.set_default_timeout(30_000)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


@pytest.fixture(scope="module")
def logged_in(browser, control_plane):
    """A context logged in through the printed login URL (as a person would)."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.goto(control_plane.login_url)
    page.wait_for_url(f"{control_plane.base}/")
    context.devaipod_key = page.evaluate("localStorage.getItem('devaipod-key')")
    page.close()
    yield context
    context.close()


def screenshot_path(request, suffix: str = "") -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^\w.-]+", "_", request.node.name)
    return SCREENSHOTS / f"{name}{suffix}.png"


@pytest.fixture
def shot(request):
    """``shot(page, suffix="")``: save a full-page screenshot for this test."""
    taken: list[str] = []

    def take(page, suffix: str = "") -> Path:
        path = screenshot_path(request, suffix)
        page.screenshot(path=str(path), full_page=True)
        taken.append(suffix)
        return path

    take.taken = taken
    return take


def csp_violations(page) -> list[str]:
    """Record the page's Content-Security-Policy violations (its frames' too)."""
    seen: list[str] = []
    page.on("console", lambda msg: seen.append(msg.text)
            if "Content Security Policy" in msg.text else None)
    return seen


@pytest.fixture
def page(logged_in, shot):
    """A new page, logged in; screenshot at the end unless the test took its own. Our
    pages must run under their policy (no inline script...): a violation fails the test."""
    page = logged_in.new_page()
    violations = csp_violations(page)
    yield page
    if "" not in shot.taken and not page.is_closed():
        try:
            shot(page)
        except Exception as exc:  # a failing screenshot must not hide the test's result
            print(f"no screenshot: {exc}")
    page.close()
    assert not violations, f"Content-Security-Policy violations: {violations}"


def wait_until(check, timeout: float, what: str, interval: float = 0.5, on_fail=None):
    """Call ``check()`` until it returns something true; fail after ``timeout`` s
    (showing ``on_fail``, e.g. what the check saw, if given)."""
    done, last = harness.poll(check, timeout, interval)
    if done:
        return last
    seen = f"; seen: {on_fail!r}" if on_fail is not None else ""
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r}){seen}")


def delete_pod(cp: ControlPlane, name: str) -> None:
    rc, _out, err = cp.devaipod("delete", "--force", name, timeout=180)
    if rc:
        # fall back on the session's environment, as the integration tests do
        rc2, _o, err2 = run_devaipod("delete", "--force", name, timeout=180)
        if rc2:
            print(f"devaipod delete --force {name} failed: {err}\n{err2}")

