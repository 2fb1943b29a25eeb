"""podman kube play/down: exact argv, the YAML on stdin only, and what kube down leaves."""

from __future__ import annotations

import pytest

from devaipod import errors
from devaipod.podman import kube

MANIFEST = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {T: c2VrcmV0}\n"


def test_play_argv():
    assert kube.play_argv() == ["kube", "play", "--quiet", "-"]
    assert kube.play_argv(network="net1", start=False, replace=True, quiet=False) == [
        "kube", "play", "--network", "net1", "--start=false", "--replace", "-"]


def test_down_argv():
    assert kube.down_argv() == ["kube", "down", "-"]


def test_play_sends_the_yaml_on_stdin_never_on_the_command_line(fp, podman_cmd):
    fp.allow_unregistered(False)
    seen = []
    fp.register(podman_cmd("kube", "play", "--network", "n", "--quiet", "-"),
                stdout="Pod:\nabc\n", stdin_callable=seen.append)
    assert kube.play(MANIFEST, network="n") == "Pod:\nabc\n"
    assert seen == [MANIFEST.encode()]
    (call,) = fp.calls
    assert "c2VrcmV0" not in " ".join(map(str, call))
    assert list(call)[-1] == "-"


def test_play_failure_is_one_error(fp, podman_cmd):
    fp.allow_unregistered(False)
    fp.register(podman_cmd("kube", "play", "--quiet", "-"), returncode=125,
                stderr="Error: playing YAML file: volume with name v already exists: "
                       "volume already exists\n")
    with pytest.raises(errors.CommandError) as caught:
        kube.play(MANIFEST)
    assert "already exists" in str(caught.value)


def test_down_of_a_pod_already_gone(fp, podman_cmd):
    fp.allow_unregistered(False)
    gone = "Error: tearing down YAML file: no pod with name or ID p found: no such pod\n"
    fp.register(podman_cmd("kube", "down", "-"), returncode=125, stderr=gone)
    kube.down(MANIFEST, missing_ok=True)
    fp.register(podman_cmd("kube", "down", "-"), returncode=125, stderr=gone)
    with pytest.raises(errors.NotFound):
        kube.down(MANIFEST)


def test_down_other_failures_raise_even_when_missing_ok(fp, podman_cmd):
    fp.allow_unregistered(False)
    fp.register(podman_cmd("kube", "down", "-"), returncode=125,
                stderr="Error: tearing down YAML file: permission denied\n")
    with pytest.raises(errors.CommandError):
        kube.down(MANIFEST, missing_ok=True)


def test_leftovers_names_secrets_pvcs_and_secret_volumes():
    objects = [
        {"kind": "Secret", "metadata": {"name": "p-agent-env"}},
        {"kind": "Secret", "metadata": {"name": "p-api-env"}},
        {"kind": "PersistentVolumeClaim", "metadata": {"name": "p-workspace"}},
        {"kind": "Service", "metadata": {"name": "p-api"}},
        {"kind": "Pod", "metadata": {"name": "p"}, "spec": {
            "initContainers": [{"name": "init", "volumeMounts": [
                {"name": "p-init-tmp", "mountPath": "/tmp"}]}],
            "containers": [{"name": "c", "volumeMounts": [{"name": "p-tmp", "mountPath": "/tmp"}]}],
            "volumes": [
                {"name": "a", "secret": {"secretName": "p-agent-env", "optional": False}},
                {"name": "w", "persistentVolumeClaim": {"claimName": "p-workspace"}},
                {"name": "b", "secret": {"secretName": "p-agent-env"}},
                {"name": "p-init-tmp", "emptyDir": {"medium": "Memory"}},
                {"name": "p-tmp", "emptyDir": {}}]}},
    ]
    assert kube.leftovers(objects) == {
        "secrets": ["p-agent-env", "p-api-env"],
        "volumes": ["p-workspace", "p-agent-env", "p-init-tmp"]}
