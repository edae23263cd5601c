"""The Explore pages (Overview, Process map, Variants, Bottlenecks) and the filter bar, by AppTest.

One workspace with the sample service-desk log is built per module; the
expected numbers come from the library itself, run on the same workspace.
Each page is a function page, run through ``AppTest.from_function``.
"""

from __future__ import annotations

import json
import re
import statistics
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("streamlit", reason="the app is an optional extra: pip install '.[app]'")

from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

from mining.analysis.attributes import attribute_summaries
from mining.analysis.dfg import dfg
from mining.analysis.heatmaps import load_heatmap
from mining.analysis.performance import activity_times
from mining.analysis.simplify import simplified_dfg
from mining.analysis.summary import resource_table
from mining.analysis.throughput import throughput
from mining.analysis.variants import variants
from mining.catalog import list_logs
from mining.durations import format_duration
from mining.ingest import IngestOptions, ingest_file
from mining.store import Store
from mining.ui.charts import dfg_dot, dot_quote
from mining.ui.pages.bottlenecks import HEATMAP_TABS
from mining.ui.pages.overview import TABLE_TABS
from tests.conftest import FILES, SAMPLE_LOGS, app_workspace

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
SAMPLE = SAMPLE_LOGS / "service_desk.csv"
TIMEOUT = 60
PAGES = ["overview", "process_map", "variants", "bottlenecks"]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with app_workspace(tmp_path_factory.mktemp("explore"), SAMPLE) as path:
        yield path


@pytest.fixture(scope="module")
def log_id(workspace: Path) -> int:
    with Store(workspace, read_only=True) as store:
        [log] = list_logs(store)
    return log.log_id


def _page(name: str) -> None:
    # AppTest.from_function runs this body as the whole script.
    import importlib

    importlib.import_module(f"mining.ui.pages.{name}").render()


def _run(name: str) -> AppTest:
    at = AppTest.from_function(_page, args=(name,), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert not at.error
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _widget(elements, label: str):
    return next(e for e in elements if e.label == label)


def _chips(at: AppTest) -> list[str]:
    # Chips are markdown-escaped (``without\\: …``); compare the text a reader sees.
    return [c.value.replace("\\", "") for c in at.sidebar.caption]


def _dot(at: AppTest) -> str:
    [chart] = at.get("graphviz_chart")
    return chart.proto.spec


def _nodes(dot: str) -> set[str]:
    return set(re.findall(r"^\s+(a\w+) \[label=", dot, flags=re.MULTILINE))


def _chart_data(element) -> tuple[dict, object]:
    spec = json.loads(element.proto.spec)
    [dataset] = element.proto.datasets
    return spec, convert_arrow_bytes_to_pandas_df(dataset.data.data)


@pytest.mark.parametrize("name", PAGES)
def test_each_explore_page_runs(workspace: Path, name: str) -> None:
    at = _run(name)
    assert at.title[0].value
    assert "No filters: every case is kept." in [c.value for c in at.sidebar.caption]


def test_app_lists_the_explore_pages(workspace: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert _metrics(at)["Cases"] == "2,400"  # the default Logs page still opens


def test_overview_shows_the_sample_counts(workspace: Path, log_id: int) -> None:
    with Store(workspace, read_only=True) as store:
        [log] = list_logs(store)
    at = _run("overview")
    shown = _metrics(at)
    assert (shown["Cases"], shown["Events"], shown["Activities"], shown["Variants"]) == (
        f"{log.cases:,}",
        f"{log.events:,}",
        f"{log.activities:,}",
        f"{log.variants:,}",
    )
    assert (log.cases, log.events, log.activities, log.variants) == (2400, 16649, 10, 62)
    assert shown["Median case duration"].endswith(" days")
    with Store(workspace, read_only=True) as store:
        weeks = [p.completed for p in throughput(store, log_id, fit=True).periods]
    # a steady sample: most weeks complete cases, so the median is shown (the average only when it is 0)
    assert shown["Completed per week (median)"] == f"{statistics.median(weeks):,.1f}" != "0.0"
    # The histogram and the weekly chart, with units in their axis titles.
    titles = [json.loads(c.proto.spec)["encoding"]["x"]["title"] for c in at.get("vega_lite_chart")]
    assert titles[0] == "Case duration (days)"
    assert "Week starting" in titles[1]


def test_overview_draws_the_table_of_its_open_tab_only(workspace: Path, log_id: int) -> None:
    with Store(workspace, read_only=True) as store:
        resources = resource_table(store, log_id)
        attributes = attribute_summaries(store, log_id)
    at = _run("overview")
    [table] = [d.value for d in at.dataframe if "median waiting before" in d.value.columns]
    assert len(table) == 10  # the activities
    assert not any("resource" in d.value.columns or "attribute" in d.value.columns for d in at.dataframe)
    at.session_state["ov-table"] = TABLE_TABS[1]  # a click on the tab
    at.run()
    assert not at.exception and not at.error
    [table] = [d.value for d in at.dataframe if "resource" in d.value.columns]
    assert list(table["resource"]) == [r.resource for r in resources]
    assert not any("median waiting before" in d.value.columns for d in at.dataframe)
    at.session_state["ov-table"] = TABLE_TABS[2]
    at.run()
    assert not at.exception and not at.error
    [table] = [d.value for d in at.dataframe if "attribute" in d.value.columns]
    assert list(table["attribute"]) == [a.name for a in attributes]


def test_process_map_defaults_slider_and_the_figures_of_a_picked_activity(
    workspace: Path, log_id: int
) -> None:
    from mining.analysis.details import activity_detail, path_detail
    from mining.ui.pages.process_map import DEFAULT_ACTIVITIES

    at = _run("process_map")
    assert _widget(at.slider, "Activities").value == min(10, DEFAULT_ACTIVITIES) == 10
    pick = _widget(at.selectbox, "Click a box or a path on the map, or pick one here")
    with Store(workspace, read_only=True) as store:
        expected = simplified_dfg(
            store, log_id, activities=1.0, paths=_widget(at.slider, "Paths (%)").value / 100
        )
        detail = activity_detail(store, log_id, None, "Triage")
        path = path_detail(store, log_id, None, "Ticket created", "Send acknowledgement")
    assert pick.options[1:11] == list(expected.activities)
    assert len(pick.options) == 1 + len(expected.activities) + len(expected.edges)
    pick.set_value("Triage").run()
    assert not at.exception
    shown = _metrics(at)
    assert (
        (shown["Events"], shown["Cases"]) == (f"{detail.events:,}", f"{detail.cases:,}") == ("2,320", "2,320")
    )
    assert shown["Processing, median / p90"] == (
        f"{format_duration(detail.processing_median)} / {format_duration(detail.processing_p90)}"
    )
    _widget(at.selectbox, "Click a box or a path on the map, or pick one here").set_value(
        "Ticket created → Send acknowledgement"
    ).run()
    shown = _metrics(at)
    assert shown["Times"] == f"{path.count:,}" and int(shown["Cases"].replace(",", "")) == path.cases > 0
    # The button keeps the cases that take the path: the filter bar's follower is set to it.
    at.button(key="map-keep").click().run()
    assert not at.exception
    assert ":material/filter_alt: Ticket created directly followed by Send acknowledgement" in _chips(at)

    _widget(at.slider, "Activities").set_value(3).run()
    assert not at.exception
    assert len(_widget(at.selectbox, "Click a box or a path on the map, or pick one here").options) < len(
        pick.options
    )
    at.radio(key="map-mode").set_value("Performance").run()
    assert not at.exception


def test_the_map_layout_is_readable_and_shows_names_as_typed() -> None:
    from mining.analysis.dfg import DFG, Edge
    from mining.ui.mapdraw import MAX_LINES, draw_map, wrap_name

    long = "Send reminder to the customer about the missing documents and the overdue invoice"
    graph = DFG(
        edges=(
            Edge("&lt;b&gt;", long, 3, 3, 60.0, 60.0, 90.0),
            Edge(long, "&lt;b&gt;", 1, 1, 7200.0, 7200.0, 7200.0),
        ),
        start={"&lt;b&gt;": 3},
        end={long: 3},
        activities={"&lt;b&gt;": 4, long: 4},
        cases=3,
        events=8,
    )
    drawing = draw_map(graph)
    names = {n.name: n for n in drawing.nodes}
    assert names["&lt;b&gt;"].lines == ("&lt;b&gt;",)  # the text as typed: the view sets it as textContent
    assert len(names[long].lines) == MAX_LINES and names[long].lines[-1].endswith("…")
    assert names[long].tooltip.startswith(long)
    assert wrap_name(long)[0] == "Send reminder to the"
    # Boxes do not overlap, and the start sits above both activities, the end below.
    boxes = [n for n in drawing.nodes if n.kind == "activity"]
    a, b = boxes
    assert abs(a.y - b.y) >= (a.h + b.h) / 2 or abs(a.x - b.x) >= (a.w + b.w) / 2
    assert names["start"].y < min(a.y, b.y) and names["end"].y > max(a.y, b.y)
    perf = draw_map(graph, performance=True, box_times={"&lt;b&gt;": 3600.0, long: None})
    labels = {e.label for e in perf.edges if not e.dashed}
    assert labels == {"1m 00s", "2h 00m"}
    assert {n.metric for n in perf.nodes if n.kind == "activity"} == {"median 1h 00m", "median -"}


def test_a_pair_of_maps_shares_one_layout_and_marks_what_one_side_lacks() -> None:
    from mining.analysis.dfg import DFG, Edge
    from mining.ui.mapdraw import DEVIATION, GHOST, draw_pair

    before = DFG(
        edges=(Edge("A", "B", 5, 5, 60.0, 60.0, 90.0), Edge("B", "B", 2, 2, 10.0, 10.0, 10.0)),
        start={"A": 5},
        end={"B": 5},
        activities={"A": 5, "B": 7},
        cases=5,
        events=12,
    )
    after = DFG(
        edges=(
            Edge("A", "&lt;C&gt;", 3, 3, 30.0, 30.0, 30.0),
            Edge("&lt;C&gt;", "B", 3, 3, 30.0, 30.0, 30.0),
        ),
        start={"A": 3},
        end={"B": 3},
        activities={"A": 3, "&lt;C&gt;": 3, "B": 3},
        cases=3,
        events=9,
    )
    left, right = draw_pair(before, after, ("before", "after"))
    assert [(n.name, n.x, n.y) for n in left.nodes] == [(n.name, n.x, n.y) for n in right.nodes]
    assert [e.path for e in left.edges] == [e.path for e in right.edges]
    boxes = [
        {n.name: (n.metric, n.stroke, n.text) for n in d.nodes if n.kind == "activity"} for d in (left, right)
    ]
    assert boxes[0]["&lt;C&gt;"] == ("none", GHOST, GHOST)  # the name as typed, faint, no figure
    assert boxes[1]["&lt;C&gt;"][:2] == ("3", DEVIATION)  # only after the change
    assert boxes[0]["B"][0] == "7" and boxes[1]["B"][0] == "3"
    names = {n.id: n.name for n in left.nodes}

    def paths(d):
        return {(names[e.source], names[e.target]): (e.label, e.colour) for e in d.edges}

    assert paths(left)[("B", "B")] == ("2", DEVIATION) and paths(right)[("B", "B")] == ("", GHOST)
    assert paths(left)[("A", "&lt;C&gt;")] == ("", GHOST) and paths(right)[("A", "&lt;C&gt;")][0] == "3"
    assert paths(left)[("A", "B")][0] == "5" and paths(right)[("A", "B")] == ("", GHOST)
    tip = next(e.tooltip for e in right.edges if (names[e.source], names[e.target]) == ("A", "B"))
    assert tip == "A → B\nnot after; 5 before"
    # One scale for both: the thickest path is the larger count of either side.
    widths = {(names[e.source], names[e.target]): e.width for e in left.edges if e.label}
    assert widths[("A", "B")] == 6.2 and widths[("B", "B")] == 3.2


def test_dot_labels_are_escaped() -> None:
    from mining.analysis.dfg import DFG, Edge

    nasty = 'say "hi"\\n\nnext'
    graph = DFG(
        edges=(Edge(nasty, "B", 2, 2, 60.0, 60.0, 60.0),),
        start={nasty: 2},
        end={"B": 2},
        activities={nasty: 2, "B": 2},
        cases=2,
        events=4,
    )
    dot = dfg_dot(graph)
    assert dot_quote(nasty) == '"say \\"hi\\"\\\\n\\nnext"'
    assert 'label="say \\"hi\\"\\\\n\\nnext\\n2"' in dot
    assert "\nnext" not in dot  # the raw newline never reaches the DOT source


def test_variants_table_matches_the_library(workspace: Path, log_id: int) -> None:
    with Store(workspace, read_only=True) as store:
        expected = variants(store, log_id)
    at = _run("variants")
    table = at.dataframe[0].value
    assert len(table) == expected.total_variants == 62
    top = expected.variants[0]
    assert table["cases"].iloc[0] == top.cases == 959
    assert table["sequence"].iloc[0] == " → ".join(top.activities)
    # Drill-down: the first variant's cases, then the first case's events.
    cases = at.dataframe[1].value
    assert len(cases) == min(top.cases, 200)
    events = at.dataframe[-1].value
    assert list(events["activity"]) == list(top.activities)
    # Durations in words, times in the log's zone, and the case's attributes above its events.
    assert cases["duration"].iloc[0].count("d ") + cases["duration"].iloc[0].count("h ") == 1
    attributes = at.dataframe[2].value
    assert set(attributes["attribute"]) == {"priority", "channel", "category"}
    assert "lifecycle" not in events.columns  # no event has one

    at.selectbox(key=f"variants-variant-{log_id}").set_value(2).run()
    assert not at.exception
    assert list(at.dataframe[-1].value["activity"]) == list(expected.variants[1].activities)


def test_bottlenecks_load_heatmap_and_waiting_table(workspace: Path, log_id: int) -> None:
    with Store(workspace, read_only=True) as store:
        load = load_heatmap(store, log_id)
        times = activity_times(store, log_id)
    at = _run("bottlenecks")
    # The weekday-hour heatmap and the rework tables draw when their tab and expander are opened.
    at.session_state["bn-heatmap"] = HEATMAP_TABS[1]
    at.session_state["bn-rework-details"] = True
    at.run()
    assert not at.exception and not at.error
    charts = {json.loads(c.proto.spec)["encoding"]["y"].get("title"): c for c in at.get("vega_lite_chart")}
    spec, frame = _chart_data(charts["Activity"])
    assert spec["mark"]["type"] == "rect"
    assert frame["column"].nunique() == len(load.columns) == 168
    assert set(frame["row"]) == set(load.rows)
    waiting = at.dataframe[0].value
    assert set(waiting["activity"]) == {a.activity for a in times.activities}
    assert len(waiting) == 10
    assert at.dataframe[3].value["count"].iloc[0] > 0  # ping-pong pairs


def test_top_one_variant_filter_keeps_only_its_cases(workspace: Path, log_id: int) -> None:
    with Store(workspace, read_only=True) as store:
        top = variants(store, log_id, top=1).variants[0]
        full = dfg(store, log_id)
    at = _run("overview")
    at.sidebar.radio(key=f"flt-{log_id}-vmode").set_value("top k").run()
    _widget(at.sidebar.slider, "Top variants").set_value(1).run()
    assert not at.exception
    shown = _metrics(at)
    assert shown["Cases"] == f"{top.cases:,}"
    assert shown["Variants"] == "1"
    assert any("top 1 variants" in c for c in _chips(at))
    assert full.cases == 2400


def test_removing_an_activity_projects_it_away_on_every_measure(workspace: Path, log_id: int) -> None:
    at = _run("process_map")
    # A closed panel of the bar draws no widgets: the value is given as the Process map's buttons give it.
    at.session_state[f"flt-{log_id}-remove"] = ["Send acknowledgement"]
    at.run()
    assert not at.exception
    options = _widget(at.selectbox, "Click a box or a path on the map, or pick one here").options
    assert "Send acknowledgement" not in options
    assert not [o for o in options if "Send acknowledgement" in o]
    assert _widget(at.slider, "Activities").value == 9
    assert any("without: Send acknowledgement" in c for c in _chips(at))


def test_an_expander_opened_by_a_filter_stays_open_when_its_last_value_is_cleared(
    workspace: Path, log_id: int
) -> None:
    # Streamlit applies a changed ``expanded`` to an expander on screen: following the filters would fold
    # the panel away under the user just as they clear one value to pick another.
    def paths_open(at: AppTest) -> bool:
        [panel] = [e for e in at.sidebar.expander if e.label == "Activities and paths"]
        return panel.proto.expanded

    at = _run("overview")
    assert not paths_open(at)
    # Its widgets are drawn only once it is open: the value comes as the Process map's buttons give it.
    at.session_state[f"flt-{log_id}-starts"] = ["Ticket created"]
    at.run()
    assert paths_open(at)
    at.sidebar.multiselect(key=f"flt-{log_id}-starts").set_value([]).run()
    assert paths_open(at)
    at.sidebar.button(key=f"reset-{log_id}").click().run()
    assert not at.exception
    assert paths_open(at)
    assert any("No filters" in c.value for c in at.sidebar.caption)


def test_time_window_keeps_the_cases_started_in_it(workspace: Path, log_id: int) -> None:
    import datetime as dt

    from mining.analysis.durations import case_durations
    from mining.analysis.filters import Filter

    start = dt.datetime(2025, 7, 1, tzinfo=dt.UTC)
    with Store(workspace, read_only=True) as store:
        expected = case_durations(store, log_id, Filter(start=start, window="started")).count
    at = _run("overview")
    _widget(at.sidebar.selectbox, "Cases that").set_value("started").run()
    _widget(at.sidebar.date_input, "From").set_value(start.date()).run()
    assert not at.exception
    assert 0 < expected < 2400
    assert _metrics(at)["Cases"] == f"{expected:,}"
    assert any("started 2025-07-01" in c for c in _chips(at)), _chips(at)
    # The time span is the kept cases', not the whole log's.
    from mining.ui.pages import span_text

    with Store(workspace, read_only=True) as store:
        first, last = store.query(
            "SELECT min(start_ts), max(end_ts) FROM cases WHERE log_id = $log AND start_ts >= $t",
            {"log": log_id, "t": start},
        ).rows[0]
        [log] = list_logs(store)
    assert first >= start > log.start
    assert _metrics(at)["Time span"] == span_text(first, last) != span_text(log.start, log.end)
    # In the log's zone (the sample writes +01:00/+02:00: CET), as the events are shown; DuckDB's own
    # reading of the zone says what the wall clock was.
    assert log.timezone == "CET"
    with Store(workspace, read_only=True) as store:
        walls = store.query(
            "SELECT strftime(timezone('CET', $a), '%Y-%m-%d %H:%M'), strftime(timezone('CET', $b), '%Y-%m-%d %H:%M')",
            {"a": first, "b": last},
        ).rows[0]
    assert f"The figures cover {walls[0]} to {walls[1]} (CET)" in " ".join(c.value for c in at.caption)


def test_the_time_window_counts_days_in_the_logs_zone_and_ignores_placeholder_dates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datetime as dt

    # Times are Amsterdam's (UTC+1 in March): c2 starts at 23:30 on 1 March, c3 at 00:30 on 2 March
    # (23:30 UTC on the 1st). c4 closes on SAP's "open" date, which must not stretch the calendar.
    rows = [
        ("c1", "a", "2024-03-01 09:00"),
        ("c1", "b", "2024-03-01 10:00"),
        ("c2", "a", "2024-03-01 23:30"),
        ("c2", "b", "2024-03-02 08:00"),
        ("c3", "a", "2024-03-02 00:30"),
        ("c3", "b", "2024-03-02 09:00"),
        ("c4", "a", "2024-03-03 09:00"),
        ("c4", "b", "9999-12-31 00:00"),
    ]
    source = tmp_path / "zoned.csv"
    source.write_text("case,activity,timestamp\n" + "".join(f"{c},{a},{t}\n" for c, a, t in rows))
    path = tmp_path / "workspace.duckdb"
    with Store(path) as store:
        ingest_file(store, source, IngestOptions(timezone="Europe/Amsterdam"))
        [log] = list_logs(store)
    monkeypatch.setenv("MINING_WORKSPACE", str(path))
    at = _run("overview")
    start = _widget(at.sidebar.date_input, "From")
    assert (start.min, start.max) == (dt.date(2024, 3, 1), dt.date(2024, 3, 3))  # not 9999-12-31
    assert any(
        "The calendar covers 2024-03-01 to 2024-03-03: 1 event dated outside it (as far out as 9999-12-31) looks like placeholder dates"
        in c.value
        for c in at.sidebar.caption
    ), [c.value for c in at.sidebar.caption]
    _widget(at.sidebar.selectbox, "Cases that").set_value("started").run()
    start.set_value(dt.date(2024, 3, 2)).run()
    assert not at.exception
    # c3 starts on 2 March in Amsterdam although it is still 1 March in UTC; c2 starts on the 1st.
    assert _metrics(at)["Cases"] == "2"
    assert any("started 2024-03-02 onwards" in c for c in _chips(at)), _chips(at)
    assert log.timezone == "Europe/Amsterdam"
    # The Overview's span ends with the last real date: c4's start, 2024-03-03 09:00 in Amsterdam.
    start.set_value(dt.date(2024, 3, 1)).run()
    assert _metrics(at)["Time span"] == "2.0 days"  # 2024-03-01 09:00 to 03-03 09:00, not to 9999
    captions = " ".join(c.value for c in at.caption)
    # In the log's zone, as the events are entered (08:00 UTC is 09:00 in Amsterdam in March).
    assert "runs from 2024-03-01 09:00 to 2024-03-03 09:00." in captions, captions
    assert "1 event dated outside that range (as far out as 9999-12-30, UTC) is left out" in captions


def test_case_durations_leave_out_cases_closed_on_a_placeholder_date(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # c4 is closed on 9999-12-31: it counted as a case lasting 2,039,177 days in the median and p90.
    path = tmp_path / "workspace.duckdb"
    with Store(path) as store:
        ingest_file(store, FILES / "app" / "placeholder_open.csv")
    monkeypatch.setenv("MINING_WORKSPACE", str(path))
    at = _run("overview")
    metrics = _metrics(at)
    # Durations of c1, c2, c3: 1 day, 3 days, 36 hours; the case itself is still counted.
    assert metrics["Cases"] == "4"
    assert metrics["Median case duration"] == "36.0 hours"
    assert metrics["p90 case duration"] == "2.7 days"
    captions = " ".join(c.value for c in at.caption)
    assert "1 case begins or ends outside it, so it is left out of the case durations." in captions
    start = AppTest.from_string(
        "from mining.ui.pages import start\nstart.render({})\n", default_timeout=TIMEOUT
    )
    start.run()
    assert not start.exception
    said = " ".join(m.value for m in start.markdown)
    assert "Half the cases take less than **36.0 hours**" in said, said
    # The Start page's time span is the robust one too: 1 March 09:00 to 4 March 10:00, not to 9999.
    assert _metrics(start)["Time span"] == "3.0 days"
    assert any("1 event dated outside the log's main range" in c.value for c in start.caption)


def _pages_of_one_session() -> None:
    # One session moving between pages, as the sidebar does: the filter bar keeps its values.
    import importlib

    import streamlit as st

    importlib.import_module(f"mining.ui.pages.{st.session_state.get('page', 'overview')}").render()


def test_the_warm_up_starts_no_measure_while_a_page_runs(workspace: Path, log_id: int) -> None:
    import threading

    from mining.analysis.filters import Filter
    from mining.ui import warmup

    with Store(workspace, read_only=True) as store:
        [log] = list_logs(store)
    started = threading.Event()
    done: list[str] = []

    def measure(name: str) -> None:
        started.set()
        done.append(name)

    with warmup.foreground():
        # A filter no other test uses, so the warm-up has not done it before.
        warmup.warm_explore(log, Filter(min_duration_s=1.5), [lambda: measure("a"), lambda: measure("b")])
        # Waiting only shows that nothing ran; a broken gate runs both measures within this time.
        assert not started.wait(1.0)
        assert done == []
    assert warmup.warm_wait(TIMEOUT)
    assert done == ["a", "b"]


def test_a_pages_own_warm_up_steps_run_after_another_page_warmed_the_same_filter(
    workspace: Path, log_id: int
) -> None:
    from mining.analysis.filters import Filter
    from mining.ui import warmup

    with Store(workspace, read_only=True) as store:
        [log] = list_logs(store)
    done: list[str] = []

    def shared() -> None:
        done.append("shared")

    def calendar_step() -> None:
        done.append("calendar")

    flt = Filter(min_duration_s=2.5)  # a filter no other test uses
    warmup.warm_explore(log, flt, [shared])
    assert warmup.warm_wait(TIMEOUT)
    warmup.warm_explore(log, flt, [shared])  # the same steps again: done already
    assert warmup.warm_wait(TIMEOUT)
    warmup.warm_explore(log, flt, [calendar_step, shared])  # a page asking for a step of its own
    assert warmup.warm_wait(TIMEOUT)
    assert done == ["shared", "calendar", "shared"]


def test_the_start_pages_warm_up_computes_each_measure_once(workspace: Path) -> None:
    from mining.analysis.filters import Filter
    from mining.ui import measures

    with Store(workspace, read_only=True) as store:
        [log] = list_logs(store)
    steps = measures.warm_steps(log, Filter(), measures.START_STEPS)
    # The filter bar's 4, 3 of the Overview's 7 (its graph, top variant, resource table and attributes
    # are the filter bar's: no filter here), the first map, the variants table and Bottlenecks' 5, then
    # the events the map's Activities slider draws from.
    assert len(steps) == 4 + 3 + 1 + 1 + 5 + 1
    names = [s.func.__name__ for s in steps]
    assert names[:7] == [
        "dfg_of",
        "resource_table_of",
        "attribute_summaries_of",
        "variants_of",
        "case_durations_of",
        "throughput_of",
        "activity_table_of",
    ]
    assert names[7:9] == ["_first_map", "variants_of"]
    assert names[-1] == "_event_order_of"


def test_a_new_filter_warms_the_other_pages_so_opening_one_computes_nothing(
    workspace: Path, log_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mining.analysis import heatmaps, performance, rework
    from mining.analysis import variants as variants_mod
    from mining.ui import warmup

    at = AppTest.from_function(_pages_of_one_session, default_timeout=TIMEOUT).run()
    at.sidebar.radio(key=f"flt-{log_id}-vmode").set_value("top k").run()
    _widget(at.sidebar.slider, "Top variants").set_value(4).run()  # a filter no other test uses
    assert not at.exception
    assert warmup.warm_wait(TIMEOUT)

    calls: list[str] = []

    def counted(module, name):
        real = getattr(module, name)

        def wrapper(*args, **kwargs):
            calls.append(name)
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, wrapper)

    counted(performance, "activity_times")
    counted(rework, "rework")
    for name in ("transition_wait_heatmap", "load_heatmap", "resource_heatmap"):
        counted(heatmaps, name)
    counted(variants_mod, "variants")

    for page in ("bottlenecks", "variants"):
        at.session_state["page"] = page
        at.run()
        assert not at.exception
        assert any("top 4 variants" in c for c in _chips(at)), _chips(at)
    assert calls == []  # every measure came from the cache the warm-up filled
    # And it was this filter's: the Variants page lists exactly the 4 kept variants.
    assert any(c.value.startswith("4 variants over") for c in at.caption), [c.value for c in at.caption]
    # Without the warm-up, the same steps with a filter nobody has seen compute when the page opens.
    monkeypatch.setattr(warmup, "warm_explore", lambda *a, **k: None)
    _widget(at.sidebar.slider, "Top variants").set_value(5).run()
    at.session_state["page"] = "bottlenecks"
    at.run()
    assert not at.exception
    assert any("top 5 variants" in c for c in _chips(at)), _chips(at)
    assert sorted(set(calls)) == [
        "activity_times",
        "load_heatmap",
        "resource_heatmap",
        "rework",
        "transition_wait_heatmap",
        "variants",
    ]


def test_a_log_of_thousands_of_distinct_activities_gets_a_clear_refusal_on_every_explore_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mining.analysis.bounds import MAX_ACTIVITIES

    n = MAX_ACTIVITIES + 1  # an id column read as the activity: every event its own "activity"
    csv = tmp_path / "ids.csv"
    csv.write_text(
        "case,activity,timestamp\n"
        + "".join(
            f"c{k // 2},ticket {k:05d},2024-01-01 {k // 3600 % 24:02d}:{k // 60 % 60:02d}:{k % 60:02d}\n"
            for k in range(n)
        ),
        encoding="utf-8",
    )
    path = tmp_path / "ids.duckdb"
    roles = {"case": "case", "activity": "activity", "timestamp": "timestamp"}
    with Store(path) as store:
        ingest_file(store, csv, IngestOptions(roles=roles))
    monkeypatch.setenv("MINING_WORKSPACE", str(path))
    for name in ("overview", "process_map", "variants", "bottlenecks"):
        at = AppTest.from_function(_page, args=(name,), default_timeout=TIMEOUT).run()
        assert not at.exception, name  # no stack trace: the page says what is wrong
        errors = " ".join(e.value for e in at.error)
        assert f"the log has {n:,} distinct activities" in errors, (name, errors)


def test_the_overviews_counts_are_grouped_in_thousands_like_its_metrics(workspace: Path) -> None:
    # The metrics say "16,649"; the activity table said "2400" for the same kind of count.
    at = _run("overview")
    [grid] = [d for d in at.dataframe if "median waiting before" in d.value.columns]
    config = json.loads(grid.proto.columns)
    assert {name for name, c in config.items() if c.get("type_config", {}).get("format") == "localized"} == {
        "events",
        "cases",
    }


def _tables() -> None:
    import pandas as pd
    import polars as pl

    from mining.ui.tables import data_table

    rows = [{"activity": "A", "events": 12345, "share": 0.5, "flag": True, "none": None}]
    data_table(rows, hide_index=True)
    data_table(pd.DataFrame({"n": [1, 2], "x": [0.5, 1.5], "s": ["a", "b"]}))
    data_table(pl.DataFrame({"n": [1, 2], "x": [0.5, 1.5]}))
    # A column the caller configured keeps its configuration.
    import streamlit as st

    data_table([{"row": 7, "events": 3}], column_config={"row": st.column_config.TextColumn(help="h")})
    # numpy's integers are whole numbers too (a conformance table's occurrences read "1850").
    import numpy as np

    data_table([{"cases": np.int64(1850), "share": np.float64(0.5)}])


def test_tables_group_whole_numbers_only() -> None:
    at = AppTest.from_function(_tables, default_timeout=TIMEOUT).run()
    assert not at.exception

    def localized(k: int) -> set[str]:
        config = json.loads(at.dataframe[k].proto.columns)
        return {n for n, c in config.items() if c.get("type_config", {}).get("format") == "localized"}

    assert [localized(k) for k in range(5)] == [{"events"}, {"n"}, {"n"}, {"events"}, {"cases"}]
    assert json.loads(at.dataframe[3].proto.columns)["row"]["help"] == "h"
    assert {d.proto.placeholder for d in at.dataframe} == {"-"}


def test_the_overview_names_its_data_quality_findings_above_the_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 'Close' written as a date alone: every case read as Close -> Open.  The finding was shown only at
    # the foot of the page, below the charts and tables it puts in doubt.
    rows = ["case,activity,timestamp"]
    for i in range(1, 21):
        rows += [f"c{i},Open,2026-01-{i:02d} 09:{i:02d}", f"c{i},Close,2026-01-{i:02d}"]
    (tmp_path / "dates.csv").write_text("\n".join(rows) + "\n")
    path = tmp_path / "workspace.duckdb"
    with Store(path) as store:
        ingest_file(store, SAMPLE)
        ingest_file(store, tmp_path / "dates.csv")  # the most recent: the pages open on it
        sample = list_logs(store)[0].name
    monkeypatch.setenv("MINING_WORKSPACE", str(path))
    at = _run("overview")
    [banner] = at.warning
    assert banner.value == (
        "1 data-quality finding may change these figures: Dates without times (20). "
        "[See what to do](#data-quality)."
    )
    # It stands above the charts: the first of the page's warnings and section titles.
    body = [e for e in at.main if e.type in ("warning", "subheader")]
    assert (body[0].type, body[1].value, body[-1].value) == ("warning", "Case durations", "Data quality")
    # The Start page says so too, and sends the reader to the Overview.
    start = AppTest.from_string(
        "from mining.ui.pages import start\nstart.render({})\n", default_timeout=TIMEOUT
    )
    start.run()
    assert not start.exception
    assert [w.value for w in start.warning] == [
        "1 data-quality finding may change these figures: Dates without times (20). The Overview says what to do."
    ]
    # The clean generated sample has no finding and no banner.
    _widget(at.sidebar.selectbox, "Log").set_value(sample).run()
    assert not at.exception and not at.warning and not at.info
    assert _metrics(at)["Cases"] == "2,400"


def test_findings_that_misplace_no_event_in_time_are_a_note_not_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Duplicates and one-event cases occur in most real exports: a warning on every log would be ignored.
    (tmp_path / "dup.csv").write_text(
        "case,activity,timestamp\n"
        "c1,Open,2026-01-01 09:00\nc1,Open,2026-01-01 09:00\nc1,Close,2026-01-02 09:00\n"
        "c2,Open,2026-01-03 09:00\n"
    )
    path = tmp_path / "workspace.duckdb"
    with Store(path) as store:
        ingest_file(store, tmp_path / "dup.csv")
        log_id = list_logs(store)[0].log_id
    monkeypatch.setenv("MINING_WORKSPACE", str(path))
    at = _run("overview")
    assert not at.warning
    assert [i.value for i in at.info] == [
        "2 data-quality findings may change these figures: Duplicate events (1), Cases with a single event (1). "
        "[See what to do](#data-quality)."
    ]
    # Under a filter the counts stay the whole log's, which the kept cases may not share: it says so.
    at.session_state[f"flt-{log_id}-starts"] = ["Open"]
    at.run()
    assert not at.exception
    assert [i.value for i in at.info] == [
        "2 data-quality findings of the whole log (counted before the filters) may change these figures: "
        "Duplicate events (1), Cases with a single event (1). [See what to do](#data-quality)."
    ]


def test_a_case_shows_its_own_attributes_apart_from_event_values_that_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Production's case view read "Case attributes: Qty_Completed: 10, End, Start", as if the case had three.
    (tmp_path / "steps.csv").write_text(
        "case,activity,timestamp,plant,step_state\n"
        "c1,Open,2026-01-01 09:00,Berlin,new\nc1,Close,2026-01-01 10:00,Berlin,done\n"
    )
    path = tmp_path / "workspace.duckdb"
    with Store(path) as store:
        ingest_file(store, tmp_path / "steps.csv")
    monkeypatch.setenv("MINING_WORKSPACE", str(path))
    at = _run("variants")
    titles = [h.value for h in at.subheader]
    assert titles.index("Case attributes") < titles.index("Event attributes that change within the case")
    own, changing = at.dataframe[2].value, at.dataframe[3].value
    assert own.to_dict("records") == [{"attribute": "plant", "value": "Berlin"}]
    assert changing.to_dict("records") == [{"attribute": "step_state", "values on its events": "done, new"}]


def test_a_log_of_start_and_complete_events_says_how_to_read_its_map_and_variants(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Production's map drew "Start → Start 225" and its variants "Start → Start → Packing → Packing"
    # without a word, while Bottlenecks paired them: the reader took them for rework.
    from mining.ui.pages import LIFECYCLE_NOTE

    rows = ["case,activity,lifecycle,timestamp"]
    for i in range(3):
        rows += [
            f"c{i},Pack,start,2026-01-0{i + 1} 09:00",
            f"c{i},Pack,complete,2026-01-0{i + 1} 10:00",
            f"c{i},Ship,start,2026-01-0{i + 1} 11:00",
            f"c{i},Ship,complete,2026-01-0{i + 1} 12:00",
        ]
    (tmp_path / "lifecycle.csv").write_text("\n".join(rows) + "\n")
    path = tmp_path / "workspace.duckdb"
    with Store(path) as store:
        summary = ingest_file(store, tmp_path / "lifecycle.csv")
        paired = ingest_file(
            store, tmp_path / "lifecycle.csv", IngestOptions(name="paired", pair_starts=True)
        )
        ingest_file(store, SAMPLE)  # the most recent: the pages open on it
    assert (summary.events, paired.events, paired.variants) == (12, 6, 1)
    assert summary.mapping.lifecycle == "lifecycle"
    monkeypatch.setenv("MINING_WORKSPACE", str(path))
    for page in ("process_map", "variants"):
        at = _run(page)
        assert LIFECYCLE_NOTE not in [c.value for c in at.caption], page  # the sample has no lifecycle
        _widget(at.sidebar.selectbox, "Log").set_value("lifecycle").run()
        assert not at.exception
        assert LIFECYCLE_NOTE in [c.value for c in at.caption], page
        # Loaded with its starts paired, the log has one step per instance and nothing to explain.
        at = _run(page)
        _widget(at.sidebar.selectbox, "Log").set_value("paired").run()
        assert not at.exception
        assert _widget(at.sidebar.selectbox, "Log").value == "paired"
        assert LIFECYCLE_NOTE not in [c.value for c in at.caption], page


def test_a_few_bulk_weeks_in_a_long_export_show_the_average_and_say_why(tmp_path: Path) -> None:
    # ServiceNow: 4,000 incidents a week closed for four months, then a trickle for seven; the median
    # week (24) said nothing of the process. Here 3 weeks close 100 cases each and 9 weeks 2 each.
    import datetime as dt

    rows = ["case,activity,timestamp"]
    monday = dt.datetime(2024, 1, 1, 9)
    n = 0
    for week in range(12):
        for _ in range(100 if week < 3 else 2):
            day = monday + dt.timedelta(weeks=week, hours=n % 40)
            rows += [
                f"c{n},Open,{day:%Y-%m-%d %H:%M}",
                f"c{n},Close,{day + dt.timedelta(hours=1):%Y-%m-%d %H:%M}",
            ]
            n += 1
    (tmp_path / "bulk.csv").write_text("\n".join(rows) + "\n")
    with app_workspace(tmp_path, tmp_path / "bulk.csv"):
        at = _run("overview")
    metric = next(m for m in at.metric if m.label.startswith("Completed per week"))
    assert (metric.label, metric.value) == ("Completed per week (average)", f"{318 / 12:,.1f}")
    assert metric.help == (
        "The weeks are very uneven: 90% of the completions fall in 3 of the 12 weeks shown, and the median "
        "week completes only 2.0; this is the average over all 12 weeks."
    )


def test_a_placeholder_date_past_the_calendars_end_in_the_logs_zone_names_itself_in_utc(
    tmp_path: Path,
) -> None:
    # 9999-12-31 23:59 UTC is past the year 9999 in CET: the filter bar's note raised OverflowError.
    rows = ["case,activity,timestamp"]
    for i in range(1, 6):
        rows += [f"c{i},Open,2024-03-0{i}T09:00:00Z", f"c{i},Close,2024-03-0{i}T17:00:00Z"]
    rows.append("c5,Archive,9999-12-31T23:59:00Z")
    (tmp_path / "far.csv").write_text("\n".join(rows) + "\n")
    with app_workspace(tmp_path, (tmp_path / "far.csv", IngestOptions(timezone="CET"))):
        at = _run("overview")
    assert any("as far out as 9999-12-31 UTC" in c.value for c in at.sidebar.caption), [
        c.value for c in at.sidebar.caption
    ]
