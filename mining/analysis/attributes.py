"""The log's extra columns (attributes) summarised: their values for the filter bar and the Overview.

An attribute is a **case attribute** when it has one value per case (every
event of a case carries the same value, as XES trace attributes do once
flattened), else an **event attribute**.  It is **numeric** when every
non-empty value reads as a number.  Counts are of cases: a value "covers" a
case when any of its events carries it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mining.analysis.filters import Filter, case_selection

if TYPE_CHECKING:
    from mining.store import Store

__all__ = ["AttributeSummary", "attribute_summaries", "case_attributes"]

_TOP = 8


@dataclass(frozen=True)
class AttributeSummary:
    name: str
    level: str  # "case" or "event"
    numeric: bool
    distinct: int  # distinct non-empty values
    cases: int  # cases with a value
    top: tuple[tuple[str, int], ...]  # the most frequent values with their cases
    minimum: float | None = None
    median: float | None = None
    maximum: float | None = None


def attribute_summaries(
    store: Store, log_id: int, flt: Filter | None = None, *, top: int = _TOP
) -> tuple[AttributeSummary, ...]:
    """Every attribute of the log, in file order, over the kept cases (the values' cases, not events)."""
    columns = store.query(
        "SELECT column_name, source_name FROM attribute_columns WHERE log_id = ? ORDER BY position", [log_id]
    ).rows
    if not columns:
        return ()
    params: dict[str, Any] = {"log": log_id}
    kept = ""
    if flt is not None and not flt.is_empty:
        kept = f" AND e.case_no IN ({case_selection(store, log_id, flt, params)})"
    out = []
    for column, name in columns:
        # Internal names are a1, a2, ... (mining.ingest): safe to place in SQL.
        if not (column.startswith("a") and column[1:].isdigit()):
            continue
        base = (
            f"SELECT e.case_no, NULLIF(trim(a.\"{column}\"), '') AS v FROM events e "
            f"JOIN attrs_{int(log_id)} a USING (row_no) WHERE e.log_id = $log{kept}"
        )
        distinct, cases, per_case, numeric, lo, mid, hi = store.query(
            f"WITH x AS ({base}) SELECT count(DISTINCT v), count(DISTINCT case_no) FILTER (WHERE v IS NOT NULL), "
            "(SELECT coalesce(max(k), 0) FROM (SELECT count(DISTINCT v) AS k FROM x GROUP BY case_no)), "
            "count(*) FILTER (WHERE v IS NOT NULL) = count(TRY_CAST(v AS DOUBLE)), "
            "min(TRY_CAST(v AS DOUBLE)), median(TRY_CAST(v AS DOUBLE)), max(TRY_CAST(v AS DOUBLE)) FROM x",
            params,
        ).rows[0]
        values = store.query(
            f"WITH x AS ({base}) SELECT v, count(DISTINCT case_no) AS n FROM x WHERE v IS NOT NULL "
            "GROUP BY v ORDER BY n DESC, v LIMIT $top",
            {**params, "top": top},
        ).rows
        is_number = bool(numeric) and int(distinct) > 0
        out.append(
            AttributeSummary(
                str(name),
                "case" if int(per_case) <= 1 else "event",
                is_number,
                int(distinct),
                int(cases),
                tuple((str(v), int(n)) for v, n in values),
                float(lo) if is_number and lo is not None else None,
                float(mid) if is_number and mid is not None else None,
                float(hi) if is_number and hi is not None else None,
            )
        )
    return tuple(out)


def case_attributes(store: Store, log_id: int, case_id: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Each attribute of one case with its distinct non-empty values (in event order); empty ones left out."""
    out = []
    for column, name in store.query(
        "SELECT column_name, source_name FROM attribute_columns WHERE log_id = ? ORDER BY position", [log_id]
    ).rows:
        if not (column.startswith("a") and column[1:].isdigit()):
            continue
        [values] = store.query(
            f"SELECT coalesce(list(DISTINCT v), []) FROM (SELECT NULLIF(trim(a.\"{column}\"), '') AS v "
            f"FROM events e JOIN attrs_{int(log_id)} a USING (row_no) WHERE e.log_id = $log AND e.case_id = $case) "
            "WHERE v IS NOT NULL",
            {"log": log_id, "case": case_id},
        ).rows[0]
        if values:
            out.append((str(name), tuple(sorted(str(v) for v in values))))
    return tuple(out)
