"""The Logs and Upload pages on hostile and edge-case input, through Streamlit's AppTest.

Renaming and deleting a log on the Logs page (with its confirmation), and
uploads that must get a clear answer rather than a crashed page: binary
files renamed ``.csv``, a wrong encoding, a spreadsheet with a far-away
cell, an activity made of two columns, and a preview that says what it
counted.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

pytest.importorskip("streamlit", reason="the app is an optional extra: pip install '.[app]'")

from streamlit.testing.v1 import AppTest

from mining.catalog import list_logs
from mining.ingest import ingest_file
from mining.store import Store
from tests.conftest import FILES

TIMEOUT = 60
TINY = FILES / "app" / "tiny.csv"  # 3 cases, 6 events
OTHER = FILES / "app" / "other.csv"  # 5 cases, 10 events


def _upload_page() -> None:
    from mining.ui.pages import upload

    upload.render()


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "workspace.duckdb"
    monkeypatch.setenv("MINING_WORKSPACE", str(path))
    return path


def _text(elements) -> str:
    return "\n".join(e.value for e in elements).replace("\\", "").replace("**", "")


def _widget(elements, label: str):
    return next(e for e in elements if e.label == label)


def _names(workspace: Path) -> list[str]:
    with Store(workspace, read_only=True) as store:
        return [i.name for i in list_logs(store)]


# --------------------------------------------------------------------------- Logs: rename and delete


def _logs_page() -> None:
    # AppTest.from_function runs this body as the whole script; the app itself opens on the Start page.
    from mining.ui.pages import logs

    logs.render()


def test_rename_a_log_on_the_logs_page(workspace: Path) -> None:
    with Store(workspace) as store:
        ingest_file(store, TINY)
    at = AppTest.from_function(_logs_page, default_timeout=TIMEOUT).run()
    assert _widget(at.button, "Rename").disabled  # the name is unchanged
    _widget(at.text_input, "New name").set_value("March tickets")
    at.run()
    _widget(at.button, "Rename").click()
    at.run()
    assert not at.exception
    assert "Renamed log tiny to March tickets." in _text(at.success)
    assert at.selectbox[0].options == ["March tickets"]
    assert _names(workspace) == ["March tickets"]


def test_a_rename_onto_a_used_name_is_refused_on_the_page(workspace: Path) -> None:
    with Store(workspace) as store:
        ingest_file(store, TINY)
        ingest_file(store, OTHER)
    at = AppTest.from_function(_logs_page, default_timeout=TIMEOUT).run()
    assert at.selectbox[0].value == "other"
    _widget(at.text_input, "New name").set_value("tiny")
    at.run()
    _widget(at.button, "Rename").click()
    at.run()
    assert not at.exception
    assert "cannot rename 'other' to 'tiny': a log of that name already exists" in _text(at.error)
    assert _names(workspace) == ["tiny", "other"]


def test_delete_needs_a_confirmation_then_removes_the_log(workspace: Path) -> None:
    with Store(workspace) as store:
        ingest_file(store, TINY)
        ingest_file(store, OTHER)
    at = AppTest.from_function(_logs_page, default_timeout=TIMEOUT).run()
    assert _widget(at.button, "Delete log").disabled
    _widget(at.checkbox, "Yes, delete other").check()
    at.run()
    assert not _widget(at.button, "Delete log").disabled
    _widget(at.button, "Delete log").click()
    at.run()
    assert not at.exception
    assert "Deleted log other (5 cases, 10 events)." in _text(at.success)
    assert at.selectbox[0].options == ["tiny"]
    assert _names(workspace) == ["tiny"]
    # Deleting the last log leaves an empty workspace: the sample log does not come back.
    _widget(at.checkbox, "Yes, delete tiny").check()
    at.run()
    _widget(at.button, "Delete log").click()
    at.run()
    assert "Deleted log tiny" in _text(at.success)
    assert "The workspace holds no logs yet" in _text(at.info)
    assert _names(workspace) == []


# --------------------------------------------------------------------------- Upload: a clear answer for every file


def _upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader[0].set_value((name, data, "text/csv"))
    return at.run()


def _far_cell_xlsx() -> bytes:
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    for c, h in enumerate(("case", "activity", "timestamp")):
        sheet.write_string(0, c, h)
    sheet.write_string(1048575, 16383, "x")
    book.close()
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        pytest.param(
            "report.csv",
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n" + bytes(range(256)) * 8,
            "report.csv is not a text table: it is a PDF document, whatever its name says",
            id="pdf",
        ),
        pytest.param(
            "photo.csv",
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8,
            "photo.csv is not a text table: it is a PNG image, whatever its name says",
            id="png",
        ),
        pytest.param(
            "utf16.csv",
            "case,activity,timestamp\n1,A,2024-01-01 10:00\n1,B,2024-01-01 11:00\n".encode("utf-16-le"),
            "utf16.csv: read as utf-8 (as detected), the text is nonsense",
            id="utf16-without-bom",
        ),
        pytest.param(
            "far.xlsx",
            _far_cell_xlsx(),
            "far.xlsx: the sheet 'Sheet1' spans A1:XFD1048576 (17,179,869,184 cells) but holds only 4 cells",
            id="far-cell",
        ),
        pytest.param(
            "open.csv",
            b'case,activity,timestamp\n1,"A,2024-01-01 10:00\n',
            "",
            id="unterminated-quote",
        ),
    ],
)
def test_hostile_upload_gets_a_clear_answer(workspace: Path, name: str, data: bytes, message: str) -> None:
    at = AppTest.from_function(_upload_page, default_timeout=TIMEOUT).run()
    _upload(at, name, data)
    assert not at.exception
    shown = _text(at.error)
    assert shown, "the page must say what is wrong"
    assert message in shown
    assert "Traceback" not in shown
    assert not workspace.exists()


def test_activity_from_two_columns_on_the_upload_page(workspace: Path) -> None:
    at = AppTest.from_function(_upload_page, default_timeout=TIMEOUT).run()
    _upload(at, "codes.csv", (FILES / "ingest" / "activity_codes.csv").read_bytes())
    activity = _widget(at.multiselect, "Activity")
    assert activity.options == ["case", "code", "title", "timestamp", "lifecycle"]
    activity.set_value(["code", "title"])
    at.run()
    assert not at.exception
    guesses = next(d.value for d in at.dataframe if "confidence" in d.value.columns)
    assert dict(zip(guesses["role"], guesses["column"], strict=True))["Activity"] == "code+title"
    _widget(at.button, "Ingest").click()
    at.run()
    assert not at.exception
    with Store(workspace, read_only=True) as store:
        assert store.query("SELECT DISTINCT activity FROM events ORDER BY 1").rows == [
            ("A10+Register",),
            ("B20+Approve",),
            ("C30+Reject",),
        ]


def test_preview_counts_are_what_the_ingest_stores(workspace: Path) -> None:
    rejecting = FILES / "app" / "rejecting.csv"  # 8 rows, 2 rejected: 25 %
    at = AppTest.from_function(_upload_page, default_timeout=TIMEOUT).run()
    _upload(at, "rejecting.csv", rejecting.read_bytes())
    shown = {m.label: m.value for m in at.metric}
    assert (shown["Cases"], shown["Events"], shown["Rows to reject"]) == ("4", "6", "2")
    assert "2 of 8 rows (25.0%) would be rejected, more than the 5% allowed" in _text(at.warning)
    _widget(at.slider, "Max rejected rows (%)").set_value(30)
    at.run()
    assert "would be rejected" not in _text(at.warning)
    _widget(at.button, "Ingest").click()
    at.run()
    assert not at.exception
    with Store(workspace, read_only=True) as store:
        (info,) = list_logs(store)
    assert (info.cases, info.events) == (4, 6)


def test_an_object_centric_upload_chooses_its_case_notion(workspace: Path) -> None:
    at = AppTest.from_function(_upload_page, default_timeout=TIMEOUT).run()
    _upload(at, "orders.json", (FILES / "presets" / "ocel" / "orders.json").read_bytes())
    assert not at.exception
    choice = _widget(at.selectbox, "Cases are the objects of type")
    assert choice.options == [
        "orders (2 objects, 8 events)",
        "items (3 objects, 6 events)",
        "employees (2 objects, 3 events)",
        "packages (1 object, 2 events)",
    ]
    assert choice.value == "orders"
    assert "Read with the OCEL (object-centric event log) preset." in _text(at.info)
    assert {m.label: m.value for m in at.metric}["Cases"] == "2"
    choice.set_value("items")
    at.run()
    assert {m.label: m.value for m in at.metric}["Cases"] == "3"
    assert "3 events touch no 'items' object and are in no case" in _text(at.caption)
    _widget(at.button, "Ingest").click()
    at.run()
    assert not at.exception
    # The summary keeps what the flattening left out and copied.
    assert "Loaded log orders from orders.json" in _text(at.success)
    assert "Read with the OCEL (object-centric event log) preset." in _text(at.info)
    assert "Convergence: 2 events touch several 'items' objects" in _text(at.caption)
    with Store(workspace, read_only=True) as store:
        (info,) = list_logs(store)
    assert (info.cases, info.events) == (3, 9)


def test_a_zone_the_time_zone_settles_is_read_once_it_is_set(workspace: Path) -> None:
    """An export writing CET and CEST, and BST for one ticket: the preview names BST's meanings as the
    reason to reject; with the time zone set to Europe/London no row is rejected."""
    lines = ["Ticket,Status,Changed at"]
    for i in range(1, 21):
        lines += [f"T{i},Opened,2026-03-02 09:00:00 CET", f"T{i},Resolved,2026-04-02 16:00:00 CEST"]
    lines += ["T99,Opened,2026-04-02 09:00:00 BST", "T99,Resolved,2026-04-03 09:00:00 BST"]
    at = AppTest.from_function(_upload_page, default_timeout=TIMEOUT).run()
    _upload(at, "tickets.csv", ("\n".join(lines) + "\n").encode())
    assert not at.exception
    shown = {m.label: m.value for m in at.metric}
    assert (shown["Cases"], shown["Events"], shown["Rows to reject"]) == ("20", "40", "2")
    (reasons,) = [df for df in at.dataframe if "reason" in df.value.columns and "row" in df.value.columns]
    assert set(reasons.value["reason"]) == {
        "the zone 'BST' names more than one offset: British Summer Time (+01:00), Bangladesh (+06:00); "
        "set the time zone to the export's (Europe/London reads BST as British Summer Time)"
    }
    _widget(at.text_input, "Time zone").set_value("Europe/London")
    at.run()
    shown = {m.label: m.value for m in at.metric}
    assert (shown["Cases"], shown["Events"], shown["Rows to reject"]) == ("21", "42", "0")
    _widget(at.button, "Ingest").click()
    at.run()
    assert not at.exception
    with Store(workspace, read_only=True) as store:
        rows = store.query(
            "SELECT strftime(timezone('UTC', ts), '%Y-%m-%d %H:%M') FROM events WHERE case_id IN ('T1', 'T99') "
            "ORDER BY case_id, ts"
        ).rows
    assert [t for (t,) in rows] == [
        "2026-03-02 08:00",
        "2026-04-02 14:00",
        "2026-04-02 08:00",
        "2026-04-03 08:00",
    ]


@pytest.mark.parametrize(
    ("name", "cases", "events", "sheet", "others"),
    [
        ("workbook_97.xls", 3, 6, "Events", "“Summary”"),
        ("jira_export.xls", 2, 5, "issuetable", "“Table 1”, “Table 3”"),
        ("tickets.ods", 3, 5, "Tickets", "“Summary”"),
    ],
)
def test_an_old_spreadsheet_shape_uploads_through_the_page(
    workspace: Path, name: str, cases: int, events: int, sheet: str, others: str
) -> None:
    at = AppTest.from_function(_upload_page, default_timeout=TIMEOUT).run()
    _upload(at, name, (FILES / "ingest" / name).read_bytes())
    assert not at.exception
    assert not at.error
    # The preview says which sheet it shows, before anything is written.
    assert f"Reading the sheet “{sheet}”; the file also has {others}." in _text(at.caption)
    shown = {m.label: m.value for m in at.metric}
    assert (shown["Cases"], shown["Events"]) == (str(cases), str(events))
    _widget(at.button, "Ingest").click()
    at.run()
    assert not at.exception
    assert f"read the sheet '{sheet}'" in _text(at.caption) + _text(at.info) + _text(at.warning)
    with Store(workspace, read_only=True) as store:
        (info,) = list_logs(store)
    assert (info.name, info.cases, info.events) == (Path(name).stem, cases, events)


@pytest.mark.parametrize(
    ("name", "cases", "events", "activity"),
    [("repair_example.mxml", 2, 6, "concept:name"), ("ticket_events.xml", 2, 3, "status")],
)
def test_an_mxml_log_and_an_xml_export_upload_through_the_page(
    workspace: Path, name: str, cases: int, events: int, activity: str
) -> None:
    at = AppTest.from_function(_upload_page, default_timeout=TIMEOUT).run()
    _upload(at, name, (FILES / "ingest" / name).read_bytes())
    assert not at.exception
    assert not at.error
    guesses = next(d.value for d in at.dataframe if "confidence" in d.value.columns)
    assert dict(zip(guesses["role"], guesses["column"], strict=True))["Activity"] == activity
    shown = {m.label: m.value for m in at.metric}
    assert (shown["Cases"], shown["Events"]) == (str(cases), str(events))
    _widget(at.button, "Ingest").click()
    at.run()
    assert not at.exception
    with Store(workspace, read_only=True) as store:
        (info,) = list_logs(store)
    assert (info.name, info.cases, info.events) == (Path(name).stem, cases, events)
