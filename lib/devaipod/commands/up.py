"""devaipod up: create a workspace pod with an idle agent."""

from __future__ import annotations

import click

from devaipod import runner
from devaipod.clikit import command, dry_run_option, emit_json, json_option
from devaipod.workspace import create, inputs, plan


def workspace_options(func):
    """Options shared by `up` and `run`."""
    for option in reversed([
        click.argument("source"),
        click.argument("task", required=False),
        click.option("--name", metavar="NAME", help="Workspace name (default: project + hex)."),
        click.option("--image", metavar="IMAGE", help="Image for the workspace and agent."),
        click.option("--network", metavar="NAME", help="Put the pod on this podman network."),
        click.option("--title", metavar="TEXT", help="A title for the workspace."),
        dry_run_option,
        json_option,
    ]):
        func = option(func)
    return func


def create_workspace(source: str, mode: str, **kwargs) -> plan.Plan:
    i = inputs.make(source, mode=mode, **kwargs)
    inputs.preflight(i)
    p = plan.build(i, inputs.new_password())
    create.execute(p)
    return p


def report(p: plan.Plan, as_json: bool) -> None:
    if runner.options.dry_run:
        return
    if as_json:
        emit_json({"name": p.pod, "project": p.project, "labels": p.labels,
                   "containers": [c.name for c in p.containers], "volumes": p.volumes})
    else:
        click.echo(p.pod)


@command("up")
@workspace_options
def cli(source, task, name, image, network, title, as_json) -> None:
    """Create a workspace for SOURCE with an idle agent.

    SOURCE is a git URL (https, http, git, git@host:owner/repo), a forge
    pull-request or issue URL, bare github.com/owner/repo, or a local
    repository path (on the host only). TASK is stored for the agent but
    not started; `devaipod run` starts it.
    """
    p = create_workspace(source, "up", name=name, image=image, network=network,
                         task=task, title=title)
    report(p, as_json)
