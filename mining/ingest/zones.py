"""Zone names written after a time (``09:00 CET``, ``09:00 BST``, ``09:00 UTC+2``, ``09:00 Europe/Berlin``).

DuckDB's own cast gets these wrong without a word.  Its TIMESTAMPTZ cast
reads abbreviations by ICU's table, where ``BST`` is Bangladesh and ``IST``
India, and knows no ``CEST``; its TIMESTAMP cast drops whatever follows the
clock time, so with a ``--timezone`` every written zone was read as the log's.
A space before an offset (``09:00:00 +01:00``) made the TIMESTAMPTZ cast fail,
and the local reading then took the time as the log's.

So the text is rewritten before any parse: the zone becomes the numeric
offset it stands for (``2026-07-13 09:00:00 CEST`` -> ``2026-07-13
09:00:00+02:00``), and every reading of the column then sees an offset.

* An abbreviation the log's zone uses is read as that zone reads it
  (``--timezone Europe/London`` reads BST as +01:00, ``Asia/Shanghai`` reads
  CST as +08:00).
* Otherwise an abbreviation that names one offset wherever it is used is
  read by the table below (RFC 5322's North American names, Europe's, and
  the tz database's for Asia-Pacific and Africa).
* An abbreviation that names several (BST, IST, CST, AST) is read only when
  one of its meanings is an offset the log's zone keeps; else the row is
  rejected, with the meanings and the option that settles it.  A silent
  guess would move half a year's events by hours.
* Zone names of the tz database (``Europe/Berlin``) are read by DuckDB,
  which knows their rules; Java's ``ZonedDateTime`` (``09:00+01:00[Europe/Berlin]``)
  keeps its offset.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache

__all__ = [
    "AMBIGUOUS",
    "ZONE_WORDS",
    "may_name_zones",
    "zone_gate_sql",
    "zone_offsets",
    "zone_problem",
    "zone_sql",
    "zone_words_in",
]

#: Abbreviations with one offset wherever they are written.
ZONE_WORDS: dict[str, str] = {
    "Z": "+00:00",
    "UT": "+00:00",
    "UTC": "+00:00",
    "GMT": "+00:00",
    "WET": "+00:00",
    "WEST": "+01:00",
    "CET": "+01:00",
    "CEST": "+02:00",
    "MET": "+01:00",
    "MEST": "+02:00",
    "EET": "+02:00",
    "EEST": "+03:00",
    "MSK": "+03:00",
    "WAT": "+01:00",
    "CAT": "+02:00",
    "SAST": "+02:00",
    "EAT": "+03:00",
    "IDT": "+03:00",
    "PKT": "+05:00",
    "WIB": "+07:00",
    "WITA": "+08:00",
    "HKT": "+08:00",
    "SGT": "+08:00",
    "AWST": "+08:00",
    "WIT": "+09:00",
    "JST": "+09:00",
    "KST": "+09:00",
    "ACST": "+09:30",
    "ACDT": "+10:30",
    "AEST": "+10:00",
    "AEDT": "+11:00",
    "NZST": "+12:00",
    "NZDT": "+13:00",
    "NST": "-03:30",
    "NDT": "-02:30",
    "ADT": "-03:00",
    "EST": "-05:00",
    "EDT": "-04:00",
    "CDT": "-05:00",
    "MST": "-07:00",
    "MDT": "-06:00",
    "PST": "-08:00",
    "PDT": "-07:00",
    "AKST": "-09:00",
    "AKDT": "-08:00",
    "HST": "-10:00",
}

#: Abbreviations in use for more than one offset: each meaning, with an example zone.
AMBIGUOUS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "BST": (("+01:00", "British Summer Time", "Europe/London"), ("+06:00", "Bangladesh", "Asia/Dhaka")),
    "IST": (
        ("+05:30", "India", "Asia/Kolkata"),
        ("+01:00", "Irish Standard Time", "Europe/Dublin"),
        ("+02:00", "Israel", "Asia/Jerusalem"),
    ),
    "CST": (
        ("-06:00", "North American Central", "America/Chicago"),
        ("+08:00", "China", "Asia/Shanghai"),
        ("-05:00", "Cuba", "America/Havana"),
    ),
    "AST": (("-04:00", "Atlantic", "America/Halifax"), ("+03:00", "Arabia", "Asia/Riyadh")),
}

# After an ISO date and a clock time: an abbreviation, UTC/GMT with an offset, a tz database name,
# Java's [Zone] after an offset, or an offset after a space.  Each value is tried in this order.
_ISO_HEAD = r"^([0-9]{4}[^0-9].*[0-9])"
_WORD_RE = _ISO_HEAD + r"\s*\(?([A-Za-z]{1,5})\)?$"
_UTC_PLUS_RE = _ISO_HEAD + r"\s*\(?(?:UTC|GMT|UT)\s*([+-])([0-9]{1,2})(?::?([0-9]{2}))?\)?$"
_NAMED_RE = _ISO_HEAD + r"\s*\(?([A-Za-z]+(?:/[A-Za-z0-9_+-]+)+)\)?$"
_BRACKET_RE = r"^(.*[0-9](?:Z|[+-][0-9]{2}(?::?[0-9]{2})?))\[[A-Za-z]+(?:/[A-Za-z0-9_+-]+)*\]$"
_SPACED_OFFSET_RE = (
    r"^([0-9]{4}[^0-9].*[0-9]:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?)\s+([+-][0-9]{2}(?::?[0-9]{2})?)$"
)
# Java's Date.toString(): Tue Jan 13 09:00:00 CET 2026.
_JAVA_RE = (
    r"^([A-Za-z]{3} [A-Za-z]{3} +[0-9]{1,2} [0-9]{2}:[0-9]{2}:[0-9]{2}) \(?([A-Za-z]{1,5})\)? ([0-9]{4})$"
)
# Any other date with a clock time, then an abbreviation: e-mail's and HTTP's "14 Mar 2024 08:00:00 GMT",
# a report's "13/03/2024 09:15 CET".  Rewritten as "<time> +0100", which the " %z" patterns read.
_CLOCK_WORD_RE = r"^(.*[0-9]:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?)\s+\(?([A-Za-z]{1,5})\)?$"
# The same with UTC and an offset, as Windows names its zones: 13/03/2024 09:15:00 (UTC+01:00).
_CLOCK_PLUS_RE = r"^(.*[0-9]:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?)\s*\(?(?:UTC|GMT|UT)\s*([+-])([0-9]{1,2})(?::?([0-9]{2}))?\)?$"
_NOT_ZONES = frozenset({"AM", "PM", "A", "P"})

_PY_WORD = re.compile(r"[0-9]\s*\(?([A-Za-z]{1,5})\)?(?:\s+[0-9]{4})?$")


@cache
def zone_offsets(timezone: str | None) -> dict[str, str]:
    """Each abbreviation this log reads, and its offset (``+01:00``).

    ``timezone`` is the log's zone; None reads every abbreviation, the ambiguous
    ones by their first meaning, which serves to recognise a column's shape and
    never to place an event.
    """
    table = dict(ZONE_WORDS)
    if timezone is None:
        table.update({word: meanings[0][0] for word, meanings in AMBIGUOUS.items()})
        return table
    words, offsets = _zone_rules(timezone)
    for word, meanings in AMBIGUOUS.items():
        fits = [offset for offset, _, _ in meanings if offset in offsets]
        if len(fits) == 1:
            table[word] = fits[0]
    # The log's own zone has the last word: Asia/Manila writes PST for +08:00.
    table.update(words)
    return table


def _zone_rules(timezone: str) -> tuple[dict[str, str], frozenset[str]]:
    """The abbreviations ``timezone`` has written in recent years, each with its offset, and every
    offset it has kept (Asia/Dhaka writes +06, no abbreviation, and is still the zone of BST's +06:00)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return {}, frozenset()
    seen: dict[str, set[str]] = {}
    offsets = set()
    for year in range(2015, 2031):
        for month in range(1, 13):
            moment = dt.datetime(year, month, 15, 12, tzinfo=zone)
            name, offset = moment.tzname(), moment.utcoffset()
            if offset is None:
                continue
            minutes = int(offset.total_seconds()) // 60
            text = f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
            offsets.add(text)
            if name and name.isalpha():
                seen.setdefault(name.upper(), set()).add(text)
    words = {name: next(iter(found)) for name, found in seen.items() if len(found) == 1}
    return words, frozenset(offsets)


def zone_sql(
    value_sql: str, timezone: str | None, param: str, *, every_row: bool = False, spaced: bool = True
) -> tuple[str, dict[str, object]]:
    """SQL for the text ``value_sql`` with a written zone turned into its offset; the text unchanged
    where it names none, and NULL where it names one this log cannot place (so the row is rejected
    and :func:`zone_problem` says why).

    ``param`` prefixes the two bound lists (the abbreviations and their offsets).
    ``value_sql`` should be a plain column or a short expression: it is read several times.
    Only values that pass :func:`zone_gate_sql` are rewritten, unless ``every_row``: Java's
    ``Tue Jan 13 09:00:00 CET 2026`` ends in a digit, and a column of them is known by its sample.
    Without ``spaced``, an offset after a space stays: a column written so throughout has
    patterns of its own (``%Y-%m-%d %H:%M:%S %z``); it is the odd such value in an ISO
    column that the cast would misread.
    """
    table = zone_offsets(timezone)
    names, offsets = f"${param}_names", f"${param}_offsets"
    params: dict[str, object] = {f"{param}_names": list(table), f"{param}_offsets": list(table.values())}
    v = value_sql

    def offset_of(word_sql: str) -> str:
        return f"{offsets}[list_position({names}, upper({word_sql}))]"

    word = f"regexp_extract({v}, '{_WORD_RE}', ['head', 'zone'])"
    plus = f"regexp_extract({v}, '{_UTC_PLUS_RE}', ['head', 'sign', 'h', 'm'])"
    named = f"regexp_extract({v}, '{_NAMED_RE}', ['head', 'zone'])"
    java = f"regexp_extract({v}, '{_JAVA_RE}', ['head', 'zone', 'year'])"
    clock = f"regexp_extract({v}, '{_CLOCK_WORD_RE}', ['head', 'zone'])"
    clock_plus = f"regexp_extract({v}, '{_CLOCK_PLUS_RE}', ['head', 'sign', 'h', 'm'])"
    # A tz database name is placed by DuckDB, which knows the zone's rules; the result is written back in UTC.
    in_utc = (
        f"strftime(timezone('UTC', try_cast({named}.head || ' ' || {named}.zone AS TIMESTAMPTZ)), "
        "'%Y-%m-%d %H:%M:%S.%f') || '+00:00'"
    )
    # Loading, a word after an ISO time that no rule reads is refused: DuckDB's TIMESTAMP cast
    # drops it (09:00:00 Mitteleuropa is 09:00 in the log's zone), which would be a silent guess.
    spaced_offset = (
        f"WHEN regexp_matches({v}, '{_SPACED_OFFSET_RE}') THEN regexp_replace({v}, '{_SPACED_OFFSET_RE}', '\\1\\2') "
        f"WHEN regexp_matches({v}, '{_ISO_HEAD}\\s+[^0-9\\s]') THEN NULL "
        if spaced
        else ""
    )
    rewritten = (
        "CASE "
        f"WHEN regexp_matches({v}, '{_BRACKET_RE}') THEN regexp_extract({v}, '{_BRACKET_RE}', 1) "
        f"WHEN regexp_matches({v}, '{_UTC_PLUS_RE}') THEN {plus}.head || {plus}.sign || lpad({plus}.h, 2, '0') "
        f"|| ':' || coalesce(nullif({plus}.m, ''), '00') "
        # ISO's own Z right after the time needs no rewriting (nor AM and PM any).
        f"WHEN regexp_matches({v}, '{_WORD_RE}') THEN CASE WHEN upper({word}.zone) IN "
        f"({', '.join(repr(w) for w in sorted(_NOT_ZONES))}) OR regexp_matches({v}, '[0-9][Zz]$') THEN {v} "
        f"ELSE {word}.head || {offset_of(f'{word}.zone')} END "
        f"WHEN regexp_matches({v}, '{_NAMED_RE}') THEN {in_utc} "
        f"{spaced_offset}"
        f"WHEN regexp_matches({v}, '{_JAVA_RE}') THEN {java}.head || ' ' "
        f"|| replace({offset_of(f'{java}.zone')}, ':', '') || ' ' || {java}.year "
        f"WHEN regexp_matches({v}, '{_CLOCK_PLUS_RE}') THEN {clock_plus}.head || ' ' || {clock_plus}.sign "
        f"|| lpad({clock_plus}.h, 2, '0') || coalesce(nullif({clock_plus}.m, ''), '00') "
        f"WHEN regexp_matches({v}, '{_CLOCK_WORD_RE}') THEN CASE WHEN upper({clock}.zone) IN "
        f"({', '.join(repr(w) for w in sorted(_NOT_ZONES))}) THEN {v} "
        f"ELSE {clock}.head || ' ' || replace({offset_of(f'{clock}.zone')}, ':', '') END "
        f"ELSE {v} END"
    )
    # Most values end in a digit (or Z) and hold no " +" or " -": they skip every pattern.
    if every_row:
        return rewritten, params
    return f"CASE WHEN {zone_gate_sql(v)} THEN {rewritten} ELSE {v} END", params


def zone_gate_sql(value_sql: str) -> str:
    """SQL: the text may name a zone :func:`zone_sql` rewrites (true for some that name none).

    About 30 ns a value: a value ending in a digit is searched for a spaced offset
    or UTC/GMT; any other, but ISO's Z right after the time, passes.  A regular expression
    cost twice as much, and this runs over every timestamp of an export.
    """
    v = value_sql
    last = f"substr({v}, -1)"
    return (
        f"(CASE WHEN {last} BETWEEN '0' AND '9' THEN contains({v}, ' +') OR contains({v}, ' -') "
        f"OR contains({v}, 'UTC') OR contains({v}, 'GMT') "
        f"ELSE NOT ({last} IN ('Z', 'z') AND substr({v}, -2, 1) BETWEEN '0' AND '9') END)"
    )


_PY_GATE = re.compile(
    r"(?<![0-9])[A-Za-z)\]]$|[^0-9]$(?<![0-9][Zz])| [+-]|UTC|GMT|[0-9] \(?[A-Za-z]{1,5}\)? [0-9]{4}$"
)


def may_name_zones(values: list[str]) -> bool:
    """Whether some of ``values`` may write a zone (the Python twin of :func:`zone_gate_sql`, which
    also lets Java's ``09:00:00 CET 2026`` through): a sample without one needs no rewriting."""
    return any(_PY_GATE.search(v) for v in values)


def zone_words_in(values: list[str]) -> list[str]:
    """The zone abbreviations written in ``values`` (upper-cased, sorted)."""
    found = set()
    for value in values:
        m = _PY_WORD.search(value)
        if m and m.group(1).upper() not in _NOT_ZONES | {"Z"}:
            found.add(m.group(1).upper())
    return sorted(found)


def zone_problem(value: str | None, timezone: str) -> str | None:
    """Why a value's written zone cannot be placed in a log read in ``timezone``; None when it can."""
    if not value:
        return None
    m = _PY_WORD.search(value.strip())
    if m is None:
        return None
    word = m.group(1).upper()
    if word in _NOT_ZONES or word in zone_offsets(timezone):
        return None
    if word in AMBIGUOUS:
        meanings = AMBIGUOUS[word]
        named = ", ".join(f"{label} ({offset})" for offset, label, _ in meanings)
        # Worded for the command line and the Upload page alike: both call it the time zone.
        return (
            f"the zone {word!r} names more than one offset: {named}; set the time zone to the export's "
            f"({meanings[0][2]} reads {word} as {meanings[0][1]})"
        )
    if not re.search(r"[0-9]:[0-9]{2}", value):
        return None
    return f"the zone {word!r} is not one this importer knows; export times with an offset (+01:00) or in UTC"
