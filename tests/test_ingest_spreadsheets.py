"""The older spreadsheet shapes systems still write, read as the tables they show.

Binary ``.xls`` (Excel 97-2003), an ``.xls`` that is tab-separated text (SAP GUI's "Spreadsheet"
download), an HTML page of tables saved as ``.xls`` (Jira's Excel export) and Excel 2003 XML.
Before, the first was refused as "not supported", the second and third as ".xls files are not
supported", and the last as "not an XES event log".
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mining.cli import cli
from mining.errors import IngestError, UnknownFormat, UnsafeInput
from mining.ingest import IngestOptions, ingest_file
from mining.ingest.markup import html_tables, read_markup
from mining.ingest.sources import detect_format, workbook_kind
from mining.store import Store
from tests.conftest import FILES

INGEST = FILES / "ingest"
UTC = dt.UTC


def _events(store: Store) -> list[tuple]:
    return store.query(
        "SELECT case_id, activity, ts, resource, cost FROM events ORDER BY case_no, ts, row_no"
    ).rows


def _at(day: int, hour: int, minute: int, second: int = 0) -> dt.datetime:
    return dt.datetime(2024, 3, day, hour, minute, second, tzinfo=UTC)


def test_a_binary_xls_is_read_from_its_largest_sheet_with_ids_and_instants_as_typed() -> None:
    path = INGEST / "workbook_97.xls"  # written by xlwt: a summary sheet first, then the events
    assert (detect_format(path), workbook_kind(path)) == ("xlsx", "xls")
    with Store() as store:
        summary = ingest_file(store, path)
        assert (summary.log, summary.cases, summary.events, summary.variants) == ("workbook_97", 3, 6, 3)
        assert [str(w) for w in summary.warnings if "sheet" in str(w)] == [
            "read the sheet 'Events', the file's largest; it also has 'Summary': --sheet NAME reads another"
        ]
        assert _events(store) == [
            ("00123", "Create PO", _at(13, 9, 15), "Anna Müller", 12.5),
            ("00123", "Approve PO", _at(13, 10, 0, 30), "Jörg Weiß", 0.0),
            ("00123", "Pay invoice", _at(20, 16, 45), "Anna Müller", 1250.0),
            ("00124", "Create PO", _at(14, 8, 0), "Anna Müller", 40.0),
            ("00124", "Approve PO", _at(15, 11, 30), "Jörg Weiß", 0.0),
            ("00125", "Create PO", _at(15, 12, 0), "\u0141ukasz Nowak", 7.25),
        ]
        # The summary sheet, asked for, is read as it is: a header and no rows.
        with pytest.raises(IngestError, match=r"workbook_97\.xls has a header but no rows"):
            ingest_file(store, path, IngestOptions(sheet="Summary", name="summary"))


def _ole2(stream: str) -> bytes:
    # An OLE2 header, then a directory entry's name as the format writes it (UTF-16, NUL-terminated).
    return (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + bytes(504)
        + stream.encode("utf-16-le")
        + b"\x00\x00"
        + bytes(64)
    )


@pytest.mark.parametrize(
    ("stream", "error", "message"),
    [
        ("WordDocument", UnknownFormat, r"export\.xls is not a table: it is a Word document \(\.doc\)"),
        (
            "PowerPoint Document",
            UnknownFormat,
            r"export\.xls is not a table: it is a PowerPoint presentation",
        ),
        ("EncryptedPackage", IngestError, r"export\.xls: this is a password-protected Excel or Office file"),
        (
            "Nothing",
            UnknownFormat,
            r"export\.xls is not a table: it is an old Office \(OLE2\) file that holds no",
        ),
    ],
)
def test_an_old_office_file_that_is_not_a_workbook_is_named(
    tmp_path: Path, stream: str, error: type[Exception], message: str
) -> None:
    path = tmp_path / "export.xls"
    path.write_bytes(_ole2(stream))
    with pytest.raises(error, match=message) as info:
        detect_format(path)
    assert info.type is error
    # What to do instead: a password to take off, or another export (no "save it as .xlsx" for a Word file).
    expected = "Save a copy without a password" if stream == "EncryptedPackage" else "export the event data"
    assert expected in (info.value.hint or "")


def test_a_damaged_xls_names_the_reader_that_failed(tmp_path: Path) -> None:
    path = tmp_path / "export.xls"
    path.write_bytes(_ole2("Workbook"))
    with (
        Store() as store,
        pytest.raises(IngestError, match=r"export\.xls: could not be opened as an Excel \.xls"),
    ):
        ingest_file(store, path)


def test_sap_spreadsheet_text_named_xls_is_read_as_tab_separated_text() -> None:
    # Windows-1252, a title above the header, a leading empty column, date and time in two columns.
    path = INGEST / "sap_spreadsheet.xls"
    assert detect_format(path) == "csv"
    with Store() as store:
        summary = ingest_file(store, path)
        assert (summary.log, summary.cases, summary.events) == ("sap_spreadsheet", 2, 5)
        assert (summary.mapping.case, summary.mapping.activity, summary.mapping.timestamp) == (
            "Bestellung",
            "Ereignis",
            "Datum+Uhrzeit",
        )
        assert [(c, a, t, r) for c, a, t, r, _ in _events(store)] == [
            ("4500001", "Bestellung angelegt", _at(13, 9, 15), "MÜLLER"),
            ("4500001", "Bestellung freigegeben", _at(13, 10, 0, 30), "WEIß"),
            ("4500001", "Rechnung gebucht", _at(20, 16, 45), "MÜLLER"),
            ("4500002", "Bestellung angelegt", _at(14, 8, 0), "MÜLLER"),
            ("4500002", "Bestellung freigegeben", _at(15, 11, 30), "WEIß"),
        ]


def test_a_web_archive_named_xls_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "report.xls"
    path.write_text('MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary="----=_NextPart"\r\n')
    with pytest.raises(UnknownFormat, match=r"report\.xls: this is a web archive \(MHTML"):
        detect_format(path)


def test_jira_html_export_named_xls_is_read_from_its_issue_table() -> None:
    path = INGEST / "jira_export.xls"
    assert (detect_format(path), workbook_kind(path)) == ("xlsx", "html")
    with Store() as store:
        summary = ingest_file(store, path)
        assert (summary.log, summary.cases, summary.events, summary.variants) == ("jira_export", 2, 5, 2)
        assert [str(w) for w in summary.warnings if "sheet" in str(w)] == [
            "read the sheet 'issuetable', the file's largest; it also has 'Table 1', 'Table 3': "
            "--sheet NAME reads another"
        ]
        # &nbsp; is a space, <br/> a line break made a space, and a cell holding only &nbsp; is empty.
        assert [(c, a, t, r) for c, a, t, r, _ in _events(store)] == [
            ("SUP-101", "Open", _at(13, 9, 15), "Anna Müller"),
            ("SUP-101", "In Progress", _at(13, 10, 40), "Jörg Weiß"),
            ("SUP-101", "Done", _at(14, 16, 5), "Jörg Weiß"),
            ("SUP-102", "Open", _at(14, 8, 0), None),
            ("SUP-102", "Done", _at(15, 12, 30), "Anna Müller"),
        ]


def test_html_cells_spanning_rows_and_columns_keep_the_others_in_their_columns(tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    path.write_text(
        "<table><caption>Orders\n shipped</caption>"
        "<tr><th>Order</th><th>Step</th><th>Time</th><th>Clerk</th></tr>"
        "<tr><td rowspan='2'>O-1</td><td>Pack</td><td>2024-03-13 09:00</td><td>Eve</td></tr>"
        "<tr><td>Ship</td><td colspan='2'>2024-03-13 15:00</td></tr>"
        "<tr><td>O-2</td><td rowspan='2' colspan='2'>Pack</td><td>Bo</td></tr>"
        "<tr><td>O-2</td><td>Al</td></tr>"
        "</table>",
        encoding="utf-8",
    )
    assert html_tables(path, "report.html") == [
        (
            "Orders shipped",
            [
                ["Order", "Step", "Time", "Clerk"],
                ["O-1", "Pack", "2024-03-13 09:00", "Eve"],
                [None, "Ship", "2024-03-13 15:00", None],
                ["O-2", "Pack", None, "Bo"],
                ["O-2", None, None, "Al"],
            ],
        )
    ]


def test_an_html_page_without_a_declared_charset_is_read_as_windows_1252_when_not_utf8(
    tmp_path: Path,
) -> None:
    path = tmp_path / "export.xls"
    path.write_bytes(
        "<html><body><table><tr><td>Case</td><td>Activity</td><td>Time</td></tr>"
        "<tr><td>1</td><td>Prüfung</td><td>2024-03-13 09:00</td></tr>"
        "<tr><td>1</td><td>Freigabe</td><td>2024-03-13 10:00</td></tr></table></body></html>".encode("cp1252")
    )
    read = read_markup(path, "html", display_name="export.xls")
    assert read.table.column("Activity").to_pylist() == ["Prüfung", "Freigabe"]


def test_a_page_without_a_table_is_refused_plainly(tmp_path: Path) -> None:
    path = tmp_path / "export.html"
    path.write_text("<!DOCTYPE html><html><body><p>Session expired, please log in.</p></body></html>")
    with (
        Store() as store,
        pytest.raises(IngestError, match=r"export\.html: the file holds no table \(<table>\)"),
    ):
        ingest_file(store, path)


def test_excel_2003_xml_is_read_with_its_types_indices_and_merged_title() -> None:
    path = INGEST / "excel2003.xml"
    assert (detect_format(path), workbook_kind(path)) == ("xlsx", "spreadsheetml")
    with Store() as store:
        summary = ingest_file(store, path)
        assert (summary.log, summary.cases, summary.events) == ("excel2003", 2, 4)
        assert [str(w) for w in summary.warnings if "sheet" in str(w)] == [
            "read the sheet 'Requests', the file's largest; it also has 'About': --sheet NAME reads another"
        ]
        # Numbers as typed (7001, not 7001.0), ss:Index skipping a cell and a row, rich text as its words.
        assert _events(store) == [
            ("7001", "Submit", _at(13, 9, 15), "Ana Muñoz", 12.5),
            ("7001", "Review step", _at(13, 11, 0, 45), None, 1250.0),
            ("7002", "Submit", _at(14, 8, 0), "Ana Muñoz", None),
            ("7002", "Close", _at(15, 17, 30), "Li Wei", 0.0),
        ]


def test_excel_2003_xml_with_a_doctype_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "book.xml"
    path.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE Workbook [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
        '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet><Table><Row>'
        "<Cell><Data>&x;</Data></Cell></Row></Table></Worksheet></Workbook>"
    )
    assert workbook_kind(path) == "spreadsheetml"
    with Store() as store, pytest.raises(UnsafeInput, match=r"book\.xml.*DOCTYPE"):
        ingest_file(store, path)


def test_the_cli_loads_an_xls_and_its_json_names_the_counts(tmp_path: Path) -> None:
    ws = tmp_path / "ws.duckdb"
    result = CliRunner().invoke(cli, ["-w", str(ws), "ingest", str(INGEST / "jira_export.xls"), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["log"], data["cases"], data["events"], data["status"]) == ("jira_export", 2, 5, "loaded")
    assert (data["mapping"]["case"], data["mapping"]["activity"]) == ("Key", "Status")


def test_an_opendocument_spreadsheet_is_read_from_its_largest_sheet() -> None:
    path = INGEST / "tickets.ods"  # written by pandas through odfpy (LibreOffice's format)
    assert (detect_format(path), workbook_kind(path)) == ("xlsx", "ods")
    with Store() as store:
        summary = ingest_file(store, path)
        assert (summary.log, summary.cases, summary.events) == ("tickets", 3, 5)
        assert [str(w) for w in summary.warnings if "sheet" in str(w)] == [
            "read the sheet 'Tickets', the file's largest; it also has 'Summary': --sheet NAME reads another"
        ]
        assert _events(store) == [
            ("T-001", "Opened", _at(13, 9, 15), "Zoë", 12.5),
            ("T-001", "Closed", _at(13, 17, 5, 30), "Zoë", 0.0),
            ("T-002", "Opened", _at(14, 8, 0), "Bård", 1250.0),
            ("T-002", "Closed", _at(15, 12, 30), "Bård", 40.0),
            ("T-003", "Opened", _at(16, 10, 0), None, 7.25),
        ]


def test_a_zip_of_exports_is_still_an_archive_and_not_a_workbook(tmp_path: Path) -> None:
    import zipfile

    from mining.ingest.sources import is_workbook_zip

    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("mimetype", "text/csv")
        z.writestr("events.csv", "case,activity\n1,a\n")
    assert not is_workbook_zip(archive)
    assert is_workbook_zip(INGEST / "tickets.ods")


def _spreadsheetml(rows: str) -> str:
    return (
        '<?xml version="1.0"?>\n<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
        'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet ss:Name="S"><Table>'
        f"{rows}</Table></Worksheet></Workbook>"
    )


def test_excel_2003_xml_keeps_a_long_whole_number_exact(tmp_path: Path) -> None:
    path = tmp_path / "book.xml"
    cell = '<Cell><Data ss:Type="{}">{}</Data></Cell>'
    path.write_text(
        _spreadsheetml(
            "<Row>" + cell.format("String", "id") + cell.format("String", "amount") + "</Row>"
            "<Row>" + cell.format("Number", "4500001234567890123") + cell.format("Number", "1.5E3") + "</Row>"
        )
    )
    read = read_markup(path, "spreadsheetml", display_name="book.xml")
    assert read.table.to_pylist() == [{"id": "4500001234567890123", "amount": "1500"}]


def test_excel_2003_xml_with_a_cell_beyond_the_last_column_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "book.xml"
    path.write_text(
        _spreadsheetml('<Row><Cell ss:Index="20000"><Data ss:Type="String">x</Data></Cell></Row>')
    )
    with pytest.raises(
        IngestError, match=r"book\.xml: the sheet 'S' has a cell at index '20000'; expected 1 to 16,384"
    ):
        read_markup(path, "spreadsheetml", display_name="book.xml")


def test_a_damaged_binary_workbook_is_named_as_one(tmp_path: Path) -> None:
    import zipfile

    # Excel's binary workbook (.xlsb) keeps its parts as .bin records; one that calamine cannot read
    # was reported as "could not be opened as an Excel .xlsx workbook".
    path = tmp_path / "report.xlsb"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.bin", b"\x83\x01\x00")
        z.writestr("xl/worksheets/sheet1.bin", b"\x81\x01\x00")
    assert (detect_format(path), workbook_kind(path)) == ("xlsx", "xlsb")
    with Store() as store:
        with pytest.raises(
            IngestError, match=r"report\.xlsb: could not be opened as an Excel \.xlsb \(binary\) workbook"
        ):
            ingest_file(store, path)
        assert store.scalar("SELECT count(*) FROM logs") == 0
