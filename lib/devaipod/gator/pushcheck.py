"""The check of a push against the content policy (``devaipod.gator.policy``).

Every commit the push adds to the forge (reachable from the pushed commit and
from none of the forge's branches and tags, which ``push.forge_tips`` fetches
from the forge itself) is compared with each of its parents (a root commit
with the empty tree), from objects checked by hash (``gitwalk``): a merge is
refused when it differs from any parent at a denied path.

A refusal is a :class:`Refusal`, a ``ForgeError`` (the agent reads it as the
tool's error) that names the rule, the commit and the path: the one place
where a refused push can be recorded.
"""

from __future__ import annotations

from devaipod.gator import gitwalk
from devaipod.gator.forge import ForgeError
from devaipod.gator.policy import ALLOW, Pattern, Policy, denied_by


class Refusal(ForgeError):
    """A push the policy refuses: RULE (the key), COMMIT and PATH when there are."""

    def __init__(self, rule: str, message: str, commit: str | None = None,
                 path: str | None = None) -> None:
        super().__init__(f"refused by the push policy ([service-gator] {rule}): {message}")
        self.rule, self.commit, self.path = rule, commit, path


def check(policy: Policy, shadow: str, sha: str, known: list[str],
          target: str) -> tuple[list[str], list[str]]:
    """Refuse the push of SHA to TARGET (see the module) unless the policy allows it;
    KNOWN: the ids of the forge's branches and tags. Returns the commits the push adds
    and the paths they change (for the audit trail)."""
    limit = policy.max_commits or 1_000_000
    ids = gitwalk.commit_range(shadow, sha, known, limit)
    if len(ids) > limit:
        raise Refusal("max-commits", f"the push adds more than {limit} commits; push "
                      "fewer at once (or squash them)")
    objects = gitwalk.Objects(shadow)
    commits = objects.commits(ids)
    parents = objects.commits(p for c in commits.values() for p in c.parents)
    patterns = [] if policy.allows_paths(target) else \
        [Pattern.compile(p) for p in policy.deny_paths]
    files: set[str] = set()
    for commit in commits.values():
        bases: list[str | None] = [parents[p].tree for p in commit.parents] or [None]
        for base in bases:
            files |= _check_diff(policy, objects, commit.oid, base, commit.tree, patterns,
                                 target)
    return list(ids), sorted(files)


def _check_diff(policy: Policy, objects: gitwalk.Objects, oid: str, old: str | None, new: str,
                patterns: list[Pattern], target: str) -> set[str]:
    """Refuse the change from tree OLD to NEW of commit OID (see check); the paths it
    changes."""
    blobs: dict[str, str] = {}
    paths: set[str] = set()
    for path, entry in gitwalk.changes(objects, old, new):
        paths.add(path)
        pattern = denied_by(path, patterns)
        if pattern:
            raise Refusal("deny-paths", f"commit {oid[:12]} changes {path!r}, which "
                          f"matches {pattern!r}. Leave that path alone, or ask the "
                          f"human for the grant '{target}:{ALLOW}' (devaipod gator add "
                          f"WORKSPACE {target}:{ALLOW})", oid, path)
        if entry is not None and entry.is_blob:
            blobs.setdefault(entry.oid, path)
    if not policy.max_file_size:
        return paths
    for blob, size in objects.sizes(blobs).items():
        if size > policy.max_file_size:
            raise Refusal("max-file-size", f"commit {oid[:12]} adds {blobs[blob]!r} of "
                          f"{size} bytes, over the limit of {policy.max_file_size}",
                          oid, blobs[blob])
    return paths
