"""Zones written after the time (``09:00 CET``, ``09:00 BST``, ``09:00 Europe/Berlin``) are read as the
instants they name, whatever the log's time zone, or rejected by name; never guessed.

Before, DuckDB's casts decided: in UTC, ``BST`` was Bangladesh and ``IST`` India,
and ``CEST`` was refused; with ``--timezone``, every written zone was dropped and
the time read as the log's.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo, available_timezones

import pytest

from mining.errors import TooManyRejects
from mining.ingest import IngestOptions, ingest_file
from mining.ingest.zones import AMBIGUOUS, ZONE_WORDS, zone_offsets
from mining.schema import IngestSummary
from mining.store import Store


@pytest.fixture
def store():
    with Store(":memory:") as s:
        yield s


def load(store: Store, path: Path, **options) -> IngestSummary:
    return ingest_file(store, path, IngestOptions(**options))


def write(tmp_path: Path, times: list[str], name: str = "zones.csv") -> Path:
    """One case per value, two events each: the value, then a plain UTC time a day later."""
    lines = ["case,activity,time"]
    for i, t in enumerate(times, start=1):
        lines += [f"c{i},Open,{t}", f"c{i},Close,2030-01-01T00:00:00Z"]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def opened(store: Store) -> list[str]:
    """Each case's Open in UTC, by case."""
    rows = store.query(
        "SELECT case_id, strftime(timezone('UTC', ts), '%Y-%m-%d %H:%M') FROM events "
        "WHERE activity = 'Open' ORDER BY row_no"
    ).rows
    return [t for _, t in rows]


# Each written zone, and the UTC instant of 09:00 (13 January or 13 July 2026) there.
WRITTEN = [
    ("2026-01-13 09:00:00 CET", "2026-01-13 08:00"),
    ("2026-07-13 09:00:00 CEST", "2026-07-13 07:00"),
    ("2026-07-13 09:00:00 (EDT)", "2026-07-13 13:00"),
    ("2026-01-13 09:00:00 EST", "2026-01-13 14:00"),
    ("2026-01-13 09:00:00 JST", "2026-01-13 00:00"),
    ("2026-01-13 09:00:00 GMT", "2026-01-13 09:00"),
    ("2026-01-13 09:00:00 UTC+2", "2026-01-13 07:00"),
    ("2026-01-13 09:00:00 GMT-05:30", "2026-01-13 14:30"),
    ("2026-07-13 09:00:00 Europe/Berlin", "2026-07-13 07:00"),
    ("2026-07-13T09:00+02:00[Europe/Berlin]", "2026-07-13 07:00"),
    ("2026-01-13 09:00:00 Z", "2026-01-13 09:00"),
]


@pytest.mark.parametrize("timezone", ["UTC", "Europe/Berlin", "America/New_York"])
def test_a_written_zone_is_read_as_its_instant_whatever_the_logs_zone(store, tmp_path, timezone):
    path = write(tmp_path, [w for w, _ in WRITTEN])
    s = load(store, path, timezone=timezone)
    assert (s.events, s.rejected_rows) == (2 * len(WRITTEN), 0)
    assert opened(store) == [utc for _, utc in WRITTEN]


def test_an_ambiguous_abbreviation_is_rejected_with_its_meanings_not_guessed(store, tmp_path):
    path = write(tmp_path, ["2026-07-13 09:00:00 BST", *(["2026-07-13 09:00:00 CEST"] * 30)])
    s = load(store, path)
    (reject,) = s.rejects
    assert (reject.row, reject.column, reject.value) == (1, "time", "2026-07-13 09:00:00 BST")
    assert reject.reason == (
        "the zone 'BST' names more than one offset: British Summer Time (+01:00), Bangladesh (+06:00); "
        "set the time zone to the export's (Europe/London reads BST as British Summer Time)"
    )
    # DuckDB's cast read it as Bangladesh, 03:00 UTC: nothing of the kind is stored.
    assert opened(store) == ["2026-07-13 07:00"] * 30
    (guess,) = [g for g in s.guesses if g.role == "timestamp"]
    assert (
        "zones written as CEST are read as their offsets; BST names more than one zone, "
        "read only where the time zone settles which" in guess.reason
    )


def test_a_column_of_ambiguous_abbreviations_is_refused_naming_the_fix(store, tmp_path):
    path = write(tmp_path, ["2026-01-13 09:00:00 IST", "2026-01-14 09:00:00 IST"])
    with pytest.raises(TooManyRejects) as err:
        load(store, path)
    assert (
        "the zone 'IST' names more than one offset: India (+05:30), Irish Standard Time (+01:00), Israel (+02:00)"
        in str(err.value)
    )
    assert store.scalar("SELECT count(*) FROM events") == 0


@pytest.mark.parametrize(
    ("timezone", "written", "utc"),
    [
        ("Europe/London", "2026-07-13 09:00:00 BST", "2026-07-13 08:00"),
        ("Asia/Dhaka", "2026-07-13 09:00:00 BST", "2026-07-13 03:00"),
        ("Asia/Kolkata", "2026-01-13 09:00:00 IST", "2026-01-13 03:30"),
        ("Europe/Dublin", "2026-07-13 09:00:00 IST", "2026-07-13 08:00"),
        ("Asia/Jerusalem", "2026-01-13 09:00:00 IST", "2026-01-13 07:00"),
        ("America/Chicago", "2026-01-13 09:00:00 CST", "2026-01-13 15:00"),
        ("Asia/Shanghai", "2026-01-13 09:00:00 CST", "2026-01-13 01:00"),
        ("America/Halifax", "2026-01-13 09:00:00 AST", "2026-01-13 13:00"),
        ("Asia/Riyadh", "2026-01-13 09:00:00 AST", "2026-01-13 06:00"),
        # The log's own zone has the last word over the table: Manila writes PST for +08:00.
        ("Asia/Manila", "2026-01-13 09:00:00 PST", "2026-01-13 01:00"),
        ("America/Los_Angeles", "2026-01-13 09:00:00 PST", "2026-01-13 17:00"),
    ],
)
def test_the_logs_zone_settles_what_an_abbreviation_means(store, tmp_path, timezone, written, utc):
    s = load(store, write(tmp_path, [written]), timezone=timezone)
    assert s.rejected_rows == 0
    assert opened(store) == [utc]


def test_an_unknown_zone_word_is_rejected_not_dropped(store, tmp_path):
    path = write(tmp_path, ["2026-07-13 09:00:00 MESZ", *(["2026-07-13 09:00:00+02:00"] * 30)])
    for timezone in ("UTC", "Europe/Berlin"):
        with Store(":memory:") as s:
            summary = load(s, path, timezone=timezone)
            (reject,) = summary.rejects
            assert reject.reason == (
                "the zone 'MESZ' is not one this importer knows; export times with an offset (+01:00) or in UTC"
            )


def test_a_zone_word_the_sample_did_not_show_is_still_read(store, tmp_path):
    # 40,000 plain rows, then one CEST and one BST: neither is in the head the format is chosen from.
    times = ["2026-01-13T09:00:00+01:00"] * 20000 + ["2026-07-13 09:00:00 CEST", "2026-07-13 09:00:00 BST"]
    path = write(tmp_path, times)
    for timezone, read in (
        ("UTC", ["2026-07-13 07:00"]),
        ("Europe/London", ["2026-07-13 07:00", "2026-07-13 08:00"]),
    ):
        with Store(":memory:") as s:
            summary = load(s, path, timezone=timezone)
            assert summary.rejected_rows == 2 - len(read)
            tail = s.query(
                "SELECT strftime(timezone('UTC', ts), '%Y-%m-%d %H:%M') FROM events "
                "WHERE activity = 'Open' AND row_no > 40000 ORDER BY row_no"
            ).rows
            assert [t for (t,) in tail] == read


def test_a_number_after_the_time_is_rejected_whatever_the_logs_zone(store, tmp_path):
    # Before, with a time zone set, DuckDB's TIMESTAMP cast dropped the trailing '12' and read 09:00;
    # in UTC the same value was rejected.
    path = write(tmp_path, ["2026-01-13 09:00:00 12", *(["2026-01-13 09:00:00"] * 30)])
    for timezone in ("UTC", "Europe/Berlin"):
        with Store(":memory:") as s:
            summary = load(s, path, timezone=timezone)
            (reject,) = summary.rejects
            assert (reject.row, reject.column, reject.value) == (1, "time", "2026-01-13 09:00:00 12")
            assert reject.reason == "does not match the column's timestamp format ISO 8601"
            assert summary.events == 61


def test_an_offset_after_a_space_is_honoured_in_a_local_log(store, tmp_path):
    # Before, the local reading dropped it: 09:00 +01:00 became 09:00 in New York.
    path = write(tmp_path, ["2026-01-13 09:00:00 +01:00", *(["2026-01-13 09:00:00"] * 30)])
    s = load(store, path, timezone="America/New_York")
    assert s.rejected_rows == 0
    assert opened(store) == ["2026-01-13 08:00"] + ["2026-01-13 14:00"] * 30


def test_javas_date_to_string_is_read(store, tmp_path):
    path = tmp_path / "java.csv"
    path.write_text(
        "case,activity,time\n1,Open,Tue Jan 13 09:00:00 CET 2026\n1,Close,Mon Jul 13 09:00:00 CEST 2026\n"
        "2,Open,Tue Jan 13 09:00:00 EST 2026\n2,Close,Wed Jan 14 09:00:00 GMT 2026\n"
    )
    s = load(store, path)
    assert s.timestamp_formats == {"timestamp": "%a %b %d %H:%M:%S %z %Y"}
    rows = store.query(
        "SELECT strftime(timezone('UTC', ts), '%Y-%m-%d %H:%M') FROM events ORDER BY row_no"
    ).rows
    assert [t for (t,) in rows] == [
        "2026-01-13 08:00",
        "2026-07-13 07:00",
        "2026-01-13 14:00",
        "2026-01-14 09:00",
    ]


def test_twelve_hour_times_are_not_taken_for_zones(store, tmp_path):
    path = tmp_path / "pm.csv"
    path.write_text("case,activity,time\n1,a,2026-01-13 9:03 AM\n1,b,2026-01-13 2:40 PM\n")
    s = load(store, path)
    assert s.timestamp_formats == {"timestamp": "%Y-%m-%d %I:%M %p"}
    assert [
        t for _, t in store.query("SELECT row_no, strftime(ts, '%H:%M') FROM events ORDER BY row_no").rows
    ] == [
        "09:03",
        "14:40",
    ]


def test_the_abbreviation_table_agrees_with_the_tz_database():
    """Every abbreviation the tz database writes (2020-2027) means in the table what it means there, but
    Cuba's CDT (-04:00) and Manila's PST (+08:00); a log in those zones reads them its own way."""
    disagree, own = set(), {}
    for zone in available_timezones():
        tz = ZoneInfo(zone)
        for year in range(2020, 2028):
            for month in (1, 4, 7, 10):
                moment = dt.datetime(year, month, 15, 12, tzinfo=tz)
                word, offset = moment.tzname(), moment.utcoffset()
                if not word or not word.isalpha():
                    continue
                minutes = int(offset.total_seconds()) // 60
                text = f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
                own.setdefault(zone, {})[word] = text
                if word in ZONE_WORDS and ZONE_WORDS[word] != text:
                    disagree.add((word, text))
                if word in AMBIGUOUS and text not in [m[0] for m in AMBIGUOUS[word]]:
                    disagree.add((word, text))
    assert disagree == {("CDT", "-04:00"), ("PST", "+08:00")}
    assert zone_offsets("America/Havana")["CDT"] == "-04:00"
    assert zone_offsets("Asia/Manila")["PST"] == "+08:00"
    assert {w: zone_offsets("Europe/London")[w] for w in own["Europe/London"]} == {
        "GMT": "+00:00",
        "BST": "+01:00",
    }


def test_the_detected_format_says_which_zones_it_reads(store, tmp_path):
    path = write(tmp_path, ["2026-01-13 09:00:00 CET", "2026-07-13 09:00:00 CEST"])
    s = load(store, path)
    (guess,) = [g for g in s.guesses if g.role == "timestamp"]
    assert "zones written as CEST, CET are read as their offsets" in guess.reason
    assert dt.date(2026, 7, 13).isoformat() in opened(store)[1]
