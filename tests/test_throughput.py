"""Throughput per week and month, cycle times, and the work-in-progress steps."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mining.analysis.calendar import Calendar
from mining.analysis.filters import Filter
from mining.analysis.throughput import (
    PERIODS,
    PeriodCount,
    period_sql,
    period_starts,
    throughput,
    work_in_progress,
)
from mining.errors import AnalysisError
from mining.ingest import IngestOptions, ingest_file
from tests.conftest import FILES

D = dt.date
DAY = 86_400.0

# c1 Mon 1 Jan 10:00 -> Wed 3 Jan 10:00 (2 days); c2 2 Jan -> 9 Jan (7 days);
# c3 a single event on 10 Jan; c4 31 Jan -> 2 Feb (2 days).
CASES = FILES / "throughput" / "cases.csv"


def load(store, tmp_path, text, name="log", **options):
    path = tmp_path / f"{name}.csv"
    path.write_text(text)
    return ingest_file(store, path, IngestOptions(**options)).log_id


def test_weekly_counts_cycle_times_and_open_cases(store):
    t = throughput(store, ingest_file(store, CASES).log_id, period="week")
    assert t.timezone == "UTC" and not t.business_time
    assert t.periods == (
        PeriodCount(D(2024, 1, 1), 2, 1, 2 * DAY, 0),
        PeriodCount(D(2024, 1, 8), 1, 2, 3.5 * DAY, 1),
        PeriodCount(D(2024, 1, 15), 0, 0, None, 0),
        PeriodCount(D(2024, 1, 22), 0, 0, None, 0),
        PeriodCount(D(2024, 1, 29), 1, 1, 2 * DAY, 0),
    )


def test_monthly_counts(store):
    t = throughput(store, ingest_file(store, CASES).log_id, period="month")
    assert t.periods == (
        PeriodCount(D(2024, 1, 1), 4, 3, 2 * DAY, 0),
        PeriodCount(D(2024, 2, 1), 0, 1, 2 * DAY, 1),
    )


def test_daily_wip_steps(store):
    wip = work_in_progress(store, ingest_file(store, CASES).log_id)
    steps = {p.at: p.open_cases for p in wip.points}
    assert [steps[D(2024, 1, d)] for d in range(1, 12)] == [0, 1, 2, 1, 1, 1, 1, 1, 1, 0, 0]
    assert steps[D(2024, 2, 1)] == 1 and steps[D(2024, 2, 2)] == 1
    assert len(wip.points) == 33  # 1 January to 2 February
    assert wip.peak is not None and (wip.peak.at, wip.peak.open_cases) == (D(2024, 1, 3), 2)


def test_periods_are_local(store, tmp_path):
    # Sunday 7 Jan 23:30 UTC is Monday 8 Jan 00:30 in Amsterdam.
    log = load(
        store,
        tmp_path,
        "case_id,activity,timestamp\nc1,a,2024-01-07T23:30:00Z\n",
        roles={"case": "case_id", "activity": "activity", "timestamp": "timestamp"},
    )
    assert throughput(store, log, period="week").periods[0].period == D(2024, 1, 1)
    local = throughput(store, log, period="week", timezone="Europe/Amsterdam")
    assert local.periods[0].period == D(2024, 1, 8) and local.timezone == "Europe/Amsterdam"


def test_cycle_time_starts_at_the_first_start_and_can_be_business_time(store, tmp_path):
    log = load(
        store,
        tmp_path,
        (
            "case_id,activity,start_timestamp,timestamp\n"
            "c1,a,2024-01-05T16:00:00Z,2024-01-05T16:30:00Z\n"  # Friday
            "c1,b,2024-01-08T09:00:00Z,2024-01-08T10:00:00Z\n"  # Monday
        ),
    )
    plain = throughput(store, log, period="month").periods[0]
    assert plain.cycle_median_s == (2 * 24 + 18) * 3600
    office = throughput(store, log, period="month", calendar=Calendar(timezone="UTC"))
    assert office.business_time and office.periods[0].cycle_median_s == 2 * 3600


def test_filter_and_bad_period(store):
    log = ingest_file(store, CASES).log_id
    t = throughput(store, log, Filter(min_duration_s=3 * DAY), period="month")
    assert [(p.period, p.started, p.completed) for p in t.periods] == [(D(2024, 1, 1), 1, 1)]
    with pytest.raises(AnalysisError, match="unknown period"):
        throughput(store, log, period="year")


@settings(max_examples=60, deadline=None)
@given(
    epochs=st.lists(
        st.one_of(
            st.floats(min_value=-2.2e9, max_value=4.1e9, allow_nan=False),
            st.integers(min_value=-25_000, max_value=47_000).map(lambda d: d * DAY),  # midnights
            st.just(float("nan")),
        ),
        min_size=1,
        max_size=40,
    ),
    period=st.sampled_from(PERIODS),
)
def test_period_starts_in_numpy_equal_the_sql(epochs, period):
    import duckdb

    with duckdb.connect() as con:
        expected = [
            row[0]
            for row in con.execute(
                f"SELECT {period_sql('e', period)} FROM unnest(CAST($e AS DOUBLE[])) WITH ORDINALITY AS t(e, i) "
                "ORDER BY i",
                {"e": [None if math.isnan(e) else e for e in epochs]},
            ).fetchall()
        ]
    assert period_starts(epochs, period) == expected


def _century_log(store, tmp_path) -> int:
    """300 cases, one every 140 days from 1910 to 2025: about 6,000 weeks, 1,380 months."""
    lines = ["case,activity,timestamp"]
    for i in range(300):
        t = dt.datetime(1910, 1, 3) + dt.timedelta(days=140 * i)
        lines += [f"c{i},Open,{t:%Y-%m-%d %H:%M}", f"c{i},Close,{t + dt.timedelta(days=1):%Y-%m-%d %H:%M}"]
    path = tmp_path / "century.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ingest_file(store, path).log_id


def test_too_many_weeks_are_refused_or_counted_per_month(store, tmp_path):
    log_id = _century_log(store, tmp_path)
    with pytest.raises(AnalysisError) as refused:
        throughput(store, log_id, period="week")
    assert refused.value.hint == "count per month"
    fitted = throughput(store, log_id, period="week", fit=True)
    monthly = throughput(store, log_id, period="month")
    assert fitted.period == "month"
    assert fitted.periods == monthly.periods
    assert sum(p.completed for p in fitted.periods) == 300
    assert fitted.note.startswith("per month: 5,9") and "weeks are more than a chart can show" in fitted.note
    assert throughput(store, log_id, period="month", fit=True) == monthly  # a period that fits is kept
