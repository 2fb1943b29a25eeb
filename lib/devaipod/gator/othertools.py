"""The gator's GitLab and Forgejo tools: ``gl``, ``forgejo`` and ``git_push_local``.

Names and arguments are upstream service-gator's:

- ``gl(args)``: ``["api", "projects/GROUP%2FPROJECT/merge_requests", "--jq", EXPR]``;
- ``forgejo(args, host)``: ``["api", "/api/v1/repos/OWNER/REPO/pulls"]``;
  both read only (GET), the project checked against its ``read`` grant;
- ``git_push_local(repo_path, commit_sha, target, description)``: pushes a commit of
  the agent's tree to ``agent-<description>`` of ``gitlab:GROUP/PROJECT`` or
  ``forgejo:OWNER/REPO`` (``push-new-branch``), through the same throw-away shadow
  as ``github_push`` (``push.push_commit``); never forced. devaipod adds
  ``create_draft`` (with ``base`` and ``title``; ``create-draft``): a draft merge
  request ("Draft: " title) or a work-in-progress pull request ("WIP: " title), whose
  description starts with ``branches.PR_MARKER``. The push is refused when a merge or
  pull request the gator did not open has that branch as its source.
"""

from __future__ import annotations

from urllib.parse import quote

from devaipod.gator import push
from devaipod.gator.branches import PR_MARKER, marked
from devaipod.gator.forge import ForgeError
from devaipod.gator.otherforge import forgejo_endpoint, gitlab_endpoint
from devaipod.gator.scopes import PROJECT, REPO
from devaipod.gator.tools import Gate, answer

OPTIONS = {"--jq": "jq", "-q": "jq", "--method": "method", "-X": "method"}
DRAFT_PREFIX = {"gitlab": "Draft: ", "forgejo": "WIP: "}
MAX_PAGES = 50


def parse_args(args: list[str], tool: str) -> tuple[str, str | None]:
    """(endpoint, jq) of ``["api", ENDPOINT, "--jq", EXPR]``; GET only."""
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise ForgeError(f"{tool}: args is a list of strings such as [\"api\", ENDPOINT]")
    args = args[1:] if args[:1] == ["glab"] else args
    if len(args) < 2 or args[0] != "api":
        raise ForgeError(f"{tool}: only the api subcommand is supported: "
                         "[\"api\", ENDPOINT, \"--jq\", EXPR]")
    endpoint, jq, rest = args[1], None, args[2:]
    while rest:
        option = OPTIONS.get(rest[0])
        if option is None or len(rest) < 2:
            raise ForgeError(f"{tool}: unknown or incomplete option {rest[0]!r} "
                             "(known: --jq EXPR, -X GET)")
        if option == "method" and rest[1].upper() != "GET":
            raise ForgeError(f"{tool}: read only: use git_push_local to push and open "
                             "draft requests")
        jq = rest[1] if option == "jq" else jq
        rest = rest[2:]
    return endpoint, jq


def gl(gate: Gate, args: list[str]) -> str:
    endpoint, jq = parse_args(args, "gl")
    project, path = gitlab_endpoint(endpoint)
    gate.need(project, "read", "gitlab")
    return answer(gate.client("gitlab").request("GET", path), jq)


def forgejo(gate: Gate, args: list[str], host: str | None = None) -> str:
    endpoint, jq = parse_args(args, "forgejo")
    client = gate.client("forgejo")
    if host and host.lower() != client.host.lower():
        raise ForgeError(f"forgejo: host {host!r} is not this gator's Forgejo "
                         f"({client.host})")
    repo, path = forgejo_endpoint(endpoint)
    gate.need(repo, "read", "forgejo")
    return answer(client.request("GET", path), jq)


def _target(target: str) -> tuple[str, str]:
    service, _, path = (target or "").partition(":")
    if service in ("github", "gh"):
        raise ForgeError("git_push_local is for GitLab and Forgejo: use github_push")
    ok = {"gitlab": PROJECT, "forgejo": REPO}.get(service)
    if ok is None or not ok.match(path):
        raise ForgeError(f"target {target!r}: expected gitlab:GROUP/PROJECT or "
                         "forgejo:OWNER/REPO")
    return service, path


def _all_pages(gate: Gate, service: str, path: str, size: int) -> list[dict]:
    """Every item of a paged list (PATH ends with its query); refused past MAX_PAGES."""
    client = gate.client(service)
    found: list[dict] = []
    for page in range(1, MAX_PAGES + 1):
        items = client.call("GET", f"{path}&page={page}") or []
        found += items
        if len(items) < size:
            return found
    raise ForgeError(f"refused: more than {MAX_PAGES * size} requests to look through")


def _requests_with_source(gate: Gate, service: str, path: str, branch: str) -> list[dict]:
    """Every merge / pull request (any state) of PATH whose source branch is BRANCH, as
    {"number", "state", "body", "url"}."""
    if service == "gitlab":
        found = _all_pages(gate, service, f"projects/{quote(path, safe='')}/merge_requests"
                           f"?state=all&per_page=100&source_branch={quote(branch, safe='')}",
                           100)
        return [{"number": m.get("iid"), "state": "open" if m.get("state") == "opened"
                 else m.get("state"), "body": m.get("description"), "url": m.get("web_url")}
                for m in found if m.get("source_branch") == branch]
    found = _all_pages(gate, service, f"repos/{path}/pulls?state=all&limit=50", 50)
    return [{"number": p.get("number"), "state": p.get("state"), "body": p.get("body"),
             "url": p.get("html_url")}
            for p in found if (p.get("head") or {}).get("ref") == branch]


def _open_draft(gate: Gate, service: str, path: str, branch: str, base: str, title: str,
                body: str) -> dict:
    client, title = gate.client(service), DRAFT_PREFIX[service] + title
    if service == "gitlab":
        mr = client.call("POST", f"projects/{quote(path, safe='')}/merge_requests", {
            "source_branch": branch, "target_branch": base, "title": title,
            "description": marked(body)})
        return {"number": mr.get("iid"), "url": mr.get("web_url")}
    pr = client.call("POST", f"repos/{path}/pulls", {
        "head": branch, "base": base, "title": title, "body": marked(body)})
    return {"number": pr.get("number"), "url": pr.get("html_url")}


def git_push_local(gate: Gate, repo_path: str, commit_sha: str, target: str,
                   description: str, create_draft: bool = False, base: str | None = None,
                   title: str | None = None, body: str | None = None) -> str:
    service, path = _target(target)
    branch = push.branch_name(description)
    gate.need(path, "push-new-branch", service)
    if create_draft:
        gate.need(path, "create-draft", service)
        if not (base and title):
            raise ForgeError("create_draft needs base and title")
    sha = push.check_sha(commit_sha)
    existing = _requests_with_source(gate, service, path, branch)
    for item in existing:
        if not (item["body"] or "").startswith(PR_MARKER):
            raise ForgeError(f"refused: {target} branch {branch} is the source of request "
                             f"#{item['number']}, which was not opened through the gator; "
                             "use another description")
    client = gate.client(service)
    message = push.push_commit(repo_path, sha, client.clone_url(path), branch,
                               client.auth_header(), gate.scopes().policy, f"{service}:{path}")
    lines = [f"Pushed {sha[:12]} to {target} branch {branch}"]
    open_item = next((i for i in existing if i["state"] == "open"), None)
    if create_draft and open_item:
        lines.append(f"Updated request #{open_item['number']}: {open_item['url']}")
    elif create_draft:
        made = _open_draft(gate, service, path, branch, str(base), str(title),
                           body if body is not None else message)
        kind = "merge request !" if service == "gitlab" else "pull request #"
        lines.append(f"Draft {kind}{made['number']}: {made['url']}")
    return "\n".join(lines)
