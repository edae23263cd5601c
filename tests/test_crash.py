"""An ingest killed part-way leaves the workspace exactly as it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from mining.ingest import ingest_file
from mining.store import Store
from tests.conftest import FILES

ROOT = Path(__file__).resolve().parent.parent


def _big_csv(path: Path, rows: int) -> None:
    con = duckdb.connect()
    con.execute(
        "COPY (SELECT 'C' || lpad((i // 8)::VARCHAR, 8, '0') AS case_id, 'step ' || (i % 8) AS activity, "
        "strftime(TIMESTAMP '2024-01-01' + (i * INTERVAL 1 MINUTE), '%Y-%m-%dT%H:%M:%SZ') AS timestamp, "
        "'r' || (i % 13) AS resource FROM range(?) t(i)) TO ? (HEADER)",
        [rows, str(path)],
    )
    con.close()


def _state(workspace: Path) -> tuple:
    with Store(workspace, read_only=True) as s:
        return s.query(
            "SELECT (SELECT list(name ORDER BY name) FROM logs), (SELECT count(*) FROM events), "
            "(SELECT count(*) FROM cases), (SELECT count(*) FROM variants), (SELECT count(*) FROM ingest_runs), "
            "(SELECT count(*) FROM rejects), (SELECT count(*) FROM quality), "
            "(SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'attrs_%')"
        ).rows[0]


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.8, 2.0, 3.5])
def test_killed_ingest_leaves_workspace_unchanged(tmp_path, delay):
    workspace = tmp_path / "ws.duckdb"
    with Store(workspace) as s:
        ingest_file(s, FILES / "ingest" / "small.csv")
    before = _state(workspace)
    assert before == (["small"], 2, 1, 1, 1, 0, 0, 1)

    big = tmp_path / "big.csv"
    _big_csv(big, 3_000_000)
    child = subprocess.Popen(
        [sys.executable, "-m", "mining", "--workspace", str(workspace), "ingest", str(big)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL, "the ingest finished before it could be killed"

    # Reopening replays the WAL: nothing of the killed ingest may be visible.
    assert _state(workspace) == before
    # ...and the workspace still takes the same ingest afterwards.
    with Store(workspace) as s:
        summary = ingest_file(s, big)
    assert (summary.events, summary.cases) == (3_000_000, 375_000)
