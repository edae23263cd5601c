"""The layout rules a BPMN diagram must keep for bpmn.io / Camunda users (pm4py #348, #371).

Every node and flow drawn, nothing stacked on top of anything, flows
attached to their shapes and never drawn through one.  Used by the tests of
the one BPMN writer (discovered models and the sample models).
"""

from __future__ import annotations

import itertools

from lxml import etree

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
}
FLOW_NODES = {"startEvent", "endEvent", "task", "exclusiveGateway", "parallelGateway", "inclusiveGateway"}
SIZES = {
    "task": (100, 80),
    "startEvent": (36, 36),
    "endEvent": (36, 36),
    "exclusiveGateway": (50, 50),
    "parallelGateway": (50, 50),
    "inclusiveGateway": (50, 50),
}


def local(el) -> str:
    return etree.QName(el).localname


def check_bpmn(xml: str) -> etree._Element:
    """Assert every structural and layout rule; return the parsed document."""
    root = etree.fromstring(xml.encode("utf-8"))
    assert root.tag == f"{{{NS['bpmn']}}}definitions"
    for prefix, uri in NS.items():
        assert root.nsmap[prefix] == uri
    assert root.get("targetNamespace") and root.get("exporter") == "mining"
    processes = root.findall("bpmn:process", NS)
    assert len(processes) == 1 and processes[0].get("isExecutable") == "false"
    process = processes[0]

    nodes = {el.get("id"): el for el in process if local(el) in FLOW_NODES}
    flows = {el.get("id"): el for el in process.findall("bpmn:sequenceFlow", NS)}
    docs = [i for i, el in enumerate(process) if local(el) == "documentation"]
    assert docs in ([], [0]), "the process's documentation comes first, once"
    assert len(nodes) + len(flows) + len(docs) == len(process), "unexpected elements in the process"
    assert [local(n) for n in nodes.values()].count("startEvent") == 1
    assert any(local(n) == "endEvent" for n in nodes.values())
    ids = [el.get("id") for el in root.iter() if el.get("id") is not None]
    assert len(ids) == len(set(ids)), "duplicate ids"

    # incoming/outgoing children match the flows exactly.
    for node_id, node in nodes.items():
        incoming = sorted(e.text for e in node.findall("bpmn:incoming", NS))
        outgoing = sorted(e.text for e in node.findall("bpmn:outgoing", NS))
        assert incoming == sorted(f for f, el in flows.items() if el.get("targetRef") == node_id)
        assert outgoing == sorted(f for f, el in flows.items() if el.get("sourceRef") == node_id)
    for el in flows.values():
        assert el.get("sourceRef") in nodes and el.get("targetRef") in nodes

    plane = root.find("bpmndi:BPMNDiagram/bpmndi:BPMNPlane", NS)
    assert plane.get("bpmnElement") == process.get("id")
    shapes: dict[str, tuple[float, float, float, float]] = {}
    for shape in plane.findall("bpmndi:BPMNShape", NS):
        element = shape.get("bpmnElement")
        assert element in nodes and element not in shapes, f"shape for {element}"
        b = shape.find("dc:Bounds", NS)
        x, y, w, h = (float(b.get(k)) for k in ("x", "y", "width", "height"))
        assert w > 0 and h > 0 and x >= 0 and y >= 0
        assert (w, h) == SIZES[local(nodes[element])]
        shapes[element] = (x, y, w, h)
    assert set(shapes) == set(nodes), "every flow node has exactly one shape"
    assert any(x or y for x, y, _, _ in shapes.values())
    for (a, ra), (b, rb) in itertools.combinations(shapes.items(), 2):
        assert not _overlap(ra, rb), f"{a} and {b} overlap"

    edges: dict[str, list[tuple[float, float]]] = {}
    for edge in plane.findall("bpmndi:BPMNEdge", NS):
        element = edge.get("bpmnElement")
        assert element in flows and element not in edges
        edges[element] = [(float(p.get("x")), float(p.get("y"))) for p in edge.findall("di:waypoint", NS)]
    assert set(edges) == set(flows), "every sequence flow has exactly one edge"
    for flow_id, points in edges.items():
        flow = flows[flow_id]
        assert len(points) >= 2
        assert _on_border(points[0], shapes[flow.get("sourceRef")]), f"{flow_id} leaves its source"
        assert _on_border(points[-1], shapes[flow.get("targetRef")]), f"{flow_id} reaches its target"
        for p, q in itertools.pairwise(points):
            assert p[0] == q[0] or p[1] == q[1], f"{flow_id} is not orthogonal"
            for node_id, rect in shapes.items():
                assert not _crosses(p, q, rect), f"{flow_id} runs through {node_id}"
    return root


def _overlap(a, b) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


def _on_border(p, rect) -> bool:
    x, y, w, h = rect
    on_vertical = p[0] in (x, x + w) and y <= p[1] <= y + h
    on_horizontal = p[1] in (y, y + h) and x <= p[0] <= x + w
    return on_vertical or on_horizontal


def _crosses(p, q, rect) -> bool:
    """Whether segment p-q passes through the open interior of rect."""
    x, y, w, h = rect
    lo_x, hi_x = sorted((p[0], q[0]))
    lo_y, hi_y = sorted((p[1], q[1]))
    if lo_y == hi_y:  # horizontal
        return y < lo_y < y + h and max(lo_x, x) < min(hi_x, x + w)
    return x < lo_x < x + w and max(lo_y, y) < min(hi_y, y + h)
