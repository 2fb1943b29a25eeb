"""podman secret: argv builders and thin wrappers.

A secret's value only ever travels on stdin (``podman secret create NAME -``),
never on a command line.
"""

from __future__ import annotations

from typing import Any

from devaipod import errors, podman


def create_argv(name: str, labels: dict[str, str] | None = None) -> list[str]:
    return ["secret", "create", *podman.label_args(labels or {}), name, "-"]


def inspect_argv(names: list[str]) -> list[str]:
    return ["secret", "inspect", *names]


def ls_argv() -> list[str]:
    # podman 4.3 prints the word "json" for `--format json` and ignores label
    # filters, so list IDs and inspect them.
    return ["secret", "ls", "--quiet"]


def rm_argv(names: list[str]) -> list[str]:
    return ["secret", "rm", *names]


ENV_DIR = "/run/devaipod-env"
BIN_DIR = "/run/devaipod-bin"


def env_flag(name: str, target: str) -> list[str]:
    """``podman create`` flags that deliver secret NAME for env var TARGET.

    Not ``type=env``: podman 4.3 shows such values in ``podman inspect`` once
    the container runs. The secret is mounted as ``ENV_DIR/TARGET`` and
    ``with_env()`` exports it when the container's command starts.
    """
    return ["--secret", f"{name},type=mount,target={ENV_DIR}/{target}"]


def program_flag(name: str, program: str) -> list[str]:
    """Mount secret NAME as the read-only executable BIN_DIR/PROGRAM.

    A secret, not a file in a volume: the agent cannot change what the
    human's trusted workspace runs.
    """
    return ["--secret", f"{name},type=mount,target={BIN_DIR}/{program},mode=0555"]


# exports every file of ENV_DIR as a variable, then runs the real command
LOAD_ENV = (
    f'for f in {ENV_DIR}/*; do [ -f "$f" ] && export "${{f##*/}}=$(cat "$f")"; done; '
    f'[ -d {BIN_DIR} ] && PATH="{BIN_DIR}:$PATH"; '
    'exec "$@"'
)


def with_env(command: list[str]) -> list[str]:
    """``command`` run with the secrets of ``env_flag`` in its environment."""
    return ["sh", "-c", LOAD_ENV, "sh", *command]


def file_flag(name: str) -> list[str]:
    """``podman create`` flags that mount secret NAME at /run/secrets/NAME."""
    return ["--secret", name]


READ_AT = "/run/devaipod-secret"


def read_argv(name: str, image: str) -> list[str]:
    """A throwaway container that prints secret NAME (podman 4.3 has no --showsecret):
    the value comes back on stdout only, never on a command line."""
    return ["run", "--rm", "--pull=never", "--network", "none", "--entrypoint", "",
            "--secret", f"{name},type=mount,target={READ_AT}", image, "cat", READ_AT]


def read(name: str, image: str) -> str:
    """The value of secret NAME (trailing newlines stripped), read with IMAGE's `cat`."""
    return podman.capture(read_argv(name, image), timeout=120).stdout.rstrip("\n")


def create(name: str, value: str, labels: dict[str, str] | None = None) -> None:
    podman.change(create_argv(name, labels), input=value)


def exists(name: str) -> bool:
    # podman 4.3 has no `secret exists`; `secret inspect` says "no such secret"
    result = podman.capture(inspect_argv([name]), check=False)
    if result.ok:
        return True
    error = errors.classify(result.argv, result.returncode, result.stderr)
    if isinstance(error, errors.NotFound):
        return False
    raise error


def ls() -> list[dict[str, Any]]:
    """Every secret, as `podman secret inspect` shows it (two podman calls; one removed
    between them is not in the list)."""
    ids = podman.capture(ls_argv()).stdout.split()
    return podman.json_present(inspect_argv(ids)) if ids else []


def labels_of(info: dict[str, Any]) -> dict[str, str]:
    return (info.get("Spec") or {}).get("Labels") or {}


def name_of(info: dict[str, Any]) -> str:
    return (info.get("Spec") or {}).get("Name", "")


def inspect(names: list[str]) -> list[dict[str, Any]]:
    return podman.json(inspect_argv(names)) or []


def rm(names: list[str]) -> None:
    if names:
        podman.change(rm_argv(names))
