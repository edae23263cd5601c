"""Where the tests' data lives: only ``conftest`` knows the path to ``../shared``, and a test
that reads it is skipped, naming the folder it expected, when it is absent."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.conftest import ROOT, SharedFolder

TESTS = ROOT / "tests"
#: A path segment ``shared``: "../shared", "/work/shared/logs", or ``/ "shared" /``.
SHARED_SEGMENT = re.compile(r"(^|[/\\])shared([/\\]|$)")


def paths_to_shared(source: str) -> list[int]:
    """Lines of ``source`` whose code (not a docstring or comment) spells a path into ``shared``."""
    tree = ast.parse(source)
    docstrings = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    return sorted(
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and SHARED_SEGMENT.search(node.value)
    )


def test_the_shared_path_finder_finds_each_spelling():
    source = (
        '"""Reads ../SHARED/logs."""\nA = ROOT.parent / "SHARED" / "logs"\nB = "/work/SHARED/models"\n'
        'C = "xl/SHAREDStrings.xml"  # ../SHARED\nD = "SHARED_logs"\nE = f"{ROOT}/SHARED"\n'
    )
    # Spelled in capitals here so that this file itself names no such path.
    assert paths_to_shared(source.replace("SHARED", "SHARED".lower())) == [2, 3, 6]


def test_only_conftest_names_the_shared_folder():
    wrong = {
        path.name: lines
        for path in sorted(TESTS.rglob("*.py"))
        if path.name != "conftest.py" and (lines := paths_to_shared(path.read_text(encoding="utf-8")))
    }
    assert wrong == {}


def test_an_absent_shared_folder_skips_naming_it(tmp_path: Path):
    folder = SharedFolder(tmp_path / "logs", "the real public logs")
    with pytest.raises(pytest.skip.Exception) as skipped:
        folder.present()
    assert str(skipped.value) == (
        f"needs the real public logs in {tmp_path / 'logs'} (../shared beside the checkout); not present"
    )


def test_an_absent_shared_file_skips_naming_it(tmp_path: Path):
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "here.xes").write_text("<log/>", encoding="utf-8")
    folder = SharedFolder(tmp_path / "logs", "the real public logs").present()
    assert folder / "here.xes" == tmp_path / "logs" / "here.xes"
    with pytest.raises(pytest.skip.Exception) as skipped:
        folder / "helpdesk.xes.gz"
    assert str(skipped.value) == (
        f"needs helpdesk.xes.gz from the real public logs in {tmp_path / 'logs'} "
        "(../shared beside the checkout); not present"
    )
