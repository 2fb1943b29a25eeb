"""devaipod.kube.manifest: a plan's Kubernetes objects (pure), and their golden YAML files.

The plans are three of tests/unit/test_plan_golden.py's cases, with its fixed time, tokens
and passwords (its ``_fixed`` fixture): ``plain``, ``github-gator-worker`` (the gator,
the worker, trusted secrets, an LLM key, GPUs, limits) and ``egress-allow-list`` (the
proxy's Pod, Service and NetworkPolicy). The user's own podman secrets the
second mounts (``[trusted] secrets``) are given fixed values. When a change of the YAML is
intended, regenerate the files and review their diff like code::

    DEVAIPOD_UPDATE_GOLDEN=1 PYTHONPATH=$PWD/lib pytest tests/unit/test_kube_manifest.py
"""

from __future__ import annotations

import base64
import difflib
import os
from pathlib import Path

import pytest
import yaml

from devaipod import errors, layout
from devaipod.kube import containers, manifest, names, secretfiles, yamlout
from devaipod.podman.secret import BIN_DIR, ENV_DIR
from devaipod.workspace import plan as plan_

from .test_plan_golden import (
    API_TOKEN,
    PASSWORD,
    _fixed,
    egress_allow_list,
    github_gator_worker,
    plain,
)

__all__ = ["_fixed"]  # the fixture: fixed time, version, tokens, passwords

FIXTURES = Path(__file__).parent.parent / "fixtures" / "kube"
UPDATE = os.environ.get("DEVAIPOD_UPDATE_GOLDEN") == "1"
REGENERATE = "DEVAIPOD_UPDATE_GOLDEN=1 pytest tests/unit/test_kube_manifest.py"
CASES = {"plain": plain, "gator-worker": github_gator_worker,
         "egress-allow-list": egress_allow_list}


def user_values(p: plan_.Plan) -> dict[str, str]:
    return {n: f"golden-user-secret-{n}" for n in manifest.user_secrets(p)}


def case(name: str) -> tuple[plan_.Plan, list[dict], dict[str, str]]:
    p = plan_.build(CASES[name]().inputs, PASSWORD, API_TOKEN)
    external = user_values(p)
    return p, manifest.objects(p, namespace="devaipod", external=external), external


def golden_text(name: str, objs: list[dict]) -> str:
    header = (f"# {name}: the Kubernetes objects of test_plan_golden.py's case; written by "
              f"tests/unit/test_kube_manifest.py\n# regenerate: {REGENERATE}\n")
    return header + yamlout.dump(objs)


@pytest.mark.parametrize("name", CASES)
def test_objects_match_their_golden_file(name):
    _p, objs, _ = case(name)
    text = golden_text(name, objs)
    path = FIXTURES / f"{name}.yaml"
    if UPDATE:
        FIXTURES.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return
    assert path.exists(), f"{path} is missing: generate it with {REGENERATE}"
    expected = path.read_text()
    if text != expected:
        diff = "\n".join(difflib.unified_diff(expected.splitlines(), text.splitlines(),
                                              f"fixtures/kube/{name}.yaml", "now",
                                              lineterm=""))
        pytest.fail(f"the objects of {name} changed; if intended, run {REGENERATE} and "
                    f"review the diff\n{diff}", pytrace=False)


@pytest.mark.parametrize("name", CASES)
def test_the_yaml_reads_back_as_the_objects(name):
    _p, objs, _ = case(name)
    assert list(yaml.safe_load_all(yamlout.dump(objs))) == objs


def strings(value) -> list[str]:
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*strings(k), *strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return [value] if isinstance(value, str) else []


@pytest.mark.parametrize("name", CASES)
def test_no_secret_value_outside_secret_objects(name):
    p, objs, external = case(name)
    values = {**p.secrets, **external}
    others = [s for o in objs if o["kind"] != "Secret" for s in strings(o)]
    assert others and {PASSWORD, API_TOKEN} <= set(values.values())
    for secret_name, value in values.items():
        encoded = base64.b64encode(value.encode()).decode()
        leaks = [s for s in others if value in s or encoded in s]
        assert not leaks, f"the value of {secret_name} is outside the Secrets"
    # and each value the plan makes is in some Secret
    data = {base64.b64decode(v).decode() for o in objs if o["kind"] == "Secret"
            for v in o["data"].values()}
    assert set(p.secrets.values()) <= data


def mounted_files(pod: dict, secrets: dict[str, dict], container: dict) -> dict[str, str]:
    """path -> value of each Secret file the container gets, as Kubernetes mounts them."""
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    out = {}
    for m in container.get("volumeMounts", []):
        source = volumes[m["name"]].get("secret")
        if source is None:
            continue
        assert m["readOnly"] and "subPath" not in m
        data = secrets[source["secretName"]]["data"]
        assert sorted(data) == sorted(i["key"] for i in source["items"])  # podman: all keys
        for item in source["items"]:
            out[f"{m['mountPath']}/{item['path']}"] = base64.b64decode(
                data[item["key"]]).decode()
    return out


@pytest.mark.parametrize("name", CASES)
def test_each_secret_is_a_file_where_podman_mounts_it(name):
    p, objs, external = case(name)
    values = {**p.secrets, **external}
    pod = next(o for o in objs if o["kind"] == "Pod")
    secrets = {o["metadata"]["name"]: o for o in objs if o["kind"] == "Secret"}
    by_name = {c["name"]: c for c in pod["spec"]["initContainers"] + pod["spec"]["containers"]}
    for spec in [*p.init, *p.containers]:
        podman_files = {f.target: values[f.secret] for f in secretfiles.files(spec)}
        assert mounted_files(pod, secrets, by_name[manifest.role(p, spec)]) == podman_files
    agent = mounted_files(pod, secrets, by_name["agent"])
    assert agent[f"{ENV_DIR}/OPENCODE_SERVER_PASSWORD"] == PASSWORD
    ws = mounted_files(pod, secrets, by_name["workspace"])
    assert f"{BIN_DIR}/opencode-connect" in ws


def test_programs_are_executable_and_the_rest_read_only():
    _p, objs, _ = case("plain")
    pod = next(o for o in objs if o["kind"] == "Pod")
    modes = {(v["name"], i["path"]): i["mode"] for v in pod["spec"]["volumes"]
             if "secret" in v for i in v["secret"]["items"]}
    assert modes[("workspace-run-devaipod-bin", "opencode-connect")] == 0o555
    assert modes[("agent-run-devaipod-env", "OPENCODE_SERVER_PASSWORD")] == 0o444
    assert all(v["secret"]["optional"] is False for v in pod["spec"]["volumes"]
               if "secret" in v)  # podman 4.3.1 crashes without it


@pytest.mark.parametrize("name", CASES)
def test_pod_security(name):
    p, objs, _ = case(name)
    pods = [o for o in objs if o["kind"] == "Pod"]
    assert len(pods) == (2 if p.egress else 1)
    for pod in pods:
        assert pod["spec"]["shareProcessNamespace"] is False
        assert pod["spec"]["automountServiceAccountToken"] is False
    spec = pods[0]["spec"]
    every = [c for pod in pods for c in pod["spec"].get("initContainers", []) +
             pod["spec"]["containers"]]
    for c in every:
        ctx = c["securityContext"]
        assert ctx["allowPrivilegeEscalation"] is False, c["name"]
        assert ctx["capabilities"]["drop"] == ["ALL"], c["name"]
        assert ctx["seccompProfile"] == {"type": "RuntimeDefault"}
        assert set(ctx["capabilities"].get("add", [])) <= set(containers.PODMAN_CAPS)
    by_name = {c["name"]: c for c in every}
    for sidecar in ("api", *(("gator",) if p.labels.get(layout.GATOR) else ()),
                    *(("egress",) if p.egress else ())):
        assert "add" not in by_name[sidecar]["securityContext"]["capabilities"]
    assert by_name["agent"]["securityContext"]["runAsUser"] == layout.AGENT_UID
    assert by_name["agent"]["securityContext"]["runAsGroup"] == layout.AGENT_UID
    assert [c["name"] for c in spec["initContainers"]] == \
        [manifest.role(p, s) for s in p.init]


def test_gator_and_worker():
    p, objs, _ = case("gator-worker")
    pod = next(o for o in objs if o["kind"] == "Pod")
    names_ = [c["name"] for c in pod["spec"]["containers"]]
    assert names_ == ["workspace", "agent", "gator", "api", "worker"]
    assert [c["name"] for c in pod["spec"]["initContainers"]] == \
        ["init-clone", "init-agent", "init-gator", "init-worker"]
    agent = next(c for c in pod["spec"]["containers"] if c["name"] == "agent")
    assert agent["resources"]["limits"] == {"cpu": "2", "memory": "4Gi", "nvidia.com/gpu": 1}
    notes = manifest.convert(p, external=user_values(p)).not_mapped
    assert "--pids-limit 4096" in notes
    assert any(n.startswith("copy of ~/") for n in notes)


@pytest.mark.parametrize("name", CASES)
def test_only_the_sidecar_port_is_served(name):
    p, objs, _ = case(name)
    svc = [o for o in objs if o["kind"] == "Service" and o["metadata"]["name"] == p.pod]
    assert len(svc) == 1
    assert svc[0]["spec"]["ports"] == [{"name": "api", "protocol": "TCP", "port": 8090,
                                        "targetPort": 8090}]
    assert svc[0]["spec"]["type"] == "ClusterIP"
    pod = next(o for o in objs if o["kind"] == "Pod")
    assert svc[0]["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    policy = next(o for o in objs if o["kind"] == "NetworkPolicy")
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= \
        pod["metadata"]["labels"].items()
    assert policy["spec"]["ingress"] == [{"ports": [{"protocol": "TCP", "port": 8090}]}]
    assert ("egress" in policy["spec"]) == (p.egress is not None)  # open mode: as podman


@pytest.mark.parametrize("name", CASES)
def test_labels_as_on_podman(name):
    p, objs, _ = case(name)
    for o in objs:
        labels = o["metadata"]["labels"]
        assert labels[layout.MANAGED] == "true" and labels[layout.POD] == p.pod
        assert o["metadata"]["namespace"] == "devaipod"
    pod = next(o for o in objs if o["kind"] == "Pod")
    meta = pod["metadata"]
    assert {**meta["labels"], **meta.get("annotations", {})}.items() >= p.labels.items()
    assert layout.read_label(meta["annotations"], "source")  # a URL: an annotation


def test_the_api_token_is_where_the_backend_reads_it():
    _p, objs, _ = case("plain")
    name, key = manifest.api_token_secret("devaipod-plain-000001")
    found = next(o for o in objs if o["kind"] == "Secret" and o["metadata"]["name"] == name)
    assert base64.b64decode(found["data"][key]).decode() == API_TOKEN


def test_instance_label(monkeypatch):
    monkeypatch.setenv("DEVAIPOD_INSTANCE", "ci")
    _p, objs, _ = case("plain")
    assert all(o["metadata"]["labels"][layout.INSTANCE] == "ci" for o in objs)


def test_allow_list_egress_goes_through_the_proxy_only():
    p, objs, _ = case("egress-allow-list")
    by = {(o["kind"], o["metadata"]["name"]): o for o in objs}
    policy = by["NetworkPolicy", f"{p.pod}-network"]
    assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
    to_proxy, dns = policy["spec"]["egress"]
    proxy_labels = to_proxy["to"][0]["podSelector"]["matchLabels"]
    assert proxy_labels[layout.ROLE] == "egress"
    assert {port["port"] for port in dns["ports"]} == {53} and "to" not in dns
    proxy = by["Pod", f"{p.pod}-egress"]
    assert proxy_labels.items() <= proxy["metadata"]["labels"].items()
    workspace = by["Pod", p.pod]
    assert not proxy_labels.items() <= workspace["metadata"]["labels"].items()
    # the containers' HTTP_PROXY names the proxy's Service, which selects the proxy's Pod
    service = by["Service", f"{p.pod}-egress"]
    assert service["spec"]["selector"].items() <= proxy["metadata"]["labels"].items()
    agent = next(c for c in workspace["spec"]["containers"] if c["name"] == "agent")
    env = {e["name"]: e["value"] for e in agent["env"]}
    port = service["spec"]["ports"][0]["port"]
    assert env["HTTPS_PROXY"] == f"http://{service['metadata']['name']}:{port}"
    # only the workspace Pod reaches the proxy; the proxy has no relays, any --from
    inbound = by["NetworkPolicy", f"{p.pod}-egress"]["spec"]["ingress"][0]["from"]
    assert inbound[0]["podSelector"]["matchLabels"].items() <= \
        workspace["metadata"]["labels"].items()
    command = proxy["spec"]["containers"][0]["command"]
    assert "--forward" not in command and command[-2:] == ["--from", "0.0.0.0/0"]


def test_a_user_secret_without_its_value_is_one_clear_error():
    p = plan_.build(github_gator_worker().inputs, PASSWORD, API_TOKEN)
    assert "gh_token" in manifest.user_secrets(p)
    with pytest.raises(errors.DevaipodError, match=r"gh_token.*not the workspace's own"):
        manifest.objects(p)


def test_a_host_path_is_refused():
    from .test_plan_golden import local_nested

    p = plan_.build(local_nested().inputs, PASSWORD, API_TOKEN)
    with pytest.raises(errors.DevaipodError, match="host path"):
        manifest.objects(p)


@pytest.mark.parametrize("text", ["devaipod-plain-000001", "devaipod-my_repo.x-abc123",
                                  "devaipod-" + "a" * 80 + "-workspace"])
def test_names_are_dns_labels(text):
    out = names.name(text)
    assert len(out) <= 63 and out[0].isalnum() and out[-1].isalnum()
    assert set(out) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")
    assert (out == text) == (text == "devaipod-plain-000001")


def test_names_do_not_collide():
    assert names.name("devaipod-a_b") != names.name("devaipod-a-b")


def test_secret_flag_forms():
    assert secretfiles.parse("x") == secretfiles.File("x", "/run/secrets/x")
    assert secretfiles.parse("x,type=mount,target=/a/b,mode=0555") == \
        secretfiles.File("x", "/a/b", 0o555)
    with pytest.raises(errors.DevaipodError):
        secretfiles.parse("x,type=env,target=X")


# ---------------------------------------------------------------- devaipod kube generate


def run_generate(monkeypatch, capsys, name: str, args: list[str]) -> tuple[int, str, str, list]:
    """``devaipod kube generate ARGS`` with the plan of case NAME as the one `up` builds."""
    from devaipod import cli
    from devaipod.workspace import create

    p = plan_.build(CASES[name]().inputs, PASSWORD, API_TOKEN)
    calls = []

    def prepare(request, ctx, *, new=True, executor=create.PODMAN):
        calls.append((request, new, executor))
        return None, p, API_TOKEN

    monkeypatch.setattr(create, "prepare", prepare)
    with pytest.raises(SystemExit) as caught:
        cli.main(["kube", "generate", *args])
    out, err = capsys.readouterr()
    return caught.value.code, out, err, calls


def test_generate_prints_the_objects_as_yaml(monkeypatch, capsys):
    code, out, err, calls = run_generate(monkeypatch, capsys, "plain",
                                         ["--namespace", "ns1", "--name", "x",
                                          "https://gitlab.com/example/plain"])
    assert code == 0
    p = plan_.build(plain().inputs, PASSWORD, API_TOKEN)
    assert list(yaml.safe_load_all(out)) == manifest.objects(p, namespace="ns1")
    [(request, new, executor)] = calls
    assert new is False  # a podman workspace of that name is no error
    assert executor.local is False  # the cluster's images: none pulled or checked here
    assert (request.source, request.name, request.mode) == \
        ("https://gitlab.com/example/plain", "x", "up")
    assert "not in the Kubernetes objects: init-agent: --network none" in err
    assert PASSWORD not in err


def test_generate_without_a_user_secret_is_one_line(monkeypatch, capsys):
    code, out, err, _ = run_generate(monkeypatch, capsys, "gator-worker",
                                     ["https://github.com/example/widget"])
    assert code != 0 and out == ""
    assert len(err.strip().splitlines()) == 1 and "--copy-user-secrets" in err


def test_generate_refuses_json_progress(monkeypatch, capsys):
    code, _out, err, calls = run_generate(monkeypatch, capsys, "plain",
                                         ["--progress", "json", "x"])
    assert code != 0 and not calls and "--progress json" in err


def test_generate_control_plane_prints_its_objects(monkeypatch, capsys):
    from devaipod import images
    from devaipod.clikit import context
    from devaipod.kube import controlplane

    code, out, _err, calls = run_generate(monkeypatch, capsys, "plain",
                                          ["--control-plane", "--namespace", "cp"])
    assert code == 0 and not calls  # no workspace plan
    image = images.api_image(context().config.api_image)
    assert list(yaml.safe_load_all(out)) == controlplane.objects("cp", image)


@pytest.mark.parametrize("name", CASES)
def test_what_podman_4_3_1_kube_play_needs(name):
    """No multi-line string starts with blank space (podman re-reads its YAML with a parser
    that fails on it); emptyDir volumes are named after the pod (podman shares them by
    name between pods); no container declares ports (podman would publish them)."""
    p, objs, _ = case(name)
    multi = [s for o in objs for s in strings(o) if "\n" in s]
    assert multi and not [s for s in multi if s[:1].isspace()]
    for pod in (o for o in objs if o["kind"] == "Pod"):
        empty = [v["name"] for v in pod["spec"]["volumes"] if "emptyDir" in v]
        assert empty and all(n.startswith(f"{p.pod}-") for n in empty)
        assert not [c for c in pod["spec"]["containers"] if "ports" in c]


def test_a_script_keeps_its_meaning():
    assert names.text("\nset -eu\n  echo hi\n") == "set -eu\n  echo hi\n"
    assert names.text(" one line") == " one line"
