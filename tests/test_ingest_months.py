"""Month names of other languages (``13 mars 2026``, ``13-mrt-2026``, ``13. März 2026 um 09:00``) are read
as their months.

Before, DuckDB's ``%b`` and ``%B`` read English names only, and each such column was refused:
"cannot tell which column is the timestamp".
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from mining.errors import IngestError
from mining.ingest import IngestOptions, ingest_file
from mining.store import Store

# (language, how the export writes 13 March 2026 09:05 and 2 October 2026 17:30)
WRITTEN = [
    ("french", "13 mars 2026 09:05", "2 oct. 2026 à 17:30"),
    ("german", "13. März 2026 09:05", "2. Okt. 2026 um 17:30"),
    ("austrian", "13. Mär 2026 09:05", "2. Oktober 2026 17:30"),
    ("spanish", "13 de marzo de 2026 09:05", "2 de octubre de 2026 17:30"),
    ("italian", "13 marzo 2026 09:05", "2 ott 2026 17:30"),
    ("dutch excel", "13-mrt-2026 09:05", "2-okt-2026 17:30"),
    ("portuguese", "13 de março de 2026 09:05", "2 de outubro de 2026 17:30"),
    ("swedish", "13 mars 2026 kl. 09:05", "2 oktober 2026 kl. 17:30"),
    ("polish", "13 marca 2026 09:05", "2 października 2026 17:30"),
    ("czech", "13. března 2026 09:05", "2. října 2026 17:30"),
    ("finnish", "13 maaliskuuta 2026 09:05", "2 lokakuuta 2026 17:30"),
]


def write(tmp_path: Path, first: str, second: str) -> Path:
    lines = ["case;activity;time"]
    for i in range(1, 7):
        lines += [f"c{i};Open;{first}", f"c{i};Close;{second}"]
    path = tmp_path / "months.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("language", "first", "second"), WRITTEN, ids=[w[0] for w in WRITTEN])
def test_a_month_written_in_another_language_is_read(tmp_path, language, first, second):
    with Store() as store:
        summary = ingest_file(store, write(tmp_path, first, second))
        assert (summary.events, summary.rejected_rows) == (12, 0)
        read = store.query("SELECT DISTINCT timezone('UTC', ts) FROM events ORDER BY 1").rows
        assert [t for (t,) in read] == [dt.datetime(2026, 3, 13, 9, 5), dt.datetime(2026, 10, 2, 17, 30)]
        [guess] = [g for g in summary.guesses if g.role == "timestamp"]
        assert "are read as their months" in guess.reason


def test_the_reason_names_the_words_read_as_months(tmp_path):
    # "oct." is English too, so it is not named; "octobre" is.
    with Store() as store:
        summary = ingest_file(store, write(tmp_path, "13 mars 2026 09:05", "2 octobre 2026 17:30"))
        [guess] = [g for g in summary.guesses if g.role == "timestamp"]
        assert "parses as %d %b %Y %H:%M; month names written as mars, octobre are read as their months" in (
            guess.reason
        )


def test_an_english_name_beside_another_languages_is_read_in_the_same_pattern(tmp_path):
    # German "April" is English "April": the whole column is read as abbreviations, one pattern.
    with Store() as store:
        summary = ingest_file(store, write(tmp_path, "13. April 2026 09:05", "2. Oktober 2026 17:30"))
        assert (summary.events, summary.rejected_rows) == (12, 0)
        assert summary.timestamp_formats["timestamp"] == "%d %b %Y %H:%M"


def test_a_word_no_language_uses_for_a_month_is_still_refused(tmp_path):
    with Store() as store, pytest.raises(IngestError) as info:
        ingest_file(store, write(tmp_path, "13 Fooday 2026 09:05", "2 Barday 2026 17:30"))
    assert str(info.value) == "months.csv: cannot tell which column is the timestamp"


def test_a_month_word_is_read_in_the_logs_zone(tmp_path):
    with Store() as store:
        ingest_file(
            store,
            write(tmp_path, "13 mars 2026 09:05", "2 oct. 2026 à 17:30"),
            IngestOptions(timezone="Europe/Paris"),
        )
        read = store.query("SELECT DISTINCT timezone('UTC', ts) FROM events ORDER BY 1").rows
        # Paris is UTC+1 in March and UTC+2 in October.
        assert [t for (t,) in read] == [dt.datetime(2026, 3, 13, 8, 5), dt.datetime(2026, 10, 2, 15, 30)]
