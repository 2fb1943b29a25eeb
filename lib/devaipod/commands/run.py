"""devaipod run: create a workspace and start the agent on a task."""

from __future__ import annotations

import click

from devaipod import errors
from devaipod import source as source_
from devaipod.clikit import command
from devaipod.commands.up import create_workspace, report, workspace_options


@command("run")
@workspace_options
@click.option("-c", "--command", "task_option", metavar="TASK", help="The task (as TASK).")
def cli(source, task, task_option, name, image, network, title, as_json) -> None:
    """Create a workspace for SOURCE and give the agent TASK.

    For an issue URL the default task is "Fix <issue url>".
    """
    from devaipod.workspace.inputs import load_config

    cfg = load_config()
    parsed = source_.parse(source, extra_hosts=tuple(cfg.git.extra_hosts))
    task = task or task_option or parsed.default_task
    if not task:
        raise errors.DevaipodError("no task given", "pass it as TASK or with -c 'TASK'")
    p = create_workspace(source, "run", name=name, image=image, network=network,
                         task=task, title=title)
    report(p, as_json)
