"""Carry out a workspace plan; on any failure or Ctrl-C, remove what was made."""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from devaipod import errors, podman, runner
from devaipod.podman import container, pod, secret, volume
from devaipod.workspace import names, remove
from devaipod.workspace.plan import Plan

log = logging.getLogger("devaipod")


class StepFailed(errors.DevaipodError):
    pass


@contextmanager
def step(what: str) -> Iterator[None]:
    log.info("%s", what)
    try:
        yield
    except errors.CommandError as exc:
        detail = errors.last_line(exc.stderr)
        raise StepFailed(f"{what} failed: {detail}", exc.hint) from exc


@contextmanager
def rollback_on_failure(pod_name: str) -> Iterator[None]:
    """Remove everything of ``pod_name`` when the block fails or is interrupted."""
    try:
        yield
    except BaseException as exc:
        if runner.options.dry_run:
            raise
        interrupted = isinstance(exc, KeyboardInterrupt)
        log.info("%s; removing what was created", "interrupted" if interrupted else "failed")
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            remove.purge(pod_name)
        except errors.DevaipodError as cleanup_error:
            log.warning("cleanup of %s incomplete: %s", pod_name, cleanup_error)
        finally:
            signal.signal(signal.SIGINT, previous)
        raise


def run_init(spec, what: str) -> None:
    with step(what):
        result = container.run(spec, check=False)
        if result.returncode != 0:
            raise errors.CommandError(
                ["podman", "run", spec.name], result.returncode,
                result.stderr or result.stdout)
        for line in result.stdout.splitlines():
            log.info("  %s", line)


def execute(plan: Plan, after_start: Callable[[], None] | None = None) -> None:
    with rollback_on_failure(plan.pod):
        with step("creating secrets"):
            for name, value in plan.secrets.items():
                secret.create(name, value, labels=_labels(plan))
        with step("creating volumes"):
            for name in plan.volumes:
                volume.create(name, labels=_labels(plan))
        for spec in plan.init:
            run_init(spec, describe_init(spec.name, plan))
        with step("creating the pod"):
            pod.create(plan.pod, **plan.pod_create)
        for spec in plan.containers:
            with step(f"creating container {spec.name}"):
                container.create(spec)
        with step("starting the pod"):
            pod.start(plan.pod)
        copy_home_files(plan.copies)
        run_steps(plan.after_start)
        if after_start:
            after_start()


def copy_home_files(copies) -> None:
    from devaipod.workspace import homefiles

    for c in copies:
        with step(f"copying ~/{c.rel} into {c.container}"):
            homefiles.carry_out(c)


def run_steps(steps) -> None:
    """Steps in order; neighbouring steps of one ``group`` run at the same time (the
    object form of a devcontainer lifecycle command) and all finish before any fails."""
    batch: list = []
    for s in [*steps, None]:
        if batch and (s is None or s.group is None or s.group != batch[0].group):
            _run_batch(batch)
            batch = []
        if s is not None:
            batch.append(s)


def _run_batch(batch: list) -> None:
    if len(batch) == 1 or runner.options.dry_run:
        for s in batch:
            run_step(s)
        return
    from concurrent.futures import ThreadPoolExecutor

    log.info("%s: %d commands in parallel", batch[0].group, len(batch))
    with ThreadPoolExecutor(len(batch)) as pool:
        futures = [pool.submit(run_step, s, f"[{s.what.split(':')[0]}] ") for s in batch]
        errors_ = [f.exception() for f in futures]
    failed = [e for e in errors_ if e is not None]
    if failed:
        raise failed[0]


def run_step(s, prefix: str = "") -> None:
    """A command in a running container, its output shown line by line."""
    argv = podman.argv(container.exec_argv(s.container, secret.with_env(s.argv), user=s.user,
                                           workdir=s.workdir))
    log.info("%s", s.what)
    if runner.options.dry_run:
        runner.capture(argv, mutating=True)
        return
    result = runner.watch(argv, lambda line: log.info("  %s%s", prefix, line), merged=True)
    if result.returncode != 0:
        raise StepFailed(f"{s.what} failed: {runner.join(s.argv)[:200]} exited with "
                         f"{result.returncode}", "see its output above")


def describe_init(name: str, plan: Plan) -> str:
    kind = name.rsplit("-init-", 1)[-1]
    if kind == "clone":
        return f"cloning {plan.labels.get('io.devaipod.source')}"
    if kind == "dotfiles":
        return "cloning and installing the dotfiles"
    if kind == "gator":
        return "writing the gator's grants"
    return f"making the {kind}'s clone"


def _labels(plan: Plan) -> dict[str, str]:
    return names.base_labels(plan.pod)
