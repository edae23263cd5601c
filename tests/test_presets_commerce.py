"""The point-of-sale and ERP presets: Shopify, Square, SAP purchase-to-pay and Odoo (issue #7).

Each preset is checked on a small realistic export under ``tests/files/presets/<system>/``:
the exact event log it builds (cases, activities, timestamps, resources, key
attributes, notes), the exact message of each kind of bad export, its
detection score against every other fixture and plain logs, and the events
stored after a full ``ingest_file`` (timestamps in UTC).  The sample
generator's raw shapes close the loop: generate, write as Shopify / SAP,
ingest through the preset, and compare with the generated events.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mining.errors import BadExport, BadTimestamp, EmptyLog, MissingColumn
from mining.ingest import IngestOptions, ingest_file
from mining.ingest.presets import odoo, sap, shopify, square
from mining.ingest.presets.base import ISO, PresetOptions, RawExport
from mining.ingest.presets.raw import export_kind, read_export
from mining.ingest.staging import frame_from_stage, stage_file
from mining.samples import generate
from mining.samples.raw_shapes import (
    PROJECTIONS,
    SAP_TIMEZONE,
    sap_tables,
    sap_user,
    shopify_orders,
    write_sap_tables,
    write_shopify_orders,
)
from tests.conftest import FILES, SAMPLE_LOGS

PRESETS = FILES / "presets"
INGEST = FILES / "ingest"
ROLES = {"case": "case_id", "activity": "activity", "timestamp": "timestamp"}
UTC = dt.UTC


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=UTC)


def csv_export(path: Path, name: str | None = None) -> RawExport:
    """A single CSV as the ingest hands it to a preset: one table called "main"."""
    name = name or path.name
    return RawExport(
        file=name, tables={"main": pl.read_csv(path, infer_schema=False)}, sources={"main": name}
    )


def json_export(path: Path) -> RawExport:
    return RawExport(
        file=path.name, documents={"main": json.loads(path.read_text())}, sources={"main": path.name}
    )


def folder_export(store, tmp_path: Path, path: Path) -> RawExport:
    return read_export(store, path, tmp_path / "work", file=path.name)


def events(table, *columns: str) -> list[tuple]:
    return table.frame.select(columns or ("case_id", "activity", "timestamp")).rows()


def stored(store, log_id: int) -> list[tuple]:
    return store.query(
        "SELECT case_id, activity, ts, resource FROM events WHERE log_id = ? ORDER BY case_id, ts, row_no",
        [log_id],
    ).rows


def copy_tree(src: Path, dst: Path, edits: dict[str, tuple[str, str]] | None = None) -> Path:
    """A copy of a fixture folder with one text replacement per file (first occurrence only)."""
    shutil.copytree(src, dst)
    for name, (old, new) in (edits or {}).items():
        path = dst / name
        text = path.read_text()
        assert old in text, (name, old)
        path.write_text(text.replace(old, new, 1))
    return dst


# =========================================================================== Shopify

SHOPIFY = PRESETS / "shopify" / "orders_export.csv"

SHOPIFY_EVENTS = [
    ("#1001", "Order placed", "2024-01-05T15:32:11Z"),
    ("#1001", "Paid", "2024-01-05T15:32:14Z"),
    ("#1001", "Fulfilled", "2024-01-06T19:05:40Z"),
    ("#1002", "Order placed", "2024-01-05T21:47:55Z"),
    ("#1002", "Paid", "2024-01-05T21:48:02Z"),
    ("#1003", "Order placed", "2024-01-06T14:02:37Z"),
    ("#1003", "Paid", "2024-01-06T14:02:41Z"),
    ("#1003", "Cancelled", "2024-01-07T14:15:00Z"),
    ("#1003", "Refunded", "2024-01-07T14:15:00Z"),
    ("#1004", "Order placed", "2024-01-08T16:19:58Z"),
    ("#1004", "Paid", "2024-01-08T16:20:09Z"),
    ("#1004", "Fulfilled", "2024-01-09T13:45:00Z"),
    ("#1004", "Refunded", "2024-01-09T13:45:00Z"),
    ("#1005", "Order placed", "2024-01-10T00:01:12Z"),
    ("#1005", "Cancelled", "2024-01-10T13:30:45Z"),
    # Created at -0500 (winter), paid at -0400 after the US spring-forward: 96 s apart.
    ("#1006", "Order placed", "2024-03-10T06:59:30Z"),
    ("#1006", "Paid", "2024-03-10T07:01:06Z"),
    ("#1006", "Fulfilled", "2024-03-11T16:00:00Z"),
]


def test_shopify_pivots_each_order_into_its_events():
    table = shopify.build(csv_export(SHOPIFY), PresetOptions())
    assert events(table) == SHOPIFY_EVENTS
    assert dict(table.roles) == {**ROLES, "resource": None}
    assert table.timestamp_format == ISO
    assert table.timezone is None
    assert table.notes == (
        "9 rows read: 3 line-item rows merged into their orders, 6 orders (one per 'Name')",
        "orders with a refunded amount above 0: 2; Shopify's export has no refund time, so the Refunded event "
        "is placed at 'Cancelled at' for 1 (cancelled orders) and at the order's latest known time for 1: an "
        "approximation, not the refund's real time",
    )


def test_shopify_case_attributes_come_from_all_rows_of_the_order():
    frame = shopify.build(csv_export(SHOPIFY), PresetOptions()).frame
    assert frame.columns == [
        "case_id",
        "activity",
        "timestamp",
        "financial_status",
        "fulfillment_status",
        "total",
        "currency",
        "refunded_amount",
        "email",
        "line_items",
        "line_item_names",
        "source_row",
    ]
    first = frame.row(0, named=True)
    assert first == {
        "case_id": "#1001",
        "activity": "Order placed",
        "timestamp": "2024-01-05T15:32:11Z",
        "financial_status": "paid",
        "fulfillment_status": "fulfilled",
        "total": "65.36",
        "currency": "USD",
        "refunded_amount": "0.00",
        "email": "maria.lopez@example.com",
        "line_items": "2",
        "line_item_names": "Cotton Tee - Black / M; Canvas Tote",
        "source_row": "orders_export.csv row 1, column 'Created at'",
    }
    refund = frame.filter(pl.col("case_id") == "#1003", pl.col("activity") == "Refunded").row(0, named=True)
    assert (refund["line_items"], refund["line_item_names"], refund["refunded_amount"]) == (
        "3",
        "Hoodie - Navy / L; Cotton Tee - White / L; Sticker Pack",
        "86.40",
    )
    assert refund["source_row"] == "orders_export.csv row 4, column 'Refunded Amount'"


def test_shopify_uses_a_refund_time_column_when_the_export_has_one():
    df = pl.read_csv(SHOPIFY, infer_schema=False)
    refunded_at = pl.when(pl.col("Name") == "#1004").then(
        pl.col("Fulfilled at").str.replace("08:45:00", "17:02:09")
    )
    df = df.with_columns(refunded_at.alias("Refunded at"))
    raw = RawExport(file="orders_export.csv", tables={"main": df})
    table = shopify.build(raw, PresetOptions())
    refunds = [e for e in events(table) if e[1] == "Refunded"]
    # #1004 has the column filled: its time; #1003 has none there: its cancellation.
    assert refunds == [
        ("#1003", "Refunded", "2024-01-07T14:15:00Z"),
        ("#1004", "Refunded", "2024-01-09T22:02:09Z"),
    ]
    assert table.notes[-1] == (
        "orders with a refunded amount above 0: 2; Shopify's export has no refund time, so the Refunded event "
        "is placed at 'Refunded at' for 1 and at 'Cancelled at' for 1 (cancelled orders): an approximation, "
        "not the refund's real time"
    )


def test_shopify_orders_split_over_two_export_files_are_merged(store, tmp_path):
    # Shopify splits large exports into orders_export_1.csv, orders_export_2.csv, ...
    rows = SHOPIFY.read_text().splitlines()
    folder = tmp_path / "shopify_export"
    folder.mkdir()
    (folder / "orders_export_1.csv").write_text("\n".join(rows[:6]) + "\n")  # #1003's first row is row 4
    (folder / "orders_export_2.csv").write_text("\n".join([rows[0], *rows[6:]]) + "\n")
    table = shopify.build(folder_export(store, tmp_path, folder), PresetOptions())
    assert events(table) == SHOPIFY_EVENTS
    assert (
        table.notes[0] == "9 rows read: 3 line-item rows merged into their orders, 6 orders (one per 'Name')"
    )
    placed_1006 = table.frame.filter(pl.col("case_id") == "#1006").row(0, named=True)
    assert placed_1006["source_row"] == "shopify_export/orders_export_2.csv row 4, column 'Created at'"


def test_shopify_conflicting_order_rows_are_reported():
    df = pl.read_csv(SHOPIFY, infer_schema=False)
    # The same order exported twice, the second copy after it was paid again later.
    repeat = df.filter(pl.col("Name") == "#1002").with_columns(
        pl.lit("2024-01-06 09:00:00 -0500").alias("Paid at")
    )
    table = shopify.build(
        RawExport(file="orders.csv", tables={"main": pl.concat([df, repeat])}), PresetOptions()
    )
    assert ("#1002", "Paid", "2024-01-05T21:48:02Z") in events(table)
    assert table.notes[1] == (
        "orders with differing 'Paid at' values on their rows: 1 (#1002); the first row's value was used"
    )


def test_shopify_unparseable_created_at_names_file_row_and_column():
    with pytest.raises(BadTimestamp) as err:
        shopify.build(csv_export(PRESETS / "shopify" / "bad_created_at.csv"), PresetOptions())
    assert str(err.value) == (
        "bad_created_at.csv row 2, column 'Created at': expected a timestamp like '2024-01-05 10:32:11 -0500', "
        "got 'yesterday'"
    )


@pytest.mark.parametrize(
    ("column", "row", "value", "error", "message"),
    [
        (
            "Name",
            5,
            None,
            BadExport,
            "orders.csv row 5, column 'Name': expected the order name (e.g. '#1001'), got an empty value",
        ),
        (
            "Refunded Amount",
            4,
            "86,40",
            BadExport,
            "orders.csv row 4, column 'Refunded Amount': expected an amount like '12.50', got '86,40'",
        ),
        (
            "Created at",
            8,
            "",
            BadTimestamp,
            "orders.csv row 8, column 'Created at': expected the creation time of order '#1005', got an empty value",
        ),
    ],
)
def test_shopify_bad_values(column, row, value, error, message):
    df = pl.read_csv(SHOPIFY, infer_schema=False)
    df = df.with_columns(
        pl.when(pl.int_range(1, pl.len() + 1) == row)
        .then(pl.lit(value, pl.Utf8))
        .otherwise(pl.col(column))
        .alias(column)
    )
    with pytest.raises(error) as err:
        shopify.build(RawExport(file="orders.csv", tables={"main": df}), PresetOptions())
    assert str(err.value) == message


def test_shopify_on_a_plain_log_names_the_missing_columns():
    raw = csv_export(INGEST / "tiny_log.csv")
    with pytest.raises(MissingColumn) as err:
        shopify.build(raw, PresetOptions())
    assert str(err.value) == (
        "tiny_log.csv: not a Shopify orders export: no column 'Name', 'Created at'; available: "
        + ", ".join(repr(c) for c in raw.tables["main"].columns)
    )


def test_shopify_ingest_stores_utc_events(store):
    summary = ingest_file(store, SHOPIFY)
    assert (summary.preset, summary.cases, summary.events, summary.rejected_rows) == ("shopify", 6, 18, 0)
    got = [(c, a, ts) for c, a, ts, _ in stored(store, summary.log_id)]
    expected = [(c, a, dt.datetime.fromisoformat(t)) for c, a, t in SHOPIFY_EVENTS]
    assert got == expected
    assert (
        summary.preset_notes[0]
        == "9 rows read: 3 line-item rows merged into their orders, 6 orders (one per 'Name')"
    )


_offsets = st.sampled_from(["-0500", "-0400", "+0000", "+0530", "+0100"])
_order = st.fixed_dictionaries(
    {
        "items": st.integers(1, 4),
        "created": st.integers(0, 10_000_000),
        "paid": st.none() | st.integers(0, 86_400),
        "fulfilled": st.none() | st.integers(0, 400_000),
        "cancelled": st.none() | st.integers(0, 400_000),
        "refund": st.sampled_from(["0.00", "", "5.00"]),
        "offset": _offsets,
    }
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_order, min_size=1, max_size=6))
def test_shopify_invariants(orders):
    """Events = filled timestamp columns + refunds; instants survive; merged = rows - orders."""
    base = dt.datetime(2024, 1, 1, tzinfo=UTC)
    rows, expected = [], set()
    for n, o in enumerate(orders):
        sign = -1 if o["offset"][0] == "-" else 1
        tz = dt.timezone(sign * dt.timedelta(hours=int(o["offset"][1:3]), minutes=int(o["offset"][3:])))

        def shop(seconds: int, tz: dt.timezone = tz) -> str:
            return (base + dt.timedelta(seconds=seconds)).astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %z")

        created = o["created"]
        stamps = {"Created at": created}
        for key, column in (
            ("paid", "Paid at"),
            ("fulfilled", "Fulfilled at"),
            ("cancelled", "Cancelled at"),
        ):
            if o[key] is not None:
                stamps[column] = created + o[key]
        name = f"#{1000 + n}"
        for item in range(o["items"]):
            first = item == 0
            rows.append(
                {
                    "Name": name,
                    "Created at": shop(created) if first else None,
                    "Paid at": shop(stamps["Paid at"]) if first and "Paid at" in stamps else None,
                    "Fulfilled at": shop(stamps["Fulfilled at"])
                    if first and "Fulfilled at" in stamps
                    else None,
                    "Cancelled at": shop(stamps["Cancelled at"])
                    if first and "Cancelled at" in stamps
                    else None,
                    "Refunded Amount": o["refund"] if first else None,
                    "Lineitem name": f"item {item}",
                }
            )
        activity = {
            "Created at": "Order placed",
            "Paid at": "Paid",
            "Fulfilled at": "Fulfilled",
            "Cancelled at": "Cancelled",
        }
        for column, seconds in stamps.items():
            expected.add((name, activity[column], base + dt.timedelta(seconds=seconds)))
        if o["refund"] == "5.00":
            at = stamps.get("Cancelled at", max(v for k, v in stamps.items() if k != "Cancelled at"))
            expected.add((name, "Refunded", base + dt.timedelta(seconds=at)))
    df = pl.DataFrame(rows, schema=dict.fromkeys(rows[0], pl.Utf8))
    table = shopify.build(RawExport(file="orders.csv", tables={"main": df}), PresetOptions())
    got = {(c, a, dt.datetime.fromisoformat(t)) for c, a, t in events(table)}
    assert got == expected
    assert table.frame.height == len(expected)
    assert table.notes[0] == (
        f"{len(rows)} rows read: {len(rows) - len(orders)} line-item rows merged into their orders, "
        f"{len(orders)} orders (one per 'Name')"
    )


# =========================================================================== Square

SQUARE = PRESETS / "square" / "export"
O1, O2, O3, O4, O5 = (
    "8Kx1oQ2nR7fGcBZtYw4pLd3eJhA",
    "Vt7sM2cQ9zLkE1bH5nXw0aPgYrF",
    "Qm4HnP8sK2vXcR6tJ1wLz9bDe0G",
    "Hd2LpW6yT9qNcV3sB8mXk1rZf5A",
    "Rf9KsD3mQ7wLbX2nT6vJc8pHy4E",
)
SQUARE_EVENTS = [
    (O1, "Order created", "2024-05-03T16:02:11.481Z"),
    (O1, "Fulfillment placed", "2024-05-03T16:02:11.481Z"),
    (O1, "Fulfillment accepted", "2024-05-03T16:03:40.002Z"),
    (O1, "Ready", "2024-05-03T16:21:05Z"),
    (O1, "Picked up", "2024-05-03T16:47:30.120Z"),
    (O1, "Order closed", "2024-05-03T16:47:31.007Z"),
    (O1, "Refund rejected", "2024-05-03T18:00:00.250Z"),  # joined through the order's tender (payment id)
    (O2, "Order created", "2024-05-03T17:15:00Z"),
    (O2, "Fulfillment placed", "2024-05-03T17:15:00Z"),
    (O2, "Fulfillment canceled", "2024-05-03T17:20:44Z"),
    (O2, "Canceled", "2024-05-03T17:20:45.300Z"),
    (O3, "Order created", "2024-05-04T09:00:12.500Z"),
    (O3, "Order closed", "2024-05-04T09:00:58Z"),
    (O3, "Refunded", "2024-05-04T11:30:00Z"),  # in the order and in refunds.json: once
    (O4, "Order created", "2024-05-04T10:10:10Z"),
    (O4, "Fulfillment accepted", "2024-05-04T10:10:40Z"),
    (O5, "Order created", "2024-05-04T12:00:00Z"),
    (O5, "Order closed", "2024-05-04T12:05:30Z"),  # no closed_at: updated_at
    (O5, "Refunded", "2024-05-06T08:15:00Z"),  # joined through payments.json
]


def test_square_builds_the_order_lifecycle(store, tmp_path):
    table = square.build(folder_export(store, tmp_path, SQUARE), PresetOptions())
    assert events(table) == SQUARE_EVENTS
    assert dict(table.roles) == {**ROLES, "resource": None}
    assert table.timestamp_format == ISO
    assert table.notes == (
        "orders: 5, events: 19",
        "closed or canceled orders without closed_at, closed at their updated_at instead: 1",
        "refunds joined to their orders: 3 (2 of them through their payment)",
        "refunds of orders that are not in this export, left out: 1 (export/refunds.json: refunds[3])",
    )


def test_square_attributes_and_sources(store, tmp_path):
    frame = square.build(folder_export(store, tmp_path, SQUARE), PresetOptions()).frame
    assert frame.columns == [
        "case_id",
        "activity",
        "timestamp",
        "state",
        "location_id",
        "source",
        "total_money",
        "currency",
        "line_items",
        "line_item_names",
        "fulfillment_type",
        "refund_status",
        "refund_amount",
        "source_row",
    ]
    by_key = {(r["case_id"], r["activity"]): r for r in frame.iter_rows(named=True)}
    ready = by_key[(O1, "Ready")]
    assert (
        ready["state"],
        ready["total_money"],
        ready["currency"],
        ready["line_items"],
        ready["line_item_names"],
        ready["fulfillment_type"],
    ) == ("COMPLETED", "1850", "USD", "2", "Oat Latte; Butter Croissant", "PICKUP")
    assert ready["source_row"] == "export/orders.json: orders[0].fulfillments[0].pickup_details.ready_at"
    refund = by_key[(O3, "Refunded")]
    # refunds.json's record (COMPLETED) wins over the order's own copy (APPROVED).
    assert (refund["refund_status"], refund["refund_amount"], refund["source_row"]) == (
        "COMPLETED",
        "450",
        "export/refunds.json: refunds[0].created_at",
    )
    assert by_key[(O5, "Order closed")]["source_row"] == "export/orders.json: orders[4].updated_at"


def test_square_repeated_orders_keep_the_newest_version():
    doc = json.loads((SQUARE / "orders.json").read_text())
    newer = {**doc["orders"][3], "version": 3, "state": "COMPLETED", "closed_at": "2024-05-04T10:30:00Z"}
    raw = RawExport(file="pages", documents={"page1": doc, "page2": {"orders": [newer]}})
    table = square.build(raw, PresetOptions())
    assert [e for e in events(table) if e[0] == O4] == [
        (O4, "Order created", "2024-05-04T10:10:10Z"),
        (O4, "Fulfillment accepted", "2024-05-04T10:10:40Z"),
        (O4, "Order closed", "2024-05-04T10:30:00Z"),
    ]
    assert table.notes[1] == (
        f"orders that appear more than once: 1 ({O4}); the copy with the highest version (then latest "
        "updated_at) is used"
    )


def test_square_order_without_id():
    with pytest.raises(BadExport) as err:
        square.build(json_export(PRESETS / "square" / "order_without_id.json"), PresetOptions())
    assert (
        str(err.value)
        == "order_without_id.json: orders[1]: expected key 'id' (the order id), but the order has none"
    )


def test_square_bad_timestamp_names_the_json_path():
    with pytest.raises(BadTimestamp) as err:
        square.build(json_export(PRESETS / "square" / "bad_ready_at.json"), PresetOptions())
    assert str(err.value) == (
        "bad_ready_at.json: [0].fulfillments[0].pickup_details.ready_at: expected an RFC 3339 timestamp like "
        "'2024-01-05T15:32:11.123Z', got 'soon'"
    )


@pytest.mark.parametrize(
    ("order", "message"),
    [
        (
            {"id": "A1", "state": "OPEN"},
            "o.json: orders[0]: expected key 'created_at' (when the order was created), got none",
        ),
        (
            {"id": "A1", "state": "CANCELED", "created_at": "2024-05-01T10:00:00Z"},
            "o.json: orders[0]: the order is CANCELED but has no 'closed_at' (nor 'updated_at')",
        ),
        (
            {"id": 17, "created_at": "2024-05-01T10:00:00Z"},
            "o.json: orders[0].id: expected the order id (text), got 17",
        ),
    ],
)
def test_square_bad_orders(order, message):
    with pytest.raises(BadExport) as err:
        square.build(RawExport(file="o.json", documents={"main": {"orders": [order]}}), PresetOptions())
    assert str(err.value) == message


def test_square_without_orders_says_what_is_missing():
    raw = RawExport(
        file="refunds.json", documents={"main": json.loads((SQUARE / "refunds.json").read_text())}
    )
    with pytest.raises(MissingColumn) as err:
        square.build(raw, PresetOptions())
    assert str(err.value) == (
        "refunds.json: not a Square orders export: no list under the key 'orders' (nor a list of orders) in any "
        "JSON document; documents: 'main'"
    )


def test_square_ingest_stores_utc_events(store):
    summary = ingest_file(store, SQUARE)
    assert (summary.preset, summary.cases, summary.events) == ("square", 5, 19)
    got = [(c, a, ts) for c, a, ts, _ in stored(store, summary.log_id)]
    expected = sorted(
        ((c, a, dt.datetime.fromisoformat(t)) for c, a, t in SQUARE_EVENTS), key=lambda e: (e[0], e[2])
    )
    assert got == expected


# =========================================================================== SAP

SAP = PRESETS / "sap" / "p2p"
BERLIN = PresetOptions(timezone="Europe/Berlin")

SAP_EVENTS = [
    ("4500000123/00010", "Create Purchase Requisition", "2024-01-04T00:00:00", "MKELLER", "0010000456/00010"),
    ("4500000123/00010", "Release Purchase Requisition", "2024-01-05T11:30:00", "MKELLER", "0000416990"),
    ("4500000123/00010", "Create Purchase Order Item", "2024-01-08T09:12:30", "JSCHMIDT", "0000417001"),
    ("4500000123/00010", "Release Purchase Order", "2024-01-09T14:15:00", "AHOFFMANN", "0000417010"),
    ("4500000123/00010", "Record Goods Receipt", "2024-01-12T10:30:05", "LWAGNER", "5000012345"),
    ("4500000123/00010", "Record Invoice Receipt", "2024-01-15T09:30:00", "KBRAUN", "5105600001/2024"),
    ("4500000123/00020", "Create Purchase Requisition", "2024-01-04T00:00:00", "MKELLER", "0010000456/00020"),
    ("4500000123/00020", "Create Purchase Order Item", "2024-01-08T09:12:30", "JSCHMIDT", "0000417001"),
    ("4500000123/00020", "Release Purchase Order", "2024-01-09T14:15:00", "AHOFFMANN", "0000417010"),
    ("4500000123/00020", "Change Price", "2024-01-10T10:30:00", "JSCHMIDT", "0000417022"),
    ("4500000123/00020", "Change Delivery Date", "2024-01-10T10:30:00", "JSCHMIDT", "0000417022"),
    ("4500000123/00020", "Record Goods Receipt", "2024-01-13T00:00:00", "LWAGNER", "5000012346"),
    ("4500000123/00020", "Record Invoice Receipt", "2024-01-16T11:00:00", "KBRAUN", "5105600002/2024"),
    ("4500000124/00010", "Create Purchase Order Item", "2024-01-11T08:05:00", "TWEBER", "0000417030"),
    ("4500000124/00010", "Delete Purchase Order Item", "2024-01-15T16:20:00", "TWEBER", "0000417045"),
]
SAP_NOTES = (
    "PO items: 3, events: 15; times are the SAP server's, in Europe/Berlin",
    "requisition items without a purchase order, left out: 1 (0010000457/00010)",
    "change documents of other object classes, left out: 1 (VERKBELEG: 1)",
    "PO header changes (EKKO and other header tables) are repeated on each item of their PO",
    "EKBE rows of other transaction types, left out: 1 (VGABE 9: 1)",
    "invoice receipts in both EKBE and RSEG, taken from RBKP/RSEG: 1",
    "date-only events replaced by the same event of the PO item at a precise time (e.g. EKKO's creation date by "
    "the ME21N change document): 3",
    "events known only by a date (BADAT, AEDAT, BUDAT, BLDAT), placed at 00:00 Europe/Berlin: 3",
)


def test_sap_builds_po_item_cases_from_change_documents_and_tables(store, tmp_path):
    table = sap.build(folder_export(store, tmp_path, SAP), BERLIN)
    assert events(table, "case_id", "activity", "timestamp", "resource", "document") == SAP_EVENTS
    assert dict(table.roles) == {**ROLES, "resource": "resource"}
    assert (table.timestamp_format, table.timezone) == (ISO, "Europe/Berlin")
    assert table.notes == SAP_NOTES


def test_sap_keeps_zero_padded_ids_as_text(store, tmp_path):
    frame = sap.build(folder_export(store, tmp_path, SAP), BERLIN).frame
    first = frame.row(0, named=True)
    assert (first["vendor"], first["company_code"], first["material"], first["net_value"]) == (
        "0000100234",
        "1000",
        "000000000000004711",
        "2500.00",
    )
    release = frame.filter(pl.col("activity") == "Release Purchase Requisition").row(0, named=True)
    assert (
        release["document"],
        release["tcode"],
        release["fields"],
        release["value_old"],
        release["value_new"],
        release["source_row"],
    ) == ("0000416990", "ME54N", "EBAN-FRGZU, EBAN-FRGKZ", "1", "X; 2", "p2p/CDPOS.csv row 1")
    deleted = frame.filter(pl.col("case_id") == "4500000124/00010").row(0, named=True)
    assert (deleted["vendor"], deleted["material"]) == ("0000100871", "000000000000009001")


def test_sap_needs_the_time_zone(store, tmp_path):
    raw = folder_export(store, tmp_path, SAP)
    with pytest.raises(BadTimestamp) as err:
        sap.build(raw, PresetOptions())
    assert str(err.value) == (
        "p2p: SAP writes dates and times in the application server's local time, without an offset: give that "
        "time zone with --timezone (e.g. --timezone Europe/Berlin)"
    )
    with pytest.raises(BadTimestamp) as err:
        sap.build(raw, PresetOptions(timezone="Europe/Atlantis"))
    assert (
        str(err.value) == "unknown time zone 'Europe/Atlantis'; expected an IANA name such as 'Europe/Berlin'"
    )


def test_sap_ingest_without_timezone_fails_cleanly(store):
    with pytest.raises(BadTimestamp, match=r"^p2p: SAP writes dates and times .* --timezone"):
        ingest_file(store, SAP)
    assert store.scalar("SELECT count(*) FROM logs") == 0


@pytest.mark.parametrize(
    ("edits", "error", "message"),
    [
        (
            {"CDPOS.csv": ("0000417022,EKPO", "0000417099,EKPO")},
            BadExport,
            "p2p/CDPOS.csv row 9, column 'CHANGENR': expected a change document that is in CDHDR, got '0000417099' "
            "(object EINKBELEG 4500000123), which has no CDHDR header",
        ),
        (
            {"RSEG.csv": ("5105600002,2024", "5105600003,2024")},
            BadExport,
            "p2p/RSEG.csv row 2, column 'BELNR': expected an invoice (BELNR, GJAHR) that is in RBKP, got '5105600003'",
        ),
        (
            {"EKPO.csv": ("800,4500000124,00010", "800,4500000125,00010")},
            BadExport,
            "p2p/EKPO.csv row 3, column 'EBELN': expected a purchase order that is in EKKO, got '4500000125'",
        ),
        (
            {"CDHDR.csv": ("20240110,103000", "2024-01-10,10h30")},
            BadTimestamp,
            "p2p/CDHDR.csv row 4, column 'UTIME': expected a time like '103211' (HHMMSS), got '10h30'",
        ),
        (
            {"EBAN.csv": ("20240109", "09.01.2024")},
            BadTimestamp,
            "p2p/EBAN.csv row 3, column 'BADAT': expected a date like '20240105' (YYYYMMDD), got '09.01.2024'",
        ),
        (
            {
                "CDPOS.csv": (
                    "MANDANT,OBJECTCLAS,OBJECTID,CHANGENR,TABNAME,TABKEY,FNAME",
                    "MANDANT,OBJECTCLAS,OBJECTID,CHANGENR,TABNAME,TABLE_KEY,FNAME",
                )
            },
            MissingColumn,
            "p2p/CDPOS.csv: table CDPOS has no column 'TABKEY'; available: 'MANDANT', 'OBJECTCLAS', 'OBJECTID', "
            "'CHANGENR', 'TABNAME', 'TABLE_KEY', 'FNAME', 'CHNGIND', 'TEXT_CASE', 'UNIT_OLD', 'UNIT_NEW', "
            "'CUKY_OLD', 'CUKY_NEW', 'VALUE_NEW', 'VALUE_OLD'",
        ),
    ],
)
def test_sap_bad_exports(store, tmp_path, edits, error, message):
    folder = copy_tree(SAP, tmp_path / "p2p", edits)
    with pytest.raises(error) as err:
        sap.build(folder_export(store, tmp_path, folder), BERLIN)
    assert str(err.value) == message


def test_sap_history_without_any_date_column(store, tmp_path):
    folder = copy_tree(SAP, tmp_path / "p2p")
    ekbe = pl.read_csv(folder / "EKBE.csv", infer_schema=False).drop("BUDAT", "CPUDT", "CPUTM")
    ekbe.write_csv(folder / "EKBE.csv")
    with pytest.raises(MissingColumn) as err:
        sap.build(folder_export(store, tmp_path, folder), BERLIN)
    assert (
        str(err.value) == "p2p/EKBE.csv: no column for the event's time: expected CPUDT and CPUTM, or BUDAT"
    )


def test_sap_change_documents_without_headers(store, tmp_path):
    folder = copy_tree(SAP, tmp_path / "p2p")
    (folder / "CDHDR.csv").unlink()
    with pytest.raises(MissingColumn) as err:
        sap.build(folder_export(store, tmp_path, folder), BERLIN)
    assert str(err.value) == (
        "p2p: table CDPOS needs table CDHDR (the change headers hold the time and the user), and the export has "
        "no CDHDR"
    )


def test_sap_document_tables_alone(store, tmp_path):
    """Without change documents: creation at EKKO's date, the rest from EKBE and RBKP/RSEG."""
    folder = copy_tree(SAP, tmp_path / "p2p")
    (folder / "CDHDR.csv").unlink()
    (folder / "CDPOS.csv").unlink()
    table = sap.build(folder_export(store, tmp_path, folder), BERLIN)
    assert events(table, "case_id", "activity", "timestamp") == [
        ("4500000123/00010", "Create Purchase Requisition", "2024-01-04T00:00:00"),
        ("4500000123/00010", "Create Purchase Order Item", "2024-01-08T00:00:00"),
        ("4500000123/00010", "Record Goods Receipt", "2024-01-12T10:30:05"),
        ("4500000123/00010", "Record Invoice Receipt", "2024-01-15T09:30:00"),
        ("4500000123/00020", "Create Purchase Requisition", "2024-01-04T00:00:00"),
        ("4500000123/00020", "Create Purchase Order Item", "2024-01-08T00:00:00"),
        ("4500000123/00020", "Record Goods Receipt", "2024-01-13T00:00:00"),
        ("4500000123/00020", "Record Invoice Receipt", "2024-01-16T11:00:00"),
        ("4500000124/00010", "Create Purchase Order Item", "2024-01-11T00:00:00"),
    ]
    assert "tcode" not in table.frame.columns  # no change documents: no empty attribute


def test_sap_ingest_stores_utc_with_daylight_saving(store, tmp_path):
    # Move the ME22N price change into summer time: Berlin is UTC+2 there.
    folder = copy_tree(SAP, tmp_path / "p2p", {"CDHDR.csv": ("20240110,103000", "20240710,103000")})
    summary = ingest_file(store, folder, IngestOptions(timezone="Europe/Berlin"))
    assert (summary.preset, summary.cases, summary.events, summary.timezone) == (
        "sap",
        3,
        15,
        "Europe/Berlin",
    )
    got = stored(store, summary.log_id)
    assert got[:6] == [
        ("4500000123/00010", "Create Purchase Requisition", utc(2024, 1, 3, 23), "MKELLER"),
        ("4500000123/00010", "Release Purchase Requisition", utc(2024, 1, 5, 10, 30), "MKELLER"),
        ("4500000123/00010", "Create Purchase Order Item", utc(2024, 1, 8, 8, 12, 30), "JSCHMIDT"),
        ("4500000123/00010", "Release Purchase Order", utc(2024, 1, 9, 13, 15), "AHOFFMANN"),
        ("4500000123/00010", "Record Goods Receipt", utc(2024, 1, 12, 9, 30, 5), "LWAGNER"),
        ("4500000123/00010", "Record Invoice Receipt", utc(2024, 1, 15, 8, 30), "KBRAUN"),
    ]
    summer = [e for e in got if e[1] in {"Change Price", "Change Delivery Date"}]
    assert summer == [
        ("4500000123/00020", "Change Price", utc(2024, 7, 10, 8, 30), "JSCHMIDT"),
        ("4500000123/00020", "Change Delivery Date", utc(2024, 7, 10, 8, 30), "JSCHMIDT"),
    ]


@settings(max_examples=30, deadline=None)
@given(
    ebeln=st.from_regex(r"\A[0-9]{10}\Z", fullmatch=True),
    ebelp=st.from_regex(r"\A000[0-9]{2}\Z", fullmatch=True),
    user=st.from_regex(r"\A[A-Z0-9_]{1,12}\Z", fullmatch=True),
)
def test_sap_ids_pass_through_unchanged(ebeln, ebelp, user):
    """Whatever the padding, ids reach the case id verbatim (never read as numbers)."""
    hdr = pl.DataFrame(
        {
            "OBJECTCLAS": ["EINKBELEG"],
            "OBJECTID": [ebeln],
            "CHANGENR": ["0000000001"],
            "USERNAME": [user],
            "UDATE": ["20240301"],
            "UTIME": ["000001"],
            "TCODE": ["ME21N"],
        }
    )
    pos = pl.DataFrame(
        {
            "OBJECTCLAS": ["EINKBELEG"],
            "OBJECTID": [ebeln],
            "CHANGENR": ["0000000001"],
            "TABNAME": ["EKPO"],
            "TABKEY": [f"800{ebeln}{ebelp}"],
            "FNAME": ["KEY"],
            "CHNGIND": ["I"],
        }
    )
    raw = RawExport(file="x", tables={"cdhdr": hdr, "cdpos": pos})
    table = sap.build(raw, PresetOptions(timezone="UTC"))
    assert events(table, "case_id", "activity", "timestamp", "resource", "document") == [
        (f"{ebeln}/{ebelp}", "Create Purchase Order Item", "2024-03-01T00:00:01", user, "0000000001"),
    ]


# =========================================================================== Odoo

ODOO_DB = PRESETS / "odoo" / "db"
ODOO_CSV = PRESETS / "odoo" / "helpdesk_tracking.csv"


def test_odoo_tables_give_one_event_per_process_field_change(store, tmp_path):
    table = odoo.build(folder_export(store, tmp_path, ODOO_DB), PresetOptions())
    assert events(table, "case_id", "activity", "timestamp", "resource") == [
        ("helpdesk.ticket/17", "Stage: In Progress", "2024-02-03T09:00:00Z", "12"),
        ("helpdesk.ticket/17", "Stage: Solved", "2024-02-03T11:30:00.512Z", "12"),
        ("sale.order/42", "Status: Quotation Sent", "2024-02-01T08:20:44Z", "3"),
        ("sale.order/42", "Status: Sales Order", "2024-02-02T13:05:10Z", "7"),
        ("sale.order/42", "Status: Locked", "2024-02-09T16:45:00Z", "7"),
        ("sale.order/43", "Status: Cancelled", "2024-02-02T15:00:00Z", "3"),
    ]
    assert dict(table.roles) == {**ROLES, "resource": "resource"}
    assert tuple(map(str, table.notes)) == (
        "records: 3, field changes: 6; Odoo stores dates in UTC, so 'date' is read as UTC",
        "tracking values of other fields, left out: 2 (user_id: 2); add them with include (e.g. --include user_id, "
        "or --include all)",
    )
    row = table.frame.row(2, named=True)
    assert row == {
        "case_id": "sale.order/42",
        "activity": "Status: Quotation Sent",
        "timestamp": "2024-02-01T08:20:44Z",
        "resource": "3",
        "model": "sale.order",
        "record_name": "S00042",
        "message_id": "5102",
        "message_type": "notification",
        "field": "state",
        "old_value": "Quotation",
        "new_value": "Quotation Sent",
        "source_row": "db/mail_tracking_value.csv row 1",
    }


def test_odoo_include_adds_fields_by_name_or_label(store, tmp_path):
    raw = folder_export(store, tmp_path, ODOO_DB)
    by_name = odoo.build(raw, PresetOptions(include=("user_id",)))
    by_label = odoo.build(raw, PresetOptions(include=("Salesperson", "assigned to")))
    everything = odoo.build(raw, PresetOptions(include=("all",)))
    added = [("helpdesk.ticket/17", "Assigned to: Marc Demo"), ("sale.order/42", "Salesperson: Marc Demo")]
    for table in (by_name, by_label, everything):
        assert table.frame.height == 8
        assert [e for e in events(table, "case_id", "activity") if ":" in e[1] and "Demo" in e[1]] == added
        assert len(table.notes) == 1


def test_odoo_single_export_with_message_fields(store):
    table = odoo.build(csv_export(ODOO_CSV), PresetOptions())
    # One model: the record id alone is the case; the UI export names the authors.
    assert events(table, "case_id", "activity", "timestamp", "resource") == [
        ("58", "Stage: In Progress", "2023-11-20T07:58:12Z", "Mitchell Admin"),
        ("58", "Stage: On Hold", "2023-11-21T14:02:40Z", "Marc Demo"),
        ("58", "Stage: In Progress", "2023-11-23T09:15:00Z", "Marc Demo"),
        ("58", "Stage: Solved", "2023-11-23T16:40:05Z", "Marc Demo"),
        ("61", "Stage: Cancelled", "2023-11-22T10:00:00Z", "Joel Willis"),
    ]
    assert "message_id" not in table.frame.columns
    summary = ingest_file(store, ODOO_CSV)
    assert (summary.preset, summary.cases, summary.events) == ("odoo", 2, 5)
    assert stored(store, summary.log_id)[0] == (
        "58",
        "Stage: In Progress",
        utc(2023, 11, 20, 7, 58, 12),
        "Mitchell Admin",
    )


def test_odoo_ingest_stores_utc(store):
    summary = ingest_file(store, ODOO_DB)
    assert (summary.preset, summary.cases, summary.events, summary.timezone) == ("odoo", 3, 6, "UTC")
    assert stored(store, summary.log_id) == [
        ("helpdesk.ticket/17", "Stage: In Progress", utc(2024, 2, 3, 9), "12"),
        ("helpdesk.ticket/17", "Stage: Solved", utc(2024, 2, 3, 11, 30, 0, 512000), "12"),
        ("sale.order/42", "Status: Quotation Sent", utc(2024, 2, 1, 8, 20, 44), "3"),
        ("sale.order/42", "Status: Sales Order", utc(2024, 2, 2, 13, 5, 10), "7"),
        ("sale.order/42", "Status: Locked", utc(2024, 2, 9, 16, 45), "7"),
        ("sale.order/43", "Status: Cancelled", utc(2024, 2, 2, 15), "3"),
    ]


@pytest.mark.parametrize(
    ("edits", "drop", "error", "message"),
    [
        (
            {"mail_tracking_value.csv": ("804,5110,", "804,5111,")},
            None,
            BadExport,
            "db/mail_tracking_value.csv row 4, column 'mail_message_id': expected a message id that is in "
            "mail.message, got '5111'",
        ),
        (
            {"mail_message.csv": ("2024-02-02 15:00:00", "02/02/2024 15:00")},
            None,
            BadTimestamp,
            "db/mail_message.csv row 4, column 'date': expected a UTC time like '2024-01-05 10:32:11', got "
            "'02/02/2024 15:00'",
        ),
        (
            {"mail_message.csv": ("5120,helpdesk.ticket,17", "5120,helpdesk.ticket,")},
            None,
            BadExport,
            "db/mail_message.csv row 5, column 'res_id': expected the record's id, got an empty value",
        ),
        (
            {},
            "ir_model_fields.csv",
            BadExport,
            "db/mail_tracking_value.csv row 1, column 'field_id': expected the field's name; this export gives its "
            "database id and has no ir.model.fields table to name it (export field_id/name or add ir.model.fields), "
            "got '9182'",
        ),
        (
            {},
            "mail_message.csv",
            MissingColumn,
            "db/mail_tracking_value.csv: the tracking values need their messages: add a mail.message table (id, "
            "model, res_id, date, author_id) or export 'mail_message_id/res_id' and 'mail_message_id/date' with them",
        ),
    ],
)
def test_odoo_bad_exports(store, tmp_path, edits, drop, error, message):
    folder = copy_tree(ODOO_DB, tmp_path / "db", edits)
    if drop:
        (folder / drop).unlink()
    with pytest.raises(error) as err:
        odoo.build(folder_export(store, tmp_path, folder), PresetOptions())
    assert str(err.value) == message


def test_odoo_without_process_fields_says_what_it_found():
    raw = csv_export(ODOO_CSV)
    only_users = raw.tables["main"].filter(pl.col("field") == "user_id")
    with pytest.raises(EmptyLog) as err:
        odoo.build(RawExport(file="users.csv", tables={"main": only_users}), PresetOptions())
    assert str(err.value) == (
        "users.csv: no tracking value changes a process field (state, stage_id); tracking values of other "
        "fields, left out: 1 (user_id: 1)"
    )
    assert err.value.hint == "add fields with --include FIELD (technical name or label), or --include all"


# =========================================================================== detection


def _raw(store, tmp_path: Path, path: Path) -> RawExport:
    """Read any fixture the way the ingest shows it to the presets."""
    if export_kind(path, path.name):
        return read_export(store, path, tmp_path / f"work-{path.name}", file=path.name)
    staged = stage_file(store, path, tmp_path, file=path.name)
    return RawExport(
        file=path.name, tables={"main": frame_from_stage(store, staged.columns)}, sources={"main": path.name}
    )


OURS = {"shopify": shopify, "square": square, "sap": sap, "odoo": odoo}
FIXTURES = sorted(p for d in PRESETS.iterdir() if d.is_dir() for p in d.iterdir())
PLAIN = [
    SAMPLE_LOGS / "order_to_cash.csv",
    SAMPLE_LOGS / "purchase_to_pay.csv",
    SAMPLE_LOGS / "service_desk.csv",
    *sorted(INGEST.glob("*.csv")),
]
# Files the CSV reader refuses outright (they test its errors): nothing to detect.
UNREADABLE = {"empty.csv", "header_only.csv", "unterminated_quote.csv"}


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.relative_to(PRESETS).as_posix())
def test_each_preset_claims_only_its_own_fixtures(store, tmp_path, path):
    raw = _raw(store, tmp_path, path)
    system = path.relative_to(PRESETS).parts[0]
    scores = {name: module.PRESET.detect(raw) for name, module in OURS.items()}
    for name, score in scores.items():
        if name == system:
            assert score >= 0.5, (name, scores)
        else:
            assert score < 0.5, (name, scores)


@pytest.mark.parametrize("path", [p for p in PLAIN if p.name not in UNREADABLE], ids=lambda p: p.name)
def test_plain_event_logs_score_below_half(store, tmp_path, path):
    raw = _raw(store, tmp_path, path)
    assert {name: m.PRESET.detect(raw) < 0.5 for name, m in OURS.items()} == dict.fromkeys(OURS, True)


def test_detection_needs_the_key_columns():
    df = pl.read_csv(SHOPIFY, infer_schema=False)
    assert shopify.detect(RawExport(file="x", tables={"main": df})) == 1.0
    assert shopify.detect(RawExport(file="x", tables={"main": df.drop("Name")})) == 0.4
    # Shopify's API JSON shares id/created_at/line_items with Square, but no Square money, tenders or states.
    api = {
        "orders": [
            {
                "id": 450789469,
                "created_at": "2024-01-05T10:32:11-05:00",
                "line_items": [],
                "location_id": None,
                "fulfillments": [],
                "financial_status": "paid",
            }
        ]
    }
    assert square.detect(RawExport(file="x", documents={"main": api})) == 0.4
    only_refunds = json.loads((SQUARE / "refunds.json").read_text())
    assert square.detect(RawExport(file="x", documents={"refunds": only_refunds})) == 0.3
    assert (
        sap.detect(RawExport(file="x", tables={"ekko": pl.read_csv(SAP / "EKKO.csv", infer_schema=False)}))
        == 0.35
    )


# =========================================================================== raw shapes of the samples


def _expected_o2c(log: pl.DataFrame) -> set[tuple[str, str, dt.datetime]]:
    """The generated events the Shopify shape can express, as the preset should read them back."""
    out: set[tuple[str, str, dt.datetime]] = set()
    for case, ev in log.group_by("case_id"):
        name = "#" + str(int(case[0][3:]))
        times = {}
        for generated, activity in PROJECTIONS["order_to_cash"].items():
            stamps = ev.filter(pl.col("activity") == generated)["timestamp"].to_list()
            if stamps:
                # A re-shipment replaces the first: Fulfilled is the last Ship.
                times[activity] = dt.datetime.fromisoformat(stamps[-1] if generated == "Ship" else stamps[0])
        refund = times.pop("Refunded", None)
        for activity, at in times.items():
            out.add((name, activity, at.astimezone(UTC)))
        if refund is not None:
            at = times.get("Cancelled") or max(times.values())
            out.add((name, "Refunded", at.astimezone(UTC)))
    return out


def test_order_to_cash_round_trips_through_the_shopify_shape(store, tmp_path):
    log = pl.from_arrow(generate("order_to_cash", cases=400, seed=5))
    path = write_shopify_orders(tmp_path / "orders_export.csv", cases=400, seed=5)
    assert pl.read_csv(path, infer_schema=False).equals(shopify_orders(log))
    summary = ingest_file(store, path)
    assert summary.preset == "shopify"
    got = {(c, a, ts) for c, a, ts, _ in stored(store, summary.log_id)}
    expected = _expected_o2c(log)
    assert got == expected
    assert summary.events == len(expected)
    assert {a for _, a, _ in got} == set(PROJECTIONS["order_to_cash"].values())


def _expected_p2p(log: pl.DataFrame) -> set[tuple[str, str, dt.datetime, str]]:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(SAP_TIMEZONE)
    out = set()
    for row in log.filter(pl.col("activity").is_in(list(PROJECTIONS["purchase_to_pay"]))).iter_rows(
        named=True
    ):
        case = row["case_id"].replace("-", "/")
        at = dt.datetime.fromisoformat(row["timestamp"])
        if row["activity"] == "Create purchase requisition":
            at = dt.datetime.combine(at.date(), dt.time(), zone)  # EBAN holds only the date
        out.add(
            (
                case,
                PROJECTIONS["purchase_to_pay"][row["activity"]],
                at.astimezone(UTC),
                sap_user(row["resource"]),
            )
        )
    return out


def test_purchase_to_pay_round_trips_through_the_sap_shape(store, tmp_path):
    log = pl.from_arrow(generate("purchase_to_pay", cases=400, seed=5))
    paths = write_sap_tables(tmp_path / "p2p", cases=400, seed=5)
    assert sorted(p.name for p in paths) == [
        "CDHDR.csv",
        "CDPOS.csv",
        "EBAN.csv",
        "EKBE.csv",
        "EKKO.csv",
        "EKPO.csv",
        "RBKP.csv",
        "RSEG.csv",
    ]
    tables = sap_tables(log)
    assert tables["EKPO"]["EBELN"].str.len_chars().unique().to_list() == [10]
    summary = ingest_file(store, tmp_path / "p2p", IngestOptions(timezone=SAP_TIMEZONE))
    assert summary.preset == "sap"
    got = set(stored(store, summary.log_id))
    expected = _expected_p2p(log)
    assert got == expected
    assert summary.events == len(expected)
    assert summary.cases == log["case_id"].n_unique()
