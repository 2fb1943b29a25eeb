"""devaipod web: the control plane (pages, API, terminals) on one port."""

from __future__ import annotations

import click

from devaipod.clikit import command, context


@command("web")
@click.option("--port", type=int, default=8080, show_default=True, help="Port to listen on.")
@click.option("--host", default=None,
              help="Address to listen on (default 127.0.0.1; 0.0.0.0 inside the devaipod "
              "container, whose port podman publishes).")
@click.option("--session-hours", type=click.FloatRange(min=0, min_open=True), default=12,
              show_default=True, help="How long a browser's login lasts.")
@click.option("--rotate-token", is_flag=True,
              help="Write a new token (a running server picks it up: every session ends), "
              "print the new login URL, and exit.")
@click.option("--open", "open_browser", is_flag=True, help="Open the login URL in a browser.")
def cli(port, host, session_hours, rotate_token, open_browser) -> None:
    """Serve the control plane: workspaces, tasks, agents' progress, terminals.

    The login URL (with the token) is printed once on stdout. The token is
    read from /run/secrets/devaipod-web-token, else the state dir's
    web-token, else generated and saved there (mode 0600).
    """
    from devaipod import state
    from devaipod.web import app, auth

    host = host or ("0.0.0.0" if state.in_container() else "127.0.0.1")
    if rotate_token:
        click.echo(f"Login URL: {app.login_url(host, port, auth.rotate_token())}")
        return
    if open_browser:
        import threading
        import webbrowser

        url = app.login_url(host, port, auth.load_token()[0])
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    app.serve(host, port, session_hours, context())
