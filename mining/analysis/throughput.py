"""Throughput and work in progress per day, week or month, in local time.

A case **starts** at its first instant (the earliest start or completion of
its events) and **completes** at its last completion; a case still running
when the export was taken counts as completed at its last event, because a
log does not say which cases are finished.  Its **cycle time** runs from start
to completion (business seconds under a calendar).

Periods are local calendar days, ISO weeks (Monday first) or months in the
calendar's time zone, else ``timezone``, else the log's.  A case is **open**
at the start of a period when it started before the period and completes in
it or later; the count is derived from the started and completed counts of
the periods before, so it is exact at period boundaries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mining.analysis.calendar import Calendar, Clock, clock
from mining.analysis.filters import Filter, case_selection, events_relation
from mining.analysis.span import (
    TimeSpan,
    check_periods,
    fitting_period,
    period_count,
    robust_span,
    span_params,
    within_sql,
)
from mining.errors import AnalysisError

if TYPE_CHECKING:
    from mining.store import Store

__all__ = [
    "PERIODS",
    "PeriodCount",
    "Throughput",
    "WipPoint",
    "WorkInProgress",
    "cases_sql",
    "next_period",
    "period_sql",
    "period_starts",
    "throughput",
    "work_in_progress",
]

PERIODS = ("day", "week", "month")
_EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class PeriodCount:
    """One period: cases started and completed in it, and the median cycle time of those completed."""

    period: dt.date  # local first day of the period
    started: int
    completed: int
    cycle_median_s: float | None
    open_at_start: int


@dataclass(frozen=True)
class Throughput:
    period: str
    timezone: str
    periods: tuple[PeriodCount, ...]  # contiguous, oldest first
    business_time: bool
    note: str


@dataclass(frozen=True)
class WipPoint:
    at: dt.date  # local midnight starting the period
    open_cases: int


@dataclass(frozen=True)
class WorkInProgress:
    period: str
    timezone: str
    points: tuple[WipPoint, ...]

    @property
    def peak(self) -> WipPoint | None:
        return max(self.points, key=lambda p: p.open_cases, default=None)


def period_sql(local_epoch: str, period: str) -> str:
    """SQL for the local first day (a DATE) of the day, ISO week or month holding a local epoch.

    Day numbers come from plain arithmetic (1970-01-01 was a Thursday, so
    ``(day + 3) mod 7`` is 0 on Mondays); no time-zone function runs per row.
    """
    if period not in PERIODS:
        msg = f"unknown period {period!r}; expected one of {', '.join(PERIODS)}"
        raise AnalysisError(msg)
    day = f"floor(({local_epoch}) / 86400)"
    if period == "week":
        day = f"({day} - (({day} + 3) - 7 * floor(({day} + 3) / 7)))"
    date = f"(DATE '1970-01-01' + CAST({day} AS INTEGER))"
    if period == "month":
        return f"CAST(date_trunc('month', {date}) AS DATE)"
    return date


def period_starts(local_epoch: Any, period: str) -> list[dt.date | None]:
    """:func:`period_sql` over an array of local epochs (NaN: None), in numpy.

    For facts already fetched: a monitor run switching from weeks to months
    needs no second query.
    """
    import numpy as np

    if period not in PERIODS:
        msg = f"unknown period {period!r}; expected one of {', '.join(PERIODS)}"
        raise AnalysisError(msg)
    epoch = np.asarray(local_epoch, dtype=float)
    known = ~np.isnan(epoch)
    day = np.floor(epoch[known] / 86400).astype(np.int64)
    if period == "week":
        day = day - (day + 3) % 7  # numpy's % is a floor modulo, like the SQL's
    first = day.astype("datetime64[D]")
    if period == "month":
        first = first.astype("datetime64[M]").astype("datetime64[D]")
    distinct, inverse = np.unique(first, return_inverse=True)
    dates = [d.item() for d in distinct]
    if known.all():
        return [dates[k] for k in inverse.tolist()]
    out: list[dt.date | None] = [None] * len(epoch)
    for i, k in zip(np.flatnonzero(known).tolist(), inverse.tolist(), strict=True):
        out[i] = dates[k]
    return out


def cases_sql(store: Store, log_id: int, flt: Filter | None) -> tuple[str, dict[str, Any]]:
    """SQL for the kept cases: ``case_no, first, last`` (instants)."""
    flt = flt or Filter()
    has_start = bool(store.scalar("SELECT has_start FROM logs WHERE log_id = ?", [log_id]))
    if flt.projects_events or has_start:
        ev = events_relation(store, log_id, flt)
        sql = (
            "SELECT case_no, min(least(coalesce(start_ts, ts), ts)) AS first, max(ts) AS last "
            f"FROM ({ev.sql}) ev GROUP BY case_no"
        )
        return sql, ev.params
    params: dict[str, Any] = {"f_log": log_id}
    sql = "SELECT case_no, start_ts AS first, end_ts AS last FROM cases WHERE log_id = $f_log"
    if not flt.is_empty:
        sql += f" AND case_no IN ({case_selection(store, log_id, flt, params)})"
    return sql, params


def _counts(
    store: Store,
    log_id: int,
    flt: Filter | None,
    clk: Clock,
    period: str,
    span: TimeSpan,
    *,
    fit: bool = False,
) -> tuple[list[tuple[dt.date, int, int, float | None]], int, str]:
    cases, params = cases_sql(store, log_id, flt)
    params.update(span_params(span))
    ext = clk.extend(
        cases, times={"b_first": "first", "b_last": "last"}, local={"l_first": "first", "l_last": "last"}
    )
    # A start or completion dated outside the log's robust range counts in no period.
    sql = (
        f"WITH c AS ({ext}), "
        f"s AS (SELECT {period_sql('l_first', period)} AS p, count(*) AS n FROM c "
        f"WHERE {within_sql('first')} GROUP BY 1), "
        f"e AS (SELECT {period_sql('l_last', period)} AS p, count(*) AS n, "
        f"median(b_last - b_first) FILTER (WHERE {within_sql('first')}) AS cycle "
        f"FROM c WHERE {within_sql('last')} GROUP BY 1) "
        "SELECT coalesce(s.p, e.p) AS p, coalesce(s.n, 0), coalesce(e.n, 0), e.cycle "
        "FROM s FULL OUTER JOIN e ON s.p = e.p ORDER BY 1"
    )
    rows = [
        (r[0], int(r[1]), int(r[2]), None if r[3] is None else float(r[3]))
        for r in store.query(sql, params).rows
    ]
    outside = sum(1 for r in rows if r[0] is None)
    kept = [r for r in rows if r[0] is not None]
    if kept and fit:
        coarser = fitting_period(kept[0][0], kept[-1][0], period)
        if coarser not in {None, period}:
            return _counts(store, log_id, flt, clk, str(coarser), span)
    if kept:
        check_periods(kept[0][0], kept[-1][0], period)
    return kept, outside, period


def next_period(day: dt.date, period: str) -> dt.date:
    """The first day of the period after the one starting on ``day``."""
    if period == "day":
        return day + dt.timedelta(days=1)
    if period == "week":
        return day + dt.timedelta(days=7)
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _series(rows: list[tuple[dt.date, int, int, float | None]], period: str) -> list[PeriodCount]:
    found = {r[0]: r for r in rows}
    out: list[PeriodCount] = []
    if not rows:
        return out
    day, last = rows[0][0], rows[-1][0]
    open_now = 0
    while day <= last:
        _, started, completed, cycle = found.get(day, (day, 0, 0, None))
        out.append(PeriodCount(day, started, completed, cycle, open_now))
        open_now += started - completed
        day = next_period(day, period)
    return out


def throughput(
    store: Store,
    log_id: int,
    flt: Filter | None = None,
    *,
    calendar: Calendar | None = None,
    period: str = "week",
    timezone: str | None = None,
    fit: bool = False,
) -> Throughput:
    """Cases started and completed per period, the median cycle time of those completed, and WIP.

    An axis of more than :data:`~mining.analysis.span.MAX_PERIODS` periods is
    refused (:class:`~mining.errors.AnalysisError` naming a period that fits),
    unless ``fit``: then the first coarser period that fits is used (the
    record's ``period`` says which) and the note says why.

    Examples
    --------
    >>> t = throughput(store, log_id, period="month")   # doctest: +SKIP
    >>> t.periods[0].started, t.periods[0].completed    # doctest: +SKIP
    """
    span = robust_span(store, log_id)
    clk = clock(store, log_id, calendar, timezone=timezone, span=span)
    rows, outside, used = _counts(store, log_id, flt, clk, period, span, fit=fit)
    note = f"periods are local {used}s in {clk.timezone}; cycle time = first start to last completion" + (
        f", business seconds ({clk.calendar.label()})" if clk.calendar else " (seconds)"
    )
    if span.note:
        note += "; " + span.note
    elif outside:
        note += f"; {outside} period rows fall outside 1900-2100 and are left out"
    if used != period and rows:
        wanted = period_count(rows[0][0], rows[-1][0], period)
        note = f"per {used}: {wanted:,} {period}s are more than a chart can show; " + note
    return Throughput(used, clk.timezone, tuple(_series(rows, used)), clk.business, note)


def work_in_progress(
    store: Store,
    log_id: int,
    flt: Filter | None = None,
    *,
    calendar: Calendar | None = None,
    period: str = "day",
    timezone: str | None = None,
) -> WorkInProgress:
    """Open cases at the start of each period (a daily step series by default)."""
    t = throughput(store, log_id, flt, calendar=calendar, period=period, timezone=timezone)
    return WorkInProgress(period, t.timezone, tuple(WipPoint(p.period, p.open_at_start) for p in t.periods))
