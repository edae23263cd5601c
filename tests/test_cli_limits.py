"""The command line reads exports and runs its long work in a limited child: ``--memory-limit`` and
``--time-limit`` bound it, and an input that needs more ends in a plain error with nothing stored."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from mining.cli import cli
from tests.conftest import FILES
from tests.hostile import far_cell_xlsx

ROOT = Path(__file__).resolve().parent.parent
TINY = FILES / "cli" / "tiny.csv"


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid log of a million rows (40 MB): more than 100 MB to read, under any reader."""
    path = tmp_path_factory.mktemp("limits") / "big_export.csv"
    con = duckdb.connect()
    con.execute(
        "COPY (SELECT 'C' || lpad((i // 8)::VARCHAR, 8, '0') AS case_id, 'step ' || (i % 8) AS activity, "
        "strftime(TIMESTAMP '2024-01-01' + (i * INTERVAL 1 MINUTE), '%Y-%m-%dT%H:%M:%SZ') AS timestamp, "
        "'r' || (i % 17) AS resource FROM range(1000000) t(i)) TO ? (HEADER)",
        [str(path)],
    )
    con.close()
    return path


def _run(ws: Path, *args: str) -> tuple[int, str]:
    res = CliRunner().invoke(cli, ["--workspace", str(ws), *args])
    return res.exit_code, res.output


def test_an_export_that_needs_more_memory_than_allowed_is_refused_and_nothing_is_stored(
    tmp_path: Path, big: Path
) -> None:
    ws = tmp_path / "ws.duckdb"
    assert _run(ws, "ingest", str(TINY))[0] == 0
    before = ws.read_bytes()
    code, out = _run(ws, "ingest", str(big), "--memory-limit", "100MB")
    assert code == 1
    assert out.splitlines() == [
        "Error: the file big_export.csv needs more than 100 MB of memory to read; it was stopped, and nothing "
        "was changed",
        "Hint: split the export into smaller files, or give it more memory with --memory-limit 1GB",
    ]
    assert ws.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ws.duckdb", "ws.duckdb.lock"]


def test_an_export_that_takes_longer_than_allowed_is_stopped(tmp_path: Path, big: Path) -> None:
    ws = tmp_path / "ws.duckdb"
    code, out = _run(ws, "ingest", str(big), "--time-limit", "1s")
    assert code == 1
    assert out.splitlines()[0] == (
        "Error: the file big_export.csv took longer than 1 second to read; it was stopped, and nothing was "
        "changed"
    )
    assert not ws.exists()


def test_the_limits_are_checked_before_any_work(tmp_path: Path) -> None:
    code, out = _run(tmp_path / "ws.duckdb", "ingest", str(TINY), "--memory-limit", "lots")
    assert (code, out.splitlines()[0]) == (
        1,
        "Error: --memory-limit: 'lots' is not a size; expected e.g. 2GB, 512MB or 1.5GiB",
    )
    code, out = _run(tmp_path / "ws.duckdb", "monitor", "tiny", "--time-limit", "soon")
    assert code == 1 and "Error: --time-limit 'soon' is not a duration" in out
    assert not (tmp_path / "ws.duckdb").exists()


def test_a_limit_with_room_changes_nothing(tmp_path: Path) -> None:
    code, out = _run(
        tmp_path / "ws.duckdb", "ingest", str(TINY), "--memory-limit", "2GB", "--time-limit", "5m", "--json"
    )
    assert code == 0, out
    assert json.loads(out)["events"] == 3


def test_a_workbook_that_asks_for_a_far_away_cell_is_a_clean_error(tmp_path: Path) -> None:
    # However the reader deals with it (refuses it, or tries and is stopped), the command says why in
    # one plain message, no trace of a crash, and stores nothing.
    book = far_cell_xlsx(tmp_path / "far.xlsx")
    ws = tmp_path / "ws.duckdb"
    done = subprocess.run(
        [sys.executable, "-m", "mining", "--workspace", str(ws), "ingest", str(book)],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        check=False,
        timeout=300,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("Error: ") and "far.xlsx" in done.stderr.splitlines()[0]
    for crash in ("Traceback", "memory allocation of", "stack backtrace", "panicked"):
        assert crash not in done.stderr + done.stdout
    assert not ws.exists()


def test_the_app_hands_its_limits_to_the_server_and_refuses_a_typo_before_starting_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[dict[str, str]] = []
    monkeypatch.setattr(subprocess, "call", lambda argv, env, **kw: started.append(env) or 0)
    monkeypatch.delenv("MINING_MEMORY_LIMIT", raising=False)
    code, out = _run(tmp_path / "ws.duckdb", "app", "--memory-limit", "3GB", "--time-limit", "20m")
    assert code == 0, out
    [env] = started
    assert (env["MINING_MEMORY_LIMIT"], env["MINING_TIME_LIMIT"]) == ("3GB", "20m")
    code, out = _run(tmp_path / "ws.duckdb", "app", "--memory-limit", "lots")
    assert (code, out.splitlines()[0]) == (
        1,
        "Error: --memory-limit: 'lots' is not a size; expected e.g. 2GB, 512MB or 1.5GiB",
    )
    assert len(started) == 1
