"""devaipod up: create a workspace pod with an idle agent."""

from __future__ import annotations

import click

from devaipod.clikit import (
    command,
    context,
    dry_run_option,
    emit_json,
    interactive,
    json_option,
    progress_event,
    progress_option,
    settings,
)


def pull_option(func):
    """``--pull``: when images are pulled (for `up`, `run` and `rebuild`)."""
    return click.option(
        "--pull", type=click.Choice(["missing", "always", "never"]), default=None,
        help="When to pull the images (workspace, build FROM, api, gator): missing, always "
        "or never (default: [podman] pull, else missing).")(func)


def workspace_options(func):
    """Options shared by `up` and `run`."""
    for option in reversed([
        click.argument("source", required=False),
        click.argument("task", required=False),
        click.option("--name", metavar="NAME", help="Workspace name (default: project + hex)."),
        click.option("--image", metavar="IMAGE", help="Image for the workspace and agent."),
        click.option("--network", metavar="NAME", help="Put the pod on this podman network."),
        click.option("--egress", type=click.Choice(["open", "allow-list"]), default=None,
                     help="The pod's way out: open, or only through a proxy to the allowed "
                     "hosts (default: [network] egress, else open)."),
        click.option("--allow", metavar="HOST", multiple=True,
                     help="With --egress allow-list: a host the proxy lets through, "
                     "HOST, *.DOMAIN or HOST:PORT (repeatable; adds to [network] allow)."),
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
        click.option("--cpus", type=float, metavar="N",
                     help="CPUs of the agent and the worker (default: [limits] cpus, none)."),
        click.option("--memory", metavar="SIZE",
                     help="Memory of the agent and the worker, e.g. 4g (default: [limits] "
                     "memory, none); over it, the kernel kills a process (status: oom)."),
        click.option("--pids-limit", type=int, metavar="N",
                     help="Processes of the agent and the worker (default: [limits] pids, "
                     "4096; 0: no limit)."),
        pull_option,
        dry_run_option,
        json_option,
        progress_option,
    ]):
        func = option(func)
    return func


def default_source(source: str | None) -> str:
    """SOURCE, else the dotfiles repository ([dotfiles] url), else a clear error."""
    if source:
        return source
    dotfiles = context().config.dotfiles
    if dotfiles is None:
        from devaipod import errors

        raise errors.DevaipodError("no SOURCE given", "give a repository URL or path, or set "
                                   "[dotfiles] url in devaipod.toml to use that one")
    return dotfiles.url


def request(source: str, mode: str, task: str | None, options: dict):
    """The Request of `up`/`run`'s arguments and options, checked as the web's form is."""
    from devaipod.workspace.request import from_options

    return from_options(source, mode, task, options)


def create_workspace(req):
    from devaipod import kube
    from devaipod.workspace import create

    cluster = kube.active(context())
    return cluster.create(req, context()) if cluster else create.create(req, context())


def report(p, as_json: bool, extra: dict | None = None) -> None:
    if context().dry_run:
        return
    if settings.progress == "json":
        progress_event(state="succeeded", pod=p.pod, **(extra or {}))
    elif as_json:
        emit_json({"name": p.pod, "project": p.project, "labels": p.labels,
                   "containers": [c.name for c in p.containers], "volumes": p.volumes,
                   **(extra or {})})
    else:
        click.echo(p.pod)


@command("up")
@workspace_options
@click.option("-S", "--exec", "then_exec", is_flag=True,
              help="Then open a shell in the workspace container (as `exec -W`).")
def cli(source, task, as_json, then_exec, **options) -> None:
    """Create a workspace for SOURCE with an idle agent.

    SOURCE is a git URL (https, http, git, git@host:owner/repo), a forge
    pull-request or issue URL, bare github.com/owner/repo, or a local
    repository path (on the host only); without SOURCE, the dotfiles
    repository ([dotfiles] url). TASK is stored as the agent's
    instructions but not started; `devaipod run` starts a task.
    """
    p = create_workspace(request(default_source(source), "up", task, options))
    report(p, as_json)
    if then_exec and not context().dry_run:
        from devaipod import kube, layout
        from devaipod.commands.exec import exec_into

        if cluster := kube.active(context()):
            cluster.exec(p.pod, "workspace", ["bash"], tty=interactive())
        else:
            exec_into(layout.container(p.pod, "workspace"), ["bash"])
