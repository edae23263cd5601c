"""A monitoring run: control charts, alerts, stored runs (idempotent), rules plugged in, the HTML report."""

from __future__ import annotations

import csv
import datetime as dt
import json

import pytest

from mining.analysis.variants import endings
from mining.errors import MonitorError
from mining.ingest import IngestOptions, ingest_file
from mining.monitor.html import render_html, write_report
from mining.monitor.run import (
    MonitorOptions,
    load_run,
    monitor,
    run_json,
    save_run,
    stored_runs,
    why_not_judged,
)
from mining.monitor.summary import manager_summary

ROLES = {
    "case": "case_id",
    "activity": "activity",
    "timestamp": "timestamp",
    "resource": "resource",
    "start_timestamp": None,
    "lifecycle": None,
    "cost": None,
}
MONDAY = dt.datetime(2024, 1, 1, 9, tzinfo=dt.UTC)
#: Added to every case's duration, per week: no rule can fire on it (12 points, no run, < 1.3 sigma).
CALM = (0.0, 0.5, 0.2, 0.8, 0.1, 0.6, 0.3, 0.7, 0.4, 0.9, 0.2, 0.5)


def write_weeks(path, offsets, activity_z="Z"):
    """Six cases a week (Monday to Saturday, 09:00), A then Z after 2..7 h plus the week's offset (hours).

    The export is taken on the Monday after the last week, at 10:00: one case has started then
    (``next``, A only, open), so the last week is whole and the newest period is partial, as for a
    job run on Monday mornings.  The first week begins at 09:00: it is partial too.
    """
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["case_id", "activity", "timestamp", "resource"])
        for week, offset in enumerate(offsets):
            for day in range(6):
                start = MONDAY + dt.timedelta(days=7 * week + day)
                case = f"w{week:02d}d{day}"
                w.writerow([case, "A", start.isoformat(), "ann"])
                end = start + dt.timedelta(hours=2 + day + offset)
                w.writerow([case, activity_z, end.isoformat(), "bob"])
        monday = MONDAY + dt.timedelta(days=7 * len(offsets), hours=1)
        w.writerow(["next", "A", monday.isoformat(), "ann"])
    return path


def load_weeks(store, tmp_path, offsets, name="weeks", **kw):
    path = write_weeks(tmp_path / f"{name}.csv", offsets, **kw)
    return ingest_file(store, path, IngestOptions(name=name, roles=ROLES)).log_id


OPTIONS = MonitorOptions(period="week", timezone="UTC", lean=False)


def test_a_jump_in_the_newest_week_alerts(store, tmp_path):
    log = load_weeks(store, tmp_path, (*CALM[:11], 20.0))
    run = monitor(store, log, options=OPTIONS)
    assert [p.started for p in run.series.periods] == [6] * 12 + [1]
    assert run.series.periods[-2].cycle_median_s == 24.5 * 3600
    # The first week begins at 09:00 and the newest one holds one Monday morning: shown, never judged.
    assert [bool(p.cut) for p in run.series.periods] == [True] + [False] * 11 + [True]
    # One alert per KPI and period: the median's strongest rule, with the others inside it.
    assert [(a.kpi, a.rule) for a in run.alerts if a.kpi == "cycle_median_s"] == [
        ("cycle_median_s", "nelson-1")
    ]
    assert {a.period for a in run.alerts} == {dt.date(2024, 3, 18)}
    median = next(a for a in run.alerts if a.kpi == "cycle_median_s")
    assert (median.direction, median.assessment, median.value) == ("up", "worse", 24.5 * 3600)
    assert median.rules[0] == "nelson-1" and "cusum" in median.rules
    assert median.compared_with == "recent"
    assert median.sentence.startswith(
        "Median cycle time in the week of 2024-03-18 is worse than usual: 1d 00h against a usual 4h "
    )
    assert (
        "from the 10 judged weeks before it). Nelson rule 1, 1 point beyond 3 sigma. Also: CUSUM"
        in median.sentence
    )
    # Every figure a person reads is in human units: no 8.82e+04.
    assert "e+0" not in median.sentence
    assert median.trend is None  # calm weeks, then a jump: no drift to continue
    # Volumes did not move: six cases a week, all done within their week.
    assert not {a.kpi for a in run.alerts} & {"started", "completed", "wip_end"}


#: Each week's cases take 1.5 h less than the week before's: a steady fall, as when cases wait for a
#: batch on a fixed date (Road Traffic Fines' credit collection, yearly).
FALLING = tuple(40 - 1.5 * week for week in range(14))


def test_a_newest_week_that_continues_a_steady_fall_is_called_a_trend(store, tmp_path):
    """Limits from moving ranges measure the drift's 1.5 h steps, so the newest week is far "beyond
    3 sigma" of the baseline's mean by merely continuing the fall; the alert says so."""
    log = load_weeks(store, tmp_path, FALLING, name="falling")
    run = monitor(store, log, options=OPTIONS)
    medians = [p.cycle_median_s for p in run.series.periods[1:14]]
    assert medians == [(44.5 - 1.5 * week) * 3600 for week in range(1, 14)]
    median = next(a for a in run.alerts if a.kpi == "cycle_median_s")
    assert (median.rule, median.direction, median.assessment) == ("nelson-1", "down", "better")
    trend = median.trend
    assert trend is not None
    assert (trend.direction, trend.periods, trend.steps, trend.along) == ("down", 12, 11, 11)
    assert (trend.first, trend.last) == (43 * 3600, 26.5 * 3600)
    assert trend.per_period == pytest.approx(-1.5 * 3600)
    assert trend.expected == pytest.approx(25 * 3600)
    assert median.sentence == (
        "Median cycle time in the week of 2024-04-01 is better than usual: 1d 01h against a usual 1d 10h "
        "(from the 12 judged weeks before it), but it only continues a steady fall: over the 12 weeks "
        "before it, it fell in all 11 steps, from 1d 19h to 1d 02h (about 1h 30m a week), and that trend "
        "leads to about 1d 01h. A drift rather than a sudden change: the question is what keeps it moving. "
        "Nelson rule 1, 1 point beyond 3 sigma. Also: CUSUM: a sustained shift."
    )
    assert median.short == (
        "median cycle time in the week of 2024-04-01 is better than usual (1d 01h; usually 1d 10h), "
        "continuing a steady fall of about 1h 30m less each week"
    )
    assert json.loads(run_json(run))["alerts"][0]["trend"]["along"] == 11


def test_a_newest_week_that_breaks_away_from_a_trend_is_an_ordinary_alert(store, tmp_path):
    # The same fall, but the newest week drops 10 h below where it leads (3 sigma is 4 h there).
    log = load_weeks(store, tmp_path, (*FALLING[:13], FALLING[13] - 10), name="broken")
    run = monitor(store, log, options=OPTIONS)
    median = next(a for a in run.alerts if a.kpi == "cycle_median_s")
    assert median.value == 15 * 3600 and median.trend is None
    assert "limits " in median.sentence and "steady" not in median.sentence


def test_a_duration_limit_is_never_below_zero(store, tmp_path):
    # Weeks swinging between 4 h and 44 h: 3 sigma below the center is about -2d 09h.
    log = load_weeks(store, tmp_path, (*(0.0, 40.0) * 6, 200.0), name="swing")
    run = monitor(store, log, options=OPTIONS)
    chart = next(c for c in run.charts if c.kpi == "cycle_median_s")
    assert chart.chart.center - 3 * chart.chart.sigma[-2] < -2 * 86400
    assert set(chart.chart.lcl) == {0.0}
    median = next(a for a in run.alerts if a.kpi == "cycle_median_s")
    assert "(limits 0s to 5d 12h, from the 11 judged weeks before it)" in median.sentence


def test_a_calm_series_does_not_alert(store, tmp_path):
    log = load_weeks(store, tmp_path, CALM)
    run = monitor(store, log, options=OPTIONS)
    assert run.alerts == ()
    chart = next(c for c in run.charts if c.kpi == "cycle_median_s")
    assert chart.chart.kind == "I" and chart.moving_range is not None
    assert chart.chart.signals == ()
    assert len(chart.chart.values) == 13 and chart.newest == 11
    assert chart.chart.values[0] is None and chart.chart.values[12] is None


def test_max_breach_rate_alerts_on_the_newest_week(store, tmp_path):
    # Week 12's cases take 2..7 h plus 3 h: 5 h, 6 h and 7 h ... over a 6 h SLA: 4 of 6 breach.
    log = load_weeks(store, tmp_path, (*([0.0] * 11), 3.0))
    opts = MonitorOptions(
        period="week", timezone="UTC", lean=False, sla_seconds=6 * 3600, max_breach_rate=0.5
    )
    run = monitor(store, log, options=opts)
    breach = [a for a in run.alerts if a.rule == "max-breach-rate"]
    assert len(breach) == 1
    assert breach[0].value == pytest.approx(4 / 6)
    assert breach[0].sentence.startswith(
        "SLA breach rate in the week of 2024-03-18 is 66.7% (4 of 6 decided cases over "
        "6h 00m), above the maximum of 50.0%."
    )
    # The SLA reads as a duration in the capability note too.
    assert run.capability is not None and run.capability.note.startswith("Against USL 6h 00m: ")
    # The same period's rate is also beyond its control limit: one alert, the threshold first.
    assert [a.kpi for a in run.alerts].count("sla_breach_rate") == 1
    assert breach[0].rules[:2] == ("max-breach-rate", "nelson-1")
    with pytest.raises(MonitorError, match=r"a maximum SLA breach rate needs an SLA \(--sla DURATION\)"):
        MonitorOptions(max_breach_rate=0.1)


def test_open_weeks_are_not_judged(store, tmp_path):
    # The last whole week's Saturday case has not reached Z: its B comes on Monday, 30 minutes
    # before the export, so it is open.  1 of 6 open is over 2 %: the week's durations are not
    # judged, for the long cases are the ones still running.
    path = write_weeks(tmp_path / "open.csv", CALM)
    rows = [r for r in path.read_text().splitlines() if not r.startswith("w11d5,Z,")]
    rows.append("w11d5,B,2024-03-25T09:30:00+00:00,ann")
    path.write_text("\n".join(rows) + "\n")
    log = ingest_file(store, path, IngestOptions(name="open", roles=ROLES)).log_id
    run = monitor(
        store, log, options=MonitorOptions(period="week", timezone="UTC", lean=False, end_activities=("Z",))
    )
    last = run.series.periods[-2]
    assert (last.started, last.open, last.stalled, last.completed) == (6, 1, 0, 5)
    assert last.cycle_median_s is not None and not last.cut
    chart = next(c for c in run.charts if c.kpi == "cycle_median_s")
    assert chart.chart.values[-2] is None
    assert chart.chart.values[-3] == run.series.periods[-3].cycle_median_s
    assert chart.newest == 10


def test_a_run_is_stored_once_and_repeats_byte_for_byte(store, tmp_path):
    log = load_weeks(store, tmp_path, (*CALM[:11], 20.0))
    opts = MonitorOptions(
        period="week", timezone="UTC", change_date=dt.date(2024, 2, 19), sla_seconds=6 * 3600
    )
    first = monitor(store, log, options=opts)
    second = monitor(store, log, options=opts)
    assert first.key == second.key
    text = run_json(first)
    assert run_json(second) == text
    assert save_run(store, first) is True
    assert save_run(store, second) is False
    assert [r.key for r in stored_runs(store)] == [first.key]
    assert stored_runs(store, log)[0].alerts == len(first.alerts) > 0
    assert load_run(store, first.key) == text
    a = write_report(first, tmp_path / "a.html").read_bytes()
    b = write_report(second, tmp_path / "b.html").read_bytes()
    assert a == b
    # Other parameters, another run; new data, another run.
    other = monitor(store, log, options=MonitorOptions(period="month", timezone="UTC", lean=False))
    assert other.key != first.key
    assert save_run(store, other) is True
    more = write_weeks(tmp_path / "more.csv", (*CALM[:11], 20.0, 0.3))
    ingest_file(store, more, IngestOptions(name="weeks", roles=ROLES, append=True))
    newer = monitor(store, log, options=opts)
    assert newer.key != first.key and newer.ingest_runs == 2
    assert len(newer.series.periods) == 14


def test_new_code_makes_a_new_run_key(store, tmp_path, monkeypatch):
    # After an upgrade that changes a figure, the same data and options must not answer "already
    # stored" with the old code's run.
    import mining.monitor.run as run_module

    log = load_weeks(store, tmp_path, (*CALM[:11], 20.0))
    opts = MonitorOptions(period="week", timezone="UTC")
    old = monitor(store, log, options=opts)
    assert save_run(store, old) is True
    monkeypatch.setattr(run_module, "code_fingerprint", lambda: "another version of the library")
    new = monitor(store, log, options=opts)
    assert new.key != old.key
    assert save_run(store, new) is True


def test_the_json_has_the_promised_keys(store, tmp_path):
    log = load_weeks(store, tmp_path, (*CALM[:11], 20.0))
    run = monitor(
        store, log, options=MonitorOptions(period="week", timezone="UTC", change_date=dt.date(2024, 2, 19))
    )
    data = json.loads(run_json(run))
    assert {"periods", "comparison", "alerts", "key", "kpis", "charts", "completeness", "lean"} <= set(data)
    first = data["periods"][0]
    assert first["start"] == "2024-01-01" and first["end"] == "2024-01-08"
    assert {"started", "completed", "open", "wip_end", "cycle_median_s", "rework_rate"} <= set(first)
    assert data["comparison"]["change_date"] == "2024-02-19"
    assert {k["kpi"] for k in data["comparison"]["kpis"]} >= {"cycle_median_s", "rework_rate", "completed"}
    assert {"kpi", "rule", "period", "sentence"} <= set(data["alerts"][0])
    assert data["lean"]["main_variant"] == ["A", "Z"]


def test_rules_become_per_period_violation_rates(store, tmp_path):
    # Every Saturday case is handled by ann twice (A and Z): a four-eyes violation in 1 of 6 cases.
    path = write_weeks(tmp_path / "rules.csv", CALM)
    rows = path.read_text().splitlines()
    path.write_text("\n".join(r.replace(",bob", ",ann") if "d5," in r else r for r in rows) + "\n")
    log = ingest_file(store, path, IngestOptions(name="rules", roles=ROLES)).log_id
    from mining.conformance.rules import load_rules

    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text("- four-eyes A, Z\n- A before Z\n", encoding="utf-8")
    opts = MonitorOptions(period="week", timezone="UTC")
    run = monitor(store, log, options=opts, rules=load_rules(rules_file))
    assert [r.violations for r in run.rules] == [12, 0]
    # The rules enter the key, not the file they were read from; the run stays reproducible.
    again = tmp_path / "again.yaml"
    again.write_text("- four-eyes A, Z\n- A before Z\n", encoding="utf-8")
    assert run.key == monitor(store, log, options=opts, rules=load_rules(again)).key
    assert len(run.key) == 64 and run.key != monitor(store, log, options=opts).key
    # A violating case deviates: the Lean view prices its extra lead time.
    deviation = run.lean.waste("deviations")
    assert deviation.cases > 0 and set(deviation.top_cases) <= {f"w{w:02d}d5" for w in range(12)}
    assert run.series.values("extra.rule_1") == pytest.approx((1 / 6,) * 12 + (None,))
    assert run.series.values("extra.rule_2") == (0.0,) * 12 + (None,)
    assert run.series.kpi("extra.rule_1").label == "Violations of “four-eyes A, Z”"
    chart = next(c for c in run.charts if c.kpi == "extra.rule_1")
    # The limits come from the 10 whole weeks before the newest judged one.
    assert chart.chart.kind == "p" and chart.chart.center == pytest.approx(1 / 6)
    assert chart.newest == 11 and chart.chart.phases[0].baseline == tuple(range(1, 11))


def test_the_report_is_self_contained_and_escaped(store, tmp_path):
    log = load_weeks(store, tmp_path, (*CALM[:11], 20.0), activity_z='<b>Done</b> & "closed"')
    run = monitor(
        store,
        log,
        options=MonitorOptions(
            period="week", timezone="UTC", sla_seconds=6 * 3600, change_date=dt.date(2024, 2, 19)
        ),
    )
    page = render_html(run)
    assert page.startswith("<!DOCTYPE html>")
    assert "<b>Done</b>" not in page
    assert "&lt;b&gt;Done&lt;/b&gt; &amp; &quot;closed&quot;" in page
    for banned in ("<script", "<link", "@import", "url(", "https://", "src="):
        assert banned not in page
    charts = len(run.charts) + sum(1 for c in run.charts if c.cusum is not None)
    assert page.count("http://") == page.count('xmlns="http://www.w3.org/2000/svg"') == charts
    # Axis titles with units, the change date marked, every section present and folded.
    assert "Start of week (UTC" in page and ">hours</text>" in page and "change 2024-02-19" in page
    for heading in (
        "Alerts",
        "Data quality and what is not judged",
        "Before and after 2024-02-19",
        "KPIs per period",
        "Control charts",
        "Capability against the SLA",
        "Lean view",
        "How each figure was computed",
    ):
        assert f"<details><summary>{heading}" in page
    assert all(a.sentence.split(" (")[0].replace("&", "&amp;") in page for a in run.alerts)


def test_a_memo_reuses_the_facts_and_the_lean_view_and_changes_no_figure(store, tmp_path):
    log = load_weeks(store, tmp_path, (*CALM[:11], 20.0))
    memo: dict = {}
    runs = [
        MonitorOptions(period="week", timezone="UTC"),
        MonitorOptions(period="month", timezone="UTC", sla_seconds=6 * 3600),
        MonitorOptions(period="day", timezone="UTC", change_date=dt.date(2024, 2, 19)),
    ]
    for opts in runs:
        assert run_json(monitor(store, log, options=opts, memo=memo)) == run_json(
            monitor(store, log, options=opts)
        )
    # One set of facts and one Lean view served all three: the period, SLA and change date are not in them;
    # the KPIs per period are kept per period and SLA, the strata of the before/after for the next change date.
    kept = ["facts", "lean", "series", "series", "series", "stratum"]
    assert sorted(key[0] for key in memo) == kept
    other = MonitorOptions(period="week", timezone="UTC", change_date=dt.date(2024, 3, 4))
    assert run_json(monitor(store, log, options=other, memo=memo)) == run_json(
        monitor(store, log, options=other)
    )
    assert sorted(key[0] for key in memo) == kept  # the weekly KPIs of the first run served this one
    facts = memo[next(k for k in memo if k[0] == "facts")]
    with pytest.raises(ValueError, match="read-only"):
        facts.cycle[0] = 0.0
    # Another time zone is other facts.
    monitor(store, log, options=MonitorOptions(period="week", timezone="Europe/Amsterdam"), memo=memo)
    assert sorted(key[0] for key in memo) == ["facts", "facts", "lean", *["series"] * 4, "stratum"]


def test_after_a_change_the_alerts_compare_with_the_old_phase_until_the_new_one_has_enough(store, tmp_path):
    change = dt.date(2024, 3, 11)  # the Monday of week 10: cases take ten hours longer from then on
    short = load_weeks(store, tmp_path, (*CALM[:10], *(10.0 + c for c in CALM[:4])), name="short")
    opts = MonitorOptions(period="week", timezone="UTC", lean=False, change_date=change)
    run = monitor(store, short, options=opts)
    chart = next(c for c in run.charts if c.kpi == "cycle_median_s")
    assert (chart.compared_with, chart.newest) == ("old phase", 13)
    assert chart.chart.phases[0].baseline == tuple(range(1, 10))
    median = next(a for a in run.alerts if a.kpi == "cycle_median_s")
    assert (median.assessment, median.compared_with) == ("worse", "old phase")
    assert (
        "from the 9 judged weeks before the change of 2024-03-11 (the old phase: the new one has 3 of the 8 "
        "judged weeks it needs for limits of its own))" in median.sentence
    )
    # Twelve weeks on, the new phase has limits of its own: the new level is the usual one now.
    long = load_weeks(store, tmp_path, (*CALM[:10], *(10.0 + c for c in CALM)), name="long")
    later = monitor(store, long, options=opts)
    chart = next(c for c in later.charts if c.kpi == "cycle_median_s")
    assert chart.compared_with == "new phase" and len(chart.chart.phases) == 2
    assert chart.chart.phases[1].baseline == tuple(range(10, 21))
    assert chart.chart.center_at(5) < chart.chart.center_at(15) - 9 * 3600
    assert not [a for a in later.alerts if a.kpi == "cycle_median_s"]
    assert chart.note.startswith("limits from the 11 judged weeks since the change of 2024-03-11")


def test_a_jump_in_the_partial_newest_period_is_shown_and_never_alerted(store, tmp_path):
    # The newest week's only case took 29 hours (A on Monday 10:00, Z on Tuesday 15:00): a huge value
    # in a period the data cover for a day and a half.
    path = write_weeks(tmp_path / "partial.csv", CALM)
    rows = path.read_text().splitlines()
    rows.append("next,Z,2024-03-26T15:00:00+00:00,bob")
    path.write_text("\n".join(rows) + "\n")
    log = ingest_file(store, path, IngestOptions(name="partial", roles=ROLES)).log_id
    run = monitor(store, log, options=OPTIONS)
    newest = run.series.periods[-1]
    assert newest.partial and newest.cut == "the data end inside it"
    assert newest.cycle_median_s == 29 * 3600
    chart = next(c for c in run.charts if c.kpi == "cycle_median_s")
    assert chart.chart.values[-1] is None and chart.newest == 11
    assert run.alerts == ()


def write_closed_weeks(path):
    """Six cases a week for 16 weeks, taking 3 to 18 days (plus a calm offset), exported with the cases
    closed by the export's Monday only (as ERP reports of completed orders are)."""
    export = MONDAY + dt.timedelta(weeks=16, hours=1)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["case_id", "activity", "timestamp", "resource"])
        for week in range(16):
            for day in range(6):
                start = MONDAY + dt.timedelta(days=7 * week + day)
                end = start + dt.timedelta(days=3 * (day + 1), hours=CALM[week % len(CALM)])
                if end <= export:
                    w.writerow([f"w{week:02d}d{day}", "A", start.isoformat(), "ann"])
                    w.writerow([f"w{week:02d}d{day}", "Z", end.isoformat(), "bob"])
    return path


def test_an_export_of_closed_cases_only_does_not_make_its_young_weeks_look_fast(store, tmp_path):
    """The last weeks of :func:`write_closed_weeks` hold their fast cases alone and no open case: their
    median falls by half.  Judged, that read as an improvement; at the complete cases' cycle times most
    of those weeks' cases would still be running."""
    path = write_closed_weeks(tmp_path / "closed.csv")
    log = ingest_file(store, path, IngestOptions(name="closed", roles=ROLES)).log_id
    run = monitor(
        store, log, options=MonitorOptions(period="week", timezone="UTC", lean=False, end_activities=("Z",))
    )
    weeks = run.series.periods
    assert [p.started for p in weeks[12:16]] == [6, 5, 3, 2]
    assert all(p.open == 0 for p in weeks)  # nothing tells the young weeks apart but their age
    assert weeks[15].cycle_median_s == pytest.approx(4.5333 * 86400, abs=60)  # usually 10.5 days
    # Before, that week was judged: "Median cycle time in the week of 2024-04-15 is better than usual:
    # 4d 12h against a usual 10d 02h", and the same of the 90th percentile.
    assert not [a for a in run.alerts if a.kpi.startswith("cycle")]
    chart = next(c for c in run.charts if c.kpi == "cycle_median_s")
    assert chart.newest == 12
    assert [round(p.expected_open, 3) for p in weeks[12:16]] == [0.0, 0.032, 0.311, 0.642]
    assert why_not_judged(weeks[14]) == (
        "too recent: about 31% of its cases would usually still be running: durations, rates and costs not "
        "judged yet"
    )
    assert why_not_judged(weeks[5]) == ""
    sentences = manager_summary(run).sentences
    # Each KPI is judged on its own newest judged week: the volumes' is younger than the durations'.
    assert (
        sentences[1] == "Nothing needs attention: no KPI left its control limits in its newest judged week."
    )
    sentence = sentences[0]
    assert sentence.startswith(
        "No change date is set; in the newest week old enough to judge (week of 2024-03-25; in later weeks too "
        "many cases would usually still be running) the median cycle time was 10d 12h, against a usual "
    )


def test_fines_weekly_charts_judge_no_week_before_their_limits_baseline(store, shared_logs):
    # The export's thin last half-year set the limits; against them the chart of cases started flagged
    # 496 of the twelve years' weeks before it, and the work-in-progress chart 746.
    log = ingest_file(store, shared_logs / "road_traffic_fines.csv.gz").log_id
    run = monitor(store, log, options=MonitorOptions(period="week"))
    charts = {kc.kpi: kc for kc in run.charts}
    started = charts["started"].chart
    assert (len(started.values), min(started.phases[0].baseline)) == (704, 676)
    assert sorted({s.index for s in started.signals}) == [682, 684, 696, 697]
    assert (
        "Points 0-675 (week of 1999-12-27 to week of 2012-12-03), before the baseline, are drawn against its "
        "limits but not judged" in started.note
    )
    for kpi, kc in charts.items():
        first = min(kc.chart.phases[0].baseline)
        assert [s.index for s in kc.chart.signals if min(s.points) < first] == [], kpi
        assert kc.cusum is None or [s.index for s in kc.cusum.signals if s.since < first] == [], kpi
    # The alert judges the newest judged week, as before.
    assert [(a.kpi, a.period.isoformat()) for a in run.alerts] == [("cycle_p90_s", "2010-06-28")]


def test_sepsis_endings_tell_the_releases_from_the_lab_tests_the_record_stops_at(store, shared_logs):
    # Learned, sepsis's end activities are every activity that ends 1% of its settled cases: 12 of 16,
    # so no case was open. The Monitoring page offers each with how often it ends its cases.
    log = ingest_file(store, shared_logs / "sepsis.csv.gz").log_id
    learned = monitor(store, log, options=MonitorOptions(period="month")).series.completeness
    assert len(learned.end_activities) == 12 and learned.open == 0
    found = {e.activity: (e.ends, e.cases) for e in endings(store, log)}
    assert sum(e for e, _ in found.values()) == 1050
    assert [found[a] for a in ("Release A", "Return ER", "IV Antibiotics", "Leucocytes", "CRP")] == [
        (393, 671),
        (291, 294),
        (87, 823),
        (44, 1012),
        (41, 1007),
    ]
    releases = ("Release A", "Release B", "Release C", "Release D", "Release E", "Return ER")
    chosen = monitor(store, log, options=MonitorOptions(period="month", end_activities=releases))
    c = chosen.series.completeness
    assert (c.end_activities, c.end_activities_given) == (releases, True)
    assert c.complete == sum(found[a][0] for a in releases) == 777
    assert c.complete + c.open + c.stalled == 1050
