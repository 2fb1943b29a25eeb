"""devaipod.source: SOURCE text -> Source, one table per rule."""

from __future__ import annotations

import dataclasses
import os
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devaipod.errors import DevaipodError
from devaipod.source import Source, parse


def no_dirs(path: str) -> bool:
    return False


def dirs(*paths: str):
    return lambda path: path in paths


def p(text: str, **kw) -> Source:
    kw.setdefault("isdir", no_dirs)
    return parse(text, **kw)


def remote(s: Source) -> tuple:
    assert s.kind == "remote"
    assert (s.pr_number, s.pr_ref, s.issue_url, s.default_task) == (None, None, None, None)
    return (s.clone_url, s.display, s.repo, s.project, s.host, s.owner, s.name, s.forge)


# (text, clone_url, display, repo, project, host, owner, name, forge)
HTTPS = [
    ("https://github.com/o/r", "https://github.com/o/r", "https://github.com/o/r",
     "github.com/o/r", "r", "github.com", "o", "r", "github"),
    ("https://github.com/o/r.git", "https://github.com/o/r.git", "https://github.com/o/r.git",
     "github.com/o/r", "r", "github.com", "o", "r", "github"),
    ("https://github.com/o/r/", "https://github.com/o/r", "https://github.com/o/r",
     "github.com/o/r", "r", "github.com", "o", "r", "github"),
    ("https://github.com/o/r.git/", "https://github.com/o/r.git", "https://github.com/o/r.git",
     "github.com/o/r", "r", "github.com", "o", "r", "github"),
    ("  https://github.com/o/r  ", "https://github.com/o/r", "https://github.com/o/r",
     "github.com/o/r", "r", "github.com", "o", "r", "github"),
    ("HTTPS://GitHub.COM/Owner/Repo", "https://github.com/Owner/Repo",
     "https://github.com/Owner/Repo", "github.com/Owner/Repo", "Repo", "github.com", "Owner",
     "Repo", "github"),
    ("https://github.com/o/r/tree/main/src", "https://github.com/o/r", "https://github.com/o/r",
     "github.com/o/r", "r", "github.com", "o", "r", "github"),
    ("https://github.com/o/r?tab=readme#top", "https://github.com/o/r", "https://github.com/o/r",
     "github.com/o/r", "r", "github.com", "o", "r", "github"),
    ("https://git@github.com/o/r.git", "https://github.com/o/r.git", "https://github.com/o/r.git",
     "github.com/o/r", "r", "github.com", "o", "r", "github"),
    ("https://github.com//o//r", "https://github.com/o/r", "https://github.com/o/r",
     "github.com/o/r", "r", "github.com", "o", "r", "github"),
    ("https://gitlab.com/group/sub/repo", "https://gitlab.com/group/sub/repo",
     "https://gitlab.com/group/sub/repo", "gitlab.com/group/sub/repo", "repo", "gitlab.com",
     "group/sub", "repo", "gitlab"),
    ("https://gitlab.com/g/s/t/repo.git", "https://gitlab.com/g/s/t/repo.git",
     "https://gitlab.com/g/s/t/repo.git", "gitlab.com/g/s/t/repo", "repo", "gitlab.com",
     "g/s/t", "repo", "gitlab"),
    ("https://gitlab.com/g/s/repo/-/tree/main", "https://gitlab.com/g/s/repo",
     "https://gitlab.com/g/s/repo", "gitlab.com/g/s/repo", "repo", "gitlab.com", "g/s", "repo",
     "gitlab"),
    ("https://codeberg.org/o/r/src/branch/main", "https://codeberg.org/o/r",
     "https://codeberg.org/o/r", "codeberg.org/o/r", "r", "codeberg.org", "o", "r", "forgejo"),
    ("https://gitea.com/o/r", "https://gitea.com/o/r", "https://gitea.com/o/r",
     "gitea.com/o/r", "r", "gitea.com", "o", "r", "gitea"),
    ("https://bitbucket.org/o/r/src/main", "https://bitbucket.org/o/r",
     "https://bitbucket.org/o/r", "bitbucket.org/o/r", "r", "bitbucket.org", "o", "r",
     "unknown"),
    ("https://git.example.com:8443/team/sub/r", "https://git.example.com:8443/team/sub/r",
     "https://git.example.com:8443/team/sub/r", "git.example.com:8443/team/sub/r", "r",
     "git.example.com:8443", "team/sub", "r", "unknown"),
    ("https://git.example.com/r.git", "https://git.example.com/r.git",
     "https://git.example.com/r.git", "git.example.com/r", "r", "git.example.com", "", "r",
     "unknown"),
    ("https://github.com/o/my.repo", "https://github.com/o/my.repo",
     "https://github.com/o/my.repo", "github.com/o/my.repo", "my.repo", "github.com", "o",
     "my.repo", "github"),
]


@pytest.mark.parametrize("case", HTTPS, ids=[c[0] for c in HTTPS])
def test_https_urls(case):
    assert remote(p(case[0])) == case[1:]


GIT_HTTP = [
    ("git://gitserver/repo.git", "git://gitserver/repo.git", "git://gitserver/repo.git",
     "gitserver/repo", "repo", "gitserver", "", "repo", "unknown"),
    ("git://gitserver/repo", "git://gitserver/repo", "git://gitserver/repo",
     "gitserver/repo", "repo", "gitserver", "", "repo", "unknown"),
    ("git://gitserver:9418/o/r.git/", "git://gitserver:9418/o/r.git",
     "git://gitserver:9418/o/r.git", "gitserver:9418/o/r", "r", "gitserver:9418", "o", "r",
     "unknown"),
    ("GIT://github.com/o/r", "git://github.com/o/r", "git://github.com/o/r",
     "github.com/o/r", "r", "github.com", "o", "r", "github"),
    ("http://localhost:3000/o/r", "http://localhost:3000/o/r", "http://localhost:3000/o/r",
     "localhost:3000/o/r", "r", "localhost:3000", "o", "r", "unknown"),
    ("http://gitserver/repo.git", "http://gitserver/repo.git", "http://gitserver/repo.git",
     "gitserver/repo", "repo", "gitserver", "", "repo", "unknown"),
    ("http://10.0.0.5/team/r", "http://10.0.0.5/team/r", "http://10.0.0.5/team/r",
     "10.0.0.5/team/r", "r", "10.0.0.5", "team", "r", "unknown"),
    ("https://[::1]:8080/r", "https://[::1]:8080/r", "https://[::1]:8080/r",
     "[::1]:8080/r", "r", "[::1]:8080", "", "r", "unknown"),
]


@pytest.mark.parametrize("case", GIT_HTTP, ids=[c[0] for c in GIT_HTTP])
def test_git_and_http_schemes(case):
    assert remote(p(case[0])) == case[1:]


SSH = [
    ("git@github.com:o/r.git", "https://github.com/o/r", "github.com/o/r", "github.com", "o",
     "r", "github"),
    ("git@github.com:o/r", "https://github.com/o/r", "github.com/o/r", "github.com", "o", "r",
     "github"),
    ("git@gitlab.com:group/sub/r.git", "https://gitlab.com/group/sub/r", "gitlab.com/group/sub/r",
     "gitlab.com", "group/sub", "r", "gitlab"),
    ("forgejo@codeberg.org:o/r.git", "https://codeberg.org/o/r", "codeberg.org/o/r",
     "codeberg.org", "o", "r", "forgejo"),
    ("git@gitserver:repo.git", "https://gitserver/repo", "gitserver/repo", "gitserver", "",
     "repo", "unknown"),
    ("git@GitHub.com:/o/r.git/", "https://github.com/o/r", "github.com/o/r", "github.com", "o",
     "r", "github"),
    ("ssh://git@github.com/o/r", "https://github.com/o/r", "github.com/o/r", "github.com", "o",
     "r", "github"),
    ("ssh://git@github.com/o/r.git", "https://github.com/o/r", "github.com/o/r", "github.com",
     "o", "r", "github"),
    ("ssh://git@git.example.com:2222/o/r.git", "https://git.example.com/o/r",
     "git.example.com/o/r", "git.example.com", "o", "r", "unknown"),
    ("ssh://gitea.example.com/o/r", "https://gitea.example.com/o/r", "gitea.example.com/o/r",
     "gitea.example.com", "o", "r", "gitea"),
]


@pytest.mark.parametrize("case", SSH, ids=[c[0] for c in SSH])
def test_ssh_forms_become_https(case):
    text, clone, repo, host, owner, name, forge = case
    s = p(text)
    assert remote(s) == (clone, clone, repo, name, host, owner, name, forge)


TYPOS = [
    ("https;//github.com/o/r", "https://github.com/o/r"),
    ("HTTPS;//github.com/o/r", "https://github.com/o/r"),
    ("http;//gitserver/repo", "http://gitserver/repo"),
    ("https;//gitlab.com/g/s/r.git", "https://gitlab.com/g/s/r.git"),
]


@pytest.mark.parametrize(("text", "clone"), TYPOS)
def test_scheme_typo_fixed(text, clone):
    s = p(text)
    assert (s.kind, s.clone_url, s.display) == ("remote", clone, clone)


BARE = [
    ("github.com/o/r", (), "https://github.com/o/r", "github"),
    ("github.com/o/r.git/", (), "https://github.com/o/r.git", "github"),
    ("GitHub.com/o/r", (), "https://github.com/o/r", "github"),
    ("gitlab.com/g/sub/r", (), "https://gitlab.com/g/sub/r", "gitlab"),
    ("codeberg.org/o/r", (), "https://codeberg.org/o/r", "forgejo"),
    ("bitbucket.org/o/r", (), "https://bitbucket.org/o/r", "unknown"),
    ("gitea.com/o/r", (), "https://gitea.com/o/r", "gitea"),
    ("git.corp.example/team/r", ("git.corp.example",), "https://git.corp.example/team/r",
     "unknown"),
    ("git.corp.example/team/r", ("Git.Corp.Example/",), "https://git.corp.example/team/r",
     "unknown"),
    ("forgejo.corp/o/r/pulls/2", ["forgejo.corp"], "https://forgejo.corp/o/r", "forgejo"),
]


@pytest.mark.parametrize(("text", "extra", "clone", "forge"), BARE)
def test_bare_known_hosts_get_https(text, extra, clone, forge):
    # a known host wins over a local directory of the same name
    s = parse(text, extra_hosts=extra, isdir=lambda path: True)
    assert (s.clone_url, s.forge) == (clone, forge)
    assert s.kind in ("remote", "pr")


def test_bare_unknown_host_is_not_a_url():
    with pytest.raises(DevaipodError, match="neither a git URL nor an existing directory"):
        p("git.corp.example/team/r")


# (text, clone_url, display, repo, owner, forge, number, ref)
PRS = [
    ("https://github.com/o/r/pull/12", "https://github.com/o/r",
     "https://github.com/o/r/pull/12", "github.com/o/r", "o", "github", 12, "refs/pull/12/head"),
    ("https://github.com/o/r/pull/12/", "https://github.com/o/r",
     "https://github.com/o/r/pull/12", "github.com/o/r", "o", "github", 12, "refs/pull/12/head"),
    ("https://github.com/o/r/pull/12/files", "https://github.com/o/r",
     "https://github.com/o/r/pull/12", "github.com/o/r", "o", "github", 12, "refs/pull/12/head"),
    ("https://github.com/o/r/pull/7/commits/abc123#diff", "https://github.com/o/r",
     "https://github.com/o/r/pull/7", "github.com/o/r", "o", "github", 7, "refs/pull/7/head"),
    ("github.com/o/r/pull/3", "https://github.com/o/r", "https://github.com/o/r/pull/3",
     "github.com/o/r", "o", "github", 3, "refs/pull/3/head"),
    ("https://ghe.corp.example/o/r/pull/5", "https://ghe.corp.example/o/r",
     "https://ghe.corp.example/o/r/pull/5", "ghe.corp.example/o/r", "o", "github", 5,
     "refs/pull/5/head"),
    ("https://gitlab.com/g/r/-/merge_requests/4", "https://gitlab.com/g/r",
     "https://gitlab.com/g/r/-/merge_requests/4", "gitlab.com/g/r", "g", "gitlab", 4,
     "refs/merge-requests/4/head"),
    ("https://gitlab.com/g/sub/r/-/merge_requests/4/diffs", "https://gitlab.com/g/sub/r",
     "https://gitlab.com/g/sub/r/-/merge_requests/4", "gitlab.com/g/sub/r", "g/sub", "gitlab", 4,
     "refs/merge-requests/4/head"),
    ("https://git.corp/team/r/-/merge_requests/9", "https://git.corp/team/r",
     "https://git.corp/team/r/-/merge_requests/9", "git.corp/team/r", "team", "gitlab", 9,
     "refs/merge-requests/9/head"),
    ("https://codeberg.org/o/r/pulls/8", "https://codeberg.org/o/r",
     "https://codeberg.org/o/r/pulls/8", "codeberg.org/o/r", "o", "forgejo", 8,
     "refs/pull/8/head"),
    ("https://code.corp/o/r/pulls/8/files", "https://code.corp/o/r",
     "https://code.corp/o/r/pulls/8", "code.corp/o/r", "o", "forgejo", 8, "refs/pull/8/head"),
    ("https://gitea.com/o/r/pulls/2", "https://gitea.com/o/r", "https://gitea.com/o/r/pulls/2",
     "gitea.com/o/r", "o", "gitea", 2, "refs/pull/2/head"),
    ("http://gitea.lan:3000/o/r/pulls/2", "http://gitea.lan:3000/o/r",
     "http://gitea.lan:3000/o/r/pulls/2", "gitea.lan:3000/o/r", "o", "gitea", 2,
     "refs/pull/2/head"),
    ("https://github.com/o/r/pull/0012", "https://github.com/o/r",
     "https://github.com/o/r/pull/12", "github.com/o/r", "o", "github", 12, "refs/pull/12/head"),
]


@pytest.mark.parametrize("case", PRS, ids=[c[0] for c in PRS])
def test_pr_urls(case):
    text, clone, display, repo, owner, forge, n, ref = case
    s = p(text)
    assert (s.kind, s.clone_url, s.display, s.repo, s.owner, s.forge, s.pr_number, s.pr_ref) == (
        "pr", clone, display, repo, owner, forge, n, ref)
    assert s.default_task == f"Review and continue {display}"
    assert s.issue_url is None
    assert s.name == "r" and s.project == "r"


def test_pr_url_zero_is_not_a_pr():
    s = p("https://github.com/o/r/pull/0")
    assert (s.kind, s.pr_number, s.clone_url) == ("remote", None, "https://github.com/o/r")


# (text, clone_url, issue_url, owner, forge)
ISSUES = [
    ("https://github.com/o/r/issues/42", "https://github.com/o/r",
     "https://github.com/o/r/issues/42", "o", "github"),
    ("https://github.com/o/r/issues/42#issuecomment-1", "https://github.com/o/r",
     "https://github.com/o/r/issues/42", "o", "github"),
    ("github.com/o/r/issues/42/", "https://github.com/o/r", "https://github.com/o/r/issues/42",
     "o", "github"),
    ("https://gitlab.com/g/sub/r/-/issues/5", "https://gitlab.com/g/sub/r",
     "https://gitlab.com/g/sub/r/-/issues/5", "g/sub", "gitlab"),
    ("https://gitlab.com/g/r/issues/5", "https://gitlab.com/g/r",
     "https://gitlab.com/g/r/issues/5", "g", "gitlab"),
    ("https://codeberg.org/o/r/issues/3", "https://codeberg.org/o/r",
     "https://codeberg.org/o/r/issues/3", "o", "forgejo"),
    ("https://gitea.com/o/r/issues/3", "https://gitea.com/o/r", "https://gitea.com/o/r/issues/3",
     "o", "gitea"),
    ("https://tracker.corp/o/r/issues/3", "https://tracker.corp/o/r",
     "https://tracker.corp/o/r/issues/3", "o", "unknown"),
]


@pytest.mark.parametrize("case", ISSUES, ids=[c[0] for c in ISSUES])
def test_issue_urls(case):
    text, clone, issue, owner, forge = case
    s = p(text)
    assert (s.kind, s.clone_url, s.display, s.issue_url, s.owner, s.forge) == (
        "remote", clone, issue, issue, owner, forge)
    assert s.default_task == f"Fix {issue}"
    assert (s.pr_number, s.pr_ref) == (None, None)


FORGES = [
    ("https://github.com/o/r", "github"),
    ("https://github.corp.example/o/r", "github"),
    ("https://gitlab.com/o/r", "gitlab"),
    ("https://gitlab.gnome.org/o/r", "gitlab"),
    ("https://codeberg.org/o/r", "forgejo"),
    ("https://forgejo.example/o/r", "forgejo"),
    ("https://gitea.com/o/r", "gitea"),
    ("https://try.gitea.io/o/r", "gitea"),
    ("https://bitbucket.org/o/r", "unknown"),
    ("https://git.sr.ht/~u/r", "unknown"),
    ("https://example.com/o/r", "unknown"),
    ("https://example.com/o/r/pull/1", "github"),
    ("https://example.com/o/r/-/merge_requests/1", "gitlab"),
    ("https://example.com/o/r/pulls/1", "forgejo"),
    ("https://gitlab.com/o/r/pull/1", "github"),  # the PR path shape decides
]


@pytest.mark.parametrize(("text", "forge"), FORGES)
def test_forge_from_host_or_pr_shape(text, forge):
    assert p(text).forge == forge


LOCAL = [  # (text, absolute path relative to CWD=/cwd, dirname)
    ("/src/proj", "/src/proj", "proj"),
    ("/src/proj/", "/src/proj", "proj"),
    ("/src/a/../proj", "/src/proj", "proj"),
    ("proj", "/cwd/proj", "proj"),
    ("./sub/proj", "/cwd/sub/proj", "proj"),
    ("foo/bar", "/cwd/foo/bar", "bar"),
    (".", "/cwd", "cwd"),
    ("~/code/my repo", "/home/me/code/my repo", "my repo"),
    ("/", "/", "root"),
    ("/src/gitlab:x", "/src/gitlab:x", "gitlab:x"),
    ("/src/user@host:x", "/src/user@host:x", "user@host:x"),
]


@pytest.mark.parametrize(("text", "path", "name"), LOCAL)
def test_local_paths(text, path, name, monkeypatch):
    monkeypatch.setattr(os, "getcwd", lambda: "/cwd")
    monkeypatch.setenv("HOME", "/home/me")
    s = parse(text, isdir=lambda q: os.path.abspath(q) == path)
    assert s == Source(kind="local", clone_url=path, display=path, repo=f"local/{name}",
                       project=s.project, name=name)
    assert re.fullmatch(r"[A-Za-z0-9._-]+", s.project)


def test_local_project_is_sanitised():
    assert parse("/code/my repo", isdir=lambda q: True).project == "my-repo"


@pytest.mark.parametrize("text", [".", "..", "/src/proj", "./proj", "../proj", "~/proj", "proj"])
def test_local_path_inside_container_is_an_error(text):
    with pytest.raises(DevaipodError) as e:
        parse(text, in_container=True, isdir=lambda q: q.endswith("proj") or q in (".", ".."))
    assert e.value.format_message() == (
        "local paths are not supported inside the devaipod container (sibling containers are "
        "created by the host's podman); use a remote URL such as https://github.com/owner/repo")


def test_remote_urls_work_inside_container():
    s = parse("https://github.com/o/r", in_container=True, isdir=lambda q: True)
    assert s.clone_url == "https://github.com/o/r"


PROJECTS = [
    ("https://github.com/o/r.git", "r"),
    ("https://github.com/o/.github", ".github"),
    ("https://github.com/o/my%20repo", "my-20repo"),
    ("https://github.com/o/a+b~c", "a-b-c"),
    ("https://github.com/o/-rf", "rf"),
    ("https://github.com/o/...", "workspace"),
    ("https://git.corp/o/r@v1", "r-v1"),
    ("git://gitserver/x_y-z.1.git", "x_y-z.1"),
]


@pytest.mark.parametrize(("text", "project"), PROJECTS)
def test_project_is_sanitised(text, project):
    assert p(text).project == project


# (text, kwargs, message, hint fragment)
ERRORS = [
    ("", {}, "no SOURCE given", "accepted:"),
    ("   ", {}, "no SOURCE given", "accepted:"),
    ("foo/bar", {}, "'foo/bar' is neither a git URL nor an existing directory",
     "git@host:owner/repo"),
    ("gitlab:", {}, "'gitlab:' is neither a git URL nor an existing directory", "accepted:"),
    ("gitlab:foo/bar", {}, "'gitlab:foo/bar' is neither a git URL nor an existing directory",
     "accepted:"),
    ("https:/github.com/o/r", {}, "is neither a git URL nor an existing directory", "accepted:"),
    ("ftp://example.com/o/r", {}, "unsupported URL scheme 'ftp'", "accepted:"),
    ("file:///src/repo", {}, "unsupported URL scheme 'file'", "accepted:"),
    ("FTP://x/y", {}, "unsupported URL scheme 'ftp'", "accepted:"),
    ("https://github.com", {}, "'https://github.com' has no repository path",
     "expected https://github.com/owner/repo"),
    ("https://github.com/", {}, "'https://github.com/' has no repository path", "owner/repo"),
    ("github.com", {}, "'https://github.com' has no repository path", "owner/repo"),
    ("http://gitserver/.git", {}, "has no repository path", "owner/repo"),
    ("https://github.com/owner", {}, "needs both an owner and a repository",
     "expected https://github.com/owner/repo"),
    ("git@gitlab.com:r.git", {}, "needs both an owner and a repository", "owner/repo"),
    ("https://", {}, "'https://' has no valid host name", "accepted:"),
    ("https:///o/r", {}, "has no valid host name", "accepted:"),
    ("https://host:port/o/r", {}, "has no valid host name", "accepted:"),
    ("https://github.com/o/r x", {}, "contains characters not allowed in a git URL", "accepted:"),
    ("https://github.com/o/<r>", {}, "contains characters not allowed", "accepted:"),
    ("https://github.com/o/ré", {}, "contains characters not allowed", "accepted:"),
    ("https://github.com/o\x00/r", {}, "contains control characters", "accepted:"),
    ("https://github.com/../r", {}, "has '.' or '..' in its path", "accepted:"),
    ("https://github.com/../r/pull/1", {}, "has no valid repository path", "accepted:"),
    ("https://user:secret@github.com/o/r", {}, "the URL contains a password",
     "credential helper"),
    ("1://x/y", {}, "is not a valid URL", "accepted:"),
]


@pytest.mark.parametrize(("text", "kw", "message", "hint"), ERRORS)
def test_errors(text, kw, message, hint):
    with pytest.raises(DevaipodError) as e:
        p(text, **kw)
    assert message in e.value.message
    assert hint in (e.value.hint or "")
    assert "\n" not in e.value.format_message()
    assert "secret" not in e.value.format_message()


def test_source_is_frozen():
    s = p("https://github.com/o/r")
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.kind = "pr"  # type: ignore[misc]


def test_full_source_for_a_gitlab_merge_request():
    assert p("gitlab.com/g/sub/r/-/merge_requests/17/diffs") == Source(
        kind="pr", clone_url="https://gitlab.com/g/sub/r",
        display="https://gitlab.com/g/sub/r/-/merge_requests/17", repo="gitlab.com/g/sub/r",
        project="r", host="gitlab.com", owner="g/sub", name="r", forge="gitlab", pr_number=17,
        pr_ref="refs/merge-requests/17/head", issue_url=None,
        default_task="Review and continue https://gitlab.com/g/sub/r/-/merge_requests/17")


PREFIXES = ["https://", "http://", "git://", "ssh://git@", "git@", "github.com/", "gitlab.com/",
            "https;//", "https://github.com/", "https://gitlab.com/", "ftp://", "", "/", "~"]
SEGMENT = st.text(alphabet="ab.-_/:@?#%~ \\1-", max_size=12)
URLISH = st.builds(lambda pre, parts: pre + "/".join(parts), st.sampled_from(PREFIXES),
                   st.lists(st.one_of(SEGMENT, st.sampled_from(
                       ["pull", "pulls", "-", "merge_requests", "issues", "1", "r.git", ""])),
                       max_size=6))


def check_total(text: str, in_container: bool, isdir_result: bool) -> None:
    try:
        s = parse(text, extra_hosts=("git.corp",), in_container=in_container,
                  isdir=lambda q: isdir_result)
    except DevaipodError as e:
        assert e.message and "\n" not in e.format_message()
        return
    assert s.kind in ("remote", "pr", "local")
    assert s.forge in ("github", "gitlab", "forgejo", "gitea", "unknown")
    assert re.fullmatch(r"[A-Za-z0-9._-]+", s.project) and s.project.strip(".")
    assert (s.kind == "pr") == (s.pr_number is not None) == (s.pr_ref is not None)
    if s.kind != "local":
        assert s.clone_url.startswith(("https://", "http://", "git://"))
        assert s.repo.startswith(s.host + "/") and s.name
    else:
        assert not in_container and os.path.isabs(s.clone_url)


@settings(max_examples=400)
@given(st.text(), st.booleans(), st.booleans())
def test_any_text_gives_a_source_or_a_devaipod_error(text, in_container, isdir_result):
    check_total(text, in_container, isdir_result)


@settings(max_examples=600)
@given(URLISH, st.booleans(), st.booleans())
def test_any_url_like_text_gives_a_source_or_a_devaipod_error(text, in_container, isdir_result):
    check_total(text, in_container, isdir_result)
