"""Case durations (throughput times): summary statistics and a histogram.

A case's duration is its last timestamp minus its first, in seconds, as
pm4py's ``get_all_case_durations`` computes it (a one-event case lasts 0 s).
Without an event projection the ``duration_s`` stored per case at ingest is
used; with one, the duration is recomputed over the kept events, and cases
left with no event drop out.

With a business :class:`~mining.analysis.calendar.Calendar` the duration is
counted in working seconds between the same two instants, the way every
measure applies a calendar.

Percentiles use ``quantile_cont`` (linear interpolation between the closest
ranks, numpy's default); the median is ``median``.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mining.analysis.calendar import Calendar, clock
from mining.analysis.filters import Filter, case_selection, events_relation
from mining.analysis.span import TimeSpan, span_params, within_sql
from mining.errors import AnalysisError

if TYPE_CHECKING:
    from mining.store import Store

__all__ = ["DEFAULT_BINS", "CaseDurations", "all_case_durations", "case_durations"]

DEFAULT_BINS = 30

#: Durations of every case of the log, as stored.
ALL_DURATIONS_SQL = "SELECT duration_s AS d, start_ts AS t0, end_ts AS t1 FROM cases WHERE log_id = $log"

#: Durations of the selected cases from the stored per-case table.
STORED_DURATIONS_SQL = (
    "SELECT duration_s AS d, start_ts AS t0, end_ts AS t1 FROM cases WHERE log_id = $log "
    "AND case_no IN ({selection})"
)

#: Durations recomputed over the kept (projected) events.
PROJECTED_DURATIONS_SQL = "SELECT epoch(max(ts)) - epoch(min(ts)) AS d, min(ts) AS t0, max(ts) AS t1 FROM ({events}) AS e GROUP BY case_no"

STATS_SQL = """
SELECT count(*), min(d), avg(d), median(d), quantile_cont(d, 0.9), quantile_cont(d, 0.95), max(d), min(t0), max(t1)
FROM ({durations}) AS x
"""

#: Bin index ``floor((d - lo) / width)``, the maximum falling into the last bin.
HISTOGRAM_SQL = """
SELECT least(CAST(floor((d - $lo) / $width) AS INTEGER), $last) AS bin, count(*) AS n
FROM ({durations}) AS x
GROUP BY 1
"""

#: Log-spaced bins: the index of ``ln(d)`` over ``[ln lo, ln hi]``; durations below ``lo`` fall into bin -1.
LOG_HISTOGRAM_SQL = """
SELECT CASE WHEN d < $lo THEN -1
            ELSE greatest(least(CAST(floor((ln(d) - ln($lo)) / $width) AS INTEGER), $last), 0) END AS bin,
       count(*) AS n
FROM ({durations}) AS x
GROUP BY 1
"""

#: Above this ratio of the longest to the median duration, bins are spaced on a log scale.
SKEWED = 20.0

SORTED_SQL = "SELECT d FROM ({durations}) AS x ORDER BY d"


@dataclass(frozen=True)
class CaseDurations:
    """Summary of case durations in seconds; statistics are ``None`` when no case is kept.

    ``bin_edges`` has one more entry than ``bin_counts``; bin ``i`` holds
    ``bin_edges[i] <= d < bin_edges[i + 1]``, the last bin also its right
    edge.  When every case lasts the same time there is one bin ``[d, d]``.
    """

    count: int
    min_seconds: float | None
    mean_seconds: float | None
    median_seconds: float | None
    p90_seconds: float | None
    p95_seconds: float | None
    max_seconds: float | None
    bin_edges: tuple[float, ...]
    bin_counts: tuple[int, ...]
    #: The kept cases' first and last timestamps (of their kept events under a projection).
    first_ts: dt.datetime | None = None
    last_ts: dt.datetime | None = None
    #: True when the bins are spaced on a log scale (skewed durations, see :data:`SKEWED`).
    log_bins: bool = False
    #: Kept cases left out of the figures because they begin or end outside the log's robust span
    #: (a placeholder date such as 9999-12-31): not in ``count``, nor in any statistic or bin.
    left_out: int = 0

    @property
    def under_a_minute(self) -> int:
        """With log bins, the cases of the first bin, under the shortest duration of at least a
        minute: a log axis cannot place them (0 when there are none)."""
        if self.log_bins and len(self.bin_edges) > 2 and self.bin_edges[0] < 60 <= self.bin_edges[1]:
            return self.bin_counts[0]
        return 0


def case_durations(
    store: Store,
    log_id: int,
    flt: Filter | None = None,
    *,
    bins: int = DEFAULT_BINS,
    calendar: Calendar | None = None,
    log_scale: bool | None = False,
    span: TimeSpan | None = None,
) -> CaseDurations:
    """Count, min/mean/median/p90/p95/max and a histogram of case durations.

    With the log's robust ``span`` (:func:`~mining.analysis.span.robust_span`), a kept case whose
    first or last timestamp lies outside it (a placeholder date: SAP's 9999-12-31 for "open") is
    left out of every figure and counted in ``left_out``; ``first_ts`` and ``last_ts`` still cover
    every kept case.  A placeholder year 9999 would otherwise make the median case last millennia.

    The bins have equal widths; with ``log_scale=None`` (automatic) they are
    spaced on a log scale when the longest case lasts over :data:`SKEWED`
    times the median, so a few extreme cases (or a placeholder date) do not
    squeeze every other case into one bar.

    Examples
    --------
    ``store`` holds the textbook running example as log ``log``:

    >>> d = case_durations(store, log, bins=4)
    >>> d.count, d.median_seconds, d.max_seconds
    (6, 815940.0, 1576440.0)
    >>> d.bin_counts, d.bin_edges[:2]
    ((3, 1, 0, 2), (520920.0, 784800.0))
    """
    if bins < 1:
        msg = f"`bins` must be at least 1, got {bins}"
        raise AnalysisError(msg)
    params: dict[str, Any] = {}
    durations = _durations_relation(store, log_id, flt, params, calendar)
    left_out, first_all, last_all = 0, None, None
    if span is not None and not span.complete:
        params.update(span_params(span))
        left_out, first_all, last_all = store.query(
            f"SELECT count(*) FILTER (WHERE NOT coalesce({within_sql('t0')} AND {within_sql('t1')}, false)), "
            f"min(t0), max(t1) FROM ({durations}) AS x",
            params,
        ).rows[0]
        left_out = int(left_out)
        durations = (
            f"SELECT d, t0, t1 FROM ({durations}) AS r WHERE {within_sql('t0')} AND {within_sql('t1')}"
        )
    n, lo, mean, median, p90, p95, hi, first, last = store.query(
        STATS_SQL.format(durations=durations), params
    ).rows[0]
    if left_out:
        first, last = first_all, last_all
    if not n:
        return CaseDurations(0, None, None, None, None, None, None, (), (), first, last, left_out=left_out)
    lo, hi = float(lo), float(hi)
    positive = (
        store.scalar(f"SELECT min(d) FROM ({durations}) AS x WHERE d >= 60", params)
        if log_scale is not False
        else None
    )
    if log_scale is not False and positive is not None and hi / max(float(median), 60.0) > SKEWED:
        # Skewed: equal widths would put nearly every case in the first bin.  The bins run from the
        # shortest duration of at least a minute; the cases under it, which a log axis cannot place
        # (one event, a form saved as several steps, a log dated to the day), have a bin of their own.
        base = float(positive)
        width = (math.log(hi) - math.log(base)) / bins if hi > base else 1.0
        hist = dict(
            store.query(
                LOG_HISTOGRAM_SQL.format(durations=durations),
                {**params, "lo": base, "width": width, "last": bins - 1},
            ).rows
        )
        edges: tuple[float, ...] = (*(base * math.exp(width * i) for i in range(bins)), hi)
        counts: tuple[int, ...] = tuple(int(hist.get(i, 0)) for i in range(bins))
        if hist.get(-1):
            edges, counts = (lo, *edges), (int(hist[-1]), *counts)
        log_bins = True
    elif hi == lo:
        edges, counts, log_bins = (lo, hi), (int(n),), False
    else:
        width = (hi - lo) / bins
        hist = dict(
            store.query(
                HISTOGRAM_SQL.format(durations=durations),
                {**params, "lo": lo, "width": width, "last": bins - 1},
            ).rows
        )
        edges = (*(lo + i * width for i in range(bins)), hi)
        counts = tuple(int(hist.get(i, 0)) for i in range(bins))
        log_bins = False
    return CaseDurations(
        int(n),
        lo,
        float(mean),
        float(median),
        float(p90),
        float(p95),
        hi,
        edges,
        counts,
        first,
        last,
        log_bins,
        left_out,
    )


def all_case_durations(
    store: Store, log_id: int, flt: Filter | None = None, *, calendar: Calendar | None = None
) -> tuple[float, ...]:
    """Every kept case's duration in seconds, ascending (pm4py's ``get_all_case_durations``)."""
    params: dict[str, Any] = {}
    durations = _durations_relation(store, log_id, flt, params, calendar)
    return tuple(float(r[0]) for r in store.query(SORTED_SQL.format(durations=durations), params).rows)


def _durations_relation(
    store: Store, log_id: int, flt: Filter | None, params: dict[str, Any], calendar: Calendar | None = None
) -> str:
    flt = flt or Filter()
    if calendar is not None:
        # Business seconds between each kept case's first and last timestamp.
        clk = clock(store, log_id, calendar)
        rel = events_relation(store, log_id, flt)
        params.update(rel.params)
        spans = f"SELECT min(ts) AS t0, max(ts) AS t1 FROM ({rel.sql}) AS e GROUP BY case_no"
        return f"SELECT d, t0, t1 FROM ({clk.extend(spans, durations={'d': ('t0', 't1')})}) AS y"
    if flt.projects_events:
        rel = events_relation(store, log_id, flt)
        params.update(rel.params)
        return PROJECTED_DURATIONS_SQL.format(events=rel.sql)
    params["log"] = log_id
    if flt.is_empty:
        return ALL_DURATIONS_SQL
    return STORED_DURATIONS_SQL.format(selection=case_selection(store, log_id, flt, params))
