"""devcontainer.json: everything devaipod does with it, behind this one entry point.

- ``model``: find the file and parse it (JSON with comments) into a frozen
  :class:`DevContainer`; every problem is one error naming file and field.
- ``args``: the runArgs policy and security flags, ``${...}`` substitution,
  lifecycle commands as argv.
- ``repo``: read it from a repository (a throwaway clone), a local tree or a
  workspace volume, and build a ``build`` image once per set of inputs.
- ``features``: a configuration's features, built by the devcontainer CLI, and the
  features' own configuration folded in.
- ``podplan``: what it changes in a workspace pod's plan (environment, mounts,
  ports, secrets, lifecycle steps).

Callers use the names below; the modules are for the tests of each part.
"""

from devaipod.devcontainer.args import resolve as substitute
from devaipod.devcontainer.args import security_args
from devaipod.devcontainer.model import DevContainer, find, load, parse
from devaipod.devcontainer.podplan import (
    CREATE,
    START,
    batches,
    commands,
    describe,
    mounts,
    parallel,
    publish,
    secret_flags,
    security,
    start_label,
    workspace_env,
)
from devaipod.devcontainer.repo import Volume, build, with_features
from devaipod.devcontainer.repo import resolve as read

__all__ = [
    "CREATE", "START", "DevContainer", "Volume", "batches", "build", "commands", "describe",
    "find", "load", "mounts", "parallel", "parse", "publish", "read", "secret_flags",
    "security", "security_args", "start_label", "substitute", "with_features",
    "workspace_env",
]
