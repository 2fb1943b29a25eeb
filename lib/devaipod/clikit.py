"""Shared pieces of every devaipod command: global options, --dry-run, --json."""

from __future__ import annotations

import sys

import click

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class Settings:
    debug: bool = False
    quiet: bool = False  # -q: warnings and errors only on stderr
    config: str | None = None
    backend: str | None = None  # --backend
    progress: str = "text"  # --progress: "json" prints progress events on stdout


settings = Settings()


def _set_debug(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        import logging

        settings.debug = True
        logging.getLogger("devaipod").setLevel(logging.DEBUG)


def _set_quiet(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not settings.debug:  # --debug wins
        import logging

        settings.quiet = True
        logging.getLogger("devaipod").setLevel(logging.WARNING)


def _set_url(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value:
        from devaipod.podman import connection

        connection.set_url(value)


def _set_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value:
        settings.config = value
        _context.clear()


def _set_backend(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value:
        settings.backend = value
        _context.clear()


def interactive() -> bool:
    """Whether a person is at this terminal: stdin and stdout are both terminals."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def global_options(func):
    """Options every devaipod program accepts, before or after the verb."""
    func = click.option(
        "--backend", type=click.Choice(["podman", "kubernetes"]), default=None,
        expose_value=False, callback=_set_backend, envvar="DEVAIPOD_BACKEND",
        help="Where workspaces run (default: $DEVAIPOD_BACKEND, [backend] kind, else podman).",
    )(func)
    func = click.option(
        "--config", metavar="PATH", expose_value=False, callback=_set_config,
        help="Config file (default: $DEVAIPOD_CONFIG, then ~/.config/devaipod.toml).",
    )(func)
    func = click.option(
        "--url", metavar="URL", expose_value=False, callback=_set_url,
        help="podman service URL (default: $DEVAIPOD_PODMAN_URL, $CONTAINER_HOST, "
        "the rootless socket, then /run/podman/podman.sock).",
    )(func)
    func = click.option(
        "-q", "--quiet", is_flag=True, expose_value=False, callback=_set_quiet,
        help="Log only warnings and errors on stderr (results on stdout are kept).",
    )(func)
    func = click.version_option(_version(), "--version", prog_name="devaipod",
                                help="Print the version and exit.")(func)
    func = click.option(
        "--debug", is_flag=True, expose_value=False, is_eager=True, callback=_set_debug,
        help="Log every command run (secrets redacted) and show tracebacks "
        "(also DEVAIPOD_DEBUG=1).",
    )(func)
    return func


def _version() -> str:
    from devaipod import __version__

    return __version__


def dry_run_option(func):
    """``--dry-run``: print each podman command that would change something."""

    def _set(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
        if value:
            from devaipod import runner

            runner.options.dry_run = True

    return click.option(
        "--dry-run", is_flag=True, expose_value=False, callback=_set,
        help="Print each podman command that would change something, instead of running it.",
    )(func)


def progress_event(**event) -> None:
    import json
    import sys

    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def _log_progress_events() -> None:
    """``--progress=json``: each log record as one JSON object on stdout, not a line on stderr."""
    import logging

    class ProgressEvents(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            event = getattr(record, "progress", None) or {
                "message": record.getMessage(), "level": record.levelname.lower()}
            progress_event(**event)

    logger = logging.getLogger("devaipod")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    logger.addHandler(ProgressEvents())


def progress_option(func):
    """``--progress=text|json``: how a long command (up, run, rebuild) reports its steps."""

    def _set(ctx: click.Context, _param: click.Parameter, value: str) -> None:
        if value == "json":
            settings.progress = "json"
            _log_progress_events()

    return click.option(
        "--progress", type=click.Choice(["text", "json"]), default="text", expose_value=False,
        callback=_set, help="text: log lines on stderr; json: one JSON object a step on stdout "
        "(step, state, pod, error), the last one {state: succeeded|failed}.")(func)


def command(name: str | None = None, **kwargs):
    """A devaipod verb: a click command that also takes the global options."""

    def wrap(func):
        return click.command(name, context_settings=CONTEXT_SETTINGS, **kwargs)(
            global_options(func)
        )

    return wrap


def group(name: str | None = None, **kwargs):
    """A devaipod verb with sub-verbs (`devaipod opencode WS send ...`)."""

    def wrap(func):
        return click.group(name, context_settings=CONTEXT_SETTINGS, **kwargs)(
            global_options(func)
        )

    return wrap


def echo_result(text: str) -> None:
    """Print a command's result on stdout, except under --dry-run (the plan is the output)."""
    if not context().dry_run:
        click.echo(text)


def say(text: str) -> None:
    """Print a line that holds text of the agent's (see devaipod.printable)."""
    from devaipod.printable import printable

    click.echo(printable(text))


_context: list = []


def context():
    """This process's Context (devaipod.context): the configuration, read once."""
    if not _context:
        from devaipod import context as context_
        from devaipod import runner

        _context.append(context_.load(settings.config, dry_run=runner.options.dry_run,
                                      debug=settings.debug, backend=settings.backend))
    return _context[0]


def json_option(func):
    return click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")(func)


def emit_json(data) -> None:
    import json

    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def workspace_argument(func):
    """WORKSPACE (short or full name) or -l/--latest, resolved to the pod name.

    With --latest, a positional word is an error, except for commands that
    take more words after WORKSPACE (exec): those find it in
    ``ctx.meta["devaipod.extra"]``.
    """

    def resolve(ctx: click.Context, _param, value):
        if ctx.resilient_parsing:
            return value
        from devaipod import kube
        from devaipod.workspace import lookup

        latest = ctx.meta.get("devaipod.latest", False)
        if latest and value is not None:
            if ctx.command.name != "exec":
                raise click.UsageError(f"give a WORKSPACE or --latest, not both ({value!r})")
            ctx.meta["devaipod.extra"] = [value]
            value = None
        cluster = kube.active(context())
        return (cluster or lookup).resolve(value, latest)

    func = click.argument("workspace", required=False, callback=resolve,
                          shell_complete=complete_workspace)(func)
    return click.option("-l", "--latest", is_flag=True, is_eager=True, expose_value=False,
                        callback=_remember_latest, help="Act on the newest workspace.")(func)


def complete_workspace(ctx: click.Context, _param, incomplete: str) -> list[str]:
    """The short names of this instance's workspaces that start with what is typed."""
    from devaipod.workspace import lookup

    try:
        names = [p.get("Name", "") for p in lookup.pods()]
    except Exception:  # no podman: no names, not a traceback in the shell
        return []
    from devaipod import layout

    shorts = [layout.short(n) for n in names]
    return [s for s in shorts if s.startswith(incomplete)]


def _remember_latest(ctx: click.Context, _param, value):
    ctx.meta["devaipod.latest"] = value
    return value
