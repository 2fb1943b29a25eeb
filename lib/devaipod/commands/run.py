"""devaipod run: create a workspace and start the agent on a task."""

from __future__ import annotations

import sys

import click

from devaipod import errors
from devaipod.clikit import command, context, interactive, say
from devaipod.commands.up import (
    create_workspace,
    default_source,
    report,
    request,
    workspace_options,
)


def choose_task(source: str, given: str | None) -> str:
    from devaipod.workspace.request import default_task

    if given:
        return given
    default = default_task(source, context().config)
    if interactive():
        return click.prompt("Task for the agent", default=default or None)
    if default:
        return default
    raise errors.DevaipodError("no task given", "pass it as TASK or with -c 'TASK'")


@command("run")
@workspace_options
@click.option("-c", "--command", "task_option", metavar="TASK", help="The task (as TASK).")
@click.option("--wait", is_flag=True,
              help="Follow the agent: print each step, exit when it is done.")
@click.option("-A", "--attach", "then_attach", is_flag=True,
              help="Then attach to the agent's TUI (as `devaipod attach`).")
def cli(source, task, task_option, wait, then_attach, as_json, **options) -> None:
    """Create a workspace for SOURCE and start the agent on TASK.

    For an issue URL the default task is "Fix <issue url>"; for a pull
    request, "Review and continue <pr url>: <its title>" (the title from the
    forge's API, when it answers). With no task on a terminal,
    devaipod asks for it. With --wait, each step of the agent is printed as
    it happens and the exit status says whether it finished without error.
    Without SOURCE, a form asks for it on a terminal (completing the
    sources of your workspaces); elsewhere [dotfiles] url is used.
    """
    from devaipod.agent import task as agent_task
    from devaipod.agent.client import Client

    if wait and then_attach:
        raise click.UsageError("--wait and --attach both wait for the agent: give one")
    if not source and interactive():
        source, task, form_attach = launch_form(task or task_option)
        then_attach = then_attach or (form_attach and not wait)
    source = default_source(source)
    task = choose_task(source, task or task_option)
    p = create_workspace(request(source, "run", task, options))
    if context().dry_run:
        return
    from devaipod import kube

    cluster = kube.active(context())
    client = cluster.client(p.pod) if cluster else Client.for_pod(p.pod)
    agent_task.wait_ready(client)
    session = agent_task.new_session(client)
    follower = agent_task.Follower(client) if wait else None
    agent_task.send(client, session, task)
    report(p, as_json, {"session": session})
    if follower:
        sys.exit(follow(client, follower, session))
    if then_attach:
        from devaipod.commands.attach import attach

        attach(p.pod, "agent", session)


def launch_form(task: str | None) -> tuple[str, str | None, bool]:
    """SOURCE, TASK and whether to attach, asked in a form (devaipod.tui.launcher)."""
    from devaipod.tui import launcher

    dotfiles = context().config.dotfiles
    answer = launcher.ask(dotfiles.url if dotfiles else "")
    if answer is None:
        raise click.Abort()
    return answer.source, answer.task or task, answer.attach


def follow(client, follower, session: str) -> int:
    from devaipod.agent import task as agent_task

    error = follower.until_idle(session, say)
    reply = agent_task.final_reply(client, session)
    if reply:
        say(reply)
    if error:
        message = (error.get("data") or {}).get("message") or error.get("name", "error")
        from devaipod.printable import printable

        click.echo(f"Error: the agent stopped with an error: {printable(message)}", err=True)
        return 1
    return 0
