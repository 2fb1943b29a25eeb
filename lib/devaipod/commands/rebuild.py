"""devaipod rebuild: new containers for a workspace, same volumes."""

from __future__ import annotations

import logging

import click

from devaipod import errors
from devaipod.clikit import command, dry_run_option, echo_result, workspace_argument
from devaipod.podman import container, pod, secret
from devaipod.workspace import names

log = logging.getLogger("devaipod")


def _label(labels: dict, key: str) -> str | None:
    return labels.get(f"{names.LABEL}.{key}") or None


def replan(name: str, image: str | None):
    from devaipod.workspace import inputs, plan

    labels = pod.inspect(name).get("Labels") or {}
    if not _label(labels, "source"):
        raise errors.DevaipodError(f"{name} has no io.devaipod.source label",
                                   "it was not made by devaipod; delete and recreate it")
    i = inputs.make(_label(labels, "source"), mode=_label(labels, "mode") or "up", name=name,
                    image=image or _label(labels, "image"), network=_label(labels, "network"),
                    task=_label(labels, "task"), title=_label(labels, "title"), new=False)
    if i.gator is None and _label(labels, "service-gator"):
        from devaipod.gator.scopes import Scopes

        i.gator = Scopes()  # made with --service-gator: keep the gator (its grants are kept)
    p = plan.build(i, password="", api_token="")
    keep = {k: v for k, v in labels.items()
            if k.endswith((".created", ".pr", ".forge", ".service-gator"))}
    p.labels.update(keep)
    p.pod_create["labels"] = p.labels
    for spec in p.containers:
        if spec.labels.get(names.ROLE) == "workspace":
            spec.labels.update(keep)
    return p


def keep_secrets(pod: str, planned: dict[str, str], exists) -> set[str]:
    """The secrets of PLANNED a rebuild keeps (EXISTS(name) tells whether one exists).

    The passwords and tokens made at creation are kept; so are the OpenCode
    configurations (they keep creation's --mcp and --no-auto-approve, and
    hold the gator's tokens), unless a gator token had to be made anew (a
    pod from before the gator had tokens): then they are written again.
    """
    from devaipod.workspace import worker as worker_

    made_once = {names.password_secret(pod), names.api_token_secret(pod),
                 names.worker_password_secret(pod), names.gator_token_secret(pod),
                 names.gator_ro_token_secret(pod)}
    configs = {f"{pod}-opencode-config", worker_.config_secret(pod)}
    kept = {s for s in made_once if s in planned and exists(s)}
    new_tokens = [s for s in (names.gator_token_secret(pod), names.gator_ro_token_secret(pod))
                  if s in planned and s not in kept]
    if not new_tokens:
        kept |= {s for s in configs if s in planned and exists(s)}
    kept |= {names.password_secret(pod), names.api_token_secret(pod)}  # never made anew
    return kept


def refresh_secrets(pod: str, planned: dict[str, str]) -> None:
    kept = keep_secrets(pod, planned, secret.exists)
    stale = [s for s in planned if s not in kept]
    if f"{pod}-opencode-config" in stale and secret.exists(f"{pod}-opencode-config"):
        log.warning(
            "the agent's OpenCode configuration is written again (for the gator's new token): "
            "--mcp and --no-auto-approve given at creation are not kept")
    secret.rm([s for s in stale if secret.exists(s)])
    for s in stale:
        secret.create(s, planned[s], labels=names.base_labels(pod))


@command("rebuild")
@workspace_argument
@click.option("--image", metavar="IMAGE", help="Rebuild with this image.")
@dry_run_option
def cli(workspace, image) -> None:
    """Recreate WORKSPACE's containers (e.g. with a new --image), keeping its volumes.

    The git trees, the agent's home and the pod's secrets are kept.
    """
    from devaipod.podman import volume
    from devaipod.workspace import create, inputs
    from devaipod.workspace import gator as gator_
    from devaipod.workspace import plan as plan_

    p = replan(workspace, image)
    inputs.check_images([spec.image for spec in p.containers])
    with create.step("removing the old containers"):
        pod.rm(workspace, force=True)
    with create.step("refreshing the pod's secrets"):
        refresh_secrets(workspace, p.secrets)
    new_volumes = [v for v in p.volumes if not volume.exists(v)]
    with create.step("creating volumes"):
        for v in new_volumes:
            volume.create(v, labels=names.base_labels(workspace))
    agent = next(spec for spec in p.containers if spec.labels.get(names.ROLE) == "agent")
    worker = any(spec.labels.get(names.ROLE) == "worker" for spec in p.containers)
    create.run_init(plan_.take_over(workspace, agent.image, worker),
                    "giving the agent's trees to its user")
    for spec in p.init:  # only the gator's grants: the trees and homes are kept
        if spec.name.endswith("-init-gator") and gator_.volume(workspace) in new_volumes:
            create.run_init(spec, "writing the gator's grants")
    with create.step("creating the pod"):
        pod.create(workspace, **p.pod_create)
    for spec in p.containers:
        with create.step(f"creating container {spec.name}"):
            container.create(spec)
    with create.step("starting the pod"):
        pod.start(workspace)
    create.copy_home_files(p.copies)  # the workspace's home is not a volume
    echo_result(workspace)
