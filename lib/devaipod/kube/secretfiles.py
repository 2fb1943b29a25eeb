"""The files a container gets from podman secrets, as Kubernetes Secrets and volumes.

podman mounts each secret as one file (``--secret NAME,type=mount,target=PATH[,mode=M]``,
``podman.secret``); several land in one directory (``ENV_DIR``, whose files ``with_env()``
exports; ``BIN_DIR``, whose programs are on PATH). Kubernetes mounts a Secret volume as a
directory. Of the ways to put several secrets' files into one directory, Kubernetes has
``subPath`` mounts and ``projected`` volumes, but podman 4.3.1's ``kube play`` has neither
(it mounts a Secret volume's whole directory at a ``subPath`` mount's path, and refuses a
projected volume); and it ignores ``items`` and ``mode``: every key of the Secret is a file.
What works on both: one Secret per container and directory, whose keys are exactly the
files podman puts there, mounted read-only at that directory (``items`` and ``mode`` still
given, for Kubernetes: programs 0555, the rest 0444 as podman makes them). A value that
two containers get is thus in two Secrets, and in nothing but Secrets.

podman 4.3.1's kube play still does not deliver the values right (tried: 4.3.1 on this
project's hosts): it writes a ``data`` value as its base64 text, undecoded, drops
``stringData`` keys, and makes every file 0644 (the programs are not executable). The files
are where podman's own secrets are; their contents are Kubernetes'.

A secret that is not the workspace's own (a ``[trusted] secrets`` name, created by the
user with ``devaipod init``) has its value only in podman: ``EXTERNAL`` must give it.
"""

from __future__ import annotations

import base64
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass

from devaipod import errors
from devaipod.kube import names
from devaipod.podman.container import Spec

DEFAULT_MODE = 0o444  # podman's mode of a mounted secret
SECRETS_DIR = "/run/secrets"  # where podman mounts a secret without a target


@dataclass(frozen=True)
class File:
    secret: str  # the podman secret's name
    target: str  # the file's absolute path in the container
    mode: int = DEFAULT_MODE

    @property
    def key(self) -> str:
        return posixpath.basename(self.target)


def parse(value: str) -> File:
    """The file of one ``--secret`` value (``NAME[,type=mount][,target=PATH][,mode=M]``)."""
    secret_name, *opts = value.split(",")
    options = dict(o.split("=", 1) for o in opts if "=" in o)
    if options.get("type", "mount") != "mount":
        raise errors.DevaipodError(f"secret {secret_name}: type={options['type']} has no "
                                   "Kubernetes form here", "mount secrets as files")
    target = options.get("target") or secret_name
    if not target.startswith("/"):
        target = f"{SECRETS_DIR}/{target}"
    return File(secret_name, target, int(options.get("mode", "0444"), 8))


def files(spec: Spec) -> list[File]:
    """Every secret file of SPEC, in the order of its flags."""
    return [parse(value) for group in spec.secrets
            for flag, value in zip(group[::2], group[1::2], strict=True) if flag == "--secret"]


def by_directory(spec: Spec) -> dict[str, list[File]]:
    out: dict[str, list[File]] = {}
    for f in files(spec):
        out.setdefault(posixpath.dirname(f.target), []).append(f)
    return out


def slug(directory: str) -> str:
    """``/run/devaipod-env`` -> ``run-devaipod-env`` (our own fixed paths)."""
    return re.sub(r"[^a-z0-9]+", "-", directory.lower()).strip("-")


def object_name(container_name: str, directory: str) -> str:
    """The Secret of CONTAINER_NAME's (the podman name's) files in DIRECTORY."""
    return names.name(f"{container_name}-{slug(directory)}")


def volume_name(role: str, directory: str) -> str:
    return names.name(f"{role}-{slug(directory)}")


def values(plan_secrets: Mapping[str, str], external: Mapping[str, str],
           group: list[File], container_name: str) -> dict[str, str]:
    """The Secret's data: each file's value (base64), by its file name."""
    data = {}
    for f in group:
        value = plan_secrets.get(f.secret, external.get(f.secret))
        if value is None:
            raise errors.DevaipodError(
                f"{container_name} gets the podman secret {f.secret}, which is not the "
                "workspace's own: its value is not known here",
                "give --copy-user-secrets to copy it from podman into the YAML")
        data[f.key] = base64.b64encode(value.encode()).decode()
    return data


def volume(role: str, secret_object: str, directory: str, group: list[File]) -> dict:
    """The Pod's volume of one Secret (``optional: false`` is given: podman 4.3.1's kube
    play crashes on a Secret volume without it, containers/podman#16636)."""
    return {"name": volume_name(role, directory),
            "secret": {"secretName": secret_object, "optional": False,
                       "defaultMode": DEFAULT_MODE,
                       "items": [{"key": f.key, "path": f.key, "mode": f.mode}
                                 for f in group]}}


def mount(role: str, directory: str) -> dict:
    return {"name": volume_name(role, directory), "mountPath": directory, "readOnly": True}


def external_names(specs: list[Spec], plan_secrets: Mapping[str, str]) -> list[str]:
    """The podman secrets SPECS mount that the plan does not make (the user's own)."""
    return list(dict.fromkeys(f.secret for s in specs for f in files(s)
                              if f.secret not in plan_secrets))
