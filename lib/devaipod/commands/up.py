"""devaipod up: create a workspace pod with an idle agent."""

from __future__ import annotations

import click

from devaipod import runner
from devaipod.clikit import command, dry_run_option, emit_json, json_option


def workspace_options(func):
    """Options shared by `up` and `run`."""
    for option in reversed([
        click.argument("source"),
        click.argument("task", required=False),
        click.option("--name", metavar="NAME", help="Workspace name (default: project + hex)."),
        click.option("--image", metavar="IMAGE", help="Image for the workspace and agent."),
        click.option("--network", metavar="NAME", help="Put the pod on this podman network."),
        click.option("--title", metavar="TEXT", help="A title for the workspace."),
        click.option("--mcp", metavar="NAME=URL", multiple=True,
                     help="An MCP server for the agent (repeatable; adds to [mcp])."),
        click.option("--service-gator", metavar="SCOPE", multiple=True,
                     help="Grant the agent GitHub access through the gator: "
                     "github:OWNER/REPO[:PERMS] or github:read-all (repeatable)."),
        click.option("--service-gator-image", metavar="IMAGE",
                     help="Image of the gator container."),
        click.option("-R", "--service-gator-ro", is_flag=True,
                     help="The automatic grant for a GitHub source is read-only."),
        click.option("--no-auto-approve", is_flag=True,
                     help="The agent asks before running tools (default: allowed)."),
        click.option("--devcontainer-json", metavar="JSON",
                     help="Use this devcontainer.json text instead of the project's."),
        click.option("--use-default-devcontainer", is_flag=True,
                     help="Ignore the project's devcontainer.json (use --image or "
                     "default-image)."),
        click.option("--trust-source", is_flag=True,
                     help="Trust the repository's devcontainer.json: a pull request's own, "
                     "its lifecycle commands in your workspace, host bind mounts."),
        dry_run_option,
        json_option,
    ]):
        func = option(func)
    return func


def create_workspace(source: str, mode: str, no_auto_approve: bool = False, **kwargs):
    from devaipod import state
    from devaipod.workspace import create, inputs, plan

    i = inputs.make(source, mode=mode, auto_approve=not no_auto_approve, **kwargs)
    inputs.preflight(i)
    token = inputs.new_token()
    p = plan.build(i, inputs.new_password(), token)
    create.execute(p, after_start=None if runner.options.dry_run
                   else lambda: state.save_pod_token(p.pod, token))
    if not runner.options.dry_run and inputs.load_config().ssh.auto_config:
        write_ssh_config(p.pod, worker=i.orchestration)
    return p


def write_ssh_config(pod: str, worker: bool) -> None:
    import logging

    from devaipod import sshconfig

    path = sshconfig.write(pod, worker=worker)
    if path:
        logging.getLogger("devaipod").info("ssh config %s: ssh %s", path, pod)


def report(p, as_json: bool, extra: dict | None = None) -> None:
    if runner.options.dry_run:
        return
    if as_json:
        emit_json({"name": p.pod, "project": p.project, "labels": p.labels,
                   "containers": [c.name for c in p.containers], "volumes": p.volumes,
                   **(extra or {})})
    else:
        click.echo(p.pod)


@command("up")
@workspace_options
def cli(source, task, as_json, **options) -> None:
    """Create a workspace for SOURCE with an idle agent.

    SOURCE is a git URL (https, http, git, git@host:owner/repo), a forge
    pull-request or issue URL, bare github.com/owner/repo, or a local
    repository path (on the host only). TASK is stored as the agent's
    instructions but not started; `devaipod run` starts a task.
    """
    report(create_workspace(source, "up", task=task, **options), as_json)
