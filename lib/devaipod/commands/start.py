"""devaipod start / stop: start or stop a workspace's pod."""

from __future__ import annotations

from devaipod.clikit import command, dry_run_option, echo_result, workspace_argument
from devaipod.podman import pod


@command("start")
@workspace_argument
@dry_run_option
def cli(workspace) -> None:
    """Start WORKSPACE's pod (its trees are kept in volumes)."""
    pod.start(workspace)
    run_post_start(workspace)
    echo_result(workspace)


def run_post_start(workspace: str) -> None:
    """The devcontainer's postStartCommand, again at every start."""
    import json

    from devaipod.workspace import create, names, plan

    label = (pod.inspect(workspace).get("Labels") or {}).get(f"{names.LABEL}.post-start")
    for name, argv in json.loads(label) if label else []:
        for role in ("workspace", "agent"):
            create.run_step(plan.Step(f"{name} ({role})", names.container(workspace, role),
                                      argv))
