"""podman kube: play and take down Kubernetes YAML (``devaipod kube generate``'s output).

The YAML always travels on stdin (``podman kube play -``): it holds the pod's
Secrets, so it is never written to a file nor put on a command line.

``podman kube down`` (4.3.1) removes the pods only: it leaves the Secrets,
the PersistentVolumeClaims' volumes and the volume podman makes for each
``secret:`` volume (named after the Secret); ``leftovers`` names them.
tests/integration/test_kube_play.py checks on the real engine what podman
does with the generated YAML.
"""

from __future__ import annotations

from devaipod import errors, podman

STDIN = "-"


def play_argv(network: str | None = None, start: bool = True, replace: bool = False,
              quiet: bool = True) -> list[str]:
    """``podman kube play`` of the YAML on stdin; NETWORK: join the pod to that network."""
    return ["kube", "play", *(["--network", network] if network else []),
            *([] if start else ["--start=false"]), *(["--replace"] if replace else []),
            *(["--quiet"] if quiet else []), STDIN]


def down_argv() -> list[str]:
    """``podman kube down`` of the YAML on stdin: stops and removes its pods (only)."""
    return ["kube", "down", STDIN]


def play(manifest: str, network: str | None = None, start: bool = True,
         replace: bool = False, timeout: float | None = 600) -> str:
    """Create (and start) what MANIFEST describes; podman's report on stdout."""
    argv = play_argv(network=network, start=start, replace=replace)
    return podman.change(argv, input=manifest, timeout=timeout).stdout


def down(manifest: str, missing_ok: bool = False, timeout: float | None = 300) -> None:
    """Stop and remove MANIFEST's pods; MISSING_OK: a pod already gone is no error
    (podman 4.3.1 exits 125 "no pod with name or ID")."""
    result = podman.change(down_argv(), input=manifest, timeout=timeout, check=False)
    if result.ok:
        return
    error = errors.classify(result.argv, result.returncode, result.stderr)
    if missing_ok and isinstance(error, errors.NotFound):
        return
    raise error


def leftovers(objects: list[dict]) -> dict[str, list[str]]:
    """What ``podman kube down`` (4.3.1) leaves of OBJECTS (the parsed YAML documents):
    ``{"secrets": [...], "volumes": [...]}`` — every Secret, every PVC's volume, the
    volume named after each Secret a pod mounts as a ``secret:`` volume, and the
    ``emptyDir`` volumes of init containers (podman names them as the volume and removes a
    finished init container without its volumes)."""
    secrets = [o["metadata"]["name"] for o in objects if o.get("kind") == "Secret"]
    volumes = [o["metadata"]["name"] for o in objects
               if o.get("kind") == "PersistentVolumeClaim"]
    for obj in objects:
        if obj.get("kind") != "Pod":
            continue
        spec = obj.get("spec") or {}
        init_mounts = {m["name"] for c in spec.get("initContainers") or []
                       for m in c.get("volumeMounts") or []}
        for volume in spec.get("volumes") or []:
            name = (volume.get("secret") or {}).get("secretName")
            if "emptyDir" in volume and volume["name"] in init_mounts:
                name = volume["name"]
            if name and name not in volumes:
                volumes.append(name)
    return {"secrets": secrets, "volumes": volumes}
