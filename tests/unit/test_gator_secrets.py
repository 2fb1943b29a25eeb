"""Who holds which gator token and which OpenCode password, in a planned pod."""

from __future__ import annotations

import json

import pytest

from devaipod import layout, source
from devaipod.commands import pod_api
from devaipod.gator.scopes import Scopes, repo_grant
from devaipod.workspace import gator, plan, rebuild
from devaipod.workspace.credentials import Partition

POD = "devaipod-hello-abc123"
GH = source.parse("https://github.com/octo/hello")


def _plan(**kw) -> plan.Plan:
    i = plan.Inputs(pod=POD, source=GH, image="img", api_image="api", creds=Partition(),
                    gator=Scopes(repos={"octo/hello": repo_grant("push-new-branch")}), **kw)
    return plan.build(i, "agent-password", "api-token")


def _container(p: plan.Plan, role: str):
    return next(c for c in p.containers if c.labels.get(layout.ROLE) == role)


def _mounted(spec) -> set[str]:
    """The podman secrets a container mounts."""
    return {flag.split(",")[0] for group in spec.secrets for flag in group[1:]}


def _gator_server(p: plan.Plan, role: str) -> dict:
    secret = f"{POD}-opencode-config" if role == "agent" else f"{POD}-worker-opencode-config"
    return json.loads(p.secrets[secret])["mcp"]["service-gator"]


@pytest.mark.parametrize(("mode", "worker_secret", "worker_port"), [
    ("readonly", layout.gator_ro_token_secret(POD), 8766),
    ("inherit", layout.gator_token_secret(POD), 8765),
])
def test_each_opencode_carries_its_own_endpoints_token(mode, worker_secret, worker_port):
    p = _plan(orchestration=True, worker_gator=mode)
    full = p.secrets[layout.gator_token_secret(POD)]
    ro = p.secrets[layout.gator_ro_token_secret(POD)]
    assert len(full) >= 32 and len(ro) >= 32 and full != ro
    agent = _gator_server(p, "agent")
    assert agent == {"url": "http://127.0.0.1:8765/mcp", "type": "remote", "enabled": True,
                     "headers": {"Authorization": f"Bearer {full}"}}
    worker = _gator_server(p, "worker")
    assert worker["url"] == f"http://127.0.0.1:{worker_port}/mcp"
    assert worker["headers"] == {"Authorization": f"Bearer {p.secrets[worker_secret]}"}
    if mode == "readonly":
        assert full not in p.secrets[f"{POD}-worker-opencode-config"]
    # the tokens: files in the gator alone, named on its command line by path only
    g = _container(p, "gator")
    tokens = {layout.gator_token_secret(POD), layout.gator_ro_token_secret(POD)}
    assert tokens <= _mounted(g)
    for c in p.containers:
        assert c is g or not (tokens & _mounted(c)), c.name
        assert full not in json.dumps(c.__dict__) and ro not in json.dumps(c.__dict__)
    assert g.command[g.command.index("--token-file") + 1] == gator.TOKEN_FILE
    assert ("--read-only-token-file" in g.command) is (mode == "readonly")


def test_the_worker_has_a_password_of_its_own():
    p = _plan(orchestration=True)
    own = layout.worker_password_secret(POD)
    assert p.secrets[own] not in ("", "agent-password")
    worker, agent, api = (_container(p, r) for r in ("worker", "agent", "api"))
    assert ["--secret", f"{own},type=mount,target=/run/devaipod-env/OPENCODE_SERVER_PASSWORD"] \
        in worker.secrets
    assert layout.password_secret(POD) not in _mounted(worker)
    assert f"{POD}-opencode-config" not in _mounted(worker)
    for spec in (agent, api):  # the agent drives the worker, the sidecar connects it
        assert ["--secret", f"{own},type=mount,target=/run/devaipod-env/"
                "OPENCODE_WORKER_PASSWORD"] in spec.secrets
    assert _container(p, "workspace").secrets.count(
        ["--secret", f"{own},type=mount,target=/run/devaipod-env/OPENCODE_WORKER_PASSWORD"]) == 0
    links = api.command[api.command.index("pod-api"):]
    assert "4096:8765" in links and "4098:8766:OPENCODE_WORKER_PASSWORD" in links
    assert pod_api._link("4098:8766:OPENCODE_WORKER_PASSWORD") == (
        4098, 8766, "OPENCODE_WORKER_PASSWORD")
    assert pod_api._link("4096:8765") == (4096, 8765, "OPENCODE_SERVER_PASSWORD")


def test_no_worker_no_worker_password_and_no_gator_no_tokens():
    p = _plan()
    assert layout.worker_password_secret(POD) not in p.secrets
    i = plan.Inputs(pod=POD, source=GH, image="img", api_image="api", creds=Partition())
    p = plan.build(i, "pw", "tok")
    assert not any("gator" in s for s in p.secrets)


@pytest.mark.parametrize("bad", ["4098", "4098:x", "4098:8766:lower", "4098:8766:A B"])
def test_bad_gator_links(bad):
    import click

    with pytest.raises(click.BadParameter):
        pod_api._link(bad)


def test_rebuild_keeps_tokens_and_configs_together():
    p = _plan(orchestration=True)
    configs = {f"{POD}-opencode-config", f"{POD}-worker-opencode-config"}
    everything = set(p.secrets)
    kept = rebuild.keep_secrets(POD, p.secrets, lambda s: True)
    assert {layout.gator_token_secret(POD), layout.gator_ro_token_secret(POD),
            layout.worker_password_secret(POD), *configs} <= kept
    assert f"{POD}-opencode-connect" not in kept
    # a pod from before the tokens: new tokens, so the configurations are written again
    old = everything - {layout.gator_token_secret(POD), layout.gator_ro_token_secret(POD),
                        layout.worker_password_secret(POD)}
    kept = rebuild.keep_secrets(POD, p.secrets, old.__contains__)
    assert not (configs & kept) and layout.worker_password_secret(POD) not in kept
    assert {layout.password_secret(POD), layout.api_token_secret(POD)} <= kept
