"""Kubernetes objects as YAML (PyYAML): one document each; multi-line text (scripts) as
literal blocks, so that the YAML reads like the scripts."""

from __future__ import annotations

from collections.abc import Iterable

import yaml


class _Dumper(yaml.SafeDumper):
    pass


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def dump(objects: Iterable[dict]) -> str:
    return yaml.dump_all(list(objects), Dumper=_Dumper, sort_keys=False,
                         default_flow_style=False, allow_unicode=True, width=100)
