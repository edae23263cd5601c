"""Working calendars: business seconds between two instants, and local time, in SQL.

A :class:`Calendar` says when work can happen: working weekdays, a daily
window (09:00-17:00 local), a country's public holidays (``holidays``
package) and extra closed days.  Every measure turns a duration into business
seconds the same way, through a :class:`Clock`.

How it is fast
--------------
For the log's time span we build, in Python, a small table of *buckets*: one
row per day of 86,400 seconds in a fixed frame (the zone's offset on 1 January
of the first year, so a bucket is a local standard-time day).  Each row holds

* ``cum``: working seconds in all earlier buckets;
* ``s1, l1, s2, l2``: at most two working pieces inside the bucket, as UTC
  epoch start and length (one for an ordinary 09-17 day; two only when a window
  touches local midnight and daylight saving shifts it across a bucket edge);
* ``sw, o1, o2``: the UTC offset before and after the one offset change the
  bucket may contain, so local time is exact across DST.

Working windows are built per *local* date in the calendar's zone and
converted to UTC per day, so DST is honoured; a holiday or a closed weekday is
simply a day without a window.  Then for an instant ``t`` (epoch seconds) in
bucket ``k = floor((t + base_offset) / 86400)``::

    B(t) = cum[k] + clamp(t - s1[k], 0, l1[k]) + clamp(t - s2[k], 0, l2[k])

is the working time since the start of the table, and the business duration
from ``a`` to ``b`` is ``B(b) - B(a)``.  In SQL that is one equi-join on an
integer per instant, no time-zone conversion per row and no Python per row;
:meth:`Calendar.business_seconds` evaluates the very same rows in Python.

Local time (for heatmaps and periods) uses the same join:
``local = t + (o1 if t < sw else o2)``.

Instants already in memory (a numpy array of epoch seconds) need no join:
:meth:`Clock.business_times` and :meth:`Clock.local_epochs` index the same rows
by ``k`` and evaluate the same expressions in the same order, so they give the
very values of the SQL (two array lookups per instant instead of a hash join).

Notes
-----
* Instants outside the table (before 1900, after 2100, or outside the log's
  span) get no bucket, so their durations are ``NULL`` and are left out.
* A log with dates only (every timestamp at midnight) still works: a midnight
  lies before the day's window, so a duration counts the full working days in
  between, and two events on the same day are 0 business seconds apart.
* ISO weekdays: Monday = 1 ... Sunday = 7.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mining.analysis.span import EARLIEST, LATEST, TimeSpan, robust_span
from mining.errors import AnalysisError

if TYPE_CHECKING:
    import numpy as np

    from mining.store import Store

__all__ = [
    "WEEKDAY_NAMES",
    "Calendar",
    "Clock",
    "business_seconds_sql",
    "clock",
    "epoch_seconds",
    "holiday_countries",
    "holiday_regions",
    "parse_hours",
]

DAY = 86_400
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: The table never reaches beyond these dates (placeholder dates such as 9999-12-31).
FIRST_DATE = EARLIEST
LAST_DATE = LATEST
_NO_SWITCH = 1e18  # sw when the bucket has no offset change
_BLOCK = 1024  # tables cover whole blocks of days, so they cache across nearby spans


@dataclass(frozen=True)
class Calendar:
    """When work can happen.  The default is Mon-Fri 09:00-17:00 in the log's time zone.

    ``start_hour``/``end_hour`` take an hour (``9``, ``17``; ``end_hour=24`` is
    midnight at the end of the day) or a :class:`datetime.time` for minutes.
    ``country`` (ISO code such as ``"NL"``) and ``subdivision`` select public
    holidays from the ``holidays`` package; ``closed_days`` adds more.

    Examples
    --------
    >>> import datetime as dt
    >>> cal = Calendar(timezone="Europe/Amsterdam", country="NL")
    >>> utc = dt.timezone.utc
    >>> cal.business_seconds(dt.datetime(2023, 4, 26, 14, tzinfo=utc), dt.datetime(2023, 4, 28, 8, tzinfo=utc))
    7200.0
    """

    timezone: str | None = None
    workdays: tuple[int, ...] = (1, 2, 3, 4, 5)
    start_hour: int | dt.time = 9
    end_hour: int | dt.time = 17
    country: str | None = None
    subdivision: str | None = None
    closed_days: tuple[dt.date, ...] = ()

    def __post_init__(self) -> None:
        if not self.workdays or any(d not in range(1, 8) for d in self.workdays):
            msg = f"workdays must be ISO weekdays 1 (Monday) to 7 (Sunday), got {self.workdays}"
            raise AnalysisError(msg)
        start, end = self.window()
        if end is not None and end <= start:
            msg = f"the working day must end after it starts, got {start:%H:%M}-{end:%H:%M}"
            raise AnalysisError(msg)
        if self.timezone is not None:
            _zone(self.timezone)

    def window(self) -> tuple[dt.time, dt.time | None]:
        """The daily window as times; ``None`` as the end means midnight at the end of the day."""
        return _as_time(self.start_hour, "start_hour"), _end_time(self.end_hour)

    def with_timezone(self, timezone: str) -> Calendar:
        """This calendar, in ``timezone`` unless it names its own."""
        if self.timezone is not None:
            return self
        import dataclasses

        return dataclasses.replace(self, timezone=timezone)

    def label(self) -> str:
        """A short description for notes and reports."""
        start, end = self.window()
        days = ",".join(WEEKDAY_NAMES[d - 1] for d in sorted(self.workdays))
        if tuple(sorted(self.workdays)) == (1, 2, 3, 4, 5):
            days = "Mon-Fri"
        text = f"{days} {start:%H:%M}-{'24:00' if end is None else f'{end:%H:%M}'}"
        if self.country:
            text += f", {self.country}{'-' + self.subdivision if self.subdivision else ''} holidays"
        if self.closed_days:
            text += f", {len(self.closed_days)} closed days"
        return text + f" ({self.timezone or 'log time zone'})"

    def closed_dates(self, first: dt.date, last: dt.date) -> frozenset[dt.date]:
        """Holidays and extra closed days between ``first`` and ``last``."""
        out = {d for d in self.closed_days if first <= d <= last}
        if self.country:
            import holidays

            try:
                found = holidays.country_holidays(
                    self.country, subdiv=self.subdivision, years=range(first.year, last.year + 1)
                )
            except NotImplementedError as exc:
                msg = (
                    f"no holiday list for country {self.country!r} (subdivision {self.subdivision!r}): {exc}"
                )
                raise AnalysisError(msg, hint="use an ISO 3166 code such as NL, DE, BE, GB or US") from None
            out |= {d for d in found if first <= d <= last}
        return frozenset(out)

    def business_seconds(self, a: dt.datetime, b: dt.datetime) -> float:
        """Working seconds from ``a`` to ``b`` (negative if ``b`` is earlier), in pure Python.

        Uses the same day rows as the SQL path; both instants must be time-zone
        aware.  A calendar without a time zone counts in UTC here (measures give
        it the log's zone).
        """
        if a.tzinfo is None or b.tzinfo is None:
            msg = "business_seconds needs time-zone-aware datetimes"
            raise AnalysisError(msg)
        tz = self.timezone or "UTC"
        ta, tb = a.timestamp(), b.timestamp()
        table = _day_table(self, tz, min(ta, tb), max(ta, tb))
        return table.business_time(tb) - table.business_time(ta)


def parse_hours(text: str) -> tuple[int | dt.time, int | dt.time]:
    """Read ``"9-17"`` or ``"8:30-17:15"`` (``"0-24"`` for whole days) as start and end."""
    m = re.fullmatch(r"\s*(\d{1,2})(?::(\d{2}))?\s*-\s*(\d{1,2})(?::(\d{2}))?\s*", text)
    if not m:
        msg = f"business hours {text!r}: expected START-END such as 9-17 or 8:30-17:15"
        raise AnalysisError(msg)
    h1, m1, h2, m2 = (int(g) if g else 0 for g in m.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
        msg = f"business hours {text!r}: hours run 0-24 and minutes 0-59"
        raise AnalysisError(msg)
    start: int | dt.time = dt.time(h1, m1) if m1 else h1
    end: int | dt.time = dt.time(h2, m2) if m2 else h2
    return start, end


@functools.cache
def holiday_countries() -> tuple[tuple[str, str], ...]:
    """The countries whose public holidays a :class:`Calendar` knows, as ``(code, name)`` by name."""
    from holidays.registry import COUNTRIES

    found = {entry[1]: re.sub(r"(?<=[a-z])(?=[A-Z])", " ", entry[0]) for entry in COUNTRIES.values()}
    return tuple(sorted(found.items(), key=lambda item: item[1]))


def holiday_regions(country: str) -> tuple[str, ...]:
    """The subdivision codes (states, provinces) with their own holidays in ``country``."""
    import holidays

    return tuple(holidays.list_supported_countries().get(country.upper(), ()))


# -- the day table -----------------------------------------------------------


@dataclass(frozen=True)
class _DayTable:
    base_offset: int
    first_bucket: int
    cum: tuple[float, ...]
    pieces: tuple[tuple[float, float, float, float], ...]  # s1, l1, s2, l2
    switch: tuple[tuple[float, int, int], ...]  # sw, o1, o2

    def business_time(self, t: float) -> float:
        i = math.floor((t + self.base_offset) / DAY) - self.first_bucket
        if not 0 <= i < len(self.cum):
            msg = "instant outside the calendar table"
            raise AnalysisError(msg)
        s1, l1, s2, l2 = self.pieces[i]
        return self.cum[i] + min(max(t - s1, 0.0), l1) + min(max(t - s2, 0.0), l2)

    @functools.cached_property
    def columns(self) -> tuple[np.ndarray, ...]:
        """``cum, s1, l1, s2, l2, sw, o1, o2`` as numpy arrays (built once per table)."""
        import numpy as np

        n = len(self.cum)
        pieces = np.array(self.pieces, dtype=np.float64).reshape(n, 4)
        switch = np.array([sw for sw, _, _ in self.switch], dtype=np.float64)
        offsets = np.array([(o1, o2) for _, o1, o2 in self.switch], dtype=np.int64).reshape(n, 2)
        cum = np.array(self.cum, dtype=np.float64)
        return (cum, *(pieces[:, i] for i in range(4)), switch, offsets[:, 0], offsets[:, 1])

    def rows_of(self, epoch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row index, whether the instant has a row) per epoch second; NaN has none.

        The bucket number is computed as the SQL join computes it (``floor((t + base) / 86400)``).
        """
        import numpy as np

        with np.errstate(invalid="ignore"):
            k = np.floor((epoch + self.base_offset) / DAY) - self.first_bucket
            ok = (k >= 0) & (k < len(self.cum))
        return np.where(ok, k, 0).astype(np.int64), ok

    def business_array(self, epoch: np.ndarray) -> np.ndarray:
        """B(t) of each epoch second (NaN where the SQL gives NULL), as :meth:`Clock.business_time`."""
        import numpy as np

        cum, s1, l1, s2, l2 = self.columns[:5]
        i, ok = self.rows_of(epoch)
        with np.errstate(invalid="ignore"):
            b = (
                cum[i]
                + np.minimum(np.maximum(epoch - s1[i], 0.0), l1[i])
                + np.minimum(np.maximum(epoch - s2[i], 0.0), l2[i])
            )
        b[~ok] = np.nan
        return b

    def local_array(self, epoch: np.ndarray) -> np.ndarray:
        """Local epoch seconds of each epoch second (NaN where the SQL gives NULL), as :meth:`Clock.local_epoch`."""
        import numpy as np

        sw, o1, o2 = self.columns[5:]
        i, ok = self.rows_of(epoch)
        with np.errstate(invalid="ignore"):
            local = epoch + np.where(epoch < sw[i], o1[i], o2[i])
        local[~ok] = np.nan
        return local

    @functools.cached_property
    def arrow(self) -> object:
        """The rows as a ``pyarrow.Table`` (built once per table), on the numpy columns' buffers:
        ``pa.array`` of a list or a range imports pandas, a third of a second of a command's time."""
        import numpy as np
        import pyarrow as pa

        n = len(self.cum)
        keys = np.arange(self.first_bucket, self.first_bucket + n, dtype=np.int64)
        names = ("k", "cum", "s1", "l1", "s2", "l2", "sw", "o1", "o2")
        arrays = []
        for values in (keys, *self.columns):
            values = np.ascontiguousarray(values)
            kind = pa.int64() if values.dtype == np.int64 else pa.float64()
            arrays.append(pa.Array.from_buffers(kind, n, [None, pa.py_buffer(values)]))
        return pa.table(dict(zip(names, arrays, strict=True)))


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        msg = f"unknown time zone {name!r}; expected an IANA name such as 'Europe/Amsterdam'"
        raise AnalysisError(msg) from None


def _as_time(value: int | dt.time, name: str) -> dt.time:
    if isinstance(value, dt.time):
        return value
    if not 0 <= int(value) <= 23:
        msg = f"{name} must be an hour 0-23 or a time, got {value!r}"
        raise AnalysisError(msg)
    return dt.time(int(value))


def _end_time(value: int | dt.time) -> dt.time | None:
    if isinstance(value, dt.time):
        return None if value == dt.time(0) else value
    if int(value) == 24:
        return None
    if not 1 <= int(value) <= 23:
        msg = f"end_hour must be an hour 1-24 or a time, got {value!r}"
        raise AnalysisError(msg)
    return dt.time(int(value))


def _clip_date(d: dt.date) -> dt.date:
    return min(max(d, FIRST_DATE), LAST_DATE)


def _day_table(calendar: Calendar | None, tz: str, first: float, last: float) -> _DayTable:
    """Rows covering the epoch span [first, last] (plus a margin), rounded to buckets for caching."""
    zone = _zone(tz)
    lo = dt.datetime.combine(_clip_date(dt.datetime.fromtimestamp(first, dt.UTC).date()), dt.time(), dt.UTC)
    hi = dt.datetime.combine(_clip_date(dt.datetime.fromtimestamp(last, dt.UTC).date()), dt.time(), dt.UTC)
    probe = dt.datetime(lo.year, 1, 1, 12, tzinfo=zone).utcoffset()
    base = int(probe.total_seconds()) if probe is not None else 0
    # Round the span out to blocks of 1,024 days so nearby spans share a cached table.
    k0 = (math.floor((lo.timestamp() + base) / DAY) - 2) // _BLOCK * _BLOCK
    k1 = (math.floor((hi.timestamp() + base) / DAY) + 3) // _BLOCK * _BLOCK + _BLOCK - 1
    return _build(calendar, tz, base, k0, k1)


@functools.lru_cache(maxsize=32)
def _build(calendar: Calendar | None, tz: str, base: int, k0: int, k1: int) -> _DayTable:
    zone = _zone(tz)
    n = k1 - k0 + 1
    starts = [(k0 + i) * DAY - base for i in range(n + 1)]  # bucket edges, UTC epoch
    edge_offsets = [_offset(zone, t) for t in starts]
    switch = [_switch(zone, starts[i], starts[i + 1], edge_offsets[i], edge_offsets[i + 1]) for i in range(n)]
    pieces: list[list[tuple[float, float]]] = [[] for _ in range(n)]
    if calendar is not None:
        for ws, we in _windows(calendar, zone, starts[0], starts[-1]):
            ka = max(math.floor((ws + base) / DAY), k0)
            kb = min(math.floor((we + base) / DAY), k1)
            for k in range(ka, kb + 1):
                s, e = max(ws, starts[k - k0]), min(we, starts[k - k0 + 1])
                if e > s:
                    pieces[k - k0].append((s, e - s))
    else:
        pieces = [[(starts[i], float(DAY))] for i in range(n)]
    rows: list[tuple[float, float, float, float]] = []
    cum: list[float] = []
    total = 0.0
    for i, ps in enumerate(pieces):
        if len(ps) > 2:
            msg = "the working window is too close to a whole day for this time zone; use 0-24 instead"
            raise AnalysisError(msg)
        (s1, l1), (s2, l2) = ([*ps, (starts[i], 0.0), (starts[i], 0.0)])[:2]
        rows.append((s1, l1, s2, l2))
        cum.append(total)
        total += l1 + l2
    return _DayTable(base, k0, tuple(cum), tuple(rows), tuple(switch))


def _offset(zone: ZoneInfo, t: float) -> int:
    delta = dt.datetime.fromtimestamp(t, zone).utcoffset()
    return int(delta.total_seconds()) if delta is not None else 0


def _switch(zone: ZoneInfo, start: float, end: float, o1: int, o_end: int) -> tuple[float, int, int]:
    """(switch instant, offset before, offset after) for the bucket [start, end).

    Offsets are sampled at bucket edges; a bucket whose edges differ holds one
    change, found by bisection to the second.
    """
    if o1 == o_end:
        return _NO_SWITCH, o1, o1
    a, b = start, end  # offset(a) == o1, offset(b) == o_end: find the first second with o_end
    while b - a > 1:
        mid = (a + b) // 2
        if _offset(zone, mid) == o1:
            a = mid
        else:
            b = mid
    return float(b), o1, o_end


def _windows(calendar: Calendar, zone: ZoneInfo, first: float, last: float) -> list[tuple[float, float]]:
    """Working windows [start, end) in UTC epoch seconds, merged where they touch."""
    d0 = dt.datetime.fromtimestamp(first, zone).date() - dt.timedelta(days=1)
    d1 = dt.datetime.fromtimestamp(last, zone).date() + dt.timedelta(days=1)
    closed = calendar.closed_dates(d0, d1)
    start, end = calendar.window()
    workdays = set(calendar.workdays)
    out: list[tuple[float, float]] = []
    day = d0
    one = dt.timedelta(days=1)
    while day <= d1:
        if day.isoweekday() in workdays and day not in closed:
            ws = dt.datetime.combine(day, start, zone).timestamp()
            we = (
                dt.datetime.combine(day + one, dt.time(), zone)
                if end is None
                else dt.datetime.combine(day, end, zone)
            ).timestamp()
            if we > ws:
                if out and out[-1][1] == ws:
                    out[-1] = (out[-1][0], we)
                else:
                    out.append((ws, we))
        day += one
    return out


def epoch_seconds(micros: np.ndarray) -> np.ndarray:
    """DuckDB's ``epoch()`` of instants given as integer microseconds since 1970, to the last bit.

    DuckDB adds the milliseconds / 1e3 and the remaining microseconds / 1e6 (floor division), which
    differs from ``micros / 1e6`` in the last bit for about a quarter of the instants.
    """
    import numpy as np

    millis = np.floor_divide(micros, 1000)
    return millis / 1e3 + (micros - millis * 1000) / 1e6


# -- SQL ---------------------------------------------------------------------


@dataclass(frozen=True)
class Clock:
    """How a measure reads time: in a zone, optionally in business seconds.

    ``table`` is a registered relation of buckets (see the module docstring);
    it is ``None`` when no join is needed (UTC and no calendar), and then local
    time is UTC and durations are plain elapsed seconds.
    """

    timezone: str
    calendar: Calendar | None
    table: str | None
    base_offset: int
    #: The rows of ``table``, for instants evaluated in memory (:meth:`business_times`).
    days: _DayTable | None = field(default=None, compare=False, repr=False)

    @property
    def business(self) -> bool:
        return self.calendar is not None

    def business_times(self, epoch: np.ndarray) -> np.ndarray:
        """B(t) of epoch seconds in memory (NaN for NaN or outside the table): the values of
        :meth:`business_time`'s SQL, without a join."""
        if self.table is None or not self.business or self.days is None:
            return epoch.copy()
        return self.days.business_array(epoch)

    def local_epochs(self, epoch: np.ndarray) -> np.ndarray:
        """Local epoch seconds of epoch seconds in memory: the values of :meth:`local_epoch`'s SQL."""
        if self.table is None or self.days is None:
            return epoch.copy()
        return self.days.local_array(epoch)

    def bucket_join(self, alias: str, ts: str) -> str:
        """``LEFT JOIN`` of the bucket row holding the instant ``ts`` (a column expression)."""
        if self.table is None:
            return ""
        return f" LEFT JOIN {self.table} {alias} ON {alias}.k = CAST(floor((epoch({ts}) + {int(self.base_offset)}) / 86400) AS BIGINT)"

    def business_time(self, alias: str, ts: str) -> str:
        """B(ts): working seconds from the table's start to ``ts`` (needs :meth:`bucket_join`)."""
        if self.table is None or not self.business:
            return f"epoch({ts})"
        return (
            f"({alias}.cum + least(greatest(epoch({ts}) - {alias}.s1, 0), {alias}.l1)"
            f" + least(greatest(epoch({ts}) - {alias}.s2, 0), {alias}.l2))"
        )

    def local_epoch(self, alias: str, ts: str) -> str:
        """Seconds since 1970-01-01 00:00 *local time* (needs :meth:`bucket_join`)."""
        if self.table is None:
            return f"epoch({ts})"
        return f"(epoch({ts}) + CASE WHEN epoch({ts}) < {alias}.sw THEN {alias}.o1 ELSE {alias}.o2 END)"

    def extend(
        self,
        inner: str,
        *,
        times: Mapping[str, str] | None = None,
        durations: Mapping[str, tuple[str, str]] | None = None,
        local: Mapping[str, str] | None = None,
    ) -> str:
        """``SELECT x.*`` of ``inner`` plus time columns, with one bucket join per instant column.

        ``times`` maps a new column to an instant column of ``inner``: its
        B(t), so that any duration is a difference of two such columns
        (business seconds under a calendar, else epoch seconds).
        ``durations`` maps a new column to ``(from_column, to_column)``: the
        duration directly.  ``local`` maps a new column to an instant column:
        its local epoch seconds.  Column names are internal constants.
        """
        times = times or {}
        durations = durations or {}
        local = local or {}
        instants: list[str] = []
        for cols in (
            list(times.values()),
            [c for pair in durations.values() for c in pair],
            list(local.values()),
        ):
            for c in cols:
                if c not in instants:  # one bucket join per column, even when durations share one
                    instants.append(c)
        alias = {c: f"_b{i}" for i, c in enumerate(instants)}
        select = ["x.*"]
        for name, col in times.items():
            select.append(f"{self.business_time(alias[col], f'x.{col}')} AS {name}")
        for name, (a, b) in durations.items():
            select.append(f"{business_seconds_sql(self, alias[a], f'x.{a}', alias[b], f'x.{b}')} AS {name}")
        for name, col in local.items():
            select.append(f"{self.local_epoch(alias[col], f'x.{col}')} AS {name}")
        joined = instants if self.business else [c for c in instants if c in local.values()]
        joins = "".join(self.bucket_join(alias[c], f"x.{c}") for c in joined)
        return f"SELECT {', '.join(select)} FROM ({inner}) x{joins}"


def business_seconds_sql(clk: Clock, a_alias: str, a: str, b_alias: str, b: str) -> str:
    """SQL for the duration from instant ``a`` to ``b``: B(b) - B(a) under a calendar, else elapsed seconds.

    ``a_alias``/``b_alias`` name the bucket rows joined with :meth:`Clock.bucket_join`.
    """
    if clk.table is None or not clk.business:
        return f"(epoch({b}) - epoch({a}))"
    return f"({clk.business_time(b_alias, b)} - {clk.business_time(a_alias, a)})"


def clock(
    store: Store,
    log_id: int,
    calendar: Calendar | None = None,
    *,
    timezone: str | None = None,
    span: TimeSpan | None = None,
) -> Clock:
    """The clock a measure uses: the calendar's zone, else ``timezone``, else the log's zone.

    Registers the bucket table for the log's robust time range (``span``, else
    :func:`~mining.analysis.span.robust_span`) on the store's connection under a
    name derived from its content (so repeated calls reuse it).  Instants outside
    the range, placeholder dates such as 9999-12-31, get no bucket: their local
    time and business durations are NULL.
    """
    tz = (calendar.timezone if calendar is not None else None) or timezone
    if tz is None:
        tz = store.scalar("SELECT timezone FROM logs WHERE log_id = ?", [log_id]) or "UTC"
    _zone(tz)
    if calendar is not None:
        calendar = calendar.with_timezone(tz)
    if calendar is None and tz == "UTC":
        return Clock(tz, None, None, 0)
    span = span or robust_span(store, log_id)
    if span.first is None or span.last is None:
        first = last = 0.0
    else:
        first, last = span.first.timestamp(), span.last.timestamp()
    table = _day_table(calendar, tz, first, last)
    key = repr((calendar, tz, table.base_offset, table.first_bucket, len(table.cum))).encode()
    name = "_cal_" + hashlib.sha1(key, usedforsecurity=False).hexdigest()[:16]
    store.register(name, table.arrow)
    return Clock(tz, calendar, name, table.base_offset, table)
