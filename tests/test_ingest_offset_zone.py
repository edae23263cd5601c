"""Times that write their offsets: the log is shown in the zone that keeps them, not in UTC.

Every instant is the one the file wrote, in any zone; what the zone decides is
where hours, weekdays and weeks are read.  The checks: the zone chosen for each
offset pattern, the instants unchanged, the note naming the zone and the option,
no zone where the times are UTC's or some time writes none, the user's zone
obeyed, an appended export's naive times read in the zone shown, and two real logs.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from mining.catalog import list_logs
from mining.ingest import IngestOptions, ingest_file, preview

UTC = dt.UTC
NOTE = (
    "the times write their offsets ({offsets}), which {zone} keeps: the log is shown in {zone} "
    "(hours of the day, weekdays, weeks); use --timezone to show it in another zone"
)


def _csv(tmp_path: Path, *stamps: str, name: str = "log.csv") -> Path:
    rows = [f"c{i // 2},{'Open' if i % 2 == 0 else 'Close'},{s}" for i, s in enumerate(stamps)]
    path = tmp_path / name
    path.write_text("case,activity,timestamp\n" + "\n".join(rows) + "\n")
    return path


def _notes(summary) -> list[str]:
    return [str(w) for w in summary.warnings]


@pytest.mark.parametrize(
    ("stamps", "zone", "offsets"),
    [
        # The EU's switch on 2011-10-30: Central European Time.
        (("2011-10-01T09:00:00+02:00", "2011-11-02T17:00:00+01:00"), "CET", "+01:00, +02:00"),
        (("2011-10-01T09:00:00+03:00", "2011-11-02T17:00:00+02:00"), "EET", "+02:00, +03:00"),
        (("2011-10-01T09:00:00+01:00", "2011-11-02T17:00:00+00:00"), "Europe/London", "+00:00, +01:00"),
        # The US's switch on 2012-03-11: Eastern, with and without daylight saving.
        (("2012-03-01T09:00:00-05:00", "2012-03-20T09:00:00-04:00"), "EST5EDT", "-05:00, -04:00"),
        (("2012-03-01T09:00:00-05:00", "2012-03-20T09:00:00-05:00"), "EST", "-05:00"),
        (("2012-03-01 09:00:00+0530", "2012-07-01 09:00:00+0530"), "Asia/Kolkata", "+05:30"),
        # Moscow kept +04:00 from 2011 to 2014, so a later +04:00 is the Gulf's.
        (("2016-03-01T09:00:00+04:00", "2016-07-01T09:00:00+04:00"), "Asia/Dubai", "+04:00"),
        # A whole hour that no zone of the list keeps: the tz database's fixed zone (its sign is POSIX's).
        (("2012-03-01T09:00:00-01:00", "2012-07-01T09:00:00-01:00"), "Etc/GMT+1", "-01:00"),
    ],
)
def test_the_log_is_shown_in_the_zone_keeping_its_offsets(store, tmp_path, stamps, zone, offsets):
    summary = ingest_file(store, _csv(tmp_path, *stamps))
    assert summary.mapping.timezone == zone
    assert [log.timezone for log in list_logs(store)] == [zone]
    assert NOTE.format(offsets=offsets, zone=zone) in _notes(summary)
    # The instants are the file's, whatever the zone shown.
    expected = [dt.datetime.fromisoformat(s.replace(" ", "T")).astimezone(UTC) for s in stamps]
    assert [r[0] for r in store.query("SELECT ts FROM events ORDER BY row_no").rows] == expected


def test_utc_times_and_naive_times_keep_utc(store, tmp_path):
    utc = ingest_file(store, _csv(tmp_path, "2011-10-01T09:00:00Z", "2011-11-02T17:00:00+00:00"))
    assert utc.mapping.timezone == "UTC"
    assert not any("write their offsets" in w for w in _notes(utc))
    # One time without an offset: the others' zone says nothing of it; the naive warning stands.
    mixed = ingest_file(
        store, _csv(tmp_path, "2011-10-01T09:00:00+02:00", "2011-11-02 17:00:00", name="mixed.csv")
    )
    assert mixed.mapping.timezone == "UTC"
    assert _notes(mixed)[0] == (
        "timestamps without an offset in 'timestamp' were read as UTC; use --timezone if they are local times"
    )


def test_a_chosen_zone_is_obeyed(store, tmp_path):
    path = _csv(tmp_path, "2011-10-01T09:00:00+02:00", "2011-11-02T17:00:00+01:00")
    summary = ingest_file(store, path, IngestOptions(timezone="Europe/Lisbon"))
    assert summary.mapping.timezone == "Europe/Lisbon"
    assert not any("write their offsets" in w for w in _notes(summary))


def test_an_appended_export_reads_its_naive_times_in_the_zone_shown(store, tmp_path):
    ingest_file(
        store,
        _csv(tmp_path, "2011-10-01T09:00:00+02:00", "2011-11-02T17:00:00+01:00"),
        IngestOptions(name="t"),
    )
    later = _csv(tmp_path, "2011-12-01 09:00:00", "2011-12-02 17:00:00", name="later.csv")
    summary = ingest_file(store, later, IngestOptions(name="t", append=True))
    assert (summary.status, summary.events, summary.mapping.timezone) == ("appended", 4, "CET")
    stored = store.query("SELECT ts FROM events WHERE row_no > 2 ORDER BY row_no").rows
    assert [r[0] for r in stored] == [
        dt.datetime(2011, 12, 1, 8, tzinfo=UTC),
        dt.datetime(2011, 12, 2, 16, tzinfo=UTC),
    ]


def test_the_preview_says_where_the_log_will_be_shown(tmp_path):
    plan = preview(_csv(tmp_path, "2012-03-01T09:00:00-05:00", "2012-03-20T09:00:00-04:00"))
    assert plan.shown_in is not None
    assert (plan.shown_in.zone, plan.shown_in.offsets, plan.timezone) == (
        "EST5EDT",
        ("-05:00", "-04:00"),
        "UTC",
    )
    naive = preview(_csv(tmp_path, "2012-03-01 09:00", "2012-03-20 09:00", name="naive.csv"))
    assert naive.shown_in is None


@pytest.mark.parametrize(
    ("log", "zone", "offsets", "counts"),
    [
        ("receipt_coselog.xes.gz", "CET", "+01:00, +02:00", (1434, 8577)),
        ("production_manufacturing.xes.gz", "EST", "-05:00", (225, 9906)),
        ("helpdesk.xes.gz", "UTC", None, (4580, 21348)),
    ],
)
def test_real_logs_are_shown_in_the_zone_their_offsets_keep(store, shared_logs, log, zone, offsets, counts):
    summary = ingest_file(store, shared_logs / log)
    assert (summary.cases, summary.events, summary.mapping.timezone) == (*counts, zone)
    if offsets:
        assert NOTE.format(offsets=offsets, zone=zone) in _notes(summary)


def test_a_placeholder_date_neither_crashes_nor_decides_the_zone(store, tmp_path):
    # SAP's open date written in UTC, 9999-12-31T23:30Z, is past the year 9999 in CET: the zone check
    # raised OverflowError, a traceback for the user.  A placeholder is no clock reading.
    path = _csv(
        tmp_path,
        "2011-10-01T09:00:00+02:00",
        "2011-11-02T17:00:00+01:00",
        "2011-10-03T09:00:00+02:00",
        "9999-12-31T23:30:00+00:00",
    )
    summary = ingest_file(store, path)
    assert summary.mapping.timezone == "CET"
    assert NOTE.format(offsets="+01:00, +02:00", zone="CET") in _notes(summary)
    assert summary.end == dt.datetime(9999, 12, 31, 23, 30, tzinfo=UTC)
