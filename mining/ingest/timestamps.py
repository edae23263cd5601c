"""Choosing one timestamp format per column, and turning it into UTC.

Rules, because real exports break every tool that guesses row by row:

* One format per column, chosen from the whole column.  A value that does not
  match it is rejected and named, never re-guessed.
* Day-first against month-first must be proven by the data: some value whose
  first field is above 12 under one reading only.  Otherwise the user says
  ``--dayfirst``/``--monthfirst`` or gives ``--timestamp-format``.
* Offsets in the data are honoured.  Naive values are read in the log's time
  zone (``--timezone``, default UTC) -- never the server's zone.
* DST policy for naive values, the same as Python's ``zoneinfo`` with
  ``fold=0``: a wall time inside a spring-forward gap is read with the offset
  in force before the jump (02:30 becomes 03:30 summer time); a wall time
  that occurs twice in the autumn is its first occurrence.  Both are counted
  and reported; ``dst="reject"`` rejects those rows instead.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from mining.errors import BadTimestamp, Option, phrase
from mining.ingest.clockmarks import CLOCK_MARKS_NOTE, clock_marks_sql, has_clock_marks
from mining.ingest.months import has_month_words, month_words_note, months_sql
from mining.ingest.weekdays import WEEKDAY_NOTE, has_weekday_words, weekdays_sql
from mining.ingest.zones import AMBIGUOUS, may_name_zones, zone_sql, zone_words_in

if TYPE_CHECKING:
    from mining.store import Store

__all__ = [
    "EPOCHS",
    "EPOCH_MS",
    "EPOCH_NS",
    "EPOCH_S",
    "EPOCH_US",
    "EXCEL_DAYS",
    "ISO",
    "MS_JSON_DATE",
    "TimestampFormat",
    "candidates",
    "detect_format",
    "has_naive_values",
    "local_to_utc_sql",
    "offset_sql",
    "parse_sql",
    "text_sql",
    "user_format",
    "year_guard",
]

ISO = "ISO 8601"
EPOCH_S = "unix seconds"  # with a fraction or without: Slack's 1768294800.123456, Python's time.time()
EPOCH_MS = "unix milliseconds"
EPOCH_US = "unix microseconds"  # BigQuery's UNIX_MICROS; nanoseconds are pandas' and Go's
EPOCH_NS = "unix nanoseconds"
#: Microsoft's JSON date, milliseconds since the epoch in a wrapper (/Date(1772528400000)/, with an
#: offset after the number that says the writer's zone, not the instant's): SharePoint lists, ASP.NET
#: and Dynamics' OData v2 exports.
MS_JSON_DATE = "Microsoft JSON date"
_MS_JSON_RE = r"/Date\((-?[0-9]{1,15})([+-][0-9]{4})?\)/"
#: The Unix times: instants, never naive, and never dates without a time of day.
EPOCHS = frozenset({EPOCH_S, EPOCH_MS, EPOCH_US, EPOCH_NS, MS_JSON_DATE})
# Sixteen and nineteen digits read as times only from 2001 to 2065, so a card or an order number
# of that length (those start with 3-9) is not taken for one.
_EPOCH_S_RE = r"[0-9]{10}(\.[0-9]{1,9})?"
_EPOCH_US_RE = r"[12][0-9]{15}"
_EPOCH_NS_RE = r"[12][0-9]{18}"
#: Excel's serial date-times (days since 1899-12-30, the time of day as the fraction), as a sheet whose date
#: cells lost their format exports them: 45293.375 is 2024-01-02 09:00.
EXCEL_DAYS = "Excel serial days"
# 1954-10-03 to 2119-01-24: no other number of five digits.  German Excel writes the fraction after a comma.
_EXCEL_RE = r"[2-7][0-9]{4}([.,][0-9]+)?"

# Two-digit years first: DuckDB's %Y reads "26" as the year 26, while %y refuses "2026", so of two
# patterns that both fit a column the first to fit is the one that reads 05/12/26 as 2026.
_DAYFIRST_DATES = ("%d/%m/%y", "%d-%m-%y", "%d.%m.%y", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y")
_MONTHFIRST_DATES = ("%m/%d/%y", "%m-%d-%y", "%m.%d.%y", "%m/%d/%Y", "%m-%d-%Y", "%m.%d.%Y")
# Dates whose order is never in doubt: the year first, or the month by its name (Jira's 05/Dec/26,
# Oracle's 05-DEC-26, "Dec 5, 2026"); each with any of the times.
_UNAMBIGUOUS_DATES = (
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%Y-%m-%d",
    "%d/%b/%y",
    "%d-%b-%y",
    "%d/%b/%Y",
    "%d-%b-%Y",
    "%d %b %Y",
    "%d %B %Y",
    "%b %d %Y",
    "%B %d %Y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%a, %d %b %Y",
)
# Whole patterns: compact dates (SAP writes 20261205 and 140304), e-mail's RFC 2822 with its offset, and
# an offset after a space, as Ruby and Rails write times (2026-12-05 10:03:00 +0100), Twitter's API
# (Sat Dec 05 10:03:00 +0000 2026) and git's log (Sat Dec 5 10:03:00 2026 +0100).  Zone abbreviations
# (CET, BST) are left out on purpose: DuckDB reads BST as Bangladesh and knows no CEST.
_WHOLE_PATTERNS = (
    "%Y%m%d",
    "%Y%m%d%H%M%S",
    "%Y%m%d %H%M%S",
    "%a, %d %b %Y %H:%M:%S %z",
    "%d %b %Y %H:%M:%S %z",
    "%Y-%m-%d %H:%M:%S %z",
    "%Y-%m-%d %H:%M %z",
    "%Y/%m/%d %H:%M:%S %z",
    "%a %b %d %H:%M:%S %z %Y",
    "%a %b %d %H:%M:%S %Y %z",
    # C's ctime() and Python's, once its weekday is dropped: Mar 13 09:15:00 2024.
    "%b %d %H:%M:%S %Y",
    # ISO 8601's basic form (20240313T091500, its Z made +0000).
    "%Y%m%dT%H%M%S",
    "%Y%m%dT%H%M%S%z",
)
# A comma before the fraction is ISO 8601's own decimal sign, and log4j's default (09:00:00,123).
_TIMES = (
    "",
    " %H:%M",
    " %H:%M:%S",
    " %H:%M:%S.%f",
    " %H:%M:%S,%f",
    " %I:%M %p",
    " %I:%M:%S %p",
    "T%H:%M:%S",
    "T%H:%M:%S,%f",
    # Finnish, Danish and Norwegian clocks write a dot (9.05, 09.05.00), Finnish after the date's "klo".
    " %H.%M",
    " %H.%M.%S",
    " klo %H.%M",
    " klo %H.%M.%S",
    # An offset after the time, as a written zone becomes (13/03/2024 09:15 CET is 09:15 +0100).
    " %H:%M %z",
    " %H:%M:%S %z",
)
# ISO 8601 starts with a four-digit year.  DuckDB's cast is laxer: it reads 01/01/26 as 26 January of
# the year 1, so a day-first export with two-digit years would pass for ISO.
_ISO_SQL = "CASE WHEN regexp_matches(v, '^[0-9]{4}[^0-9]') THEN try_cast(v AS TIMESTAMPTZ) END"

# "a.m.", "p. m." (with a no-break space, as Spanish Excel writes it), "PM" against the time.
_MERIDIEM_RE = "([0-9])\\s*([AaPp])\\.?[\\s\\x{A0}]?[Mm]\\.?$"
_PY_MERIDIEM = re.compile(r"[0-9]\s*[AaPp]\.[\s\xa0]?[Mm]\.?$|[0-9][AaPp][Mm]$")
# An offset or Z after a clock time; a date-only value's "-01" is not an offset.
_OFFSET_RE = r"\d:\d\d(:\d\d([.,]\d+)?)?\s*(Z|z|[+-]\d\d(:?\d\d)?)$"
_SAMPLE = 5000
#: Values of the sample every candidate pattern is tried on first.
_PROBE = 256


@dataclass(frozen=True)
class TimestampFormat:
    """The format chosen for one column, and why."""

    pattern: str  # ISO, EPOCH_S, EPOCH_MS or a strptime pattern
    reason: str
    dayfirst: bool | None = None
    #: The sample writes zone names (CET, UTC+2, Europe/Berlin): every value is read through
    #: :func:`mining.ingest.zones.zone_sql`, which turns them into offsets; ``zone_note`` says which.
    zoned: bool = False
    zone_note: str = ""
    #: The sample writes a.m. and p.m. in a form %p does not read ("p. m."): read through :func:`meridiem_sql`.
    meridiem: bool = False
    #: The sample names months in another language than English ("13 mars 2026"): read through
    #: :func:`mining.ingest.months.months_sql`; ``month_note`` says which words.
    months: bool = False
    month_note: str = ""
    #: The sample opens with weekday names ("Wed 13/03/2024", "Mi., 13.03.2024"): read through
    #: :func:`mining.ingest.weekdays.weekdays_sql`, which drops them.
    weekdays: bool = False
    #: The sample writes marks around the time of day ("3/13/2024, 9:15 AM", "09:15 Uhr", "09h15"):
    #: read through :func:`mining.ingest.clockmarks.clock_marks_sql`.
    marks: bool = False

    def describe(self) -> str:
        return self.pattern


def candidates() -> list[tuple[str, bool | None]]:
    """Every strptime pattern the detection tries, in its order, with whether it reads the day first."""
    out: list[tuple[str, bool | None]] = []
    for dates, first in ((_DAYFIRST_DATES, True), (_MONTHFIRST_DATES, False)):
        out += [(d + t, first) for d in dates for t in _TIMES]
    out += [(d + t, None) for d in _UNAMBIGUOUS_DATES for t in _TIMES]
    out += [(d, None) for d in _WHOLE_PATTERNS]
    return out


def _mirror(pattern: str) -> str:
    """The same pattern with day and month swapped."""
    return pattern.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")


def user_format(pattern: str) -> TimestampFormat:
    """A format the user gave with ``--timestamp-format``."""
    if pattern.lower() in {"iso", "iso8601", "iso 8601"}:
        return TimestampFormat(ISO, "given with --timestamp-format")
    if pattern.lower() in {"excel", EXCEL_DAYS.lower()}:
        return TimestampFormat(EXCEL_DAYS, "given with --timestamp-format")
    if "%" not in pattern:
        msg = phrase(
            Option("timestamp_format"),
            f" {pattern!r} has no strptime directive; expected e.g. '%d/%m/%Y %H:%M', 'iso' or 'excel'",
        )
        raise BadTimestamp(msg)
    return TimestampFormat(pattern, "given with --timestamp-format")


def detect_format(
    store: Store,
    table: str,
    column_sql: str,
    *,
    label: str,
    file: str,
    dayfirst: bool | None = None,
) -> TimestampFormat | None:
    """Choose one format for a whole column; None if it is not a timestamp column.

    ``column_sql`` is an already-quoted column of ``table`` (an internal name).
    """
    values = _sample(store, table, column_sql)
    if not values:
        return None
    meridiem = any(_PY_MERIDIEM.search(v) for v in values)
    # A column of month names writes one in nearly every value: a spread of the sample shows it, and
    # a column of free text is not searched word by word (16 ms for 5,000 values).
    spread = values[:: max(1, len(values) // _PROBE)]
    months = has_month_words(spread)
    weekdays = has_weekday_words(spread)
    marks = has_clock_marks(spread)
    if not meridiem and not months:
        # A weekday the patterns read as it stands (RFC 2822's "Wed, 13 Mar", git's, Twitter's, Java's
        # with its zone) is kept: no rewrite of every value.  Only where none reads is it dropped.
        found = _detect_format_of(store, table, column_sql, label, file, dayfirst, values)
        if found is not None or not (weekdays or marks):
            return found
    text = f"trim({column_sql})"
    if weekdays:  # first: the month words follow it ("Mi., 13. März")
        text = weekdays_sql(text)
    if marks:
        text = clock_marks_sql(text)
    if meridiem:
        text = meridiem_sql(text)
    if months:
        text = months_sql(text)
    found = _detect_format_of(store, table, text, label, file, dayfirst)
    if found is None:
        return None
    note = month_words_note(values) if months else ""
    said = [note] if note else []
    if marks:
        said.insert(0, CLOCK_MARKS_NOTE)
    if weekdays:
        said.insert(0, WEEKDAY_NOTE)
    return replace(
        found,
        reason=found.reason + "".join(f"; {s}" for s in said),
        meridiem=meridiem,
        months=months,
        month_note=note,
        weekdays=weekdays,
        marks=marks,
    )


def text_sql(fmt: TimestampFormat, value_sql: str) -> str:
    """SQL for the text the format's pattern reads: ``value_sql`` without a leading weekday, with the
    marks around its time of day, a.m./p.m. and month names rewritten where the column writes them as
    the pattern does not (see :func:`detect_format`)."""
    if fmt.weekdays:
        value_sql = weekdays_sql(value_sql)
    if fmt.marks:
        value_sql = clock_marks_sql(value_sql)
    if fmt.meridiem:
        value_sql = meridiem_sql(value_sql)
    if fmt.months:
        value_sql = months_sql(value_sql)
    return value_sql


def meridiem_sql(value_sql: str) -> str:
    """SQL for the text with a.m. and p.m. written as %p reads them: Spanish and Canadian exports write
    "1:05 p. m." and "1:05 p.m.", others "1:05PM"."""
    return f"regexp_replace({value_sql}, '{_MERIDIEM_RE}', '\\1 \\2M')"


def _detect_format_of(
    store: Store,
    table: str,
    column_sql: str,
    label: str,
    file: str,
    dayfirst: bool | None,
    values: list[str] | None = None,
) -> TimestampFormat | None:
    """:func:`detect_format` of ``column_sql``, whose sample is ``values`` when already drawn."""
    values = _sample(store, table, column_sql) if values is None else values
    if not values:
        return None
    # Zone names become offsets first, as the load will read them; the shape is judged on the result.
    if not may_name_zones(values):
        return _detect(store, table, column_sql, values, label=label, file=file, dayfirst=dayfirst, params={})
    written, params = zone_sql("v", None, "zone", every_row=True, spaced=False)
    read = store.query(
        f"SELECT {written} FROM (SELECT unnest($vals) AS v, generate_subscripts($vals, 1) AS i) ORDER BY i",
        {"vals": values, **params},
    ).rows
    changed = [v for v, (r,) in zip(values, read, strict=True) if r != v]
    if not changed:
        return _detect(store, table, column_sql, values, label=label, file=file, dayfirst=dayfirst, params={})
    column_sql = zone_sql(f"trim({column_sql})", None, "zone", every_row=True, spaced=False)[0]
    values = [r for (r,) in read if r is not None]
    fmt = (
        _detect(store, table, column_sql, values, label=label, file=file, dayfirst=dayfirst, params=params)
        if values
        else None
    )
    if fmt is None:
        return None
    words = zone_words_in(changed)
    clear = [w for w in words if w not in AMBIGUOUS]
    unclear = [w for w in words if w in AMBIGUOUS]
    shown = ", ".join(clear[:6]) + (f" and {len(clear) - 6} more" if len(clear) > 6 else "")
    note = f"zones written as {shown} are read as their offsets" if clear or not unclear else ""
    if not words:
        note = "zones written after the times are read as their offsets"
    if unclear:
        # Which meaning is the log's zone's to settle, at the load: said here without knowing it.
        names = ", ".join(unclear)
        note += ("; " if note else "") + (
            f"{names} {'names' if len(unclear) == 1 else 'each name'} more than one zone, "
            "read only where the time zone settles which"
        )
    return replace(fmt, reason=f"{fmt.reason}; {note}", zoned=True, zone_note=note)


def _detect(
    store: Store,
    table: str,
    column_sql: str,
    values: list[str],
    *,
    label: str,
    file: str,
    dayfirst: bool | None,
    params: dict[str, object],
) -> TimestampFormat | None:
    n = len(values)
    # Every reading below writes digits, and none is taken for fewer than half the values: a column of
    # words (XES's lifecycle:transition, a status) is settled here, not by compiling ~190 patterns
    # (0.4 s even for three values).
    if 2 * sum(1 for v in values if any(ch.isdigit() for ch in v)) < n:
        return None
    # Most exports are ISO 8601: settle that cheaply before trying ~190 patterns.
    iso_only = store.scalar(f"SELECT count({_ISO_SQL}) FROM (SELECT unnest($vals) AS v)", {"vals": values})
    if iso_only == n:
        return TimestampFormat(ISO, f"all {n:,} sampled values are ISO 8601")
    iso_ok, epoch_s_ok, epoch_ms_ok, epoch_us_ok, epoch_ns_ok, excel_ok, excel_times, ms_json_ok, *counts = (
        _count_parses(store, values)
    )
    if iso_ok == n:
        return TimestampFormat(ISO, f"all {n:,} sampled values are ISO 8601")
    if excel_ok == n and excel_times >= 0.5 * n:
        # Whole numbers alone could be counts or ids: a time of day in most values says dates.
        return TimestampFormat(
            EXCEL_DAYS, f"all {n:,} sampled values are Excel serial date-times (days since 1899-12-30)"
        )
    if epoch_s_ok == n:
        return TimestampFormat(EPOCH_S, f"all {n:,} sampled values are 10-digit Unix seconds")
    if epoch_ms_ok == n:
        return TimestampFormat(EPOCH_MS, f"all {n:,} sampled values are 13-digit Unix milliseconds")
    if epoch_us_ok == n:
        return TimestampFormat(EPOCH_US, f"all {n:,} sampled values are 16-digit Unix microseconds")
    if epoch_ns_ok == n:
        return TimestampFormat(EPOCH_NS, f"all {n:,} sampled values are 19-digit Unix nanoseconds")
    if ms_json_ok == n:
        return TimestampFormat(
            MS_JSON_DATE, f"all {n:,} sampled values are Microsoft JSON dates (/Date(ms)/)"
        )
    cands = candidates()
    full = [(p, first) for (p, first), c in zip(cands, counts, strict=True) if c == n]
    if full:
        pattern, first = full[0]
        if first is None:
            return TimestampFormat(pattern, f"all {n:,} sampled values match {pattern}")
        mirrored = _mirror(pattern)
        if dayfirst is not None and first != dayfirst and not any(p == mirrored for p, _ in full):
            # The data proves the other order: obeying would reject those rows one by one.
            proof = store.scalar(
                f"SELECT v FROM (SELECT unnest($vals) AS v) WHERE {_strptime('v', '$p')} IS NULL ORDER BY v LIMIT 1",
                {"vals": values, "p": mirrored},
            )
            asked = "day-first" if dayfirst else "month-first"
            msg = phrase(
                f"{file}: column {label!r} cannot be read {asked} as ",
                Option("dayfirst" if dayfirst else "monthfirst"),
                f" asks: {proof!r} only reads as {pattern}",
            )
            raise BadTimestamp(
                msg, hint=phrase("leave the order to the data, or pass ", Option("timestamp_format"))
            )
        if dayfirst is not None and first != dayfirst:
            pattern, first = mirrored, dayfirst
            mirrored = _mirror(pattern)
        if not any(p == mirrored for p, _ in full):
            order = "day-first" if first else "month-first"
            return TimestampFormat(
                pattern,
                f"{order}: some values only parse as {pattern}, not as {mirrored}",
                dayfirst=first,
            )
        # Both readings fit the sample: let the whole column decide.
        ok_this, ok_mirror = store.query(
            f"SELECT count({_strptime(f'trim({column_sql})', '$a')}), count({_strptime(f'trim({column_sql})', '$b')}) "
            f"FROM {table}",
            {"a": pattern, "b": mirrored, **params},
        ).rows[0]
        if ok_this != ok_mirror:
            if ok_mirror > ok_this:
                pattern, mirrored, first = mirrored, pattern, not first
            if dayfirst is not None and first != dayfirst:
                proof = store.scalar(
                    f"SELECT trim({column_sql}) FROM {table} WHERE {_strptime(f'trim({column_sql})', '$a')} IS NOT NULL "
                    f"AND {_strptime(f'trim({column_sql})', '$b')} IS NULL LIMIT 1",
                    {"a": pattern, "b": mirrored, **params},
                )
                asked = "day-first" if dayfirst else "month-first"
                msg = phrase(
                    f"{file}: column {label!r} cannot be read {asked} as ",
                    Option("dayfirst" if dayfirst else "monthfirst"),
                    f" asks: {proof!r} only reads as {pattern}",
                )
                raise BadTimestamp(
                    msg, hint=phrase("leave the order to the data, or pass ", Option("timestamp_format"))
                )
            order = "day-first" if first else "month-first"
            return TimestampFormat(
                pattern, f"{order}: proven over the whole column ({pattern} fits more values)", dayfirst=first
            )
        if dayfirst is not None:
            order = "day-first" if dayfirst else "month-first"
            return TimestampFormat(pattern, f"{order}: as asked (the data fits both)", dayfirst=dayfirst)
        msg = (
            f"{file}: column {label!r} fits both {pattern} and {mirrored}: no day above 12 proves "
            "which is the day and which the month"
        )
        hint = phrase(
            "pass ", Option("dayfirst"), " or ", Option("monthfirst"), ", or ", Option("timestamp_format")
        )
        raise BadTimestamp(msg, hint=hint)
    # Numbers that are nearly all Unix or Excel times, beside a few others (a report's "Total" row):
    # those are rejected by name.  Nine in ten, not half: a column of ids holds numbers too.
    numeric = [
        (excel_ok if excel_times >= 0.5 * n else 0, EXCEL_DAYS, "Excel serial date-times"),
        (epoch_s_ok, EPOCH_S, "10-digit Unix seconds"),
        (epoch_ms_ok, EPOCH_MS, "13-digit Unix milliseconds"),
        (epoch_us_ok, EPOCH_US, "16-digit Unix microseconds"),
        (epoch_ns_ok, EPOCH_NS, "19-digit Unix nanoseconds"),
        (ms_json_ok, MS_JSON_DATE, "Microsoft JSON dates (/Date(ms)/)"),
    ]
    most, pattern, words = max(numeric, key=lambda x: x[0])
    if most >= 0.9 * n:
        return TimestampFormat(
            pattern, f"{most:,} of {n:,} sampled values are {words}; the rest are rejected"
        )
    best = max(range(len(cands)), key=lambda i: counts[i])
    best_count = max(iso_ok, counts[best] if counts else 0)
    if best_count >= 0.5 * n:
        # Mostly one format: the rest become rejects, named row by row.
        if iso_ok >= counts[best]:
            return TimestampFormat(
                ISO, f"{iso_ok:,} of {n:,} sampled values are ISO 8601; the rest are rejected"
            )
        pattern, first = cands[best]
        return TimestampFormat(
            pattern, f"{counts[best]:,} of {n:,} sampled values match {pattern}; the rest are rejected", first
        )
    return None


def has_naive_values(store: Store, table: str, column_sql: str, fmt: TimestampFormat, *, rows: int) -> bool:
    """Whether values of the column carry no offset, so the log's zone decides their instant.

    Unix times are instants; a strptime pattern has an offset only with
    ``%z``/``%Z``; ISO 8601 values are judged one by one over the first
    ``rows`` rows, the head the roles were chosen from (a regex over tens of
    millions of values would cost more than the warning is worth).
    """
    if fmt.pattern in EPOCHS:
        return False
    if fmt.pattern != ISO:
        return "%z" not in fmt.pattern and "%Z" not in fmt.pattern
    # A written zone (CET, Europe/Berlin) is an offset once read; a column whose sample showed
    # none is judged on its text (a zone word past the sample is still read, by the load's scan).
    written, params = zone_sql("v", None, "zone") if fmt.zoned else ("v", {})
    return bool(
        store.scalar(
            f"SELECT count(*) FROM (SELECT trim({column_sql}) AS v FROM {table} LIMIT {int(rows)}) "
            f"WHERE v <> '' AND NOT coalesce(regexp_matches({written}, '{_OFFSET_RE}'), false)",
            params,
        )
    )


def _sample(store: Store, table: str, column_sql: str) -> list[str]:
    # The head of the file plus a spread over the rest: enough to find the
    # format, while the whole-column pass settles day/month order.
    rows = store.query(
        f"SELECT DISTINCT v FROM ("
        f"  (SELECT trim({column_sql}) AS v FROM {table} WHERE {column_sql} IS NOT NULL LIMIT {_SAMPLE})"
        f"  UNION ALL"
        f"  (SELECT trim({column_sql}) AS v FROM {table} WHERE {column_sql} IS NOT NULL"
        f"   USING SAMPLE reservoir({_SAMPLE} ROWS) REPEATABLE (7))"
        f") WHERE v <> ''"
    ).rows
    return sorted(r[0] for r in rows)


def _count_parses(store: Store, values: Sequence[str]) -> list[int]:
    """How many of ``values`` each reading fits: ISO, Unix seconds and milliseconds, Excel days (and
    those with a time of day), then each candidate pattern in :func:`candidates`' order.

    The patterns are tried on a spread of a few hundred values first; only those that fit one of them
    are counted over all the values (trying ~190 patterns on every value of the sample took a second
    per column).  A pattern that fits every value, or most of them, fits some of the spread.
    """
    cands = candidates()
    fixed = [
        f"count({_ISO_SQL})",
        f"count(CASE WHEN regexp_full_match(v, '{_EPOCH_S_RE}') THEN 1 END)",
        "count(CASE WHEN regexp_full_match(v, '[0-9]{13}') THEN 1 END)",
        f"count(CASE WHEN regexp_full_match(v, '{_EPOCH_US_RE}') THEN 1 END)",
        f"count(CASE WHEN regexp_full_match(v, '{_EPOCH_NS_RE}') THEN 1 END)",
        f"count(CASE WHEN regexp_full_match(v, '{_EXCEL_RE}') THEN 1 END)",
        f"count(CASE WHEN regexp_full_match(v, '{_EXCEL_RE}') AND regexp_matches(v, '[.,]') THEN 1 END)",
        f"count(CASE WHEN regexp_full_match(v, '{_MS_JSON_RE}') THEN 1 END)",
    ]
    spread = list(values[:: max(1, len(values) // _PROBE)])
    probed = _counts(store, spread, [], [p for p, _ in cands])
    alive = [i for i, c in enumerate(probed) if c]
    counted = _counts(store, values, fixed, [cands[i][0] for i in alive])
    counts = [0] * len(cands)
    for i, c in zip(alive, counted[len(fixed) :], strict=True):
        counts[i] = c
    return counted[: len(fixed)] + counts


def _counts(store: Store, values: Sequence[str], exprs: list[str], patterns: list[str]) -> list[int]:
    """The counts of ``exprs`` over ``values`` (as ``v``), then of the values each pattern parses."""
    parts = list(exprs)
    params: dict[str, object] = {"vals": list(values)}
    for i, pattern in enumerate(patterns):
        params[f"f{i}"] = pattern
        parts.append(f"count({_strptime('v', f'$f{i}')})")
    if not parts:
        return []
    sql = f"SELECT {', '.join(parts)} FROM (SELECT unnest($vals) AS v)"
    return list(store.query(sql, params).rows[0])


def parse_sql(fmt: TimestampFormat, value_sql: str, param: str) -> tuple[str, dict[str, object]]:
    """SQL for the parsed value: TIMESTAMPTZ when the data carries offsets, else TIMESTAMP (naive).

    Returns ``(expression, params)``; the expression is NULL where the value
    does not match.  ``param`` names the bound pattern.
    """
    v = f"trim({value_sql})"
    if fmt.pattern == ISO:
        # The TIMESTAMP cast stops at the clock time and drops whatever follows a space
        # ('09:00:00 12' reads as 09:00); the TIMESTAMPTZ cast reads the whole text (the
        # session's zone is UTC, which has no gap), so it decides which values are ISO at all.
        strict = f"CASE WHEN try_cast({v} AS TIMESTAMPTZ) IS NOT NULL THEN try_cast({v} AS TIMESTAMP) END"
        return year_guard(strict, "TIMESTAMP", v), {}
    if fmt.pattern == EPOCH_S:
        # A fraction is read to the microsecond through DECIMAL: a DOUBLE of 1.7e9 seconds keeps less.
        micros = f"CAST(round(try_cast({v} AS DECIMAL(19, 9)) * 1000000) AS BIGINT)"
        return (
            f"CASE WHEN contains({v}, '.') THEN make_timestamp({micros}) "
            f"ELSE CAST(to_timestamp(try_cast({v} AS BIGINT)) AS TIMESTAMP) END"
        ), {}
    if fmt.pattern == EPOCH_MS:
        return f"CAST(epoch_ms(try_cast({v} AS BIGINT)) AS TIMESTAMP)", {}
    if fmt.pattern == EPOCH_US:
        return f"make_timestamp(try_cast({v} AS BIGINT))", {}
    if fmt.pattern == EPOCH_NS:
        return f"make_timestamp(try_cast({v} AS BIGINT) // 1000)", {}
    if fmt.pattern == MS_JSON_DATE:
        millis = f"try_cast(regexp_extract({v}, '^{_MS_JSON_RE}$', 1) AS BIGINT)"
        return f"CAST(epoch_ms({millis}) AS TIMESTAMP)", {}
    if fmt.pattern == EXCEL_DAYS:
        # Rounded to the millisecond: Excel's binary fractions put 09:00 at 08:59:59.999999.
        days = f"try_cast(replace({v}, ',', '.') AS DOUBLE)"
        millis = f"CAST(round(({days} - 25569) * 86400000) AS BIGINT)"
        return f"CASE WHEN {days} BETWEEN 1 AND 2958465 THEN make_timestamp({millis} * 1000) END", {}
    return _strptime(v, f"${param}"), {param: fmt.pattern}


def offset_sql(fmt: TimestampFormat, value_sql: str) -> tuple[str, str]:
    """SQL for whether a value writes its own offset (ISO only), and for its instant read by that offset
    (NULL where it does not parse); ``("false", "NULL::TIMESTAMPTZ")`` for other formats."""
    if fmt.pattern != ISO:
        return "false", "NULL::TIMESTAMPTZ"
    v = f"trim({value_sql})"
    cast = year_guard(f"try_cast({v} AS TIMESTAMPTZ)", "TIMESTAMPTZ", v)
    return f"coalesce(regexp_matches({v}, '{_OFFSET_RE}'), false)", cast


def _strptime(value_sql: str, pattern_sql: str) -> str:
    """``try_strptime`` that takes no two-digit year for a four-digit one (see :func:`year_guard`):
    DuckDB's ``%Y`` reads ``26`` as the year 26."""
    return year_guard(f"try_strptime({value_sql}, {pattern_sql})", "TIMESTAMP", value_sql)


def year_guard(parsed_sql: str, kind: str, value_sql: str) -> str:
    """``parsed_sql``, NULL where it lies before the year 1000 and the text ``value_sql`` holds no run of
    four digits: a two-digit year read as a four-digit one, which would date the event 2,000 years off
    where it must be a rejected row.  SAP's ``0001-01-01`` keeps its year 1, to be named as a sentinel,
    and ``-infinity`` passes, to be rejected by its own name ("not a point in time").

    The first branch settles every ordinary value (DuckDB computes the parse once); the text is
    searched only for the rest.
    """
    floor = "TIMESTAMPTZ '1000-01-01 00:00:00+00'" if kind == "TIMESTAMPTZ" else "TIMESTAMP '1000-01-01'"
    return (
        f"CASE WHEN {parsed_sql} >= {floor} THEN {parsed_sql} "
        f"WHEN isinf({parsed_sql}) OR regexp_matches({value_sql}, '[0-9]{{4}}') THEN {parsed_sql} END"
    )


def local_to_utc_sql(local_sql: str, tz_param: str) -> dict[str, str]:
    """Expressions over a naive local timestamp: the UTC instant and DST flags.

    Keys: ``utc``, ``gap`` (wall time that does not exist), ``overlap``
    (wall time that occurs twice).  ``local_sql`` should be a plain column.
    """
    tz = f"${tz_param}"
    u = f"timezone({tz}, {local_sql})"
    earlier = f"({u} - INTERVAL 1 HOUR)"
    overlap = f"(timezone({tz}, {earlier}) = {local_sql})"
    return {
        "utc": f"CASE WHEN {overlap} THEN {earlier} ELSE {u} END",
        "gap": f"(timezone({tz}, {u}) <> {local_sql})",
        "overlap": overlap,
    }
