"""The manager's summary and the report around it: five sentences on one screen, details folded, tables bounded."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import html
import re

import pytest

from mining.ingest import IngestOptions, ingest_file
from mining.monitor.html import CHART_PERIODS, TABLE_PERIODS, render_html
from mining.monitor.lean import waste_words
from mining.monitor.run import MonitorOptions, monitor
from mining.monitor.summary import MAX_SENTENCES, manager_summary
from mining.monitor.words import format_value
from tests.test_monitor_run import CALM, load_weeks

OPTIONS = MonitorOptions(period="week", timezone="UTC", lean=False)


def _summary_of(page: str) -> list[str]:
    section = re.search(r'<section id="summary" class="summary">(.*?)</section>', page, re.S)
    assert section is not None
    return [html.unescape(p) for p in re.findall(r"<p>(.*?)</p>", section.group(1))]


def test_a_jump_is_summed_up_in_three_sentences_and_leads_the_report(store, tmp_path):
    log = load_weeks(store, tmp_path, (*CALM[:11], 20.0))
    run = monitor(store, log, options=OPTIONS)
    summary = manager_summary(run)
    median = next(c for c in run.charts if c.kpi == "cycle_median_s")
    usual = format_value(median.chart.center_at(11), "seconds")
    assert summary.sentences == (
        f"No change date is set; in the newest complete week (week of 2024-03-18) the median cycle time was "
        f"1d 00h, against a usual {usual}.",
        f"Needs attention now: median cycle time in the week of 2024-03-18 is worse than usual (1d 00h; "
        f"usually {usual}); 90th percentile cycle time in the week of 2024-03-18 is worse than usual "
        f"({format_value(run.series.periods[11].cycle_p90_s, 'seconds')}; usually "
        f"{format_value(next(c for c in run.charts if c.kpi == 'cycle_p90_s').chart.center_at(11), 'seconds')}).",
        "2 weeks cut by the export's edges are shown but not judged (2 only partly covered).",
    )
    assert summary.subject == "weeks: 2 alerts need attention" and summary.attention == 2
    page = render_html(run)
    assert _summary_of(page) == list(summary.sentences)
    # The summary comes first; every detail after it is folded.
    assert page.index('<section id="summary"') < page.index("<details>")
    assert "<details open" not in page


def test_a_change_says_by_how_much_whether_it_is_significant_and_what_else_moved(store, tmp_path):
    log = load_weeks(store, tmp_path, (*CALM[:10], *(6.0 + c for c in CALM[:6])))
    run = monitor(
        store,
        log,
        options=MonitorOptions(period="week", timezone="UTC", lean=False, change_date=dt.date(2024, 3, 11)),
    )
    c = run.comparison
    k = c.get("cycle_median_s")
    sentences = manager_summary(run).sentences
    assert len(sentences) <= MAX_SENTENCES
    assert sentences[0] == (
        f"Since the change on 2024-03-11, the median cycle time of the completed cases rose from {format_value(k.before, 'seconds')} to "
        f"{format_value(k.after, 'seconds')} (+{format_value(k.difference, 'seconds')}, {k.relative:+.1%} "
        f"relative): a significant change (p < 0.002)."
    )
    assert sentences[1].startswith("Also significant: 90th percentile cycle time rose by ")
    assert "percentage points" not in sentences[0]
    # When the median itself did not move beyond chance, the others are not "also" significant.
    calm = dataclasses.replace(
        c, kpis=tuple(dataclasses.replace(x, p_value=0.5) if x.kpi == "cycle_median_s" else x for x in c.kpis)
    )
    quiet = manager_summary(dataclasses.replace(run, comparison=calm)).sentences
    assert quiet[0].endswith("within what chance explains (p = 0.5, not significant at 5%).")
    assert quiet[1] == sentences[1].replace("Also significant: ", "Significant elsewhere: ")
    # A duration that fell while the export's end cuts the cases after the change short says so, once.
    fell = dataclasses.replace(
        calm,
        cut_short=0.07,
        kpis=tuple(
            dataclasses.replace(x, before=x.after, after=x.before, difference=-x.difference)
            if x.kpi == "cycle_p90_s"
            else x
            for x in calm.kpis
        ),
    )
    # What got worse is named first and said so, though an improvement and a volume have smaller
    # p-values: fines' p90 rose significantly while the summary named only the median and the starts.
    mixed = dataclasses.replace(
        calm,
        kpis=tuple(
            dataclasses.replace(x, p_value=0.03)
            if x.kpi == "cycle_p90_s"
            else dataclasses.replace(
                x, p_value=0.001, difference=-0.05, before=0.10, after=0.05, relative=-0.5
            )
            if x.kpi == "rework_rate"
            else dataclasses.replace(x, p_value=0.001, difference=-4.0, before=10.0, after=6.0, relative=-0.4)
            if x.kpi == "started"
            else x
            for x in calm.kpis
        ),
    )
    named = manager_summary(dataclasses.replace(run, comparison=mixed)).sentences[1]
    assert named.startswith("Significant elsewhere: 90th percentile cycle time rose by ")
    assert "relative; worse) and rework rate fell by 5.0 percentage points" in named
    assert named.endswith("(1 more in the table).")
    cut = manager_summary(dataclasses.replace(run, comparison=fell)).sentences
    assert cut[1].startswith("Significant elsewhere: 90th percentile cycle time fell by ")
    assert cut[1].endswith(
        ", though the export's end cuts the durations after the change short (at the durations before it, "
        "7% of those cases would still be running)."
    )
    assert "export's end" not in cut[0]
    # Below the threshold, or when no duration fell, nothing is said.
    assert "export's end" not in " ".join(
        manager_summary(dataclasses.replace(run, comparison=calm)).sentences
    )
    slight = dataclasses.replace(fell, cut_short=0.02)
    assert "export's end" not in " ".join(
        manager_summary(dataclasses.replace(run, comparison=slight)).sentences
    )
    # Alerts after a change compare with the old phase until the new one has enough periods: said so.
    assert sentences[-1] == (
        "Until the weeks since 2024-03-11 number 8 judged ones, the alerts compare them with the periods "
        "before the change."
    )


def test_long_tables_are_bounded_and_say_so(store, tmp_path):
    # Four years of daily cases: 1,461 days.  The report shows the newest 52 rows and 156 chart points.
    path = tmp_path / "daily.csv"
    t0 = dt.datetime(2020, 1, 1, 9, tzinfo=dt.UTC)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["case_id", "activity", "timestamp"])
        for i in range(1461):
            t = t0 + dt.timedelta(days=i)
            w.writerow([f"d{i:04d}", "A", t.isoformat()])
            w.writerow([f"d{i:04d}", "Z", (t + dt.timedelta(hours=2 + i % 5)).isoformat()])
    roles = {"case": "case_id", "activity": "activity", "timestamp": "timestamp"}
    roles |= dict.fromkeys(("resource", "start_timestamp", "lifecycle", "cost"))
    log = ingest_file(store, path, IngestOptions(roles=roles)).log_id
    run = monitor(store, log, options=MonitorOptions(period="day", timezone="UTC", lean=False))
    assert len(run.series.periods) == 1461
    page = render_html(run)
    table = page.split("<summary>KPIs per period", 1)[1].split("</details>", 1)[0]
    assert table.count("<tr>") == TABLE_PERIODS + 1  # the header and the newest 52 days
    assert f"The newest {TABLE_PERIODS} of 1,461 periods, newest first" in table
    chart = page.split("<summary>Control charts", 1)[1].split("</svg>", 1)[0]
    assert chart.count("<circle") <= CHART_PERIODS
    assert f"the newest {CHART_PERIODS} of 1461" in chart
    assert len(page) < 1_000_000


def test_the_lean_view_of_the_report_reads_its_times_in_words(store, tmp_path):
    log = load_weeks(store, tmp_path, CALM)
    run = monitor(store, log, options=MonitorOptions(period="week", timezone="UTC"))
    view = run.lean
    assert view is not None and not view.processing_measured
    page = render_html(run)
    header = '<th class="t">Kind</th><th>Time</th><th>Per case</th><th>Cost</th><th>Cases</th><th class="t">How</th>'
    assert header in page
    for w in view.wastes:
        total, per_case = waste_words(w)
        assert f'<tr><td class="t">{w.kind}</td><td>{total}</td><td>{per_case}</td><td>-</td>' in page
    # 72 cases hand over from ann to bob after 2 to 7 hours plus the week's offset: 12 x 27 h + 6 x 5.2 h.
    assert waste_words(view.waste("hand-offs")) == ("14.8 days", "4h 56m")
    assert (view.waste("hand-offs").cases, view.waste("hand-offs").hours) == (72, pytest.approx(355.2))
    assert "process cycle efficiency unknown (no start timestamps, so no processing time)." in page


def test_an_export_of_the_cases_closed_in_a_window_says_so_and_what_to_export(store, tmp_path):
    # BPIC 2013's incidents: cases opened over a year, every one closed within the same three weeks.
    path = tmp_path / "closed.csv"
    rows = [("case", "activity", "timestamp")]
    for k in range(120):
        opened = dt.datetime(2024, 1, 1, 9) + dt.timedelta(days=k % 84)
        closed = dt.datetime(2024, 4, 1, 10) + dt.timedelta(days=k % 20)
        rows += [(f"c{k}", "Open", opened.isoformat()), (f"c{k}", "Close", closed.isoformat())]
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    log = ingest_file(store, path, IngestOptions(name="closed")).log_id
    sentences = manager_summary(monitor(store, log, options=OPTIONS)).sentences
    assert sentences[1] == (
        "Nothing can be judged: every case of this export that completes does so between 2024-04-01 and "
        "2024-04-21, while they started over 12 weeks, so it looks like an export of the cases closed in those "
        "3 weeks; the weeks before hold only the starts of those cases, and no earlier cases to compare with. "
        "Export every case active over a longer span (opened or closed in the last year, say) to monitor it."
    )


def test_when_no_week_can_be_judged_the_summary_says_why_and_what_would_help(store, shared_logs):
    # Production's cases last two weeks at the median: no week settles, and the line said only that.
    log = ingest_file(store, shared_logs / "production_manufacturing.xes.gz").log_id
    weekly = manager_summary(monitor(store, log, options=MonitorOptions(period="week"))).sentences
    # Its 13 weeks are too few months to compare: only a longer export helps.
    assert weekly[0] == (
        "No week is complete enough yet to judge the median cycle time: in each, too many cases were still "
        "running at the data's end, or too few had completed. A longer export, reaching further past these "
        "cases' starts, lets them settle."
    )


def test_a_share_and_its_usual_level_differ_in_the_words_when_they_differ():
    from mining.monitor.words import format_pair

    # BPIC 2012's alert read "0.4% against a usual 0.4%".
    assert format_pair(0.0042, 0.0038, "ratio") == ("0.42%", "0.38%")
    assert format_pair(0.00421, 0.00424, "share") == ("0.421%", "0.424%")
    assert format_pair(0.25, 0.5, "share") == ("25.0%", "50.0%")
    assert format_pair(0.004, 0.004, "share") == ("0.4%", "0.4%")
    assert format_pair(90_000, 86_400, "seconds") == ("1d 01h", "1d 00h")
