"""Instants shown on the log's wall clock, placeholder dates beyond a zone's calendar kept in UTC."""

from __future__ import annotations

import datetime as dt

from click.testing import CliRunner

from mining.cli import cli
from mining.moments import local_text

UTC = dt.UTC


def test_an_instant_is_written_on_the_zones_wall_clock():
    # 08:00 UTC is 09:00 in Amsterdam in winter, 10:00 in summer, 03:00 in New York (EST).
    assert local_text(dt.datetime(2024, 3, 1, 8, 0, tzinfo=UTC), "Europe/Amsterdam") == "2024-03-01 09:00"
    assert local_text(dt.datetime(2024, 7, 1, 8, 0, tzinfo=UTC), "Europe/Amsterdam") == "2024-07-01 10:00"
    assert (
        local_text(dt.datetime(2024, 3, 1, 8, 0, tzinfo=UTC), "EST", "%d.%m. %H:%M:%S") == "01.03. 03:00:00"
    )
    # A naive value is written as it stands; none is the placeholder asked for.
    assert local_text(dt.datetime(2024, 3, 1, 8, 0), "EST") == "2024-03-01 08:00"
    assert (local_text(None, "CET"), local_text(None, "CET", none="")) == ("-", "")


def test_a_placeholder_date_beyond_the_zones_calendar_stays_in_utc_and_says_so():
    assert local_text(dt.datetime(9999, 12, 31, 23, 30, tzinfo=UTC), "CET") == "9999-12-31 23:30 UTC"
    assert local_text(dt.datetime(1, 1, 1, 0, 30, tzinfo=UTC), "EST") == "0001-01-01 00:30 UTC"
    # Inside the calendar the zone applies, even at its edge.
    assert local_text(dt.datetime(9999, 12, 31, 20, 0, tzinfo=UTC), "CET") == "9999-12-31 21:00"


def test_ingest_prints_the_time_span_in_the_logs_zone(tmp_path):
    source = tmp_path / "log.csv"
    source.write_text(
        "case,activity,timestamp\nc1,Open,2024-03-01T08:00:00Z\nc1,Close,2024-03-03T08:00:00Z\n"
        "c2,Open,2024-03-02T08:00:00Z\nc2,Close,9999-12-31T23:30:00Z\n"
    )
    result = CliRunner().invoke(
        cli,
        ["--workspace", str(tmp_path / "ws.duckdb"), "ingest", str(source), "--timezone", "Europe/Amsterdam"],
    )
    assert result.exit_code == 0, result.output
    assert "  time span   2024-03-01 09:00:00 Europe/Amsterdam to 9999-12-31 23:30:00 UTC" in result.output


def test_logs_lists_the_days_of_the_logs_zone(tmp_path):
    # 23:30 UTC on 1 March is already 2 March in Amsterdam.
    source = tmp_path / "late.csv"
    source.write_text(
        "case,activity,timestamp\nc1,Open,2024-03-01T23:30:00Z\nc1,Close,2024-03-03T08:00:00Z\n"
        "c2,Open,2024-03-02T08:00:00Z\nc2,Close,2024-03-04T08:00:00Z\n"
    )
    ws = ["--workspace", str(tmp_path / "ws.duckdb")]
    assert (
        CliRunner().invoke(cli, [*ws, "ingest", str(source), "--timezone", "Europe/Amsterdam"]).exit_code == 0
    )
    result = CliRunner().invoke(cli, [*ws, "logs"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1].endswith("  2024-03-02 to 2024-03-04")
