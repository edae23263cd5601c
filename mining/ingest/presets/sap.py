"""SAP ECC / S/4HANA purchase-to-pay tables as an event log, one case per PO item.

Input: a folder or zip of table extracts (SE16N, RFC_READ_TABLE or a database
dump) with SAP's technical field names.  A table is recognised by its file
name (``CDPOS.csv``, ``ekbe_2024.csv``) or, failing that, by its columns.
Any subset works as long as it holds events: change documents (CDHDR with
CDPOS), requisitions (EBAN), purchase orders (EKKO with EKPO), PO history
(EKBE), invoices (RBKP with RSEG).

The case is the purchase-order item, ``EBELN/EBELP`` (``4500000123/00010``).
Ids are zero-padded text and stay exactly as exported.

Events from the document tables:

==========================  ============================  ===========================
table                       event                         time
==========================  ============================  ===========================
EBAN (with EBELN, EBELP)    Create Purchase Requisition   BADAT (a date)
EKPO joined to EKKO         Create Purchase Order Item    EKKO.AEDAT (a date)
EKBE VGABE 1                Record Goods Receipt          CPUDT+CPUTM, else BUDAT
EKBE VGABE 2                Record Invoice Receipt        CPUDT+CPUTM, else BUDAT
RSEG joined to RBKP         Record Invoice Receipt        RBKP CPUDT+CPUTM, else BLDAT
==========================  ============================  ===========================

Change documents (CDPOS rows joined to their CDHDR header; time UDATE+UTIME,
resource USERNAME) are named by the first rule that applies:

1. well-known fields (:data:`FIELD_ACTIVITIES`): ``EKPO-NETPR`` Change Price,
   ``EKPO-MENGE`` Change Quantity, ``EKET-EINDT`` Change Delivery Date,
   ``EKPO-LOEKZ`` Delete / Block / Reactivate Purchase Order Item,
   ``EKKO-FRGKE``/``FRGZU`` Release Purchase Order, ``EBAN-FRGKZ``/``FRGZU``
   Release Purchase Requisition, ...;
2. inserts and deletions by table (:data:`INSERT_ACTIVITIES`): ``EKPO`` insert
   Create Purchase Order Item, ``EKKO`` insert Create Purchase Order, ``EBAN``
   insert Create Purchase Requisition; a change document that inserts a
   record counts as that one creation event for the case;
3. the transaction (:data:`TCODE_ACTIVITIES`): ME22N Change Purchase Order,
   ME29N Release Purchase Order, ME52N Change Purchase Requisition, ME54N
   Release Purchase Requisition, MIGO Record Goods Receipt, MIRO Record Invoice
   Receipt (ME21N and ME51N create, which rule 2 already names);
4. otherwise ``Change <FNAME> (<TABNAME>)``.

One change document gives at most one event per case and activity.  Object
class EINKBELEG maps to PO items through TABKEY (client, EBELN, EBELP); a
header-level change (EKKO) is repeated on every known item of its PO.  Object
class BANF maps to PO items through EBAN.  Other object classes are left out
and counted in the notes.

Duplicates across tables are removed and counted: an invoice in both RSEG and
EKBE is taken from RBKP/RSEG; a date-only event is dropped when the same case
has the same activity at a precise time on that date (EKKO's creation date
against the ME21N change document); events with the same case, activity and
time from two tables are one event.  Events known only by a date are placed at
00:00 local time.

SAP writes dates and times in the application server's local time with no
offset, so :attr:`PresetOptions.timezone` is required; the timestamps are
handed to the loader as local ISO 8601 with that zone.
"""

from __future__ import annotations

import re
import zoneinfo

from mining.errors import BadExport, BadTimestamp, MissingColumn, Option, phrase
from mining.ingest.presets.base import ISO, SOURCE_ROW, EventTable, Preset, PresetOptions, RawExport, pl

__all__ = ["FIELD_ACTIVITIES", "INSERT_ACTIVITIES", "PRESET", "TCODE_ACTIVITIES", "build", "detect"]

#: (TABNAME, FNAME) of an update -> activity; ``{new}`` variants are chosen by the new value.
FIELD_ACTIVITIES: dict[tuple[str, str], str | dict[str, str]] = {
    ("EKPO", "NETPR"): "Change Price",
    ("EKPO", "MENGE"): "Change Quantity",
    ("EKET", "EINDT"): "Change Delivery Date",
    ("EKKO", "LIFNR"): "Change Vendor",
    ("EKPO", "LOEKZ"): {
        "L": "Delete Purchase Order Item",
        "S": "Block Purchase Order Item",
        "": "Reactivate Purchase Order Item",
    },
    ("EKPO", "ELIKZ"): {"X": "Set Delivery Completed", "": "Reset Delivery Completed"},
    ("EKKO", "FRGKE"): "Release Purchase Order",
    ("EKKO", "FRGZU"): "Release Purchase Order",
    ("EKKO", "FRGRL"): "Release Purchase Order",
    ("EBAN", "FRGKZ"): "Release Purchase Requisition",
    ("EBAN", "FRGZU"): "Release Purchase Requisition",
    ("EBAN", "LOEKZ"): {"X": "Delete Purchase Requisition Item", "": "Reactivate Purchase Requisition Item"},
}
#: TABNAME of an insert (CHNGIND I/J) -> activity, most specific first; others: "Insert <TABNAME> Entry".
INSERT_ACTIVITIES = {
    "EKPO": "Create Purchase Order Item",
    "EBAN": "Create Purchase Requisition",
    "EKKO": "Create Purchase Order",
    "EKET": "Add Schedule Line",
}
_DELETE_ACTIVITIES = {
    "EKPO": "Delete Purchase Order Item",
    "EBAN": "Delete Purchase Requisition Item",
    "EKET": "Delete Schedule Line",
}
#: Transaction of a change not named by its field -> activity.
TCODE_ACTIVITIES = {
    "ME21N": "Create Purchase Order",
    "ME22N": "Change Purchase Order",
    "ME22": "Change Purchase Order",
    "ME29N": "Release Purchase Order",
    "ME28": "Release Purchase Order",
    "ME51N": "Create Purchase Requisition",
    "ME52N": "Change Purchase Requisition",
    "ME54N": "Release Purchase Requisition",
    "ME55": "Release Purchase Requisition",
    "MIGO": "Record Goods Receipt",
    "MIRO": "Record Invoice Receipt",
}
# Tie order at one timestamp (date-only events all fall on 00:00).
_RANK = {
    "Create Purchase Requisition": 0,
    "Release Purchase Requisition": 1,
    "Create Purchase Order": 2,
    "Create Purchase Order Item": 2,
    "Release Purchase Order": 4,
    "Record Goods Receipt": 5,
    "Record Invoice Receipt": 6,
}
_REQUIRED = {
    "CDHDR": ("OBJECTCLAS", "OBJECTID", "CHANGENR", "UDATE", "UTIME"),
    "CDPOS": ("OBJECTCLAS", "OBJECTID", "CHANGENR", "TABNAME", "TABKEY", "FNAME", "CHNGIND"),
    "EBAN": ("BANFN", "BNFPO", "BADAT"),
    "EKKO": ("EBELN", "AEDAT"),
    "EKPO": ("EBELN", "EBELP"),
    "EKBE": ("EBELN", "EBELP", "VGABE"),
    "RBKP": ("BELNR", "GJAHR"),
    "RSEG": ("BELNR", "GJAHR", "EBELN", "EBELP"),
}
_PAIRS = (
    ("CDPOS", "CDHDR", "the change headers hold the time and the user"),
    ("CDHDR", "CDPOS", "the change items say what changed"),
    ("EKPO", "EKKO", "the PO header holds the creation date"),
    ("RSEG", "RBKP", "the invoice header holds the time"),
    ("RBKP", "RSEG", "the invoice items name the PO items"),
)
_EVENT_COLUMNS = (
    "case_id",
    "activity",
    "_local",
    "_dated",
    "resource",
    "document",
    "tcode",
    "fields",
    "value_old",
    "value_new",
    SOURCE_ROW,
    "_rank",
    "_prio",
)


def detect(raw: RawExport) -> float:
    """Recognised SAP tables that can make events: 0.6 and up; a lone header table stays below 0.5."""
    found = set(_identify(raw))
    if not found:
        return 0.0
    usable = (
        {"CDHDR", "CDPOS"} <= found
        or bool(found & {"EBAN", "EKBE"})
        or {"EKKO", "EKPO"} <= found
        or ({"RBKP", "RSEG"} <= found)
    )
    return round((0.6 if usable else 0.3) + 0.4 * len(found) / len(_REQUIRED), 3)


def _identify(raw: RawExport) -> dict[str, list[str]]:
    """SAP table name -> the export's table keys holding it (by file name, else by columns)."""
    out: dict[str, list[str]] = {}
    for key, df in raw.tables.items():
        tokens = re.split(r"[^A-Z0-9]+", key.upper())
        name = next((t for t in tokens if t in _REQUIRED), None) or _by_columns(
            {c.strip().upper() for c in df.columns}
        )
        if name:
            out.setdefault(name, []).append(key)
    return out


def _by_columns(cols: set[str]) -> str | None:
    if {"OBJECTCLAS", "CHANGENR", "TABNAME", "FNAME"} <= cols:
        return "CDPOS"
    if {"OBJECTCLAS", "CHANGENR", "UDATE", "UTIME"} <= cols:
        return "CDHDR"
    if {"EBELN", "EBELP", "VGABE"} <= cols:
        return "EKBE"
    if {"BANFN", "BNFPO", "BADAT"} <= cols:
        return "EBAN"
    if {"BELNR", "GJAHR", "EBELN", "EBELP"} <= cols:
        return "RSEG"
    if {"BELNR", "GJAHR"} <= cols and cols & {"BLDAT", "CPUDT", "USNAM"}:
        return "RBKP"
    if {"EBELN", "EBELP"} <= cols and cols & {"MATNR", "NETWR", "TXZ01"}:
        return "EKPO"
    if {"EBELN", "AEDAT"} <= cols and cols & {"LIFNR", "BUKRS", "BSART"}:
        return "EKKO"
    return None


def build(raw: RawExport, options: PresetOptions) -> EventTable:
    """One event per document-table record and per change (see the module docstring)."""
    t = _tables(raw)
    tz = _timezone(raw, options)
    notes: list[str] = []
    eban = _eban(t, notes) if "EBAN" in t else None
    items = _known_items(t, eban)
    parts = []
    if "CDPOS" in t:
        parts.append(_change_events(t, eban, items, notes))
    if eban is not None:
        parts.append(
            eban.filter(pl.col("_case").is_not_null()).select(
                pl.col("_case").alias("case_id"),
                pl.lit("Create Purchase Requisition").alias("activity"),
                pl.col("_local"),
                pl.col("_dated"),
                _opt(eban, "ERNAM").alias("resource"),
                pl.format("{}/{}", "BANFN", "BNFPO").alias("document"),
                *_blank("tcode", "fields", "value_old", "value_new"),
                _src("BADAT"),
                pl.lit(0).alias("_rank"),
                pl.lit(3).alias("_prio"),
            )
        )
    if "EKPO" in t:
        parts.append(_po_items(t))
    invoices = _invoices(t) if "RSEG" in t else None
    if "EKBE" in t:
        parts.append(_history(t, invoices, notes))
    if invoices is not None:
        parts.append(invoices.drop("_belnr"))
    events = pl.concat([p.select(_EVENT_COLUMNS).cast({"_rank": pl.Int64, "_prio": pl.Int64}) for p in parts])
    events = _deduplicate(events, notes)
    events = _attach_attributes(events, t)
    dated = events.filter(pl.col("_dated")).height
    if dated:
        notes.append(
            f"events known only by a date (BADAT, AEDAT, BUDAT, BLDAT), placed at 00:00 {tz}: {dated}"
        )
    notes.insert(
        0,
        f"PO items: {events['case_id'].n_unique()}, events: {events.height}; times are the SAP server's, in {tz}",
    )
    events = events.sort("case_id", "_local", "_rank", maintain_order=True).with_columns(
        pl.col("_local").dt.strftime("%Y-%m-%dT%H:%M:%S").alias("timestamp")
    )
    head = ["case_id", "activity", "timestamp", "resource"]
    tail = [c for c in events.columns if c not in head and not c.startswith("_") and c != SOURCE_ROW]
    frame = events.select(head + tail + [SOURCE_ROW])
    # Without change documents, tcode and the field columns would be empty attributes.
    frame = frame.select(c for c in frame.columns if c in head or frame[c].null_count() < frame.height)
    return EventTable(
        frame=frame,
        roles={"case": "case_id", "activity": "activity", "timestamp": "timestamp", "resource": "resource"},
        timestamp_format=ISO,
        timezone=tz,
        notes=tuple(notes),
    )


# ------------------------------------------------------------------ tables and checks


def _tables(raw: RawExport) -> dict[str, pl.DataFrame]:
    """Each recognised table: columns upper-cased, values stripped (empty = null), with _where/_row."""
    found = _identify(raw)
    if not found:
        names = ", ".join(repr(k) for k in raw.tables) or "none"
        msg = (
            f"{raw.file}: not an SAP purchase-to-pay export: expected tables CDHDR and CDPOS, or EBAN, "
            f"EKKO with EKPO, EKBE, RBKP with RSEG (by file name or SAP field names); found tables: {names}"
        )
        raise MissingColumn(msg)
    out: dict[str, pl.DataFrame] = {}
    for name, keys in found.items():
        parts = []
        for key in keys:
            df = raw.tables[key]
            where = raw.sources.get(key) or (raw.file if len(raw.tables) == 1 else f"{raw.file}/{key}")
            df = df.rename({c: c.strip().upper() for c in df.columns})
            missing = [c for c in _REQUIRED[name] if c not in df.columns]
            if missing:
                msg = (
                    f"{where}: table {name} has no column {', '.join(repr(c) for c in missing)}; "
                    f"available: {', '.join(repr(c) for c in df.columns)}"
                )
                raise MissingColumn(msg)
            parts.append(
                df.select([pl.col(c).str.strip_chars().replace("", None) for c in df.columns]).with_columns(
                    pl.lit(where).alias("_where"),
                    pl.int_range(1, df.height + 1, dtype=pl.Int64).alias("_row"),
                )
            )
        out[name] = pl.concat(parts, how="diagonal")
    for a, b, why in _PAIRS:
        if a in out and b not in out:
            msg = f"{raw.file}: table {a} needs table {b} ({why}), and the export has no {b}"
            raise MissingColumn(msg)
    if set(out) <= {"EKKO"}:
        msg = f"{raw.file}: EKKO alone holds no PO items; add EKPO, EKBE, RSEG or the change documents"
        raise MissingColumn(msg)
    return out


def _timezone(raw: RawExport, options: PresetOptions) -> str:
    if not options.timezone:
        msg = phrase(
            f"{raw.file}: SAP writes dates and times in the application server's local time, without an "
            "offset: give that time zone with ",
            Option("timezone"),
            " (e.g. ",
            Option("timezone", "Europe/Berlin"),
            ")",
        )
        raise BadTimestamp(msg, hint="the zone is in transaction STZAC (system time zone)")
    try:
        zoneinfo.ZoneInfo(options.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        msg = f"unknown time zone {options.timezone!r}; expected an IANA name such as 'Europe/Berlin'"
        raise BadTimestamp(msg) from None
    return options.timezone


def _opt(df: pl.DataFrame, column: str) -> pl.Expr:
    return pl.col(column) if column in df.columns else pl.lit(None, pl.Utf8).alias(column)


def _blank(*names: str) -> list[pl.Expr]:
    return [pl.lit(None, pl.Utf8).alias(n) for n in names]


def _src(column: str) -> pl.Expr:
    return pl.format("{} row {}, column '{}'", "_where", "_row", pl.lit(column)).alias(SOURCE_ROW)


def _fail(
    df: pl.DataFrame, bad: pl.Expr, column: str, expected: str, exc: type[Exception] = BadExport
) -> None:
    rows = df.filter(bad)
    if rows.height:
        first = rows.row(0, named=True)
        shown = first.get(column)
        got = "an empty value" if shown is None else repr(shown)
        msg = f"{first['_where']} row {first['_row']}, column {column!r}: expected {expected}, got {got}"
        raise exc(msg)


def _stamped(df: pl.DataFrame, date: str, time: str | None, *, fallback: str | None = None) -> pl.DataFrame:
    """Add ``_local`` (naive local datetime) and ``_dated`` (only a date was known).

    The precise pair ``date``+``time`` is used where both are filled, else the
    ``fallback`` date column (or ``date`` alone) at 00:00.
    """
    cols = [c for c in (date, time, fallback) if c and c in df.columns]
    for c in cols:
        text = (
            pl.col(c)
            .str.replace(r"^(\d{4})-(\d\d)-(\d\d)$", "$1$2$3")
            .str.replace(r"^(\d\d):(\d\d):(\d\d)$", "$1$2$3")
        )
        df = df.with_columns(pl.when(text == "00000000").then(None).otherwise(text).alias(f"_v:{c}"))
        if c == time:
            parsed = pl.when(pl.col(f"_v:{c}").str.contains(r"^\d{6}$")).then(
                pl.col(f"_v:{c}").str.to_time("%H%M%S", strict=False)
            )
            expected = "a time like '103211' (HHMMSS)"
        else:
            parsed = pl.when(pl.col(f"_v:{c}").str.contains(r"^\d{8}$")).then(
                pl.col(f"_v:{c}").str.to_date("%Y%m%d", strict=False)
            )
            expected = "a date like '20240105' (YYYYMMDD)"
        df = df.with_columns(parsed.alias(f"_p:{c}"))
        _fail(df, pl.col(f"_v:{c}").is_not_null() & pl.col(f"_p:{c}").is_null(), c, expected, BadTimestamp)
    has_time = bool(time) and time in df.columns and date in df.columns
    if not any(c in df.columns for c in (fallback, date) if c):
        want = " and ".join(c for c in (date, time) if c) + (f", or {fallback}" if fallback else "")
        where = df["_where"][0] if df.height else "the table"
        msg = f"{where}: no column for the event's time: expected {want}"
        raise MissingColumn(msg)
    precise = (
        (pl.col(f"_p:{date}").is_not_null() & pl.col(f"_p:{time}").is_not_null())
        if has_time
        else pl.lit(False)
    )
    day = pl.coalesce([pl.col(f"_p:{c}") for c in (fallback, date) if c and c in df.columns])
    at = pl.col(f"_p:{time}") if has_time else pl.lit(None, pl.Time)
    df = df.with_columns(
        pl.when(precise)
        .then(pl.col(f"_p:{date}").dt.combine(at))
        .otherwise(day.cast(pl.Datetime("us")))
        .alias("_local"),
        (~precise).alias("_dated"),
    )
    want = " and ".join(c for c in (date, time) if c) + (f", or {fallback}" if fallback else "")
    _fail(df, pl.col("_local").is_null(), fallback or date, f"a date ({want})", BadTimestamp)
    return df.drop([c for c in df.columns if c.startswith(("_v:", "_p:"))])


# ------------------------------------------------------------------ document tables


def _eban(t: dict[str, pl.DataFrame], notes: list[str]) -> pl.DataFrame:
    eban = _stamped(t["EBAN"], "BADAT", None)
    # A requisition item carries EBELN/EBELP once a purchase order was made from it.
    if {"EBELN", "EBELP"} <= set(eban.columns):
        eban = eban.with_columns(pl.format("{}/{}", "EBELN", "EBELP").alias("_case"))
    else:
        eban = eban.with_columns(pl.lit(None, pl.Utf8).alias("_case"))
    open_items = eban.filter(pl.col("_case").is_null())
    if open_items.height:
        shown = ", ".join(f"{r['BANFN']}/{r['BNFPO']}" for r in open_items.head(5).iter_rows(named=True))
        notes.append(f"requisition items without a purchase order, left out: {open_items.height} ({shown})")
    return eban


def _known_items(t: dict[str, pl.DataFrame], eban: pl.DataFrame | None) -> pl.DataFrame:
    """Every (EBELN, EBELP) any document table mentions: the items a header change applies to."""
    parts = [t[n].select("EBELN", "EBELP") for n in ("EKPO", "EKBE", "RSEG") if n in t]
    if eban is not None and "EBELN" in eban.columns and "EBELP" in eban.columns:
        parts.append(eban.filter(pl.col("_case").is_not_null()).select("EBELN", "EBELP"))
    if not parts:
        return pl.DataFrame(schema={"EBELN": pl.Utf8, "EBELP": pl.Utf8})
    return pl.concat(parts).drop_nulls().unique(maintain_order=True)


def _po_items(t: dict[str, pl.DataFrame]) -> pl.DataFrame:
    ekko = _stamped(t["EKKO"], "AEDAT", None)
    dup = ekko.filter(pl.col("EBELN").is_duplicated())
    _fail(dup, pl.lit(True), "EBELN", "each purchase order once in EKKO")
    header = ekko.select(
        "EBELN",
        "_local",
        "_dated",
        _opt(ekko, "ERNAM").alias("resource"),
        pl.col("_where").alias("_hw"),
        pl.col("_row").alias("_hr"),
    )
    ekpo = t["EKPO"].join(header, on="EBELN", how="left", maintain_order="left")
    _fail(ekpo, pl.col("_hr").is_null(), "EBELN", "a purchase order that is in EKKO")
    return ekpo.select(
        pl.format("{}/{}", "EBELN", "EBELP").alias("case_id"),
        pl.lit("Create Purchase Order Item").alias("activity"),
        "_local",
        "_dated",
        "resource",
        pl.col("EBELN").alias("document"),
        *_blank("tcode", "fields", "value_old", "value_new"),
        pl.format("{} row {}, column 'AEDAT'", "_hw", "_hr").alias(SOURCE_ROW),
        pl.lit(2).alias("_rank"),
        pl.lit(3).alias("_prio"),
    )


def _history(t: dict[str, pl.DataFrame], invoices: pl.DataFrame | None, notes: list[str]) -> pl.DataFrame:
    ekbe = t["EKBE"]
    kinds = {"1": "Record Goods Receipt", "2": "Record Invoice Receipt"}
    other = ekbe.filter(~pl.col("VGABE").is_in(list(kinds)))
    if other.height:
        counts = ", ".join(
            f"{k}: {n}" for k, n in other.group_by("VGABE", maintain_order=True).len().iter_rows()
        )
        notes.append(f"EKBE rows of other transaction types, left out: {other.height} (VGABE {counts})")
    ekbe = ekbe.filter(pl.col("VGABE").is_in(list(kinds)))
    if invoices is not None and "BELNR" in ekbe.columns:
        before = ekbe.height
        ekbe = ekbe.join(
            invoices.select(pl.col("case_id").alias("_c"), pl.col("_belnr").alias("BELNR")).unique(),
            left_on=[pl.format("{}/{}", "EBELN", "EBELP"), "BELNR"],
            right_on=["_c", "BELNR"],
            how="anti",
            maintain_order="left",
        )
        if before - ekbe.height:
            notes.append(
                f"invoice receipts in both EKBE and RSEG, taken from RBKP/RSEG: {before - ekbe.height}"
            )
    ekbe = _stamped(ekbe, "CPUDT", "CPUTM", fallback="BUDAT")
    return ekbe.select(
        pl.format("{}/{}", "EBELN", "EBELP").alias("case_id"),
        pl.col("VGABE").replace_strict(kinds).alias("activity"),
        "_local",
        "_dated",
        _opt(ekbe, "ERNAM").alias("resource"),
        _opt(ekbe, "BELNR").alias("document"),
        *_blank("tcode", "fields", "value_old", "value_new"),
        pl.format("{} row {}, column 'VGABE'", "_where", "_row").alias(SOURCE_ROW),
        pl.col("VGABE").replace_strict({"1": 5, "2": 6}, return_dtype=pl.Int64).alias("_rank"),
        pl.lit(2).alias("_prio"),
    )


def _invoices(t: dict[str, pl.DataFrame]) -> pl.DataFrame:
    rbkp = _stamped(t["RBKP"], "CPUDT", "CPUTM", fallback="BLDAT")
    header = rbkp.select(
        "BELNR",
        "GJAHR",
        "_local",
        "_dated",
        _opt(rbkp, "USNAM").alias("resource"),
        pl.col("_where").alias("_hw"),
        pl.col("_row").alias("_hr"),
    )
    rseg = t["RSEG"].join(header, on=["BELNR", "GJAHR"], how="left", maintain_order="left")
    _fail(rseg, pl.col("_hr").is_null(), "BELNR", "an invoice (BELNR, GJAHR) that is in RBKP")
    return rseg.unique(["EBELN", "EBELP", "BELNR", "GJAHR"], keep="first", maintain_order=True).select(
        pl.format("{}/{}", "EBELN", "EBELP").alias("case_id"),
        pl.lit("Record Invoice Receipt").alias("activity"),
        "_local",
        "_dated",
        "resource",
        pl.format("{}/{}", "BELNR", "GJAHR").alias("document"),
        *_blank("tcode", "fields", "value_old", "value_new"),
        pl.format("{} row {}, column 'BELNR'", "_where", "_row").alias(SOURCE_ROW),
        pl.lit(6).alias("_rank"),
        pl.lit(1).alias("_prio"),
        pl.col("BELNR").alias("_belnr"),
    )


# ------------------------------------------------------------------ change documents


def _change_events(
    t: dict[str, pl.DataFrame], eban: pl.DataFrame | None, items: pl.DataFrame, notes: list[str]
) -> pl.DataFrame:
    keys = ["OBJECTCLAS", "OBJECTID", "CHANGENR"]
    hdr = _stamped(t["CDHDR"], "UDATE", "UTIME")
    header = hdr.select(
        *keys,
        "_local",
        _opt(hdr, "USERNAME").alias("resource"),
        _opt(hdr, "TCODE").alias("tcode"),
        pl.lit(True).alias("_hdr"),
    ).unique(keys, keep="first", maintain_order=True)
    pos = t["CDPOS"].join(header, on=keys, how="left", maintain_order="left")
    orphan = pos.filter(pl.col("_hdr").is_null())
    if orphan.height:
        r = orphan.row(0, named=True)
        msg = (
            f"{r['_where']} row {r['_row']}, column 'CHANGENR': expected a change document that is in CDHDR, "
            f"got {r['CHANGENR']!r} (object {r['OBJECTCLAS']} {r['OBJECTID']}), which has no CDHDR header"
        )
        raise BadExport(msg)
    pos = pos.with_columns(_opt(pos, "VALUE_OLD"), _opt(pos, "VALUE_NEW"), pl.col("TABKEY").fill_null(""))
    classes = {"EINKBELEG", "BANF"}
    other = pos.filter(~pl.col("OBJECTCLAS").is_in(list(classes))).unique(keys)
    if other.height:
        counts = ", ".join(
            f"{k}: {n}" for k, n in other.group_by("OBJECTCLAS", maintain_order=True).len().iter_rows()
        )
        notes.append(f"change documents of other object classes, left out: {other.height} ({counts})")
    pos = pos.filter(pl.col("OBJECTCLAS").is_in(list(classes))).with_columns(_activity().alias("activity"))
    item_level = (pl.col("TABKEY").str.len_chars() >= 18) & (
        pl.col("TABKEY").str.slice(3, 10) == pl.col("OBJECTID")
    )
    pos = pos.with_columns(
        pl.when(item_level).then(pl.col("TABKEY").str.slice(13, 5)).alias("_item"),
    )
    po = pos.filter(pl.col("OBJECTCLAS") == "EINKBELEG")
    po_items = po.filter(pl.col("_item").is_not_null()).with_columns(
        pl.format("{}/{}", "OBJECTID", "_item").alias("case_id")
    )
    known = pl.concat(
        [items, po_items.select(pl.col("OBJECTID").alias("EBELN"), pl.col("_item").alias("EBELP"))]
    ).unique(maintain_order=True)
    po_head = po.filter(pl.col("_item").is_null()).join(
        known.rename({"EBELN": "OBJECTID"}), on="OBJECTID", how="left", maintain_order="left"
    )
    homeless = po_head.filter(pl.col("EBELP").is_null()).unique(keys).height
    if po_head.height:
        notes.append("PO header changes (EKKO and other header tables) are repeated on each item of their PO")
    if homeless:
        notes.append(f"PO header changes left out, no item of their PO is known: {homeless}")
    parts = [
        po_items,
        po_head.filter(pl.col("EBELP").is_not_null()).with_columns(
            pl.format("{}/{}", "OBJECTID", "EBELP").alias("case_id")
        ),
    ]
    req = pos.filter(pl.col("OBJECTCLAS") == "BANF")
    if req.height:
        mapping = (
            eban.filter(pl.col("_case").is_not_null()).select("BANFN", "BNFPO", "_case")
            if eban is not None
            else pl.DataFrame(schema={"BANFN": pl.Utf8, "BNFPO": pl.Utf8, "_case": pl.Utf8})
        )
        by_item = req.filter(pl.col("_item").is_not_null()).join(
            mapping,
            left_on=["OBJECTID", "_item"],
            right_on=["BANFN", "BNFPO"],
            how="left",
            maintain_order="left",
        )
        by_head = req.filter(pl.col("_item").is_null()).join(
            mapping.drop("BNFPO"), left_on="OBJECTID", right_on="BANFN", how="left", maintain_order="left"
        )
        mapped = pl.concat([by_item, by_head], how="diagonal")
        lost = mapped.filter(pl.col("_case").is_null()).unique(keys).height
        if lost:
            notes.append(f"requisition change documents left out, their items have no purchase order: {lost}")
        parts.append(mapped.filter(pl.col("_case").is_not_null()).rename({"_case": "case_id"}))
    cols = [
        *keys,
        "case_id",
        "activity",
        "_local",
        "resource",
        "tcode",
        "TABNAME",
        "FNAME",
        "CHNGIND",
        "VALUE_OLD",
        "VALUE_NEW",
        "_where",
        "_row",
    ]
    rows = pl.concat([p.select(cols) for p in parts]).sort("_row", maintain_order=True)
    return _fold_changes(rows)


def _activity() -> pl.Expr:
    tab, fname, ind = pl.col("TABNAME"), pl.col("FNAME"), pl.col("CHNGIND").str.to_uppercase()
    new = pl.col("VALUE_NEW").fill_null("")
    expr = (
        pl.when(ind.is_in(["I", "J"]))
        .then(tab.replace_strict(INSERT_ACTIVITIES, default=pl.format("Insert {} Entry", tab)))
        .when(ind.is_in(["D", "E"]))
        .then(tab.replace_strict(_DELETE_ACTIVITIES, default=pl.format("Delete {} Entry", tab)))
    )
    for (table, field), name in FIELD_ACTIVITIES.items():
        hit = (tab == table) & (fname == field)
        if isinstance(name, dict):
            for value, label in name.items():
                expr = expr.when(hit & (new == value)).then(pl.lit(label))
        else:
            expr = expr.when(hit).then(pl.lit(name))
    tcode = pl.col("tcode").fill_null("").str.to_uppercase()
    expr = expr.when(tcode.is_in(list(TCODE_ACTIVITIES))).then(
        tcode.replace_strict(TCODE_ACTIVITIES, default=None)
    )
    return expr.otherwise(pl.format("Change {} ({})", fname, tab))


def _fold_changes(rows: pl.DataFrame) -> pl.DataFrame:
    """One event per (case, change document, activity); a creating change document is one event."""
    group = ["case_id", "OBJECTCLAS", "OBJECTID", "CHANGENR"]
    ins = pl.col("CHNGIND").str.to_uppercase().is_in(["I", "J"])
    prio = pl.col("TABNAME").replace_strict(
        {t: i for i, t in enumerate(INSERT_ACTIVITIES)}, default=len(INSERT_ACTIVITIES), return_dtype=pl.Int64
    )
    rows = rows.with_columns(ins.alias("_ins"), prio.alias("_tp"))
    creating = pl.col("_ins").any().over(group)
    best = pl.col("_tp").filter(pl.col("_ins")).min().over(group)
    rows = rows.filter(~creating | (pl.col("_ins") & (pl.col("_tp") == best)))
    events = rows.group_by([*group, "activity"], maintain_order=True).agg(
        pl.col("_local").first(),
        pl.col("resource").first(),
        pl.col("tcode").first(),
        pl.format("{}-{}", "TABNAME", "FNAME").unique(maintain_order=True).str.join(", ").alias("fields"),
        pl.col("VALUE_OLD").drop_nulls().str.join("; ").alias("value_old"),
        pl.col("VALUE_NEW").drop_nulls().str.join("; ").alias("value_new"),
        pl.format("{} row {}", "_where", "_row").first().alias(SOURCE_ROW),
    )
    return events.select(
        "case_id",
        "activity",
        "_local",
        pl.lit(False).alias("_dated"),
        "resource",
        pl.col("CHANGENR").alias("document"),
        "tcode",
        "fields",
        pl.col("value_old").replace("", None),
        pl.col("value_new").replace("", None),
        SOURCE_ROW,
        pl.col("activity").replace_strict(_RANK, default=3, return_dtype=pl.Int64).alias("_rank"),
        pl.lit(0).alias("_prio"),
    )


# ------------------------------------------------------------------ merging


def _deduplicate(events: pl.DataFrame, notes: list[str]) -> pl.DataFrame:
    # An item is created once: a precise creation anywhere replaces the dated one; goods
    # and invoice receipts repeat, so only a precise one on the same date replaces them.
    once = pl.col("activity").is_in(["Create Purchase Requisition", "Create Purchase Order Item"])
    day = pl.when(once).then(pl.lit(None, pl.Date)).otherwise(pl.col("_local").dt.date()).alias("_day")
    precise = events.filter(~pl.col("_dated")).select("case_id", "activity", day).unique()
    before = events.height
    events = events.with_columns(day).join(
        precise.with_columns(pl.lit(True).alias("_has_precise")),
        on=["case_id", "activity", "_day"],
        how="left",
        nulls_equal=True,
        maintain_order="left",
    )
    events = events.filter(~(pl.col("_dated") & pl.col("_has_precise").fill_null(False))).drop(
        "_day", "_has_precise"
    )
    if before - events.height:
        notes.append(
            "date-only events replaced by the same event of the PO item at a precise time (e.g. EKKO's "
            f"creation date by the ME21N change document): {before - events.height}"
        )
    before = events.height
    events = events.sort("_prio", maintain_order=True).unique(
        ["case_id", "activity", "_local"], keep="first", maintain_order=True
    )
    if before - events.height:
        notes.append(f"events found in two tables at the same time, merged: {before - events.height}")
    return events


def _attach_attributes(events: pl.DataFrame, t: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Vendor and company code (EKKO), material and net value (EKPO) on every event of the item."""
    events = events.with_columns(
        pl.col("case_id").str.split_exact("/", 1).struct.rename_fields(["_po", "_it"]).alias("_k")
    ).unnest("_k")
    if "EKKO" in t:
        ekko = t["EKKO"]
        events = events.join(
            ekko.select(
                pl.col("EBELN").alias("_po"),
                _opt(ekko, "LIFNR").alias("vendor"),
                _opt(ekko, "BUKRS").alias("company_code"),
            ).unique("_po"),
            on="_po",
            how="left",
            maintain_order="left",
        )
    if "EKPO" in t:
        ekpo = t["EKPO"]
        events = events.join(
            ekpo.select(
                pl.col("EBELN").alias("_po"),
                pl.col("EBELP").alias("_it"),
                _opt(ekpo, "MATNR").alias("material"),
                _opt(ekpo, "NETWR").alias("net_value"),
            ).unique(["_po", "_it"]),
            on=["_po", "_it"],
            how="left",
            maintain_order="left",
        )
    return events.drop("_po", "_it")


PRESET = Preset(
    name="sap",
    title="SAP purchase-to-pay (change documents and EBAN/EKKO/EKPO/EKBE/RBKP/RSEG)",
    description=(
        "SAP ECC or S/4HANA table extracts: CDHDR/CDPOS change documents and the purchasing tables. One case "
        "per purchase-order item (EBELN/EBELP); needs the server's time zone (--timezone)."
    ),
    detect=detect,
    build=build,
)
