"""The egress proxy of an allow-list workspace: runs in ``{pod}-egress``, not in the pod.

``python -m devaipod.egressproxy`` is the container's command. It keeps the
allow-list in the file ``allow`` of the volume ``{pod}-egress`` (one
``HOST``, ``*.DOMAIN`` or ``HOST:PORT`` a line; written on first start from
its ``--allow`` arguments and the LLM hosts of the workspace's OpenCode
configuration, rewritten by the control plane for ``devaipod egress allow|deny``),
turns it into tinyproxy's configuration and filter, runs tinyproxy (Debian's)
and writes each refused request into the workspace's audit trail. SIGHUP
reads the list again (tinyproxy reloads on SIGUSR1). ``--forward`` relays a
published port to the pod (socat), whose own network is internal.

The parsing and writing here is pure; ``main`` runs the processes.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

STATE_DIR = "/var/lib/devaipod-egress"
ALLOW_FILE = f"{STATE_DIR}/allow"
RUN_DIR = "/tmp/egress"
PORT = 8888
DEFAULT_CONNECT_PORTS = (443,)
# the providers OpenCode reaches when its configuration names no baseURL
DEFAULT_LLM_HOSTS = ("api.anthropic.com", "api.openai.com", "openrouter.ai",
                     "generativelanguage.googleapis.com", "api.x.ai", "models.dev")

_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"^(\*\.)?{_LABEL}(\.{_LABEL})*$")
_PORT = re.compile(r"^[0-9]{1,5}$")


class BadEntry(ValueError):
    pass


def parse_entry(text: str) -> tuple[str, int | None]:
    """``HOST``, ``*.DOMAIN``, ``HOST:PORT`` -> (host in lower case, port or None)."""
    text = text.strip().lower()
    host, _, port = text.partition(":")
    if not _HOST.match(host) or (port and not _PORT.match(port)) or \
            (port and not 0 < int(port) < 65536):
        raise BadEntry(f"not a host name, *.domain or host:port: {text!r}")
    return host, int(port) if port else None


def normalize(entries: Iterable[str]) -> list[str]:
    """ENTRIES checked, in lower case, without repeats, in order."""
    out: list[str] = []
    for text in entries:
        host, port = parse_entry(text)
        entry = f"{host}:{port}" if port else host
        if entry not in out:
            out.append(entry)
    return out


def host_regex(host: str) -> str:
    """tinyproxy's (extended) filter line for HOST: the whole name, ``*.`` any subdomain."""
    dot = "\\."
    if host.startswith("*."):
        return "^(.+" + dot + ")?" + host[2:].replace(".", dot) + "$"
    return "^" + host.replace(".", dot) + "$"


def filter_text(entries: Iterable[str]) -> str:
    hosts = {parse_entry(e)[0] for e in entries}
    return "".join(host_regex(h) + "\n" for h in sorted(hosts))


def connect_ports(entries: Iterable[str]) -> list[int]:
    ports = {p for _h, p in map(parse_entry, entries) if p} | set(DEFAULT_CONNECT_PORTS)
    return sorted(ports)


def config_text(entries: list[str], allow_from: str, run_dir: str = RUN_DIR) -> str:
    """tinyproxy.conf: only ALLOW_FROM (the internal network) may use it; the filter is
    an allow-list of hosts (never a URL's path); CONNECT only to the allowed ports."""
    lines = [f"Port {PORT}", "Timeout 600", "MaxClients 200", f"Allow {allow_from}",
             f"PidFile \"{run_dir}/tinyproxy.pid\"", "LogLevel Info",
             f"Filter \"{run_dir}/filter\"", "FilterURLs Off", "FilterType ere",
             "FilterDefaultDeny Yes", "FilterCaseSensitive Off", "DisableViaHeader Yes",
             *(f"ConnectPort {p}" for p in connect_ports(entries))]
    return "\n".join(lines) + "\n"


# tinyproxy's lines: "CONNECT   Dec 01 17:30:00.1 [7]: Request (file descriptor 9): CONNECT
# h:443 HTTP/1.1", "NOTICE ... Proxying refused on filtered domain "h"" and
# "INFO ... Refused CONNECT method on port 22"
_REQUEST = re.compile(r"Request \(file descriptor \d+\): (\S+) (\S+)")
_REFUSED_HOST = re.compile(r"Proxying refused on filtered domain \"([^\"]*)\"")
_REFUSED_PORT = re.compile(r"Refused CONNECT method on port (\d+)")


def request_target(method: str, target: str) -> tuple[str, int]:
    """(host, port) of a request line's target (CONNECT host:port, or an absolute URL)."""
    if method.upper() == "CONNECT":
        host, _, text = target.rpartition(":")
        return host.strip("[]").lower(), int(text) if text.isdigit() else 443
    parts = urlsplit(target)
    default = 443 if parts.scheme == "https" else 80
    try:
        number = parts.port or default
    except ValueError:
        number = default
    return (parts.hostname or "").lower(), number


class Denials:
    """Turns tinyproxy's log lines into denials: (host, port) of each refused request
    (the port from the request line that came before it)."""

    def __init__(self) -> None:
        self.last: tuple[str, int] | None = None

    def feed(self, line: str) -> tuple[str, int] | None:
        if m := _REQUEST.search(line):
            self.last = request_target(m.group(1), m.group(2))
            return None
        if m := _REFUSED_HOST.search(line):
            host = m.group(1).lower()
            port = self.last[1] if self.last and self.last[0] == host else None
            return host, port or 0
        if m := _REFUSED_PORT.search(line):
            host = self.last[0] if self.last else ""
            return host, int(m.group(1))
        return None


def llm_hosts(config: dict[str, Any]) -> list[str]:
    """The hosts of the providers' baseURL in an OpenCode configuration."""
    found = []
    providers = config.get("provider") if isinstance(config, dict) else None
    for entry in (providers or {}).values() if isinstance(providers, dict) else ():
        options = entry.get("options") if isinstance(entry, dict) else None
        url = options.get("baseURL") if isinstance(options, dict) else None
        if isinstance(url, str):
            parts = urlsplit(url)
            try:
                port = parts.port
            except ValueError:
                continue
            if parts.hostname:
                default = 443 if parts.scheme == "https" else 80
                found.append(parts.hostname + (f":{port}" if port and port != default
                                               else ""))
    return found


def read_llm_hosts(paths: Iterable[str]) -> list[str]:
    """LLM hosts of the OpenCode configurations at PATHS (those that exist and parse);
    the usual providers' when none names one."""
    found: list[str] = []
    for path in paths:
        try:
            found += llm_hosts(json.loads(Path(path).read_text()))
        except (OSError, ValueError):
            continue
    valid = []
    for entry in found:
        try:
            valid += normalize([entry])
        except BadEntry:
            continue
    return valid or list(DEFAULT_LLM_HOSTS)


def read_allow(path: str = ALLOW_FILE) -> list[str]:
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        return []
    out = []
    for line in text.splitlines():
        try:
            out += normalize([line]) if line.strip() else []
        except BadEntry:
            continue
    return out


def write_atomic(path: str, text: str) -> None:
    tmp = f"{path}.new"
    Path(tmp).write_text(text)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> None:
    import argparse

    from devaipod import audit, runner

    p = argparse.ArgumentParser(prog="devaipod.egressproxy")
    p.add_argument("--allow", action="append", default=[])
    p.add_argument("--from", dest="allow_from", required=True)
    p.add_argument("--llm-config", action="append", default=[])
    p.add_argument("--forward", action="append", default=[])  # PORT:HOST:PORT
    args = p.parse_args(argv)
    os.makedirs(RUN_DIR, exist_ok=True)
    if not os.path.exists(ALLOW_FILE):  # first start: the list it was made with
        entries = normalize([*args.allow, *read_llm_hosts(args.llm_config)])
        write_atomic(ALLOW_FILE, "".join(e + "\n" for e in entries))
    conf = f"{RUN_DIR}/tinyproxy.conf"

    def write() -> None:
        entries = read_allow()
        write_atomic(f"{RUN_DIR}/filter", filter_text(entries))
        write_atomic(conf, config_text(entries, args.allow_from))

    def reload(_sig: int, _frame: Any) -> None:
        """tinyproxy reads its filter again on SIGUSR1, its ports only when it starts: a
        new port restarts it (the loop below)."""
        ports = connect_ports(read_allow())
        restart = ports != connect_ports(current)
        current[:] = read_allow()
        write()
        try:
            os.kill(int(Path(f"{RUN_DIR}/tinyproxy.pid").read_text().strip()),
                    signal.SIGTERM if restart else signal.SIGUSR1)
        except (OSError, ValueError) as exc:
            print(f"egress: reload failed: {exc}", file=sys.stderr)

    current = read_allow()
    write()
    for spec in args.forward:
        port, host, to = spec.split(":")
        runner.spawn(["socat", f"TCP-LISTEN:{port},fork,reuseaddr", f"TCP:{host}:{to}"])
    signal.signal(signal.SIGHUP, reload)
    denials = Denials()

    def on_line(line: str) -> None:
        print(line, flush=True)
        denied = denials.feed(line)
        if denied:
            host, port = denied
            try:
                audit.append(audit.event("egress", "egress", host=host, port=port,
                                         decision="denied"))
            except OSError as exc:
                print(f"egress: audit not written: {exc}", file=sys.stderr)

    while True:  # until the container stops; a restart applies new ports
        result = runner.watch(["tinyproxy", "-d", "-c", conf], on_line, lines="merged")
        print(f"egress: tinyproxy exited with {result.returncode}", flush=True)
        time.sleep(1)  # a configuration it refuses must not spin


if __name__ == "__main__":
    main()
