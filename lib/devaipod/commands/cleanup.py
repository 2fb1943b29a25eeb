"""devaipod cleanup: remove volumes, secrets, containers and networks whose workspace is
gone."""

from __future__ import annotations

import os

import click

from devaipod import layout, runner
from devaipod.clikit import command, context, dry_run_option, echo_result, emit_json, json_option
from devaipod.podman import container, network, secret, volume
from devaipod.workspace import lookup


def orphans() -> dict[str, list[str]]:
    from devaipod import sshconfig

    live = {p["Name"] for p in lookup.pods()}

    def orphaned(labels: dict | None) -> bool:
        labels = labels or {}
        return layout.in_instance(labels) and labels.get(layout.POD, "") not in live

    flt = layout.instance_filter()
    return {
        "containers": [c["Names"][0] for c in container.ps(flt)
                       if orphaned(c.get("Labels")) and not c.get("Pod")],
        "volumes": [v["Name"] for v in volume.ls(flt) if orphaned(v.get("Labels"))],
        # an allow-list workspace's internal network (podman's JSON: lower-case keys)
        "networks": [n["name"] for n in network.ls(flt) if orphaned(n.get("labels"))],
        "secrets": [secret.name_of(s) for s in secret.ls()
                    if secret.labels_of(s).get(layout.MANAGED) == "true"
                    and orphaned(secret.labels_of(s))],
        "ssh-configs": [str(path) for path in sshconfig.stale(live)],
    }


@command("cleanup")
@dry_run_option
@json_option
def cli(as_json) -> None:
    """Remove this instance's volumes, secrets, containers, networks and SSH configs left
    without a pod."""
    found = orphans()
    container.rm(found["containers"], force=True)
    volume.rm(found["volumes"], force=True)
    for name in found["networks"]:  # once the containers on it are gone
        network.rm(name, force=True)
    secret.rm(found["secrets"])
    for path in found["ssh-configs"]:
        if context().dry_run:
            click.echo(runner.join(["rm", "-f", path]))  # the plan, like podman's commands
        else:
            os.unlink(path)
    if as_json:
        emit_json(found)
    else:
        for kind, items in found.items():
            for item in items:
                echo_result(f"{kind[:-1]} {item}")
