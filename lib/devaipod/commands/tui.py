"""devaipod tui: a live dashboard of the workspaces (Textual, imported only here)."""

from __future__ import annotations

import click

from devaipod import errors
from devaipod.clikit import command, interactive


@command("tui")
@click.option("-i", "--interval", type=click.FloatRange(min=1), default=5.0, show_default=True,
              metavar="SECONDS", help="Seconds between two refreshes of the list.")
def cli(interval: float) -> None:
    """A live dashboard of the workspaces: attach, exec, start/stop, review, launch.

    The table is `devaipod list`'s data, refreshed every --interval seconds;
    press ? in it for the keys.
    """
    if not interactive():
        raise errors.DevaipodError("devaipod tui needs a terminal",
                                   "run it in one, or use 'devaipod list'")
    from devaipod.tui.app import Dashboard

    Dashboard(interval=interval).run()
