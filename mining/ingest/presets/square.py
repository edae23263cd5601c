"""Square's Orders API JSON (plus Refunds and Payments) as an event log.

Input: the JSON the APIs return, one document or several in a folder/zip:
``{"orders": [...]}`` (SearchOrders), ``{"refunds": [...]}`` (ListPaymentRefunds),
``{"payments": [...]}`` (ListPayments), or a bare list of any of them.  One
case per order ``id``; the events are the order's lifecycle timestamps:

==========================================  ====================
where                                       event
==========================================  ====================
``created_at``                              Order created
``fulfillments[].*_details.placed_at``      Fulfillment placed
``pickup_details.accepted_at``,             Fulfillment accepted
``shipment_details.in_progress_at``
``pickup_details.ready_at``,                Ready
``shipment_details.packaged_at``,
``delivery_details.ready_at``
``pickup_details.picked_up_at``             Picked up
``shipment_details.shipped_at``             Shipped
``delivery_details.in_progress_at``         Out for delivery
``delivery_details.delivered_at``           Delivered
``*_details.rejected_at`` / ``canceled_at`` Fulfillment rejected / canceled
``pickup_details.expired_at``               Fulfillment expired
``shipment_details.failed_at``              Shipment failed
``closed_at`` with state COMPLETED          Order closed
``closed_at`` with state CANCELED           Canceled
refund ``created_at``                       Refunded (Refund rejected / failed)
==========================================  ====================

A closed or canceled order without ``closed_at`` is closed at ``updated_at``
(counted in the notes).  Refunds come from the orders' own ``refunds[]`` and
from refund documents; a refund is joined to its order by ``order_id``, else
through its ``payment_id``: the payment's ``order_id`` (payments document), or
the order whose ``tenders[]`` carry that payment.  Refunds of orders that are
not in the export are left out and named in the notes.  Timestamps are
RFC 3339 (``2024-01-05T15:32:11.123Z``) and written out in UTC.
"""

from __future__ import annotations

from typing import Any

from mining.errors import BadExport, BadTimestamp, MissingColumn
from mining.ingest.presets.base import ISO, SOURCE_ROW, EventTable, Preset, PresetOptions, RawExport, pl

__all__ = ["PRESET", "build", "detect"]

_DETAILS = {
    "pickup_details": (
        ("placed_at", "Fulfillment placed"),
        ("accepted_at", "Fulfillment accepted"),
        ("ready_at", "Ready"),
        ("picked_up_at", "Picked up"),
        ("rejected_at", "Fulfillment rejected"),
        ("expired_at", "Fulfillment expired"),
        ("canceled_at", "Fulfillment canceled"),
    ),
    "shipment_details": (
        ("placed_at", "Fulfillment placed"),
        ("in_progress_at", "Fulfillment accepted"),
        ("packaged_at", "Ready"),
        ("shipped_at", "Shipped"),
        ("failed_at", "Shipment failed"),
        ("canceled_at", "Fulfillment canceled"),
    ),
    "delivery_details": (
        ("placed_at", "Fulfillment placed"),
        ("ready_at", "Ready"),
        ("in_progress_at", "Out for delivery"),
        ("delivered_at", "Delivered"),
        ("rejected_at", "Fulfillment rejected"),
        ("canceled_at", "Fulfillment canceled"),
    ),
}
_CLOSING = {"COMPLETED": "Order closed", "CANCELED": "Canceled"}
_REFUND_ACTIVITY = {"REJECTED": "Refund rejected", "FAILED": "Refund failed"}
_ORDER_KEYS = ("location_id", "line_items", "fulfillments", "tenders", "state", "total_money")
_STATES = {"OPEN", "COMPLETED", "CANCELED", "DRAFT"}
_EXAMPLE = "2024-01-05T15:32:11.123Z"
_OUT = "%Y-%m-%dT%H:%M:%S%.fZ"


def detect(raw: RawExport) -> float:
    """Orders with Square's keys score high; refunds or payments alone are not enough.

    Other shops' order JSON (Shopify's API) shares ``id``, ``created_at`` and
    ``line_items``; Square's money objects, tenders and order states are what
    only Square writes, so without them the score stays below 0.5.
    """
    best = 0.0
    for key, doc in raw.documents.items():
        for kind, _, items in _lists(key, doc):
            sample = [x for x in items[:50] if isinstance(x, dict)]
            if not sample:
                continue
            if kind != "orders":
                best = max(best, 0.3)
                continue
            present = sum(any(k in x for x in sample) for k in _ORDER_KEYS) / len(_ORDER_KEYS)
            dated = sum("created_at" in x for x in sample) / len(sample)
            square = any(k in x for x in sample for k in ("total_money", "net_amounts", "tenders")) or any(
                str(x.get("state", "")).upper() in _STATES for x in sample
            )
            score = (0.3 if dated >= 0.5 else 0.0) + 0.7 * present
            best = max(best, round(score if square else min(score, 0.4), 3))
    return best


def _lists(key: str, doc: object) -> list[tuple[str, str, list[Any]]]:
    """(kind, JSON path prefix, items) for each list of orders, refunds or payments in a document."""
    if isinstance(doc, dict):
        return [(k, k, v) for k in ("orders", "refunds", "payments") if isinstance(v := doc.get(k), list)]
    if isinstance(doc, list):
        first = next((x for x in doc if isinstance(x, dict)), {})
        if "payment_id" in first or "refund" in key.lower():
            kind = "refunds"
        elif "order_id" in first or "payment" in key.lower():
            kind = "payments"
        else:
            kind = "orders"
        return [(kind, "", doc)]
    return []


def build(raw: RawExport, options: PresetOptions) -> EventTable:
    """One event per lifecycle timestamp of each order (see the module docstring)."""
    del options  # RFC 3339 values carry their offset
    orders, refunds, payments = _collect(raw)
    if not orders:
        found = ", ".join(repr(k) for k in raw.documents) or "none"
        msg = (
            f"{raw.file}: not a Square orders export: no list under the key 'orders' (nor a list of orders) "
            f"in any JSON document; documents: {found}"
        )
        raise MissingColumn(msg)
    rows: list[dict[str, Any]] = []
    attrs: dict[str, dict[str, str | None]] = {}
    embedded: list[tuple[str, str, Any, str]] = []
    case_of_payment: dict[str, str] = {}
    fallbacks = 0
    latest, repeated = _latest_versions(orders)
    for where, path, order in latest:
        case = order["id"]
        fallbacks += _order_events(where, path, order, case, len(attrs), rows)
        attrs[case] = _order_attributes(order)
        for tender in order.get("tenders") or []:
            for key in ("payment_id", "id"):
                if isinstance(tender, dict) and isinstance(tender.get(key), str):
                    case_of_payment.setdefault(tender[key], case)
        for j, refund in enumerate(order.get("refunds") or []):
            embedded.append((where, f"{path}.refunds[{j}]", refund, case))
    for _, _, payment in payments:
        if (
            isinstance(payment, dict)
            and isinstance(payment.get("id"), str)
            and payment.get("order_id") in attrs
        ):
            case_of_payment[payment["id"]] = payment["order_id"]
    order_index = {case: i for i, case in enumerate(attrs)}
    joined, via_payment, left_out = _refund_events(embedded, refunds, order_index, case_of_payment, rows)
    frame = _frame(rows, attrs)
    notes = [f"orders: {len(attrs)}, events: {frame.height}"]
    if repeated:
        notes.append(
            f"orders that appear more than once: {len(repeated)} ({', '.join(repeated[:5])}); the copy with the "
            "highest version (then latest updated_at) is used"
        )
    if fallbacks:
        notes.append(
            f"closed or canceled orders without closed_at, closed at their updated_at instead: {fallbacks}"
        )
    if joined:
        notes.append(
            f"refunds joined to their orders: {joined} ({via_payment} of them through their payment)"
        )
    if left_out:
        shown = ", ".join(left_out[:5]) + (" …" if len(left_out) > 5 else "")
        notes.append(f"refunds of orders that are not in this export, left out: {len(left_out)} ({shown})")
    return EventTable(
        frame=frame,
        roles={"case": "case_id", "activity": "activity", "timestamp": "timestamp", "resource": None},
        timestamp_format=ISO,
        notes=tuple(notes),
    )


def _where(raw: RawExport, key: str) -> str:
    if key in raw.sources:
        return raw.sources[key]
    return raw.file if key == "main" or len(raw.documents) == 1 else f"{raw.file}/{key}"


def _collect(raw: RawExport) -> tuple[list[tuple[str, str, Any]], ...]:
    """(where, JSON path, object) of every order, refund and payment, in document order."""
    found: dict[str, list[tuple[str, str, Any]]] = {"orders": [], "refunds": [], "payments": []}
    for key, doc in raw.documents.items():
        where = _where(raw, key)
        for kind, prefix, items in _lists(key, doc):
            found[kind] += [(where, f"{prefix}[{i}]", item) for i, item in enumerate(items)]
    return found["orders"], found["refunds"], found["payments"]


def _latest_versions(orders: list[tuple[str, str, Any]]) -> tuple[list[tuple[str, str, Any]], list[str]]:
    """Each order once, at its first position; overlapping exports repeat orders at newer versions."""
    chosen: dict[str, tuple[str, str, Any]] = {}
    repeated: list[str] = []
    for where, path, order in orders:
        case = _order_id(where, path, order)
        if case not in chosen:
            chosen[case] = (where, path, order)
            continue
        repeated.append(case)
        old = chosen[case][2]
        if (order.get("version") or 0, order.get("updated_at") or "") > (
            old.get("version") or 0,
            old.get("updated_at") or "",
        ):
            chosen[case] = (where, path, order)
    return list(chosen.values()), repeated


def _order_id(where: str, path: str, order: object) -> str:
    if not isinstance(order, dict):
        msg = f"{where}: {path}: expected an order object, got {type(order).__name__}"
        raise BadExport(msg)
    if "id" not in order:
        msg = f"{where}: {path}: expected key 'id' (the order id), but the order has none"
        raise BadExport(msg)
    value = order["id"]
    if not isinstance(value, str) or not value.strip():
        msg = f"{where}: {path}.id: expected the order id (text), got {value!r}"
        raise BadExport(msg)
    return value


def _event(rows: list[dict[str, Any]], where: str, path: str, value: object, **fields: Any) -> None:
    if value is None or value == "":
        return
    if not isinstance(value, str):
        msg = f"{where}: {path}: expected an RFC 3339 timestamp like {_EXAMPLE!r}, got {value!r}"
        raise BadTimestamp(msg)
    rows.append({"_where": where, SOURCE_ROW: f"{where}: {path}", "_path": path, "_raw": value, **fields})


def _order_events(
    where: str, path: str, order: dict[str, Any], case: str, index: int, rows: list[dict[str, Any]]
) -> int:
    """Append the order's events to ``rows``; returns 1 when the closing time fell back to updated_at."""
    base = {"case_id": case, "_order": index}
    if not order.get("created_at"):
        msg = f"{where}: {path}: expected key 'created_at' (when the order was created), got none"
        raise BadExport(msg)
    _event(rows, where, f"{path}.created_at", order["created_at"], activity="Order created", _rank=0, **base)
    for j, fulfillment in enumerate(order.get("fulfillments") or []):
        if not isinstance(fulfillment, dict):
            continue
        for details, stamps in _DETAILS.items():
            block = fulfillment.get(details)
            if not isinstance(block, dict):
                continue
            for rank, (key, activity) in enumerate(stamps, start=1):
                _event(
                    rows,
                    where,
                    f"{path}.fulfillments[{j}].{details}.{key}",
                    block.get(key),
                    activity=activity,
                    _rank=rank,
                    **base,
                )
    activity = _CLOSING.get(str(order.get("state", "")).upper())
    if activity is None:
        return 0
    key = "closed_at" if order.get("closed_at") else "updated_at"
    if not order.get(key):
        msg = f"{where}: {path}: the order is {order['state']} but has no 'closed_at' (nor 'updated_at')"
        raise BadExport(msg)
    _event(rows, where, f"{path}.{key}", order[key], activity=activity, _rank=9, **base)
    return int(key == "updated_at")


def _order_attributes(order: dict[str, Any]) -> dict[str, str | None]:
    money = order.get("total_money") if isinstance(order.get("total_money"), dict) else {}
    items = [x for x in order.get("line_items") or [] if isinstance(x, dict)]
    kinds = [f.get("type") for f in order.get("fulfillments") or [] if isinstance(f, dict) and f.get("type")]
    source = order.get("source") if isinstance(order.get("source"), dict) else {}
    return {
        "state": _text(order.get("state")),
        "location_id": _text(order.get("location_id")),
        "source": _text(source.get("name")),
        "total_money": _text(money.get("amount")),
        "currency": _text(money.get("currency")),
        "line_items": str(len(items)),
        "line_item_names": "; ".join(str(x.get("name", "")) for x in items) or None,
        "fulfillment_type": _text(kinds[0]) if kinds else None,
    }


def _text(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


def _refund_events(
    embedded: list[tuple[str, str, Any, str]],
    refunds: list[tuple[str, str, Any]],
    order_index: dict[str, int],
    case_of_payment: dict[str, str],
    rows: list[dict[str, Any]],
) -> tuple[int, int, list[str]]:
    """Append one event per refund; returns (joined, joined through a payment, left-out paths)."""
    joined = via_payment = 0
    left_out: list[str] = []
    seen: set[str] = set()
    # The refunds API's own record carries the status and the order: it wins over the order's copy.
    candidates = [(w, p, r, None) for w, p, r in refunds] + list(embedded)
    for where, path, refund, case in candidates:
        if not isinstance(refund, dict):
            msg = f"{where}: {path}: expected a refund object, got {type(refund).__name__}"
            raise BadExport(msg)
        rid = refund.get("id")
        if isinstance(rid, str) and rid in seen:
            continue
        if isinstance(rid, str):
            seen.add(rid)
        if case is None and refund.get("order_id") in order_index:
            case = refund["order_id"]
        elif case is None and refund.get("payment_id") in case_of_payment:
            case, via_payment = case_of_payment[refund["payment_id"]], via_payment + 1
        if case is None:
            left_out.append(f"{where}: {path}")
            continue
        if not refund.get("created_at"):
            msg = f"{where}: {path}: expected key 'created_at' (when the refund was made), got none"
            raise BadExport(msg)
        status = _text(refund.get("status"))
        money = refund.get("amount_money") if isinstance(refund.get("amount_money"), dict) else {}
        _event(
            rows,
            where,
            f"{path}.created_at",
            refund["created_at"],
            activity=_REFUND_ACTIVITY.get(str(status).upper(), "Refunded"),
            _rank=10,
            case_id=case,
            _order=order_index[case],
            refund_status=status,
            refund_amount=_text(money.get("amount")),
        )
        joined += 1
    return joined, via_payment, left_out


def _frame(rows: list[dict[str, Any]], attrs: dict[str, dict[str, str | None]]) -> pl.DataFrame:
    events = pl.DataFrame(
        rows,
        schema={
            "case_id": pl.Utf8,
            "activity": pl.Utf8,
            "_raw": pl.Utf8,
            "_where": pl.Utf8,
            SOURCE_ROW: pl.Utf8,
            "_path": pl.Utf8,
            "_order": pl.Int64,
            "_rank": pl.Int64,
            "refund_status": pl.Utf8,
            "refund_amount": pl.Utf8,
        },
    )
    # chrono's %z reads offsets but not Z, which RFC 3339 allows for UTC.
    text = pl.col("_raw").str.strip_chars().str.replace(r"[Zz]$", "+00:00")
    events = events.with_columns(
        text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%z", strict=False, time_unit="us", time_zone="UTC").alias(
            "_ts"
        )
    )
    bad = events.filter(pl.col("_ts").is_null())
    if bad.height:
        first = bad.row(0, named=True)
        msg = (
            f"{first['_where']}: {first['_path']}: expected an RFC 3339 timestamp like {_EXAMPLE!r}, "
            f"got {first['_raw']!r}"
        )
        raise BadTimestamp(msg)
    table = pl.DataFrame(
        [{"case_id": case, **values} for case, values in attrs.items()],
        schema={"case_id": pl.Utf8, **dict.fromkeys(next(iter(attrs.values())), pl.Utf8)},
    )
    events = events.sort("_order", "_ts", "_rank", maintain_order=True).join(
        table, on="case_id", how="left", maintain_order="left"
    )
    events = events.with_columns(pl.col("_ts").dt.strftime(_OUT).alias("timestamp"))
    head = ["case_id", "activity", "timestamp"]
    tail = ["refund_status", "refund_amount", SOURCE_ROW]
    events = events.select(head + [c for c in table.columns if c != "case_id"] + tail)
    # Orders without fulfillments or refunds would otherwise carry empty attributes.
    return events.select(c for c in events.columns if c in head or events[c].null_count() < events.height)


PRESET = Preset(
    name="square",
    title="Square (Orders API JSON, with refunds)",
    description=(
        "Square's Orders API JSON (with Refunds and Payments when exported): one case per order id, events "
        "Order created, Fulfillment accepted, Ready, Picked up, Order closed or Canceled, and Refunded."
    ),
    detect=detect,
    build=build,
)
