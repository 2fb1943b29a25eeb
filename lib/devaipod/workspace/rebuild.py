"""Rebuild a workspace: new containers from its plan made again, its volumes kept.

The plan is made again as creation makes it (``inputs.make`` from the pod's
labels: source, mode, image, network, task, title), with devcontainer.json
read from the workspace's own volume when it has one (edits made in the
workspace count), else from the source. It is carried out by
``create.execute`` with what exists kept: the volumes (and so the git trees
and homes: an init container runs only for a volume that is new), the
passwords and tokens made at creation. Everything that can fail before the
old containers go (the source, devcontainer.json, a build, the images) is
done first; if a later step fails, only what the rebuild made is removed,
and the error says that the pod (its labels: the recipe), volumes and secrets
are kept, so that the rebuild can be run again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from devaipod import errors, layout
from devaipod.config_schema import Config
from devaipod.context import Context
from devaipod.podman import pod, secret, volume
from devaipod.podman.container import Limits
from devaipod.workspace import audit as trail
from devaipod.workspace import create
from devaipod.workspace import plan as plan_
from devaipod.workspace.request import Request

log = logging.getLogger("devaipod")

# labels of creation that a rebuild keeps as they are
KEPT_LABELS = (".created", ".pr", ".forge", ".service-gator")


class RebuildFailed(errors.DevaipodError):
    pass


def request(name: str, labels: dict, image: str | None, pull: str | None = None) -> Request:
    """What the workspace was made with, as creation's Request (from its labels). The
    image is resolved again (devcontainer.json, default-image) unless --image chose it."""
    def label(key: str) -> str | None:
        return layout.read_label(labels, key)

    if not label("source"):
        raise errors.DevaipodError(f"{name} has no io.devaipod.source label",
                                   "it was not made by devaipod; delete and recreate it")
    if image is None and label("image-from") in (None, "option"):
        image = label("image")  # --image (or a pod made before image-from was recorded)
    return Request(label("source") or "", label("mode") or "up", name=name,
                   image=image, network=label("network"),
                   task=label("task"), title=label("title"),
                   trust_source=label("trust-source") == "true", egress=label("egress"),
                   workspace_volume=layout.volume(name, "workspace"), pull=pull,
                   **limit_options(label("limits")))


def limit_options(text: str | None) -> dict:
    """The Request's --cpus, --memory, --pids-limit of the ``limits`` label (kept)."""
    found = Limits.parse(text)
    return {"cpus": float(found["cpus"]) if "cpus" in found else None,
            "memory": found.get("memory"),
            "pids_limit": int(found["pids"]) if found.get("pids", "").isdigit() else None}


def update_state(name: str, config: Config) -> dict:
    """Whether NAME's agent runs an older image than its workspace is configured with:
    the image it was made from (its label; the configuration's default-image now, for a
    workspace made with the default) as this machine has it now, by id. A changed
    devcontainer.json is not looked for (that reads the workspace's volume); `devaipod
    rebuild` reads it again anyway."""
    from devaipod import images
    from devaipod.podman import container, image

    labels = pod.inspect(name).get("Labels") or {}
    made_from = layout.read_label(labels, "image")
    ref = (images.default_image(config.default_image)
           if layout.read_label(labels, "image-from") == "default" else made_from)
    try:
        running = (container.inspect([layout.container(name, "agent")]) or [{}])[0].get("Image")
    except errors.DevaipodError:
        running = None
    try:
        configured = image.inspect(ref).get("Id") if ref else None
    except errors.DevaipodError:
        configured = None  # not on this machine (yet): a rebuild pulls it
    changed = bool(running and configured and running != configured) or ref != made_from
    reason = (f"the configured image is now {ref} (made with {made_from})" if ref != made_from
              else f"{ref} is a newer image than the agent's" if changed else "")
    return {"update": changed, "reason": reason, "image": ref, "running": running,
            "configured": configured, "devcontainer": None}


def replan(name: str, ctx: Context, image: str | None = None,
           run_create: bool = False, pull: str | None = None) -> plan_.Plan:
    from devaipod import devcontainer
    from devaipod.workspace import inputs

    labels = pod.inspect(name).get("Labels") or {}
    i = inputs.make(request(name, labels, image, pull), ctx.config, new=False)
    if i.gator is None and layout.read_label(labels, "service-gator"):
        from devaipod.gator.scopes import Scopes

        i.gator = Scopes()  # made with --service-gator: keep the gator (its grants are kept)
    inputs.preflight(i)
    lifecycle = devcontainer.CREATE + devcontainer.START if run_create else devcontainer.START
    p = plan_.build(i, password="", api_token="", lifecycle=lifecycle)
    keep = {k: v for k, v in labels.items() if k.endswith(KEPT_LABELS)}
    p.labels.update(keep)
    p.pod_create["labels"] = p.labels
    for spec in p.containers:
        if spec.labels.get(layout.ROLE) == "workspace":
            spec.labels.update(keep)
    return p


def keep_secrets(pod_name: str, planned: dict[str, str], exists: Callable[[str], bool]
                 ) -> set[str]:
    """The secrets of PLANNED a rebuild keeps (EXISTS(name) tells whether one exists).

    The passwords and tokens made at creation are kept; so are the OpenCode
    configurations (they keep creation's --mcp and --no-auto-approve, and
    hold the gator's tokens), unless a gator token had to be made anew (a
    pod from before the gator had tokens): then they are written again.
    """
    from devaipod.workspace import worker as worker_

    made_once = {layout.password_secret(pod_name), layout.api_token_secret(pod_name),
                 layout.worker_password_secret(pod_name), layout.gator_token_secret(pod_name),
                 layout.gator_ro_token_secret(pod_name)}
    configs = {f"{pod_name}-opencode-config", worker_.config_secret(pod_name)}
    kept = {s for s in made_once if s in planned and exists(s)}
    new_tokens = [s for s in (layout.gator_token_secret(pod_name),
                              layout.gator_ro_token_secret(pod_name))
                  if s in planned and s not in kept]
    if not new_tokens:
        kept |= {s for s in configs if s in planned and exists(s)}
    kept |= {layout.password_secret(pod_name), layout.api_token_secret(pod_name)}
    return kept


def rebuild(name: str, ctx: Context, image: str | None = None,
            run_create: bool = False, pull: str | None = None) -> plan_.Plan:
    """New containers for workspace NAME; its volumes and secrets are kept. ``pull``:
    when images are pulled (else the configuration's [podman] pull)."""
    p = replan(name, ctx, image, run_create, pull)
    trail.note(name, "human", action="recreate", image=next(
        (s.image for s in p.containers if s.labels.get(layout.ROLE) == "agent"), image))
    kept_secrets = keep_secrets(name, p.secrets, secret.exists)
    if f"{name}-opencode-config" not in kept_secrets and secret.exists(f"{name}-opencode-config"):
        log.warning(
            "the agent's OpenCode configuration is written again (for the gator's new token): "
            "--mcp and --no-auto-approve given at creation are not kept")
    kept = create.Keep(volumes={v for v in p.volumes if volume.exists(v)},
                       secrets=kept_secrets, pod=True)
    with create.step("removing the old containers"):
        pod.rm(name, force=True)
    with create.step("creating the pod"):  # first: its labels hold the recipe
        pod.create(name, **p.pod_create)
    with create.step("replacing the pod's changed secrets"):
        secret.rm([s for s in p.secrets if s not in kept.secrets and secret.exists(s)])
    agent = next(s for s in p.containers if s.labels.get(layout.ROLE) == "agent")
    worker = any(s.labels.get(layout.ROLE) == "worker" for s in p.containers)
    try:
        create.run_init(plan_.take_over(name, agent.image, worker),
                        "giving the agent's trees to its user")
        create.execute(p, keep=kept, dry_run=ctx.dry_run)
    except errors.DevaipodError as exc:
        raise RebuildFailed(
            f"rebuilding {layout.short(name)} failed: {exc.format_message()}",
            "the pod (without containers), its volumes (the git trees, the agent's home) "
            f"and secrets are kept: run 'devaipod rebuild {layout.short(name)}' again, or "
            "'devaipod delete' it") from exc
    return p
