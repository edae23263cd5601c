"""Read one sheet of an .xlsx workbook into an all-string Arrow table.

``python-calamine`` reads the cached cell values and never evaluates formulas,
so a formula cell gives the value Excel last computed.  Every cell becomes
text here: ids such as ``00123`` stay as typed, whole numbers lose Excel's
``.0``, dates and times become ISO strings.  Typing belongs to the importer.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import python_calamine as calamine

from mining.errors import EmptyLog, IngestError
from mining.ingest.sources import check_zip_expansion

__all__ = ["ExcelRead", "cell_text", "read_xlsx"]


@dataclass(frozen=True)
class ExcelRead:
    """The rows of the sheet read, which sheet that was, and every visible sheet that has data."""

    table: pa.Table
    sheet: str
    sheets: tuple[str, ...]


def read_xlsx(path: Path, *, display_name: str, sheet: str | None = None) -> ExcelRead:
    """Read ``sheet`` (default: the first visible sheet with data) of the workbook at ``path``.

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
    check_zip_expansion(path, display_name=display_name)
    try:
        workbook = calamine.CalamineWorkbook.from_path(str(path))
    except calamine.PasswordError:
        raise IngestError(
            f"{display_name}: the workbook is password-protected; expected an unprotected .xlsx",
            hint="Save a copy without a password, or export the sheet as CSV.",
        ) from None
    except (calamine.CalamineError, OSError, ValueError) as exc:
        raise IngestError(f"{display_name}: could not be opened as an Excel .xlsx workbook ({exc})") from None
    try:
        return _read(workbook, display_name, sheet)
    finally:
        workbook.close()


def _read(workbook: calamine.CalamineWorkbook, name: str, wanted: str | None) -> ExcelRead:
    visible = [m.name for m in workbook.sheets_metadata if m.visible == calamine.SheetVisibleEnum.Visible]
    with_data: list[str] = []
    loaded: dict[str, calamine.CalamineSheet] = {}  # only the sheet that will be read is kept
    for sheet_name in visible:
        data = _sheet(workbook, name, sheet_name)
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
        available = ", ".join(repr(s) for s in with_data or visible) or "none"
        raise IngestError(f"{name}: there is no sheet named {wanted!r}; available sheets: {available}")

    data = loaded[chosen] if chosen in loaded else _sheet(workbook, name, chosen)
    return ExcelRead(table=_table(data.to_python(), name, chosen), sheet=chosen, sheets=tuple(with_data))


def _sheet(workbook: calamine.CalamineWorkbook, name: str, sheet: str) -> calamine.CalamineSheet:
    try:
        return workbook.get_sheet_by_name(sheet)
    except (calamine.CalamineError, ValueError) as exc:
        raise IngestError(f"{name}: the sheet {sheet!r} could not be read ({exc})") from None


def _has_data(data: calamine.CalamineSheet) -> bool:
    if data.height == 0 or data.width == 0:
        return False
    return any(_present(cell) for row in data.iter_rows() for cell in row)


def _present(cell: Any) -> bool:
    return cell is not None and cell != ""


def _table(rows: list[list[Any]], name: str, sheet: str) -> pa.Table:
    rows_iter = iter(rows)
    header: list[Any] | None = None
    for row in rows_iter:
        if any(_present(c) for c in row):
            header = row
            break
    if header is None:
        raise EmptyLog(f"{name}: the sheet {sheet!r} is empty")

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
    return pa.table(
        [pa.array(columns[i], type=pa.string()) for i in keep],
        names=[names[i] for i in keep],
    )


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
