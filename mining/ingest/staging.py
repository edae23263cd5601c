"""The staging table: any export read into one temporary table of text.

Every ingest starts here.  ``_stage`` holds the rows as text, whatever the
format: ``_row`` (the data row in the file, 1-based) and ``c1..cN``, one
column per header.  A plain file is staged by :func:`stage_file`; the events
a preset makes of an export are staged by :func:`stage_frame`, with the rows
of their source files in ``_row``.  Either way the mapping and the loader see
one shape.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from mining.errors import IngestError
from mining.schema import Reject
from mining.store import quote_ident

if TYPE_CHECKING:
    import polars as pl
    import pyarrow as pa

    from mining.store import Store

__all__ = [
    "JOIN",
    "STAGE",
    "Column",
    "StagedTable",
    "drop_stage",
    "drop_staging",
    "frame_from_stage",
    "join_columns",
    "stage_file",
    "stage_frame",
    "stage_table",
]

#: How the values of several columns are joined into one (an activity of code and title, or of
#: activity and lifecycle): pm4py's classifiers join with "+", so both tools name events alike.
JOIN = "+"

#: The temporary table every ingest stages its rows in.
STAGE = "_stage"

# The staged text: the view or table _stage and the tables under it.
_STAGED_TEXT = (STAGE, "_stage_raw", "_stage_base")

# Every temporary table an ingest may leave behind when it fails half-way.
_SCRATCH = (
    STAGE,
    "_stage_raw",
    "_stage_base",
    "_typed",
    "_rejected",
    "_new",
    "_old",
    "_all",
    "_case_no",
    "_sorted",
    "_profile",
    "_tied",
)


@dataclass(frozen=True)
class Column:
    """A staged source column: its internal name and the header as written."""

    internal: str
    label: str


@dataclass(frozen=True)
class StagedTable:
    """What staging put in ``_stage``."""

    columns: tuple[Column, ...]
    rows_read: int
    # Lines the reader could not split into the header's fields (a ragged CSV line).
    rejects: tuple[Reject, ...] = ()
    # Empty or repeated headers, and the names they were given.
    renamed: tuple[str, ...] = ()
    # False when the raw bytes hold no control character, so the loader need not look.
    check_control: bool = True
    # Non-blank lines (rows of a sheet) above the header that were skipped as a report's title.
    preamble: tuple[str, ...] = ()
    # A CSV delimited by semicolons: written where the comma is the decimal sign (Excel in most of
    # Europe), the evidence that settles a cost column's 1.250 when no value does.
    semicolons: bool = False
    # A workbook's sheet that was read, and every sheet with data (said when there are several).
    sheet: str | None = None
    sheets: tuple[str, ...] = ()


def stage_file(
    store: Store,
    path: Path,
    workdir: Path,
    *,
    file: str,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
) -> StagedTable:
    """Read a CSV/TSV, Parquet, XES or XLSX file (gzipped or not) into ``_stage``.

    ``file`` names the file in messages; ``workdir`` takes the decompressed or
    transcoded copies.
    """
    from mining.ingest.sources import decompress_if_gzip, detect_format, workbook_kind, xml_root

    drop_staging(store)
    plain = decompress_if_gzip(path, workdir, display_name=file)
    fmt = detect_format(plain, display_name=file)
    if fmt == "csv":
        from mining.ingest.csv import prepare_csv, stage_csv

        utf8, dialect = prepare_csv(plain, workdir, display_name=file, encoding=encoding, delimiter=delimiter)
        labels, renamed = _unique_labels(list(dialect.header))
        rows, rejects = stage_csv(store, utf8, dialect, STAGE, display_name=file)
        return StagedTable(
            _columns(labels),
            rows,
            tuple(rejects),
            tuple(renamed),
            dialect.control_chars,
            dialect.preamble,
            semicolons=dialect.delimiter == ";",
        )
    if fmt == "parquet":
        described = store.query("DESCRIBE SELECT * FROM read_parquet(?)", [str(plain)]).rows
        _check_width(len(described), file)
        labels, renamed = _unique_labels([str(r[0]) for r in described])
        select = ", ".join(
            f"{_parquet_text(str(r[0]), str(r[1]))} AS c{i}" for i, r in enumerate(described, start=1)
        )
        store.execute(
            f"CREATE TEMP TABLE {STAGE} AS SELECT file_row_number + 1 AS _row, {select} "
            "FROM read_parquet(?, file_row_number = true)",
            [str(plain)],
        )
        rows = int(store.scalar(f"SELECT count(*) FROM {STAGE}"))
        return StagedTable(_columns(labels), rows, renamed=tuple(renamed))
    if fmt == "xes":
        if xml_root(plain, file) == "WorkflowLog":
            from mining.ingest.mxml import read_mxml

            return stage_table(store, read_mxml(plain, display_name=file), file=file)
        from mining.ingest.xes import read_xes

        return stage_table(store, read_xes(plain, display_name=file).table, file=file)  # no title lines
    kind = workbook_kind(plain)
    if kind in ("html", "spreadsheetml"):
        from mining.ingest.markup import read_markup

        read = read_markup(plain, kind, display_name=file, sheet=sheet)
    else:
        from mining.ingest.excel import read_xlsx

        read = read_xlsx(plain, display_name=file, sheet=sheet)
    staged = stage_table(store, read.table, file=file, preamble=read.preamble)
    return replace(staged, sheet=read.sheet, sheets=read.sheets)


def _parquet_text(name: str, kind: str) -> str:
    """SQL for a Parquet column as text.  Hive, Impala and older Spark write strings as bytes without
    saying they are UTF-8: cast, "Prüfung" read as "Pr\\xC3\\xBCfung".  Bytes that are UTF-8 are
    decoded; others (a hash, an image) keep the escaped form."""
    col = quote_ident(name)
    if kind == "BLOB":
        return f"coalesce(try(decode({col})), CAST({col} AS VARCHAR))"
    return f"CAST({col} AS VARCHAR)"


def stage_table(store: Store, table: pa.Table, *, file: str, preamble: tuple[str, ...] = ()) -> StagedTable:
    """Stage an Arrow table of text read from ``file`` (a sheet, an XES log, JSON records) as ``_stage``."""
    drop_staging(store)
    _check_width(table.num_columns, file)
    labels, renamed = _unique_labels([str(n) for n in table.column_names])
    _create_stage(store, table, None)
    return StagedTable(_columns(labels), table.num_rows, renamed=tuple(renamed), preamble=preamble)


def _check_width(columns: int, file: str) -> None:
    from mining.ingest.csv import MAX_COLUMNS

    if columns > MAX_COLUMNS:
        msg = (
            f"{file} has {columns:,} columns; at most {MAX_COLUMNS:,} can be loaded "
            "(the role detection and the checks of every row must stay within memory)"
        )
        raise IngestError(msg, hint="export only the columns the process needs (case, activity, times, ...)")


def stage_frame(store: Store, frame: pl.DataFrame, rows: pl.Series | None = None) -> tuple[Column, ...]:
    """Stage a preset's events as ``_stage``; ``rows`` are their rows in the export (else frame order)."""
    import polars as pl
    import pyarrow as pa

    drop_staging(store)
    table = frame.select(pl.all().cast(pl.Utf8)).to_arrow()
    # polars hands over large_string; the readers' tables are string, and DuckDB gets one type.
    table = pa.table([c.cast(pa.string()) for c in table.columns], names=table.column_names)
    _create_stage(store, table, None if rows is None else rows.cast(pl.Int64).to_arrow())
    return _columns(list(frame.columns))


def frame_from_stage(store: Store, columns: tuple[Column, ...], *, limit: int | None = None) -> pl.DataFrame:
    """``_stage`` as a polars frame of text, columns named by their headers, in file order.

    ``limit`` keeps the rows up to that file row (fewer when lines of the head were rejected).
    """
    import polars as pl

    select = ", ".join(quote_ident(c.internal) for c in columns)
    # A filter on _row, not ORDER BY ... LIMIT: the head of a large file is read
    # without a top-N pass over every row (20 ms against 200+ ms on 561k rows).
    where = f" WHERE _row <= {int(limit)}" if limit is not None else ""
    frame = pl.from_arrow(store.arrow(f"SELECT {select} FROM {STAGE}{where} ORDER BY _row"))
    assert isinstance(frame, pl.DataFrame)
    frame = frame.rename({c.internal: c.label for c in columns})
    return frame.select(pl.all().cast(pl.Utf8))


def join_columns(
    store: Store, columns: tuple[Column, ...], parts: list[Column], *, sep: str = JOIN
) -> Column:
    """Add to ``_stage`` a column joining the values of ``parts`` with ``sep`` (empty parts left out); return it.

    Its label is the parts' labels joined the same way (``activity+lifecycle``),
    made unique.  The parts stay, as attributes unless a role takes them.
    """
    internal = f"c{len(columns) + 1}"
    labels = {c.label for c in columns}
    label = base = JOIN.join(p.label for p in parts)
    k = 2
    while label in labels:
        label = f"{base}_{k}"
        k += 1
    # A view takes no bound values: the separator is one of ours, never the user's.
    assert sep in {JOIN, " "}, sep
    # A blank part counts as absent, like an empty field.
    values = ", ".join(f"nullif(trim({quote_ident(p.internal)}), '')" for p in parts)
    kind = (
        "VIEW"
        if store.scalar("SELECT count(*) FROM duckdb_views() WHERE temporary AND view_name = ?", [STAGE])
        else "TABLE"
    )
    store.execute(f"ALTER {kind} {STAGE} RENAME TO _stage_base")
    store.execute(
        f"CREATE TEMP VIEW {STAGE} AS SELECT *, nullif(concat_ws('{sep}', {values}), '') AS {internal} "
        "FROM _stage_base"
    )
    return Column(internal, label)


def drop_stage(store: Store) -> None:
    """Remove the staged text (``_stage`` and what it is built on) once the rows are typed.

    The text is the largest table of an ingest; freeing it before the sort
    keeps the two from being held at once.
    """
    for (view,) in store.query("SELECT view_name FROM duckdb_views() WHERE temporary").rows:
        if view in _STAGED_TEXT:
            store.execute(f"DROP VIEW {view}")
    for (table,) in store.query("SELECT table_name FROM duckdb_tables() WHERE temporary").rows:
        if table in _STAGED_TEXT:
            store.execute(f"DROP TABLE {table}")


def drop_staging(store: Store) -> None:
    """Remove the temporary tables of an ingest (also after a failed one)."""
    # Views first: _stage may be a view over _stage_raw.
    for (view,) in store.query("SELECT view_name FROM duckdb_views() WHERE temporary").rows:
        if view in _SCRATCH:
            store.execute(f"DROP VIEW {view}")
    for (table,) in store.query("SELECT table_name FROM duckdb_tables() WHERE temporary").rows:
        if table in _SCRATCH:
            store.execute(f"DROP TABLE {table}")


def _columns(labels: list[str]) -> tuple[Column, ...]:
    return tuple(Column(f"c{i}", label) for i, label in enumerate(labels, start=1))


def _create_stage(store: Store, table: pa.Table, rows: pa.Array | None) -> None:
    """``_stage`` from an Arrow table of text: its columns become c1..cN, ``rows`` (else 1..n) ``_row``."""
    import pyarrow as pa

    table = table.rename_columns([f"c{i}" for i in range(1, table.num_columns + 1)])
    # The row number is attached before DuckDB sees the rows, so it is the file
    # order whatever order the scan runs in.
    if rows is None:
        # Built on numpy's buffer: pa.array of a range or a numpy array imports pandas (most of a second).
        import numpy as np

        count = table.num_rows
        numbers = pa.Array.from_buffers(
            pa.int64(), count, [None, pa.py_buffer(np.arange(1, count + 1, dtype=np.int64))]
        )
    else:
        numbers = rows
    table = table.add_column(0, "_row", numbers)
    store.register("_arrow_stage", table)
    try:
        store.execute(f"CREATE TEMP TABLE {STAGE} AS SELECT * FROM _arrow_stage")
    finally:
        store.unregister("_arrow_stage")


def _unique_labels(labels: list[str]) -> tuple[list[str], list[str]]:
    """Headers made unique and non-empty, and a note for each one changed."""
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
