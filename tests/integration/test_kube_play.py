"""`devaipod kube generate`'s YAML, played by the real podman (`podman kube play`).

There is no cluster here; podman's ``kube play`` is the one engine that runs the objects.
The YAML is played on the test network (``--network``, as ``up --network``) so that the
init containers clone from the test git server and the real OpenCode reaches the fake LLM.

Every test runs twice:

- ``as-printed``: the YAML exactly as `kube generate` prints it. podman before 4.4 (Debian
  12 has 4.3.1) runs a Secret's ``secret:`` volume as a podman volume whose files hold each
  value's base64 TEXT, not the value (a cluster decodes). There the checks that need a
  secret's value are expected failures, and only for that reason (``SecretsUndecoded``):
  OpenCode refuses its base64 config, the values differ from the generated ones.
- ``podman43-secrets``: the one adaptation podman 4.3 needs, made openly: the Secret
  documents are left out of the stream and each becomes a podman secret in the form 4.3's
  secret volumes read (YAML ``data`` with the raw values); the other objects are played
  unchanged (re-serialized).
  Every check passes there, the agent's task included.

Checks that hold whatever the encoding read the sidecar's token from the sidecar container,
as devaipod's own client does (agent/client.py ``token``), and look for the trusted token
in the agent in both forms.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass

import pytest
import yaml

import harness
from devaipod import errors
from devaipod.podman import kube
from podfixtures import exec_in, inspect, ip_of, run_devaipod, trusted_config

pytestmark = pytest.mark.podman

KEYS = {"gh": "ghp_kube_trusted_only_5e1d", "llm": "sk-kube-play-llm-key-70"}
API_PORT = 8090
ENV_DIR = "/run/devaipod-env"


def podman_version() -> tuple[int, ...]:
    out = subprocess.run(["podman", "--version"], capture_output=True, text=True).stdout
    found = re.search(r"(\d+)\.(\d+)\.(\d+)", out)
    return tuple(int(part) for part in found.groups()) if found else (0,)


# podman before 4.4 writes a Secret's data as base64 text into a secret volume's files
SECRETS_UNDECODED = podman_version() < (4, 4)
AS_PRINTED, PODMAN43 = "as-printed", "podman43-secrets"


class SecretsUndecoded(AssertionError):
    """A container got a secret's base64 text instead of its value (podman < 4.4)."""


@dataclass
class Played:
    mode: str
    pod: str
    manifest: str
    objects: list[dict]
    address: str  # the pod's IP on the test network (the sidecar is published nowhere)

    def of_kind(self, kind: str) -> list[dict]:
        return [o for o in self.objects if o.get("kind") == kind]

    def secret_value(self, key: str, container: str) -> str:
        """KEY's value, as generated, in the Secret CONTAINER mounts at /run/devaipod-env."""
        spec = self.of_kind("Pod")[0]["spec"]
        (ctr,) = [c for c in spec["containers"] if c["name"] == container]
        (volume,) = [m["name"] for m in ctr["volumeMounts"] if m["mountPath"] == ENV_DIR]
        (source,) = [v["secret"]["secretName"] for v in spec["volumes"] if v["name"] == volume]
        (secret,) = [o for o in self.of_kind("Secret") if o["metadata"]["name"] == source]
        return base64.b64decode(secret["data"][key]).decode()


def remove_leftovers(svc, objects: list[dict]) -> None:
    left = kube.leftovers(objects)
    if left["secrets"]:
        svc.podman("secret", "rm", *left["secrets"], check=False)
    if left["volumes"]:
        svc.podman("volume", "rm", "--force", *left["volumes"], check=False)


def podman43_secrets(svc, objects: list[dict]) -> str:
    """Make each Secret a podman secret in the form podman 4.3's secret volumes read (YAML
    ``data`` with the raw values); returns the stream without the Secret documents."""
    for obj in objects:
        if obj["kind"] == "Secret":
            raw = {key: base64.b64decode(value).decode() for key, value in obj["data"].items()}
            svc.podman("secret", "create", obj["metadata"]["name"], "-",
                       input=yaml.safe_dump({"data": raw}))
    return yaml.safe_dump_all([o for o in objects if o["kind"] != "Secret"], sort_keys=False)


@pytest.fixture(scope="module", params=[AS_PRINTED, PODMAN43])
def played(request, podman_service, gitserver, fakellm, images, tmp_path_factory):
    """`kube generate` of a workspace whose config has a trusted GH_TOKEN and the LLM key,
    played with `podman kube play` (through devaipod.podman.kube) on the test network."""
    inst = podman_service.instance
    name = f"{inst}-kp{'' if request.param == AS_PRINTED else '43'}"
    with trusted_config(podman_service, tmp_path_factory.mktemp("kube-config"), {
            "ANTHROPIC_API_KEY": (f"{inst}-kp-llm", KEYS["llm"]),
            "GH_TOKEN": (f"{inst}-kp-gh", KEYS["gh"])}) as config, \
            pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEVAIPOD_CONFIG", str(config))
        rc, manifest, err = run_devaipod("kube", "generate", gitserver.git_url, "--name", name,
                                         "--network", gitserver.network, "--copy-user-secrets")
    assert rc == 0, f"kube generate failed ({rc}): {err}"
    objects = [o for o in yaml.safe_load_all(manifest) if o]
    (pod,) = [o["metadata"]["name"] for o in objects if o["kind"] == "Pod"]
    try:
        stream = (manifest if request.param == AS_PRINTED
                  else podman43_secrets(podman_service, objects))
        kube.play(stream, network=gitserver.network)
        infra = inspect(podman_service, pod, kind="pod")[0]["InfraContainerID"]
        yield Played(request.param, pod, manifest, objects, ip_of(podman_service, infra))
    finally:  # a failed play must not be hidden by a failed down (same YAML)
        with contextlib.suppress(errors.CommandError):
            kube.down(manifest, missing_ok=True)
        podman_service.podman("pod", "rm", "--force", pod, check=False)
        remove_leftovers(podman_service, objects)


def expect_undecoded(request, played: Played) -> None:
    """On podman < 4.4, the as-printed play is expected to fail, for that reason alone."""
    if played.mode == AS_PRINTED and SECRETS_UNDECODED:
        request.applymarker(pytest.mark.xfail(
            strict=True, raises=SecretsUndecoded,
            reason="podman < 4.4 kube play writes a Secret's base64 text, not its value"))


def sidecar(played: Played, method: str, path: str, token: str | None = None,
            body: dict | None = None) -> tuple[int, str]:
    """(status, body) of a request to the pod's sidecar, from the host."""
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://{played.address}:{API_PORT}{path}", data=data,
                                 method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError as error:  # not listening yet, or no answer yet (a loaded machine)
        return 0, repr(error)


def sidecar_token(svc, played: Played) -> str:
    """The token the sidecar holds, read from its container as devaipod's client does."""
    return exec_in(svc, f"{played.pod}-api", "cat", f"{ENV_DIR}/DEVAIPOD_API_TOKEN")


def wait_for(check, what: str, timeout: float = 90):
    done, last = harness.poll(check, timeout)
    if done:
        return last
    pytest.fail(f"{what} never happened (last: {last!r})")


def test_the_pod_runs_after_its_init_clones(podman_service, played, gitserver):
    pod = played.pod
    containers = {c["Name"] for c in inspect(podman_service, pod, kind="pod")[0]["Containers"]}
    assert {f"{pod}-workspace", f"{pod}-agent", f"{pod}-api"} <= containers
    for role in ("workspace", "agent", "api"):
        assert inspect(podman_service, f"{pod}-{role}")[0]["State"]["Running"], role
    # the init containers ran, in order, before the containers: both trees are there
    project = played.of_kind("Pod")[0]["metadata"]["labels"]["io.devaipod.project"]
    for role in ("workspace", "agent"):
        head = exec_in(podman_service, f"{pod}-{role}", "git", "-C", f"/workspaces/{project}",
                       "-c", "safe.directory=*", "rev-parse", "HEAD")
        assert head == gitserver.shas["main"], role


def test_no_port_published_no_shared_pids_no_new_privileges(podman_service, played):
    pod = played.pod
    assert not inspect(podman_service, pod, kind="pod")[0]["InfraConfig"].get("PortBindings")
    for role in ("workspace", "agent", "api"):
        status = exec_in(podman_service, f"{pod}-{role}", "cat", "/proc/self/status")
        assert re.search(r"^NoNewPrivs:\s+1$", status, re.M), role
    api_status = exec_in(podman_service, f"{pod}-api", "cat", "/proc/1/status")
    assert re.search(r"^CapEff:\s+0+$", api_status, re.M)
    # shareProcessNamespace: false — the agent does not see the sidecar's process
    seen = exec_in(podman_service, f"{pod}-agent", "sh", "-c",
                   "cat /proc/[0-9]*/cmdline | tr '\\0' ' '")
    assert "opencode" in seen and "pod-api" not in seen


def test_sidecar_refuses_without_its_token_and_answers_with_it(podman_service, played):
    wait_for(lambda: sidecar(played, "GET", "/healthz")[0] == 200, "the sidecar's start")
    token = sidecar_token(podman_service, played)
    assert len(token) >= 16
    assert sidecar(played, "GET", "/git/status")[0] == 401
    assert sidecar(played, "GET", "/git/status", token=token + "x")[0] == 401
    status, body = sidecar(played, "GET", "/git/status", token=token)
    assert status == 200, body
    assert json.loads(body)  # both trees, as the sidecar reads them


def test_agent_answers_a_task_through_the_sidecar(request, podman_service, played, fakellm):
    expect_undecoded(request, played)
    token = sidecar_token(podman_service, played)
    status, body = wait_for(lambda: (r := sidecar(played, "GET", "/session", token))[0]
                            not in (0, 502) and r, "the agent's API", timeout=300)
    if status == 400 and "ConfigJsonError" in body and "OPENCODE_CONFIG_CONTENT" in body:
        raise SecretsUndecoded(f"OpenCode refuses its config: {body[:300]}")
    assert status == 200, body
    status, body = sidecar(played, "POST", "/session", token, {})
    assert status == 200, body
    session = json.loads(body)["id"]
    status, body = sidecar(played, "POST", f"/session/{session}/prompt_async", token,
                           {"parts": [{"type": "text", "text": "hello from kube play"}]})
    assert status in (200, 204), body

    def replied() -> str | None:
        status, body = sidecar(played, "GET", f"/session/{session}/message", token)
        texts = [p.get("text", "") for m in (json.loads(body) if status == 200 else [])
                 for p in m.get("parts") or [] if p.get("type") == "text"]
        return next((t for t in texts if "FAKE_REPLY: hello from kube play" in t), None)

    wait_for(replied, "the agent's reply", timeout=180)
    auth = {r["headers"].get("Authorization") for r in fakellm.requests()
            if r["path"].endswith("/chat/completions")}
    assert f"Bearer {KEYS['llm']}" in auth


def test_trusted_token_never_reaches_the_agent(podman_service, played):
    """The workspace has GH_TOKEN (positive control); the agent has it nowhere: not in its
    env, not in any process's environ, not in any file (raw or base64)."""
    forms = [KEYS["gh"], base64.b64encode(KEYS["gh"].encode()).decode()]
    patterns = " ".join(f"-e '{form}'" for form in forms)
    grep = (f"grep -rlaF {patterns} / --exclude-dir=proc --exclude-dir=sys "
            "--exclude-dir=dev 2>/dev/null; cat /proc/[0-9]*/environ 2>/dev/null "
            f"| tr '\\0' '\\n' | grep -aF {patterns}; true")
    found_in_workspace = exec_in(podman_service, f"{played.pod}-workspace", "sh", "-c", grep)
    assert f"{ENV_DIR}/GH_TOKEN" in found_in_workspace
    for role in ("agent", "api"):
        container = f"{played.pod}-{role}"
        assert exec_in(podman_service, container, "sh", "-c", grep) == "", role
        env = exec_in(podman_service, container, "env")
        assert "GH_TOKEN" not in env and not any(f in env for f in forms), role


def test_secret_files_hold_the_generated_values(request, podman_service, played):
    expect_undecoded(request, played)
    held = {
        "DEVAIPOD_API_TOKEN": sidecar_token(podman_service, played),
        "GH_TOKEN": exec_in(podman_service, f"{played.pod}-workspace", "cat",
                            f"{ENV_DIR}/GH_TOKEN"),
        "ANTHROPIC_API_KEY": exec_in(podman_service, f"{played.pod}-agent", "cat",
                                     f"{ENV_DIR}/ANTHROPIC_API_KEY"),
    }
    wanted = {"DEVAIPOD_API_TOKEN": played.secret_value("DEVAIPOD_API_TOKEN", "api"),
              "GH_TOKEN": KEYS["gh"], "ANTHROPIC_API_KEY": KEYS["llm"]}
    encoded = {key: base64.b64encode(value.encode()).decode() for key, value in wanted.items()}
    if held == encoded:
        raise SecretsUndecoded(f"every file holds its value's base64 text: {sorted(held)}")
    assert held == wanted
    agent_env = exec_in(podman_service, f"{played.pod}-agent", "sh", "-c",
                        "tr '\\0' '\\n' < /proc/1/environ")
    assert f"ANTHROPIC_API_KEY={KEYS['llm']}" in agent_env.splitlines()


def test_kube_down_removes_the_pod_and_leaves_secrets_and_volumes(podman_service, played):
    """Last in this module: it takes the pod down."""
    try:
        kube.down(played.manifest)
    except errors.CommandError as error:
        # podman 4.3.1's remote client cannot decode a pod stop's per-container errors
        # ("cannot unmarshal string into ... PodStopReport.StopReport.Errs"): seen once,
        # after the agent had run a task. Say what the containers were, then finish the down.
        if "PodStopReport" not in str(error):
            raise
        states = podman_service.podman("ps", "-a", "--format", "{{.Names}} {{.Status}}",
                                       "--filter", f"pod={played.pod}", check=False).stdout
        print(f"kube down: {error}\ncontainers then:\n{states}")
        kube.down(played.manifest, missing_ok=True)
    assert podman_service.podman("pod", "exists", played.pod, check=False).returncode == 1
    label = f"label=io.devaipod.pod={played.pod}"
    assert podman_service.podman("ps", "-aq", "--filter", label).stdout.split() == []
    left = kube.leftovers(played.objects)
    secrets = set(podman_service.podman("secret", "ls", "--format", "{{.Name}}").stdout.split())
    volumes = set(podman_service.podman("volume", "ls", "-q").stdout.split())
    assert set(left["secrets"]) <= secrets  # podman 4.3.1 keeps every Secret ...
    assert set(left["volumes"]) <= volumes  # ... every claim's and secret volume's volume
    others = sorted(v for v in volumes - set(left["volumes"]) if v.startswith(played.pod))
    assert others == []
    remove_leftovers(podman_service, played.objects)
    kube.down(played.manifest, missing_ok=True)  # a second down: the pod is gone, no error
