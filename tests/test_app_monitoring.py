"""The Monitoring page, by AppTest, on the sample service-desk log.

The page starts on the sample's documented change date (2025-07-01) and SLA
(5 days); every expected figure is the library's :func:`mining.monitor.run.monitor`
with those options on the same workspace.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("streamlit", reason="the app is an optional extra: pip install '.[app]'")

from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from mining.analysis.calendar import Calendar
from mining.analysis.filters import Filter
from mining.catalog import list_logs
from mining.ingest import ingest_file
from mining.monitor import compare_maps
from mining.monitor.html import write_report
from mining.monitor.lean import waste_words
from mining.monitor.run import MonitorOptions, MonitorRun, format_value, monitor
from mining.samples import CHANGE_DATES
from mining.store import Store
from mining.ui.mapdraw import DEVIATION, GHOST
from mining.ui.pages.monitoring import ALERT_ICON, format_p
from tests.conftest import SAMPLE_LOGS, app_workspace

SAMPLE = SAMPLE_LOGS / "service_desk.csv"
TIMEOUT = 120
CHANGE = CHANGE_DATES["service_desk"]
# As the page builds them: the SLA text "5d" is parsed to seconds (a float), as the CLI does.
OPTIONS = MonitorOptions(period="week", change_date=CHANGE, sla_seconds=5 * 86400.0)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with app_workspace(tmp_path_factory.mktemp("monitoring"), SAMPLE) as path:
        yield path


@pytest.fixture(scope="module")
def log_id(workspace: Path) -> int:
    with Store(workspace, read_only=True) as store:
        [log] = list_logs(store)
    return log.log_id


@pytest.fixture(scope="module")
def expected(workspace: Path, log_id: int) -> MonitorRun:
    with Store(workspace, read_only=True) as store:
        return monitor(store, log_id, Filter(), OPTIONS)


@pytest.fixture(scope="module")
def page(workspace: Path) -> AppTest:
    at = _run()
    return at


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """The bytes each download button serves, by its file name."""
    found: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def record(self, path_or_data, mimetype, kind, filename=None):  # type: ignore[no-untyped-def]
        if filename is not None and isinstance(path_or_data, bytes):
            found[filename] = path_or_data
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", record)
    return found


def _page() -> None:
    # AppTest.from_function runs this body as the whole script.
    from mining.ui.pages import monitoring

    monitoring.render()


def _run() -> AppTest:
    at = AppTest.from_function(_page, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert not at.error
    return at


def _widget(elements, label: str):
    return next(e for e in elements if e.label == label)


def _plain(text: str) -> str:
    return text.replace("\\", "")


def _table(at: AppTest, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _charts(at: AppTest) -> dict[str, tuple[dict, list]]:
    """Each Vega-Lite chart by its first y-axis title: its spec and the tables of its layers."""
    out = {}
    for element in at.get("vega_lite_chart"):
        spec = json.loads(element.proto.spec)
        layers = spec.get("layer", [spec])
        title = next(
            layer["encoding"]["y"]["title"]
            for layer in layers
            if layer.get("encoding", {}).get("y", {}).get("title")
        )
        out[title] = (spec, [convert_arrow_bytes_to_pandas_df(d.data.data) for d in element.proto.datasets])
    return out


def _frame(chart: tuple[dict, list], column: str):
    """The chart's table that has ``column``."""
    return next(f for f in chart[1] if column in f.columns)


def test_page_starts_on_the_documented_change_date_and_sla(page: AppTest) -> None:
    assert _widget(page.text_input, "Change date").value == CHANGE.isoformat() == "2025-07-01"
    assert _widget(page.text_input, "SLA (cycle time)").value == "5d"
    assert _widget(page.selectbox, "Case mix by").options == [
        "automatic",
        "variant",
        "priority",
        "channel",
        "category",
    ]


def test_the_page_opens_with_the_reports_summary(page: AppTest, expected: MonitorRun) -> None:
    from mining.monitor.summary import manager_summary

    sentences = manager_summary(expected).sentences
    shown = [_plain(m.value) for m in page.markdown if _plain(m.value) in sentences]
    assert shown == list(sentences)
    assert 3 <= len(shown) <= 5
    assert shown[0].startswith(
        "Since the change on 2025-07-01, the median cycle time of the completed cases fell from "
    )


def test_a_typed_change_date_is_applied_and_a_bad_one_is_a_clean_error(workspace: Path, log_id: int) -> None:
    at = _run()
    _widget(at.text_input, "Change date").set_value("2025-09-01").run()
    assert not at.exception and not at.error
    assert any(h.value == "Before and after 2025-09-01" for h in at.subheader)
    _widget(at.text_input, "Change date").set_value("1 Sept").run()
    assert not at.exception
    assert len(at.error) == 1
    assert _plain(at.error[0].value).startswith(
        "the change date '1 Sept' is not a date such as 2025-07-01 (year-month-day)"
    )


def test_the_documented_defaults_are_read_from_samples_json(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mining.ui import state

    assert state.SAMPLE_FACTS == SAMPLE_LOGS / "samples.json"
    assert state.sample_defaults("service_desk") == (dt.date(2025, 7, 1), "5d")
    assert state.sample_defaults("purchase_to_pay") == (dt.date(2025, 9, 1), "35d")
    assert state.sample_defaults("my_export") == (None, "")
    # Other facts in the file: the page starts on them.
    facts = tmp_path / "samples.json"
    facts.write_text('{"service_desk": {"change_date": "2025-04-01", "sla_days": 3}}', encoding="utf-8")
    monkeypatch.setattr(state, "SAMPLE_FACTS", facts)
    assert state.sample_defaults("order_to_cash") == (None, "")
    at = _run()
    assert _widget(at.text_input, "Change date").value == "2025-04-01"
    assert _widget(at.text_input, "SLA (cycle time)").value == "3d"
    monkeypatch.setattr(state, "SAMPLE_FACTS", tmp_path / "absent.json")
    assert state.sample_defaults("service_desk") == (None, "")


def test_before_after_cycle_time_row_is_the_library_comparison(page: AppTest, expected: MonitorRun) -> None:
    assert expected.comparison is not None
    k = expected.comparison.get("cycle_median_s")
    table = _table(page, "p-value")
    row = table[table["KPI"] == "Median cycle time"].iloc[0]
    assert row["before"] == format_value(k.before, "seconds")
    assert row["after"] == format_value(k.after, "seconds")
    assert row["direction"] == "lower"  # the sample's change shortened the queue before Investigate
    assert row["relative"] == f"{k.relative:+.1%}"
    assert row["p-value"] == format_p(k.p_value, expected.comparison.resamples) == "< 0.002"
    assert k.p_value == 0.0  # no bootstrap replicate of the difference is at or above 0
    assert row["mix-adjusted"] == "-" + format_value(-k.adjusted_difference, "seconds")
    rework = table[table["KPI"] == "Rework rate"].iloc[0]
    r = expected.comparison.get("rework_rate")
    assert (
        rework["difference"] == f"-{abs(r.difference) * 100:.1f} pp"
    )  # the caption says pp = percentage points
    assert rework["relative"] == f"{r.relative:+.1%}" and rework["relative"].endswith("%")
    assert len(table) == len(expected.comparison.kpis)
    mix = [w for w in page.warning if w.proto.icon == ":material/warning:"]
    assert [_plain(w.value) for w in mix] == list(expected.comparison.warnings)
    # The sample's priorities kept their shares: the mix is stratified by priority, and holds.
    assert expected.comparison.mix.by == "priority" and not expected.comparison.mix.shifted
    assert any(_plain(c.value) == expected.comparison.mix.note for c in page.caption)


def test_kpi_charts_have_one_point_per_period_and_the_change_rule(
    page: AppTest, expected: MonitorRun
) -> None:
    charts = _charts(page)
    spec = charts["Work in progress (cases)"][0]
    frame = _frame(charts["Work in progress (cases)"], "kpi")
    periods = expected.series.periods
    assert len(frame) == len(periods) == 54
    assert list(frame["period"]) == [p.start.isoformat() for p in periods]
    assert list(frame["value"]) == [p.wip_end for p in periods]
    rule = spec["layer"][1]
    assert rule["mark"]["type"] == "rule"
    # The sample writes Amsterdam's offsets (+01:00/+02:00): its weeks are read in CET, which keeps them.
    assert spec["layer"][0]["encoding"]["x"]["title"] == "Week starting (CET)"
    cycle = _frame(charts["Cycle time (days)"], "kpi")
    assert len(cycle) == 3 * len(periods)  # median, p90 and Kaplan-Meier median


def test_alerts_shown_are_the_library_alerts(page: AppTest, expected: MonitorRun) -> None:
    # Weekly, the new phase has its own limits by now and nothing fires; the page says so.
    shown = [_plain(w.value) for w in page.warning if w.proto.icon == ALERT_ICON]
    assert shown == [a.sentence for a in expected.alerts] == []
    assert [s.value for s in page.success] == [
        "No alert: no rule fired on the newest judged period of any chart."
    ]


def test_report_download_is_the_library_report(
    workspace: Path, expected: MonitorRun, served: dict[str, bytes], tmp_path: Path
) -> None:
    at = _run()
    [button] = at.get("download_button")
    assert button.label == "Download the report (HTML)"
    data = served["service_desk-monitoring.html"]
    assert data == write_report(expected, tmp_path / "report.html").read_bytes()
    assert data.startswith(b"<!DOCTYPE html>")
    assert expected.key.encode() in data

    # The same bytes as `mining monitor --report`, run on a copy (the CLI records the run).
    from click.testing import CliRunner

    from mining.cli import cli

    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(workspace, copy)
    out = tmp_path / "cli.html"
    args = ["--workspace", str(copy), "monitor", "service_desk", "--change-date", CHANGE.isoformat()]
    result = CliRunner().invoke(cli, [*args, "--sla", "5d", "--report", str(out)])
    assert result.exit_code == 0, result.output  # no alert: the new phase has limits of its own
    assert out.read_bytes() == data


def test_maps_before_and_after_share_one_layout(page: AppTest, workspace: Path, log_id: int) -> None:
    with Store(workspace, read_only=True) as store:
        maps = compare_maps(store, log_id, CHANGE)
    assert not page.get("bidi_component")  # drawn when their expander is opened
    at = _run()
    at.session_state["mon-maps"] = True  # a click on the expander
    at.run()
    assert not at.exception and not at.error
    # Drawn as the Process map draws its map (its component), one drawing per side.
    before, after = (json.loads(c.proto.json) for c in at.get("bidi_component"))
    assert (before["label"], after["label"]) == ("Map before", "Map after")
    assert not before["clickable"] and not after["clickable"]

    def layout(d: dict) -> tuple[list, list]:
        return [(n["id"], n["name"], n["x"], n["y"]) for n in d["nodes"]], [
            (e["source"], e["target"], e["path"]) for e in d["edges"]
        ]

    assert layout(before) == layout(after)  # every box and path at the same place
    assert {n["name"] for n in before["nodes"] if n["kind"] == "activity"} == set(maps.activities)
    for drawing, graph, other in ((before, maps.before, maps.after), (after, maps.after, maps.before)):
        names = {n["id"]: n["name"] for n in drawing["nodes"]}
        inner = {
            (names[e["source"]], names[e["target"]]): e
            for e in drawing["edges"]
            if e["source"] not in ("start", "end") and e["target"] not in ("start", "end")
        }
        assert set(inner) == set(maps.edges)
        counts = {(e.source, e.target): e.count for e in graph.edges}
        others = {(e.source, e.target) for e in other.edges}
        # Its own figures; faint and blank what only the other side has; orange what only this side has.
        assert {p: e["label"] for p, e in inner.items() if p in counts} == {
            p: f"{n:,}" for p, n in counts.items()
        }
        ghosts = {p for p, e in inner.items() if e["colour"] == GHOST}
        assert ghosts == set(maps.edges) - set(counts) and all(inner[p]["label"] == "" for p in ghosts)
        assert {p for p, e in inner.items() if e["colour"] == DEVIATION} == set(counts) - others
        boxes = {n["name"]: n for n in drawing["nodes"] if n["kind"] == "activity"}
        assert {a: b["metric"] for a, b in boxes.items() if a in graph.activities} == {
            a: f"{n:,}" for a, n in graph.activities.items()
        }
        assert {a for a, b in boxes.items() if b["metric"] == "none"} == set(maps.activities) - set(
            graph.activities
        )
    gone = set(maps.edges) - {(e.source, e.target) for e in maps.after.edges}
    new = set(maps.edges) - {(e.source, e.target) for e in maps.before.edges}
    assert gone or new  # some path exists on one side only: the maps show a difference
    assert any(_plain(c.value).startswith("Both maps on one layout") for c in at.caption)


def test_control_chart_marks_the_points_where_rules_fired(page: AppTest, expected: MonitorRun) -> None:
    at = page
    _widget(at.selectbox, "KPI").set_value("cycle_median_s").run()
    assert not at.exception
    kc = next(c for c in expected.charts if c.kpi == "cycle_median_s")
    frame = _frame(_charts(at)["Median cycle time (days)"], "rules")
    assert len(frame) == len(expected.series.periods)
    fired = sorted({s.index for s in kc.chart.signals})
    assert [i for i, r in enumerate(frame["rules"]) if r] == fired
    assert list(frame["ucl"].round(6)) == [None if u is None else round(u / 86400, 6) for u in kc.chart.ucl]
    signals = _table(at, "what")
    assert list(signals["what"]) == [s.description for s in kc.chart.signals]
    assert len(signals) > 0


def test_lean_view_shows_the_main_variant_and_the_waste(page: AppTest, expected: MonitorRun) -> None:
    view = expected.lean
    assert view is not None
    steps = _frame(_charts(page)["Step of the main variant"], "part")
    assert len(steps) == 2 * len(view.steps) == 14  # waiting and processing per step
    waste = _table(page, "how")
    assert list(waste["waste"]) == [w.kind for w in view.wastes]
    assert list(waste["cases"]) == [w.cases for w in view.wastes]
    # Times in words, not thousands of hours: in all and per case.
    assert list(waste["time"]) == [waste_words(w)[0] for w in view.wastes]
    assert list(waste["per case"]) == [waste_words(w)[1] for w in view.wastes]
    assert all(t.endswith(("days", "hours", "minutes")) for t in waste["time"])
    # Unpriced waste has no cost column (it read "None" on every row).
    assert ("cost" in waste.columns) == view.costed
    spec = _charts(page)["Waste"][0]
    largest = max(w.hours for w in view.wastes if w.hours is not None)
    unit = "days" if largest >= 48 else "hours"
    assert spec["encoding"]["x"]["title"] == f"Time over all kept cases ({unit})"


def test_monthly_periods_follow_the_library(workspace: Path, log_id: int) -> None:
    with Store(workspace, read_only=True) as store:
        monthly = monitor(
            store, log_id, Filter(), MonitorOptions(period="month", change_date=CHANGE, sla_seconds=5 * 86400)
        )
    at = _run()
    _widget(at.selectbox, "Period").set_value("month").run()
    assert not at.exception
    frame = _frame(_charts(at)["Work in progress (cases)"], "kpi")
    assert len(frame) == len(monthly.series.periods) == 13
    shown = [_plain(w.value) for w in at.warning if w.proto.icon == ALERT_ICON]
    assert shown == [a.sentence for a in monthly.alerts]
    assert len(shown) == 1 and shown[0].startswith("Median cycle time in November 2025 is better than usual")


def test_a_bad_sla_shows_one_clean_error(workspace: Path) -> None:
    at = _run()
    _widget(at.text_input, "SLA (cycle time)").set_value("five days").run()
    assert not at.exception
    assert len(at.error) == 1
    assert _plain(at.error[0].value).startswith("SLA 'five days' is not a duration; expected e.g. 5d, 36h")
    assert not at.get("vega_lite_chart")


def test_stratify_by_an_attribute_and_no_change_date(workspace: Path, log_id: int) -> None:
    options = MonitorOptions(period="week", change_date=CHANGE, sla_seconds=5 * 86400.0, stratify="variant")
    with Store(workspace, read_only=True) as store:
        by_variant = monitor(store, log_id, Filter(), options)
    at = _run()
    _widget(at.selectbox, "Case mix by").set_value("variant").run()
    assert not at.exception and not at.error
    assert by_variant.comparison is not None
    k = by_variant.comparison.get("cycle_median_s")
    table = _table(at, "p-value")
    row = table[table["KPI"] == "Median cycle time"].iloc[0]
    assert row["mix-adjusted"] == "-" + format_value(-k.adjusted_difference, "seconds")
    assert by_variant.comparison.mix.by == "variant"
    # By variant, rework is fixed by the stratum: the adjustment does not apply, and the page says why.
    rework = table[table["KPI"] == "Rework rate"].iloc[0]
    assert rework["mix-adjusted"] == "does not apply"
    assert any("The mix adjustment does not apply to rework rate" in _plain(c.value) for c in at.caption)

    _widget(at.text_input, "Change date").set_value("").run()
    assert not at.exception and not at.error
    assert not any("p-value" in d.value.columns for d in at.dataframe)
    assert not at.get("bidi_component")
    assert "layer" not in _charts(at)["Work in progress (cases)"][0]  # no change-date rule to draw


def test_placeholder_dates_open_the_page_on_the_datas_range_and_say_what_was_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Four weeks of cases, and three events on SAP's "open" date, the year 1 and the epoch: the page
    # opens, lays out those weeks only (the last case ends on Monday 29th: five) and says what it left out.
    path = tmp_path / "sentinels.csv"
    start = dt.datetime(2024, 1, 1, 9, tzinfo=dt.UTC)
    lines = ["case_id,activity,timestamp"]
    for i in range(56):
        t = start + dt.timedelta(hours=12 * i)
        lines += [f"c{i:03d},A,{t.isoformat()}", f"c{i:03d},Z,{(t + dt.timedelta(hours=5)).isoformat()}"]
    lines += ["c000,Z,9999-12-31T00:00:00+00:00", "c001,A,0001-01-01T00:00:00+00:00"]
    lines += ["c002,Z,1970-01-01T00:00:00+00:00"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ws = tmp_path / "ws.duckdb"
    with Store(ws) as store:
        log = ingest_file(store, path).log_id
        run = monitor(store, log, Filter(), MonitorOptions(period="week"))
    assert (run.series.left_out, run.series.left_out_events, len(run.series.periods)) == (3, 3, 5)
    monkeypatch.setenv("MINING_WORKSPACE", str(ws))
    at = _run()
    summary = [_plain(m.value) for m in at.markdown]
    assert "3 events with placeholder or stray dates were left out with their 3 cases." in " ".join(summary)
    frame = _frame(_charts(at)["Work in progress (cases)"], "kpi")
    assert len(frame) == len(run.series.periods) == 5


def test_a_country_marks_the_holiday_weeks_as_the_library_does(workspace: Path, log_id: int) -> None:
    options = dataclasses.replace(OPTIONS, calendar=Calendar(timezone=None, country="NL"))
    with Store(workspace, read_only=True) as store:
        dutch = monitor(store, log_id, Filter(), options)
    holiday_weeks = [p for p in dutch.series.periods if p.holidays]
    assert len(holiday_weeks) >= 3  # Easter, King's Day, Ascension, Whit Monday, Christmas in 2025
    at = _run()
    assert not any(title.startswith("Business cycle time") for title in _charts(at))
    assert not any("with public holidays" in c.value for c in at.caption)
    _widget(at.text_input, "Public holidays of").set_value("nl").run()
    assert not at.exception and not at.error
    assert not any("holidays" in d.value.columns for d in at.dataframe)  # the table waits to be opened
    at.session_state["mon-periods-open"] = True  # a click on "KPIs per period"
    at.run()
    table = _table(at, "holidays")
    assert list(table["holidays"]) == ["; ".join(p.holidays) for p in reversed(dutch.series.periods)]
    assert list(table["working days"]) == [p.working_days for p in reversed(dutch.series.periods)]
    newest = holiday_weeks[-1]
    caption = next(_plain(c.value) for c in at.caption if "with public holidays" in c.value)
    assert caption.startswith("Weeks with public holidays, judged against their working days: ")
    assert f"week of {newest.start.isoformat()} ({', '.join(newest.holidays)})" in caption
    # The business cycle time of the calendar is drawn too, as `mining monitor --country NL` has it.
    assert any(title.startswith("Business cycle time") for title in _charts(at))
    shown = [_plain(w.value) for w in at.warning if w.proto.icon == ALERT_ICON]
    assert shown == [a.sentence for a in dutch.alerts]
    # A code with no holiday list is one clean error naming it.
    _widget(at.text_input, "Public holidays of").set_value("XX").run()
    assert not at.exception
    assert len(at.error) == 1 and "no holiday list for country 'XX'" in _plain(at.error[0].value)


def test_end_activities_are_chosen_by_how_often_each_ends_its_cases(tmp_path: Path) -> None:
    # Sepsis learned 12 end activities, lab tests among them, and the page offered no way to say which.
    with app_workspace(tmp_path, SAMPLE_LOGS / "order_to_cash.csv") as path:
        with Store(path, read_only=True) as store:
            [log] = list_logs(store)
            learned = monitor(store, log.log_id, Filter(), MonitorOptions(period="week"))
            picked = ("Deliver", "Refund", "Cancel order")
            chosen = monitor(
                store, log.log_id, Filter(), MonitorOptions(period="week", end_activities=picked)
            )
        at = _run()
        box = _widget(at.multiselect, "End activities")
        assert box.value == []
        assert box.options[:5] == [
            "Deliver (ends 2,171 of its 2,425 cases)",
            "Refund (ends 141 of its 141 cases)",
            "Invoice (ends 109 of its 2,425 cases)",
            "Cancel order (ends 75 of its 75 cases)",
            "Payment received (ends 4 of its 2,425 cases)",
        ]
        c = learned.series.completeness
        assert c.end_activities == ("Deliver", "Refund", "Invoice", "Cancel order")
        assert any(
            f"({c.complete:,} complete, {c.open:,} open, {c.stalled:,} stalled)" in _plain(t.value)
            and "end activities (learned; choose them above): Deliver, Refund, Invoice, Cancel order"
            in _plain(t.value)
            for t in at.caption
        )

        box.set_value(list(picked)).run()
        assert not at.exception and not at.error
        c = chosen.series.completeness
        # The 109 cases that stop at Invoice are no longer complete.
        assert c.complete == learned.series.completeness.complete - 109
        assert any(
            f"({c.complete:,} complete, {c.open:,} open, {c.stalled:,} stalled)" in _plain(t.value)
            and "end activities (chosen): Deliver, Refund, Cancel order" in _plain(t.value)
            for t in at.caption
        )
