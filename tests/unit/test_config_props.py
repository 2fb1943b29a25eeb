"""Property tests: any input either loads or fails with one one-line DevaipodError."""

from __future__ import annotations

import json
import math
import re
import tomllib
from datetime import date, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from devaipod import config_schema as schema
from devaipod.config import Config, dotted, parse_config, schema_fields, schema_keys
from devaipod.errors import DevaipodError

# placeholders in schema keys, and names that fill them (valid and not)
FILL = {
    "NAME": ["docs", "a b", ""],
    '"OWNER/REPO"': ["o/r", "o/*", "bad"],
    '"OWNER/REPO#N"': ["o/r#1", "o/r"],
    "PROJECT": ["PROJ", "1X"],
    '"PROJECT-N"': ["PROJ-1", "PROJ"],
    '"HOST"': ["git.example.com", "git.example.com:8443", "a b"],
}
SCHEMA_PATHS = [key.split(".") for key in schema_keys()]
WORDS = sorted({part for path in SCHEMA_PATHS for part in path if part not in FILL})


def concrete(path: list[str]) -> st.SearchStrategy[tuple[str, ...]]:
    """A schema key with its placeholders filled in."""
    parts = [st.sampled_from(FILL[p]) if p in FILL else st.just(p) for p in path]
    return st.tuples(*parts)


def typo(word: str) -> st.SearchStrategy[str]:
    return st.sampled_from([word[:-1], word + "s", word.replace("-", "_"), word.upper()])


# no lone surrogates (TOML cannot spell them) and no DEL (TOML forbids it unescaped)
texts = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x7f"),
                max_size=20)

key_paths = st.one_of(
    st.sampled_from(SCHEMA_PATHS).flatmap(concrete),
    st.sampled_from(SCHEMA_PATHS).flatmap(concrete).map(lambda p: p[:-1]).filter(bool),  # a table
    st.tuples(st.sampled_from(WORDS).flatmap(typo)),
    st.lists(st.sampled_from(WORDS) | texts, min_size=1, max_size=4).map(tuple),
)

scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True),
    texts,
    st.sampled_from(["30m", "1h30m", "A=a", "ANTHROPIC_API_KEY=x", "auto", "read", "o/r"]),
    st.dates(),
    st.datetimes(),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(WORDS) | texts, inner, max_size=3),
    max_leaves=8,
)


def toml_key(part: str) -> str:
    return json.dumps(part, ensure_ascii=False)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return "nan" if math.isnan(value) else repr(value)  # inf and -inf are TOML too
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        pairs = (f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items())
        return "{" + ", ".join(pairs) + "}"
    return str(value)


@st.composite
def tables(draw: st.DrawFn) -> dict[str, Any]:
    """A nested dict: random key paths (mostly from the schema) set to random values."""
    doc: dict[str, Any] = {}
    for path in draw(st.lists(key_paths, max_size=8)):
        node: Any = doc
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                break
        else:
            node.setdefault(path[-1], draw(values))
    return doc


def flatten(table: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[str]:
    """``a.b.c = value`` lines for every leaf of ``table``."""
    lines = []
    for key, value in table.items():
        path = (*prefix, key)
        if isinstance(value, dict) and value:
            lines += flatten(value, path)
        else:
            lines.append(f"{'.'.join(map(toml_key, path))} = {toml_value(value)}")
    return lines


def to_toml(doc: dict[str, Any]) -> str:
    """Top-level leaves first, then one ``[table]`` per top-level table."""
    lines = flatten({k: v for k, v in doc.items() if not isinstance(v, dict)})
    for key, value in doc.items():
        if isinstance(value, dict):
            lines += [f"[{toml_key(key)}]", *flatten(value)]
    return "\n".join(lines) + "\n"


@st.composite
def line_documents(draw: st.DrawFn) -> str:
    """Lines of ``[table]`` headers and dotted ``key = value``; may clash, as people do."""
    lines = []
    for _ in range(draw(st.integers(0, 6))):
        path = draw(key_paths)
        split = draw(st.integers(0, len(path) - 1))
        if split:
            lines.append("[" + ".".join(toml_key(p) for p in path[:split]) + "]")
        key = ".".join(toml_key(p) for p in path[split:])
        lines.append(f"{key} = {toml_value(draw(values))}")
    return "\n".join(lines) + "\n"


ENV = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
VALID = {
    schema.STRING: texts,
    schema.BOOL: st.booleans(),
    schema.PORT: st.integers(1, 65535),
    schema.DURATION: st.sampled_from(["30m", "90s", "1h30m", 5]),
    schema.STRINGS: st.lists(texts, max_size=3),
    schema.ENV_NAMES: st.lists(ENV, max_size=3),
    schema.ENV_NAME_KIND: ENV,
    schema.ENV_MAP: st.dictionaries(ENV, texts, max_size=2),
    schema.STRING_MAP: st.dictionaries(texts, texts, max_size=2),
    schema.SECRETS: st.lists(ENV, unique=True, max_size=3).map(
        lambda envs: [f"{env}=s_{env}" for env in envs]),
    schema.SWITCH: st.sampled_from([True, False, "auto", "enabled", "false"]),
    schema.SIZE: st.one_of(st.integers(0, 2**40), st.sampled_from(["512m", "4g", "10MiB"])),
    schema.COUNT: st.integers(0, 10**6),
    schema.CPUS: st.one_of(st.integers(1, 64), st.sampled_from([0.5, 1.5])),
}


def valid_value(kind: schema.Kind) -> st.SearchStrategy[Any]:
    """A value of ``kind``; a choice's name lists its values in quotes."""
    if kind in VALID:
        return VALID[kind]
    return st.sampled_from(re.findall(r'"([^"]+)"', kind.name))


def key_path(key: str) -> tuple[str, ...]:
    """A schema key with each placeholder replaced by its first (valid) name."""
    return tuple(FILL[part][0] if part in FILL else part for part in key.split("."))


FIELDS = {key_path(key): f for key, f in schema_fields()}
REQUIRED = [path for path, f in FIELDS.items() if schema.is_required(f)]


@st.composite
def valid_tables(draw: st.DrawFn) -> tuple[dict[str, Any], list[tuple[str, ...]]]:
    """A nested dict of valid values, and the key paths it sets."""
    paths = draw(st.lists(st.sampled_from(sorted(FIELDS)), unique=True, max_size=12))
    paths += [r for r in REQUIRED if r not in paths and any(p[:-1] == r[:-1] for p in paths)]
    doc: dict[str, Any] = {}
    for path in paths:
        node = doc
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = draw(valid_value(FIELDS[path].metadata["kind"]))
    return doc, paths


@settings(max_examples=200, deadline=None)
@given(valid_tables())
def test_valid_documents_load_with_origins(drawn: tuple[dict[str, Any], list[Any]]) -> None:
    doc, paths = drawn
    text = to_toml(doc)
    config = parse_config(text, "f")
    lines = text.split("\n")
    for path in paths:
        origin = config.origins[dotted(path)]
        number = int(origin.removeprefix("f:"))
        assert toml_key(path[-1]) in lines[number - 1]
        headers = [line for line in lines[:number] if line.startswith("[")]
        top = headers[-1] if headers else lines[number - 1]
        assert top.startswith((toml_key(path[0]), f"[{toml_key(path[0])}]"))


def check(text: str) -> None:
    try:
        config = parse_config(text, "~/.config/devaipod.toml")
    except DevaipodError as exc:
        message = exc.format_message()
        assert message.startswith("~/.config/devaipod.toml")
        assert len(message.splitlines()) == 1, message
    else:
        assert isinstance(config, Config)
        assert all(origin == "default" or origin.startswith("~/.config/devaipod.toml:")
                   for origin in config.origins.values())


@settings(max_examples=200, deadline=None)
@given(tables())
def test_random_documents_load_or_fail_cleanly(doc: dict[str, Any]) -> None:
    text = to_toml(doc)
    assert tomllib.loads(text) is not None  # the generator writes valid TOML
    check(text)


@settings(max_examples=200, deadline=None)
@given(line_documents())
def test_line_shaped_documents(text: str) -> None:
    check(text)


@given(st.sampled_from(SCHEMA_PATHS).flatmap(concrete), values)
def test_schema_keys_with_any_value(path: tuple[str, ...], value: Any) -> None:
    check(f"{'.'.join(toml_key(p) for p in path)} = {toml_value(value)}\n")


@given(st.text())
def test_arbitrary_text(text: str) -> None:
    check(text)


@given(st.lists(st.sampled_from(["[", "]", "=", '"', "'", "\n", "a", ".", "{", "}", ",", "#",
                                 "trusted", "secrets", "1", "\\", " "]), max_size=40))
def test_toml_shaped_noise(pieces: list[str]) -> None:
    check("".join(pieces))
