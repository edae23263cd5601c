"""The business calendar applies to the map and to case durations as to every other measure."""

from __future__ import annotations

from mining.analysis.calendar import Calendar
from mining.analysis.dfg import dfg
from mining.analysis.durations import all_case_durations, case_durations
from mining.ingest import IngestOptions, ingest_file
from tests.conftest import FILES

# Friday 2024-03-01 16:00 -> Monday 2024-03-04 10:00, Amsterdam (UTC+1):
# 1 working hour on Friday + 1 on Monday = 7,200 business seconds, 66 h elapsed.
LOG = FILES / "calendar" / "submit_approve.csv"


def _load(store):
    return ingest_file(store, LOG, IngestOptions(timezone="Europe/Amsterdam")).log_id


def test_dfg_transition_times_in_business_seconds(store):
    log = _load(store)
    cal = Calendar(timezone="Europe/Amsterdam", start_hour=9, end_hour=17)
    elapsed = dfg(store, log).edges[0]
    business = dfg(store, log, calendar=cal).edges[0]
    assert (elapsed.source, elapsed.target, elapsed.count) == ("submit", "approve", 2)
    assert elapsed.mean_seconds == (66 * 3600 + 5400) / 2
    assert business.mean_seconds == (7200 + 5400) / 2
    assert business.median_seconds == (7200 + 5400) / 2


def test_case_durations_in_business_seconds(store):
    log = _load(store)
    cal = Calendar(timezone="Europe/Amsterdam", start_hour=9, end_hour=17)
    assert all_case_durations(store, log) == (5400.0, 66 * 3600.0)
    assert all_case_durations(store, log, calendar=cal) == (5400.0, 7200.0)
    d = case_durations(store, log, calendar=cal)
    assert (d.count, d.min_seconds, d.max_seconds) == (2, 5400.0, 7200.0)
    plain = case_durations(store, log)
    assert (d.first_ts, d.last_ts) == (plain.first_ts, plain.last_ts)  # a calendar counts time, not instants
    assert d.first_ts < d.last_ts


def test_holiday_counts_as_closed(store):
    log = _load(store)
    # Closing Monday 4 March leaves Friday's last hour only for case A, and
    # nothing for case B, which lies wholly on the closed day.
    import datetime as dt

    cal = Calendar(timezone="Europe/Amsterdam", start_hour=9, end_hour=17, closed_days=(dt.date(2024, 3, 4),))
    assert all_case_durations(store, log, calendar=cal) == (0.0, 3600.0)


def test_durations_sharing_a_column_join_its_bucket_once(store, tmp_path):
    from mining.analysis.calendar import Calendar, clock
    from tests.tinylog import load_hours

    log = load_hours(store, tmp_path, [("c1", "A", 0.0), ("c1", "B", 1.0), ("c1", "C", 3.0)])
    clk = clock(store, log, Calendar(start_hour=0, end_hour=24))  # Monday 1 January 2024, open all day
    inner = (
        "SELECT TIMESTAMPTZ '2024-01-01 00:00:00+00' AS a, TIMESTAMPTZ '2024-01-01 01:00:00+00' AS b, "
        "TIMESTAMPTZ '2024-01-01 03:00:00+00' AS c"
    )
    sql = clk.extend(inner, durations={"d": ("a", "b"), "e": ("a", "c")})
    assert store.query(f"SELECT d, e FROM ({sql})").rows == [(3600.0, 10800.0)]
