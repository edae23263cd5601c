"""A max-time rule's limit: a :class:`~mining.durations.Duration`, read in elapsed or in business time.

The limit is read by the package's one duration grammar
(:func:`mining.durations.parse_duration`), so ``A -> B within 2 days`` and
``--sla "2 days"`` mean the same.  Under a business calendar a day of the
limit is one working day (the calendar's daily window, 8 h for 09-17) and a
week one working week (its working days), so "2d" reads as two business days.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mining.durations import Duration, parse_duration
from mining.errors import RuleError

if TYPE_CHECKING:
    from mining.analysis.calendar import Calendar

__all__ = ["business_seconds", "parse_limit"]


def parse_limit(text: str) -> Duration:
    """Read a limit such as ``"2d"``, ``"4h"``, ``"1d 12h"``, ``"2 days"`` or ISO 8601 ``"P2D"``; else a RuleError.

    Examples
    --------
    >>> parse_limit("1d 12h").total_seconds
    129600.0
    """
    return parse_duration(text, what="limit", error=RuleError)


def business_seconds(limit: Duration, calendar: Calendar) -> float:
    """Working seconds of ``limit``: a day is the calendar's daily window, a week its working days."""
    start, end = calendar.window()
    day = (86_400 if end is None else end.hour * 3600 + end.minute * 60) - (
        start.hour * 3600 + start.minute * 60
    )
    return (limit.weeks * len(set(calendar.workdays)) + limit.days) * day + limit.seconds
