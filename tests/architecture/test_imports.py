"""The layers, checked on the source: `collector/` (the core) -> `common/` (shared by components) -> the
components (`<kind>/<type>/`). A component imports the core, `common`, its own folder and third-party
packages, never another component; `common` imports no component; the core imports neither.

Imports inside functions or classes hide cycles and dependencies, so they are refused too unless the line
says why (`# local import: REASON`, e.g. an optional heavy dependency). docs/architecture.md draws the
layers; this test is what keeps the drawing true.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CORE = "collector"
COMMON = "common"
KINDS = ("receivers", "processors", "exporters", "extensions")
LOCAL_IMPORT_REASON = re.compile(r"#\s*local import:\s*\S")


@dataclass(frozen=True)
class Import:
    module: str
    line: int
    module_level: bool
    reason_given: bool


def layer(module: str) -> str | None:
    """`collector`, `common`, `<kind>/<type>` for a component (a file directly in a kind's folder is
    its own unit, named after the file), or None for anything outside the checked trees."""
    parts = module.split(".")
    if parts[0] in (CORE, COMMON):
        return parts[0]
    if parts[0] in KINDS:
        return "/".join(parts[:2])
    return None


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path, root: Path) -> Iterator[Import]:
    """Every import in `path`, absolute (relative ones resolved), with `from pkg import name` giving
    `pkg.name` so that `from processors import rename` counts as importing `processors/rename`."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    package = module_name(path, root).split(".")
    if path.name != "__init__.py":
        package.pop()

    def visit(node: ast.AST, module_level: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                reason = bool(LOCAL_IMPORT_REASON.search(lines[child.lineno - 1]))
                for target in targets(child, package):
                    yield Import(target, child.lineno, module_level, reason)
            inside = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda)
            yield from visit(child, module_level and not inside)

    yield from visit(ast.parse(source, filename=str(path)), module_level=True)


def targets(node: ast.Import | ast.ImportFrom, package: list[str]) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = package[: len(package) - node.level + 1] if node.level else []
    module = ".".join([*base, *([node.module] if node.module else [])])
    return [f"{module}.{alias.name}" if alias.name != "*" else module for alias in node.names]


def violation(importer: str | None, imported: str | None) -> str | None:
    """Why `importer` (a layer) may not import `imported` (a layer), or None when it may."""
    if imported is None or imported == importer:
        return None
    if importer == CORE:
        return None if imported == CORE else f"the core imports {imported}"
    if importer == COMMON:
        return None if imported == CORE else f"common imports the component {imported}"
    if imported in (CORE, COMMON):
        return None
    return f"the component {importer} imports the component {imported}"


def problems(root: Path) -> list[str]:
    """Every broken rule under `root`, as `path:line: what`."""
    found: dict[str, None] = {}  # ordered and without repeats: one line importing three names is one break
    for top in (CORE, COMMON, *KINDS):
        for path in sorted((root / top).rglob("*.py")):
            importer = layer(module_name(path, root))
            relative = path.relative_to(root)
            for imp in imports(path, root):
                why = violation(importer, layer(imp.module))
                if why:
                    found[f"{relative}:{imp.line}: {why}"] = None
                if not imp.module_level and not imp.reason_given:
                    found[
                        f"{relative}:{imp.line}: import inside a function or class "
                        "(move it to the top, or say why on the line: `# local import: REASON`)"
                    ] = None
    return list(found)


def test_the_tree_follows_the_layers():
    found = problems(REPO)
    assert not found, "\n".join(found)


def test_every_checked_tree_is_walked():
    # a renamed folder must not silently leave the check with nothing to look at
    for top in (CORE, COMMON, *KINDS):
        assert list((REPO / top).rglob("*.py")), f"{top}/ has no Python file to check"


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("name", "source", "expected"),
    [
        (
            "processors/a/x.py",
            "from processors.b import factory\n",
            "the component processors/a imports the component processors/b",
        ),
        (
            "processors/a/x.py",
            "from processors import b\n",
            "the component processors/a imports the component processors/b",
        ),
        ("exporters/a/x.py", "import processors.b.y\n", "the component exporters/a imports the component processors/b"),
        (
            "exporters/a/x.py",
            "from exporters.shared import f\n",
            "the component exporters/a imports the component exporters/shared",
        ),
        ("exporters/a/x.py", "from ..b import f\n", "the component exporters/a imports the component exporters/b"),
        ("common/x.py", "from receivers.a import f\n", "common imports the component receivers/a"),
        ("collector/x.py", "from common import matching\n", "the core imports common"),
        ("collector/x.py", "import extensions.a\n", "the core imports extensions/a"),
        ("collector/x.py", "def f():\n    import json\n", "import inside a function or class"),
        ("common/x.py", "class C:\n    from collector import y\n", "import inside a function or class"),
        ("processors/a/x.py", "def f():\n    import yaml  # local import:\n", "inside a function or class"),
    ],
)
def test_each_rule_catches_its_break(tmp_path, name, source, expected):
    found = problems(write(tmp_path, {name: source}))
    assert len(found) == 1 and found[0].startswith(f"{name}:") and expected in found[0], found


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("processors/a/x.py", "from processors.a.y import f\nfrom . import z\nfrom collector import c\nimport yaml\n"),
        ("processors/a/x.py", "from common.actions import rename\nfrom common.delta import DeltaTracker\n"),
        ("common/x.py", "from collector.component import Factory\nfrom common import points\n"),
        ("collector/x.py", "from collector import config\nimport pydantic\n"),
        ("exporters/a/x.py", "def f():\n    import boto3  # local import: optional heavy dependency\n"),
        ("exporters/a/x.py", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from collector import c\n"),
    ],
)
def test_allowed_imports_pass(tmp_path, name, source):
    assert problems(write(tmp_path, {name: source})) == []
