"""Load ``devaipod.toml`` into a frozen :class:`Config`.

Which file: the ``path`` argument (``--config PATH``), else ``$DEVAIPOD_CONFIG``,
else ``$XDG_CONFIG_HOME/devaipod.toml``, else ``~/.config/devaipod.toml``. A
missing file at the default location means built-in defaults; a missing file
that was named (argument or ``$DEVAIPOD_CONFIG``) is an error.

The keys, their kinds, defaults and docs live in :mod:`devaipod.config_schema`;
this module only walks that schema. Every problem with the file (unreadable,
invalid TOML, unknown key, wrong type, bad value) is one :class:`DevaipodError`
of the form ``FILE:LINE: what; hint``.

Line numbers: ``tomllib`` reports none for keys, so :func:`key_lines` scans the
text for table headers and ``key =`` lines and records where each dotted key
(and each prefix of it) first appears. A value given inside an inline table
or a multi-line array is reported at the line of the key that opens it. This
is a heuristic (a line inside a multi-line string can look like a key), good
enough to point at the right place.

Deliberately left out, compared with the original devaipod:

- ``[sidecar]`` (image, command, network, mounts, dotfiles, profiles): planned
  there and never used.
- the legacy ``[secrets.<name>]`` tables and ``~/.config/devc/secrets.toml``:
  use ``[trusted] secrets`` / ``file_secrets``.
- the legacy ``~/.config/devc.toml`` location.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, NoReturn

from devaipod.config_schema import (
    BUILTIN_LLM_KEY_VARS,
    Config,
    Invalid,
    SecretRef,
    is_required,
    schema_fields,
    schema_keys,
    shown,
    toml_key,
)
from devaipod.errors import DevaipodError

__all__ = [
    "BUILTIN_LLM_KEY_VARS", "Config", "SecretRef", "config_path", "display_path",
    "dotted", "key_lines", "load_config", "parse_config", "schema_fields", "schema_keys",
]

KeyPath = tuple[str, ...]

LEFT_OUT = {
    "sidecar": "[sidecar] is not supported (it was never implemented)",
    "secrets": 'legacy [secrets.NAME] tables are not supported; use [trusted] '
               'secrets = ["ENV=secret_name"]',
}


def config_path(path: str | os.PathLike[str] | None = None,
                environ: Mapping[str, str] | None = None) -> tuple[Path, bool]:
    """The config file to read, and whether the user named it explicitly."""
    env = os.environ if environ is None else environ
    if path:
        return Path(path).expanduser(), True
    if env.get("DEVAIPOD_CONFIG"):
        return Path(env["DEVAIPOD_CONFIG"]).expanduser(), True
    base = env.get("XDG_CONFIG_HOME", "")
    if not os.path.isabs(base):
        base = os.path.join(env.get("HOME") or os.path.expanduser("~"), ".config")
    return Path(base) / "devaipod.toml", False


def display_path(path: Path) -> str:
    """``path`` as shown to the user: under $HOME it starts with ``~/``."""
    home = os.path.expanduser("~")
    if home not in ("~", "/") and path.is_relative_to(home):
        return "~/" + str(path.relative_to(home))
    return str(path)


def load_config(path: str | os.PathLike[str] | None = None,
                environ: Mapping[str, str] | None = None) -> Config:
    """Read and check the config file; see the module docstring for which one."""
    file, explicit = config_path(path, environ)
    name = display_path(file)
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        if explicit:
            raise _error(f"{name}: no such file",
                         "create it, or fix --config / DEVAIPOD_CONFIG") from None
        return parse_config("", name)
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
        raise _error(f"{name}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _error(f"{name}: not UTF-8 text (byte {exc.start})") from None
    return parse_config(text, name)


def parse_config(text: str, source: str = "<string>") -> Config:
    """Check TOML ``text`` against the schema; ``source`` names it in errors."""
    doc = _parse_toml(text, source)
    loader = _Loader(source, key_lines(text))
    config = loader.build(Config, doc, ())
    return replace(config, origins=dict(_origins(config, (), loader.seen)))


# ---------------------------------------------------------------- TOML and lines

_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def _parse_toml(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        at = _AT.search(message)
        if at:
            raise _error(f"{source}:{at[1]}: invalid TOML: {message[:at.start()]} "
                         f"(column {at[2]})") from None
        last = text.count("\n") + 1  # "(at end of document)"
        raise _error(f"{source}:{last}: invalid TOML: {message}") from None
    except ValueError:  # tomllib lets int() refuse a number with thousands of digits
        raise _error(f"{source}: invalid TOML: a number is too long") from None
    except RecursionError:
        raise _error(f"{source}: invalid TOML: values nested too deeply") from None


_PART = r"""[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*'"""
_KEY = rf"(?:{_PART})(?:\s*\.\s*(?:{_PART}))*"
_HEADER = re.compile(rf"\s*\[\[?\s*({_KEY})\s*\]\]?\s*(?:#.*)?$")
_ASSIGN = re.compile(rf"\s*({_KEY})\s*=")


def key_lines(text: str) -> dict[KeyPath, int]:
    """Where each key path (and each prefix of one) first appears in ``text``."""
    lines: dict[KeyPath, int] = {}
    table: KeyPath = ()
    for number, line in enumerate(text.split("\n"), 1):
        if header := _HEADER.match(line):
            table = found = _key_path(header[1])
        elif assign := _ASSIGN.match(line):
            found = (*table, *_key_path(assign[1]))
        else:
            continue
        for n in range(1, len(found) + 1):
            lines.setdefault(found[:n], number)
    return lines


def _key_path(key: str) -> KeyPath:
    """The segments of a TOML key as written (``a."b.c"`` → ``("a", "b.c")``)."""
    try:
        node: Any = tomllib.loads(f"{key} = 0")
    except ValueError:
        return ()
    path: list[str] = []
    while isinstance(node, dict) and len(node) == 1:
        [(name, node)] = node.items()
        path.append(name)
    return tuple(path)


def dotted(path: KeyPath) -> str:
    """A key path as TOML writes it: bare segments plain, others quoted."""
    return ".".join(p if re.fullmatch(r"[A-Za-z0-9_-]+", p) else json.dumps(p) for p in path)


# ---------------------------------------------------------------- the schema walk


@dataclass
class _Loader:
    source: str
    lines: dict[KeyPath, int]
    seen: dict[str, str] = field(default_factory=dict)  # dotted key -> "file:line"

    def build(self, cls: type, table: dict[str, Any], path: KeyPath) -> Any:
        known = {toml_key(f): f for f in fields(cls) if "doc" in f.metadata}
        values = {}
        for key, value in table.items():
            if key not in known:
                self.unknown((*path, key), [(*path, k) for k in known])
            values[known[key].name] = self.value(known[key], value, (*path, key))
        for key, f in known.items():
            if is_required(f) and f.name not in values:
                self.fail(path, f"missing key {dotted((*path, key))!r}",
                          f"[{dotted(path)}] needs {key} = ...")
        return cls(**values)

    def value(self, f: Any, value: Any, path: KeyPath) -> Any:
        meta = f.metadata
        if "section" in meta:
            return self.build(meta["section"], self.table(value, path), path)
        self.seen[dotted(path)] = self.where(path)
        if "entry" in meta:
            return {name: self.entry(meta, entry, (*path, name))
                    for name, entry in self.table(value, path).items()}
        try:
            return meta["kind"].convert(value)
        except Invalid as exc:
            self.fail(path, f"{dotted(path)!r}: {exc.reason}", exc.hint)

    def entry(self, meta: Mapping[str, Any], value: Any, path: KeyPath) -> Any:
        if not meta["pattern"].fullmatch(path[-1]):
            self.fail(path, f"{dotted(path)!r}: expected a name like {meta['placeholder']}")
        return self.build(meta["entry"], self.table(value, path), path)

    def table(self, value: Any, path: KeyPath) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(path, f"{dotted(path)!r}: expected a table, got {shown(value)}")
        return value

    def unknown(self, path: KeyPath, siblings: list[KeyPath]) -> NoReturn:
        name = dotted(path)
        close = (difflib.get_close_matches(name, [dotted(s) for s in siblings], n=1)
                 or difflib.get_close_matches(name, list(schema_keys()), n=1))
        hint = LEFT_OUT.get(name) or (f"did you mean {close[0]!r}?" if close else
                                      "see devaipod.toml(5) for the valid keys")
        self.fail(path, f"unknown key {name!r}", hint)

    def where(self, path: KeyPath) -> str:
        for n in range(len(path), 0, -1):
            if path[:n] in self.lines:
                return f"{self.source}:{self.lines[path[:n]]}"
        return self.source

    def fail(self, path: KeyPath, message: str, hint: str | None = None) -> NoReturn:
        raise _error(f"{self.where(path)}: {message}", hint)


def _origins(obj: Any, path: KeyPath, seen: dict[str, str]) -> Iterator[tuple[str, str]]:
    """(dotted key, origin) for every leaf of a loaded config, defaults included."""
    for f in fields(obj):
        if "doc" not in f.metadata:
            continue
        here, value = (*path, toml_key(f)), getattr(obj, f.name)
        if "section" in f.metadata and value is None:
            prefix = dotted(here) + "."
            yield from ((key, "default") for key in schema_keys(f.metadata["section"], prefix))
        elif "section" in f.metadata:
            yield from _origins(value, here, seen)
        else:
            yield dotted(here), seen.get(dotted(here), "default")
            if "entry" in f.metadata:
                for name, entry in value.items():
                    yield from _origins(entry, (*here, name), seen)


def _error(message: str, hint: str | None = None) -> DevaipodError:
    return DevaipodError(_one_line(message), hint and _one_line(hint))


def _one_line(text: str) -> str:
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
