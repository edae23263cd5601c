"""ServiceNow incidents as an event log, from either of two exports.

(a) The audit trail: ``sys_audit`` (``tablename``, ``documentkey``,
``fieldname``, ``oldvalue``, ``newvalue``, ``user``, ``sys_created_on``)
beside the ``incident`` table (``sys_id``, ``number``, ``opened_at``,
``priority``, ``category``, ``assignment_group``; ``opened_by`` if there), as
a folder or zip of ``sys_audit.csv`` + ``incident.csv``.  One case per
incident ``number``: ``Opened`` at ``opened_at``, then ``State: <newvalue>``
for every audited change of ``state`` or ``incident_state`` of an incident
row.  ``include`` adds ``assignment_group`` changes (``Assignment group:
<newvalue>``) and ``assigned_to`` changes (``Assigned``/``Unassigned``).
State numbers are the default choice values (1 New, 2 In Progress, 3 On
Hold, 6 Resolved, 7 Closed, 8 Canceled); other values are kept as exported.
Audit rows of a selected field whose ``documentkey`` is no ``sys_id`` of the
incident table are rejected, each named by file, row and key.

(b) The incident-state export: one row per update of an incident, with
``number``, ``incident_state``, ``sys_updated_at`` and ``sys_updated_by``
among many other columns (the UCI "incident event log" has 36).  One event
per row, named by the state, as the published statistics count them; every
other column stays an attribute.  Role flags pick other columns (the
renamed copy in ``../shared/logs`` needs ``--activity ident_state``).

Timestamps are ServiceNow's display format, naive (read in ``--timezone``,
default UTC): ``yyyy-MM-dd HH:mm:ss`` by default, or a day-first/month-first
user format such as ``29/2/2016 01:23``.  One format is chosen per column;
day against month order must be proven by a day above 12, or given with
``--dayfirst``/``--monthfirst``.
"""

from __future__ import annotations

from mining.errors import BadTimestamp, MissingColumn, Option, phrase
from mining.ingest.presets.base import (
    ISO,
    SOURCE_ROW,
    EventTable,
    Preset,
    PresetOptions,
    RawExport,
    find_column,
    norm,
    parse_timestamps,
    pl,
    plural,
    require_columns,
)
from mining.schema import Reject

__all__ = ["FAMILIES", "PRESET", "STATES", "build", "detect"]

#: Optional event families of the audit export (``include``); state changes are always read.
FAMILIES = ("assignment_group", "assigned_to")

#: The default choice values of ``incident.state`` / ``incident_state``.
STATES = {"1": "New", "2": "In Progress", "3": "On Hold", "6": "Resolved", "7": "Closed", "8": "Canceled"}

_AUDIT = {
    "documentkey": ("documentkey",),
    "fieldname": ("fieldname",),
    "newvalue": ("newvalue",),
    "sys_created_on": ("syscreatedon",),
}
_INCIDENT = {"sys_id": ("sysid",), "number": ("number",), "opened_at": ("openedat",)}
_STATE_EXPORT = {
    "number": ("number",),
    "incident_state": ("incidentstate",),
    "sys_updated_at": ("sysupdatedat",),
}
_STATE_FIELDS = ("state", "incident_state")

# (pattern, day-first?) in the order tried; the patterns read alike in polars and DuckDB.
_FORMATS: tuple[tuple[str, bool | None], ...] = (
    ("%Y-%m-%d %H:%M:%S", None),
    ("%d/%m/%Y %H:%M:%S", True),
    ("%m/%d/%Y %H:%M:%S", False),
    ("%d/%m/%Y %H:%M", True),
    ("%m/%d/%Y %H:%M", False),
    ("%d-%m-%Y %H:%M:%S", True),
    ("%m-%d-%Y %H:%M:%S", False),
    ("%d.%m.%Y %H:%M:%S", True),
)
_EXAMPLE = "2016-02-29 01:23:00"


def _has(frame: pl.DataFrame, wanted: dict[str, tuple[str, ...]]) -> bool:
    return all(find_column(frame.columns, *names) for names in wanted.values())


def _find(raw: RawExport, wanted: dict[str, tuple[str, ...]]) -> str | None:
    return next((k for k, f in raw.tables.items() if _has(f, wanted)), None)


def detect(raw: RawExport) -> float:
    """0.95 for sys_audit + incident, 0.9 for the incident-state export, 0.6 for sys_audit alone."""
    audit, incident = _find(raw, _AUDIT), _find(raw, _INCIDENT)
    if audit and incident and audit != incident:
        return 0.95
    best = 0.6 if audit and any(norm(c) == "tablename" for c in raw.tables[audit].columns) else 0.0
    for frame in raw.tables.values():
        names = {norm(c) for c in frame.columns}
        if _has(frame, _STATE_EXPORT):
            best = max(best, 0.9 if "sysupdatedby" in names else 0.8)
        elif {"number", "sysupdatedat", "sysupdatedby"} <= names:
            # The system's columns, but no incident_state: another table, or a
            # renamed export; the user names the state column with --preset.
            best = max(best, 0.3)
    return best


def build(raw: RawExport, options: PresetOptions) -> EventTable:
    """One row per event: see the module docstring."""
    audit, incident = _find(raw, _AUDIT), _find(raw, _INCIDENT)
    if audit and incident and audit != incident:
        return _from_audit(raw, audit, incident, options)
    if audit:
        shown = raw.source(audit)
        msg = (
            f"{raw.file}: {shown} is a sys_audit export, but no incident table is beside it; expected a table "
            "with 'sys_id', 'number' and 'opened_at' (incident.csv) in the same folder or zip"
        )
        raise MissingColumn(msg)
    if not raw.tables:
        msg = (
            f"{raw.file}: not a ServiceNow export: expected a table (incident-state export, or sys_audit.csv)"
        )
        raise MissingColumn(msg)
    return _from_state_export(raw, options)


def choose_format(values: pl.Series, *, dayfirst: bool | None, label: str, file: str) -> str | None:
    """The one pattern of :data:`_FORMATS` that reads every value; None when none does.

    When a day-first and a month-first pattern both read every value,
    ``dayfirst`` decides; without it :class:`BadTimestamp` asks for it.
    """
    stripped = values.drop_nulls().str.strip_chars()
    stripped = stripped.filter(stripped != "")
    fits = [
        (pattern, first)
        for pattern, first in _FORMATS
        if int(stripped.str.to_datetime(pattern, strict=False, time_unit="us").is_null().sum()) == 0
    ]
    if not fits:
        return None
    pattern, first = fits[0]
    if first is None:
        return pattern
    mirror = [p for p, f in fits if f is not first]
    if not mirror:
        return pattern
    if dayfirst is None:
        msg = (
            f"{file}: column {label!r} fits both {pattern} and {mirror[0]}: no day above 12 proves which is the day "
            "and which the month"
        )
        raise BadTimestamp(msg, hint=phrase("pass ", Option("dayfirst"), " or ", Option("monthfirst")))
    return pattern if first is dayfirst else mirror[0]


def _from_state_export(raw: RawExport, options: PresetOptions) -> EventTable:
    key = next((k for k, f in raw.tables.items() if _has(f, _STATE_EXPORT)), next(iter(raw.tables)))
    frame = raw.tables[key]
    file = raw.source(key)
    given = options.roles
    wanted = {
        "case": given.get("case") or find_column(frame.columns, "number"),
        "activity": given.get("activity") or find_column(frame.columns, "incidentstate"),
        "timestamp": given.get("timestamp") or find_column(frame.columns, "sysupdatedat"),
    }
    defaults = {"case": "number", "activity": "incident_state", "timestamp": "sys_updated_at"}
    missing = [
        f"{defaults[role]!r} (or pass --{role})" if col is None else f"{col!r} (given with --{role})"
        for role, col in wanted.items()
        if col is None or col not in frame.columns
    ]
    if missing:
        available = ", ".join(repr(c) for c in frame.columns)
        msg = (
            f"{file}: not a ServiceNow incident-state export: no column {', '.join(missing)}; "
            f"available columns: {available}"
        )
        raise MissingColumn(msg)
    resource = given["resource"] if "resource" in given else find_column(frame.columns, "sysupdatedby")
    ts = wanted["timestamp"]
    assert ts is not None
    pattern = choose_format(frame[ts], dayfirst=options.dayfirst, label=ts, file=file)
    notes = [f"{plural(frame.height, 'update row')}, one event each, named by {wanted['activity']!r}"]
    if pattern is None:
        notes.append(
            f"the values of {ts!r} are not all in one ServiceNow date format; the loader chooses one"
        )
    roles = {**wanted, "resource": resource}
    return EventTable(frame=frame, roles=roles, timestamp_format=pattern, notes=tuple(notes))


def _from_audit(raw: RawExport, audit_key: str, incident_key: str, options: PresetOptions) -> EventTable:
    unknown = [f for f in options.include if f not in FAMILIES]
    if unknown:
        msg = phrase(
            f"unknown ServiceNow event family {unknown[0]!r} for ",
            Option("include"),
            f"; expected one of: {', '.join(FAMILIES)}",
        )
        raise MissingColumn(msg)
    audit, incident = raw.tables[audit_key], raw.tables[incident_key]
    audit_file, incident_file = raw.source(audit_key), raw.source(incident_key)
    a = require_columns(audit, _AUDIT, file=audit_file, what="a sys_audit export")
    inc = require_columns(incident, _INCIDENT, file=incident_file, what="an incident table")
    a_table = find_column(audit.columns, "tablename")
    a_old = find_column(audit.columns, "oldvalue")
    a_user = find_column(audit.columns, "user", "sysupdatedby", "syscreatedby")
    attrs = {
        name: find_column(incident.columns, norm(name))
        for name in ("priority", "category", "assignment_group")
    }
    opened_by = find_column(incident.columns, "openedby")

    blank = pl.lit(None, dtype=pl.Utf8)
    cases = incident.with_row_index("_i").select(
        pl.col(inc["sys_id"]).alias("_key"),
        pl.col(inc["number"]).alias("number"),
        pl.lit("Opened").alias("activity"),
        pl.col(inc["opened_at"]).alias("timestamp"),
        (pl.col(opened_by) if opened_by else blank).alias("user"),
        *((pl.col(c) if c else blank).alias(n) for n, c in attrs.items()),
        blank.alias("field"),
        blank.alias("from"),
        blank.alias("to"),
        (pl.lit(f"{incident_file} row ") + (pl.col("_i") + 1).cast(pl.Utf8)).alias(SOURCE_ROW),
        pl.lit(incident_file).alias("_file"),
        (pl.col("_i") + 1).alias("_row"),
        pl.lit(inc["opened_at"]).alias("_column"),
    )
    no_number = cases.filter(pl.col("number").is_null())
    if no_number.height:
        msg = f"{incident_file} row {no_number['_row'][0]}, column {inc['number']!r}: missing incident number"
        raise MissingColumn(msg)

    fields = set(_STATE_FIELDS) | set(options.include)
    rows = audit.with_row_index("_i").with_columns(
        pl.col(a["fieldname"]).str.strip_chars().alias("_field"),
        (pl.col(a_table) if a_table else pl.lit("incident")).alias("_table"),
    )
    other_tables = int((rows["_table"] != "incident").sum())
    rows = rows.filter((pl.col("_table") == "incident") & pl.col("_field").is_in(list(fields)))
    new = pl.col(a["newvalue"])
    activity = (
        pl.when(pl.col("_field").is_in(list(_STATE_FIELDS)))
        .then(pl.lit("State: ") + new.replace(STATES).fill_null("(empty)"))
        .when(pl.col("_field") == "assignment_group")
        .then(pl.lit("Assignment group: ") + new.fill_null("(empty)"))
        .otherwise(pl.when(new.is_null()).then(pl.lit("Unassigned")).otherwise(pl.lit("Assigned")))
    )
    changes = rows.select(
        pl.col(a["documentkey"]).alias("_key"),
        activity.alias("activity"),
        pl.col(a["sys_created_on"]).alias("timestamp"),
        (pl.col(a_user) if a_user else blank).alias("user"),
        pl.col("_field").alias("field"),
        (pl.col(a_old) if a_old else blank).alias("from"),
        new.alias("to"),
        (pl.lit(f"{audit_file} row ") + (pl.col("_i") + 1).cast(pl.Utf8)).alias(SOURCE_ROW),
        pl.lit(audit_file).alias("_file"),
        (pl.col("_i") + 1).alias("_row"),
        pl.lit(a["sys_created_on"]).alias("_column"),
    )
    # state and its legacy twin incident_state are kept in step, and both may
    # be audited: one change, two audit rows at the same time.
    before = changes.height
    changes = changes.filter(pl.struct("_key", "timestamp", "activity").is_first_distinct())
    twins = before - changes.height
    known = cases.select("_key", "number", *attrs)
    joined = changes.join(known, on="_key", how="left", maintain_order="left")
    orphans = joined.filter(pl.col("number").is_null())
    rejects = tuple(
        Reject(audit_file, int(r), a["documentkey"], f"no incident with this sys_id in {incident_file}", k)
        for r, k in zip(orphans["_row"], orphans["_key"], strict=True)
    )
    events = pl.concat([cases, joined.filter(pl.col("number").is_not_null()).select(cases.columns)])
    where = list(zip(events["_file"], events["_row"], events["_column"], strict=True))
    pattern = choose_format(
        events["timestamp"], dayfirst=options.dayfirst, label="opened_at/sys_created_on", file=raw.file
    )
    formats = [pattern] if pattern else [p for p, _ in _FORMATS]
    stamps = parse_timestamps(
        events["timestamp"],
        formats=formats,
        example=_EXAMPLE,
        where=lambda i: f"{where[i][0]} row {where[i][1]}, column {where[i][2]!r}",
    )
    frame = events.with_columns(stamps.alias("timestamp")).drop("_key", "_file", "_row", "_column")
    notes = [
        f"{plural(cases.height, 'incident')}, {plural(frame.height - cases.height, 'audited change')} read as "
        "events"
    ]
    if twins:
        notes.append(
            f"{plural(twins, 'audit row')} repeating a state change at the same time (state and "
            "incident_state): counted once"
        )
    if other_tables:
        notes.append(f"{plural(other_tables, 'audit row')} of other tables than incident left out")
    if rejects:
        notes.append(
            f"{plural(len(rejects), 'audit row')} naming an incident that is not in {incident_file}: rejected"
        )
    roles = {"case": "number", "activity": "activity", "timestamp": "timestamp", "resource": "user"}
    return EventTable(frame=frame, roles=roles, timestamp_format=ISO, notes=tuple(notes), rejects=rejects)


PRESET = Preset(
    name="servicenow",
    title="ServiceNow (incidents)",
    description=(
        "ServiceNow sys_audit.csv + incident.csv (a folder or zip): Opened and State: <state> events per incident; "
        "or the incident-state export (number, incident_state, sys_updated_at, sys_updated_by), one event per row."
    ),
    detect=detect,
    build=build,
)
