"""What imports what in lib/devaipod (README's Layout): the library never imports the CLI
or the control plane, the control plane never imports the verbs, the sidecar's code
imports nothing of the control plane's, and packages do not import each other in a
circle (but for the known edges below)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parents[2] / "lib" / "devaipod"
LIBRARY = ("workspace", "podman", "agent", "gator", "podapi", "http", "terminals", "kube")
FRONTS = ("clikit", "commands", "web", "cli", "dispatch")
# edges that close a circle today, each with its reason; a new one fails the cycle test
KNOWN_CYCLES: set[tuple[str, str]] = set()
# library -> front edges not yet removed
KNOWN_FRONTS: set[tuple[str, str]] = set()


def module_name(path: Path) -> str:
    parts = path.relative_to(LIB.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """The devaipod modules a file imports (at its top or inside functions)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found |= ({f"{node.module}.{a.name}" for a in node.names}
                      if node.module == "devaipod" else {node.module})
    return {name for name in found if name.startswith("devaipod.")}


def package(module: str) -> str:
    """``devaipod.web.app`` -> ``web``; ``devaipod.runner`` -> ``runner``."""
    return module.split(".")[1]


EDGES = sorted((module_name(p), target) for p in LIB.rglob("*.py") for target in imported(p))


def package_edges() -> set[tuple[str, str]]:
    return {(package(a), package(b)) for a, b in EDGES if package(a) != package(b)}


@pytest.mark.parametrize("lib", LIBRARY)
def test_the_library_does_not_import_the_fronts(lib):
    wrong = [(a, b) for a, b in EDGES if package(a) == lib and package(b) in FRONTS
             and (a, b) not in KNOWN_FRONTS]
    assert not wrong, f"{lib} imports the CLI or the control plane: {wrong}"


def test_the_control_plane_does_not_import_the_verbs():
    wrong = [(a, b) for a, b in EDGES if package(a) == "web" and package(b) == "commands"]
    assert not wrong, wrong


def test_the_sidecar_imports_nothing_of_the_control_plane():
    """podapi/ and http/ run in the pod's sidecar, from the image."""
    wrong = [(a, b) for a, b in EDGES if package(a) in ("podapi", "http")
             and package(b) not in ("podapi", "http", "gitsafe", "runner", "errors",
                                    "printable", "layout")]
    assert not wrong, wrong


def cycles(edges: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The edges (a, b) such that b reaches a again."""
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            node = todo.pop()
            if node == goal:
                return True
            if node not in seen:
                seen.add(node)
                todo += graph.get(node, ())
        return False

    return {(a, b) for a, b in edges if reaches(b, a)}


def test_cycles_are_found():
    assert cycles({("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")}) == {
        ("a", "b"), ("b", "c"), ("c", "a")}


def test_no_new_import_cycle_between_packages():
    known = KNOWN_CYCLES | {(b, a) for a, b in KNOWN_CYCLES}
    new = sorted(cycles(package_edges()) - known)
    assert not new, f"packages import each other in a circle: {new}"


def test_textual_is_imported_by_the_tui_alone():
    """`devaipod tui`'s Textual never slows the other verbs: only devaipod.tui imports it,
    and only the tui verb and `run`'s form (when they run) import devaipod.tui."""
    def imports(path: Path, prefix: str) -> bool:
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n == prefix or n.startswith(prefix + ".") for n in names):
                return True
        return False

    textual = sorted(module_name(p) for p in LIB.rglob("*.py") if imports(p, "textual"))
    assert textual and all(m.startswith("devaipod.tui") for m in textual), textual
    users = sorted(module_name(p) for p in LIB.rglob("*.py") if imports(p, "devaipod.tui")
                   and not module_name(p).startswith("devaipod.tui"))
    assert users == ["devaipod.commands.run", "devaipod.commands.tui"], users


def test_the_verbs_start_without_textual():
    import subprocess
    import sys

    code = ("import sys, devaipod.cli, devaipod.commands.tui, devaipod.commands.list, "
            "devaipod.commands.run; "
            "print('textual' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"PYTHONPATH": str(LIB.parent)}, check=True).stdout
    assert out.strip() == "False"
