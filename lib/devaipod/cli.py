"""The ``devaipod`` dispatcher.

``devaipod VERB ...`` and ``devaipod-VERB ...`` are the same program: when
invoked as ``devaipod-VERB`` (a console script or a ``bin/`` link), the verb
is taken from the program name, git-style. Each verb lives in its own module
under ``devaipod.commands`` and is imported only when it runs (``--help`` lists
the verbs from a table of their one-line help), so start-up stays light.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys

import click

from devaipod import __version__
from devaipod.clikit import CONTEXT_SETTINGS, global_options, progress_event, settings

# verb -> module under devaipod.commands (each module defines `cli`)
VERBS: dict[str, str] = {
    "attach": "attach",
    "cleanup": "cleanup",
    "config": "config",
    "delete": "delete",
    "doctor": "doctor",
    "done": "done",
    "exec": "exec",
    "gator": "gator",
    "init": "init",
    "list": "list",
    "logs": "logs",
    "opencode": "opencode",
    "pod-api": "pod_api",
    "prune": "prune",
    "rebuild": "rebuild",
    "review": "review",
    "run": "run",
    "ssh-config": "ssh_config",
    "start": "start",
    "status": "status",
    "stop": "stop",
    "tui": "tui",
    "up": "up",
    "web": "web",
}

# verb -> its one-line help, so that --help lists the verbs without importing them
# (tests/unit/test_cli.py checks that each is what its command says)
SUMMARIES: dict[str, str] = {
    'attach': "Open tmux with WORKSPACE's agent TUI in one pane and a shell in the other.",
    'cleanup': "Remove this instance's volumes, secrets, containers and SSH configs "
               "left without a pod.",
    'config': 'Show the configuration devaipod uses, and where it came from.',
    'delete': 'Delete WORKSPACE: its pod, containers, volumes and secrets.',
    'doctor': 'Check that podman, git, tmux and the default image work.',
    'done': 'Mark WORKSPACE done, or active again with --undo.',
    'exec': "Run CMD (default: bash) in WORKSPACE's agent container, or -W workspace.",
    'gator': "Show and change a workspace's service-gator grants.",
    'init': 'Write a first config file and store your API keys as podman secrets.',
    'list': 'List workspaces: name, agent state, mode, repository, task, last activity.',
    'logs': "Show the logs of one of WORKSPACE's containers (default: the agent).",
    'opencode': "Talk to WORKSPACE's agent: send messages, list sessions, abort.",
    'pod-api': "Serve the pod's API sidecar (runs inside the pod).",
    'prune': 'Delete the workspaces marked done, with their volumes and secrets.',
    'rebuild': "Recreate WORKSPACE's containers (e.g. with a new --image), keeping its volumes.",
    'review': "Show the agent's commits that WORKSPACE lacks; merge them or drop them.",
    'run': 'Create a workspace for SOURCE and start the agent on TASK.',
    'ssh-config': "Write WORKSPACE's SSH config and print its path.",
    'start': "Start WORKSPACE's pod (its trees are kept in volumes).",
    'status': 'Show the state of WORKSPACE: pod, containers, sidecar port (labels with --json).',
    'stop': "Stop WORKSPACE's pod; `devaipod start` brings it back as it was.",
    'tui': 'A live dashboard of the workspaces: attach, exec, start/stop, review, launch.',
    'up': 'Create a workspace for SOURCE with an idle agent.',
    'web': "Serve the control plane: workspaces, tasks, agents' progress, terminals.",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(VERBS)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The verbs with their one-line help, from SUMMARIES: --help imports no verb."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(map(len, names))
        rows = []
        for name in names:
            text = SUMMARIES.get(name)
            if text is None:  # a verb without a summary: ask its command
                command = self.get_command(ctx, name)
                text = command.get_short_help_str(limit) if command else ""
            # shortened as click shortens a command's help
            rows.append((name, click.Command(name, help=text).get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        module = VERBS.get(name)
        if module is None:
            return None
        return importlib.import_module(f"devaipod.commands.{module}").cli

    def resolve_command(self, ctx, args):
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as exc:
            name = args[0] if args else ""
            import difflib

            close = difflib.get_close_matches(name, VERBS, n=1)
            if close:
                raise click.UsageError(
                    f"no such command '{name}'; did you mean '{close[0]}'?", ctx
                ) from exc
            raise


@click.group(cls=LazyGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "--version", prog_name="devaipod")
@global_options
def cli() -> None:
    """Run AI coding agents (OpenCode) sandboxed in podman pods.

    Each workspace is one podman pod: the human's devcontainer, the agent
    (OpenCode, without your trusted credentials), and a small API sidecar.
    Every verb is also a program of its own: `devaipod-VERB`.
    """


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        from devaipod.printable import printable

        return f"devaipod: {printable(record.getMessage())}"


def setup_logging() -> None:
    logger = logging.getLogger("devaipod")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_Formatter())
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def program_args(argv0: str, args: list[str]) -> list[str]:
    """``devaipod-up X`` is ``devaipod up X``."""
    prog = os.path.basename(argv0)
    if prog.startswith("devaipod-") and prog[len("devaipod-"):] in VERBS:
        return [prog[len("devaipod-"):], *args]
    return args


def main(argv: list[str] | None = None) -> None:
    setup_logging()
    args = program_args(sys.argv[0], sys.argv[1:] if argv is None else argv)
    if os.environ.get("DEVAIPOD_DEBUG") or "--debug" in args:
        settings.debug = True
    try:
        rv = cli.main(args=args, prog_name="devaipod", standalone_mode=False)
    except click.exceptions.Abort:
        if settings.progress == "json":
            progress_event(state="failed", error="interrupted")
        click.echo("devaipod: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        if settings.debug:
            import traceback

            traceback.print_exc()
        if settings.progress == "json":
            progress_event(state="failed", error=exc.format_message())
        exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        if settings.progress == "json":
            progress_event(state="failed", error="interrupted")
        click.echo("devaipod: interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(141)
    except Exception as exc:  # a bug: one line, traceback with --debug
        if settings.debug:
            raise
        if settings.progress == "json":
            progress_event(state="failed", error=f"internal error: {exc!r}")
        click.echo(f"Error: internal error: {exc!r}; rerun with --debug for details", err=True)
        sys.exit(70)
    sys.exit(rv if isinstance(rv, int) else 0)
