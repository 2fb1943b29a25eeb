"""credentials.partition: the trust boundary, as a table over every kind of value.

Each row: where a value comes from, and which containers may see it (as a plain
variable, or as a podman secret mounted for that variable). The agent and the
worker must never see a trusted value, whatever the devcontainer's allow-list says.
"""

from __future__ import annotations

import pytest

from devaipod.workspace import credentials
from devaipod.workspace.credentials import Inputs, partition

POD = "devaipod-p-1"
ROLES = ("workspace", "agent", "worker", "gator")
HOST = {"EDITOR": "vim", "GH_TOKEN": "ghp-host", "ANTHROPIC_API_KEY": "sk-host",
        "AWS_SECRET_ACCESS_KEY": "aws-host", "DEVAIPOD_AGENT_MODE": "fast",
        "PLAIN": "plain-host", "LANG": "C.UTF-8"}


def seen(part, var: str) -> dict[str, str]:
    """role -> how VAR reaches it: "env:<value>", "secret:<name>" (mounted for VAR)."""
    out = {}
    for role in ROLES:
        if var in part.env_for(role):
            out[role] = f"env:{part.env_for(role)[var]}"
        for flags in part.flags_for(role):
            spec = flags[-1]
            if spec.endswith(f"target=/run/devaipod-env/{var}"):
                out[role] = "secret:" + spec.split(",", 1)[0]
            elif flags == ["--secret", spec] and "," not in spec \
                    and part.env_for(role).get(var) == f"/run/secrets/{spec}":
                out[role] = f"file:{spec}"
    return out


CASES = [
    # (inputs, variable, {role: how})
    (Inputs(env_allowlist=("EDITOR",), host_env=HOST), "EDITOR",
     {r: "env:vim" for r in ("workspace", "agent", "worker")}),
    (Inputs(env_vars={"PLAIN": "x"}, host_env=HOST), "PLAIN",
     {r: "env:x" for r in ("workspace", "agent", "worker")}),
    (Inputs(env_vars={"SOME_TOKEN": "t"}, host_env=HOST), "SOME_TOKEN",
     {r: f"secret:{POD}-env-some-token" for r in ("workspace", "agent", "worker")}),
    (Inputs(trusted_allowlist=("GH_TOKEN",), host_env=HOST), "GH_TOKEN",
     {r: f"secret:{POD}-env-gh-token" for r in ("workspace", "gator")}),
    (Inputs(trusted_vars={"PLAIN": "trusted"}, host_env=HOST), "PLAIN",
     {r: f"secret:{POD}-env-plain" for r in ("workspace", "gator")}),
    (Inputs(trusted_secrets=(("GH_TOKEN", "gh_token"),), host_env=HOST), "GH_TOKEN",
     {r: "secret:gh_token" for r in ("workspace", "gator")}),
    (Inputs(trusted_secrets=(("ANTHROPIC_API_KEY", "llm"),),
            llm_env=frozenset({"ANTHROPIC_API_KEY"}), host_env={}), "ANTHROPIC_API_KEY",
     {r: "secret:llm" for r in ROLES}),
    (Inputs(file_secrets=(("KUBECONFIG", "kube"),), host_env=HOST), "KUBECONFIG",
     {r: "file:kube" for r in ("workspace", "gator")}),
    (Inputs(llm_env=frozenset({"ANTHROPIC_API_KEY"}), host_env=HOST), "ANTHROPIC_API_KEY",
     {r: f"secret:{POD}-env-anthropic-api-key" for r in ("workspace", "agent", "worker")}),
    (Inputs(host_env=HOST), "MODE", {r: "env:fast" for r in ("agent", "worker")}),
    (Inputs(agent_allowlist=("PLAIN",), host_env=HOST), "PLAIN",
     {r: "env:plain-host" for r in ("agent", "worker")}),
    # the repository's allow-list against trusted and secret-looking variables
    (Inputs(agent_allowlist=("GH_TOKEN",), host_env=HOST), "GH_TOKEN", {}),
    (Inputs(agent_allowlist=("AWS_SECRET_ACCESS_KEY",), host_env=HOST),
     "AWS_SECRET_ACCESS_KEY", {}),
    (Inputs(agent_allowlist=("PLAIN",), trusted_allowlist=("PLAIN",), host_env=HOST),
     "PLAIN", {r: f"secret:{POD}-env-plain" for r in ("workspace", "gator")}),
    (Inputs(agent_allowlist=("GH_TOKEN",), trusted_secrets=(("GH_TOKEN", "gh"),),
            host_env=HOST), "GH_TOKEN", {r: "secret:gh" for r in ("workspace", "gator")}),
    (Inputs(agent_allowlist=("ANTHROPIC_API_KEY",), llm_env=frozenset({"ANTHROPIC_API_KEY"}),
            host_env=HOST), "ANTHROPIC_API_KEY",
     {r: f"secret:{POD}-env-anthropic-api-key" for r in ("workspace", "agent", "worker")}),
    # not listed anywhere: nobody
    (Inputs(host_env=HOST), "LANG", {}),
    (Inputs(host_env=HOST), "GH_TOKEN", {}),
]


@pytest.mark.parametrize(("inputs", "var", "expected"), CASES,
                         ids=[f"{n}-{c[1]}" for n, c in enumerate(CASES)])
def test_partition_table(inputs, var, expected):
    assert seen(partition(POD, inputs), var) == expected


def test_no_value_travels_on_a_command_line():
    """Secret-looking and trusted values become pod secrets: only their names are flags."""
    part = partition(POD, Inputs(env_vars={"A_TOKEN": "v1"}, trusted_vars={"X": "v2"},
                                 llm_env=frozenset({"ANTHROPIC_API_KEY"}), host_env=HOST))
    flags = [a for role in ROLES for group in part.flags_for(role) for a in group]
    assert not [a for a in flags if any(v in a for v in ("v1", "v2", "sk-host"))]
    assert set(part.pod_secrets.values()) == {"v1", "v2", "sk-host"}


def test_refused_names_are_reported():
    part = partition(POD, Inputs(agent_allowlist=("GH_TOKEN", "PLAIN", "DB_PASSWORD"),
                                 host_env=HOST))
    assert part.refused == ["GH_TOKEN", "DB_PASSWORD"]
    assert credentials.trusted_names(Inputs(trusted_secrets=(("GH_TOKEN", "g"),),
                                            llm_env=frozenset({"OPENAI_API_KEY"}),
                                            trusted_vars={"OPENAI_API_KEY": "k"})) == {
        "GH_TOKEN"}
