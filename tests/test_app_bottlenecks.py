"""The Bottlenecks page's heatmaps and working calendar, by AppTest on generated logs.

Each log is written here as a CSV and ingested into one workspace per module:
resources 1, 2 and 500, a log in Amsterdam time, and long activity names.
The expected figures come from the library run on the same workspace.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("streamlit", reason="the app is an optional extra: pip install '.[app]'")

from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

from mining.analysis.calendar import Calendar
from mining.analysis.heatmaps import Heatmap, colour_scale, load_heatmap
from mining.analysis.performance import activity_times
from mining.catalog import list_logs
from mining.ingest import IngestOptions, ingest_file
from mining.store import Store
from mining.ui.charts import LABEL_CHARS, heatmap_chart, short_labels
from mining.ui.messages import md
from mining.ui.pages.bottlenecks import HEATMAP_TABS

TIMEOUT = 60
LONG = "Approve the purchase requisition after the second review by the regional controller"


def _csv(path: Path, rows: list[tuple[str, str, str, dt.datetime]]) -> Path:
    lines = ["case,activity,resource,timestamp"]
    lines += [f"{c},{a},{r},{t:%Y-%m-%d %H:%M:%S}" for c, a, r, t in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _resources_log(n: int) -> list[tuple[str, str, str, dt.datetime]]:
    """600 cases of three activities; each case is worked by one of ``n`` resources."""
    start = dt.datetime(2024, 3, 4, 8)
    rows = []
    for c in range(600):
        t = start + dt.timedelta(hours=c)
        who = f"clerk {c % n:03d}"
        for i, a in enumerate(("Receive", "Check", "Close")):
            rows.append((f"c{c}", a, who, t + dt.timedelta(minutes=30 * i)))
    return rows


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("bottlenecks")
    path = folder / "workspace.duckdb"
    with Store(path) as store:
        for n in (1, 2, 500):
            ingest_file(store, _csv(folder / f"res{n}.csv", _resources_log(n)))
        # Every event at 09:00 or 10:00 on a Monday in Amsterdam (07:00/08:00 UTC in summer).
        monday = dt.datetime(2024, 6, 3, 9)
        rows = [
            (f"a{c}", a, "ann", monday + dt.timedelta(weeks=c, hours=i))
            for c in range(12)
            for i, a in enumerate(("Open", "Shut"))
        ]
        ingest_file(store, _csv(folder / "amsterdam.csv", rows), IngestOptions(timezone="Europe/Amsterdam"))
        names = [f"{LONG} {k}" for k in range(3)] + ["Short"]
        rows = [
            (f"l{c}", a, "bo", dt.datetime(2024, 1, 1) + dt.timedelta(days=c, hours=i))
            for c in range(20)
            for i, a in enumerate(names)
        ]
        ingest_file(store, _csv(folder / "long_names.csv", rows))
        # Two cases a week for 12 weeks wait about an hour between steps; one case waits 30 days.
        rows = []
        for c in range(24):
            t = dt.datetime(2024, 1, 1, 9) + dt.timedelta(days=3.5 * c)
            rows += [
                (f"s{c}", "Receive", "bo", t),
                (f"s{c}", "Check", "bo", t + dt.timedelta(minutes=60 + c)),
            ]
            rows += [(f"s{c}", "Close", "bo", t + dt.timedelta(minutes=180 + 2 * c))]
        t = dt.datetime(2024, 6, 3, 9)
        rows += [("stuck", "Receive", "bo", t), ("stuck", "Check", "bo", t + dt.timedelta(days=30))]
        rows += [("stuck", "Close", "bo", t + dt.timedelta(days=30, hours=2))]
        ingest_file(store, _csv(folder / "stuck.csv", rows))
        # Waits of days: three days before Approve, five before Pay.
        start = dt.datetime(2024, 2, 5, 9)
        rows = []
        for c in range(10):
            t = start + dt.timedelta(days=c)
            rows += [(f"w{c}", "Request", "bo", t), (f"w{c}", "Approve", "bo", t + dt.timedelta(days=3))]
            rows += [(f"w{c}", "Pay", "bo", t + dt.timedelta(days=8))]
        ingest_file(store, _csv(folder / "slow.csv", rows))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MINING_WORKSPACE", str(path))
        yield path


def _page() -> None:
    from mining.ui.pages import bottlenecks

    bottlenecks.render()


def _open(name: str, tab: str | None = None) -> AppTest:
    """The page on log ``name``, with the heatmap tab ``tab`` open (the first when None)."""
    at = AppTest.from_function(_page, default_timeout=TIMEOUT)
    at.session_state["mining.current_log"] = name
    at.run()
    if tab is not None:
        at.session_state["bn-heatmap"] = tab  # a click on the tab
        at.run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    return at


WEEKDAY_TAB, RESOURCE_TAB = HEATMAP_TABS[1], HEATMAP_TABS[2]


def _charts(at: AppTest) -> dict[str, tuple[dict, object]]:
    out = {}
    for element in at.get("vega_lite_chart"):
        spec = json.loads(element.proto.spec)
        [dataset] = element.proto.datasets
        out[spec["encoding"]["y"].get("title")] = (spec, convert_arrow_bytes_to_pandas_df(dataset.data.data))
    return out


def _captions(at: AppTest) -> str:
    return " ".join(c.value for c in at.caption)


@pytest.mark.parametrize(("n", "shown"), [(1, 1), (2, 2), (500, 30)])
def test_resource_heatmap_with_one_two_or_500_resources(workspace: Path, n: int, shown: int) -> None:
    at = _open(f"res{n}", RESOURCE_TAB)
    _, frame = _charts(at)["Resource"]
    assert frame["row"].nunique() == shown
    assert set(frame["column"]) == {"Receive", "Check", "Close"}
    # 600 cases over n resources: the busiest holds ceil(600 / n) cases of each activity.
    assert frame["value"].max() == -(-600 // n)
    if n == 500:
        assert "the 30 busiest of 500 resources" in _captions(at)
    else:
        assert "busiest of" not in _captions(at)


def test_weekday_and_hour_are_in_the_logs_time_zone_and_the_zone_can_be_changed(workspace: Path) -> None:
    at = _open("amsterdam", WEEKDAY_TAB)
    _, frame = _charts(at)["Activity"]
    filled = frame.dropna(subset=["value"])
    assert set(filled["column"]) == {"Mon 09", "Mon 10"}
    assert "in Europe/Amsterdam time" in _captions(at)
    next(s for s in at.selectbox if s.label == "Time zone").set_value("UTC").run()
    assert not at.exception
    _, frame = _charts(at)["Activity"]
    assert set(frame.dropna(subset=["value"])["column"]) == {"Mon 07", "Mon 08"}  # summer time, UTC+2
    assert "in UTC time" in _captions(at)


def test_every_heatmap_row_is_labelled_and_long_names_show_in_full_on_hover(workspace: Path) -> None:
    at = _open("long_names", WEEKDAY_TAB)
    spec, frame = _charts(at)["Activity"]
    full = sorted(frame["row"].unique())
    assert len(full) == 4 and LONG + " 0" in full
    labels = short_labels(full)
    assert set(frame["label"]) == set(labels)
    assert len(set(labels)) == 4  # distinct, though the three long names share 83 characters
    assert all(len(lb) <= LABEL_CHARS for lb in labels)
    assert "Short" in labels
    axis = spec["encoding"]["y"]["axis"]
    assert axis["labelLimit"] == 0 and axis["labelFontSize"] >= 11  # no label cut to "…" by the chart
    assert spec["encoding"]["y"]["field"] == "label"
    assert any(t["field"] == "row" for t in spec["encoding"]["tooltip"])


def test_every_row_of_the_times_chart_is_named_and_long_names_show_in_full_on_hover(workspace: Path) -> None:
    at = _open("long_names")
    spec, frame = next(
        v for v in _charts(at).values() if v[0]["encoding"]["x"]["title"].startswith("Median time")
    )
    full = list(dict.fromkeys(frame["activity"]))
    assert len(full) == 4 and LONG + " 0" in full
    assert list(dict.fromkeys(frame["label"])) == list(short_labels(full))
    axis = spec["encoding"]["y"]["axis"]
    assert axis["labelLimit"] == 0 and axis["labelFontSize"] >= 11  # Vega's default cut names at 180 px
    assert spec["encoding"]["y"]["field"] == "label" and spec["encoding"]["y"]["sort"] == list(
        short_labels(full)
    )
    assert any(t["field"] == "activity" for t in spec["encoding"]["tooltip"])


def test_short_labels_keep_both_ends_and_stay_distinct() -> None:
    names = [LONG + " 1", LONG + " 2", "A → " + LONG]
    labels = short_labels(names, limit=30)
    assert labels[0] != labels[1]
    assert labels[0].startswith("Approve") and labels[0].endswith("1") and "…" in labels[0]
    assert labels[2].startswith("A → ")
    assert short_labels(["same", "same"]) == ("same", "same (2)")


def _grid(values: list[float | None]) -> Heatmap:
    rows = tuple(f"r{i}" for i in range(len(values)))
    return Heatmap("median_wait", "seconds", rows, ("w1",), tuple((v,) for v in values))


def test_the_colour_scale_stops_below_far_outliers_and_names_them() -> None:
    values = [float(3600 + 60 * i) for i in range(40)] + [86_400.0 * 30, None]
    scale = colour_scale(_grid(values))
    assert scale.top == 3600 + 60 * 39
    assert scale.count == 1
    assert scale.outliers == (("r40", "w1", 86_400.0 * 30),)
    chart = heatmap_chart(_grid(values), row_title="Transition", column_title="Week", top=scale.top).to_dict()
    assert chart["encoding"]["color"]["scale"]["domain"] == [0, scale.top / 3600]
    assert chart["encoding"]["color"]["scale"]["clamp"] is True


def test_no_outliers_no_cap() -> None:
    assert colour_scale(_grid([float(i) for i in range(1, 41)])).top is None  # evenly spread
    assert colour_scale(_grid([1.0, 1000.0])).top is None  # too few cells to call one odd
    # A fat tail (a tenth of the cells) is the data's shape, not outliers: no cap, but when it reaches
    # twenty times the median cell the colours go logarithmic (BPIC 2012's user 112 made every other
    # resource the palest blue).
    fat = colour_scale(_grid([1.0] * 36 + [500.0] * 4))
    assert (fat.top, fat.log) == (None, True)
    assert colour_scale(_grid([10.0] * 36 + [150.0] * 4)).log is False  # 15 times the median
    assert colour_scale(_grid([float(i) for i in range(1, 41)])).log is False
    chart = heatmap_chart(
        _grid([1.0] * 36 + [500.0] * 4), row_title="r", column_title="c", log=True
    ).to_dict()
    assert chart["encoding"]["color"]["scale"]["type"] == "symlog"


def test_the_page_names_the_outliers_it_caps(workspace: Path) -> None:
    at = _open("stuck")
    assert "**1 cell far above the rest takes**" in _captions(at)
    # Named with the week the wait ends in, and its length.
    assert md("Receive → Check") + " in " + md("2024-07-01") + ": 30d 00h" in _captions(at)
    spec, frame = _charts(at)["Transition"]
    top = spec["encoding"]["color"]["scale"]["domain"][1]
    assert top == frame["value"].drop(frame["value"].idxmax()).max()  # the next largest cell, in hours
    # 500 resources: 100 clerks hold 2 cases of each activity, 400 hold 1; no cell is far off.
    # The 30 x 3 grid of the one-resource log has a single cell, so nothing to cap either.
    for name in ("res500", "res1"):
        for tab in HEATMAP_TABS:
            assert "far above the rest" not in _captions(_open(name, tab)), (name, tab)


def test_only_the_open_heatmap_tab_is_drawn(workspace: Path) -> None:
    titles = {"Transition", "Activity", "Resource"}
    for tab, title in zip(HEATMAP_TABS, ("Transition", "Activity", "Resource"), strict=True):
        at = _open("res2", tab)
        assert set(_charts(at)) & titles == {title}, tab
    at = _open("res2")
    assert "Ping-pong between resources (X → Y → X)" not in _captions(at)  # the rework tables wait
    at.session_state["bn-rework-details"] = True  # a click on the expander
    at.run()
    assert "Ping-pong between resources (X → Y → X)" in _captions(at)
    assert len(at.dataframe) == 4  # the times per activity, then the three rework tables


def test_the_working_calendar_set_in_the_app_gives_the_libraries_business_times(workspace: Path) -> None:
    with Store(workspace, read_only=True) as store:
        log = next(i for i in list_logs(store) if i.name == "res2")
        calendar = Calendar(timezone="UTC", country="NL", start_hour=8, end_hour=16)
        expected = activity_times(store, log.log_id, calendar=calendar)
        elapsed = activity_times(store, log.log_id)
    at = _open("res2")
    at.toggle(key="bn-business").set_value(True).run()
    at.text_input(key="bn-hours").set_value("8-16").run()
    at.selectbox(key="bn-country").set_value("NL").run()
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    # Business time reads in hours at most (a day of it is no 24 hours), in minutes when that is less.
    [column] = [c for c in table.columns if c.startswith("median wait (")]
    per = {"median wait (hours)": 3600, "median wait (minutes)": 60, "median wait (seconds)": 1}[column]
    got = {a: None if pd.isna(v) else v for a, v in zip(table["activity"], table[column], strict=True)}

    def shown(times):
        return {
            a.activity: None if a.waiting.median is None else float(f"{a.waiting.median / per:.3g}")
            for a in times
        }

    assert got == shown(expected.activities) != shown(elapsed.activities)
    assert md("Mon-Fri 08:00-16:00, NL holidays (UTC)") in _captions(at)


def test_a_wrong_working_day_is_said_in_the_page(workspace: Path) -> None:
    at = AppTest.from_function(_page, default_timeout=TIMEOUT)
    at.session_state["mining.current_log"] = "res2"
    at.run()
    at.toggle(key="bn-business").set_value(True).run()
    at.text_input(key="bn-hours").set_value("17-9").run()
    assert not at.exception
    assert any("must end after it starts" in e.value for e in at.error)
    assert at.dataframe  # the page still shows elapsed times


def test_load_heatmap_library_and_page_agree(workspace: Path) -> None:
    with Store(workspace, read_only=True) as store:
        log = next(i for i in list_logs(store) if i.name == "amsterdam")
        h = load_heatmap(store, log.log_id)
    at = _open("amsterdam", WEEKDAY_TAB)
    _, frame = _charts(at)["Activity"]
    assert h.cell("Open", "Mon 09") == 12.0
    assert frame[(frame["row"] == "Open") & (frame["column"] == "Mon 09")]["value"].iloc[0] == 12.0


def _overview() -> None:
    from mining.ui.pages import overview

    overview.render()


def test_without_start_times_no_page_shows_an_empty_processing_column(workspace: Path) -> None:
    table = _open("stuck").dataframe[0].value
    assert list(table.columns) == ["activity", "instances", "median wait (hours)", "p90 wait (hours)"]
    assert table["median wait (hours)"].notna().sum() == 2  # Check and Close; Receive opens every case
    at = AppTest.from_function(_overview, default_timeout=TIMEOUT)
    at.session_state["mining.current_log"] = "stuck"
    at.run()
    assert not at.exception and not at.error
    activities = next(d.value for d in at.dataframe if "activity" in d.value.columns)
    assert list(activities.columns) == ["activity", "events", "cases", "median waiting before"]
    assert list(activities["events"]) == [25, 25, 25]
    assert "The log records no start times" in _captions(at)


def test_waits_of_days_are_given_in_days(workspace: Path) -> None:
    # Road Traffic Fines' credit collection waited "11688" hours in the table: 487 days.
    at = _open("slow")
    table = at.dataframe[0].value
    assert list(table.columns) == ["activity", "instances", "median wait (days)", "p90 wait (days)"]
    waits = {
        a: None if pd.isna(v) else v
        for a, v in zip(table["activity"], table["median wait (days)"], strict=True)
    }
    assert waits == {"Pay": 5.0, "Approve": 3.0, "Request": None}
    [spec] = [
        spec
        for spec, _ in _charts(at).values()
        if spec["encoding"]["x"].get("title", "").startswith("Median")
    ]
    assert spec["encoding"]["x"]["title"] == "Median time per instance (days)"


def test_processing_of_minutes_beside_waits_of_days_is_given_in_minutes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # BPIC 2012's table read "median processing (days) 0" for 1m 41s, beside waits of days: each
    # column now takes the unit of its own figures.
    t0 = dt.datetime(2024, 3, 4, 9)
    lines = ["case,activity,start,end"]
    for i in range(4):
        day = t0 + dt.timedelta(days=7 * i)
        lines += [
            f"c{i},Receive,{day:%Y-%m-%d %H:%M:%S},{day:%Y-%m-%d %H:%M:%S}",
            # Three days' wait, then 12 minutes of work (plus i minutes).
            f"c{i},Fix,{day + dt.timedelta(days=3):%Y-%m-%d %H:%M:%S},"
            f"{day + dt.timedelta(days=3, minutes=12 + i):%Y-%m-%d %H:%M:%S}",
        ]
    source = tmp_path / "fix.csv"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path = tmp_path / "workspace.duckdb"
    with Store(path) as store:
        ingest_file(store, source, IngestOptions(roles={"start_timestamp": "start", "timestamp": "end"}))
    monkeypatch.setenv("MINING_WORKSPACE", str(path))
    at = _open("fix")
    table = at.dataframe[0].value
    assert list(table.columns) == [
        "activity",
        "instances",
        "median wait (days)",
        "p90 wait (days)",
        "median processing (minutes)",
        "p90 processing (minutes)",
    ]
    fix = table[table["activity"] == "Fix"].iloc[0]
    # Receive completes as it starts, so each Fix waits exactly 3 days; its work takes 12 to 15 minutes.
    assert (fix["median wait (days)"], fix["median processing (minutes)"]) == (3.0, 13.5)
