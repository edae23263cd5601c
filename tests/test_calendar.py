"""Business calendars: exact business seconds, and the SQL path equal to the Python path."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mining.analysis.calendar import Calendar, clock, epoch_seconds, parse_hours
from mining.errors import AnalysisError
from mining.ingest import IngestOptions, ingest_file
from mining.store import Store
from tests.conftest import FILES

AMS = ZoneInfo("Europe/Amsterdam")
UTC = dt.UTC
HOUR = 3600.0


def ams(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=AMS)


NL = Calendar(timezone="Europe/Amsterdam", country="NL")


def test_weekend_is_not_counted():
    # Friday 16:00 to Monday 10:00, local: one hour each side of the weekend.
    assert NL.business_seconds(ams(2025, 3, 28, 16), ams(2025, 3, 31, 10)) == 2 * HOUR


def test_kings_day_is_a_holiday_in_the_netherlands_only():
    # Thursday 27 April 2023 is King's Day: Wednesday 16:00 to Friday 10:00.
    a, b = ams(2023, 4, 26, 16), ams(2023, 4, 28, 10)
    assert NL.business_seconds(a, b) == 2 * HOUR
    assert Calendar(timezone="Europe/Amsterdam").business_seconds(a, b) == 10 * HOUR
    assert Calendar(timezone="Europe/Amsterdam", country="DE").business_seconds(a, b) == 10 * HOUR


def test_extra_closed_days_and_custom_workdays():
    a, b = ams(2025, 3, 28, 16), ams(2025, 3, 31, 10)  # Friday 16:00 to Monday 10:00
    closed = Calendar(timezone="Europe/Amsterdam", closed_days=(dt.date(2025, 3, 31),))
    assert closed.business_seconds(a, b) == HOUR
    saturdays = Calendar(timezone="Europe/Amsterdam", workdays=(1, 2, 3, 4, 5, 6))
    assert saturdays.business_seconds(a, b) == 10 * HOUR


def test_minutes_in_the_window_and_whole_days():
    cal = Calendar(timezone="Europe/Amsterdam", start_hour=dt.time(8, 30), end_hour=dt.time(17, 15))
    assert cal.business_seconds(ams(2025, 3, 31, 0), ams(2025, 4, 1, 0)) == 8.75 * HOUR
    always = Calendar(timezone="UTC", workdays=tuple(range(1, 8)), start_hour=0, end_hour=24)
    a, b = dt.datetime(2025, 3, 1, 5, tzinfo=UTC), dt.datetime(2025, 3, 9, 7, 30, tzinfo=UTC)
    assert always.business_seconds(a, b) == (b - a).total_seconds()


def test_daylight_saving_days_are_23_and_25_hours_long():
    always = Calendar(timezone="Europe/Amsterdam", workdays=tuple(range(1, 8)), start_hour=0, end_hour=24)
    assert always.business_seconds(ams(2025, 3, 29, 12), ams(2025, 3, 30, 12)) == 23 * HOUR
    assert always.business_seconds(ams(2025, 10, 25, 12), ams(2025, 10, 26, 12)) == 25 * HOUR
    # A window that starts at local midnight shifts across the fixed-offset bucket edge in summer.
    early = Calendar(timezone="Europe/Amsterdam", workdays=tuple(range(1, 8)), start_hour=0, end_hour=17)
    assert early.business_seconds(ams(2025, 3, 29, 12), ams(2025, 3, 31, 12)) == (5 + 16 + 12) * HOUR


def test_office_hours_follow_local_time_across_dst():
    # 09:00-17:00 local is 08:00-16:00 UTC in winter and 07:00-15:00 UTC in summer.
    winter = dt.datetime(2025, 3, 28, 15, tzinfo=UTC)  # Friday 16:00 CET
    summer = dt.datetime(2025, 3, 31, 8, tzinfo=UTC)  # Monday 10:00 CEST
    assert NL.business_seconds(winter, summer) == 2 * HOUR


def test_business_seconds_is_signed():
    a, b = ams(2025, 3, 28, 16), ams(2025, 3, 31, 10)
    assert NL.business_seconds(b, a) == -2 * HOUR


def test_dates_only_count_whole_working_days():
    cal = Calendar(timezone="UTC")
    monday, wednesday = dt.datetime(2025, 3, 3, tzinfo=UTC), dt.datetime(2025, 3, 5, tzinfo=UTC)
    assert cal.business_seconds(monday, wednesday) == 16 * HOUR
    assert cal.business_seconds(monday, monday) == 0


def test_parse_hours_and_bad_calendars():
    assert parse_hours("9-17") == (9, 17)
    assert parse_hours("8:30-17:15") == (dt.time(8, 30), dt.time(17, 15))
    assert parse_hours("0-24") == (0, 24)
    with pytest.raises(AnalysisError, match="START-END"):
        parse_hours("nine to five")
    with pytest.raises(AnalysisError, match="end after it starts"):
        Calendar(start_hour=17, end_hour=9)
    with pytest.raises(AnalysisError, match="ISO weekdays"):
        Calendar(workdays=(0, 1))
    with pytest.raises(AnalysisError, match="unknown time zone"):
        Calendar(timezone="Mars/Olympus")
    with pytest.raises(AnalysisError, match="no holiday list"):
        Calendar(timezone="UTC", country="XX").business_seconds(ams(2025, 1, 1), ams(2025, 1, 2))
    with pytest.raises(AnalysisError, match="time-zone-aware"):
        NL.business_seconds(dt.datetime(2025, 1, 1), dt.datetime(2025, 1, 2))


# -- SQL and Python agree -----------------------------------------------------

#: One case from 2023-01-01 to 2026-12-31: the clock covers every instant the properties draw.
SPAN = FILES / "calendar" / "span.csv"

CALENDARS = [
    NL,
    Calendar(timezone="America/New_York", workdays=tuple(range(1, 8)), start_hour=0, end_hour=24),
    Calendar(timezone="Australia/Sydney", start_hour=0, end_hour=17, country="AU", subdivision="NSW"),
    Calendar(timezone="Asia/Kathmandu", start_hour=dt.time(8, 30), end_hour=dt.time(17, 15)),
    Calendar(timezone="Europe/Amsterdam", workdays=(6, 7), start_hour=22, end_hour=24),
]


@pytest.fixture(scope="module")
def span_store():
    with Store() as store:
        log = ingest_file(store, SPAN).log_id
        yield store, log


def sql_business_seconds(store, log, cal, a, b):
    clk = clock(store, log, cal)
    sql = clk.extend(
        "SELECT CAST($a AS TIMESTAMPTZ) AS a, CAST($b AS TIMESTAMPTZ) AS b", durations={"d": ("a", "b")}
    )
    return store.scalar(f"SELECT d FROM ({sql}) q", {"a": a, "b": b})


instants = st.datetimes(
    min_value=dt.datetime(2023, 1, 2), max_value=dt.datetime(2026, 12, 30), timezones=st.just(UTC)
)


@settings(max_examples=100, deadline=None)
@given(a=instants, b=instants, which=st.integers(0, len(CALENDARS) - 1))
def test_sql_and_python_agree(span_store, a, b, which):
    store, log = span_store
    cal = CALENDARS[which]
    expected = cal.business_seconds(a, b)
    assert sql_business_seconds(store, log, cal, a, b) == pytest.approx(expected, abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(a=instants, b=instants, c=instants)
def test_business_time_adds_up_and_never_exceeds_elapsed_time(a, b, c):
    a, b, c = sorted([a, b, c])
    ab, bc = NL.business_seconds(a, b), NL.business_seconds(b, c)
    assert ab + bc == pytest.approx(NL.business_seconds(a, c), abs=1e-6)
    assert 0 <= ab <= (b - a).total_seconds() + 1e-6


zones = st.sampled_from(["Europe/Amsterdam", "America/New_York", "Australia/Sydney", "Asia/Kathmandu", "UTC"])
times_of_day = st.builds(dt.time, st.integers(0, 23), st.sampled_from([0, 15, 30, 59]))


@st.composite
def calendars(draw):
    start = draw(times_of_day)
    end = draw(times_of_day.filter(lambda t: t > start) | st.just(dt.time(0)))  # 00:00: the end of the day
    days = draw(st.sets(st.integers(1, 7), min_size=1))
    return Calendar(
        timezone=draw(zones),
        workdays=tuple(sorted(days)),
        start_hour=start,
        end_hour=end,
        country=draw(st.sampled_from([None, "NL", "US"])),
        closed_days=tuple(draw(st.lists(st.dates(dt.date(2023, 1, 1), dt.date(2026, 12, 31)), max_size=3))),
    )


#: Beyond the log's span too (no row: NULL) and missing instants.
any_instants = st.lists(
    st.none()
    | st.datetimes(
        min_value=dt.datetime(2017, 1, 1), max_value=dt.datetime(2032, 12, 31), timezones=st.just(UTC)
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(cal=calendars(), instants=any_instants, elapsed=st.booleans())
def test_clock_in_memory_gives_the_sql_values(span_store, cal, instants, elapsed):
    """B(t) and local time evaluated in numpy are the SQL join's values, to the last bit, NULL for NULL."""
    import numpy as np
    import pyarrow as pa

    store, log = span_store
    clk = clock(store, log, None if elapsed else cal, timezone=cal.timezone)
    store.register(
        "instants", pa.table({"i": range(len(instants)), "t": pa.array(instants, pa.timestamp("us", "UTC"))})
    )
    try:
        sql = clk.extend("SELECT i, t FROM instants", times={"b": "t"}, local={"l": "t"})
        rows = sorted(store.query(f"SELECT i, b, l FROM ({sql}) q").rows)
    finally:
        store.unregister("instants")
    known = [t for t in instants if t is not None]
    micros = np.array(
        [(t - dt.datetime(1970, 1, 1, tzinfo=UTC)) // dt.timedelta(microseconds=1) for t in known]
    )
    epoch = np.full(len(instants), np.nan)
    epoch[[t is not None for t in instants]] = epoch_seconds(micros.astype(np.int64))
    for got, column in ((clk.business_times(epoch), 1), (clk.local_epochs(epoch), 2)):
        want = [r[column] for r in rows]
        assert [None if np.isnan(v) else float(v) for v in got] == want, (clk, instants)


def test_sql_path_on_the_documented_cases(span_store):
    store, log = span_store
    assert sql_business_seconds(store, log, NL, ams(2023, 4, 26, 16), ams(2023, 4, 28, 10)) == 2 * HOUR
    always = Calendar(timezone="Europe/Amsterdam", workdays=tuple(range(1, 8)), start_hour=0, end_hour=24)
    assert sql_business_seconds(store, log, always, ams(2025, 3, 29, 12), ams(2025, 3, 30, 12)) == 23 * HOUR


def test_calendar_defaults_to_the_log_time_zone(tmp_path, store):
    path = tmp_path / "local.csv"
    path.write_text("case_id,activity,timestamp\nc1,a,2025-03-28 16:00:00\nc1,b,2025-03-31 10:00:00\n")
    log = ingest_file(store, path, IngestOptions(timezone="Europe/Amsterdam")).log_id
    clk = clock(store, log, Calendar())
    assert clk.timezone == "Europe/Amsterdam"
    assert clk.calendar is not None and clk.calendar.timezone == "Europe/Amsterdam"
    # No calendar and UTC: nothing to join.
    assert clock(store, log, None, timezone="UTC").table is None
