"""Lists of one row per case with a date per step (a ticket or order list) become event logs.

Before, Zendesk's ticket list loaded with ``--case Id`` as one event per ticket (its status at its last
update): 4 cases, 4 events, no process.  Without ``--case`` it was refused.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mining.analysis.variants import variants
from mining.errors import MissingColumn
from mining.ingest import IngestOptions, ingest_file
from mining.ingest.presets.base import RawExport
from mining.ingest.presets.milestones import detect
from mining.store import Store, quote_ident

TICKETS = """Id,Subject,Status,Priority,Requester,Assignee,Created at,Updated at,Assigned at,Solved at,Due date
101,Printer broken,solved,normal,ann@x.com,Bob,2026-03-01 09:00,2026-03-03 10:00,2026-03-01 10:00,2026-03-02 12:00,2026-03-05
102,VPN down,open,high,cy@x.com,Eve,2026-03-02 09:00,2026-03-02 11:00,2026-03-02 11:00,,2026-03-03
103,New laptop,solved,low,dan@x.com,Bob,2026-03-03 09:00,2026-03-05 09:00,2026-03-03 09:00,2026-03-04 15:00,2026-03-10
104,Password,closed,low,eli@x.com,Eve,2026-03-04 09:00,2026-03-09 09:00,2026-03-04 09:10,2026-03-04 09:40,2026-03-05
"""


@pytest.fixture
def store():
    with Store() as s:
        yield s


def write(tmp_path: Path, text: str, name: str = "tickets.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def steps(store: Store) -> list[tuple[str, str, str]]:
    """(case, activity, UTC time) of every event, in log order."""
    return [
        (c, a, t)
        for c, a, t in store.query(
            "SELECT case_id, activity, strftime(timezone('UTC', ts), '%Y-%m-%d %H:%M') FROM events "
            "ORDER BY case_no, ts, row_no"
        ).rows
    ]


def test_a_ticket_list_becomes_one_event_per_filled_date(store, tmp_path):
    s = ingest_file(store, write(tmp_path, TICKETS))
    assert (s.preset, s.cases, s.events, s.rejected_rows) == ("milestones", 4, 11, 0)
    assert s.mapping.case == "Id"
    assert steps(store)[:5] == [
        ("101", "Created", "2026-03-01 09:00"),
        ("101", "Assigned", "2026-03-01 10:00"),
        ("101", "Solved", "2026-03-02 12:00"),
        ("102", "Created", "2026-03-02 09:00"),
        ("102", "Assigned", "2026-03-02 11:00"),  # not solved yet: no third event
    ]
    # 'Updated at' moves with every edit and 'Due date' is a plan: neither is a step, and the notes say so.
    assert [str(n) for n in s.preset_notes] == [
        "Each row of tickets.csv is one case ('Id'): its date columns 'Created at' (Created), "
        "'Assigned at' (Assigned), 'Solved at' (Solved) became 11 events; 1 empty cell: steps not reached",
        "Left out as no steps: 'Updated at', 'Due date' (the record's last change, or a planned date); "
        "add one with --include COLUMN beside the others",
    ]
    # Every other column stays an attribute of the case's events.
    names = [r[0] for r in store.query("SELECT source_name FROM attribute_columns ORDER BY position").rows]
    assert names[:6] == ["Subject", "Status", "Priority", "Requester", "Assignee", "Updated at"]


def test_steps_at_the_same_instant_keep_the_files_column_order(store, tmp_path):
    # Ticket 103 is assigned the minute it is created: Created comes first, as in the file.
    ingest_file(store, write(tmp_path, TICKETS))
    table = variants(store, 1)
    assert {v.activities: v.cases for v in table.variants} == {
        ("Created", "Assigned", "Solved"): 3,
        ("Created", "Assigned"): 1,
    }


def test_include_chooses_the_steps(store, tmp_path):
    s = ingest_file(
        store, write(tmp_path, TICKETS), IngestOptions(include=("Created at", "Solved at", "Updated at"))
    )
    assert s.events == 11
    assert [a for c, a, _ in steps(store) if c == "101"] == ["Created", "Solved", "Updated"]
    with pytest.raises(MissingColumn) as info:
        ingest_file(store, write(tmp_path, TICKETS), IngestOptions(include=("Closed at",), name="again"))
    assert str(info.value).startswith(
        "tickets.csv: --include 'Closed at': no such column; its columns: 'Id', "
    )


def test_an_event_log_whose_cases_repeat_is_not_a_list(store, tmp_path):
    # A status log that also carries each ticket's opened and closed dates on every row: each row is an
    # event of a repeated ticket, loaded as the event log it is.
    log = (
        "ticket,status,changed,opened_at,resolved_at,closed_at\n"
        "T1,New,2026-03-01 09:00,2026-03-01 09:00,2026-03-02 10:00,2026-03-03 10:00\n"
        "T1,Resolved,2026-03-02 10:00,2026-03-01 09:00,2026-03-02 10:00,2026-03-03 10:00\n"
        "T2,New,2026-03-02 09:00,2026-03-02 09:00,,\n"
    )
    s = ingest_file(store, write(tmp_path, log, "status_log.csv"))
    assert s.preset is None
    assert (s.cases, s.events, s.mapping.case, s.mapping.activity) == (2, 3, "ticket", "status")


def test_an_order_list_names_its_steps_from_the_headers(store, tmp_path):
    orders = (
        "Order No;Customer;OrderDate;Ship Date;Invoice date;Amount\n"
        "SO-1;Acme;13.03.2026;16.03.2026;17.03.2026;120,50\n"
        "SO-2;Bolt;14.03.2026;;;80,00\n"
    )
    s = ingest_file(store, write(tmp_path, orders, "orders.csv"))
    assert (s.preset, s.cases, s.events) == ("milestones", 2, 4)
    assert steps(store) == [
        ("SO-1", "Order", "2026-03-13 00:00"),
        ("SO-1", "Ship", "2026-03-16 00:00"),
        ("SO-1", "Invoice", "2026-03-17 00:00"),
        ("SO-2", "Order", "2026-03-14 00:00"),
    ]


def test_a_list_without_a_distinct_column_is_refused_naming_the_option(store, tmp_path):
    same = "Team,Created at,Closed at\nA,2026-03-01 09:00,2026-03-02 09:00\nA,2026-03-03 09:00,2026-03-04 09:00\n"
    with pytest.raises(MissingColumn) as info:
        ingest_file(store, write(tmp_path, same, "teams.csv"), IngestOptions(preset="milestones"))
    assert str(info.value) == (
        "teams.csv: one row per case was expected, but no column holds a distinct value in every row; "
        "name the case column with --preset-role case=COLUMN"
    )


def test_a_date_that_does_not_parse_is_rejected_and_each_event_names_its_cell(store, tmp_path):
    rows = ["Id,Created at,Closed at"] + [
        f"T{i},2026-03-01 09:{i:02d},2026-03-02 09:{i:02d}" for i in range(40)
    ]
    rows.append("T40,2026-03-01 10:00,2026-13-45 25:00")
    s = ingest_file(store, write(tmp_path, "\n".join(rows) + "\n"))
    assert (s.preset, s.cases, s.events, s.rejected_rows) == ("milestones", 41, 81, 1)
    [reject] = s.rejects
    assert (reject.column, reject.value) == ("timestamp", "2026-13-45 25:00")
    # Each stored event says which cell of the list it came from.
    internal = store.scalar("SELECT column_name FROM attribute_columns WHERE source_name = 'source_row'")
    cells = store.query(
        f"SELECT a.{quote_ident(internal)} FROM events e JOIN attrs_1 a USING (row_no) "
        "WHERE e.case_id = 'T40' ORDER BY e.ts"
    ).rows
    assert cells == [("tickets.csv row 41, column 'Created at'",)]


def test_a_long_list_is_read_whole_and_a_log_repeating_its_cases_late_is_not_a_list(store, tmp_path):
    # The head (2,000 rows) is judged first, then the whole table: a list of 3,000 tickets is one, and an
    # event log whose cases repeat only after its head (sorted by time, 2,500 cases opened first) is not.
    tickets = ["Id,Created at,Closed at"] + [
        f"T{i},2026-01-01 {i % 24:02d}:00,2026-01-02 {i % 24:02d}:30" for i in range(3000)
    ]
    s = ingest_file(store, write(tmp_path, "\n".join(tickets) + "\n", "long.csv"))
    assert (s.preset, s.cases, s.events) == ("milestones", 3000, 6000)
    log = ["ticket,state,opened_at,resolved_at"]
    log += [f"T{i},New,2026-01-01 00:00,2026-01-03 00:00" for i in range(2500)]
    log += [f"T{i},Resolved,2026-01-01 00:00,2026-01-03 00:00" for i in range(2500)]
    with Store() as other:
        plain = ingest_file(
            other,
            write(tmp_path, "\n".join(log) + "\n", "late.csv"),
            IngestOptions(roles={"timestamp": "resolved_at"}),
        )
    assert plain.preset is None
    assert (plain.cases, plain.events, plain.mapping.activity) == (2500, 5000, "state")


def test_an_event_log_with_a_distinct_id_per_row_is_no_list(store, tmp_path):
    # A distinct event id beside the case column, which repeats: the rows are events of two cases.
    log = (
        "EventID,CaseID,Status,Created at,Closed at\nE1,C1,Open,2026-03-01 09:00,2026-03-02 09:00\n"
        "E2,C1,Close,2026-03-01 09:00,2026-03-02 09:00\nE3,C2,Open,2026-03-01 10:00,2026-03-03 09:00\n"
    )
    s = ingest_file(
        store, write(tmp_path, log, "events.csv"), IngestOptions(roles={"timestamp": "Closed at"})
    )
    assert (s.preset, s.mapping.case, s.cases, s.events) == (None, "CaseID", 2, 3)


def test_an_events_start_and_end_are_no_steps():
    # A distinct reference per row, and each row's own start and end: an event log's two timestamps.
    import polars as pl

    frame = pl.DataFrame(
        {
            "Ref": ["R1", "R2", "R3"],
            "Status": ["Open", "Close", "Open"],
            "StartTime": ["2026-03-01 09:00", "2026-03-02 09:00", "2026-03-01 10:00"],
            "EndTime": ["2026-03-01 09:30", "2026-03-02 10:00", "2026-03-01 10:30"],
        }
    )
    assert detect(RawExport(file="events.csv", tables={"main": frame})) == 0.0
    # The same table with steps between its dates is a list.
    listed = frame.rename({"StartTime": "Opened at", "EndTime": "Closed at"})
    assert detect(RawExport(file="list.csv", tables={"main": listed})) == 0.6


def test_a_french_event_log_is_no_list(store, tmp_path):
    # "Coûts" split as "co" and "ts" (a time's abbreviation) made two step-like dates, "Activité" was no
    # activity name to English eyes, and the distinct costs became the cases: 35 cases, not 8 (fuzzer).
    rows = ["Dossier;Coûts;Début;Activité;Date/Heure"]
    for i in range(35):
        case, day = 1000 + i // 5, 13 + i // 5
        rows.append(
            f"{case};{i * 101.5:.2f};{day:02d}.07.2026 0{i % 5}:13;Étape {i % 5};{day:02d}.07.2026 0{i % 5}:50"
        )
    s = ingest_file(store, write(tmp_path, "\n".join(rows) + "\n", "dossiers.csv"))
    assert (s.preset, s.cases, s.events, s.mapping.case, s.mapping.activity) == (
        None,
        7,
        35,
        "Dossier",
        "Activité",
    )
