"""The ``devaipod`` program.

``devaipod VERB ...`` and ``devaipod-VERB ...`` are the same program: when
invoked as ``devaipod-VERB`` (a console script or a ``bin/`` link), the verb
is taken from the program name, git-style. Each verb lives in its own module
under ``devaipod.commands`` and is imported only when it runs; the click group
that dispatches to them is ``devaipod.dispatch``. This module imports neither
click nor logging: ``--version`` answers from here, ``--help`` too once click has
rendered it (``devaipod.helpcache``), and click's ``--help`` lists the verbs from the
table of their one-line help in ``devaipod.verbs``, so start-up stays light.
"""

from __future__ import annotations

import os
import sys

from devaipod import __version__
from devaipod.verbs import ALIASES, SUMMARIES, VERBS  # noqa: F401 (cli.VERBS is public)


def program_args(argv0: str, args: list[str]) -> list[str]:
    """``devaipod-up X`` is ``devaipod up X``."""
    prog = os.path.basename(argv0)
    if prog.startswith("devaipod-") and prog[len("devaipod-"):] in {*VERBS, *ALIASES}:
        return [prog[len("devaipod-"):], *args]
    return args


def main(argv: list[str] | None = None) -> None:
    args = program_args(sys.argv[0], sys.argv[1:] if argv is None else argv)
    if args == ["--version"]:  # click's version_option says the same, after importing click
        sys.stdout.write(f"devaipod, version {__version__}\n")
        sys.exit(0)
    if args in (["--help"], ["-h"]):
        show_help()
    from devaipod.dispatch import run

    run(args)


def show_help() -> None:
    """``devaipod --help``: click's text, rendered by click when it is not kept yet."""
    from devaipod import helpcache

    text = helpcache.read()
    if text is None:
        from devaipod.dispatch import help_text

        text = help_text()
        helpcache.write(text)
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        sys.exit(141)
    sys.exit(0)
