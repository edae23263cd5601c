"""The process map's path labels: each on its own path, none on another label or on a box.

Two counts side by side read as one figure ("2,311" and "25" as "2,31125"), and a
count over a box hides the activity's name.  The geometry checked here is the
renderer's (mining/ui/mapview.py draws a label 6 px beside its point, 2 px under
the names' size, anchored at its start or, with ``side`` -1, at its end); the
browser test of the first map of each log checks the same on screen.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mining.analysis.dfg import DFG, Edge, dfg
from mining.analysis.simplify import simplify
from mining.ingest import ingest_file
from mining.store import Store
from mining.ui.mapdraw import FONT_PX, MapDrawing, draw_map

CHAR_PX = 0.556 * (FONT_PX - 2)  # Helvetica's digit width at the labels' size
HALF_H = (FONT_PX - 2) * 0.6


def _boxes(drawing: MapDrawing) -> list[tuple[float, float, float, float]]:
    return [(n.x - n.w / 2, n.y - n.h / 2, n.x + n.w / 2, n.y + n.h / 2) for n in drawing.nodes]


def _labels(drawing: MapDrawing) -> list[tuple[float, float, float, float]]:
    out = []
    for e in drawing.edges:
        if e.label:
            w = len(e.label) * CHAR_PX
            left = e.lx + 6 if e.side > 0 else e.lx - 6 - w
            out.append((left, e.ly - HALF_H, left + w, e.ly + HALF_H))
    return out


def _hit(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _clashes(drawing: MapDrawing) -> tuple[int, int]:
    """(pairs of labels that touch, labels on a box)."""
    labels, boxes = _labels(drawing), _boxes(drawing)
    touching = sum(_hit(a, b) for i, a in enumerate(labels) for b in labels[i + 1 :])
    return touching, sum(any(_hit(a, b) for b in boxes) for a in labels)


@pytest.fixture(scope="module")
def graphs(tmp_path_factory: pytest.TempPathFactory, shared_logs) -> dict[str, DFG]:
    path = tmp_path_factory.mktemp("labels") / "workspace.duckdb"
    out = {}
    with Store(path) as store:
        for name in ("helpdesk.xes.gz", "sepsis.csv.gz"):
            log_id = ingest_file(store, shared_logs / name).log_id
            full = dfg(store, log_id)
            out[name] = simplify(full, activities=min(1.0, 25 / len(full.activities)), paths=1.0)
    return out


@pytest.mark.parametrize("name", ["helpdesk.xes.gz", "sepsis.csv.gz"])
def test_no_two_path_labels_touch_on_real_logs(graphs: dict[str, DFG], name: str) -> None:
    graph = graphs[name]
    frequency = draw_map(graph)
    performance = draw_map(graph, performance=True)
    assert len(_labels(frequency)) == len(frequency.edges) > 60  # every path of the log, with its count
    assert _clashes(frequency) == (0, 0)
    touching, _ = _clashes(performance)  # a time is wider than a count: a few may find no free spot by a box
    assert touching == 0


def _on_path(path: str, x: float, y: float) -> float:
    """The distance from (x, y) to the SVG path (M then cubic C segments), sampled finely."""
    nums = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", path)]
    pts = list(zip(nums[0::2], nums[1::2], strict=True))
    best = float("inf")
    start = pts[0]
    for i in range(1, len(pts), 3):
        c1, c2, end = pts[i], pts[i + 1], pts[i + 2]
        for k in range(201):
            t = k / 200
            a, b, c, d = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3
            px = a * start[0] + b * c1[0] + c * c2[0] + d * end[0]
            py = a * start[1] + b * c1[1] + c * c2[1] + d * end[1]
            best = min(best, ((px - x) ** 2 + (py - y) ** 2) ** 0.5)
        start = end
    return best


@st.composite
def _graphs(draw) -> DFG:
    names = [f"activity {i}" for i in range(draw(st.integers(2, 8)))]
    pairs = draw(
        st.lists(
            st.tuples(st.sampled_from(names), st.sampled_from(names)), min_size=1, max_size=24, unique=True
        )
    )
    edges = []
    for s, t in pairs:
        n = draw(st.integers(1, 50_000))
        secs = float(draw(st.integers(1, 90 * 86400)))
        edges.append(Edge(s, t, n, max(1, n // 2), secs, secs, secs))
    edges.sort(key=lambda e: (-e.count, e.source, e.target))
    used = sorted({v for e in edges for v in (e.source, e.target)})
    return DFG(
        edges=tuple(edges),
        start={used[0]: 10},
        end={used[-1]: 10},
        activities={a: 100 for a in used},
        cases=10,
        events=100 * len(used),
    )


@settings(max_examples=60, deadline=None)
@given(graph=_graphs(), performance=st.booleans())
def test_a_label_moved_off_a_clash_stays_on_its_own_path(graph: DFG, performance: bool) -> None:
    drawing = draw_map(graph, performance=performance)
    ids = {n.id: n.name for n in drawing.nodes}
    for e in drawing.edges:
        if e.label and e.source != e.target:  # a loop's label sits beside its loop
            assert _on_path(e.path, e.lx, e.ly) < 0.5, (ids[e.source], ids[e.target], e.label)


def test_labels_of_a_fan_of_long_paths_move_apart() -> None:
    """One box with paths to eight others, each with a wide time: the middles crowd round the box."""
    targets = [f"step {i}" for i in range(8)]
    edges = [Edge("triage", t, 100 - i, 90 - i, 1e6 + i, 1e6 + i, 2e6) for i, t in enumerate(targets)]
    edges += [Edge(t, "triage", 5, 5, 1e6, 1e6, 1e6) for t in targets[:4]]
    graph = DFG(
        edges=tuple(edges),
        start={"triage": 100},
        end={t: 10 for t in targets},
        activities={"triage": 120, **{t: 100 for t in targets}},
        cases=100,
        events=920,
    )
    drawing = draw_map(graph, performance=True)
    assert {e.label for e in drawing.edges if e.label and not e.dashed} == {"11d 13h"}
    assert _clashes(drawing) == (0, 0)


def test_labels_keep_their_place_in_a_pair_of_maps() -> None:
    from mining.ui.mapdraw import draw_pair

    a = DFG(
        edges=(Edge("A", "B", 1234, 10, 60.0, 60.0, 90.0), Edge("A", "C", 25, 5, 60.0, 60.0, 60.0)),
        start={"A": 12},
        end={"B": 10, "C": 2},
        activities={"A": 1259, "B": 1234, "C": 25},
        cases=12,
        events=2518,
    )
    left, right = draw_pair(a, a, ("before", "after"))
    assert [(e.lx, e.ly, e.side) for e in left.edges] == [(e.lx, e.ly, e.side) for e in right.edges]
    assert _clashes(left)[0] == 0
