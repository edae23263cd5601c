"""The documented BPMN 2.0 model of each sample process, with diagram layout.

A model is the process as the organisation *documents* it: the happy path, the
documented choices and loops, and the parallel work.  Rework and deviations
that the generator adds on top ("Reopen", "Re-pack", skipped approvals, ...)
are deliberately absent, so conformance checking finds them.

The XML is written by hand (no DOCTYPE, no external references) in the
``bpmn:`` namespace prefix that bpmn.io and Camunda Modeler use.  The layout is
a left-to-right layered drawing: every flow node gets a ``BPMNShape`` with
``dc:Bounds``, every sequence flow a ``BPMNEdge`` with orthogonal waypoints;
loops are drawn as back edges below the nodes they span.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

__all__ = ["MODELS", "model_xml", "write_model"]


@dataclass(frozen=True)
class _Model:
    name: str
    documentation: str
    # (id, kind, name); kind: start, end, task, xor, and
    nodes: tuple[tuple[str, str, str], ...]
    # (source, target, name); listed so that the first outgoing flow of a split
    # is its main branch (drawn straight on)
    flows: tuple[tuple[str, str, str], ...]
    # task documentation, by task name
    notes: dict[str, str]


_SERVICE_DESK = _Model(
    name="IT service desk (incident management)",
    documentation=(
        "Documented incident process of the IT service desk. Tickets arrive by email, phone, "
        "chat or the self-service portal; the service desk (1st line) triages them and either "
        "resolves them itself or assigns them to a 2nd-line group. The 2nd-line group may ask "
        "the customer for information any number of times. SLA: closed within 5 calendar days. "
        "Not documented (and so found by conformance checking): reopened tickets, tickets passed "
        "between 2nd-line groups, skipped triage."
    ),
    nodes=(
        ("start", "start", "Ticket received"),
        ("created", "task", "Ticket created"),
        ("and_split", "and", ""),
        ("triage", "task", "Triage"),
        ("ack", "task", "Send acknowledgement"),
        ("and_join", "and", ""),
        ("xor_line", "xor", "Solved by 1st line?"),
        ("assign", "task", "Assign to group"),
        ("xor_loop_in", "xor", ""),
        ("investigate", "task", "Investigate"),
        ("xor_info", "xor", "Information missing?"),
        ("request", "task", "Request customer info"),
        ("replied", "task", "Customer replied"),
        ("xor_line_join", "xor", ""),
        ("resolve", "task", "Resolve"),
        ("close", "task", "Close"),
        ("end", "end", "Ticket closed"),
    ),
    flows=(
        ("start", "created", ""),
        ("created", "and_split", ""),
        ("and_split", "triage", ""),
        ("and_split", "ack", ""),
        ("triage", "and_join", ""),
        ("ack", "and_join", ""),
        ("and_join", "xor_line", ""),
        ("xor_line", "assign", "no"),
        ("xor_line", "xor_line_join", "yes"),
        ("assign", "xor_loop_in", ""),
        ("xor_loop_in", "investigate", ""),
        ("investigate", "xor_info", ""),
        ("xor_info", "xor_line_join", "no"),
        ("xor_info", "request", "yes"),
        ("request", "replied", ""),
        ("replied", "xor_loop_in", ""),
        ("xor_line_join", "resolve", ""),
        ("resolve", "close", ""),
        ("close", "end", ""),
    ),
    notes={
        "Ticket created": "Service desk agent logs the call/email/chat; portal tickets are created by the portal.",
        "Send acknowledgement": "Automatic confirmation e-mail from the ITSM system.",
        "Triage": "Service desk agent sets category and priority.",
        "Assign to group": "Service desk agent routes the ticket to the 2nd-line group of its category.",
        "Investigate": "2nd-line group works on the ticket (queue: the bottleneck).",
        "Request customer info": "2nd-line group asks the customer for details.",
        "Customer replied": "The customer answers.",
        "Resolve": "The solver (1st line or 2nd-line group) records the solution.",
        "Close": "Service desk agent closes the ticket after the resolution.",
    },
)

_ORDER_TO_CASH = _Model(
    name="Order to cash (web shop)",
    documentation=(
        "Documented order-to-cash process of the web shop. Phone orders and orders above EUR 1,000 "
        "get a credit check; orders can be cancelled before payment. After payment the warehouse "
        "picks, packs and ships while billing sends the invoice; returns are refunded. "
        "SLA: delivered (or returned and refunded) within 5 calendar days. Not documented: re-packing, "
        "address corrections, invoices before payment, skipped packing."
    ),
    nodes=(
        ("start", "start", "Order received"),
        ("placed", "task", "Order placed"),
        ("xor_credit", "xor", "Credit check needed?"),
        ("credit", "task", "Credit check"),
        ("xor_credit_join", "xor", ""),
        ("xor_cancel", "xor", "Order accepted?"),
        ("cancel", "task", "Cancel order"),
        ("end_cancel", "end", "Order cancelled"),
        ("paid", "task", "Payment received"),
        ("and_split", "and", ""),
        ("pick", "task", "Pick items"),
        ("pack", "task", "Pack"),
        ("ship", "task", "Ship"),
        ("deliver", "task", "Deliver"),
        ("invoice", "task", "Invoice"),
        ("and_join", "and", ""),
        ("xor_return", "xor", "Returned?"),
        ("ret", "task", "Return requested"),
        ("refund", "task", "Refund"),
        ("xor_return_join", "xor", ""),
        ("end", "end", "Order completed"),
    ),
    flows=(
        ("start", "placed", ""),
        ("placed", "xor_credit", ""),
        ("xor_credit", "xor_credit_join", "no"),
        ("xor_credit", "credit", "yes"),
        ("credit", "xor_credit_join", ""),
        ("xor_credit_join", "xor_cancel", ""),
        ("xor_cancel", "paid", "yes"),
        ("xor_cancel", "cancel", "no"),
        ("cancel", "end_cancel", ""),
        ("paid", "and_split", ""),
        ("and_split", "pick", ""),
        ("and_split", "invoice", ""),
        ("pick", "pack", ""),
        ("pack", "ship", ""),
        ("ship", "deliver", ""),
        ("deliver", "and_join", ""),
        ("invoice", "and_join", ""),
        ("and_join", "xor_return", ""),
        ("xor_return", "xor_return_join", "no"),
        ("xor_return", "ret", "yes"),
        ("ret", "refund", ""),
        ("refund", "xor_return_join", ""),
        ("xor_return_join", "end", ""),
    ),
    notes={
        "Order placed": "Web shop, marketplace API or a sales representative (phone orders).",
        "Credit check": "Finance checks phone orders and orders above EUR 1,000.",
        "Cancel order": "Customer service cancels the order (customer request or failed credit check).",
        "Payment received": "Card payments via the payment provider; bank transfers booked by finance.",
        "Pick items": "Warehouse picks the items (queue: the bottleneck).",
        "Pack": "Warehouse packs the parcel.",
        "Ship": "Shipping hands the parcel to the carrier.",
        "Deliver": "The carrier delivers the parcel.",
        "Invoice": "The billing system sends the invoice.",
        "Return requested": "Customer service registers a return.",
        "Refund": "Finance refunds the customer.",
    },
)

_PURCHASE_TO_PAY = _Model(
    name="Purchase to pay (ERP)",
    documentation=(
        "Documented purchase-to-pay process, one case per purchase-order item. The manager approves "
        "the requisition while purchasing selects the vendor; the purchase order is approved before "
        "it is sent. Invoices are verified against the goods receipt (GR-based invoice verification: "
        "goods first, then the invoice) by a three-way match; price differences are resolved by the "
        "buyer and matched again. SLA: paid within 35 calendar days of the requisition. "
        "Not documented: skipped approvals, purchase orders before requisition approval, invoices "
        "before the goods receipt, changed purchase orders."
    ),
    nodes=(
        ("start", "start", "Need identified"),
        ("req", "task", "Create purchase requisition"),
        ("and_split", "and", ""),
        ("approve_req", "task", "Approve requisition"),
        ("select", "task", "Select vendor"),
        ("and_join", "and", ""),
        ("po", "task", "Create purchase order"),
        ("approve_po", "task", "Approve purchase order"),
        ("goods", "task", "Receive goods"),
        ("invoice", "task", "Receive invoice"),
        ("xor_match_in", "xor", ""),
        ("match", "task", "Three-way match"),
        ("xor_match", "xor", "Prices match?"),
        ("resolve", "task", "Resolve price difference"),
        ("pay", "task", "Pay invoice"),
        ("end", "end", "Invoice paid"),
    ),
    flows=(
        ("start", "req", ""),
        ("req", "and_split", ""),
        ("and_split", "approve_req", ""),
        ("and_split", "select", ""),
        ("approve_req", "and_join", ""),
        ("select", "and_join", ""),
        ("and_join", "po", ""),
        ("po", "approve_po", ""),
        ("approve_po", "goods", ""),
        ("goods", "invoice", ""),
        ("invoice", "xor_match_in", ""),
        ("xor_match_in", "match", ""),
        ("match", "xor_match", ""),
        ("xor_match", "pay", "yes"),
        ("xor_match", "resolve", "no"),
        ("resolve", "xor_match_in", ""),
        ("pay", "end", ""),
    ),
    notes={
        "Create purchase requisition": "An employee requests goods or services.",
        "Approve requisition": "The requester's manager approves the budget.",
        "Select vendor": "Purchasing (the buyer owning the vendor) selects the vendor.",
        "Create purchase order": "The buyer creates the purchase order item.",
        "Approve purchase order": "A procurement manager releases the purchase order.",
        "Receive goods": "Goods receipt posted at the plant.",
        "Receive invoice": "Accounts payable registers the vendor invoice.",
        "Three-way match": "Accounts payable matches order, goods receipt and invoice.",
        "Resolve price difference": "The buyer settles the price difference with the vendor.",
        "Pay invoice": "Accounts payable pays in the payment run (queue: the bottleneck).",
    },
)

MODELS = {
    "service_desk": _SERVICE_DESK,
    "order_to_cash": _ORDER_TO_CASH,
    "purchase_to_pay": _PURCHASE_TO_PAY,
}

_TAG = {
    "start": "startEvent",
    "end": "endEvent",
    "task": "task",
    "xor": "exclusiveGateway",
    "and": "parallelGateway",
}
_SIZE = {"start": (36, 36), "end": (36, 36), "task": (100, 80), "xor": (50, 50), "and": (50, 50)}
_COL, _ROW, _X0, _Y0 = 150, 130, 180, 120


def _model(process: str) -> _Model:
    try:
        return MODELS[process]
    except KeyError:
        raise ValueError(f"unknown process {process!r}; expected one of {', '.join(MODELS)}") from None


def _layout(m: _Model) -> tuple[dict[str, tuple[int, int]], set[int]]:
    """Grid position (column, row) of every node, and the indices of back flows."""
    ids = [n[0] for n in m.nodes]
    out: dict[str, list[tuple[int, str]]] = {i: [] for i in ids}
    for k, (s, t, _) in enumerate(m.flows):
        out[s].append((k, t))
    # Back flows: flows to a node that is on the current depth-first path.
    back: set[int] = set()
    state: dict[str, int] = {}

    def visit(v: str) -> None:
        state[v] = 1
        for k, t in out[v]:
            if state.get(t) == 1:
                back.add(k)
            elif t not in state:
                visit(t)
        state[v] = 2

    for v in ids:
        if v not in state:
            visit(v)
    fwd_in: dict[str, list[str]] = {i: [] for i in ids}
    for k, (s, t, _) in enumerate(m.flows):
        if k not in back:
            fwd_in[t].append(s)
    # Columns: longest path from the start over forward flows.
    col: dict[str, int] = {}

    def column(v: str) -> int:
        if v not in col:
            col[v] = 1 + max((column(s) for s in fwd_in[v]), default=-1)
        return col[v]

    for v in ids:
        column(v)
    # Rows: the main branch keeps its row, further branches go below (to the first
    # row that is free between the split and the node); joins take the smallest
    # row among their predecessors.
    row: dict[str, int] = {}
    taken: set[tuple[int, int]] = set()
    for v in sorted(ids, key=lambda i: (col[i], ids.index(i))):
        preds = fwd_in[v]
        lo = col[v]
        if not preds:
            r = 0
        elif len(preds) > 1:
            r = min(row[p] for p in preds)
        else:
            p = preds[0]
            siblings = [t for k, t in out[p] if k not in back]
            r = row[p] + siblings.index(v) if len(siblings) > 1 else row[p]
            if r != row[p]:
                lo = col[p]
        while any((c, r) in taken for c in range(lo, col[v] + 1)):
            r += 1
        row[v] = r
        taken.add((col[v], r))
    return {v: (col[v], row[v]) for v in ids}, back


def model_xml(process: str) -> str:
    """The BPMN 2.0 XML of the documented model of ``process``."""
    m = _model(process)
    pos, back = _layout(m)
    kinds = {i: k for i, k, _ in m.nodes}
    centre = {v: (_X0 + c * _COL, _Y0 + r * _ROW) for v, (c, r) in pos.items()}
    bottom = max(y for _, y in centre.values()) + 40 + 50

    def box(v: str) -> tuple[int, int, int, int]:
        w, h = _SIZE[kinds[v]]
        x, y = centre[v]
        return x - w // 2, y - h // 2, w, h

    flow_ids = [f"Flow_{k + 1}" for k in range(len(m.flows))]
    node_ids = {i: f"{_TAG[k][0].upper()}{_TAG[k][1:]}_{i}" for i, k, _ in m.nodes}
    incoming: dict[str, list[str]] = {i: [] for i in node_ids}
    outgoing: dict[str, list[str]] = {i: [] for i in node_ids}
    for fid, (s, t, _) in zip(flow_ids, m.flows, strict=True):
        outgoing[s].append(fid)
        incoming[t].append(fid)

    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
        'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
        'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" '
        f'id="Definitions_{process}" targetNamespace="http://bpmn.io/schema/bpmn" '
        'exporter="mining.samples" exporterVersion="1.0">',
        f'  <bpmn:process id="Process_{process}" name={quoteattr(m.name)} isExecutable="false">',
        f"    <bpmn:documentation>{escape(m.documentation)}</bpmn:documentation>",
    ]
    for i, kind, name in m.nodes:
        tag = _TAG[kind]
        attrs = f'id="{node_ids[i]}"' + (f" name={quoteattr(name)}" if name else "")
        lines.append(f"    <bpmn:{tag} {attrs}>")
        if kind == "task" and name in m.notes:
            lines.append(f"      <bpmn:documentation>{escape(m.notes[name])}</bpmn:documentation>")
        lines += [f"      <bpmn:incoming>{f}</bpmn:incoming>" for f in incoming[i]]
        lines += [f"      <bpmn:outgoing>{f}</bpmn:outgoing>" for f in outgoing[i]]
        lines.append(f"    </bpmn:{tag}>")
    for fid, (s, t, name) in zip(flow_ids, m.flows, strict=True):
        label = f" name={quoteattr(name)}" if name else ""
        lines.append(
            f'    <bpmn:sequenceFlow id="{fid}"{label} sourceRef="{node_ids[s]}" targetRef="{node_ids[t]}" />'
        )
    lines.append("  </bpmn:process>")
    lines.append('  <bpmndi:BPMNDiagram id="BPMNDiagram_1">')
    lines.append(f'    <bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="Process_{process}">')
    for i, kind, name in m.nodes:
        x, y, w, h = box(i)
        marker = ' isMarkerVisible="true"' if kind == "xor" else ""
        lines.append(f'      <bpmndi:BPMNShape id="{node_ids[i]}_di" bpmnElement="{node_ids[i]}"{marker}>')
        lines.append(f'        <dc:Bounds x="{x}" y="{y}" width="{w}" height="{h}" />')
        if name and kind != "task":
            # external labels: below events, above and to the left of gateways
            lx, ly = (x + w // 2 - 50, y + h + 5) if kind in ("start", "end") else (x - 75, y - 32)
            lines.append("        <bpmndi:BPMNLabel>")
            lines.append(f'          <dc:Bounds x="{lx}" y="{ly}" width="100" height="27" />')
            lines.append("        </bpmndi:BPMNLabel>")
        lines.append("      </bpmndi:BPMNShape>")
    for k, (fid, (s, t, name)) in enumerate(zip(flow_ids, m.flows, strict=True)):
        sx, sy, sw, sh = box(s)
        tx, ty, _tw, th = box(t)
        (scx, scy), (tcx, tcy) = centre[s], centre[t]
        if k in back:  # below everything, back to the left
            pts = [(scx, sy + sh), (scx, bottom), (tcx, bottom), (tcx, ty + th)]
        elif scy == tcy and any(
            pos[v][1] == pos[s][1] and pos[s][0] < pos[v][0] < pos[t][0] for v in pos
        ):  # a bypass over nodes on the same row: route above the row
            above = scy - _ROW // 2
            pts = [(scx, sy), (scx, above), (tcx, above), (tcx, ty)]
        elif scy == tcy:
            pts = [(sx + sw, scy), (tx, tcy)]
        elif kinds[s] in ("xor", "and"):  # leave a split downwards/upwards
            pts = [(scx, sy + sh if tcy > scy else sy), (scx, tcy), (tx, tcy)]
        elif kinds[t] in ("xor", "and"):  # enter a join from below/above
            pts = [(sx + sw, scy), (tcx, scy), (tcx, ty + th if scy > tcy else ty)]
        else:
            mid = (sx + sw + tx) // 2
            pts = [(sx + sw, scy), (mid, scy), (mid, tcy), (tx, tcy)]
        lines.append(f'      <bpmndi:BPMNEdge id="{fid}_di" bpmnElement="{fid}">')
        lines += [f'        <di:waypoint x="{px}" y="{py}" />' for px, py in pts]
        if name:  # next to the start of the flow
            (ax, ay), (bx, by) = pts[0], pts[1]
            lx, ly = (ax + 6, ay + (4 if by > ay else -24)) if ax == bx else (ax + 8, ay - 20)
            lines.append("        <bpmndi:BPMNLabel>")
            lines.append(f'          <dc:Bounds x="{lx}" y="{ly}" width="30" height="14" />')
            lines.append("        </bpmndi:BPMNLabel>")
        lines.append("      </bpmndi:BPMNEdge>")
    lines += ["    </bpmndi:BPMNPlane>", "  </bpmndi:BPMNDiagram>", "</bpmn:definitions>", ""]
    return "\n".join(lines)


def write_model(process: str, path: str | Path) -> Path:
    """Write the documented BPMN 2.0 model of ``process`` to ``path``; returns the path."""
    path = Path(path)
    path.write_text(model_xml(process), encoding="utf-8", newline="\n")
    return path
