"""One podman container Spec as a Kubernetes container: pure functions, one per part.

What has no Kubernetes form is added to the list ``not_mapped`` each function is given
(``manifest.convert(plan).not_mapped``):
``--init`` (an init process as PID 1: not named, every container has it),
``--pull=never`` (images are checked here; a node pulls them: ``IfNotPresent``),
``--network none`` of an init container (a Pod's
containers share its network), ``--memory-swap``, ``--pids-limit`` (a node's
``podPidsLimit``), ``--security-opt label=disable`` and ``unmask=`` (SELinux labels and
masked paths are the cluster's), devices but the GPUs, a non-numeric ``--user`` (Kubernetes
runs as a uid; the image's user applies) and the devcontainer's own run arguments.
"""

from __future__ import annotations

from devaipod.kube import names
from devaipod.podman.container import Spec

# podman's default capabilities (containers.conf default_capabilities): a container that
# does not drop them all gets these, and no more, as in podman (a Kubernetes runtime's
# default set also has NET_RAW, MKNOD and AUDIT_WRITE)
PODMAN_CAPS = ("CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "NET_BIND_SERVICE",
               "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT")
GPU = "nvidia.com/gpu"
_SIZES = {"g": "Gi", "m": "Mi", "k": "Ki", "b": ""}


def pairs(flags: list[str], single: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """FLAGS as (flag, value); ``--flag=value`` and ``--flag value`` alike; SINGLE: flags
    without a value."""
    out, it = [], iter(flags)
    for flag in it:
        if "=" in flag and flag.startswith("--"):
            name, value = flag.split("=", 1)
            out.append((name, value))
        elif flag in single:
            out.append((flag, ""))
        else:
            out.append((flag, next(it, "")))
    return out


def command(spec: Spec) -> dict:
    """``--entrypoint ""`` and a command: the command replaces the image's entrypoint.
    (Multi-line arguments, scripts, lose their leading blank space: ``names.text``.)"""
    argv = [names.text(a) for a in spec.command]
    if spec.entrypoint == "":
        return {"command": argv} if argv else {}
    out: dict = {"command": [spec.entrypoint]} if spec.entrypoint else {}
    if argv:
        out["args"] = argv
    return out


def env(spec: Spec) -> list[dict]:
    return [{"name": k, "value": v} for k, v in spec.env.items()]


def user(spec: Spec, not_mapped: list[str]) -> dict:
    """``--user UID[:GID]`` as runAsUser/runAsGroup; a user name has no Kubernetes form."""
    if not spec.user:
        return {}
    uid, _, gid = spec.user.partition(":")
    if not uid.isdigit() or (gid and not gid.isdigit()):
        not_mapped.append(f"--user {spec.user}")
        return {}
    out = {"runAsUser": int(uid)}
    if gid:
        out["runAsGroup"] = int(gid)
    return out


def security(spec: Spec, not_mapped: list[str]) -> tuple[dict, dict]:
    """(securityContext, resource limits) of SPEC's ``--cap-*``, ``--security-opt``,
    ``--privileged`` and ``--device`` flags, and its user."""
    flags = pairs(spec.security, single=("--privileged",))
    drop = {v for f, v in flags if f == "--cap-drop"}
    add = [v for f, v in flags if f == "--cap-add"]
    privileged = any(f == "--privileged" for f, _ in flags)
    caps = [] if "ALL" in drop else [c for c in PODMAN_CAPS if c not in drop]
    caps += [c for c in add if c not in caps]
    ctx: dict = {"allowPrivilegeEscalation": privileged,
                 "capabilities": {"drop": ["ALL"], **({"add": caps} if caps else {})}}
    if privileged:
        ctx["privileged"] = True
    seccomp = "RuntimeDefault"  # podman's default profile; Kubernetes' default is none
    limits: dict = {}
    for flag, value in flags:
        if flag == "--security-opt" and value == "seccomp=unconfined":
            seccomp = "Unconfined"
        elif flag == "--security-opt" and value not in ("no-new-privileges",
                                                        "no-new-privileges=true"):
            not_mapped.append(f"--security-opt {value}")
        elif flag == "--device" and value.startswith(GPU):
            limits[GPU] = 1  # "all" has no Kubernetes form: one GPU
        elif flag == "--device":
            not_mapped.append(f"--device {value}")
    ctx["seccompProfile"] = {"type": seccomp}
    ctx.update(user(spec, not_mapped))
    return ctx, limits


def size(text: str) -> str:
    """podman's size (``4g``, ``512m``, ``1000b``) as a Kubernetes quantity."""
    return text[:-1] + _SIZES[text[-1]] if text[-1:] in _SIZES else text


def resources(spec: Spec, not_mapped: list[str]) -> dict:
    """``Limits.flags()`` as limits (requests default to them)."""
    limits: dict = {}
    for flag, value in pairs(spec.resources):
        if flag == "--cpus":
            limits["cpu"] = value
        elif flag == "--memory":
            limits["memory"] = size(value)
        else:
            not_mapped.append(f"{flag} {value}")
    return limits


def seconds(text: str) -> int:
    return int(text.rstrip("s") or 0)


def probe(spec: Spec) -> dict:
    """``--health-cmd`` and its timing as a readiness probe."""
    h = dict(pairs(spec.health))
    if "--health-cmd" not in h:
        return {}
    out: dict = {"exec": {"command": ["sh", "-c", h["--health-cmd"]]}}
    for flag, key, convert in (
            ("--health-interval", "periodSeconds", seconds),
            ("--health-retries", "failureThreshold", int),
            ("--health-start-period", "initialDelaySeconds", seconds)):
        if flag in h:
            out[key] = convert(h[flag])
    return {"readinessProbe": out}


def container(spec: Spec, name: str, mounts: list[dict], not_mapped: list[str]) -> dict:
    """The Kubernetes container NAME of SPEC, with its volume MOUNTS."""
    ctx, device_limits = security(spec, not_mapped)
    limits = {**resources(spec, not_mapped), **device_limits}
    if spec.extra:
        not_mapped.append(f"{name}: devcontainer run arguments")
    out: dict = {"name": name, "image": spec.image, "imagePullPolicy": "IfNotPresent",
                 **command(spec)}
    if spec.workdir:
        out["workingDir"] = spec.workdir
    if spec.env:
        out["env"] = env(spec)
    if mounts:
        out["volumeMounts"] = mounts
    if limits:
        out["resources"] = {"limits": limits}
    out.update(probe(spec))
    out["securityContext"] = ctx
    return out
