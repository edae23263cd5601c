"""Which staged rows become events: the loader reads the good rows from the staged text once the checks are done.

A file's rows are named by their row number, so a rejected row is left out by
it; a preset may make several events of one row of its export, and then only
the event that failed is left out, the others of that row are kept.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import polars as pl
import pytest

from mining.errors import TooManyRejects
from mining.ingest import IngestOptions, ingest_file
from mining.ingest.load import LoadPlan, load
from mining.ingest.staging import stage_frame
from mining.ingest.timestamps import ISO, TimestampFormat
from mining.schema import ColumnMapping
from mining.store import Store
from tests.conftest import FILES, ROOT, SAMPLE_LOGS


def _plan(columns, rows_read: int) -> LoadPlan:
    return LoadPlan(
        log_name="shared_rows",
        file="export.csv",
        source="export.csv",
        content_hash="h",
        columns=columns,
        mapping=ColumnMapping(case="case", activity="activity", timestamp="time"),
        formats={"timestamp": TimestampFormat(ISO, "test")},
        rows_read=rows_read,
        parse_rejects=(),
        reject_threshold=0.5,
        dst="shift",
        append_to=None,
        renamed=(),
    )


def test_a_rejected_event_leaves_the_other_events_of_its_row(store) -> None:
    frame = pl.DataFrame(
        {
            "case": ["A", "A", "B", "B"],
            "activity": ["Created", "Paid", "Created", "Paid"],
            "time": ["2025-01-01T10:00:00Z", "not a time", "2025-01-02T10:00:00Z", "2025-01-02T11:00:00Z"],
            "channel": ["web", "web", "shop", "shop"],
        }
    )
    # Two events from each row of the export: row 1 makes A's two events, row 2 B's.
    columns = stage_frame(store, frame, pl.Series([1, 1, 2, 2]))
    result = load(store, _plan(columns, rows_read=2))
    assert result.events_added == 3
    assert [(r.row, r.column, r.value) for r in result.rejects] == [(1, "time", "not a time")]
    events = store.query(
        "SELECT case_id, activity, row_no, next_activity FROM events WHERE log_id = ? ORDER BY case_no, ts",
        [result.log_id],
    ).rows
    assert events == [("A", "Created", 1, None), ("B", "Created", 2, "Paid"), ("B", "Paid", 2, None)]
    attrs = store.query(f"SELECT row_no, a1 FROM attrs_{result.log_id} ORDER BY row_no, a1").rows
    assert attrs == [(1, "web"), (2, "shop"), (2, "shop")]


def test_rejected_rows_of_a_file_are_left_out_by_their_number(store) -> None:
    frame = pl.DataFrame(
        {
            "case": ["A", "A", None, "B"],
            "activity": ["Created", "Paid", "Created", "Paid"],
            "time": ["2025-01-01T10:00:00Z", "2025-01-01T11:00:00Z", "2025-01-02T10:00:00Z", "31/02/2025"],
            "channel": ["web", "phone", "shop", "mail"],
        }
    )
    columns = stage_frame(store, frame)
    result = load(store, _plan(columns, rows_read=4))
    assert result.events_added == 2
    assert [(r.row, r.column, r.reason) for r in result.rejects] == [
        (3, "case", "missing case id"),
        (4, "time", "does not match the column's timestamp format ISO 8601"),
    ]
    stored = store.query(
        f"SELECT e.row_no, e.activity, a.a1 FROM events e JOIN attrs_{result.log_id} a USING (row_no) "
        "WHERE e.log_id = ? ORDER BY e.row_no",
        [result.log_id],
    ).rows
    assert stored == [(1, "Created", "web"), (2, "Paid", "phone")]
    assert store.scalar("SELECT count(*) FROM duckdb_tables() WHERE temporary") == 0


def test_a_plain_csv_is_loaded_without_polars_or_pandas(tmp_path) -> None:
    # Preset detection reads headers only and the variants reach DuckDB as numpy columns:
    # a file that no preset takes never pays for polars' import (nor pandas').
    code = (
        "import sys\n"
        "from mining.ingest import IngestOptions, ingest_file\n"
        "from mining.store import Store\n"
        "with Store(sys.argv[2]) as s:\n"
        "    summary = ingest_file(s, sys.argv[1], IngestOptions(preset='auto'))\n"
        "    variants = s.scalar('SELECT count(*) FROM variants')\n"
        "print(summary.events, summary.cases, variants, summary.preset)\n"
        "print(sorted(m for m in ('polars', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(SAMPLE_LOGS / "service_desk.csv"), str(tmp_path / "ws.duckdb")],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    counts, modules = out.stdout.strip().splitlines()[-2:]
    assert counts == "16649 2400 62 None"
    assert modules == "[]"


def test_infinite_timestamps_are_rejected_not_a_crash(store) -> None:
    # DuckDB reads 'infinity' as a timestamp; stored, it broke the cases' durations (a traceback).
    summary = ingest_file(store, FILES / "ingest" / "infinite_times.csv", IngestOptions(max_rejects=0.5))
    assert summary.events_added == 4
    assert [(r.row, r.column, r.reason, r.value) for r in summary.rejects] == [
        (2, "timestamp", "not a point in time (infinity)", "infinity"),
        (5, "timestamp", "not a point in time (infinity)", "-infinity"),
    ]
    spans = store.query("SELECT case_id, n_events, duration_s FROM cases ORDER BY case_no").rows
    assert spans == [("A", 1, 0.0), ("B", 2, 3600.0), ("C", 1, 0.0)]


def _stored(store, log_id: int) -> dict[str, list[tuple]]:
    return {
        "events": store.query(
            "SELECT case_id, case_no, activity, row_no, next_activity FROM events WHERE log_id = ? ORDER BY case_no, ts",
            [log_id],
        ).rows,
        "cases": store.query(
            "SELECT case_id, case_no, n_events FROM cases WHERE log_id = ? ORDER BY case_no", [log_id]
        ).rows,
        "runs": store.query(
            "SELECT events_added, rejected_rows FROM ingest_runs WHERE log_id = ?", [log_id]
        ).rows,
        "rejects": store.query(
            "SELECT row_no, column_name FROM rejects WHERE log_id = ? ORDER BY row_no", [log_id]
        ).rows,
    }


def test_checks_in_the_insert_store_what_the_checking_pass_does_when_a_case_loses_every_row() -> None:
    # Without control characters, a new UTC log is checked by the sorted insert itself; case B's
    # only row is rejected there, after the cases were numbered, so they are numbered again.
    frame = pl.DataFrame(
        {
            "case": ["A", "A", "B", "C", "C"],
            "activity": ["Created", "Paid", "Created", "Created", "Paid"],
            "time": [
                "2025-01-01T10:00:00Z",
                "2025-01-01T11:00:00Z",
                "not a time",
                "2025-01-03T10:00:00Z",
                "2025-01-03T25:00:00Z",
            ],
        }
    )
    stored = {}
    for check_control in (False, True):
        with Store() as store:
            columns = stage_frame(store, frame)
            plan = dataclasses.replace(_plan(columns, rows_read=5), check_control=check_control)
            result = load(store, plan)
            assert (result.events_added, result.rejected_rows) == (3, 2)
            stored[check_control] = _stored(store, result.log_id)
    assert stored[False] == stored[True]
    assert stored[False] == {
        "events": [("A", 1, "Created", 1, "Paid"), ("A", 1, "Paid", 2, None), ("C", 2, "Created", 4, None)],
        "cases": [("A", 1, 2), ("C", 2, 1)],
        "runs": [(3, 2)],
        "rejects": [(3, "time"), (5, "time")],
    }


def test_too_many_rejects_found_by_the_insert_store_nothing(store) -> None:
    frame = pl.DataFrame(
        {
            "case": ["A", "A", "B", "B"],
            "activity": ["Created", "Paid", "Created", "Paid"],
            "time": ["2025-01-01T10:00:00Z", "bad", "bad", "2025-01-02T10:00:00Z"],
        }
    )
    columns = stage_frame(store, frame)
    plan = dataclasses.replace(_plan(columns, rows_read=4), check_control=False, reject_threshold=0.25)
    with pytest.raises(TooManyRejects, match=r"2 of 4 rows \(50.0%\) were rejected"):
        load(store, plan)
    assert [
        store.scalar(f"SELECT count(*) FROM {t}") for t in ("logs", "ingest_runs", "events", "cases")
    ] == [
        0,
        0,
        0,
        0,
    ]
