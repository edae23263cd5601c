"""Read one sheet of an .xlsx workbook (an old binary .xls, an OpenDocument .ods) into an all-string Arrow table.

``python-calamine`` reads the cached cell values and never evaluates formulas,
so a formula cell gives the value Excel last computed.  Every cell becomes
text here: ids such as ``00123`` stay as typed, whole numbers lose Excel's
``.0``, dates and times become ISO strings.  Typing belongs to the importer.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import python_calamine as calamine
from lxml import etree

from mining.errors import EmptyLog, IngestError
from mining.ingest.csv import MAX_COLUMNS
from mining.ingest.sources import check_zip_expansion, workbook_kind

__all__ = [
    "MAX_CELLS",
    "TITLE_ROWS",
    "ExcelRead",
    "SheetExtent",
    "cell_text",
    "read_xlsx",
    "sheet_extents",
    "table_from_sheets",
]

#: Single-value rows above a sheet's header skipped as its title (more: the first row is the header).
TITLE_ROWS = 20
#: Cells (rows x columns of the used range) a sheet may span: a reader holds them all at once.
MAX_CELLS = 10_000_000


@dataclass(frozen=True)
class ExcelRead:
    """The rows of the sheet read, which sheet that was, and every visible sheet that has data."""

    table: pa.Table
    sheet: str
    sheets: tuple[str, ...]
    # Title rows above the header (a report's name, its date), skipped, as their text.
    preamble: tuple[str, ...] = ()


def read_xlsx(path: Path, *, display_name: str, sheet: str | None = None) -> ExcelRead:
    """Read ``sheet`` (default: the visible sheet with data that has the most cells) of the workbook at ``path``.

    The first non-empty row is the header.  Blank header cells become
    ``column_<n>`` (``n`` counts from 1 at the first used column), repeated
    headers get ``_2``, ``_3`` suffixes, and rows with no value at all are
    skipped.  Cells are converted by :func:`cell_text`.

    Raises
    ------
    IngestError
        The workbook cannot be opened, or ``sheet`` is not in it (the message lists the sheets).
    EmptyLog
        No visible sheet has data, or the chosen sheet is empty.
    UnsafeInput
        The workbook's parts declare a bomb-like expansion.
    """
    path = Path(path)
    # An old binary .xls is no ZIP; calamine reads it, and an OpenDocument .ods, too.  Neither has the
    # parts sheet_extents measures: their sheets are checked once loaded.
    kind = workbook_kind(path)
    if kind != "xls":
        check_zip_expansion(path, display_name=display_name)
    try:
        workbook = calamine.CalamineWorkbook.from_path(str(path))
    except calamine.PasswordError:
        raise IngestError(
            f"{display_name}: the workbook is password-protected; expected an unprotected workbook",
            hint="Save a copy without a password, or export the sheet as CSV.",
        ) from None
    except (calamine.CalamineError, OSError, ValueError) as exc:
        what = {
            "xls": "an Excel .xls (97-2003)",
            "xlsb": "an Excel .xlsb (binary)",
            "ods": "an OpenDocument .ods",
        }.get(kind, "an Excel .xlsx")
        raise IngestError(f"{display_name}: could not be opened as {what} workbook ({exc})") from None
    try:
        return _read(workbook, path, display_name, sheet)
    finally:
        workbook.close()


def _read(workbook: calamine.CalamineWorkbook, path: Path, name: str, wanted: str | None) -> ExcelRead:
    visible = [m.name for m in workbook.sheets_metadata if m.visible == calamine.SheetVisibleEnum.Visible]
    extents = sheet_extents(path, display_name=name)
    with_data: list[str] = []
    loaded: dict[str, calamine.CalamineSheet] = {}  # only the sheet that will be read is kept
    # The sheet with the most cells first: a report's workbook opens with a summary of the data that
    # fills another sheet.  Listed in the workbook's order all the same.
    first: dict[str, calamine.CalamineSheet] = {}
    if extents:
        ranked = sorted(visible, key=lambda s: -(extents[s].cells if s in extents else 0))
    else:
        # An .xls or .ods has no parts to measure: its sheets are loaded to be ranked (the loop below
        # loads every sheet anyway, to see which have data).
        first = {s: _sheet(workbook, name, s) for s in visible}
        ranked = sorted(visible, key=lambda s: -(first[s].height * first[s].width))
    for sheet_name in ranked:
        try:
            _check_extent(extents.get(sheet_name), sheet_name, name)
        except IngestError:
            if sheet_name == wanted or (wanted is None and not loaded):
                raise
            with_data.append(sheet_name)  # another sheet is read: this one is only listed, never loaded
            continue
        data = first.pop(sheet_name, None) or _sheet(workbook, name, sheet_name)
        if _has_data(data):
            with_data.append(sheet_name)
            if sheet_name == wanted or (wanted is None and not loaded):
                loaded[sheet_name] = data
    if wanted is None:
        if not with_data:
            hidden = [s for s in workbook.sheet_names if s not in visible]
            extra = f" (hidden sheets, not read: {', '.join(map(repr, hidden))})" if hidden else ""
            raise EmptyLog(f"{name}: no visible sheet has any data{extra}")
        chosen = with_data[0]
    elif wanted in workbook.sheet_names:
        chosen = wanted  # named explicitly, so read even if hidden or empty
    else:
        available = ", ".join(repr(s) for s in sorted(with_data, key=visible.index) or visible) or "none"
        raise IngestError(f"{name}: there is no sheet named {wanted!r}; available sheets: {available}")

    if chosen not in loaded:
        _check_extent(extents.get(chosen), chosen, name)
    data = loaded[chosen] if chosen in loaded else _sheet(workbook, name, chosen)
    table, preamble = _table(data.iter_rows(), name, chosen)
    return ExcelRead(
        table=table, sheet=chosen, sheets=tuple(sorted(with_data, key=visible.index)), preamble=preamble
    )


@dataclass(frozen=True)
class SheetExtent:
    """Where a sheet's cells lie, read from its XML before any reader allocates the rectangle."""

    declared: str | None  # the sheet's own <dimension ref="A1:D20">, when it has one
    first_row: int
    first_column: int
    last_row: int
    last_column: int
    cells: int  # cells written in the file (with a value or only a style)

    @property
    def area(self) -> int:
        if self.cells == 0:
            return 0
        return (self.last_row - self.first_row + 1) * (self.last_column - self.first_column + 1)

    @property
    def columns(self) -> int:
        return 0 if self.cells == 0 else self.last_column - self.first_column + 1

    def ref(self) -> str:
        return f"{_column_name(self.first_column)}{self.first_row}:{_column_name(self.last_column)}{self.last_row}"


_CELL_REF = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c\b[^>]*?\sr=\"([A-Z]{1,3})([0-9]{1,7})\"")
_DIMENSION = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?dimension\b[^>]*?\sref=\"([A-Z0-9:]{1,32})\"")
_SCAN_CHUNK = 4 << 20


def sheet_extents(path: Path, *, display_name: str) -> dict[str, SheetExtent]:
    """Each sheet's used range and cell count, by streaming its XML part (memory stays at a few MiB).

    A reader such as calamine allocates the whole rectangle from the first to
    the last cell, so one stray cell at ``XFD1048576`` asks for 17 billion
    cells; this looks first.  A workbook whose parts cannot be found is left
    to the reader's own error (an empty mapping).
    """
    try:
        with zipfile.ZipFile(path) as z:
            parts = _sheet_parts(z)
            return {sheet: _extent(z, part) for sheet, part in parts.items() if part in z.namelist()}
    except (zipfile.BadZipFile, OSError, KeyError, etree.XMLSyntaxError, zlib.error, EOFError):
        return {}


def _sheet_parts(z: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> the ZIP member holding its cells, from xl/workbook.xml and its relationships."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    names = z.namelist()
    if "xl/workbook.xml" not in names or "xl/_rels/workbook.xml.rels" not in names:
        return {}
    book = etree.fromstring(z.read("xl/workbook.xml"), parser)
    rels = etree.fromstring(z.read("xl/_rels/workbook.xml.rels"), parser)
    targets = {r.get("Id"): r.get("Target") or "" for r in rels if r.get("Id")}
    out: dict[str, str] = {}
    for sheet in book.iter("{*}sheet"):
        rid = next((v for k, v in sheet.attrib.items() if k.endswith("}id")), None)
        target = targets.get(rid, "")
        if not target:
            continue
        out[sheet.get("name") or ""] = target.lstrip("/") if target.startswith("/") else "xl/" + target
    return out


def _extent(z: zipfile.ZipFile, part: str) -> SheetExtent:
    declared = None
    cells = 0
    first_row = first_col = last_row = last_col = 0
    tail = b""
    with z.open(part) as fh:
        while True:
            chunk = fh.read(_SCAN_CHUNK)
            data = tail + chunk
            if declared is None and (found := _DIMENSION.search(data)):
                declared = found.group(1).decode()
            # A cell reference cut by the chunk boundary is read whole with the next chunk.
            cut = data.rfind(b"<", max(0, len(data) - 256)) if chunk else -1
            body, tail = (data[:cut], data[cut:]) if cut > 0 else (data, b"")
            for m in _CELL_REF.finditer(body):
                row, col = int(m.group(2)), _column_number(m.group(1))
                if cells == 0:
                    first_row = last_row = row
                    first_col = last_col = col
                else:
                    first_row, last_row = min(first_row, row), max(last_row, row)
                    first_col, last_col = min(first_col, col), max(last_col, col)
                cells += 1
            if not chunk:
                break
    return SheetExtent(declared, first_row, first_col, last_row, last_col, cells)


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n


def _column_name(number: int) -> str:
    out = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        out = chr(65 + rest) + out
    return out or "A"


def _check_extent(extent: SheetExtent | None, sheet: str, name: str) -> None:
    """Refuse a sheet whose rectangle no reader should allocate, naming where its cells lie."""
    if extent is None:
        return
    if (extent.area > MAX_CELLS or extent.columns > MAX_COLUMNS) and extent.cells * 100 < extent.area:
        msg = (
            f"{name}: the sheet {sheet!r} spans {extent.ref()} ({extent.area:,} cells) but holds only "
            f"{extent.cells:,} cells: a stray cell far from the data makes the range absurd; refused before "
            "reading it"
        )
        hint = "delete the far-away cells (Ctrl+End in Excel jumps to the last one), or copy the data to a new sheet"
        raise IngestError(msg, hint=hint)
    if extent.columns > MAX_COLUMNS:
        msg = (
            f"{name}: the sheet {sheet!r} spans {extent.columns:,} columns ({extent.ref()}); at most "
            f"{MAX_COLUMNS:,} can be loaded"
        )
        raise IngestError(msg, hint="delete the columns the process does not need, or save the sheet as CSV")
    if extent.area <= MAX_CELLS:
        return
    msg = (
        f"{name}: the sheet {sheet!r} spans {extent.ref()} ({extent.area:,} cells); at most {MAX_CELLS:,} "
        "cells can be read from a workbook"
    )
    raise IngestError(msg, hint="save the sheet as CSV, which has no such limit, and load that file")


def _sheet(workbook: calamine.CalamineWorkbook, name: str, sheet: str) -> calamine.CalamineSheet:
    try:
        data = workbook.get_sheet_by_name(sheet)
    except (calamine.CalamineError, ValueError) as exc:
        raise IngestError(f"{name}: the sheet {sheet!r} could not be read ({exc})") from None
    # An .xls or .ods has no XML measured first (calamine itself refuses more than 100M cells): its
    # loaded range is checked.
    if data.height * data.width > MAX_CELLS:
        msg = (
            f"{name}: the sheet {sheet!r} spans {data.height:,} rows and {data.width:,} columns "
            f"({data.height * data.width:,} cells); at most {MAX_CELLS:,} cells can be read from a workbook"
        )
        raise IngestError(msg, hint="save the sheet as CSV, which has no such limit, and load that file")
    return data


def table_from_sheets(
    sheets: Sequence[tuple[str, Sequence[Sequence[Any]]]], *, display_name: str, sheet: str | None = None
) -> ExcelRead:
    """:func:`read_xlsx`'s choice and reading, for sheets already read as rows of cells (an HTML page's
    tables, an Excel 2003 XML workbook's worksheets): ``sheet``, else the one with the most cells."""
    with_data = [(n, rows) for n, rows in sheets if any(_present(c) for row in rows for c in row)]
    if sheet is None:
        if not with_data:
            raise EmptyLog(f"{display_name}: no table in the file has any data")
        cells = {n: sum(1 for row in rows for c in row if _present(c)) for n, rows in with_data}
        chosen = max(with_data, key=lambda item: cells[item[0]])
    else:
        chosen = next(((n, rows) for n, rows in sheets if n == sheet), None)  # type: ignore[assignment]
        if chosen is None:
            available = ", ".join(repr(n) for n, _ in with_data) or "none"
            raise IngestError(
                f"{display_name}: there is no sheet named {sheet!r}; available sheets: {available}"
            )
    table, preamble = _table((list(r) for r in chosen[1]), display_name, chosen[0])
    return ExcelRead(table=table, sheet=chosen[0], sheets=tuple(n for n, _ in with_data), preamble=preamble)


def _has_data(data: calamine.CalamineSheet) -> bool:
    if data.height == 0 or data.width == 0:
        return False
    return any(_present(cell) for row in data.iter_rows() for cell in row)


def _present(cell: Any) -> bool:
    return cell is not None and cell != ""


def _table(rows: Iterable[list[Any]], name: str, sheet: str) -> tuple[pa.Table, tuple[str, ...]]:
    """The sheet's table and the title rows skipped above its header."""
    rows_iter = iter(rows)
    header, above = _header_row(rows_iter)
    if header is None:
        if not above:
            raise EmptyLog(f"{name}: the sheet {sheet!r} is empty")
        # No row with two values: the first non-empty row is the header, as it always was.
        header, rest = above[0], above[1:]
        rows_iter = itertools.chain(rest, rows_iter)
        above = []
    titles = tuple(" ".join(t for c in row if (t := cell_text(c)))[:200] for row in above)

    width = len(header)
    columns: list[list[str | None]] = [[] for _ in range(width)]
    for row in rows_iter:
        texts = [cell_text(c) for c in row]
        if all(t is None for t in texts):
            continue
        for i in range(width):
            columns[i].append(texts[i] if i < len(texts) else None)

    names = _header_names([cell_text(c) for c in header])
    keep = [i for i in range(width) if header[i] not in (None, "") or any(v is not None for v in columns[i])]
    table = pa.table(
        [pa.array(columns[i], type=pa.string()) for i in keep],
        names=[names[i] for i in keep],
    )
    return table, titles


def _header_row(rows: Iterator[list[Any]]) -> tuple[list[Any] | None, list[list[Any]]]:
    """The header row and the non-empty rows above it.

    The header is the first row with two values or more: a report saved from a spreadsheet often puts
    its title, and its date, in single cells above the table.  After :data:`TITLE_ROWS` such rows, or
    when no row has two values, the header is not found here (``None``) and the rows read are returned.
    """
    above: list[list[Any]] = []
    for row in rows:
        present = sum(1 for c in row if _present(c))
        if present >= 2:
            return row, above
        if present:
            above.append(row)
            if len(above) > TITLE_ROWS:
                break
    return None, above


def _header_names(cells: list[str | None]) -> list[str]:
    """Blank cells become ``column_<n>``; repeats get ``_2``, ``_3`` (never clashing with a name in use)."""
    names: list[str] = []
    seen: set[str] = set()
    for n, cell in enumerate(cells, start=1):
        base = cell if cell is not None and cell.strip() else f"column_{n}"
        label, k = base, 2
        while label in seen:
            label = f"{base}_{k}"
            k += 1
        seen.add(label)
        names.append(label)
    return names


def cell_text(value: Any) -> str | None:
    """One cell as text: ``123.0`` → ``"123"``, dates ISO, booleans ``"true"``/``"false"``, empty → ``None``.

    Examples
    --------
    >>> cell_text(123.0), cell_text(0.5), cell_text(True), cell_text("00123")
    ('123', '0.5', 'true', '00123')
    >>> cell_text(dt.datetime(2024, 3, 1, 13, 45, 7)), cell_text(dt.date(2024, 3, 1))
    ('2024-03-01 13:45:07', '2024-03-01')
    """
    if value is None:
        return None
    kind = type(value)
    if kind is str:
        return value if value != "" else None
    if kind is float:
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        return repr(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is dt.datetime:
        return value.isoformat(sep=" ", timespec="microseconds" if value.microsecond else "seconds")
    if kind is dt.date:
        return value.isoformat()
    if kind is dt.time:
        return value.isoformat(timespec="microseconds" if value.microsecond else "seconds")
    if kind is dt.timedelta:
        return _duration(value)
    return str(value)


def _duration(value: dt.timedelta) -> str:
    """Durations as Excel shows ``[h]:mm:ss``: total hours, so 30 hours is ``30:00:00``."""
    sign = "-" if value < dt.timedelta(0) else ""
    value = abs(value)
    seconds = value.days * 86400 + value.seconds
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{sign}{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{text}.{value.microseconds:06d}" if value.microseconds else text
