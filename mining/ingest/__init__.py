"""Loading exports into the workspace: ``ingest_file`` is the one entry point.

Reading (one module per format) produces a staging table of text; mapping
decides the roles; ``load`` validates and writes in one transaction.  A file
whose content hash was already ingested into the log is a no-op that says so.

Exports of business systems (Jira, ServiceNow, SAP, ...) go through a preset
(:mod:`mining.ingest.presets`) first: with ``preset="auto"`` every ingest asks the
presets whether they recognise the staged table; when one does, it turns the
export into one row per event, which is staged in place of the file and then
mapped and loaded like any other.  Folders, zips of tables and JSON documents
are read only through a preset.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mining.errors import (
    AppendMismatch,
    BadExport,
    BadTimestamp,
    EmptyLog,
    IngestError,
    MissingColumn,
    UnknownFormat,
)
from mining.ingest.load import LoadPlan, Progress, _silent, check_formats, drop_staging, load
from mining.ingest.mapping import PROFILE_ROWS, Column, detect_roles
from mining.ingest.timestamps import TimestampFormat, has_naive_values, user_format
from mining.schema import ROLES, ColumnMapping, IngestSummary, Reject, RoleGuess
from mining.store import quote_ident

if TYPE_CHECKING:
    import polars as pl

    from mining.ingest.presets.base import EventTable, PresetOptions, RawExport
    from mining.store import Store

__all__ = ["IngestOptions", "IngestPreview", "ingest_file", "log_name_for", "preview"]

#: Rows of a table shown to the presets' detectors: headers and a few values decide.
_DETECT_ROWS = 1000


@dataclass(frozen=True)
class IngestOptions:
    """What the user said on the command line or the upload page."""

    name: str | None = None
    append: bool = False
    roles: dict[str, str | None] = field(default_factory=dict)  # role -> source column (None = none)
    timestamp_format: str | None = None
    start_timestamp_format: str | None = None
    dayfirst: bool | None = None
    # IANA zone of naive timestamps; None = not given: UTC, the log's zone on --append, and
    # presets of systems that export local time (SAP) ask for it.
    timezone: str | None = None
    dst: str = "shift"  # or "reject"
    max_rejects: float = 0.05  # share of rows that may be rejected before the load fails
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    display_name: str | None = None  # how to name the file in messages (uploads)
    source: str | None = None  # what to record as the source (uploads: the original name, not a temp path)
    preset: str | None = (
        "auto"  # a preset name (mining.ingest.presets), "auto" to detect one, "none" (or None) for none
    )
    include: tuple[str, ...] = ()  # a preset's optional event families, e.g. ("assignee",) for Jira
    preset_roles: dict[str, str] = field(
        default_factory=dict
    )  # a preset's own columns (changelog: field, old, new)


def log_name_for(path: Path) -> str:
    name = path.name
    for suffix in (
        ".gz",
        ".csv",
        ".tsv",
        ".txt",
        ".xes",
        ".parquet",
        ".pq",
        ".xlsx",
        ".json",
        ".jsonl",
        ".ndjson",
        ".zip",
    ):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return name or path.name


def ingest_file(
    store: Store, path: str | Path, options: IngestOptions | None = None, *, progress: Progress | None = None
) -> IngestSummary:
    """Load one export (a file, or a folder of a system's tables) into the workspace; see :class:`IngestOptions`.

    ``progress(share, message)`` is called as the stages pass (the app's progress bar).
    """
    import dataclasses

    from mining.catalog import summarize
    from mining.ingest.presets.raw import content_hash

    opts = options or IngestOptions()
    path = Path(path)
    file = opts.display_name or path.name
    if not (path.is_file() or path.is_dir()):
        msg = f"{file}: no such file"
        raise IngestError(msg)
    if opts.dst not in {"shift", "reject"}:
        msg = f"unknown DST policy {opts.dst!r}; expected 'shift' or 'reject'"
        raise IngestError(msg)
    if opts.timezone is not None:
        _check_timezone(store, opts.timezone)
    name = opts.name or log_name_for(Path(file))
    digest = content_hash(path)
    existing = store.query("SELECT log_id, mapping FROM logs WHERE name = ?", [name]).rows
    previous: dict[str, Any] = {}
    if existing:
        log_id = int(existing[0][0])
        previous = json.loads(existing[0][1])
        seen = store.scalar(
            "SELECT count(*) FROM ingest_runs WHERE log_id = ? AND content_hash = ?", [log_id, digest]
        )
        if seen:
            summary = summarize(
                store, log_id, status="unchanged", source=opts.source or str(path), content_hash=digest
            )
            return dataclasses.replace(summary, preset=previous.get("preset"))
        if not opts.append:
            msg = f"a log named {name!r} already exists and was loaded from other data"
            raise IngestError(msg, hint="use --append to add a newer export to it, or --name for a new log")
        if opts.timezone is None and "timezone" in previous:
            opts = _replace(opts, timezone=previous["timezone"])
    elif opts.append:
        msg = f"--append: there is no log named {name!r} to append to"
        raise IngestError(
            msg, hint="load the first export without --append, or pass --name of an existing log"
        )

    report = progress or _silent
    with tempfile.TemporaryDirectory(prefix="mining-ingest-") as tmp:
        report(0.02, f"Reading {file}")
        staged = _stage_export(store, path, Path(tmp), file, opts, previous)
        report(0.45, f"Read {staged.rows_read:,} rows; choosing the columns")
        columns = staged.columns
        if staged.rows_read == 0:
            msg = f"{file} has a header but no rows"
            raise EmptyLog(msg)
        append_to = int(existing[0][0]) if existing else None
        overrides = dict(staged.roles)
        if append_to is not None:
            for role in ROLES:
                overrides.setdefault(role, previous.get(role))
            missing = [v for v in overrides.values() if v and v not in {c.label for c in columns}]
            if missing:
                msg = f"{file}: --append needs the columns the log was built from; missing {missing}"
                raise AppendMismatch(msg)
        guesses, formats, timezone = _resolve_roles(store, staged, overrides, opts, file)
        mapping = ColumnMapping(
            case=guesses["case"].column or "",
            activity=guesses["activity"].column or "",
            timestamp=guesses["timestamp"].column or "",
            start_timestamp=guesses["start_timestamp"].column,
            resource=guesses["resource"].column,
            lifecycle=guesses["lifecycle"].column,
            cost=guesses["cost"].column,
            timestamp_format=formats["timestamp"].pattern if "timestamp" in formats else None,
            start_timestamp_format=formats["start_timestamp"].pattern
            if "start_timestamp" in formats
            else None,
            timezone=timezone,
        )
        check_formats(formats, mapping, file)
        internal = {c.label: quote_ident(c.internal) for c in columns}
        # Only a zone nobody chose earns the warning; an appended export keeps its log's verdict.
        defaulted = timezone == "UTC" and opts.timezone is None and append_to is None
        naive = tuple(
            role
            for role, label in (
                ("timestamp", mapping.timestamp),
                ("start_timestamp", mapping.start_timestamp),
            )
            if defaulted
            and label
            and role in formats
            and has_naive_values(store, "_stage", internal[label], formats[role], rows=PROFILE_ROWS)
        )
        plan = LoadPlan(
            log_name=name,
            file=file,
            source=opts.source or str(path),
            content_hash=digest,
            columns=tuple(columns),
            mapping=mapping,
            formats=formats,
            rows_read=staged.rows_read,
            parse_rejects=tuple(staged.rejects),
            reject_threshold=opts.max_rejects,
            dst=opts.dst,
            append_to=append_to,
            renamed=tuple(staged.renamed),
            check_control=staged.check_control,
            mapping_extra=staged.mapping_extra,
            naive_roles=naive,
        )
        result = load(store, plan, report)
    report(0.97, "Summarising")
    summary = summarize(
        store,
        result.log_id,
        status="appended" if append_to else "loaded",
        source=opts.source or str(path),
        content_hash=digest,
        rows_read=staged.rows_read,
        events_added=result.events_added,
        rejects=result.rejects,
        quality=result.quality,
        guesses=tuple(guesses[r] for r in guesses),
        formats={k: v.pattern for k, v in formats.items()},
        run_id=result.run_id,
    )
    return dataclasses.replace(summary, preset=staged.preset, preset_notes=staged.notes)


@dataclass(frozen=True)
class IngestPreview:
    """What an ingest of a file would do, worked out without touching any workspace.

    The upload page shows it before the user commits: the roles with their
    confidence and reason, the timestamp formats, the preset, and the first
    rows as the loader will see them (a preset's events, when one applies).
    """

    file: str
    rows_read: int
    columns: tuple[str, ...]
    guesses: tuple[RoleGuess, ...]
    timestamp_formats: dict[str, str]
    timezone: str
    preset: str | None
    preset_notes: tuple[str, ...]
    sample: tuple[tuple[str | None, ...], ...]


def preview(path: str | Path, options: IngestOptions | None = None, *, rows: int = 10) -> IngestPreview:
    """Read ``path`` as :func:`ingest_file` would, into a private in-memory database, and report the plan."""
    from mining.store import Store

    opts = options or IngestOptions()
    path = Path(path)
    file = opts.display_name or path.name
    with Store() as store, tempfile.TemporaryDirectory(prefix="mining-preview-") as tmp:
        if opts.timezone is not None:
            _check_timezone(store, opts.timezone)
        staged = _stage_export(store, path, Path(tmp), file, opts, {})
        if staged.rows_read == 0:
            msg = f"{file} has a header but no rows"
            raise EmptyLog(msg)
        guesses, formats, timezone = _resolve_roles(store, staged, dict(staged.roles), opts, file)
        select = ", ".join(c.internal for c in staged.columns)
        sample = store.query(f"SELECT {select} FROM _stage ORDER BY _row LIMIT ?", [rows]).rows
    return IngestPreview(
        file=file,
        rows_read=staged.rows_read,
        columns=tuple(c.label for c in staged.columns),
        guesses=tuple(guesses.values()),
        timestamp_formats={k: v.pattern for k, v in formats.items()},
        timezone=timezone,
        preset=staged.preset,
        preset_notes=staged.notes,
        sample=tuple(tuple(None if v is None else str(v) for v in r) for r in sample),
    )


def _resolve_roles(
    store: Store, staged: _Staged, overrides: dict[str, str | None], opts: IngestOptions, file: str
) -> tuple[dict[str, RoleGuess], dict[str, TimestampFormat], str]:
    """Decide each role's column, the timestamp formats and the zone of naive times."""
    table = staged.table
    formats: dict[str, TimestampFormat] = {}
    if opts.timestamp_format:
        formats["timestamp"] = user_format(opts.timestamp_format)
    elif (
        table is not None
        and table.timestamp_format
        and overrides.get("timestamp") == table.roles.get("timestamp")
    ):
        formats["timestamp"] = TimestampFormat(
            table.timestamp_format, f"written by the {staged.preset} preset"
        )
    if opts.start_timestamp_format:
        formats["start_timestamp"] = user_format(opts.start_timestamp_format)
    dayfirst = opts.dayfirst if opts.dayfirst is not None or table is None else table.dayfirst
    timezone = (table.timezone if table is not None else None) or opts.timezone or "UTC"
    guesses = detect_roles(
        store, "_stage", staged.columns, overrides=overrides, file=file, dayfirst=dayfirst, formats=formats
    )
    if staged.preset:
        for role in ROLES:
            if role not in opts.roles:
                column = guesses[role].column
                why = (
                    f"set by the {staged.preset} preset"
                    if column
                    else f"not in the {staged.preset} preset's events"
                )
                guesses[role] = RoleGuess(role, column, 1.0, why)
    return guesses, formats, timezone


@dataclass(frozen=True)
class _Staged:
    """What staging produced: the columns of ``_stage`` and, when a preset made the events, its output."""

    columns: list[Column]
    rows_read: int
    rejects: list[Reject]
    renamed: list[str]
    check_control: bool
    roles: dict[str, str | None]  # the overrides handed to detect_roles
    preset: str | None = None
    table: EventTable | None = None
    notes: tuple[str, ...] = ()
    mapping_extra: tuple[tuple[str, object], ...] = ()


def _preset_choice(opts: IngestOptions, previous: dict[str, Any]) -> str | None:
    """The preset to use, ``"auto"`` to detect one, or None for none; --append keeps the log's choice."""
    if opts.preset is None or opts.preset == "none":
        return None
    if opts.preset == "auto" and opts.append and previous:
        return previous.get("preset")
    return opts.preset


def _preset_options(opts: IngestOptions, previous: dict[str, Any], choice: str | None) -> PresetOptions:
    from mining.ingest.presets.base import PresetOptions

    roles: dict[str, str | None] = {}
    include = opts.include
    if opts.append and choice is not None and choice == previous.get("preset"):
        roles.update(previous.get("preset_roles") or {})
        include = include or tuple(previous.get("preset_include") or ())
    roles.update(opts.roles)
    roles.update(opts.preset_roles)
    return PresetOptions(timezone=opts.timezone, include=tuple(include), roles=roles, dayfirst=opts.dayfirst)


def _stage_export(
    store: Store, path: Path, workdir: Path, file: str, opts: IngestOptions, previous: dict[str, Any]
) -> _Staged:
    """Stage the file as it is, or the events a preset makes of it."""
    from mining.ingest.presets.base import RawExport
    from mining.ingest.presets.raw import export_kind, frame_from_stage, read_export

    choice = _preset_choice(opts, previous)
    kind = export_kind(path, file)
    if kind is not None:
        if choice is None:
            why = (
                "presets are switched off"
                if opts.preset in (None, "none")
                else "the log was loaded without one"
            )
            msg = f"{file}: a {kind} export is read through a preset, and {why}"
            raise UnknownFormat(msg, hint="pass --preset NAME (`mining presets` lists them) or --preset auto")
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
        return _stage_preset(store, raw, name, _preset_options(opts, previous, name), file, opts, renamed=[])
    columns, rows, rejects, renamed, check_control = _stage(store, path, workdir, file, opts)
    plain = _Staged(columns, rows, rejects, renamed, check_control, roles=dict(opts.roles))
    if choice is None or rows == 0:
        return plain
    sample = RawExport(
        file=file,
        tables={"main": frame_from_stage(store, columns, limit=_DETECT_ROWS)},
        sources={"main": file},
    )
    name = _choose(sample, choice, file, required=False)
    if name is None:
        return plain
    if rejects:
        msg = f"{rejects[0]}; the {name} preset reads every row, so that no event is lost"
        raise BadExport(
            msg, hint="fix that line (or export again), or load the file as a plain log with --preset none"
        )
    raw = RawExport(file=file, tables={"main": frame_from_stage(store, columns)}, sources={"main": file})
    return _stage_preset(store, raw, name, _preset_options(opts, previous, name), file, opts, renamed=renamed)


def _choose(raw: RawExport, choice: str, file: str, *, required: bool) -> str | None:
    from mining.ingest.presets import THRESHOLD, detect_preset, get_preset

    if choice != "auto":
        return get_preset(choice).name
    name, scores = detect_preset(raw)
    if name is None and required:
        ranked = sorted(scores.items(), key=lambda kv: -kv[1])[:3]
        shown = ", ".join(f"{n} {s:.2f}" for n, s in ranked)
        msg = f"{file}: no preset recognises this export (best scores: {shown}; {THRESHOLD:.2f} needed)"
        raise UnknownFormat(msg, hint="pass --preset NAME; `mining presets` lists them")
    return name


def _stage_preset(
    store: Store,
    raw: RawExport,
    name: str,
    popts: PresetOptions,
    file: str,
    opts: IngestOptions,
    *,
    renamed: list[str],
) -> _Staged:
    from mining.ingest.presets import get_preset

    preset = get_preset(name)
    table = preset.build(raw, popts)
    frame = table.frame
    if frame.height == 0:
        msg = f"{file}: the {preset.title} export holds no events"
        raise EmptyLog(msg)
    roles: dict[str, str | None] = {role: table.roles.get(role) for role in ROLES}
    for role, column in opts.roles.items():
        if column is not None and column not in frame.columns:
            available = ", ".join(repr(c) for c in frame.columns)
            msg = (
                f"{file}: no column {column!r} for --{role.replace('_', '-')} among the events the {name} preset "
                f"made; their columns: {available}"
            )
            raise MissingColumn(msg)
        roles[role] = column
    columns = _stage_frame(store, frame, table.rows)
    extra = (("preset", name), ("preset_include", list(popts.include)), ("preset_roles", dict(popts.roles)))
    rejected = len({(r.file, r.row) for r in table.rejects})
    return _Staged(
        columns,
        frame.height + rejected,
        list(table.rejects),
        renamed,
        True,
        roles,
        preset=name,
        table=table,
        notes=tuple(raw.notes) + tuple(table.notes),
        mapping_extra=extra,
    )


def _stage_frame(store: Store, frame: pl.DataFrame, rows: pl.Series | None) -> list[Column]:
    """Stage a preset's events as ``_stage`` (c1..cN as text; ``_row`` the file rows, else frame order)."""
    import polars as pl
    import pyarrow as pa

    drop_staging(store)
    labels = list(frame.columns)
    table = frame.select(pl.all().cast(pl.Utf8)).to_arrow()
    table = pa.table(
        [table.column(i).cast(pa.string()) for i in range(table.num_columns)],
        names=[f"c{i}" for i in range(1, len(labels) + 1)],
    )
    numbers = (
        pa.array(range(1, table.num_rows + 1), pa.int64()) if rows is None else rows.cast(pl.Int64).to_arrow()
    )
    table = table.add_column(0, "_row", numbers)
    store.register("_arrow_stage", table)
    try:
        store.execute("CREATE TEMP TABLE _stage AS SELECT * FROM _arrow_stage")
    finally:
        store.unregister("_arrow_stage")
    return [Column(f"c{i}", label) for i, label in enumerate(labels, start=1)]


def _replace(opts: IngestOptions, **changes: Any) -> IngestOptions:
    import dataclasses

    return dataclasses.replace(opts, **changes)


def _check_timezone(store: Store, tz: str) -> None:
    if tz == "UTC":
        return
    known = store.scalar("SELECT count(*) FROM pg_timezone_names() WHERE name = ?", [tz])
    if not known:
        msg = f"unknown time zone {tz!r}; expected an IANA name such as 'Europe/Amsterdam'"
        raise BadTimestamp(msg)


def _unique_labels(labels: list[str]) -> tuple[list[str], list[str]]:
    out: list[str] = []
    renamed: list[str] = []
    seen: set[str] = set()
    for i, raw in enumerate(labels, start=1):
        label = raw.strip() if raw and raw.strip() else f"column_{i}"
        if label != raw and not (raw and raw.strip()):
            renamed.append(f"column {i} (empty header) -> {label!r}")
        base, k = label, 2
        while label in seen:
            label = f"{base}_{k}"
            k += 1
        if label != base:
            renamed.append(f"column {i} {base!r} (repeated) -> {label!r}")
        seen.add(label)
        out.append(label)
    return out, renamed


def _stage(
    store: Store, path: Path, workdir: Path, file: str, opts: IngestOptions
) -> tuple[list[Column], int, list[Reject], list[str], bool]:
    """Read any format into the temp table ``_stage`` (``_row``, c1..cN as text).

    The last value says whether rows must be checked for control characters.
    """
    from mining.ingest.sources import decompress_if_gzip, detect_format

    drop_staging(store)
    plain = decompress_if_gzip(path, workdir, display_name=file)
    fmt = detect_format(plain, display_name=file)
    if fmt == "csv":
        from mining.ingest.csv import prepare_csv, stage_csv

        utf8, dialect = prepare_csv(
            plain, workdir, display_name=file, encoding=opts.encoding, delimiter=opts.delimiter
        )
        labels, renamed = _unique_labels(list(dialect.header))
        rows, rejects = stage_csv(store, utf8, dialect, "_stage", display_name=file)
        check_control = dialect.control_chars
    elif fmt == "parquet":
        described = store.query("DESCRIBE SELECT * FROM read_parquet(?)", [str(plain)]).rows
        labels, renamed = _unique_labels([str(r[0]) for r in described])
        select = ", ".join(
            f"CAST({quote_ident(str(r[0]))} AS VARCHAR) AS c{i}" for i, r in enumerate(described, start=1)
        )
        store.execute(
            f"CREATE TEMP TABLE _stage AS SELECT file_row_number + 1 AS _row, {select} "
            "FROM read_parquet(?, file_row_number = true)",
            [str(plain)],
        )
        rows, rejects = int(store.scalar("SELECT count(*) FROM _stage")), []
        check_control = True
    else:
        if fmt == "xes":
            from mining.ingest.xes import read_xes

            table = read_xes(plain, display_name=file).table
        else:
            from mining.ingest.excel import read_xlsx

            table = read_xlsx(plain, display_name=file, sheet=opts.sheet).table
        labels, renamed = _unique_labels([str(n) for n in table.column_names])
        import pyarrow as pa

        table = table.rename_columns([f"c{i}" for i in range(1, len(labels) + 1)])
        # The row number is attached before DuckDB sees the rows, so it is the
        # file order whatever order the scan runs in.
        table = table.add_column(0, "_row", pa.array(range(1, table.num_rows + 1), pa.int64()))
        store.register("_arrow_stage", table)
        try:
            store.execute("CREATE TEMP TABLE _stage AS SELECT * FROM _arrow_stage")
        finally:
            store.unregister("_arrow_stage")
        rows, rejects = table.num_rows, []
        check_control = True
    columns = [Column(f"c{i}", label) for i, label in enumerate(labels, start=1)]
    return columns, rows, rejects, renamed, check_control
