"""Egress allow-list with real podman and local servers only (nothing leaves the machine).

Two HTTP servers on the test network stand in for an "allowed" and a "not allowed"
host. A workspace made with ``--egress allow-list --allow <allowed>`` has its pod on an
internal network; its proxy ``{pod}-egress`` is the only way out. The real OpenCode
still reaches the fake LLM (its host comes from the repository's opencode.json).
"""

from __future__ import annotations

import json

import pytest

from podfixtures import exec_in, http_servers, ip_of, leftovers, run_devaipod, trusted_config

pytestmark = pytest.mark.podman


@pytest.fixture(scope="module")
def servers(podman_service, gitserver, images, tmp_path_factory):
    with http_servers(podman_service, gitserver.network, images["base"],
                      tmp_path_factory.mktemp("egress-servers")) as made:
        yield made


@pytest.fixture(scope="module")
def egress_ws(podman_service, gitserver, fakellm, servers, tmp_path_factory):
    """A workspace made with `run --egress allow-list --allow <ok server>`: the real
    OpenCode ran a task against the fake LLM through the proxy."""
    inst = podman_service.instance
    name = f"{inst}-egress"
    with trusted_config(podman_service, tmp_path_factory.mktemp("egress"), {
            "ANTHROPIC_API_KEY": (f"{inst}-egress-llm", "sk-egress-llm-key-9")}) as config, \
            pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEVAIPOD_CONFIG", str(config))
        try:
            rc, out, err = run_devaipod(
                "run", gitserver.git_url, "--name", name, "--network", gitserver.network,
                "--egress", "allow-list", "--allow", servers["ok"], "--wait", "-c",
                "WRITE_FILE egress.txt written behind the proxy", timeout=400)
            assert rc == 0, err
            yield {"name": name, "pod": f"devaipod-{name}", "run_out": out}
        finally:
            run_devaipod("delete", "--force", name)


def agent(svc, ws, script: str) -> tuple[int, str]:
    proc = svc.podman("exec", f"{ws['pod']}-agent", "sh", "-c", script, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def test_opencode_reaches_the_fake_llm_through_the_proxy(egress_ws, podman_service, fakellm):
    assert "FAKE_DONE" in egress_ws["run_out"]
    assert exec_in(podman_service, f"{egress_ws['pod']}-agent", "cat",
                   "egress.txt") == "written behind the proxy"


def test_allowed_host_answers_and_the_other_is_refused(egress_ws, podman_service, servers):
    rc, out = agent(podman_service, egress_ws, f"curl -sS -m 10 http://{servers['ok']}:8000/ok.txt")
    assert (rc, out) == (0, "ok-served")
    rc, out = agent(podman_service, egress_ws,
                    f"curl -s -m 10 -o /dev/null -w '%{{http_code}}' http://{servers['no']}:8000/no.txt")
    assert out == "403"


def test_a_direct_connection_fails(egress_ws, podman_service, servers):
    address = ip_of(podman_service, servers["no"])
    rc, out = agent(podman_service, egress_ws,
                    f"curl -sS --noproxy '*' -m 5 http://{address}:8000/no.txt")
    assert rc != 0 and "no-served" not in out


def test_denials_are_in_the_audit_trail(egress_ws, podman_service, servers):
    agent(podman_service, egress_ws, f"curl -s -m 10 http://{servers['no']}:8000/no.txt")
    rc, out, err = run_devaipod("audit", "--json", egress_ws["name"])
    assert rc == 0, err
    denied = [e for e in json.loads(out) if e["kind"] == "egress"
              and e.get("decision") == "denied"]
    assert {"host": servers["no"], "port": 8000} in [
        {"host": e["host"], "port": e["port"]} for e in denied]


def test_status_shows_the_mode_and_the_list(egress_ws, servers, fakellm):
    rc, out, err = run_devaipod("status", "--json", egress_ws["name"])
    assert rc == 0, err
    egress = json.loads(out)["egress"]
    assert egress["mode"] == "allow-list"
    assert servers["ok"] in egress["allow"]
    assert f"{fakellm.host}:18080" in egress["allow"]  # from the repository's opencode.json
    rc, out, err = run_devaipod("status", egress_ws["name"])
    assert f"egress     allow-list: {servers['ok']}" in out


def test_egress_allow_and_deny_take_effect_live(egress_ws, podman_service, servers):
    fetch = (f"curl -s -m 10 -o /dev/null -w '%{{http_code}}' "
             f"http://{servers['no']}:8000/no.txt")
    rc, out, err = run_devaipod("egress", egress_ws["name"], "allow", servers["no"])
    assert rc == 0, err
    assert servers["no"] in out.split()
    assert agent(podman_service, egress_ws, fetch)[1] == "200"
    rc, out, err = run_devaipod("egress", egress_ws["name"], "deny", servers["no"])
    assert rc == 0, err
    assert servers["no"] not in out.split()
    assert agent(podman_service, egress_ws, fetch)[1] == "403"


def test_stop_and_start_take_the_proxy_along(egress_ws, podman_service, servers):
    proxy = f"{egress_ws['pod']}-egress"

    def running() -> bool:
        info = json.loads(podman_service.podman("inspect", proxy).stdout)[0]
        return info["State"]["Running"]

    assert run_devaipod("stop", egress_ws["name"], "-t", "0")[0] == 0
    assert not running()
    rc, _out, err = run_devaipod("start", egress_ws["name"])
    assert rc == 0, err
    assert running()
    rc, out = agent(podman_service, egress_ws,
                    f"curl -sS -m 10 http://{servers['ok']}:8000/ok.txt")
    assert (rc, out) == (0, "ok-served")
    rc, out, err = run_devaipod("status", "--json", egress_ws["name"])
    assert json.loads(out)["api_port"], "the sidecar's port, relayed by the proxy"


def test_delete_removes_the_proxy_and_the_network(egress_ws, podman_service):
    rc, _out, err = run_devaipod("delete", "--force", egress_ws["name"])
    assert rc == 0, err
    assert not any(leftovers(podman_service, egress_ws["pod"]).values())
    nets = podman_service.podman("network", "ls", "--format", "{{.Name}}").stdout.split()
    assert f"{egress_ws['pod']}-internal" not in nets
