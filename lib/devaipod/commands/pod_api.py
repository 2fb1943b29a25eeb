"""devaipod pod-api: the per-pod sidecar server (the pod's only published port)."""

from __future__ import annotations

import click

from devaipod.clikit import command


@command("pod-api")
@click.option("--port", type=int, default=8090, show_default=True, help="Port to listen on.")
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on.")
@click.option("--project", default="", help="The project directory under /workspaces.")
@click.option("--pod", default="", help="The pod this sidecar serves.")
@click.option("--opencode-port", type=int, default=4096, show_default=True,
              help="Where OpenCode listens inside the pod.")
def cli(port, host, project, pod, opencode_port) -> None:
    """Serve the pod's API sidecar (runs inside the pod).

    Every route but /healthz needs the pod's token (Authorization: Bearer),
    read from DEVAIPOD_API_TOKEN. /summary reports the agent's state;
    everything else is proxied to OpenCode with the password from
    OPENCODE_SERVER_PASSWORD added, so the password never leaves the pod.
    """
    from devaipod.podapi import app
    from devaipod.web import oneport

    oneport.serve(app.from_environment(pod, project, opencode_port), host, port)
