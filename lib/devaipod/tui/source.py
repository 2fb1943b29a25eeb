"""What the dashboard shows and does, through the library functions the verbs use.

``Source`` is the one place the dashboard touches podman, the sidecars and the
workspaces; the unit tests give the app a fake with the same methods.
Refreshing is one `lookup.rows(agent=True)`, the call behind `devaipod list`:
the dashboard polls podman no more than `list` does.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from devaipod import layout, podman, runner, terminals, tmux
from devaipod.podman import container, secret


class Source:
    def rows(self) -> list:
        """Every workspace with its agent's state (`devaipod list --json`'s rows)."""
        from devaipod.workspace import lookup

        return lookup.rows(agent=True)

    # the lifecycle, as `devaipod start/stop/delete/done`
    def start(self, name: str) -> None:
        from devaipod.workspace import lifecycle

        lifecycle.start(name)

    def stop(self, name: str) -> None:
        from devaipod.workspace import lifecycle

        lifecycle.stop(name)

    def delete(self, name: str) -> None:
        """`devaipod delete --force`: the pod, its containers, volumes and secrets."""
        from devaipod.workspace import remove

        remove.purge(name)

    def done(self, name: str, done: bool) -> None:
        from devaipod.workspace import lifecycle

        lifecycle.mark_done(name, done=done)

    # review, as `devaipod review` and the web's Review tab
    def review(self, name: str) -> dict:
        from devaipod.workspace import review

        return review.load(name)

    def merge(self, name: str, shown: dict) -> str:
        """Land exactly the range shown (refused if the agent's branch moved since)."""
        from devaipod.workspace import review

        if shown.get("error"):
            raise review.ReviewError(f"cannot merge: {shown['error']}")
        return review.land(name, shown.get("head"), shown.get("base"))

    def reject(self, name: str) -> None:
        from devaipod.workspace import review

        review.reject(name)

    def logs(self, name: str, role: str = "agent", tail: int = 500) -> str:
        """The last lines of ROLE's log (as `devaipod logs -n TAIL`)."""
        target = layout.container(name, role)
        result = podman.capture(container.logs_argv(target, follow=False, tail=tail),
                                check=False)
        return (result.stdout or "") + (result.stderr or "")

    def launch(self, source: str, task: str, on_line: Callable[[str], None]) -> str | None:
        """`devaipod run|up --progress=json SOURCE [TASK]` (the web's creation job): each
        step to ON_LINE as it happens; returns the new pod, raises on failure."""
        from devaipod import errors
        from devaipod.clikit import settings
        from devaipod.web import jobs
        from devaipod.workspace.request import from_options

        req = from_options(source, "run" if task else "up", task or None, {})
        job = jobs.Job("tui", jobs.creation_argv(req, settings.config))
        seen = 0

        def event(line: str) -> None:
            nonlocal seen
            job.event(line)
            for text in job.lines[seen:]:
                on_line(text)
            seen = len(job.lines)

        job.finish(runner.watch(job.argv, event, lines="stdout", mutating=True))
        if job.state != "succeeded":
            raise errors.DevaipodError(f"creating a workspace for {source} failed: {job.error}")
        return job.pod

    # terminals: run in the foreground while the dashboard is suspended
    def attach(self, name: str) -> int:
        """`devaipod attach`: the agent's TUI and a shell in tmux, until detached."""
        session = terminals.tui_layout(name, "agent")
        return runner.stream(attach_argv(session, os.environ.get("TMUX")))

    def exec(self, name: str, role: str) -> int:
        """`devaipod exec` (-W: role workspace): a shell in the container."""
        argv = container.exec_argv(layout.container(name, role), secret.with_env(["bash"]),
                                   interactive=True, tty=True)
        return podman.stream(argv)


def attach_argv(session: str, tmux_env: str | None) -> list[str]:
    """Attach to SESSION until detached. Inside tmux (TMUX_ENV is $TMUX), a client of the
    same server nested in the dashboard's pane (switching the client would leave the
    dashboard behind); detach it with the prefix twice (C-b C-b d)."""
    argv = tmux.attach_argv(session, nested_ok=True)
    if not tmux_env:
        return argv
    socket = tmux_env.split(",")[0]
    return ["env", "-u", "TMUX", argv[0], "-S", socket, *argv[1:]]
