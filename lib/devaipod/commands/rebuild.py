"""devaipod rebuild: new containers for a workspace, same volumes."""

from __future__ import annotations

import click

from devaipod.clikit import (
    command,
    context,
    dry_run_option,
    echo_result,
    progress_event,
    progress_option,
    settings,
    workspace_argument,
)
from devaipod.commands.up import pull_option


@command("rebuild")
@workspace_argument
@click.option("--image", metavar="IMAGE", help="Rebuild with this image.")
@click.option("--run-create", is_flag=True,
              help="Run devcontainer.json's onCreate, updateContent and postCreate commands "
              "again (postStartCommand runs after every rebuild).")
@pull_option
@dry_run_option
@progress_option
def cli(workspace, image, run_create, pull) -> None:
    """Recreate WORKSPACE's containers (e.g. with a new --image), keeping its volumes.

    The git trees, the agent's home and the pod's secrets are kept.
    devcontainer.json is read from the workspace's own tree (edits made there
    count), else from the source. If a step fails after the old containers
    are gone, what the rebuild made is removed and the volumes stay.
    """
    from devaipod.workspace import rebuild

    rebuild.rebuild(workspace, context(), image, run_create, pull)
    if settings.progress == "json":
        progress_event(state="succeeded", pod=workspace)
    else:
        echo_result(workspace)
