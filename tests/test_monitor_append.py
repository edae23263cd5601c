"""Monthly exports appended one after the other give exactly the tables of loading everything at once.

A real log is written out as CSV and split by **event time**: a newer export
holds the events recorded after the cut, so a case that was running at the cut
has events in both exports, as it would in practice.  (Splitting by case start
would never put one case in two exports, and would not test that.)  Because
every event of the second export is later than every event of the first, the
order of events within a case cannot depend on the file row, and the stored
tables must match exactly; only row numbers and batch ids may differ.
"""

from __future__ import annotations

import csv

import pytest

from mining.ingest import IngestOptions, ingest_file
from mining.store import Store

ROLES = {
    "case": "case_id",
    "activity": "activity",
    "timestamp": "timestamp",
    "resource": "resource",
    "lifecycle": "lifecycle",
    "start_timestamp": None,
    "cost": None,
}


def _export(store: Store, log: int) -> tuple[list[str], list[tuple]]:
    """The log's events in file order, as CSV columns and rows (timestamps ISO 8601 with microseconds)."""
    attrs = store.query(
        "SELECT column_name, source_name FROM attribute_columns WHERE log_id = ? ORDER BY position", [log]
    ).rows
    picked = ", ".join(f"a.{col}" for col, _ in attrs)
    rows = store.query(
        f"SELECT e.case_id, e.activity, e.ts, e.resource, e.lifecycle, {picked} FROM events e "
        f"JOIN attrs_{int(log)} a USING (row_no) WHERE e.log_id = ? ORDER BY e.row_no",
        [log],
    ).rows
    header = ["case_id", "activity", "timestamp", "resource", "lifecycle", *(src for _, src in attrs)]
    return header, [(r[0], r[1], r[2].isoformat(timespec="microseconds"), *r[3:]) for r in rows]


def _write(path, header, rows):
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def _tables(store: Store, log: int) -> dict[str, list[tuple]]:
    attrs = [
        r[0]
        for r in store.query(
            "SELECT source_name FROM attribute_columns WHERE log_id = ? ORDER BY source_name", [log]
        ).rows
    ]
    columns = {
        src: col
        for col, src in store.query(
            "SELECT column_name, source_name FROM attribute_columns WHERE log_id = ?", [log]
        ).rows
    }
    picked = ", ".join(f"a.{columns[src]}" for src in attrs)
    return {
        "events": store.query(
            "SELECT case_id, activity, ts, start_ts, resource, lifecycle, cost, case_no, next_activity, next_ts "
            "FROM events WHERE log_id = ? ORDER BY case_no, ts, row_no",
            [log],
        ).rows,
        "attributes": store.query(
            f"SELECT e.case_no, e.ts, {picked} FROM events e JOIN attrs_{int(log)} a USING (row_no) "
            "WHERE e.log_id = ? ORDER BY e.case_no, e.ts, e.row_no",
            [log],
        ).rows,
        "attribute_names": [tuple(attrs)],
        "cases": store.query(
            "SELECT case_id, case_no, variant_id, n_events, start_ts, end_ts, duration_s FROM cases "
            "WHERE log_id = ? ORDER BY case_no",
            [log],
        ).rows,
        "variants": store.query(
            "SELECT variant_id, activities, n_cases, n_events FROM variants WHERE log_id = ? ORDER BY variant_id",
            [log],
        ).rows,
    }


@pytest.mark.slow
@pytest.mark.parametrize("cumulative", [False, True], ids=["new-events-only", "cumulative-export"])
def test_appending_a_newer_export_equals_loading_it_whole(shared_logs, tmp_path, cumulative):
    with Store() as source:
        log = ingest_file(source, shared_logs / "helpdesk.xes.gz").log_id
        header, rows = _export(source, log)
        cut = source.scalar("SELECT quantile_disc(ts, 0.6) FROM events WHERE log_id = ?", [log])
    cut_text = cut.isoformat(timespec="microseconds")
    # ISO 8601 text in one zone (UTC) sorts like the instants it names.
    first = [r for r in rows if r[2] < cut_text]
    later = [r for r in rows if r[2] >= cut_text]
    assert len(rows) == 21_348 and 0 < len(first) < len(rows)
    first_ids = {r[0] for r in first}
    assert any(r[0] in first_ids for r in later), "some case must have events in both exports"
    whole = _write(tmp_path / "whole.csv", header, rows)
    part1 = _write(tmp_path / "export_1.csv", header, first)
    part2 = _write(tmp_path / "export_2.csv", header, rows if cumulative else later)

    with Store() as once, Store() as twice:
        a = ingest_file(once, whole, IngestOptions(name="helpdesk", roles=ROLES))
        ingest_file(twice, part1, IngestOptions(name="helpdesk", roles=ROLES))
        b = ingest_file(twice, part2, IngestOptions(name="helpdesk", roles=ROLES, append=True))
        assert b.status == "appended" and b.events_added == len(later)
        assert (a.cases, a.events, a.variants) == (b.cases, b.events, b.variants) == (4580, 21_348, 226)
        expected, got = _tables(once, a.log_id), _tables(twice, b.log_id)
        for table in expected:
            assert got[table] == expected[table], table
        assert twice.scalar("SELECT count(*) FROM ingest_runs WHERE log_id = ?", [b.log_id]) == 2
