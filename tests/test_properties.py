"""Invariants over generated logs (hypothesis).

Round trip: one log written as CSV, Parquet and XES loads to the identical
canonical tables.  Invariants: variant counts sum to the cases; there is one
directly-follows pair per event except each case's last; durations are never
negative.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mining.ingest import IngestOptions, ingest_file
from mining.ingest.timestamps import candidates, detect_format, parse_sql
from mining.store import Store

COLUMNS = ["case:concept:name", "concept:name", "time:timestamp", "org:resource", "channel"]

case_ids = st.sampled_from(["1", "01", "001", "A-7", "00123", "123", "x y", "Ä1"])
activities = st.sampled_from(["register", "check", "decide", "pay", "Prüfung", "ship, now", 'say "hi"'])
instants = st.datetimes(
    min_value=dt.datetime(2001, 1, 1), max_value=dt.datetime(2030, 12, 31), timezones=st.just(dt.UTC)
).map(lambda d: d.replace(microsecond=0))
events = st.tuples(
    case_ids,
    activities,
    instants,
    st.sampled_from(["ann", "bob", "cy"]),
    st.sampled_from(["web", "phone", "=1+2"]),
)
logs = st.lists(events, min_size=1, max_size=40)


def _iso(d: dt.datetime) -> str:
    return d.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _rows(log):
    return [[c, a, _iso(t), r, ch] for c, a, t, r, ch in log]


def write_csv(log, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        w.writerows(_rows(log))


def write_parquet(log, path: Path) -> None:
    rows = _rows(log)
    pq.write_table(pa.table({c: [r[i] for r in rows] for i, c in enumerate(COLUMNS)}), path)


def write_xes(log, path: Path) -> None:
    # XES groups events by trace; within a case the file order is kept.
    traces: dict[str, list] = {}
    for row in _rows(log):
        traces.setdefault(row[0], []).append(row)
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<log xes.version="1.0">']
    for case, rows in traces.items():
        out.append(f'<trace><string key="concept:name" value={quoteattr(case)}/>')
        for _, a, t, r, ch in rows:
            out.append(
                f'<event><string key="concept:name" value={quoteattr(a)}/>'
                f'<date key="time:timestamp" value="{t}"/>'
                f'<string key="org:resource" value={quoteattr(r)}/>'
                f'<string key="channel" value={quoteattr(ch)}/></event>'
            )
        out.append("</trace>")
    out.append("</log>")
    path.write_text("\n".join(out), encoding="utf-8")


ROLES = {
    "case": "case:concept:name",
    "activity": "concept:name",
    "timestamp": "time:timestamp",
    "resource": "org:resource",
    "start_timestamp": None,
    "lifecycle": None,
    "cost": None,
}


def canonical(path: Path) -> tuple:
    with Store() as s:
        ingest_file(s, path, IngestOptions(roles=ROLES))
        ev = s.query(
            "SELECT e.case_id, e.activity, e.ts, e.resource, e.next_activity, e.next_ts, e.case_no, a.a1 "
            "FROM events e JOIN attrs_1 a USING (row_no) ORDER BY e.case_no, e.ts, e.row_no"
        ).rows
        cases = s.query(
            "SELECT case_id, case_no, variant_id, n_events, start_ts, end_ts, duration_s "
            "FROM cases ORDER BY case_no"
        ).rows
        variants = s.query("SELECT variant_id, activities, n_cases FROM variants ORDER BY variant_id").rows
    return ev, cases, variants


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(log=logs)
def test_csv_parquet_and_xes_load_identically(tmp_path, log):
    write_csv(log, tmp_path / "log.csv")
    write_parquet(log, tmp_path / "log.parquet")
    write_xes(log, tmp_path / "log.xes")
    from_csv = canonical(tmp_path / "log.csv")
    assert canonical(tmp_path / "log.parquet") == from_csv
    assert canonical(tmp_path / "log.xes") == from_csv
    # ...and what was loaded is what was written, as a multiset of events.
    assert sorted((c, a, t) for c, a, t, *_ in from_csv[0]) == sorted((c, a, t) for c, a, t, _, _ in log)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(log=logs)
def test_invariants(tmp_path, log):
    write_csv(log, tmp_path / "log.csv")
    with Store() as s:
        summary = ingest_file(s, tmp_path / "log.csv", IngestOptions(roles=ROLES))
        n_events = len(log)
        n_cases = len({c for c, *_ in log})
        assert (summary.events, summary.cases) == (n_events, n_cases)
        assert s.scalar("SELECT sum(n_cases) FROM variants") == n_cases
        assert s.scalar("SELECT count(next_activity) FROM events") == n_events - n_cases
        assert s.scalar("SELECT count(*) FROM cases WHERE duration_s < 0") == 0
        # The successor is the next event of the same case in (ts, row) order.
        assert s.scalar("SELECT count(*) FROM events WHERE next_ts < ts") == 0
        assert (
            s.scalar(
                "SELECT count(*) FROM (SELECT next_activity, next_ts, lead(activity) OVER w AS na, lead(ts) OVER w AS nt "
                "FROM events WINDOW w AS (PARTITION BY case_no ORDER BY ts, row_no)) "
                "WHERE next_activity IS DISTINCT FROM na OR next_ts IS DISTINCT FROM nt"
            )
            == 0
        )
        # Leading zeros make different cases: ids are never read as numbers.
        assert sorted(r[0] for r in s.query("SELECT case_id FROM cases").rows) == sorted({c for c, *_ in log})


# --------------------------------------------------------------------------- timestamp formats

#: Every pattern the detection tries, but those that need an offset in the value (e-mail's RFC 2822).
_PATTERNS = sorted({p for p, _ in candidates()} - {p for p, _ in candidates() if "%z" in p})
_moments = st.datetimes(min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(2068, 12, 31))


@settings(max_examples=120, deadline=None)
@given(pattern=st.sampled_from(_PATTERNS), moments=st.lists(_moments, min_size=2, max_size=15))
def test_a_column_written_in_any_known_format_reads_back_the_same_moments(pattern, moments):
    """The values Python writes with a pattern are read back as Python's own strptime reads them.

    One moment falls on the 25th, so a day-first or month-first order is proven by the data.
    DuckDB's cast once took 13/01/26 for ISO 8601 in the year 13, and %Y read 26 as the year 26.
    """
    moments = [*moments, dt.datetime(2024, 7, 25, 16, 45, 30, 123456)]
    texts = [m.strftime(pattern) for m in moments]
    expected = [dt.datetime.strptime(t, pattern) for t in texts]
    with Store() as store:
        store.execute("CREATE TEMP TABLE t AS SELECT unnest($v) AS v", {"v": texts})
        fmt = detect_format(store, "t", "v", label="when", file="f.csv")
        assert fmt is not None, pattern
        parsed, params = parse_sql(fmt, "v", "p")
        got = [r[0] for r in store.query(f"SELECT {parsed} FROM t ORDER BY rowid", params).rows]
    assert got == expected, (pattern, fmt.pattern)
