"""The workbench pages, driven by Streamlit's AppTest against a workspace in ``tmp_path``.

A first launch is opened through ``app.py`` (its default page, Start, loads
the sample as the Logs page does, so this also checks the routing); the Logs
and Upload pages are function pages, so they are run through
``AppTest.from_function`` with a two-line wrapper.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("streamlit", reason="the app is an optional extra: pip install '.[app]'")

from streamlit.testing.v1 import AppTest

from mining.catalog import list_logs
from mining.errors import Option
from mining.ingest import IngestOptions, ingest_file
from mining.schema import Reject
from mining.store import Store
from tests.conftest import FILES, SAMPLE_LOGS

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
SAMPLE = SAMPLE_LOGS / "service_desk.csv"
TIMEOUT = 60

# 3 cases, 6 events, 3 activities (Register, Approve, Reject), 2 variants.
TINY = FILES / "app" / "tiny.csv"

# Same file name as TINY in the isolation test, other bytes and header:
# 5 cases, 10 events, 3 activities (Open, Fix, Close), 3 variants.
OTHER = FILES / "app" / "other.csv"

# 8 rows, 2 rejected (row 4: no activity; row 5: a formula-like bad timestamp): 25 %.
REJECTING = FILES / "app" / "rejecting.csv"


def _logs_page() -> None:
    # AppTest.from_function runs this body as the whole script.
    from mining.ui.pages import logs

    logs.render()


def _upload_page() -> None:
    # AppTest.from_function runs this body as the whole script.
    from mining.ui.pages import upload

    upload.render()


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "workspace.duckdb"
    monkeypatch.setenv("MINING_WORKSPACE", str(path))
    return path


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _widget(elements, label: str):
    return next(e for e in elements if e.label == label)


def _text(elements) -> str:
    # Messages are markdown-escaped (``bad\.csv``); compare the text a reader sees.
    return "\n".join(e.value for e in elements).replace("\\", "").replace("**", "")


def _upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader[0].set_value((name, data, "text/csv"))
    return at.run()


def _frame(at: AppTest, *columns: str):
    """The first table shown with exactly these columns."""
    return next(d.value for d in at.dataframe if list(d.value.columns) == list(columns))


def _mapping(at: AppTest) -> dict[str, str]:
    frame = _frame(at, "role", "column", "format")
    return dict(zip(frame["role"], frame["column"], strict=True))


def test_first_launch_ingests_the_sample_and_shows_its_counts(workspace: Path) -> None:
    with Store() as store:
        expected = ingest_file(store, SAMPLE)
    assert not workspace.exists()

    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()

    assert not at.exception
    assert "service_desk" in _text(at.success)
    shown = _metrics(at)
    assert shown["Cases"] == f"{expected.cases:,}"
    assert shown["Events"] == f"{expected.events:,}"
    assert shown["Activities"] == f"{expected.activities:,}"
    assert shown["Variants"] == f"{expected.variants:,}"
    assert at.selectbox[0].options == ["service_desk"]
    # The page holds no connection: the workspace is writable at once (as by the CLI).
    with Store(workspace) as store:
        assert [i.name for i in list_logs(store)] == ["service_desk"]


def test_empty_workspace_without_the_sample_says_how_to_ingest(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mining.ui import state

    monkeypatch.setattr(state, "SAMPLE_LOG", tmp_path / "missing.csv")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()

    assert not at.exception
    assert "mining ingest FILE" in _text(at.info)
    assert not at.metric
    assert not workspace.exists()


def test_logs_page_shows_a_tiny_log_exactly(workspace: Path) -> None:
    with Store(workspace) as store:
        ingest_file(store, TINY)

    at = AppTest.from_function(_logs_page, default_timeout=TIMEOUT).run()

    assert not at.exception
    assert not at.success  # the workspace had a log, so no sample was loaded
    assert at.selectbox[0].value == "tiny"
    shown = _metrics(at)
    assert (shown["Cases"], shown["Events"], shown["Activities"], shown["Variants"]) == ("3", "6", "3", "2")
    assert shown["Time span"] == "2.0 days"  # 1 March 09:00 to 3 March 09:45, in the one duration wording
    mapping = _mapping(at)
    assert mapping["Case"] == "case_id"
    assert mapping["Activity"] == "activity"
    assert mapping["Timestamp"] == "timestamp"
    assert mapping["Resource"] == "resource"
    assert mapping["Start timestamp"] == "(none)"
    assert "The log's time zone is UTC" in _text(at.caption)
    assert "No rows were rejected." in _text(at.caption)

    # A write between reruns (as `mining ingest` would do) shows up on the next run.
    with Store(workspace) as store:
        ingest_file(
            store, OTHER, IngestOptions(roles={"case": "ticket", "activity": "step", "timestamp": "done_at"})
        )
    at.run()
    assert at.selectbox[0].options == ["tiny", "other"]
    at.selectbox[0].set_value("other").run()
    assert _metrics(at)["Cases"] == "5"
    assert _mapping(at)["Case"] == "ticket"


def test_upload_ingests_and_shows_the_summary(workspace: Path) -> None:
    at = AppTest.from_function(_upload_page, default_timeout=TIMEOUT).run()
    _upload(at, "tiny.csv", TINY.read_bytes())
    assert _widget(at.text_input, "Log name").value == "tiny"
    assert _widget(at.selectbox, "Case").options == [
        "(detect)",
        "case_id",
        "activity",
        "timestamp",
        "resource",
    ]

    # Before anything is written: the detected roles with their confidence, and the first rows.
    preview = _frame(at, "role", "column", "confidence", "reason")
    assert dict(zip(preview["role"], preview["column"], strict=True))["Case"] == "case_id"
    assert all(c.endswith("%") for c in preview["confidence"])
    assert list(_frame(at, "case_id", "activity", "timestamp", "resource")["case_id"]) == [
        "c1",
        "c1",
        "c2",
        "c2",
        "c3",
        "c3",
    ]
    assert not workspace.exists()

    at.button(key="upload-ingest").click().run()

    assert not at.exception
    assert not at.error
    assert "Loaded log tiny from tiny.csv" in _text(at.success)
    shown = _metrics(at)
    assert (shown["Cases"], shown["Events"], shown["Activities"], shown["Variants"]) == ("3", "6", "3", "2")
    assert (shown["Rows read"], shown["Events added"], shown["Rejected rows"]) == ("6", "6", "0")
    assert _mapping(at)["Case"] == "case_id"
    guesses = [d.value for d in at.dataframe if "confidence" in d.value.columns][-1]
    assert list(guesses["role"][:3]) == ["Case", "Activity", "Timestamp"]
    assert "no start timestamps" in _text(at.warning)
    # The library's hint, in the app's words: the zone is an option here, not a flag.
    assert (
        "timestamps without an offset in 'timestamp' were read as UTC; use the \"Time zone\" option if they are "
        "local times" in _text(at.warning).replace("\\", "")
    )
    assert "--" not in _text(at.warning)
    with Store(workspace, read_only=True) as store:
        [log] = list_logs(store)
    assert (log.name, log.cases, log.events) == ("tiny", 3, 6)


def test_upload_pairs_lifecycle_starts_when_asked(workspace: Path) -> None:
    # Two cases of start and complete events, and one start still open at the extract's end.
    rows = ["case,activity,lifecycle,timestamp"]
    for i in (1, 2):
        rows += [
            f"c{i},Pack,start,2026-01-0{i} 09:00",
            f"c{i},Pack,complete,2026-01-0{i} 10:00",
            f"c{i},Ship,start,2026-01-0{i} 11:00",
            f"c{i},Ship,complete,2026-01-0{i} 12:00",
        ]
    rows.append("c2,Bill,start,2026-01-02 13:00")
    data = ("\n".join(rows) + "\n").encode()
    at = AppTest.from_function(_upload_page, default_timeout=TIMEOUT).run()
    _upload(at, "packing.csv", data)
    assert (
        "5 events of these are starts of an activity whose completion is another event: the map and the "
        "variants will count both as steps. Tick “One step per activity instance” under Options to pair them."
    ) in _text(at.caption)
    assert _metrics(at)["Events"] == "9"
    _widget(at.checkbox, "One step per activity instance").check().run()
    assert "4 start events will be paired with their completions" in _text(at.caption)
    assert _metrics(at)["Events"] == "5"
    at.button(key="upload-ingest").click().run()
    assert not at.exception
    assert not at.error, _text(at.error)
    shown = _metrics(at)
    assert (shown["Cases"], shown["Events"], shown["Rows read"]) == ("2", "5", "9")
    assert (
        "each lifecycle start was paired with its completion: 4 activity instances, each one step with its "
        "processing time; 1 start without a completion stays a step of its own"
    ) in _text([*at.warning, *at.info, *at.caption])
    with Store(workspace, read_only=True) as store:
        [log] = list_logs(store)
        assert store.query(
            "SELECT activity, lifecycle, start_ts IS NOT NULL FROM events WHERE case_id = 'c2' ORDER BY ts"
        ).rows == [("Pack", "complete", True), ("Ship", "complete", True), ("Bill", "start", False)]
    assert (log.cases, log.events) == (2, 5)


# TINY's next export: c3 again (already loaded) and a new case c4, in the same local time.
NEWER = FILES / "app" / "tiny_march.csv"


def test_append_in_the_app_reads_the_new_export_in_the_logs_zone(workspace: Path) -> None:
    import datetime as dt

    at = AppTest.from_function(_upload_page, default_timeout=TIMEOUT).run()
    _upload(at, "tiny.csv", TINY.read_bytes())
    _widget(at.text_input, "Time zone").set_value("Europe/Berlin").run()
    at.button(key="upload-ingest").click().run()
    assert not at.error
    assert "were read as UTC" not in _text(at.warning)

    again = AppTest.from_function(_upload_page, default_timeout=TIMEOUT).run()
    _upload(again, "tiny_march.csv", NEWER.read_bytes())
    _widget(again.checkbox, "Append to an existing log").check().run()
    _widget(again.selectbox, "Log to append to").set_value("tiny").run()
    assert _widget(again.text_input, "Time zone").value == ""  # left blank: the log's own zone
    assert "times without a time zone are read as Europe/Berlin time" in _text(again.caption).replace(
        "\\", ""
    )
    again.button(key="upload-ingest").click().run()
    assert not again.exception
    assert not again.error, _text(again.error)
    assert (_metrics(again)["Rows read"], _metrics(again)["Events added"]) == ("8", "2")
    with Store(workspace, read_only=True) as store:
        [log] = list_logs(store)
        first, last = store.query(
            "SELECT min(ts), max(ts) FROM events WHERE log_id = $log AND case_id = 'c4'", {"log": log.log_id}
        ).rows[0]
    assert (log.cases, log.events, log.timezone) == (4, 8, "Europe/Berlin")
    # 31 March 2025 is summer time in Berlin (UTC+2).
    assert (first, last) == (
        dt.datetime(2025, 3, 31, 7, tzinfo=dt.UTC),
        dt.datetime(2025, 3, 31, 8, tzinfo=dt.UTC),
    )


def test_upload_of_a_header_only_file_shows_a_clean_error(workspace: Path) -> None:
    at = AppTest.from_function(_upload_page, default_timeout=TIMEOUT).run()
    _upload(at, "header_only.csv", b"case_id,activity,timestamp\n")

    # The preview already finds the problem, so no Ingest button is offered.
    assert not at.exception
    assert [b for b in at.button if b.key == "upload-ingest"] == []
    assert len(at.error) == 1
    assert "header_only.csv" in _text(at.error)
    assert "Traceback" not in _text(at.error)
    assert not at.metric
    # The failed ingest wrote to a scratch copy that was discarded: no workspace file at all.
    assert not workspace.exists()


def test_upload_preview_says_which_title_lines_above_the_header_it_skips(workspace: Path) -> None:
    at = AppTest.from_function(_upload_page, default_timeout=TIMEOUT).run()
    _upload(
        at,
        "report.csv",
        b"Open tickets\n\ncase_id;activity;timestamp\n1;Open;2024-01-01 10:00\n"
        b"1;Close;2024-01-01 11:00\n2;Open;2024-01-02 10:00\n",
    )
    assert not at.exception and not at.error
    captions = [c.value for c in at.caption]
    assert "The table starts below 1 title line, skipped: “Open tickets”" in captions
    assert any(c.startswith("3 rows; Timestamp read as ISO 8601;") for c in captions)


def test_too_many_rejects_offers_them_then_a_higher_threshold_loads(workspace: Path) -> None:
    at = AppTest.from_function(_upload_page, default_timeout=TIMEOUT).run()
    _upload(at, "rejecting.csv", REJECTING.read_bytes())
    at.button(key="upload-ingest").click().run()

    assert not at.exception
    assert "rejecting.csv: 2 of 8 rows" in _text(at.error)
    assert 'or raise the "Max rejected rows" slider' in _text(at.error).replace("\\", "")
    assert 'write them all with the "Download … rejected rows (CSV)" button below' in _text(at.error)
    assert "--" not in _text(at.error)
    rejects = next(d.value for d in at.dataframe if "reason" in d.value.columns and "row" in d.value.columns)
    assert list(rejects["row"]) == [4, 5]
    assert list(rejects["column"]) == ["activity", "timestamp"]
    [download] = at.get("download_button")
    assert download.proto.label == "Download 2 rejected rows (CSV)"

    _widget(at.slider, "Max rejected rows (%)").set_value(50)
    at.button(key="upload-ingest").click().run()
    assert not at.error
    assert _metrics(at)["Rejected rows"] == "2"
    assert _metrics(at)["Cases"] == "4"


def test_rejects_download_neutralises_formulas_as_the_cli_does(tmp_path: Path) -> None:
    from mining.catalog import export_rejects
    from mining.ui.state import rejects_csv

    items = [
        Reject("x.csv", 5, "timestamp", "bad timestamp", "=1+1"),
        Reject("x.csv", 6, None, "empty", None),
    ]
    data = rejects_csv(items)
    assert data.decode().splitlines() == [
        "file,row,column,reason,value",
        "x.csv,5,timestamp,bad timestamp,'=1+1",
        "x.csv,6,,empty,",
    ]
    export_rejects(items, tmp_path / "rejects.csv")  # `mining rejects LOG -o FILE`
    assert data == (tmp_path / "rejects.csv").read_bytes()


def test_same_file_name_other_bytes_each_session_gets_its_own_data(workspace: Path) -> None:
    a = AppTest.from_function(_upload_page, default_timeout=TIMEOUT).run()
    b = AppTest.from_function(_upload_page, default_timeout=TIMEOUT).run()
    _upload(a, "export.csv", TINY.read_bytes())
    _upload(b, "export.csv", OTHER.read_bytes())

    # The header preview is cached by content hash, not by name.
    assert "case_id" in _widget(a.selectbox, "Case").options
    assert "ticket" in _widget(b.selectbox, "Case").options
    assert "case_id" not in _widget(b.selectbox, "Case").options

    _widget(a.text_input, "Log name").set_value("export_a")
    a.button(key="upload-ingest").click().run()
    _widget(b.text_input, "Log name").set_value("export_b")
    _widget(b.selectbox, "Case").set_value("ticket")
    _widget(b.multiselect, "Activity").set_value(["step"])
    _widget(b.multiselect, "Timestamp").set_value(["done_at"])
    b.button(key="upload-ingest").click().run()
    a.run()

    assert not a.exception and not b.exception
    assert (_metrics(a)["Cases"], _metrics(a)["Events"]) == ("3", "6")
    assert (_metrics(b)["Cases"], _metrics(b)["Events"]) == ("5", "10")
    assert "export_a" in _text(a.success)
    assert "export_b" in _text(b.success)
    with Store(workspace, read_only=True) as store:
        assert {i.name: i.cases for i in list_logs(store)} == {"export_a": 3, "export_b": 5}


def test_upload_suffixes_are_kept_for_format_detection() -> None:
    from mining.ui.uploads import upload_suffix

    assert upload_suffix("log.xes.gz") == ".xes.gz"
    assert upload_suffix("Q3 report.v2.csv") == ".csv"
    assert upload_suffix("..\\..\\evil.csv") == ".csv"
    assert upload_suffix("no_suffix") == ""


def test_gzipped_upload_uses_text_inputs_and_loads(workspace: Path) -> None:
    import gzip

    at = AppTest.from_function(_upload_page, default_timeout=TIMEOUT).run()
    _upload(at, "tiny.csv.gz", gzip.compress(TINY.read_bytes()))
    assert _widget(at.text_input, "Log name").value == "tiny"
    _widget(at.text_input, "Case").set_value("case_id")  # no header preview for .gz: typed names
    at.button(key="upload-ingest").click().run()

    assert not at.exception
    assert not at.error
    assert (_metrics(at)["Cases"], _metrics(at)["Events"]) == ("3", "6")


def test_upload_of_a_jira_export_is_read_through_its_preset(workspace: Path) -> None:
    jira = FILES / "presets" / "jira" / "search_changelog.json"
    at = AppTest.from_function(_upload_page, default_timeout=TIMEOUT).run()
    at.file_uploader[0].set_value(("search_changelog.json", jira.read_bytes(), "application/json"))
    at.run()
    assert not at.exception
    assert not at.error
    assert "Read with the Jira (issue changelog) preset." in _text(at.info)
    assert "3 issues, 4 field changes read as events" in _text(at.caption)
    sample = next(d.value for d in at.dataframe if "source_row" in d.value.columns)
    assert list(sample["activity"][:1]) == ["Created"]

    at.button(key="upload-ingest").click().run()
    assert not at.error
    shown = _metrics(at)
    assert (shown["Cases"], shown["Events"], shown["Variants"]) == ("3", "7", "3")

    # Switching the detection off reads the JSON as a plain list of records (Jira's issues, their fields
    # nested): no case column to find, a clean error, no ingest offered.
    _widget(at.selectbox, "Source system").set_value("\x00none").run()
    assert "cannot tell which column is the case" in _text(at.error)
    assert [b for b in at.button if b.key == "upload-ingest"] == []


def test_upload_of_a_ticket_list_reads_each_date_as_a_step(workspace: Path) -> None:
    # One row per ticket, a date column per step: loaded as one event per ticket before.
    tickets = (
        "Id,Subject,Status,Created at,Updated at,Assigned at,Solved at\n"
        "101,Printer,solved,2026-03-01 09:00,2026-03-03 10:00,2026-03-01 10:00,2026-03-02 12:00\n"
        "102,VPN,open,2026-03-02 09:00,2026-03-02 11:00,2026-03-02 11:00,\n"
        "103,Laptop,solved,2026-03-03 09:00,2026-03-05 09:00,2026-03-03 09:30,2026-03-04 15:00\n"
    )
    at = AppTest.from_function(_upload_page, default_timeout=TIMEOUT).run()
    _upload(at, "tickets.csv", tickets.encode())
    assert not at.exception and not at.error
    assert "Read with the List with a date per step (one row per case) preset." in _text(at.info)
    captions = _text(at.caption)
    assert "Each row of tickets.csv is one case ('Id')" in captions
    # The app names its own control, not the command line's flag.
    assert "Left out as no steps: 'Updated at'" in captions and '"Also read as events"' in captions
    assert "--include" not in captions

    at.button(key="upload-ingest").click().run()
    assert not at.error
    shown = _metrics(at)
    assert (shown["Cases"], shown["Events"], shown["Variants"]) == ("3", "8", "2")


# Column names no detection knows: the user maps them on the page.
CHANGES = FILES / "app" / "changes.csv"


def test_a_change_history_is_mapped_on_the_page(workspace: Path) -> None:
    at = AppTest.from_function(_upload_page, default_timeout=TIMEOUT).run()
    _upload(at, "changes.csv", CHANGES.read_bytes())
    assert [s for s in at.selectbox if s.label == "Field name"] == []  # only for the change-log preset
    _widget(at.selectbox, "Source system").set_value("changelog").run()
    assert _widget(at.selectbox, "Field name").options == [
        "(detect)",
        "ticket",
        "what",
        "was",
        "now",
        "agent",
        "at",
    ]
    _widget(at.selectbox, "Case").set_value("ticket")
    _widget(at.multiselect, "Timestamp").set_value(["at"])
    _widget(at.selectbox, "Resource").set_value("agent")
    _widget(at.selectbox, "Field name").set_value("what")
    _widget(at.selectbox, "New value").set_value("now")
    _widget(at.selectbox, "Old value").set_value("was").run()
    assert not at.error, _text(at.error)
    assert "Read with the Change log (record, field, old, new, who, when) preset." in _text(at.info)

    at.button(key="upload-ingest").click().run()
    assert not at.error, _text(at.error)
    shown = _metrics(at)
    # 'stage' is the status-like field: its three changes are the events, the note is left out.
    assert (shown["Cases"], shown["Events"], shown["Variants"]) == ("2", "3", "2")

    # "Also read as events" brings the note in, as --include does.
    _widget(at.text_input, "Log name").set_value("changes_all")
    _widget(at.text_input, "Also read as events").set_value("all").run()
    at.button(key="upload-ingest").click().run()
    assert not at.error, _text(at.error)
    assert _metrics(at)["Events"] == "4"
    with Store(workspace, read_only=True) as store:
        rows = store.query(
            "SELECT case_id, activity, resource FROM events WHERE log_id = "
            "(SELECT log_id FROM logs WHERE name = 'changes_all') ORDER BY case_no, ts, row_no"
        ).rows
    assert rows == [
        ("T-1", "stage: New", "ann"),
        ("T-1", "stage: Done", "bob"),
        ("T-1", "note: call back", "bob"),
        ("T-2", "stage: New", "ann"),
    ]


@pytest.mark.parametrize(
    ("option", "app"),
    [
        (Option("timestamp", "COLUMN"), "the Timestamp column under Options"),
        (Option("start_timestamp", "COLUMN"), "the Start timestamp column under Options"),
        (Option("case"), "the Case column under Options"),
        (Option("dayfirst"), 'the "Dates such as 03/04/2025" choice under Options'),
        (Option("monthfirst"), 'the "Dates such as 03/04/2025" choice under Options'),
        (Option("timestamp_format"), 'the "Timestamp format" option'),
        (Option("timezone", "Europe/Berlin"), 'the "Time zone" option'),
        (Option("max_rejects"), 'the "Max rejected rows" slider'),
        (Option("append"), '"Append to an existing log"'),
        (Option("name"), 'the "Log name" option'),
        (Option("encoding"), 'the "Encoding" option'),
        (Option("preset", "NAME"), 'the "Source system" choice'),
        (Option("preset", "none"), 'the "Source system" choice "None"'),
        (Option("preset", "auto"), 'the "Source system" choice "Detect automatically"'),
        (Option("include", "FIELD"), '"Also read as events"'),
        (Option("include", "all"), '"all" in "Also read as events"'),
        (Option("preset_role", "field=COLUMN"), 'the "Field name" column under Options'),
        (Option("preset_role", "case=COLUMN"), "the Case column under Options"),
        (Option("sla", "DURATION"), 'the "SLA (cycle time)" field'),
        # Not on any page: the command line's flag, said to be one.
        (Option("delimiter", ";"), "the command line's --delimiter ;"),
    ],
)
def test_library_options_are_named_as_the_apps_controls(option: Option, app: str) -> None:
    from mining.ui.messages import control

    assert control(option) == app


def test_each_upload_control_named_in_messages_is_on_the_upload_page(workspace: Path) -> None:
    from mining.ui.messages import control

    at = AppTest.from_function(_upload_page, default_timeout=TIMEOUT).run()
    _upload(at, "tiny.csv", TINY.read_bytes())
    _widget(at.selectbox, "Source system").set_value("changelog").run()  # shows the change-history columns
    labels = [
        w.label
        for kind in ("text_input", "selectbox", "multiselect", "slider", "checkbox", "radio")
        for w in at.get(kind)
    ]
    names = ["case", "activity", "timestamp", "start_timestamp", "resource", "lifecycle", "cost"]
    names += [
        "dayfirst",
        "timestamp_format",
        "timezone",
        "max_rejects",
        "append",
        "name",
        "encoding",
        "include",
    ]
    options = [Option(n) for n in names] + [
        Option("preset_role", f"{r}=COLUMN") for r in ("field", "new", "old")
    ]
    for option in options:
        words = control(option)
        quoted = re.findall(r'"([^"]+)"', words) or [re.fullmatch(r"the (.+) column under Options", words)[1]]
        assert any(label.startswith(quoted[0]) for label in labels), (words, labels)
    source, choice = re.findall(r'"([^"]+)"', control(Option("preset", "none")))
    assert any(o.startswith(choice) for o in _widget(at.selectbox, source).options)


def test_errors_are_shown_in_the_apps_words(workspace: Path) -> None:
    at = AppTest.from_function(_raises_a_phrase, default_timeout=TIMEOUT).run()
    assert not at.exception
    [error] = at.error
    assert _text([error]) == (
        "no column 'Tiket' for the Case column under Options\n\n"
        'Hint: use "Append to an existing log" to add a newer export to it, or the "Log name" option for a new log'
    )
    # The command line words the same error with its flags.
    exc = _a_phrased_error()
    assert str(exc) == "no column 'Tiket' for --case"
    assert exc.hint == "use --append to add a newer export to it, or --name for a new log"


def _a_phrased_error():
    from mining.errors import IngestError, Phrase

    return IngestError(
        Phrase("no column 'Tiket' for {}", (Option("case"),)),
        hint=Phrase(
            "use {} to add a newer export to it, or {} for a new log", (Option("append"), Option("name"))
        ),
    )


def _raises_a_phrase() -> None:
    # AppTest.from_function runs this body as the whole script.
    from mining.errors import IngestError, Option, Phrase
    from mining.ui.messages import reporting_errors

    with reporting_errors():
        raise IngestError(
            Phrase("no column 'Tiket' for {}", (Option("case"),)),
            hint=Phrase(
                "use {} to add a newer export to it, or {} for a new log", (Option("append"), Option("name"))
            ),
        )


def test_a_phrase_warning_keeps_its_options_across_processes_and_prints_as_flags() -> None:
    import json
    import pickle

    from mining.errors import Phrase
    from mining.schema import to_jsonable
    from mining.ui.messages import app_text

    warning = Phrase("read as UTC; use {} if they are local times", (Option("timezone"),))
    again = pickle.loads(pickle.dumps(warning))
    assert again == warning
    assert json.dumps(to_jsonable([again])) == '["read as UTC; use --timezone if they are local times"]'
    assert app_text(again) == 'read as UTC; use the "Time zone" option if they are local times'
    assert app_text("no start timestamps") == "no start timestamps"


def test_the_utc_warning_names_a_column_with_braces_as_it_is(tmp_path: Path) -> None:
    from mining.ui.messages import app_text

    source = tmp_path / "braces.csv"
    source.write_text("case_id,activity,at {local}\nc1,a,2025-03-01 09:00\nc1,b,2025-03-01 10:00\n")
    with Store() as store:
        summary = ingest_file(store, source, IngestOptions(roles={"timestamp": "at {local}"}))
    [warning] = [w for w in summary.warnings if "UTC" in str(w)]
    assert str(warning) == (
        "timestamps without an offset in 'at {local}' were read as UTC; use --timezone if they are local times"
    )
    assert app_text(warning).endswith(
        "'at {local}' were read as UTC; use the \"Time zone\" option if they are local times"
    )


def test_a_central_european_export_is_read_in_its_code_page_and_the_encoding_option_obeyed(
    workspace: Path,
) -> None:
    # Czech in cp1250 reads as plausible Western text in cp1252 ("Pøíjem" for "Příjem"): the letters tell
    # cp1250, and an Encoding the user types is obeyed even where it reads the bytes wrong.
    data = "case_id,activity,timestamp\nc1,Příjem žádosti,2025-03-01 09:00\nc1,Uzavření,2025-03-01 10:00\n"
    at = AppTest.from_function(_upload_page, default_timeout=TIMEOUT).run()
    _upload(at, "brno.csv", data.encode("cp1250"))
    assert list(_frame(at, "case_id", "activity", "timestamp")["activity"]) == ["Příjem žádosti", "Uzavření"]
    _widget(at.text_input, "Encoding").set_value("cp1252").run()
    assert list(_frame(at, "case_id", "activity", "timestamp")["activity"]) == ["Pøíjem žádosti", "Uzavøení"]
    _widget(at.text_input, "Encoding").set_value("cp1250").run()
    at.button(key="upload-ingest").click().run()
    assert not at.error
    with Store(workspace, read_only=True) as store:
        assert store.query("SELECT activity FROM events ORDER BY row_no").rows == [
            ("Příjem žádosti",),
            ("Uzavření",),
        ]


def test_a_polish_export_is_read_as_cp1250_without_asking(workspace: Path) -> None:
    # cp1252 read it as "Zg³oszenie £ódŸ": ł, ż and ź are ³, ¿ and Ÿ there, which no Western word holds.
    data = "case_id,activity,timestamp\nc1,Zgłoszenie Łódź,2025-03-01 09:00\nc1,Zamknięcie,2025-03-01 10:00\n"
    at = AppTest.from_function(_upload_page, default_timeout=TIMEOUT).run()
    _upload(at, "lodz.csv", data.encode("cp1250"))
    assert list(_frame(at, "case_id", "activity", "timestamp")["activity"]) == [
        "Zgłoszenie Łódź",
        "Zamknięcie",
    ]


def test_a_date_and_a_time_column_are_joined_into_the_timestamp_on_the_page(workspace: Path) -> None:
    # SAP's change documents keep the date and the time of a change apart (UDATE, UTIME).
    data = (
        "OBJECTID,TCODE,UDATE,UTIME,USERNAME\n4500000001,ME21N,20261205,090304,ANN\n"
        "4500000001,ME22N,20261205,141500,BOB\n4500000002,ME21N,20261206,101010,ANN\n"
    )
    at = AppTest.from_function(_upload_page, default_timeout=TIMEOUT).run()
    _upload(at, "cdhdr.csv", data.encode())
    timestamp = _widget(at.multiselect, "Timestamp")
    assert timestamp.max_selections == 2
    timestamp.set_value(["UDATE", "UTIME"])
    _widget(at.multiselect, "Activity").set_value(["TCODE"])
    _widget(at.selectbox, "Case").set_value("OBJECTID").run()
    at.button(key="upload-ingest").click().run()
    assert not at.error and not at.exception
    assert _mapping(at)["Timestamp"] == "UDATE+UTIME"
    with Store(workspace, read_only=True) as store:
        assert [str(r[0]) for r in store.query("SELECT ts FROM events ORDER BY row_no").rows] == [
            "2026-12-05 09:03:04+00:00",
            "2026-12-05 14:15:00+00:00",
            "2026-12-06 10:10:10+00:00",
        ]


def test_the_preview_shows_an_empty_field_empty_not_as_a_dash(workspace: Path) -> None:
    # "-" is a value in an id column (it is not read as missing there): the preview must not draw a
    # missing field the same way.
    at = AppTest.from_function(_upload_page, default_timeout=TIMEOUT).run()
    _upload(
        at,
        "dash.csv",
        b"case_id,activity,timestamp,note\n-,Open,2024-01-01 10:00,\n-,Close,2024-01-01 11:00,x\n",
    )
    [sample] = [d for d in at.dataframe if "note" in d.value.columns]
    assert sample.proto.placeholder == ""
    assert list(sample.value["case_id"]) == ["-", "-"]
