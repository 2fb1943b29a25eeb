"""The workspaces page at scale and the pod page's switcher, in a real browser.

Two real pods made with `devaipod up` (no task is started: no LLM needed): ``alpha``
forwards port 3000 (a devcontainer.json given on the command line), ``beta`` is stopped.
The search and the chips narrow the table, the forwarded port is a link, the switcher goes
from one pod to the other and "Done, next" marks one done; the connection indicator shows
while GET /api/pods fails (Playwright's route interception) and goes once it answers again.
A list of many made-up pods (also by interception) shows the page at scale, with
agent-written text that must stay text. Screenshots: test-output/screenshots/.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from .conftest import delete_pod, expect

pytestmark = pytest.mark.podman

PORT = 3000


@dataclass(frozen=True)
class Pod:
    name: str  # full, devaipod-...
    short: str
    task: str


@pytest.fixture(scope="module")
def two_pods(control_plane, ui_git, images, podman_service):
    """alpha (running, forwards PORT) and beta (stopped), both made by `devaipod up`."""
    tag = secrets.token_hex(2)
    made = []
    try:
        for word, extra in (("alpha", ["--devcontainer-json", json.dumps(
                {"image": images["devenv"], "forwardPorts": [PORT]})]), ("beta", [])):
            short = f"{podman_service.instance}-pp{word}-{tag}"
            task = f"{word} task: look at the parser"
            made.append(short)
            rc, _out, err = control_plane.devaipod("up", ui_git.git_url, task, "--name", short,
                                                   *extra, timeout=300)
            assert rc == 0, f"up {short} failed: {err}"
        rc, _out, err = control_plane.devaipod("stop", made[1])
        assert rc == 0, err
        yield tuple(Pod(f"devaipod-{s}", s, f"{w} task: look at the parser")
                    for s, w in zip(made, ("alpha", "beta"), strict=True))
    finally:
        for short in made:
            delete_pod(control_plane, short)


def api_pods(page, control_plane) -> list[dict]:
    key = page.evaluate("localStorage.getItem('devaipod-key')")
    answer = page.context.request.get(f"{control_plane.base}/api/pods",
                                      headers={"X-Devaipod-Key": key})
    assert answer.status == 200
    return answer.json()


def row(page, pod: Pod):
    return page.get_by_test_id("pods-table").locator(f'[data-pod="{pod.short}"]')


def search(page, text: str) -> None:
    page.get_by_test_id("pods-search").fill(text)


def test_search_and_chips_narrow_the_table(control_plane, two_pods, page, shot):
    alpha, beta = two_pods
    page.goto(f"{control_plane.base}/")
    expect(row(page, alpha)).to_be_visible()
    expect(row(page, beta).get_by_test_id("state-badge")).to_have_text("stopped", timeout=60_000)
    repo = {p["name"]: p["repo"] for p in api_pods(page, control_plane)}[beta.name]
    assert repo

    for query, shown in (("task:alpha", {alpha}), ("beta", {beta}), ("task:PARSER", {alpha, beta}),
                         (f'repo:"{repo}" state:stop', {beta}),
                         ("task:alpha state:stopped", set())):
        search(page, query)
        for pod in two_pods:
            if pod in shown:
                expect(row(page, pod)).to_be_visible()
            else:
                expect(row(page, pod)).to_be_hidden()
    expect(page.get_by_test_id("pods-none")).to_be_visible()  # nothing matches both
    shot(page, "-nothing")
    page.get_by_test_id("pods-clear").click()
    expect(page.get_by_test_id("pods-search")).to_have_value("")
    expect(row(page, alpha)).to_be_visible()
    expect(row(page, beta)).to_be_visible()

    stopped = page.get_by_test_id("chip-stopped")
    assert int(stopped.get_by_test_id("chip-count").text_content()) >= 1
    stopped.click()
    expect(stopped).to_have_attribute("aria-pressed", "true")
    expect(row(page, beta)).to_be_visible()
    expect(row(page, alpha)).to_be_hidden()
    assert "state=stopped" in page.url  # kept in the address: a reload shows the same
    page.reload()
    expect(page.get_by_test_id("chip-stopped")).to_have_attribute("aria-pressed", "true")
    expect(row(page, alpha)).to_be_hidden()
    expect(row(page, beta)).to_be_visible()
    shot(page, "-stopped")

    # the chip of the agents waiting on a person: alpha's is idle once OpenCode is up
    page.get_by_test_id("chip-attention").click()
    expect(row(page, alpha)).to_be_visible(timeout=180_000)
    expect(row(page, alpha).get_by_test_id("attention")).to_be_visible()
    expect(row(page, beta)).to_be_hidden()
    page.get_by_test_id("chip-attention").click()  # again: all of them
    expect(page.get_by_test_id("chip-all")).to_have_attribute("aria-pressed", "true")
    expect(row(page, beta)).to_be_visible()
    expect(row(page, beta).get_by_test_id("attention")).to_be_hidden()
    shot(page)


def test_forwarded_port_is_a_link_and_copy_copies_the_name(control_plane, two_pods, page, shot):
    alpha, beta = two_pods
    page.context.grant_permissions(["clipboard-read", "clipboard-write"],
                                   origin=control_plane.base)
    page.goto(f"{control_plane.base}/")
    entries = {p["name"]: p for p in api_pods(page, control_plane)}
    [port] = entries[alpha.name]["ports"]
    assert port["port"] == PORT and port["host_port"] > 0, port
    assert entries[beta.name]["ports"] == []  # the sidecar's port is not one to show
    link = row(page, alpha).get_by_test_id("port-link")
    expect(link).to_have_text(str(PORT))
    expect(link).to_have_attribute("href", f"http://127.0.0.1:{port['host_port']}/")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(row(page, beta).get_by_test_id("port-link")).to_have_count(0)

    copy = row(page, alpha).get_by_test_id("copy-name")
    copy.click()
    expect(copy).to_have_text("copied")
    assert page.evaluate("navigator.clipboard.readText()") == alpha.short
    shot(page)
    expect(copy).to_have_text("copy")


def test_switcher_goes_through_the_pods_and_done_marks_one(control_plane, two_pods, page, shot):
    alpha, beta = two_pods
    page.goto(f"{control_plane.base}/pods/{alpha.name}#logs")
    expect(page.get_by_test_id("pod-name")).to_have_text(alpha.short)
    select = page.get_by_test_id("switch-select")
    expect(select.locator(f'option[value="{beta.name}"]')).to_have_count(1)
    expect(select.locator(f'option[value="{beta.name}"]')).to_contain_text("stopped")
    expect(select).to_have_value(alpha.name)
    shot(page, "-alpha")

    names = [p["name"] for p in api_pods(page, control_plane)]
    assert {alpha.name, beta.name} <= set(names)
    mine = len(names) == 2  # this module's control plane: only its pods, unless others run
    if mine:  # two pods: next and previous are the other one
        page.get_by_test_id("switch-next").click()
        expect(page).to_have_url(f"{control_plane.base}/pods/{beta.name}#logs")  # same tab
        expect(page.get_by_test_id("pod-name")).to_have_text(beta.short)
        expect(page.get_by_test_id("switch-select")).to_have_value(beta.name)
        page.locator("body").press("[")  # the keyboard's previous
        expect(page.get_by_test_id("pod-name")).to_have_text(alpha.short)
    select = page.get_by_test_id("switch-select")
    expect(select.locator(f'option[value="{beta.name}"]')).to_have_count(1)
    select.select_option(beta.name)
    expect(page.get_by_test_id("pod-name")).to_have_text(beta.short)
    expect(page.get_by_test_id("switch-pos")).to_contain_text(f"of {len(names)}")
    shot(page, "-beta")

    page.get_by_test_id("switch-done").click()  # beta done, and on to the next one
    expect(page.get_by_test_id("pod-name")).not_to_have_text(beta.short)
    if mine:
        expect(page.get_by_test_id("pod-name")).to_have_text(alpha.short)
    by_name = {p["name"]: p for p in api_pods(page, control_plane)}
    assert by_name[beta.name]["done"] is True
    assert by_name[alpha.name]["done"] is False
    rc, out, err = control_plane.devaipod("list", "--json")  # the CLI sees the same mark
    assert rc == 0, err
    assert {r["name"]: r["done"] for r in json.loads(out)}[beta.name] is True
    page.goto(f"{control_plane.base}/")
    expect(row(page, beta).get_by_test_id("state-badge")).to_have_text("done")
    expect(row(page, beta)).to_have_class("is-done")
    shot(page)
    rc, _out, err = control_plane.devaipod("done", "--undo", beta.short)
    if rc:  # the web's own undo, if the CLI spells it otherwise
        key = page.evaluate("localStorage.getItem('devaipod-key')")
        answer = page.context.request.post(f"{control_plane.base}/api/pods/{beta.name}/undone",
                                           headers={"X-Devaipod-Key": key})
        assert answer.status == 200, answer.text()


def test_connection_indicator_while_the_control_plane_does_not_answer(control_plane, page,
                                                                      shot):
    page.goto(f"{control_plane.base}/")
    expect(page.get_by_test_id("pods-loading")).to_be_hidden()
    indicator = page.get_by_test_id("connection")
    expect(indicator).to_be_hidden()
    rows = page.get_by_test_id("pod-row").count()

    page.route("**/api/pods", lambda route: route.abort("connectionrefused"))
    expect(indicator).to_be_visible()
    expect(indicator).to_have_text("disconnected — retrying")
    assert page.get_by_test_id("pod-row").count() == rows  # the last list stays shown
    shot(page, "-disconnected")
    page.unroute("**/api/pods")
    expect(indicator).to_be_hidden()

    page.route("**/api/pods", lambda route: route.fulfill(status=502, body="bad gateway"))
    expect(indicator).to_be_visible()  # a proxy in front answering for a server gone
    page.unroute("**/api/pods")
    expect(indicator).to_be_hidden()
    expect(page.get_by_test_id("error-banner")).to_have_count(0)
    shot(page)


# --- many workspaces (made up, by route interception) ------------------------------------

HOSTILE = '<img src=x onerror="window.__pwned=1"><b>bold</b>'
STATES = ["working", "idle", "error", "working", "stopped", "done", "idle", "starting",
          "working", "unknown", "idle", "working", "working", "stopped"]
NAMES = ["hello-fix-login", "devaipod-json", "api-graphql", "docs-web", "deps-bump",
         "sidecar-oom", "hostile-title", "triage-42", "build-speed", "prune-tests",
         "config-rename", "review-17", "flaky-ci", "old-spike"]
REPOS = ["github.com/octo/hello", "github.com/cgwalters/devaipod", "github.com/octo/api",
         "gitlab.com/team/infra"]
TASKS = ["fix the flaky login test", "add a --json flag to list", "port the parser to graphql-core",
         "write docs for the web UI", "bump dependencies", "investigate OOM in the sidecar",
         HOSTILE, "triage issue #42", "speed up the build", "add tests for prune",
         "rename the config keys", "review PR 17", "find why CI flakes", "try a new layout"]


def made_up_pods() -> list[dict]:
    now = datetime.now(UTC)

    def ago(minutes: int) -> str:
        return (now - timedelta(minutes=minutes)).isoformat(timespec="seconds")

    messages = {"idle": "Done: the tests pass and the branch is pushed for review.",
                "error": "Error: the model answered 429 (rate limited)"}
    return [{"name": f"devaipod-{short}", "short": short, "agent": state,
             "status": "Exited" if state == "stopped" else "Running", "mode": "run",
             "repo": REPOS[i % 4], "source": f"https://{REPOS[i % 4]}", "task": TASKS[i],
             "title": "", "created": ago(60 * (i + 1) + 7), "done": state == "done",
             "last_message": messages.get(state, "Reading lib/devaipod/web/app.py"),
             "last_activity": None if state in ("stopped", "unknown") else ago(3 * i + 1),
             "ports": ([{"port": 3000, "host_ip": "127.0.0.1", "host_port": 41000 + i}]
                       if i % 4 == 0 else []), "containers": {}, "labels": {}}
            for i, (short, state) in enumerate(zip(NAMES, STATES, strict=True))]


def shown_names(page) -> list[str]:
    return page.evaluate("""[...document.querySelectorAll('#pods-body tr')]
        .filter((r) => !r.hidden).map((r) => r.dataset.pod)""")


def test_many_pods_sort_and_filter_and_agent_text_stays_text(control_plane, page, shot):
    """The page at scale (docs/pods.png is this test's screenshot)."""
    pods = made_up_pods()
    page.set_viewport_size({"width": 1200, "height": 750})
    page.route("**/api/pods", lambda route: route.fulfill(
        status=200, content_type="application/json", body=json.dumps(pods)))
    page.goto(f"{control_plane.base}/")
    expect(page.get_by_test_id("pod-row")).to_have_count(len(pods))
    counts = {c: int(page.get_by_test_id(f"chip-{c}").get_by_test_id("chip-count")
                     .text_content()) for c in ("all", "attention", "working", "idle")}
    assert counts == {"all": 14, "attention": 4, "working": 5, "idle": 3}, counts
    expect(page.get_by_test_id("attention")).to_have_count(14)  # one per row, 4 shown
    assert page.locator("[data-testid=attention]:visible").count() == 4
    expect(page).to_have_title("(4) Workspaces · devaipod")  # app.js's count, same notion

    hostile = page.locator('[data-pod="hostile-title"] td.task')
    expect(hostile).to_have_text(HOSTILE)  # shown as the text it is
    assert page.locator("#pods-body img, #pods-body b").count() == 0
    assert page.evaluate("window.__pwned") is None

    page.get_by_test_id("sort-name").click()
    assert shown_names(page) == sorted(NAMES)
    assert page.get_by_test_id("pods-sort").input_value() == "name"
    page.get_by_test_id("pods-sort").select_option("state")
    assert shown_names(page)[0] == "api-graphql"  # the failed one first
    assert shown_names(page)[-1] == "sidecar-oom"  # the done one last
    page.get_by_test_id("sort-activity").click()
    assert shown_names(page)[:2] == ["hello-fix-login", "devaipod-json"]

    search(page, "repo:octo state:idle")
    assert sorted(shown_names(page)) == ["config-rename", "hostile-title"]
    expect(page.get_by_test_id("pods-count")).to_have_text("2 of 14")
    search(page, "")
    page.get_by_test_id("chip-working").click()
    assert sorted(shown_names(page)) == sorted(
        p["short"] for p in pods if p["agent"] == "working")
    page.get_by_test_id("chip-all").click()
    expect(page.get_by_test_id("pods-count")).to_have_text("14")
    shot(page)


def test_search_terms_are_parsed_as_documented(control_plane, page):
    """podlist.js's parseQuery and matches, in the page's own browser."""
    page.goto(f"{control_plane.base}/")
    parsed = page.evaluate("""async () => {
        const m = await import('/static/podlist.js');
        return m.parseQuery('repo:Octo task:"two words" state:idle http://x/y "a b" plain Bad:key');
    }""")
    assert parsed == [{"key": "repo", "value": "octo"}, {"key": "task", "value": "two words"},
                      {"key": "state", "value": "idle"}, {"key": "", "value": "http://x/y"},
                      {"key": "", "value": "a b"}, {"key": "", "value": "plain"},
                      {"key": "", "value": "bad:key"}]
    found = page.evaluate("""async () => {
        const m = await import('/static/podlist.js');
        const pods = [
          {name: 'devaipod-a', short: 'a', agent: 'idle', repo: 'octo/x', task: 'fix it'},
          {name: 'devaipod-b', short: 'b', agent: 'error', repo: 'octo/y', title: 'Fix'},
          {name: 'devaipod-c', short: 'c', agent: 'working', repo: 'z', task: 'fix'}];
        const names = (q) => pods.filter((p) => m.matches(p, m.parseQuery(q))).map((p) => p.short);
        return {fix: names('FIX'), octo_fix: names('repo:octo fix'),
                att: names('state:attention'), work: names('state:work'),
                title: names('title:fix'), none: names('task:fix repo:q')};
    }""")
    assert found == {"fix": ["a", "b", "c"], "octo_fix": ["a", "b"], "att": ["a", "b"],
                     "work": ["c"], "title": ["b"], "none": []}
