"""The forge token that cloned a private repository stays out of the agent's reach.

A fake GitHub (tests/fakeforge) serves ``owner/private``, which refuses clone and fetch
without the token; the workspace is made from it with GH_TOKEN in [trusted] secrets. The
token went to the init clone and the devcontainer.json peek only (a podman secret turned
into git's http.extraHeader in their environment): the agent must find it nowhere.
"""

from __future__ import annotations

import base64
import json

import pytest

from podfixtures import inspect, private_forge_root, run_devaipod, start_fakeforge, trusted_config

from .conftest import LLM_KEY, Pod

pytestmark = pytest.mark.podman

TOKEN = "ghp_private_clone_attack_token_9f3e"
HEADER = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()


def halves(text: str) -> tuple[str, str]:
    return text[:len(text) // 2], text[len(text) // 2:]


# Searches everything the agent can read for the token or the header made of it, without
# the whole needle ever being on a command line (awk joins the halves in its memory): its
# environment and every process's, its clone's and the workspace's git config and remote
# URLs, and every file under its volumes, /tmp, /run, /etc and its home. Prints the hits.
SEARCH = r"""
a={a} b={b} c={c} d={d}
hit() {{ awk -v a="$a" -v b="$b" -v c="$c" -v d="$d" \
  'index($0, a b) || index($0, c d) {{ print FILENAME }}' "$@" 2>/dev/null | sort -u; }}
{{
  env
  for f in /proc/[0-9]*/environ /proc/[0-9]*/cmdline; do tr '\0' '\n' < "$f"; echo; done
  git -C /workspaces/private config --list --show-origin
  git -C /workspaces/private remote -v
  git -C /mnt/main-workspace/private config --list --show-origin
  git -C /mnt/main-workspace/private remote -v
  git -C /workspaces/private ls-remote origin 2>&1
}} > /tmp/agent-dump 2>&1
hit /tmp/agent-dump
find /workspaces /mnt /home /tmp /run /etc /root /var/tmp -type f -size -50M \
  ! -path /tmp/agent-dump -print0 2>/dev/null | xargs -0 -r awk -v a="$a" -v b="$b" \
  -v c="$c" -v d="$d" 'index($0, a b) || index($0, c d) {{ print FILENAME }}' 2>/dev/null \
  | sort -u
echo SEARCHED $(wc -l < /tmp/agent-dump)
"""


@pytest.fixture
def private_pod(podman_service, gitserver, images, fakellm, tmp_path, monkeypatch, unique):
    svc, inst = podman_service, podman_service.instance
    root = tmp_path / "forge"
    root.mkdir()
    private_forge_root(root, gitserver.shas["work"])
    name = unique("advpriv")
    host = f"{inst}-advforge"
    forge = start_fakeforge(svc, host, gitserver.network, root, TOKEN, images["base"],
                            web_host=f"{host}:8000")
    pod = f"devaipod-{name}"
    try:
        with trusted_config(svc, tmp_path, {
                "ANTHROPIC_API_KEY": (f"{inst}-advpriv-llm", LLM_KEY),
                "GH_TOKEN": (f"{inst}-advpriv-gh", TOKEN)},
                f'[forges."{host}:8000"]\nkind = "github"\n'
                f'api-url = "{forge.url}/api/v3"\n') as config:
            monkeypatch.setenv("DEVAIPOD_CONFIG", str(config))
            rc, _out, err = run_devaipod("up", f"http://{host}:8000/owner/private", "--name",
                                         name, "--network", gitserver.network, timeout=400)
            assert rc == 0, f"up failed ({rc}): {err}"
            clones = [r for r in forge.requests() if "upload-pack" in r["path"]]
            assert clones and all(r["authorized"] for r in clones)  # it needed the token
            yield Pod(pod, svc)
    finally:
        run_devaipod("delete", "--force", name)
        svc.podman("rm", "-f", "-t", "0", host, check=False)


def test_agent_cannot_find_the_clone_token(private_pod):
    """Attack: the agent searches everything it can read for the forge token that cloned
    its private repository: its environment and every process's (/proc), its clone's and
    the workspace's git config and remote URLs (through the shared objects mount), and
    every file of its volumes, /tmp, /run, /etc and its home; and it fetches the private
    repository with whatever credentials its clone carries."""
    a, b = halves(TOKEN)
    c, d = halves(HEADER)
    found = private_pod.agent(SEARCH.format(a=a, b=b, c=c, d=d), check=False)
    assert "SEARCHED" in found.stdout, found.stderr  # the search ran to the end
    hits = [line for line in found.stdout.splitlines() if not line.startswith("SEARCHED")]
    assert hits == [], f"the token is readable by the agent in: {hits}"
    fetch = private_pod.agent("git -C /workspaces/private fetch origin 2>&1", check=False)
    assert fetch.returncode != 0  # the private repository refuses the agent's clone
    # and from the host: no container of the pod shows it in `podman inspect`
    svc = private_pod.svc
    ids = svc.podman("ps", "-aq", "--filter", f"pod={private_pod.name}").stdout.split()
    shown = json.dumps(inspect(svc, *ids))
    assert ids and TOKEN not in shown and HEADER not in shown
