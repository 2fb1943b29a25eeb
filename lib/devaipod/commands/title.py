"""devaipod title: show or change a workspace's title."""

from __future__ import annotations

import click

from devaipod.clikit import command, dry_run_option, echo_result, say, workspace_argument


@command("title")
@workspace_argument
@click.argument("title", required=False)
@dry_run_option
def cli(workspace, title) -> None:
    """Show WORKSPACE's title, or set it to TITLE ('' removes it)."""
    from devaipod.workspace import lifecycle, lookup

    if title is None:
        rows = {r.name: r for r in lookup.rows()}
        say(rows[workspace].title or "(no title set)")
        return
    echo_result(lifecycle.set_title(workspace, title) or "(no title set)")
