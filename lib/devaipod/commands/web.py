"""devaipod web: the control plane (pages, API, terminals) on one port."""

from __future__ import annotations

import click

from devaipod.clikit import command


@command("web")
@click.option("--port", type=int, default=8080, show_default=True, help="Port to listen on.")
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on.")
@click.option("--open", "open_browser", is_flag=True, help="Open the login URL in a browser.")
def cli(port, host, open_browser) -> None:
    """Serve the control plane: workspaces, tasks, agents' progress, terminals.

    The login URL (with the token) is printed once on stdout. The token is
    read from /run/secrets/devaipod-web-token, else the state dir's
    web-token, else generated and saved there (mode 0600).
    """
    from devaipod.web import app

    if open_browser:
        import threading
        import webbrowser

        from devaipod.web import auth

        token, _ = auth.load_token()
        url = f"http://127.0.0.1:{port}/login?token={token}"
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    app.serve(host, port)
