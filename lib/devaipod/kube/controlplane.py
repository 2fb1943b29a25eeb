"""The control plane in a cluster: ``devaipod web`` as a Deployment, allowed to manage
the workspaces of its own namespace and nothing else.

``objects(namespace, image)`` returns the ServiceAccount, a Role limited to what the
kubernetes backend does in that namespace (kube/backend.py: apply, wait, exec, logs,
delete by label; read the pods' API tokens), its RoleBinding, the Deployment and a Service
for port 8080. ``devaipod kube generate --control-plane`` prints them. The login token is
a Secret the operator makes (``kubectl create secret generic devaipod-web-token
--from-file=token=...``): never a literal in these objects.
"""

from __future__ import annotations

from typing import Any

from devaipod import layout

NAME = "devaipod"
TOKEN_SECRET = "devaipod-web-token"  # key "token": the login token (`devaipod web`)
TOKEN_KEY = "token"
PORT = 8080
STATE_DIR = "/var/lib/devaipod"

# what the backend's kubectl calls need, per resource: `apply` reads, creates and patches
# (get, create, patch); `wait` watches; `list` lists; `delete -l` lists and deletes
MANAGE = ["get", "list", "watch", "create", "patch", "delete"]
RULES: list[dict[str, Any]] = [
    {"apiGroups": [""], "resources": ["pods"], "verbs": MANAGE},
    {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create", "get"]},
    {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
    {"apiGroups": [""], "resources": ["secrets", "persistentvolumeclaims", "services"],
     "verbs": MANAGE},
    {"apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies"], "verbs": MANAGE},
]


def labels(name: str = NAME) -> dict[str, str]:
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/component": "control-plane"}


def _meta(name: str, namespace: str) -> dict[str, Any]:
    return {"name": name, "namespace": namespace, "labels": labels()}


def service_account(namespace: str, name: str = NAME) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(name, namespace)}


def role(namespace: str, name: str = NAME) -> dict[str, Any]:
    """A Role (namespaced, never a ClusterRole): the workspaces of NAMESPACE only."""
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": _meta(name, namespace), "rules": RULES}


def role_binding(namespace: str, name: str = NAME) -> dict[str, Any]:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": _meta(name, namespace),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}]}


def container(image: str) -> dict[str, Any]:
    return {
        "name": "web", "image": image,
        "command": ["devaipod", "web", "--host", "0.0.0.0", "--port", str(PORT)],
        # the backend: the workspaces are this namespace's pods (kube.backend)
        "env": [{"name": "DEVAIPOD_BACKEND", "value": "kubernetes"},
                {"name": "DEVAIPOD_STATE_DIR", "value": STATE_DIR}],
        "ports": [{"name": "http", "containerPort": PORT}],
        "readinessProbe": {"tcpSocket": {"port": PORT}, "periodSeconds": 10},
        "volumeMounts": [{"name": "web-token", "mountPath": "/run/secrets", "readOnly": True},
                         {"name": "state", "mountPath": STATE_DIR}],
        "securityContext": {"allowPrivilegeEscalation": False,
                            "capabilities": {"drop": ["ALL"]}},
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
    }


def deployment(namespace: str, image: str, name: str = NAME,
               token_secret: str = TOKEN_SECRET) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta(name, namespace),
        "spec": {
            "replicas": 1,  # one: its state dir (the pods' tokens, jobs) is its own
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": labels(name)},
            "template": {
                "metadata": {"labels": labels(name)},
                "spec": {
                    "serviceAccountName": name,
                    "securityContext": {"runAsNonRoot": True, "runAsUser": layout.AGENT_UID,
                                        "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [container(image)],
                    # the login token: `devaipod web` reads /run/secrets/devaipod-web-token
                    "volumes": [
                        {"name": "web-token", "secret": {
                            "secretName": token_secret, "defaultMode": 0o400,
                            "items": [{"key": TOKEN_KEY, "path": TOKEN_SECRET}]}},
                        {"name": "state", "emptyDir": {}}],
                },
            },
        },
    }


def service(namespace: str, name: str = NAME) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": _meta(name, namespace),
            "spec": {"selector": labels(name),
                     "ports": [{"name": "http", "port": PORT, "targetPort": PORT}]}}


def objects(namespace: str, image: str, *, name: str = NAME,
            token_secret: str = TOKEN_SECRET) -> list[dict[str, Any]]:
    """The control plane of NAMESPACE's workspaces, running IMAGE (it needs kubectl)."""
    return [service_account(namespace, name), role(namespace, name),
            role_binding(namespace, name), deployment(namespace, image, name, token_secret),
            service(namespace, name)]
