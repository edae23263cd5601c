"""Odoo's field tracking (``mail.tracking.value`` with ``mail.message``) as an event log.

Every change of a tracked field (``tracking=True``) is a tracking value on a
chatter message.  One event per tracking value:

* case: ``<model>/<res_id>`` (``sale.order/42``), or ``res_id`` alone when the
  export holds one model;
* activity: ``<field label>: <new value>`` (``Status: Sales Order``,
  ``Stage: Solved``), the new value being ``new_value_char`` (selection labels,
  record names) or else ``new_value_datetime``; an emptied field is ``(none)``;
* timestamp: the message's ``date``.  Odoo stores every datetime in UTC and
  writes it without an offset (``2024-02-01 08:15:03``): it is read as UTC;
* resource: the message's author, by name when the export has
  ``author_id/display_name`` (or ``author_id/name``) and else as exported in
  ``author_id`` (an id in a database dump, the name in a UI export).

Two layouts are read: the two tables side by side (a database dump or two
exports; the tracking value's ``mail_message_id`` matches the message's
``id``), or one export of ``mail.tracking.value`` carrying the message's
fields as ``mail_message_id/res_id``, ``mail_message_id/date``, ....  The
field is ``field`` (Odoo 16 and older, with its label in ``field_desc``) or
``field_id`` (Odoo 17+: a label in a UI export, ``field_id/name`` for the
technical name, or a database id resolved through an ``ir.model.fields``
table).

By default only the process fields ``state`` (Status) and ``stage_id`` (Stage)
become events; ``PresetOptions.include`` adds fields by technical name or label
(``user_id``, ``Salesperson``), or ``all``.  What was left out is counted in
the notes.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from mining.errors import BadExport, BadTimestamp, EmptyLog, MissingColumn, Option, Phrase, phrase
from mining.ingest.presets.base import ISO, SOURCE_ROW, EventTable, Preset, PresetOptions, RawExport, pl

__all__ = ["DEFAULT_FIELDS", "PRESET", "build", "detect"]

#: Technical names (and labels) of the fields that make events unless ``include`` adds others.
DEFAULT_FIELDS = ("state", "stage_id")
_LABELS = {"state": "Status", "stage_id": "Stage"}
_MESSAGE_REF = ("mail_message_id/.id", "mail_message_id/id", "mail_message_id")
_MESSAGE_ID = (".id", "id")
_AUTHOR = ("author_id/display_name", "author_id/name", "author_id")
_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M")
_EXAMPLE = "2024-01-05 10:32:11"
_OUT = "%Y-%m-%dT%H:%M:%S%.fZ"
_JOINED = "mail_message_id/"
_KEEP = ("case_id", "activity", "timestamp", "resource")


def detect(raw: RawExport) -> float:
    """Tracking values with their messages (joined or as a table) score 0.7 and up."""
    tracking = _find(raw, "mail.tracking.value", _is_tracking)
    if tracking is None:
        return 0.0
    cols = set(raw.tables[tracking].columns)
    messages = _find(raw, "mail.message", _is_message) is not None
    joined = {f"{_JOINED}res_id", f"{_JOINED}date"} <= cols
    if not (messages or joined):
        return 0.3
    extra = ("old_value_char", "old_value_datetime", "new_value_datetime", "field_desc", "field_id", "field")
    return round(0.7 + 0.3 * sum(c in cols for c in extra) / len(extra), 3)


def _stem(key: str) -> str:
    return re.sub(r"[^a-z0-9]+", ".", key.lower()).strip(".")


def _is_tracking(cols: set[str]) -> bool:
    return "new_value_char" in cols and bool(cols & {"field", "field_id", "field_id/name", "field_desc"})


def _is_message(cols: set[str]) -> bool:
    return {"model", "res_id", "date"} <= cols and "new_value_char" not in cols


def _is_fields(cols: set[str]) -> bool:
    return {"id", "name", "field_description"} <= cols


def _find(raw: RawExport, model: str, test: Callable[[set[str]], bool]) -> str | None:
    named = [k for k in raw.tables if _stem(k).endswith(model) and test(set(raw.tables[k].columns))]
    if named:
        return named[0]
    return next((k for k, df in raw.tables.items() if test(set(df.columns))), None)


def build(raw: RawExport, options: PresetOptions) -> EventTable:
    """One event per tracking value of a process field (see the module docstring)."""
    values = _tracking_with_messages(raw)
    values = _field_names(raw, values)
    values, left_out = _selected(values, options.include)
    if values.height == 0:
        found = left_out or "the export holds no tracking values"
        msg = f"{raw.file}: no tracking value changes a process field ({', '.join(DEFAULT_FIELDS)}); {found}"
        hint = phrase(
            "add fields with ",
            Option("include", "FIELD"),
            " (technical name or label), or ",
            Option("include", "all"),
        )
        raise EmptyLog(msg, hint=hint)
    values = _parse_dates(values)
    one_model = values["model"].drop_nulls().n_unique() <= 1
    case = pl.col("res_id") if one_model else pl.format("{}/{}", "model", "res_id")
    values = values.with_columns(
        _col(values, c, c) for c in ("old_value_char", "new_value_char", "new_value_datetime")
    )
    new = pl.coalesce(pl.col("new_value_char"), pl.col("new_value_datetime"), pl.lit("(none)"))
    events = values.with_columns(
        case.alias("case_id"),
        pl.format("{}: {}", "label", new).alias("activity"),
        pl.col("_ts").dt.strftime(_OUT).alias("timestamp"),
    ).sort("case_id", "_ts", "_tr", maintain_order=True)
    frame = events.select(
        "case_id",
        "activity",
        "timestamp",
        pl.col("author").alias("resource"),
        "model",
        "record_name",
        "message_id",
        "message_type",
        pl.coalesce("tech", "label").alias("field"),
        pl.col("old_value_char").alias("old_value"),
        pl.col("new_value_char").alias("new_value"),
        pl.format("{} row {}", "_tw", "_tr").alias(SOURCE_ROW),
    )
    # A layout without message types or ids would otherwise carry empty attributes.
    frame = frame.select(c for c in frame.columns if c in _KEEP or frame[c].null_count() < frame.height)
    notes: list[str | Phrase] = [
        f"records: {frame['case_id'].n_unique()}, field changes: {frame.height}; Odoo stores dates in UTC, "
        "so 'date' is read as UTC"
    ]
    if left_out:
        notes.append(
            phrase(
                f"{left_out}; add them with include (e.g. ",
                Option("include", "user_id"),
                ", or ",
                Option("include", "all"),
                ")",
            )
        )
    return EventTable(
        frame=frame,
        roles={"case": "case_id", "activity": "activity", "timestamp": "timestamp", "resource": "resource"},
        timestamp_format=ISO,
        notes=tuple(notes),
    )


def _where(raw: RawExport, key: str) -> str:
    if key in raw.sources:
        return raw.sources[key]
    return raw.file if key == "main" or len(raw.tables) == 1 else f"{raw.file}/{key}"


def _clean(df: pl.DataFrame) -> pl.DataFrame:
    return df.select([pl.col(c).str.strip_chars().replace("", None) for c in df.columns])


def _first(cols: list[str] | set[str], names: tuple[str, ...]) -> str | None:
    return next((n for n in names if n in cols), None)


def _col(df: pl.DataFrame, name: str | None, alias: str) -> pl.Expr:
    return (pl.col(name) if name and name in df.columns else pl.lit(None, pl.Utf8)).alias(alias)


def _fail(
    df: pl.DataFrame,
    bad: pl.Expr,
    where: str,
    row: str,
    column: str,
    expected: str,
    exc: type[Exception] = BadExport,
    value: str | None = None,
) -> None:
    rows = df.filter(bad)
    if rows.height:
        first = rows.row(0, named=True)
        shown = first.get(value or column)
        got = "an empty value" if shown is None else repr(shown)
        msg = f"{first[where]} row {first[row]}, column {column!r}: expected {expected}, got {got}"
        raise exc(msg)


def _tracking_with_messages(raw: RawExport) -> pl.DataFrame:
    """Tracking values with model, res_id, date and author, however the export laid them out."""
    key = _find(raw, "mail.tracking.value", _is_tracking)
    if key is None:
        names = ", ".join(repr(k) for k in raw.tables) or "none"
        msg = (
            f"{raw.file}: not an Odoo tracking export: expected a mail.tracking.value table with "
            f"'new_value_char' and 'field' or 'field_id'; found tables: {names}"
        )
        raise MissingColumn(msg)
    tv = _clean(raw.tables[key]).with_columns(
        pl.lit(_where(raw, key)).alias("_tw"),
        pl.int_range(1, raw.tables[key].height + 1, dtype=pl.Int64).alias("_tr"),
    )
    msg_key = _find(raw, "mail.message", _is_message)
    if msg_key is not None:
        ref = _first(tv.columns, _MESSAGE_REF)
        if ref is None:
            msg = (
                f"{_where(raw, key)}: no column 'mail_message_id' to join the tracking values to mail.message"
            )
            raise MissingColumn(msg)
        mm = _clean(raw.tables[msg_key])
        mid = _first(mm.columns, _MESSAGE_ID)
        if mid is None:
            msg = f"{_where(raw, msg_key)}: no column 'id' to join the messages to their tracking values"
            raise MissingColumn(msg)
        messages = mm.select(
            pl.col(mid).alias("_ref"),
            _col(mm, "model", "model"),
            _col(mm, "res_id", "res_id"),
            _col(mm, "date", "date"),
            _col(mm, _first(mm.columns, _AUTHOR), "author"),
            _col(mm, "message_type", "message_type"),
            _col(mm, "record_name", "record_name"),
            pl.col(mid).alias("message_id"),
            pl.lit(_where(raw, msg_key)).alias("_mw"),
            pl.int_range(1, mm.height + 1, dtype=pl.Int64).alias("_mr"),
        ).unique("_ref", keep="first", maintain_order=True)
        _fail(tv, pl.col(ref).is_null(), "_tw", "_tr", ref, "the id of the message the change belongs to")
        joined = tv.join(messages, left_on=ref, right_on="_ref", how="left", maintain_order="left")
        _fail(joined, pl.col("_mr").is_null(), "_tw", "_tr", ref, "a message id that is in mail.message")
        return joined
    if not {f"{_JOINED}res_id", f"{_JOINED}date"} <= set(tv.columns):
        msg = (
            f"{_where(raw, key)}: the tracking values need their messages: add a mail.message table (id, model, "
            "res_id, date, author_id) or export 'mail_message_id/res_id' and 'mail_message_id/date' with them"
        )
        raise MissingColumn(msg)
    author = _first(tv.columns, tuple(_JOINED + a for a in _AUTHOR))
    return tv.with_columns(
        _col(tv, f"{_JOINED}model", "model"),
        _col(tv, f"{_JOINED}res_id", "res_id"),
        _col(tv, f"{_JOINED}date", "date"),
        _col(tv, author, "author"),
        _col(tv, f"{_JOINED}message_type", "message_type"),
        _col(tv, f"{_JOINED}record_name", "record_name"),
        _col(tv, _first(tv.columns, _MESSAGE_REF), "message_id"),
        pl.col("_tw").alias("_mw"),
        pl.col("_tr").alias("_mr"),
    )


def _field_names(raw: RawExport, tv: pl.DataFrame) -> pl.DataFrame:
    """``tech`` (technical name, when known) and ``label`` of each tracking value's field."""
    cols = set(tv.columns)
    tech = pl.coalesce(_col(tv, "field", "field"), _col(tv, "field_id/name", "field_id/name"))
    numeric = pl.col("field_id").str.contains(r"^\d+$") if "field_id" in cols else pl.lit(False)
    by_label = pl.when(~numeric).then(pl.col("field_id")) if "field_id" in cols else pl.lit(None, pl.Utf8)
    tv = tv.with_columns(tech.alias("tech"))
    if "field_id" in cols and tv.filter(numeric).height:
        tv = _ir_model_fields(raw, tv, numeric)
    else:
        tv = tv.with_columns(
            pl.lit(None, pl.Utf8).alias("_ir_name"), pl.lit(None, pl.Utf8).alias("_ir_label")
        )
    known = pl.col("tech").replace_strict(_LABELS, default=pl.col("tech"))
    tv = tv.with_columns(
        pl.coalesce(pl.col("tech"), pl.col("_ir_name")).alias("tech"),
    ).with_columns(
        pl.coalesce(
            _col(tv, "field_desc", "field_desc"),
            _col(tv, "field_id/field_description", "x"),
            _col(tv, "field_id/display_name", "y"),
            by_label,
            pl.col("_ir_label"),
            known,
        ).alias("label"),
    )
    column = "field" if "field" in cols else "field_id"
    _fail(tv, pl.col("label").is_null(), "_tw", "_tr", column, "the changed field (its name or label)")
    return tv.drop("_ir_name", "_ir_label")


def _ir_model_fields(raw: RawExport, tv: pl.DataFrame, numeric: pl.Expr) -> pl.DataFrame:
    key = _find(raw, "ir.model.fields", _is_fields)
    if key is None:
        _fail(
            tv,
            numeric,
            "_tw",
            "_tr",
            "field_id",
            "the field's name; this export gives its database id and has no ir.model.fields table to name it "
            "(export field_id/name or add ir.model.fields)",
        )
    fields = _clean(raw.tables[key or ""])
    text = pl.col("field_description")
    # Odoo 16+ stores translatable labels as JSON ({"en_US": "Status"}) in the database.
    label = pl.when(text.str.starts_with("{")).then(text.str.json_path_match("$.en_US")).otherwise(text)
    lookup = fields.select(
        pl.col("id").alias("_fid"), pl.col("name").alias("_ir_name"), label.alias("_ir_label")
    )
    return (
        tv.with_columns(pl.when(numeric).then(pl.col("field_id")).alias("_fid"))
        .join(lookup.unique("_fid"), on="_fid", how="left", maintain_order="left")
        .drop("_fid")
    )


def _selected(tv: pl.DataFrame, include: tuple[str, ...]) -> tuple[pl.DataFrame, str | None]:
    wanted = {w.lower() for w in (*DEFAULT_FIELDS, *(_LABELS[f] for f in DEFAULT_FIELDS), *include)}
    if "all" in wanted:
        return tv, None
    hit = pl.col("tech").str.to_lowercase().is_in(list(wanted)) | pl.col("label").str.to_lowercase().is_in(
        list(wanted)
    )
    other = tv.filter(~hit.fill_null(False))
    if not other.height:
        return tv, None
    counts = ", ".join(
        f"{name}: {n}"
        for name, n in other.group_by(pl.coalesce("tech", "label"), maintain_order=True).len().iter_rows()
    )
    return tv.filter(
        hit.fill_null(False)
    ), f"tracking values of other fields, left out: {other.height} ({counts})"


def _parse_dates(tv: pl.DataFrame) -> pl.DataFrame:
    for column, what in (("model", "the record's model (e.g. 'sale.order')"), ("res_id", "the record's id")):
        if column == "model" and tv["model"].null_count() == tv.height:
            continue  # a one-model export without the column: res_id alone is the case
        _fail(tv, pl.col(column).is_null(), "_mw", "_mr", _origin(tv, column), what, value=column)
    tv = tv.with_columns(
        pl.coalesce(
            [
                pl.col("date").str.to_datetime(f, strict=False, time_unit="us", time_zone="UTC")
                for f in _DATE_FORMATS
            ]
        ).alias("_ts")
    )
    _fail(
        tv,
        pl.col("_ts").is_null(),
        "_mw",
        "_mr",
        _origin(tv, "date"),
        f"a UTC time like {_EXAMPLE!r}",
        BadTimestamp,
        value="date",
    )
    return tv


def _origin(tv: pl.DataFrame, column: str) -> str:
    """The column's name in the source table (joined exports prefix it)."""
    return f"{_JOINED}{column}" if f"{_JOINED}{column}" in tv.columns else column


PRESET = Preset(
    name="odoo",
    title="Odoo (mail.tracking.value with mail.message)",
    description=(
        "Odoo's chatter field tracking: one case per record (model/res_id), one event per change of a tracked "
        "field such as 'Status: Sales Order' or 'Stage: Solved', by the message's author, in UTC."
    ),
    detect=detect,
    build=build,
)
