"""Imports run one way: dialects at the bottom, then core, retention's pure plans, io, and the
command line on top (docs/architecture.md). Checked from the source, without importing it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "saver"
# What each layer must not import (a layer is the first folder under saver/).
TOP = ("saver.cli", "saver.importer", "saver.server")
FORBIDDEN = {
    "dialects": ("saver.core", "saver.retention", "saver.io", *TOP),
    "core": ("saver.retention", "saver.io", *TOP),
    "retention": ("saver.io", *TOP),
    "io": TOP,
    "server": ("saver.cli",),  # the command line starts the server, not the other way
}
GENERATED = ("saver.io._sync", "saver.io._async")


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def layer(path: Path) -> str:
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else ""


def _hits(names: set[str], prefixes: tuple[str, ...]) -> list[str]:
    return sorted(n for n in names if any(n == p or n.startswith(p + ".") for p in prefixes))


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_module_imports_nothing_from_the_layers_above_it(path: Path) -> None:
    assert _hits(imported(path), FORBIDDEN.get(layer(path), ())) == []


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_io_imports_its_generated_and_source_packages(path: Path) -> None:
    if layer(path) == "io":
        return
    assert _hits(imported(path), GENERATED) == []
