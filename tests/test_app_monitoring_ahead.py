"""The Monitoring page's first run, computed ahead by the warm-up in the monitoring worker.

The warm-up runs the page's opening options (:func:`mining.ui.measures.monitor_defaults`) through
:func:`mining.jobs.monitor_warm`; the page's own run then finds the very same run in the worker,
and every figure is the library's.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Iterator
from pathlib import Path

import altair as alt
import pytest

pytest.importorskip("streamlit", reason="the app is an optional extra: pip install '.[app]'")

from streamlit.testing.v1 import AppTest

import mining.monitor.run as monitor_module
from mining import jobs
from mining.analysis.filters import Filter
from mining.catalog import list_logs
from mining.monitor.run import MonitorOptions, keep_stratum, monitor, run_json
from mining.schema import LogInfo
from mining.store import Store
from mining.ui import charts, measures
from mining.ui.state import where
from tests.conftest import SAMPLE_LOGS, app_workspace

TIMEOUT = 120


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with app_workspace(tmp_path_factory.mktemp("monitoring-ahead"), SAMPLE_LOGS / "service_desk.csv") as path:
        yield path


@pytest.fixture(scope="module")
def log(workspace: Path) -> LogInfo:
    with Store(workspace, read_only=True) as store:
        [found] = list_logs(store)
    return found


def _page() -> None:
    from mining.ui.pages import monitoring

    monitoring.render()


def test_the_options_computed_ahead_are_the_ones_the_page_opens_with(
    log: LogInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The sample's documented change date and 5-day SLA, weekly.
    assert measures.monitor_defaults(log) == MonitorOptions(
        period="week", change_date=dt.date(2025, 7, 1), sla_seconds=5 * 86400.0
    )
    asked: list[MonitorOptions] = []
    real = measures.monitor_of
    monkeypatch.setattr(
        measures, "monitor_of", lambda lg, flt, opts: asked.append(opts) or real(lg, flt, opts)
    )
    at = AppTest.from_function(_page, default_timeout=TIMEOUT).run()
    assert not at.exception and not at.error
    assert asked == [measures.monitor_defaults(log)]


def test_a_change_date_outside_the_data_is_not_a_default(
    log: LogInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(measures, "sample_defaults", lambda name: (dt.date(1999, 1, 4), ""))
    assert measures.monitor_defaults(log) == MonitorOptions(period="week")


def test_a_run_computed_ahead_is_served_without_computing_it_again(
    workspace: Path, log: LogInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    flt = Filter(min_duration_s=60.0)  # a filter no other test uses: nothing of it is kept yet
    options = measures.monitor_defaults(log)
    state = where()
    assert jobs.monitor_warm(*state, log.log_id, flt, options) is None
    calls: list[MonitorOptions] = []
    real = monitor_module.monitor
    monkeypatch.setattr(monitor_module, "monitor", lambda *a, **k: calls.append(a[3]) or real(*a, **k))
    served = jobs.monitor_run(*state, log.log_id, flt, options)
    assert calls == []
    with Store(workspace, read_only=True) as store:
        assert run_json(served) == run_json(monitor(store, log.log_id, flt, options))
    # Other options are computed (from the kept facts), and their figures are the library's too; the
    # strata of a before/after were kept ahead as well, so a new change date does not read them.
    strata: list[str | None] = []
    real_stratum = monitor_module.case_stratum
    monkeypatch.setattr(
        monitor_module, "case_stratum", lambda st, f, by: strata.append(by) or real_stratum(st, f, by)
    )
    for other in (
        MonitorOptions(period="month"),
        MonitorOptions(period="month", change_date=dt.date(2025, 9, 1)),
    ):
        again = jobs.monitor_run(*state, log.log_id, flt, other)
        with Store(workspace, read_only=True) as store:
            assert run_json(again) == run_json(monitor(store, log.log_id, flt, other))
    assert calls[:2] == [
        MonitorOptions(period="month"),
        dataclasses.replace(MonitorOptions(period="month"), change_date=dt.date(2025, 9, 1)),
    ]
    assert strata == [None]  # only the library's own run, without the memo, computed them


def test_the_warm_up_computes_the_monitoring_run_last(log: LogInfo) -> None:
    def calls(steps: list[functools.partial[object]]) -> list[tuple[object, ...]]:
        return [(s.func, s.args, s.keywords) for s in steps]  # partials compare by identity

    steps = measures.warm_steps(log, Filter(), measures.START_STEPS, monitor=True)
    assert calls(steps[:-1]) == calls(measures.warm_steps(log, Filter(), measures.START_STEPS))
    last = steps[-1]
    assert isinstance(last, functools.partial)
    assert (last.func, last.args) == (measures.monitor_ahead, (log, Filter()))


def test_the_strata_kept_ahead_serve_a_change_date_typed_later(
    workspace: Path, log: LogInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    memo: dict = {}
    weekly = MonitorOptions(period="week")
    with Store(workspace, read_only=True) as store:
        monitor(store, log.log_id, None, weekly, memo=memo)
        assert sorted(k[0] for k in memo) == ["facts", "lean", "series"]  # no change date: no strata yet
        keep_stratum(store, log.log_id, None, weekly, memo)
        assert sorted(k[0] for k in memo) == ["facts", "lean", "series", "stratum"]
        strata: list[str | None] = []
        real = monitor_module.case_stratum
        monkeypatch.setattr(
            monitor_module, "case_stratum", lambda st, f, by: strata.append(by) or real(st, f, by)
        )
        changed = MonitorOptions(period="week", change_date=dt.date(2025, 7, 1))
        kept = monitor(store, log.log_id, None, changed, memo=memo)
        assert strata == []
        fresh = monitor(store, log.log_id, None, changed)
        assert strata == [None]
    assert run_json(kept) == run_json(fresh)
    assert kept.comparison is not None and kept.comparison.mix.chosen.startswith("Stratified by ")


def test_the_maps_computed_beside_the_run_are_computed_once_and_are_the_librarys(
    workspace: Path, log: LogInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib
    import threading

    # By name: the package's `compare` (a function) hides the module of that name.
    compare_module = importlib.import_module("mining.monitor.compare")

    flt = Filter(min_duration_s=90.0)  # a filter of this test only
    change = dt.date(2025, 7, 1)
    gate = threading.Event()
    calls: list[dt.date] = []
    real = compare_module.compare_maps

    def slow(store, log_id, change_date, f, **kw):  # type: ignore[no-untyped-def]
        calls.append(change_date)
        gate.wait(10)  # still computing when the page asks for the maps
        return real(store, log_id, change_date, f, **kw)

    monkeypatch.setattr(compare_module, "compare_maps", slow)
    measures.maps_ahead(log, flt, change)
    threading.Timer(0.5, gate.set).start()
    maps = measures.maps_of(log, flt, change)
    assert calls == [change]  # the page's call waited for the one in progress
    with Store(workspace, read_only=True) as store:
        expected = real(store, log.log_id, change, flt)
    assert (maps.before.cases, maps.after.cases) == (expected.before.cases, expected.after.cases)
    assert maps.before.cases > 0 and maps.after.cases > 0
    assert maps.edges == expected.edges and maps.activities == expected.activities


def test_a_run_computed_ahead_runs_at_a_lower_priority_and_its_errors_reach_the_caller(
    log: LogInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import threading

    from mining.errors import MonitorError

    seen: list[int] = []
    real = monitor_module.monitor

    def observed(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        return real(*args, **kwargs)

    monkeypatch.setattr(monitor_module, "monitor", observed)
    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    flt = Filter(min_duration_s=120.0)  # a filter of this test only: the run is computed
    jobs.monitor_warm(*where(), log.log_id, flt, MonitorOptions(period="week"))
    assert seen == [min(mine + jobs.AHEAD_NICENESS, 19)]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == mine  # the caller's is unchanged
    with pytest.raises(MonitorError, match="no log with id 999"):
        jobs.monitor_warm(*where(), 999, flt, MonitorOptions(period="week"))


def test_the_kpis_per_period_kept_serve_another_change_date(
    workspace: Path, log: LogInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    memo: dict = {}
    summaries: list[float | None] = []
    real = monitor_module.summarize
    monkeypatch.setattr(
        monitor_module,
        "summarize",
        lambda f, sla_seconds=None: summaries.append(sla_seconds) or real(f, sla_seconds=sla_seconds),
    )
    first = MonitorOptions(period="week", change_date=dt.date(2025, 7, 1))
    later = MonitorOptions(period="week", change_date=dt.date(2025, 8, 1))
    monthly = MonitorOptions(period="month", change_date=dt.date(2025, 8, 1))
    with Store(workspace, read_only=True) as store:
        monitor(store, log.log_id, None, first, memo=memo)
        kept = monitor(store, log.log_id, None, later, memo=memo)
        assert summaries == [None]  # the second change date reused the weekly KPIs
        by_month = monitor(store, log.log_id, None, monthly, memo=memo)
        assert summaries == [None, None]  # another period has KPIs of its own
        fresh, fresh_monthly = (monitor(store, log.log_id, None, o) for o in (later, monthly))
    assert run_json(kept) == run_json(fresh)
    assert run_json(by_month) == run_json(fresh_monthly)
    assert kept.comparison is not None and kept.comparison.change_date == dt.date(2025, 8, 1)
    assert len(by_month.series.periods) < len(kept.series.periods)


def test_the_charts_drawn_unchecked_are_valid_and_unchanged(workspace: Path, log: LogInfo) -> None:
    # The page serialises its charts without Altair's schema validation (charts.unchecked): each must be
    # valid Vega-Lite, and give the same spec as the validated serialisation.
    options = MonitorOptions(period="week", change_date=dt.date(2025, 7, 1), sla_seconds=5 * 86400.0)
    with Store(workspace, read_only=True) as store:
        run = monitor(store, log.log_id, None, options)
    assert run.lean is not None and run.charts
    builders = [
        *(
            functools.partial(
                charts.kpi_trend_chart, run.series, names, title=title, change_date=options.change_date
            )
            for title, names in (("Cycle time", ["cycle_median_s", "cycle_p90_s"]), ("Cases", ["started"]))
        ),
        *(
            functools.partial(charts.control_chart, kc, run.series, change_date=options.change_date)
            for kc in run.charts
        ),
        *(functools.partial(charts.cusum_chart, kc, run.series) for kc in run.charts if kc.cusum is not None),
        functools.partial(charts.lean_steps_chart, run.lean),
        functools.partial(charts.waste_chart, run.lean),
    ]
    assert any(kc.cusum is not None for kc in run.charts)  # every kind of chart the page draws
    for build in builders:
        checked = build().to_dict(validate=True)  # raises on a spec Vega-Lite's schema refuses
        assert charts.unchecked(build()).to_dict() == checked
    with pytest.raises(TypeError, match="no unchecked form of HConcatChart"):
        charts.unchecked(alt.hconcat(builders[0](), builders[1]()))
