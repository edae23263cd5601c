"""The robust time range of a log: where its events really are, without placeholder and stray dates.

Exports carry dates that are no dates: SAP's "open" date 9999-12-31, Excel's
1899-12-30, a Unix zero 1970-01-01, a 0001-01-01 from an uninitialised field.
One such event stretches a log of six months over eight thousand years: a
weekly measure would count four hundred thousand periods, a duration would be
millennia.  Measures that lay the log out in time take its robust range
instead and say which events they left out.

The range is fenced from the quantiles of the event times (completion and
start), after setting aside the placeholder days of :data:`PLACEHOLDER_DAYS`:
with ``lo`` and ``hi`` the :data:`TRIM` and ``1 - TRIM`` quantiles, the fence
is ``[lo - m, hi + m]`` with ``m`` the larger of ``hi - lo`` and
:data:`MIN_MARGIN`, clipped to 1900-2100 (the calendar's table).  Every event
inside the fence is kept, so a real but rare early or late event stays in;
a placeholder day inside the fence (a log that really spans 1970) stays in too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mining.store import Store

__all__ = ["MIN_MARGIN", "PLACEHOLDER_DAYS", "TRIM", "RobustRange", "robust_range"]

#: Days that exports use for "no date"; they never set the fence.
PLACEHOLDER_DAYS = (
    dt.date(1, 1, 1),
    dt.date(1899, 12, 30),
    dt.date(1899, 12, 31),
    dt.date(1900, 1, 1),
    dt.date(1970, 1, 1),
    dt.date(9999, 12, 31),
)
#: Share of the event times below the low quantile (and above the high one) that the fence is drawn from.
TRIM = 0.001
#: The least margin on each side of the quantiles.
MIN_MARGIN = dt.timedelta(days=31)
#: The fence never reaches beyond the calendar's table.
FIRST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
LAST = dt.datetime(2100, 12, 31, 23, 59, 59, tzinfo=dt.UTC)
_EXAMPLES = 5

_QUANTILES_SQL = """
WITH t AS (
    SELECT epoch(ts) AS s FROM events WHERE log_id = $log AND NOT list_contains($days, CAST(ts AS DATE))
    UNION ALL
    SELECT epoch(start_ts) FROM events
    WHERE log_id = $log AND start_ts IS NOT NULL AND NOT list_contains($days, CAST(start_ts AS DATE))
)
SELECT quantile_cont(s, $lo), quantile_cont(s, $hi) FROM t
"""

_OUTSIDE_SQL = """
SELECT count(*) AS n, count(DISTINCT case_no) AS cases,
       coalesce(list(ex ORDER BY ex)[:$k], []) AS examples,
       (SELECT count(*) FROM events WHERE log_id = $log) AS events
FROM (
    SELECT case_no, 'case ' || case_id || ': ' || activity || ' at '
           || strftime(CASE WHEN ts < $first OR ts > $last THEN ts ELSE start_ts END, '%Y-%m-%d') AS ex
    FROM events
    WHERE log_id = $log AND (ts < $first OR ts > $last OR start_ts < $first OR start_ts > $last)
)
"""


@dataclass(frozen=True)
class RobustRange:
    """The fence of a log's event times and what lies outside it.

    ``first``/``last`` bound the kept instants (both inclusive; ``None`` for an
    empty log).  ``left_out`` events have a completion or start time outside,
    in ``cases`` cases; ``examples`` names a few (``case 12: Pay at 9999-12-31``).
    """

    first: dt.datetime | None
    last: dt.datetime | None
    events: int
    left_out: int
    cases: int
    examples: tuple[str, ...]

    @property
    def note(self) -> str:
        """One sentence on what was left out; empty when nothing was."""
        if not self.left_out or self.first is None or self.last is None:
            return ""
        return (
            f"{self.left_out:,} of {self.events:,} events (in {self.cases:,} cases) are dated outside the "
            f"data's range {self.first:%Y-%m-%d} to {self.last:%Y-%m-%d} (placeholder or stray dates such as "
            f"{'; '.join(self.examples[:3])}) and were left out."
        )


def robust_range(store: Store, log_id: int) -> RobustRange:
    """The robust range of a stored log's event times (see the module docstring).

    Examples
    --------
    >>> r = robust_range(store, log_id)            # doctest: +SKIP
    >>> r.first, r.last, r.left_out, r.note        # doctest: +SKIP
    """
    lo, hi = store.query(
        _QUANTILES_SQL, {"log": log_id, "days": list(PLACEHOLDER_DAYS), "lo": TRIM, "hi": 1 - TRIM}
    ).rows[0]
    if lo is None or hi is None:
        # Empty, or only placeholder days: nothing to fence by; keep the calendar's span.
        first, last = FIRST, LAST
    else:
        margin = max(float(hi) - float(lo), MIN_MARGIN.total_seconds())
        first = max(FIRST, _instant(float(lo) - margin))
        last = min(LAST, _instant(float(hi) + margin))
    n, cases, examples, events = store.query(
        _OUTSIDE_SQL, {"log": log_id, "first": first, "last": last, "k": _EXAMPLES}
    ).rows[0]
    return RobustRange(first, last, int(events), int(n), int(cases), tuple(examples))


def _instant(seconds: float) -> dt.datetime:
    """Epoch seconds as a UTC instant, clipped to what Python can hold."""
    low = dt.datetime(1, 1, 2, tzinfo=dt.UTC).timestamp()
    high = dt.datetime(9999, 12, 30, tzinfo=dt.UTC).timestamp()
    return dt.datetime.fromtimestamp(min(max(seconds, low), high), dt.UTC)
