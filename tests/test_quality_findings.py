"""The whole-log data-quality findings: each fires on its hand-made file, exactly, and none on the clean samples."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from mining.catalog import quality
from mining.cli import cli
from mining.ingest import IngestOptions, ingest_file
from mining.schema import QUALITY_FIXES
from mining.store import Store
from tests.conftest import FILES, SAMPLE_LOGS

QUALITY = FILES / "quality"
NEW_KINDS = {
    "near_duplicate_activities",
    "names_with_spaces",
    "one_event_cases",
    "cases_cut_by_extract",
    "clock_shift",
    "dates_without_times",
}


@pytest.fixture
def store():
    with Store() as s:
        yield s


def findings(store: Store, name: str) -> dict[str, tuple[int, str, tuple[str, ...]]]:
    s = ingest_file(store, QUALITY / name)
    return {q.kind: (q.count, q.message, q.examples) for q in s.quality if q.kind in NEW_KINDS}


def test_near_duplicate_activity_names(store):
    assert findings(store, "near_duplicates.csv") == {
        "near_duplicate_activities": (
            2,
            "2 activity names (2 events) differ from another only in case, spaces or one typo, so one step may "
            "show as several",
            ("'Aprove' (1), 'approve ' (1) look like 'Approve' (2 events)",),
        ),
        # 'approve ' also carries a space; 'Release A'/'Release B' and 'Step 1'/'Step 2' are different steps.
        "names_with_spaces": (
            1,
            "1 event has names with leading or trailing spaces (activity in 1 event); they are kept as written, "
            "so 'Approve ' and 'Approve' count as two",
            ("activity 'approve '",),
        ),
    }


def test_names_with_spaces(store):
    assert findings(store, "spaces.csv") == {
        "names_with_spaces": (
            3,
            "3 events have names with leading or trailing spaces (activity in 2 events, resource in 1 event); "
            "they are kept as written, so 'Approve ' and 'Approve' count as two",
            ("activity 'Pack '", "resource ' bob'"),
        )
    }
    assert store.scalar("SELECT count(DISTINCT resource) FROM events") == 2  # 'ann' and ' bob'


def test_one_event_cases(store):
    assert findings(store, "one_event.csv") == {
        "one_event_cases": (
            2,
            "2 of 4 cases have a single event: no path, no duration",
            ("case 2", "case 3"),
        ),
    }


def test_cases_cut_by_the_extract(store):
    assert findings(store, "cut_cases.csv") == {
        "cases_cut_by_extract": (
            2,
            "2 cases look cut by the extract: 1 starts near the extract's first day with an activity that rarely "
            "opens a case (it may have begun before it) and 1 ends near its last day with one that rarely closes "
            "a case (it may still be open); the activities that usually open the cases they occur in: "
            "'Register'; that usually close them: 'Close'",
            ("case C00 starts with Approve", "case C13 ends with Approve"),
        )
    }


def test_clock_shift_is_a_block_of_copies_not_a_periodic_measurement(store):
    # Case 1's three events are copied two hours later; case 2's test every six hours is a real series.
    assert findings(store, "clock_shift.csv") == {
        "clock_shift": (
            3,
            "3 events repeat another event of the same case and activity exactly 2 hours later, with the same "
            "resource and attributes: part of the data may have been read in another time zone",
            (
                "case 1: Register at 2024-03-01 09:00:00 and 11:00:00",
                "case 1: Approve at 2024-03-01 10:00:00 and 12:00:00",
                "case 1: Ship at 2024-03-01 11:30:00 and 13:30:00",
            ),
        )
    }


def test_whole_hours_that_are_not_copies_are_no_clock_shift(store, tmp_path):
    """Three shapes that each made a block of 3 'copies' before: a one-hour step's start and completion
    (production_manufacturing's 370), nine receipts at 06:18 and one at 09:18 (BPIC 2019), and a busy
    case where two of twenty receipts fall a whole hour apart by chance."""
    rows = ["case,activity,timestamp,lifecycle,resource"]
    for case in (1, 2, 3):
        rows += [
            f"p{case},Pack,2024-03-0{case} 05:00,start,ann",
            f"p{case},Pack,2024-03-0{case} 06:00,complete,ann",
        ]
        rows += [f"m{case},Receipt,2024-03-0{case} 06:18,complete,bob" for _ in range(3)]
        rows += [f"m{case},Receipt,2024-03-0{case} 09:18,complete,bob"]
        minutes = [0, 7, 11, 16, 23, 29, 34, 38, 41, 47, 52, 58, 3, 14, 19, 26, 31, 44, 49, 55]
        rows += [
            f"b{case},Receipt,2024-03-0{case} {8 + k // 12:02d}:{m:02d},complete,cy"
            for k, m in enumerate(minutes)
        ]
    path = tmp_path / "whole_hours.csv"
    path.write_text("\n".join(rows) + "\n")
    summary = ingest_file(store, path, IngestOptions(name="whole_hours"))
    assert "clock_shift" not in {q.kind for q in summary.quality}
    # The same file with a real copy, case c's three events read again two hours later, still finds it.
    copied = ["c,Register,2024-03-05 09:00,complete,ann", "c,Approve,2024-03-05 10:00,complete,bob"]
    copied += ["c,Ship,2024-03-05 11:30,complete,cat"]
    copied += [
        line.replace(" 09:", " 11:").replace(" 10:", " 12:").replace(" 11:30", " 13:30") for line in copied
    ]
    again = tmp_path / "with_copy.csv"
    again.write_text("\n".join(rows + copied) + "\n")
    [shift] = [
        q
        for q in ingest_file(store, again, IngestOptions(name="with_copy")).quality
        if q.kind == "clock_shift"
    ]
    assert shift.count == 3
    assert shift.examples == (
        "case c: Register at 2024-03-05 09:00:00 and 11:00:00",
        "case c: Approve at 2024-03-05 10:00:00 and 12:00:00",
        "case c: Ship at 2024-03-05 11:30:00 and 13:30:00",
    )


def test_copies_whose_attributes_differ_or_that_straddle_1970_are_judged_by_their_values(store, tmp_path):
    lines = (QUALITY / "clock_shift.csv").read_text().splitlines()
    # The copies of case 1 now carry another channel: a real repetition, not a clock shift.
    changed = tmp_path / "changed.csv"
    changed.write_text(
        "\n".join([*lines[:4], *(x.replace(",web", ",mail") for x in lines[4:7]), *lines[7:]]) + "\n"
    )
    kinds = {q.kind for q in ingest_file(store, changed).quality}
    assert "timestamp_ties" in kinds and "clock_shift" not in kinds
    # Copies two hours after events of 1969-12-31 23:00 and earlier: a block across the epoch.
    early = tmp_path / "early.csv"
    early.write_text(
        "case,activity,timestamp\n"
        + "".join(
            f"1,{a},1969-12-31 {h:02d}:15\n1,{a},{'1970-01-01 ' + f'{(h + 2) % 24:02d}' if h >= 22 else '1969-12-31 ' + f'{h + 2:02d}'}:15\n"
            for a, h in (("Register", 21), ("Approve", 22), ("Ship", 23))
        )
    )
    [shift] = [
        q for q in ingest_file(store, early, IngestOptions(name="early")).quality if q.kind == "clock_shift"
    ]
    assert shift.count == 3
    assert shift.examples[:2] == (
        "case 1: Register at 1969-12-31 21:15:00 and 23:15:00",
        "case 1: Approve at 1969-12-31 22:15:00 and 00:15:00",
    )


def test_an_activity_dated_without_a_time_is_named(store, tmp_path):
    """'Close' is written as a date: read as 00:00 it came before that day's 'Open' at 09:00 in every
    case, and the map showed Close -> Open without a word."""
    rows = ["case,activity,timestamp"]
    for i in range(1, 21):
        rows += [f"c{i},Open,2026-01-{i:02d} 09:{i:02d}", f"c{i},Close,2026-01-{i:02d}"]
    rows += ["c21,Open,2026-01-21 09:00", "c21,Close,2026-01-22"]  # the next day: its order is right
    path = tmp_path / "dates.csv"
    path.write_text("\n".join(rows) + "\n")
    for timezone in ("UTC", "Asia/Kolkata"):
        with Store() as s:
            found = {q.kind: q for q in ingest_file(s, path, IngestOptions(timezone=timezone)).quality}
            q = found["dates_without_times"]
            assert (q.count, q.examples[:2]) == (
                20,
                ("case c1: Close on 2026-01-01", "case c10: Close on 2026-01-10"),
            )
            assert q.message.startswith("20 events in 20 cases fall at exactly midnight before later events")
            assert q.fix == QUALITY_FIXES["dates_without_times"]


def test_an_event_at_midnight_by_chance_is_no_date_without_a_time(store, tmp_path):
    # One 'Review' of twenty at 00:00:00, followed the same day: times to the second put one event in
    # 86,400 there, and the generated samples hold such events.
    rows = ["case,activity,timestamp"]
    for i in range(1, 21):
        clock = "00:00:00" if i == 1 else f"08:{i:02d}:17"
        rows += [f"c{i},Review,2026-01-{i:02d} {clock}", f"c{i},Close,2026-01-{i:02d} 17:{i:02d}:05"]
    path = tmp_path / "midnight.csv"
    path.write_text("\n".join(rows) + "\n")
    assert "dates_without_times" not in {q.kind for q in ingest_file(store, path).quality}


def test_every_finding_says_what_to_do_also_when_read_back(store):
    s = ingest_file(store, QUALITY / "near_duplicates.csv")
    assert {q.kind: q.fix for q in s.quality} == {q.kind: QUALITY_FIXES[q.kind] for q in s.quality}
    assert all(q.fix for q in s.quality)
    assert [(q.kind, q.fix) for q in quality(store, s.log_id)] == sorted((q.kind, q.fix) for q in s.quality)


@pytest.mark.parametrize("sample", ["service_desk.csv", "order_to_cash.csv", "purchase_to_pay.csv"])
def test_no_finding_fires_on_the_clean_samples(store, sample):
    s = ingest_file(store, SAMPLE_LOGS / sample)
    assert [q.kind for q in s.quality] == []


def test_ingest_json_carries_the_findings_with_their_fix(tmp_path):
    ws = str(tmp_path / "ws.duckdb")
    res = CliRunner().invoke(cli, ["--workspace", ws, "ingest", str(QUALITY / "one_event.csv"), "--json"])
    assert res.exit_code == 0, res.output
    (finding,) = json.loads(res.output)["quality"]
    assert finding == {
        "kind": "one_event_cases",
        "count": 2,
        "message": "2 of 4 cases have a single event: no path, no duration",
        "examples": ["case 2", "case 3"],
        "fix": QUALITY_FIXES["one_event_cases"],
    }
    res = CliRunner().invoke(cli, ["--workspace", ws, "ingest", str(QUALITY / "cut_cases.csv")])
    assert "    fix: Extract a wider date range" in res.output
