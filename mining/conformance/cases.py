"""The deviating cases of a check: which cases they are, and the table written for a spreadsheet."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mining.conformance.records import DeviatingCase
from mining.conformance.sentences import describe
from mining.durations import format_duration
from mining.errors import ConformanceError
from mining.spreadsheet import TABLE_SUFFIXES, write_table

if TYPE_CHECKING:
    from mining.conformance.records import ConformanceResult
    from mining.store import Store

__all__ = ["CASES_HEADER", "CASES_SHEET", "CASES_SQL", "case_rows", "deviating_cases", "export_cases"]

#: The checked cases of some stored variants, with their durations.
CASES_SQL = """
SELECT case_id, variant_id, duration_s FROM cases
WHERE log_id = $log AND list_contains($vids, variant_id) {selection}
ORDER BY case_id
"""

#: The columns of :func:`export_cases`.
CASES_HEADER = ("case", "variant", "deviations", "duration_seconds", "duration")
CASES_SHEET = "deviating cases"


def deviating_cases(
    store: Store, result: ConformanceResult, *, limit: int | None = None
) -> list[DeviatingCase]:
    """The checked cases whose variant has a deviation that was not accepted, by case id."""
    from mining.analysis.filters import case_selection

    text: dict[int, str] = {}
    for v in result.variants:
        if v.deviations:
            for vid in v.stored_variant_ids:
                text[vid] = describe(v.deviations)
    if not text:
        return []
    params: dict[str, Any] = {"log": result.log_id, "vids": sorted(text)}
    selection = ""
    if result.filter is not None and not result.filter.is_empty:
        selection = f"AND case_no IN ({case_selection(store, result.log_id, result.filter, params)})"
    sql = CASES_SQL.format(selection=selection) + (" LIMIT $limit" if limit is not None else "")
    if limit is not None:
        params["limit"] = limit
    return [
        DeviatingCase(str(c), int(v), text[int(v)], float(d)) for c, v, d in store.query(sql, params).rows
    ]


def export_cases(cases: Sequence[DeviatingCase], path: str | Path) -> int:
    """Write deviating cases to ``.csv`` or ``.xlsx``; text that a spreadsheet would run is neutralised."""
    path = Path(path)
    if path.suffix.lower() not in TABLE_SUFFIXES:
        msg = f"cannot write deviating cases to {path.name!r}: expected a .csv or .xlsx file"
        raise ConformanceError(msg)
    return write_table(path, CASES_HEADER, case_rows(cases), sheet=CASES_SHEET, error=ConformanceError)


def case_rows(cases: Sequence[DeviatingCase]) -> list[tuple[object, ...]]:
    """The rows of the deviating-cases table under :data:`CASES_HEADER` (a file or a download)."""
    return [
        (c.case_id, c.variant_id, c.deviations, c.duration_s, format_duration(c.duration_s)) for c in cases
    ]
