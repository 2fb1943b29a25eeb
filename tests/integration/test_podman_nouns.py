"""devaipod.podman against a real (private) podman service."""

from __future__ import annotations

import json
import logging
import secrets
import shlex
import time

import pytest

from devaipod import __version__, errors, podman, runner
from devaipod.podman import connection, container, image, network, pod, secret, volume

pytestmark = pytest.mark.podman

LABEL = "devaipod.test"


@pytest.fixture
def labels(podman_service):
    return {LABEL: podman_service.instance}


def sleeper(name, test_image, **kwargs) -> container.Spec:
    return container.Spec(name=name, image=test_image, command=["sleep", "infinity"], **kwargs)


def start(name: str) -> None:
    podman.change(["start", name])


def wait_for(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while not (value := predicate()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return value


def test_pod_lifecycle(unique, labels):
    name = unique("pod")
    pod_id = pod.create(name, labels=labels)
    assert pod.exists(name)
    info = pod.inspect(name)
    assert (info["Id"], info["Name"]) == (pod_id, name)
    assert info["Labels"][LABEL] == labels[LABEL]
    listed = pod.ps({"label": f"{LABEL}={labels[LABEL]}"})
    assert name in {p["Name"] for p in listed}
    pod.rm(name, force=True)
    assert not pod.exists(name)
    assert name not in {p["Name"] for p in pod.ps({"label": f"{LABEL}={labels[LABEL]}"})}


def test_container_in_a_pod(unique, labels, test_image):
    pod_name, name = unique("pod"), unique("ctr")
    token, probe = secrets.token_hex(8), secrets.token_hex(8)
    pod_id = pod.create(pod_name, labels=labels)
    spec = container.Spec(
        name=name, image=test_image, pod=pod_name, labels=labels, env={"DEVAIPOD_PROBE": probe},
        command=["sh", "-c", f"echo {token}; exec sleep infinity"],
    )
    container_id = container.create(spec)
    assert container.exists(name)
    pod.start(pod_name)
    [info] = container.inspect([name])
    assert (info["Id"], info["Pod"], info["State"]["Running"]) == (container_id, pod_id, True)
    printed = container.exec_capture(name, ["printenv", "DEVAIPOD_PROBE"]).stdout
    assert printed.strip() == probe
    logs = wait_for(lambda: token in podman.capture(container.logs_argv(name)).stdout)
    assert logs, "the container's output never reached podman logs"
    listed = container.ps({"label": f"{LABEL}={labels[LABEL]}", "pod": pod_id})
    # the pod's infra container carries the pod's labels too
    assert [c["Names"] for c in listed if not c["IsInfra"]] == [[name]]
    container.rm([name], force=True)
    assert not container.exists(name)
    pod.rm(pod_name, force=True)


def test_exec_failure_keeps_the_exit_code(unique, test_image):
    name = unique("ctr")
    container.run(sleeper(name, test_image, extra=["--detach"]))
    code = secrets.randbelow(100) + 2
    result = container.exec_capture(name, ["sh", "-c", f"exit {code}"], check=False)
    assert result.returncode == code
    with pytest.raises(errors.CommandError) as caught:
        container.exec_capture(name, ["sh", "-c", f"exit {code}"])
    assert caught.value.returncode == code
    container.rm([name], force=True)


def test_volume_labels_and_filtered_ls(unique, labels):
    mine, other = unique("vol"), unique("vol")
    role = secrets.token_hex(4)
    volume.create(mine, {**labels, "devaipod.role": role})
    volume.create(other, labels)
    assert volume.exists(mine) and volume.exists(other)
    assert [v["Name"] for v in volume.ls({"label": f"devaipod.role={role}"})] == [mine]
    both = {v["Name"] for v in volume.ls({"label": f"{LABEL}={labels[LABEL]}"})}
    assert {mine, other} <= both
    assert volume.inspect(mine)["Labels"] == {**labels, "devaipod.role": role}
    volume.rm([mine, other])
    assert not volume.exists(mine) and not volume.exists(other)


@pytest.fixture
def stored_secret(unique, labels):
    """(name, value) of a fresh secret."""
    name, value = unique("sec"), secrets.token_urlsafe(24)
    secret.create(name, value, labels)
    return name, value


def test_secret_value_stays_out_of_secret_inspect(stored_secret, podman_service):
    name, value = stored_secret
    assert secret.exists(name)
    assert name in {secret.name_of(s) for s in secret.ls()}
    secret_json = podman_service.podman("secret", "inspect", name).stdout
    assert name in secret_json and value not in secret_json
    secret.rm([name])
    assert not secret.exists(name)


def test_env_secret_reaches_the_command_but_not_inspect(
        stored_secret, unique, test_image, podman_service):
    (name, value), holder = stored_secret, unique("ctr")
    command = 'printf %s "$DEVAIPOD_S" > /tmp/seen; exec sleep infinity'
    container.create(container.Spec(
        name=holder, image=test_image, command=secret.with_env(["sh", "-c", command]),
        secrets=[secret.env_flag(name, "DEVAIPOD_S")]))
    created_json = podman_service.podman("container", "inspect", holder).stdout
    start(holder)
    running_json = podman_service.podman("container", "inspect", holder).stdout
    for shown in (created_json, running_json):
        assert name in shown and value not in shown
    seen = wait_for(lambda: container.exec_capture(holder, ["cat", "/tmp/seen"], check=False).ok)
    assert seen, "the container's command never wrote /tmp/seen"
    assert container.exec_capture(holder, ["cat", "/tmp/seen"]).stdout == value
    printed = container.exec_capture(holder, secret.with_env(["printenv", "DEVAIPOD_S"])).stdout
    assert printed.strip() == value
    container.rm([holder], force=True)


def test_mount_secret_not_in_inspect_of_a_running_container(
        stored_secret, unique, test_image, podman_service):
    (name, value), holder = stored_secret, unique("ctr")
    container.run(sleeper(holder, test_image, extra=["--detach"],
                          secrets=[secret.file_flag(name)]))
    running_json = podman_service.podman("container", "inspect", holder).stdout
    assert name in running_json and value not in running_json
    shown = container.exec_capture(holder, ["cat", f"/run/secrets/{name}"]).stdout
    assert shown == value
    container.rm([holder], force=True)


def test_network_resolves_containers_by_name(unique, labels, test_image):
    net, server = unique("net"), unique("srv")
    network.create(net, labels)
    assert network.exists(net)
    assert network.inspect(net)["name"] == net
    container.run(sleeper(server, test_image, network=net, extra=["--detach"]))
    [info] = container.inspect([server])
    address = info["NetworkSettings"]["Networks"][net]["IPAddress"]
    client = container.Spec(name=unique("cli"), image=test_image, network=net,
                            command=["getent", "hosts", server])
    resolved, *names = container.run(client).stdout.split()
    assert resolved == address
    assert server in {n.split(".")[0] for n in names}
    container.rm([server], force=True)
    network.rm(net)
    assert not network.exists(net)


def missing_lookups():
    return {
        "pod inspect": pod.inspect, "pod rm": pod.rm, "pod start": pod.start,
        "container inspect": lambda n: container.inspect([n]), "rm": lambda n: container.rm([n]),
        "exec": lambda n: container.exec_capture(n, ["true"]),
        "volume inspect": volume.inspect, "volume rm": lambda n: volume.rm([n]),
        "secret inspect": lambda n: secret.inspect([n]), "secret rm": lambda n: secret.rm([n]),
        "network inspect": network.inspect, "network rm": network.rm,
        "image inspect": image.inspect, "image rm": lambda n: image.rm([n]),
    }


def test_missing_objects_raise_not_found(unique):
    for what, call in missing_lookups().items():
        name = unique("missing")
        with pytest.raises(errors.NotFound) as caught:
            call(name)
        assert caught.value.returncode != 0, what
        assert caught.value.stderr, what


def test_inspect_of_listed_objects_leaves_out_the_ones_gone_meanwhile(
        stored_secret, unique, labels, test_image):
    """Another devaipod removed one between the list and the inspect (five parallel
    `up`s cleaning up after failing): the others are still answered."""
    name, _value = stored_secret
    gone = unique("gone")
    secret.create(gone, "x", labels)
    secret.rm([gone])
    answered = podman.json_present(secret.inspect_argv([name, gone]))
    assert [secret.name_of(s) for s in answered] == [name]
    ctr = unique("ctr")
    container.create(sleeper(ctr, test_image, labels=labels))
    try:
        found = container.inspect_present([unique("gone"), ctr])
        assert [c["Name"] for c in found] == [ctr]
        assert container.inspect_present([unique("gone")]) == []
    finally:
        container.rm([ctr], force=True)


def test_exists_is_false_for_missing_objects(unique):
    for noun in (pod, container, volume, secret, network, image):
        assert noun.exists(unique("missing")) is False, noun.__name__


def creators(test_image):
    return {
        "pod": lambda n: pod.create(n), "volume": lambda n: volume.create(n),
        "network": lambda n: network.create(n),
        "secret": lambda n: secret.create(n, secrets.token_hex(4)),
        "container": lambda n: container.create(container.Spec(name=n, image=test_image)),
    }


def test_second_create_raises_already_exists(unique, test_image):
    for noun, create in creators(test_image).items():
        name = unique(noun)
        create(name)
        with pytest.raises(errors.AlreadyExists) as caught:
            create(name)
        assert caught.value.returncode != 0, noun


def create_workspace(vol, pod_name, ctr, test_image, labels):
    volume.create(vol, labels)
    pod.create(pod_name, labels=labels)
    container.create(sleeper(ctr, test_image, pod=pod_name, labels=labels,
                             mounts=[f"{vol}:/workspace"]))


def debug_commands(caplog) -> list[list[str]]:
    return [shlex.split(r.getMessage()[2:]) for r in caplog.records
            if r.name == "devaipod" and r.getMessage().startswith("+ ")]


def test_dry_run_plan_is_what_a_real_run_runs(unique, labels, test_image, caplog, capsys):
    names = unique("vol"), unique("pod"), unique("ctr")
    runner.options.dry_run = True
    create_workspace(*names, test_image, labels)
    planned = list(runner.options.planned)
    assert [shlex.split(line) for line in capsys.readouterr().out.splitlines()] == planned
    assert not volume.exists(names[0]) and not pod.exists(names[1])
    runner.options.dry_run = False
    caplog.set_level(logging.DEBUG, logger="devaipod")
    caplog.clear()
    create_workspace(*names, test_image, labels)
    assert debug_commands(caplog) == [runner.redact(a) for a in planned]
    assert volume.exists(names[0]) and pod.exists(names[1]) and container.exists(names[2])
    pod.rm(names[1], force=True)
    volume.rm([names[0]])


def test_unreachable_service_is_one_clear_line(tmp_path, monkeypatch):
    socket = tmp_path / "nothing-listens.sock"
    monkeypatch.setattr(connection, "_explicit", f"unix://{socket}")
    for call in (pod.ps, lambda: volume.exists("v"), lambda: secret.exists("s"),
                 lambda: volume.create("v"), lambda: container.inspect_present(["c"])):
        with pytest.raises(errors.PodmanUnreachable) as caught:
            call()
        message = caught.value.format_message()
        assert "\n" not in message
        assert str(socket) in message and "podman system service" in message


def test_cli_subprocess_talks_to_the_private_service(devaipod_cli, podman_service, test_image):
    rc, out, err = devaipod_cli("--version")
    assert (rc, err) == (0, "")
    assert __version__ in out.split()
    _, out, err = devaipod_cli("doctor", "--json", "--image", test_image)
    checks = {c["name"]: c for c in json.loads(out)["checks"]}
    assert checks["podman"]["ok"], (out, err)
    assert podman_service.url in checks["podman"]["detail"]
