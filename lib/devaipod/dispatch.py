"""The click group behind ``devaipod``: loads a verb's module when it runs, sets up
logging for it, and turns every failure into one line (a traceback only with --debug)."""

from __future__ import annotations

import importlib
import os
import sys

import click

from devaipod.clikit import CONTEXT_SETTINGS, global_options, progress_event, settings
from devaipod.verbs import ALIASES, SUMMARIES, VERBS


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
        module = VERBS.get(ALIASES.get(name, name))
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

    def invoke(self, ctx: click.Context):
        setup_logging()  # here, not at start-up: --help and --version need no logging
        return super().invoke(ctx)


@click.group(cls=LazyGroup, context_settings=CONTEXT_SETTINGS)
@global_options
def cli() -> None:
    """Run AI coding agents (OpenCode) sandboxed in podman pods.

    Each workspace is one podman pod: the human's devcontainer, the agent
    (OpenCode, without your trusted credentials), and a small API sidecar.
    Every verb is also a program of its own: `devaipod-VERB`.
    """


def help_text() -> str:
    """What ``devaipod --help`` prints."""
    ctx = cli.make_context("devaipod", [], resilient_parsing=True)
    return ctx.get_help() + "\n"


def setup_logging() -> None:
    """devaipod's log lines on stderr, each made printable (agent text may be in them)."""
    import logging

    from devaipod.printable import printable

    class Formatter(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return f"devaipod: {printable(record.getMessage())}"

    logger = logging.getLogger("devaipod")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(Formatter())
        logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if settings.debug
                    else logging.WARNING if settings.quiet else logging.INFO)
    logger.propagate = False


def run(args: list[str]) -> None:
    """Run ``devaipod ARGS`` and exit: 0, the verb's code, or one line and a non-zero code."""
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
