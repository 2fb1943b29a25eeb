"""devaipod doctor: check that this host can run devaipod workspaces."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

import click

from devaipod import errors, images, podman, runner
from devaipod.clikit import command, context, emit_json, json_option
from devaipod.podman import connection
from devaipod.podman import image as image_

# Host failures seen on real machines, recognised from podman's error text.
KNOWN_FAILURES = [
    (
        re.compile(r"setrlimit .?RLIMIT_(NOFILE|NPROC)|setting rlimit type \d+: operation not "
                   r"permitted", re.IGNORECASE),
        "podman's default ulimits are above this host's hard limits: add "
        "'default_ulimits = [\"nofile=1024:1024\", \"nproc=1024:1024\"]' under [containers] "
        "in containers.conf (e.g. /etc/containers/containers.conf) and restart the service",
    ),
    (
        re.compile(r"cgroups in hybrid mode not supported", re.IGNORECASE),
        "crun does not support this host's hybrid cgroup layout: install runc and set "
        "'runtime = \"runc\"' under [engine] in containers.conf, then restart the service",
    ),
]


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str | None = None


def known_fix(stderr: str) -> str | None:
    for pattern, fix in KNOWN_FAILURES:
        if pattern.search(stderr):
            return fix
    return None


def check_podman() -> Check:
    url = connection.url()
    try:
        data = podman.json(["version", "--format", "json"], timeout=30)
    except errors.CommandError as exc:
        return Check("podman", False, f"not reachable at {url}: {errors.last_line(exc.stderr)}",
                     errors.unreachable_hint(podman.argv([])))
    server = (data or {}).get("Server") or {}
    return Check("podman", True, f"podman {server.get('Version', '?')} at {url}")


def check_container(image: str) -> Check:
    result = podman.capture(["run", "--rm", "--init", image, "true"], check=False, timeout=120)
    if result.ok:
        return Check("container", True, f"a trivial container of {image} runs")
    return Check("container", False, f"podman run failed: {errors.last_line(result.stderr)}",
                 known_fix(result.stderr) or "see the error above; 'podman info' may tell more")


def check_tool(name: str, argv: list[str]) -> Check:
    try:
        out = runner.capture(argv, timeout=30).stdout.strip().splitlines()
    except errors.DevaipodError as exc:
        return Check(name, False, exc.format_message(), f"install {name}")
    return Check(name, True, out[0] if out else name)


def check_image(image: str) -> Check:
    if not image_.exists(image):
        return Check("image", False, f"default image {image} not found",
                     "build it with 'make images', or set default-image in devaipod.toml")
    probe = "for t in git opencode; do command -v $t >/dev/null || echo missing: $t; done"
    result = podman.capture(["run", "--rm", "--init", image, "sh", "-c", probe],
                            check=False, timeout=120)
    missing = [ln.split(": ", 1)[1] for ln in result.stdout.splitlines()
               if ln.startswith("missing: ")]
    if not result.ok or missing:
        why = ", ".join(missing) or errors.last_line(result.stderr)
        return Check("image", False, f"{image} lacks {why}",
                     "use an image that has git and opencode installed")
    return Check("image", True, f"{image} has git and opencode")


def run_checks(image: str) -> list[Check]:
    checks = [check_podman()]
    if checks[0].ok:
        if image_.exists(image):
            checks.append(check_container(image))
        checks.append(check_image(image))
    checks.append(check_tool("git", ["git", "--version"]))
    checks.append(check_tool("tmux", ["tmux", "-V"]))
    return checks


@command("doctor")
@json_option
@click.option("--image", metavar="IMAGE", help="Image to check instead of the default image.")
def cli(as_json: bool, image: str | None) -> int:
    """Check that podman, git, tmux and the default image work.

    Exits 0 only when every check passes; each failed check says how to fix it.
    """
    checks = run_checks(image or images.default_image(context().config.default_image))
    ok = all(c.ok for c in checks)
    if as_json:
        emit_json({"ok": ok, "checks": [asdict(c) for c in checks]})
    else:
        for c in checks:
            click.echo(f"{'ok  ' if c.ok else 'FAIL'} {c.name:<9} {c.detail}")
            if c.fix and not c.ok:
                click.echo(f"     {'':<9} fix: {c.fix}")
    return 0 if ok else 1
