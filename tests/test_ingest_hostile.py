"""Hostile and extreme files: each is refused with a clear answer, or loads safely; none crashes.

Every input is generated here (none is committed): binary files renamed
``.csv``, fields and lines longer than the parsers' buffers, headers of
thousands of columns, spreadsheets whose used range is absurd.  Each test
checks the exact outcome: the error class and its message, or the counts,
the rejects with their rows, and the stored values.
"""

from __future__ import annotations

import gzip
import io
import zipfile

import pytest

from mining.errors import IngestError, UnknownFormat
from mining.ingest import IngestOptions, ingest_file
from mining.ingest.csv import MAX_COLUMNS
from mining.store import Store


@pytest.fixture
def store():
    with Store() as s:
        yield s


def rows(n: int) -> str:
    return "".join(f"c{i // 3},A{i % 3},2024-01-01 1{i % 3}:00:00\n" for i in range(n))


# --------------------------------------------------------------------------- not a text table

_PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
_PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + bytes(range(256)) * 4
_JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4
_SEVEN_ZIP = b"7z\xbc\xaf\x27\x1c\x00\x04" + bytes(range(256)) * 4
_ELF = b"\x7fELF\x02\x01\x01" + bytes(64) + bytes(range(256)) * 4
_SQLITE = b"SQLite format 3\x00" + bytes(4096)


def _tar() -> bytes:
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        data = b"case,activity,timestamp\n"
        info = tarfile.TarInfo("log.csv")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _random() -> bytes:
    import random

    return random.Random(7).randbytes(8192)


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        pytest.param(_PDF, "a PDF document", id="pdf"),
        pytest.param(_PNG, "a PNG image", id="png"),
        pytest.param(_JPEG, "a JPEG image", id="jpeg"),
        pytest.param(_SEVEN_ZIP, "a 7-Zip archive", id="7z"),
        pytest.param(_ELF, "a program (ELF executable)", id="elf"),
        pytest.param(_SQLITE, "an SQLite database", id="sqlite"),
        pytest.param(_tar(), "a tar archive", id="tar"),
        pytest.param(_random(), "binary data (not text in any encoding)", id="random-bytes"),
    ],
)
@pytest.mark.parametrize("encoding", [None, "cp1252", "utf-16-le", "latin-1"])
def test_binary_renamed_csv_is_not_a_text_table_whatever_the_encoding(
    store, tmp_path, content, kind, encoding
):
    path = tmp_path / "export.csv"
    path.write_bytes(content)
    with pytest.raises(UnknownFormat) as info:
        ingest_file(store, path, IngestOptions(encoding=encoding))
    assert str(info.value) == f"export.csv is not a text table: it is {kind}, whatever its name says"
    assert "CSV, Excel .xlsx, Parquet or XES" in info.value.hint
    assert store.scalar("SELECT count(*) FROM logs") == 0


@pytest.mark.parametrize("name", ["export.json", "export.jsonl", "log.jsonocel", "export.json.gz"])
@pytest.mark.parametrize(("content", "kind"), [(_PDF, "a PDF document"), (_PNG, "a PNG image")])
def test_binary_renamed_json_is_named_by_what_it_is(store, tmp_path, name, content, kind):
    # Before: "export.json line 2: bytes that are not UTF-8 (at byte 10)", about a PDF.
    path = tmp_path / name
    path.write_bytes(gzip.compress(content) if name.endswith(".gz") else content)
    with pytest.raises(UnknownFormat) as info:
        ingest_file(store, path)
    assert str(info.value) == f"{name} is not a JSON document: it is {kind}, whatever its name says"
    assert store.scalar("SELECT count(*) FROM logs") == 0


def test_gzipped_binary_is_named_after_decompression(store, tmp_path):
    path = tmp_path / "export.csv.gz"
    path.write_bytes(gzip.compress(_PDF))
    with pytest.raises(UnknownFormat, match=r"^export\.csv\.gz is not a text table: it is a PDF document"):
        ingest_file(store, path)


def test_zip_renamed_csv_is_named_as_an_archive(store, tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("notes.txt", "hello")
    path = tmp_path / "export.csv"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(IngestError, match=r"^export\.csv: no preset recognises this export"):
        ingest_file(store, path)


# --------------------------------------------------------------------------- long fields and lines


def test_a_field_longer_than_the_sniffers_limit_loads(store, tmp_path):
    # 200 KiB: beyond Python's csv field limit (128 KiB), which used to crash the sniffing.
    path = tmp_path / "long_field.csv"
    big = "x" * (200 << 10)
    path.write_text(
        "case,activity,timestamp,comment\n"
        + f"c0,A0,2024-01-01 10:00:00,{big}\n"
        + "".join(line + ",ok\n" for line in rows(9).splitlines()[1:])
    )
    s = ingest_file(store, path)
    assert (s.cases, s.events, s.rejected_rows) == (3, 9, 0)
    assert store.scalar("SELECT max(length(a1)) FROM attrs_1") == 200 << 10


def test_a_quoted_field_longer_than_the_sniff_window_loads(store, tmp_path):
    path = tmp_path / "long_quoted.csv"
    big = '"' + "y," * (150 << 10) + '"'
    path.write_text(
        "case,activity,timestamp,comment\n"
        + f"c0,A0,2024-01-01 10:00:00,{big}\n"
        + "c0,A1,2024-01-01 11:00:00,ok\n"
    )
    s = ingest_file(store, path)
    assert (s.events, s.rejected_rows) == (2, 0)


def test_a_field_beyond_duckdbs_buffer_is_a_reject_with_its_row(store, tmp_path):
    # 40 MiB in row 3: DuckDB used to drop that line without a word.
    path = tmp_path / "huge_field.csv"
    lines = rows(12).splitlines()
    with path.open("w") as fh:
        fh.write("case,activity,timestamp,comment\n")
        for i, line in enumerate(lines, start=1):
            fh.write(line + "," + ("y" * (40 << 20) if i == 3 else "ok") + "\n")
    s = ingest_file(store, path, IngestOptions(max_rejects=0.5))
    assert (s.rows_read, s.events, s.rejected_rows) == (12, 11, 1)
    (reject,) = s.rejects
    size = len(lines[2]) + 1 + (40 << 20)
    assert (reject.row, reject.column, reject.reason) == (
        3,
        None,
        f"line of {size:,} bytes longer than 32 MiB, the most a row may have",
    )
    assert reject.value.startswith("c0,A2,2024-01-01 12:00:00,yyy")
    assert reject.value.endswith("y…")
    # Rows after it keep their numbers.
    assert [r[0] for r in store.query("SELECT row_no FROM events ORDER BY row_no").rows] == [
        1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12
    ]  # fmt: skip


def test_a_200_mb_line_is_refused_naming_the_line(store, tmp_path):
    path = tmp_path / "long_line.csv"
    with path.open("wb") as fh:
        fh.write(b"case,activity,timestamp\n" + rows(3).encode())
        chunk = b"z" * (1 << 20)
        for _ in range(200):
            fh.write(chunk)
    with pytest.raises(IngestError) as info:
        ingest_file(store, path)
    assert str(info.value) == (
        "long_line.csv, line 5: the line is longer than 96 MiB, the most a line may have; refused before reading it"
    )
    assert store.scalar("SELECT count(*) FROM logs") == 0


def test_a_header_without_a_line_break_is_refused_with_the_limit(store, tmp_path):
    path = tmp_path / "no_breaks.csv"
    path.write_bytes(b"a," * (5 << 20))
    with pytest.raises(IngestError) as info:
        ingest_file(store, path)
    assert (
        str(info.value)
        == "no_breaks.csv: the first line is longer than 8 MiB without a line break; that is not a header"
    )


def test_unbalanced_quote_in_the_head_never_breaks_sniffing(store, tmp_path):
    path = tmp_path / "open_quote.csv"
    path.write_text(
        "case,activity,timestamp,note\n"
        + "".join(line + ",x\n" for line in rows(9).splitlines())
        + 'c9,A0,2024-01-01 10:00:00,"never closed\nc9,A1,2024-01-01 11:00:00,x\n'
    )
    s = ingest_file(store, path, IngestOptions(max_rejects=0.5))
    assert (s.rows_read, s.events, s.rejected_rows) == (10, 9, 1)
    assert [(r.row, r.reason) for r in s.rejects] == [
        (10, "a quoted field is never closed (unterminated quote)")
    ]


# --------------------------------------------------------------------------- wide files


def test_more_columns_than_the_limit_are_refused_with_the_limit(store, tmp_path):
    path = tmp_path / "very_wide.csv"
    n = MAX_COLUMNS + 1
    path.write_text(
        "case,activity,timestamp," + ",".join(f"x{i}" for i in range(n - 3)) + "\n" + ("1," * (n - 1)) + "1\n"
    )
    with pytest.raises(IngestError) as info:
        ingest_file(store, path)
    assert str(info.value) == (
        f"very_wide.csv has {n:,} columns; at most {MAX_COLUMNS:,} can be loaded (the role detection and the "
        "checks of every row must stay within memory)"
    )


def test_a_wide_file_loads_its_columns_as_attributes(store, tmp_path):
    path = tmp_path / "wide.csv"
    extra = 600
    with path.open("w") as fh:
        fh.write("case,activity,timestamp," + ",".join(f"x{i}" for i in range(extra)) + "\n")
        for i in range(24):
            fh.write(
                f"c{i // 4},A{i % 4},2024-01-01 1{i % 4}:00:00,"
                + ",".join(str(i * k) for k in range(extra))
                + "\n"
            )
    s = ingest_file(store, path)
    assert (s.cases, s.events, s.activities, s.rejected_rows) == (6, 24, 4, 0)
    assert (s.mapping.case, s.mapping.activity, s.mapping.timestamp) == ("case", "activity", "timestamp")
    assert store.scalar("SELECT count(*) FROM attribute_columns") == extra
    assert store.query('SELECT "a600" FROM attrs_1 WHERE row_no = 24').rows == [(str(23 * 599),)]


# --------------------------------------------------------------------------- spreadsheets


def _workbook(path, cells: dict[tuple[int, int], str], *, sheets: tuple[str, ...] = ("Sheet1",)) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    for name in sheets:
        sheet = book.add_worksheet(name)
        for (r, c), value in cells.items():
            sheet.write_string(r, c, value)
    book.close()


def _log_cells(n: int) -> dict[tuple[int, int], str]:
    cells = {(0, 0): "case", (0, 1): "activity", (0, 2): "timestamp"}
    for i, line in enumerate(rows(n).splitlines(), start=1):
        for c, value in enumerate(line.split(",")):
            cells[(i, c)] = value
    return cells


def test_a_stray_far_away_cell_is_refused_before_the_reader_allocates(store, tmp_path):
    path = tmp_path / "far.xlsx"
    _workbook(path, {**_log_cells(9), (1048575, 16383): "x"})
    assert path.stat().st_size < 10_000
    with pytest.raises(IngestError) as info:
        ingest_file(store, path)
    assert str(info.value) == (
        "far.xlsx: the sheet 'Sheet1' spans A1:XFD1048576 (17,179,869,184 cells) but holds only 31 cells: a stray "
        "cell far from the data makes the range absurd; refused before reading it"
    )
    assert "Ctrl+End" in info.value.hint


def test_a_far_cell_on_another_visible_sheet_is_refused_too(store, tmp_path):
    path = tmp_path / "two.xlsx"
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    data = book.add_worksheet("Data")
    for (r, c), value in _log_cells(9).items():
        data.write_string(r, c, value)
    notes = book.add_worksheet("Notes")
    notes.write_string(0, 0, "note")
    notes.write_string(1048575, 16383, "x")
    book.close()
    with pytest.raises(
        IngestError,
        match=r"^two\.xlsx: the sheet 'Notes' spans A1:XFD1048576 \(17,179,869,184 cells\) but holds only 2 cells",
    ):
        ingest_file(store, path, IngestOptions(sheet="Notes"))
    # The data sheet is read; the other is listed, never loaded.
    s = ingest_file(store, path, IngestOptions(sheet="Data"))
    assert (s.cases, s.events) == (3, 9)


def test_a_sheet_wider_than_the_column_limit_is_refused(store, tmp_path):
    path = tmp_path / "wide.xlsx"
    cells = _log_cells(3)
    cells |= {(r, c): "1" for r in range(4) for c in range(3, MAX_COLUMNS + 1)}
    _workbook(path, cells)
    with pytest.raises(IngestError) as info:
        ingest_file(store, path)
    assert str(info.value) == (
        f"wide.xlsx: the sheet 'Sheet1' spans {MAX_COLUMNS + 1:,} columns (A1:FAO4); at most {MAX_COLUMNS:,} can "
        "be loaded"
    )


def test_a_dense_sheet_beyond_the_cell_cap_is_refused_with_the_cap(store, tmp_path, monkeypatch):
    import mining.ingest.excel as excel

    monkeypatch.setattr(excel, "MAX_CELLS", 60)
    path = tmp_path / "dense.xlsx"
    _workbook(path, _log_cells(30))
    with pytest.raises(IngestError) as info:
        ingest_file(store, path)
    assert str(info.value) == (
        "dense.xlsx: the sheet 'Sheet1' spans A1:C31 (93 cells); at most 60 cells can be read from a workbook"
    )
    monkeypatch.setattr(excel, "MAX_CELLS", 93)
    s = ingest_file(store, path)
    assert (s.cases, s.events, s.rejected_rows) == (10, 30, 0)


def test_sheet_extents_stream_the_cell_references(tmp_path):
    from mining.ingest.excel import sheet_extents

    path = tmp_path / "two.xlsx"
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("A").write_string(2, 1, "x")
    second = book.add_worksheet("B")
    second.write_string(0, 0, "x")
    second.write_string(99, 27, "y")
    book.close()
    extents = sheet_extents(path, display_name="two.xlsx")
    assert {k: (v.ref(), v.cells, v.area) for k, v in extents.items()} == {
        "A": ("B3:B3", 1, 1),
        "B": ("A1:AB100", 2, 2800),
    }


# --------------------------------------------------------------------------- the same answers on the command line


def test_cli_refuses_a_binary_and_a_far_cell_without_a_traceback(tmp_path):
    from click.testing import CliRunner

    from mining.cli import cli

    pdf = tmp_path / "export.csv"
    pdf.write_bytes(_PDF)
    far = tmp_path / "far.xlsx"
    _workbook(far, {**_log_cells(3), (1048575, 16383): "x"})
    ws = str(tmp_path / "ws.duckdb")
    for path, first in (
        (pdf, "Error: export.csv is not a text table: it is a PDF document, whatever its name says"),
        (
            far,
            "Error: far.xlsx: the sheet 'Sheet1' spans A1:XFD1048576 (17,179,869,184 cells) but holds only 13",
        ),
    ):
        res = CliRunner().invoke(cli, ["--workspace", ws, "ingest", str(path)])
        assert res.exit_code == 1
        assert res.output.startswith(first), res.output
        assert "Traceback" not in res.output
        assert res.output.splitlines()[1].startswith("Hint: ")


def test_a_newline_inside_an_unquoted_field_names_both_lines(store, tmp_path):
    path = tmp_path / "broken.csv"
    path.write_text(
        "case,activity,timestamp\n" + rows(6) + "c9,Approve the\nrequest,2024-01-01 10:00:00\n" + rows(3)
    )
    s = ingest_file(store, path, IngestOptions(max_rejects=0.3))
    assert [(r.row, r.reason, r.value) for r in s.rejects] == [
        (7, "ragged line: fewer fields than the header (expected: 3 found: 2)", "c9,Approve the"),
        (
            8,
            "ragged line: fewer fields than the header (expected: 3 found: 2)",
            "request,2024-01-01 10:00:00",
        ),
    ]
    assert (s.rows_read, s.events) == (11, 9)


def test_old_mac_line_ends_load(store, tmp_path):
    path = tmp_path / "mac.csv"
    path.write_bytes(("case,activity,timestamp\r" + rows(6).replace("\n", "\r")).encode())
    s = ingest_file(store, path)
    assert (s.cases, s.events, s.rejected_rows) == (2, 6, 0)


def test_a_bare_carriage_return_in_a_field_is_named_by_its_line(store, tmp_path):
    # DuckDB's strict parser stops on it without naming a line; the error names it.
    path = tmp_path / "cr.csv"
    path.write_bytes(
        ("case,activity,timestamp\n" + rows(4) + "c9,Appr\rove,2024-01-01 10:00:00\n" + rows(2)).encode()
    )
    with pytest.raises(IngestError) as info:
        ingest_file(store, path)
    assert str(info.value) == (
        "cr.csv, line 6: a carriage return (\\r) inside an unquoted field breaks the row; the parser cannot read on "
        "from there"
    )
    assert "carriage returns" in info.value.hint
