"""Shopify's orders export (Admin → Orders → Export, CSV) as an event log.

The export has one row per line item; the order's own fields (status,
timestamps, totals) are filled on the order's first row and usually empty on
the rows after it.  The preset merges the rows of each order (``Name``, e.g.
``#1001``) and pivots its timestamp columns into events:

===========================  ==============
column                       event
===========================  ==============
``Created at``               Order placed
``Paid at``                  Paid
``Fulfilled at``             Fulfilled
``Cancelled at``             Cancelled
``Refunded Amount`` above 0  Refunded
===========================  ==============

The export holds no refund time.  A ``Refunded at`` column is used when the
export has one (some apps add it); otherwise the refund is placed at
``Cancelled at`` when the order was cancelled, else at the order's latest
known time.  Either way the time is an approximation, and the notes say how
many refunds were placed which way.

Timestamps look like ``2024-01-05 10:32:11 -0500``; they are written out in
UTC (ISO 8601 with ``Z``).  Case attributes: financial and fulfillment status,
total, currency, refunded amount, email, number of line items and their names.
"""

from __future__ import annotations

from mining.errors import BadExport, BadTimestamp, MissingColumn
from mining.ingest.presets.base import ISO, SOURCE_ROW, EventTable, Preset, PresetOptions, RawExport, pl

__all__ = ["PRESET", "build", "detect"]

_KEYS = ("Name", "Created at")
_DISTINCTIVE = (
    "Paid at",
    "Fulfilled at",
    "Cancelled at",
    "Financial Status",
    "Fulfillment Status",
    "Lineitem name",
    "Lineitem quantity",
    "Lineitem price",
    "Refunded Amount",
)
_EVENTS = (
    ("Created at", "Order placed"),
    ("Paid at", "Paid"),
    ("Fulfilled at", "Fulfilled"),
    ("Cancelled at", "Cancelled"),
)
_REFUNDED = "Refunded"
# Not in Shopify's own export, but apps that extend it write one of these.
_REFUND_TIME_COLUMNS = ("Refunded at", "Refund date", "Refunded At")
_ATTRIBUTES = (
    ("Financial Status", "financial_status"),
    ("Fulfillment Status", "fulfillment_status"),
    ("Total", "total"),
    ("Currency", "currency"),
    ("Refunded Amount", "refunded_amount"),
    ("Email", "email"),
)
_FORMATS = ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%dT%H:%M:%S%z")
_EXAMPLE = "2024-01-05 10:32:11 -0500"
_OUT = "%Y-%m-%dT%H:%M:%S%.fZ"


def detect(raw: RawExport) -> float:
    """Both key columns and most of Shopify's distinctive ones: close to 1."""
    return max((_score(cols) for cols in raw.columns().values()), default=0.0)


def _score(columns: tuple[str, ...]) -> float:
    have = set(columns)
    share = sum(c in have for c in _DISTINCTIVE) / len(_DISTINCTIVE)
    if all(k in have for k in _KEYS):
        return round(0.3 + 0.7 * share, 3)
    return round(0.4 * share, 3)


def build(raw: RawExport, options: PresetOptions) -> EventTable:
    """One event per filled timestamp column of each order (see the module docstring)."""
    del options  # nothing to choose: the export carries its offsets
    rows = _order_rows(raw)
    cols = set(rows.columns)
    rows = _parse_times(rows, [c for c, _ in _EVENTS] + [c for c in _REFUND_TIME_COLUMNS if c in cols])
    if "Refunded Amount" in cols:
        rows = _parse_amount(rows, "Refunded Amount")
    orders, conflicts = _merge(rows, cols)
    _check_created(orders)
    events, refund_note = _events(orders, cols)
    n_rows, n_orders = rows.height, orders.height
    notes = [
        f"{n_rows} rows read: {n_rows - n_orders} line-item rows merged into their orders, "
        f"{n_orders} orders (one per 'Name')"
    ]
    notes += conflicts
    if refund_note:
        notes.append(refund_note)
    return EventTable(
        frame=events,
        roles={"case": "case_id", "activity": "activity", "timestamp": "timestamp", "resource": None},
        timestamp_format=ISO,
        notes=tuple(notes),
    )


def _where(raw: RawExport, table: str) -> str:
    if table in raw.sources:
        return raw.sources[table]
    return raw.file if table == "main" or len(raw.tables) == 1 else f"{raw.file}/{table}"


def _order_rows(raw: RawExport) -> pl.DataFrame:
    """All tables that look like an orders export, stacked, values stripped, with their origin."""
    parts = []
    for table, df in raw.tables.items():
        if all(k in df.columns for k in _KEYS):
            where = _where(raw, table)
            parts.append(
                df.select(
                    [pl.col(c).str.strip_chars().replace("", None).alias(c) for c in df.columns]
                ).with_columns(
                    pl.lit(where).alias("_where"),
                    pl.int_range(1, df.height + 1, dtype=pl.Int64).alias("_row"),
                )
            )
    if not parts:
        best = max(raw.tables.items(), key=lambda kv: _score(tuple(kv[1].columns)), default=None)
        if best is None:
            msg = f"{raw.file}: not a Shopify orders export: it holds no table"
            raise MissingColumn(msg)
        table, df = best
        missing = ", ".join(repr(k) for k in _KEYS if k not in df.columns)
        available = ", ".join(repr(c) for c in df.columns)
        msg = (
            f"{_where(raw, table)}: not a Shopify orders export: no column {missing}; available: {available}"
        )
        raise MissingColumn(msg)
    rows = pl.concat(parts, how="diagonal")
    empty = rows.filter(pl.col("Name").is_null())
    if empty.height:
        first = empty.row(0, named=True)
        msg = (
            f"{first['_where']} row {first['_row']}, column 'Name': expected the order name "
            "(e.g. '#1001'), got an empty value"
        )
        raise BadExport(msg)
    return rows


def _parse_times(rows: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    present = [c for c in columns if c in rows.columns]
    parsed = rows.with_columns(
        pl.coalesce(
            [pl.col(c).str.to_datetime(f, strict=False, time_unit="us", time_zone="UTC") for f in _FORMATS]
        ).alias(f"_t:{c}")
        for c in present
    )
    for c in present:
        bad = parsed.filter(pl.col(c).is_not_null() & pl.col(f"_t:{c}").is_null())
        if bad.height:
            first = bad.row(0, named=True)
            msg = (
                f"{first['_where']} row {first['_row']}, column {c!r}: expected a timestamp like "
                f"{_EXAMPLE!r}, got {first[c]!r}"
            )
            raise BadTimestamp(msg)
    return parsed


def _parse_amount(rows: pl.DataFrame, column: str) -> pl.DataFrame:
    # Shopify writes plain decimals ("12.50"); a thousands separator would be ours to misread.
    parsed = rows.with_columns(pl.col(column).cast(pl.Float64, strict=False).alias(f"_n:{column}"))
    bad = parsed.filter(pl.col(column).is_not_null() & pl.col(f"_n:{column}").is_null())
    if bad.height:
        first = bad.row(0, named=True)
        msg = (
            f"{first['_where']} row {first['_row']}, column {column!r}: expected an amount like '12.50', "
            f"got {first[column]!r}"
        )
        raise BadExport(msg)
    return parsed


def _merge(rows: pl.DataFrame, cols: set[str]) -> tuple[pl.DataFrame, list[str]]:
    """One row per order: the first filled value of each order-level column."""
    order_cols = [c for c in rows.columns if c.startswith(("_t:", "_n:"))]
    order_cols += [src for src, _ in _ATTRIBUTES if src in cols]
    aggs: list[pl.Expr] = [pl.col("_where").first(), pl.col("_row").first()]
    for c in order_cols:
        aggs.append(pl.col(c).drop_nulls().first())
    for c in (c for c in order_cols if c.startswith("_t:")):
        aggs.append(pl.col("_row").filter(pl.col(c).is_not_null()).first().alias(f"_r:{c[3:]}"))
        aggs.append(pl.col(c).drop_nulls().n_unique().alias(f"_k:{c[3:]}"))
    if "Lineitem name" in cols:
        aggs.append(pl.col("Lineitem name").drop_nulls().len().alias("line_items"))
        aggs.append(pl.col("Lineitem name").drop_nulls().str.join("; ").alias("line_item_names"))
    else:
        aggs.append(pl.len().alias("line_items"))
        aggs.append(pl.lit(None, pl.Utf8).alias("line_item_names"))
    orders = rows.group_by("Name", maintain_order=True).agg(aggs).with_row_index("_order")
    notes = []
    for c in (c for c in order_cols if c.startswith("_t:")):
        clash = orders.filter(pl.col(f"_k:{c[3:]}") > 1)
        if clash.height:
            names = ", ".join(clash["Name"].head(5).to_list())
            notes.append(
                f"orders with differing {c[3:]!r} values on their rows: {clash.height} ({names}); "
                "the first row's value was used"
            )
    return orders, notes


def _check_created(orders: pl.DataFrame) -> None:
    missing = orders.filter(pl.col("_t:Created at").is_null())
    if missing.height:
        first = missing.row(0, named=True)
        msg = (
            f"{first['_where']} row {first['_row']}, column 'Created at': expected the creation time of "
            f"order {first['Name']!r}, got an empty value"
        )
        raise BadTimestamp(msg)


def _events(orders: pl.DataFrame, cols: set[str]) -> tuple[pl.DataFrame, str | None]:
    attrs = [pl.col(src).alias(dst) for src, dst in _ATTRIBUTES if src in cols]
    attrs += [pl.col("line_items").cast(pl.Utf8), pl.col("line_item_names")]
    parts = []
    for rank, (column, activity) in enumerate(_EVENTS):
        if f"_t:{column}" not in orders.columns:
            continue
        parts.append(
            orders.filter(pl.col(f"_t:{column}").is_not_null()).select(
                pl.col("_order"),
                pl.lit(rank).alias("_rank"),
                pl.col("Name").alias("case_id"),
                pl.lit(activity).alias("activity"),
                pl.col(f"_t:{column}").alias("_ts"),
                *attrs,
                _source(pl.col("_where"), pl.col(f"_r:{column}"), column).alias(SOURCE_ROW),
            )
        )
    refund_note = None
    if "_n:Refunded Amount" in orders.columns:
        refunds, refund_note = _refunds(orders, cols, attrs)
        parts.append(refunds)
    events = pl.concat(parts, how="vertical").sort("_order", "_ts", "_rank", maintain_order=True)
    events = events.with_columns(pl.col("_ts").dt.strftime(_OUT).alias("timestamp"))
    ordered = ["case_id", "activity", "timestamp"]
    return events.select(
        ordered + [c for c in events.columns if c not in ordered and not c.startswith("_")]
    ), (refund_note)


def _refunds(orders: pl.DataFrame, cols: set[str], attrs: list[pl.Expr]) -> tuple[pl.DataFrame, str]:
    refunded = orders.filter(pl.col("_n:Refunded Amount") > 0)
    given = next((c for c in _REFUND_TIME_COLUMNS if c in cols), None)
    known = [pl.col(f"_t:{c}") for c, _ in _EVENTS if f"_t:{c}" in orders.columns and c != "Cancelled at"]
    given_ts = pl.col(f"_t:{given}") if given else pl.lit(None, pl.Datetime("us", "UTC"))
    cancelled = (
        pl.col("_t:Cancelled at")
        if "_t:Cancelled at" in orders.columns
        else pl.lit(None, pl.Datetime("us", "UTC"))
    )
    chosen = refunded.with_columns(
        pl.when(given_ts.is_not_null())
        .then(pl.lit(given or ""))
        .when(cancelled.is_not_null())
        .then(pl.lit("Cancelled at"))
        .otherwise(pl.lit("latest"))
        .alias("_from"),
        pl.coalesce(given_ts, cancelled, pl.max_horizontal(known)).alias("_refund_ts"),
    )
    counts = dict(chosen.group_by("_from").len().iter_rows())
    said = []
    if given and counts.get(given):
        said.append(f"at {given!r} for {counts[given]}")
    if counts.get("Cancelled at"):
        said.append(f"at 'Cancelled at' for {counts['Cancelled at']} (cancelled orders)")
    if counts.get("latest"):
        said.append(f"at the order's latest known time for {counts['latest']}")
    note = (
        f"orders with a refunded amount above 0: {chosen.height}; Shopify's export has no refund time, so the "
        f"Refunded event is placed {' and '.join(said)}: an approximation, not the refund's real time"
    )
    if given and counts.get(given) == chosen.height:
        note = (
            f"orders with a refunded amount above 0: {chosen.height}, timed by the export's {given!r} column"
        )
    frame = chosen.select(
        pl.col("_order"),
        pl.lit(len(_EVENTS)).alias("_rank"),
        pl.col("Name").alias("case_id"),
        pl.lit(_REFUNDED).alias("activity"),
        pl.col("_refund_ts").alias("_ts"),
        *attrs,
        _source(pl.col("_where"), pl.col("_row"), "Refunded Amount").alias(SOURCE_ROW),
    )
    return frame, note


def _source(where: pl.Expr, row: pl.Expr, column: str) -> pl.Expr:
    return pl.format("{} row {}, column '{}'", where, row, pl.lit(column))


PRESET = Preset(
    name="shopify",
    title="Shopify (orders export CSV)",
    description=(
        "Shopify's Orders → Export CSV: one case per order (Name), events Order placed, Paid, Fulfilled, "
        "Cancelled and Refunded from the order's timestamp columns."
    ),
    detect=detect,
    build=build,
)
