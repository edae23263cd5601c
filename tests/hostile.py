"""Hostile inputs, generated where they are needed (never committed): the tests and bench/isolation.py use them.

* :func:`far_cell_xlsx`: a 1.4 KB workbook whose sheet declares the used range
  ``A1:XFD1048576`` and holds one cell there.  A reader that allocates the
  rectangle (16,384 x 1,048,576 cells) needs hundreds of gigabytes and aborts
  the process it runs in; this file once took the whole app server down.
* :func:`wide_csv`: thousands of columns in a file of about a megabyte.
* :func:`long_csv`: a valid event log of ``rows`` rows, for a memory limit to refuse.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

__all__ = ["far_cell_xlsx", "long_csv", "wide_csv"]

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="events" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/></Relationships>'
)
_SHEET = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<dimension ref="A1:XFD1048576"/><sheetData>'
    '<row r="1"><c r="A1" t="inlineStr"><is><t>case_id</t></is></c></row>'
    '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    "</sheetData></worksheet>"
)


def far_cell_xlsx(path: Path) -> Path:
    """Write the workbook whose one sheet reaches XFD1048576 (see the module's notes); return ``path``."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        z.writestr("xl/worksheets/sheet1.xml", _SHEET)
    return path


def wide_csv(path: Path, *, columns: int = 3000, rows: int = 130) -> Path:
    """An event log with ``columns - 3`` extra attribute columns: about 1.2 MB at the defaults."""
    extra = [f"attr_{i}" for i in range(columns - 3)]
    lines = [",".join(["case_id", "activity", "timestamp", *extra])]
    for r in range(rows):
        stamp = f"2024-01-{1 + r % 28:02d}T{r % 24:02d}:00:00Z"
        lines.append(
            ",".join(
                [f"c{r // 4}", f"step {r % 4}", stamp, *(str((r * 7 + i) % 10) for i in range(len(extra)))]
            )
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def long_csv(path: Path, *, rows: int) -> Path:
    """A plain, valid event log of ``rows`` rows (8 events per case, one a minute)."""
    with path.open("w", encoding="utf-8") as fh:
        fh.write("case_id,activity,timestamp,resource\n")
        for i in range(rows):
            minute = i % 60
            hour = (i // 60) % 24
            day = 1 + (i // 1440) % 28
            fh.write(f"C{i // 8:08d},step {i % 8},2024-02-{day:02d}T{hour:02d}:{minute:02d}:00Z,r{i % 17}\n")
    return path
