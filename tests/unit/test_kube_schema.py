"""Every object of the golden YAML files (tests/fixtures/kube) validates against the
Kubernetes OpenAPI schemas of the three latest minor versions that kubernetes-validate
ships (offline, strict: an unknown field is an error). The versions are the package's own
list, not a guess: a newer kubernetes-validate moves the test to newer Kubernetes."""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate import utils

FIXTURES = Path(__file__).parent.parent / "fixtures" / "kube"
GOLDEN = sorted(FIXTURES.glob("*.yaml"))


def latest_minors(count: int = 3) -> list[str]:
    """The newest patch version of each of the COUNT latest minor versions."""
    newest: dict[str, str] = {}
    for version in utils.all_versions():  # oldest first
        newest[utils.major_minor(version)] = version
    return list(newest.values())[-count:]


VERSIONS = latest_minors()


def test_three_versions_and_two_goldens():
    assert len(VERSIONS) == 3 and len({utils.major_minor(v) for v in VERSIONS}) == 3
    assert {p.stem for p in GOLDEN} >= {"plain", "gator-worker"}


def documents(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.stem)
def test_every_object_validates(path, version):
    docs = documents(path)
    kinds = {d["kind"] for d in docs}
    assert {"Pod", "Secret", "PersistentVolumeClaim", "Service", "NetworkPolicy"} <= kinds
    for doc in docs:
        try:
            checked = kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{path.name}: {doc['kind']} {doc['metadata']['name']} is not valid "
                        f"Kubernetes {version}: {exc.message} at "
                        f"{'.'.join(str(p) for p in exc.absolute_path)}", pytrace=False)
        assert checked == utils.major_minor(version)


def test_the_validator_can_fail():
    """A field Kubernetes does not have, and a wrong type, are refused."""
    pod = next(d for d in documents(FIXTURES / "plain.yaml") if d["kind"] == "Pod")
    bad = {**pod, "spec": {**pod["spec"], "shareProcessNamespaces": False}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, VERSIONS[-1], strict=True)
    bad = {**pod, "spec": {**pod["spec"], "shareProcessNamespace": "no"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, VERSIONS[-1], strict=True)
