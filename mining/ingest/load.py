"""From a staged export to the canonical tables, in one transaction.

The staging table ``_stage`` holds the file as text: ``_row`` (the data row in
the file) and ``c1..cN``.  This module validates every row, writes the
rejects, and stores the good rows sorted by (case, time, row) with their
directly-follows successor, plus the per-case and per-variant tables, the
unmapped columns as attributes, and the data-quality findings.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mining.errors import BadTimestamp, EmptyLog, Option, TooManyRejects, phrase
from mining.ingest.instances import fold_starts, left_out_sql, pairs_sql
from mining.ingest.quality import log_findings
from mining.ingest.staging import STAGE, Column, drop_stage, drop_staging
from mining.ingest.timestamps import (
    EPOCHS,
    ISO,
    TimestampFormat,
    local_to_utc_sql,
    offset_sql,
    parse_sql,
    text_sql,
    year_guard,
)
from mining.ingest.zones import zone_gate_sql, zone_problem, zone_sql
from mining.schema import IS_LIFECYCLE_START, QUALITY_FIXES, ColumnMapping, QualityIssue, Reject
from mining.store import quote_ident
from mining.words import agree, plural

if TYPE_CHECKING:
    from mining.store import Store

__all__ = [
    "NULL_WORDS",
    "LoadPlan",
    "LoadResult",
    "Progress",
    "Validation",
    "check_formats",
    "load",
    "validate",
]

#: Words read as a missing value in time and number columns (compared trimmed, in lower case).
#: Names (case, activity, resource) keep them: ``NA`` is a real case code in some exports.
NULL_WORDS = ("", "null", "none", "nan", "na", "n/a", "#n/a", "nat", "-")
_CONTROL = "[\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F\\x{FFFE}\\x{FFFF}]"
_CONTROL_REASON = "control character in the row"
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_MAX_OFFSET_S = 14 * 3600
_OFFSET_REASON = "offset beyond +/-14:00"
_INFINITE_REASON = "not a point in time (infinity)"
_MISMATCH_REASON = "does not match the column's timestamp format "
_MISMATCH_SQL = _MISMATCH_REASON.replace("'", "''")
_OFFSET_RE = re.compile(r"([+-]\d\d):?(\d\d)?\s*$")
_SENTINELS = ["1970-01-01", "1900-01-01", "1899-12-30", "1899-12-31", "9999-12-31", "0001-01-01"]
_SHOW_REJECTS = 10
# A cost's decimal separator, shown by one value (see _columns_needing_clean), and thousands grouped by commas.
_DECIMAL_COMMA = r",([0-9]{1,2}|[0-9]{4,})[^0-9]*$|\.[0-9]{3},[0-9]+[^0-9]*$"
# A point no thousands group writes: before other than three last digits, after a comma group, after a
# whole part of four digits or more (1250.500), or after a lone 0 (0.250).
_DECIMAL_POINT = (
    r"\.([0-9]{1,2}|[0-9]{4,})[^0-9]*$|,[0-9]{3}\.[0-9]+[^0-9]*$|[0-9]{4,}\.[0-9]|(^|[^0-9])0\.[0-9]"
)
# Points that can only group thousands: two of them (1.234.567).
_GROUPING_POINTS = r"[0-9]\.[0-9]{3}\.[0-9]{3}"
# One point before three last digits (1.250): a decimal point or a thousands group, as the export's locale has it.
_POINT_GROUP = r"(^|[^0-9])[1-9][0-9]{0,2}\.[0-9]{3}[^0-9]*$"
# Thousands grouped by commas (1,234.56), or by apostrophes as Swiss exports write them (1'234.56, and
# the typographic one); the apostrophe doubled, as the pattern stands inside an SQL string.
_GROUPED_THOUSANDS = r"[+-]?[0-9]{1,3}([,''\x{2019}][0-9]{3})+(\.[0-9]+)?"
_GROUPING_MARKS = r"[,''\x{2019}]"
# A currency written with the amount, as a spreadsheet's currency format saves it ($1,234.56, -$5.00,
# 12,50 €, EUR 12.50, 12.50 USD, 1 234,50 Kč, 99,00 zł): the sign or the code goes, the minus stays.
_MONEY = r"([$€£¥₹]|[A-Z]{3}|kr|zł|Kč|Ft|lei)"
_CURRENCY = rf"^(-?)\s*{_MONEY}\s*|\s*{_MONEY}\s*$"
# Spaces that group thousands beside a decimal comma (French and Czech write 1 234,56; Excel with a
# no-break or a narrow no-break space).
_GROUPING_SPACES = r"[\s\x{A0}\x{202F}]"
# A negative amount as SAP writes it (12.500,00-) and as accounting formats do ((12,500.00)): the minus
# goes in front.  Read as "not a number" before.
_TRAILING_MINUS = r"^([^-]*[0-9])\s*-$"
_BRACKETED = r"^\((.*)\)$"
#: Marks a time column, among the names needing cleaning, whose text writes zones (see :func:`_dirty`).
_ZONED = "+zone"


@dataclass(frozen=True)
class LoadPlan:
    """Everything decided before writing: who is who, and how to read it."""

    log_name: str
    file: str
    source: str
    content_hash: str
    columns: tuple[Column, ...]
    mapping: ColumnMapping
    formats: dict[str, TimestampFormat]
    rows_read: int
    parse_rejects: tuple[Reject, ...]
    reject_threshold: float
    dst: str  # "shift" or "reject"
    append_to: int | None  # log_id when appending
    renamed: tuple[str, ...]
    check_control: bool = True  # False when the raw bytes hold no control character
    preamble: tuple[str, ...] = ()  # lines skipped above a CSV's header
    # Recorded in the log's mapping beside the roles (the preset used, so --append reuses it).
    mapping_extra: tuple[tuple[str, object], ...] = ()
    # The timestamp roles holding values without an offset, read as UTC by default.
    naive_roles: tuple[str, ...] = ()
    # A CSV delimited by semicolons (see StagedTable.semicolons).
    semicolons: bool = False
    # Fold each lifecycle start into its completion (see mining.ingest.instances).
    pair_starts: bool = False


@dataclass(frozen=True)
class LoadResult:
    log_id: int
    run_id: int
    events_added: int
    rejected_rows: int
    rejects: tuple[Reject, ...]
    quality: tuple[QualityIssue, ...]
    # Null words read as missing in the time and number columns: column -> word as written -> rows.
    missing_words: dict[str, dict[str, int]] = dataclasses.field(default_factory=dict)
    paired_starts: int = 0  # lifecycle starts folded into their completions
    # Events of transitions that are no step (schedule, suspend), left out with the starts paired.
    left_out: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Validation:
    """What a load of the plan would store, worked out without writing: the preview's counts."""

    events: int
    cases: int
    activities: int
    rejected_rows: int
    rejects: tuple[Reject, ...]  # the first few, in file order
    missing_words: dict[str, dict[str, int]]
    paired_starts: int = 0  # lifecycle starts the load would fold into their completions
    lifecycle_starts: int = 0  # events whose lifecycle is a start (before any pairing)
    left_out_events: int = 0  # events of transitions that are no step, which pairing leaves out


# Called with (share done, what is happening): the app's progress bar.
Progress = Callable[[float, str], None]


def _silent(share: float, message: str) -> None:
    del share, message


def _col(plan: LoadPlan, label: str | None) -> str | None:
    if label is None:
        return None
    for c in plan.columns:
        if c.label == label:
            return quote_ident(c.internal)
    return None


_NULL_LIST = ", ".join("'" + n + "'" for n in NULL_WORDS)
_NULL_MAX = max(len(n.encode()) for n in NULL_WORDS)

#: The roles whose values are names (ids, activities, people): only an empty field is missing there.
_NAME_ROLES = ("case_id", "activity", "resource", "lifecycle")


def _clean(expr: str) -> str:
    """A time or number as text: NULL for an empty field or a null word (``NULL``, ``N/A``), else trimmed."""
    # Most values are longer than any null word and carry no surrounding
    # spaces: they pass through untouched, without allocating a trimmed copy.
    # The null words are our own constants, so they are inlined, not bound.
    return (
        f"CASE WHEN {expr} IS NULL THEN NULL "
        f"WHEN strlen({expr}) > {_NULL_MAX} AND NOT starts_with({expr}, ' ') AND NOT ends_with({expr}, ' ') THEN {expr} "
        f"WHEN {_plain_number(expr)} THEN {expr} "
        f"WHEN lower(trim({expr})) IN ({_NULL_LIST}) THEN NULL ELSE trim({expr}) END"
    )


def _clean_name(expr: str) -> str:
    """A name as it stands in the file: NULL only when the field is empty or blank.

    ``NA``, ``NULL`` or ``-`` are real case codes, activities and people in
    some exports, and a name's spaces are part of it (the quality findings
    point at names that differ only by them).
    """
    return f"CASE WHEN starts_with({expr}, ' ') AND trim({expr}) = '' THEN NULL ELSE {expr} END"


def _ts_exprs(plan: LoadPlan, role: str, raw: str, params: dict[str, object]) -> dict[str, str]:
    """Expressions over the cleaned text column ``raw`` (and ``_local_<role>``)."""
    fmt = plan.formats[role]
    tz = plan.mapping.timezone
    if fmt.pattern == ISO and tz == "UTC":
        return {
            "utc": year_guard(f"try_cast({raw} AS TIMESTAMPTZ)", "TIMESTAMPTZ", raw),
            "gap": "false",
            "overlap": "false",
        }
    local, p = parse_sql(fmt, raw, f"fmt_{role}")
    params.update(p)
    if fmt.pattern in EPOCHS:
        # A Unix time is an instant (parsed as UTC's wall time): the log's zone has no say in it.
        return {"utc": f"timezone('UTC', {local})", "gap": "false", "overlap": "false"}
    if "%z" in fmt.pattern:
        # The value writes its offset (e-mail's "+0100", a zone word made one): strptime gives the
        # instant itself.  Read as the log's wall time, it lost the offset and took the zone's.
        return {"utc": local, "gap": "false", "overlap": "false"}
    params["tz"] = tz
    conv = local_to_utc_sql(f"_local_{role}", "tz")
    written, off = offset_sql(fmt, raw)
    if off == "NULL::TIMESTAMPTZ":
        return {"local": local, **conv}
    # A value that writes an offset is read by it, or not at all: the local reading drops
    # whatever follows the clock time, so falling back to it would read the offset as the log's zone.
    return {
        "local": local,
        "utc": f"CASE WHEN {written} THEN {off} ELSE {conv['utc']} END",
        "gap": f"(NOT {written} AND coalesce({conv['gap']}, false))",
        "overlap": f"(NOT {written} AND coalesce({conv['overlap']}, false))",
    }


def _columns_needing_clean(
    store: Store,
    columns: dict[str, str | None],
    cost: str | None = None,
    zones: dict[str, str] | None = None,
    *,
    semicolons: bool = False,
) -> tuple[set[str], bool]:
    """The role columns holding a value that cleaning changes anywhere, and whether the cost
    column (``cost``) writes decimals with a comma.

    Cleaning every value costs several times a plain copy; a cheap whole-column
    test (length and first/last character) clears most columns outright, and
    only columns it cannot clear get the exact test.  A name column needs
    cleaning only for blank fields; a time or number column for null words
    and surrounding spaces too.  The cost column's decimal separator is
    settled apart (:func:`_decimal_comma`), by scans that stop at the first
    value that shows it.

    ``zones`` are time columns (role -> column) whose text is searched, in the
    same scan, for a written zone (see :mod:`mining.ingest.zones`): those found
    come back as ``role + _ZONED`` among the names.
    """
    zones = zones or {}
    names = [(n, c) for n, c in columns.items() if c and n in _NAME_ROLES]
    values = [(n, c) for n, c in columns.items() if c and n not in _NAME_ROLES]
    decimal_comma = cost is not None and _decimal_comma(store, cost, semicolons=semicolons)
    if not names and not values and not zones:
        return set(), decimal_comma
    rough = store.query(
        "SELECT "
        + ", ".join(
            # CASE, not AND: DuckDB evaluates both sides of an AND for every row, and the trim
            # of every name cost three times the whole test; only a leading space earns it.
            [
                f"count(*) FILTER (WHERE CASE WHEN starts_with({c}, ' ') THEN trim({c}) = '' ELSE false END)"
                for _, c in names
            ]
            + [
                f"count(*) FILTER (WHERE strlen({c}) <= {_NULL_MAX} OR starts_with({c}, ' ') OR ends_with({c}, ' '))"
                for _, c in values
            ]
            + [f"count(*) FILTER (WHERE {zone_gate_sql(c)})" for c in zones.values()]
        )
        + " FROM _stage"
    ).rows[0]
    zoned = {n + _ZONED for n, k in zip(zones, rough[len(rough) - len(zones) :], strict=True) if k}
    rough = rough[: len(rough) - len(zones)]
    dirty = {n for (n, _), k in zip(names, rough[: len(names)], strict=True) if k}
    suspects = [(n, c) for (n, c), k in zip(values, rough[len(names) :], strict=True) if k]
    dirty |= zoned
    if not suspects:
        return dirty, decimal_comma
    exact = store.query(
        "SELECT "
        + ", ".join(
            f"count(*) FILTER (WHERE CASE WHEN {_plain_number(c)} THEN false "
            f"ELSE lower(trim({c})) IN ({_NULL_LIST}) OR {c} <> trim({c}) END)"
            for _, c in suspects
        )
        + " FROM _stage"
    ).rows[0]
    return dirty | {n for (n, _), k in zip(suspects, exact, strict=True) if k}, decimal_comma


def _decimal_comma(store: Store, cost: str, *, semicolons: bool = False) -> bool:
    """Whether the cost column writes decimals with a comma.

    A value shows a decimal point when the point comes last and is followed by other than three
    digits (12.50), follows a comma group (1,234.56), follows four digits or more (1250.500) or a
    lone 0 (0.250): then the comma is no decimal sign.  Else a value shows a decimal comma in the
    same way (12,5 and 1.234,56), or two points show them grouping thousands (1.234.567).  When no
    value settles it, 1.250 is a thousand and a quarter or one and a quarter as the export's locale
    writes it: a file delimited by semicolons comes from a locale whose decimal sign is the comma
    (Excel writes them so where the comma is taken), and its 1.250 is 1250; elsewhere it is 1.25.

    One value settles each question, so each scan stops at the first (a count ran the pattern over
    every value of the column).
    """

    def shown(separator: str, pattern: str) -> bool:
        return bool(
            store.scalar(
                f"SELECT count(*) FROM (SELECT 1 FROM _stage WHERE contains({cost}, '{separator}') "
                f"AND regexp_matches({cost}, '{pattern}') LIMIT 1)"
            )
        )

    if shown(".", _DECIMAL_POINT):
        return False
    if shown(",", _DECIMAL_COMMA) or shown(".", _GROUPING_POINTS):
        return True
    return semicolons and shown(".", _POINT_GROUP)


def _plain_number(expr: str) -> str:
    """SQL: the text starts with a digit, is all ASCII and does not end with a space.

    Such a value is no null word and trim() leaves it as it is (of the ASCII
    characters trim() removes only the space; the others it removes are not
    ASCII): the short numbers that the rough test cannot clear skip the trim
    and lower-casing, a quarter of the exact test's cost.
    """
    return (
        f"{expr} >= '0' AND {expr} < ':' AND NOT ends_with({expr}, ' ') AND strlen({expr}) = length({expr})"
    )


def _missing_words(store: Store, plan: LoadPlan, dirty: set[str]) -> dict[str, dict[str, int]]:
    """The null words read as missing in the time and number columns: column -> word as written -> rows.

    Only a column that needs cleaning (``dirty``, see :func:`_columns_needing_clean`) can hold one.
    """
    m = plan.mapping
    out: dict[str, dict[str, int]] = {}
    for name, label in (("_ts_raw", m.timestamp), ("_st_raw", m.start_timestamp), ("_cost_raw", m.cost)):
        col = _col(plan, label)
        if not label or col is None or label in out or name not in dirty:
            continue
        rows = store.query(
            f"SELECT trim({col}) AS w, count(*) FROM _stage WHERE strlen({col}) <= {_NULL_MAX + 16} "
            f"AND NOT coalesce({_plain_number(col)}, false) "
            f"AND lower(trim({col})) IN ({_NULL_LIST}) AND trim({col}) <> '' GROUP BY w ORDER BY w"
        ).rows
        if rows:
            out[label] = {str(w): int(n) for w, n in rows}
    return out


def _role_columns(plan: LoadPlan) -> dict[str, str | None]:
    """The role values' names in the typed rows, and the headers they come from."""
    m = plan.mapping
    return {
        "case_id": m.case,
        "activity": m.activity,
        "_ts_raw": m.timestamp,
        "_st_raw": m.start_timestamp,
        "resource": m.resource,
        "lifecycle": m.lifecycle,
        "_cost_raw": m.cost,
    }


def _dirty(store: Store, plan: LoadPlan) -> tuple[set[str], bool]:
    """The role columns that need cleaning (and, as ``role + _ZONED``, the time columns that write
    zones the sample did not show), and whether the cost column has decimal commas."""
    m = plan.mapping
    # ISO columns only: the cast is what misreads a zone; a value of another format that writes
    # one does not match its pattern, and is rejected by name.
    zones = {
        raw: col
        for raw, role, label in (
            ("_ts_raw", "timestamp", m.timestamp),
            ("_st_raw", "start_timestamp", m.start_timestamp),
        )
        if label
        and (col := _col(plan, label)) is not None
        and plan.formats[role].pattern == ISO
        and not plan.formats[role].zoned
    }
    return _columns_needing_clean(
        store,
        {n: _col(plan, label) for n, label in _role_columns(plan).items() if label},
        _col(plan, m.cost) if m.cost else None,
        zones,
        semicolons=plan.semicolons,
    )


def _typed_sql(
    plan: LoadPlan, params: dict[str, object], dirty: set[str], *, with_checks: bool = True
) -> str:
    """The staged rows with parsed role values and a reject reason (NULL when good).

    Built in layers so each value is cleaned and parsed once: text, local
    time, UTC instant, then the first reason the row cannot be used.  Without
    ``with_checks``, only the values (``_row``, the roles, ``ts``, ``start_ts``,
    ``cost`` and the attribute columns) of rows already known to be good.
    """
    m = plan.mapping
    labels: dict[str, str] = {}

    def lit(label: str | None) -> str:
        """A header as a bound parameter (it is a value in the reject report, never SQL)."""
        text = label or ""
        if text not in labels:
            labels[text] = f"lbl{len(labels)}"
            params[labels[text]] = text
        return f"${labels[text]}"

    role_cols = _role_columns(plan)
    all_cols = ", ".join(quote_ident(c.internal) for c in plan.columns)

    def cleaned(name: str, label: str | None) -> str:
        col = _col(plan, label)
        if not label or col is None:
            return "NULL::VARCHAR"
        if name not in dirty:
            return col
        return _clean_name(col) if name in _NAME_ROLES else _clean(col)

    values = [f"{cleaned(name, label)} AS {name}" for name, label in role_cols.items()]
    # The field as it stood in the file, for the reject report (_v_<role>).
    raws = [
        f"{_col(plan, label) or 'NULL::VARCHAR'} AS _v_{name}" for name, label in role_cols.items() if label
    ]
    attrs = _attribute_columns(plan)
    carried = "".join(f", {quote_ident(c.internal)}" for c in attrs)
    # _ctl names the first column holding a control character (NULL when none), _ctlv its value.
    ctl, ctlv = "NULL::VARCHAR", "NULL::VARCHAR"
    if plan.check_control and with_checks:
        whens = [(f"regexp_matches({quote_ident(c.internal)}, '{_CONTROL}')", c) for c in plan.columns]
        ctl_cols = " ".join(f"WHEN {w} THEN {lit(c.label)}" for w, c in whens)
        ctl_vals = " ".join(f"WHEN {w} THEN {quote_ident(c.internal)}" for w, c in whens)
        any_ctl = f"regexp_matches(concat_ws('', {all_cols}), '{_CONTROL}')"
        ctl = f"CASE WHEN {any_ctl} THEN CASE {ctl_cols} END END"
        ctlv = f"CASE WHEN {any_ctl} THEN CASE {ctl_vals} END END"
    layer1 = f"SELECT _row{carried}, {', '.join(values + raws)}, {ctl} AS _ctl, {ctlv} AS _ctlv FROM _stage"
    # A written zone becomes its offset (_ts_text) before any parse; the cleaned text stays for the
    # checks, so a zone that cannot be placed is a mismatch, not a missing time.
    texts = {"_ts_raw": "_ts_raw", "_st_raw": "_st_raw"}
    zoned = []
    for raw, role in (("_ts_raw", "timestamp"), ("_st_raw", "start_timestamp")):
        fmt = plan.formats.get(role)
        if fmt is None:
            continue
        text = text_sql(fmt, raw)
        if fmt.zoned or raw + _ZONED in dirty:
            text, p = zone_sql(text, m.timezone, f"zone{raw}", every_row=fmt.pattern != ISO)
            params.update(p)
        if text != raw:
            texts[raw] = raw.replace("_raw", "_text")
            zoned.append(f"{text} AS {texts[raw]}")
    if zoned:
        layer1 = f"SELECT *, {', '.join(zoned)} FROM ({layer1})"
    ts_e = _ts_exprs(plan, "timestamp", texts["_ts_raw"], params)
    st_e = _ts_exprs(plan, "start_timestamp", texts["_st_raw"], params) if m.start_timestamp else None
    locals_ = [
        f"{e['local']} AS _local_{r}"
        for r, e in (("timestamp", ts_e), ("start_timestamp", st_e))
        if e and "local" in e
    ]
    layer2 = f"SELECT *{''.join(', ' + x for x in locals_)} FROM ({layer1})"
    cost_sql = "NULL::DOUBLE"
    if m.cost:
        # Decimal commas (1.234,56 or 12,5) are read as such; the column decides.  With a decimal
        # point, commas that group thousands (1,234.56, as US and UK exports write) are dropped.
        # Each rewrite only where its sign shows (a CASE, as DuckDB computes an expression used twice
        # for every row otherwise): a plain number is read by the first cast alone.
        signed = (
            f"CASE WHEN ends_with(_cost_raw, '-') OR starts_with(_cost_raw, '(') THEN regexp_replace("
            f"regexp_replace(_cost_raw, '{_TRAILING_MINUS}', '-\\1'), '{_BRACKETED}', '-\\1') ELSE _cost_raw END"
        )
        amount = f"regexp_replace({signed}, '{_CURRENCY}', '\\1', 'g')"
        cost_sql = (
            f"CASE WHEN $decimal_comma THEN try_cast(replace(replace(regexp_replace({amount}, "
            f"'{_GROUPING_SPACES}', '', 'g'), '.', ''), ',', '.') AS DOUBLE) "
            "WHEN try_cast(_cost_raw AS DOUBLE) IS NOT NULL THEN try_cast(_cost_raw AS DOUBLE) "
            f"ELSE coalesce(try_cast({amount} AS DOUBLE), CASE WHEN "
            f"regexp_full_match({amount}, '{_GROUPED_THOUSANDS}') THEN try_cast(regexp_replace({amount}, '{_GROUPING_MARKS}', '', 'g') AS DOUBLE) "
            "END) END"
        )
    layer3 = (
        f"SELECT *, {ts_e['utc']} AS ts, {st_e['utc'] if st_e else 'NULL::TIMESTAMPTZ'} AS start_ts, "
        f"{cost_sql} AS cost, {ts_e['gap']} AS _gap, {ts_e['overlap']} AS _overlap, "
        f"{st_e['gap'] if st_e else 'false'} AS _sgap FROM ({layer2})"
    )
    if not with_checks:
        return f"SELECT _row, case_id, activity, ts, start_ts, resource, lifecycle, cost{carried} FROM ({layer3})"
    params["fmtname_ts"] = plan.formats["timestamp"].pattern
    checks = [
        ("_ctl IS NOT NULL", "_ctl", "_ctlv", f"'{_CONTROL_REASON}'"),
        ("case_id IS NULL", lit(m.case), "_v_case_id", "'missing case id'"),
        ("activity IS NULL", lit(m.activity), "_v_activity", "'missing activity'"),
        ("_ts_raw IS NULL", lit(m.timestamp), "_v__ts_raw", "'missing timestamp'"),
        (
            "ts IS NULL",
            lit(m.timestamp),
            "_v__ts_raw",
            f"'{_MISMATCH_SQL}' || $fmtname_ts",
        ),
        # DuckDB reads 'infinity' as a timestamp; no event happens then, and no duration ends there.
        ("NOT isfinite(ts)", lit(m.timestamp), "_v__ts_raw", f"'{_INFINITE_REASON}'"),
    ]
    if st_e:
        params["fmtname_st"] = plan.formats["start_timestamp"].pattern
        checks.append(
            (
                "_st_raw IS NOT NULL AND start_ts IS NULL",
                lit(m.start_timestamp),
                "_v__st_raw",
                f"'{_MISMATCH_SQL}' || $fmtname_st",
            )
        )
        checks.append(
            (
                "start_ts IS NOT NULL AND NOT isfinite(start_ts)",
                lit(m.start_timestamp),
                "_v__st_raw",
                f"'{_INFINITE_REASON}'",
            )
        )
    # An offset beyond +/-14:00 (no zone is that far from UTC) is a typo or a
    # mangled export: DuckDB would read +15:00, or +99:00, as a real instant.
    # The wall time read without the offset, minus the instant, is the offset.
    for raw, parsed, label in (("_ts_raw", "ts", m.timestamp), ("_st_raw", "start_ts", m.start_timestamp)):
        role = "timestamp" if raw == "_ts_raw" else "start_timestamp"
        if label and plan.formats[role].pattern == ISO:
            checks.append(
                (
                    f"{parsed} IS NOT NULL AND abs(epoch(try_cast({texts[raw]} AS TIMESTAMP)) - epoch({parsed})) > {_MAX_OFFSET_S}",
                    lit(label),
                    f"_v_{raw}",
                    f"'{_OFFSET_REASON}'",
                )
            )
    if m.cost:
        checks.append(
            ("_cost_raw IS NOT NULL AND cost IS NULL", lit(m.cost), "_v__cost_raw", "'cost is not a number'")
        )
    if plan.dst == "reject" and m.timezone != "UTC":
        checks.append(
            ("_gap", lit(m.timestamp), "_v__ts_raw", "'wall time does not exist in ' || $tz || ' (DST gap)'")
        )
        checks.append(
            (
                "_overlap",
                lit(m.timestamp),
                "_v__ts_raw",
                "'wall time occurs twice in ' || $tz || ' (DST overlap)'",
            )
        )
        if st_e:
            checks.append(
                (
                    "_sgap",
                    lit(m.start_timestamp),
                    "_v__st_raw",
                    "'wall time does not exist in ' || $tz || ' (DST gap)'",
                )
            )

    # The checks run once per row, giving the number of the first that fails
    # (_k); the reason, column and value are then looked up by that number,
    # for the failing rows alone.  Written as three CASEs over the checks, every
    # check (timestamp parses among them) ran three times per row.
    first_failed = "CASE " + " ".join(f"WHEN {c[0]} THEN {k}" for k, c in enumerate(checks, start=1)) + " END"
    layer4 = f"SELECT *, {first_failed} AS _k FROM ({layer3})"

    def pick(i: int) -> str:
        whens = " ".join(f"WHEN {k} THEN {c[i]}" for k, c in enumerate(checks, start=1))
        return f"CASE WHEN _k IS NOT NULL THEN CASE _k {whens} END END"

    return (
        f"SELECT _row, case_id, activity, ts, start_ts, resource, lifecycle, cost, {pick(3)} AS _reason, "
        f"{pick(1)} AS _column, {pick(2)} AS _value, _gap, _overlap, _sgap{carried} FROM ({layer4})"
    )


def _attribute_columns(plan: LoadPlan) -> list[Column]:
    used = plan.mapping.used_columns()
    return [c for c in plan.columns if c.label not in used]


def validate(store: Store, plan: LoadPlan, *, shown: int = _SHOW_REJECTS) -> Validation:
    """Check every row as :func:`load` would and count what it would store; nothing is written.

    The counts are those of a new log: the events, cases and activities of
    the rows that pass, and the rows rejected (the parse rejects included).
    """
    params: dict[str, object] = {}
    dirty, decimal_comma = _dirty(store, plan)
    if plan.mapping.cost:
        params["decimal_comma"] = decimal_comma
    words = _missing_words(store, plan, dirty)
    store.execute(f"CREATE OR REPLACE TEMP TABLE _typed AS {_typed_sql(plan, params, dirty)}", params)
    try:
        events, cases, activities = store.query(
            "SELECT count(*), count(DISTINCT case_id), count(DISTINCT activity) FROM _typed WHERE _reason IS NULL"
        ).rows[0]
        value_rows = store.query("SELECT _row FROM _typed WHERE _reason IS NOT NULL ORDER BY _row").rows
        first = store.query(
            "SELECT _row, _column, _reason, _value FROM _typed WHERE _reason IS NOT NULL ORDER BY _row LIMIT ?",
            [shown],
        ).rows
        starts = int(
            store.scalar(f"SELECT count(*) FROM _typed WHERE _reason IS NULL AND {IS_LIFECYCLE_START}")
        )
        paired = left_out = 0
        if plan.pair_starts:
            kept = "(SELECT * FROM _typed WHERE _reason IS NULL)"
            paired = int(
                store.scalar(f"SELECT count(*) FROM ({pairs_sql(kept, case='case_id', row='_row')})")
            )
            left_out = int(
                store.scalar(f"SELECT count(*) FROM ({left_out_sql(kept, case='case_id', row='_row')})")
            )
    finally:
        store.execute("DROP TABLE IF EXISTS _typed")
    rejects = sorted(
        [
            *plan.parse_rejects[:shown],
            *(
                Reject(plan.file, int(r), c, _reason(str(w), v, plan.mapping.timezone, c), v)
                for r, c, w, v in first
            ),
        ],
        key=lambda r: r.row,
    )[:shown]
    rejected = len({r.row for r in plan.parse_rejects} | {int(r[0]) for r in value_rows})
    return Validation(
        int(events) - paired - left_out,
        int(cases),
        int(activities),
        rejected,
        tuple(rejects),
        words,
        paired,
        starts,
        left_out,
    )


def load(store: Store, plan: LoadPlan, progress: Progress | None = None) -> LoadResult:
    """Validate every row and write everything in one transaction; with too many rejects, raise and write nothing."""
    report = progress or _silent
    report(0.5, f"Checking {plan.rows_read:,} rows")
    params: dict[str, object] = {}
    if plan.dst == "reject" and plan.mapping.timezone != "UTC":
        params["tz"] = plan.mapping.timezone
    dirty, decimal_comma = _dirty(store, plan)
    if plan.mapping.cost:
        params["decimal_comma"] = decimal_comma
    words = _missing_words(store, plan, dirty)
    if plan.rows_read == 0:
        msg = f"{plan.file} has a header but no rows"
        raise EmptyLog(msg)
    # A new log read in UTC, without control characters, has nothing for a separate
    # checking pass to find but its rejects: the sorted insert applies the checks
    # itself (each timestamp parsed once), and only when it kept fewer rows than
    # were staged does the checking pass run, to name them.  Too many rejects
    # then undo the insert with the transaction, so nothing is written either way.
    flagged = None
    if not _checks_in_insert(plan):
        flagged = _flagged(store, plan, params, dirty)
        _refuse(plan, _rejects(plan, flagged))
    with store.transaction():
        if flagged is None:
            parse_rejected = len({r.row for r in plan.parse_rejects})
            report(0.65, f"Sorting and writing {plan.rows_read - parse_rejected:,} events")
            log_id, run_id, first_row = _register(store, plan, parse_rejected)
            flagged = _write_checked_events(store, plan, params, dirty, log_id, run_id)
            rejects, rejected_rows = _rejects(plan, flagged)
            _refuse(plan, (rejects, rejected_rows))
            good = _good_rows(store, plan, dirty, [int(r[0]) for r in flagged if r[2] is not None], params)
            if rejected_rows != parse_rejected:
                store.execute(
                    "UPDATE ingest_runs SET rejected_rows = ? WHERE run_id = ?", [rejected_rows, run_id]
                )
                if _cases_lost(store, log_id):
                    # A case all of whose rows were rejected holds a number: number them again.
                    store.execute("DELETE FROM events WHERE log_id = ?", [log_id])
                    _write_events(store, plan, good, log_id, run_id, first_row)
            added = int(store.scalar("SELECT count(*) FROM events WHERE log_id = ?", [log_id]))
        else:
            rejects, rejected_rows = _rejects(plan, flagged)
            good = _good_rows(store, plan, dirty, [int(r[0]) for r in flagged if r[2] is not None], params)
            report(0.65, f"Sorting and writing {plan.rows_read - rejected_rows:,} events")
            log_id, run_id, first_row = _register(store, plan, rejected_rows)
            added = _write_events(store, plan, good, log_id, run_id, first_row)
        shifted = (
            sum(1 for *_, why, _, gap, _ in flagged if why is None and gap),
            sum(1 for *_, why, _, _, overlap in flagged if why is None and overlap),
        )
        report(0.85, "Writing attributes, cases and variants")
        _write_attributes(store, plan, good, log_id, first_row)
        folded = fold_starts(store, log_id) if plan.pair_starts else None
        if folded is not None and (folded.paired or folded.left_out):
            added = int(
                store.scalar("SELECT count(*) FROM events WHERE log_id = ? AND run_id = ?", [log_id, run_id])
            )
        # Every value needed from here on is stored; the staged text is the largest table.
        drop_stage(store)
        _rebuild_cases(store, log_id)
        if rejects:
            store.execute(
                "INSERT INTO rejects SELECT ?, ?, f, r, c, why, v FROM "
                "(SELECT unnest(?) AS f, unnest(?) AS r, unnest(?) AS c, unnest(?) AS why, unnest(?) AS v)",
                [
                    log_id,
                    run_id,
                    [x.file for x in rejects],
                    [x.row for x in rejects],
                    [x.column for x in rejects],
                    [x.reason for x in rejects],
                    [x.value for x in rejects],
                ],
            )
        quality = _quality(store, plan, log_id, run_id, shifted)
        store.execute("UPDATE ingest_runs SET events_added = ? WHERE run_id = ?", [added, run_id])
    drop_staging(store)
    paired, left_out = (folded.paired, folded.left_out) if folded is not None else (0, ())
    return LoadResult(
        log_id, run_id, added, rejected_rows, tuple(rejects), tuple(quality), words, paired, left_out
    )


_Flagged = list[tuple[int, str | None, str | None, str | None, bool | None, bool | None]]


def _checks_in_insert(plan: LoadPlan) -> bool:
    """Whether the sorted insert can apply the checks itself (see :func:`load`).

    Not on append (the new rows are compared with the stored ones first), not
    when a control character may be in any column (that test reads every field,
    and a file holding one usually has rejects to find anyway), and not outside
    UTC, where the good rows read across a DST change are counted too.
    """
    return plan.append_to is None and not plan.check_control and plan.mapping.timezone == "UTC"


def _flagged(store: Store, plan: LoadPlan, params: dict[str, object], dirty: set[str]) -> _Flagged:
    """Every row checked in one pass, keeping only what must be reported: the rejected rows
    (row, column, reason, value) and the good ones read across a DST change (gap, overlap).

    The typed rows are not stored here: the sorted insert reads them from the
    staged text, so the rows are written once.
    """
    return store.query(
        f"SELECT _row, _column, _reason, _value, _gap OR _sgap, _overlap FROM ({_typed_sql(plan, params, dirty)}) "
        "WHERE _reason IS NOT NULL OR _gap OR _sgap OR _overlap ORDER BY _row",
        params,
    ).rows


def _rejects(plan: LoadPlan, flagged: _Flagged) -> tuple[list[Reject], int]:
    """The parse and value rejects in row order, and the number of rows they reject."""
    rejects = list(plan.parse_rejects) + [
        Reject(plan.file, int(r), c, _reason(str(why), v, plan.mapping.timezone, c), v)
        for r, c, why, v, _, _ in flagged
        if why is not None
    ]
    rejects.sort(key=lambda r: r.row)
    return rejects, len({r.row for r in rejects})


def _refuse(plan: LoadPlan, found: tuple[list[Reject], int]) -> None:
    """Raise when every row, or more than the allowed share, was rejected."""
    rejects, rejected_rows = found
    if rejected_rows == plan.rows_read:
        msg = f"{plan.file}: every one of its {plan.rows_read:,} rows was rejected; first: {rejects[0]}"
        raise EmptyLog(msg)
    if rejected_rows > plan.reject_threshold * plan.rows_read:
        shown = "\n".join(f"  {r}" for r in rejects[:_SHOW_REJECTS])
        share = rejected_rows / plan.rows_read
        msg = (
            f"{plan.file}: {rejected_rows:,} of {plan.rows_read:,} rows ({share:.1%}) were rejected, more than the "
            f"{plan.reject_threshold:.1%} allowed; nothing was loaded. First problems:\n{shown}"
        )
        raise TooManyRejects(
            msg,
            rejects=rejects,
            hint=phrase(
                "fix the export, map other columns, or raise ",
                Option("max_rejects"),
                " (write them all with ",
                Option("rejects", "FILE"),
                ")",
            ),
        )


def _write_checked_events(
    store: Store, plan: LoadPlan, params: dict[str, object], dirty: set[str], log_id: int, run_id: int
) -> _Flagged:
    """A new log's events, the checks applied by the sorted insert itself; the rows it left out, flagged.

    The cases are numbered among every row with a case id, which is right
    unless a case lost all its rows to the checks (see :func:`_cases_lost`).
    The checking pass runs only when the insert kept fewer rows than were staged.
    """
    typed = _typed_sql(plan, params, dirty)
    # Only the case id is read: DuckDB leaves the parsing and the checks out of this scan.
    _number_cases(store, f"SELECT DISTINCT case_id FROM ({typed}) WHERE case_id IS NOT NULL", params)
    _insert_sorted(
        store,
        f"SELECT case_id, activity, ts, start_ts, resource, lifecycle, cost, _row AS row_no, {int(run_id)} AS run_id "
        f"FROM ({typed}) WHERE _reason IS NULL",
        params,
        log_id,
    )
    kept = store.scalar("SELECT count(*) FROM events WHERE log_id = ?", [log_id])
    if kept == store.scalar(f"SELECT count(*) FROM {STAGE}"):
        return []
    return _flagged(store, plan, params, dirty)


def _cases_lost(store: Store, log_id: int) -> bool:
    """Whether a numbered case has no event left (all its rows rejected), leaving a gap in the numbers."""
    numbered, kept = store.query(
        "SELECT (SELECT count(*) FROM _case_no), (SELECT count(DISTINCT case_no) FROM events WHERE log_id = ?)",
        [log_id],
    ).rows[0]
    return bool(numbered != kept)


def _good_rows(
    store: Store, plan: LoadPlan, dirty: set[str], rejected: list[int], checked: dict[str, object]
) -> tuple[str, dict[str, object]]:
    """The rows that pass the checks, typed, as SQL over the staged text (and its parameters).

    Without rejects that is every staged row, and the checks need not run
    again.  The rejected rows are left out by their ``_row`` when that names
    one staged row each (a file's row; a preset may make several events of
    one row): otherwise the checks decide again, over rows stored once.
    ``checked`` holds the parameters the checks ran with (the cost column's decimal comma).
    """
    params = {k: v for k, v in checked.items() if k == "decimal_comma"}
    values = _typed_sql(plan, params, dirty, with_checks=False)
    if not rejected:
        return values, params
    store.execute(
        "CREATE OR REPLACE TEMP TABLE _rejected AS SELECT unnest($rows)::BIGINT AS _row", {"rows": rejected}
    )
    if store.scalar("SELECT count(*) FROM _stage SEMI JOIN _rejected USING (_row)") == len(rejected):
        return f"SELECT * FROM ({values}) ANTI JOIN _rejected USING (_row)", params
    params = {k: v for k, v in checked.items() if k in {"decimal_comma", "tz"}}
    columns = ", ".join(
        ["_row", "case_id", "activity", "ts", "start_ts", "resource", "lifecycle", "cost"]
        + [quote_ident(c.internal) for c in _attribute_columns(plan)]
    )
    store.execute(
        f"CREATE OR REPLACE TEMP TABLE _typed AS SELECT {columns} FROM ({_typed_sql(plan, params, dirty)}) "
        "WHERE _reason IS NULL",
        params,
    )
    return "SELECT * FROM _typed", {}


def _reason(why: str, value: str | None, timezone: str = "UTC", column: str | None = None) -> str:
    """A reject's reason, naming the character, the offset or the zone at fault where SQL only flagged the row."""
    if why == _CONTROL_REASON:
        return _control_reason(value)
    if column and value is not None and value.strip() == column.strip() and why.startswith(_MISMATCH_REASON):
        # "time" under the header "time": files joined end to end, each with its header.
        return "the header line again: the file joins several exports, each with its header"
    if why.startswith(_MISMATCH_REASON) and (zone := zone_problem(value, timezone)):
        return zone
    if why == _OFFSET_REASON:
        found = _OFFSET_RE.search(value or "")
        shown = f"{found.group(1)}:{found.group(2) or '00'}" if found else "the offset"
        return f"offset {shown} is beyond +/-14:00: no time zone is that far from UTC"
    return why


def _control_reason(value: str | None) -> str:
    """Which character made the row unusable: no text format (and no BPMN or PNML export) can carry it."""
    found = _CONTROL_CHARS.search(value or "")
    if found is None:
        return _CONTROL_REASON
    code = f"U+{ord(found.group()):04X}"
    if found.group() in "\ufffe\uffff":
        return f"character {code} in the row, which XML forbids (not a character in any text)"
    return f"control character {code} in the row"


def _register(store: Store, plan: LoadPlan, rejected_rows: int) -> tuple[int, int, int]:
    now = dt.datetime.now(dt.UTC)
    m = plan.mapping
    # Times that all write their offsets are read the same in any zone: the log is shown in the one
    # keeping them (see mining.ingest.offsetzone), which an appended export's naive times are read in.
    shown = dict(plan.mapping_extra).get("offset_zone")
    zone = str(shown["zone"]) if isinstance(shown, dict) else m.timezone
    mapping_json = json.dumps(
        {
            **m.roles(),
            "timezone": zone,
            "formats": {k: v.pattern for k, v in plan.formats.items()},
            "naive_utc": list(plan.naive_roles),
            **dict(plan.mapping_extra),
        }
    )
    if plan.append_to is None:
        log_id = int(store.scalar("SELECT coalesce(max(log_id), 0) + 1 FROM logs"))
        store.execute(
            "INSERT INTO logs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                log_id,
                plan.log_name,
                plan.source,
                plan.content_hash,
                mapping_json,
                zone,
                now,
                m.start_timestamp is not None,
                m.resource is not None,
                m.lifecycle is not None,
                m.cost is not None,
            ],
        )
        first_row = 0
    else:
        log_id = plan.append_to
        store.execute(
            "UPDATE logs SET content_hash = ?, ingested_at = ? WHERE log_id = ?",
            [plan.content_hash, now, log_id],
        )
        first_row = int(
            store.scalar("SELECT coalesce(max(row_no), 0) FROM events WHERE log_id = ?", [log_id])
        )
        first_row = max(
            first_row,
            int(
                store.scalar(
                    "SELECT coalesce(max(first_row_no + rows_read), 0) FROM ingest_runs WHERE log_id = ?",
                    [log_id],
                )
            ),
        )
    run_id = int(store.scalar("SELECT coalesce(max(run_id), 0) + 1 FROM ingest_runs"))
    store.execute(
        "INSERT INTO ingest_runs VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)",
        [
            run_id,
            log_id,
            "append" if plan.append_to else "load",
            plan.source,
            plan.content_hash,
            plan.rows_read,
            rejected_rows,
            first_row,
            json.dumps({k: v.pattern for k, v in plan.formats.items()}),
            now,
        ],
    )
    return log_id, run_id, first_row


_EVENT_KEY = ("case_id", "activity", "ts", "start_ts", "resource", "lifecycle")


def _write_events(
    store: Store,
    plan: LoadPlan,
    rows: tuple[str, dict[str, object]],
    log_id: int,
    run_id: int,
    first_row: int,
) -> int:
    rows_sql, params = rows
    good = (
        f"SELECT case_id, activity, ts, start_ts, resource, lifecycle, cost, _row + {int(first_row)} AS row_no, "
        f"{int(run_id)} AS run_id FROM ({rows_sql})"
    )
    # The statements reading the good rows take their parameters (formats, zone); the others none.
    source_params = params
    if plan.append_to is None:
        source = None
        added_sql = f"SELECT count(*) FROM ({rows_sql})"
    else:
        # A newer export repeats what is already stored: add only the events
        # not there yet, counting repeats so true duplicates survive.
        key = ", ".join(f"{k}" for k in _EVENT_KEY)
        on = " AND ".join(f"n.{k} IS NOT DISTINCT FROM o.{k}" for k in _EVENT_KEY)
        store.execute(
            f"CREATE OR REPLACE TEMP TABLE _new AS SELECT n.* EXCLUDE (_k) FROM "
            f"(SELECT *, row_number() OVER (PARTITION BY {key} ORDER BY row_no) AS _k FROM ({good})) n "
            f"ANTI JOIN (SELECT {key}, row_number() OVER (PARTITION BY {key} ORDER BY row_no) AS _k "
            f"FROM events WHERE log_id = $log) o ON {on} AND n._k = o._k",
            {**params, "log": log_id},
        )
        store.execute(
            "CREATE OR REPLACE TEMP TABLE _old AS SELECT case_id, activity, ts, start_ts, resource, lifecycle, "
            "cost, row_no, run_id FROM events WHERE log_id = ?",
            [log_id],
        )
        store.execute("DELETE FROM events WHERE log_id = ?", [log_id])
        source = "SELECT * FROM _old UNION ALL SELECT * FROM _new"
        added_sql = "SELECT count(*) FROM _new"
        source_params = {}
    added = int(store.scalar(added_sql, source_params if plan.append_to is None else None))
    if source is None:
        source = good
    else:
        store.execute(f"CREATE OR REPLACE TEMP TABLE _all AS {source}")
        source = "SELECT * FROM _all"
    _number_cases(store, f"SELECT DISTINCT case_id FROM ({source})", source_params)
    _insert_sorted(store, source, source_params, log_id)
    # _case_no stays: the cases are named from it.
    for t in ("_old", "_all", "_sorted"):
        store.execute(f"DROP TABLE IF EXISTS {t}")
    return added


def _number_cases(store: Store, case_ids: str, params: dict[str, object]) -> None:
    """``_case_no``: each case id of ``case_ids`` (SQL of distinct ids) and its number, in id order."""
    store.execute(
        "CREATE OR REPLACE TEMP TABLE _case_no AS SELECT case_id, "
        f"CAST(row_number() OVER (ORDER BY case_id) AS INTEGER) AS case_no FROM ({case_ids})",
        params or None,
    )


def _insert_sorted(store: Store, source: str, params: dict[str, object], log_id: int) -> None:
    """Insert the rows of ``source`` as the log's events, numbered by ``_case_no`` and sorted.

    One sort, by (case, time, row), and the successor read off the sorted
    rows: the next row, when it is of the same case.  A window partitioned
    by case sorted everything a second time (a quarter of the statement's
    CPU).  ``lead() OVER ()`` is DuckDB's streaming window: it runs in one
    thread over its input as that arrives, so it sees the sort's order; no
    sorted copy is kept beside the typed rows and the new table.
    """
    same = "lead(case_no) OVER () = case_no"
    store.execute(
        "INSERT INTO events SELECT $log, case_id, activity, ts, start_ts, resource, lifecycle, cost, row_no, run_id, "
        f"case_no, CASE WHEN {same} THEN lead(activity) OVER () END, CASE WHEN {same} THEN lead(ts) OVER () END "
        f"FROM (SELECT a.*, c.case_no FROM ({source}) a JOIN _case_no c USING (case_id) "
        "ORDER BY c.case_no, a.ts, a.row_no)",
        {**params, "log": log_id},
    )


def _write_attributes(
    store: Store, plan: LoadPlan, rows: tuple[str, dict[str, object]], log_id: int, first_row: int
) -> None:
    extra = _attribute_columns(plan)
    table = quote_ident(f"attrs_{log_id}")
    known = {
        r[1]: r[0]
        for r in store.query(
            "SELECT column_name, source_name FROM attribute_columns WHERE log_id = ? ORDER BY position",
            [log_id],
        ).rows
    }
    added: list[tuple[int, str, str]] = []
    for c in extra:
        if c.label in known:
            continue
        position = len(known) + 1
        known[c.label] = f"a{position}"
        added.append((position, known[c.label], c.label))
    if added:
        store.execute(
            "INSERT INTO attribute_columns SELECT ?, unnest(?), unnest(?), unnest(?)",
            [log_id, [a[0] for a in added], [a[1] for a in added], [a[2] for a in added]],
        )
    if plan.append_to is None:
        # One statement for every column: a wide export's thousands of ALTERs would each copy the catalog.
        columns = "".join(f", {quote_ident(name)} VARCHAR" for _, name, _ in added)
        store.execute(f"CREATE TABLE {table} (row_no BIGINT NOT NULL{columns})")
    else:
        for _, name, _ in added:
            store.execute(f"ALTER TABLE {table} ADD COLUMN {quote_ident(name)} VARCHAR")
    if not extra:
        return
    targets = ", ".join(quote_ident(known[c.label]) for c in extra)
    values = ", ".join(f"nullif({quote_ident(c.internal)}, '')" for c in extra)
    # Only rows that became events: on append, those not already stored.
    where = "" if plan.append_to is None else f" WHERE _row + {int(first_row)} IN (SELECT row_no FROM _new)"
    rows_sql, params = rows
    store.execute(
        f"INSERT INTO {table} (row_no, {targets}) SELECT _row + {int(first_row)}, {values} FROM ({rows_sql}){where}",
        params or None,
    )


def _rebuild_cases(store: Store, log_id: int) -> None:
    """The log's variants and cases, from its events in stored order; ``_case_no`` names every case."""
    import numpy as np

    from mining.ingest.tracehash import codes_from_hashes, dictionary_codes, integers, rows_of, variants_of

    store.execute("DELETE FROM cases WHERE log_id = ?", [log_id])
    store.execute("DELETE FROM variants WHERE log_id = ?", [log_id])
    # The scan returns the stored (case, time, row) order; variants_of checks it.
    # Each activity comes as its hash, and its name once per distinct activity.
    ordered = store.arrow(
        "SELECT case_no, hash(activity) AS activity_hash, epoch_us(ts) AS us FROM events WHERE log_id = ?",
        [log_id],
    )
    pairs = store.query(
        "SELECT hash(activity) AS h, activity FROM events WHERE log_id = ? GROUP BY ALL ORDER BY h, activity",
        [log_id],
    ).rows
    coded = codes_from_hashes(ordered.column("activity_hash"), [(int(h), str(a)) for h, a in pairs])
    if coded is None:
        coded = dictionary_codes(
            store.arrow("SELECT activity FROM events WHERE log_id = ?", [log_id]).column(0)
        )
    # A case's rows are sorted by time, so its first row holds its start and its last row its end:
    # no grouping of every event again.
    case_no = integers(ordered.column("case_no"))
    found = variants_of(case_no, *coded)
    del coded
    last_row = np.append(found.first_row[1:], len(case_no)) - 1
    start_us, end_us = (rows_of(ordered.column("us"), rows) for rows in (found.first_row, last_row))
    del ordered
    # Columns of numpy arrays, which DuckDB scans as they are: Arrow arrays built from
    # Python objects import pandas, and polars costs its import in a plain ingest.
    traces = np.empty(len(found.traces), dtype=object)
    traces[:] = [list(t) for t in found.traces]
    store.register(
        "_variant_rows",
        {
            "variant_id": np.arange(1, len(found.traces) + 1, dtype=np.int32),
            "activities": traces,
            "n_cases": np.asarray(found.counts, dtype=np.int32),
        },
    )
    store.register(
        "_case_variant",
        {
            "case_no": np.asarray(found.case_no, dtype=np.int32),
            "variant_id": np.asarray(found.variant_of_case, dtype=np.int32),
            "n_events": (last_row - found.first_row + 1).astype(np.int32),
            "start_us": start_us,
            "end_us": end_us,
        },
    )
    try:
        store.execute(
            "INSERT INTO variants SELECT ?, variant_id, activities, n_cases, len(activities) FROM _variant_rows "
            "ORDER BY variant_id",
            [log_id],
        )
        store.execute(
            "INSERT INTO cases SELECT ?, c.case_id, v.case_no, v.variant_id, v.n_events, v.start_ts, v.end_ts, "
            "epoch(v.end_ts) - epoch(v.start_ts) FROM ("
            # make_timestamptz, not a cast of make_timestamp: the cast goes through the zone rules.
            "  SELECT case_no, variant_id, n_events, make_timestamptz(start_us) AS start_ts, "
            "  make_timestamptz(end_us) AS end_ts FROM _case_variant"
            ") v JOIN _case_no c USING (case_no) ORDER BY v.case_no",
            [log_id],
        )
    finally:
        store.unregister("_variant_rows")
        store.unregister("_case_variant")


def _quality(
    store: Store, plan: LoadPlan, log_id: int, run_id: int, shifted: tuple[int, int]
) -> list[QualityIssue]:
    """The findings of this load; ``shifted`` counts the good rows read across a DST gap and overlap."""
    issues: list[QualityIssue] = []
    key = ", ".join(_EVENT_KEY)
    # Duplicates and ties need two events of a case at one instant; the stored
    # successor finds those few groups without grouping the whole log.
    store.execute(
        "CREATE OR REPLACE TEMP TABLE _tied AS SELECT e.* FROM events e SEMI JOIN "
        "(SELECT DISTINCT case_no, ts FROM events WHERE log_id = $log AND next_ts = ts) t "
        "ON e.case_no = t.case_no AND e.ts = t.ts WHERE e.log_id = $log",
        {"log": log_id},
    )
    dup_count, dup_examples = store.query(
        f"SELECT coalesce(sum(n - 1), 0), coalesce(list(ex ORDER BY ex)[:5], []) FROM ("
        f"  SELECT count(*) AS n, 'case ' || case_id || ': ' || activity || ' at ' || strftime(ts, '%Y-%m-%d %H:%M:%S') AS ex "
        f"  FROM _tied GROUP BY {key} HAVING count(*) > 1)"
    ).rows[0]
    if dup_count:
        issues.append(
            QualityIssue(
                "duplicate_events",
                int(dup_count),
                f"{plural(int(dup_count), 'event')} {agree(int(dup_count), 'repeats', 'repeat')} another event exactly "
                f"(same case, activity, time and resource); {agree(int(dup_count), 'it is', 'they are')} kept and counted",
                tuple(dup_examples),
            )
        )
    tie_count, tie_cases, tie_examples = store.query(
        "SELECT coalesce(sum(n), 0), count(DISTINCT case_id), coalesce(list(ex ORDER BY ex)[:5], []) FROM ("
        "  SELECT case_id, count(*) AS n, 'case ' || case_id || ' at ' || strftime(ts, '%Y-%m-%d %H:%M:%S') AS ex "
        "  FROM _tied GROUP BY case_id, ts HAVING count(DISTINCT activity) > 1)"
    ).rows[0]
    store.execute("DROP TABLE _tied")
    if tie_count:
        issues.append(
            QualityIssue(
                "timestamp_ties",
                int(tie_count),
                f"{plural(int(tie_count), 'event')} in {plural(int(tie_cases), 'case')} share their timestamp with "
                "a different activity; their order follows the file",
                tuple(tie_examples),
            )
        )

    # Our own constants, inlined; each day a range of instants (UTC, the session's zone), which
    # compares the stored values as they are instead of converting every one to a date.
    def on_a_sentinel(col: str) -> str:
        return " OR ".join(
            f"({col} >= TIMESTAMPTZ '{d} 00:00:00+00' AND {col} < TIMESTAMPTZ '{d} 00:00:00+00' + INTERVAL 1 DAY)"
            for d in _SENTINELS
        )

    sentinel, sentinel_examples = store.query(
        "SELECT count(*), coalesce(list(DISTINCT 'case ' || case_id || ': ' || strftime(ts, '%Y-%m-%d'))[:5], []) "
        f"FROM events WHERE log_id = $log AND ({on_a_sentinel('ts')} "
        f"OR {on_a_sentinel('start_ts')} OR ts > now() + INTERVAL 1 YEAR)",
        {"log": log_id},
    ).rows[0]
    if sentinel:
        issues.append(
            QualityIssue(
                "sentinel_dates",
                int(sentinel),
                f"{plural(int(sentinel), 'event')} {agree(int(sentinel), 'carries', 'carry')} a placeholder or future "
                "date (1970-01-01, 9999-12-31, ...)",
                tuple(sorted(sentinel_examples)),
            )
        )
    if plan.mapping.start_timestamp:
        inverted, inv_examples = store.query(
            "SELECT count(*), coalesce(list('case ' || case_id || ': ' || activity ORDER BY row_no)[:5], []) "
            "FROM events WHERE log_id = ? AND start_ts > ts",
            [log_id],
        ).rows[0]
        if inverted:
            issues.append(
                QualityIssue(
                    "complete_before_start",
                    int(inverted),
                    f"{plural(int(inverted), 'event')} {agree(int(inverted), 'completes before it starts', 'complete before they start')}",
                    tuple(inv_examples),
                )
            )
    gaps, overlaps = shifted
    tz = plan.mapping.timezone
    if gaps:
        issues.append(
            QualityIssue(
                "dst_gap",
                int(gaps),
                f"{int(gaps):,} local times fall in a daylight-saving gap in {tz}; read with the offset before the jump",
            )
        )
    if overlaps:
        issues.append(
            QualityIssue(
                "dst_overlap",
                int(overlaps),
                f"{int(overlaps):,} local times occur twice in {tz} (clocks going back); read as the first occurrence",
            )
        )
    if plan.renamed:
        issues.append(
            QualityIssue(
                "renamed_columns",
                len(plan.renamed),
                "some headers were empty or repeated and were renamed: " + "; ".join(plan.renamed),
            )
        )
    if plan.preamble:
        issues.append(
            QualityIssue(
                "skipped_preamble",
                len(plan.preamble),
                f"{plural(len(plan.preamble), 'line')} above the header {'was' if len(plan.preamble) == 1 else 'were'} read as a title and skipped, not loaded "
                "as rows",
                plan.preamble[:3],
            )
        )
    issues = [dataclasses.replace(i, fix=QUALITY_FIXES.get(i.kind, "")) for i in issues]
    issues += log_findings(store, log_id)
    for issue in issues:
        store.execute(
            "INSERT INTO quality VALUES (?, ?, ?, ?, ?, ?)",
            [log_id, run_id, issue.kind, issue.count, issue.message, list(issue.examples)],
        )
    return issues


def check_formats(plan_formats: dict[str, TimestampFormat], mapping: ColumnMapping, file: str) -> None:
    """Every mapped timestamp role needs a format."""
    for role in ("timestamp", "start_timestamp"):
        label = getattr(mapping, role)
        if label and role not in plan_formats:
            msg = f"{file}: column {label!r} does not hold timestamps in any format we know"
            raise BadTimestamp(
                msg,
                hint=phrase(
                    "pass ",
                    Option("timestamp_format"),
                    ", e.g. '%d/%m/%Y %H:%M', or 'excel' for Excel day numbers",
                ),
            )
