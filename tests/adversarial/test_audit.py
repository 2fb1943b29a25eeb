"""Attacks on the audit trail from inside a real pod, and the trail of a scripted task.

The trail (``{pod}-audit``) is written by the gator and, through the sidecar, by devaipod:
the agent must neither read nor change it, nor make a line of its own appear in it through
the text it hands the gator. One workspace of owner/repo on the fake forge (the automatic
grant) serves every test.
"""

from __future__ import annotations

import json
import time

import pytest

from adversarial.conftest import Pod, forge_pod
from adversarial.test_gator import agent_commit, mcp, one
from podfixtures import run_devaipod

pytestmark = pytest.mark.podman

REPO = "owner/repo"
# a review event, as the agent would like one to read
FORGED = json.dumps({"time": "2026-01-01T00:00:00Z", "kind": "review", "by": "devaipod",
                     "action": "merge", "merged": "0" * 40})


@pytest.fixture(scope="module")
def audit_pod(podman_service, forge, gitserver, fakellm, tmp_path_factory):
    """An allow-list workspace (its proxy lets the gator reach the fake forge, nothing
    else), so that the trail has the proxy's refusals too."""
    with forge_pod(podman_service, forge, gitserver, tmp_path_factory, "advaudit",
                   args=("--egress", "allow-list")) as pod:
        yield pod


def trail(pod: Pod) -> list[dict]:
    rc, out, err = run_devaipod("audit", "--json", pod.name)
    assert rc == 0, err
    return json.loads(out)


def test_agent_can_neither_read_nor_write_the_trail(audit_pod):
    """Attack: the agent looks for the audit trail (its mount, the file anywhere in its
    container, the sidecar's routes) to read it, rewrite it or append to it."""
    one(audit_pod, "status", {})
    before = trail(audit_pod)
    assert before and before[-1]["tool"] == "status"
    out = audit_pod.agent(r"""
        grep -c devaipod-audit /proc/self/mountinfo || true
        find / -xdev -name 'audit.jsonl' 2>/dev/null | head -1
        for p in /var/lib/devaipod-audit /mnt/audit; do
          echo '{"kind":"review"}' >> $p/audit.jsonl 2>/dev/null && echo "WROTE $p"
        done
        for path in audit api/audit git/audit; do
          curl -s -o /dev/null -w "%{http_code} " http://127.0.0.1:8090/$path
        done
    """, check=False).stdout.split()
    assert out[0] == "0", out  # no mount of it
    assert not any(word.endswith("audit.jsonl") or word == "WROTE" for word in out), out
    assert all(code in ("401", "403", "404") for code in out[1:]), out
    assert trail(audit_pod) == before


def test_agent_text_cannot_make_a_line_of_its_own(audit_pod):
    """Attack: the agent hands the gator a repository name and a branch description
    holding a newline and a whole forged event (a merge), to add a line to the trail."""
    before = len(trail(audit_pod))
    hostile = f"x\n{FORGED}\n\x1b]52;c;cm0gLXJm\x07"
    mcp(audit_pod, "agent", [["github_api_tool", {"endpoint": f"repos/{hostile}/pulls"}],
                             ["github_push", {"repo_path": "/workspaces/repo",
                                              "commit_sha": "0" * 40, "repo": hostile,
                                              "description": hostile}]])
    events = trail(audit_pod)[before:]
    assert [(e["kind"], e["tool"], e["decision"]) for e in events] == [
        ("gator", "github_api_tool", "refused"), ("gator", "github_push", "refused")], events
    assert events[1]["target"] == hostile  # kept whole, as text, inside its own line
    assert not any(e["kind"] == "review" for e in trail(audit_pod))
    rc, out, _err = run_devaipod("audit", audit_pod.name)
    assert rc == 0 and "\x1b" not in out and "\x07" not in out and "\\x1b" in out


def denied_egress(pod: Pod, host: str) -> None:
    """The agent asks the proxy for HOST (refused), until the proxy's refusal is in the
    trail (the proxy notes it from its log, a moment later)."""
    code = pod.agent(f"curl -s -m 10 -o /dev/null -w '%{{http_code}}' http://{host}/",
                     check=False).stdout
    assert code == "403", code
    for _ in range(60):
        if any(e["kind"] == "egress" and e.get("host") == host for e in trail(pod)):
            return
        time.sleep(0.5)
    raise AssertionError(f"no egress refusal of {host} in the trail: {trail(pod)[-3:]}")


def test_a_scripted_task_leaves_exactly_its_events_in_order(audit_pod, forge):
    """A gator read, a push, a denied egress, a grant and a merge are the trail's next
    events, in order; a refused call is noted with its reason."""
    before = len(trail(audit_pod))
    sha = agent_commit(audit_pod, "audited")
    read = one(audit_pod, "github_api_tool", {"endpoint": f"repos/{REPO}"})
    assert not read["error"], read
    pushed = one(audit_pod, "github_push", {"repo_path": "/workspaces/repo",
                                            "commit_sha": sha, "repo": REPO,
                                            "description": "audited",
                                            "create_draft_pr": False})
    assert not pushed["error"], pushed
    refused = one(audit_pod, "github_api_tool", {"endpoint": "repos/other/repo"})
    assert refused["error"], refused
    denied_egress(audit_pod, "exfiltrate.invalid")
    rc, _out, err = run_devaipod("gator", "add", audit_pod.name, "github:other/repo:read")
    assert rc == 0, err
    rc, _out, err = run_devaipod("review", audit_pod.name, "--merge")
    assert rc == 0, err
    got = [(e["kind"], e.get("tool") or e.get("action"), e.get("decision"))
           for e in trail(audit_pod)[before:]]
    assert got == [("gator", "github_api_tool", "allowed"),
                   ("gator", "github_push", "allowed"),
                   ("push", None, None),
                   ("gator", "github_api_tool", "refused"),
                   ("egress", None, "denied"),
                   ("human", "grants", None),
                   ("review", "merge", None)], got
    events = trail(audit_pod)[before:]
    assert events[2]["branch"] == "agent-audited" and events[2]["sha"] == sha
    assert events[2]["commits"] == [sha] and events[2]["files"] == ["audited.txt"]
    assert events[2]["target"] == f"github:{REPO}"
    assert "other/repo" in events[3]["reason"]
    assert (events[4]["host"], events[4]["by"]) == ("exfiltrate.invalid", "egress")
    assert any("other/repo" in g for g in events[5]["grants"])
    assert events[6]["reviewed"] == sha
    assert forge.refs()["agent-audited"] == sha
    rc, out, err = run_devaipod("debug", "--json", audit_pod.name)
    assert rc == 0, err
    assert json.loads(out)["audit"]["last"][-1]["action"] == "merge"


def test_delete_keep_audit_saves_the_trail_first(audit_pod, tmp_path):
    """--keep-audit to a file that cannot be written deletes nothing; to one that can, the
    file holds the whole trail and the deletion. (The module's last test: it deletes.)"""
    exists = ("pod", "exists", audit_pod.name)
    rc, _out, err = run_devaipod("delete", "--force", "--keep-audit",
                                 str(tmp_path / "no" / "such" / "dir.jsonl"), audit_pod.name)
    assert rc != 0 and "nothing was deleted" in err, err
    assert audit_pod.svc.podman(*exists, check=False).returncode == 0
    before = trail(audit_pod)
    saved = tmp_path / "trail.jsonl"
    rc, _out, err = run_devaipod("delete", "--force", "--keep-audit", str(saved),
                                 audit_pod.name)
    assert rc == 0, err
    kept = [json.loads(line) for line in saved.read_text().splitlines()]
    assert kept[:-1] == before and kept[-1]["action"] == "delete"
    assert audit_pod.svc.podman(*exists, check=False).returncode != 0
    volumes = audit_pod.svc.podman("volume", "ls", "--format", "{{.Name}}").stdout
    assert f"{audit_pod.name}-audit" not in volumes
