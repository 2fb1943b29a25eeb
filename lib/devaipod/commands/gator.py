"""devaipod gator: show and change what a workspace's gator lets the agent do."""

from __future__ import annotations

import json
import os
import secrets
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


def _image() -> str:
    from devaipod import images
    from devaipod.workspace.inputs import load_config

    return images.api_image(load_config().api_image)


def _write(workspace: str, scopes) -> None:
    from devaipod.podman import container
    from devaipod.workspace import gator, names

    spec = gator.write_spec(workspace, _image(), scopes, names.base_labels(workspace))
    spec.name = f"{workspace}-gator-write-{secrets.token_hex(3)}"
    container.run(spec)


def _current(workspace: str):
    from devaipod.workspace import gator

    return gator.read(workspace, _image())


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
    scopes = _current(workspace)
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
    """
    from dataclasses import replace

    from devaipod.gator.scopes import ScopeError, parse_flag

    try:
        parsed = [parse_flag(s) for s in scopes]
    except ScopeError as exc:
        raise errors.DevaipodError(str(exc), "e.g. github:owner/repo:read,push") from None
    current = _current(workspace)
    repos = dict(current.repos)
    gh_read = current.gh_read
    for repo, perms in parsed:
        if repo is None:
            gh_read = True
        else:
            repos[repo] = perms
    _write(workspace, replace(current, gh_read=gh_read, repos=repos))
    echo_result(workspace)


@cli.command("edit")
@workspace_argument
def edit(workspace) -> None:
    """Edit WORKSPACE's scope file (JSON) in $EDITOR; it is checked before it is saved."""
    from devaipod.gator.scopes import ScopeError, Scopes

    text = json.dumps(_current(workspace).to_json(), indent=2) + "\n"
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
    _write(workspace, scopes)
    echo_result(workspace)
