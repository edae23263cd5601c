"""Map simplification: activity and path sliders, and the reconnection rule."""

from __future__ import annotations

import csv
import datetime as dt

import pytest

from mining.analysis.dfg import DFG, Edge, dfg
from mining.analysis.simplify import kept_activities, simplified_dfg, simplify
from mining.errors import AnalysisError
from mining.ingest import IngestOptions, ingest_file

ROLES = {
    "case": "case_id",
    "activity": "activity",
    "timestamp": "timestamp",
    "resource": None,
    "start_timestamp": None,
    "lifecycle": None,
    "cost": None,
}
T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def graph(edges: dict[tuple[str, str], int], start: dict[str, int], end: dict[str, int]) -> DFG:
    """A DFG record from edge counts (times are irrelevant to simplification)."""
    acts: dict[str, int] = {}
    for (_, b), n in edges.items():
        acts[b] = acts.get(b, 0) + n
    for a, n in start.items():
        acts[a] = acts.get(a, 0) + n
    ordered = sorted(edges.items(), key=lambda kv: (-kv[1], kv[0]))
    return DFG(
        edges=tuple(Edge(a, b, n, n, 1.0, 1.0, 1.0) for (a, b), n in ordered),
        start=start,
        end=end,
        activities=acts,
        cases=sum(start.values()),
        events=sum(acts.values()),
    )


def pairs(g: DFG) -> set[tuple[str, str]]:
    return {(e.source, e.target) for e in g.edges}


# B is reached from S only over a rare bridge S -> B.
BRIDGE = graph({("S", "A"): 9, ("A", "E"): 9, ("S", "B"): 1, ("B", "E"): 1}, {"S": 10}, {"E": 10})
# The same, with a frequent way into B as well: the bridge is no longer needed.
DETOUR = graph(
    {("S", "A"): 9, ("A", "E"): 9, ("A", "B"): 6, ("B", "E"): 6, ("S", "B"): 1}, {"S": 10}, {"E": 10}
)


def test_everything_kept_returns_the_input_edges():
    out = simplify(DETOUR, activities=1.0, paths=1.0)
    assert out.edges == DETOUR.edges
    assert (out.start, out.end, out.activities) == (DETOUR.start, DETOUR.end, DETOUR.activities)


def test_rare_bridge_is_kept_when_needed():
    out = simplify(BRIDGE, activities=1.0, paths=0.5)
    # The top half is S->A, A->E; B needs S->B to be reached and B->E to finish.
    assert pairs(out) == {("S", "A"), ("A", "E"), ("S", "B"), ("B", "E")}
    assert [e.count for e in out.edges] == [9, 9, 1, 1]  # DFG order kept


def test_rare_bridge_is_dropped_when_not_needed():
    assert pairs(simplify(DETOUR, activities=1.0, paths=0.8)) == {
        ("S", "A"),
        ("A", "E"),
        ("A", "B"),
        ("B", "E"),
    }
    # With fewer paths the repair takes the most frequent way into B, not the bridge.
    assert pairs(simplify(DETOUR, activities=1.0, paths=0.4)) == {
        ("S", "A"),
        ("A", "E"),
        ("A", "B"),
        ("B", "E"),
    }
    assert ("S", "B") in pairs(simplify(DETOUR, activities=1.0, paths=1.0))


def test_paths_zero_keeps_only_what_connects():
    out = simplify(DETOUR, activities=1.0, paths=0.0)
    # Repair adds S->A, A->E, A->B, B->E; once B is connected, A->E is spare
    # (E is reached over B), so the fewest edges win over the frequent one.
    assert pairs(out) == {("S", "A"), ("A", "B"), ("B", "E")}


def test_added_edges_that_turn_out_spare_are_pruned():
    g = graph(
        {("X", "Y"): 50, ("S", "E"): 40, ("Y", "E"): 30, ("S", "Y"): 20, ("S", "X"): 5, ("X", "E"): 3},
        {"S": 45},
        {"E": 45},
    )
    out = simplify(g, activities=1.0, paths=2 / 6)
    # Greedy repair adds S->Y (20) then S->X (5); once S->X is there, S->Y is spare.
    assert pairs(out) == {("X", "Y"), ("S", "E"), ("S", "X"), ("Y", "E")}


def test_activity_share_keeps_the_most_frequent_and_at_least_one():
    g = DFG(
        edges=(), activities={"a": 5, "b": 9, "c": 5, "d": 1, "e": 2, "f": 2, "g": 2, "h": 2, "i": 2, "j": 2}
    )
    assert kept_activities(g, 0.3) == ("b", "a", "c")  # 0.3 * 10 is 3 (not 4); ties by name
    assert kept_activities(g, 0.0) == ("b",)
    assert kept_activities(g, 0.01) == ("b",)
    assert len(kept_activities(g, 1.0)) == 10
    assert kept_activities(DFG(edges=()), 0.5) == ()


def test_dropped_activities_take_their_edges_and_starts_with_them():
    g = graph({("Z", "A"): 1, ("A", "B"): 4}, {"Z": 1, "A": 3}, {"B": 4})
    out = simplify(g, activities=2 / 3, paths=1.0)
    assert pairs(out) == {("A", "B")}
    # Without re-routing, the case that began with Z no longer counts in start.
    assert (out.start, out.end, out.activities) == ({"A": 3}, {"B": 4}, {"A": 4, "B": 4})
    assert (out.cases, out.events) == (4, 8)


@pytest.mark.parametrize("bad", [{"activities": -0.1, "paths": 1.0}, {"activities": 1.0, "paths": 1.5}])
def test_shares_outside_0_1_are_refused(bad):
    with pytest.raises(AnalysisError, match="between 0 and 1"):
        simplify(BRIDGE, **bad)


def load(store, tmp_path, traces):
    """Ingest one case per trace string, one event per hour; return the log id."""
    path = tmp_path / "traces.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["case_id", "activity", "timestamp"])
        for i, trace in enumerate(traces):
            w.writerows([f"c{i}", a, (T0 + dt.timedelta(hours=k)).isoformat()] for k, a in enumerate(trace))
    return ingest_file(store, path, IngestOptions(roles=ROLES)).log_id


def test_simplified_dfg_reroutes_through_the_projected_log(store, tmp_path):
    log = load(store, tmp_path, ["ZAB", "AB", "AB", "AXB"])
    out = simplified_dfg(store, log, activities=0.5, paths=1.0)  # keeps A and B (4 events each)
    # The case starting with Z starts at A; A X B becomes A -> B.
    assert out.start == {"A": 4}
    assert [(e.source, e.target, e.count, e.cases) for e in out.edges] == [("A", "B", 4, 4)]
    assert (out.cases, out.events) == (4, 8)
    # Its transition times are those of the projected log: A X B takes 2 h.
    assert out.edges[0].median_seconds == 3600.0
    assert out.edges[0].mean_seconds == pytest.approx(5 * 3600 / 4)


def test_simplified_dfg_with_everything_is_the_dfg(store, tmp_path):
    log = load(store, tmp_path, ["ZAB", "AB", "AXB", "ABAB"])
    assert simplified_dfg(store, log, activities=1.0, paths=1.0) == dfg(store, log)


def test_simplified_dfg_connects_every_kept_activity(store, tmp_path):
    log = load(store, tmp_path, ["ABCD"] * 5 + ["AXD"] + ["ACBD"] * 2 + ["AYXD"])
    out = simplified_dfg(store, log, activities=0.8, paths=0.0)  # drops Y, the rarest
    assert set(out.activities) == {"A", "B", "C", "D", "X"}
    reach = {"A"}
    for _ in out.activities:
        reach |= {e.target for e in out.edges if e.source in reach}
    assert reach == set(out.activities)
    back = {"D"}
    for _ in out.activities:
        back |= {e.source for e in out.edges if e.target in back}
    assert back == set(out.activities)
    # The rare X is reached by its only way in and left by its only way out.
    assert {("A", "X"), ("X", "D")} <= pairs(out)
