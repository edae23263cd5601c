"""Imports point one way: the library never imports the app or the CLI."""

from __future__ import annotations

import ast
from pathlib import Path

import mining

PACKAGE = Path(mining.__file__).resolve().parent


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
    return out


def library_modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith(("ui/", "commands/")) or rel in {"cli.py", "__main__.py"}:
            continue
        yield rel, imports_of(path)


def test_library_never_imports_streamlit_or_the_cli():
    offenders = {rel: sorted(m for m in mods if m.split(".")[0] in {"streamlit", "click"} or
                             m.startswith(("mining.cli", "mining.ui")))
                 for rel, mods in library_modules()}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_only_the_store_imports_duckdb():
    users = sorted(rel for rel, mods in library_modules() if "duckdb" in mods)
    assert users == ["store.py"]


def test_pm4py_stays_behind_its_adapter():
    users = sorted(rel for rel, mods in library_modules() if any(m.split(".")[0] == "pm4py" for m in mods))
    assert all(u.startswith(("pm4py_adapter", "models/")) for u in users), users
