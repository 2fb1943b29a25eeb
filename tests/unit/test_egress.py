"""The egress proxy's pure parts: the list's entries, tinyproxy's filter and configuration,
its log lines turned into denials, the LLM hosts of an OpenCode configuration."""

from __future__ import annotations

import re

import pytest

from devaipod import egressproxy as ep
from devaipod import errors, source
from devaipod.workspace import egress


@pytest.mark.parametrize("text, parsed", [
    ("PyPI.org", ("pypi.org", None)),
    ("*.npmjs.org", ("*.npmjs.org", None)),
    ("git.example.com:8443", ("git.example.com", 8443)),
    ("10.89.0.7", ("10.89.0.7", None)),
])
def test_entries(text, parsed):
    assert ep.parse_entry(text) == parsed


@pytest.mark.parametrize("text", ["", "a b", "*.", "x.*.org", "host:0", "host:99999",
                                  "http://pypi.org", "pypi.org/simple", "^evil$", "a..b",
                                  "-a.org", "*", ".org"])
def test_bad_entries(text):
    with pytest.raises(ep.BadEntry):
        ep.parse_entry(text)


def test_check_is_one_clear_error():
    with pytest.raises(errors.DevaipodError, match="--allow: not a host name"):
        egress.check(["pypi.org", "http://x"])
    assert egress.check(["A.org", "a.org", "b.org:22"]) == ["a.org", "b.org:22"]


def test_filter_matches_whole_names_only():
    lines = ep.filter_text(["pypi.org", "*.npmjs.org", "pypi.org:8443"]).splitlines()
    assert len(lines) == 2

    def allowed(host):
        return any(re.search(line, host) for line in lines)

    assert allowed("pypi.org") and allowed("registry.npmjs.org") and allowed("npmjs.org")
    for host in ("pypi.org.evil.com", "evilpypi.org", "pypixorg", "npmjs.org.evil",
                 "evilnpmjs.org"):
        assert not allowed(host), host


def test_config_allows_the_internal_network_and_the_listed_ports():
    text = ep.config_text(["a.org", "b.org:8443"], "10.89.3.0/24", "/run/x")
    assert "Allow 10.89.3.0/24" in text and "FilterDefaultDeny Yes" in text
    assert "FilterURLs Off" in text and 'Filter "/run/x/filter"' in text
    assert re.findall(r"ConnectPort (\d+)", text) == ["443", "8443"]


def test_denials_from_tinyproxy_lines():
    d = ep.Denials()
    lines = [
        'CONNECT   Dec 01 17:31:29.271 [1]: Request (file descriptor 5): GET '
        'http://srv-no:8000/no.txt HTTP/1.1',
        'NOTICE    Dec 01 17:31:29.271 [1]: Proxying refused on filtered domain "srv-no"',
        'CONNECT   Dec 01 17:31:29.384 [1]: Request (file descriptor 5): CONNECT '
        'example.com:443 HTTP/1.1',
        'NOTICE    Dec 01 17:31:29.384 [1]: Proxying refused on filtered domain "example.com"',
        'CONNECT   Dec 01 17:31:29.535 [1]: Request (file descriptor 5): CONNECT '
        'ok.org:22 HTTP/1.1',
        'INFO      Dec 01 17:31:29.535 [1]: Refused CONNECT method on port 22',
        'CONNECT   Dec 01 17:31:29.047 [1]: Established connection to host "ok.org"',
    ]
    assert [x for x in map(d.feed, lines) if x] == [
        ("srv-no", 8000), ("example.com", 443), ("ok.org", 22)]


def test_llm_hosts_of_an_opencode_configuration(tmp_path):
    config = {"provider": {"fake": {"options": {"baseURL": "http://llm:18080/v1"}},
                           "a": {"options": {"baseURL": "https://api.example.com/v1"}},
                           "bad": {"options": {"baseURL": 7}}, "none": "x"}}
    assert ep.llm_hosts(config) == ["llm:18080", "api.example.com"]
    path = tmp_path / "opencode.json"
    path.write_text("{not json")
    assert ep.read_llm_hosts([str(path), "/nonexistent"]) == list(ep.DEFAULT_LLM_HOSTS)


def test_forge_hosts_and_ports():
    src = source.parse("https://github.com/o/r")
    assert egress.forge_hosts(src, {"GH_HOST": "https://ghe.example.com/api"},
                              ("gitlab.com", "")) == [
        "github.com", "api.github.com", "ghe.example.com", "gitlab.com"]
    assert egress.ports_of(["127.0.0.1::8090", "0.0.0.0:3000:3000"]) == [8090, 3000]


def test_proxy_env_spares_the_pods_own_addresses():
    env = egress.proxy_env("devaipod-x-1")
    assert env["HTTPS_PROXY"] == "http://devaipod-x-1-egress:8888" == env["http_proxy"]
    assert "127.0.0.1" in env["NO_PROXY"].split(",")
