"""An ingest in a child process: progress, result, errors as raised, and cancelling leaves the workspace as it was."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from mining.catalog import list_logs
from mining.errors import TooManyRejects
from mining.ingest import IngestOptions, ingest_file
from mining.ingest.job import start_ingest
from mining.store import Store, writing
from tests.conftest import FILES, SAMPLE_LOGS

SAMPLE = SAMPLE_LOGS / "service_desk.csv"


def _wait(job, timeout=120.0):
    seen = []
    deadline = time.monotonic() + timeout
    while not (status := job.status()).done:
        if not seen or seen[-1] != status.message:
            seen.append(status.message)
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return seen


def test_a_job_reports_its_stages_and_returns_the_same_summary_as_in_process(tmp_path: Path) -> None:
    ws = tmp_path / "ws.duckdb"
    job = start_ingest(ws, SAMPLE, IngestOptions())
    seen = _wait(job)
    assert job.status().share == 1.0
    summary = job.result()
    with Store() as store:
        expected = ingest_file(store, SAMPLE)
    assert (summary.log, summary.cases, summary.events, summary.variants) == (
        expected.log,
        expected.cases,
        expected.events,
        expected.variants,
    )
    stages = (
        "Starting",
        "Reading service_desk.csv",
        "Read 16,649 rows; choosing the columns",
        "Checking 16,649 rows",
        "Sorting and writing 16,649 events",
        "Writing attributes, cases and variants",
        "Summarising",
    )
    # Polling may skip stages, never reorder or invent them.
    assert [stages.index(m) for m in seen] == sorted(stages.index(m) for m in seen)
    with Store(ws, read_only=True) as store:
        assert [i.name for i in list_logs(store)] == ["service_desk"]


def test_an_error_in_the_child_is_raised_as_itself(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "case_id,activity,timestamp\nc1,a,2024-01-01T10:00:00Z\nc1,,2024-01-01T11:00:00Z\nc2,b,never\n"
    )
    job = start_ingest(tmp_path / "ws.duckdb", bad, IngestOptions())
    _wait(job)
    with pytest.raises(TooManyRejects, match=r"bad\.csv: 2 of 3 rows") as info:
        job.result()
    assert [r.row for r in info.value.rejects] == [2, 3]
    assert not (tmp_path / "ws.duckdb").exists()


def test_cancelling_leaves_the_workspace_as_it_was(tmp_path: Path) -> None:
    ws = tmp_path / "ws.duckdb"
    with writing(ws) as store:
        ingest_file(store, FILES / "ingest" / "small.csv")
    before = ws.read_bytes()
    job = start_ingest(ws, SAMPLE, IngestOptions())
    while job.status().message == "Starting":  # the child is under way
        time.sleep(0.02)
    job.cancel()
    assert ws.read_bytes() == before
    with writing(ws) as store:  # the lock is free and the killed child's copy is cleaned up
        assert [i.name for i in list_logs(store)] == ["small"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ws.duckdb", "ws.duckdb.lock"]
