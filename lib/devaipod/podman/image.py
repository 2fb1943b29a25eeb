"""podman image: argv builders and thin wrappers, and what a failed pull means."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from devaipod import errors, podman, runner


def exists_argv(ref: str) -> list[str]:
    return ["image", "exists", ref]


def inspect_argv(ref: str) -> list[str]:
    return ["image", "inspect", ref]


def build_argv(
    tag: str,
    context: str,
    containerfile: str | None = None,
    build_args: dict[str, str] | None = None,
    target: str | None = None,
    labels: dict[str, str] | None = None,
    pull: str = "never",
) -> list[str]:
    """``pull``: the policy for the images the build starts FROM."""
    args = ["build", f"--pull={pull}", "--tag", tag]
    if containerfile:
        args += ["--file", containerfile]
    for key, value in (build_args or {}).items():
        args += ["--build-arg", f"{key}={value}"]
    if target:
        args += ["--target", target]
    args += podman.label_args(labels or {})
    return [*args, context]


def pull_argv(ref: str) -> list[str]:
    return ["pull", ref]


def tag_argv(ref: str, new: str) -> list[str]:
    return ["tag", ref, new]


def rm_argv(refs: list[str], force: bool = False) -> list[str]:
    return ["image", "rm", *(["--force"] if force else []), *refs]


def exists(ref: str, dry_assume: bool | None = None) -> bool:
    return podman.exists(exists_argv(ref), dry_assume)


def inspect(ref: str) -> dict[str, Any]:
    data = podman.json(inspect_argv(ref))
    return data[0] if isinstance(data, list) else data


def labels(ref: str) -> dict[str, str]:
    """The image's labels; under --dry-run, of an image the plan would build: none."""
    out = podman.capture(inspect_argv(ref), planned="[{}]").stdout
    data = json.loads(out or "[{}]")
    first = data[0] if isinstance(data, list) and data else {}
    return ((first.get("Config") or {}).get("Labels") or {}) if isinstance(first, dict) else {}


def rm(refs: list[str], force: bool = False) -> None:
    podman.change(rm_argv(refs, force))


def pullable(ref: str) -> bool:
    """Whether REF names a registry podman can pull from (``localhost/`` names images built
    on this machine: there is no registry to ask)."""
    return not ref.startswith("localhost/")


def registry(ref: str) -> str:
    """The registry a reference names (its first part when that is a host), else the
    default registry (docker.io), as podman resolves a short name without search
    registries."""
    first, slash, _rest = ref.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


_NEEDS_LOGIN = re.compile(r"unauthorized|authentication required|denied: requested access"
                          r"|no basic auth credentials|invalid username/password", re.I)
_MISSING = re.compile(r"manifest unknown|name unknown|not found|repository does not exist",
                      re.I)
_UNREACHABLE = re.compile(
    r"no such host|connection refused|i/o timeout|timeout exceeded|network is unreachable"
    r"|no route to host|x509:.*|tls:.*|certificate.*|server gave HTTP response to HTTPS client"
    r"|connection reset by peer", re.I)


def pull_problem(ref: str, stderr: str) -> errors.DevaipodError | None:
    """The one line a pull of REF that failed for a known reason is said as (podman's
    STDERR): a login needed, an image not there, a registry not reached."""
    reg = registry(ref)
    if _NEEDS_LOGIN.search(stderr):
        return errors.DevaipodError(f"pulling {ref}: registry {reg} needs a login",
                                    f"run 'podman login {reg}'")
    if unreachable := _UNREACHABLE.search(stderr):
        return errors.DevaipodError(
            f"cannot reach registry {reg} to pull {ref}: {unreachable.group(0)[:200]}",
            "check the network, the registry's name, or its certificate "
            "(/etc/containers/certs.d)")
    if _MISSING.search(stderr):
        return errors.DevaipodError(f"image {ref} not found in registry {reg}",
                                    "check the image's name and tag")
    return None


def pull_error(ref: str, stderr: str) -> errors.DevaipodError:
    """The one line a failed pull of REF is said as, from podman's STDERR."""
    return pull_problem(ref, stderr) or errors.DevaipodError(
        f"pulling {ref} failed: {errors.last_line(stderr)}")


def pull(ref: str, on_line: Callable[[str], None]) -> None:
    """``podman pull REF``, each line of its progress passed to ON_LINE as it comes; a
    failure is one line (see ``pull_error``). Credentials are podman's own: the client
    sends its auth file (``podman login``, ``REGISTRY_AUTH_FILE``) to the service."""
    said: list[str] = []

    def line(text: str) -> None:
        said.append(text)
        if not text.startswith("Error: "):  # said once, as the error below
            on_line(text)

    result = runner.watch(podman.argv(pull_argv(ref)), line, lines="stderr", mutating=True)
    if not result.ok:
        stderr = "\n".join(said)
        if isinstance(errors.classify(result.argv, result.returncode, stderr),
                      errors.PodmanUnreachable):
            raise errors.classify(result.argv, result.returncode, stderr)
        raise pull_error(ref, stderr)


_SOURCE = re.compile(r"(?:docker|docker-daemon)://(?P<ref>\S+?):\s")


def build_pull_error(output: str) -> errors.DevaipodError | None:
    """What a failed build said, when it failed pulling an image it starts FROM."""
    errors_said = [ln for ln in output.splitlines() if ln.startswith("Error: ")]
    match = _SOURCE.search(errors_said[-1]) if errors_said else None
    return pull_problem(match.group("ref"), errors_said[-1]) if match else None
