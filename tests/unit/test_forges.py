"""Forge hosts, clone credentials and PR look-ups (forges, forgeapi, credentials.clone_auth)."""

from __future__ import annotations

import base64
import logging
import subprocess
from dataclasses import dataclass

import pytest

from devaipod import forgeapi, forges, source
from devaipod.config import parse_config
from devaipod.devcontainer import repo
from devaipod.workspace import credentials, plan, request

TOKEN = "glpat-unit-test-token-31337"


@dataclass(frozen=True)
class Host:
    kind: str
    token: str | None = None
    api_url: str | None = None


# ---------------------------------------------------------------- which forge a host is

@pytest.mark.parametrize(("host", "configured", "expected"), [
    ("github.com", {}, ("github", "GH_TOKEN", "https://api.github.com")),
    ("gitlab.com", {}, ("gitlab", "GITLAB_TOKEN", "https://gitlab.com/api/v4")),
    ("codeberg.org", {}, ("forgejo", "FORGEJO_TOKEN", "https://codeberg.org/api/v1")),
    ("GitLab.com", {}, ("gitlab", "GITLAB_TOKEN", "https://gitlab.com/api/v4")),
    ("git.example.com", {"git.example.com": Host("gitlab", "WORK_TOKEN")},
     ("gitlab", "WORK_TOKEN", "https://git.example.com/api/v4")),
    ("ghe.corp:8443", {"GHE.corp:8443": Host("github", api_url="https://api.ghe/v3/")},
     ("github", "GH_TOKEN", "https://api.ghe/v3")),
    ("gitlab.com", {"gitlab.com": Host("gitlab", "OTHER")},
     ("gitlab", "OTHER", "https://gitlab.com/api/v4")),
])
def test_find(host, configured, expected):
    forge = forges.find(host, configured)
    assert forge is not None
    assert (forge.kind, forge.token_var, forge.api_url) == expected


@pytest.mark.parametrize("host", ["git.example.com", "bitbucket.org", "gitlab.example.com"])
def test_an_unconfigured_host_is_no_forge(host):
    assert forges.find(host, {}) is None  # a name that only looks like a forge is not one


def test_config_forges_table():
    cfg = parse_config('[forges."git.example.com:8443"]\nkind = "forgejo"\n'
                       'token = "WORK_FJ"\napi-url = "https://api.example.com/v1"\n')
    forge = forges.find("git.example.com:8443", cfg.forges)
    assert forge == forges.Forge("git.example.com:8443", "forgejo", "WORK_FJ",
                                 "https://api.example.com/v1")
    with pytest.raises(Exception, match="kind"):
        parse_config('[forges."h"]\nkind = "bitbucket"\n')
    with pytest.raises(Exception, match="forges"):
        parse_config('[forges."a b"]\nkind = "gitlab"\n')


def test_parse_with_configured_forge_kinds():
    kinds = {"git.example.com": "gitlab"}
    src = source.parse("git.example.com/group/sub/app", forge_kinds=kinds)
    assert (src.forge, src.owner, src.name) == ("gitlab", "group/sub", "app")
    pr = source.parse("https://git.example.com/o/r/pulls/3", forge_kinds={
        "git.example.com": "forgejo"})
    assert (pr.kind, pr.forge, pr.pr_ref) == ("pr", "forgejo", "refs/pull/3/head")


@pytest.mark.parametrize(("text", "ssh_url", "clone_url"), [
    ("git@github.com:o/r.git", "ssh://git@github.com/o/r.git", "https://github.com/o/r"),
    ("ssh://git@gitlab.com:2222/g/r", "ssh://git@gitlab.com:2222/g/r",
     "https://gitlab.com/g/r"),
    ("https://github.com/o/r", None, "https://github.com/o/r"),
])
def test_ssh_sources_keep_their_ssh_url(text, ssh_url, clone_url):
    src = source.parse(text)
    assert (src.ssh_url, src.clone_url) == (ssh_url, clone_url)


# ---------------------------------------------------------------- clone credentials

GH = forges.find("github.com")
SECRETS = (("GH_TOKEN", "gh_secret"), ("GITLAB_TOKEN", "gl_secret"))


@pytest.mark.parametrize(("text", "forge", "sock", "expected"), [
    # (source, forge, ssh-agent socket) -> (token secret, git user, prefix, socket)
    ("https://github.com/o/r", GH, None, ("gh_secret", "x-access-token",
                                          "https://github.com/", None)),
    ("https://github.com/o/r", GH, "/run/agent.sock", ("gh_secret", "x-access-token",
                                                       "https://github.com/", None)),
    ("git@github.com:o/r", GH, "/run/agent.sock", (None, "", "", "/run/agent.sock")),
    ("git@github.com:o/r", GH, None, ("gh_secret", "x-access-token", "https://github.com/",
                                      None)),
    ("https://gitlab.com/g/r", forges.find("gitlab.com"), None,
     ("gl_secret", "oauth2", "https://gitlab.com/", None)),
    ("https://codeberg.org/o/r", forges.find("codeberg.org"), None,
     (None, "", "https://codeberg.org/", None)),  # no FORGEJO_TOKEN: no secret
    ("git@example.com:o/r", None, "/run/agent.sock", (None, "", "", "/run/agent.sock")),
])
def test_clone_auth(text, forge, sock, expected):
    auth = credentials.clone_auth(source.parse(text), forge, SECRETS, sock)
    assert auth is not None
    assert (auth.secret, auth.user, auth.prefix, auth.ssh_socket) == expected


@pytest.mark.parametrize("text", ["https://example.com/o/r", "/tmp"])
def test_no_clone_auth(text):
    assert credentials.clone_auth(source.parse(text), None, SECRETS, "/run/s") is None


def _plan(auth: forges.CloneAuth) -> plan.Plan:
    src = source.parse("https://gitlab.com/g/app")
    pod = "devaipod-app-1"
    creds = credentials.partition(pod, credentials.Inputs(trusted_secrets=SECRETS))
    return plan.build(plan.Inputs(pod=pod, source=src, image="img", api_image="api",
                                  creds=creds, clone_auth=auth, orchestration=True), "p", "t")


def test_the_token_and_the_agent_socket_reach_the_init_clone_only():
    gl = forges.find("gitlab.com")
    for auth in (forges.CloneAuth(gl, "gl_secret", "https://gitlab.com/"),
                 forges.CloneAuth(gl, ssh_socket="/run/user/1/agent", known_hosts="/k")):
        p = _plan(auth)
        for spec in p.init + p.containers:
            flags = " ".join(str(x) for x in (spec.secrets, spec.mounts, spec.env))
            has = ("gl_secret,type=mount,target=/run/devaipod-git/token" in flags
                   or "/run/user/1/agent" in flags)
            assert has == spec.name.endswith("-init-clone"), spec.name
        assert "gl_secret" not in str(p.labels) and "gl_secret" not in str(p.pod_create)


def test_peek_argv_carries_the_secret_flag_not_a_value():
    src = source.parse("https://gitlab.com/g/app/-/merge_requests/4")
    auth = forges.CloneAuth(forges.find("gitlab.com"), "gl_secret", "https://gitlab.com/")
    argv = repo._peek_argv("img", "net", src, src.pr_ref, auth=auth)
    assert argv[argv.index("--secret") + 1] == \
        "gl_secret,type=mount,target=/run/devaipod-git/token"
    assert argv[-5:] == ["https://gitlab.com/g/app", "refs/merge-requests/4/head", "",
                         "oauth2", "https://gitlab.com/"]
    ssh = forges.CloneAuth(None, ssh_socket="/s", known_hosts=None)
    argv = repo._peek_argv("img", None, source.parse("git@h.example:o/r"), None, auth=ssh)
    assert "ssh://git@h.example/o/r" in argv and "/s:/run/devaipod-ssh/agent.sock" in argv
    assert "SSH_AUTH_SOCK=/run/devaipod-ssh/agent.sock" in argv


def test_auth_sh_puts_the_header_in_gits_environment_only(tmp_path):
    token = tmp_path / "token"
    token.write_text(TOKEN + "\n")
    script = forges.AUTH_SH.replace(forges.TOKEN_FILE, str(token)) + (
        'git_auth oauth2 https://gitlab.com/\n'
        'git config --get-urlmatch http.extraHeader https://gitlab.com/g/r\n'
        'git config --get-urlmatch http.extraHeader https://elsewhere.example/g/r || '
        'echo NONE\n')
    out = subprocess.run(["sh", "-c", script], capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}, check=True)
    basic = base64.b64encode(f"oauth2:{TOKEN}".encode()).decode()
    assert out.stdout.splitlines() == [f"Authorization: Basic {basic}", "NONE"]
    token.unlink()  # no token: no header
    out = subprocess.run(["sh", "-c", script], capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}, check=True)
    assert out.stdout.splitlines() == ["NONE"]


def run_retry_lookup(tmp_path, failures: int, error: str) -> subprocess.CompletedProcess:
    """retry_lookup over a command that fails FAILURES times with ERROR, then prints
    "cloned"; `sleep` records its pauses instead of sleeping."""
    count = tmp_path / "count"
    count.write_text("0")
    script = forges.LOOKUP_SH + f"""
sleep() {{ echo "slept $1" >> {tmp_path}/pauses; }}
flaky() {{
  n=$(($(cat {count}) + 1)); echo "$n" > {count}
  if [ "$n" -le {failures} ]; then echo "{error} $n" >&2; return 128; fi
  echo cloned; echo "a warning" >&2
}}
set -eu
retry_lookup flaky
echo after
"""
    return subprocess.run(["sh", "-c", script], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin"})


LOOKUP = "fatal: unable to look up test-git (port 9418) (Name or service not known)"


def test_a_name_that_did_not_resolve_is_tried_again(tmp_path):
    out = run_retry_lookup(tmp_path, 2, LOOKUP)
    assert (out.returncode, out.stdout) == (0, "cloned\nafter\n")
    assert out.stderr.splitlines() == [
        "a host name did not resolve; trying again in 1 s",
        "a host name did not resolve; trying again in 2 s", "a warning"]
    assert (tmp_path / "pauses").read_text().split("\n")[:2] == ["slept 1", "slept 2"]


def test_a_name_that_never_resolves_fails_after_three_tries(tmp_path):
    out = run_retry_lookup(tmp_path, 3, "fatal: unable to access 'https://h/': "
                                        "Could not resolve host: h")
    assert (out.returncode, out.stdout) == (128, "")  # set -e: the script stops there
    assert out.stderr.splitlines()[-1] == \
        "fatal: unable to access 'https://h/': Could not resolve host: h 3"
    assert (tmp_path / "count").read_text().strip() == "3"


def test_other_failures_are_not_tried_again(tmp_path):
    out = run_retry_lookup(tmp_path, 1, "fatal: repository 'x' not found")
    assert (out.returncode, out.stderr) == (128, "fatal: repository 'x' not found 1\n")
    assert not (tmp_path / "pauses").exists()


def test_basic_header_is_the_gators():
    from devaipod.gator.forge import GitHub

    assert GitHub(api="x", web="y", token="t").auth_header() == forges.basic_header("github", "t")


# ---------------------------------------------------------------- a refused clone

GL = forges.find("gitlab.com")
WITH = forges.CloneAuth(GL, "gl_secret", "https://gitlab.com/")
WITHOUT = forges.CloneAuth(GL, None, "https://gitlab.com/")


@pytest.mark.parametrize(("stderr", "auth", "host", "words"), [
    ("fatal: Authentication failed for 'https://gitlab.com/g/r/'", WITH, "gitlab.com",
     ["refused the credentials of GITLAB_TOKEN", "check that GITLAB_TOKEN"]),
    ("fatal: unable to access '...': The requested URL returned error: 403", WITH,
     "gitlab.com", ["refused the credentials of GITLAB_TOKEN"]),
    ("fatal: could not read Username for 'https://gitlab.com': terminal prompts disabled",
     WITHOUT, "gitlab.com", ["no token for host gitlab.com",
                             'add "GITLAB_TOKEN=<podman secret>" to [trusted] secrets']),
    ("remote: Repository not found.\nfatal: repository 'https://h/o/r/' not found", None,
     "h.example", ["no token for host h.example", 'GH_TOKEN', '[forges."h.example"]']),
    ("git@h: Permission denied (publickey).", forges.CloneAuth(ssh_socket="/s"), "h",
     ["refused the keys of your ssh-agent"]),
    ("error: cannot run ssh: No such file or directory", forges.CloneAuth(ssh_socket="/s"),
     "h", ["the image has no ssh client", "openssh-client"]),
    ("fatal: unable to access 'x': Could not resolve host: gitlab.com", WITH, "gitlab.com",
     ["cloning https://gitlab.com/g/r failed:", "Could not resolve host", "check the URL"]),
])
def test_clone_error(stderr, auth, host, words):
    error = forges.clone_error("https://gitlab.com/g/r", stderr, auth, host,
                               stderr.splitlines()[-1].split(": ", 1)[-1])
    text = error.format_message()
    assert "\n" not in error.message
    for word in words:
        assert word in text


# ---------------------------------------------------------------- the forge's API

PR = source.parse("https://github.com/o/r/pull/7")


@pytest.mark.parametrize(("text", "kind", "expected"), [
    ("https://github.com/o/r/pull/7", "github", "repos/o/r/pulls/7"),
    ("https://codeberg.org/o/r/pulls/7", "forgejo", "repos/o/r/pulls/7"),
    ("https://gitlab.com/g/sub/r/-/merge_requests/7", "gitlab",
     "projects/g%2Fsub%2Fr/merge_requests/7"),
    ("https://gitlab.com/g/r/-/issues/9", "gitlab", "projects/g%2Fr/issues/9"),
    ("https://github.com/o/r/issues/9", "github", "repos/o/r/issues/9"),
])
def test_api_paths(text, kind, expected):
    found = forgeapi.paths(source.parse(text), kind)
    assert found is not None and found[0] == expected


@pytest.mark.parametrize(("url", "branch", "ok"), [
    ("https://github.com/fork/r.git", "feature/x", True),
    ("https://evil.example/fork/r.git", "feature", False),
    ("https://github.com.evil.example/r.git", "feature", False),
    ("https://user:pw@github.com/fork/r.git", "feature", False),
    ("http://github.com/fork/r.git", "feature", False),
    ("https://github.com/fork/r.git", "-upload-pack=x", False),
    ("https://github.com/fork/r.git", "a..b", False),
    ("https://github.com/fork/r.git\nx", "feature", False),
    (None, "feature", False),
])
def test_a_fork_is_used_only_on_the_sources_host(url, branch, ok):
    assert (forgeapi.checked_fork(PR, url, branch) is not None) == ok


def test_titles_are_one_clean_line():
    assert forgeapi.clean_title("  Fix\x1b[31m the\n thing  ") == "Fix [31m the thing"
    assert len(forgeapi.clean_title("x" * 500)) == forgeapi.MAX_TITLE
    with pytest.raises(forgeapi.LookupFailed):
        forgeapi.clean_title(None)


def test_lookup_github_fork(monkeypatch):
    answers = {"repos/o/r/pulls/7": {
        "title": "Faster", "head": {"ref": "speed", "repo": {
            "full_name": "f/r", "clone_url": "https://github.com/f/r.git"}},
        "base": {"repo": {"full_name": "o/r"}}}}
    monkeypatch.setattr(forgeapi, "get", lambda forge, path, token: answers[path])
    got = forgeapi.lookup(PR, GH, "t")
    assert got == forgeapi.Details("Faster", ("https://github.com/f/r.git", "speed"))


def test_lookup_gitlab_fork(monkeypatch):
    src = source.parse("https://gitlab.com/g/r/-/merge_requests/3")
    answers = {"projects/g%2Fr/merge_requests/3": {
        "title": "MR", "source_project_id": 12, "target_project_id": 5,
        "source_branch": "topic"},
        "projects/12": {"http_url_to_repo": "https://gitlab.com/u/r.git"}}
    monkeypatch.setattr(forgeapi, "get", lambda forge, path, token: answers[path])
    got = forgeapi.lookup(src, GL, None)
    assert got == forgeapi.Details("MR", ("https://gitlab.com/u/r.git", "topic"))


def test_auth_headers():
    assert forgeapi.auth_headers("github", "t")["Authorization"] == "Bearer t"
    assert forgeapi.auth_headers("gitlab", "t")["PRIVATE-TOKEN"] == "t"
    assert forgeapi.auth_headers("forgejo", "t")["Authorization"] == "token t"
    assert "Authorization" not in forgeapi.auth_headers("github", None)


def test_a_failed_lookup_is_a_warning(monkeypatch, caplog):
    def refuse(forge, path, token):
        raise forgeapi.LookupFailed("https://api.github.com said 404")

    monkeypatch.setattr(forgeapi, "get", refuse)
    forgeapi.details.cache_clear()
    with caplog.at_level(logging.WARNING, logger="devaipod"):
        assert forgeapi.details(PR, GH, None, "img") is None
    assert "said 404" in caplog.text


def test_default_task_of_a_pr_has_its_title(monkeypatch):
    monkeypatch.setattr(request, "details", lambda src, cfg: forgeapi.Details("Faster"))
    cfg = parse_config("")
    url = "https://github.com/o/r/pull/7"
    assert request.default_task(url, cfg) == f"Review and continue {url}: Faster"
    issue = "https://github.com/o/r/issues/2"
    assert request.default_task(issue, cfg) == f"Fix {issue}"
