"""XML exports that are lists of records (ServiceNow's list export, Rails' ``to_xml`` as Zendesk writes
it) are read as the JSON records they would be.  Before, each was refused as "not an XES event log"."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import pytest

from mining.errors import BadExport, UnknownFormat, UnsafeInput
from mining.ingest import IngestOptions, ingest_file
from mining.ingest.presets.raw import export_kind
from mining.ingest.xmlrecords import read_xml_records
from mining.store import Store
from tests.conftest import FILES

UTC = dt.UTC

#: Rails' to_xml of three ticket events, as Zendesk writes them (written by hand).
RAILS = (FILES / "ingest" / "ticket_events.xml").read_text(encoding="utf-8")

SERVICENOW = """<?xml version="1.0" encoding="UTF-8"?>
<xml>
<incident><number>INC0010001</number><state>New</state><sys_updated_on>2024-03-13 09:15:00</sys_updated_on>
<assigned_to display_value="Beth Anglin">46d44a23a9fe19810012d100cca80666</assigned_to></incident>
<incident><number>INC0010001</number><state>In Progress</state><sys_updated_on>2024-03-13 10:05:30</sys_updated_on>
<assigned_to display_value="Fred Luddy">5137153cc611227c000bbd1bd8cd2005</assigned_to></incident>
<incident><number>INC0010002</number><state>New</state><sys_updated_on>2024-03-14 08:00:00</sys_updated_on>
<assigned_to></assigned_to></incident>
</xml>
"""


def _events(store: Store) -> list[tuple]:
    return store.query("SELECT case_id, activity, ts, resource FROM events ORDER BY case_no, ts").rows


def test_rails_xml_is_read_as_records_with_types_dropped_and_nil_empty(tmp_path: Path) -> None:
    path = tmp_path / "ticket_events.xml"
    path.write_text(RAILS, encoding="utf-8")
    assert export_kind(path, path.name) == "xml"
    with Store() as store:
        summary = ingest_file(store, path)
        assert (summary.log, summary.cases, summary.events) == ("ticket_events", 2, 3)
        assert (summary.mapping.case, summary.mapping.activity, summary.mapping.timestamp) == (
            "ticket-id",
            "status",
            "created-at",
        )
        assert _events(store) == [
            ("35436", "new", dt.datetime(2024, 3, 13, 9, 15, tzinfo=UTC), "Anna Müller"),
            ("35436", "solved", dt.datetime(2024, 3, 13, 11, 40, tzinfo=UTC), "Jörg Weiß"),
            ("35437", "new", dt.datetime(2024, 3, 14, 8, 0, tzinfo=UTC), "Anna Müller"),
        ]
        # No "id.type" or "via.nil" columns: Rails' serialisation is no field of the export.
        assert store.query("SELECT source_name FROM attribute_columns ORDER BY position").rows == [
            ("id",),
            ("via",),
        ]
        assert store.query("SELECT a2 FROM attrs_1 ORDER BY row_no").rows == [(None,), ("web",), ("email",)]


def test_servicenow_list_xml_keeps_a_reference_fields_display_value_beside_it(tmp_path: Path) -> None:
    path = tmp_path / "incident.xml.gz"
    path.write_bytes(gzip.compress(SERVICENOW.encode("utf-8")))
    document = read_xml_records(path, tmp_path, file="incident.xml.gz")
    records = document["xml"]["incident"]
    assert records[0] == {
        "number": "INC0010001",
        "state": "New",
        "sys_updated_on": "2024-03-13 09:15:00",
        "assigned_to": "46d44a23a9fe19810012d100cca80666",
        "assigned_to.display_value": "Beth Anglin",
    }
    assert records[2]["assigned_to"] is None
    with Store() as store:
        summary = ingest_file(store, path, IngestOptions(roles={"resource": "assigned_to.display_value"}))
        assert (summary.log, summary.cases, summary.events) == ("incident", 2, 3)
        assert _events(store) == [
            ("INC0010001", "New", dt.datetime(2024, 3, 13, 9, 15, tzinfo=UTC), "Beth Anglin"),
            ("INC0010001", "In Progress", dt.datetime(2024, 3, 13, 10, 5, 30, tzinfo=UTC), "Fred Luddy"),
            ("INC0010002", "New", dt.datetime(2024, 3, 14, 8, 0, tzinfo=UTC), None),
        ]


def test_namespaces_are_dropped_and_a_repeated_field_is_kept_as_a_list(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    path.write_text(
        '<?xml version="1.0"?><r:rows xmlns:r="urn:x"><r:row><r:case>1</r:case><r:tag>a</r:tag>'
        "<r:tag>b</r:tag></r:row><r:row><r:case>2</r:case><r:tag>c</r:tag></r:row></r:rows>"
    )
    assert read_xml_records(path, tmp_path, file="feed.xml") == {
        "rows": {"row": [{"case": "1", "tag": ["a", "b"]}, {"case": "2", "tag": "c"}]}
    }


def test_an_xml_root_log_is_still_xes_and_a_text_table_starting_with_a_bracket_is_no_xml(
    tmp_path: Path,
) -> None:
    xes = tmp_path / "events.xml"
    xes.write_text('<?xml version="1.0"?><!-- <records> --><log xes.version="1.0"></log>')
    assert export_kind(xes, xes.name) is None
    table = tmp_path / "events.csv"
    table.write_text("<case>,activity\n1,a\n")
    assert export_kind(table, table.name) is None


def test_invalid_xml_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.xml"
    path.write_text('<?xml version="1.0"?>\n<rows>\n<row><case>1</case></row>\n<row><case>2</row>\n</rows>\n')
    with Store() as store, pytest.raises(BadExport, match=r"broken\.xml line 4: invalid XML: .*mismatch"):
        ingest_file(store, path)


def test_xml_with_a_doctype_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "rows.xml"
    path.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE rows [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
        "<rows><row><case>&x;</case></row></rows>"
    )
    with Store() as store, pytest.raises(UnsafeInput, match=r"rows\.xml.*DOCTYPE"):
        ingest_file(store, path)


def test_one_record_is_named_as_what_it_is(tmp_path: Path) -> None:
    path = tmp_path / "one.xml"
    path.write_text('<?xml version="1.0"?><unload><incident><number>INC1</number></incident></unload>')
    with (
        Store() as store,
        pytest.raises(
            UnknownFormat,
            match=r"one\.xml: no preset recognises this XML as a system's export, and it is an object",
        ),
    ):
        ingest_file(store, path)
