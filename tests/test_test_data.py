"""Where the tests' data lives: only ``conftest`` spells the paths to ``../shared``,
``tests/files`` and ``sample_logs``, and a test that reads ``../shared`` is skipped, naming
the folder it expected, when it is absent."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.conftest import ROOT, SharedFolder

TESTS = ROOT / "tests"
#: The folders only conftest spells (``shared_logs``/``shared_models``, ``FILES``, ``SAMPLE_LOGS``).
FOLDERS = ("shared", "files", "sample_logs")
#: Calls that build a path from their string arguments.
PATH_CALLS = {"Path", "PurePath", "join"}


def paths_naming(folder: str, source: str) -> list[int]:
    """Lines of ``source`` that build a path through ``folder``: ``x / "shared"``,
    ``Path("../shared/logs")``, ``os.path.join(root, "shared")`` (not messages or docstrings)."""
    segment = re.compile(rf"(^|[/\\]){re.escape(folder)}([/\\]|$)")
    lines = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            parts = [node.left, node.right]
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", None)) in PATH_CALLS
        ):
            parts = node.args
        else:
            continue
        lines.update(
            p.lineno
            for p in parts
            if isinstance(p, ast.Constant) and isinstance(p.value, str) and segment.search(p.value)
        )
    return sorted(lines)


def test_the_path_finder_finds_each_spelling():
    source = (
        '"""Reads ../shared/logs."""\n'
        'A = ROOT.parent / "shared" / "logs"\n'
        'B = Path("/work/shared/models")\n'
        'C = "xl/sharedStrings.xml"  # ../shared\n'
        'D = os.path.join(ROOT, "..", "shared")\n'
        'E = f"run it on ../shared/logs"\n'
        'F = HERE / "shared_logs"\n'
    )
    assert paths_naming("shared", source) == [2, 3, 5]
    assert paths_naming("files", 'HERE = Path(__file__).parent / "files" / "xml"') == [1]
    assert paths_naming("sample_logs", 'msg = f"sample_logs/{name} is stale"') == []


@pytest.mark.parametrize("folder", FOLDERS)
def test_only_conftest_names_the_data_folders(folder: str):
    """One place knows each folder; this module only names them to look for them."""
    wrong = {
        path.name: lines
        for path in sorted(TESTS.rglob("*.py"))
        if path.name not in {"conftest.py", Path(__file__).name}
        and (lines := paths_naming(folder, path.read_text(encoding="utf-8")))
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
