"""An HTTP client for a pod's API sidecar (and, through it, OpenCode's API).

The sidecar is the pod's only published port. From the host it is reached
on the published address; inside the devaipod container through the host
gateway (``DEVAIPOD_HOST_GATEWAY``, default ``host.containers.internal``).
Its token is kept in devaipod's state directory, or read once from the
sidecar container.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

from devaipod import errors, layout, state
from devaipod.podman import container, secret


class AgentError(errors.DevaipodError):
    pass


def api_containers() -> dict[str, dict]:
    """pod name -> its api container (one podman call for every pod)."""
    found = container.ps({"label": [f"{layout.ROLE}=api", f"{layout.MANAGED}=true"]})
    labels = [(c, c.get("Labels") or {}) for c in found]
    api = {lb.get(layout.POD, ""): c for c, lb in labels
           if lb.get(layout.ROLE) == "api" and layout.in_instance(lb)}
    if any(address(c) is None for c in api.values()):
        # an allow-list workspace's pod publishes nothing: its egress proxy relays the port
        for c in container.ps({"label": [f"{layout.ROLE}=egress", f"{layout.MANAGED}=true"]}):
            pod_name = (c.get("Labels") or {}).get(layout.POD, "")
            if pod_name in api and address(api[pod_name]) is None:
                api[pod_name] = {**api[pod_name], "Ports": c.get("Ports")}
    return api


def address(info: dict) -> tuple[str, int] | None:
    """(host, port) to reach the sidecar of api container ``info`` (from ``podman ps``; on
    kubernetes, from inside the cluster: the workspace's Service, kube.backend.api_infos)."""
    if info.get("Service"):
        return info["Service"], layout.API_PORT
    for port in info.get("Ports") or []:
        if port.get("container_port") == layout.API_PORT and port.get("host_port"):
            host = port.get("host_ip") or "0.0.0.0"
            if state.in_container():
                host = os.environ.get("DEVAIPOD_HOST_GATEWAY", "host.containers.internal")
            elif host in ("0.0.0.0", ""):
                host = "127.0.0.1"
            return host, int(port["host_port"])
    return None


def endpoint(info: dict) -> str | None:
    where = address(info)
    return f"http://{where[0]}:{where[1]}" if where else None


def token(pod: str) -> str:
    cached = state.pod_token(pod)
    if cached:
        return cached
    result = container.exec_capture(layout.container(pod, "api"),
                                    ["cat", f"{secret.ENV_DIR}/DEVAIPOD_API_TOKEN"])
    value = result.stdout.strip()
    state.save_pod_token(pod, value)
    return value


class Client:
    def __init__(self, pod: str, base: str, token_value: str) -> None:
        self.pod, self.base, self.token = pod, base, token_value

    @classmethod
    def for_pod(cls, pod: str, info: dict | None = None) -> Client:
        info = info or api_containers().get(pod)
        base = endpoint(info) if info else None
        if not base:
            raise AgentError(f"workspace '{layout.short(pod)}' has no running api sidecar",
                             "start it with 'devaipod start'")
        return cls(pod, base, token(pod))

    def _open(self, method: str, path: str, body: Any = None, timeout: float | None = 30):
        import urllib.error  # imported here: `devaipod list` asks the sidecars without it
        import urllib.request

        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            return urllib.request.urlopen(req, timeout=timeout)
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:200].strip()
            raise AgentError(f"agent API {method} {path}: HTTP {exc.code} {detail}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise AgentError(f"the pod's API sidecar does not answer at {self.base}: "
                             f"{getattr(exc, 'reason', exc)}") from None

    def call(self, method: str, path: str, body: Any = None, timeout: float = 30) -> Any:
        with self._open(method, path, body, timeout) as resp:
            raw = resp.read()
        return json.loads(raw) if raw.strip() else None

    def get(self, path: str, timeout: float = 30) -> Any:
        return self.call("GET", path, timeout=timeout)

    def post(self, path: str, body: Any = None, timeout: float = 30) -> Any:
        return self.call("POST", path, body if body is not None else {}, timeout)

    def events(self) -> Iterator[dict]:
        """OpenCode's event stream (server-sent events), one dict per event."""
        resp = self._open("GET", "/event", timeout=None)
        with resp:
            for raw in resp:
                line = raw.decode(errors="replace").rstrip("\r\n")
                if line.startswith("data:"):
                    try:
                        yield json.loads(line[5:].strip())
                    except ValueError:
                        continue
