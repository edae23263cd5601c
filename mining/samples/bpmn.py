"""The documented BPMN 2.0 model of each sample process, with diagram layout.

A model is the process as the organisation *documents* it: the happy path, the
documented choices and loops, and the parallel work.  Rework and deviations
that the generator adds on top ("Reopen", "Re-pack", skipped approvals, ...)
are deliberately absent, so conformance checking finds them.

The XML is written by the package's one BPMN writer
(:func:`mining.models.bpmn.to_xml`): no DOCTYPE, no external references, the
``bpmn:`` namespace prefix that bpmn.io and Camunda Modeler use, and its
layered left-to-right layout, where no two shapes overlap and no flow crosses
a shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mining.models.bpmn import BpmnGraph, FlowNode, to_xml

__all__ = ["MODELS", "SampleModel", "model_xml", "write_model"]


@dataclass(frozen=True)
class SampleModel:
    """A documented model: its nodes, its flows and the words that document them."""

    name: str
    documentation: str
    # (id, kind, name); kind: start, end, task, xor, and
    nodes: tuple[tuple[str, str, str], ...]
    # (source, target, name)
    flows: tuple[tuple[str, str, str], ...]
    # task documentation, by task name
    notes: dict[str, str]


_SERVICE_DESK = SampleModel(
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

_ORDER_TO_CASH = SampleModel(
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

_PURCHASE_TO_PAY = SampleModel(
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


def _model(process: str) -> SampleModel:
    try:
        return MODELS[process]
    except KeyError:
        raise ValueError(f"unknown process {process!r}; expected one of {', '.join(MODELS)}") from None


def model_xml(process: str) -> str:
    """The BPMN 2.0 XML of the documented model of ``process``."""
    m = _model(process)
    key = {node_id: k for k, (node_id, _, _) in enumerate(m.nodes)}
    nodes = tuple(
        FlowNode(
            key[node_id],
            _TAG[kind],
            name,
            documentation=m.notes.get(name, "") if kind == "task" else "",
            element_id=f"{_TAG[kind][0].upper()}{_TAG[kind][1:]}_{node_id}",
        )
        for node_id, kind, name in m.nodes
    )
    graph = BpmnGraph(
        nodes, tuple((key[s], key[t]) for s, t, _ in m.flows), tuple(name for _, _, name in m.flows)
    )
    return to_xml(graph, name=m.name, documentation=m.documentation)


def write_model(process: str, path: str | Path) -> Path:
    """Write the documented BPMN 2.0 model of ``process`` to ``path``; returns the path."""
    path = Path(path)
    path.write_text(model_xml(process), encoding="utf-8", newline="\n")
    return path
