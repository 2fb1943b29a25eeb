"""devaipod completions: the shell's completion script for devaipod (click's own)."""

from __future__ import annotations

import click

from devaipod.clikit import command

SHELLS = ("bash", "zsh", "fish")


@command("completions")
@click.argument("shell", type=click.Choice(SHELLS))
def cli(shell: str) -> None:
    """Print the completion script for SHELL (bash, zsh or fish)."""
    from click.shell_completion import get_completion_class

    from devaipod.dispatch import cli as group

    completion = get_completion_class(shell)
    assert completion is not None  # every name in SHELLS has one
    click.echo(completion(group, {}, "devaipod", "_DEVAIPOD_COMPLETE").source())
