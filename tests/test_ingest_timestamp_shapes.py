"""Timestamps as reports and web applications write them "as shown": a weekday first, a comma before
the time, ``Uhr`` after it, ``09h15``, ISO 8601's basic form, and a zone after a date that is not ISO.

Before, each column below was refused ("cannot tell which column is the timestamp"), or had
the rows with a written zone rejected; and a value that writes its offset after the time
(``Wed, 13 Mar 2024 09:15:00 +0100``) was read as the log's wall time once a time zone was
set: 09:15 UTC instead of 08:15, without a word.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from mining.errors import TooManyRejects
from mining.ingest import IngestOptions, ingest_file
from mining.ingest.weekdays import has_weekday_words
from mining.store import Store

UTC = dt.UTC


def _load(tmp_path: Path, values: list[str], **options: object) -> tuple[list[dt.datetime], str]:
    path = tmp_path / "export.csv"
    rows = [f'{i // 2 + 1},{"ab"[i % 2]},"{v}"' for i, v in enumerate(values)]
    path.write_text("case,activity,timestamp\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with Store() as store:
        summary = ingest_file(store, path, IngestOptions(**options))  # type: ignore[arg-type]
        times = [r[0] for r in store.query("SELECT ts FROM events ORDER BY row_no").rows]
    reason = next(g.reason for g in summary.guesses if g.role == "timestamp")
    return times, reason


def _utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("values", "pattern"),
    [
        (["Wed 13/03/2024 09:15", "Wed 13/03/2024 10:40", "Thu 14/03/2024 08:00"], "%d/%m/%Y %H:%M"),
        (
            [
                "Wednesday, March 13, 2024 9:15 AM",
                "Wednesday, March 13, 2024 10:40 AM",
                "Thursday, March 14, 2024 8:00 AM",
            ],
            "%B %d, %Y %I:%M %p",
        ),
        (
            ["Wed Mar 13 09:15:00 2024", "Wed Mar 13 10:40:00 2024", "Thu Mar 14 08:00:00 2024"],
            "%b %d %H:%M:%S %Y",
        ),
        (["Mi., 13.03.2024 09:15", "Mi., 13.03.2024 10:40", "Do., 14.03.2024 08:00"], "%d.%m.%Y %H:%M"),
        (["mer. 13/03/2024 09:15", "mer. 13/03/2024 10:40", "jeu. 14/03/2024 08:00"], "%d/%m/%Y %H:%M"),
        (["środa 13.03.2024 09:15", "środa 13.03.2024 10:40", "czwartek 14.03.2024 08:00"], "%d.%m.%Y %H:%M"),
        (
            ["Mi., 13. März 2024 09:15", "Mi., 13. März 2024 10:40", "Do., 14. März 2024 08:00"],
            "%d %b %Y %H:%M",
        ),
    ],
)
def test_a_leading_weekday_is_dropped_and_the_date_read(
    tmp_path: Path, values: list[str], pattern: str
) -> None:
    times, reason = _load(tmp_path, values)
    assert times == [_utc(2024, 3, 13, 9, 15), _utc(2024, 3, 13, 10, 40), _utc(2024, 3, 14, 8, 0)]
    assert f"parses as {pattern}; the weekday before each date is dropped" in reason


def test_a_month_abbreviation_that_is_also_a_weekday_is_kept() -> None:
    # French, Spanish and Italian write Tuesday "mar": English March must stay March.
    assert not has_weekday_words(["Mar 13 2024 09:15", "Mar 14 2024 10:00"])
    assert has_weekday_words(["mardi 12/03/2024", "Tue 12/03/2024"])


@pytest.mark.parametrize(
    ("values", "options", "expected"),
    [
        # HTTP's and e-mail's date.
        (
            [
                "Wed, 13 Mar 2024 09:15:00 GMT",
                "Wed, 13 Mar 2024 10:40:00 GMT",
                "Thu, 14 Mar 2024 08:00:00 GMT",
            ],
            {},
            [_utc(2024, 3, 13, 9, 15), _utc(2024, 3, 13, 10, 40), _utc(2024, 3, 14, 8, 0)],
        ),
        # A report's local times with their zone: winter and summer time.
        (
            ["13/03/2024 09:15 CET", "13/03/2024 10:40 CET", "14/07/2024 08:00 CEST"],
            {},
            [_utc(2024, 3, 13, 8, 15), _utc(2024, 3, 13, 9, 40), _utc(2024, 7, 14, 6, 0)],
        ),
        # IST names India and Ireland: the log's zone settles it.
        (
            ["13/03/2024 09:15 IST", "13/03/2024 10:45 IST", "14/03/2024 08:00 IST"],
            {"timezone": "Asia/Kolkata"},
            [_utc(2024, 3, 13, 3, 45), _utc(2024, 3, 13, 5, 15), _utc(2024, 3, 14, 2, 30)],
        ),
    ],
)
def test_a_zone_written_after_a_non_iso_date_is_read_as_its_offset(
    tmp_path: Path, values: list[str], options: dict[str, object], expected: list[dt.datetime]
) -> None:
    times, reason = _load(tmp_path, values, **options)
    assert times == expected
    word = values[0].rsplit(" ", 1)[1]
    assert word in reason
    assert "are read as their offsets" in reason or f"{word} names more than one zone" in reason


def test_an_unknown_word_after_the_time_is_a_named_reject(tmp_path: Path) -> None:
    values = [f"{d:02d}/03/2024 {h:02d}:15 CET" for d in range(1, 21) for h in (9, 10)] + [
        "21/03/2024 08:00 MESZ"
    ]
    with pytest.raises(TooManyRejects) as info:
        _load(tmp_path, values, max_rejects=0.0)
    (reject,) = info.value.rejects
    assert (reject.row, reject.value) == (41, "21/03/2024 08:00 MESZ")  # the 41st row under the header
    assert "the zone 'MESZ' is not one this importer knows" in reject.reason


@pytest.mark.parametrize("timezone", [None, "Europe/Berlin", "America/New_York"])
def test_a_written_offset_decides_the_instant_whatever_the_logs_zone(
    tmp_path: Path, timezone: str | None
) -> None:
    values = ["Wed, 13 Mar 2024 09:15:00 +0100", "Wed, 13 Mar 2024 10:40:00 +0100", "13/03/2024 23:00 -05:00"]
    times, _ = _load(tmp_path, [*values[:2], "Thu, 14 Mar 2024 04:00:00 +0000"], timezone=timezone)
    assert times == [_utc(2024, 3, 13, 8, 15), _utc(2024, 3, 13, 9, 40), _utc(2024, 3, 14, 4, 0)]
    times, _ = _load(
        tmp_path, ["13/03/2024 09:15 +0100", "13/03/2024 10:40 +01:00", values[2]], timezone=timezone
    )
    assert times == [_utc(2024, 3, 13, 8, 15), _utc(2024, 3, 13, 9, 40), _utc(2024, 3, 14, 4, 0)]


@pytest.mark.parametrize(
    ("values", "pattern"),
    [
        # JavaScript's toLocaleString() and ICU, en-US, en-GB and de-DE.
        (
            ["3/13/2024, 9:15:00 AM", "3/13/2024, 10:40:00 AM", "3/14/2024, 8:00:00 AM"],
            "%m/%d/%Y %I:%M:%S %p",
        ),
        (
            ["Mar 13, 2024, 9:15:00 AM", "Mar 13, 2024, 10:40:00 AM", "Mar 14, 2024, 8:00:00 AM"],
            "%b %d, %Y %I:%M:%S %p",
        ),
        (["13/03/2024, 09:15:00", "13/03/2024, 10:40:00", "14/03/2024, 08:00:00"], "%d/%m/%Y %H:%M:%S"),
        (["13.03.24, 09:15", "13.03.24, 10:40", "14.03.24, 08:00"], "%d.%m.%y %H:%M"),
        (["13.03.2024 09:15 Uhr", "13.03.2024 10:40 Uhr", "14.03.2024 08:00 Uhr"], "%d.%m.%Y %H:%M"),
        (["13/03/2024 09h15", "13/03/2024 10h40", "14/03/2024 08h00"], "%d/%m/%Y %H:%M"),
        (["20240313T091500Z", "20240313T104000Z", "20240314T080000Z"], "%Y%m%dT%H%M%S%z"),
    ],
)
def test_marks_around_the_time_of_day_are_read(tmp_path: Path, values: list[str], pattern: str) -> None:
    times, reason = _load(tmp_path, values)
    assert times == [_utc(2024, 3, 13, 9, 15), _utc(2024, 3, 13, 10, 40), _utc(2024, 3, 14, 8, 0)]
    assert f"parses as {pattern}; the marks around the time of day" in reason


def test_a_windows_zone_label_after_the_time_is_read_as_its_offset(tmp_path: Path) -> None:
    values = [
        "13/03/2024 09:15:00 (UTC+01:00)",
        "13/03/2024 10:40:00 (UTC+01:00)",
        "14/03/2024 08:00:00 (UTC-05:00)",
    ]
    times, _ = _load(tmp_path, values, timezone="Asia/Tokyo")
    assert times == [_utc(2024, 3, 13, 8, 15), _utc(2024, 3, 13, 9, 40), _utc(2024, 3, 14, 13, 0)]
