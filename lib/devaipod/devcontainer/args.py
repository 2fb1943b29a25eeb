"""Podman arguments from a parsed devcontainer.json.

``security_args`` applies the runArgs policy: flags devaipod sets itself are
refused, privilege needs the caller's permission, and the nested-container set
replaces the file's security settings when asked for. ``resolve`` substitutes
the spec's ``${...}`` variables; ``command_argv`` and ``describe_command`` turn
lifecycle commands into argv and log lines. Pure: no podman, no filesystem.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import Any

from devaipod.devcontainer.model import (
    CAPABILITY,
    LIFECYCLE,
    DevContainer,
    Invalid,
    Mount,
    NamedCommand,
    check_mount,
    error,
)

NESTED_ARGS = ("--cap-add", "SYS_ADMIN", "--cap-add", "NET_ADMIN",
               "--security-opt", "unmask=/proc/*", "--security-opt", "unmask=/sys/fs/cgroup",
               "--security-opt", "label=disable", "--security-opt", "seccomp=unconfined",
               "--device", "/dev/net/tun")
NESTED_DEVICE = "/dev/net/tun"
PRIVILEGED_HINT = "remove it, or allow privileged containers for this workspace"
# security options that only tighten the sandbox: allowed without permission
SAFE_SECURITY_OPTS = {"no-new-privileges", "no-new-privileges=true", "no-new-privileges:true"}

_ENV, _MOUNTS, _PORTS = 'use "containerEnv"', 'use "mounts"', 'use "forwardPorts"'
# flags devaipod sets itself -> hint (None: just remove it)
MANAGED: dict[str, str | None] = {
    "--name": None, "--pod": None, "--network": None, "--publish": _PORTS,
    "--publish-all": _PORTS, "--volume": _MOUNTS, "--mount": _MOUNTS, "--volumes-from": _MOUNTS,
    "--secret": 'use "secrets"', "--env-file": _ENV, "--init": None, "--tmpfs": _MOUNTS,
    "--rm": None, "--detach": None, "--label": None, "--hostname": None, "--userns": None,
    "--pid": None, "--ipc": None, "--uts": None, "--entrypoint": None, "--pull": None,
    "--user": 'use "containerUser" or "remoteUser"', "--workdir": 'use "workspaceFolder"',
}
ALIASES = {"--net": "--network"}
# podman create's one-letter flags: those that take a value, and the others
SHORT_VALUE = {"a": "--attach", "c": "--cpu-shares", "e": "--env", "h": "--hostname",
               "l": "--label", "m": "--memory", "p": "--publish", "u": "--user",
               "v": "--volume", "w": "--workdir"}
SHORT_BOOL = {"d": "--detach", "i": "--interactive", "t": "--tty", "P": "--publish-all",
              "q": "--quiet"}
BOOLEAN = {"--privileged", "--init", "--rm", "--detach", "--publish-all", "--interactive",
           "--tty", "--read-only", "--read-only-tmpfs", "--env-host", "--no-hosts",
           "--no-healthcheck", "--replace", "--quiet", "--oom-kill-disable", "--http-proxy",
           "--sig-proxy", "--rootfs"}
INTERPRETED = {"--privileged", "--cap-add", "--security-opt"}
_TRUE = {"1", "t", "T", "true", "TRUE", "True"}
_FALSE = {"0", "f", "F", "false", "FALSE", "False"}

# ---------------------------------------------------------------- runArgs


@dataclass(frozen=True)
class Option:
    written: str  # "-p", "--net"
    flag: str  # "--publish", "--network"
    value: str | None


@dataclass(frozen=True)
class Group:
    """runArgs tokens that belong together, and the options they spell."""

    tokens: tuple[str, ...]
    options: tuple[Option, ...]


def split_run_args(args: tuple[str, ...] | list[str], where: str = "runArgs") -> list[Group]:
    """Group runArgs into options; a token that is no option is an error."""
    groups: list[Group] = []
    i = 0
    while i < len(args):
        token, following = args[i], args[i + 1] if i + 1 < len(args) else None
        if token.startswith("--") and len(token) > 2:
            group = _long(token, following)
        elif token.startswith("-") and len(token) > 1 and token[1] != "-":
            group = _short(token, following)
        else:
            raise error(f"{where}: {token!r} is not an option",
                        "runArgs may hold only options of podman create")
        groups.append(group)
        i += len(group.tokens)
    return groups


def _as_value(following: str | None) -> str | None:
    """The next token if it can be a flag's value: it does not start with ``-``."""
    return None if following is None or following.startswith("-") else following


def _long(token: str, following: str | None) -> Group:
    name, eq, value = token.partition("=")
    flag = ALIASES.get(name, name)
    if eq:
        return Group((token,), (Option(name, flag, value),))
    given = None if flag in BOOLEAN else _as_value(following)
    if given is not None:
        return Group((token, given), (Option(name, flag, given),))
    return Group((token,), (Option(name, flag, None),))


def _short(token: str, following: str | None) -> Group:
    """A cluster like ``-it`` or ``-p8080``; a value flag takes the rest, or the next token."""
    options = []
    for k, char in enumerate(token[1:], start=2):
        if char not in SHORT_VALUE:
            options.append(Option("-" + char, SHORT_BOOL.get(char, "-" + char), None))
            continue
        rest = token[k:].removeprefix("=")
        value = rest or _as_value(following)
        options.append(Option("-" + char, SHORT_VALUE[char], value))
        tokens = (token,) if rest or value is None else (token, value)
        return Group(tokens, tuple(options))
    return Group((token,), tuple(options))


def _named(option: Option) -> str:
    return option.written if option.written == option.flag else f"{option.written} ({option.flag})"


def _refuse_managed(groups: list[Group], where: str) -> None:
    for option in (o for g in groups for o in g.options):
        if option.flag in MANAGED:
            raise error(f"{where}: {_named(option)} is set by devaipod",
                        MANAGED[option.flag] or "remove it from runArgs")


def _value(option: Option, where: str) -> str:
    if option.value is None or option.value == "":
        raise error(f"{where}: {option.written} needs a value")
    return option.value


def _enabled(option: Option, where: str) -> bool:
    if option.value is None or option.value in _TRUE:
        return True
    if option.value in _FALSE:
        return False
    raise error(f"{where}: {option.written}={option.value}: expected true or false")


def _capabilities(value: str, where: str) -> list[str]:
    caps = value.split(",")
    bad = next((c for c in caps if not CAPABILITY.fullmatch(c)), None)
    if bad is not None:
        raise error(f"{where}: --cap-add: {bad!r} is not a capability name")
    return caps


# ---------------------------------------------------------------- security


@dataclass
class Requested:
    """The security settings a devcontainer.json asks for."""

    privileged: list[str] = field(default_factory=list)  # where it was asked for
    caps: list[tuple[str, str]] = field(default_factory=list)  # (where, capability)
    security_opts: list[tuple[str, str]] = field(default_factory=list)
    passthrough: list[Group] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.privileged or self.caps or self.security_opts)


def requested(dc: DevContainer) -> Requested:
    """Split ``dc``'s security fields and runArgs; refuses the flags devaipod sets."""
    where = f"{dc.source}: runArgs"
    groups = split_run_args(dc.run_args, where)
    _refuse_managed(groups, where)
    req = Requested(["privileged: true"] if dc.privileged else [],
                    [(f"capAdd[{i}]", c) for i, c in enumerate(dc.cap_add)],
                    [(f"securityOpt[{i}]", s) for i, s in enumerate(dc.security_opt)])
    for group in groups:
        option = group.options[0]
        if option.flag not in INTERPRETED:
            req.passthrough.append(group)
        elif option.flag == "--privileged":
            req.privileged += ["runArgs: --privileged"] if _enabled(option, where) else []
        elif option.flag == "--cap-add":
            req.caps += [("runArgs", c) for c in _capabilities(_value(option, where), where)]
        else:
            req.security_opts.append(("runArgs", _value(option, where)))
    return req


def _needs_permission(req: Requested) -> list[str]:
    """Where ``req`` asks for more than a plain container."""
    caps = [f"{w}: --cap-add {c}" for w, c in req.caps if c.upper() in ("ALL", "CAP_ALL")]
    opts = [f"{w}: --security-opt {s}" for w, s in req.security_opts
            if s not in SAFE_SECURITY_OPTS]
    return [*req.privileged, *caps, *opts]


def _unique(values: Iterator[str], key: Callable[[str], str]) -> list[str]:
    seen: dict[str, str] = {}
    for value in values:
        seen.setdefault(key(value), value)
    return list(seen.values())


def _passthrough(groups: list[Group], skip: str | None = None) -> Iterator[str]:
    for group in groups:
        option = group.options[0]
        if option.flag == "--device" and (option.value or "").split(":")[0] == skip:
            continue
        yield from group.tokens


def security_args(dc: DevContainer, allow_privileged: bool = False, nested: bool = False
                  ) -> tuple[list[str], list[str]]:
    """(podman create arguments, warnings) from privileged, capAdd, securityOpt, runArgs.

    ``nested`` (or ``customizations.devaipod.nestedContainers``) swaps the file's
    security settings for ``NESTED_ARGS``. Otherwise privileged, ``--cap-add ALL``
    and any security option but no-new-privileges need ``allow_privileged``.
    """
    req = requested(dc)
    if nested or dc.nested_containers:
        warnings = [f"{dc.source}: nestedContainers: ignoring privileged, capAdd, securityOpt "
                    "and their runArgs"] if req else []
        return [*NESTED_ARGS, *_passthrough(req.passthrough, NESTED_DEVICE)], warnings
    asked = _needs_permission(req)
    if asked and not allow_privileged:
        raise error(f"{dc.source}: {asked[0]} needs permission to run privileged containers",
                    PRIVILEGED_HINT)
    caps = _unique((c for _, c in req.caps), lambda c: c.upper().removeprefix("CAP_"))
    opts = _unique((s for _, s in req.security_opts), str)
    args = ["--privileged"] if req.privileged else []
    args += [a for c in caps for a in ("--cap-add", c)]
    args += [a for s in opts for a in ("--security-opt", s)]
    return [*args, *_passthrough(req.passthrough)], []


# ---------------------------------------------------------------- commands


def command_argv(entry: NamedCommand) -> list[str]:
    return list(entry.argv)


def describe_command(entry: NamedCommand) -> str:
    """``name: argv`` for logs."""
    return f"{entry.name}: {shlex.join(entry.argv)}"


# ---------------------------------------------------------------- variables

_VAR = re.compile(r"\$\{([A-Za-z]+)(?::([^}]*))?\}")


@dataclass(frozen=True)
class Variables:
    """What ``${...}`` resolves to; ``container_env`` is the image's environment."""

    local_env: Mapping[str, str] = field(default_factory=dict)
    container_env: Mapping[str, str] | None = None
    local_workspace_folder: str = ""
    container_workspace_folder: str = ""
    devcontainer_id: str = ""

    def lookup(self, name: str, arg: str | None, warnings: list[str]) -> str | None:
        """The value of ``${name:arg}``; None leaves it as written."""
        folders = {"localWorkspaceFolder": self.local_workspace_folder,
                   "containerWorkspaceFolder": self.container_workspace_folder}
        if arg is None and name in folders:
            return folders[name]
        if arg is None and name.removesuffix("Basename") in folders:
            return PurePosixPath(folders[name.removesuffix("Basename")]).name
        if arg is None and name == "devcontainerId":
            return self.devcontainer_id
        if arg is not None and name in ("localEnv", "env", "containerEnv"):
            return self._env(name, *arg.partition(":"), warnings)
        return None

    def _env(self, kind: str, var: str, has_default: str, default: str,
             warnings: list[str]) -> str:
        env = self.local_env if kind != "containerEnv" else self.container_env or {}
        if var in env:
            return env[var]
        if kind == "containerEnv" and not has_default:
            warnings.append(f"${{containerEnv:{var}}} is not set in the image; "
                            "using an empty string")
        return default


def substitute(value: str, local_env: Mapping[str, str],
               container_env: Mapping[str, str] | None = None, *,
               local_workspace_folder: str = "", container_workspace_folder: str = "",
               devcontainer_id: str = "", warnings: list[str] | None = None) -> str:
    """Replace the spec's ``${...}`` variables in ``value`` (one pass; others kept)."""
    variables = Variables(local_env, container_env, local_workspace_folder,
                          container_workspace_folder, devcontainer_id)
    return _substitute(value, variables, [] if warnings is None else warnings)


def _substitute(value: str, variables: Variables, warnings: list[str]) -> str:
    def one(match: re.Match[str]) -> str:
        found = variables.lookup(match[1], match[2], warnings)
        return match[0] if found is None else found

    return _VAR.sub(one, value)


def default_workspace_folder(local_workspace_folder: str) -> str:
    return f"/workspaces/{PurePosixPath(local_workspace_folder).name}"


def resolve(dc: DevContainer, local_env: Mapping[str, str],
            container_env: Mapping[str, str] | None = None, *,
            local_workspace_folder: str = "", devcontainer_id: str = "",
            workspace_folder: str | None = None) -> DevContainer:
    """``dc`` with its variables substituted and ``workspace_folder`` always set.

    Call it before :func:`security_args`, which then sees the final runArgs.
    ``workspace_folder`` is used when the file sets none (default
    ``/workspaces/<basename of the local folder>``). Substituted: containerEnv,
    remoteEnv, mounts, runArgs, workspaceFolder, build.args and the lifecycle
    commands. Unresolvable ``${containerEnv:X}`` become "" and add a warning.
    """
    variables = Variables(local_env, container_env, local_workspace_folder, "", devcontainer_id)
    warnings: list[str] = []

    def sub(value: str, where: str) -> str:
        found: list[str] = []
        result = _substitute(value, variables, found)
        warnings.extend(f"{dc.source}: {where}: {text}" for text in found)
        return result

    folder = sub(dc.workspace_folder or workspace_folder
                 or default_workspace_folder(local_workspace_folder), "workspaceFolder")
    variables = replace(variables, container_workspace_folder=folder)
    changes = dict(_resolved(dc, sub))
    return replace(dc, workspace_folder=folder, **changes, warnings=(*dc.warnings, *warnings))


def _resolved(dc: DevContainer, sub: Callable[[str, str], str]) -> Iterator[tuple[str, Any]]:
    for attr, key in (("container_env", "containerEnv"), ("remote_env", "remoteEnv")):
        env = getattr(dc, attr)
        yield attr, {k: None if v is None else sub(v, f"{key}.{k}") for k, v in env.items()}
    yield "run_args", tuple(sub(arg, "runArgs") for arg in dc.run_args)
    yield "mounts", tuple(_resolved_mount(m, i, sub, dc.source) for i, m in enumerate(dc.mounts))
    if dc.build:
        args = {k: sub(v, f"build.args.{k}") for k, v in dc.build.args.items()}
        yield "build", replace(dc.build, args=args)
    for key, attr in LIFECYCLE.items():
        life = getattr(dc, attr)
        commands = tuple(replace(c, argv=tuple(sub(a, key) for a in c.argv))
                         for c in life.commands)
        yield attr, replace(life, commands=commands)


def _resolved_mount(mount: Mount, index: int, sub: Callable[[str, str], str],
                    source: str) -> Mount:
    where = f"mounts[{index}]"
    new = Mount(mount.type, sub(mount.target, where),
                None if mount.source is None else sub(mount.source, where),
                tuple(sub(opt, where) for opt in mount.options))
    try:
        return check_mount(new, where)
    except Invalid as exc:
        raise error(f"{source}: {exc.path}: after substitution, {exc.reason}") from None
