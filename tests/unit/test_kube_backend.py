"""The kubernetes backend's commands: exactly the kubectl calls expected (pytest-subprocess,
no cluster); `list` parses a `kubectl get pods -o json` into the rows podman's gives;
kubectl's failures are one line."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest

from devaipod import cli, clikit, errors, kube, runner
from devaipod.kube import backend, controlplane, delete
from devaipod.kube.backend import Kubernetes
from devaipod.kube.kubectl import Cluster
from devaipod.workspace.plan import Plan, Step

FIXTURES = Path(__file__).parent.parent / "fixtures" / "kubectl"
PODS = json.loads((FIXTURES / "get-pods.json").read_text())
ERRORS = json.loads((FIXTURES / "errors.json").read_text())
SEL = "io.devaipod.managed=true,!io.devaipod.instance"
CONFIG = '[backend]\nkind = "kubernetes"\n[kubernetes]\ncontext = "test"\nnamespace = "agents"\n'


@pytest.fixture(autouse=True)
def _clean(monkeypatch, tmp_path):
    monkeypatch.delenv("DEVAIPOD_INSTANCE", raising=False)
    monkeypatch.delenv("DEVAIPOD_BACKEND", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("DEVAIPOD_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setattr(clikit, "_context", [])
    monkeypatch.setattr(clikit.settings, "backend", None)
    monkeypatch.setattr(clikit.settings, "config", None)
    monkeypatch.setattr(runner.options, "dry_run", False)
    config = tmp_path / "devaipod.toml"
    config.write_text(CONFIG)
    monkeypatch.setenv("DEVAIPOD_CONFIG", str(config))


@pytest.fixture
def kctl(fp):
    """The argv pattern of ``kubectl --context test --namespace agents ARGS``."""
    def cmd(*args: str) -> list:
        return [fp.program("kubectl"), "--context", "test", "--namespace", "agents", *args]
    return cmd


def run_main(args: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as caught:
        cli.main(args)
    out, err = capsys.readouterr()
    return caught.value.code, out, err


def calls(fp) -> list[list[str]]:
    """The commands run, with kubectl's path as its name."""
    return [["kubectl", *[str(a) for a in c][1:]] for c in fp.calls]


def base(*args: str) -> list[str]:
    return ["kubectl", "--context", "test", "--namespace", "agents", *args]


LIST = ("get", "pods", "-l", f"{SEL},io.devaipod.role=pod", "-o", "json")


def one_pod(name: str) -> dict:
    return next(p for p in PODS["items"] if p["metadata"]["name"] == name)


# ---------------------------------------------------------------- the seam


def test_podman_is_the_default(monkeypatch, tmp_path):
    (tmp_path / "devaipod.toml").write_text("")
    assert kube.active(clikit.context()) is None


def test_config_chooses_kubernetes():
    found = kube.active(clikit.context())
    assert found == Kubernetes(Cluster("test", "agents"), None)


def test_the_option_overrides_the_config(monkeypatch, tmp_path):
    (tmp_path / "devaipod.toml").write_text("")
    monkeypatch.setattr(clikit.settings, "backend", "kubernetes")
    assert kube.active(clikit.context()) == Kubernetes(Cluster(None, None), None)


# ---------------------------------------------------------------- list


def test_list_is_one_kubectl_call_parsed_into_rows(fp, kctl, capsys):
    fp.register(kctl(*LIST), stdout=json.dumps(PODS))
    code, out, err = run_main(["list", "--json"], capsys)
    assert (code, err) == (0, "")
    assert calls(fp) == [base(*LIST)]
    rows = json.loads(out)
    assert [r["name"] for r in rows] == [
        "devaipod-new-000001", "devaipod-demo-1a2b3c", "devaipod-other-9f8e7d"]
    demo = rows[1]
    assert (demo["short"], demo["status"], demo["mode"], demo["repo"], demo["task"]) == (
        "demo-1a2b3c", "Running", "run", "example/demo", "Fix the flaky login test")
    assert demo["containers"] == {"agent": "running", "api": "running", "workspace": "running"}
    assert demo["created"] == "2026-12-01T19:02:00+00:00"
    assert demo["agent"] == "unknown"  # outside the cluster the sidecars are not asked
    other = rows[2]
    assert (other["status"], other["containers"]["agent"], other["agent"]) == (
        "Degraded", "oom", "oom")
    assert other["created"] == "2026-12-01T18:00:00Z"  # no label: the pod's creation time
    new = rows[0]
    assert (new["status"], new["containers"], new["agent"]) == (
        "Created", {"agent": "created", "api": "created"}, "stopped")


def test_list_text(fp, kctl, capsys):
    fp.register(kctl(*LIST), stdout=json.dumps(PODS))
    code, out, _ = run_main(["--backend", "kubernetes", "list"], capsys)
    assert code == 0
    assert out.splitlines()[0].split() == ["NAME", "STATE", "MODE", "REPO", "TASK", "ACTIVE",
                                           "LAST", "MESSAGE"]
    assert out.splitlines()[2].split()[:4] == ["demo-1a2b3c", "unknown", "run", "example/demo"]


def test_the_control_planes_list_is_the_clusters(fp, kctl):
    """`GET /api/pods` of a control plane on the kubernetes backend: the same one kubectl
    call as `list`, the same rows (labels left out, as on podman)."""
    from devaipod.web import app as web_app
    from devaipod.web import auth

    from .test_web_auth import wsgi_call

    fp.register(kctl(*LIST), stdout=json.dumps(PODS))
    application = web_app.make_app(auth.Auth("tok"), clikit.context())
    answer = wsgi_call(application, "/api/pods", {"Authorization": "Bearer tok"})
    assert answer.code == 200
    assert calls(fp) == [base(*LIST)]
    assert [(r["name"], r["agent"], "labels" in r) for r in answer.json()] == [
        ("devaipod-new-000001", "stopped", False), ("devaipod-demo-1a2b3c", "unknown", False),
        ("devaipod-other-9f8e7d", "oom", False)]


def test_list_with_an_instance_selects_it(fp, monkeypatch, capsys):
    monkeypatch.setenv("DEVAIPOD_INSTANCE", "ci")
    sel = "io.devaipod.managed=true,io.devaipod.instance=ci,io.devaipod.role=pod"
    fp.register([fp.program("kubectl"), fp.any()], stdout='{"items": []}')
    code, _, err = run_main(["list"], capsys)
    assert (code, err.strip()) == (0, "no workspaces")
    assert calls(fp) == [base("get", "pods", "-l", sel, "-o", "json")]


def test_the_sidecars_are_asked_through_their_services_in_the_cluster(monkeypatch):
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
    k = Kubernetes(Cluster(None, "agents"))
    rows = backend.rows_of(PODS["items"])
    monkeypatch.setattr(Kubernetes, "api_token", lambda self, name: "t-" + name)
    infos = k.api_infos(rows)
    assert infos["devaipod-demo-1a2b3c"] == {"State": "running",
                                             "Service": "devaipod-demo-1a2b3c.agents.svc"}
    from devaipod.agent.client import address

    assert address(infos["devaipod-demo-1a2b3c"]) == ("devaipod-demo-1a2b3c.agents.svc", 8090)


# ---------------------------------------------------------------- status, delete, logs, exec


def test_status(fp, kctl, capsys):
    fp.register(kctl(*LIST), stdout=json.dumps(PODS))
    fp.register(kctl("get", "pod", "devaipod-demo-1a2b3c", "-o", "json"),
                stdout=json.dumps(one_pod("devaipod-demo-1a2b3c")))
    code, out, err = run_main(["status", "demo-1a2b3c", "--json"], capsys)
    assert (code, err) == (0, "")
    assert calls(fp) == [base(*LIST), base("get", "pod", "devaipod-demo-1a2b3c", "-o", "json")]
    data = json.loads(out)
    assert (data["api_address"], data["api_port"], data["limits"]) == (
        "devaipod-demo-1a2b3c.agents.svc", 8090, "memory=4g")


def test_delete_is_one_delete_by_label(fp, kctl, capsys):
    name = "devaipod-demo-1a2b3c"
    sel = f"{SEL},io.devaipod.pod={name}"
    fp.register(kctl(*LIST), stdout=json.dumps(PODS))
    fp.register(kctl("get", "pod", name, "-o", "json"), stdout=json.dumps(one_pod(name)))
    fp.register(kctl(*delete.by_label_argv(sel)),
                stdout=f"pod/{name}\nservice/{name}\nsecret/{name}-api-token\n")
    code, out, err = run_main(["delete", "demo-1a2b3c", "--force", "--json"], capsys)
    assert (code, err) == (0, "")
    assert calls(fp) == [base(*LIST), base("get", "pod", name, "-o", "json"),
                         base(*delete.by_label_argv(sel))]
    assert json.loads(out) == {"pods": [name], "services": [name],
                               "secrets": [f"{name}-api-token"]}


def test_delete_refuses_keep_audit(fp, kctl, capsys, tmp_path):
    fp.register(kctl(*LIST), stdout=json.dumps(PODS))
    code, _, err = run_main(["delete", "demo-1a2b3c", "-f", "--keep-audit",
                             str(tmp_path / "a.jsonl")], capsys)
    assert code == 1 and len(err.splitlines()) == 1 and "--keep-audit" in err
    assert calls(fp) == [base(*LIST)]  # nothing deleted


def test_logs(fp, kctl, capsys):
    name = "devaipod-demo-1a2b3c"
    fp.register(kctl(*LIST), stdout=json.dumps(PODS))
    fp.register(kctl("get", "pod", name, "-o", "json"), stdout=json.dumps(one_pod(name)))
    fp.register(kctl("logs", name, "--container", "api", "--tail=3"))
    code, _, err = run_main(["logs", "demo-1a2b3c", "-c", "api", "-n", "3"], capsys)
    assert (code, err) == (0, "")
    assert calls(fp)[-1] == base("logs", name, "--container", "api", "--tail=3")


def test_logs_of_a_missing_container_is_one_line(fp, kctl, capsys):
    name = "devaipod-demo-1a2b3c"
    fp.register(kctl(*LIST), stdout=json.dumps(PODS))
    fp.register(kctl("get", "pod", name, "-o", "json"), stdout=json.dumps(one_pod(name)))
    code, _, err = run_main(["logs", "demo-1a2b3c", "-c", "gator"], capsys)
    assert code == 1
    assert err.strip() == ("Error: workspace 'demo-1a2b3c' has no gator container; its "
                           "containers: agent, api, workspace")


def test_exec_replaces_this_process_with_kubectl_exec(fp, kctl, capsys, monkeypatch):
    name = "devaipod-demo-1a2b3c"
    fp.register(kctl(*LIST), stdout=json.dumps(PODS))
    fp.register(kctl("get", "pod", name, "-o", "json"), stdout=json.dumps(one_pod(name)))
    replaced: list[list[str]] = []
    monkeypatch.setattr(runner, "replace", lambda argv: replaced.append(argv) or sys.exit(0))
    code, _, _ = run_main(["exec", "demo-1a2b3c", "-W", "--", "ls", "-l"], capsys)
    assert code == 0
    from devaipod.podman.secret import with_env

    assert replaced == [base("exec", "--stdin", name, "--container", "workspace", "--",
                             *with_env(["ls", "-l"]))]


def test_unknown_workspace_is_one_line_with_suggestions(fp, kctl, capsys):
    fp.register(kctl(*LIST), stdout=json.dumps(PODS))
    code, _, err = run_main(["status", "demo-1a2b3"], capsys)
    assert code == 1
    assert err.strip() == "Error: no workspace named 'demo-1a2b3'; did you mean demo-1a2b3c?"


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("case", ["refused", "no-context"])
def test_an_unreachable_cluster_is_one_line(fp, kctl, capsys, case):
    recorded = ERRORS[case]
    fp.register(kctl(*LIST), returncode=recorded["returncode"], stderr=recorded["stderr"])
    code, out, err = run_main(["list"], capsys)
    assert code == 1 and out == ""
    assert len(err.splitlines()) == 1, err
    assert err.startswith("Error: cannot reach the Kubernetes cluster: ")
    assert err.rstrip().endswith(errors.KUBE_HINT)


def test_kubectl_not_installed_is_one_line(monkeypatch, capsys):
    import shutil

    real = shutil.which
    monkeypatch.setattr(shutil, "which", lambda p, *a, **k: None if p == "kubectl"
                        else real(p, *a, **k))
    code, _, err = run_main(["list"], capsys)
    assert code == 127
    assert err.strip() == ("Error: kubectl is not installed (not found on PATH); "
                           + runner.INSTALL_HINTS["kubectl"])


# ---------------------------------------------------------------- up: the plan carried out

POD = "devaipod-x-0a0b0c"
SECRET_VALUE = "s3cr3t-value-never-on-a-command-line"


def plan(steps: list[Step] | None = None) -> Plan:
    return Plan(pod=POD, project="x", labels={}, volumes=[], init=[], pod_create={},
                containers=[], secrets={f"{POD}-api-token": SECRET_VALUE},
                after_start=steps or [])


@pytest.fixture
def manifest(monkeypatch):
    """kube.manifest.convert (stream KG's) returning one Secret and the Pod."""
    from devaipod.kube import manifest as real

    got: dict = {}

    def convert(p, *, namespace=None, storage_class=None, external=None):
        got.update(plan=p, namespace=namespace, storage_class=storage_class,
                   external=external)
        return real.Manifest(
            [{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": f"{POD}-api-token"},
              "stringData": {"DEVAIPOD_API_TOKEN": SECRET_VALUE}},
             {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": POD}}],
            ["after start: running postCreateCommand"])

    monkeypatch.setattr(real, "convert", convert)
    return got


POD_JSON = {"metadata": {"name": POD}, "spec": {"containers": [
    {"name": "workspace"}, {"name": "agent"}, {"name": "api"}]}}


def test_execute_applies_waits_and_runs_the_steps(fp, kctl, manifest):
    from devaipod.podman.secret import with_env

    step = Step("running postCreateCommand", f"{POD}-workspace", ["make", "setup"],
                user="vscode", workdir="/workspaces/x")
    fp.register(kctl("apply", "-f", "-"))
    fp.register(kctl("wait", "--for=condition=Ready", f"pod/{POD}", "--timeout=600s"))
    fp.register(kctl("get", "pod", POD, "-o", "json"), stdout=json.dumps(POD_JSON))
    exec_argv = ("exec", POD, "--container", "workspace", "--", "sh", "-c",
                 'cd "$1" && shift && exec "$@"', "sh", "/workspaces/x",
                 *with_env(["make", "setup"]))
    fp.register(kctl(*exec_argv), stdout="ok\n")
    started = []
    k = Kubernetes(Cluster("test", "agents"), "fast")
    k.execute(plan([step]), lambda: started.append(True), dry_run=False)
    assert calls(fp) == [base("apply", "-f", "-"),
                         base("wait", "--for=condition=Ready", f"pod/{POD}", "--timeout=600s"),
                         base("get", "pod", POD, "-o", "json"), base(*exec_argv)]
    assert started == [True]
    assert (manifest["namespace"], manifest["storage_class"], manifest["external"]) == (
        "agents", "fast", {})
    assert all(SECRET_VALUE not in arg for c in calls(fp) for arg in c)


def test_the_objects_travel_on_stdin(fp, kctl, manifest):
    seen: list[bytes] = []
    fp.register(kctl("apply", "-f", "-"), stdin_callable=seen.append)
    fp.register(kctl("wait", fp.any()))
    fp.register(kctl("get", "pod", POD, "-o", "json"), stdout=json.dumps(POD_JSON))
    Kubernetes(Cluster("test", "agents")).execute(plan(), lambda: None, dry_run=False)
    sent = json.loads(b"".join(seen))
    assert sent["kind"] == "List" and [o["kind"] for o in sent["items"]] == ["Secret", "Pod"]


def test_a_failed_wait_deletes_what_was_applied(fp, kctl, manifest):
    sel = f"{SEL},io.devaipod.pod={POD}"
    fp.register(kctl("apply", "-f", "-"))
    fp.register(kctl("wait", fp.any()), returncode=1,
                stderr=f"error: timed out waiting for the condition on pods/{POD}\n")
    fp.register(kctl(*delete.by_label_argv(sel, wait=False)))
    started = []
    with pytest.raises(errors.DevaipodError) as caught:
        Kubernetes(Cluster("test", "agents")).execute(plan(), lambda: started.append(1),
                                                      dry_run=False)
    assert "timed out waiting for the condition" in caught.value.format_message()
    assert calls(fp)[-1] == base(*delete.by_label_argv(sel, wait=False))
    assert started == []


def test_a_taken_name_is_refused_before_anything_is_made(fp, kctl):
    from devaipod.workspace.plan import Inputs

    fp.register(kctl("get", "pod", POD, "-o", "json"), stdout=json.dumps(POD_JSON))
    with pytest.raises(errors.DevaipodError, match="already exists"):
        Kubernetes(Cluster("test", "agents")).prepare(
            types.SimpleNamespace(pod=POD))  # type: ignore[arg-type]
    assert Inputs  # the real type prepare takes


def test_a_free_name_passes(fp, kctl):
    fp.register(kctl("get", "pod", POD, "-o", "json"), returncode=1,
                stderr=f'Error from server (NotFound): pods "{POD}" not found\n')
    Kubernetes(Cluster("test", "agents")).prepare(types.SimpleNamespace(pod=POD))  # type: ignore[arg-type]


# ---------------------------------------------------------------- the control plane


def test_control_plane_rbac_is_the_namespace_only():
    objs = controlplane.objects("agents", "registry.example/devaipod:1")
    kinds = [o["kind"] for o in objs]
    assert kinds == ["ServiceAccount", "Role", "RoleBinding", "Deployment", "Service"]
    assert "ClusterRole" not in kinds and "ClusterRoleBinding" not in kinds
    assert all(o["metadata"]["namespace"] == "agents" for o in objs)
    role = objs[1]
    resources = {r for rule in role["rules"] for r in rule["resources"]}
    assert resources == {"pods", "pods/exec", "pods/log", "secrets", "persistentvolumeclaims",
                         "services", "networkpolicies"}
    assert not any("*" in rule["verbs"] or "*" in rule["resources"] for rule in role["rules"])
    binding = objs[2]
    assert binding["roleRef"]["kind"] == "Role"
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "devaipod",
                                    "namespace": "agents"}]


def test_control_plane_token_comes_from_a_secret_never_a_literal():
    objs = controlplane.objects("agents", "registry.example/devaipod:1")
    text = json.dumps(objs)
    assert "stringData" not in text and '"data"' not in text
    deployment = objs[3]
    spec = deployment["spec"]["template"]["spec"]
    [web] = spec["containers"]
    assert web["command"][:2] == ["devaipod", "web"]
    assert all("value" not in e or not errors_looks_secret(e["name"]) for e in web["env"])
    [token] = [v for v in spec["volumes"] if v["name"] == "web-token"]
    assert token["secret"]["secretName"] == "devaipod-web-token"
    assert {"name": "DEVAIPOD_BACKEND", "value": "kubernetes"} in web["env"]
    assert spec["serviceAccountName"] == "devaipod"


def errors_looks_secret(name: str) -> bool:
    from devaipod.layout import LOOKS_SECRET

    return bool(LOOKS_SECRET.search(name))


def test_control_plane_objects_validate():
    validate = pytest.importorskip("kubernetes_validate")
    for obj in controlplane.objects("agents", "registry.example/devaipod:1"):
        validate.validate(obj, "1.30.0", strict=True)


def test_up_dry_run_prints_the_kubectl_plan(fp, kctl, capsys):
    """`up` through the CLI: the name's check runs, the changes are printed, not run."""
    name = "devaipod-demo"
    fp.register(kctl("get", "pod", name, "-o", "json"), returncode=1,
                stderr=f'Error from server (NotFound): pods "{name}" not found\n')
    code, out, err = run_main(["up", "https://github.com/example/demo", "--name", "demo",
                               "--image", "registry.example/devenv:1", "--dry-run"], capsys)
    assert code == 0, err
    assert calls(fp) == [base("get", "pod", name, "-o", "json")]
    assert out.splitlines() == [
        "kubectl --context test --namespace agents apply -f -",
        f"kubectl --context test --namespace agents wait --for=condition=Ready pod/{name} "
        "--timeout=600s"]
    assert runner.options.planned == [base("apply", "-f", "-"), base(
        "wait", "--for=condition=Ready", f"pod/{name}", "--timeout=600s")]


def test_up_refuses_a_local_path(fp, capsys, tmp_path):
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    code, _, err = run_main(["up", str(tmp_path / "repo"), "--dry-run"], capsys)
    assert code == 1 and len(err.splitlines()) == 1
    assert "a cluster cannot clone a path of this machine" in err
    assert list(fp.calls) == []  # nothing asked of the cluster


def test_latest_is_the_newest_pod(fp, kctl, capsys):
    fp.register(kctl(*LIST), stdout=json.dumps(PODS))
    fp.register(kctl("get", "pod", "devaipod-new-000001", "-o", "json"),
                stdout=json.dumps(one_pod("devaipod-new-000001")))
    code, out, _ = run_main(["status", "--latest", "--json"], capsys)
    assert code == 0 and json.loads(out)["name"] == "devaipod-new-000001"


def test_the_client_outside_the_cluster_goes_through_a_port_forward(fp, kctl, monkeypatch):
    import atexit

    monkeypatch.setattr(atexit, "register", lambda *a: None)  # the fake process ends alone
    fp.register(kctl("port-forward", "--address", "127.0.0.1", "service/p", ":8090"),
                stdout="Forwarding from 127.0.0.1:41234 -> 8090\n")
    monkeypatch.setattr(Kubernetes, "api_token", lambda self, name: "tok")
    client = Kubernetes(Cluster("test", "agents")).client("p")
    assert (client.base, client.token) == ("http://127.0.0.1:41234", "tok")


def test_the_client_in_the_cluster_uses_the_service(fp, monkeypatch):
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
    monkeypatch.setattr(Kubernetes, "api_token", lambda self, name: "tok")
    client = Kubernetes(Cluster(None, "agents")).client("p")
    assert client.base == "http://p.agents.svc:8090"
    assert list(fp.calls) == []


def test_a_failed_port_forward_is_one_line(fp, kctl, monkeypatch):
    import atexit

    monkeypatch.setattr(atexit, "register", lambda *a: None)
    fp.register(kctl(fp.any()), returncode=1,
                stderr='Error from server (NotFound): services "p" not found\n')
    monkeypatch.setattr(Kubernetes, "api_token", lambda self, name: "tok")
    with pytest.raises(errors.NotFound) as caught:
        Kubernetes(Cluster("test", "agents")).client("p")
    assert caught.value.format_message() == (
        'kubectl port-forward failed (exit 1): Error from server (NotFound): services "p" '
        "not found")


def test_control_plane_yaml_has_no_anchors():
    from devaipod.kube import yamlout

    text = yamlout.dump(controlplane.objects("agents", "registry.example/devaipod:1"))
    assert "&id" not in text and "*id" not in text
