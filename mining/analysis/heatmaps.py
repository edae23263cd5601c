"""Bottleneck heatmaps as plain data: rows x columns of numbers, ready for a chart or a table.

* :func:`transition_wait_heatmap`: transition (``"A → B"``) x week or month →
  median waiting on it; a wait belongs to the period in which it ends (the
  target starts).
* :func:`load_heatmap`: activity x weekday-hour → activity instances
  completed.  Columns are ``"Mon 00"`` … ``"Sun 23"`` in *ISO weekday* order
  (Monday = 1 … Sunday = 7; engines differ: DuckDB's ``dayofweek`` and
  Spark's ``dayofweek`` start on Sunday, so we compute the weekday with
  arithmetic on local day numbers) in the calendar's time zone, else
  ``timezone``, else the log's.
* :func:`resource_heatmap`: resource x activity → instances, or median
  processing time.

Durations are seconds, or business seconds under a calendar.  Empty cells are
``None``.  Rows and columns are cut at ``limit`` (most frequent first) so the
grid stays readable; the note says how many were left out.

:func:`colour_scale` makes a colour scale robust to outliers: cells far above
the rest (beyond the upper quartile plus three interquartile ranges, Tukey's
"far out" fence) are drawn in the darkest colour and named, so one stuck case
does not wash every other cell out to the palest colour.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mining.analysis.calendar import WEEKDAY_NAMES, Calendar, Clock, clock, epoch_seconds
from mining.analysis.filters import Filter
from mining.analysis.performance import (
    NO_STARTS_NOTE,
    ActivityTimes,
    InstancesSQL,
    activity_stats_sql,
    activity_times,
    activity_times_record,
    instance_times_sql,
    instances_sql,
    ordered_sql,
    timed_sql,
    transitions_sql,
)
from mining.analysis.span import (
    TimeSpan,
    check_periods,
    fitting_period,
    period_count,
    robust_span,
    span_params,
    within_sql,
)
from mining.analysis.throughput import next_period, period_sql
from mining.errors import AnalysisError
from mining.store import numpy_column

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from mining.store import Store

__all__ = [
    "ARROW",
    "WEEKDAY_HOURS",
    "ColourScale",
    "Heatmap",
    "colour_scale",
    "load_heatmap",
    "ordered_instances",
    "resource_heatmap",
    "times_and_transition_heatmap",
    "transition_wait_heatmap",
]

ARROW = " → "
#: The 168 columns of :func:`load_heatmap`: ``"Mon 00"`` … ``"Sun 23"``.
WEEKDAY_HOURS = tuple(f"{d} {h:02d}" for d in WEEKDAY_NAMES for h in range(24))


@dataclass(frozen=True)
class Heatmap:
    """A grid of values: ``values[i][j]`` belongs to ``rows[i]`` and ``columns[j]``."""

    metric: str
    unit: str
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    values: tuple[tuple[float | None, ...], ...]
    note: str = ""
    #: The columns' period (``"week"``, ``"month"``) when they are periods; else ``None``.
    period: str | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.rows), len(self.columns)

    def cell(self, row: str, column: str) -> float | None:
        try:
            return self.values[self.rows.index(row)][self.columns.index(column)]
        except ValueError:
            msg = f"no cell ({row!r}, {column!r}) in the {self.metric} heatmap"
            raise AnalysisError(msg) from None


@dataclass(frozen=True)
class ColourScale:
    """How a heatmap's values map to colours.

    ``top`` is the value drawn in the darkest colour; ``None`` means the
    largest value (no outliers).  ``outliers`` are the cells above ``top``,
    largest first, as ``(row, column, value)``, at most ``shown`` of them;
    ``count`` is how many there are in all.
    """

    top: float | None
    outliers: tuple[tuple[str, str, float], ...]
    count: int
    # Too many cells far above the rest to cap (one resource doing most of the work): colours on a
    # logarithmic scale, so the others are not all the palest.
    log: bool = False


def _quantile(ordered: list[float], q: float) -> float:
    """The ``q`` quantile of sorted values, linear between the nearest ranks."""
    pos = q * (len(ordered) - 1)
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def colour_scale(h: Heatmap, *, shown: int = 5, fence: float = 3.0) -> ColourScale:
    """A colour scale for ``h`` that outliers cannot wash out.

    Values above ``Q3 + fence * (Q3 - Q1)`` are outliers, when there are at
    least 8 values and the outliers are at most a twentieth of them (more than
    that is the shape of the data, not a few odd cells).  ``top`` is then the
    largest value that is not an outlier.  With more of them, and the largest
    value at least :data:`_LOG_SPREAD` times the median, the scale is ``log``.
    """
    cells = [
        (r, c, v)
        for r, values in zip(h.rows, h.values, strict=True)
        for c, v in zip(h.columns, values, strict=True)
        if v is not None
    ]
    ordered = sorted(v for _, _, v in cells)
    if len(ordered) < 8:
        return ColourScale(None, (), 0)
    q1, q3 = _quantile(ordered, 0.25), _quantile(ordered, 0.75)
    limit = q3 + fence * (q3 - q1)
    far = sorted((cell for cell in cells if cell[2] > limit), key=lambda cell: (-cell[2], cell[0], cell[1]))
    inside = [v for v in ordered if v <= limit]
    if not far or not inside or inside[-1] <= 0:
        return ColourScale(None, (), 0)
    if len(far) * 20 > len(ordered):
        median = _quantile(ordered, 0.5)
        return ColourScale(None, (), 0, log=median > 0 and ordered[-1] >= _LOG_SPREAD * median)
    return ColourScale(inside[-1], tuple(far[:shown]), len(far))


#: A colour scale turns logarithmic when the largest cell is this many times the median one.
_LOG_SPREAD = 20.0


def _cut_note(kept: int, total: int, what: str) -> str:
    """``"; the 30 busiest of 500 resources"`` when rows were cut, else ``""``."""
    return f"; the {kept:,} {what[0]} of {total:,} {what[1]}" if kept < total else ""


def _grid(
    cells: dict[tuple[str, str], float], rows: list[str], columns: list[str]
) -> tuple[tuple[float | None, ...], ...]:
    return tuple(tuple(cells.get((r, c)) for c in columns) for r in rows)


def _check_period(period: str) -> None:
    if period not in {"week", "month"}:
        msg = f"unknown period {period!r}; expected 'week' or 'month'"
        raise AnalysisError(msg)


def _transition_cells_sql(transitions: str, clk: Clock | None, period: str) -> str:
    """Median wait and count per (transition, period) of ``transitions`` (a :func:`transitions_sql`
    relation): one pass; the top transitions are chosen afterwards.  A wait ending outside the log's
    robust range (a placeholder date) belongs to no period.  ``clk`` ``None``: ``transitions`` has
    the local time of each target start already, as ``l_at``."""
    local = transitions if clk is None else clk.extend(transitions, local={"l_at": "target_start"})
    return (
        f"SELECT source, target, p, median(wait) AS wait, count(*) AS n FROM ("
        f"SELECT source, target, wait, {period_sql('l_at', period)} AS p FROM ({local}) x "
        f"WHERE {within_sql('target_start')} AND {within_sql('source_end')}) t "
        "WHERE p IS NOT NULL GROUP BY source, target, p"
    )


def transition_wait_heatmap(
    store: Store,
    log_id: int,
    flt: Filter | None = None,
    *,
    calendar: Calendar | None = None,
    period: str = "week",
    timezone: str | None = None,
    limit: int = 15,
    fit: bool = False,
) -> Heatmap:
    """Transition x period → median waiting (seconds), for the ``limit`` most frequent transitions.

    More than :data:`~mining.analysis.span.MAX_PERIODS` periods are refused,
    unless ``fit``: weeks then give way to months (the record's ``period``).
    """
    _check_period(period)
    inst = instances_sql(store, log_id, flt)
    span = robust_span(store, log_id)
    clk = clock(store, log_id, calendar, timezone=timezone, span=span)
    sql = _transition_cells_sql(transitions_sql(inst, clk), clk, period)
    rows = store.query(sql, {**inst.params, **span_params(span)}).rows
    return _transition_heatmap(store, log_id, flt, rows, (inst, clk, span), period, limit, fit)


def _transition_heatmap(
    store: Store,
    log_id: int,
    flt: Filter | None,
    rows: list[tuple[object, ...]],
    how: tuple[InstancesSQL, Clock, TimeSpan],
    period: str,
    limit: int,
    fit: bool,
) -> Heatmap:
    """The heatmap of the cells ``rows`` of :func:`_transition_cells_sql` (``how``: how they were read)."""
    inst, clk, span = how
    freq: dict[str, int] = {}
    cells: dict[tuple[str, str], float] = {}
    for source, target, p, wait, n in rows:
        label = f"{source}{ARROW}{target}"
        freq[label] = freq.get(label, 0) + int(n)  # type: ignore[call-overload]
        cells[(label, p.isoformat())] = float(wait)  # type: ignore[attr-defined,arg-type]
    labels = sorted(freq, key=lambda k: (-freq[k], k))[:limit]
    kept = {p for (label, p) in cells if label in set(labels)}
    columns: list[str] = []
    if kept:
        day, last = dt.date.fromisoformat(min(kept)), dt.date.fromisoformat(max(kept))
        coarser = fitting_period(day, last, period) if fit else period
        if coarser not in {None, period}:
            found = transition_wait_heatmap(
                store,
                log_id,
                flt,
                calendar=clk.calendar,
                period=str(coarser),
                timezone=clk.timezone,
                limit=limit,
            )
            why = (
                f"per {coarser}: {period_count(day, last, period):,} {period}s are more than a chart can show"
            )
            return dataclasses.replace(found, note=why + "; " + found.note)
        check_periods(day, last, period)
        while day <= last:
            columns.append(day.isoformat())
            day = next_period(day, period)
    note = (
        f"median waiting per {period} ({'UTC' if clk.timezone == 'UTC' else f'local time, {clk.timezone}'}), "
        "by the period in which the wait ends"
        + _cut_note(len(labels), len(freq), ("most frequent", "transitions"))
    )
    if inst.source == "none":
        note += "; " + NO_STARTS_NOTE
    if clk.calendar is not None:
        note += f"; business seconds ({clk.calendar.label()})"
    if span.note:
        note += "; " + span.note
    return Heatmap(
        "median_wait", "seconds", tuple(labels), tuple(columns), _grid(cells, labels, columns), note, period
    )


def times_and_transition_heatmap(
    store: Store,
    log_id: int,
    flt: Filter | None = None,
    *,
    calendar: Calendar | None = None,
    period: str = "week",
    timezone: str | None = None,
    limit: int = 15,
    fit: bool = False,
    ordered: pa.Table | None = None,
) -> tuple[ActivityTimes, Heatmap]:
    """:func:`~mining.analysis.performance.activity_times` and :func:`transition_wait_heatmap`,
    the same records as each alone, from one windowed pass over the activity instances.

    Both need every instance's previous completion in its case, a window over all instances (the
    costliest step of each, above all in business time): here it runs once and feeds both.
    ``ordered`` is that window's result computed before (:func:`ordered_instances` of the same log
    and filter): then no window runs at all, and the calendar's lookups run in memory
    (:meth:`~mining.analysis.calendar.Clock.business_times`, no join), so another working calendar
    costs two array lookups per instant and the aggregates.
    """
    _check_period(period)
    inst = instances_sql(store, log_id, flt)
    span = robust_span(store, log_id)
    clk = clock(store, log_id, calendar, timezone=timezone, span=span)
    own = calendar if calendar is None else clock(store, log_id, calendar, span=span).calendar
    if (inst.stored_successors and inst.source == "none") or own != clk.calendar:
        # No window to share (each reads the stored successors), or the two read business time in
        # different zones (a calendar without a zone of its own, and another zone for the heatmap).
        return (
            activity_times(store, log_id, flt, calendar=calendar),
            transition_wait_heatmap(
                store, log_id, flt, calendar=calendar, period=period, timezone=timezone, limit=limit, fit=fit
            ),
        )
    name = f"_ordered_{uuid.uuid4().hex}"
    if ordered is not None:
        # The clock's lookups in memory, not as joins: B and local time of every instant (each the
        # value the SQL gives), the waits and processing times, then only the aggregates in SQL.
        store.register(name, _timed_in_memory(ordered, clk))
    timed = timed_sql(inst, clk, lags=("activity", "en")) if ordered is None else f"SELECT * FROM {name}"
    transitions = (
        "SELECT prev_activity AS source, activity AS target, prev_en AS source_end, "
        f"coalesce(st, en) AS target_start, wait{', l_at' if ordered is not None else ''} "
        "FROM d WHERE prev_en IS NOT NULL"
    )
    cells = _transition_cells_sql(transitions, clk if ordered is None else None, period)
    # One statement: the activities' rows, then the transitions' cells, told apart by ``part``.
    sql = (
        f"WITH d AS {'MATERIALIZED ' if ordered is None else ''}({timed}), "
        f"a AS ({activity_stats_sql('d')}), h AS ({cells}) "
        "SELECT 0 AS part, *, CAST(NULL AS VARCHAR) AS target, CAST(NULL AS DATE) AS p, "
        "CAST(NULL AS DOUBLE) AS cell_wait, CAST(NULL AS BIGINT) AS cell_n FROM a "
        "UNION ALL BY NAME SELECT 1 AS part, source AS activity, target, p, wait AS cell_wait, n AS cell_n FROM h"
    )
    params = span_params(span) if ordered is not None else {**inst.params, **span_params(span)}
    try:
        found = store.query(sql, params).dicts()
    finally:
        if ordered is not None:
            store.unregister(name)
    times = activity_times_record([r for r in found if r["part"] == 0], inst, clk)
    cells = [
        (r["activity"], r["target"], r["p"], r["cell_wait"], r["cell_n"]) for r in found if r["part"] == 1
    ]
    return times, _transition_heatmap(store, log_id, flt, cells, (inst, clk, span), period, limit, fit)


def _epoch(column: pa.ChunkedArray) -> np.ndarray:
    """Epoch seconds of a timestamp column (NaN for NULL), as DuckDB's ``epoch()`` gives them."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    micros = pc.cast(column, pa.timestamp("us", tz=column.type.tz)).cast(pa.int64())
    seconds = epoch_seconds(micros.fill_null(0).to_numpy())
    if micros.null_count:
        seconds[micros.is_null().to_numpy(zero_copy_only=False)] = np.nan
    return seconds


def _timed_in_memory(ordered: pa.Table, clk: Clock) -> pa.Table:
    """:func:`ordered_instances`' table plus the columns :func:`~mining.analysis.performance.timed_sql`
    adds (``b_st, b_en, b_prev, wait, proc``; B of the previous completion is B(``prev_en``), the
    value the window takes from the previous row) and ``l_at`` (the local time of the target start),
    computed with :meth:`Clock.business_times` in the SQL's order of operations, so the values are
    the same; NULL stays NULL."""
    import numpy as np
    import pyarrow as pa

    st, en, prev = (
        numpy_column(ordered.column(f"{c}_s"))
        if f"{c}_s" in ordered.column_names
        else _epoch(ordered.column(c))
        for c in ("st", "en", "prev_en")
    )
    b_st, b_en, b_prev = (clk.business_times(t) for t in (st, en, prev))
    with np.errstate(invalid="ignore"):
        gap = np.where(np.isnan(b_st), b_en, b_st) - b_prev
        wait = np.where(gap < 0, 0.0, gap)
        proc = b_en - b_st
    l_at = clk.local_epochs(np.where(np.isnan(st), en, st))
    table = ordered
    for column, values in (
        ("b_st", b_st),
        ("b_en", b_en),
        ("b_prev", b_prev),
        ("wait", wait),
        ("proc", proc),
        ("l_at", l_at),
    ):
        table = table.append_column(column, pa.array(values, pa.float64(), mask=np.isnan(values)))
    return table


def ordered_instances(store: Store, log_id: int, flt: Filter | None = None) -> pa.Table:
    """The activity instances of ``log_id`` under ``flt`` with their previous completion in the case
    (:func:`~mining.analysis.performance.ordered_sql`), as an Arrow table for
    :func:`times_and_transition_heatmap`'s ``ordered``; names are dictionary-encoded (a few
    distinct activities over a million rows)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    inst = instances_sql(store, log_id, flt)
    table = store.arrow(ordered_sql(inst), inst.params)
    for column in ("activity", "prev_activity"):
        i = table.schema.get_field_index(column)
        table = table.set_column(i, column, pc.dictionary_encode(table.column(column)))
    # The instants as epoch seconds, which no working calendar changes: read once per filter, not at
    # each change of the hours.
    for column in ("st", "en", "prev_en"):
        seconds = _epoch(table.column(column))
        table = table.append_column(f"{column}_s", pa.array(seconds, pa.float64(), mask=np.isnan(seconds)))
    return table


def load_heatmap(
    store: Store,
    log_id: int,
    flt: Filter | None = None,
    *,
    calendar: Calendar | None = None,
    timezone: str | None = None,
    limit: int | None = None,
) -> Heatmap:
    """Activity x weekday-hour (``"Mon 09"``) → activity instances completed in that local hour."""
    inst = instances_sql(store, log_id, flt, starts=False)
    span = robust_span(store, log_id)
    clk = clock(store, log_id, calendar, timezone=timezone, span=span)
    local = clk.extend(inst.sql, local={"l_en": "en"})
    day = "floor(l_en / 86400)"
    # ISO weekday - 1 (Monday = 0): 1970-01-01, day 0, was a Thursday.
    weekday = f"(({day} + 3) - 7 * floor(({day} + 3) / 7))"
    hour = f"floor((l_en - 86400 * {day}) / 3600)"
    sql = (
        f"SELECT activity, CAST({weekday} * 24 + {hour} AS INTEGER) AS slot, count(*) AS n "
        f"FROM ({local}) x WHERE l_en IS NOT NULL AND {within_sql('en')} GROUP BY 1, 2"
    )
    totals: dict[str, int] = {}
    cells: dict[tuple[str, str], float] = {}
    midnight = True
    for activity, slot, n in store.query(sql, {**inst.params, **span_params(span)}).rows:
        totals[activity] = totals.get(activity, 0) + int(n)
        cells[(activity, WEEKDAY_HOURS[int(slot)])] = float(n)
        midnight = midnight and int(slot) % 24 == 0
    labels = sorted(totals, key=lambda k: (-totals[k], k))[:limit]
    columns = list(WEEKDAY_HOURS)
    note = (
        f"activity instances by the local weekday and hour of their completion ({clk.timezone}); "
        "Monday first" + _cut_note(len(labels), len(totals), ("most frequent", "activities"))
    )
    if midnight and totals:
        # Road Traffic Fines: seven thin stripes at 00 on an empty grid, read as "all work at midnight".
        note = (
            "the log's times are dates only (every event at midnight): the hour of the day is unknown, so "
            "only the weekdays tell; " + note
        )
    if span.note:
        note += "; " + span.note
    return Heatmap("instances", "count", tuple(labels), tuple(columns), _grid(cells, labels, columns), note)


def resource_heatmap(
    store: Store,
    log_id: int,
    flt: Filter | None = None,
    *,
    calendar: Calendar | None = None,
    metric: str = "count",
    limit: int = 30,
    column_limit: int | None = None,
) -> Heatmap:
    """Resource x activity → instances (``metric="count"``) or median processing time (``"processing"``).

    Rows are the ``limit`` busiest resources, columns the ``column_limit`` most
    frequent activities (all by default); instances without a resource are left out.
    """
    if metric not in {"count", "processing"}:
        msg = f"unknown metric {metric!r}; expected 'count' or 'processing'"
        raise AnalysisError(msg)
    inst = instances_sql(store, log_id, flt)
    clk = clock(store, log_id, calendar)
    sql = (
        "SELECT resource, activity, count(*) AS n, median(b_en - b_st) AS proc "
        f"FROM ({instance_times_sql(inst, clk)}) x WHERE resource IS NOT NULL GROUP BY 1, 2"
    )
    by_resource: dict[str, int] = {}
    by_activity: dict[str, int] = {}
    cells: dict[tuple[str, str], float] = {}
    for resource, activity, n, proc in store.query(sql, inst.params).rows:
        by_resource[resource] = by_resource.get(resource, 0) + int(n)
        by_activity[activity] = by_activity.get(activity, 0) + int(n)
        value = float(n) if metric == "count" else (None if proc is None else float(proc))
        if value is not None:
            cells[(resource, activity)] = value
    labels = sorted(by_resource, key=lambda k: (-by_resource[k], k))[:limit]
    columns = sorted(by_activity, key=lambda k: (-by_activity[k], k))[:column_limit]
    cut = _cut_note(len(labels), len(by_resource), ("busiest", "resources")) + _cut_note(
        len(columns), len(by_activity), ("most frequent", "activities")
    )
    if metric == "count":
        note = "activity instances per resource" + cut
        return Heatmap(
            "instances", "count", tuple(labels), tuple(columns), _grid(cells, labels, columns), note
        )
    note = "median processing time (start to completion) per resource and activity" + cut
    if inst.source == "none":
        note = NO_STARTS_NOTE
    elif clk.calendar is not None:
        note += f"; business seconds ({clk.calendar.label()})"
    return Heatmap(
        "median_processing", "seconds", tuple(labels), tuple(columns), _grid(cells, labels, columns), note
    )
