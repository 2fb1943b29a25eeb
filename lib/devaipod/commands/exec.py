"""devaipod exec: run a command (default: a shell) in a workspace container."""

from __future__ import annotations

import click

from devaipod import errors, kube, layout, podman
from devaipod.clikit import command, context, interactive, workspace_argument
from devaipod.podman import container, secret


@command("exec")
@workspace_argument
@click.option("-W", "--workspace", "in_workspace", is_flag=True,
              help="In the workspace container (with your credentials).")
@click.option("--worker", is_flag=True, help="In the worker container.")
@click.option("--stdio", is_flag=True,
              help="Serve SSH on stdin/stdout for the container (an SSH ProxyCommand).")
@click.argument("cmd", nargs=-1, type=click.UNPROCESSED)
def cli(workspace, in_workspace, worker, stdio, cmd) -> None:
    """Run CMD (default: bash) in WORKSPACE's agent container, or -W workspace.

    CMD gets the container's credentials in its environment, as the
    container's own command does.

    Put `--` before a CMD that has options. A TTY is allocated only when
    both stdin and stdout are terminals. With --stdio and no CMD, an SSH
    server talks on stdin/stdout (the ProxyCommand of `devaipod ssh-config`).
    """
    role = "workspace" if in_workspace else "worker" if worker else "agent"
    cmd = [*click.get_current_context().meta.get("devaipod.extra", []), *cmd]
    if cluster := kube.active(context()):
        if stdio:
            raise errors.DevaipodError("--stdio is not supported on kubernetes yet",
                                       "use 'devaipod exec WORKSPACE' for a shell")
        cluster.exec(workspace, role, list(cmd) or ["bash"],
                     tty=interactive())
        return
    target = layout.container(workspace, role)
    if not container.exists(target):
        raise errors.DevaipodError(f"workspace '{layout.short(workspace)}' has no {role} container",
                                   "the worker exists only with [orchestration] enabled = true")
    if stdio and not cmd:
        from devaipod import sshserver

        sshserver.main(target)
        return
    exec_into(target, list(cmd) or ["bash"], tty=not stdio)


def exec_into(target: str, cmd: list[str], tty: bool = True) -> None:
    """Replace this process with CMD in container TARGET, with the container's credentials
    (a TTY when both stdin and stdout are terminals)."""
    tty = tty and interactive()
    podman.replace(container.exec_argv(target, secret.with_env(cmd), interactive=True, tty=tty))
