"""Any change log table as an event log: record, field, old value, new value, who, when.

Many systems keep (or export) an audit trail of this shape under their own
column names.  The columns are found by their names, or given in
``PresetOptions.roles`` (``--preset-role`` on the command line):

==============  ==============================================================
role            names recognised (compared in lower case, without spaces or _)
==============  ==============================================================
``case``        record, record_id, object, object_id, document, document_id,
                key, id, entity, entity_id, item, item_id
``field``       field, field_name, attribute, property, column
``new``         new, new_value, to, to_value, after, value
``old``         old, old_value, from, from_value, previous, before (optional)
``resource``    user, user_name, who, changed_by, author, modified_by (optional)
``timestamp``   when, date, changed_at, changed_on, timestamp, time, datetime,
                modified_at, updated_at, created_at
==============  ==============================================================

Each selected change is one event named ``<field>: <new value>`` (``<field>
cleared`` when the new value is empty), in the record's case.  Which fields
are selected: ``include`` names them (``all`` for every field); by default,
when the log has status-like fields (``status``, ``state``, ``stage``,
``phase``, or a name ending in ``status``/``state``), only those, because a
status walk is the process and every other field would drown it in noise;
otherwise every field.  All columns of the table stay attributes.  The
timestamp column is read by the ordinary loader, which chooses one format
for the whole column (day/month order proven, ``--timezone`` for naive
times), and a rejected change is named by its row in the file.

This is the fallback preset: it never scores above 0.7, below every
system-specific preset on that system's export.
"""

from __future__ import annotations

from mining.errors import MissingColumn, Option, Phrase, phrase
from mining.ingest.presets.base import (
    EventTable,
    Preset,
    PresetOptions,
    RawExport,
    find_column,
    norm,
    pl,
    plural,
    unique_name,
)
from mining.schema import Reject

__all__ = ["NAMES", "PRESET", "build", "detect"]

#: The normalised column names recognised per role, in order of preference.
NAMES: dict[str, tuple[str, ...]] = {
    "case": (
        "record",
        "recordid",
        "recordkey",
        "object",
        "objectid",
        "objectkey",
        "document",
        "documentid",
        "key",
        "id",
        "entity",
        "entityid",
        "item",
        "itemid",
    ),
    "field": ("field", "fieldname", "attribute", "attributename", "property", "column", "columnname"),
    "new": ("new", "newvalue", "to", "tovalue", "after", "value"),
    "old": ("old", "oldvalue", "from", "fromvalue", "previous", "previousvalue", "before"),
    "resource": ("user", "username", "who", "changedby", "author", "modifiedby", "updatedby"),
    "timestamp": (
        "when",
        "date",
        "changedat",
        "changedon",
        "timestamp",
        "time",
        "datetime",
        "modifiedat",
        "updatedat",
        "createdat",
    ),
}
_REQUIRED = ("case", "field", "new", "timestamp")


def _status_like(field: str) -> bool:
    name = norm(field)
    return name in {"status", "state", "stage", "phase"} or name.endswith(("status", "state"))


def _columns(frame: pl.DataFrame, given: dict[str, str | None]) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for role, names in NAMES.items():
        found[role] = given[role] if role in given else find_column(frame.columns, *names)
    return found


def detect(raw: RawExport) -> float:
    """0.6 for a table with record, field, new value and time columns; +0.05 each for old value and who."""
    best = 0.0
    for frame in raw.tables.values():
        found = _columns(frame, {})
        if all(found[r] for r in _REQUIRED) and len({found[r] for r in _REQUIRED}) == len(_REQUIRED):
            score = 0.6 + 0.05 * (found["old"] is not None) + 0.05 * (found["resource"] is not None)
            best = max(best, score)
    return best


def build(raw: RawExport, options: PresetOptions) -> EventTable:
    """One row per selected change: see the module docstring."""
    given = {r: c for r, c in options.roles.items() if r in NAMES}
    candidates = list(raw.tables.items())
    if not candidates:
        msg = f"{raw.file}: not a change log: expected a table with record, field, new value and time columns"
        raise MissingColumn(msg)
    chosen = next(
        ((k, f) for k, f in candidates if all(_columns(f, given)[r] for r in _REQUIRED)), candidates[0]
    )
    key, frame = chosen
    file = raw.source(key)
    cols = _columns(frame, given)
    missing = [r for r in _REQUIRED if not cols[r]]
    wrong = [(r, c) for r, c in cols.items() if c and c not in frame.columns]
    if missing or wrong:
        available = ", ".join(repr(c) for c in frame.columns)
        parts: list[tuple[str | Option, ...]] = [
            (f"no {r} column (pass ", Option("preset_role", f"{r}=COLUMN"), ")") for r in missing
        ]
        parts += [(f"no column {c!r} for the {r} role",) for r, c in wrong]
        joined = [piece for i, part in enumerate(parts) for piece in (("; ",) if i else ()) + part]
        msg = phrase(f"{file}: not a change log: ", *joined, f"; available columns: {available}")
        raise MissingColumn(msg)
    case, field, new = cols["case"], cols["field"], cols["new"]
    assert case and field and new

    numbered = frame.with_row_index("_i", offset=1)
    blank = numbered.filter(pl.col(case).is_null() | pl.col(field).is_null())
    rejects = tuple(
        Reject(
            file,
            int(r["_i"]),
            case if r[case] is None else field,
            "missing record id" if r[case] is None else "missing field name",
        )
        for r in blank.iter_rows(named=True)
    )
    numbered = numbered.filter(pl.col(case).is_not_null() & pl.col(field).is_not_null())
    fields = numbered[field].unique(maintain_order=True).to_list()
    selected, how = _select(fields, options.include, file)
    chosen_rows = numbered.filter(pl.col(field).is_in(selected))
    name = unique_name("activity", frame.columns)
    out = chosen_rows.with_columns(
        pl.when(pl.col(new).is_null())
        .then(pl.col(field) + pl.lit(" cleared"))
        .otherwise(pl.col(field) + pl.lit(": ") + pl.col(new))
        .alias(name)
    )
    rows = out["_i"].alias("row")
    out = out.drop("_i")
    left_out = numbered.height - chosen_rows.height
    notes: list[str | Phrase] = [f"{plural(out.height, 'change')} of {how} read as events from {file}"]
    if left_out:
        notes.append(
            phrase(
                f"{plural(left_out, 'change')} of other fields left out (",
                Option("include", "all"),
                ", or ",
                Option("include", "FIELD"),
                ")",
            )
        )
    roles = {"case": case, "activity": name, "timestamp": cols["timestamp"], "resource": cols["resource"]}
    return EventTable(
        frame=out, roles=roles, timestamp_format=None, notes=tuple(notes), rejects=rejects, rows=rows
    )


def _select(fields: list[str], include: tuple[str, ...], file: str) -> tuple[list[str], str]:
    """The fields whose changes are events, and how to say which."""
    if include == ("all",):
        return fields, "every field"
    if include:
        by_norm = {norm(f): f for f in fields}
        unknown = [i for i in include if norm(i) not in by_norm]
        if unknown:
            shown = ", ".join(repr(f) for f in fields[:20])
            msg = phrase(
                f"{file}: ",
                Option("include"),
                f" {unknown[0]!r}: no such field in the change log; its fields: {shown}",
            )
            raise MissingColumn(msg)
        picked = [by_norm[norm(i)] for i in include]
        return picked, "the fields " + ", ".join(repr(f) for f in picked)
    status = [f for f in fields if _status_like(f)]
    if status:
        return status, "the status-like field" + ("s " if len(status) > 1 else " ") + ", ".join(
            repr(f) for f in status
        )
    return fields, "every field"


PRESET = Preset(
    name="changelog",
    title="Change log (record, field, old, new, who, when)",
    description=(
        "Any audit-trail table of field changes: one case per record, an event '<field>: <new value>' per "
        "change of the status-like field (or of the fields given with --include; 'all' for every field)."
    ),
    detect=detect,
    build=build,
    roles=("field", "new", "old"),
)
