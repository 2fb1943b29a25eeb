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
@click.option("--gator-link", "gator_links", multiple=True, metavar="OPENCODE:GATOR",
              help="Keep the OpenCode on port OPENCODE connected to the gator on port GATOR "
              "(repeatable).")
def cli(port, host, project, pod, opencode_port, gator_links) -> None:
    """Serve the pod's API sidecar (runs inside the pod).

    Every route but /healthz needs the pod's token (Authorization: Bearer),
    read from DEVAIPOD_API_TOKEN, or a browser session (cookie and key) that a
    ticket from the control plane opened. /summary reports the agent's state;
    everything else is proxied to OpenCode with the password from
    OPENCODE_SERVER_PASSWORD added, so the password never leaves the pod.
    """
    from devaipod.podapi import app, mcpwatch
    from devaipod.web import oneport

    links = [_link(text) for text in gator_links]
    if links:
        mcpwatch.start([app.upstream_from_environment(oc) for oc, _ in links],
                       [gator for _, gator in links])
    oneport.serve(app.from_environment(pod, project, opencode_port), host, port)


def _link(text: str) -> tuple[int, int]:
    opencode, sep, gator = text.partition(":")
    if not (sep and opencode.isdigit() and gator.isdigit()):
        raise click.BadParameter(f"{text!r}: expected OPENCODE_PORT:GATOR_PORT",
                                 param_hint="--gator-link")
    return int(opencode), int(gator)
