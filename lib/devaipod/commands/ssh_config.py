"""devaipod ssh-config: write a workspace's SSH config, for editors."""

from __future__ import annotations

from pathlib import Path

import click

from devaipod import errors
from devaipod.clikit import command, workspace_argument


@command("ssh-config")
@workspace_argument
@click.option("--user", metavar="USER", help="The User of the Host blocks (default: $USER).")
def cli(workspace, user) -> None:
    """Write WORKSPACE's SSH config and print its path.

    `ssh devaipod-NAME` then reaches the workspace container (and
    devaipod-NAME-agent the agent's) through `devaipod exec --stdio`;
    `up` and `run` write it by themselves unless [ssh] auto-config = false.
    """
    from devaipod import layout, sshconfig
    from devaipod.podman import container
    from devaipod.state import in_container

    worker = container.exists(layout.container(workspace, "worker"))
    path = sshconfig.write(workspace, worker=worker, user=user)
    if path is None:
        raise errors.DevaipodError(
            "no place for SSH configs: in the devaipod container they go to /run/devaipod-ssh",
            "start the daemon with -v ~/.ssh/config.d/devaipod:/run/devaipod-ssh:Z")
    click.echo(str(path))
    main = Path.home() / ".ssh" / "config"
    if not in_container() and path.parent == sshconfig.config_dir() and not (
            main.is_file() and "config.d/devaipod" in main.read_text()):
        click.echo(f"add 'Include config.d/devaipod/*' at the top of {main}", err=True)
