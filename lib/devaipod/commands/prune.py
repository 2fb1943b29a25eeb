"""devaipod prune: delete every done workspace of this instance."""

from __future__ import annotations

from devaipod.clikit import command, dry_run_option, echo_result, emit_json, json_option
from devaipod.workspace import lifecycle


@command("prune")
@dry_run_option
@json_option
def cli(as_json) -> None:
    """Delete the workspaces marked done, with their volumes and secrets."""
    pruned = lifecycle.prune()
    if as_json:
        emit_json(pruned)
    else:
        for name in pruned:
            echo_result(name)
