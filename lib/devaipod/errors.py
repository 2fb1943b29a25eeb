"""The error types devaipod raises.

Library code raises; only the CLI layer turns an error into an exit code.
Every error renders as one line: what failed, why, and what to do.
"""

from __future__ import annotations

import re
import shlex

import click


class DevaipodError(click.ClickException):
    """A failure the user can act on. ``hint`` says what to do."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def format_message(self) -> str:
        from devaipod.printable import printable

        # messages may quote the agent (its OpenCode's answers, its container's output)
        return printable(f"{self.message}; {self.hint}" if self.hint else self.message)


class CommandError(DevaipodError):
    """An external command (podman, git, tmux) exited non-zero."""

    def __init__(
        self,
        argv: list[str],
        returncode: int,
        stderr: str,
        hint: str | None = None,
    ) -> None:
        self.argv = list(argv)
        self.returncode = returncode
        self.stderr = stderr
        super().__init__(
            f"{describe(argv)} failed (exit {returncode}): {last_line(stderr)}", hint
        )
        # the child's code, per error: click declares exit_code a ClassVar (one per class)
        self.exit_code = returncode if 0 < returncode < 256 else 1  # type: ignore[misc]

    @property
    def command_line(self) -> str:
        return shlex.join(self.argv)


class NotFound(CommandError):
    """podman said: no such pod / container / volume / secret / network / image."""


class AlreadyExists(CommandError):
    """podman said: the name is already in use."""


class PodmanUnreachable(CommandError):
    """Nothing answers on the podman socket."""

    def format_message(self) -> str:
        return f"cannot reach podman: {self.hint}" if self.hint else super().format_message()


class ClusterUnreachable(CommandError):
    """kubectl cannot reach the Kubernetes cluster (or has no cluster configured)."""

    def format_message(self) -> str:
        from devaipod.printable import printable

        return printable(f"cannot reach the Kubernetes cluster: {last_line(self.stderr)}; "
                         f"{self.hint}")


class ExecutableNotFound(DevaipodError):
    """The program to run is not installed."""

    exit_code = 127


def describe(argv: list[str]) -> str:
    """A short name for a command: ``podman pod create``, ``git clone``."""
    if not argv:
        return "command"
    prog = argv[0].rsplit("/", 1)[-1]
    words = _words(argv[1:])
    if prog != "podman":
        return " ".join([prog, *words[:1]])
    verbs = words[:2] if words and words[0] in NOUNS else words[:1]
    return " ".join(["podman", *verbs])


# global options that take a value: podman --url, git -C/-c, tmux -L/-S/-f,
# kubectl --context/--namespace
_VALUE_OPTIONS = {"--url", "--connection", "--identity", "-C", "-c", "-L", "-S", "-f",
                  "--context", "--namespace"}


def _words(args: list[str]) -> list[str]:
    """The non-option words of args, without the values of global options."""
    words: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in _VALUE_OPTIONS:
            skip = True
        elif not arg.startswith("-"):
            words.append(arg)
    return words


NOUNS = {
    "pod", "container", "volume", "secret", "image", "network", "system", "machine",
}

_NOT_FOUND = re.compile(
    r"no such (pod|container|volume|secret|network|image|object)|image not known"
    r"|no pod with name or id|no container with name or id|not found in local storage"
    r"|network not found",
    re.IGNORECASE,
)
_EXISTS = re.compile(r"already exists|already in use|name (is )?in use", re.IGNORECASE)
_UNREACHABLE = re.compile(r"unable to connect to Podman|Cannot connect to Podman", re.IGNORECASE)
_CDI = re.compile(r"CDI device", re.IGNORECASE)
_KUBE_NOT_FOUND = re.compile(r"\(NotFound\)")
_KUBE_EXISTS = re.compile(r"\(AlreadyExists\)")
_KUBE_UNREACHABLE = re.compile(
    r"Unable to connect to the server|connection refused"
    r"|The connection to the server .* was refused|no configuration has been provided"
    r"|current-context is not set|context was not found|dial tcp|i/o timeout"
    r"|the server has asked for the client to provide credentials", re.IGNORECASE)
KUBE_HINT = ("check 'kubectl cluster-info' (the kubeconfig, or [kubernetes] context), or use "
             "--backend podman")
CDI_HINT = ("the host has no CDI spec for its GPUs: generate one with "
            "'nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml', or set [gpu] enabled = false")


def last_line(stderr: str) -> str:
    """The most useful line of a command's stderr (podman puts the error last)."""
    lines = [ln.strip() for ln in stderr.strip().splitlines() if ln.strip()]
    if not lines:
        return "no error message"
    line = lines[-1]
    return line.removeprefix("Error: ").removeprefix("error: ")


def classify(argv: list[str], returncode: int, stderr: str) -> CommandError:
    """Map a failed command to the most specific error type."""
    prog = argv[0].rsplit("/", 1)[-1] if argv else ""
    if prog == "podman":
        if _UNREACHABLE.search(stderr):
            return PodmanUnreachable(argv, returncode, stderr, hint=unreachable_hint(argv))
        if _NOT_FOUND.search(stderr):
            return NotFound(argv, returncode, stderr)
        if _EXISTS.search(stderr):
            return AlreadyExists(argv, returncode, stderr)
        if _CDI.search(stderr):
            return CommandError(argv, returncode, stderr, hint=CDI_HINT)
    if prog == "kubectl":
        return classify_kubectl(argv, returncode, stderr)
    return CommandError(argv, returncode, stderr)


def classify_kubectl(argv: list[str], returncode: int, stderr: str) -> CommandError:
    if _KUBE_UNREACHABLE.search(stderr):
        return ClusterUnreachable(argv, returncode, stderr, hint=KUBE_HINT)
    if _KUBE_NOT_FOUND.search(stderr):
        return NotFound(argv, returncode, stderr)
    if _KUBE_EXISTS.search(stderr):
        return AlreadyExists(argv, returncode, stderr)
    return CommandError(argv, returncode, stderr)


def unreachable_hint(argv: list[str]) -> str:
    url = ""
    if "--url" in argv:
        url = argv[argv.index("--url") + 1]
    return (
        f"nothing answers at {url or 'the podman socket'}: start the service with "
        "'systemctl --user enable --now podman.socket' (or as root "
        "'systemctl enable --now podman.socket'), or run "
        "'podman system service --time=0 &', or pass --url"
    )
