"""workspace.lookup.published: a pod's forwarded ports, from `podman ps` (the list's own call)."""

from __future__ import annotations

from devaipod import layout
from devaipod.workspace import lookup

from . import test_lookup
from .test_lookup import listed  # noqa: F401 (the fixture)


def port(container: int, host: int, **more) -> dict:
    return {"host_ip": "127.0.0.1", "container_port": container, "host_port": host,
            "range": 1, "protocol": "tcp", **more}


def test_published_lists_the_forwarded_ports_but_the_sidecars():
    api = {"Ports": [port(8080, 40001), port(layout.API_PORT, 40000), port(3000, 40002)]}
    assert lookup.published(api) == [
        {"port": 3000, "host_ip": "127.0.0.1", "host_port": 40002},
        {"port": 8080, "host_ip": "127.0.0.1", "host_port": 40001}]


def test_published_expands_a_range_and_skips_udp_and_unbound_ports():
    api = {"Ports": [port(5000, 41000, range=3), port(53, 41053, protocol="udp"),
                     port(7000, 0), port(7001, None), {"container_port": "x"},
                     port(6000, 42000, host_ip="")]}
    assert [(p["port"], p["host_port"], p["host_ip"]) for p in lookup.published(api)] == [
        (5000, 41000, "127.0.0.1"), (5001, 41001, "127.0.0.1"), (5002, 41002, "127.0.0.1"),
        (6000, 42000, "0.0.0.0")]


def test_published_takes_at_most_32_ports_of_a_range():
    assert len(lookup.published({"Ports": [port(10000, 50000, range=5000)]})) == 32


def test_published_without_a_container_or_ports_is_empty():
    assert lookup.published(None) == []
    assert lookup.published({"Ports": None}) == []


def test_rows_carry_the_ports_of_the_lists_podman_ps(listed, monkeypatch):  # noqa: F811
    def with_a_forwarded_port(name, state, port_=1):
        info = api_info(name, state, port_)
        info["Ports"].append(port(3000, 43000 + int(name[-1])))
        return info

    api_info = test_lookup.api_info
    monkeypatch.setattr(test_lookup, "api_info", with_a_forwarded_port)
    rows, calls = listed(2)
    assert sorted(calls) == [["pod", "ps"], ["ps", "--all"], ["volume", "ls"]]  # no new call
    assert [r.as_dict()["ports"] for r in rows] == [
        [{"port": 3000, "host_ip": "127.0.0.1", "host_port": 43001}],
        [{"port": 3000, "host_ip": "127.0.0.1", "host_port": 43000}]]


def test_the_pod_pages_ports_come_from_pod_inspect_the_same():
    from devaipod.workspace.status import as_ps_ports

    info = {"InfraConfig": {"PortBindings": {
        f"{layout.API_PORT}/tcp": [{"HostIp": "127.0.0.1", "HostPort": "40000"}],
        "3000/tcp": [{"HostIp": "", "HostPort": "40002"}], "53/udp": [{"HostPort": "40053"}],
        "9/tcp": None}}}
    assert lookup.published(as_ps_ports(info)) == [
        {"port": 3000, "host_ip": "0.0.0.0", "host_port": 40002}]
    assert lookup.published(as_ps_ports({})) == []
