"""The process map laid out in Python: boxes, curves and labels as plain numbers, top to bottom.

A layered drawing in the manner of Sugiyama, small enough to run on every
rerun (a map of 150 activities and 400 paths lays out in milliseconds):

1. **Cycles.**  A depth-first walk from the start, most frequent paths
   first, marks the edges that close a loop; they are laid out as if
   reversed and drawn back up.
2. **Layers.**  Each activity sits one layer below the deepest of its
   predecessors (longest path from the start); the end sits below all.
3. **Order.**  Edges that span several layers get a waypoint per layer;
   the order inside each layer is improved by barycentre sweeps, down and
   up, to cut crossings.
4. **Positions.**  Nodes are packed left to right in that order, then pulled
   towards their neighbours' mean position without overlapping.

Names are wrapped to :data:`LINE_CHARS` characters on at most
:data:`MAX_LINES` lines (the full name stays in the tooltip).  Everything
here is data; the component in :mod:`mining.ui.mapview` draws it with
``textContent``, so a name such as ``&lt;b&gt;`` shows as typed.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, replace
from itertools import pairwise

from mining.analysis.dfg import DFG, Edge
from mining.durations import format_duration
from mining.words import plural

__all__ = [
    "DEVIATION",
    "FONT_PX",
    "GHOST",
    "LINE_CHARS",
    "MAX_LINES",
    "SHADES",
    "MapDrawing",
    "MapEdge",
    "MapNode",
    "draw_map",
    "draw_pair",
    "union_of",
    "wrap_name",
]

#: Node label size in CSS pixels at zoom 1 (the view never scales it below 11 px).
FONT_PX = 14
LINE_CHARS = 22
MAX_LINES = 3
_LINE_H = FONT_PX * 1.3
_NODE_W = 200.0
_GAP_X = 46.0
_GAP_Y = 70.0
_PAD = 24.0
_EVENT = 14.0  # the start and end markers' radius
_LABEL_PX = FONT_PX - 2  # a path's label, as mapview draws it
_CHAR_W = 0.62 * _LABEL_PX  # a generous width per character (Helvetica's digits are 0.556 em)
_LABEL_H = _LABEL_PX + 4  # with the white halo that keeps it readable over lines
_CELL = 64.0  # the grid that finds what a label would cover

#: Shades of one blue, light to dark, for boxes and paths by weight.
SHADES = ("#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c")
#: The colour of what a model does not allow (the conformance overlay), and of what only one of two
#: maps drawn as a pair has (:func:`draw_pair`).
DEVIATION = "#d94801"
#: The outline and text of what a map of a pair lacks but the other has: kept in place, faint.
GHOST = "#b8c0c8"


@dataclass(frozen=True)
class MapNode:
    id: str
    name: str  # the activity, or "start" / "end"
    kind: str  # "activity", "start" or "end"
    lines: tuple[str, ...]  # the wrapped name
    metric: str  # the figure under the name
    tooltip: str
    x: float  # centre
    y: float
    w: float
    h: float
    fill: str
    text: str  # the label colour
    stroke: str


@dataclass(frozen=True)
class MapEdge:
    id: str
    source: str  # node ids
    target: str
    path: str  # an SVG path
    label: str
    lx: float
    ly: float
    width: float
    colour: str
    tooltip: str
    dashed: bool
    #: The label's side of (lx, ly): 1 starts it to the right, -1 ends it to the left.
    side: int = 1


@dataclass(frozen=True)
class MapDrawing:
    nodes: tuple[MapNode, ...]
    edges: tuple[MapEdge, ...]
    width: float
    height: float
    #: Paths from the start or to the end left out as rare (``endpoint_min`` of :func:`draw_map`).
    hidden_endpoints: int = 0

    def as_data(self) -> dict[str, object]:
        """Plain JSON-ready data for the browser component."""
        return {
            "width": round(self.width, 1),
            "height": round(self.height, 1),
            "font": FONT_PX,
            "start_x": next((n.x for n in self.nodes if n.kind == "start"), 0.0),
            "nodes": [n.__dict__ for n in self.nodes],
            "edges": [e.__dict__ for e in self.edges],
        }


def wrap_name(name: str) -> tuple[str, ...]:
    """A name on at most :data:`MAX_LINES` lines of :data:`LINE_CHARS`; the last line ends in … when cut."""
    lines = textwrap.wrap(name, LINE_CHARS, break_long_words=True, break_on_hyphens=True) or [""]
    if len(lines) > MAX_LINES:
        last = lines[MAX_LINES - 1]
        lines = [*lines[: MAX_LINES - 1], last[: LINE_CHARS - 1].rstrip() + "…"]
    return tuple(lines)


def _shade(value: float, top: float) -> int:
    if top <= 0:
        return 0
    return min(len(SHADES) - 1, int(value / top * (len(SHADES) - 1) + 0.5))


def draw_map(
    graph: DFG,
    *,
    performance: bool = False,
    box_times: Mapping[str, float | None] | None = None,
    box_label: str = "median",
    activity_cases: Mapping[str, int] | None = None,
    bad_edges: frozenset[tuple[str, str]] = frozenset(),
    bad_nodes: frozenset[str] = frozenset(),
    selected: str | None = None,
    endpoint_min: int = 0,
) -> MapDrawing:
    """Lay out ``graph``: in the frequency view boxes show event counts and paths their counts; in the
    performance view boxes show ``box_times`` (seconds) and paths their median transition time, and the
    counts move to the tooltips.  ``selected`` (an activity, or ``"A → B"``) is outlined.

    Paths from the start or to the end taken by fewer than ``endpoint_min`` cases are left out (their
    number is the drawing's ``hidden_endpoints``), except those without which an activity could not be
    reached from the start or could not reach the end: rare first activities then no longer send long
    paths across the map."""
    box_times = box_times or {}
    activity_cases = activity_cases or {}
    names = list(graph.activities)
    ids = {a: f"n{i}" for i, a in enumerate(names)}
    ids["▶start"], ids["■end"] = "start", "end"
    succ: dict[str, list[tuple[str, int]]] = {}
    inner = [
        (e.source, e.target, e.count)
        for e in graph.edges
        if e.source in graph.activities and e.target in graph.activities
    ]
    starts = _endpoints({a: n for a, n in graph.start.items() if a in graph.activities}, inner, endpoint_min)
    ends = _endpoints(
        {a: n for a, n in graph.end.items() if a in graph.activities},
        [(t, s, n) for s, t, n in inner],
        endpoint_min,
    )
    hidden = sum(1 for a in graph.start if a in graph.activities and a not in starts) + sum(
        1 for a in graph.end if a in graph.activities and a not in ends
    )
    edges: list[tuple[str, str, int]] = [("▶start", a, n) for a, n in starts.items()]
    edges += inner
    edges += [(a, "■end", n) for a, n in ends.items()]
    for s, t, n in edges:
        if s != t:
            succ.setdefault(s, []).append((t, n))
    for s in succ:
        succ[s].sort(key=lambda x: (-x[1], x[0]))

    # 1. back edges from a depth-first walk, most frequent first
    state: dict[str, int] = {}
    back: set[tuple[str, str]] = set()
    roots = ["▶start", *sorted(names, key=lambda a: -graph.activities[a])]
    for root in roots:
        if root in state:
            continue
        stack = [(root, iter(succ.get(root, [])))]
        state[root] = 1
        while stack:
            node, it = stack[-1]
            for nxt, _ in it:
                if state.get(nxt) == 1:
                    back.add((node, nxt))
                elif nxt not in state:
                    state[nxt] = 1
                    stack.append((nxt, iter(succ.get(nxt, []))))
                    break
            else:
                state[node] = 2
                stack.pop()
    dag = [(s, t) for s, t, _ in edges if s != t and (s, t) not in back]
    dag += [(t, s) for s, t, _ in edges if s != t and (s, t) in back]

    # 2. layers by longest path
    preds: dict[str, list[str]] = {}
    outs: dict[str, list[str]] = {}
    for s, t in dag:
        preds.setdefault(t, []).append(s)
        outs.setdefault(s, []).append(t)
    indeg = {v: 0 for v in ["▶start", *names, "■end"]}
    for _, t in dag:
        indeg[t] += 1
    layer = dict.fromkeys(indeg, 0)
    ready = [v for v, d in indeg.items() if d == 0]
    while ready:
        v = ready.pop()
        for t in outs.get(v, []):
            layer[t] = max(layer[t], layer[v] + 1)
            indeg[t] -= 1
            if indeg[t] == 0:
                ready.append(t)
    layer["▶start"] = 0
    deepest = max((layer[a] for a in names), default=0)
    layer["■end"] = deepest + 1
    for a in names:  # an activity no path reaches from the start sits in the first layer
        layer[a] = max(layer[a], 1)

    # 3. waypoints and order
    chains: dict[tuple[str, str], list[str]] = {}
    rows: dict[int, list[str]] = {}
    for v in indeg:
        rows.setdefault(layer[v], []).append(v)
    up: dict[str, list[str]] = {}
    down: dict[str, list[str]] = {}
    for s, t, _ in edges:
        if s == t:
            continue
        a, b = (t, s) if (s, t) in back else (s, t)
        la, lb = layer[a], layer[b]
        if lb < la:
            a, b, la, lb = b, a, lb, la
        chain = [a]
        for k in range(la + 1, lb):
            w = f"w{len(chains)}_{k}"
            rows.setdefault(k, []).append(w)
            chain.append(w)
        chain.append(b)
        chains[(s, t)] = chain
        for u, v in pairwise(chain):
            down.setdefault(u, []).append(v)
            up.setdefault(v, []).append(u)
    order = {v: float(i) for k in rows for i, v in enumerate(rows[k])}
    depth = max(rows)
    for sweep in range(8):
        seq = range(1, depth + 1) if sweep % 2 == 0 else range(depth - 1, -1, -1)
        near = up if sweep % 2 == 0 else down
        for k in seq:
            row = rows[k]
            for v in row:
                others = [order[u] for u in near.get(v, [])]
                if others:
                    order[v] = sum(others) / len(others)
            row.sort(key=lambda v: order[v])
            for i, v in enumerate(row):
                order[v] = float(i)

    # 4. sizes and positions
    lines = {a: wrap_name(a) for a in names}
    size: dict[str, tuple[float, float]] = {}
    for v in indeg:
        if v in lines:
            size[v] = (_NODE_W, (len(lines[v]) + 1) * _LINE_H + 14)
        elif v in ("▶start", "■end"):
            size[v] = (2 * _EVENT, 2 * _EVENT)
    for row in rows.values():
        for v in row:
            size.setdefault(v, (8.0, 8.0))
    xs: dict[str, float] = {}
    for row in rows.values():
        x = 0.0
        for i, v in enumerate(row):
            if i:
                x += _space(size, row[i - 1], v) - (size[row[i - 1]][0] + size[v][0]) / 2
            xs[v] = x + size[v][0] / 2
            x += size[v][0]
    for sweep in range(8):
        for k in sorted(rows) if sweep % 2 == 0 else sorted(rows, reverse=True):
            row = rows[k]
            # Up-down sweeps look at the layer above, down-up ones at the layer below; the last two both.
            near = (up if sweep % 2 == 0 else down) if sweep < 6 else None
            want = []
            for v in row:
                nb = near.get(v, []) if near is not None else up.get(v, []) + down.get(v, [])
                want.append(sum(xs[u] for u in nb) / len(nb) if nb else xs[v])
            _place_row(row, want, xs, size, {v: _priority(v, up, down, lines) for v in row})
    left = min(xs[v] - size[v][0] / 2 for v in xs)
    heights = {k: max(size[v][1] for v in row) for k, row in rows.items()}
    ys: dict[str, float] = {}
    y = _PAD
    for k in sorted(rows):
        for v in rows[k]:
            ys[v] = y + heights[k] / 2
        y += heights[k] + _GAP_Y
    for v in xs:
        xs[v] += _PAD - left
    width = max(xs[v] + size[v][0] / 2 for v in xs) + _PAD
    height = y - _GAP_Y + _PAD

    # nodes
    top_events = max(graph.activities.values(), default=1)
    times = [t for t in box_times.values() if t is not None]
    top_time = max(times, default=0.0)
    nodes: list[MapNode] = []
    for a in names:
        n = graph.activities[a]
        t = box_times.get(a)
        shade = _shade(t or 0.0, top_time) if performance else _shade(n, top_events)
        metric = (
            (f"{box_label} {format_duration(t)}" if t is not None else f"{box_label} -")
            if performance
            else f"{n:,}"
        )
        cases = activity_cases.get(a)
        tip = [a, plural(n, "event")]
        if cases is not None:
            tip.append(plural(cases, "case"))
        if t is not None:
            tip.append(f"{box_label} {format_duration(t)}")
        stroke = DEVIATION if a in bad_nodes else SHADES[-1]
        if selected == a:
            stroke = "#111111"
        nodes.append(
            MapNode(
                ids[a], a, "activity", lines[a], metric, "\n".join(tip),
                round(xs[a], 1), round(ys[a], 1), size[a][0], size[a][1],
                SHADES[shade], "#ffffff" if shade >= 4 else "#08306b", stroke,
            )
        )  # fmt: skip
    for v, kind in (("▶start", "start"), ("■end", "end")):
        total = sum(graph.start.values()) if kind == "start" else sum(graph.end.values())
        nodes.append(
            MapNode(
                ids[v], kind, kind, (kind,), "", f"{kind}: {plural(total, 'case')}",
                round(xs[v], 1), round(ys[v], 1), size[v][0], size[v][1],
                SHADES[2] if kind == "start" else SHADES[-1], "#08306b", SHADES[-1],
            )
        )  # fmt: skip

    # edges
    by_pair = {(e.source, e.target): e for e in graph.edges}
    top_count = max((n for _, _, n in edges), default=1)
    waits = [e.median_seconds for e in graph.edges if e.source in ids and e.target in ids]
    top_wait = max(waits, default=0.0)
    out: list[MapEdge] = []
    spots: list[list[tuple[float, float]]] = []  # where each path's label may go, the first preferred
    for i, (s, t, n) in enumerate(edges):
        e = by_pair.get((s, t))
        marker = s in ("▶start",) or t in ("■end",)
        if s == t:
            x, yy, w, h = xs[s], ys[s], size[s][0], size[s][1]
            x0, y0 = x + w / 2, yy - h / 4
            x1, y1 = x + w / 2, yy + h / 4
            path = f"M{x0:.1f},{y0:.1f} C{x0 + 46:.1f},{y0 - 14:.1f} {x1 + 46:.1f},{y1 + 14:.1f} {x1:.1f},{y1:.1f}"
            lx, ly = x0 + 40, yy
            spots.append([(lx, ly), (lx, ly - _LABEL_H), (lx, ly + _LABEL_H)])
        else:
            chain = chains[(s, t)]
            if chain[0] != s:
                chain = chain[::-1]
            pts = []
            for k, v in enumerate(chain):
                if k == 0:
                    pts.append(
                        (xs[v], ys[v] + (size[v][1] / 2 if ys[chain[-1]] > ys[v] else -size[v][1] / 2))
                    )
                elif k == len(chain) - 1:
                    pts.append((xs[v], ys[v] - (size[v][1] / 2 if ys[v] > ys[chain[0]] else -size[v][1] / 2)))
                else:
                    pts.append((xs[v], ys[v]))
            if ys[t] < ys[s]:
                # a loop back up: leave and enter on the right, bowed out
                pts = [(xs[s] + size[s][0] / 2, ys[s]), *pts[1:-1], (xs[t] + size[t][0] / 2, ys[t])]
                if len(pts) == 2:
                    bow = 60 + 0.15 * abs(pts[1][1] - pts[0][1])
                    mid = ((pts[0][0] + pts[1][0]) / 2 + bow, (pts[0][1] + pts[1][1]) / 2)
                    pts = [pts[0], mid, pts[1]]
            curve = _curve(pts)
            path = _path(curve)
            mid = (
                pts[len(pts) // 2]
                if len(pts) > 2
                else ((pts[0][0] + pts[1][0]) / 2, (pts[0][1] + pts[1][1]) / 2)
            )
            lx, ly = mid
            spots.append([mid, *(_along(curve, f) for f in _SPOTS)])
        stroke = 1.2 + 5 * n / top_count
        if marker:
            label = f"{n:,}" if not performance else ""
            tip = f"{'start' if s == '▶start' else s} → {'end' if t == '■end' else t}: {plural(n, 'case')}"
            colour, dashed = SHADES[3], True
        else:
            assert e is not None
            label = format_duration(e.median_seconds) if performance else f"{n:,}"
            tip = (
                f"{s} → {t}\n{n:,} times in {plural(e.cases, 'case')}\n"
                f"median {format_duration(e.median_seconds)}, p90 {format_duration(e.p90_seconds)}"
            )
            colour = SHADES[max(3, _shade(e.median_seconds, top_wait))] if performance else SHADES[5]
            if (s, t) in bad_edges:
                colour = DEVIATION
            if selected == f"{s} → {t}":
                colour = "#111111"
            dashed = False
        out.append(
            MapEdge(
                f"e{i}",
                ids[s],
                ids[t],
                path,
                label,
                round(lx, 1),
                round(ly, 1),
                round(stroke, 2),
                colour,
                tip,
                dashed,
            )
        )
    out = _place_labels(out, spots, nodes, [n for _, _, n in edges])
    return MapDrawing(tuple(nodes), tuple(out), round(width, 1), round(height, 1), hidden)


#: Where else along a path its label may sit (fractions of the curve), nearest the middle first.
_SPOTS = (0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8)


def _place_labels(
    edges: list[MapEdge], spots: list[list[tuple[float, float]]], nodes: list[MapNode], counts: list[int]
) -> list[MapEdge]:
    """Move labels that would cover a box or another label to the first free spot along their path, on
    either side of it; the busiest paths choose first.  Two labels side by side read as one figure
    ("2,311" and "25" as "2,31125"), so a spot needs a character's width clear of other labels; where
    no spot has that, the first clear of boxes and labels, then the first clear of boxes, then the
    middle of the path."""
    boxes, labels = _Grid(), _Grid()
    for n in nodes:
        boxes.add((n.x - n.w / 2, n.y - n.h / 2, n.x + n.w / 2, n.y + n.h / 2))
    placed = list(edges)
    for i in sorted(range(len(edges)), key=lambda i: -counts[i]):
        e = edges[i]
        if not e.label:
            continue
        w = len(e.label) * _CHAR_W
        options = [(x, y, side, _label_box(x, y, w, side)) for x, y in spots[i] for side in (1, -1)]
        x, y, side, box = next(
            (
                o
                for ok in (
                    lambda r: boxes.free(r) and labels.free(_widened(r, _CHAR_W)),
                    lambda r: boxes.free(r) and labels.free(r),
                    boxes.free,
                )
                for o in options
                if ok(o[3])
            ),
            options[0],
        )
        labels.add(box)
        placed[i] = replace(e, lx=round(x, 1), ly=round(y, 1), side=side)
    return placed


def _label_box(x: float, y: float, w: float, side: int) -> tuple[float, float, float, float]:
    """The rectangle a label of width ``w`` covers at (x, y): mapview draws it 6 px off the point."""
    left = x + 6 if side > 0 else x - 6 - w
    return (left, y - _LABEL_H / 2, left + w, y + _LABEL_H / 2)


def _widened(r: tuple[float, float, float, float], by: float) -> tuple[float, float, float, float]:
    return (r[0] - by, r[1], r[2] + by, r[3])


class _Grid:
    """Rectangles binned by cell, so a map of hundreds of labels checks only its neighbours."""

    def __init__(self) -> None:
        self.cells: dict[tuple[int, int], list[tuple[float, float, float, float]]] = {}

    @staticmethod
    def _keys(r: tuple[float, float, float, float]) -> list[tuple[int, int]]:
        return [
            (i, j)
            for i in range(int(r[0] // _CELL), int(r[2] // _CELL) + 1)
            for j in range(int(r[1] // _CELL), int(r[3] // _CELL) + 1)
        ]

    def add(self, r: tuple[float, float, float, float]) -> None:
        for k in self._keys(r):
            self.cells.setdefault(k, []).append(r)

    def free(self, r: tuple[float, float, float, float]) -> bool:
        return not any(
            r[0] < o[2] and o[0] < r[2] and r[1] < o[3] and o[1] < r[3]
            for k in self._keys(r)
            for o in self.cells.get(k, ())
        )


def draw_pair(
    first: DFG,
    second: DFG,
    names: tuple[str, str],
    *,
    layout: DFG | None = None,
    endpoint_min: int = 0,
) -> tuple[MapDrawing, MapDrawing]:
    """Two maps (before and after a change, two segments) on one layout: that of ``layout``, by default
    :func:`union_of` both (a simplification of it draws fewer paths; ``endpoint_min`` as :func:`draw_map`).

    A box or path sits at the same place in both drawings, so the eye compares like with like.  Each
    drawing shows its own counts, shaded and sized on one scale for both; what it lacks but the other
    has stays in place, faint, without a figure, and what only it has is outlined in
    :data:`DEVIATION`.  ``names`` name the two maps in the tooltips (``"before"``, ``"after"``).
    """
    # The layout; the union's added counts are never shown.
    base = draw_map(layout if layout is not None else union_of(first, second), endpoint_min=endpoint_min)
    return (
        _one_of_pair(base, first, second, names),
        _one_of_pair(base, second, first, (names[1], names[0])),
    )


def union_of(a: DFG, b: DFG) -> DFG:
    """A graph with both graphs' activities and paths, counts added: the layout of a pair."""

    def added(x: Mapping[str, int], y: Mapping[str, int]) -> dict[str, int]:
        return {k: x.get(k, 0) + y.get(k, 0) for k in (*x, *(k for k in y if k not in x))}

    pairs: dict[tuple[str, str], Edge] = {}
    for e in (*a.edges, *b.edges):
        known = pairs.get((e.source, e.target))
        pairs[(e.source, e.target)] = (
            e if known is None else replace(known, count=known.count + e.count, cases=known.cases + e.cases)
        )
    edges = tuple(sorted(pairs.values(), key=lambda e: (-e.count, e.source, e.target)))
    return DFG(
        edges=edges,
        start=added(a.start, b.start),
        end=added(a.end, b.end),
        activities=added(a.activities, b.activities),
        cases=a.cases + b.cases,
        events=a.events + b.events,
    )


def _one_of_pair(base: MapDrawing, graph: DFG, other: DFG, names: tuple[str, str]) -> MapDrawing:
    """``base`` (the union's layout) restyled to show ``graph``: its figures, the rest faint."""
    this, that = names
    by_id = {n.id: n for n in base.nodes}
    top_events = max((*graph.activities.values(), *other.activities.values()), default=1)
    nodes = []
    for node in base.nodes:
        if node.kind != "activity":
            ends = graph.start if node.kind == "start" else graph.end
            nodes.append(replace(node, tooltip=f"{node.kind}: {plural(sum(ends.values()), 'case')} {this}"))
            continue
        n, m = graph.activities.get(node.name), other.activities.get(node.name)
        if n is None:
            tip = f"{node.name}\nnot {this}; {plural(m or 0, 'event')} {that}"
            nodes.append(replace(node, metric="none", tooltip=tip, fill="#ffffff", text=GHOST, stroke=GHOST))
            continue
        shade = _shade(n, top_events)
        tip = f"{node.name}\n{plural(n, 'event')} {this}\n" + (
            f"{plural(m, 'event')} {that}" if m is not None else f"none {that}"
        )
        nodes.append(
            replace(
                node,
                metric=f"{n:,}",
                tooltip=tip,
                fill=SHADES[shade],
                text="#ffffff" if shade >= 4 else "#08306b",
                stroke=DEVIATION if m is None else SHADES[-1],
            )
        )
    inner = {(e.source, e.target): e for e in graph.edges}
    inner_other = {(e.source, e.target): e for e in other.edges}

    def count(g: DFG, pairs: Mapping[tuple[str, str], Edge], s: str, t: str) -> int | None:
        if s == "▶start":
            return g.start.get(t)
        if t == "■end":
            return g.end.get(s)
        e = pairs.get((s, t))
        return None if e is None else e.count

    def name(node_id: str) -> str:
        node = by_id[node_id]
        return {"start": "▶start", "end": "■end"}.get(node.kind, node.name)

    counts = [
        count(g, pairs, name(e.source), name(e.target))
        for e in base.edges
        for g, pairs in ((graph, inner), (other, inner_other))
    ]
    top = max((c for c in counts if c is not None), default=1)
    edges = []
    for e in base.edges:
        s, t = name(e.source), name(e.target)
        n, m = count(graph, inner, s, t), count(other, inner_other, s, t)
        words = f"{'start' if s == '▶start' else s} → {'end' if t == '■end' else t}"
        if n is None:
            tip = f"{words}\nnot {this}; {m or 0:,} {that}"
            edges.append(replace(e, label="", width=1.0, colour=GHOST, tooltip=tip, dashed=True))
            continue
        marker = s == "▶start" or t == "■end"
        edge = inner.get((s, t))
        tip = f"{words}\n{n:,} {'cases' if marker else 'times'} {this}" + (
            f" in {plural(edge.cases, 'case')}\nmedian {format_duration(edge.median_seconds)}, "
            f"p90 {format_duration(edge.p90_seconds)}"
            if edge is not None
            else ""
        )
        tip += f"\n{m:,} {that}" if m is not None else f"\nnone {that}"
        colour = DEVIATION if m is None else SHADES[3] if marker else SHADES[5]
        edges.append(
            replace(
                e,
                label=f"{n:,}",
                width=round(1.2 + 5 * n / top, 2),
                colour=colour,
                tooltip=tip,
                dashed=marker,
            )
        )
    return replace(base, nodes=tuple(nodes), edges=tuple(edges))


def _endpoints(counts: Mapping[str, int], inner: list[tuple[str, str, int]], least: int) -> dict[str, int]:
    """The start (or, with the edges reversed, end) paths to draw: those of ``least`` cases or more, and
    then, most frequent first, each one that reaches an activity no drawn path reaches yet."""
    kept = {a: n for a, n in counts.items() if n >= least}
    nxt: dict[str, list[str]] = {}
    for s, t, _ in inner:
        nxt.setdefault(s, []).append(t)
    for a, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        if a in kept:
            continue
        seen = set(kept)
        todo = list(seen)
        while todo:
            for b in nxt.get(todo.pop(), ()):
                if b not in seen:
                    seen.add(b)
                    todo.append(b)
        if a not in seen:
            kept[a] = n
    return kept


def _priority(v: str, up: Mapping[str, list[str]], down: Mapping[str, list[str]], boxes: Mapping) -> int:
    """Boxes (and the start and end) before the waypoints of long paths, the most connected first."""
    degree = len(up.get(v, [])) + len(down.get(v, []))
    return degree + (1000 if v in boxes or v in ("▶start", "■end") else 0)


def _place_row(
    row: list[str],
    want: list[float],
    xs: dict[str, float],
    size: Mapping[str, tuple[float, float]],
    priority: Mapping[str, int],
) -> None:
    """Move each node of a layer towards ``want``, in order of priority, keeping the layer's order and
    spacing: a node pushes the nodes of lower priority in its way and never moves one of higher
    priority (the priority method of Sugiyama's layout).  So boxes line up with their neighbours and the
    waypoints of long paths make room, rather than shifting every box sideways, layer after layer."""
    pos = [xs[v] for v in row]
    gaps = [_space(size, row[i], row[i + 1]) for i in range(len(row) - 1)]
    done: list[bool] = [False] * len(row)
    for i in sorted(range(len(row)), key=lambda i: -priority[row[i]]):
        target = want[i]
        if target < pos[i]:
            j = next((j for j in range(i - 1, -1, -1) if done[j]), None)
            if j is not None:
                target = max(target, pos[j] + sum(gaps[j:i]))
            pos[i] = min(pos[i], target)
            for k in range(i - 1, -1, -1):  # push the lower ones on the left
                pos[k] = min(pos[k], pos[k + 1] - gaps[k])
        elif target > pos[i]:
            j = next((j for j in range(i + 1, len(row)) if done[j]), None)
            if j is not None:
                target = min(target, pos[j] - sum(gaps[i:j]))
            pos[i] = max(pos[i], target)
            for k in range(i + 1, len(row)):  # and those on the right
                pos[k] = max(pos[k], pos[k - 1] + gaps[k - 1])
        done[i] = True
    for v, x in zip(row, pos, strict=True):
        xs[v] = x


def _space(size: Mapping[str, tuple[float, float]], a: str, b: str) -> float:
    """Centre-to-centre distance of two neighbours in a layer: waypoints pack closer than boxes."""
    gap = _GAP_X if size[a][0] > 10 and size[b][0] > 10 else 14.0
    return (size[a][0] + size[b][0]) / 2 + gap


_Point = tuple[float, float]
_Cubic = tuple[_Point, _Point, _Point, _Point]


def _curve(pts: list[_Point]) -> list[_Cubic]:
    """Cubic Béziers through the points: one S-bend for two, else Catmull-Rom curves."""
    (x0, y0) = pts[0]
    if len(pts) == 2:
        (x1, y1) = pts[1]
        dy = (y1 - y0) / 2
        return [((x0, y0), (x0, y0 + dy), (x1, y1 - dy), (x1, y1))]
    out: list[_Cubic] = []
    ext = [pts[0], *pts, pts[-1]]
    for i in range(1, len(ext) - 2):
        p0, p1, p2, p3 = ext[i - 1], ext[i], ext[i + 1], ext[i + 2]
        c1 = (p1[0] + (p2[0] - p0[0]) / 6, p1[1] + (p2[1] - p0[1]) / 6)
        c2 = (p2[0] - (p3[0] - p1[0]) / 6, p2[1] - (p3[1] - p1[1]) / 6)
        out.append((p1, c1, c2, p2))
    return out


def _path(curve: list[_Cubic]) -> str:
    """The SVG path of :func:`_curve`'s pieces."""
    (x0, y0) = curve[0][0]
    out = [f"M{x0:.1f},{y0:.1f}"]
    for _, c1, c2, p in curve:
        out.append(f"C{c1[0]:.1f},{c1[1]:.1f} {c2[0]:.1f},{c2[1]:.1f} {p[0]:.1f},{p[1]:.1f}")
    return " ".join(out)


def _along(curve: list[_Cubic], f: float) -> _Point:
    """The point a fraction ``f`` of the way along the curve's pieces (by parameter, not length)."""
    at = min(max(f, 0.0), 1.0) * len(curve)
    i = min(int(at), len(curve) - 1)
    t = at - i
    p0, p1, p2, p3 = curve[i]
    a, b, c, d = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3
    return (
        a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0],
        a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1],
    )
