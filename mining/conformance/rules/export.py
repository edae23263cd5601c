"""A rule's violating cases written for a spreadsheet: one CSV row per case."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mining.conformance.rules.check import violations
from mining.errors import OutputError
from mining.spreadsheet import csv_bytes

if TYPE_CHECKING:
    from mining.analysis.calendar import Calendar
    from mining.analysis.filters import Filter
    from mining.conformance.rules.rule import Rule
    from mining.store import Store

__all__ = ["VIOLATIONS_HEADER", "export_violations"]

VIOLATIONS_HEADER = ("rule", "type", "case_id", "seconds")


def export_violations(
    store: Store,
    log_id: int,
    rule: Rule,
    path: str | Path,
    flt: Filter | None = None,
    *,
    calendar: Calendar | None = None,
) -> int:
    """Write the violating cases of ``rule`` to CSV (``rule, type, case_id, seconds``); return how many.

    The file is CSV whatever its suffix.  ``seconds`` is filled for max-time
    (A to B, or A to the log's end).  Cells a spreadsheet would run as a
    formula are neutralised (:func:`mining.spreadsheet.safe_cell`).
    """
    rows = [
        (rule.name, rule.type, case, "" if seconds is None else f"{seconds:.3f}".rstrip("0").rstrip("."))
        for case, seconds in violations(store, log_id, rule, flt, calendar=calendar)
    ]
    path = Path(path)
    try:
        path.write_bytes(csv_bytes(VIOLATIONS_HEADER, rows))
    except OSError as exc:
        msg = f"cannot write {path}: {exc.strerror or exc}"
        raise OutputError(msg) from exc
    return len(rows)
