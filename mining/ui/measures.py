"""The measures the pages draw, cached: one wrapper per library measure, and each page's bundle.

A wrapper takes the log and the :class:`~mining.analysis.filters.Filter` (and
the measure's own options) and reads through a cache keyed by the workspace's
path and version (:func:`mining.ui.state.where`), so a write by anyone (an
upload, ``mining ingest``) is seen on the next rerun and nothing stale is
served.  Complete results are cached; a conformance check cut short (budget,
Cancel) is returned but never cached.

The conformance check and the monitoring run are not computed in the
server's process: each runs in a child under the server's limits on memory
and time (:mod:`mining.limits`, :mod:`mining.jobs`), so one that needs more
is stopped with a plain message and the other sessions carry on.  A model
being chosen starts a child with the checker imported, so the check does not
wait for pm4py to load; monitoring has one reusable worker that keeps the case
facts between runs.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import datetime as dt
import functools
import hashlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import streamlit as st

from mining.analysis import attributes as _attributes_mod
from mining.analysis import details as _details_mod
from mining.analysis import dfg as _dfg_mod
from mining.analysis import durations as _durations_mod
from mining.analysis import heatmaps as _heatmaps_mod
from mining.analysis import performance as _performance_mod
from mining.analysis import reproject as _reproject_mod
from mining.analysis import rework as _rework_mod
from mining.analysis import simplify as _simplify_mod
from mining.analysis import span as _span_mod
from mining.analysis import summary as _summary_mod
from mining.analysis import throughput as _throughput_mod
from mining.analysis import variants as _variants_mod
from mining.analysis.calendar import Calendar
from mining.analysis.filters import Filter
from mining.errors import MiningError
from mining.jobs import (
    CHECK_CHILD,
    MONITOR_MODULES,
    check_conformance,
    check_task,
    monitor_run,
    monitor_task,
    monitor_warm,
)
from mining.limits import Limits, memory_limit, prepare, run, start, time_limit
from mining.schema import LogInfo
from mining.spreadsheet import csv_bytes, xlsx_bytes
from mining.ui.progress import CheckInterrupted, Progress
from mining.ui.state import logs, reading, sample_defaults, where
from mining.ui.warmup import background

if TYPE_CHECKING:
    import pyarrow as pa

    from mining.conformance import Allowlist, ConformanceResult, DeviatingCase
    from mining.conformance.labels import LabelCoverage, LabelMapping, LabelMatch
    from mining.conformance.rules import RuleResult
    from mining.models import ProcessModel
    from mining.monitor.compare import MapComparison
    from mining.monitor.run import MonitorOptions, MonitorRun

__all__ = [
    "ATTRIBUTE_VALUES",
    "CALENDAR_STEPS",
    "EXPLORE_STEPS",
    "HEATMAP_ROWS",
    "MAP_ACTIVITIES",
    "START_STEPS",
    "VARIANTS_SHOWN",
    "ConformanceRequest",
    "DeviatingExport",
    "activity_table_of",
    "activity_times_of",
    "attribute_summaries_of",
    "bottlenecks_measures",
    "business_times_of",
    "case_attributes_of",
    "case_durations_of",
    "cases_of_variant",
    "conformance_of",
    "detail_of",
    "deviating_export_of",
    "deviation_cases_of",
    "dfg_of",
    "endings_of",
    "events_of_case",
    "filter_bar_measures",
    "heatmap_of",
    "label_coverage_of",
    "labels_of",
    "maps_ahead",
    "maps_of",
    "monitor_ahead",
    "monitor_defaults",
    "monitor_of",
    "monitor_report_of",
    "overview_measures",
    "process_map_measures",
    "process_map_of",
    "read_model",
    "resource_table_of",
    "rework_of",
    "rules_of",
    "span_of",
    "throughput_of",
    "timing_source_of",
    "variants_measures",
    "variants_of",
    "warm_steps",
]


# -- the Explore measures ------------------------------------------------------------
# Each wrapper is keyed by the workspace path and version, the log id and the
# Filter (a frozen dataclass, so hashable), plus the measure's own options.


@st.cache_data(show_spinner=False, max_entries=64)
def _dfg_cached(workspace: str, version: tuple[int, ...], log_id: int, flt: Filter) -> _dfg_mod.DFG:
    if flt.projects_events:
        # The map's Activities slider: each value is a new projection, drawn from the events in memory.
        order = _event_order_cached(workspace, version, log_id)
        with reading(workspace) as store:
            return _reproject_mod.reprojected_dfg(store, log_id, flt, order)
    with reading(workspace) as store:
        return _dfg_mod.dfg(store, log_id, flt)


# Held, not copied: 16 bytes an event, read-only arrays (a cache_data hit would unpickle them).
@st.cache_resource(show_spinner=False, max_entries=2)
def _event_order_cached(workspace: str, version: tuple[int, ...], log_id: int) -> _reproject_mod.EventOrder:
    with reading(workspace) as store:
        return _reproject_mod.event_order(store, log_id)


def _event_order_of(log: LogInfo) -> _reproject_mod.EventOrder:
    return _event_order_cached(*where(), log.log_id)


def dfg_of(log: LogInfo, flt: Filter) -> _dfg_mod.DFG:
    """The log's directly-follows graph under ``flt``."""
    return _dfg_cached(*where(), log.log_id, flt)


@st.cache_data(show_spinner=False, max_entries=64)
def _span_cached(workspace: str, version: tuple[int, ...], log_id: int) -> _span_mod.TimeSpan:
    with reading(workspace) as store:
        return _span_mod.robust_span(store, log_id)


def span_of(log: LogInfo) -> _span_mod.TimeSpan:
    """Where the log's events really lie: its range without placeholder dates such as 9999-12-31."""
    return _span_cached(*where(), log.log_id)


#: The most activities of a map's first drawing (Disco starts from the most frequent ones).
MAP_ACTIVITIES = 25


def process_map_of(log: LogInfo, flt: Filter, *, activities: float, paths: float) -> _dfg_mod.DFG:
    """The simplified process map under ``flt``, as :func:`~mining.analysis.simplify.simplified_dfg`
    draws it: the graph of the log projected onto its ``activities`` share of most frequent activities,
    with its ``paths`` share of paths.  Both graphs are the cached :func:`dfg_of`, so the paths slider
    and the paths of the first drawing cost no query."""
    full = dfg_of(log, flt)
    kept = _simplify_mod.kept_activities(full, activities)
    projected = full
    if len(kept) < len(full.activities):
        projected = dfg_of(log, dataclasses.replace(flt, activities_keep=kept))
    return _simplify_mod.simplify(projected, activities=1.0, paths=paths)


@st.cache_data(show_spinner=False, max_entries=64)
def _variants_cached(
    workspace: str, version: tuple[int, ...], log_id: int, flt: Filter, top: int | None
) -> _variants_mod.VariantTable:
    with reading(workspace) as store:
        return _variants_mod.variants(store, log_id, flt, top=top)


def variants_of(log: LogInfo, flt: Filter, *, top: int | None = None) -> _variants_mod.VariantTable:
    """The variant table under ``flt``, most frequent first."""
    return _variants_cached(*where(), log.log_id, flt, top)


@st.cache_data(show_spinner=False, max_entries=64)
def _variant_cases_cached(
    workspace: str, version: tuple[int, ...], log_id: int, flt: Filter, variant_id: int, limit: int
) -> _variants_mod.CaseList:
    with reading(workspace) as store:
        return _variants_mod.cases_of_variant(store, log_id, variant_id, flt, limit=limit)


def cases_of_variant(
    log: LogInfo, flt: Filter, variant_id: int, *, limit: int = 100
) -> _variants_mod.CaseList:
    """The kept cases of one variant."""
    return _variant_cases_cached(*where(), log.log_id, flt, variant_id, limit)


@st.cache_data(show_spinner=False, max_entries=64)
def _case_events_cached(
    workspace: str, version: tuple[int, ...], log_id: int, case_id: str
) -> tuple[_variants_mod.CaseEvent, ...]:
    with reading(workspace) as store:
        return _variants_mod.events_of_case(store, log_id, case_id)


def events_of_case(log: LogInfo, case_id: str) -> tuple[_variants_mod.CaseEvent, ...]:
    """Every event of one case, in time order."""
    return _case_events_cached(*where(), log.log_id, case_id)


@st.cache_data(show_spinner=False, max_entries=64)
def _durations_cached(
    workspace: str, version: tuple[int, ...], log_id: int, flt: Filter, span: _span_mod.TimeSpan
) -> _durations_mod.CaseDurations:
    with reading(workspace) as store:
        return _durations_mod.case_durations(store, log_id, flt, log_scale=None, span=span)


def case_durations_of(log: LogInfo, flt: Filter) -> _durations_mod.CaseDurations:
    """Case-duration statistics and histogram under ``flt``, of the cases within the log's robust span
    (:func:`span_of`): a case closed on a placeholder date is counted in ``left_out`` instead."""
    return _durations_cached(*where(), log.log_id, flt, span_of(log))


@st.cache_data(show_spinner=False, max_entries=64)
def _throughput_cached(
    workspace: str, version: tuple[int, ...], log_id: int, flt: Filter, period: str
) -> _throughput_mod.Throughput:
    with reading(workspace) as store:
        # A period that makes too many bars gives way to a coarser one (the record says which).
        return _throughput_mod.throughput(store, log_id, flt, period=period, fit=True)


def throughput_of(log: LogInfo, flt: Filter, *, period: str = "week") -> _throughput_mod.Throughput:
    """Cases started and completed per period under ``flt``."""
    return _throughput_cached(*where(), log.log_id, flt, period)


@st.cache_data(show_spinner=False, max_entries=64)
def _activity_times_cached(
    workspace: str, version: tuple[int, ...], log_id: int, flt: Filter, calendar: Calendar | None
) -> _performance_mod.ActivityTimes:
    with reading(workspace) as store:
        return _performance_mod.activity_times(store, log_id, flt, calendar=calendar)


def activity_times_of(
    log: LogInfo, flt: Filter, *, calendar: Calendar | None = None
) -> _performance_mod.ActivityTimes:
    """Waiting and processing per activity under ``flt`` (business time under ``calendar``)."""
    return _activity_times_cached(*where(), log.log_id, flt, calendar)


@st.cache_data(show_spinner=False, max_entries=64)
def _rework_cached(
    workspace: str, version: tuple[int, ...], log_id: int, flt: Filter, limit: int
) -> _rework_mod.Rework:
    with reading(workspace) as store:
        return _rework_mod.rework(store, log_id, flt, limit=limit)


def rework_of(log: LogInfo, flt: Filter, *, limit: int = 10) -> _rework_mod.Rework:
    """Rework, loops and ping-pong under ``flt``."""
    return _rework_cached(*where(), log.log_id, flt, limit)


#: Rows (and the resource heatmap's columns) a heatmap shows at most: the rest is named in its note.
HEATMAP_ROWS = 30


@st.cache_data(show_spinner=False, max_entries=64)
def _heatmap_cached(
    workspace: str,
    version: tuple[int, ...],
    log_id: int,
    flt: Filter,
    kind: str,
    calendar: Calendar | None,
    timezone: str | None,
) -> _heatmaps_mod.Heatmap:
    with reading(workspace) as store:
        if kind == "transition":
            return _heatmaps_mod.transition_wait_heatmap(
                store, log_id, flt, calendar=calendar, timezone=timezone, fit=True
            )
        if kind == "load":
            return _heatmaps_mod.load_heatmap(
                store, log_id, flt, calendar=calendar, timezone=timezone, limit=HEATMAP_ROWS
            )
        return _heatmaps_mod.resource_heatmap(
            store, log_id, flt, calendar=calendar, limit=HEATMAP_ROWS, column_limit=HEATMAP_ROWS
        )


def heatmap_of(
    log: LogInfo, flt: Filter, kind: str, *, calendar: Calendar | None = None, timezone: str | None = None
) -> _heatmaps_mod.Heatmap:
    """One heatmap under ``flt``: ``transition`` (x week, median wait), ``load``
    (activity x weekday-hour in ``timezone``, else the log's) or ``resource``
    (resource x activity count); business time under ``calendar``."""
    if kind != "transition":
        # Counts: working hours change none of them, and the load's hours depend only on the zone, so
        # turning the calendar on or changing its hours reuses the figures already computed.
        zone = (calendar.timezone if calendar is not None else None) or timezone
        timezone = None if kind == "resource" or zone == log.timezone else zone
        calendar = None
    return _heatmap_cached(*where(), log.log_id, flt, kind, calendar, timezone)


@st.cache_data(show_spinner=False, max_entries=64)
def _business_times_cached(
    workspace: str,
    version: tuple[int, ...],
    log_id: int,
    flt: Filter,
    calendar: Calendar,
    timezone: str | None,
) -> tuple[_performance_mod.ActivityTimes, _heatmaps_mod.Heatmap]:
    ordered = _ordered_cached(workspace, version, log_id, flt)
    with reading(workspace) as store:
        return _heatmaps_mod.times_and_transition_heatmap(
            store, log_id, flt, calendar=calendar, timezone=timezone, fit=True, ordered=ordered
        )


# Held, not copied (about 37 bytes an instance): every working calendar of one filter reads it, so
# changing the hours or the country costs the calendar's lookups and the aggregates, not the window.
@st.cache_resource(show_spinner=False, max_entries=2)
def _ordered_cached(workspace: str, version: tuple[int, ...], log_id: int, flt: Filter) -> pa.Table:
    with reading(workspace) as store:
        return _heatmaps_mod.ordered_instances(store, log_id, flt)


def _ordered_of(log: LogInfo, flt: Filter) -> pa.Table:
    return _ordered_cached(*where(), log.log_id, flt)


def business_times_of(
    log: LogInfo, flt: Filter, *, calendar: Calendar, timezone: str | None = None
) -> tuple[_performance_mod.ActivityTimes, _heatmaps_mod.Heatmap]:
    """The times per activity and the transition heatmap in working time under ``calendar``: the same
    records as :func:`activity_times_of` and :func:`heatmap_of`, from one window over the instances
    (each alone runs its own, which in business time is most of the page's wait), kept for the
    filter so that other working hours reuse it."""
    return _business_times_cached(*where(), log.log_id, flt, calendar, timezone)


@st.cache_data(show_spinner=False, max_entries=32)
def _endings_cached(
    workspace: str, version: tuple[int, ...], log_id: int, flt: Filter
) -> tuple[_variants_mod.Ending, ...]:
    with reading(workspace) as store:
        return _variants_mod.endings(store, log_id, flt)


def endings_of(log: LogInfo, flt: Filter) -> tuple[_variants_mod.Ending, ...]:
    """Each activity with the kept cases it ends and those it occurs in (to choose end activities by)."""
    return _endings_cached(*where(), log.log_id, flt)


@st.cache_data(show_spinner=False, max_entries=64)
def _activity_table_cached(
    workspace: str,
    version: tuple[int, ...],
    log_id: int,
    flt: Filter,
    _times: _performance_mod.ActivityTimes,  # not hashed: a function of the other arguments
) -> tuple[_summary_mod.ActivityRow, ...]:
    with reading(workspace) as store:
        return _summary_mod.activity_table(store, log_id, flt, times=_times)


def activity_table_of(log: LogInfo, flt: Filter) -> tuple[_summary_mod.ActivityRow, ...]:
    """Events, cases and median times per kept activity (the times shared with the Bottlenecks page)."""
    return _activity_table_cached(*where(), log.log_id, flt, activity_times_of(log, flt))


@st.cache_data(show_spinner=False, max_entries=64)
def _resource_table_cached(
    workspace: str, version: tuple[int, ...], log_id: int, flt: Filter
) -> tuple[_summary_mod.ResourceRow, ...]:
    with reading(workspace) as store:
        return _summary_mod.resource_table(store, log_id, flt)


def resource_table_of(log: LogInfo, flt: Filter) -> tuple[_summary_mod.ResourceRow, ...]:
    """Events, cases and activities per resource of the kept events."""
    return _resource_table_cached(*where(), log.log_id, flt)


@st.cache_data(show_spinner=False, max_entries=64)
def _attribute_summaries_cached(
    workspace: str, version: tuple[int, ...], log_id: int, flt: Filter, top: int
) -> tuple[_attributes_mod.AttributeSummary, ...]:
    with reading(workspace) as store:
        return _attributes_mod.attribute_summaries(store, log_id, flt, top=top)


#: Values listed per attribute: as many as the filter bar offers, so the bar and the Overview share one
#: computation (the Overview shows the first few).
ATTRIBUTE_VALUES = 1000


def attribute_summaries_of(
    log: LogInfo, flt: Filter, *, top: int = ATTRIBUTE_VALUES
) -> tuple[_attributes_mod.AttributeSummary, ...]:
    """The log's attributes over the kept cases: level, kind, most frequent values, numeric range."""
    return _attribute_summaries_cached(*where(), log.log_id, flt, top)


@st.cache_data(show_spinner=False, max_entries=64)
def _detail_cached(
    workspace: str, version: tuple[int, ...], log_id: int, flt: Filter, name: str
) -> _details_mod.ActivityDetail | _details_mod.PathDetail:
    with reading(workspace) as store:
        if name in _dfg_mod.dfg(store, log_id, flt).activities:
            return _details_mod.activity_detail(store, log_id, flt, name)
        source, _, target = name.partition(" → ")
        return _details_mod.path_detail(store, log_id, flt, source, target)


@st.cache_data(show_spinner=False, max_entries=64)
def _case_attributes_cached(
    workspace: str, version: tuple[int, ...], log_id: int, case_id: str
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    with reading(workspace) as store:
        return _attributes_mod.case_attributes(store, log_id, case_id)


def case_attributes_of(log: LogInfo, case_id: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """One case's attributes and their values."""
    return _case_attributes_cached(*where(), log.log_id, case_id)


@st.cache_data(show_spinner=False, max_entries=64)
def _timing_source_cached(workspace: str, version: tuple[int, ...], log_id: int) -> str:
    with reading(workspace) as store:
        return _performance_mod.timing_source(store, log_id)


def timing_source_of(log: LogInfo) -> str:
    """Where the log's starts come from: ``start_timestamp``, ``lifecycle`` (start events) or ``none``."""
    return _timing_source_cached(*where(), log.log_id)


def detail_of(log: LogInfo, flt: Filter, name: str) -> _details_mod.ActivityDetail | _details_mod.PathDetail:
    """The figures of one map element: an activity, or a path written ``"A → B"``."""
    return _detail_cached(*where(), log.log_id, flt, name)


# -- what each Explore page draws --------------------------------------------------
#: A page's measures run side by side: one DuckDB aggregate (a median, a DISTINCT) keeps one of
#: the two cores busy for much of its time, so two at once finish sooner than one after the other.
_MEASURES = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="mining-measure")


def _side_by_side(steps: Sequence[Callable[[], object]]) -> tuple[object, ...]:
    """The results of ``steps`` (independent cached reads), in order, computed two at a time; the
    first error is raised as the page's, after every step has ended."""
    if len(steps) < 2:
        return tuple(step() for step in steps)
    futures = [_MEASURES.submit(step) for step in steps]
    concurrent.futures.wait(futures)
    return tuple(f.result() for f in futures)


# A page draws exactly its bundle; after any page has run, its frame (mining.ui.layout)
# warms all four under the same filter, so opening another page finds them cached.

#: Variants in the Variants page's table.
VARIANTS_SHOWN = 500


def _overview_steps(log: LogInfo, flt: Filter) -> tuple[functools.partial[object], ...]:
    return (
        functools.partial(dfg_of, log, flt),
        functools.partial(variants_of, log, flt, top=1),
        functools.partial(case_durations_of, log, flt),
        functools.partial(throughput_of, log, flt, period="week"),
        functools.partial(activity_table_of, log, flt),
        functools.partial(resource_table_of, log, flt),
        functools.partial(attribute_summaries_of, log, flt),
    )


def overview_measures(
    log: LogInfo, flt: Filter
) -> tuple[
    _dfg_mod.DFG,
    _variants_mod.VariantTable,
    _durations_mod.CaseDurations,
    _throughput_mod.Throughput,
    tuple[_summary_mod.ActivityRow, ...],
    tuple[_summary_mod.ResourceRow, ...],
    tuple[_attributes_mod.AttributeSummary, ...],
]:
    """The Overview page under ``flt``: counts, variants, durations, weekly throughput, the activity and
    resource tables and the attributes."""
    return _side_by_side(_overview_steps(log, flt))  # type: ignore[return-value]


def _filter_bar_steps(log: LogInfo, flt: Filter) -> tuple[functools.partial[object], ...]:
    del flt
    whole = Filter()
    return (
        functools.partial(dfg_of, log, whole),
        functools.partial(resource_table_of, log, whole),
        functools.partial(attribute_summaries_of, log, whole),
        functools.partial(variants_of, log, whole, top=1),
    )


def filter_bar_measures(
    log: LogInfo, flt: Filter
) -> tuple[
    _dfg_mod.DFG,
    tuple[_summary_mod.ResourceRow, ...],
    tuple[_attributes_mod.AttributeSummary, ...],
    _variants_mod.VariantTable,
]:
    """What the filter bar of every Explore page lists, over the whole log (``flt`` is not used): the
    activities, the resources, the attributes' values and the number of variants."""
    return _side_by_side(_filter_bar_steps(log, flt))  # type: ignore[return-value]


def _first_map(log: LogInfo, flt: Filter) -> _dfg_mod.DFG:
    n = len(dfg_of(log, flt).activities)
    return process_map_of(log, flt, activities=min(n, MAP_ACTIVITIES) / max(n, 1), paths=1.0)


def _process_map_steps(log: LogInfo, flt: Filter) -> tuple[functools.partial[object], ...]:
    return (functools.partial(dfg_of, log, flt), functools.partial(_first_map, log, flt))


def process_map_measures(log: LogInfo, flt: Filter) -> tuple[_dfg_mod.DFG, _dfg_mod.DFG]:
    """The Process map page under ``flt``: the full graph, and the map of its first drawing (its
    :data:`MAP_ACTIVITIES` most frequent activities, every path); other slider values are computed
    when they are chosen."""
    return tuple(step() for step in _process_map_steps(log, flt))  # type: ignore[return-value]


def _variants_steps(log: LogInfo, flt: Filter) -> tuple[functools.partial[object], ...]:
    return (functools.partial(variants_of, log, flt, top=VARIANTS_SHOWN),)


def variants_measures(log: LogInfo, flt: Filter) -> tuple[_variants_mod.VariantTable]:
    """The Variants page under ``flt`` before a drill-down: the most frequent variants."""
    return tuple(step() for step in _variants_steps(log, flt))  # type: ignore[return-value]


def _bottlenecks_steps(
    log: LogInfo, flt: Filter, *, calendar: Calendar | None = None, timezone: str | None = None
) -> tuple[functools.partial[object], ...]:
    # In elapsed time the times per activity are the Overview's (cached); in business time they and
    # the transition heatmap share one windowed pass (see business_times_of).
    timed = (
        (
            functools.partial(activity_times_of, log, flt),
            functools.partial(heatmap_of, log, flt, "transition", timezone=timezone),
        )
        if calendar is None
        else (functools.partial(business_times_of, log, flt, calendar=calendar, timezone=timezone),)
    )
    return (
        *timed,
        functools.partial(rework_of, log, flt),
        *(
            functools.partial(heatmap_of, log, flt, kind, calendar=calendar, timezone=timezone)
            for kind in ("load", "resource")
        ),
    )


def bottlenecks_measures(
    log: LogInfo, flt: Filter, *, calendar: Calendar | None = None, timezone: str | None = None
) -> tuple[
    _performance_mod.ActivityTimes,
    _rework_mod.Rework,
    _heatmaps_mod.Heatmap,
    _heatmaps_mod.Heatmap,
    _heatmaps_mod.Heatmap,
]:
    """The Bottlenecks page under ``flt``: times per activity, rework, and the three heatmaps.

    Durations are business time under ``calendar``; weekdays and hours are in
    ``timezone`` (the calendar's, else the log's, when ``None``).
    """
    found = _side_by_side(_bottlenecks_steps(log, flt, calendar=calendar, timezone=timezone))
    if calendar is None:
        times, waits, rw, load, people = found
    else:
        (times, waits), rw, load, people = found  # type: ignore[misc]
    return times, rw, waits, load, people  # type: ignore[return-value]


def _map_slider_steps(log: LogInfo, flt: Filter) -> tuple[functools.partial[object], ...]:
    # The events in memory that the Activities slider's projections are drawn from (one per log).
    del flt
    return (functools.partial(_event_order_of, log),)


def _calendar_steps(log: LogInfo, flt: Filter) -> tuple[functools.partial[object], ...]:
    # Turning the Bottlenecks page's working calendar on shows the default calendar (Mon-Fri 09-17
    # in the log's zone) first: its times are ready then, and the window other hours reuse is kept.
    try:
        calendar = Calendar(timezone=log.timezone)
    except MiningError:  # a zone this machine does not know: the page reads the log in UTC
        return ()
    return (
        functools.partial(_ordered_of, log, flt),
        functools.partial(business_times_of, log, flt, calendar=calendar),
    )


_Steps = Callable[[LogInfo, Filter], tuple[functools.partial[object], ...]]
#: Every Explore page's measures, one step each, for the warm-up: it yields to a page's run between
#: two steps, so a page opened while it works waits for one query at most, not a page's worth.
EXPLORE_STEPS: tuple[_Steps, ...] = (
    _overview_steps,
    _process_map_steps,
    _variants_steps,
    _bottlenecks_steps,
    _map_slider_steps,
    _calendar_steps,
)
#: What the Bottlenecks page warms before the other pages: the working calendar its toggle shows first.
CALENDAR_STEPS: tuple[_Steps, ...] = (_calendar_steps,)
#: What the Start page has computed while it is read: the filter bar every Explore page shows first,
#: then the pages in the sidebar's order (the Overview shares four of its measures with the bar).
START_STEPS: tuple[_Steps, ...] = (
    _filter_bar_steps,
    _overview_steps,
    _process_map_steps,
    _variants_steps,
    _bottlenecks_steps,
    _map_slider_steps,
)


def warm_steps(
    log: LogInfo, flt: Filter, steps: Sequence[_Steps], *, monitor: bool = False
) -> list[functools.partial[object]]:
    """The single-measure calls of ``steps`` for ``log`` under ``flt``, in order, each once; with
    ``monitor``, then the Monitoring page's first run (:func:`monitor_ahead`), the longest, last."""
    calls: list[functools.partial[object]] = []
    for make in steps:
        for call in make(log, flt):
            # By value: partials compare by identity, and a LogInfo (it holds a dict) cannot be hashed.
            if isinstance(call, functools.partial) and not any(
                (c.func, c.args, c.keywords) == (call.func, call.args, call.keywords) for c in calls
            ):
                calls.append(call)
    if monitor:
        calls.append(functools.partial(monitor_ahead, log, flt))
    return list(calls)


# -- the Conformance page ------------------------------------------------------------
# Its library modules (and the Monitoring page's) are imported inside the functions:
# the Explore pages never pay for them.

_DEVIATING_LIMIT = 1000  # cases listed in a deviation's drill-down
#: Seconds a check or a monitoring run may take in its child (unless MINING_TIME_LIMIT says otherwise).
_WORK_SECONDS = 1800.0
_POLL_S = 0.1


def work_limits() -> Limits:
    """The server's limits on one check or monitoring run: ``$MINING_MEMORY_LIMIT`` (default half the
    machine's memory) and 30 minutes (``$MINING_TIME_LIMIT`` when set)."""
    return Limits(memory=memory_limit(), seconds=time_limit(_WORK_SECONDS))


@st.cache_data(show_spinner=False, max_entries=32)
def _model_cached(sha256: str, name: str, _data: bytes) -> ProcessModel:
    # Keyed by the content hash and the name (the suffix decides the format); never by the name alone.
    from mining.models import load_model

    return load_model(_data, name)


def read_model(name: str, data: bytes) -> tuple[ProcessModel, str]:
    """A model read from its bytes (an upload or a sample file) and the SHA-256 of those bytes."""
    digest = hashlib.sha256(data).hexdigest()
    prepare(CHECK_CHILD)  # a check comes next: have a child with pm4py imported ready for it
    return _model_cached(digest, name, data), digest


@st.cache_data(show_spinner=False, max_entries=64)
def _labels_cached(tasks: tuple[str, ...], activities: tuple[str, ...], mapping: LabelMapping) -> LabelMatch:
    from mining.conformance.labels import match_labels

    return match_labels(tasks, activities, mapping)


def labels_of(log: LogInfo, flt: Filter, model: ProcessModel, mapping: LabelMapping) -> LabelMatch:
    """How the model's tasks meet the kept activities (most frequent first), as the check will match them."""
    counts = dfg_of(log, flt).activities
    activities = tuple(sorted(counts, key=lambda a: (-counts[a], a)))
    return _labels_cached(model.tasks, activities, mapping)


def label_coverage_of(log: LogInfo, flt: Filter, match: LabelMatch) -> LabelCoverage:
    """How much of the model and of the kept events ``match`` covers (the check's guard)."""
    from mining.conformance.labels import label_coverage

    return label_coverage(match, dfg_of(log, flt).activities)


@dataclass(frozen=True)
class ConformanceRequest:
    """Everything a conformance check depends on besides the workspace: its cache key."""

    log_id: int
    flt: Filter
    model_name: str
    model_sha256: str
    method: str
    budget: float | None
    mapping: LabelMapping
    allow: Allowlist | None
    force: bool = False


class _Unfinished(Exception):
    """Carries a partial result out of the cached function, so that it is never cached."""

    def __init__(self, result: ConformanceResult) -> None:
        super().__init__("partial conformance result")
        self.result = result


@st.cache_data(show_spinner=False, max_entries=16)
def _conformance_cached(
    workspace: str,
    version: tuple[int, ...],
    request: ConformanceRequest,
    _model: ProcessModel,
    _cancel: Callable[[], bool],
) -> ConformanceResult:
    progress = Progress(_cancel)
    job = start(
        check_conformance,
        workspace,
        request.log_id,
        _model,
        request.flt,
        method=request.method,
        mapping=request.mapping,
        allow=request.allow,
        budget=request.budget,
        force=request.force,
        task=check_task(_log_name(workspace, version, request.log_id)),
        limits=work_limits(),
        preload=CHECK_CHILD,
        reuse="check",
    )
    with job:
        seen, stopping = None, False
        while not (status := job.status(_POLL_S)).done:
            if status.progress is not None and status.progress is not seen:
                seen = status.progress
                progress(*seen)
            if not stopping and progress.cancelled():
                stopping = True
                job.stop()  # the child returns what it aligned so far
        result = job.result()
    if result.complete:
        # A click during the last steps (precision) lands here: the result is whole, but still kept.
        progress.show(1.0, f"Checked {len(result.variants):,} variants")
    if progress.control is not None:
        raise CheckInterrupted(result, progress.control)
    if not result.complete:
        raise _Unfinished(result)
    return result


def conformance_of(
    request: ConformanceRequest, model: ProcessModel, *, cancel: Callable[[], bool]
) -> ConformanceResult:
    """Check the log against ``model`` with a progress bar; complete results are cached.

    A result cut short by the budget or by ``cancel()`` is returned but never
    cached (the next run may get further).  Raises :class:`CheckInterrupted`
    when Streamlit stopped the script during the check.
    """
    try:
        return _conformance_cached(*where(), request, model, cancel)
    except _Unfinished as unfinished:
        return unfinished.result


def _result_key(result: ConformanceResult) -> float:
    # Variants are aligned most frequent first, so the aligned share identifies a partial result.
    return result.aligned_variants_share


@st.cache_data(show_spinner=False, max_entries=64)
def _deviation_cases_cached(
    workspace: str,
    version: tuple[int, ...],
    request: ConformanceRequest,
    aligned: float,
    kind: str,
    activity: str,
    _result: ConformanceResult,
) -> tuple[tuple[DeviatingCase, ...], bool]:
    from mining.conformance.cases import deviating_cases

    [found] = [d for d in _result.deviations if (d.kind, d.activity) == (kind, activity)]
    ranks = set(found.variants)
    # The deviating cases of a result restricted to the variants that have this deviation.
    only = dataclasses.replace(_result, variants=tuple(v for v in _result.variants if v.rank in ranks))
    with reading(workspace) as store:
        cases = deviating_cases(store, only, limit=_DEVIATING_LIMIT + 1)
    return tuple(cases[:_DEVIATING_LIMIT]), len(cases) > _DEVIATING_LIMIT


def deviation_cases_of(
    request: ConformanceRequest, result: ConformanceResult, kind: str, activity: str
) -> tuple[tuple[DeviatingCase, ...], bool]:
    """The checked cases with one deviation (by case id, at most 1,000) and whether there are more."""
    return _deviation_cases_cached(*where(), request, _result_key(result), kind, activity, result)


@dataclass(frozen=True)
class DeviatingExport:
    """The deviating cases as CSV and XLSX bytes, as ``mining conform --cases`` writes them."""

    rows: int
    csv: bytes
    xlsx: bytes


@st.cache_data(show_spinner=False, max_entries=16)
def _export_cached(
    workspace: str,
    version: tuple[int, ...],
    request: ConformanceRequest,
    aligned: float,
    _result: ConformanceResult,
) -> DeviatingExport:
    from mining.conformance.cases import CASES_HEADER, CASES_SHEET, case_rows, deviating_cases

    with reading(workspace) as store:
        rows = case_rows(deviating_cases(store, _result))
    return DeviatingExport(
        len(rows), csv_bytes(CASES_HEADER, rows), xlsx_bytes(CASES_HEADER, rows, sheet=CASES_SHEET)
    )


def deviating_export_of(request: ConformanceRequest, result: ConformanceResult) -> DeviatingExport:
    """Every deviating case of ``result`` as CSV and XLSX bytes."""
    return _export_cached(*where(), request, _result_key(result), result)


@st.cache_data(show_spinner=False, max_entries=64)
def _rules_cached(
    workspace: str, version: tuple[int, ...], log_id: int, flt: Filter, texts: tuple[str, ...]
) -> tuple[RuleResult, ...]:
    from mining.conformance.rules import check_rules, parse_rule

    rules = [parse_rule(text) for text in texts]
    with reading(workspace) as store:
        return check_rules(store, log_id, rules, flt)


def rules_of(log: LogInfo, flt: Filter, texts: Sequence[str]) -> tuple[RuleResult, ...]:
    """One-line rules (``A before B``, ...) checked over the kept cases, in order."""
    return _rules_cached(*where(), log.log_id, flt, tuple(texts))


# -- the Monitoring page -------------------------------------------------------------
@st.cache_data(show_spinner=False, max_entries=16)
def _monitor_cached(
    workspace: str, version: tuple[int, ...], log_id: int, flt: Filter, options: MonitorOptions
) -> MonitorRun:
    # The reusable worker keeps the facts and the Lean view: another period, change date or SLA is quick.
    return run(
        monitor_run,
        workspace,
        version,
        log_id,
        flt,
        options,
        task=monitor_task(_log_name(workspace, version, log_id)),
        limits=work_limits(),
        preload=MONITOR_MODULES,
        reuse="monitor",
    )


def _log_name(workspace: str, version: tuple[int, ...], log_id: int) -> str:
    return next((i.name for i in logs() if i.log_id == log_id), f"log {log_id}")


def monitor_of(log: LogInfo, flt: Filter, options: MonitorOptions) -> MonitorRun:
    """One monitoring run (KPIs, before/after, control charts, alerts, Lean view) under ``flt``."""
    key = (*where(), log.log_id, flt)
    with _MONITOR_LOCK:
        ahead = _MONITOR_AHEAD.get(key)
    if ahead is not None:
        # The monitoring worker is computing this log ahead: its facts and Lean view serve this run
        # too, where starting another worker would compute them a second time beside it.
        ahead.wait(_WORK_SECONDS)
    return _monitor_cached(*where(), log.log_id, flt, options)


def monitor_defaults(log: LogInfo) -> MonitorOptions:
    """The options the Monitoring page opens with: weekly, and for a sample log its documented change
    date (when inside the data) and SLA (:func:`mining.ui.state.sample_defaults`)."""
    from mining.durations import parse_duration
    from mining.errors import MonitorError
    from mining.monitor.run import MonitorOptions

    change, sla = sample_defaults(log.name)
    lo = log.start.date() if log.start is not None else None
    hi = log.end.date() if log.end is not None else None
    if change is not None and ((lo is not None and change < lo) or (hi is not None and change > hi)):
        change = None
    seconds = parse_duration(sla, what="SLA", error=MonitorError).total_seconds if sla else None
    return MonitorOptions(period="week", change_date=change, sla_seconds=seconds)


_MONITOR_LOCK = threading.Lock()
#: Logs (workspace, version, log id, filter) the monitoring worker is computing ahead of the page.
_MONITOR_AHEAD: dict[tuple[object, ...], threading.Event] = {}


def monitor_ahead(log: LogInfo, flt: Filter) -> None:
    """Compute the Monitoring page's first run of ``log`` under ``flt`` in the monitoring worker, which
    keeps it (and the case facts and Lean view other options reuse): for the warm-up
    (:mod:`mining.ui.warmup`), so the page, opened later, finds it there.  Nothing is cached here: a run
    that fails (a limit, no case) fails again, in words, when the page asks for it."""
    workspace, version = where()
    key = (workspace, version, log.log_id, flt)
    done = threading.Event()
    with _MONITOR_LOCK:
        if key in _MONITOR_AHEAD:
            return
        _MONITOR_AHEAD[key] = done
    try:
        run(
            monitor_warm,
            workspace,
            version,
            log.log_id,
            flt,
            monitor_defaults(log),
            task=monitor_task(log.name),
            limits=work_limits(),
            preload=MONITOR_MODULES,
            reuse="monitor",
        )
    finally:
        with _MONITOR_LOCK:
            del _MONITOR_AHEAD[key]
        done.set()


@st.cache_data(show_spinner=False, max_entries=16)
def _report_cached(
    workspace: str, version: tuple[int, ...], log_id: int, flt: Filter, options: MonitorOptions
) -> bytes:
    from mining.monitor.html import render_html

    # The bytes `mining monitor --report` writes (UTF-8, "\n" line ends).
    return render_html(_monitor_cached(workspace, version, log_id, flt, options)).encode("utf-8")


def monitor_report_of(log: LogInfo, flt: Filter, options: MonitorOptions) -> bytes:
    """The run's self-contained HTML report."""
    return _report_cached(*where(), log.log_id, flt, options)


@st.cache_data(show_spinner=False, max_entries=16)
def _maps_cached(
    workspace: str,
    version: tuple[int, ...],
    log_id: int,
    flt: Filter,
    change_date: dt.date,
    timezone: str | None,
) -> MapComparison:
    from mining.monitor.compare import compare_maps

    with reading(workspace) as store:
        return compare_maps(store, log_id, change_date, flt, timezone=timezone)


def maps_of(log: LogInfo, flt: Filter, change_date: dt.date, *, timezone: str | None = None) -> MapComparison:
    """The process maps of the cases started before and after ``change_date``, over one node set."""
    return _maps_cached(*where(), log.log_id, flt, change_date, timezone)


def maps_ahead(log: LogInfo, flt: Filter, change_date: dt.date, *, timezone: str | None = None) -> None:
    """Start :func:`maps_of` in a background thread and return at once.

    The Monitoring page calls this before its run, which works in the monitoring worker while this
    process waits: the maps' queries use that time.  The page's own :func:`maps_of` then waits on the
    cache's per-key lock for this computation instead of repeating it; a failure is not cached, so
    the page's call fails again, in words.
    """
    state = where()

    def compute() -> None:
        with contextlib.suppress(MiningError):
            _maps_cached(*state, log.log_id, flt, change_date, timezone)

    background(compute, "mining maps ahead")
