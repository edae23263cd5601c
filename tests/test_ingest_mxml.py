"""MXML, ProM 5's format, read as the XES reader reads the same log.  Before, it was refused as "not an
XES event log (its root element is <WorkflowLog>)"."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import pytest

from mining.errors import IngestError, UnsafeInput
from mining.ingest import ingest_file
from mining.ingest.mxml import read_mxml
from mining.store import Store
from tests.conftest import FILES

MXML = FILES / "ingest" / "repair_example.mxml"  # written by hand in the shape of ProM's examples
UTC = dt.UTC


def test_an_mxml_log_reads_as_the_xes_reader_would_read_it() -> None:
    table = read_mxml(MXML, display_name=MXML.name)
    assert table.column_names == [
        "case:concept:name",
        "case:defectType",
        "case:phoneType",
        "concept:name",
        "lifecycle:transition",
        "time:timestamp",
        "org:resource",
        "numberRepairs",
    ]
    assert table.column("lifecycle:transition").to_pylist() == [
        "complete",
        "start",
        "complete",
        "reassign",  # ProM's EventType "unknown" names its word in an attribute
        "complete",
        "complete",
    ]
    assert table.column("numberRepairs").to_pylist() == [None, None, "0", None, None, None]


@pytest.mark.parametrize("name", ["repair.mxml", "repair.xml", "repair.mxml.gz"])
def test_an_mxml_file_loads_its_cases_events_and_attributes(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    data = MXML.read_bytes()
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    with Store() as store:
        summary = ingest_file(store, path)
        assert (summary.log, summary.cases, summary.events, summary.activities) == ("repair", 2, 6, 4)
        assert store.query(
            "SELECT case_id, activity, ts, resource FROM events ORDER BY case_no, ts"
        ).rows == [
            ("1", "Register", dt.datetime(2024, 3, 13, 8, 15, tzinfo=UTC), "System"),
            ("1", "Analyze Defect", dt.datetime(2024, 3, 13, 8, 20, tzinfo=UTC), "Tester3"),
            ("1", "Analyze Defect", dt.datetime(2024, 3, 13, 8, 35, 30, tzinfo=UTC), "Tester3"),
            ("1", "Repair (Complex)", dt.datetime(2024, 3, 13, 9, 0, tzinfo=UTC), "SolverC1"),
            ("2", "Register", dt.datetime(2024, 3, 14, 7, 0, tzinfo=UTC), "System"),
            ("2", "Archive Repair", dt.datetime(2024, 3, 14, 10, 30, tzinfo=UTC), "System"),
        ]
        assert store.query("SELECT source_name FROM attribute_columns ORDER BY position").rows == [
            ("case:defectType",),
            ("case:phoneType",),
            ("numberRepairs",),
        ]


def test_an_mxml_file_with_a_doctype_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "log.mxml"
    path.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE WorkflowLog [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
        '<WorkflowLog><Process><ProcessInstance id="1"><AuditTrailEntry>'
        "<WorkflowModelElement>&x;</WorkflowModelElement></AuditTrailEntry></ProcessInstance></Process></WorkflowLog>"
    )
    with Store() as store, pytest.raises(UnsafeInput, match=r"log\.mxml.*DOCTYPE"):
        ingest_file(store, path)


def test_a_broken_mxml_file_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "log.mxml"
    path.write_text(
        '<?xml version="1.0"?>\n<WorkflowLog>\n<Process>\n<ProcessInstance id="1">\n'
        "<AuditTrailEntry><WorkflowModelElement>A</AuditTrailEntry>\n</ProcessInstance></Process></WorkflowLog>\n"
    )
    with Store() as store, pytest.raises(IngestError, match=r"log\.mxml, line 5: the XML is not well-formed"):
        ingest_file(store, path)
