"""The web form's fields become a `devaipod up|run` command line."""

from __future__ import annotations

import json
import sys

import bottle
import pytest

from devaipod import runner
from devaipod.web import actions, jobs


def test_gator_scopes_become_service_gator_flags():
    [req] = actions.creation_requests({"source": "https://github.com/o/r", "mode": "up",
                                       "gator": ["github:o/r:read,draft", " github:read-all "]})
    assert req.service_gator == ("github:o/r:read,draft", "github:read-all")
    assert jobs.creation_argv(req) == [
        sys.executable, "-m", "devaipod", "up", "--progress=json",
        "--service-gator", "github:o/r:read,draft",
        "--service-gator", "github:read-all", "--", "https://github.com/o/r"]
    assert jobs.creation_argv(req, "/etc/d.toml")[4:7] == [
        "--progress=json", "--config", "/etc/d.toml"]


@pytest.mark.parametrize(("gator", "message"), [
    (["jira:PROJ"], "only GitHub scopes"),
    (["github:o/r:fly"], "unknown permission"),
    ("github:o/r", "--service-gator: expected a list"),
])
def test_bad_scopes_are_a_400_with_the_reason(gator, message):
    with pytest.raises(bottle.HTTPResponse) as raised:
        actions.creation_requests({"source": "https://github.com/o/r", "mode": "up",
                               "gator": gator})
    assert raised.value.status_code == 400
    assert message in json.loads(raised.value.body)["error"]


def test_orchestration_is_refused_with_where_to_set_it():
    with pytest.raises(bottle.HTTPResponse) as raised:
        actions.creation_requests({"source": "x", "mode": "up", "orchestration": True})
    assert "[orchestration] enabled" in json.loads(raised.value.body)["error"]


def feed(*events) -> jobs.Job:
    job = jobs.Job("j", ["devaipod"])
    for event in events:
        job.event(event if isinstance(event, str) else json.dumps(event))
    return job


def test_a_job_follows_the_progress_events():
    """The job log is made of `--progress=json` events, never of log text."""
    job = feed({"step": "creating secrets", "state": "started"},
               {"output": "cloned main at 86eef20"},
               {"message": "no devcontainer.json: the default image", "level": "info"},
               {"message": "envAllowlist names GH_TOKEN", "level": "warning"},
               {"step": "creating secrets", "state": "failed"},  # not a line of its own
               "Error: plain text that looks like an error",
               {"state": "succeeded", "pod": "devaipod-p-1"})
    job.finish(runner.Result(job.argv, 0, "", ""))
    assert job.lines == ["creating secrets", "  cloned main at 86eef20",
                         "no devcontainer.json: the default image",
                         "warning: envAllowlist names GH_TOKEN",
                         "Error: plain text that looks like an error"]
    assert (job.state, job.pod, job.error) == ("succeeded", "devaipod-p-1", None)


def test_a_failed_job_says_why_from_its_last_event():
    job = feed({"step": "cloning x", "state": "started"},
               {"state": "failed", "error": "cloning x failed: not found; check the URL"})
    job.finish(runner.Result(job.argv, 1, "", "Error: cloning x failed"))
    assert job.state == "failed" and job.error == "cloning x failed: not found; check the URL"
    assert job.lines[-1] == "Error: cloning x failed: not found; check the URL"


def test_a_job_without_an_outcome_event_failed():
    """Exit 0 without {"state": "succeeded"} (or a crash) is a failure, said with stderr."""
    for rc, final in ((0, []), (1, [])):
        job = feed({"step": "creating the pod", "state": "started"}, *final)
        job.finish(runner.Result(job.argv, rc, "", "Traceback...\nKeyError: 'x'"))
        assert job.state == "failed" and job.pod is None
        assert job.error == f"exit {rc}: KeyError: 'x'"
