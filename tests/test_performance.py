"""Waiting vs processing time: exact figures on hand-made logs, and facts on real ones."""

from __future__ import annotations

import pytest

from mining.analysis.calendar import Calendar
from mining.analysis.filters import Filter
from mining.analysis.performance import NO_STARTS_NOTE, activity_times, timing_source, transition_times
from mining.ingest import ingest_file
from tests.conftest import FILES, SAMPLE_LOGS
from tests.tinylog import load_file
from tests.tinylog import load_text as load

# Case 1: A 09:00-09:10, B 09:30-10:00, C 11:00-11:05.  Case 2: A 10:00-10:20, B 10:20-10:50.
# Case 3: A 12:00-13:00 and B starts 12:30, before A completes: waiting counts as 0.
STARTS = FILES / "performance" / "starts.csv"


def test_waiting_and_processing_from_a_start_timestamp_column(store):
    log = load_file(store, STARTS)
    times = activity_times(store, log)
    assert times.source == "start_timestamp" and times.processing_measured
    assert (times.instances, times.paired) == (7, 7)
    a, b, c = times.get("A"), times.get("B"), times.get("C")
    assert (a.count, b.count, c.count) == (3, 3, 1)
    # A is always first in its case: nothing to wait for.
    assert a.waiting.count == 0 and a.waiting.median is None
    assert (a.processing.median, a.processing.total) == (1200.0, 600.0 + 1200.0 + 3600.0)
    # B waits 20 min, 0 and 0 (overlap); processing 30, 30, 40 min.
    assert (b.waiting.count, b.waiting.median, b.waiting.total) == (3, 0.0, 1200.0)
    assert b.processing.median == 1800.0
    assert b.processing.p90 == pytest.approx(1800 + 0.8 * 600)
    assert (c.waiting.median, c.processing.median) == (3600.0, 300.0)
    # Longest median waiting first.
    assert [x.activity for x in times.activities] == ["C", "B", "A"]
    assert times.waiting_total == 1200.0 + 3600.0
    # PCE: case 1 2700/7500, case 2 3000/3000, case 3 (3600+2400)/4200.
    assert times.pce_median == pytest.approx(1.0)
    assert "start-timestamp column" in times.note


def test_transition_times(store):
    log = load_file(store, STARTS)
    tt = {(t.source, t.target): t.waiting for t in transition_times(store, log).transitions}
    assert set(tt) == {("A", "B"), ("B", "C")}
    assert (tt[("A", "B")].count, tt[("A", "B")].median, tt[("A", "B")].mean) == (3, 0.0, 400.0)
    assert tt[("B", "C")].median == 3600.0


def test_business_hours_apply_to_waiting_and_processing(store, tmp_path):
    # Friday 16:30-17:30 local (UTC here), then the next activity starts Monday 09:30.
    log = load(
        store,
        tmp_path,
        (
            "case_id,activity,start_timestamp,timestamp\n"
            "c1,A,2024-01-12T16:30:00Z,2024-01-12T17:30:00Z\n"
            "c1,B,2024-01-15T09:30:00Z,2024-01-15T10:00:00Z\n"
        ),
    )
    plain = activity_times(store, log)
    assert plain.get("B").waiting.median == (2 * 24 + 16) * 3600
    office = activity_times(store, log, calendar=Calendar(timezone="UTC"))
    assert office.business_time
    assert office.get("A").processing.median == 1800.0
    assert office.get("B").waiting.median == 1800.0
    assert office.get("B").processing.median == 1800.0
    assert "business seconds" in office.note


LIFECYCLE = FILES / "performance" / "lifecycle.csv"


def test_lifecycle_start_and_complete_are_paired_in_order(store):
    log = load_file(store, LIFECYCLE, lifecycle="lifecycle")
    assert timing_source(store, log) == "lifecycle"
    times = activity_times(store, log)
    assert times.processing_measured
    # Instances are completions; B's schedule event is not one.
    assert (times.instances, times.paired) == (4, 3)
    a, b, c = times.get("A"), times.get("B"), times.get("C")
    assert (a.count, a.processing.median, a.processing.total) == (2, 1200.0, 600.0 + 1800.0)
    assert (a.waiting.count, a.waiting.median) == (1, 600.0)
    assert (b.waiting.median, b.processing.median) == (2400.0, 1800.0)
    # C has no start: instantaneous, waiting runs to its completion.
    assert (c.processing.count, c.waiting.median) == (0, 1800.0)
    assert "3 of 4" in times.note and "instantaneous" in times.note


@pytest.mark.parametrize(
    ("start", "complete"), [("Started", "Completed"), ("begin", "end"), ("START", "COMPLETE")]
)
def test_lifecycle_starts_in_an_exports_own_words_are_starts(store, tmp_path, start, complete):
    # "Started" was taken for a completion: every activity counted twice, every case as rework.
    from mining.analysis.rework import rework

    text = (
        "case,activity,timestamp,lifecycle\n"
        f"1,A,2024-03-01 09:00,{start}\n1,A,2024-03-01 09:30,{complete}\n"
        f"1,B,2024-03-01 10:00,{start}\n1,B,2024-03-01 11:00,{complete}\n"
        f"2,A,2024-03-01 09:00,{start}\n2,A,2024-03-01 09:20,{complete}\n"
    )
    log = load(store, tmp_path, text)
    assert timing_source(store, log) == "lifecycle"
    times = activity_times(store, log)
    assert (times.instances, times.paired) == (3, 3)
    assert (times.get("A").processing.median, times.get("B").processing.median) == (1500.0, 3600.0)
    assert rework(store, log).cases_with_rework == 0


NO_STARTS = FILES / "performance" / "no_starts.csv"


def test_without_starts_processing_cannot_be_measured(store):
    log = load_file(store, NO_STARTS)
    times = activity_times(store, log)
    assert timing_source(store, log) == "none"
    assert not times.processing_measured and times.pce_median is None
    assert times.note.startswith(NO_STARTS_NOTE)
    assert NO_STARTS_NOTE == (
        "no start timestamps: processing time cannot be measured; waiting is the time between completions"
    )
    b = times.get("B")
    assert (b.count, b.waiting.count) == (3, 3)
    assert b.waiting.median == 3600.0 and b.waiting.total == 3600.0 + 10800.0 + 1800.0
    assert b.processing.count == 0 and b.processing.median is None


def test_stored_successors_and_window_give_the_same_times(store, tmp_path):
    # The same log with an extra non-completion event forces the window path.
    plain = activity_times(
        store,
        load(
            store,
            tmp_path,
            NO_STARTS.read_text(encoding="utf-8")
            .replace("timestamp\n", "timestamp,lifecycle\n")
            .replace("Z\n", "Z,complete\n"),
            name="a",
            lifecycle="lifecycle",
        ),
    )
    windowed = activity_times(
        store,
        load(
            store,
            tmp_path,
            NO_STARTS.read_text(encoding="utf-8")
            .replace("timestamp\n", "timestamp,lifecycle\n")
            .replace("Z\n", "Z,complete\n")
            + "c2,B,2024-01-09T09:10:00Z,schedule\n",
            name="b",
            lifecycle="lifecycle",
        ),
    )
    assert plain.activities == windowed.activities


def test_a_filter_that_removes_activities_recomputes_predecessors(store):
    log = load_file(store, STARTS)
    times = activity_times(store, log, Filter(activities_remove=("B",)))
    assert [a.activity for a in times.activities] == ["C", "A"]
    # C now follows A (completed 09:10) and starts 11:00.
    assert times.get("C").waiting.median == 110 * 60.0


def test_unknown_activity_is_named(store):
    from mining.errors import AnalysisError

    times = activity_times(store, load_file(store, STARTS))
    with pytest.raises(AnalysisError, match="activities: C, B, A"):
        times.get("Z")


def test_service_desk_measures_processing_for_every_activity(store):
    log = ingest_file(store, SAMPLE_LOGS / "service_desk.csv").log_id
    times = activity_times(store, log)
    assert times.source == "start_timestamp" and times.processing_measured
    assert (times.instances, times.paired, len(times.activities)) == (16_649, 16_649, 10)
    assert all(a.processing.count == a.count and a.processing.median is not None for a in times.activities)
    assert times.get("Ticket created").waiting.count == 0
    assert times.activities[0].activity == "Reopen"
    assert 0 < times.pce_median < 1


@pytest.mark.slow
def test_bpic2012_w_pairs_lifecycle_events(store, shared_logs):
    log = ingest_file(store, shared_logs / "bpic2012_W_start_complete_simod.xes.gz").log_id
    times = activity_times(store, log)
    assert times.source == "lifecycle"
    assert (times.instances, times.paired) == (59_302, 59_302)
    assert len(times.activities) == 6
    assert all(a.processing.median > 0 for a in times.activities)
    assert times.get("W_Nabellen offertes").count == 17_265


def test_bottlenecks_cli_json_contract(tmp_path):
    import json

    from click.testing import CliRunner

    from mining.cli import cli

    ws = ["--workspace", str(tmp_path / "ws.duckdb")]
    assert CliRunner().invoke(cli, [*ws, "ingest", str(STARTS)]).exit_code == 0
    res = CliRunner().invoke(cli, [*ws, "bottlenecks", "starts", "--json", "--business-hours", "0-24"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert {"activities", "processing_measured", "rework", "ping_pong", "heatmaps"} <= set(data)
    assert data["processing_measured"] is True and data["calendar"].startswith("Mon-Fri 00:00-24:00")
    first = data["activities"][0]
    assert (first["activity"], first["count"], first["waiting_median_seconds"]) == ("C", 1, 3600.0)
    assert first["processing_median_seconds"] == 300.0
    assert data["rework"]["cases"] == 3
    assert data["ping_pong"] == [{"resources": ["ann", "bob"], "count": 1, "cases": 1}]  # c1: ann, bob, ann
    assert set(data["heatmaps"]) == {"transition_wait", "load", "resource_count", "resource_processing"}
    assert len(data["heatmaps"]["load"]["columns"]) == 168
    text = CliRunner().invoke(cli, [*ws, "bottlenecks", "starts", "--period", "month"])
    assert text.exit_code == 0 and "wait median" in text.output and "heatmaps:" in text.output
    missing = CliRunner().invoke(cli, [*ws, "bottlenecks", "nope"])
    assert missing.exit_code == 1 and "no log named 'nope'" in missing.output
    bad = CliRunner().invoke(cli, [*ws, "bottlenecks", "starts", "--business-hours", "17-9"])
    assert bad.exit_code == 1 and "end after it starts" in bad.output


def test_bottlenecks_cli_without_starts_reports_null_processing(tmp_path):
    import json

    from click.testing import CliRunner

    from mining.cli import cli

    ws = ["--workspace", str(tmp_path / "ws.duckdb")]
    assert CliRunner().invoke(cli, [*ws, "ingest", str(NO_STARTS)]).exit_code == 0
    data = json.loads(CliRunner().invoke(cli, [*ws, "bottlenecks", "no_starts", "--json"]).output)
    assert data["processing_measured"] is False and data["note"].startswith(NO_STARTS_NOTE)
    assert all(a["processing_median_seconds"] is None for a in data["activities"])
    assert data["calendar"] is None
