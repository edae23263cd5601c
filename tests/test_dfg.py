"""The directly-follows graph on hand-made logs with known edges and times."""

from __future__ import annotations

import dataclasses
import doctest
import importlib

import numpy as np
import pytest

from mining.analysis.dfg import DFG, Edge, dfg
from mining.analysis.filters import Filter
from mining.ingest import ingest_file
from tests.tinylog import TINY
from tests.tinylog import load_hours as load

H = 3600.0


def edge_map(g: DFG) -> dict[tuple[str, str], Edge]:
    return {(e.source, e.target): e for e in g.edges}


def test_edges_counts_and_order(store, tmp_path):
    g = dfg(store, load(store, tmp_path, TINY))
    assert [(e.source, e.target, e.count, e.cases) for e in g.edges] == [
        ("A", "B", 3, 3),
        ("B", "C", 3, 3),
        ("A", "C", 1, 1),
        ("B", "B", 1, 1),
    ]
    assert g.start == {"A": 4}
    assert g.end == {"C": 4}
    assert g.activities == {"A": 4, "B": 4, "C": 4}
    assert (g.cases, g.events) == (4, 12)


def test_transition_times_mean_median_and_p90(store, tmp_path):
    g = edge_map(dfg(store, load(store, tmp_path, TINY)))
    ab = g["A", "B"]  # 1 h, 2 h, 10 min
    assert ab.mean_seconds == pytest.approx((3600 + 7200 + 600) / 3)
    assert ab.median_seconds == pytest.approx(3600)
    # p90 is quantile_cont: linear interpolation, numpy's default percentile;
    # the discrete quantile would be 7200.
    assert ab.p90_seconds == pytest.approx(6480)
    assert ab.p90_seconds == pytest.approx(np.percentile([600, 3600, 7200], 90))
    bc = g["B", "C"]  # 2 h, 30 min, 1 h
    assert (bc.mean_seconds, bc.median_seconds) == pytest.approx((4200, 3600))
    assert g["A", "C"].median_seconds == pytest.approx(4 * H)
    assert g["B", "B"].median_seconds == pytest.approx(1800)


def test_cases_counts_distinct_cases_not_occurrences(store, tmp_path):
    log = load(
        store,
        tmp_path,
        [("x", "A", 0), ("x", "B", 1), ("x", "A", 2), ("x", "B", 3), ("y", "A", 0), ("y", "B", 1)],
    )
    ab = edge_map(dfg(store, log))["A", "B"]
    assert (ab.count, ab.cases) == (3, 2)


def test_cases_per_edge_under_a_projection(store, tmp_path):
    log = load(
        store,
        tmp_path,
        [
            ("x", "A", 0),
            ("x", "B", 1),
            ("x", "C", 2),
            ("x", "A", 3),
            ("x", "C", 4),
            ("x", "B", 5),
            ("y", "A", 0),
            ("y", "C", 1),
            ("y", "B", 2),
        ],
    )
    g = edge_map(dfg(store, log, Filter(activities_remove=("C",))))
    assert {k: (e.count, e.cases) for k, e in g.items()} == {("A", "B"): (3, 2), ("B", "A"): (1, 1)}


def test_equal_timestamps_follow_file_order(store, tmp_path):
    # Same instant: the row order of the file decides, as pm4py's stable sort does.
    log = load(store, tmp_path, [("t", "Y", 5), ("t", "X", 5), ("t", "Z", 1)])
    g = dfg(store, log)
    assert set(edge_map(g)) == {("Z", "Y"), ("Y", "X")}
    assert (g.start, g.end) == ({"Z": 1}, {"X": 1})


def test_projection_keeps_activities_and_reconnects(store, tmp_path):
    log = load(store, tmp_path, TINY)
    g = dfg(store, log, Filter(activities_keep=("A", "C")))
    assert [(e.source, e.target, e.count, e.cases) for e in g.edges] == [("A", "C", 4, 4)]
    # 3 h, 2.5 h, 4 h, 1 h 40 min
    assert g.edges[0].median_seconds == pytest.approx(2.75 * H)
    assert (g.cases, g.events) == (4, 8)


def test_projection_removing_the_first_activity_moves_the_start(store, tmp_path):
    g = dfg(store, load(store, tmp_path, TINY), Filter(activities_remove=("A",)))
    assert g.start == {"B": 3, "C": 1}
    assert g.end == {"C": 4}
    assert {k: e.count for k, e in edge_map(g).items()} == {("B", "C"): 3, ("B", "B"): 1}
    assert g.events - g.cases == sum(e.count for e in g.edges)


def test_projection_dropping_whole_cases_counts_only_cases_with_events(store, tmp_path):
    g = dfg(store, load(store, tmp_path, TINY), Filter(activities_keep=("B",)))
    assert (g.cases, g.events) == (3, 4)
    assert [(e.source, e.target, e.count) for e in g.edges] == [("B", "B", 1)]
    assert g.start == g.end == {"B": 3}


def test_case_filter_without_projection_uses_stored_successors(store, tmp_path):
    log = load(store, tmp_path, TINY)
    g = dfg(store, log, Filter(min_duration_s=3 * H))  # c1 (3 h), c3 (4 h)
    assert {k: e.count for k, e in edge_map(g).items()} == {("A", "B"): 1, ("B", "C"): 1, ("A", "C"): 1}
    assert g.cases == 2


def test_an_empty_selection_gives_an_empty_graph(store, tmp_path):
    g = dfg(store, load(store, tmp_path, TINY), Filter(min_duration_s=1e9))
    assert g == DFG(edges=(), start={}, end={}, activities={}, cases=0, events=0)


def test_other_logs_in_the_workspace_do_not_leak(store, tmp_path):
    first = load(store, tmp_path, TINY)
    second = load(store, tmp_path, [("c1", "P", 0), ("c1", "Q", 1)], name="other")
    assert set(edge_map(dfg(store, second))) == {("P", "Q")}
    assert dfg(store, first).events == 12


@pytest.mark.parametrize("module", ["dfg", "variants", "durations", "simplify"])
def test_docstring_examples_run(shared_logs, module):
    from mining.store import Store

    mod = importlib.import_module(f"mining.analysis.{module}")
    with Store() as s:
        log = ingest_file(s, shared_logs / "running-example.xes").log_id
        result = doctest.testmod(mod, extraglobs={"store": s, "log": log}, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


# -- CLI: mining dfg ----------------------------------------------------------
def workspace(tmp_path, events=TINY):
    from mining.store import Store

    path = tmp_path / "ws.duckdb"
    with Store(path) as s:
        load(s, tmp_path, events)
    return str(path)


def run(*args):
    import json

    from click.testing import CliRunner

    from mining.cli import cli

    res = CliRunner().invoke(cli, list(args))
    return res, (json.loads(res.output) if res.exit_code == 0 and "--json" in args else None)


def test_cli_dfg_json_contract(tmp_path):
    ws = workspace(tmp_path)
    res, data = run("-w", ws, "dfg", "tiny", "--json")
    assert res.exit_code == 0, res.output
    assert {"edges", "start", "end"} <= set(data)
    assert data["edges"][0] == {
        "source": "A",
        "target": "B",
        "count": 3,
        "cases": 3,
        "mean_seconds": pytest.approx(3800.0),
        "median_seconds": 3600.0,
        "p90_seconds": pytest.approx(6480.0),
    }
    assert [(e["source"], e["target"], e["count"]) for e in data["edges"]] == [
        ("A", "B", 3),
        ("B", "C", 3),
        ("A", "C", 1),
        ("B", "B", 1),
    ]
    assert (data["start"], data["end"]) == ({"A": 4}, {"C": 4})
    assert (data["cases"], data["events"], data["activities"]) == (4, 12, {"A": 4, "B": 4, "C": 4})


def test_cli_dfg_filters_and_simplification(tmp_path):
    ws = workspace(tmp_path)
    # Top variant only (A B C, cases c1 and c2).
    _, data = run("-w", ws, "dfg", "tiny", "--json", "--top-variants", "1")
    assert [(e["source"], e["target"], e["count"]) for e in data["edges"]] == [("A", "B", 2), ("B", "C", 2)]
    _, data = run("-w", ws, "dfg", "tiny", "--json", "--coverage", "0.75")
    assert data["cases"] == 3
    # Every case starts at midnight: none starts on Jan 2.
    _, data = run("-w", ws, "dfg", "tiny", "--json", "--start", "2024-01-02", "--window", "started")
    assert (data["cases"], data["edges"]) == (0, [])
    _, data = run(
        "-w", ws, "dfg", "tiny", "--json", "--end", "2024-01-01T02:45:00+00:00", "--window", "completed"
    )
    assert data["cases"] == 2  # c2 ends 02:30, c4 01:40
    # Two of three activities; with no paths, only what connects them.
    _, data = run("-w", ws, "dfg", "tiny", "--json", "--activities", "0.6", "--paths", "0")
    assert set(data["activities"]) == {"A", "B"}
    assert [(e["source"], e["target"], e["count"]) for e in data["edges"]] == [("A", "B", 3)]
    assert (data["start"], data["end"]) == ({"A": 4}, {"A": 1, "B": 3})


def test_cli_dfg_text_and_errors(tmp_path):
    ws = workspace(tmp_path)
    res, _ = run("-w", ws, "dfg", "tiny")
    assert res.exit_code == 0
    assert "4 cases, 12 events, 3 activities, 4 paths" in res.output
    assert "A -> B" in res.output
    res, _ = run("-w", ws, "dfg", "nope")
    assert res.exit_code == 1
    assert "Error: no log named 'nope' in the workspace; logs: 'tiny'" in res.output
    res, _ = run("-w", ws, "dfg", "tiny", "--start", "yesterday")
    assert res.exit_code == 2
    assert "not an ISO 8601 date" in res.output
    res, _ = run("-w", str(tmp_path / "missing.duckdb"), "dfg", "tiny")
    assert res.exit_code == 1
    assert "no workspace" in res.output


def _reprojection_filters(g: DFG) -> list[Filter]:
    names = list(g.activities)
    return [
        Filter(activities_keep=tuple(names[:5])),
        Filter(activities_keep=tuple(names[:2])),
        Filter(activities_keep=(names[0],)),
        Filter(activities_remove=(names[1], names[3])),
        Filter(activities_keep=tuple(names[:4]), variant_top_k=3),
        Filter(activities_remove=(names[0],), with_activities=(names[-1],)),
        Filter(activities_keep=tuple(names[:6]), min_duration_s=86400.0),
        Filter(activities_keep=("no such activity",)),
    ]


@pytest.mark.parametrize("shuffled", [False, True])
def test_the_map_sliders_reprojection_is_the_graph_dfg_computes(store, shuffled):
    from mining.analysis.reproject import event_order, reprojected_dfg
    from tests.conftest import SAMPLE_LOGS

    log = ingest_file(store, SAMPLE_LOGS / "service_desk.csv").log_id
    if shuffled:  # rows no longer stored in (case, time, row) order: the reader sorts them
        store.execute("CREATE TEMP TABLE shuffled AS SELECT * FROM events ORDER BY hash(row_no)")
        store.execute("DELETE FROM events")
        store.execute("INSERT INTO events SELECT * FROM shuffled")
        scan = [
            r[0] for r in store.query("SELECT case_no FROM events WHERE log_id = ? LIMIT 200", [log]).rows
        ]
        assert scan != sorted(scan)
    order = event_order(store, log)
    whole = dfg(store, log)
    assert order.events == whole.events and sorted(order.names) == sorted(whole.activities)
    for flt in _reprojection_filters(whole):
        expected, got = dfg(store, log, flt), reprojected_dfg(store, log, flt, order)
        # Every figure to the last bit (the medians and p90s too); the mean up to its summation order.
        assert [e.mean_seconds for e in got.edges] == pytest.approx([e.mean_seconds for e in expected.edges])
        strip = [dataclasses.replace(e, mean_seconds=0.0) for e in got.edges]
        assert strip == [dataclasses.replace(e, mean_seconds=0.0) for e in expected.edges], flt
        assert (got.start, got.end, got.activities, got.cases, got.events) == (
            expected.start,
            expected.end,
            expected.activities,
            expected.cases,
            expected.events,
        )
    assert reprojected_dfg(store, log, Filter(), order) == whole
