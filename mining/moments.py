"""Instants as people read them: on the wall clock of the log's time zone.

Events are stored in UTC; every page, report and command shows them where the
log was recorded, so an hour, a day and a span read as in the source system.
Exports carry placeholder dates (9999-12-31, 0001-01-01) that no zone east or
west of UTC can hold: those stay in UTC, and say so, rather than fail.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

__all__ = ["local_text"]


def local_text(value: dt.datetime | None, zone: str, fmt: str = "%Y-%m-%d %H:%M", *, none: str = "-") -> str:
    """``value`` on ``zone``'s wall clock, written by ``fmt``; ``none`` for no value.

    A naive value is taken as written.  One beyond the calendar's ends in ``zone`` (a placeholder such as
    9999-12-31 23:30 UTC, which is past the year 9999 in Berlin) is written in UTC, with "UTC" after it.

    >>> local_text(dt.datetime(2024, 3, 1, 8, 0, tzinfo=dt.UTC), "Europe/Amsterdam")
    '2024-03-01 09:00'
    >>> local_text(dt.datetime(9999, 12, 31, 23, 30, tzinfo=dt.UTC), "CET")
    '9999-12-31 23:30 UTC'
    """
    if value is None:
        return none
    if value.tzinfo is None:
        return _write(value, fmt)
    try:
        return _write(value.astimezone(ZoneInfo(zone)), fmt)
    except OverflowError:
        return _write(value.astimezone(dt.UTC), fmt) + " UTC"


def _write(value: dt.datetime, fmt: str) -> str:
    # The C library writes year 1 as "1", not "0001".
    return value.strftime(fmt.replace("%Y", f"{value.year:04d}"))
