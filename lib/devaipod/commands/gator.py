"""devaipod gator: show and change what a workspace's gator lets the agent do."""

from __future__ import annotations

import json
import os
import tempfile

import click

from devaipod import errors, runner
from devaipod.clikit import (
    dry_run_option,
    echo_result,
    emit_json,
    group,
    json_option,
    workspace_argument,
)


@group("gator")
def cli() -> None:
    """Show and change a workspace's service-gator grants.

    The gator reads its grants again as soon as they change: no restart.
    """


@cli.command("show")
@workspace_argument
@json_option
def show(workspace, as_json) -> None:
    """Print WORKSPACE's grants, one per line (the scope file with --json)."""
    from devaipod.workspace import gator

    scopes = gator.read(workspace)
    if as_json:
        emit_json(scopes.to_json())
        return
    click.echo("\n".join(scopes.describe()) or "no access granted")


@cli.command("add")
@workspace_argument
@click.argument("scopes", nargs=-1, required=True, metavar="SCOPE...")
@dry_run_option
def add(workspace, scopes) -> None:
    """Grant SCOPE (github:OWNER/REPO[:PERMS] or github:read-all) in WORKSPACE.

    PERMS is a comma list of read, create-draft, pending-review,
    push-new-branch and write; a repository's grant is replaced by the new one.
    allow-workflows lets pushes there change [service-gator] deny-paths (CI
    workflows, .devcontainer); it adds to the grant.
    """
    from devaipod.workspace import gator

    gator.add(workspace, list(scopes))
    echo_result(workspace)


@cli.command("revoke")
@workspace_argument
@click.argument("grants", nargs=-1, required=True, metavar="GRANT...")
@dry_run_option
def revoke(workspace, grants) -> None:
    """Take back GRANT in WORKSPACE: a line of `gator show` (github:OWNER/REPO:PERMS,
    github:read-all, github:pr OWNER/REPO#N:PERMS) or the same without :PERMS.

    The gator refuses the next call that needed it.
    """
    from devaipod.workspace import gator

    gator.revoke(workspace, list(grants))
    echo_result(workspace)


@cli.command("set")
@workspace_argument
@click.argument("scopes", nargs=-1, metavar="[SCOPE...]")
@dry_run_option
def set_(workspace, scopes) -> None:
    """Replace WORKSPACE's grants by SCOPE... (as `gator add` takes them); without
    SCOPE, take every grant back."""
    from devaipod.workspace import gator

    gator.replace_all(workspace, list(scopes))
    echo_result(workspace)


@cli.command("edit")
@workspace_argument
def edit(workspace) -> None:
    """Edit WORKSPACE's scope file (JSON) in $EDITOR; it is checked before it is saved."""
    from devaipod.gator.scopes import ScopeError, Scopes
    from devaipod.workspace import gator

    text = json.dumps(gator.read(workspace).to_json(), indent=2) + "\n"
    with tempfile.NamedTemporaryFile("w+", suffix=".json", prefix="gator-") as f:
        f.write(text)
        f.flush()
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        if runner.stream([*editor.split(), f.name]) != 0:
            raise errors.DevaipodError(f"{editor} failed; nothing changed")
        f.seek(0)
        edited = f.read()
    if edited == text:
        click.echo("no change", err=True)
        return
    try:
        scopes = Scopes.from_json(json.loads(edited))
    except (ValueError, ScopeError) as exc:
        raise errors.DevaipodError(f"the edited scopes are not valid: {exc}",
                                   "nothing changed; run 'devaipod gator edit' again") from None
    gator.write(workspace, scopes)
    echo_result(workspace)
