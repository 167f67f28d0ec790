"""Guards of the architecture: the layers import only downward, the public surface stays small,
and each stack's project name agrees everywhere."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest
import yaml

import reconciler
import stacks

PACKAGE = Path(reconciler.__file__).parent

# layer -> internal packages it may import (model imports nothing internal; pure layers no I/O layers)
ALLOWED = {
    "model": set(),
    "spec": {"model", "errors", "config", "perf"},
    "planning": {"model", "errors", "spec", "store", "synth", "config", "gitinfo", "stacks"},
    "views": {"model"},
}


def _internal_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        for name in names:
            parts = name.split(".")
            if parts[0] == "reconciler" and len(parts) > 1:
                found.add(parts[1])
            elif parts[0] == "stacks":
                found.add("stacks")
    return found


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layers_import_only_what_they_may(layer):
    for path in (PACKAGE / layer).rglob("*.py"):
        extra = _internal_imports(path) - ALLOWED[layer] - {layer}
        assert not extra, f"{path.relative_to(PACKAGE)} imports {sorted(extra)}"


def test_pure_planning_modules_do_no_io():
    for name in ("actions", "resources", "backups", "planner", "drift"):
        imports = _internal_imports(PACKAGE / "planning" / f"{name}.py")
        assert imports <= {"model", "planning", "errors"}, (name, imports)


def test_public_surface():
    tree = ast.parse((PACKAGE / "__init__.py").read_text())
    defined = [t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets]
    assert defined == ["__version__"] and reconciler.__version__
    from reconciler.cli import main

    assert sorted(main.commands) == ["apply", "capabilities", "daemon", "drift", "events", "locks", "plan", "resume",
                                     "retry", "sandbox", "status", "suspend", "synth", "unlock", "validate"]


@pytest.mark.parametrize("cloud", sorted(stacks.PROJECTS))
def test_project_names_agree(cloud):
    module = importlib.import_module(stacks.PROGRAMS[cloud])
    pulumi_yaml = yaml.safe_load((Path(stacks.__file__).parent / cloud / "Pulumi.yaml").read_text())
    assert module.PROJECT == stacks.PROJECTS[cloud] == pulumi_yaml["name"]
    assert pulumi_yaml["runtime"] in ("python", {"name": "python"}) or pulumi_yaml["runtime"]["name"] == "python"


def test_every_module_says_what_it_owns():
    for root in (PACKAGE, Path(stacks.__file__).parent):
        for path in root.rglob("*.py"):
            if "migrations" in path.parts or path.name == "__main__.py":
                continue
            tree = ast.parse(path.read_text())
            assert ast.get_docstring(tree), f"{path} has no module docstring"
