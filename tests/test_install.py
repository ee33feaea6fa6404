"""The JAX-only install list (requirements-jax.txt, which docs/backends.md names) covers every
third-party package infoae imports but TensorFlow's, with pyproject.toml's lower bounds."""

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TENSORFLOWS = {"tensorflow", "tensorflow-datasets", "tensorboard"}


def _requirements(lines) -> dict[str, str]:
    found = {}
    for line in lines:
        line = line.split("#")[0].strip()
        if line:
            name, bound = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*(>=.*)?", line).groups()
            found[name.lower().replace("_", "-")] = bound or ""
    return found


def _imported_distributions() -> set[str]:
    modules = set()
    for path in (ROOT / "infoae").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    distributions = importlib.metadata.packages_distributions()
    third_party = modules - set(sys.stdlib_module_names) - {"infoae"}
    return {distributions[m][0].lower() for m in third_party}


def test_the_jax_only_list_covers_every_import_but_tensorflows():
    listed = _requirements((ROOT / "requirements-jax.txt").read_text().splitlines())
    needed = _imported_distributions() - TENSORFLOWS
    assert needed <= set(listed), needed - set(listed)
    assert not TENSORFLOWS & set(listed)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    bounds = _requirements(project["dependencies"] + project["optional-dependencies"]["jax"])
    for name, bound in listed.items():  # The same lower bounds where pyproject names one.
        if name in bounds:
            assert bound == bounds[name], name
    assert "requirements-jax.txt" in (ROOT / "docs" / "backends.md").read_text()
