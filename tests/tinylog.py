"""Tiny hand-made logs for exact expectations, written as CSV and ingested."""

from __future__ import annotations

import csv
import datetime as dt

from mining.ingest import IngestOptions, ingest_file

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
ROLES = {
    "case": "case_id",
    "activity": "activity",
    "timestamp": "timestamp",
    "resource": "resource",
    "start_timestamp": None,
    "lifecycle": None,
    "cost": None,
}

# c1: A B C, c2: A B C, c3: A C, c4: A B B C; hours after midnight.
TINY = [
    ("c1", "A", 0.0),
    ("c1", "B", 1.0),
    ("c1", "C", 3.0),
    ("c2", "A", 0.0),
    ("c2", "B", 2.0),
    ("c2", "C", 2.5),
    ("c3", "A", 0.0),
    ("c3", "C", 4.0),
    ("c4", "A", 0.0),
    ("c4", "B", 1 / 6),
    ("c4", "B", 2 / 3),
    ("c4", "C", 5 / 3),
]


def load_hours(store, tmp_path, events, name="tiny"):
    """Ingest (case, activity, hours after 2024-01-01 00:00 UTC[, resource]) rows; return the log id."""
    path = tmp_path / f"{name}.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["case_id", "activity", "timestamp", "resource"])
        for case, act, hours, *res in events:
            stamp = T0 + dt.timedelta(seconds=round(hours * 3600))
            w.writerow([case, act, stamp.isoformat(), res[0] if res else "ann"])
    return ingest_file(store, path, IngestOptions(name=name, roles=ROLES)).log_id


def load_file(store, path, **roles):
    """Ingest a file of tests/files, with optional role overrides; return the log id."""
    return ingest_file(store, path, IngestOptions(roles=roles)).log_id


def load_text(store, tmp_path, text, name="log", **roles):
    """Ingest CSV text, with optional role overrides; return the log id."""
    path = tmp_path / f"{name}.csv"
    path.write_text(text)
    return ingest_file(store, path, IngestOptions(roles=roles)).log_id
