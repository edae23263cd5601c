"""BPMN 2.0 XML with a real diagram (DI) layout, for bpmn.io, Camunda Modeler and pm4py.

The package's one BPMN writer: discovered models (:func:`mining.models.to_bpmn_xml`)
and the documented sample models (:mod:`mining.samples.bpmn`) are both written here.

pm4py's own writer leaves every coordinate at zero (pm4py #348, #371), so
modellers stack all shapes in one corner.  Here the graph is laid out left to
right, Sugiyama style:

1. a depth-first search from the start event finds the loop-back flows;
   the rest is a DAG, layered by longest path (end events in the last layer);
2. flows that skip layers get a dummy slot in every layer they cross, so they
   run between shapes, never through them;
3. barycentric sweeps (down, up) order each layer, keeping the order with the
   fewest crossings;
4. vertical positions: each layer is pulled towards its neighbours' centres,
   subject to the minimum spacing (isotonic regression), so chains come out
   straight and splits symmetric;
5. flows are orthogonal polylines from the right side of the source to the
   left side of the target; vertical runs in the gap between two layers get
   their own track per source, and loop-back flows run in a channel just
   under the layers they span (short loops innermost).

No two shapes overlap and no flow crosses a shape.  The XML is built with
lxml, so every name (user data) is escaped; characters XML 1.0 cannot carry
are replaced by U+FFFD.  Nothing here imports pm4py.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from dataclasses import dataclass

from lxml import etree

from mining.errors import ModelError

__all__ = [
    "BPMNDI_NS",
    "BPMN_NS",
    "CHANNEL_GAP",
    "DC_NS",
    "DI_NS",
    "MARGIN",
    "MIN_LAYER_GAP",
    "NODE_GAP",
    "SIZES",
    "TARGET_NAMESPACE",
    "TRACK_GAP",
    "Bounds",
    "BpmnGraph",
    "FlowNode",
    "Layout",
    "layout",
    "to_xml",
]

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
DI_NS = "http://www.omg.org/spec/DD/20100524/DI"
_NSMAP = {"bpmn": BPMN_NS, "bpmndi": BPMNDI_NS, "dc": DC_NS, "di": DI_NS}
TARGET_NAMESPACE = "urn:mining:bpmn"

#: width, height of each kind of flow node (bpmn.io's defaults).
SIZES = {
    "task": (100, 80),
    "exclusiveGateway": (50, 50),
    "parallelGateway": (50, 50),
    "inclusiveGateway": (50, 50),
    "startEvent": (36, 36),
    "endEvent": (36, 36),
}
_ID_PREFIX = {
    "task": "Activity",
    "exclusiveGateway": "Gateway",
    "parallelGateway": "Gateway",
    "inclusiveGateway": "Gateway",
    "startEvent": "StartEvent",
    "endEvent": "EndEvent",
}

MARGIN = 50  # around the diagram
NODE_GAP = 40  # vertical space between two shapes of a layer
MIN_LAYER_GAP = 60  # horizontal space between two layers
TRACK_GAP = 14  # between two vertical runs in the same gap
CHANNEL_GAP = 16  # between two loop-back channels under the diagram

_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class FlowNode:
    """One BPMN flow node: ``kind`` is the element name (``task``, ``parallelGateway``, ...).

    ``element_id`` is the XML id (default: ``Activity_1``, ``Gateway_2``, ... in
    reading order); ``documentation`` becomes the node's ``<documentation>``.
    """

    key: int
    kind: str
    name: str = ""
    documentation: str = ""
    element_id: str = ""


@dataclass(frozen=True)
class BpmnGraph:
    """Flow nodes and sequence flows ``(source key, target key)``; no layout.

    ``flow_names`` are the flows' labels (``yes``, ``no``), in the order of
    ``flows``; empty when no flow has one.
    """

    nodes: tuple[FlowNode, ...]
    flows: tuple[tuple[int, int], ...]
    flow_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Bounds:
    x: int
    y: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.x + self.width

    @property
    def bottom(self) -> int:
        return self.y + self.height

    @property
    def cy(self) -> int:
        return self.y + self.height // 2


@dataclass(frozen=True)
class Layout:
    """Shape bounds by node key; waypoints per flow, in the order of ``graph.flows``."""

    shapes: dict[int, Bounds]
    edges: tuple[tuple[tuple[int, int], ...], ...]
    #: node keys in reading order (layer by layer, top to bottom): used for ids.
    order: tuple[int, ...]


# ---------------------------------------------------------------------------
# layout


def layout(graph: BpmnGraph) -> Layout:
    """Compute a layered left-to-right layout; see the module docstring.

    The graph is first renumbered in a canonical order, so the layout does
    not depend on the order (or keys) nodes and flows come in.
    """
    _check(graph)
    rank = _canonical_rank(graph)
    node_of = {r: k for k, r in rank.items()}
    flow_order = sorted(
        range(len(graph.flows)), key=lambda i: (rank[graph.flows[i][0]], rank[graph.flows[i][1]], i)
    )
    canonical = BpmnGraph(
        tuple(sorted((FlowNode(rank[n.key], n.kind, n.name) for n in graph.nodes), key=lambda n: n.key)),
        tuple((rank[graph.flows[i][0]], rank[graph.flows[i][1]]) for i in flow_order),
    )
    lay = _layout(canonical)
    edges: list[tuple[tuple[int, int], ...]] = [()] * len(graph.flows)
    for position, i in enumerate(flow_order):
        edges[i] = lay.edges[position]
    return Layout(
        {node_of[k]: b for k, b in lay.shapes.items()}, tuple(edges), tuple(node_of[k] for k in lay.order)
    )


def _layout(graph: BpmnGraph) -> Layout:
    """The layout of a canonically numbered graph: node keys are their ranks."""
    nodes = {n.key: n for n in graph.nodes}
    keys = list(nodes)
    pred: dict[int, list[int]] = defaultdict(list)
    for s, t in graph.flows:
        pred[t].append(s)
    rank = {k: k for k in keys}
    back = _back_edges(graph, nodes, pred, rank)
    layer = _layers(keys, graph.flows, back, nodes)
    n_layers = max(layer.values()) + 1

    # Items: real nodes (their key) and dummies (negative ids) in layers.
    size = {k: SIZES[nodes[k].kind] for k in keys}
    chains: list[list[int]] = []  # per flow: the items it passes (forward flows only)
    item_layer = dict(layer)
    next_dummy = -1
    for i, (s, t) in enumerate(graph.flows):
        if i in back:
            chains.append([])
            continue
        chain = [s]
        for lay in range(layer[s] + 1, layer[t]):
            item_layer[next_dummy] = lay
            size[next_dummy] = (0, 0)
            chain.append(next_dummy)
            next_dummy -= 1
        chain.append(t)
        chains.append(chain)
    up: dict[int, list[int]] = defaultdict(list)
    down: dict[int, list[int]] = defaultdict(list)
    for chain in chains:
        for a, b in itertools.pairwise(chain):
            down[a].append(b)
            up[b].append(a)

    layers = _order(item_layer, n_layers, up, down, rank)
    cy = _vertical(layers, size, up, down)

    # Integer y of every shape and dummy, the topmost shape at MARGIN.
    shift = MARGIN - min(cy[i] - size[i][1] / 2 for i in item_layer)
    # Centres are rounded, then tops derived (all heights are even), so shapes
    # aligned on one line stay on one line.
    y = {i: round(cy[i] + shift) for i in item_layer}
    top = {k: y[k] - size[k][1] // 2 for k in keys}

    # Loop-back flows run in the gap after their source, along a channel under
    # the layers they span (short loops first, so they hug their shapes), and
    # up the gap before their target.
    bottoms: list[int] = [0] * n_layers
    for i, lay in item_layer.items():
        bottoms[lay] = max(bottoms[lay], y[i] + size[i][1] // 2)
    channel: dict[int, int] = {}
    placed: list[tuple[int, int, int]] = []  # (first layer, last layer, y)
    for i in sorted(
        back,
        key=lambda f: (
            layer[graph.flows[f][0]] - layer[graph.flows[f][1]],
            layer[graph.flows[f][1]],
            rank[graph.flows[f][0]],
            f,
        ),
    ):
        lo, hi = layer[graph.flows[i][1]], layer[graph.flows[i][0]]
        level = max(bottoms[lo : hi + 1]) + NODE_GAP // 2
        clash = True
        while clash:
            clash = False
            for plo, phi, py in placed:
                if plo <= hi + 1 and lo <= phi + 1 and abs(py - level) < CHANNEL_GAP:
                    level, clash = py + CHANNEL_GAP, True
        channel[i] = level
        placed.append((lo, hi, level))

    # Vertical runs per gap (gap g lies between layer g and g + 1; -1 is before layer 0).
    runs: dict[int, dict[tuple[str, int], list[int]]] = defaultdict(dict)

    def add_run(gap: int, group: tuple[str, int], y1: int, y2: int) -> None:
        lo, hi = min(y1, y2), max(y1, y2)
        span = runs[gap].setdefault(group, [lo, hi])
        span[0], span[1] = min(span[0], lo), max(span[1], hi)

    for i, chain in enumerate(chains):
        if i in back:
            s, t = graph.flows[i]
            add_run(layer[s], ("out", s), y[s], channel[i])
            add_run(layer[t] - 1, ("in", t), channel[i], y[t])
            continue
        for a, b in itertools.pairwise(chain):
            if y[a] != y[b]:
                add_run(item_layer[a], ("out", a), y[a], y[b])
    tracks = {gap: _assign_tracks(groups) for gap, groups in runs.items()}

    # Columns: width of the widest shape; gaps wide enough for their tracks.
    col_w = [max(size[i][0] for i in lay) for lay in layers]
    gap_w = {g: max(MIN_LAYER_GAP, (len(set(t.values())) + 3) * TRACK_GAP) for g, t in tracks.items()}
    col_x: list[float] = []
    x = MARGIN + (gap_w.get(-1, 0))
    for lay in range(n_layers):
        col_x.append(x)
        x += col_w[lay] + gap_w.get(lay, MIN_LAYER_GAP)

    def track_x(gap: int, group: tuple[str, int]) -> float:
        n = 1 + max(tracks[gap].values())
        start = col_x[gap] + col_w[gap] if gap >= 0 else MARGIN
        width = gap_w[gap]
        return start + width * (tracks[gap][group] + 1) / (n + 1)

    shapes: dict[int, Bounds] = {}
    for k in keys:
        w, h = size[k]
        lay = layer[k]
        shapes[k] = Bounds(round(col_x[lay] + (col_w[lay] - w) / 2), top[k], w, h)

    edges: list[tuple[tuple[int, int], ...]] = []
    for i, chain in enumerate(chains):
        s, t = graph.flows[i]
        points: list[tuple[float, int]] = [(shapes[s].right, y[s])]
        if i in back:
            xo = track_x(layer[s], ("out", s))
            xi = track_x(layer[t] - 1, ("in", t))
            points += [(xo, y[s]), (xo, channel[i]), (xi, channel[i]), (xi, y[t])]
        else:
            for a, b in itertools.pairwise(chain):
                if y[a] != y[b]:
                    xt = track_x(item_layer[a], ("out", a))
                    points += [(xt, y[a]), (xt, y[b])]
        points.append((shapes[t].x, y[t]))
        edges.append(_simplify([(round(px), py) for px, py in points]))

    order = tuple(k for lay in layers for k in lay if k >= 0)
    return Layout(shapes, tuple(edges), order)


def _check(graph: BpmnGraph) -> None:
    keys = [n.key for n in graph.nodes]
    if not keys:
        msg = "the model has no flow nodes to draw"
        raise ModelError(msg)
    if len(set(keys)) != len(keys):
        msg = "duplicate flow node keys in the BPMN graph"
        raise ModelError(msg)
    if graph.flow_names and len(graph.flow_names) != len(graph.flows):
        msg = f"{len(graph.flow_names)} flow names for {len(graph.flows)} sequence flows"
        raise ModelError(msg)
    unknown = sorted({n.kind for n in graph.nodes} - set(SIZES))
    if unknown:
        msg = f"unsupported BPMN element(s) {unknown}; supported: {sorted(SIZES)}"
        raise ModelError(msg)
    known = set(keys)
    for s, t in graph.flows:
        if s not in known or t not in known:
            msg = f"sequence flow {s} -> {t} refers to a node that is not in the graph"
            raise ModelError(msg)


def _canonical_rank(graph: BpmnGraph) -> dict[int, int]:
    """A deterministic order of the nodes that does not depend on their keys or input order.

    pm4py builds its BPMN from sets keyed by random ids, so the input order
    changes from run to run.  Nodes are ranked by kind, name, and the names
    of the tasks next to them (through gateways) on either side; ties are
    refined by the ranks of their neighbours until nothing changes
    (Weisfeiler-Lehman).  Nodes still tied are interchangeable.
    """
    kinds = {
        "startEvent": 0,
        "task": 1,
        "exclusiveGateway": 2,
        "parallelGateway": 3,
        "inclusiveGateway": 4,
        "endEvent": 5,
    }
    nodes = {n.key: n for n in graph.nodes}
    succ: dict[int, list[int]] = defaultdict(list)
    pred: dict[int, list[int]] = defaultdict(list)
    for s, t in graph.flows:
        succ[s].append(t)
        pred[t].append(s)

    def frontier(k: int, nbrs: dict[int, list[int]]) -> tuple[str, ...]:
        seen, stack, names = {k}, list(nbrs[k]), set()
        while stack:
            m = stack.pop()
            if m in seen:
                continue
            seen.add(m)
            if nodes[m].kind in {"task", "startEvent", "endEvent"}:
                names.add(f"{nodes[m].kind}:{nodes[m].name}")
            else:
                stack.extend(nbrs[m])
        return tuple(sorted(names))

    base = {
        k: (kinds[n.kind], n.name, frontier(k, pred), frontier(k, succ), len(pred[k]), len(succ[k]))
        for k, n in nodes.items()
    }
    classes = _dense(base)
    for _ in range(len(nodes)):
        refined = _dense(
            {
                k: (
                    classes[k],
                    tuple(sorted(classes[m] for m in pred[k])),
                    tuple(sorted(classes[m] for m in succ[k])),
                )
                for k in nodes
            }
        )
        if len(set(refined.values())) == len(set(classes.values())):
            break
        classes = refined
    ordered = sorted(nodes, key=lambda k: classes[k])  # stable: ties keep input order
    return {k: i for i, k in enumerate(ordered)}


def _dense(keys: dict[int, tuple[object, ...]]) -> dict[int, int]:
    """Replace sortable keys by their dense rank."""
    order = {v: i for i, v in enumerate(sorted(set(keys.values())))}
    return {k: order[v] for k, v in keys.items()}


def _back_edges(
    graph: BpmnGraph, nodes: dict[int, FlowNode], pred: dict[int, list[int]], rank: dict[int, int]
) -> set[int]:
    """Indices of the flows that close a cycle in a DFS from the start events (children by rank)."""
    out: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for i, (s, t) in enumerate(graph.flows):
        out[s].append((i, t))
    for s in out:
        out[s].sort(key=lambda it: (rank[it[1]], it[0]))
    by_rank = sorted(nodes, key=rank.__getitem__)
    roots = [k for k in by_rank if nodes[k].kind == "startEvent"]
    roots += [k for k in by_rank if not pred[k]] + by_rank
    state: dict[int, int] = {}  # 1 = on the stack, 2 = done
    back: set[int] = set()
    for root in roots:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(out[root]))]
        while stack:
            k, it = stack[-1]
            step = next(it, None)
            if step is None:
                state[k] = 2
                stack.pop()
                continue
            i, t = step
            if state.get(t) == 1:
                back.add(i)
            elif t not in state:
                state[t] = 1
                stack.append((t, iter(out[t])))
    return back


def _layers(
    keys: list[int], flows: tuple[tuple[int, int], ...], back: set[int], nodes: dict[int, FlowNode]
) -> dict[int, int]:
    """Longest-path layering over the forward flows; end events go to the last layer."""
    out: dict[int, list[int]] = defaultdict(list)
    indeg = dict.fromkeys(keys, 0)
    for i, (s, t) in enumerate(flows):
        if i not in back:
            out[s].append(t)
            indeg[t] += 1
    layer = dict.fromkeys(keys, 0)
    ready = [k for k in keys if indeg[k] == 0]
    while ready:
        k = ready.pop()
        for t in out[k]:
            layer[t] = max(layer[t], layer[k] + 1)
            indeg[t] -= 1
            if indeg[t] == 0:
                ready.append(t)
    last = max(layer.values())
    for k in keys:
        if nodes[k].kind == "endEvent" and not out[k]:
            layer[k] = last
    return layer


def _order(
    item_layer: dict[int, int],
    n_layers: int,
    up: dict[int, list[int]],
    down: dict[int, list[int]],
    rank: dict[int, int],
) -> list[list[int]]:
    """Order each layer by barycentric sweeps; keep the order with the fewest crossings."""
    layers: list[list[int]] = [[] for _ in range(n_layers)]

    # Initial order: a DFS along the chains from layer 0, children by rank.
    def item_rank(i: int) -> int:
        return rank[i] if i >= 0 else len(rank) - i  # dummies after nodes, in (canonical) flow order

    seen: set[int] = set()
    roots = sorted((i for i, lay in item_layer.items() if lay == 0), key=item_rank)
    others = sorted((i for i in item_layer if item_layer[i] > 0 and not up[i]), key=item_rank)
    for root in roots + others:
        stack = [root]
        while stack:
            i = stack.pop()
            if i in seen:
                continue
            seen.add(i)
            layers[item_layer[i]].append(i)
            stack.extend(sorted(down[i], key=item_rank, reverse=True))
    for i in sorted(set(item_layer) - seen, key=item_rank):  # pragma: no cover - defensive
        layers[item_layer[i]].append(i)

    best = [list(lay) for lay in layers]
    best_crossings = _crossings(layers, down)
    for _ in range(12):
        for lay in range(1, n_layers):
            _sort_by_barycenter(layers[lay], layers[lay - 1], up)
        for lay in range(n_layers - 2, -1, -1):
            _sort_by_barycenter(layers[lay], layers[lay + 1], down)
        c = _crossings(layers, down)
        if c < best_crossings:
            best, best_crossings = [list(lay) for lay in layers], c
        if best_crossings == 0:
            break
    return best


def _sort_by_barycenter(layer: list[int], fixed: list[int], nbrs: dict[int, list[int]]) -> None:
    pos = {item: p for p, item in enumerate(fixed)}
    current = {item: p for p, item in enumerate(layer)}

    def bary(item: int) -> float:
        ps = [pos[n] for n in nbrs[item] if n in pos]
        if not ps:
            return float(current[item]) * len(fixed) / max(len(layer), 1)
        return sum(ps) / len(ps)

    layer.sort(key=lambda i: (bary(i), current[i]))


def _crossings(layers: list[list[int]], down: dict[int, list[int]]) -> int:
    total = 0
    for lay in range(len(layers) - 1):
        pos = {item: p for p, item in enumerate(layers[lay + 1])}
        segs = [(p, pos[b]) for p, a in enumerate(layers[lay]) for b in down[a] if b in pos]
        for i in range(len(segs)):
            a1, b1 = segs[i]
            for a2, b2 in segs[i + 1 :]:
                if (a1 - a2) * (b1 - b2) < 0:
                    total += 1
    return total


def _vertical(
    layers: list[list[int]],
    size: dict[int, tuple[int, int]],
    up: dict[int, list[int]],
    down: dict[int, list[int]],
) -> dict[int, float]:
    """Centre y of every item: stacked with spacing, pulled towards the neighbours' centres."""
    cy: dict[int, float] = {}
    heights = [sum(size[i][1] for i in lay) + NODE_GAP * (len(lay) - 1) for lay in layers]
    tallest = max(heights)
    for lay, items in zip(layers, heights, strict=True):
        y = (tallest - items) / 2
        for i in lay:
            h = size[i][1]
            cy[i] = y + h / 2
            y += h + NODE_GAP

    def place(items: list[int], desired: list[float]) -> None:
        # Minimum distance between consecutive centres.
        offsets = [0.0]
        for a, b in itertools.pairwise(items):
            offsets.append(offsets[-1] + (size[a][1] + size[b][1]) / 2 + NODE_GAP)
        # Dummies weigh more, so long flows stay straight and shapes move instead.
        weights = [1.0 if i >= 0 else 4.0 for i in items]
        fitted = _isotonic([d - o for d, o in zip(desired, offsets, strict=True)], weights)
        for i, f, o in zip(items, fitted, offsets, strict=True):
            cy[i] = f + o

    for _ in range(6):
        for direction in (up, down):
            seq = range(1, len(layers)) if direction is up else range(len(layers) - 2, -1, -1)
            for lay in seq:
                items = layers[lay]
                desired = []
                for i in items:
                    ns = [cy[n] for n in direction[i]]
                    desired.append(sum(ns) / len(ns) if ns else cy[i])
                place(items, desired)
    for lay in layers:  # a last pass towards both sides
        desired = []
        for i in lay:
            ns = [cy[n] for n in up[i] + down[i]]
            desired.append(sum(ns) / len(ns) if ns else cy[i])
        place(lay, desired)
    _straighten(layers, size, up, down, cy)
    return cy


def _straighten(
    layers: list[list[int]],
    size: dict[int, tuple[int, int]],
    up: dict[int, list[int]],
    down: dict[int, list[int]],
    cy: dict[int, float],
) -> None:
    """Snap an item onto the line of its only predecessor (then successor) where spacing allows."""

    def fits(items: list[int], p: int, y: float) -> bool:
        h = size[items[p]][1]
        if p > 0 and cy[items[p - 1]] + (size[items[p - 1]][1] + h) / 2 + NODE_GAP > y + 1e-6:
            return False
        return not (
            p + 1 < len(items) and y + (h + size[items[p + 1]][1]) / 2 + NODE_GAP > cy[items[p + 1]] + 1e-6
        )

    def aligned(i: int) -> bool:
        return any(abs(cy[n] - cy[i]) < 0.5 for n in up[i] + down[i])

    for lay in layers:
        for p, i in enumerate(lay):
            if len(up[i]) == 1 and fits(lay, p, cy[up[i][0]]):
                cy[i] = cy[up[i][0]]
    for lay in reversed(layers):
        for p, i in enumerate(lay):
            if len(down[i]) == 1 and not aligned(i) and fits(lay, p, cy[down[i][0]]):
                cy[i] = cy[down[i][0]]


def _isotonic(values: list[float], weights: list[float]) -> list[float]:
    """Weighted least-squares non-decreasing fit (pool adjacent violators)."""
    blocks: list[list[float]] = []  # [mean, weight, count]
    for v, w in zip(values, weights, strict=True):
        blocks.append([v, w, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2, n2 = blocks.pop()
            m1, w1, n1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, n1 + n2])
    out: list[float] = []
    for m, _, n in blocks:
        out += [m] * int(n)
    return out


def _assign_tracks(groups: dict[tuple[str, int], list[float]]) -> dict[tuple[str, int], int]:
    """Give vertical runs whose spans overlap different tracks (interval colouring)."""
    tracks: dict[tuple[str, int], int] = {}
    ends: list[float] = []  # lowest free y per track
    for group, (lo, hi) in sorted(groups.items(), key=lambda kv: (kv[1][0], kv[1][1], kv[0])):
        for t, end in enumerate(ends):
            if end < lo - TRACK_GAP:
                tracks[group] = t
                ends[t] = hi
                break
        else:
            tracks[group] = len(ends)
            ends.append(hi)
    return tracks


def _simplify(points: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for p in points:
        if out and p == out[-1]:
            continue
        if len(out) >= 2:
            (x1, y1), (x2, y2) = out[-2], out[-1]
            if (x1 == x2 == p[0]) or (y1 == y2 == p[1]):
                out[-1] = p
                continue
        out.append(p)
    if len(out) == 1:  # source and target touch: keep two points
        out.append(out[0])
    return tuple(out)


# ---------------------------------------------------------------------------
# XML


def to_xml(graph: BpmnGraph, *, name: str = "", documentation: str = "", exporter_version: str = "") -> str:
    """BPMN 2.0 XML (one process, not executable) with a ``BPMNDiagram`` for every node and flow.

    ``name`` and ``documentation`` describe the process.  Elements are written
    in reading order (layer by layer, top to bottom), so the same graph gives
    the same bytes whatever order its nodes and flows came in.
    """
    lay = layout(graph)
    nodes = {n.key: n for n in graph.nodes}
    counters: dict[str, int] = defaultdict(int)
    ids: dict[int, str] = {}
    for k in lay.order:
        prefix = _ID_PREFIX[nodes[k].kind]
        counters[prefix] += 1
        ids[k] = nodes[k].element_id or f"{prefix}_{counters[prefix]}"
    if len(set(ids.values())) != len(ids):
        msg = "duplicate flow node ids in the BPMN graph"
        raise ModelError(msg)
    position = {k: i for i, k in enumerate(lay.order)}
    flow_order = sorted(
        range(len(graph.flows)), key=lambda i: (position[graph.flows[i][0]], position[graph.flows[i][1]], i)
    )
    flow_ids = {i: f"Flow_{n + 1}" for n, i in enumerate(flow_order)}

    def q(ns: str, tag: str) -> str:
        return f"{{{ns}}}{tag}"

    definitions = etree.Element(q(BPMN_NS, "definitions"), nsmap=_NSMAP)
    definitions.set("id", "Definitions_1")
    definitions.set("targetNamespace", TARGET_NAMESPACE)
    definitions.set("exporter", "mining")
    if exporter_version:
        definitions.set("exporterVersion", exporter_version)
    process = etree.SubElement(definitions, q(BPMN_NS, "process"), id="Process_1", isExecutable="false")
    if name:
        process.set("name", _clean(name))
    if documentation:
        etree.SubElement(process, q(BPMN_NS, "documentation")).text = _clean(documentation)

    incoming: dict[int, list[int]] = defaultdict(list)
    outgoing: dict[int, list[int]] = defaultdict(list)
    for i in flow_order:
        s, t = graph.flows[i]
        outgoing[s].append(i)
        incoming[t].append(i)
    for k in lay.order:
        node = nodes[k]
        el = etree.SubElement(process, q(BPMN_NS, node.kind), id=ids[k])
        if node.name:
            el.set("name", _clean(node.name))
        if node.kind.endswith("Gateway"):
            el.set("gatewayDirection", _direction(len(incoming[k]), len(outgoing[k])))
        if node.documentation:
            etree.SubElement(el, q(BPMN_NS, "documentation")).text = _clean(node.documentation)
        for i in incoming[k]:
            etree.SubElement(el, q(BPMN_NS, "incoming")).text = flow_ids[i]
        for i in outgoing[k]:
            etree.SubElement(el, q(BPMN_NS, "outgoing")).text = flow_ids[i]
    for i in flow_order:
        s, t = graph.flows[i]
        flow = etree.SubElement(
            process, q(BPMN_NS, "sequenceFlow"), id=flow_ids[i], sourceRef=ids[s], targetRef=ids[t]
        )
        if graph.flow_names and graph.flow_names[i]:
            flow.set("name", _clean(graph.flow_names[i]))

    diagram = etree.SubElement(definitions, q(BPMNDI_NS, "BPMNDiagram"), id="BPMNDiagram_1")
    plane = etree.SubElement(diagram, q(BPMNDI_NS, "BPMNPlane"), id="BPMNPlane_1", bpmnElement="Process_1")
    for k in lay.order:
        shape = etree.SubElement(plane, q(BPMNDI_NS, "BPMNShape"), id=f"{ids[k]}_di", bpmnElement=ids[k])
        if nodes[k].kind == "exclusiveGateway":
            shape.set("isMarkerVisible", "true")
        b = lay.shapes[k]
        etree.SubElement(
            shape, q(DC_NS, "Bounds"), x=str(b.x), y=str(b.y), width=str(b.width), height=str(b.height)
        )
    for i in flow_order:
        edge = etree.SubElement(
            plane, q(BPMNDI_NS, "BPMNEdge"), id=f"{flow_ids[i]}_di", bpmnElement=flow_ids[i]
        )
        for x, y in lay.edges[i]:
            etree.SubElement(edge, q(DI_NS, "waypoint"), x=str(x), y=str(y))
    return etree.tostring(definitions, xml_declaration=True, encoding="UTF-8", pretty_print=True).decode(
        "utf-8"
    )


def _direction(n_in: int, n_out: int) -> str:
    if n_in > 1 and n_out > 1:
        return "Mixed"
    if n_out > 1:
        return "Diverging"
    if n_in > 1:
        return "Converging"
    return "Unspecified"


def _clean(text: str) -> str:
    return _XML_INVALID.sub("\ufffd", text)
