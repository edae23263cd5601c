"""Tables written for spreadsheets: CSV and XLSX, with text never run as a formula.

Exports (rejected rows, deviating cases, rule violations) hold values that came
from someone else's system.  A spreadsheet runs a cell that starts with ``=``,
``+``, ``-`` or ``@`` as a formula (CSV injection), so every text cell written
here is neutralised the same way, and XLSX cells are written as typed strings
and numbers, never parsed.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from pathlib import Path

from mining.errors import MiningError, OutputError

__all__ = ["TABLE_SUFFIXES", "csv_bytes", "read_small_csv", "safe_cell", "write_table", "xlsx_bytes"]

TABLE_SUFFIXES = (".csv", ".xlsx")
_FORMULA_STARTS = frozenset("=+-@\t\r")


def safe_cell(value: object) -> object:
    """``value``, or text that a spreadsheet would run as a formula with a leading ``'``.

    Examples
    --------
    >>> safe_cell("=HYPERLINK(1)"), safe_cell("-3"), safe_cell(-3), safe_cell("ok")
    ("'=HYPERLINK(1)", "'-3", -3, 'ok')
    """
    if isinstance(value, str) and value[:1] in _FORMULA_STARTS:
        return "'" + value
    return value


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """The table as UTF-8 CSV bytes (for a download button)."""
    buffer = io.StringIO(newline="")
    _write_csv(buffer, header, rows)
    return buffer.getvalue().encode("utf-8")


def xlsx_bytes(header: Sequence[str], rows: Iterable[Sequence[object]], *, sheet: str = "data") -> bytes:
    """The table as an XLSX workbook's bytes (for a download button)."""
    buffer = io.BytesIO()
    _write_xlsx(buffer, header, rows, sheet)
    return buffer.getvalue()


def write_table(
    path: str | Path,
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    sheet: str = "data",
    error: type[MiningError] = OutputError,
) -> int:
    """Write ``rows`` under ``header`` to a ``.csv`` or ``.xlsx`` file (by its suffix); return the row count.

    A suffix we do not write, or a file that cannot be written, raises ``error``.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        msg = f"cannot write a table to {path.name!r}: expected a .csv or .xlsx file"
        raise error(msg)
    counted = _Counted(rows)
    try:
        if suffix == ".csv":
            with path.open("w", encoding="utf-8", newline="") as fh:
                _write_csv(fh, header, counted)
        else:
            with path.open("wb") as fh:
                _write_xlsx(fh, header, counted, sheet)
    except OSError as exc:
        msg = f"cannot write {path}: {exc.strerror or exc}"
        raise error(msg) from exc
    return counted.n


def read_small_csv(
    data: bytes | str, *, source: str, error: type[MiningError] = MiningError
) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """The header and rows of a small CSV a person wrote (a rate card, a list): text cells, stripped.

    Comma- or semicolon-separated (whichever the header uses), UTF-8 with or
    without a byte-order mark.  Blank rows are skipped; a row with more cells
    than the header raises ``error`` naming ``source`` and the row (the header
    is row 1, as a spreadsheet counts).  Event logs are not read here: they go
    through :mod:`mining.ingest`, which streams.
    """
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            msg = f"{source}: not UTF-8 text (byte {exc.start + 1}); save the file as CSV UTF-8"
            raise error(msg) from None
    lines = data.splitlines()
    first = next((line for line in lines if line.strip()), "")
    delimiter = ";" if first.count(";") > first.count(",") else ","
    rows = [tuple(cell.strip() for cell in row) for row in csv.reader(lines, delimiter=delimiter)]
    numbered = [(i, row) for i, row in enumerate(rows, start=1) if any(row)]
    if not numbered:
        msg = f"{source}: the file is empty; expected a header row and rows under it"
        raise error(msg)
    (_, header), body = numbered[0], numbered[1:]
    out = []
    for i, row in body:
        if len(row) > len(header) and any(row[len(header) :]):
            msg = f"{source}, row {i}: {len(row)} cells under a header of {len(header)} columns"
            raise error(msg)
        out.append(tuple(row[: len(header)]) + ("",) * (len(header) - len(row)))
    return header, out


class _Counted:
    def __init__(self, rows: Iterable[Sequence[object]]) -> None:
        self.rows, self.n = rows, 0

    def __iter__(self):  # type: ignore[no-untyped-def]
        for row in self.rows:
            self.n += 1
            yield row


def _write_csv(fh: io.TextIOBase, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    writer = csv.writer(fh)  # type: ignore[arg-type]
    writer.writerow([safe_cell(h) for h in header])
    writer.writerows([safe_cell("" if v is None else v) for v in row] for row in rows)


def _write_xlsx(fh: object, header: Sequence[str], rows: Iterable[Sequence[object]], sheet_name: str) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(
        fh,
        {
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "in_memory": True,
        },
    )
    sheet = book.add_worksheet(sheet_name[:31])
    for col, name in enumerate(header):
        sheet.write_string(0, col, str(safe_cell(name)))
    for r, row in enumerate(rows, start=1):
        for col, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                sheet.write_string(r, col, str(safe_cell(str(value))))
            elif math.isfinite(value):
                sheet.write_number(r, col, value)
    book.close()
