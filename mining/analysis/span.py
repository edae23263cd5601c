"""The robust time range of a log: where its events really lie, without placeholder dates.

Exports carry dates that are not moments: SAP writes ``9999-12-31`` for "still
open", other systems ``0001-01-01``, ``1900-01-01`` or ``1970-01-01`` for
"unknown", and a typed ``2202`` for ``2022`` goes through.  One such date
stretches a weekly axis over thousands of years.  Measures that lay time out
(periods, heatmaps, monitoring) therefore work on the range of
:func:`robust_span`, leave out the events dated outside it, and say so with
:attr:`TimeSpan.note`.

The rule, on the instants of the log's events (completion and start times):

1. **Bulk.**  Of the cases' first and last completion times, leave aside
   those on a known placeholder day (:data:`PLACEHOLDER_DAYS`) and outside
   :data:`EARLIEST` to :data:`LATEST`; of the rest take the 0.5 % and 99.5 %
   quantiles (interpolated, so DuckDB and Spark agree; the fence below
   is what decides, and the range itself is made of instants of the data).
2. **Fence.**  Widen the bulk by :data:`FENCE` times its width (at least
   :data:`MIN_WIDTH`) on each side, and clip to 1900-2100.  A real long tail
   (1 % of the events spread over the five years before the bulk) stays
   inside; a placeholder or a typo lies centuries away and falls out.
3. **Range.**  Every event with an instant (completion or start) outside the
   fence is left out; the range runs from the first to the last instant
   inside it.  A log of the 1970s keeps its 1970-01-01 events: only the fence
   decides.

When every instant is a placeholder the range is the 1900-2100 part of the
data, and when none is left, the range is empty (``first is None``).

Period counts are bounded too: :func:`check_periods` refuses an axis of more
than :data:`MAX_PERIODS` periods, naming a coarser one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mining.errors import AnalysisError

if TYPE_CHECKING:
    from mining.store import Store

__all__ = [
    "EARLIEST",
    "FENCE",
    "LATEST",
    "MAX_PERIODS",
    "MIN_WIDTH",
    "PLACEHOLDER_DAYS",
    "TimeSpan",
    "check_periods",
    "fitting_period",
    "period_count",
    "robust_span",
    "span_params",
    "within_sql",
]

#: Days that exports use for "unknown" or "open" rather than a moment.
PLACEHOLDER_DAYS = (
    dt.date(1, 1, 1),
    dt.date(1899, 12, 30),
    dt.date(1899, 12, 31),
    dt.date(1900, 1, 1),
    dt.date(1970, 1, 1),
    dt.date(9999, 12, 31),
)
#: No range reaches beyond these (the calendar tables stop there too).
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2100, 12, 31)
#: The bulk is widened by this many times its width on each side.
FENCE = 3.0
#: The narrowest bulk the fence is computed from: a log of one day may still have events a few weeks off.
MIN_WIDTH = dt.timedelta(days=7)
#: The most periods a time axis may have; more is refused with a coarser period named.
MAX_PERIODS = 5_000
_QUANTILES = (0.005, 0.995)
_EPOCH_DAY = dt.date(1970, 1, 1)
_FIRST = dt.datetime.combine(EARLIEST, dt.time(), dt.UTC)
_LAST = dt.datetime.combine(LATEST + dt.timedelta(days=1), dt.time(), dt.UTC) - dt.timedelta(microseconds=1)

# The bulk comes from the cases' first and last completion times (a case's extreme instants
# are among them, and there are far fewer cases than events); start times enter through
# their minimum and maximum, which is all the fence test needs of them.
_CASE_INSTANTS = (
    "SELECT epoch(start_ts) AS x FROM cases WHERE log_id = $log "
    "UNION ALL SELECT epoch(end_ts) FROM cases WHERE log_id = $log"
)
_PLACEHOLDER = "list_contains($days, CAST(floor(x / 86400) AS BIGINT))"
_BULK_SQL = f"""
SELECT quantile_cont(x, {_QUANTILES[0]}) FILTER (WHERE x BETWEEN $lo AND $hi AND NOT {_PLACEHOLDER}),
       quantile_cont(x, {_QUANTILES[1]}) FILTER (WHERE x BETWEEN $lo AND $hi AND NOT {_PLACEHOLDER}),
       quantile_cont(x, {_QUANTILES[0]}) FILTER (WHERE x BETWEEN $lo AND $hi),
       quantile_cont(x, {_QUANTILES[1]}) FILTER (WHERE x BETWEEN $lo AND $hi),
       least(min(x), (SELECT epoch(min(start_ts)) FROM events WHERE log_id = $log)),
       greatest(max(x), (SELECT epoch(max(start_ts)) FROM events WHERE log_id = $log)),
       (SELECT sum(n_events) FROM cases WHERE log_id = $log)
FROM ({_CASE_INSTANTS}) AS t
"""
_OUTSIDE_SQL = """
SELECT least(min(ts) FILTER (WHERE ts BETWEEN $first AND $last),
             min(start_ts) FILTER (WHERE start_ts BETWEEN $first AND $last)),
       greatest(max(ts) FILTER (WHERE ts BETWEEN $first AND $last),
                max(start_ts) FILTER (WHERE start_ts BETWEEN $first AND $last)),
       count(*) FILTER (WHERE ts NOT BETWEEN $first AND $last OR start_ts NOT BETWEEN $first AND $last),
       coalesce(list(DISTINCT strftime(CASE WHEN ts NOT BETWEEN $first AND $last THEN ts ELSE start_ts END,
                                       '%Y-%m-%d'))
                FILTER (WHERE ts NOT BETWEEN $first AND $last OR start_ts NOT BETWEEN $first AND $last), [])
FROM events
WHERE log_id = $log
"""


@dataclass(frozen=True)
class TimeSpan:
    """The robust range ``first`` to ``last`` (both inclusive, UTC) of a log's event instants.

    ``earliest``/``latest`` are the extreme instants of the data, outliers
    included; ``left_out`` counts the events with an instant (completion or
    start) outside the range, and ``examples`` names up to five of their dates.
    """

    first: dt.datetime | None
    last: dt.datetime | None
    earliest: dt.datetime | None
    latest: dt.datetime | None
    events: int
    left_out: int
    examples: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        """True when no event lies outside the range."""
        return self.left_out == 0

    @property
    def note(self) -> str:
        """A sentence for a measure's note: which events were left out, or ``""``."""
        if self.complete:
            return ""
        where = (
            "no usable range"
            if self.first is None or self.last is None
            else f"{self.first:%Y-%m-%d} to {self.last:%Y-%m-%d}"
        )
        seen = ", ".join(self.examples)
        return (
            f"{self.left_out:,} event{'' if self.left_out == 1 else 's'} dated outside the log's "
            f"main range ({where}) {'is' if self.left_out == 1 else 'are'} left out"
            + (f": {seen}" if seen else "")
            + " (placeholder dates or typing errors)"
        )

    def contains(self, instant: dt.datetime) -> bool:
        return self.first is not None and self.last is not None and self.first <= instant <= self.last


def robust_span(store: Store, log_id: int) -> TimeSpan:
    """The robust range of a log's event instants (see the module docstring for the rule).

    Examples
    --------
    ``store`` holds a log whose 40 events lie in 2024, and one event dated 9999-12-31:

    >>> s = robust_span(store, log)                     # doctest: +SKIP
    >>> s.first.year, s.last.year, s.left_out, s.examples  # doctest: +SKIP
    (2024, 2024, 1, ('9999-12-31',))
    """
    params: dict[str, Any] = {
        "log": log_id,
        "lo": _FIRST.timestamp(),
        "hi": _LAST.timestamp(),
        "days": [(d - _EPOCH_DAY).days for d in PLACEHOLDER_DAYS],
    }
    bulk_lo, bulk_hi, dated_lo, dated_hi, lo, hi, n = store.query(_BULK_SQL, params).rows[0]
    if not n:
        return TimeSpan(None, None, None, None, 0, 0)
    earliest, latest = _instant(lo), _instant(hi)
    q = (bulk_lo, bulk_hi) if bulk_lo is not None else (dated_lo, dated_hi)
    if q[0] is None:
        # Every instant lies outside 1900-2100: nothing is left to lay out.
        return TimeSpan(None, None, earliest, latest, int(n), _events(store, log_id), ())
    width = max(float(q[1]) - float(q[0]), MIN_WIDTH.total_seconds())
    fence_first = max(float(q[0]) - FENCE * width, _FIRST.timestamp())
    fence_last = min(float(q[1]) + FENCE * width, _LAST.timestamp())
    if fence_first <= float(lo) and fence_last >= float(hi):
        return TimeSpan(earliest, latest, earliest, latest, int(n), 0)
    first, last, count, examples = store.query(
        _OUTSIDE_SQL, {"log": log_id, "first": _instant(fence_first), "last": _instant(fence_last)}
    ).rows[0]
    # The range is the data inside the fence, so an axis starts at the first real event.
    return TimeSpan(
        _utc(first), _utc(last), earliest, latest, int(n), int(count), tuple(sorted(examples)[:5])
    )


def span_params(span: TimeSpan, prefix: str = "span") -> dict[str, Any]:
    """The bound values :func:`within_sql` refers to (``$span_first``, ``$span_last``)."""
    if span.first is None or span.last is None:
        # An empty range: a condition that no instant meets.
        return {f"{prefix}_first": _LAST, f"{prefix}_last": _FIRST}
    return {f"{prefix}_first": span.first, f"{prefix}_last": span.last}


def within_sql(column: str, prefix: str = "span") -> str:
    """SQL true when the instant ``column`` (an internal expression) lies in the range; NULL stays NULL."""
    return f"({column} BETWEEN ${prefix}_first AND ${prefix}_last)"


def period_count(first: dt.date, last: dt.date, period: str) -> int:
    """How many days, ISO weeks or months an axis from ``first`` to ``last`` has (both included)."""
    if last < first:
        return 0
    if period == "day":
        return (last - first).days + 1
    if period == "week":
        return (last - first).days // 7 + 1 + (1 if last.isoweekday() < first.isoweekday() else 0)
    if period == "month":
        return (last.year - first.year) * 12 + last.month - first.month + 1
    msg = f"unknown period {period!r}; expected day, week or month"
    raise AnalysisError(msg)


def fitting_period(first: dt.date, last: dt.date, period: str) -> str | None:
    """``period``, or the first coarser one (day, week, month) whose axis holds at most
    :data:`MAX_PERIODS` periods; ``None`` when even months are too many."""
    order = ("day", "week", "month")
    return next(
        (p for p in order[order.index(period) :] if period_count(first, last, p) <= MAX_PERIODS), None
    )


def check_periods(first: dt.date, last: dt.date, period: str) -> None:
    """Refuse an axis of more than :data:`MAX_PERIODS` periods, naming a period that fits."""
    n = period_count(first, last, period)
    if n <= MAX_PERIODS:
        return
    order = ("day", "week", "month")
    coarser = [p for p in order[order.index(period) + 1 :] if period_count(first, last, p) <= MAX_PERIODS]
    hint = f"count per {coarser[0]}" if coarser else "narrow the time window"
    msg = (
        f"{first:%Y-%m-%d} to {last:%Y-%m-%d} makes {n:,} {period}s; "
        f"a time axis holds at most {MAX_PERIODS:,}"
    )
    raise AnalysisError(msg, hint=hint)


def _instant(epoch: float) -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=float(epoch))


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else value.astimezone(dt.UTC)


def _events(store: Store, log_id: int) -> int:
    return int(store.scalar("SELECT count(*) FROM events WHERE log_id = ?", [log_id]) or 0)
