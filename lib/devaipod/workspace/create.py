"""Make a workspace: the one way the CLI (`up`, `run`) and the control plane do it.

``create(request, ctx)`` turns a :class:`Request` into a plan and carries it out;
on any failure or Ctrl-C, everything it made is removed. ``execute(plan, keep)``
is shared with ``rebuild``, which keeps the workspace's volumes and secrets.

Each step is logged with its progress (``extra={"progress": {...}}``): one
object per step started or failed, and one per line of a command's output. The
CLI's ``--progress=json`` prints them as JSON lines (the control plane's job
log reads those), the plain CLI as log lines.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING, Protocol

from devaipod import errors, layout, podman, runner, sshconfig, state
from devaipod.context import Context
from devaipod.podman import container, pod, secret, volume
from devaipod.workspace import egress, remove, scripts
from devaipod.workspace.plan import Plan
from devaipod.workspace.request import Request

if TYPE_CHECKING:
    from devaipod.podman.container import Spec
    from devaipod.workspace.homefiles import Copy
    from devaipod.workspace.plan import Inputs, Step

log = logging.getLogger("devaipod")


class StepFailed(errors.DevaipodError):
    pass


def output(line: str, prefix: str = "") -> None:
    """A line of a step's command output."""
    log.info("  %s%s", prefix, line, extra={"progress": {"output": prefix + line}})


def started(what: str) -> None:
    log.info("%s", what, extra={"progress": {"step": what, "state": "started"}})


@contextmanager
def timed(what: str) -> Iterator[None]:
    """Log (--debug) how long the block took: the step table of ``devaipod --debug``."""
    t0 = time.monotonic()
    try:
        yield
    finally:
        log.debug("took %4.0f ms: %s", (time.monotonic() - t0) * 1000, what)


@contextmanager
def step(what: str) -> Iterator[None]:
    started(what)
    try:
        with timed(what):
            yield
    except errors.CommandError as exc:
        detail = errors.last_line(exc.stderr)
        raise StepFailed(f"{what} failed: {detail}", exc.hint) from exc


@dataclass(frozen=True)
class Keep:
    """What exists and stays as it is (a rebuild's pod, volumes and secrets)."""

    volumes: set[str] = field(default_factory=set)
    secrets: set[str] = field(default_factory=set)
    pod: bool = False  # the pod exists (made by the caller): only its containers are new


@contextmanager
def rollback_on_failure(pod_name: str, dry_run: bool = False, keep: Keep = Keep(),
                        containers: list[str] | tuple[str, ...] = ()) -> Iterator[None]:
    """Remove everything of ``pod_name`` but what KEEP names when the block fails or is
    interrupted (a dry run made nothing)."""
    try:
        yield
    except BaseException as exc:
        if dry_run:
            raise
        interrupted = isinstance(exc, KeyboardInterrupt)
        log.info("%s; removing what was created", "interrupted" if interrupted else "failed")
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            remove.purge(pod_name, keep.volumes | keep.secrets, keep.pod, list(containers))
        except errors.DevaipodError as cleanup_error:
            log.warning("cleanup of %s incomplete: %s", pod_name, cleanup_error)
        finally:
            signal.signal(signal.SIGINT, previous)
        raise


def run_init(spec: Spec, what: str,
             explain: Callable[[str], errors.DevaipodError] | None = None) -> None:
    """Init container SPEC; EXPLAIN turns its stderr into the error when it fails."""
    with step(what):
        result = container.run(spec, check=False)
        if result.returncode != 0 and explain is not None:
            raise explain(result.stderr or result.stdout)
        if result.returncode != 0:
            raise errors.CommandError(
                ["podman", "run", spec.name], result.returncode,
                result.stderr or result.stdout)
        for line in result.stdout.splitlines():
            output(line)


class Executor(Protocol):
    """Where a plan is carried out: podman here (``PODMAN``), or a cluster (kube.backend)."""

    local: bool  # the images and devcontainer.json are this machine's (inputs.make)

    def prepare(self, i: Inputs) -> None:
        """Checks before anything is made (the name is free, the images are there)."""

    def execute(self, plan: Plan, after_start: Callable[[], None], dry_run: bool) -> None:
        """Make what PLAN says; on failure, remove what was made."""


class _Podman:
    local = True

    def prepare(self, i: Inputs) -> None:
        from devaipod.workspace import inputs

        inputs.preflight(i)

    def execute(self, plan: Plan, after_start: Callable[[], None], dry_run: bool) -> None:
        execute(plan, after_start=after_start, dry_run=dry_run)


PODMAN: Executor = _Podman()


def prepare(request: Request, ctx: Context, *, new: bool = True,
            executor: Executor = PODMAN) -> tuple[Inputs, Plan, str]:
    """The inputs and the plan of the workspace REQUEST asks for, and its sidecar's API
    token: what `up` makes with podman and `kube generate` prints for Kubernetes. NEW:
    check first that EXECUTOR has no workspace of that name."""
    from devaipod.workspace import inputs
    from devaipod.workspace import plan as plan_

    with timed("the inputs (checks, devcontainer.json, images)"):
        i = inputs.make(request, ctx.config, new=new, local=executor.local)
        if new or executor.local:
            executor.prepare(i)
    token = inputs.new_token()
    return i, plan_.build(i, inputs.new_password(), token), token


def create(request: Request, ctx: Context, executor: Executor = PODMAN) -> Plan:
    """Make the workspace REQUEST asks for with EXECUTOR (nothing is left if it fails);
    its plan."""
    i, p, token = prepare(request, ctx, executor=executor)
    executor.execute(p, lambda: runner.local(state.save_pod_token, p.pod, token),
                     ctx.dry_run)
    if executor.local and not ctx.dry_run and ctx.config.ssh.auto_config:
        path = sshconfig.write(p.pod, worker=i.orchestration)
        if path:
            log.info("ssh config %s: ssh %s", path, p.pod)
    return p


def execute(plan: Plan, after_start: Callable[[], None] | None = None,
            dry_run: bool = False, keep: Keep = Keep()) -> None:
    """Make what PLAN says but what KEEP names; an init container runs only when a volume
    it writes is new. On failure or Ctrl-C, what this made is removed."""
    secrets = {n: v for n, v in plan.secrets.items() if n not in keep.secrets}
    volumes = [v for v in plan.volumes if v not in keep.volumes]
    with rollback_on_failure(plan.pod, dry_run, keep, [c.name for c in plan.containers]):
        together(partial(make_secrets, plan, secrets), partial(make_volumes, plan, volumes))
        # the git trees are laid out while the pod is made, its infra started and the
        # containers started first made: neither needs the other, and none of those
        # containers starts before both are done
        together(partial(run_inits, plan, volumes), partial(make_pod, plan, keep))
        if plan.egress is not None:
            with step("starting the egress proxy"):
                egress.start(plan.pod, known=True)
        start_pod(plan)
        copy_home_files(plan.copies)
        run_steps(plan.after_start)
        if after_start:
            after_start()


def together(*calls: Callable[[], None]) -> None:
    """CALLS at the same time (in order under --dry-run); when one fails, the others
    still finish (so that a rollback finds all they made), then the first error."""
    failed = runner.in_parallel(list(calls))
    if failed:
        raise failed[0]


def make_secrets(plan: Plan, secrets: dict[str, str]) -> None:
    """SECRETS, all at once (each is one podman call of its own)."""
    if secrets:
        with step("creating secrets"):
            together(*(partial(secret.create, name, value, labels=_labels(plan))
                       for name, value in secrets.items()))


def make_volumes(plan: Plan, volumes: list[str]) -> None:
    """VOLUMES, all at once."""
    if volumes:
        with step("creating volumes"):
            together(*(partial(volume.create, name, labels=_labels(plan)) for name in volumes))


def run_inits(plan: Plan, volumes: list[str]) -> None:
    """The init containers, in order, each only when a volume it writes is new. When both
    clones are made, the agent's container starts with the workspace's and waits for it
    inside (its own start-up meanwhile); it is removed if the workspace's fails. The
    gator's grants, which read neither tree, are written at the same time."""
    todo = [spec for spec in plan.init if writes_any(spec, volumes)]
    names = [spec.name for spec in todo]
    clone, agent, grants = (f"{plan.pod}-init-{kind}" for kind in ("clone", "agent", "gator"))
    if names[:2] == [clone, agent]:
        first, second = todo[:2]
        second = replace(second, command=scripts.waiting(second.command))
        done = threading.Event()
        alongside = [s for s in todo[2:] if s.name == grants]
        together(partial(_clone_or_stop, first, plan, agent, done),
                 partial(_until_done, done, run_init, second, describe_init(agent, plan)),
                 *(partial(init_step, s, plan) for s in alongside))
        todo = [s for s in todo[2:] if s not in alongside]
    for spec in todo:
        init_step(spec, plan)


def init_step(spec: Spec, plan: Plan) -> None:
    """Init container SPEC of PLAN, described and explained as the plan says."""
    run_init(spec, describe_init(spec.name, plan), plan.explain.get(spec.name))


def _clone_or_stop(spec: Spec, plan: Plan, waiting: str, done: threading.Event) -> None:
    """The workspace's clone; if it fails, the container WAITING for it is removed (also
    when it is created a moment later) until it is DONE, at most 30 s."""
    try:
        init_step(spec, plan)
    except BaseException:
        for _ in range(60):
            with suppress(errors.DevaipodError):  # the clone's error is the one to show
                container.rm([waiting], force=True, ignore=True)
            if done.wait(0.5):
                break
        raise


def _until_done(done: threading.Event, call: Callable[..., None], *args) -> None:
    try:
        call(*args)
    finally:
        done.set()


# the containers started first: the agent (everything waits for its OpenCode), the gator
# it connects to and the sidecar everything reaches it through (in the plan's order, as
# the pod's start would); the workspace and the worker are made while OpenCode starts
FIRST_ROLES = ("agent", "gator", "api")


def first_and_rest(plan: Plan) -> tuple[list[Spec], list[Spec]]:
    first = [c for c in plan.containers if c.labels.get(layout.ROLE) in FIRST_ROLES]
    return first, [c for c in plan.containers if c not in first]


def make_pod(plan: Plan, keep: Keep) -> None:
    """The pod (unless KEEP has it) with its infra container started (its network is set
    up meanwhile, so the agent's start is only the agent's) and the containers started
    first, created."""
    if plan.egress is not None and not keep.pod:
        with step("creating the internal network and the egress proxy"):
            egress.make(plan.egress)
    if not keep.pod:
        with step("creating the pod"):
            pod.create(plan.pod, **plan.pod_create)
            pod.start(plan.pod)  # only its infra container so far
    make_containers(first_and_rest(plan)[0])


def make_containers(specs: Iterable[Spec]) -> None:
    for spec in specs:
        with step(f"creating container {spec.name}"):
            container.create(spec)


def start_pod(plan: Plan) -> None:
    """The agent, its gator and the sidecar first, then the other containers are made,
    then the pod's start starts them."""
    first, rest = first_and_rest(plan)
    if first:
        with step("starting the agent"):
            container.start([c.name for c in first])
    make_containers(rest)
    with step("starting the pod"):
        pod.start(plan.pod)


def copy_home_files(copies: Iterable[Copy]) -> None:
    from devaipod.workspace import homefiles

    for c in copies:
        with step(f"copying ~/{c.rel} into {c.container}"):
            homefiles.carry_out(c)


def run_steps(steps: Iterable[Step],
              argv_of: Callable[[Step], list[str]] | None = None) -> None:
    """Steps in order; neighbouring steps of one ``group`` run at the same time (the
    object form of a devcontainer lifecycle command) and all finish before any fails.
    ``argv_of``: the command that runs a step (default: ``podman exec``)."""
    batch: list[Step] = []
    for s in [*steps, None]:
        if batch and (s is None or s.group is None or s.group != batch[0].group):
            _run_batch(batch, argv_of)
            batch = []
        if s is not None:
            batch.append(s)


def _run_batch(batch: list[Step], argv_of: Callable[[Step], list[str]] | None) -> None:
    if len(batch) > 1:
        log.info("%s: %d commands in parallel", batch[0].group, len(batch))

    def prefix(s: Step) -> str:
        return f"[{s.what.split(':')[0]}] " if len(batch) > 1 else ""

    failed = runner.in_parallel([partial(run_step, s, prefix(s), argv_of) for s in batch])
    if failed:
        raise failed[0]


def exec_argv(s: Step) -> list[str]:
    """``podman exec`` of step S in its container, with the container's credentials."""
    return podman.argv(container.exec_argv(s.container, secret.with_env(s.argv), user=s.user,
                                           workdir=s.workdir))


def run_step(s: Step, prefix: str = "",
             argv_of: Callable[[Step], list[str]] | None = None) -> None:
    """A command in a running container, its output shown line by line."""
    argv = (argv_of or exec_argv)(s)
    started(s.what)
    result = runner.watch(argv, lambda line: output(line, prefix), lines="merged",
                          mutating=True)
    if result.returncode != 0:
        raise StepFailed(f"{s.what} failed: {runner.join(s.argv)[:200]} exited with "
                         f"{result.returncode}", "see its output above")


def writes_any(spec: Spec, volumes: list[str]) -> bool:
    """Whether the init container SPEC writes one of VOLUMES (its read-write mounts)."""
    written = {m.split(":", 1)[0] for m in spec.mounts if not m.endswith(":ro")}
    return bool(written & set(volumes))


def describe_init(name: str, plan: Plan) -> str:
    kind = name.rsplit("-init-", 1)[-1]
    if kind == "clone":
        return f"cloning {layout.read_label(plan.labels, 'source')}"
    if kind == "dotfiles":
        return "cloning and installing the dotfiles"
    if kind == "gator":
        return "writing the gator's grants"
    return f"making the {kind}'s clone"


def _labels(plan: Plan) -> dict[str, str]:
    return layout.base_labels(plan.pod)
