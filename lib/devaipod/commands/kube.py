"""devaipod kube: Kubernetes objects of a workspace (and of the control plane)."""

from __future__ import annotations

import click

from devaipod import errors
from devaipod.clikit import context, emit_json, group, settings
from devaipod.commands.up import default_source, request, workspace_options


@group("kube")
def cli() -> None:
    """Print Kubernetes YAML for a workspace, from the plan `up` builds.

    Data goes to stdout, logs to stderr: `devaipod kube generate SOURCE |
    kubectl apply -f -`.
    """


@cli.command("generate")
@workspace_options
@click.option("--namespace", metavar="NAME", help="Put the objects in this namespace.")
@click.option("--storage-class", metavar="NAME",
              help="The storage class of the volumes' claims (default: the cluster's).")
@click.option("--copy-user-secrets", is_flag=True,
              help="Copy the values of your own podman secrets the workspace uses "
              "([trusted] secrets) into its Secrets (read from podman).")
@click.option("--control-plane", is_flag=True,
              help="Print the control plane's objects instead (SOURCE is not used).")
def generate(source, task, as_json, namespace, storage_class, copy_user_secrets,
             control_plane, **options) -> None:
    """Print the Kubernetes objects of a workspace for SOURCE.

    They come from the plan `up` builds with the same options (nothing is
    created in podman): its Secrets (one per container and directory of secret
    files, mounted where podman mounts them), PersistentVolumeClaims, the Pod
    (the clones as init containers), a Service for the sidecar's port and a
    NetworkPolicy. What has no Kubernetes form is logged as a warning.
    """
    if settings.progress == "json":
        raise errors.DevaipodError("kube generate prints YAML on stdout: --progress json "
                                   "would mix with it", "leave out --progress json")
    if control_plane:
        objs = control_plane_objects(namespace)
    else:
        objs = workspace_objects(source, task, options, namespace, storage_class,
                                 copy_user_secrets)
    if as_json:
        emit_json({"apiVersion": "v1", "kind": "List", "items": objs})
        return
    from devaipod.kube import yamlout

    click.echo(yamlout.dump(objs), nl=False)


def workspace_objects(source, task, options, namespace, storage_class,
                      copy_user_secrets) -> list[dict]:
    from devaipod.kube import backend
    from devaipod.workspace.create import prepare

    _inputs, p, _token = prepare(request(default_source(source), "up", task, options),
                                 context(), new=False, executor=PRINTED)
    return backend.objects_of(p, namespace, storage_class, copy_user_secrets)


class Printed:
    """`kube generate`'s workspace.create.Executor: the plan is printed, not carried out;
    as for the Kubernetes backend, the images and devcontainer.json are the cluster's (no
    podman here), and no name is checked (new=False: nothing calls ``prepare``)."""

    local = False

    def prepare(self, i) -> None:
        pass

    def execute(self, plan, after_start, dry_run) -> None:
        raise NotImplementedError("kube generate carries out nothing")


PRINTED = Printed()


def control_plane_objects(namespace: str | None) -> list[dict]:
    from devaipod import images
    from devaipod.kube import controlplane

    return controlplane.objects(namespace or "devaipod",
                                images.api_image(context().config.api_image))
