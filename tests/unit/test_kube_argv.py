"""The kubectl argv builders (lib/devaipod/kube/): exact lists, no cluster."""

from __future__ import annotations

import json

import pytest

from devaipod import errors
from devaipod.kube import apply, delete, kubectl, pod, portforward, secret
from devaipod.kube.kubectl import Cluster


def test_base_without_context_or_namespace():
    assert kubectl.base(Cluster()) == ["kubectl"]


def test_base_with_context_and_namespace():
    assert kubectl.base(Cluster("prod", "agents")) == [
        "kubectl", "--context", "prod", "--namespace", "agents"]


def test_argv_puts_the_global_options_first():
    assert kubectl.argv(Cluster(namespace="ns"), ["get", "pods"]) == [
        "kubectl", "--namespace", "ns", "get", "pods"]


def test_selector_without_instance(monkeypatch):
    monkeypatch.delenv("DEVAIPOD_INSTANCE", raising=False)
    assert kubectl.selector() == "io.devaipod.managed=true,!io.devaipod.instance"
    assert kubectl.selector("devaipod-x-1") == (
        "io.devaipod.managed=true,!io.devaipod.instance,io.devaipod.pod=devaipod-x-1")


def test_selector_with_instance(monkeypatch):
    monkeypatch.setenv("DEVAIPOD_INSTANCE", "ci")
    assert kubectl.selector("p") == (
        "io.devaipod.managed=true,io.devaipod.instance=ci,io.devaipod.pod=p")


def test_pod_list():
    assert pod.list_argv("a=b") == ["get", "pods", "-l", "a=b", "-o", "json"]


def test_pod_get():
    assert pod.get_argv("p") == ["get", "pod", "p", "-o", "json"]


def test_pod_wait():
    assert pod.wait_argv("p", 60) == ["wait", "--for=condition=Ready", "pod/p", "--timeout=60s"]


@pytest.mark.parametrize(("interactive", "tty", "flags"), [
    (False, False, []), (True, False, ["--stdin"]), (True, True, ["--stdin", "--tty"])])
def test_pod_exec(interactive, tty, flags):
    assert pod.exec_argv("p", "agent", ["ls", "-l"], interactive=interactive, tty=tty) == [
        "exec", *flags, "p", "--container", "agent", "--", "ls", "-l"]


def test_pod_logs():
    assert pod.logs_argv("p", "api") == ["logs", "p", "--container", "api"]
    assert pod.logs_argv("p", "api", follow=True, tail=5) == [
        "logs", "p", "--container", "api", "--follow", "--tail=5"]


def test_apply_reads_stdin():
    assert apply.apply_argv() == ["apply", "-f", "-"]


def test_apply_document_is_one_list():
    objs = [{"kind": "Secret", "stringData": {"k": "v"}}]
    assert json.loads(apply.document(objs)) == {"apiVersion": "v1", "kind": "List",
                                                 "items": objs}


def test_delete_by_label():
    assert delete.by_label_argv("s") == [
        "delete", "pods,services,networkpolicies,secrets,persistentvolumeclaims", "-l", "s",
        "--ignore-not-found", "--wait=true", "-o", "name"]
    assert delete.by_label_argv("s", ("pods",), wait=False) == [
        "delete", "pods", "-l", "s", "--ignore-not-found", "--wait=false", "-o", "name"]


def test_deleted_groups_by_kind():
    out = ("pod/p\nservice/p\nnetworkpolicy.networking.k8s.io/p\nsecret/p-a\nsecret/p-b\n"
           "persistentvolumeclaim/p-workspace\n")
    assert delete.deleted(out) == {"pods": ["p"], "services": ["p"], "networkpolicies": ["p"],
                                   "secrets": ["p-a", "p-b"],
                                   "persistentvolumeclaims": ["p-workspace"]}


def test_secret_get():
    assert secret.get_argv("s") == ["get", "secret", "s", "-o", "json"]


def test_port_forward():
    assert portforward.forward_argv("p", 8090) == [
        "port-forward", "--address", "127.0.0.1", "service/p", ":8090"]
    assert portforward.local_port("Forwarding from 127.0.0.1:41234 -> 8090\n") == 41234
    assert portforward.local_port("error: something") is None


@pytest.mark.parametrize(("stderr", "kind"), [
    ('Error from server (NotFound): pods "p" not found', errors.NotFound),
    ('Error from server (AlreadyExists): pods "p" already exists', errors.AlreadyExists),
    ("The connection to the server localhost:8080 was refused - did you specify the right "
     "host or port?", errors.ClusterUnreachable),
    ("error: context was not found for specified context: nope", errors.ClusterUnreachable),
    ('Unable to connect to the server: dial tcp 10.0.0.1:6443: i/o timeout',
     errors.ClusterUnreachable),
    ("error: pod p is not ready", errors.CommandError),
])
def test_kubectl_errors_are_classified(stderr, kind):
    error = errors.classify(["kubectl", "--context", "c", "get", "pod", "p"], 1, stderr)
    assert type(error) is kind
    assert error.argv[0] == "kubectl" and error.returncode == 1 and error.stderr == stderr
    assert "\n" not in error.format_message()


def test_unreachable_is_one_line_saying_what_to_do():
    error = errors.classify(["kubectl", "get", "pods"], 1,
                            "E1201 memcache.go...\nUnable to connect to the server: EOF")
    assert error.format_message() == (
        "cannot reach the Kubernetes cluster: Unable to connect to the server: EOF; "
        + errors.KUBE_HINT)


def test_describe_skips_the_global_options():
    assert errors.describe(["kubectl", "--context", "c", "--namespace", "n", "apply", "-f",
                            "-"]) == "kubectl apply"
