"""[bind_home]: which host files go into which container, and when it is refused."""

from __future__ import annotations

import pytest

from devaipod import config, errors
from devaipod.podman import container
from devaipod.workspace import homefiles


def cfg(text: str):
    return config.parse_config(text, "test.toml")


def test_copies_for_each_container(tmp_path):
    (tmp_path / ".config/gcloud").mkdir(parents=True)
    (tmp_path / homefiles.ADC).write_text("{}")
    (tmp_path / ".ws-only").write_text("x")
    c = cfg('[bind_home]\npaths = [".config/gcloud/application_default_credentials.json",'
            ' ".missing"]\n[bind_home_workspace]\npaths = [".ws-only"]\n')
    copies = homefiles.plan("devaipod-p", c, in_container=False, worker=True, home=str(tmp_path))
    assert [(x.container, x.rel, x.home) for x in copies] == [
        ("devaipod-p-workspace", homefiles.ADC, None),
        ("devaipod-p-agent", homefiles.ADC, "/home/devenv"),
        ("devaipod-p-worker", homefiles.ADC, "/home/devenv"),
        ("devaipod-p-workspace", ".ws-only", None),
    ]  # .missing: warned about, not copied
    assert homefiles.agent_env(copies) == {
        "GOOGLE_APPLICATION_CREDENTIALS": "/home/devenv/" + homefiles.ADC}
    assert homefiles.agent_env(copies[3:]) == {}


def test_refused_in_the_container_and_outside_home(tmp_path):
    with pytest.raises(errors.DevaipodError, match="only when devaipod runs on the host"):
        homefiles.plan("p", cfg('[bind_home]\npaths = [".x"]\n'), in_container=True,
                       worker=False, home=str(tmp_path))
    assert homefiles.plan("p", cfg(""), in_container=True, worker=False) == []
    for bad in ("/etc/passwd", "../x"):
        with pytest.raises(errors.DevaipodError, match="relative to"):
            homefiles.plan("p", cfg(f'[bind_home]\npaths = ["{bad}"]\n'), in_container=False,
                           worker=False, home=str(tmp_path))


def test_cp_argv():
    assert container.cp_argv("/h/.x", "c1", "/home/devenv/.x") == [
        "cp", "/h/.x", "c1:/home/devenv/.x"]


def test_gpu_roles_and_flags(tmp_path, monkeypatch):
    from devaipod.workspace import inputs, plan

    monkeypatch.delenv("DEVAIPOD_CONTAINER", raising=False)
    none = tmp_path / "none"
    assert inputs.gpu_roles(cfg("").gpu, cdi_dirs=(str(none),)) == ()  # auto, no CDI spec
    (tmp_path / "cdi").mkdir()
    (tmp_path / "cdi" / "nvidia.yaml").write_text("cdiVersion: 0.5.0\n")
    assert inputs.gpu_roles(cfg("").gpu, cdi_dirs=(str(tmp_path / "cdi"),)) == ("workspace",)
    monkeypatch.setenv("DEVAIPOD_CONTAINER", "1")  # not this host's GPUs: no auto
    assert inputs.gpu_roles(cfg("").gpu, cdi_dirs=(str(tmp_path / "cdi"),)) == ()
    assert inputs.gpu_roles(cfg('[gpu]\nenabled = true\ntarget = "agent"\n').gpu) == (
        "agent", "worker")
    assert inputs.gpu_roles(cfg('[gpu]\nenabled = false\n').gpu,
                            cdi_dirs=(str(tmp_path / "cdi"),)) == ()
    i = plan.Inputs(pod="p", source=None, image="i", api_image="a", gpu_roles=("agent",))
    assert plan.gpu_flags(i, "agent") == ["--device", "nvidia.com/gpu=all"]
    assert plan.gpu_flags(i, "workspace") == []
