"""A deterministic object-centric sample log: a web shop's order management in OCEL 2.0 JSON.

Shaped after the standard's own example (ocel-standard.org, "order management"),
with every object-centric effect a flattening has to own up to:

* **orders** hold one to five **items** of the shop's **products**, and belong
  to a **customer**;
* an order is placed (touching the order, its items, the customer and the
  products), confirmed by a sales clerk, its items picked one by one by a
  warehouse clerk (so "pick item" repeats within an order: divergence), and
  paid, sometimes only after a payment reminder;
* a warehouse clerk packs the items of one customer's picked orders into one
  **package** (so "create package" touches items of several orders:
  convergence on items), which is sent and delivered, or fails delivery first;
* **employees** do the work; they are people, never the default case.

Times are UTC, in working hours, over the first quarter of 2026.  The same
seed gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

__all__ = ["OCEL_SAMPLE_ORDERS", "order_management", "write_ocel"]

#: Orders in the committed sample ``sample_logs/order_management.jsonocel``.
OCEL_SAMPLE_ORDERS = 600

_START = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.UTC)
_PRODUCTS = ("iPhone 15", "Galaxy S24", "Pixel 8", "MacBook Air", "ThinkPad X1", "AirPods", "Kindle", "iPad")
_PRICES = (999.0, 899.0, 699.0, 1299.0, 1499.0, 199.0, 149.0, 599.0)
_SALES = ("Ana Silva", "Ben Okafor", "Chloé Martin")
_WAREHOUSE = ("Dara Novak", "Emil Berg", "Fatima Zahra", "Gus Ortega")
_SHIPPERS = ("Hana Sato", "Ivo Petrov")


def _working(at: dt.datetime) -> dt.datetime:
    """``at``, or a moment of the next working hour (Monday to Friday, 08:00-18:00 UTC).

    Work held over starts within the first hour, at the minute and second it
    was due: steps of one order held over the same night do not share a second.
    """
    while True:
        if at.weekday() >= 5:
            at = (at + dt.timedelta(days=7 - at.weekday())).replace(hour=8)
        elif at.hour < 8:
            at = at.replace(hour=8)
        elif at.hour >= 18:
            at = (at + dt.timedelta(days=1)).replace(hour=8)
        else:
            return at


def _after(at: dt.datetime, hours: float) -> dt.datetime:
    """The next working moment ``hours`` (and a minute, so that no two steps share a second) after ``at``."""
    return _working(at + dt.timedelta(minutes=1, hours=hours))


def _iso(at: dt.datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def order_management(orders: int = OCEL_SAMPLE_ORDERS, seed: int = 0) -> dict[str, object]:
    """The sample as an OCEL 2.0 JSON document (a dict, ready for ``json.dump``)."""
    rng = random.Random(seed)
    objects: list[dict[str, object]] = []
    events: list[tuple[dt.datetime, str, list[tuple[str, str]], list[dict[str, object]]]] = []

    def link(*pairs: tuple[str, str]) -> list[tuple[str, str]]:
        return list(pairs)

    customers = [f"cust-{k:03d}" for k in range(1, orders // 4 + 2)]
    for c in customers:
        objects.append({"id": c, "type": "customers", "attributes": []})
    for k, (name, price) in enumerate(zip(_PRODUCTS, _PRICES, strict=True)):
        objects.append(
            {
                "id": name,
                "type": "products",
                "attributes": [{"name": "price", "time": "1970-01-01T00:00:00Z", "value": price}],
                "relationships": [],
            }
        )
        del k
    for name in (*_SALES, *_WAREHOUSE, *_SHIPPERS):
        role = "sales" if name in _SALES else "warehouse" if name in _WAREHOUSE else "shipping"
        objects.append(
            {
                "id": name,
                "type": "employees",
                "attributes": [{"name": "role", "time": "1970-01-01T00:00:00Z", "value": role}],
            }
        )

    picked: dict[str, list[tuple[dt.datetime, list[str]]]] = {}
    item_no = 0
    at = _START
    for n in range(1, orders + 1):
        order = f"o-{n:05d}"
        customer = rng.choice(customers)
        at = _after(at, rng.expovariate(1 / 0.7))
        count = rng.choices((1, 2, 3, 4, 5), weights=(35, 30, 18, 10, 7))[0]
        lines = []
        for _ in range(count):
            item_no += 1
            product = rng.randrange(len(_PRODUCTS))
            lines.append((f"i-{item_no:06d}", _PRODUCTS[product]))
        value = sum(_PRICES[_PRODUCTS.index(p)] for _, p in lines)
        objects.append(
            {
                "id": order,
                "type": "orders",
                "attributes": [
                    {"name": "price", "time": _iso(at), "value": round(value, 2)},
                    {
                        "name": "channel",
                        "time": _iso(at),
                        "value": rng.choice(("web", "web", "web", "app", "phone")),
                    },
                ],
                "relationships": [{"objectId": i, "qualifier": "comprises"} for i, _ in lines]
                + [{"objectId": customer, "qualifier": "placed by"}],
            }
        )
        for item, product in lines:
            objects.append(
                {
                    "id": item,
                    "type": "items",
                    "attributes": [],
                    "relationships": [{"objectId": product, "qualifier": "is a"}],
                }
            )
        events.append(
            (
                at,
                "place order",
                link((order, "order"), (customer, "customer"), *[(i, "item") for i, _ in lines])
                + [(p, "product") for p in sorted({p for _, p in lines})],
                [],
            )
        )
        confirm = _after(at, rng.expovariate(1 / 6))
        events.append((confirm, "confirm order", link((order, "order"), (rng.choice(_SALES), "clerk")), []))
        clerk = rng.choice(_WAREHOUSE)
        pick = confirm
        for item, _ in lines:
            # A backlog before picking: the wait is the bottleneck of this shop.
            pick = _after(pick, rng.expovariate(1 / (10 if item == lines[0][0] else 0.4)))
            events.append((pick, "pick item", link((item, "item"), (order, "order"), (clerk, "picker")), []))
        picked.setdefault(customer, []).append((pick, [i for i, _ in lines]))
        paid = _after(confirm, rng.expovariate(1 / 30))
        if rng.random() < 0.18:
            reminder = _after(confirm, 24 * 7)
            events.append((reminder, "payment reminder", link((order, "order")), []))
            paid = _after(reminder, rng.expovariate(1 / 40))
        events.append(
            (
                paid,
                "pay order",
                link((order, "order")),
                [{"name": "method", "value": rng.choice(("card", "card", "invoice", "paypal"))}],
            )
        )

    package_no = 0
    for customer in customers:
        queue = sorted(picked.get(customer, []))
        while queue:
            # A customer's orders picked within two days of each other ship together.
            first = queue[0][0]
            batch = [q for q in queue if q[0] - first <= dt.timedelta(days=2)]
            queue = queue[len(batch) :]
            package_no += 1
            package = f"p-{package_no:05d}"
            items = [i for _, group in batch for i in group]
            objects.append(
                {
                    "id": package,
                    "type": "packages",
                    "attributes": [
                        {
                            "name": "weight",
                            "time": "1970-01-01T00:00:00Z",
                            "value": round(0.4 + 0.6 * len(items), 1),
                        }
                    ],
                }
            )
            packer = rng.choice(_WAREHOUSE)
            made = _after(max(p for p, _ in batch), rng.expovariate(1 / 3))
            events.append(
                (
                    made,
                    "create package",
                    link((package, "package"), (packer, "packer"), *[(i, "item") for i in items]),
                    [],
                )
            )
            shipper = rng.choice(_SHIPPERS)
            sent = _after(made, rng.expovariate(1 / 8))
            events.append((sent, "send package", link((package, "package"), (shipper, "shipper")), []))
            arrive = _after(sent, 18 + rng.expovariate(1 / 20))
            if rng.random() < 0.08:
                events.append(
                    (arrive, "failed delivery", link((package, "package"), (shipper, "shipper")), [])
                )
                arrive = _after(arrive, 24)
            events.append((arrive, "package delivered", link((package, "package"), (shipper, "shipper")), []))

    events.sort(key=lambda e: (e[0], e[1]))
    event_types = sorted({name for _, name, _, _ in events})
    return {
        "objectTypes": [
            {
                "name": "orders",
                "attributes": [{"name": "price", "type": "float"}, {"name": "channel", "type": "string"}],
            },
            {"name": "items", "attributes": []},
            {"name": "packages", "attributes": [{"name": "weight", "type": "float"}]},
            {"name": "customers", "attributes": []},
            {"name": "products", "attributes": [{"name": "price", "type": "float"}]},
            {"name": "employees", "attributes": [{"name": "role", "type": "string"}]},
        ],
        "eventTypes": [
            {"name": t, "attributes": [{"name": "method", "type": "string"}] if t == "pay order" else []}
            for t in event_types
        ],
        "objects": objects,
        "events": [
            {
                "id": f"e-{k:06d}",
                "type": name,
                "time": _iso(at),
                "attributes": attributes,
                "relationships": [{"objectId": o, "qualifier": q} for o, q in links],
            }
            for k, (at, name, links, attributes) in enumerate(events, start=1)
        ],
    }


def write_ocel(path: str | Path, *, orders: int = OCEL_SAMPLE_ORDERS, seed: int = 0) -> Path:
    """Write :func:`order_management` as OCEL 2.0 JSON (one line per event and object: stable, diffable bytes)."""
    path = Path(path)
    doc = order_management(orders, seed)
    parts = ["{"]
    keys = list(doc)
    for k, key in enumerate(keys):
        rows = doc[key]
        assert isinstance(rows, list)
        body = ",\n".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in rows)
        parts.append(f'"{key}":[\n{body}\n]' + ("," if k < len(keys) - 1 else ""))
    parts.append("}")
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return path
