"""The directly-follows graph of a projected log (activities kept or removed), from the log's events
held in memory in (case, time, row) order.

The process map's Activities slider projects the log onto its most frequent
activities: every new value is a new projection, whose successors
:func:`~mining.analysis.dfg.dfg` recomputes with a window sorted per case
over every kept event (about half a second on 1M events).  Held once per log
as three arrays (case, activity code, epoch seconds: 16 bytes an event), the
same graph is a mask, a shift and a sort per path: a tenth of that.

The figures are :func:`~mining.analysis.dfg.dfg`'s, computed the same way:
times are ``epoch(next_ts) - epoch(ts)`` in seconds (the same double
arithmetic), the median and p90 ``quantile_cont``'s interpolation between the
closest ranks to the last bit, and the cases per path come from the same representative case
per variant (:data:`~mining.analysis.dfg.PROJECTED_EDGE_CASES_SQL`).  Only the
mean may differ in its last bits (a sum in another order).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from mining.analysis.bounds import check_activities
from mining.analysis.dfg import DFG, Edge, dfg, edge_cases
from mining.analysis.filters import Filter, case_selection

if TYPE_CHECKING:
    import numpy as np

    from mining.store import Store

__all__ = ["EventOrder", "event_order", "reprojected_dfg"]


@dataclass(frozen=True, eq=False)
class EventOrder:
    """A log's events in (case, time, row) order: ``case_no``, the index of each event's activity in
    ``names``, and its time in epoch seconds (as DuckDB's ``epoch(ts)``).  The arrays are read-only."""

    names: tuple[str, ...]
    case_no: np.ndarray
    code: np.ndarray
    seconds: np.ndarray

    @property
    def events(self) -> int:
        return len(self.code)


def event_order(store: Store, log_id: int) -> EventOrder:
    """Read ``log_id``'s events into an :class:`EventOrder`.

    The events are stored in (case, time, row) order (:mod:`mining.ingest`): they are read as stored,
    without a sort, and the order is checked; rows found out of order are sorted here.
    """
    import numpy as np
    import pyarrow.compute as pc

    table = store.arrow(
        "SELECT case_no, activity, epoch_us(ts) AS us, row_no FROM events WHERE log_id = $log",
        {"log": log_id},
    )
    case_no = table.column("case_no").to_numpy().astype(np.int64)
    micros = table.column("us").to_numpy().astype(np.int64)
    row_no = table.column("row_no").to_numpy().astype(np.int64)
    encoded = pc.dictionary_encode(table.column("activity")).combine_chunks()
    code = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int32)
    dc, du, dr = np.diff(case_no), np.diff(micros), np.diff(row_no)
    if not bool(np.all((dc > 0) | ((dc == 0) & ((du > 0) | ((du == 0) & (dr > 0)))))):
        by = np.lexsort((row_no, micros, case_no))
        case_no, micros, code = case_no[by], micros[by], code[by]
    # epoch(ts) is the microseconds over 1e6 in doubles: the same division gives the same bits.
    seconds = micros.astype(np.float64) / 1e6
    for a in (case_no, code, seconds):
        a.setflags(write=False)
    return EventOrder(tuple(str(x) for x in encoded.dictionary.to_pylist()), case_no, code, seconds)


def reprojected_dfg(store: Store, log_id: int, flt: Filter, order: EventOrder) -> DFG:
    """:func:`~mining.analysis.dfg.dfg` of ``log_id`` under ``flt`` (which projects events), from
    ``order``; a filter that projects nothing is handed to :func:`~mining.analysis.dfg.dfg`."""
    import numpy as np

    if not flt.projects_events:
        return dfg(store, log_id, flt)
    check_activities(store, log_id)
    names = order.names
    keep = np.ones(len(names), dtype=bool)
    if flt.activities_keep:
        keep &= np.isin(np.array(names, dtype=object), np.array(flt.activities_keep, dtype=object))
    if flt.activities_remove:
        keep &= ~np.isin(np.array(names, dtype=object), np.array(flt.activities_remove, dtype=object))
    mask = keep[order.code] if len(names) else np.zeros(order.events, dtype=bool)
    cases = _kept_cases(store, log_id, flt, order)
    if cases is not None:
        mask &= cases[order.case_no]
    case_no, code, seconds = order.case_no[mask], order.code[mask], order.seconds[mask]
    if len(code) == 0:
        return DFG(edges=(), start={}, end={}, activities={}, cases=0, events=0)
    same = case_no[1:] == case_no[:-1]
    k = len(names)
    per_activity = np.bincount(code, minlength=k)
    last = np.ones(len(code), dtype=bool)
    last[:-1] = ~same
    ends = np.bincount(code[last], minlength=k)
    source, target = code[:-1][same], code[1:][same]
    wait = seconds[1:][same] - seconds[:-1][same]
    key = source.astype(np.int64) * k + target
    by_key = np.argsort(key, kind="stable")
    key, wait = key[by_key], wait[by_key]
    bounds = np.flatnonzero(np.diff(key)) + 1
    starts = np.concatenate(([0], bounds)) if len(key) else np.zeros(0, dtype=np.int64)
    stops = np.concatenate((bounds, [len(key)])) if len(key) else np.zeros(0, dtype=np.int64)
    cases_of = edge_cases(store, log_id, flt)
    incoming = np.bincount(target, minlength=k)
    edges = []
    for lo, hi in zip(starts.tolist(), stops.tolist(), strict=True):
        values = np.sort(wait[lo:hi])
        a, b = divmod(int(key[lo]), k)
        src, tgt = names[a], names[b]
        edges.append(
            Edge(
                src,
                tgt,
                hi - lo,
                cases_of[src, tgt],
                float(values.mean()),
                _quantile(values, 0.5),
                _quantile(values, 0.9),
            )
        )
    activities = {names[i]: int(n) for i in range(k) if (n := per_activity[i])}
    start = {a: n - int(incoming[names.index(a)]) for a, n in activities.items()}
    end = {names[i]: int(n) for i in range(k) if (n := ends[i])}
    edges.sort(key=lambda e: (-e.count, e.source, e.target))
    return DFG(
        edges=tuple(edges),
        start=_ranked({a: n for a, n in start.items() if n > 0}),
        end=_ranked(end),
        activities=_ranked(activities),
        cases=sum(end.values()),
        events=sum(activities.values()),
    )


def _kept_cases(store: Store, log_id: int, flt: Filter, order: EventOrder) -> np.ndarray | None:
    """A lookup by case number of the cases the filter's other conditions keep; ``None``: every case."""
    import dataclasses

    import numpy as np

    rest = dataclasses.replace(flt, activities_keep=(), activities_remove=())
    if rest.is_empty:
        return None
    params: dict[str, Any] = {}
    rows = store.arrow(case_selection(store, log_id, rest, params), params)
    kept = np.zeros(int(order.case_no.max(initial=0)) + 1, dtype=bool)
    numbers = rows.column(0).to_numpy()
    kept[numbers[numbers < len(kept)]] = True
    return kept


def _quantile(values: np.ndarray, q: float) -> float:
    """``quantile_cont`` of sorted ``values`` to the last bit, as DuckDB computes it: between the ranks
    ``floor`` and ``ceil`` of ``rn = (n - 1) * q``, ``lo * (1 - d) + hi * d`` with the first product
    fused into the sum (one rounding, as its build does; a plain sum differs in the last bit)."""
    rn = (len(values) - 1) * q
    lo, hi = math.floor(rn), math.ceil(rn)
    if lo == hi:
        return float(values[lo])
    d = rn - lo
    low, high = float(values[lo]), float(values[hi])
    return float(Fraction(low) * Fraction(1.0 - d) + Fraction(high * d))


def _ranked(counts: dict[str, int]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
