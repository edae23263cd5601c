"""The robust time range: placeholder dates fall out, real tails stay, period axes stay bounded."""

from __future__ import annotations

import csv
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mining.analysis.span import MAX_PERIODS, check_periods, period_count, robust_span
from mining.errors import AnalysisError
from mining.ingest import IngestOptions, ingest_file

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def _load(store, tmp_path, rows, name="span"):
    path = tmp_path / f"{name}.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["case", "activity", "timestamp"])
        w.writerows(rows)
    roles = {"case": "case", "activity": "activity", "timestamp": "timestamp"}
    return ingest_file(store, path, IngestOptions(name=name, roles=roles)).log_id


def _weekly(cases=50, start=T0):
    return [
        (f"c{c}", a, (start + dt.timedelta(days=7 * c, hours=i)).isoformat())
        for c in range(cases)
        for i, a in enumerate("ABCD")
    ]


def test_a_clean_log_keeps_everything(store, tmp_path) -> None:
    span = robust_span(store, _load(store, tmp_path, _weekly()))
    assert span.left_out == 0 and span.note == ""
    assert span.first == span.earliest == T0
    assert span.last == span.latest == T0 + dt.timedelta(days=7 * 49, hours=3)
    assert span.events == 200


def test_placeholder_dates_are_left_out_and_named(store, tmp_path) -> None:
    rows = [
        *_weekly(),
        ("c1", "E", "9999-12-31T00:00:00+00:00"),
        ("c2", "E", "0001-01-01T00:00:00+00:00"),
        ("c3", "E", "1970-01-01T00:00:00+00:00"),
        ("c4", "E", "2202-03-04T10:00:00+00:00"),  # a typo for 2022, beyond 2100
    ]
    span = robust_span(store, _load(store, tmp_path, rows))
    assert (span.first, span.last) == (T0, T0 + dt.timedelta(days=7 * 49, hours=3))
    assert span.earliest.year == 1 and span.latest.year == 9999
    assert span.left_out == 4
    assert span.examples == ("0001-01-01", "1970-01-01", "2202-03-04", "9999-12-31")
    assert span.note == (
        "4 events dated outside the log's main range (2024-01-01 to 2024-12-09) are left out: "
        "0001-01-01, 1970-01-01, 2202-03-04, 9999-12-31 (placeholder dates or typing errors)"
    )
    assert span.contains(T0) and not span.contains(dt.datetime(1970, 1, 1, tzinfo=dt.UTC))


def test_a_real_long_tail_stays_inside(store, tmp_path) -> None:
    # 400 cases in one month, and four cases spread over the five years before it.
    bulk = _weekly(cases=0)
    for c in range(400):
        bulk.append((f"b{c}", "A", (T0 + dt.timedelta(hours=c)).isoformat()))
    for k, years in enumerate((1, 2, 3, 5)):
        bulk.append((f"old{k}", "A", (T0 - dt.timedelta(days=365 * years)).isoformat()))
    span = robust_span(store, _load(store, tmp_path, bulk))
    assert span.left_out == 0
    assert span.first == T0 - dt.timedelta(days=365 * 5)


def test_a_log_of_the_seventies_keeps_its_1970_dates(store, tmp_path) -> None:
    rows = _weekly(cases=200, start=dt.datetime(1968, 6, 1, tzinfo=dt.UTC))
    rows.append(("c7", "E", "1970-01-01T00:00:00+00:00"))
    span = robust_span(store, _load(store, tmp_path, rows))
    assert span.left_out == 0
    assert span.first.year == 1968


def test_a_log_of_placeholders_only_has_no_range(store, tmp_path) -> None:
    rows = [("c1", "A", "9999-12-31T00:00:00+00:00"), ("c1", "B", "9999-12-31T01:00:00+00:00")]
    span = robust_span(store, _load(store, tmp_path, rows))
    assert span.first is None and span.last is None
    assert span.left_out == 2
    assert span.note.startswith("2 events dated outside the log's main range (no usable range)")


def test_too_many_periods_are_refused_with_a_coarser_period_named() -> None:
    first, last = dt.date(1900, 1, 1), dt.date(2100, 12, 31)
    with pytest.raises(AnalysisError) as caught:
        check_periods(first, last, "day")
    assert (
        str(caught.value)
        == f"1900-01-01 to 2100-12-31 makes 73,414 days; a time axis holds at most {MAX_PERIODS:,}"
    )
    assert caught.value.hint == "count per month"
    check_periods(first, last, "month")  # 2,412 months fit


@given(
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 1, 1)),
    st.integers(min_value=0, max_value=3000),
    st.sampled_from(["day", "week", "month"]),
)
def test_period_count_matches_stepping_through_the_periods(first: dt.date, days: int, period: str) -> None:
    last = first + dt.timedelta(days=days)
    starts = set()
    day = first
    while day <= last:
        if period == "day":
            starts.add(day)
        elif period == "week":
            starts.add(day - dt.timedelta(days=day.isoweekday() - 1))
        else:
            starts.add(day.replace(day=1))
        day += dt.timedelta(days=1)
    assert period_count(first, last, period) == len(starts)


def _placeholder_log(store, tmp_path):
    rows = [
        *_weekly(),
        ("c1", "E", "9999-12-31T00:00:00+00:00"),
        ("c2", "E", "0001-01-01T00:00:00+00:00"),
        ("c3", "E", "1970-01-01T00:00:00+00:00"),
    ]
    return _load(store, tmp_path, rows, name="placeholders")


def test_periods_and_heatmaps_work_on_the_robust_range_and_say_what_they_left_out(store, tmp_path) -> None:
    from mining.analysis.heatmaps import load_heatmap, transition_wait_heatmap
    from mining.analysis.throughput import throughput

    log = _placeholder_log(store, tmp_path)
    weekly = throughput(store, log, period="week")
    # 50 weekly cases from Monday 2024-01-01: one period per week, none in 1970 or 9999.
    assert len(weekly.periods) == 50
    assert weekly.periods[0].period == dt.date(2024, 1, 1)
    assert weekly.periods[-1].period == dt.date(2024, 12, 9)
    # c2 and c3 start on a placeholder (0001-01-01, 1970-01-01) and c1 ends on one (9999-12-31):
    # those starts and that completion fall in no period.
    assert sum(p.started for p in weekly.periods) == 48
    assert sum(p.completed for p in weekly.periods) == 49
    assert "3 events dated outside the log's main range (2024-01-01 to 2024-12-09)" in weekly.note
    waits = transition_wait_heatmap(store, log, period="week")
    assert len(waits.columns) == 50 and waits.columns[0] == "2024-01-01"
    assert "3 events dated outside" in waits.note
    load = load_heatmap(store, log)
    assert sum(v for row in load.values for v in row if v) == 200  # the 203 events less the three
    assert "0001-01-01, 1970-01-01, 9999-12-31" in load.note


def test_explore_commands_survive_placeholder_dates(tmp_path) -> None:
    import json

    from click.testing import CliRunner

    from mining.cli import cli
    from mining.store import Store

    ws = tmp_path / "ws.duckdb"
    with Store(ws) as s:
        _placeholder_log(s, tmp_path)
    runner = CliRunner()
    for command in ("dfg", "variants", "bottlenecks"):
        result = runner.invoke(cli, ["--workspace", str(ws), command, "placeholders", "--json"])
        assert result.exit_code == 0, result.output
        json.loads(result.output)
    heat = json.loads(
        runner.invoke(cli, ["--workspace", str(ws), "bottlenecks", "placeholders", "--json"]).output
    )
    assert len(heat["heatmaps"]["transition_wait"]["columns"]) == 50


def test_a_log_of_thousands_of_distinct_activities_is_refused_clearly(tmp_path) -> None:
    from click.testing import CliRunner

    from mining.analysis.bounds import MAX_ACTIVITIES, activity_count
    from mining.cli import cli
    from mining.store import Store

    n = MAX_ACTIVITIES + 1
    rows = [(f"c{k // 2}", f"ticket {k:05d}", (T0 + dt.timedelta(minutes=k)).isoformat()) for k in range(n)]
    ws = tmp_path / "ws.duckdb"
    with Store(ws) as s:
        log = _load(s, tmp_path, rows, name="ids")
        assert activity_count(s, log) == n
    runner = CliRunner()
    for command in ("dfg", "variants", "bottlenecks"):
        result = runner.invoke(cli, ["--workspace", str(ws), command, "ids"])
        assert result.exit_code == 1
        assert f"the log has {n:,} distinct activities" in result.output
        assert "--activity COLUMN" in result.output
