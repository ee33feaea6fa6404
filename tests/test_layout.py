"""The package's layout: imports point one way and form no cycle; modules stay readable."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "infoae"
# Each layer may import the layers before it, never those after it.
LAYERS = ["version", "errors", "atomic", "tables", "config", "rundir", "cache", "data", "model",
          "evaluation", "figures", "report", "transfer", "training", "console", "cli"]
MAX_LINES = 300


def _modules() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _imports(name: str, path: Path, known) -> set[str]:
    """infoae modules that a file imports, anywhere in it (inside functions too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name and not name.startswith(target + "."):
                found.add(target)
    return found


def _graph():
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def test_no_import_cycles():
    graph, cycles = _graph(), []
    state = {}

    def visit(node, trail):
        state[node] = "open"
        for child in sorted(graph[node]):
            if state.get(child) == "open":
                cycles.append(trail[trail.index(child):] + [child])
            elif child not in state:
                visit(child, trail + [child])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def _layer(name: str) -> int | None:
    parts = name.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None


def test_imports_point_one_way():
    backwards = [f"{name} -> {target}" for name, targets in _graph().items()
                 for target in targets
                 if _layer(name) is not None and _layer(target) is not None
                 and _layer(target) > _layer(name)]
    assert not backwards, "imports against the layer order: " + ", ".join(sorted(backwards))


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: p.name)
def test_modules_stay_readable_in_one_sitting(path):
    assert len(path.read_text().splitlines()) <= MAX_LINES


def test_no_module_imports_the_package_facade():
    """infoae/__init__.py is the API a user imports (it reaches into the layers); no module of
    the package imports it or a name of it (the version lives in infoae.version)."""
    modules = _modules()
    importers = []
    for name, path in modules.items():
        if name == "infoae":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import) and any(a.name == "infoae" for a in node.names):
                importers.append(name)
            elif (isinstance(node, ast.ImportFrom) and node.module == "infoae" and not node.level
                  and any(f"infoae.{a.name}" not in modules for a in node.names)):
                importers.append(name)
    assert not importers, "modules importing the package itself: " + ", ".join(sorted(importers))


def test_the_version_is_one_number():
    import tomllib

    from infoae.version import __version__

    project = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["project"]
    assert project["version"] == __version__
