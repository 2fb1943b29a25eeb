"""The layout of a workspace pod, defined once: names, labels, ports, secret names.

A workspace ``devaipod-<project>-<6 hex>`` owns the pod of that name, the
containers ``{pod}-workspace``, ``{pod}-agent``, ``{pod}-api`` (and
``{pod}-gator``, ``{pod}-worker``), the volumes ``{pod}-workspace``,
``{pod}-agent-home``, ``{pod}-agent-workspace`` (and the worker's), the
secrets ``{pod}-*`` and a ``{pod}-done`` marker volume while it is done; with
``--egress allow-list`` also the container ``{pod}-egress``, the volume
``{pod}-egress`` and the network ``{pod}-internal``.
Everything carries the labels ``io.devaipod.managed=true`` and
``io.devaipod.pod={pod}``, plus ``io.devaipod.instance`` under
``DEVAIPOD_INSTANCE``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

PREFIX = "devaipod-"
LABEL = "io.devaipod"
MANAGED = f"{LABEL}.managed"
POD = f"{LABEL}.pod"
INSTANCE = f"{LABEL}.instance"
ROLE = f"{LABEL}.role"
DONE = f"{LABEL}.done"
# a small volume that marks a workspace (kind done or title), so that `list` finds every
# mark with one `podman volume ls`: io.devaipod.mark=KIND, io.devaipod.KIND=VALUE
MARK = f"{LABEL}.mark"
TITLE = f"{LABEL}.title"
GATOR = f"{LABEL}.service-gator"  # the gator's grants at creation (for display)

ROLES = ("workspace", "agent", "api", "gator", "worker", "egress")

# where each server listens in the pod's network namespace (the sidecar's port is the
# only one published); the gator's is [service-gator] port (default below) and port + 1
API_PORT = 8090
AGENT_PORT = 4096
WORKER_PORT = 4098
GATOR_PORT = 8765
OPENCODE_PORTS = {"agent": AGENT_PORT, "worker": WORKER_PORT}

# [limits]: the containers whose resources are limited (the untrusted ones; the human's
# workspace keeps its devcontainer's runArgs), and the default number of processes
LIMITED_ROLES = ("agent", "worker")
PIDS_LIMIT = 4096

# a variable's name that says its value is a secret (redacted in logs, never a plain
# --env: a podman secret)
# (KEY only as a word of its own: GIT_CONFIG_KEY_0 is none; AUTH, not AUTHOR)
LOOKS_SECRET = re.compile(
    r"(?i)(API_?KEY|(^|_)KEY$|TOKEN|SECRET|PASSW|PRIVATE|CREDENTIAL|AUTH(?!OR))")

# the workspace's own labels, io.devaipod.<key>, on the pod and its workspace container
POD_LABELS = ("mode", "source", "repo", "project", "image", "image-from", "created", "version",
              "task", "title", "forge", "post-start", "pr", "issue", "network",
              "lifecycle-in", "trust-source", "service-gator", "limits", "egress")


def label_key(key: str) -> str:
    """``io.devaipod.KEY`` of one of the workspace's labels (an unknown KEY is a bug)."""
    if key not in POD_LABELS:
        raise KeyError(f"no workspace label {key!r}")
    return f"{LABEL}.{key}"


def read_label(labels: Mapping[str, str] | None, key: str) -> str | None:
    """The value of workspace label KEY in LABELS, or None (absent or empty)."""
    return (labels or {}).get(label_key(key)) or None


def write_labels(values: Mapping[str, str | None]) -> dict[str, str]:
    """Labels for the workspace's VALUES (by key); the empty and "unknown" are left out."""
    return {label_key(k): v for k, v in values.items() if v and v != "unknown"}
# the agent and the worker run as this user, which owns their trees: no human's
# user in a devcontainer has it, so git in the workspace refuses their repositories
# ("dubious ownership") instead of running what their config names
AGENT_UID = 2000
AGENT_USER = f"{AGENT_UID}:{AGENT_UID}"
VOLUMES = ("workspace", "agent-home", "agent-workspace")
WORKER_VOLUMES = ("worker-home", "worker-workspace")

_BAD = re.compile(r"[^a-z0-9_.-]+")


def instance() -> str | None:
    return os.environ.get("DEVAIPOD_INSTANCE") or None


def slug(text: str) -> str:
    """A name fragment podman accepts: lower case, [a-z0-9_.-]."""
    return _BAD.sub("-", text.lower()).strip("-.") or "workspace"


def new_pod_name(project: str, name: str | None = None) -> str:
    if name:
        return normalize(name)
    import secrets  # imported here: it costs `devaipod list` a few ms (hashlib, random)

    return f"{PREFIX}{slug(project)[:40]}-{secrets.token_hex(3)}"


def normalize(name: str) -> str:
    """Short or full workspace name -> full pod name."""
    name = name.strip()
    return name if name.startswith(PREFIX) else PREFIX + name


def short(pod: str) -> str:
    return pod.removeprefix(PREFIX)


def container(pod: str, role: str) -> str:
    return f"{pod}-{role}"


def volume(pod: str, kind: str) -> str:
    return f"{pod}-{kind}"


def egress_network(pod: str) -> str:
    """The internal network of an allow-list workspace's pod (``[network] egress``)."""
    return f"{pod}-internal"


def volumes(pod: str, worker: bool = False) -> list[str]:
    kinds = VOLUMES + (WORKER_VOLUMES if worker else ())
    return [volume(pod, k) for k in kinds]


def password_secret(pod: str) -> str:
    return f"{pod}-opencode-password"


def opencode_config_secret(pod: str) -> str:
    """The agent's OpenCode configuration (OPENCODE_CONFIG_CONTENT)."""
    return f"{pod}-opencode-config"


def worker_config_secret(pod: str) -> str:
    """The worker's OpenCode configuration: the agent's, with the worker's gator access."""
    return f"{pod}-worker-opencode-config"


def opencode_connect_secret(pod: str) -> str:
    """The workspace's ``opencode-connect`` program."""
    return f"{pod}-opencode-connect"


def env_secret(pod: str, var: str) -> str:
    """A secret-looking (or trusted) variable's value, as the pod's own podman secret."""
    return f"{pod}-env-{var.lower().replace('_', '-')}"


def git_shadow_secret(pod: str) -> str:
    """The workspace's ``devaipod-git-shadow`` program (the ``agent`` remote's upload-pack)."""
    return f"{pod}-git-shadow"


def api_token_secret(pod: str) -> str:
    return f"{pod}-api-token"


def worker_password_secret(pod: str) -> str:
    """The worker's own OpenCode password (the worker never gets the agent's)."""
    return f"{pod}-worker-opencode-password"


def gator_token_secret(pod: str) -> str:
    """The bearer token of the gator's full endpoint (the agent's)."""
    return f"{pod}-gator-token"


def gator_ro_token_secret(pod: str) -> str:
    """The bearer token of the gator's read-only endpoint (the worker's)."""
    return f"{pod}-gator-ro-token"


def base_labels(pod: str) -> dict[str, str]:
    labels = {MANAGED: "true", POD: pod}
    if name := instance():
        labels[INSTANCE] = name
    return labels


def instance_filter() -> dict[str, str | list[str]]:
    """podman --filter arguments selecting this instance's objects."""
    labels = [f"{MANAGED}=true"]
    if instance():
        labels.append(f"{INSTANCE}={instance()}")
    return {"label": labels}


def in_instance(labels: dict[str, str] | None) -> bool:
    """Objects of another instance are invisible; unset sees only unlabelled ones."""
    return (labels or {}).get(INSTANCE) == instance()
