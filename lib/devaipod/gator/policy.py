"""What a push through the gator may carry: the content policy.

Every commit the push adds to the forge (reachable from the pushed commit and
from none of the forge's branches and tags, fetched from the forge itself) is
compared with each of its parents (a root commit with the empty tree), from
objects checked by hash (``gitwalk``). The push is refused when

- a changed path matches a ``deny-paths`` pattern (by default CI definitions
  and the devcontainer, which run code with the repository's secrets or on
  the human's machine), unless the repository has the ``allow-workflows``
  grant. A rename is a removal and an addition, both checked; a path that
  replaces a denied directory (a symbolic link, a file or a submodule named
  ``.github``) is refused too;
- it adds or changes a file larger than ``max-file-size`` bytes;
- it adds more than ``max-commits`` commits.

Patterns are anchored at the repository's root and compared without regard
to case: ``*`` and ``?`` stay within one path component, ``**`` spans any
number of them (``a/**`` is everything under ``a``), ``[...]`` is a class.

The check itself is ``devaipod.gator.pushcheck``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

DENY_PATHS = (".github/workflows/**", ".gitlab-ci.yml", ".forgejo/workflows/**",
              ".devcontainer/**")
MAX_FILE_SIZE = 10 * 1024 * 1024  # 10 MiB
MAX_COMMITS = 100
ALLOW = "allow-workflows"


def _segment(seg: str) -> str:
    """One path component of a glob as a regular expression."""
    out, i = [], 0
    while i < len(seg):
        c = seg[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[" and (end := seg.find("]", i + 2)) != -1:
            body = seg[i + 1:end]
            neg = body[:1] in ("!", "^")
            body = body[1:] if neg else body
            out.append(f"[{'^' if neg else ''}{body.replace(chr(92), chr(92) * 2)}]")
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def _regex(segments: list[str]) -> re.Pattern:
    parts = []
    for n, seg in enumerate(segments):
        last = n == len(segments) - 1
        if seg == "**":
            parts.append(".*" if last else "(?:[^/]*/)*")
        else:
            parts.append(_segment(seg) + ("" if last else "/"))
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Pattern:
    text: str
    full: re.Pattern
    parents: tuple[re.Pattern, ...]  # the directories above what it matches

    @classmethod
    def compile(cls, text: str) -> Pattern:
        segments = [s for s in text.strip("/").split("/") if s]
        if not segments:
            raise ValueError(f"deny-paths pattern {text!r} is empty")
        fixed = segments.index("**") if "**" in segments else len(segments) - 1
        return cls(text, _regex(segments),
                   tuple(_regex(segments[:n]) for n in range(1, fixed + 1)))

    def matches(self, path: str) -> bool:
        return bool(self.full.fullmatch(path) or
                    any(p.fullmatch(path) for p in self.parents))


def denied_by(path: str, patterns: list[Pattern]) -> str | None:
    """The first pattern PATH matches (or replaces a parent directory of)."""
    return next((p.text for p in patterns if p.matches(path)), None)


@dataclass(frozen=True)
class Policy:
    deny_paths: tuple[str, ...] = DENY_PATHS
    max_file_size: int = MAX_FILE_SIZE  # bytes; 0: no limit
    max_commits: int = MAX_COMMITS  # 0: no limit
    allow_workflows: tuple[str, ...] = ()  # "service:OWNER/REPO" (or OWNER/*) grants

    def to_json(self) -> dict:
        return {k.replace("_", "-"): list(v) if isinstance(v, tuple) else v
                for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, data: Any) -> Policy:
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise ValueError("push-policy: expected an object")
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            name = key.replace("-", "_")
            if name in ("deny_paths", "allow_workflows"):
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise ValueError(f"push-policy.{key}: expected a list of strings")
                kwargs[name] = tuple(value)
            elif name in ("max_file_size", "max_commits"):
                if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                    raise ValueError(f"push-policy.{key}: expected a number >= 0")
                kwargs[name] = value
            else:
                raise ValueError(f"push-policy: unknown key {key!r}")
        return cls(**kwargs)

    def allows_paths(self, target: str) -> bool:
        """Whether TARGET (``github:OWNER/REPO``) has the allow-workflows grant."""
        return any(t == target or (t.endswith("*") and target.startswith(t[:-1]))
                   for t in self.allow_workflows)

    def describe(self) -> list[str]:
        lines = [f"deny-paths: {', '.join(self.deny_paths) or 'none'}",
                 f"max-file-size: {self.max_file_size or 'no limit'}",
                 f"max-commits: {self.max_commits or 'no limit'}"]
        return lines + [f"{t}:{ALLOW}" for t in self.allow_workflows]
