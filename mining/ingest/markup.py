"""Tables written as markup: an HTML page's tables, and the worksheets of an Excel 2003 XML workbook.

Many systems' "Export to Excel" writes no workbook at all.  Jira's Excel
export, and the reports of many web applications, are an HTML page holding a
``<table>``, saved as ``.xls`` so that Excel opens it; older .NET, Oracle and
SharePoint exports write SpreadsheetML, Excel 2003's XML
(``<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">``).  Both
are read here into rows of cells, one "sheet" per table or worksheet, and
:func:`mining.ingest.excel.table_from_sheets` chooses and reads the sheet as
it does a workbook's: the header row, title rows above it, and the sheet with
the most cells unless one is named.

A cell is its text as shown, whitespace runs and line breaks made one space.
A cell spanning columns or rows (``colspan``/``rowspan``, ``ss:MergeAcross``)
gives its value to its first column and row, and leaves the others empty, as
a workbook's merged cells read.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from mining.errors import IngestError
from mining.ingest.excel import ExcelRead, cell_text, table_from_sheets
from mining.ingest.sources import refuse_doctype, safe_iterparse

__all__ = ["html_tables", "read_markup", "spreadsheetml_sheets"]

_SS = "urn:schemas-microsoft-com:office:spreadsheet"
_CHARSET = re.compile(rb"""<meta[^>]*charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
#: A cell spanning more columns than this is a layout artefact, not data (and would allocate them all).
_MAX_SPAN = 1000
_WHOLE = re.compile(r"-?[0-9]+")
#: Excel's last row and column: an ``ss:Index`` beyond them is no position in a sheet.
_ROWS, _COLUMNS = 1_048_576, 16_384

Sheets = list[tuple[str, list[list[Any]]]]


def read_markup(path: Path, kind: str, *, display_name: str, sheet: str | None = None) -> ExcelRead:
    """Read ``kind`` (``"html"`` or ``"spreadsheetml"``) at ``path`` as a workbook's sheet."""
    sheets = html_tables(path, display_name) if kind == "html" else spreadsheetml_sheets(path, display_name)
    if not sheets:
        what = "table (<table>)" if kind == "html" else "worksheet"
        raise IngestError(f"{display_name}: the file holds no {what}; expected the export's table of events")
    return table_from_sheets(sheets, display_name=display_name, sheet=sheet)


# -- HTML ---------------------------------------------------------------------------------------
def html_tables(path: Path, display_name: str) -> Sheets:
    """Every ``<table>`` of the page as rows of cell texts, named by its caption, else its id, else its
    place (``Table 2``).  A table inside another's cell is a table of its own, and its text is also the
    outer cell's."""
    from lxml import etree
    from lxml import html as lxml_html

    text = _html_text(path.read_bytes())
    parser = lxml_html.HTMLParser(no_network=True, remove_comments=True, remove_pis=True)
    try:
        root = lxml_html.document_fromstring(_XML_DECL.sub("", text, count=1) or "<html/>", parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise IngestError(f"{display_name}: the page could not be read as HTML ({exc})") from None
    for br in root.iter("br"):
        br.tail = " " + (br.tail or "")
    sheets: Sheets = []
    names: set[str] = set()
    for number, table in enumerate(root.iter("table"), start=1):
        caption = table.find("caption")
        base = (
            (_clean(caption.text_content()) if caption is not None else None)
            or table.get("id")
            or f"Table {number}"
        )
        name, k = base, 2
        while name in names:
            name, k = f"{base} ({k})", k + 1
        names.add(name)
        sheets.append((name, _html_rows(table)))
    return sheets


def _html_text(data: bytes) -> str:
    """The page as text: by its byte-order mark, else the charset its ``<meta>`` declares, else UTF-8
    when it decodes, else Windows-1252 (what a Western Windows tool writes without saying so)."""
    for bom, encoding in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace")
    declared = _CHARSET.search(data[:4096])
    if declared:
        try:
            return data.decode(declared.group(1).decode("ascii"), errors="replace")
        except LookupError:
            pass  # a charset Python does not know: the guesses below
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _html_rows(table: Any) -> list[list[Any]]:
    rows: list[list[Any]] = []
    pending: dict[int, int] = {}  # column -> rows still covered by a rowspan from above
    for tr in table.xpath("./tr | ./thead/tr | ./tbody/tr | ./tfoot/tr"):
        row: list[Any] = []
        col = 0
        for cell in tr.xpath("./td | ./th"):
            col = _skip_covered(row, pending, col)
            row.append(_clean(cell.text_content()))
            span = _span(cell.get("colspan"))
            down = _span(cell.get("rowspan")) - 1
            for covered in range(col, col + span) if down > 0 else ():
                pending[covered] = down
            row.extend([None] * (span - 1))
            col += span
        _skip_covered(row, pending, col, to_end=True)
        rows.append(row)
    return rows


def _skip_covered(row: list[Any], pending: dict[int, int], col: int, *, to_end: bool = False) -> int:
    """Leave empty the columns a cell above still covers (its ``rowspan``), from ``col`` on."""
    while col in pending or (to_end and any(c >= col for c in pending)):
        if col in pending:
            pending[col] -= 1
            if pending[col] == 0:
                del pending[col]
        row.append(None)
        col += 1
    return col


def _span(value: str | None) -> int:
    try:
        return min(max(int(str(value).strip()), 1), _MAX_SPAN)
    except (TypeError, ValueError):
        return 1


def _clean(text: str | None) -> str | None:
    cleaned = " ".join((text or "").split())
    return cleaned or None


# -- Excel 2003 XML -----------------------------------------------------------------------------
def spreadsheetml_sheets(path: Path, display_name: str) -> Sheets:
    """Every ``<Worksheet>`` of an Excel 2003 XML workbook as rows of cells, typed by ``ss:Type``."""
    from lxml import etree

    refuse_doctype(path, display_name=display_name)
    sheets: Sheets = []
    try:
        for _, worksheet in safe_iterparse(path, tag=(f"{{{_SS}}}Worksheet",)):
            name = worksheet.get(f"{{{_SS}}}Name") or f"Sheet{len(sheets) + 1}"
            table = worksheet.find(f"{{{_SS}}}Table")
            sheets.append((name, [] if table is None else _ss_rows(table, display_name, name)))
            worksheet.clear()
    except etree.XMLSyntaxError as exc:
        raise IngestError(f"{display_name}: the Excel 2003 XML is damaged ({exc})") from None
    return sheets


def _ss_rows(table: Any, display_name: str, sheet: str) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for row in table.iterfind(f"{{{_SS}}}Row"):
        at = _index(row, display_name, sheet, _ROWS)
        if at is not None:
            rows.extend([] for _ in range(at - 1 - len(rows)))
        cells: list[Any] = []
        for cell in row.iterfind(f"{{{_SS}}}Cell"):
            col = _index(cell, display_name, sheet, _COLUMNS)
            if col is not None:
                cells.extend([None] * (col - 1 - len(cells)))
            data = cell.find("{*}Data")  # under another default namespace too, as hand-made files write it
            cells.append(None if data is None else _ss_value(data))
            cells.extend([None] * _span_across(cell.get(f"{{{_SS}}}MergeAcross")))
        rows.append(cells)
    return rows


def _index(elem: Any, display_name: str, sheet: str, last: int) -> int | None:
    """A row's or cell's ``ss:Index`` (1-based; it skips the rows or cells left out before it)."""
    raw = elem.get(f"{{{_SS}}}Index")
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= last:
        what = "row" if last == _ROWS else "cell"
        msg = f"{display_name}: the sheet {sheet!r} has a {what} at index {raw!r}; expected 1 to {last:,}"
        raise IngestError(msg)
    return value


def _span_across(raw: str | None) -> int:
    return _span(raw) if raw is not None and raw.strip() not in ("", "0") else 0


def _ss_value(data: Any) -> Any:
    """A ``<Data>`` cell as the value :func:`~mining.ingest.excel.cell_text` writes as a workbook's."""
    text = "".join(data.itertext())
    kind = data.get(f"{{{_SS}}}Type")
    if kind == "Number":
        if _WHOLE.fullmatch(text.strip()):
            return text.strip()  # an id such as 4500001234567890123 stays exact (a float would round it)
        try:
            return float(text)
        except ValueError:
            return text
    if kind == "Boolean":
        return text.strip() in ("1", "true", "TRUE")
    if kind == "DateTime":
        try:
            value = dt.datetime.fromisoformat(text.strip())
        except ValueError:
            return text
        # Excel writes a time of day as that time on its day zero.
        return value.time() if value.date() == dt.date(1899, 12, 31) else value
    return cell_text(text) if text.strip() else None
