"""Background jobs of the control plane: `devaipod up/run` as a subprocess.

Each job keeps its progress lines (devaipod's log on stderr) so the browser
can follow creation as it happens.
"""

from __future__ import annotations

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
    changed: threading.Condition = field(default_factory=threading.Condition, repr=False)

    def as_dict(self) -> dict:
        return {"id": self.id, "state": self.state, "lines": list(self.lines),
                "pod": self.pod, "error": self.error}

    def add(self, line: str) -> None:
        with self.changed:
            self.lines.append(line.removeprefix("devaipod: "))
            self.changed.notify_all()

    def finish(self, result: runner.Result) -> None:
        with self.changed:
            if result.returncode == 0:
                self.state = "succeeded"
                out = result.stdout.strip().splitlines()
                self.pod = out[0] if out else None
            else:
                self.state = "failed"
                errors = [ln for ln in self.lines if ln.startswith("Error:")]
                self.error = errors[-1] if errors else f"exit {result.returncode}"
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
            yield from new or [None]
            if done:
                return


def creation_argv(spec: dict) -> list[str]:
    """`devaipod up|run` for a form's fields (validated by the caller)."""
    argv = [sys.executable, "-m", "devaipod", spec["mode"]]
    for key in ("name", "image", "network"):
        if spec.get(key):
            argv += [f"--{key}", spec[key]]
    for scope in spec.get("gator") or ():
        argv += ["--service-gator", scope]
    argv += ["--", spec["source"]]
    return argv + ([spec["task"]] if spec.get("task") else [])


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
            job.finish(runner.watch(job.argv, job.add))
        except Exception as exc:  # the job fails, the server goes on
            job.add(f"Error: {exc}")
            job.finish(runner.Result(job.argv, 1, "", str(exc)))
