"""Attacks on the egress allow-list from inside a real agent.

The workspace is made with ``--egress allow-list --allow <ok server>``; a second server
on the same test network is not on the list. The agent tries every way out it has: the
proxy, a raw socket to the server's address, the proxy's variables unset, CONNECT to a
port of an allowed host, the proxy's own state. Nothing leaves this machine.
"""

from __future__ import annotations

import json

import pytest

from podfixtures import http_servers, ip_of, run_devaipod

pytestmark = pytest.mark.podman

RAW_SOCKET = """python3 - <<'EOF' 2>&1 || node -e '
const s = require("net").connect(8000, "{ip}"); s.setTimeout(5000);
s.on("connect", () => {{ console.log("CONNECTED"); process.exit(0); }});
s.on("error", e => {{ console.log("refused " + e.code); process.exit(1); }});
s.on("timeout", () => {{ console.log("timeout"); process.exit(1); }});'
import socket
s = socket.create_connection(("{ip}", 8000), timeout=5)
s.sendall(b"GET /no.txt HTTP/1.0\\r\\n\\r\\n")
print("CONNECTED", s.recv(200))
EOF"""


@pytest.fixture(scope="module")
def servers(podman_service, gitserver, images, tmp_path_factory):
    with http_servers(podman_service, gitserver.network, images["base"],
                      tmp_path_factory.mktemp("egress-servers")) as made:
        yield made


@pytest.fixture
def egress_pod(hostile_pod, servers):
    return hostile_pod("--egress", "allow-list", "--allow", servers["ok"])


def test_agent_cannot_get_past_the_allow_list(egress_pod, podman_service, servers):
    """Attack: the agent reaches a host not on the list: through the proxy, with a raw
    socket to its address (python or node), with the proxy's variables unset, and by
    CONNECT to another port of an allowed host; then it looks for the list to rewrite."""
    pod, no = egress_pod, servers["no"]
    address = ip_of(podman_service, no)
    assert pod.agent(f"curl -sS -m 10 http://{servers['ok']}:8000/ok.txt").stdout == "ok-served"
    via_proxy = pod.agent(f"curl -s -m 10 -o /dev/null -w '%{{http_code}}' "
                          f"http://{no}:8000/no.txt", check=False).stdout
    assert via_proxy == "403"
    raw = pod.agent(RAW_SOCKET.format(ip=address), check=False)
    assert "CONNECTED" not in raw.stdout + raw.stderr
    bare = pod.agent(f"env -u HTTP_PROXY -u http_proxy -u HTTPS_PROXY -u https_proxy "
                     f"curl -sS -m 5 http://{address}:8000/no.txt", check=False)
    assert bare.returncode != 0 and "no-served" not in bare.stdout
    by_name = pod.agent(f"curl -sS --noproxy '*' -m 5 http://{no}:8000/no.txt", check=False)
    assert by_name.returncode != 0 and "no-served" not in by_name.stdout
    tunnel = pod.agent(f"curl -sS -m 10 -p -x $HTTP_PROXY http://{servers['ok']}:8000/ok.txt",
                       check=False)  # CONNECT ok:8000: port 8000 is not allowed for CONNECT
    assert "ok-served" not in tunnel.stdout
    hunt = pod.agent("grep -rls '^[a-z0-9.-]*$' /var/lib/devaipod-egress 2>&1; "
                     "ls /var/lib/devaipod-egress /var/lib/devaipod-audit 2>&1", check=False)
    assert "No such file" in hunt.stdout and "allow" not in hunt.stdout.replace(
        "devaipod-egress", "")
    rc, out, err = run_devaipod("audit", "--json", pod.name)
    assert rc == 0, err
    denied = {(e.get("host"), e.get("port")) for e in json.loads(out)
              if e["kind"] == "egress" and e.get("decision") == "denied"}
    assert (no, 8000) in denied
    assert (servers["ok"], 8000) in denied  # the CONNECT to a port not allowed
