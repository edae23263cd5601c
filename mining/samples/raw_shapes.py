"""The sample processes written the way business systems export them.

The presets (:mod:`mining.ingest.presets`) read raw exports; these functions turn a
generated log (:func:`mining.samples.generate`) into such exports, so a preset
can be tested end to end on data whose true events are known::

    from mining.samples import generate
    from mining.samples.raw_shapes import shopify_orders, sap_tables
    shopify_orders(generate("order_to_cash", cases=300)).write_csv("orders_export.csv")
    write_sap_tables("p2p/", cases=300)          # CDHDR.csv, CDPOS.csv, EBAN.csv, ...

An export holds only what its system records, so each shape is a projection
(:data:`PROJECTIONS`: generated activity -> the preset's activity); the other
activities have no place in it and are left out.

*Shopify orders CSV* (order_to_cash): one order per case, ``Name`` ``#4821``
for ``SO-004821``; ``Created at`` from Order placed, ``Paid at`` from the first
Payment received, ``Fulfilled at`` from the last Ship (a re-shipment replaces
the first), ``Cancelled at`` from Cancel order; a Refund sets ``Refunded
Amount`` to the order's amount (the export has no refund time: the preset
places it at the order's latest known time).  One to three line items per
order, their prices adding up to the amount; the order's fields are on its
first row only.  Times keep the generator's Europe/Amsterdam offset
(``2025-01-01 07:21:23 +0100``).

*SAP tables* (purchase_to_pay), in Europe/Amsterdam local time without an
offset, as SAP stores them: ``EBAN`` (Create purchase requisition: BADAT, a
date), ``EKKO``/``EKPO`` (the PO and its items, AEDAT the first item's
creation date), ``CDHDR``/``CDPOS`` change documents for Create purchase order
(an EKPO insert, ME21N for a PO's first item and ME22N for later ones),
Change purchase order (EKPO-MENGE, ME22N) and Approve requisition (EBAN-FRGZU,
ME54N), ``EKBE`` for Receive goods (VGABE 1) and Receive invoice (VGABE 2),
and ``RBKP``/``RSEG`` for Receive invoice.  Approving a PO is a header-level
release in SAP, which the generator's per-item approvals cannot be; it is
left out with Select vendor, Three-way match, Resolve price difference and
Pay invoice.  Users are SAP-style ids (:func:`sap_user`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl
    import pyarrow as pa

__all__ = [
    "PROJECTIONS",
    "SAP_CLIENT",
    "SAP_TIMEZONE",
    "sap_tables",
    "sap_user",
    "shopify_orders",
    "write_sap_tables",
    "write_shopify_orders",
]

#: Generated activity -> the activity the preset reads back from the raw shape.
PROJECTIONS = {
    "order_to_cash": {
        "Order placed": "Order placed",
        "Payment received": "Paid",
        "Ship": "Fulfilled",
        "Cancel order": "Cancelled",
        "Refund": "Refunded",
    },
    "purchase_to_pay": {
        "Create purchase requisition": "Create Purchase Requisition",
        "Approve requisition": "Release Purchase Requisition",
        "Create purchase order": "Create Purchase Order Item",
        "Change purchase order": "Change Quantity",
        "Receive goods": "Record Goods Receipt",
        "Receive invoice": "Record Invoice Receipt",
    },
}
#: The zone the SAP shape's local times are in (the generator's office zone).
SAP_TIMEZONE = "Europe/Amsterdam"
SAP_CLIENT = "100"

_PRODUCTS = (
    "Linen Shirt",
    "Wool Scarf",
    "Leather Belt",
    "Canvas Sneakers",
    "Rain Jacket",
    "Cotton Socks (3-pack)",
    "Denim Jeans",
    "Beanie",
)


def _frame(log: pa.Table | pl.DataFrame) -> pl.DataFrame:
    import polars as pl

    frame = log if isinstance(log, pl.DataFrame) else pl.from_arrow(log)
    assert isinstance(frame, pl.DataFrame)
    return frame.with_row_index("_i")


def shopify_orders(log: pa.Table | pl.DataFrame) -> pl.DataFrame:
    """The order_to_cash log as Shopify's orders export (all columns text; see the module docstring)."""
    import polars as pl

    ev = _frame(log)
    # "2025-01-01T07:21:23+01:00" -> "2025-01-01 07:21:23 +0100", as Shopify writes it.
    stamp = pl.col("timestamp").str.replace(r"^(\S+)T(\S+)([+-]\d\d):(\d\d)$", "$1 $2 $3$4")
    ev = ev.with_columns(stamp.alias("_shop"))

    def when(activity: str, pick: str) -> pl.Expr:
        values = pl.col("_shop").filter(pl.col("activity") == activity)
        return (values.first() if pick == "first" else values.last()).alias(activity)

    orders = ev.group_by("case_id", maintain_order=True).agg(
        pl.col("amount").first(),
        pl.col("channel").first(),
        when("Order placed", "first"),
        when("Payment received", "first"),
        when("Ship", "last"),
        when("Cancel order", "first"),
        (pl.col("activity") == "Refund").any().alias("_refund"),
    )
    number = pl.col("case_id").str.extract(r"(\d+)$").cast(pl.Int64)
    cents = (pl.col("amount").cast(pl.Float64) * 100).round().cast(pl.Int64)
    orders = orders.with_columns(
        pl.format("#{}", number).alias("Name"),
        pl.format("customer{}@example.com", number).alias("Email"),
        cents.alias("_cents"),
        (number % 3 + 1).alias("_items"),
        number.alias("_n"),
    )
    status = (
        pl.when(pl.col("_refund"))
        .then(pl.lit("refunded"))
        .when(pl.col("Payment received").is_not_null())
        .then(pl.lit("paid"))
        .when(pl.col("Cancel order").is_not_null())
        .then(pl.lit("voided"))
        .otherwise(pl.lit("pending"))
    )
    rows = orders.with_columns(pl.int_ranges(0, "_items").alias("_k")).explode("_k")
    # Equal shares of the amount, the cents that do not divide evenly on the first item.
    share = pl.col("_cents") // pl.col("_items")
    price = share + pl.when(pl.col("_k") == 0).then(pl.col("_cents") - share * pl.col("_items")).otherwise(0)
    first = pl.col("_k") == 0

    def order_field(expr: pl.Expr, name: str) -> pl.Expr:
        return pl.when(first).then(expr).otherwise(pl.lit(None, pl.Utf8)).alias(name)

    money = pl.format("{}.{}", price // 100, (price % 100).cast(pl.Utf8).str.zfill(2))
    out = rows.select(
        "Name",
        "Email",
        order_field(status, "Financial Status"),
        order_field(pl.col("Payment received"), "Paid at"),
        order_field(
            pl.when(pl.col("Ship").is_not_null()).then(pl.lit("fulfilled")).otherwise(pl.lit("unfulfilled")),
            "Fulfillment Status",
        ),
        order_field(pl.col("Ship"), "Fulfilled at"),
        order_field(pl.lit("EUR"), "Currency"),
        order_field(pl.col("amount"), "Total"),
        order_field(pl.col("Order placed"), "Created at"),
        pl.lit("1").alias("Lineitem quantity"),
        pl.col("_n")
        .add(pl.col("_k"))
        .mod(len(_PRODUCTS))
        .replace_strict(dict(enumerate(_PRODUCTS)))
        .alias("Lineitem name"),
        money.alias("Lineitem price"),
        order_field(pl.col("Cancel order"), "Cancelled at"),
        order_field(
            pl.when(pl.col("_refund")).then(pl.col("amount")).otherwise(pl.lit("0.00")), "Refunded Amount"
        ),
        order_field(pl.col("channel").str.to_lowercase(), "Source"),
    )
    return out


def write_shopify_orders(path: str | Path, *, cases: int | None = None, seed: int = 0) -> Path:
    """Generate order_to_cash and write it as ``orders_export.csv``-style CSV; returns the path."""
    from mining.samples.generator import generate

    path = Path(path)
    shopify_orders(generate("order_to_cash", cases=cases, seed=seed)).write_csv(path)
    return path


def sap_user(name: str) -> str:
    """An SAP-style user id for a person: initial and surname, upper case, at most 12 characters."""
    words = [re.sub(r"[^A-Za-z]", "", w) for w in name.split()]
    words = [w for w in words if w]
    if not words:
        return "UNKNOWN"
    return (words[0][0] + words[-1] if len(words) > 1 else words[0]).upper()[:12]


def sap_tables(log: pa.Table | pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The purchase_to_pay log as SAP tables (all text; see the module docstring), keyed by table name."""
    import polars as pl

    ev = _frame(log)
    users = {name: sap_user(name) for name in ev["resource"].unique().to_list()}
    local = pl.col("timestamp").str.slice(0, 19)  # the wall-clock part of the ISO value, offset dropped
    ev = ev.with_columns(
        pl.col("case_id").str.slice(0, 10).alias("EBELN"),
        pl.col("case_id").str.slice(11, 5).alias("EBELP"),
        local.str.slice(0, 10).str.replace_all("-", "").alias("_date"),
        local.str.slice(11, 8).str.replace_all(":", "").alias("_time"),
        pl.col("resource").replace_strict(users).alias("_user"),
    ).with_columns(pl.format("0010{}", pl.col("EBELN").str.slice(4, 6)).alias("BANFN"))

    def of(activity: str) -> pl.DataFrame:
        return ev.filter(pl.col("activity") == activity).sort("timestamp", "_i")

    def item_key(doc: pl.Expr, item: pl.Expr) -> pl.Expr:
        return pl.format("{}{}{}", pl.lit(SAP_CLIENT), doc, item).alias("TABKEY")

    created = of("Create purchase order")
    first_item = created.group_by("EBELN", maintain_order=True).agg(pl.col("EBELP").first().alias("_first"))
    created = created.join(first_item, on="EBELN", how="left", maintain_order="left")
    changes = pl.concat(
        [
            created.select(
                pl.lit("EINKBELEG").alias("OBJECTCLAS"),
                pl.col("EBELN").alias("OBJECTID"),
                "timestamp",
                "_i",
                "_user",
                "_date",
                "_time",
                pl.when(pl.col("EBELP") == pl.col("_first"))
                .then(pl.lit("ME21N"))
                .otherwise(pl.lit("ME22N"))
                .alias("TCODE"),
                pl.lit("EKPO").alias("TABNAME"),
                item_key(pl.col("EBELN"), pl.col("EBELP")),
                pl.lit("KEY").alias("FNAME"),
                pl.lit("I").alias("CHNGIND"),
                pl.lit(None, pl.Utf8).alias("VALUE_OLD"),
                pl.lit(None, pl.Utf8).alias("VALUE_NEW"),
            ),
            of("Change purchase order").select(
                pl.lit("EINKBELEG").alias("OBJECTCLAS"),
                pl.col("EBELN").alias("OBJECTID"),
                "timestamp",
                "_i",
                "_user",
                "_date",
                "_time",
                pl.lit("ME22N").alias("TCODE"),
                pl.lit("EKPO").alias("TABNAME"),
                item_key(pl.col("EBELN"), pl.col("EBELP")),
                pl.lit("MENGE").alias("FNAME"),
                pl.lit("U").alias("CHNGIND"),
                pl.lit("10.000").alias("VALUE_OLD"),
                pl.lit("12.000").alias("VALUE_NEW"),
            ),
            of("Approve requisition").select(
                pl.lit("BANF").alias("OBJECTCLAS"),
                pl.col("BANFN").alias("OBJECTID"),
                "timestamp",
                "_i",
                "_user",
                "_date",
                "_time",
                pl.lit("ME54N").alias("TCODE"),
                pl.lit("EBAN").alias("TABNAME"),
                item_key(pl.col("BANFN"), pl.col("EBELP")),
                pl.lit("FRGZU").alias("FNAME"),
                pl.lit("U").alias("CHNGIND"),
                pl.lit(None, pl.Utf8).alias("VALUE_OLD"),
                pl.lit("X").alias("VALUE_NEW"),
            ),
        ]
    ).sort("timestamp", "_i")
    changes = changes.with_columns(
        pl.int_range(1, pl.len() + 1).cast(pl.Utf8).str.zfill(10).alias("CHANGENR")
    )
    cdhdr = changes.select(
        pl.lit(SAP_CLIENT).alias("MANDANT"),
        "OBJECTCLAS",
        "OBJECTID",
        "CHANGENR",
        pl.col("_user").alias("USERNAME"),
        pl.col("_date").alias("UDATE"),
        pl.col("_time").alias("UTIME"),
        "TCODE",
        pl.when(pl.col("CHNGIND") == "I").then(pl.lit("I")).otherwise(pl.lit("U")).alias("CHANGE_IND"),
    )
    cdpos = changes.select(
        pl.lit(SAP_CLIENT).alias("MANDANT"),
        "OBJECTCLAS",
        "OBJECTID",
        "CHANGENR",
        "TABNAME",
        "TABKEY",
        "FNAME",
        "CHNGIND",
        "VALUE_NEW",
        "VALUE_OLD",
    )

    requisitions = of("Create purchase requisition")
    eban = requisitions.select(
        pl.lit(SAP_CLIENT).alias("MANDT"),
        "BANFN",
        pl.col("EBELP").alias("BNFPO"),
        pl.col("_date").alias("BADAT"),
        pl.col("_user").alias("ERNAM"),
        "EBELN",
        "EBELP",
    )
    vendors = sorted(ev["vendor"].unique().to_list())
    ekko = created.group_by("EBELN", maintain_order=True).agg(
        pl.col("_date").first().alias("AEDAT"),
        pl.col("_user").first().alias("ERNAM"),
        pl.col("vendor").first(),
        pl.col("plant").first(),
    )
    ekko = ekko.select(
        pl.lit(SAP_CLIENT).alias("MANDT"),
        "EBELN",
        pl.col("plant").str.slice(0, 4).alias("BUKRS"),
        pl.lit("NB").alias("BSART"),
        "AEDAT",
        "ERNAM",
        pl.col("vendor")
        .replace_strict({v: f"{100001 + i:010d}" for i, v in enumerate(vendors)})
        .alias("LIFNR"),
    )
    ekpo = (
        ev.group_by("EBELN", "EBELP", maintain_order=True)
        .agg(pl.col("amount").first())
        .select(
            pl.lit(SAP_CLIENT).alias("MANDT"),
            "EBELN",
            "EBELP",
            pl.format("0000000000000{}", pl.col("EBELP").str.slice(0, 5)).alias("MATNR"),
            pl.col("amount").alias("NETWR"),
        )
    )
    goods = of("Receive goods")
    goods = goods.with_columns(pl.int_range(1, pl.len() + 1).cast(pl.Utf8).str.zfill(8).alias("_n"))
    invoices = of("Receive invoice")
    invoices = invoices.with_columns(
        pl.format("51{}", pl.int_range(1, pl.len() + 1).cast(pl.Utf8).str.zfill(8)).alias("BELNR"),
        pl.col("_date").str.slice(0, 4).alias("GJAHR"),
    )

    def history(frame: pl.DataFrame, vgabe: str, belnr: pl.Expr) -> pl.DataFrame:
        return frame.select(
            pl.lit(SAP_CLIENT).alias("MANDT"),
            "EBELN",
            "EBELP",
            pl.lit(vgabe).alias("VGABE"),
            pl.col("_date").str.slice(0, 4).alias("GJAHR"),
            belnr.alias("BELNR"),
            pl.col("_date").alias("BUDAT"),
            pl.col("_date").alias("CPUDT"),
            pl.col("_time").alias("CPUTM"),
            pl.col("_user").alias("ERNAM"),
        )

    ekbe = pl.concat([history(goods, "1", pl.format("50{}", "_n")), history(invoices, "2", pl.col("BELNR"))])
    rbkp = invoices.select(
        pl.lit(SAP_CLIENT).alias("MANDT"),
        "BELNR",
        "GJAHR",
        pl.col("_date").alias("BLDAT"),
        pl.col("_date").alias("BUDAT"),
        pl.col("_user").alias("USNAM"),
        pl.lit("MIRO").alias("TCODE"),
        pl.col("_date").alias("CPUDT"),
        pl.col("_time").alias("CPUTM"),
    )
    rseg = invoices.select(
        pl.lit(SAP_CLIENT).alias("MANDT"), "BELNR", "GJAHR", pl.lit("000001").alias("BUZEI"), "EBELN", "EBELP"
    )
    return {
        "CDHDR": cdhdr,
        "CDPOS": cdpos,
        "EBAN": eban,
        "EKKO": ekko,
        "EKPO": ekpo,
        "EKBE": ekbe,
        "RBKP": rbkp,
        "RSEG": rseg,
    }


def write_sap_tables(folder: str | Path, *, cases: int | None = None, seed: int = 0) -> list[Path]:
    """Generate purchase_to_pay and write its SAP tables as ``<TABLE>.csv`` in ``folder``; returns the paths."""
    from mining.samples.generator import generate

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in sap_tables(generate("purchase_to_pay", cases=cases, seed=seed)).items():
        path = folder / f"{name}.csv"
        frame.write_csv(path)
        written.append(path)
    return written
