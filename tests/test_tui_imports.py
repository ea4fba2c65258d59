"""The console's modules import each other in one direction: no cycles (TYPE_CHECKING
imports count too), and only tui/ imports textual."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "tui_proxy"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> set[str]:
    """tui_proxy modules that `path` imports, resolved to module names."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("tui_proxy"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            if not base.startswith("tui_proxy"):
                continue
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {i for i in imports(path) if i in modules and i != name} for name, path in modules.items()}


def test_no_console_module_is_part_of_an_import_cycle():
    edges = graph()
    console = [m for m in edges if m.startswith("tui_proxy.tui") or m == "tui_proxy.filters"]
    for start in console:
        # Every module reachable from `start`; a cycle brings us back to it.
        seen: set[str] = set()
        todo = list(edges[start])
        while todo:
            module = todo.pop()
            if module == start:
                raise AssertionError(f"{start} imports a module that imports it back")
            if module not in seen:
                seen.add(module)
                todo.extend(edges.get(module, ()))


def test_only_the_console_imports_textual():
    for path in PACKAGE.rglob("*.py"):
        if "tui" in path.relative_to(PACKAGE).parts[:1]:
            continue
        tree = ast.parse(path.read_text())
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        assert not any(name.split(".")[0] == "textual" for name in names), path
