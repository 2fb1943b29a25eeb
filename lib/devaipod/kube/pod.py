"""kubectl on pods: argv builders (the arguments after ``kubectl.base``) and wrappers."""

from __future__ import annotations

from typing import Any

from devaipod.kube import kubectl
from devaipod.kube.kubectl import Cluster


def list_argv(selector: str) -> list[str]:
    """Every pod with the labels of SELECTOR, as one JSON list (``devaipod list``)."""
    return ["get", "pods", "-l", selector, "-o", "json"]


def get_argv(name: str) -> list[str]:
    return ["get", "pod", name, "-o", "json"]


def wait_argv(name: str, timeout: int = 300) -> list[str]:
    """Until pod NAME is Ready (each container started and its probe passing)."""
    return ["wait", "--for=condition=Ready", f"pod/{name}", f"--timeout={timeout}s"]


def exec_argv(name: str, container: str, command: list[str], interactive: bool = False,
              tty: bool = False) -> list[str]:
    args = ["exec"]
    if interactive:
        args.append("--stdin")
    if tty:
        args.append("--tty")
    return [*args, name, "--container", container, "--", *command]


def logs_argv(name: str, container: str, follow: bool = False,
              tail: int | None = None) -> list[str]:
    args = ["logs", name, "--container", container]
    if follow:
        args.append("--follow")
    if tail is not None:
        args.append(f"--tail={tail}")
    return args


def ls(cluster: Cluster, selector: str) -> list[dict[str, Any]]:
    return (kubectl.json(cluster, list_argv(selector)) or {}).get("items") or []


def get(cluster: Cluster, name: str) -> dict[str, Any]:
    return kubectl.json(cluster, get_argv(name)) or {}


def wait_ready(cluster: Cluster, name: str, timeout: int = 300) -> None:
    kubectl.change(cluster, wait_argv(name, timeout), timeout=timeout + 30)
