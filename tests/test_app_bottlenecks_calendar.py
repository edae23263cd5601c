"""The Bottlenecks page's count heatmaps under a working calendar: the library's figures, computed once.

The load (weekday x hour) and resource heatmaps count instances: working hours change none of the
counts, and the load's hours depend only on the zone.  So turning the calendar on, or typing other
hours, serves them from the cache; the figures stay the library's under that calendar.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("streamlit", reason="the app is an optional extra: pip install '.[app]'")

from mining.analysis import heatmaps
from mining.analysis.calendar import Calendar
from mining.analysis.filters import Filter
from mining.catalog import list_logs
from mining.ingest import IngestOptions
from mining.schema import LogInfo
from mining.store import Store
from mining.ui import measures
from tests.conftest import SAMPLE_LOGS, app_workspace


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    # Amsterdam time: the zone moves the load's hours, so a calendar in another zone must show.
    amsterdam = (SAMPLE_LOGS / "service_desk.csv", IngestOptions(timezone="Europe/Amsterdam"))
    with app_workspace(tmp_path_factory.mktemp("bottlenecks-calendar"), amsterdam) as path:
        yield path


@pytest.fixture(scope="module")
def log(workspace: Path) -> LogInfo:
    with Store(workspace, read_only=True) as store:
        [found] = list_logs(store)
    assert found.timezone == "Europe/Amsterdam"
    return found


FLT = Filter(min_duration_s=30.0)  # a filter of this module only: nothing of it is cached yet


@pytest.mark.parametrize("zone", ["Europe/Amsterdam", "America/New_York"])
def test_count_heatmaps_under_a_calendar_are_the_librarys_and_computed_once(
    workspace: Path, log: LogInfo, zone: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    nine = Calendar(timezone=zone, start_hour=9, end_hour=17, country="NL")
    eight = Calendar(timezone=zone, start_hour=8, end_hour=16)
    with Store(workspace, read_only=True) as store:
        load = heatmaps.load_heatmap(store, log.log_id, FLT, calendar=nine, limit=measures.HEATMAP_ROWS)
        people = heatmaps.resource_heatmap(
            store,
            log.log_id,
            FLT,
            calendar=nine,
            limit=measures.HEATMAP_ROWS,
            column_limit=measures.HEATMAP_ROWS,
        )
        elapsed = heatmaps.load_heatmap(store, log.log_id, FLT, timezone=zone, limit=measures.HEATMAP_ROWS)
    assert load == elapsed  # counts: the calendar's hours change none of them
    assert sum(sum(v for v in row if v is not None) for row in load.values) > 10_000
    assert measures.heatmap_of(log, FLT, "load", calendar=nine) == load
    assert measures.heatmap_of(log, FLT, "resource", calendar=nine) == people

    calls: list[str] = []
    for name in ("load_heatmap", "resource_heatmap"):
        real = getattr(heatmaps, name)
        monkeypatch.setattr(heatmaps, name, lambda *a, _r=real, _n=name, **k: calls.append(_n) or _r(*a, **k))
    # Other working hours, or none in the same zone: the same counts, from the cache.
    assert measures.heatmap_of(log, FLT, "load", calendar=eight) == load
    assert measures.heatmap_of(log, FLT, "load", timezone=zone) == load
    assert measures.heatmap_of(log, FLT, "resource", calendar=eight) == people
    assert measures.heatmap_of(log, FLT, "resource") == people
    assert calls == []


def test_a_calendar_in_another_zone_moves_the_load_hours(log: LogInfo) -> None:
    here = measures.heatmap_of(log, FLT, "load", calendar=Calendar(timezone="Europe/Amsterdam"))
    there = measures.heatmap_of(log, FLT, "load", calendar=Calendar(timezone="America/New_York"))
    assert here.rows == there.rows and here.values != there.values
    assert "(America/New_York)" in there.note and "(Europe/Amsterdam)" in here.note


def test_turning_the_calendar_on_finds_the_default_calendar_warmed(
    log: LogInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.testing.v1 import AppTest

    from mining.ui import warmup

    at = AppTest.from_string(
        "from mining.ui.pages import bottlenecks\nbottlenecks.render()\n", default_timeout=600
    )
    at.run()
    assert not at.exception
    assert warmup.warm_wait(600)
    calls: list[str] = []
    for name in ("times_and_transition_heatmap", "ordered_instances"):
        real = getattr(heatmaps, name)
        monkeypatch.setattr(heatmaps, name, lambda *a, _r=real, _n=name, **k: calls.append(_n) or _r(*a, **k))
    at.toggle(key="bn-business").set_value(True).run()
    assert not at.exception
    captions = [c.value.replace("\\", "") for c in at.caption]  # without markdown's escapes
    assert "Durations below are working time: Mon-Fri 09:00-17:00 (Europe/Amsterdam)." in captions, captions
    assert calls == []  # the page's default calendar is the one the warm-up computed
    # Other hours compute their business times from the window kept for the filter.
    at.text_input(key="bn-hours").set_value("8-16").run()
    assert not at.exception
    assert calls == ["times_and_transition_heatmap"]
    assert "Durations below are working time: Mon-Fri 08:00-16:00 (Europe/Amsterdam)." in [
        c.value.replace("\\", "") for c in at.caption
    ]


def test_the_bottlenecks_page_warms_its_calendar_before_the_other_pages(
    log: LogInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.testing.v1 import AppTest

    from mining.ui import warmup

    asked: dict[str, list[str]] = {}
    for page in ("bottlenecks", "overview"):
        monkeypatch.setattr(
            warmup,
            "warm_explore",
            lambda log, flt, calls, _p=page: asked.setdefault(_p, [c.func.__name__ for c in calls]),
        )
        at = AppTest.from_string(
            f"from mining.ui.pages import {page}\n{page}.render()\n", default_timeout=600
        )
        at.run()
        assert not at.exception
    # A busy session may change the filter before the warm-up ends: the page's own next step comes first.
    assert asked["bottlenecks"][:2] == ["_ordered_of", "business_times_of"]
    assert asked["overview"][0] == "dfg_of"
    assert asked["overview"][-3:] == ["_ordered_of", "business_times_of", "monitor_ahead"]
    assert sorted(asked["bottlenecks"]) == sorted(asked["overview"])  # the same measures, in another order
