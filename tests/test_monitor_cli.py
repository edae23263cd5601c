"""``mining monitor``: the JSON contract, exit codes for cron, the report file and stored runs."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from mining.cli import cli
from mining.ingest import IngestOptions, ingest_file
from mining.store import Store
from tests.test_monitor_run import CALM, ROLES, write_closed_weeks, write_weeks


def _workspace(tmp_path, offsets, name="weeks"):
    ws = tmp_path / "ws.duckdb"
    with Store(ws) as store:
        ingest_file(
            store, write_weeks(tmp_path / f"{name}.csv", offsets), IngestOptions(name=name, roles=ROLES)
        )
    return ws


def run(ws, *args):
    return CliRunner().invoke(cli, ["--workspace", str(ws), "monitor", *args])


def test_json_keys_and_exit_zero_when_nothing_fires(tmp_path):
    ws = _workspace(tmp_path, CALM)
    res = run(ws, "weeks", "--json", "--timezone", "UTC", "--change-date", "2024-02-19", "--sla", "6h")
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["alerts"] == []
    assert len(data["periods"]) == 13
    assert [p["cut"] != "" for p in data["periods"]] == [True] + [False] * 11 + [True]
    assert {"start", "end", "started", "completed", "cycle_median_s", "sla_breach_rate"} <= set(
        data["periods"][0]
    )
    assert data["periods"][0]["start"] == "2024-01-01"
    assert data["comparison"]["change_date"] == "2024-02-19"
    assert data["sla_seconds"] == 6 * 3600
    # Without a change date there is no comparison.
    plain = json.loads(run(ws, "weeks", "--json", "--timezone", "UTC").output)
    assert plain["comparison"] is None


@pytest.mark.parametrize("sla", ["2 days", "P2D", "1 day 24 hours"])
def test_an_sla_in_words_or_iso_means_the_same_as_2d(tmp_path, sla):
    ws = _workspace(tmp_path, CALM)
    args = ["weeks", "--json", "--timezone", "UTC"]
    compact = run(ws, *args, "--sla", "2d")
    res = run(ws, *args, "--sla", sla)
    assert res.exit_code == compact.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["sla_seconds"] == 2 * 86_400
    assert data["periods"] == json.loads(compact.output)["periods"]


def test_an_alert_exits_three_and_the_report_is_written(tmp_path):
    ws = _workspace(tmp_path, (*CALM[:11], 20.0))
    report = tmp_path / "out" / "report.html"
    report.parent.mkdir()
    res = run(ws, "weeks", "--timezone", "UTC", "--report", str(report))
    assert res.exit_code == 3, res.output
    assert "alert(s):" in res.output
    assert "Median cycle time in the week of 2024-03-18 is worse than usual" in res.output
    assert f"wrote {report}" in res.output
    assert report.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_repeating_a_run_stores_one_row_and_the_same_bytes(tmp_path):
    ws = _workspace(tmp_path, (*CALM[:11], 20.0))
    args = ["weeks", "--json", "--timezone", "UTC", "--change-date", "2024-02-19"]
    first = run(ws, *args, "--report", str(tmp_path / "a.html"))
    second = run(ws, *args, "--report", str(tmp_path / "b.html"))
    assert first.exit_code == second.exit_code == 3
    assert first.output == second.output
    assert (tmp_path / "a.html").read_bytes() == (tmp_path / "b.html").read_bytes()
    with Store(ws, read_only=True) as store:
        rows = store.query("SELECT run_key, result FROM monitor_runs").rows
    assert len(rows) == 1
    assert rows[0][0] == json.loads(first.output)["key"]
    assert rows[0][1] + "\n" == first.output
    text = run(ws, "weeks", "--timezone", "UTC", "--change-date", "2024-02-19")
    assert "was already stored" in text.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sla", "5x"], "Error: --sla '5x' is not a duration; expected e.g. 5d, 36h, 1d12h, 90m, 2 days"),
        (["--max-breach-rate", "0.2"], "Error: a maximum SLA breach rate needs an SLA (--sla DURATION)"),
        (
            ["--stratify", "channel", "--change-date", "2024-02-19"],
            "Error: cannot stratify by 'channel': the log has no such attribute",
        ),
        (["--change-date", "2030-01-01"], "Error: no case started after the change date 2030-01-01"),
        # An end activity the log lacks completed no case, and the report said nothing needed attention.
        (
            ["--end-activity", "Y"],
            "Error: end activity 'Y' not in the log\nHint: the log's activities are 'A', 'Z'",
        ),
        (["--end-activity", "Zz"], "Error: end activity 'Zz' not in the log\nHint: did you mean 'Z'?"),
        (
            ["--since", "2024-03-01", "--until", "2024-02-01"],
            "Error: the time window ends (2024-02-01 00:00) before it starts (2024-03-01 00:00)",
        ),
        (
            ["--subdivision", "BY"],
            "Error: --subdivision BY names a region of a country's public holidays, but no --country is given",
        ),
    ],
)
def test_bad_input_exits_one_with_a_message(tmp_path, args, message):
    ws = _workspace(tmp_path, CALM)
    res = run(ws, "weeks", "--timezone", "UTC", *args)
    assert res.exit_code == 1
    assert message in res.output


def test_unknown_log_and_spark_are_refused(tmp_path):
    ws = _workspace(tmp_path, CALM)
    res = run(ws, "nope")
    assert res.exit_code == 1 and "no log named 'nope' in the workspace; logs: 'weeks'" in res.output
    spark = CliRunner().invoke(cli, ["--workspace", str(ws), "--engine", "spark", "monitor", "weeks"])
    assert spark.exit_code == 1 and "runs on the workspace only" in spark.output


def test_since_and_until_select_cases_by_their_local_start(tmp_path):
    ws = _workspace(tmp_path, CALM)
    res = run(ws, "weeks", "--json", "--timezone", "UTC", "--since", "2024-01-08", "--until", "2024-02-05")
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert [(p["start"], p["started"], p["partial"]) for p in data["periods"]] == [
        ("2024-01-08", 6, True),
        ("2024-01-15", 6, False),
        ("2024-01-22", 6, False),
        ("2024-01-29", 6, False),
    ]
    assert data["filters"] == ["started 2024-01-08 to 2024-02-04"]  # the last day included


def test_placeholder_dates_are_left_out_of_the_run_and_the_report_and_named_in_the_json(tmp_path):
    # The weekly log, plus SAP's "open" date, the year 1 and the epoch on three of its cases.
    path = write_weeks(tmp_path / "weeks.csv", CALM)
    rows = path.read_text().splitlines()
    rows += [
        "w03d1,Z,9999-12-31T00:00:00+00:00,bob",
        "w04d2,A,0001-01-01T00:00:00+00:00,ann",
        "w05d3,Z,1970-01-01T00:00:00+00:00,bob",
    ]
    path.write_text("\n".join(rows) + "\n")
    ws = tmp_path / "ws.duckdb"
    with Store(ws) as store:
        ingest_file(store, path, IngestOptions(name="weeks", roles=ROLES))
    report = tmp_path / "report.html"
    res = run(ws, "weeks", "--json", "--timezone", "UTC", "--period", "day", "--report", str(report))
    assert res.exit_code in (0, 3), res.output
    data = json.loads(res.output)
    assert (data["left_out"]["cases"], data["left_out"]["events"]) == (3, 3)
    assert "0001-01-01, 1970-01-01, 9999-12-31" in data["left_out"]["note"]
    # Twelve weeks and a Monday morning of days, not three thousand years of them.
    assert len(data["periods"]) == 12 * 7 + 1
    assert data["periods"][0]["start"] == "2024-01-01" and data["periods"][-1]["start"] == "2024-03-25"
    page = report.read_text(encoding="utf-8")
    assert len(page) < 500_000
    assert "3 events with placeholder or stray dates were left out with their 3 cases." in page


def test_the_table_marks_the_periods_too_recent_to_judge(tmp_path):
    ws = tmp_path / "ws.duckdb"
    with Store(ws) as store:
        ingest_file(
            store, write_closed_weeks(tmp_path / "closed.csv"), IngestOptions(name="closed", roles=ROLES)
        )
    result = run(ws, "closed", "--end-activity", "Z")
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if line.startswith("week of")]
    assert [r[:20].rstrip() for r in rows[-5:]] == [
        "week of 2024-03-25",
        "week of 2024-04-01 ~",
        "week of 2024-04-08 ~",
        "week of 2024-04-15 ~",
        "week of 2024-04-22 *",
    ]
    assert (
        "  ~ durations, rates and costs not judged yet: too many of its cases are still open, or would usually "
        "still be running at the data end" in result.output.splitlines()
    )
