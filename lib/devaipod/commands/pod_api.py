"""devaipod pod-api: the per-pod sidecar server (the pod's only published port)."""

from __future__ import annotations

import click

from devaipod.clikit import command


def make_app(project: str, pod: str):
    import bottle

    app = bottle.Bottle()

    @app.get("/healthz")
    def healthz():
        return {"ok": True, "pod": pod, "project": project}

    return app


@command("pod-api")
@click.option("--port", type=int, default=8090, show_default=True, help="Port to listen on.")
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on.")
@click.option("--project", default="", help="The project directory under /workspaces.")
@click.option("--pod", default="", help="The pod this sidecar serves.")
def cli(port, host, project, pod) -> None:
    """Serve the pod's API sidecar: health now; git, PTY and agent proxy later."""
    import bottle

    bottle.run(make_app(project, pod), host=host, port=port, quiet=True)
