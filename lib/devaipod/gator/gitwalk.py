"""The paths and files a range of commits changes, read from git objects checked by hash.

The agent writes its object store: a loose object or a pack may hold, under
the id of a commit the forge already has, content that is not that commit
(git does not check an object's hash when it reads it). A diff that trusted
such an object could hide a change. So the commits and trees read here come
from ``git cat-file --batch`` on a shadow (``devaipod.gitsafe``: no config,
attributes, hooks or replace refs of the agent), and each is hashed here
and refused when its hash is not its id. Blobs are not read, only their
sizes: a blob whose content does not match its id cannot reach the forge
(it checks every object it receives), and one the forge has is not new.

Paths are bytes in git; here they are ``str`` decoded with
``surrogateescape`` (any byte survives), joined with ``/``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from devaipod import gitsafe
from devaipod.errors import CommandError
from devaipod.gator.forge import ForgeError

TREE_MODE = b"40000"
LINK_MODE = b"120000"
GITLINK_MODE = b"160000"


@dataclass(frozen=True)
class Entry:
    mode: bytes
    oid: str

    @property
    def is_tree(self) -> bool:
        return self.mode == TREE_MODE

    @property
    def is_blob(self) -> bool:
        return not self.is_tree and self.mode != GITLINK_MODE


@dataclass(frozen=True)
class Commit:
    oid: str
    tree: str
    parents: tuple[str, ...]


def verify(oid: str, kind: bytes, body: bytes) -> None:
    """Refuse an object whose content does not hash to its id."""
    algo = "sha256" if len(oid) == 64 else "sha1"
    digest = hashlib.new(algo, kind + b" " + str(len(body)).encode() + b"\0" + body)
    if digest.hexdigest() != oid:
        raise ForgeError(f"refused: object {oid[:12]} in the repository is corrupt "
                         "(its content does not match its id)")


def parse_batch(data: bytes) -> dict[str, tuple[bytes, bytes]]:
    """``cat-file --batch`` output: id -> (type, content); a missing object is left out."""
    out, pos = {}, 0
    while pos < len(data):
        end = data.index(b"\n", pos)
        header = data[pos:end].split(b" ")
        pos = end + 1
        if len(header) != 3:  # "<id> missing" (or ambiguous)
            continue
        oid, kind, size = header[0].decode(), header[1], int(header[2])
        out[oid] = (kind, data[pos:pos + size])
        pos += size + 1
    return out


def parse_tree(body: bytes, width: int = 20) -> dict[str, Entry]:
    """A tree object's entries by name (decoded with surrogateescape); WIDTH: the bytes
    of an object id (32 in a SHA-256 repository)."""
    entries, pos = {}, 0
    while pos < len(body):
        space = body.index(b" ", pos)
        nul = body.index(b"\0", space)
        mode, name = body[pos:space], body[space + 1:nul]
        oid = body[nul + 1:nul + 1 + width].hex()
        if len(oid) != 2 * width:
            raise ForgeError("refused: a tree object is truncated")
        entries[name.decode("utf-8", "surrogateescape")] = Entry(mode.lstrip(b"0") or b"0",
                                                                 oid)
        pos = nul + 1 + width
    return entries


def parse_commit(oid: str, body: bytes) -> Commit:
    tree, parents = "", []
    for line in body.split(b"\n"):
        if not line:
            break  # the headers end at the first empty line
        key, _, value = line.partition(b" ")
        if key == b"tree" and not tree:
            tree = value.decode("ascii", "replace")
        elif key == b"parent":
            parents.append(value.decode("ascii", "replace"))
    if not tree:
        raise ForgeError(f"refused: commit {oid[:12]} has no tree")
    return Commit(oid, tree, tuple(parents))


class Objects:
    """Objects of a shadow, each checked against its id once and kept."""

    def __init__(self, shadow: str) -> None:
        self.shadow = shadow
        self.cache: dict[str, tuple[bytes, bytes]] = {}

    def read(self, oids: Iterable[str], kind: bytes) -> dict[str, bytes]:
        oids = list(dict.fromkeys(oids))
        wanted = [o for o in oids if o not in self.cache]
        if wanted:
            data = self._batch(["cat-file", "--batch"], wanted)
            for oid, (found, body) in parse_batch(data).items():
                verify(oid, found, body)
                self.cache[oid] = (found, body)
        out = {}
        for oid in oids:
            found, body = self.cache.get(oid, (b"missing", b""))
            if found != kind:
                raise ForgeError(f"refused: {kind.decode()} {oid[:12]} is not in the "
                                 f"repository ({found.decode()})")
            out[oid] = body
        return out

    def sizes(self, oids: Iterable[str]) -> dict[str, int]:
        wanted = list(dict.fromkeys(oids))
        if not wanted:
            return {}
        text = self._batch(["cat-file", "--batch-check"], wanted).decode("ascii", "replace")
        out = {}
        for line in text.splitlines():
            parts = line.split(" ")
            if len(parts) == 3 and parts[2].isdigit():
                out[parts[0]] = int(parts[2])
        return out

    def _batch(self, args: list[str], oids: list[str]) -> bytes:
        try:
            return gitsafe.capture_bytes(self.shadow, args, "\n".join(oids).encode() + b"\n")
        except CommandError as exc:
            raise ForgeError(f"reading the repository's objects failed: {exc}") from None

    def commits(self, oids: Iterable[str]) -> dict[str, Commit]:
        return {oid: parse_commit(oid, body)
                for oid, body in self.read(oids, b"commit").items()}


def changes(objects: Objects, old: str | None, new: str | None,
            prefix: str = "") -> Iterator[tuple[str, Entry | None]]:
    """(path, its new entry or None when removed) for every entry that differs between
    trees OLD and NEW (None: the empty tree). A tree added, removed or replaced by a
    file is walked too; a file replaced by a tree yields the path itself and the tree's
    files. Reads the trees of one depth at a time."""
    level = [(old, new, prefix)]
    while level:
        bodies = objects.read([t for o, n, _p in level for t in (o, n) if t], b"tree")
        following = []
        for o, n, base in level:
            before = parse_tree(bodies[o], len(o) // 2) if o else {}
            after = parse_tree(bodies[n], len(n) // 2) if n else {}
            for name in sorted(before.keys() | after.keys()):
                a, b = before.get(name), after.get(name)
                if a == b:
                    continue
                path = base + name
                a_tree, b_tree = bool(a and a.is_tree), bool(b and b.is_tree)
                if (a and not a_tree) or (b and not b_tree):  # a file, link or submodule
                    yield path, None if b_tree else b
                if a_tree or b_tree:
                    following.append((a.oid if a_tree and a else None,
                                      b.oid if b_tree and b else None, path + "/"))
        level = following


def commit_range(shadow: str, sha: str, known: list[str], limit: int) -> list[str]:
    """Commits reachable from SHA and from none of KNOWN (the forge's branches and tags),
    at most LIMIT + 1 of them (the caller refuses more than LIMIT)."""
    lines = "\n".join([sha, *(f"^{oid}" for oid in known)]) + "\n"
    try:
        out = gitsafe.capture_bytes(shadow, ["rev-list", f"--max-count={limit + 1}",
                                             "--stdin"], lines.encode())
    except CommandError as exc:
        raise ForgeError(f"listing the pushed commits failed: {exc}") from None
    return out.decode("ascii", "replace").split()
