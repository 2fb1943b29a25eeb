"""A real image registry for the tests and benches: Debian's docker-registry (the CNCF
distribution registry) on 127.0.0.1, with TLS from a throw-away test CA and htpasswd
logins.

``serve(tmp)`` makes the CA, the server's certificate and the password file under
TMP, starts ``docker-registry serve`` on a free port and makes podman on this
machine (the private test services too: they read the same directory) trust the CA
through ``/etc/containers/certs.d/127.0.0.1:PORT/ca.crt``; leaving the block stops
the registry and removes that directory. ``login(auth_file)`` logs podman in with
the password on stdin, into AUTH_FILE (``REGISTRY_AUTH_FILE``), never on a command line.

This module imports neither pytest nor devaipod (only tests/harness.py).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import harness

CERTS_D = Path("/etc/containers/certs.d")


class RegistryError(RuntimeError):
    pass


@dataclass
class Registry:
    host: str  # 127.0.0.1:PORT
    user: str
    password: str
    ca: Path
    auth: Path | None = None  # an auth file logged in to it, when one was made

    def ref(self, name: str) -> str:
        return f"{self.host}/{name}"

    def login(self, auth_file: Path, url: str | None = None) -> None:
        """``podman login`` into AUTH_FILE (the password on stdin)."""
        remote = ["--remote", "--url", url] if url else []
        run(["podman", *remote, "login", "--authfile", str(auth_file), "--username",
             self.user, "--password-stdin", self.host], input=self.password)

    def push(self, url: str, local: str, name: str, auth_file: Path) -> str:
        """Push the image LOCAL (seen by the podman service at URL) as NAME; its reference."""
        ref = self.ref(name)
        run(["podman", "--remote", "--url", url, "push", "--authfile", str(auth_file),
             "--compression-format", "zstd", local, ref], timeout=900)
        return ref


def run(argv: list[str], input: str | None = None, timeout: float = 120) -> str:
    proc = subprocess.run(argv, input=input, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RegistryError(f"{' '.join(argv[:4])} ... failed: {proc.stderr.strip()}")
    return proc.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_certs(tmp: Path) -> tuple[Path, Path, Path]:
    """A test CA and a certificate for 127.0.0.1 signed by it: (ca.crt, server.crt, key)."""
    ca, ca_key = tmp / "ca.crt", tmp / "ca.key"
    crt, key, csr = tmp / "server.crt", tmp / "server.key", tmp / "server.csr"
    run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key),
         "-out", str(ca), "-days", "2", "-subj", "/CN=devaipod test CA"])
    run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(csr), "-subj", "/CN=127.0.0.1"])
    (tmp / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    run(["openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
         "-CAcreateserial", "-out", str(crt), "-days", "2", "-extfile", str(tmp / "san.ext")])
    return ca, crt, key


CONFIG = """\
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: {data}
  delete:
    enabled: true
http:
  addr: {host}
  secret: {secret}
  tls:
    certificate: {crt}
    key: {key}
auth:
  htpasswd:
    realm: devaipod-test
    path: {htpasswd}
"""


def answers(host: str, ca: Path) -> bool:
    """Whether the registry answers /v2/ (with 401: it wants a login)."""
    context = ssl.create_default_context(cafile=str(ca))
    try:
        urllib.request.urlopen(f"https://{host}/v2/", context=context, timeout=5)
    except urllib.error.HTTPError as exc:
        return exc.code == 401
    except OSError:
        return False
    return True


@contextlib.contextmanager
def serve(tmp: Path) -> Iterator[Registry]:
    for tool in ("docker-registry", "htpasswd", "openssl"):
        if shutil.which(tool) is None:
            raise RegistryError(f"{tool} is not installed (hack/setup-host.sh installs "
                                "docker-registry and apache2-utils)")
    tmp.mkdir(parents=True, exist_ok=True)
    ca, crt, key = make_certs(tmp)
    user, password = "tester", secrets.token_urlsafe(12)
    run(["htpasswd", "-B", "-i", "-c", str(tmp / "htpasswd"), user], input=password)
    host = f"127.0.0.1:{free_port()}"
    (tmp / "config.yml").write_text(CONFIG.format(
        data=tmp / "data", host=host, secret=secrets.token_hex(16), crt=crt, key=key,
        htpasswd=tmp / "htpasswd"))
    trust = CERTS_D / host
    trust.mkdir(parents=True, exist_ok=True)
    shutil.copy(ca, trust / "ca.crt")
    log = open(tmp / "registry.log", "wb")  # noqa: SIM115 (kept open by the registry)
    proc = subprocess.Popen(["docker-registry", "serve", str(tmp / "config.yml")],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True, env={**os.environ, "OTEL_SDK_DISABLED": "1"})
    log.close()
    try:
        deadline = time.monotonic() + 30
        while not answers(host, ca):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RegistryError("the registry did not start: "
                                    + (tmp / "registry.log").read_text(errors="replace"))
            time.sleep(0.2)
        yield Registry(host, user, password, ca)
    finally:
        harness.stop(proc, timeout=10)
        shutil.rmtree(trust, ignore_errors=True)
