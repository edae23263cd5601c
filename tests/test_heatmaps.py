"""Heatmaps as data: shapes, labels and exact cells."""

from __future__ import annotations

import pytest

from mining.analysis.calendar import Calendar
from mining.analysis.heatmaps import (
    WEEKDAY_HOURS,
    load_heatmap,
    ordered_instances,
    resource_heatmap,
    times_and_transition_heatmap,
    transition_wait_heatmap,
)
from mining.analysis.performance import activity_times
from mining.errors import AnalysisError
from tests.conftest import FILES
from tests.tinylog import load_file
from tests.tinylog import load_text as load

ROLES = {"case": "case_id", "activity": "activity", "timestamp": "timestamp"}


# Monday 8 Jan 2024 08:15 UTC is 09:15 in Amsterdam (CET); Monday 1 Jul 07:15 UTC is 09:15 CEST;
# Sunday 7 Jan 23:30 UTC is Monday 00:30 in Amsterdam; Monday 29 Dec 1969 10:00 UTC is before the epoch.
EVENTS = FILES / "heatmaps" / "events.csv"


def test_load_heatmap_cells_in_local_time(store):
    log = load_file(store, EVENTS)
    h = load_heatmap(store, log, timezone="Europe/Amsterdam")
    assert (h.metric, h.unit) == ("instances", "count")
    assert h.shape == (2, 168) and h.rows == ("A", "B")
    assert (h.columns[0], h.columns[9], h.columns[24], h.columns[-1]) == (
        "Mon 00",
        "Mon 09",
        "Tue 00",
        "Sun 23",
    )
    assert h.cell("A", "Mon 09") == 1 and h.cell("B", "Mon 09") == 1
    assert h.cell("A", "Mon 00") == 1
    assert h.cell("A", "Mon 11") == 1  # 1969-12-29 10:00 UTC was 11:00 in Amsterdam
    assert sum(v or 0 for row in h.values for v in row) == 4
    utc = load_heatmap(store, log)  # the log's zone: UTC
    assert (utc.cell("A", "Mon 08"), utc.cell("A", "Sun 23"), utc.cell("A", "Mon 10")) == (1, 1, 1)
    assert utc.cell("A", "Mon 09") is None
    # A calendar's zone is used when no zone is given.
    cal = load_heatmap(store, log, calendar=Calendar(timezone="Europe/Amsterdam"))
    assert cal.values == h.values
    assert h.columns == WEEKDAY_HOURS


#: c1-c3: A -> B after 1 h, 3 h and 20 min (ann, bob); c4, all by cat: A -> C -> B.
WAITS = FILES / "heatmaps" / "waits.csv"


def test_transition_wait_heatmap(store):
    log = load_file(store, WAITS, resource="resource")
    h = transition_wait_heatmap(store, log, period="week")
    assert (h.metric, h.unit) == ("median_wait", "seconds")
    assert h.rows == ("A → B", "A → C", "C → B")
    assert h.columns == ("2024-01-01", "2024-01-08", "2024-01-15", "2024-01-22")
    assert h.values[0] == (3600.0, None, None, None)  # median of 1 h, 3 h and 20 min
    assert h.cell("A → C", "2024-01-22") == 1800.0
    assert h.cell("C → B", "2024-01-22") == 7200.0
    assert "no start timestamps" in h.note
    top = transition_wait_heatmap(store, log, period="month", limit=1)
    assert (top.rows, top.columns, top.values) == (("A → B",), ("2024-01-01",), ((3600.0,),))
    with pytest.raises(AnalysisError, match="'week' or 'month'"):
        transition_wait_heatmap(store, log, period="day")


def test_resource_heatmaps(store, tmp_path):
    log = load(
        store,
        tmp_path,
        (
            "case_id,activity,start_timestamp,timestamp,resource\n"
            "c1,A,2024-01-01T09:00:00Z,2024-01-01T09:10:00Z,ann\n"
            "c1,B,2024-01-01T09:30:00Z,2024-01-01T10:30:00Z,bob\n"
            "c2,A,2024-01-02T09:00:00Z,2024-01-02T09:30:00Z,ann\n"
            "c2,B,2024-01-02T10:00:00Z,2024-01-02T10:20:00Z,ann\n"
            "c3,A,2024-01-03T09:00:00Z,2024-01-03T09:05:00Z,\n"
        ),
        start_timestamp="start_timestamp",
        resource="resource",
    )
    counts = resource_heatmap(store, log)
    assert (counts.rows, counts.columns) == (("ann", "bob"), ("A", "B"))
    assert counts.values == ((2.0, 1.0), (None, 1.0))
    proc = resource_heatmap(store, log, metric="processing")
    assert (proc.metric, proc.unit) == ("median_processing", "seconds")
    assert proc.values == ((1200.0, 1200.0), (None, 3600.0))
    with pytest.raises(AnalysisError, match="'count' or 'processing'"):
        resource_heatmap(store, log, metric="cost")


def test_resource_processing_without_starts_is_empty(store):
    log = load_file(store, WAITS, resource="resource")
    proc = resource_heatmap(store, log, metric="processing")
    assert proc.shape == (3, 3)
    assert all(v is None for row in proc.values for v in row)
    assert proc.note.startswith("no start timestamps")
    with pytest.raises(AnalysisError, match="no cell"):
        proc.cell("zed", "A")


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("performance/starts.csv", {}),
        ("performance/lifecycle.csv", {"lifecycle": "lifecycle"}),
        ("performance/no_starts.csv", {}),
        ("heatmaps/waits.csv", {"resource": "resource"}),
    ],
)
def test_one_windowed_pass_gives_the_times_and_the_heatmap_of_each_alone(store, name, options):
    log = load_file(store, FILES / name, **options)
    amsterdam = Calendar(timezone="Europe/Amsterdam", start_hour=8, end_hour=16)
    zoneless = Calendar(start_hour=0, end_hour=24, workdays=(1, 2, 3, 4, 5, 6, 7))
    ordered = ordered_instances(store, log)  # the window, computed once for every calendar below
    assert ordered.num_rows == activity_times(store, log).instances
    for calendar, zone in ((None, None), (None, "Asia/Tokyo"), (amsterdam, None), (zoneless, "Asia/Tokyo")):
        times, h = times_and_transition_heatmap(store, log, calendar=calendar, timezone=zone, fit=True)
        assert times == activity_times(store, log, calendar=calendar), (name, calendar, zone)
        assert h == transition_wait_heatmap(store, log, calendar=calendar, timezone=zone, fit=True)
        assert times.instances > 0 and h.rows and h.values[0]
        assert times.business_time == (calendar is not None)
        again = times_and_transition_heatmap(
            store, log, calendar=calendar, timezone=zone, fit=True, ordered=ordered
        )
        assert again == (times, h), (name, calendar, zone)
    # Weeks and months, the most frequent transitions first, cut at the limit, as alone.
    months = times_and_transition_heatmap(store, log, period="month", limit=1)[1]
    assert months == transition_wait_heatmap(store, log, period="month", limit=1)
    assert len(months.rows) == 1
    with pytest.raises(AnalysisError, match="'week' or 'month'"):
        times_and_transition_heatmap(store, log, period="day")


def test_the_kept_window_gives_the_sql_figures_on_a_real_lifecycle_log(store, shared_logs):
    """BPIC 2012's work items (start/complete events, 118,604 events): business time evaluated in
    memory from the kept window equals the bucket joins', record for record, under holidays and
    minutes in another zone than the log's."""
    import datetime as dt

    from mining.ingest import ingest_file

    log = ingest_file(store, shared_logs / "bpic2012_W_start_complete_simod.xes.gz").log_id
    ordered = ordered_instances(store, log)
    dutch = Calendar(timezone="Europe/Amsterdam", country="NL", start_hour=dt.time(8, 30), end_hour=17)
    joined = times_and_transition_heatmap(store, log, calendar=dutch, fit=True)
    kept = times_and_transition_heatmap(store, log, calendar=dutch, fit=True, ordered=ordered)
    assert kept == joined
    assert joined[0].source == "lifecycle" and joined[0].paired > 50_000
    assert len(joined[1].rows) == 15 and joined[1].values[0]


def test_a_log_of_dates_only_says_its_hours_are_unknown(store, tmp_path):
    # Road Traffic Fines dates its events to the day: the grid drew seven stripes at 00.
    log = load(
        store,
        tmp_path,
        "case_id,activity,timestamp\nc1,A,2024-01-08\nc1,B,2024-01-10\nc2,A,2024-01-09\nc2,B,2024-01-12\n",
    )
    h = load_heatmap(store, log)
    assert h.note.startswith(
        "the log's times are dates only (every event at midnight): the hour of the day is unknown, so only "
        "the weekdays tell; activity instances by the local weekday"
    )
    assert (h.cell("A", "Mon 00"), h.cell("A", "Tue 00"), h.cell("B", "Wed 00")) == (1, 1, 1)
    timed = load_file(store, EVENTS)
    assert "dates only" not in load_heatmap(store, timed).note
