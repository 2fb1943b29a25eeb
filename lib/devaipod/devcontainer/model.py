"""devcontainer.json: find it and parse it into a :class:`DevContainer`.

Pure: no podman and no subprocess; the filesystem is read only by :func:`find`
and :func:`load`, which are given a path. The file is JSON with comments and
trailing commas (parsed with json5). Known fields are listed in ``FIELDS``
with a converter each; unknown fields are ignored. Every error is one
:class:`DevaipodError` naming the file and the field. The runArgs policy lives
in :mod:`devaipod.devcontainer.args`, with variable substitution
and the lifecycle commands' argv.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import json5

from devaipod.errors import DevaipodError

FILENAME = "devcontainer.json"
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
CAPABILITY = re.compile(r"[A-Za-z_]+")
# the lifecycle commands in the order they run (postAttachCommand: parsed, never run)
LIFECYCLE = {"onCreateCommand": "on_create_command",
             "updateContentCommand": "update_content_command",
             "postCreateCommand": "post_create_command",
             "postStartCommand": "post_start_command",
             "postAttachCommand": "post_attach_command"}

# ---------------------------------------------------------------- the model


@dataclass(frozen=True)
class Build:
    """``build``: paths are relative to the folder holding devcontainer.json."""

    dockerfile: str = "Dockerfile"
    context: str = "."
    args: dict[str, str] = field(default_factory=dict)
    target: str | None = None


@dataclass(frozen=True)
class Mount:
    """One ``mounts`` entry; ``spec`` is the value of podman ``--mount``."""

    type: str
    target: str
    source: str | None = None
    options: tuple[str, ...] = ()

    @property
    def spec(self) -> str:
        source = [f"source={self.source}"] if self.source else []
        return ",".join([f"type={self.type}", *source, f"target={self.target}", *self.options])


@dataclass(frozen=True)
class Port:
    """One ``forwardPorts`` entry; ``host`` None means a random host port."""

    container: int
    host: int | None = None

    def spec(self, address: str = "0.0.0.0") -> str:
        return f"{address}:{self.host or ''}:{self.container}"


@dataclass(frozen=True)
class NamedCommand:
    name: str
    argv: tuple[str, ...]


@dataclass(frozen=True)
class Lifecycle:
    """A lifecycle command; the object form's entries run in parallel."""

    commands: tuple[NamedCommand, ...] = ()
    parallel: bool = False


@dataclass(frozen=True)
class Secret:
    description: str | None = None
    documentation_url: str | None = None


@dataclass(frozen=True)
class DevContainer:
    """The fields devaipod uses; ``warnings`` lists what it ignores or could not resolve."""

    source: str = FILENAME
    name: str | None = None
    image: str | None = None
    build: Build | None = None
    container_env: dict[str, str | None] = field(default_factory=dict)
    remote_env: dict[str, str | None] = field(default_factory=dict)
    run_args: tuple[str, ...] = ()
    cap_add: tuple[str, ...] = ()
    security_opt: tuple[str, ...] = ()
    privileged: bool = False
    mounts: tuple[Mount, ...] = ()
    forward_ports: tuple[Port, ...] = ()
    workspace_folder: str | None = None
    container_user: str | None = None
    remote_user: str | None = None
    on_create_command: Lifecycle = Lifecycle()
    update_content_command: Lifecycle = Lifecycle()
    post_create_command: Lifecycle = Lifecycle()
    post_start_command: Lifecycle = Lifecycle()
    post_attach_command: Lifecycle = Lifecycle()
    secrets: dict[str, Secret] = field(default_factory=dict)
    env_allowlist: tuple[str, ...] = ()
    nested_containers: bool = False
    features: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @property
    def user(self) -> str | None:
        """The effective user: ``remoteUser``, else ``containerUser``."""
        return self.remote_user or self.container_user

    def lifecycle(self, key: str) -> Lifecycle:
        """The lifecycle command ``key``, e.g. ``"postCreateCommand"``."""
        return getattr(self, LIFECYCLE[key])

    def publish_specs(self, address: str = "0.0.0.0") -> list[str]:
        return [port.spec(address) for port in self.forward_ports]

    def mount_specs(self) -> list[str]:
        return [mount.spec for mount in self.mounts]


# ---------------------------------------------------------------- errors


class Invalid(Exception):
    """A value does not fit the field at ``path``."""

    def __init__(self, path: str, reason: str, hint: str | None = None) -> None:
        super().__init__(reason)
        self.path, self.reason, self.hint = path, reason, hint


def fail(path: str, reason: str, hint: str | None = None) -> NoReturn:
    raise Invalid(path, reason, hint)


def error(message: str, hint: str | None = None) -> DevaipodError:
    return DevaipodError(one_line(message), hint and one_line(hint))


def one_line(text: str) -> str:
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def shown(value: Any) -> str:
    """A short description of a JSON value for an error message."""
    if value is None or isinstance(value, bool):
        return json5.dumps(value)
    if isinstance(value, str):
        text = repr(value)
        return "string " + (text if len(text) <= 40 else text[:36] + "...'")
    if isinstance(value, int):
        return f"number {value}" if abs(value) < 10**18 else "a large number"
    kinds = [(float, f"number {value!r}"), (list, "an array"), (dict, "an object")]
    return next((name for cls, name in kinds if isinstance(value, cls)), "a value")


def expect(path: str, name: str, value: Any, fits: bool) -> None:
    if not fits:
        fail(path, f"expected {name}, got {shown(value)}")


# ---------------------------------------------------------------- converters
# Each takes (value, path) and returns the converted value or raises Invalid.

Convert = Callable[[Any, str], Any]


def _str(value: Any, path: str) -> str:
    expect(path, "a string", value, isinstance(value, str))
    if "\0" in value:
        fail(path, "contains a NUL character")
    return value


def _bool(value: Any, path: str) -> bool:
    expect(path, "true or false", value, isinstance(value, bool))
    return value


def _nonempty(value: Any, path: str) -> str:
    expect(path, "a non-empty string", value, isinstance(value, str) and value != "")
    return _str(value, path)


def _env_name(value: Any, path: str) -> str:
    expect(path, "an environment variable name", value,
           isinstance(value, str) and bool(ENV_NAME.fullmatch(value)))
    return value


def _capability(value: Any, path: str) -> str:
    expect(path, "a capability name like SYS_PTRACE", value,
           isinstance(value, str) and bool(CAPABILITY.fullmatch(value)))
    return value


def _list_of(item: Convert) -> Convert:
    def convert(value: Any, path: str) -> tuple[Any, ...]:
        expect(path, "an array", value, isinstance(value, list))
        return tuple(item(v, f"{path}[{i}]") for i, v in enumerate(value))

    return convert


def _map_of(key: Convert, item: Convert) -> Convert:
    def convert(value: Any, path: str) -> dict[str, Any]:
        expect(path, "an object", value, isinstance(value, dict))
        return {key(k, f"{path}.{k}"): item(v, f"{path}.{k}") for k, v in value.items()}

    return convert


def _or_null(item: Convert) -> Convert:
    return lambda value, path: None if value is None else item(value, path)


def _object(value: Any, path: str) -> dict[str, Any]:
    expect(path, "an object", value, isinstance(value, dict))
    return value


_STRINGS = _list_of(_str)
_ENV_MAP = _map_of(_env_name, _or_null(_str))
_STR_MAP = _map_of(_str, _str)


def _build(value: Any, path: str) -> Build:
    obj = _object(value, path)
    table = {"dockerfile": ("dockerfile", _nonempty), "context": ("context", _nonempty),
             "args": ("args", _STR_MAP), "target": ("target", _str)}
    return Build(**_fields(obj, path, table))


def _fields(obj: dict[str, Any], path: str, table: Mapping[str, tuple[str, Convert]]
            ) -> dict[str, Any]:
    """Convert the keys of ``obj`` that ``table`` knows (key -> (attr, convert))."""
    return {attr: convert(obj[key], f"{path}.{key}")
            for key, (attr, convert) in table.items() if obj.get(key) is not None}


MOUNT_TYPES = ("bind", "volume", "tmpfs")
_MOUNT_KEYS = {"type": "type", "source": "source", "src": "source", "target": "target",
               "destination": "target", "dst": "target"}
_MOUNT_DROPPED = {"consistency"}  # Docker Desktop only; podman refuses it


def _mount(value: Any, path: str) -> Mount:
    if isinstance(value, str):
        parts = _mount_string(_str(value, path))
    else:
        obj = _object(value, path)
        parts = _fields(obj, path, {k: (k, _str) for k in ("type", "source", "target")})
    return check_mount(Mount(**{"type": None, "target": "", **parts}), path)


def _mount_string(text: str) -> dict[str, Any]:
    parts: dict[str, Any] = {"type": "volume", "options": []}
    for item in text.split(","):
        key, eq, val = item.partition("=")
        if key.strip() in _MOUNT_KEYS and eq:
            parts[_MOUNT_KEYS[key.strip()]] = val
        elif key.strip() not in _MOUNT_DROPPED and item.strip():
            parts["options"].append(item)
    parts["options"] = tuple(parts["options"])
    return parts


def check_mount(mount: Mount, path: str) -> Mount:
    if mount.type not in MOUNT_TYPES:
        fail(path, f"expected type bind, volume or tmpfs, got {shown(mount.type)}")
    if not mount.target:
        fail(path, "has no target")
    if mount.type == "bind" and not mount.source:
        fail(path, "a bind mount needs a source")
    for part in (mount.source or "", mount.target, *mount.options):
        if "," in part or "\n" in part:
            fail(path, f"{shown(part)} contains a comma or newline")
    return mount


_PORT = re.compile(r"([0-9]{1,5})(?::([0-9]{1,5}))?")


def _port(value: Any, path: str) -> Port:
    if isinstance(value, int) and not isinstance(value, bool):
        numbers = [value]
    elif isinstance(value, str) and (match := _PORT.fullmatch(value)):
        numbers = [int(n) for n in match.groups() if n is not None]
    else:
        numbers = [0]
    if not all(0 < n < 65536 for n in numbers):
        fail(path, f'expected a port 1-65535 or "HOST:CONTAINER", got {shown(value)}',
             hint="ports of other hosts (compose services) are not supported")
    return Port(numbers[-1], numbers[0] if len(numbers) == 2 else None)


def _argv(value: Any, path: str) -> tuple[str, ...]:
    """A lifecycle command in string or array form; empty means no command."""
    if isinstance(value, str):
        return ("/bin/sh", "-c", _str(value, path)) if value.strip() else ()
    expect(path, "a string or an array of strings", value, isinstance(value, list))
    return _STRINGS(value, path)


def _lifecycle(name: str) -> Convert:
    def convert(value: Any, path: str) -> Lifecycle:
        if not isinstance(value, dict):
            argv = _argv(value, path)
            return Lifecycle((NamedCommand(name, argv),) if argv else ())
        named = ((key, _argv(v, f"{path}.{key}")) for key, v in value.items() if v is not None)
        return Lifecycle(tuple(NamedCommand(k, argv) for k, argv in named if argv), True)

    return convert


def _feature_options(value: Any, path: str) -> Any:
    """A feature's options: an object, or the short forms (a version string, true)."""
    expect(path, "an object, a string or a boolean", value,
           isinstance(value, (dict, str, bool)))
    return value


def _secret(value: Any, path: str) -> Secret:
    table = {"description": ("description", _str),
             "documentationUrl": ("documentation_url", _str)}
    return Secret(**_fields(_object(value, path), path, table))


# ---------------------------------------------------------------- the field table

# (JSON path, attribute, converter); the parents of a nested path must be objects
FIELDS: tuple[tuple[tuple[str, ...], str, Convert], ...] = (
    (("name",), "name", _str),
    (("image",), "image", _nonempty),
    (("build",), "build", _build),
    (("containerEnv",), "container_env", _ENV_MAP),
    (("remoteEnv",), "remote_env", _ENV_MAP),
    (("runArgs",), "run_args", _STRINGS),
    (("capAdd",), "cap_add", _list_of(_capability)),
    (("securityOpt",), "security_opt", _list_of(_nonempty)),
    (("privileged",), "privileged", _bool),
    (("mounts",), "mounts", _list_of(_mount)),
    (("forwardPorts",), "forward_ports", _list_of(_port)),
    (("workspaceFolder",), "workspace_folder", _nonempty),
    (("containerUser",), "container_user", _nonempty),
    (("remoteUser",), "remote_user", _nonempty),
    *(((key,), attr, _lifecycle(key)) for key, attr in LIFECYCLE.items()),
    (("secrets",), "secrets", _map_of(_env_name, _secret)),
    (("customizations", "devaipod", "envAllowlist"), "env_allowlist", _list_of(_env_name)),
    (("customizations", "devaipod", "nestedContainers"), "nested_containers", _bool),
    (("features",), "features", _map_of(_nonempty, _feature_options)),
)

REFUSED = {"dockerComposeFile": ("Docker Compose devcontainers are not supported",
                                 'use "image" or "build" instead')}
IGNORED = {"initializeCommand": "initializeCommand runs on the host; devaipod does not run it"}


def _lookup(doc: dict[str, Any], keys: tuple[str, ...]) -> Any:
    node: Any = doc
    for depth, key in enumerate(keys):
        if depth:
            _object(node, ".".join(keys[:depth]))
        node = node.get(key)
        if node is None:
            return None
    return node


def _legacy_build(doc: dict[str, Any]) -> Build | None:
    """The deprecated top-level ``dockerFile`` / ``context`` pair."""
    if doc.get("build") is not None or doc.get("dockerFile") is None:
        return None
    context = doc.get("context")
    return Build(_nonempty(doc["dockerFile"], "dockerFile"),
                 "." if context is None else _nonempty(context, "context"))


def _convert(doc: dict[str, Any], source: str) -> DevContainer:
    for key, (reason, hint) in REFUSED.items():
        if key in doc:
            fail(key, reason, hint)
    values = {attr: convert(value, ".".join(keys)) for keys, attr, convert in FIELDS
              if (value := _lookup(doc, keys)) is not None}
    if (legacy := _legacy_build(doc)) is not None:
        values["build"] = legacy
    warnings = tuple(f"{source}: {text}" for key, text in IGNORED.items() if doc.get(key))
    return DevContainer(source=source, warnings=warnings, **values)


# ---------------------------------------------------------------- find and parse


def find(project_dir: str | Path) -> Path | None:
    """The project's devcontainer.json, in the order the spec gives."""
    top = Path(project_dir)
    folder = top / ".devcontainer"
    for path in (folder / FILENAME, top / ".devcontainer.json"):
        if path.is_file():
            return path
    subdirs = sorted(folder.iterdir()) if folder.is_dir() else []
    return next((d / FILENAME for d in subdirs if (d / FILENAME).is_file()), None)


def load(path: str | Path) -> DevContainer:
    """Read and parse the file at ``path``."""
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except OSError as exc:
        raise error(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text (byte {exc.start})") from None
    return parse(text, str(path))


_AT = re.compile(r"<string>:(\d+) (.*?)(?: at column (\d+))?", re.DOTALL)


def _load_json(text: str, source: str) -> Any:
    try:
        return json5.loads(text)
    except RecursionError:
        raise error(f"{source}: invalid JSON: values nested too deeply") from None
    except ValueError as exc:
        at = _AT.fullmatch(str(exc))
        if not at:
            raise error(f"{source}: invalid JSON: {exc}") from None
        column = f" (column {at[3]})" if at[3] else ""
        raise error(f"{source}:{at[1]}: invalid JSON: {at[2]}{column}") from None


def parse(text: str, source: str = FILENAME) -> DevContainer:
    """Parse devcontainer.json ``text``; ``source`` names it in errors and warnings."""
    doc = _load_json(text, source)
    if not isinstance(doc, dict):
        raise error(f"{source}: expected a JSON object, got {shown(doc)}")
    try:
        return _convert(doc, source)
    except Invalid as exc:
        raise error(f"{source}: {exc.path}: {exc.reason}", exc.hint) from None


# ---------------------------------------------------------------- paths


def _inside(json_path: str | Path, relative: str, root: str | Path | None, what: str) -> Path:
    path = (Path(json_path).parent / relative).resolve()
    if root is not None and not path.is_relative_to(Path(root).resolve()):
        raise error(f"{json_path}: build.{what}: {relative!r} is outside the project",
                    "keep the build inside the repository")
    return path


def build_context_dir(json_path: str | Path, build: Build, root: str | Path | None = None
                      ) -> Path:
    """The build context; with ``root``, it must lie inside ``root``."""
    return _inside(json_path, build.context, root, "context")


def dockerfile_path(json_path: str | Path, build: Build, root: str | Path | None = None
                    ) -> Path:
    """The Dockerfile; with ``root``, it must lie inside ``root``."""
    return _inside(json_path, build.dockerfile, root, "dockerfile")
