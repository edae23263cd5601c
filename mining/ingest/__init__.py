"""Loading exports into the workspace: ``ingest_file`` is the one entry point.

Reading (one module per format) produces a staging table of text; mapping
decides the roles; ``load`` validates and writes in one transaction.  A file
whose content hash was already ingested into the log is a no-op that says so.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mining.errors import AppendMismatch, BadTimestamp, EmptyLog, IngestError
from mining.ingest.load import LoadPlan, check_formats, drop_staging, load
from mining.ingest.mapping import Column, detect_roles
from mining.ingest.timestamps import TimestampFormat, user_format
from mining.schema import ColumnMapping, IngestSummary, Reject
from mining.store import quote_ident

if TYPE_CHECKING:
    from mining.store import Store

__all__ = ["IngestOptions", "ingest_file", "log_name_for"]


@dataclass(frozen=True)
class IngestOptions:
    """What the user said on the command line or the upload page."""

    name: str | None = None
    append: bool = False
    roles: dict[str, str | None] = field(default_factory=dict)  # role -> source column (None = none)
    timestamp_format: str | None = None
    start_timestamp_format: str | None = None
    dayfirst: bool | None = None
    timezone: str = "UTC"
    dst: str = "shift"  # or "reject"
    max_rejects: float = 0.05  # share of rows that may be rejected before the load fails
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    display_name: str | None = None  # how to name the file in messages (uploads)
    source: str | None = None  # what to record as the source (uploads: the original name, not a temp path)


def log_name_for(path: Path) -> str:
    name = path.name
    for suffix in (".gz", ".csv", ".tsv", ".txt", ".xes", ".parquet", ".pq", ".xlsx"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return name or path.name


def ingest_file(store: Store, path: str | Path, options: IngestOptions | None = None) -> IngestSummary:
    """Load one export into the workspace; see :class:`IngestOptions`."""
    from mining.catalog import summarize
    from mining.ingest.sources import sha256_file

    opts = options or IngestOptions()
    path = Path(path)
    file = opts.display_name or path.name
    if not path.is_file():
        msg = f"{file}: no such file"
        raise IngestError(msg)
    if opts.dst not in {"shift", "reject"}:
        msg = f"unknown DST policy {opts.dst!r}; expected 'shift' or 'reject'"
        raise IngestError(msg)
    _check_timezone(store, opts.timezone)
    name = opts.name or log_name_for(Path(file))
    digest = sha256_file(path)
    existing = store.query("SELECT log_id, mapping FROM logs WHERE name = ?", [name]).rows
    if existing:
        log_id = int(existing[0][0])
        seen = store.scalar("SELECT count(*) FROM ingest_runs WHERE log_id = ? AND content_hash = ?", [log_id, digest])
        if seen:
            return summarize(store, log_id, status="unchanged", source=opts.source or str(path), content_hash=digest)
        if not opts.append:
            msg = f"a log named {name!r} already exists and was loaded from other data"
            raise IngestError(msg, hint="use --append to add a newer export to it, or --name for a new log")
    elif opts.append:
        msg = f"--append: there is no log named {name!r} to append to"
        raise IngestError(msg, hint="load the first export without --append, or pass --name of an existing log")

    with tempfile.TemporaryDirectory(prefix="mining-ingest-") as tmp:
        columns, rows_read, parse_rejects, renamed, check_control = _stage(store, path, Path(tmp), file, opts)
        if rows_read == 0:
            msg = f"{file} has a header but no rows"
            raise EmptyLog(msg)
        append_to = int(existing[0][0]) if existing else None
        overrides = dict(opts.roles)
        if append_to is not None:
            import json

            previous = json.loads(existing[0][1])
            for role in ("case", "activity", "timestamp", "start_timestamp", "resource", "lifecycle", "cost"):
                overrides.setdefault(role, previous.get(role))
            missing = [v for v in overrides.values() if v and v not in {c.label for c in columns}]
            if missing:
                msg = f"{file}: --append needs the columns the log was built from; missing {missing}"
                raise AppendMismatch(msg)
            if "timezone" in previous and opts.timezone == "UTC":
                opts = _replace(opts, timezone=previous["timezone"])
        formats: dict[str, TimestampFormat] = {}
        if opts.timestamp_format:
            formats["timestamp"] = user_format(opts.timestamp_format)
        if opts.start_timestamp_format:
            formats["start_timestamp"] = user_format(opts.start_timestamp_format)
        guesses = detect_roles(
            store, "_stage", columns, overrides=overrides, file=file, dayfirst=opts.dayfirst, formats=formats
        )
        mapping = ColumnMapping(
            case=guesses["case"].column or "",
            activity=guesses["activity"].column or "",
            timestamp=guesses["timestamp"].column or "",
            start_timestamp=guesses["start_timestamp"].column,
            resource=guesses["resource"].column,
            lifecycle=guesses["lifecycle"].column,
            cost=guesses["cost"].column,
            timestamp_format=formats["timestamp"].pattern if "timestamp" in formats else None,
            start_timestamp_format=formats["start_timestamp"].pattern if "start_timestamp" in formats else None,
            timezone=opts.timezone,
        )
        check_formats(formats, mapping, file)
        plan = LoadPlan(
            log_name=name, file=file, source=opts.source or str(path), content_hash=digest, columns=tuple(columns),
            mapping=mapping, formats=formats, rows_read=rows_read, parse_rejects=tuple(parse_rejects),
            reject_threshold=opts.max_rejects, dst=opts.dst, append_to=append_to, renamed=tuple(renamed),
            check_control=check_control,
        )
        result = load(store, plan)
    return summarize(
        store, result.log_id, status="appended" if append_to else "loaded", source=opts.source or str(path),
        content_hash=digest,
        rows_read=rows_read, events_added=result.events_added, rejects=result.rejects, quality=result.quality,
        guesses=tuple(guesses[r] for r in guesses), formats={k: v.pattern for k, v in formats.items()},
        run_id=result.run_id,
    )


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
