"""devaipod pod-api: the per-pod sidecar server (the pod's only published port)."""

from __future__ import annotations

import re

import click

from devaipod import layout
from devaipod.clikit import command

VAR = re.compile(r"[A-Z_][A-Z0-9_]*")


@command("pod-api")
@click.option("--port", type=int, default=layout.API_PORT, show_default=True,
              help="Port to listen on.")
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on.")
@click.option("--project", default="", help="The project directory under /workspaces.")
@click.option("--pod", default="", help="The pod this sidecar serves.")
@click.option("--opencode-port", type=int, default=layout.AGENT_PORT, show_default=True,
              help="Where OpenCode listens inside the pod.")
@click.option("--gator-link", "gator_links", multiple=True, metavar="OPENCODE:GATOR[:VAR]",
              help="Keep the OpenCode on port OPENCODE connected to the gator on port GATOR; "
              "its password is in the variable VAR (default OPENCODE_SERVER_PASSWORD; "
              "repeatable).")
def cli(port, host, project, pod, opencode_port, gator_links) -> None:
    """Serve the pod's API sidecar (runs inside the pod).

    Every route but /healthz needs the pod's token (Authorization: Bearer),
    read from DEVAIPOD_API_TOKEN, or a browser session (cookie and key) that a
    ticket from the control plane opened. /summary reports the agent's state;
    everything else is proxied to OpenCode with the password from
    OPENCODE_SERVER_PASSWORD added, so the password never leaves the pod.
    A --gator-link's VAR names the variable holding that OpenCode's password
    (the worker's is OPENCODE_WORKER_PASSWORD).
    """
    from devaipod.http import oneport
    from devaipod.podapi import app, mcpwatch

    links = [_link(text) for text in gator_links]
    if links:
        mcpwatch.start([mcpwatch.opencode(oc, var) for oc, _, var in links],
                       [gator for _, gator, _ in links])
    oneport.serve(app.from_environment(pod, project, opencode_port), host, port)


def _link(text: str) -> tuple[int, int, str]:
    opencode, sep, rest = text.partition(":")
    gator, _, var = rest.partition(":")
    var = var or "OPENCODE_SERVER_PASSWORD"
    if not (sep and opencode.isdigit() and gator.isdigit() and VAR.fullmatch(var)):
        raise click.BadParameter(f"{text!r}: expected OPENCODE_PORT:GATOR_PORT[:VARIABLE]",
                                 param_hint="--gator-link")
    return int(opencode), int(gator), var
