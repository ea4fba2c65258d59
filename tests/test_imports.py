"""The package's import graph: no cycles, no upward imports, textual only in the console.

Read from the source (every import statement, including those under TYPE_CHECKING and inside
functions: a lazy import is still an arrow), so it fails on a cycle before anything runs.
`python tests/test_imports.py` prints the graph's cycles and arrows.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "tui_proxy"

#: The outer layer: what composes the engine and its faces. Nothing below may import these.
OUTER = ("tui_proxy.engine", "tui_proxy.cli", "tui_proxy.headless", "tui_proxy.tui", "tui_proxy.commands", "tui_proxy.__main__")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Modules of the package that `name` imports (a package's own __init__ counts as itself)."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            targets = [f"{stem}.{alias.name}" for alias in node.names] + [stem]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    edges = {name: imports_of(name, path, known) for name, path in mods.items()}
    # Importing `a.b.c` also runs `a/__init__` and `a/b/__init__`, but those only hold docs
    # here; an arrow to a package means an arrow to its __init__, as written.
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]
    sys.setrecursionlimit(10_000)

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def is_outer(name: str) -> bool:
    return any(name == o or name.startswith(o + ".") for o in OUTER)


def test_the_package_has_no_import_cycles():
    assert cycles(graph()) == []


def test_nothing_below_the_engine_imports_it_or_its_faces():
    upward = sorted((a, b) for a, targets in graph().items() if not is_outer(a) for b in targets if is_outer(b))
    assert upward == []


def test_only_the_console_imports_textual():
    offenders = []
    for name, path in modules().items():
        if name.startswith("tui_proxy.tui"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            if any(n == "textual" or n.startswith("textual.") for n in names):
                offenders.append(name)
    assert offenders == []


def test_the_checker_sees_a_cycle(tmp_path):
    """The checker itself: a cycle through a relative import and one under a function."""
    edges = {"p.a": {"p.b"}, "p.b": {"p.c"}, "p.c": {"p.a"}, "p.d": {"p.a"}}
    assert cycles(edges) == [["p.a", "p.b", "p.c"]]
    pkg = tmp_path / "p"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from .b import g\n")
    (pkg / "b.py").write_text("from . import a\n")
    known = {"p", "p.a", "p.b"}
    assert imports_of("p.a", pkg / "a.py", known) == {"p.b"}
    assert "p.a" in imports_of("p.b", pkg / "b.py", known)


if __name__ == "__main__":
    edges = graph()
    for component in cycles(edges):
        print("cycle:", " -> ".join(component))
    print(sum(map(len, edges.values())), "arrows")
