"""Exact argv of every pure ``*_argv`` builder in devaipod.podman."""

from __future__ import annotations

from devaipod import podman
from devaipod.podman import connection, container, image, network, pod, secret, volume

LABELS = {"devaipod.managed": "true", "devaipod.role": "agent"}
LABEL_ARGS = ["--label", "devaipod.managed=true", "--label", "devaipod.role=agent"]


def test_podman_argv_is_remote_with_the_resolved_url():
    assert podman.argv(["ps"]) == ["podman", "--remote", "--url", connection.url(), "ps"]


def test_label_and_filter_args():
    assert podman.label_args(LABELS) == LABEL_ARGS
    assert podman.filter_args({"label": ["a=1", "b=2"], "name": "x"}) == [
        "--filter", "label=a=1", "--filter", "label=b=2", "--filter", "name=x",
    ]


def test_pod_builders():
    assert pod.create_argv("p1", LABELS, publish=["8080:80", "9090:90"], network="net1") == [
        "pod", "create", "--name", "p1", *LABEL_ARGS,
        "--publish", "8080:80", "--publish", "9090:90", "--network", "net1",
    ]
    assert pod.create_argv("p2") == ["pod", "create", "--name", "p2"]
    assert pod.exists_argv("p1") == ["pod", "exists", "p1"]
    assert pod.inspect_argv("p1") == ["pod", "inspect", "p1"]
    assert pod.ps_argv({"label": "k=v"}) == [
        "pod", "ps", "--format", "json", "--filter", "label=k=v",
    ]
    assert pod.ps_argv() == ["pod", "ps", "--format", "json"]
    assert pod.start_argv("p1") == ["pod", "start", "p1"]
    assert pod.stop_argv("p1") == ["pod", "stop", "p1"]
    assert pod.stop_argv("p1", timeout=3) == ["pod", "stop", "--time", "3", "p1"]
    assert pod.rm_argv("p1") == ["pod", "rm", "p1"]
    assert pod.rm_argv("p1", force=True) == ["pod", "rm", "--force", "p1"]


def full_spec() -> container.Spec:
    return container.Spec(
        name="c1", image="img:1", command=["sleep", "9"], pod="p1", entrypoint="/bin/sh",
        user="1000", workdir="/w", env={"A": "1", "B": "2"},
        secrets=[secret.env_flag("s1", "TOKEN_VAR")], mounts=["vol1:/w", "/host:/h:ro"],
        labels=LABELS, network="net1", publish=["8080:80"], security=["--cap-drop=all"],
        health=["--health-cmd", "true"], extra=["--read-only"],
    )


FULL_OPTIONS = [
    "--name", "c1", "--pull=never", "--pod", "p1", "--init", "--tmpfs", "/tmp", "--user", "1000",
    "--workdir", "/w", "--entrypoint", "/bin/sh", "--network", "net1",
    "--publish", "8080:80", *LABEL_ARGS, "--env", "A=1", "--env", "B=2",
    "--secret", f"s1,type=mount,target={secret.ENV_DIR}/TOKEN_VAR", "--volume", "vol1:/w",
    "--volume", "/host:/h:ro", "--cap-drop=all", "--health-cmd", "true", "--read-only",
]


def test_container_create_and_run_with_every_option():
    spec = full_spec()
    assert container.create_argv(spec) == ["create", *FULL_OPTIONS, "img:1", "sleep", "9"]
    assert container.run_argv(spec) == ["run", "--rm", *FULL_OPTIONS, "img:1", "sleep", "9"]
    assert container.run_argv(spec, remove=False) == ["run", *FULL_OPTIONS, "img:1", "sleep", "9"]


def test_container_create_minimal_and_switches_off():
    spec = container.Spec(name="c2", image="img:2")
    assert container.create_argv(spec) == [
        "create", "--name", "c2", "--pull=never", "--init", "--tmpfs", "/tmp", "img:2",
    ]
    bare = container.Spec(name="c3", image="img:3", init=False, tmpfs_tmp=False, entrypoint="",
                          pull=None)
    assert container.create_argv(bare) == ["create", "--name", "c3", "--entrypoint", "", "img:3"]
    newer = container.Spec(name="c4", image="img:4", init=False, tmpfs_tmp=False, pull="newer")
    assert container.create_argv(newer) == ["create", "--name", "c4", "--pull=newer", "img:4"]


def test_container_exec_builder():
    assert container.exec_argv("c1", ["ls", "-l"]) == ["exec", "c1", "ls", "-l"]
    assert container.exec_argv(
        "c1", ["sh"], interactive=True, tty=True, user="u", workdir="/w", env={"K": "v"},
    ) == [
        "exec", "--interactive", "--tty", "--detach-keys", "", "--user", "u",
        "--workdir", "/w", "--env", "K=v", "c1", "sh",
    ]
    assert container.exec_argv("c1", ["sh"], interactive=True, detach_keys=False) == [
        "exec", "--interactive", "c1", "sh",
    ]
    assert container.exec_argv("c1", ["sh"], tty=True) == ["exec", "--tty", "c1", "sh"]


def test_container_other_builders():
    assert container.exists_argv("c1") == ["container", "exists", "c1"]
    assert container.inspect_argv(["c1", "c2"]) == ["container", "inspect", "c1", "c2"]
    assert container.ps_argv({"pod": "p1"}) == [
        "ps", "--all", "--format", "json", "--filter", "pod=p1",
    ]
    assert container.ps_argv(all=False) == ["ps", "--format", "json"]
    assert container.logs_argv("c1") == ["logs", "c1"]
    assert container.logs_argv("c1", follow=True, tail=0) == [
        "logs", "--follow", "--tail", "0", "c1",
    ]
    assert container.rm_argv(["c1", "c2"]) == ["rm", "c1", "c2"]
    assert container.rm_argv(["c1"], force=True, ignore=True) == ["rm", "--force", "--ignore",
                                                                  "c1"]
    assert container.rm_argv(["c1"], force=True) == ["rm", "--force", "c1"]


def test_volume_builders():
    assert volume.create_argv("v1", LABELS) == ["volume", "create", *LABEL_ARGS, "v1"]
    assert volume.create_argv("v1") == ["volume", "create", "v1"]
    assert volume.exists_argv("v1") == ["volume", "exists", "v1"]
    assert volume.inspect_argv("v1") == ["volume", "inspect", "v1"]
    assert volume.ls_argv({"label": "k=v"}) == [
        "volume", "ls", "--format", "json", "--filter", "label=k=v",
    ]
    assert volume.rm_argv(["v1", "v2"], force=True) == ["volume", "rm", "--force", "v1", "v2"]
    assert volume.rm_argv(["v1"]) == ["volume", "rm", "v1"]


def test_secret_builders_take_the_value_from_stdin():
    assert secret.create_argv("s1", LABELS) == ["secret", "create", *LABEL_ARGS, "s1", "-"]
    assert secret.create_argv("s1") == ["secret", "create", "s1", "-"]
    assert secret.inspect_argv(["s1", "s2"]) == ["secret", "inspect", "s1", "s2"]
    assert secret.ls_argv() == ["secret", "ls", "--quiet"]
    assert secret.rm_argv(["s1", "s2"]) == ["secret", "rm", "s1", "s2"]
    assert secret.env_flag("s1", "VAR") == [
        "--secret", f"s1,type=mount,target={secret.ENV_DIR}/VAR",
    ]
    assert secret.with_env(["printenv", "VAR"]) == [
        "sh", "-c", secret.LOAD_ENV, "sh", "printenv", "VAR",
    ]
    assert secret.file_flag("s1") == ["--secret", "s1"]


def test_image_builders():
    assert image.exists_argv("img") == ["image", "exists", "img"]
    assert image.inspect_argv("img") == ["image", "inspect", "img"]
    assert image.build_argv(
        "t:1", "ctx", containerfile="Cf", build_args={"A": "1"}, target="stage", labels=LABELS,
    ) == [
        "build", "--pull=never", "--tag", "t:1", "--file", "Cf", "--build-arg", "A=1",
        "--target", "stage", *LABEL_ARGS, "ctx",
    ]
    assert image.build_argv("t:2", ".") == ["build", "--pull=never", "--tag", "t:2", "."]
    assert image.build_argv("t:3", ".", pull="missing")[1] == "--pull=missing"
    assert image.tag_argv("a:1", "b:2") == ["tag", "a:1", "b:2"]
    assert image.rm_argv(["a", "b"], force=True) == ["image", "rm", "--force", "a", "b"]
    assert image.rm_argv(["a"]) == ["image", "rm", "a"]


def test_network_builders():
    assert network.create_argv("n1", LABELS) == ["network", "create", *LABEL_ARGS, "n1"]
    assert network.create_argv("n1") == ["network", "create", "n1"]
    assert network.exists_argv("n1") == ["network", "exists", "n1"]
    assert network.inspect_argv("n1") == ["network", "inspect", "n1"]
    assert network.rm_argv("n1") == ["network", "rm", "n1"]
    assert network.rm_argv("n1", force=True) == ["network", "rm", "--force", "n1"]
