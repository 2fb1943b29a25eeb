"""Background jobs of the control plane: `devaipod up/run/rebuild --progress=json` as a
subprocess.

The job reads the command's progress events (one JSON object per line on its
stdout: a step started, a line of a step's output, a message, and the last
one, ``{"state": "succeeded", "pod": ...}`` or ``{"state": "failed", "error":
...}``) and keeps a line for each step and output line, so the browser can follow
creation as it happens. It never reads log text.
"""

from __future__ import annotations

import json
import secrets
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from devaipod import runner


@dataclass
class Job:
    id: str
    argv: list[str]
    state: str = "running"  # running, succeeded, failed
    lines: list[str] = field(default_factory=list)
    pod: str | None = None
    error: str | None = None
    final: dict = field(default_factory=dict, repr=False)  # the last progress event
    changed: threading.Condition = field(default_factory=threading.Condition, repr=False)

    def as_dict(self) -> dict:
        return {"id": self.id, "state": self.state, "lines": list(self.lines),
                "pod": self.pod, "error": self.error}

    def add(self, line: str) -> None:
        with self.changed:
            self.lines.append(line)
            self.changed.notify_all()

    def event(self, line: str) -> None:
        """One line of the command's stdout: a progress event."""
        try:
            event = json.loads(line)
        except ValueError:
            event = None
        if not isinstance(event, dict):
            self.add(line)  # not an event: shown as it is, never read for the outcome
        elif event.get("state") in ("succeeded", "failed") and "step" not in event:
            self.final = event
        elif (text := event_text(event)) is not None:
            self.add(text)

    def finish(self, result: runner.Result) -> None:
        with self.changed:
            if result.returncode == 0 and self.final.get("state") == "succeeded":
                self.state, self.pod = "succeeded", self.final.get("pod")
            else:
                self.state = "failed"
                why = (result.stderr.strip().splitlines() or [""])[-1]
                self.error = (self.final.get("error")
                              or f"exit {result.returncode}{': ' + why if why else ''}")
                self.lines.append(f"Error: {self.error}")
            self.changed.notify_all()

    def follow(self, timeout: float = 15) -> Iterator[str | None]:
        """Each new line as it comes; None as a keep-alive tick; ends when the job does."""
        seen = 0
        while True:
            with self.changed:
                if seen == len(self.lines) and self.state == "running":
                    self.changed.wait(timeout)
                new, seen = self.lines[seen:], len(self.lines)
                done = self.state != "running" and seen == len(self.lines)
            yield from new or (None,)
            if done:
                return


def event_text(event: dict) -> str | None:
    """The job log's line for a progress event (None: nothing to show)."""
    if "step" in event:
        return str(event["step"]) if event.get("state") == "started" else None
    if "output" in event:
        return f"  {event['output']}"
    if "message" in event:
        level = event.get("level")
        return f"{level}: {event['message']}" if level in ("warning", "error") \
            else str(event["message"])
    return None


def creation_argv(req, config_file: str | None = None) -> list[str]:
    """`devaipod up|run` for a checked Request (request.from_options)."""
    from devaipod.workspace.request import cli_args

    return [*devaipod_argv(req.mode, config_file), *cli_args(req)]


def rebuild_argv(pod: str, config_file: str | None = None) -> list[str]:
    """`devaipod rebuild POD`: the web's Recreate."""
    return [*devaipod_argv("rebuild", config_file), "--", pod]


def devaipod_argv(verb: str, config_file: str | None) -> list[str]:
    argv = [sys.executable, "-m", "devaipod", verb, "--progress=json"]
    return argv + (["--config", config_file] if config_file else [])


class Jobs:
    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def start(self, argv: list[str]) -> Job:
        job = Job(secrets.token_hex(6), argv)
        with self._lock:
            self._jobs[job.id] = job
        threading.Thread(target=self._run, args=(job,), daemon=True).start()
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    @staticmethod
    def _run(job: Job) -> None:
        try:
            job.finish(runner.watch(job.argv, job.event, lines="stdout", mutating=True))
        except Exception as exc:  # the job fails, the server goes on
            job.finish(runner.Result(job.argv, 1, "", str(exc)))
