"""devaipod config: show the effective configuration and where each value came from."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import fields
from datetime import timedelta
from typing import Any

import click

from devaipod.clikit import emit_json, group, json_option, settings

MASK = "***"
# a variable whose value is a credential
SECRET_NAME = re.compile(r"(?i)KEY|TOKEN|SECRET|PASSW|CREDENTIAL|PRIVATE")
# credentials in a URL: scheme://user:password@host, ?token=...
URL_USERINFO = re.compile(r"(://)[^/@\s?#]+@")
URL_QUERY = re.compile(r"(?i)([?&][^=&#]*(?:key|token|secret|passw|auth|sig)[^=&#]*=)[^&#]*")

KeyPath = tuple[str, ...]


def _set_config(_ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value:
        settings.config = value


def config_option(func):
    """``--config`` after the subcommand too (``devaipod config show --config F``)."""
    return click.option(
        "--config", metavar="PATH", expose_value=False, callback=_set_config,
        help="Config file (default: $DEVAIPOD_CONFIG, then ~/.config/devaipod.toml).",
    )(func)


# ---------------------------------------------------------------- values


def leaves(obj: Any, path: KeyPath = ()) -> Iterator[tuple[str, KeyPath, Any]]:
    """(dotted key, key path, value) for every key of a loaded config, defaults included.

    The same keys, in the same order, as ``Config.origins``; a user-named table
    (``[mcp.NAME]``) without entries is one key whose value is ``{}``.
    """
    from devaipod.config import dotted
    from devaipod.config_schema import schema_keys, toml_key

    for f in fields(obj):
        if "doc" not in f.metadata:
            continue
        here, value = (*path, toml_key(f)), getattr(obj, f.name)
        if "section" in f.metadata and value is None:
            for key in schema_keys(f.metadata["section"], dotted(here) + "."):
                yield key, here, None
        elif "section" in f.metadata:
            yield from leaves(value, here)
        elif "entry" in f.metadata:
            if not value:
                yield dotted(here), here, {}
            for name, entry in value.items():
                yield from leaves(entry, (*here, name))
        else:
            yield dotted(here), here, value


def scrub(value: Any) -> Any:
    """``value`` with credentials in URLs masked, looking into arrays and tables."""
    if isinstance(value, str):
        return URL_QUERY.sub(rf"\g<1>{MASK}", URL_USERINFO.sub(rf"\g<1>{MASK}@", value))
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items()}
    return value


def mask(path: KeyPath, value: Any) -> Any:
    """``value`` as it may be shown: secret-looking values become ``***``."""
    if value is None:
        return None
    if path in (("env", "vars"), ("trusted", "env", "vars")):
        return {k: MASK if SECRET_NAME.search(k) else scrub(v) for k, v in value.items()}
    if path[0] == "mcp" and path[-1] == "headers" and len(path) == 3:
        return {k: MASK for k in value}
    return scrub(value)


def duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    return text + (f"{secs}s" if secs or not text else "")


def plain(value: Any) -> Any:
    """A loaded value as JSON has it: durations as "30m", secrets as "ENV=name"."""
    from devaipod.config_schema import SecretRef

    if isinstance(value, timedelta):
        return duration(value)
    if isinstance(value, SecretRef):
        return f"{value.env}={value.secret}"
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def toml(value: Any) -> str:
    """A plain value written as TOML (``(unset)`` for a key without a value)."""
    from devaipod.config import dotted

    if value is None:
        return "(unset)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(toml(v) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{dotted((k,))} = {toml(v)}" for k, v in value.items()) + " }"
    return json.dumps(str(value))


def effective(cfg) -> dict[str, dict[str, Any]]:
    """Dotted key -> {"value", "origin"}, values masked, in schema order."""
    return {key: {"value": plain(mask(path, value)), "origin": cfg.origins.get(key, "default")}
            for key, path, value in leaves(cfg)}


# ---------------------------------------------------------------- the commands


def _where() -> tuple[str, str]:
    """The config file, and what chose it."""
    from devaipod import config

    path, _explicit = config.config_path(settings.config)
    if settings.config:
        return str(path), "--config"
    if os.environ.get("DEVAIPOD_CONFIG"):
        return str(path), "DEVAIPOD_CONFIG"
    return str(path), "default"


@group("config")
def cli() -> None:
    """Show the configuration devaipod uses, and where it came from."""


@cli.command("show")
@config_option
@json_option
def show(as_json: bool) -> None:
    """Every key with its effective value and origin (default or FILE:LINE)."""
    from devaipod import config

    path, _source = _where()
    cfg = config.load_config(settings.config)
    values = effective(cfg)
    if as_json:
        emit_json({"path": path, "values": values})
        return
    exists = os.path.isfile(path)
    click.echo(f"# {path}" + ("" if exists else " (not found: built-in defaults)"))
    for key, item in values.items():
        click.echo(f"{key} = {toml(item['value'])}  # {item['origin']}")


@cli.command("path")
@config_option
@json_option
def path_(as_json: bool) -> None:
    """Print the config file's path, and say whether it exists."""
    path, source = _where()
    exists = os.path.isfile(path)
    if as_json:
        emit_json({"path": path, "exists": exists, "source": source})
        return
    click.echo(path)
    if exists:
        click.echo(f"devaipod: exists (chosen by {source})", err=True)
    elif source == "default":
        click.echo("devaipod: does not exist: built-in defaults apply "
                   "(create it with 'devaipod init')", err=True)
    else:
        click.echo(f"devaipod: does not exist (named by {source}): devaipod refuses to run "
                   "until it does (create it with 'devaipod init')", err=True)
