"""The zone an export's written offsets keep, to show the log in when the user chose none.

A time that writes its offset (``2011-10-01T00:38:44+02:00``, as XES and most
APIs write) is an instant whatever zone the log is read in; but the log's zone
is also where the hours of the day, the weekdays, the weeks and the working
calendar are read.  Left at UTC, a log written in Chicago showed its night
shift at noon and its Monday mornings on Sunday, labelled "the log's time zone".

So when every sampled time writes an offset and some offset is not UTC's, the
log is shown in the first zone of a short list that gives each sampled instant
the offset written beside it: a rule set's own name where the tz database has
one (``CET`` for +01:00/+02:00 switching on the EU's dates, ``EST5EDT``), a
fixed zone for an offset that never changes (``EST``), else ``Etc/GMT-N`` for a
whole hour.  Every zone that passes reads each time as the file wrote it, so
the choice only names the clock; the summary says which one and how to pick
another.  Nothing is shown differently when no zone fits (the times stay in UTC).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from mining.ingest.timestamps import ISO, TimestampFormat

if TYPE_CHECKING:
    from mining.store import Store

__all__ = ["OffsetZone", "zone_from_offsets"]

#: Tried in order; the first that keeps every sampled offset names the log's clock.  Rule sets
#: before cities; a city only where it is the usual name of its offset.
_CANDIDATES = (
    "CET",
    "EET",
    "Europe/London",
    "WET",
    "EST5EDT",
    "CST6CDT",
    "MST7MDT",
    "PST8PDT",
    "EST",
    "MST",
    "HST",
    "America/Anchorage",
    "Europe/Moscow",
    "Europe/Istanbul",
    "Asia/Dubai",
    "Asia/Karachi",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Dhaka",
    "Asia/Bangkok",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Australia/Brisbane",
    "Australia/Adelaide",
    "Australia/Darwin",
    "Australia/Perth",
    "Pacific/Auckland",
    "America/Sao_Paulo",
    "America/Argentina/Buenos_Aires",
    "America/Santiago",
    "America/Mexico_City",
    "America/Bogota",
    "America/Caracas",
    "America/Halifax",
    "America/St_Johns",
    "Africa/Johannesburg",
    "Africa/Lagos",
    "Africa/Nairobi",
    "Africa/Cairo",
)

#: Values read from the head of the column and from a sample of the rest.
_HEAD = 2_000
_SPREAD = 5_000

#: An ISO time's written offset, in minutes east of UTC (``Z`` is 0); NULL where it writes none.
_OFFSET_MINUTES = (
    "CASE WHEN regexp_matches(v, '[Zz]$') THEN 0 "
    "WHEN regexp_matches(v, '[T ]\\d{1,2}:\\d{2}.*[+-]\\d{2}(:?\\d{2})?$') THEN "
    "(CASE WHEN regexp_extract(v, '([+-])\\d{2}(:?\\d{2})?$', 1) = '-' THEN -1 ELSE 1 END) * "
    "(CAST(regexp_extract(v, '[+-](\\d{2})(:?(\\d{2}))?$', 1) AS INTEGER) * 60 + "
    "coalesce(TRY_CAST(regexp_extract(v, '[+-](\\d{2})(:?(\\d{2}))?$', 3) AS INTEGER), 0)) END"
)


@dataclass(frozen=True)
class OffsetZone:
    """The zone the log is shown in, and the offsets the file wrote (``+01:00``), in order."""

    zone: str
    offsets: tuple[str, ...]


def zone_from_offsets(store: Store, table: str, column_sql: str, fmt: TimestampFormat) -> OffsetZone | None:
    """The zone keeping every offset an ISO 8601 column writes; None when a sampled value writes
    none, when all are UTC's, or when no zone of the list keeps them all."""
    if fmt.pattern != ISO or fmt.zoned:
        return None
    rows = store.query(
        "WITH s AS ("
        f"  (SELECT trim({column_sql}) AS v FROM {table} WHERE {column_sql} IS NOT NULL LIMIT {_HEAD})"
        "   UNION ALL"
        f"  (SELECT trim({column_sql}) AS v FROM {table} WHERE {column_sql} IS NOT NULL"
        f"   USING SAMPLE reservoir({_SPREAD} ROWS) REPEATABLE (7))"
        f"), o AS (SELECT try_cast(v AS TIMESTAMPTZ) AS t, {_OFFSET_MINUTES} AS m FROM s WHERE v <> '') "
        # One instant per day and offset (its first and last) checks a zone's rules on every day sampled.
        "SELECT m, min(t), max(t) FROM o "
        "WHERE t IS NOT NULL GROUP BY m, date_trunc('day', t) ORDER BY m"
    ).rows
    if not rows or any(r[0] is None for r in rows):
        return None
    # A placeholder date (0001-01-01, 9999-12-31) is no clock reading, and no zone east or west of UTC
    # can hold one at the calendar's end: the zone is judged by the other instants.
    checks = [(int(m), t) for m, first, last in rows for t in (first, last) if 1 < t.year < 9999]
    if all(m == 0 for m, _ in checks):
        return None
    offsets = tuple(_offset_text(m) for m in sorted({m for m, _ in checks}))
    for name in (*_CANDIDATES, *_whole_hours({m for m, _ in checks})):
        zone = ZoneInfo(name)
        if all(_minutes(t.astimezone(zone).utcoffset()) == m for m, t in checks):
            return OffsetZone(name, offsets)
    return None


def _whole_hours(minutes: set[int]) -> tuple[str, ...]:
    """The tz database's fixed zone for one whole-hour offset (its sign is POSIX's: Etc/GMT-1 is +01:00)."""
    if len(minutes) != 1 or next(iter(minutes)) % 60:
        return ()
    hours = next(iter(minutes)) // 60
    return (f"Etc/GMT{-hours:+d}",) if -14 <= -hours <= 12 else ()


def _minutes(delta: dt.timedelta | None) -> int:
    return 0 if delta is None else int(delta.total_seconds() // 60)


def _offset_text(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    h, m = divmod(abs(minutes), 60)
    return f"{sign}{h:02d}:{m:02d}"
