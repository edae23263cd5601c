"""The ticketing presets (Jira, ServiceNow, Zendesk) and the generic change log, event by event.

Each fixture under ``tests/files/presets/<system>/`` is a small export written
from the system's documented field names.  Every test loads one into a fresh
in-memory workspace through ``ingest_file`` and reads the stored log back:
cases, activities, timestamps in UTC, resources, attributes; or the exact
error a broken export gives (file, row or JSON path, column or key).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from mining.catalog import rejects as stored_rejects
from mining.cli import cli
from mining.errors import BadExport, BadTimestamp, MissingColumn, Option, TooManyRejects
from mining.ingest import IngestOptions, ingest_file
from mining.store import quote_ident
from tests.conftest import FILES

PRESETS = FILES / "presets"
JIRA_JSON = PRESETS / "jira" / "search_changelog.json"
AUDIT = PRESETS / "servicenow" / "audit"
STATE_EXPORT = PRESETS / "servicenow" / "incident_event_log.csv"
AUDITS = PRESETS / "zendesk" / "ticket_audits.json"
SERVICENOW_REAL = "servicenow_incident_event_log_uci_ids_stripped.csv.gz"


def events(store, log_id):
    """(case, activity, UTC time, resource) of every stored event, in log order."""
    out = []
    for case, activity, ts, resource in store.query(
        "SELECT case_id, activity, ts, resource FROM events WHERE log_id = ? ORDER BY case_no, ts, row_no",
        [log_id],
    ).rows:
        assert ts.utcoffset() == dt.timedelta(0)
        stamp = ts.strftime("%Y-%m-%d %H:%M:%S") + (
            f".{ts.microsecond:06d}".rstrip("0") if ts.microsecond else ""
        )
        out.append((case, activity, stamp, resource))
    return out


def attributes(store, log_id, *names):
    """The named attribute columns of every event, in log order."""
    internal = dict(
        store.query("SELECT source_name, column_name FROM attribute_columns WHERE log_id = ?", [log_id]).rows
    )
    cols = ", ".join(f"a.{quote_ident(internal[n])}" for n in names)
    return store.query(
        f"SELECT {cols} FROM events e JOIN {quote_ident(f'attrs_{log_id}')} a USING (row_no) "
        "WHERE e.log_id = ? ORDER BY e.case_no, e.ts, e.row_no",
        [log_id],
    ).rows


def write_json(path: Path, doc: object) -> Path:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- Jira


JIRA_DEFAULT = [
    ("SUP-1", "Created", "2024-03-04 08:00:00", "Alice Martin"),
    ("SUP-1", "Status: In Progress", "2024-03-04 09:15:30.12", "Bob Chen"),
    ("SUP-1", "Status: Done", "2024-03-05 15:45:00", "Bob Chen"),
    ("SUP-2", "Created", "2024-03-04 10:30:00", "Carol Diaz"),
    ("SUP-2", "Status: In Progress", "2024-03-06 07:00:00", "Alice Martin"),
    # No displayName (a privacy setting): the accountId stands in.
    ("SUP-2", "Status: In Review", "2024-03-07 08:30:00", "5b10ac8d82e05b22cc7d4ef6"),
    ("SUP-3", "Created", "2024-03-08 22:00:00", "Dan Evans"),
]


def test_jira_rest_json_gives_created_and_status_events(store):
    summary = ingest_file(store, JIRA_JSON)
    assert summary.preset == "jira"
    assert (summary.cases, summary.events, summary.variants, summary.rejected_rows) == (3, 7, 3, 0)
    assert events(store, summary.log_id) == JIRA_DEFAULT
    assert tuple(map(str, summary.preset_notes)) == (
        "3 issues, 4 field changes read as events",
        "4 changes of other fields are not events (add assignee, resolution, sprint with --include)",
    )
    assert summary.preset_notes[1].options == (Option("include"),)
    assert (
        attributes(store, summary.log_id, "issuetype", "priority", "project", "components")[:3]
        == [("Bug", "High", "SUP", "Billing, API")] * 3
    )
    assert attributes(store, summary.log_id, "from", "to", "source_row")[:2] == [
        (None, None, "search_changelog.json issues[0].fields.created"),
        ("To Do", "In Progress", "search_changelog.json issues[0].changelog.histories[0].items[0]"),
    ]
    mapping = json.loads(store.scalar("SELECT mapping FROM logs"))
    assert (mapping["preset"], mapping["case"], mapping["activity"], mapping["resource"]) == (
        "jira",
        "issue",
        "activity",
        "author",
    )


def test_jira_include_adds_assignee_resolution_and_sprint(store):
    summary = ingest_file(store, JIRA_JSON, IngestOptions(include=("assignee", "resolution", "sprint")))
    got = events(store, summary.log_id)
    assert [(c, a) for c, a, _, _ in got] == [
        ("SUP-1", "Created"),
        ("SUP-1", "Status: In Progress"),
        ("SUP-1", "Assigned"),
        ("SUP-1", "Status: Done"),
        ("SUP-1", "Resolution: Fixed"),
        ("SUP-2", "Created"),
        ("SUP-2", "Status: In Progress"),
        ("SUP-2", "Sprint changed"),
        ("SUP-2", "Status: In Review"),
        ("SUP-3", "Created"),
    ]
    # Only the priority change stays out.
    assert summary.preset_notes[1] == "1 change of other fields is not an event"
    assert attributes(store, summary.log_id, "to")[2] == ("Bob Chen",)


def test_jira_changelog_table(store):
    summary = ingest_file(
        store, PRESETS / "jira" / "changelog_export.csv", IngestOptions(include=("resolution",))
    )
    assert summary.preset == "jira"
    assert events(store, summary.log_id) == [
        ("OPS-7", "Status: In Progress", "2024-05-02 06:10:00", "Erin Fox"),
        ("OPS-7", "Status: Resolved", "2024-05-02 09:40:12.5", "Gil Hart"),
        ("OPS-7", "Resolution: Done", "2024-05-02 09:40:12.5", "Gil Hart"),
        ("OPS-8", "Status: Waiting for customer", "2024-05-03 07:05:00", "Erin Fox"),
        ("OPS-8", "Status: Resolved", "2024-05-06 12:30:00", "Ivy Jones"),
    ]
    assert attributes(store, summary.log_id, "issuetype", "source_row")[-1] == (
        "Service request",
        "changelog_export.csv row 7",
    )


def test_jira_truncated_changelog_is_noted(store, tmp_path):
    doc = json.loads(JIRA_JSON.read_text())
    doc["issues"][1]["changelog"]["total"] = 140
    summary = ingest_file(store, write_json(tmp_path / "search.json", doc))
    assert summary.preset_notes[-1] == (
        "the export holds only part of the history of SUP-2 (3 of 140); "
        "fetch /rest/api/3/issue/KEY/changelog for the rest"
    )


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        pytest.param(
            lambda d: d["issues"][1].pop("key"),
            MissingColumn,
            "search.json issues[1]: missing key 'key'; expected the issue key, e.g. 'PROJ-123'",
            id="no-key",
        ),
        pytest.param(
            lambda d: d["issues"][0]["changelog"]["histories"][1].pop("created"),
            MissingColumn,
            "search.json issues[0].changelog.histories[1]: missing key 'created'; expected the time of the change, "
            "like '2017-02-28T09:24:59.366-0600'",
            id="history-without-created",
        ),
        pytest.param(
            lambda d: d["issues"][0]["changelog"]["histories"][0].update(created="yesterday"),
            BadTimestamp,
            "search.json issues[0].changelog.histories[0], key 'created': expected a timestamp like "
            "'2017-02-28T09:24:59.366-0600', got 'yesterday'",
            id="bad-timestamp",
        ),
        pytest.param(
            lambda d: d["issues"][2]["fields"].update(created=""),
            MissingColumn,
            "search.json issues[2].fields: missing key 'created'; expected the creation time, like "
            "'2017-02-28T09:24:59.366-0600'",
            id="issue-without-created",
        ),
        pytest.param(
            lambda d: d["issues"][0].pop("changelog"),
            MissingColumn,
            "search.json issues[0]: missing key 'changelog'; expected the change history: search with "
            "expand=changelog",
            id="no-changelog",
        ),
        pytest.param(
            lambda d: d["issues"][0]["changelog"]["histories"][0].update(items=None),
            MissingColumn,
            "search.json issues[0].changelog.histories[0]: missing key 'items'; expected the list of changed fields",
            id="history-without-items",
        ),
    ],
)
def test_bad_jira_export_names_the_json_path(store, tmp_path, change, error, message):
    doc = json.loads(JIRA_JSON.read_text())
    change(doc)
    with pytest.raises(error) as info:
        ingest_file(store, write_json(tmp_path / "search.json", doc), IngestOptions(preset="jira"))
    assert str(info.value) == message
    assert store.scalar("SELECT count(*) FROM logs") == 0


def test_jira_changelog_table_errors(store, tmp_path):
    bad = tmp_path / "changes.csv"
    bad.write_text(
        "Issue key,Author,Created,Field,From String,To String\n"
        "OPS-1,Erin Fox,2024-05-02T08:10:00.000+0200,status,Open,In Progress\n"
        "OPS-1,Erin Fox,02.05.2024 09:00,status,In Progress,Done\n"
    )
    with pytest.raises(BadTimestamp) as info:
        ingest_file(store, bad)
    assert str(info.value) == (
        "changes.csv row 2, column 'Created': expected a timestamp like '2017-02-28T09:24:59.366-0600', "
        "got '02.05.2024 09:00'"
    )
    with pytest.raises(MissingColumn) as info:
        ingest_file(store, PRESETS / "plain" / "ticket_status_log.csv", IngestOptions(preset="jira"))
    assert str(info.value) == (
        "ticket_status_log.csv: not a Jira changelog export: no column 'Issue key', 'Created', 'Field', "
        "'To String'; available columns: 'ticket_id', 'status', 'updated_at', 'agent', 'priority'"
    )


def test_unknown_include_family_is_named(store):
    with pytest.raises(BadExport) as info:
        ingest_file(store, JIRA_JSON, IngestOptions(include=("watchers",)))
    assert str(info.value) == (
        "unknown Jira event family 'watchers' for --include; expected one of: assignee, resolution, sprint"
    )


def test_cli_ingest_with_preset_prints_it(tmp_path):
    ws = str(tmp_path / "ws.duckdb")
    res = CliRunner().invoke(cli, ["--workspace", ws, "ingest", str(JIRA_JSON), "--preset", "jira", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert (data["preset"], data["log"], data["cases"], data["events"]) == ("jira", "search_changelog", 3, 7)
    assert data["preset_notes"][0] == "3 issues, 4 field changes read as events"
    assert data["mapping"]["case"] == "issue"
    text = CliRunner().invoke(
        cli, ["--workspace", str(tmp_path / "b.duckdb"), "ingest", str(JIRA_JSON), "--include", "assignee"]
    )
    assert text.exit_code == 0, text.output
    assert "Preset: jira\n  3 issues, 5 field changes read as events\n" in text.output


# --------------------------------------------------------------------------- ServiceNow


def test_servicenow_audit_and_incident_tables(store):
    summary = ingest_file(
        store, AUDIT, IngestOptions(include=("assignment_group", "assigned_to"), max_rejects=0.2)
    )
    assert summary.preset == "servicenow"
    assert (summary.cases, summary.events, summary.rows_read, summary.rejected_rows) == (3, 14, 15, 1)
    assert events(store, summary.log_id) == [
        ("INC0010001", "Opened", "2024-03-04 08:05:00", "Abel Tuter"),
        # state and incident_state audited at the same instant: one event.
        ("INC0010001", "State: In Progress", "2024-03-04 08:30:00", "beth.anglin"),
        ("INC0010001", "Assigned", "2024-03-04 08:30:00", "beth.anglin"),
        ("INC0010001", "State: Resolved", "2024-03-04 11:15:45", "beth.anglin"),
        ("INC0010001", "State: Closed", "2024-03-07 11:16:00", "system"),
        ("INC0010002", "Opened", "2024-03-04 09:40:12", "Beth Anglin"),
        (
            "INC0010002",
            "Assignment group: 8a4dde73c6112278017a6a4baf547aa7",
            "2024-03-04 10:00:00",
            "abel.tuter",
        ),
        ("INC0010002", "State: In Progress", "2024-03-04 10:05:00", "fred.luddy"),
        ("INC0010002", "State: On Hold", "2024-03-05 09:00:00", "fred.luddy"),
        ("INC0010002", "State: In Progress", "2024-03-06 10:20:00", "fred.luddy"),
        ("INC0010002", "State: Resolved", "2024-03-06 15:45:00", "fred.luddy"),
        ("INC0010002", "State: Closed", "2024-03-09 16:00:00", "system"),
        ("INC0010003", "Opened", "2024-03-05 14:00:00", "Abel Tuter"),
        ("INC0010003", "State: Canceled", "2024-03-05 15:00:00", "abel.tuter"),
    ]
    assert [str(r) for r in stored_rejects(store, summary.log_id)] == [
        "audit/sys_audit.csv, row 9, column 'documentkey': no incident with this sys_id in audit/incident.csv "
        "(value 'e8caedcbc0a80164017df472f39eaed1')"
    ]
    assert summary.preset_notes == (
        "3 incidents, 11 audited changes read as events",
        "1 audit row repeating a state change at the same time (state and incident_state): counted once",
        "1 audit row of other tables than incident left out",
        "1 audit row naming an incident that is not in audit/incident.csv: rejected",
    )
    assert attributes(store, summary.log_id, "priority", "category", "from", "to", "source_row")[1] == (
        "2 - High",
        "Network",
        "1",
        "2",
        "audit/sys_audit.csv row 1",
    )


def test_servicenow_orphan_audit_rows_count_against_the_reject_threshold(store):
    with pytest.raises(TooManyRejects) as info:
        ingest_file(store, AUDIT)
    # 12 events and the one orphan audit row: 1 of 13.
    assert str(info.value) == (
        "audit: 1 of 13 rows (7.7%) were rejected, more than the 5.0% allowed; nothing was loaded. First problems:\n"
        "  audit/sys_audit.csv, row 9, column 'documentkey': no incident with this sys_id in audit/incident.csv "
        "(value 'e8caedcbc0a80164017df472f39eaed1')"
    )
    assert store.scalar("SELECT count(*) FROM logs") == 0


def test_servicenow_audit_without_incident_table(store, tmp_path):
    folder = tmp_path / "audit_only"
    folder.mkdir()
    shutil.copy(AUDIT / "sys_audit.csv", folder / "sys_audit.csv")
    with pytest.raises(MissingColumn) as info:
        ingest_file(store, folder, IngestOptions(preset="servicenow"))
    assert str(info.value) == (
        "audit_only: audit_only/sys_audit.csv is a sys_audit export, but no incident table is beside it; expected "
        "a table with 'sys_id', 'number' and 'opened_at' (incident.csv) in the same folder or zip"
    )


def test_servicenow_incident_state_export(store):
    summary = ingest_file(store, STATE_EXPORT)
    assert summary.preset == "servicenow"
    m = summary.mapping
    assert (m.case, m.activity, m.timestamp, m.resource) == (
        "number",
        "incident_state",
        "sys_updated_at",
        "sys_updated_by",
    )
    assert summary.timestamp_formats["timestamp"] == "%d/%m/%Y %H:%M"
    assert (summary.cases, summary.events, summary.variants) == (3, 12, 3)
    assert events(store, summary.log_id)[:5] == [
        ("INC0000045", "New", "2016-02-29 01:23:00", "Updated by 21"),
        ("INC0000045", "Resolved", "2016-02-29 08:53:00", "Updated by 642"),
        ("INC0000045", "Resolved", "2016-02-29 11:29:00", "Updated by 804"),
        ("INC0000045", "Closed", "2016-03-05 12:00:00", "Updated by 908"),
        ("INC0000047", "New", "2016-02-29 04:57:00", "Updated by 746"),
    ]
    # Every other column of the export stays an attribute of its row.
    assert attributes(store, summary.log_id, "priority", "assignment_group")[5] == (
        "3 - Moderate",
        "Group 24",
    )
    assert summary.preset_notes == ("12 update rows, one event each, named by 'incident_state'",)


def test_servicenow_day_month_order_must_be_proven(store, tmp_path):
    lines = STATE_EXPORT.read_text().splitlines()
    # Keep only updates whose day is at most 12: 1/3/2016 reads as 1 March or 3 January.
    early = tmp_path / "early.csv"
    early.write_text("\n".join([lines[0], *[ln for ln in lines[1:] if ln.startswith("INC0000057")]]) + "\n")
    with pytest.raises(BadTimestamp) as info:
        ingest_file(store, early)
    assert str(info.value) == (
        "early.csv: column 'sys_updated_at' fits both %d/%m/%Y %H:%M and %m/%d/%Y %H:%M: no day above 12 proves "
        "which is the day and which the month"
    )
    summary = ingest_file(store, early, IngestOptions(dayfirst=True))
    assert events(store, summary.log_id)[0] == ("INC0000057", "New", "2016-03-01 07:04:00", "Updated by 21")


def test_servicenow_forced_on_the_renamed_columns_names_them(store, tmp_path):
    renamed = tmp_path / "renamed.csv"
    renamed.write_text(STATE_EXPORT.read_text().replace("number,incident_state,", "number,ident_state,", 1))
    with pytest.raises(MissingColumn) as info:
        ingest_file(store, renamed, IngestOptions(preset="servicenow"))
    assert str(info.value).startswith(
        "renamed.csv: not a ServiceNow incident-state export: no column 'incident_state' (or pass --activity); "
        "available columns: 'number', 'ident_state', 'active',"
    )
    summary = ingest_file(
        store, renamed, IngestOptions(preset="servicenow", roles={"activity": "ident_state"})
    )
    assert (summary.preset, summary.mapping.activity, summary.events) == ("servicenow", "ident_state", 12)


@pytest.mark.slow
def test_servicenow_real_log_is_not_taken_by_the_preset_unasked(store, shared_logs, tmp_path):
    from mining.ingest.presets import detect_preset
    from mining.ingest.presets.raw import read_export

    raw = read_export(store, shared_logs / SERVICENOW_REAL, tmp_path, file=SERVICENOW_REAL)
    name, scores = detect_preset(raw)
    # incident_state was renamed ident_state: the preset does not guess the state column.
    assert (name, scores["servicenow"]) == (None, 0.3)


@pytest.mark.slow
def test_servicenow_real_log_loads_through_the_preset(tmp_path, shared_logs):
    res = CliRunner().invoke(
        cli,
        [
            "--workspace",
            str(tmp_path / "ws.duckdb"),
            "ingest",
            str(shared_logs / SERVICENOW_REAL),
            "--preset",
            "servicenow",
            "--activity",
            "ident_state",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    # The published statistics (shared/logs/SOURCES.md): every update row is an event.
    assert (data["preset"], data["cases"], data["events"], data["activities"], data["variants"]) == (
        "servicenow",
        24_918,
        141_712,
        9,
        2_080,
    )
    assert (data["start"], data["end"]) == ("2016-02-29T01:23:00+00:00", "2017-02-18T15:00:00+00:00")
    assert data["rejected_rows"] == 0
    assert data["timestamp_formats"]["timestamp"] == "%d/%m/%Y %H:%M"
    assert data["mapping"]["resource"] == "sys_updated_by"


# --------------------------------------------------------------------------- Zendesk


def test_zendesk_ticket_audits(store):
    summary = ingest_file(store, AUDITS)
    assert summary.preset == "zendesk"
    assert events(store, summary.log_id) == [
        ("101", "Ticket created", "2024-03-04 09:00:00", "9001"),
        ("101", "group → 360001", "2024-03-04 09:20:00", "361"),
        ("101", "status → open", "2024-03-04 09:20:00", "361"),
        ("101", "Internal note", "2024-03-04 09:20:00", "361"),
        ("101", "Public reply", "2024-03-04 10:05:30", "361"),
        ("101", "status → pending", "2024-03-04 10:05:30", "361"),
        ("101", "Public reply", "2024-03-05 08:00:00", "9001"),
        ("101", "status → open", "2024-03-05 08:00:00", "9001"),
        ("101", "status → solved", "2024-03-05 09:10:00", "361"),
        ("102", "Ticket created", "2024-03-04 11:00:00", "9002"),
        ("102", "group → 360002", "2024-03-04 11:00:42", "-1"),
        ("102", "status → open", "2024-03-04 11:00:42", "-1"),
        ("102", "Public reply", "2024-03-06 12:00:00", "362"),
        ("102", "status → solved", "2024-03-06 12:00:00", "362"),
    ]
    assert attributes(store, summary.log_id, "via", "field", "from", "to")[2] == (
        "web",
        "status",
        "new",
        "open",
    )
    assert attributes(store, summary.log_id, "via", "source_row")[10] == (
        "rule",
        "ticket_audits.json audits[6].events[1]",
    )
    assert summary.preset_notes == ("2 tickets, 8 updates, 14 events",)


def test_zendesk_include_priority_and_assignee(store):
    summary = ingest_file(store, AUDITS, IngestOptions(include=("priority", "assignee")))
    activities = [a for _, a, _, _ in events(store, summary.log_id)]
    assert activities.count("priority → high") == 1
    assert activities[11:14] == ["assignee → 362", "group → 360002", "status → open"]
    assert summary.events == 16


def test_zendesk_incremental_ticket_events(store):
    summary = ingest_file(store, PRESETS / "zendesk" / "ticket_events.json")
    assert events(store, summary.log_id) == [
        ("201", "Ticket created", "2024-05-02 09:00:00", "7001"),
        ("201", "status → open", "2024-05-02 09:30:00", "455"),
        ("201", "Internal note", "2024-05-02 09:30:00", "455"),
        # No created_at: the Unix timestamp 1714658400 stands in.
        ("201", "Public reply", "2024-05-02 14:00:00", "455"),
        ("201", "status → solved", "2024-05-02 14:00:00", "455"),
    ]
    assert summary.preset_notes == (
        "1 ticket, 3 updates, 5 events",
        "1 ticket event without child events (SLA metrics) left out",
    )


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        pytest.param(
            lambda d: d["audits"][2].pop("ticket_id"),
            MissingColumn,
            "audits.json audits[2]: missing key 'ticket_id'; expected the ticket's id",
            id="no-ticket",
        ),
        pytest.param(
            lambda d: d["audits"][0].update(created_at="04/03/2024 09:00"),
            BadTimestamp,
            "audits.json audits[0], key 'created_at': expected a timestamp like '2024-01-05T10:32:11Z', "
            "got '04/03/2024 09:00'",
            id="bad-time",
        ),
        pytest.param(
            lambda d: d["audits"][1].pop("created_at"),
            MissingColumn,
            "audits.json audits[1]: missing key 'created_at'; expected the time of the update, like "
            "'2024-01-05T10:32:11Z'",
            id="no-time",
        ),
        pytest.param(
            lambda d: d["audits"][3].pop("events"),
            MissingColumn,
            "audits.json audits[3]: missing key 'events'; expected the list of what changed in this update",
            id="no-events",
        ),
    ],
)
def test_bad_zendesk_export_names_the_json_path(store, tmp_path, change, error, message):
    doc = json.loads(AUDITS.read_text())
    change(doc)
    with pytest.raises(error) as info:
        ingest_file(store, write_json(tmp_path / "audits.json", doc))
    assert str(info.value) == message


# --------------------------------------------------------------------------- generic change log


def test_changelog_defaults_to_the_status_field(store):
    summary = ingest_file(store, PRESETS / "changelog" / "deal_changes.csv")
    assert summary.preset == "changelog"
    assert events(store, summary.log_id) == [
        ("D-1001", "status: Lead", "2024-04-01 09:00:00", "anna"),
        ("D-1001", "status: Qualified", "2024-04-02 14:30:00", "anna"),
        ("D-1001", "status: Won", "2024-04-10 16:45:00", "ben"),
        ("D-1002", "status: Lead", "2024-04-02 08:15:00", "ben"),
        ("D-1002", "status: Lost", "2024-04-05 11:00:00", "ben"),
        ("D-1003", "status: Lead", "2024-04-03 13:20:00", "anna"),
        ("D-1003", "status: Qualified", "2024-04-08 15:00:00", "carl"),
    ]
    # Each event keeps its file row: rejects and ties refer to the file.
    assert [r[0] for r in store.query("SELECT row_no FROM events ORDER BY row_no").rows] == [
        1,
        3,
        5,
        6,
        7,
        8,
        10,
    ]
    assert tuple(map(str, summary.preset_notes)) == (
        "7 changes of the status-like field 'status' read as events from deal_changes.csv",
        "3 changes of other fields left out (--include all, or --include FIELD)",
    )
    assert attributes(store, summary.log_id, "field", "old_value", "new_value")[1] == (
        "status",
        "Lead",
        "Qualified",
    )


def test_changelog_include_all_and_named_fields(store):
    every = ingest_file(store, PRESETS / "changelog" / "deal_changes.csv", IngestOptions(include=("all",)))
    assert every.events == 10
    assert [a for c, a, _, _ in events(store, every.log_id) if c == "D-1001"] == [
        "status: Lead",
        "owner: anna",
        "status: Qualified",
        "amount: 12000",
        "status: Won",
    ]
    owners = ingest_file(
        store, PRESETS / "changelog" / "deal_changes.csv", IngestOptions(name="owners", include=("Owner",))
    )
    assert [a for _, a, _, _ in events(store, owners.log_id)] == ["owner: anna", "owner: carl"]
    with pytest.raises(MissingColumn) as info:
        ingest_file(
            store, PRESETS / "changelog" / "deal_changes.csv", IngestOptions(name="x", include=("stage",))
        )
    assert str(info.value) == (
        "deal_changes.csv: --include 'stage': no such field in the change log; its fields: 'status', 'owner', "
        "'amount'"
    )


def test_changelog_without_status_field_takes_every_field(store):
    summary = ingest_file(store, PRESETS / "changelog" / "asset_history.csv")
    assert summary.timestamp_formats["timestamp"] == "%d/%m/%Y %H:%M"
    assert events(store, summary.log_id) == [
        ("LAPTOP-17", "location: Office Utrecht", "2024-03-14 09:12:00", "kim"),
        ("LAPTOP-17", "owner: j.devries", "2024-03-14 09:15:00", "kim"),
        ("LAPTOP-17", "location: Repair desk", "2024-04-02 16:40:00", "lee"),
        ("LAPTOP-17", "owner cleared", "2024-04-02 16:41:00", "lee"),
        ("PHONE-03", "location: Office Delft", "2024-03-20 11:00:00", "kim"),
        ("PHONE-03", "owner: m.bakker", "2024-03-20 11:02:00", "kim"),
    ]


def test_changelog_columns_given_by_role(store, tmp_path):
    path = tmp_path / "audit_trail.csv"
    path.write_text(
        "ref,what,was,now,by,stamp\n"
        "A1,Status,,Open,ann,2024-01-02T08:00:00Z\n"
        "A1,Status,Open,Done,bob,2024-01-03T09:30:00Z\n"
        ",Status,,Open,ann,2024-01-04T10:00:00Z\n"
    )
    options = IngestOptions(
        preset="changelog",
        roles={"case": "ref", "timestamp": "stamp", "resource": "by"},
        preset_roles={"field": "what", "new": "now", "old": "was"},
        max_rejects=0.5,
    )
    summary = ingest_file(store, path, options)
    assert events(store, summary.log_id) == [
        ("A1", "Status: Open", "2024-01-02 08:00:00", "ann"),
        ("A1", "Status: Done", "2024-01-03 09:30:00", "bob"),
    ]
    assert [str(r) for r in summary.rejects] == ["audit_trail.csv, row 3, column 'ref': missing record id"]
    with pytest.raises(MissingColumn) as info:
        ingest_file(store, path, IngestOptions(name="y", preset="changelog"))
    assert str(info.value) == (
        "audit_trail.csv: not a change log: no case column (pass --preset-role case=COLUMN); no field column "
        "(pass --preset-role field=COLUMN); no new column (pass --preset-role new=COLUMN); no timestamp column "
        "(pass --preset-role timestamp=COLUMN); available columns: 'ref', 'what', 'was', 'now', 'by', 'stamp'"
    )


def test_changelog_rejects_name_the_file_row(store, tmp_path):
    path = tmp_path / "changes.csv"
    rows = [f"R{i},status,,Open,ann,2024-01-{i:02d} 08:00:00" for i in range(1, 25)]
    rows[12] = "R13,status,,Open,ann,soon"
    path.write_text("record,field,old,new,user,changed_at\n" + "\n".join(rows) + "\n")
    summary = ingest_file(store, path)
    assert summary.events == 23
    assert [str(r) for r in summary.rejects] == [
        "changes.csv, row 13, column 'changed_at': does not match the column's timestamp format ISO 8601 "
        "(value 'soon')"
    ]
