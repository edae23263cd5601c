"""Preparing an export for the loader: stage it, through a preset when one applies, and decide the roles.

With ``preset="auto"`` the presets see the header of every staged table; when
one recognises it, the events it makes of the export are staged in place of
the file.  Folders and zips of tables are read only through a preset; a JSON document
that no preset recognises is read as a table when it is a list of records.  Then each role (case, activity, timestamp, ...) gets its column,
and each timestamp role its format.  Nothing here writes to the workspace:
:func:`mining.ingest.ingest_file` and :func:`mining.ingest.preview` both
start with :func:`prepare`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mining.errors import (
    AmbiguousMapping,
    BadExport,
    BadTimestamp,
    EmptyLog,
    IngestError,
    MissingColumn,
    Option,
    Phrase,
    UnknownFormat,
    phrase,
)
from mining.ingest.mapping import date_and_time_pairs, detect_roles
from mining.ingest.options import IngestOptions
from mining.ingest.staging import (
    JOIN,
    STAGE,
    Column,
    StagedTable,
    frame_from_stage,
    join_columns,
    stage_file,
    stage_frame,
    stage_table,
)
from mining.ingest.timestamps import TimestampFormat, user_format
from mining.schema import ROLES, RoleGuess

if TYPE_CHECKING:
    import polars as pl

    from mining.ingest.presets.base import EventTable, Preset, PresetOptions, RawExport
    from mining.store import Store

__all__ = ["Prepared", "check_timezone", "prepare", "resolve_roles"]


@dataclass(frozen=True)
class Prepared:
    """What :func:`prepare` staged and, when a preset made the events, what the preset said."""

    staged: StagedTable
    roles: dict[str, str | None]  # role -> column the user or the preset chose (the overrides of detection)
    preset: str | None = None
    table: EventTable | None = None
    notes: tuple[str | Phrase, ...] = ()
    # Recorded in the log's mapping beside the roles (the preset used, so --append reuses it).
    mapping_extra: tuple[tuple[str, object], ...] = ()


def prepare(
    store: Store, path: Path, workdir: Path, opts: IngestOptions, previous: dict[str, Any], *, file: str
) -> Prepared:
    """Stage the export as it is, or the events a preset makes of it.

    ``previous`` is the stored mapping of the log appended to (empty for a new log).
    An activity given as several columns (``code+title``) becomes one staged
    column joining them (:func:`~mining.ingest.staging.join_columns`); so does a
    timestamp given as a date and a time column (``date+time``, joined with a space).
    """
    prepared = _prepare(store, path, workdir, opts, previous, file=file)
    for role, sep in _JOINED.items():
        parts = _joined_parts(role, prepared, opts, previous, file)
        if not parts:
            continue
        columns = prepared.staged.columns
        by_label = {c.label: c for c in columns}
        joined = join_columns(store, columns, [by_label[p] for p in parts], sep=sep)
        prepared = dataclasses.replace(
            prepared,
            staged=dataclasses.replace(prepared.staged, columns=(*columns, joined)),
            roles={**prepared.roles, role: joined.label},
            mapping_extra=(*prepared.mapping_extra, (f"{role}_columns", list(parts))),
        )
    return prepared


#: The roles one may give as several columns, and what joins their values: an activity's parts
#: with pm4py's "+", a date and a time of day (SAP's UDATE and UTIME) with a space.
_JOINED = {"activity": JOIN, "timestamp": " ", "start_timestamp": " "}


def _joined_parts(
    role: str, prepared: Prepared, opts: IngestOptions, previous: dict[str, Any], file: str
) -> list[str]:
    """The columns ``role`` joins: ``--activity A --activity B`` (given as ``A+B``), ``--timestamp DATE+TIME``,
    or the log's own on append.  A header that is itself written ``A+B`` is that one column."""
    labels = [c.label for c in prepared.staged.columns]
    wanted = opts.roles.get(role)
    if wanted is None:
        if role in opts.roles or not opts.append:
            return []
        earlier = previous.get(f"{role}_columns") or []
        return list(earlier) if all(p in labels for p in earlier) and earlier else []
    if wanted in labels or JOIN not in wanted:
        return []
    parts = [p.strip() for p in wanted.split(JOIN)]
    missing = [p for p in parts if p not in labels]
    if missing or len(parts) < 2:
        available = ", ".join(repr(c) for c in labels)
        shown = ", ".join(repr(p) for p in missing) or repr(wanted)
        msg = phrase(
            f"{file}: no column {shown} for ",
            Option(role),
            f" (joining {wanted!r}); available columns: {available}",
        )
        raise MissingColumn(msg)
    if len(set(parts)) != len(parts):
        msg = phrase(f"{file}: ", Option(role), f" names a column twice in {wanted!r}")
        raise MissingColumn(msg)
    if role != "activity" and len(parts) != 2:
        msg = phrase(
            f"{file}: ",
            Option(role),
            f" joins a date and a time column, two in all; {wanted!r} names {len(parts)}",
        )
        raise MissingColumn(msg, hint=f"write it as DATE{JOIN}TIME, e.g. UDATE{JOIN}UTIME")
    return parts


def _prepare(
    store: Store, path: Path, workdir: Path, opts: IngestOptions, previous: dict[str, Any], *, file: str
) -> Prepared:
    from mining.ingest.presets.base import Header, RawExport
    from mining.ingest.presets.raw import export_kind, read_export

    choice = _preset_choice(opts, previous)
    kind = export_kind(path, file)
    if kind in ("json", "xml"):
        # A system's export through its preset; any other list of records as a plain table.
        raw = read_export(store, path, workdir, file=file)
        name = None if choice is None else _choose(raw, choice, file, required=False)
        _check_preset_roles(opts, name, file)
        if name is not None:
            return _stage_preset(
                store, raw, name, _preset_options(opts, previous, name), file, opts, renamed=()
            )
        staged = _stage_records(store, raw.documents["main"], file, what=kind.upper())
        return Prepared(staged, roles=dict(opts.roles))
    if kind is not None:
        if choice is None:
            why = (
                "presets are switched off"
                if opts.preset in (None, "none")
                else "the log was loaded without one"
            )
            what = "an object-centric (OCEL) log" if kind == "ocel" else f"a {kind} export"
            msg = f"{file}: {what} is read through a preset, and {why}"
            hint = phrase(
                "pass ",
                Option("preset", "NAME"),
                " (`mining presets` lists them) or ",
                Option("preset", "auto"),
            )
            raise UnknownFormat(msg, hint=hint)
        raw = read_export(
            store,
            path,
            workdir,
            file=file,
            encoding=opts.encoding,
            delimiter=opts.delimiter,
            sheet=opts.sheet,
        )
        name = _choose(raw, choice, file, required=True)
        assert name is not None
        _check_preset_roles(opts, name, file)
        return _stage_preset(store, raw, name, _preset_options(opts, previous, name), file, opts, renamed=())
    staged = stage_file(
        store, path, workdir, file=file, encoding=opts.encoding, delimiter=opts.delimiter, sheet=opts.sheet
    )
    # A workbook of several sheets with data: which one was read is kept with the log, and said.
    sheets: tuple[tuple[str, object], ...] = (
        (("sheet", staged.sheet), ("sheets", list(staged.sheets)))
        if len(staged.sheets) > 1 and opts.sheet is None
        else ()
    )
    plain = Prepared(staged, roles=dict(opts.roles), mapping_extra=sheets)
    if choice is None or staged.rows_read == 0:
        _check_preset_roles(opts, None, file)
        return plain
    header = Header(tuple(c.label for c in staged.columns))
    sample = RawExport(file=file, tables={"main": header}, sources={"main": file})  # type: ignore[dict-item]
    name = _choose(sample, choice, file, required=False)
    frame = None
    if name is None and choice == "auto" and not staged.rejects:
        # A preset told by the values (a list of one row per case, a date per step) reads them only
        # when the header is worth it, and the head first: an event log repeats its cases within it,
        # and is not read whole into a frame.
        from mining.ingest.presets import THRESHOLD, value_presets

        for preset in value_presets(header.columns):

            def fits(rows: pl.DataFrame, preset: Preset = preset) -> bool:
                return (
                    preset.detect(RawExport(file=file, tables={"main": rows}, sources={"main": file}))
                    >= THRESHOLD
                )

            if fits(frame_from_stage(store, staged.columns, limit=2000)):
                frame = frame_from_stage(store, staged.columns)
                if fits(frame):
                    name = preset.name
                    break
    _check_preset_roles(opts, name, file)
    if name is None:
        return plain
    if staged.rejects:
        msg = f"{staged.rejects[0]}; the {name} preset reads every row, so that no event is lost"
        hint = phrase(
            "fix that line (or export again), or load the file as a plain log with ", Option("preset", "none")
        )
        raise BadExport(msg, hint=hint)
    if frame is None:
        frame = frame_from_stage(store, staged.columns)
    raw = RawExport(file=file, tables={"main": frame}, sources={"main": file})
    popts = _preset_options(opts, previous, name)
    return _stage_preset(store, raw, name, popts, file, opts, renamed=staged.renamed)


def _stage_records(store: Store, document: object, file: str, *, what: str = "JSON") -> StagedTable:
    """Stage a JSON document that is a list of event records, one object per event, as a plain table
    (``what``: ``"XML"`` for an XML export read as such a document, which messages name).

    The list may be the document itself, JSON Lines, or the one list inside an object (``{"data": [...],
    "total": 120}``, as APIs page their results), or inside the one object inside it (OData's ``{"d":
    {"results": [...]}}``).  Each field becomes a column (the union of the fields, in order of first
    appearance), a nested object's fields columns of their own (``user.name``); lists are kept as
    their JSON text, and MongoDB's extended JSON (``{"$date": ...}``) as its values.
    """
    import json

    import pyarrow as pa

    records = document
    # The one list inside an object, or inside the one object inside it: OData v2 (SharePoint,
    # Dynamics) writes {"d": {"results": [...]}}.
    for _ in range(3):
        if not isinstance(records, dict):
            break
        lists = [v for v in records.values() if isinstance(v, list)]
        objects = [v for v in records.values() if isinstance(v, dict)]
        if len(lists) == 1:
            records = lists[0]
        elif not lists and len(objects) == 1:
            records = objects[0]
        else:
            break
    if not isinstance(records, list) or not records or not all(isinstance(r, dict) for r in records):
        msg = (
            f"{file}: no preset recognises this {what} as a system's export, and it is {_json_kind(records)}, "
            "not a list of event "
            "records (objects with fields such as case, activity and timestamp)"
        )
        hint = phrase(
            "pass ",
            Option("preset", "NAME"),
            " for a system's export (`mining presets` lists them), or export the events as a JSON array of "
            "objects, JSON Lines or CSV",
        )
        raise UnknownFormat(msg, hint=hint)
    # Objects inside a record become columns of their own ("_source.case", "user.name"), as Elasticsearch
    # and many APIs nest them; a list stays one column of JSON text.
    records = [_flattened(r) for r in records]
    fields: dict[str, None] = {}
    for record in records:
        fields.update(dict.fromkeys(record))

    def text(value: object) -> str | None:
        value = _extended_json(value)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        return json.dumps(value, ensure_ascii=False)

    columns = [pa.array([text(r.get(f)) for r in records], type=pa.string()) for f in fields]
    return stage_table(store, pa.table(columns, names=list(fields)), file=file)


#: MongoDB's extended JSON (mongoexport's output) wraps values in one-key objects: {"$date": ...},
#: {"$oid": ...}, {"$numberLong": "..."}.  Kept as JSON text, a time column held no times.
_EXTENDED = frozenset(
    {"$oid", "$numberLong", "$numberInt", "$numberDouble", "$numberDecimal", "$symbol", "$uuid"}
)


def _extended_json(value: object) -> object:
    """The scalar a MongoDB extended-JSON wrapper holds (a ``$date`` as ISO 8601 text in UTC); any
    other value as it is."""
    import datetime as dt

    if not isinstance(value, dict) or len(value) != 1:
        return value
    [(key, inner)] = value.items()
    if key in _EXTENDED and isinstance(inner, str | int | float):
        return str(inner)
    if key == "$date":
        inner = _extended_json(inner)
        if isinstance(inner, str) and inner.lstrip("-").isdigit():
            inner = int(inner)
        if isinstance(inner, int | float) and not isinstance(inner, bool):
            # Milliseconds since the epoch (mongoexport's canonical mode, and dates before 1970).
            moment = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=inner)
            return moment.isoformat(timespec="milliseconds")
        if isinstance(inner, str):
            return inner
    return value


def _flattened(record: dict[str, object], prefix: str = "", depth: int = 0) -> dict[str, object]:
    """``record`` with each nested object's fields as ``parent.field`` (three levels deep at most; an
    extended-JSON wrapper such as ``{"$date": ...}`` is a value, not an object)."""
    out: dict[str, object] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value and depth < 3 and _extended_json(value) is value:
            out.update(_flattened(value, f"{name}.", depth + 1))
        else:
            out[name] = value
    return out


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "a list of values" if value else "an empty list"
    if isinstance(value, dict):
        return "an object"
    return "a single value"


def resolve_roles(
    store: Store, prepared: Prepared, overrides: dict[str, str | None], opts: IngestOptions, file: str
) -> tuple[Prepared, dict[str, RoleGuess], dict[str, TimestampFormat], str]:
    """Decide each role's column, the timestamp formats and the zone of naive times.

    Returns ``prepared`` with the column it added: the dates and the times of day of an export that
    keeps them apart, joined (:func:`~mining.ingest.mapping.date_and_time_pairs`).
    """
    table = prepared.table
    formats: dict[str, TimestampFormat] = {}
    if opts.timestamp_format:
        formats["timestamp"] = user_format(opts.timestamp_format)
    elif (
        table is not None
        and table.timestamp_format
        and overrides.get("timestamp") == table.roles.get("timestamp")
    ):
        formats["timestamp"] = TimestampFormat(
            table.timestamp_format, f"written by the {prepared.preset} preset"
        )
    if opts.start_timestamp_format:
        formats["start_timestamp"] = user_format(opts.start_timestamp_format)
    _check_date_order(opts, file)
    dayfirst = opts.dayfirst if opts.dayfirst is not None or table is None else table.dayfirst
    preset_zone = table.timezone if table is not None else None
    if preset_zone and opts.timezone and preset_zone != opts.timezone:
        msg = phrase(
            f"{file}: the {prepared.preset} preset writes its times in {preset_zone}, so ",
            Option("timezone", opts.timezone),
            " cannot apply to them",
        )
        raise BadTimestamp(msg)
    timezone = opts.timezone or preset_zone or "UTC"
    # A date and a time of day kept apart are one timestamp, looked for when the timestamp is left to
    # the detection and it found no column, or one of dates alone.
    pairing = "timestamp" not in overrides and not opts.timestamp_format and not prepared.preset
    try:
        guesses = detect_roles(
            store,
            STAGE,
            prepared.staged.columns,
            overrides=overrides,
            file=file,
            dayfirst=dayfirst,
            formats=formats,
        )
    except AmbiguousMapping as exc:
        pairs = (
            date_and_time_pairs(store, STAGE, prepared.staged.columns, file=file, dayfirst=dayfirst)
            if pairing and exc.role == "timestamp"
            else []
        )
        if len(pairs) != 1:
            raise
        prepared, label = _join_date_and_time(store, prepared, pairs[0])
        formats["timestamp"] = pairs[0][2]
        guesses = detect_roles(
            store,
            STAGE,
            prepared.staged.columns,
            overrides={**overrides, "timestamp": label},
            file=file,
            dayfirst=dayfirst,
            formats=formats,
        )
        guesses["timestamp"] = _pair_guess(label, pairs[0], 0.8)
    else:
        chosen = guesses["timestamp"].column
        pairs = (
            date_and_time_pairs(
                store,
                STAGE,
                prepared.staged.columns,
                file=file,
                dayfirst=dayfirst,
                dates=[(chosen, formats["timestamp"])],
            )
            if pairing and chosen and "timestamp" in formats
            else []
        )
        if len(pairs) == 1:
            prepared, label = _join_date_and_time(store, prepared, pairs[0])
            formats["timestamp"] = pairs[0][2]
            guesses["timestamp"] = _pair_guess(label, pairs[0], guesses["timestamp"].confidence)
    if prepared.preset:
        for role in ROLES:
            if role not in opts.roles:
                column = guesses[role].column
                why = (
                    f"set by the {prepared.preset} preset"
                    if column
                    else f"not in the {prepared.preset} preset's events"
                )
                guesses[role] = RoleGuess(role, column, 1.0, why)
    return prepared, guesses, formats, timezone


def _join_date_and_time(
    store: Store, prepared: Prepared, pair: tuple[Column, Column, TimestampFormat]
) -> tuple[Prepared, str]:
    """``prepared`` with the column joining a date and a time column (recorded for --append), and its label."""
    date, clock, _ = pair
    columns = prepared.staged.columns
    joined = join_columns(store, columns, [date, clock], sep=" ")
    extra = (*prepared.mapping_extra, ("timestamp_columns", [date.label, clock.label]))
    staged = dataclasses.replace(prepared.staged, columns=(*columns, joined))
    return dataclasses.replace(prepared, staged=staged, mapping_extra=extra), joined.label


def _pair_guess(label: str, pair: tuple[Column, Column, TimestampFormat], confidence: float) -> RoleGuess:
    date, clock, fmt = pair
    why = f"the dates of {date.label!r} with the times of day of {clock.label!r} beside them; parses as {fmt.pattern}"
    return RoleGuess("timestamp", label, confidence, why)


def _check_date_order(opts: IngestOptions, file: str) -> None:
    """An explicit day/month order and an explicit format must agree: neither silently wins."""
    fmt = opts.timestamp_format
    if opts.dayfirst is None or not fmt or "%d" not in fmt or "%m" not in fmt:
        return
    format_dayfirst = fmt.index("%d") < fmt.index("%m")
    if format_dayfirst != opts.dayfirst:
        said = Option("dayfirst") if opts.dayfirst else Option("monthfirst")
        order = "day" if format_dayfirst else "month"
        msg = phrase(
            f"{file}: ",
            said,
            " contradicts ",
            Option("timestamp_format", fmt),
            f", which puts the {order} first",
        )
        raise BadTimestamp(msg, hint="give one of them: the format alone decides the order")


def check_timezone(store: Store, tz: str) -> None:
    """Refuse a zone that is not an IANA name (``UTC`` always passes)."""
    if tz == "UTC":
        return
    known = store.scalar("SELECT count(*) FROM pg_timezone_names() WHERE name = ?", [tz])
    if not known:
        msg = f"unknown time zone {tz!r}; expected an IANA name such as 'Europe/Amsterdam'"
        raise BadTimestamp(msg)


def _preset_choice(opts: IngestOptions, previous: dict[str, Any]) -> str | None:
    """The preset to use, ``"auto"`` to detect one, or None for none; --append keeps the log's choice."""
    if opts.preset is None or opts.preset == "none":
        return None
    if opts.preset == "auto" and opts.append and previous:
        return previous.get("preset")
    return opts.preset


def _check_preset_roles(opts: IngestOptions, name: str | None, file: str) -> None:
    """Every --preset-role names a role the preset reading the export knows, and --object-type is
    given only for an object-centric log: none is ignored."""
    if opts.object_type is not None and name != "ocel":
        read = "as a plain table" if name is None else f"through the {name} preset"
        msg = phrase(
            f"{file}: ",
            Option("object_type"),
            f" chooses the cases of an object-centric (OCEL) log, and this file is read {read}",
        )
        raise IngestError(
            msg,
            hint=phrase("leave out ", Option("object_type"), ", or choose the case with ", Option("case")),
        )
    if not opts.preset_roles:
        return
    if name is None:
        given = ", ".join(sorted(opts.preset_roles))
        msg = phrase(
            f"{file}: ",
            Option("preset_role"),
            f" ({given}) names a preset's column, but no preset reads this file",
        )
        hint = phrase(
            "pass ", Option("preset", "NAME"), ", or the ordinary role options such as ", Option("case")
        )
        raise IngestError(msg, hint=hint)
    from mining.ingest.presets import get_preset

    known = (*ROLES, *get_preset(name).roles)
    unknown = sorted(r for r in opts.preset_roles if r not in known)
    if unknown:
        shown = ", ".join(repr(r) for r in unknown)
        msg = phrase(
            f"{file}: ",
            Option("preset_role"),
            f" {shown}: the {name} preset has no such role; it knows {', '.join(known)}",
        )
        raise IngestError(msg)


def _preset_options(opts: IngestOptions, previous: dict[str, Any], choice: str | None) -> PresetOptions:
    from mining.ingest.presets.base import PresetOptions

    roles: dict[str, str | None] = {}
    include = opts.include
    object_type = opts.object_type
    if opts.append and choice is not None and choice == previous.get("preset"):
        roles.update(previous.get("preset_roles") or {})
        include = include or tuple(previous.get("preset_include") or ())
        object_type = object_type or previous.get("preset_object_type")
    roles.update(opts.roles)
    roles.update(opts.preset_roles)
    return PresetOptions(
        timezone=opts.timezone,
        include=tuple(include),
        roles=roles,
        dayfirst=opts.dayfirst,
        object_type=object_type,
    )


def _choose(raw: RawExport, choice: str, file: str, *, required: bool) -> str | None:
    from mining.ingest.presets import THRESHOLD, detect_preset, get_preset

    if choice != "auto":
        return get_preset(choice).name
    name, scores = detect_preset(raw)
    if name is None and required:
        ranked = sorted(scores.items(), key=lambda kv: -kv[1])[:3]
        shown = ", ".join(f"{n} {s:.2f}" for n, s in ranked)
        msg = f"{file}: no preset recognises this export (best scores: {shown}; {THRESHOLD:.2f} needed)"
        raise UnknownFormat(
            msg, hint=phrase("pass ", Option("preset", "NAME"), "; `mining presets` lists them")
        )
    return name


def _stage_preset(
    store: Store,
    raw: RawExport,
    name: str,
    popts: PresetOptions,
    file: str,
    opts: IngestOptions,
    *,
    renamed: tuple[str, ...],
) -> Prepared:
    from mining.ingest.presets import get_preset

    preset = get_preset(name)
    table = preset.build(raw, popts)
    frame = table.frame
    if frame.height == 0:
        msg = f"{file}: the {preset.title} export holds no events"
        raise EmptyLog(msg)
    roles: dict[str, str | None] = {role: table.roles.get(role) for role in ROLES}
    for role, column in opts.roles.items():
        joined = (
            role == "activity"
            and column is not None
            and all(p.strip() in frame.columns for p in column.split(JOIN))
        )
        if column is not None and column not in frame.columns and not joined:
            available = ", ".join(repr(c) for c in frame.columns)
            msg = phrase(
                f"{file}: no column {column!r} for ",
                Option(role),
                f" among the events the {name} preset made; their columns: {available}",
            )
            raise MissingColumn(msg)
        roles[role] = column
    columns = stage_frame(store, frame, table.rows)
    extra: tuple[tuple[str, object], ...] = (
        ("preset", name),
        ("preset_include", list(popts.include)),
        ("preset_roles", dict(popts.roles)),
    )
    if name == "ocel":
        # The case notion, chosen or defaulted: an append flattens the newer export on the same type.
        extra += (("preset_object_type", table.roles.get("case")),)
    if table.facts:
        extra += (("preset_facts", dict(table.facts)),)
    rejected = len({(r.file, r.row) for r in table.rejects})
    staged = StagedTable(columns, frame.height + rejected, tuple(table.rejects), renamed, check_control=True)
    return Prepared(
        staged,
        roles,
        preset=name,
        table=table,
        notes=tuple(raw.notes) + tuple(table.notes),
        mapping_extra=extra,
    )
