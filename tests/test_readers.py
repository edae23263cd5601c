"""The non-CSV readers (XES, Excel) and the safe opening of uploads (gzip, format, DOCTYPE)."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xlsxwriter

from mining.errors import EmptyLog, IngestError, UnknownFormat, UnsafeInput
from mining.ingest.excel import cell_text, read_xlsx
from mining.ingest.sources import (
    decompress_if_gzip,
    detect_format,
    refuse_doctype,
    sha256_file,
)
from mining.ingest.xes import read_xes
from tests.conftest import FILES

XML_FILES = FILES / "xml"
#: A small XES file for the tests that need any XES, not a particular one.
SMALL_XES = XML_FILES / "attribute_kinds.xes"

MiB = 1024 * 1024


def _is_string_table(table: pa.Table) -> bool:
    return all(t in (pa.string(), pa.large_string()) for t in table.schema.types)


# --------------------------------------------------------------------------- XES: the shared logs

# file, events, traces (cases) -- from ../shared/logs/SOURCES.md
SHARED_XES = [
    pytest.param("running-example.xes", 42, 6, id="running-example"),
    pytest.param("receipt_coselog.xes.gz", 8_577, 1_434, id="receipt"),
    pytest.param("production_manufacturing.xes.gz", 9_906, 225, id="production"),
    pytest.param("helpdesk.xes.gz", 21_348, 4_580, id="helpdesk", marks=pytest.mark.slow),
    pytest.param("bpic2013_incidents.xes.gz", 65_533, 7_554, id="bpic2013", marks=pytest.mark.slow),
    pytest.param(
        "bpic2012_W_start_complete_simod.xes.gz", 118_604, 8_616, id="bpic2012_W", marks=pytest.mark.slow
    ),
    pytest.param("bpic2012.xes.gz", 262_200, 13_087, id="bpic2012", marks=pytest.mark.slow),
    pytest.param(
        "bpic2019_1trace_per_variant.xes.gz", 338_247, 11_973, id="bpic2019", marks=pytest.mark.slow
    ),
]


@pytest.mark.parametrize(("name", "events", "traces"), SHARED_XES)
def test_shared_xes_logs_read_to_the_documented_counts(
    shared_logs, tmp_path: Path, name: str, events: int, traces: int
) -> None:
    source = shared_logs / name
    plain = decompress_if_gzip(source, tmp_path)
    assert detect_format(plain) == "xes"
    read = read_xes(plain, display_name=name)
    assert read.table.num_rows == events
    assert read.traces == traces
    assert read.empty_traces == 0
    assert _is_string_table(read.table)
    table = read.table
    assert table.column("case:concept:name").null_count == 0
    assert table.column("concept:name").null_count == 0
    assert table.column("case:concept:name").to_pylist()[-1] is not None
    # one distinct case id per trace
    assert len(set(table.column("case:concept:name").to_pylist())) == traces


def test_every_shared_xes_file_is_covered(shared_logs) -> None:
    listed = {p.values[0] for p in SHARED_XES}
    on_disk = {p.name for p in shared_logs.path.iterdir() if p.name.endswith((".xes", ".xes.gz"))}
    assert on_disk == listed


def test_running_example_columns_and_values(shared_logs) -> None:
    read = read_xes(shared_logs / "running-example.xes", display_name="running-example.xes")
    table = read.table
    assert table.column_names == [
        "case:concept:name",
        "case:creator",
        "concept:name",
        "org:resource",
        "time:timestamp",
        "Activity",
        "Resource",
        "Costs",
    ]
    first = table.slice(0, 1).to_pylist()[0]
    assert first == {
        "case:concept:name": "3",
        "case:creator": "Fluxicon Nitro",
        "concept:name": "register request",
        "org:resource": "Pete",
        "time:timestamp": "2010-12-30T14:32:00.000+01:00",
        "Activity": "register request",
        "Resource": "Pete",
        "Costs": "50",
    }
    # file order: the first trace ("3") has 9 events, then trace "2" starts
    cases = table.column("case:concept:name").to_pylist()
    assert cases[:10] == ["3"] * 9 + ["2"]
    assert table.column("concept:name").to_pylist()[8] == "pay compensation"


def test_namespaced_log_attribute_kinds_nesting_and_skipped_parts() -> None:
    read = read_xes(XML_FILES / "attribute_kinds.xes", display_name="attribute_kinds.xes")
    assert (read.traces, read.empty_traces, read.table.num_rows) == (3, 1, 3)
    table = read.table
    # trace attributes first (in order of first appearance), then event attributes
    assert table.column_names == [
        "case:concept:name",
        "case:priority",
        "case:region",
        "concept:name",
        "time:timestamp",
        "amount",
        "cost",
        "urgent",
        "ticket",
        "note",
        "box",
        "org:resource",
    ]
    rows = table.to_pylist()
    assert rows[0]["case:concept:name"] == "00123"  # text, not a number
    assert rows[0]["amount"] == "00042"  # <int> values stay as written
    assert rows[0]["cost"] == "1.50"
    assert rows[0]["urgent"] == "true"
    assert rows[0]["time:timestamp"] == "2011-10-01T00:38:44.546+02:00"
    assert rows[0]["note"] == "Tom & Jerry <3"
    assert rows[0]["box"] == "boxed"  # a container's own value; its children are ignored
    assert "items" not in table.column_names  # a list without a value
    assert "item" not in table.column_names and "inner" not in table.column_names
    assert "global-only" not in table.column_names and "creator" not in table.column_names
    assert rows[1]["org:resource"] == "second"  # the same key twice: the last one wins
    assert rows[1]["amount"] is None  # missing attribute → null
    assert rows[0]["org:resource"] is None
    # trace attributes written after the trace's events still apply to them
    assert rows[2]["case:concept:name"] == "attributes after events"
    assert rows[2]["case:region"] == "north"
    assert rows[0]["case:region"] is None
    assert _is_string_table(table)


@pytest.mark.parametrize(
    ("folder", "name"),
    [("shared_logs", "running-example.xes"), ("xml", "attribute_kinds.xes")],
    ids=["running-example.xes", "attribute_kinds.xes"],
)
def test_small_batches_give_the_same_table(request: pytest.FixtureRequest, folder: str, name: str) -> None:
    path = request.getfixturevalue("shared_logs") / name if folder == "shared_logs" else XML_FILES / name
    whole = read_xes(path, display_name=name).table
    batched = read_xes(path, display_name=name, batch_rows=2, fast=False).table
    assert batched.num_rows == whole.num_rows
    assert batched.column("case:concept:name").num_chunks > 1
    assert batched.to_pylist() == whole.to_pylist()
    assert batched.column_names == whole.column_names


def test_events_outside_traces_keep_their_place_without_a_case(tmp_path: Path) -> None:
    path = tmp_path / "loose.xes"
    path.write_text(
        "<log>"
        "<event><string key='concept:name' value='loose-1'/></event>"
        "<trace><string key='concept:name' value='c1'/>"
        "<event><string key='concept:name' value='a'/><string key='case:concept:name' value='own'/></event>"
        "<event><string key='concept:name' value='b'/></event></trace>"
        "<event><string key='concept:name' value='loose-2'/></event>"
        "</log>",
        encoding="utf-8",
    )
    read = read_xes(path, display_name="loose.xes")
    assert (read.traces, read.table.num_rows) == (1, 4)
    assert read.table.column_names == ["case:concept:name", "concept:name"]
    assert read.table.to_pylist() == [
        {"case:concept:name": None, "concept:name": "loose-1"},
        {"case:concept:name": "own", "concept:name": "a"},  # an event attribute of that name wins
        {"case:concept:name": "c1", "concept:name": "b"},
        {"case:concept:name": None, "concept:name": "loose-2"},
    ]


def test_unnamespaced_and_namespaced_logs_read_the_same(tmp_path: Path) -> None:
    body = (
        "<trace><string key='concept:name' value='c1'/>"
        "<event><string key='concept:name' value='a'/><date key='time:timestamp' value='2024-01-01T00:00:00Z'/></event>"
        "<event><string key='concept:name' value='b'/></event>"
        "</trace>"
    )
    plain = tmp_path / "plain.xes"
    plain.write_text(f"<log>{body}</log>", encoding="utf-8")
    spaced = tmp_path / "spaced.xes"
    spaced.write_text(
        f"<?xml version='1.0'?><log xmlns='http://www.xes-standard.org'>{body}</log>", encoding="utf-8"
    )
    a = read_xes(plain, display_name="plain.xes").table
    b = read_xes(spaced, display_name="spaced.xes").table
    assert a.equals(b)
    assert a.to_pylist() == [
        {"case:concept:name": "c1", "concept:name": "a", "time:timestamp": "2024-01-01T00:00:00Z"},
        {"case:concept:name": "c1", "concept:name": "b", "time:timestamp": None},
    ]


def test_utf16_xes_is_read(tmp_path: Path) -> None:
    path = tmp_path / "wide.xes"
    text = (
        '<?xml version="1.0" encoding="UTF-16"?>\n<log><trace><string key="concept:name" value="Zürich"/>'
        '<event><string key="concept:name" value="prüfen"/></event></trace></log>'
    )
    path.write_bytes(text.encode("utf-16"))
    assert detect_format(path) == "xes"
    table = read_xes(path, display_name="wide.xes").table
    assert table.to_pylist() == [{"case:concept:name": "Zürich", "concept:name": "prüfen"}]


# --------------------------------------------------------------------------- XES: hostile and broken input


def test_external_entity_is_refused_without_leaking_the_file() -> None:
    with pytest.raises(UnsafeInput, match=r"xxe_file\.xes: contains a DOCTYPE declaration") as info:
        read_xes(XML_FILES / "xxe_file.xes", display_name="xxe_file.xes")
    assert "can expand entities or read files" in str(info.value)
    hostname = Path("/etc/hostname").read_text().strip() if Path("/etc/hostname").exists() else ""
    if hostname:
        assert hostname not in str(info.value)
        assert hostname not in (info.value.hint or "")


def test_billion_laughs_is_refused_quickly() -> None:
    started = time.perf_counter()
    with pytest.raises(UnsafeInput, match="DOCTYPE"):
        read_xes(XML_FILES / "billion_laughs.xes", display_name="billion_laughs.xes")
    assert time.perf_counter() - started < 1.0


def test_malformed_xml_names_the_file_and_line() -> None:
    with pytest.raises(IngestError, match=r"malformed\.xes, line 8: the XML is not well-formed") as info:
        read_xes(XML_FILES / "malformed.xes", display_name="malformed.xes")
    assert type(info.value) is IngestError
    assert "tag mismatch" in str(info.value)


def test_truncated_xml_is_an_ingest_error(tmp_path: Path) -> None:
    path = tmp_path / "cut.xes"
    path.write_text("<log><trace><event><string key='concept:name' value='a'/></event>", encoding="utf-8")
    with pytest.raises(IngestError, match=r"cut\.xes, line 1: the XML is not well-formed"):
        read_xes(path, display_name="cut.xes")


def test_xml_that_is_not_a_log_is_unknown_format(tmp_path: Path) -> None:
    path = tmp_path / "model.xes"
    path.write_text("<?xml version='1.0'?><definitions><process id='p'/></definitions>", encoding="utf-8")
    with pytest.raises(UnknownFormat, match=r"model\.xes: .*root element is <definitions>, expected <log>"):
        read_xes(path, display_name="model.xes")


def test_log_without_events_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "nothing.xes"
    path.write_text("<log><trace><string key='concept:name' value='c'/></trace></log>", encoding="utf-8")
    with pytest.raises(EmptyLog, match=r"nothing\.xes: the XES log contains no <event> elements \(1 trace\)"):
        read_xes(path, display_name="nothing.xes")


# --------------------------------------------------------------------------- refuse_doctype


def _doctype_error(path: Path) -> str:
    with pytest.raises(UnsafeInput) as info:
        refuse_doctype(path, display_name=path.name)
    return str(info.value)


def test_doctype_is_found_after_comments_and_processing_instructions(tmp_path: Path) -> None:
    path = tmp_path / "late.xml"
    path.write_text(
        "\ufeff<?xml version='1.0'?>\n<!-- a > b -->\n<?pi data?>\n<!DOCTYPE log SYSTEM 'x.dtd'>\n<log/>",
        encoding="utf-8",
    )
    assert "late.xml: contains a DOCTYPE declaration" in _doctype_error(path)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"])
def test_doctype_is_found_in_other_encodings(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "wide.bpmn"
    path.write_bytes("<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e 'e'>]><x>&e;</x>".encode(encoding))
    assert "DOCTYPE" in _doctype_error(path)


def test_entity_declaration_alone_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "entity.pnml"
    path.write_text("<?xml version='1.0'?><!ENTITY e 'x'><pnml/>", encoding="utf-8")
    assert "entity.pnml: contains an ENTITY declaration" in _doctype_error(path)


def test_clean_prolog_and_doctype_mentions_in_comments_pass(shared_logs, tmp_path: Path) -> None:
    path = tmp_path / "ok.xml"
    path.write_text("<?xml version='1.0'?><!-- no <!DOCTYPE here --><log><!DOCTYPE-looking text/></log>")
    refuse_doctype(path, display_name="ok.xml")  # nothing raised
    refuse_doctype(shared_logs / "running-example.xes", display_name="running-example.xes")


def test_text_that_hides_markup_in_another_encoding_is_refused(tmp_path: Path) -> None:
    # UTF-7 spells "<!DOCTYPE" as "+ADw-!DOCTYPE"; we do not read UTF-7, and must not wave it through
    path = tmp_path / "seven.xes"
    path.write_bytes(b'<?xml version="1.0" encoding="UTF-7"?>+ADw-!DOCTYPE log +AFs-+AF0-+AD4-+ADw-log/+AD4-')
    with pytest.raises(IngestError, match=r"seven\.xes: does not start like XML; .*found '\+ADw-!DOCTYPE"):
        refuse_doctype(path, display_name="seven.xes")


def test_prolog_longer_than_one_mebibyte_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "padded.xml"
    path.write_text("<?xml version='1.0'?><!--" + "x" * (MiB + 10) + "--><!DOCTYPE log []><log/>")
    assert "prolog" in _doctype_error(path) and "longer than 1 MiB" in _doctype_error(path)


# --------------------------------------------------------------------------- gzip


def _write_gzip_of_zeros(path: Path, size: int) -> None:
    chunk = bytes(MiB)
    with gzip.open(path, "wb", compresslevel=6) as f:
        for _ in range(size // MiB):
            f.write(chunk)


def _files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def test_gzip_is_decompressed_next_to_nothing_else(tmp_path: Path) -> None:
    source = SMALL_XES
    packed = tmp_path / "upload" / "attribute_kinds.xes.gz"
    packed.parent.mkdir()
    packed.write_bytes(gzip.compress(source.read_bytes()))
    work = tmp_path / "work"
    work.mkdir()
    out = decompress_if_gzip(packed, work)
    assert out.name == "attribute_kinds.xes"
    assert work in out.parents
    assert out.read_bytes() == source.read_bytes()
    assert detect_format(packed) == "xes"  # looks inside the gzip


def test_plain_file_is_returned_unchanged(tmp_path: Path) -> None:
    source = SMALL_XES
    assert decompress_if_gzip(source, tmp_path) == source
    assert _files_under(tmp_path) == []


def test_gzip_bomb_is_refused_by_ratio_and_leaves_nothing_behind(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.xes.gz"
    _write_gzip_of_zeros(bomb, 96 * MiB)  # about 100 kB on disk: it expands about 1000x
    assert bomb.stat().st_size < 96 * MiB / 500
    work = tmp_path / "work"
    work.mkdir()
    started = time.perf_counter()
    with pytest.raises(UnsafeInput, match=r"bomb\.xes\.gz: expands more than 200× .*decompression bomb"):  # noqa: RUF001
        decompress_if_gzip(bomb, work)
    assert time.perf_counter() - started < 10
    assert _files_under(work) == []
    assert list(work.iterdir()) == []


def test_gzip_over_the_byte_cap_is_refused(tmp_path: Path) -> None:
    packed = tmp_path / "big.csv.gz"
    _write_gzip_of_zeros(packed, 4 * MiB)
    with pytest.raises(UnsafeInput, match=r"big\.csv\.gz: decompresses to more than 1,000,000 bytes"):
        decompress_if_gzip(packed, tmp_path, max_bytes=1_000_000)
    assert _files_under(tmp_path) == [packed]


def test_gzip_byte_cap_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    packed = tmp_path / "log.xes.gz"
    packed.write_bytes(gzip.compress(b"x" * 5000))
    monkeypatch.setenv("MINING_MAX_DECOMPRESSED_BYTES", "4096")
    with pytest.raises(UnsafeInput, match="more than 4,096 bytes"):
        decompress_if_gzip(packed, tmp_path)
    monkeypatch.setenv("MINING_MAX_DECOMPRESSED_BYTES", "lots")
    with pytest.raises(
        IngestError, match="MINING_MAX_DECOMPRESSED_BYTES='lots' is not a positive whole number"
    ):
        decompress_if_gzip(packed, tmp_path)


def test_truncated_gzip_is_an_ingest_error(tmp_path: Path) -> None:
    whole = gzip.compress(SMALL_XES.read_bytes())
    cut = tmp_path / "cut.xes.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(IngestError, match=r"cut\.xes\.gz: the gzip data is truncated or corrupt") as info:
        decompress_if_gzip(cut, work)
    assert not isinstance(info.value, UnsafeInput)
    assert _files_under(work) == []


def test_corrupt_gzip_is_an_ingest_error(tmp_path: Path) -> None:
    whole = bytearray(gzip.compress(b"case,activity\n" * 1000))
    whole[-8] ^= 0xFF  # break the CRC
    bad = tmp_path / "bad.csv.gz"
    bad.write_bytes(bytes(whole))
    with pytest.raises(IngestError, match=r"bad\.csv\.gz: the gzip data is truncated or corrupt"):
        decompress_if_gzip(bad, tmp_path)


def test_sha256_file_matches_hashlib(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    data = bytes(range(256)) * 9000  # more than one 1 MiB chunk
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()
    assert sha256_file(SMALL_XES) == hashlib.sha256(SMALL_XES.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- detect_format


def _write_xlsx(path: Path) -> None:
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("Data").write_row(0, 0, ["case", "activity"])
    book.close()


def _write_parquet(path: Path) -> None:
    pq.write_table(pa.table({"case": ["1"], "activity": ["a"]}), path)


def test_detect_format_for_each_kind(tmp_path: Path) -> None:
    csv_txt = tmp_path / "export.txt"
    csv_txt.write_text("case;activity\n1;a\n", encoding="utf-8")
    tsv = tmp_path / "export.TSV"
    tsv.write_text("case\tactivity\n", encoding="utf-8")
    xlsx = tmp_path / "book.xlsx"
    _write_xlsx(xlsx)
    parquet = tmp_path / "table.parquet"
    _write_parquet(parquet)
    pq_short = tmp_path / "table.pq"
    _write_parquet(pq_short)
    xes = tmp_path / "log.xes"
    xes.write_text("<log/>", encoding="utf-8")
    csv_gz = tmp_path / "export.csv.gz"
    csv_gz.write_bytes(gzip.compress(b"case,activity\n1,a\n"))

    assert detect_format(csv_txt) == "csv"
    assert detect_format(tsv) == "csv"
    assert detect_format(xlsx) == "xlsx"
    assert detect_format(parquet) == "parquet"
    assert detect_format(pq_short) == "parquet"
    assert detect_format(xes) == "xes"
    assert detect_format(csv_gz) == "csv"


def test_content_overrides_a_misleading_suffix(tmp_path: Path) -> None:
    xlsx_as_csv = tmp_path / "report.csv"
    _write_xlsx(xlsx_as_csv)
    parquet_as_txt = tmp_path / "dump.txt"
    _write_parquet(parquet_as_txt)
    xml_as_csv = tmp_path / "log.csv"
    xml_as_csv.write_text("\ufeff  <?xml version='1.0'?><log/>", encoding="utf-8")
    xlsx_as_xls = tmp_path / "old.xls"
    _write_xlsx(xlsx_as_xls)
    assert detect_format(xlsx_as_csv) == "xlsx"
    assert detect_format(parquet_as_txt) == "parquet"
    assert detect_format(xml_as_csv) == "xes"
    assert detect_format(xlsx_as_xls) == "xlsx"


def test_unknown_suffix_lists_the_supported_formats(tmp_path: Path) -> None:
    path = tmp_path / "export.dat"
    path.write_text("case,activity\n")
    with pytest.raises(
        UnknownFormat, match=r"export\.dat: unknown file type \(\.dat\); supported formats are .*\.xes"
    ):
        detect_format(path)


def test_suffix_whose_content_does_not_match_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "fake.xlsx"
    fake.write_text("case,activity\n1,a\n")
    with pytest.raises(
        UnknownFormat, match=r"fake\.xlsx: the name ends in \.xlsx but the content is not an Excel"
    ):
        detect_format(fake)
    fake_parquet = tmp_path / "fake.parquet"
    fake_parquet.write_text("case,activity\n")
    with pytest.raises(UnknownFormat, match="not a Parquet file"):
        detect_format(fake_parquet)


def test_zip_that_is_not_a_workbook_is_refused(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "exports.csv"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("events.csv", "case,activity\n")
    with pytest.raises(UnknownFormat, match=r"exports\.csv: this is a ZIP archive but not an Excel"):
        detect_format(path)


def test_empty_files(tmp_path: Path) -> None:
    empty_csv = tmp_path / "empty.csv"
    empty_csv.write_bytes(b"")
    assert detect_format(empty_csv) == "csv"  # the CSV reader reports the empty file
    empty_xes = tmp_path / "empty.xes"
    empty_xes.write_bytes(b"")
    with pytest.raises(EmptyLog, match=r"empty\.xes: the file is empty"):
        detect_format(empty_xes)


def test_detect_format_on_truncated_gzip(tmp_path: Path) -> None:
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(gzip.compress(b"case,activity\n" * 100)[:12])
    with pytest.raises(IngestError, match=r"cut\.csv\.gz: the gzip data is truncated or corrupt"):
        detect_format(path)


# --------------------------------------------------------------------------- Excel


@pytest.fixture
def workbook(tmp_path: Path) -> Path:
    """Hidden sheet first, then a data sheet with every kind of cell, then a second sheet and an empty one."""
    path = tmp_path / "export.xlsx"
    book = xlsxwriter.Workbook(str(path))
    hidden = book.add_worksheet("Lookup")
    hidden.write_row(0, 0, ["code", "meaning"])
    hidden.write_row(1, 0, ["A", "approved"])
    hidden.hide()
    data = book.add_worksheet("Events")
    other = book.add_worksheet("Summary")
    book.add_worksheet("Blank")
    date_fmt = book.add_format({"num_format": "yyyy-mm-dd"})
    stamp_fmt = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    time_fmt = book.add_format({"num_format": "hh:mm:ss"})
    # two empty rows before the header, a blank and a repeated header cell
    data.write_row(2, 0, ["case", "activity", "when", "day", "at", "amount", "ok", "", "amount", "double"])
    data.write_string(3, 0, "00123")
    data.write_string(3, 1, "register")
    data.write_datetime(3, 2, dt.datetime(2024, 3, 1, 13, 45, 7), stamp_fmt)
    data.write_datetime(3, 3, dt.date(2024, 3, 1), date_fmt)
    data.write_datetime(3, 4, dt.time(9, 5, 3), time_fmt)
    data.write_number(3, 5, 123)
    data.write_boolean(3, 6, True)
    data.write_string(3, 7, "note")
    data.write_number(3, 8, 1.25)
    data.write_formula(3, 9, "=F4*2", None, 246)
    # an entirely empty row is skipped
    data.write_string(5, 0, "00124")
    data.write_datetime(5, 2, dt.datetime(2024, 3, 2, 8, 0, 0, 500000), stamp_fmt)
    data.write_number(5, 5, 45000)  # a plain number that happens to be a plausible Excel serial date
    data.write_boolean(5, 6, False)
    data.write_formula(5, 9, '=IF(G6,"yes","no")', None, "no")
    data.activate()  # xlsxwriter keeps the active sheet visible, so the hidden one must not be active
    other.write_row(0, 0, ["total"])
    other.write_row(1, 0, [2])
    book.close()
    return path


def test_xlsx_default_sheet_and_cells(workbook: Path) -> None:
    read = read_xlsx(workbook, display_name="export.xlsx")
    assert read.sheet == "Events"  # "Lookup" is hidden, so not the default
    assert read.sheets == ("Events", "Summary")  # hidden and empty sheets are not offered
    table = read.table
    assert _is_string_table(table)
    assert table.column_names == [
        "case",
        "activity",
        "when",
        "day",
        "at",
        "amount",
        "ok",
        "column_8",
        "amount_2",
        "double",
    ]
    assert table.num_rows == 2
    first, second = table.to_pylist()
    assert first == {
        "case": "00123",
        "activity": "register",
        "when": "2024-03-01 13:45:07",
        "day": "2024-03-01",
        "at": "09:05:03",
        "amount": "123",
        "ok": "true",
        "column_8": "note",
        "amount_2": "1.25",
        "double": "246",  # the cached value, not "=F4*2"
    }
    assert second["case"] == "00124"
    assert second["activity"] is None
    assert second["when"] == "2024-03-02 08:00:00.500000"
    assert second["amount"] == "45000"  # plain numbers are never turned into dates
    assert second["ok"] == "false"
    assert second["double"] == "no"


def test_xlsx_sheet_selection(workbook: Path) -> None:
    read = read_xlsx(workbook, display_name="export.xlsx", sheet="Summary")
    assert read.sheet == "Summary"
    assert read.table.to_pylist() == [{"total": "2"}]
    hidden = read_xlsx(workbook, display_name="export.xlsx", sheet="Lookup")  # asked for by name
    assert hidden.table.to_pylist() == [{"code": "A", "meaning": "approved"}]


def test_a_workbook_opening_with_a_summary_is_read_from_its_data_sheet(tmp_path: Path) -> None:
    # A report's workbook: a summary first, the events on the second sheet.  The summary was read, and
    # the ingest said "cannot tell which column is the case", naming no other sheet.
    from mining.ingest import IngestOptions, ingest_file
    from mining.store import Store

    path = tmp_path / "report.xlsx"
    book = xlsxwriter.Workbook(str(path))
    summary, data = book.add_worksheet("Summary"), book.add_worksheet("Data")
    summary.write_row(0, 0, ["Tickets in March"])
    summary.write_row(2, 0, ["Status", "Count"])
    summary.write_row(3, 0, ["Closed", 5])
    stamp = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    data.write_row(0, 0, ["Ticket", "Activity", "Time"])
    for row, (case, activity, hour) in enumerate(
        [("T1", "Open", 9), ("T1", "Close", 11), ("T2", "Open", 10), ("T2", "Close", 15)], start=1
    ):
        data.write_row(row, 0, [case, activity])
        data.write_datetime(row, 2, dt.datetime(2026, 3, 2, hour), stamp)
    book.close()
    read = read_xlsx(path, display_name="report.xlsx")
    assert (read.sheet, read.sheets, read.table.num_rows) == ("Data", ("Summary", "Data"), 4)
    with Store() as store:
        s = ingest_file(store, path)
        assert (s.cases, s.events) == (2, 4)
        assert [str(w) for w in s.warnings if "sheet" in str(w)] == [
            "read the sheet 'Data', the file's largest; it also has 'Summary': --sheet NAME reads another"
        ]
        # A sheet named by the user is read, and nothing more is said; one the workbook has not is
        # refused naming the others in the workbook's order.
        with pytest.raises(
            IngestError, match=r"no sheet named 'Sheet1'; available sheets: 'Summary', 'Data'$"
        ):
            read_xlsx(path, display_name="report.xlsx", sheet="Sheet1")
        asked = ingest_file(store, path, IngestOptions(sheet="Data", name="asked"))
        assert [str(w) for w in asked.warnings if "sheet" in str(w)] == []


def test_xlsx_unknown_sheet_lists_the_available_ones(workbook: Path) -> None:
    with pytest.raises(
        IngestError,
        match=r"export\.xlsx: there is no sheet named 'Sheet1'; available sheets: 'Events', 'Summary'",
    ):
        read_xlsx(workbook, display_name="export.xlsx", sheet="Sheet1")


def test_xlsx_without_data_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "blank.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("One")
    secret = book.add_worksheet("Secret")
    secret.write(0, 0, "x")
    secret.hide()
    book.close()
    with pytest.raises(
        EmptyLog, match=r"blank\.xlsx: no visible sheet has any data \(hidden sheets, not read: 'Secret'\)"
    ):
        read_xlsx(path, display_name="blank.xlsx")


def test_xlsx_header_only_gives_zero_rows(tmp_path: Path) -> None:
    path = tmp_path / "header.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet().write_row(0, 0, ["case", "activity", "case"])
    book.close()
    read = read_xlsx(path, display_name="header.xlsx")
    assert read.table.num_rows == 0
    assert read.table.column_names == ["case", "activity", "case_2"]


def test_broken_workbook_is_an_ingest_error(tmp_path: Path, workbook: Path) -> None:
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(workbook.read_bytes()[:2000])
    with pytest.raises(IngestError, match=r"cut\.xlsx: could not be opened as an Excel \.xlsx workbook"):
        read_xlsx(cut, display_name="cut.xlsx")


def test_zip_bomb_workbook_is_refused(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", bytes(4 * MiB))
    with pytest.raises(UnsafeInput, match=r"bomb\.xlsx: .*more than the limit of 1,000,000"):
        from mining.ingest.sources import check_zip_expansion

        check_zip_expansion(path, display_name="bomb.xlsx", max_bytes=1_000_000)


@pytest.mark.parametrize(
    ("cell", "text"),
    [
        ("", None),
        (None, None),
        ("00123", "00123"),
        (123.0, "123"),
        (-0.0, "0"),
        (1e20, "100000000000000000000"),
        (0.1, "0.1"),
        (1 / 3, "0.3333333333333333"),
        (7, "7"),
        (True, "true"),
        (False, "false"),
        (dt.datetime(2024, 1, 2, 3, 4, 5), "2024-01-02 03:04:05"),
        (dt.datetime(2024, 1, 2, 3, 4, 5, 120), "2024-01-02 03:04:05.000120"),
        (dt.date(1999, 12, 31), "1999-12-31"),
        (dt.time(23, 59, 1), "23:59:01"),
        (dt.timedelta(hours=30, minutes=5), "30:05:00"),
    ],
)
def test_cell_text(cell: object, text: str | None) -> None:
    assert cell_text(cell) == text
