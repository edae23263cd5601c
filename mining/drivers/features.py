"""Candidate drivers: one categorical value per case for every attribute and derived feature.

Candidates, each with the instant its value became known (for the leakage
guard of :mod:`mining.drivers.find`):

* **case attributes**: a source column whose filled values are the same on
  every event of a case (in at least 95 % of the cases that fill it).  The
  value is known from the first event that fills it;
* **first-event attributes**: every other column, as it is on the case's first
  event (known at the start);
* **derived at the start**: the start's weekday, hour and month (local time of
  the log, or of the calendar) and the work in progress when the case started
  (cases started before and not yet ended);
* **handled by**: for each activity in at least 5 % of the cases, the
  resource of its first execution (known when that execution completed);
* **mechanisms**, measured over the whole case: the number of hand-offs
  (consecutive activities by different resources), whether the case contains
  each activity (those in 5-95 % of cases) and whether it repeats an
  activity (a loop).  They happen during the case, so they describe how slow
  cases unfold rather than what they were from the start; they are labelled
  so.

Numbers with more than :data:`MAX_LEVELS` distinct values are cut at their
quartiles (``≤ 350``, ``350 to 700``, ...).  A case without a value has the
value ``(empty)``, which is tested like any other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mining.analysis.filters import Filter, events_relation

if TYPE_CHECKING:
    from mining.monitor.periods import CaseFacts
    from mining.store import Store

__all__ = ["EMPTY", "MAX_LEVELS", "Candidate", "candidates"]

#: The value of a case that has none.
EMPTY = "(empty)"
#: A numeric attribute with more distinct values than this is cut at its quartiles.
MAX_LEVELS = 12
#: Share of the filled cases in which a column must be constant to count as a case attribute.
CONSTANT_SHARE = 0.95
#: An activity must occur in at least this share of cases to get "handled by" and "contains" features.
ACTIVITY_SHARE = 0.05

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# Every kept event's attribute values in case order, first event first (by time, then row): one
# ordered scan instead of four aggregates per column over every case, which DuckDB's hash aggregate
# pays dearly for with string minima and maxima.  The per-case figures are then reduced with numpy
# over dictionary codes.  A LEFT JOIN keeps events without attribute row as empty values.
_ROWS_SQL = """
WITH ev AS ({events})
SELECT ev.case_no, epoch(ev.ts) AS t, {cols} FROM ev LEFT JOIN {table} a USING (row_no)
ORDER BY ev.case_no, ev.ts, ev.row_no
"""

_HANDLED_SQL = """
WITH ev AS ({events})
SELECT activity, case_no, arg_min(resource, struct_pack(t := ts, r := row_no)) AS resource, epoch(min(ts)) AS s
FROM ev WHERE resource IS NOT NULL AND list_contains($h_acts, activity) GROUP BY activity, case_no
"""

_CASE_SQL = """
WITH ev AS ({events})
SELECT case_no, count(*) AS n_events, count(DISTINCT activity) AS n_act,
       count(*) FILTER (WHERE prev_res IS NOT NULL AND resource IS NOT NULL AND prev_res <> resource) AS handoffs
FROM (SELECT *, lag(resource) OVER (PARTITION BY case_no ORDER BY ts, row_no) AS prev_res FROM ev) e
GROUP BY case_no ORDER BY case_no
"""

_PRESENCE_SQL = """
WITH ev AS ({events})
SELECT DISTINCT case_no, activity FROM ev
"""


@dataclass(frozen=True, eq=False)
class Candidate:
    """One candidate driver: a label per case (``codes`` index ``labels``; aligned with the case facts).

    ``known_at`` is the epoch second at which each case's value became known
    (``NaN``: at the start or not applicable); ``kind`` is ``case attribute``,
    ``first event``, ``derived``, ``handled by`` or ``mechanism``.
    """

    attribute: str
    kind: str
    codes: np.ndarray
    labels: tuple[str, ...]
    known_at: np.ndarray | None = None
    source: str | None = None  # the source column, for attributes (filters by it)


def candidates(store: Store, log_id: int, flt: Filter | None, facts: CaseFacts) -> list[Candidate]:
    """Every candidate of the kept cases, aligned with ``facts`` (ordered by case number)."""
    flt = flt or Filter()
    ev = events_relation(store, log_id, flt)
    out: list[Candidate] = []
    out += _attributes(store, log_id, ev.sql, ev.params, facts)
    out += _start_features(facts)
    out += _case_features(store, ev.sql, ev.params, facts)
    return out


def _align(case_no: np.ndarray, facts: CaseFacts) -> np.ndarray:
    """Positions in ``facts`` of each case number (facts are sorted by case number)."""
    return np.searchsorted(facts.case_no, case_no)


def _attributes(store: Store, log_id: int, events: str, params: dict, facts: CaseFacts) -> list[Candidate]:
    columns = store.query(
        "SELECT column_name, source_name FROM attribute_columns WHERE log_id = ? ORDER BY position", [log_id]
    ).rows
    if not columns:
        return []
    from mining.store import quote_ident

    cols = ", ".join(f"a.{quote_ident(c)} AS {quote_ident(c)}" for c, _ in columns)
    rows = store.arrow(_ROWS_SQL.format(events=events, table=f"attrs_{int(log_id)}", cols=cols), params)
    if rows.num_rows == 0:
        return []
    case = np.asarray(rows.column("case_no").to_numpy())
    starts = np.flatnonzero(np.r_[True, case[1:] != case[:-1]])
    pos = _align(case[starts], facts)
    t = _np(rows.column("t"))
    n = facts.n
    out = []
    for c, source in columns:
        per_case = _per_case(rows.column(c), starts)
        if per_case is None:
            continue
        values, code, lo, hi = per_case
        filled = lo < len(values)
        if (lo == hi)[filled].mean() >= CONSTANT_SHARE:
            # Events are in time order within a case, so this is the time of the first filled one.
            at = np.minimum.reduceat(np.where(code >= 0, t, np.inf), starts)
            known = np.full(n, np.nan)
            known[pos] = np.where(filled, at, np.nan)
            out.append(_encoded(source, "case attribute", _take(values, lo, filled), pos, n, known, source))
        else:
            first = code[starts]
            column = _take(values, first, first >= 0)
            out.append(_encoded(f"{source} (first event)", "first event", column, pos, n, None, source))
    return out


def _per_case(column: Any, starts: np.ndarray) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray] | None:
    """A column's distinct values, each event's code (-1: empty) and per case (rows grouped from ``starts``)
    the codes of the smallest and largest value (the smallest is ``len(values)`` when no event fills it).

    Codes index the distinct values sorted as the database sorts them (Arrow's order: bytes of text,
    numbers by value), so the smallest code is the smallest value.  ``None`` when no event fills it.
    """
    import pyarrow.compute as pc

    encoded = column.combine_chunks().dictionary_encode() if hasattr(column, "combine_chunks") else column
    k = len(encoded.dictionary)
    if k == 0:
        return None
    order = np.asarray(pc.sort_indices(encoded.dictionary).to_numpy(), dtype=np.int64)
    rank = np.empty(k + 1, dtype=np.int64)
    rank[order] = np.arange(k)
    rank[k] = -1  # an empty event (index -1 picks it)
    code = rank[np.asarray(encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)]
    lo = np.minimum.reduceat(np.where(code >= 0, code, k), starts)
    hi = np.maximum.reduceat(code, starts)
    return encoded.dictionary.take(order), code, lo, hi


def _take(values: Any, code: np.ndarray, ok: np.ndarray) -> Any:
    """The values of ``code`` per case, null where not ``ok``."""
    import pyarrow as pa

    return values.take(pa.array(np.where(ok, code, 0), mask=~ok))


def _np(column: Any) -> np.ndarray:
    import pyarrow as pa

    return np.asarray(column.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=float)


def _encoded(
    name: str,
    kind: str,
    column: Any,
    pos: np.ndarray,
    n: int,
    known: np.ndarray | None,
    source: str | None,
    *,
    bin_numbers: bool = True,
) -> Candidate:
    """Codes and labels of a text column (Arrow) placed at ``pos`` among ``n`` cases.

    Dictionary-encoded in Arrow, so only the distinct values reach Python; numbers with more than
    :data:`MAX_LEVELS` distinct values are cut at their quartiles.
    """
    encoded = (
        column.combine_chunks().dictionary_encode()
        if hasattr(column, "combine_chunks")
        else (column.dictionary_encode())
    )
    distinct = [str(v) for v in encoded.dictionary.to_pylist()]
    idx = np.asarray(encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
    codes = np.full(n, -1, dtype=np.int64)
    codes[pos] = idx
    numbers = _numbers(set(distinct)) if bin_numbers and len(distinct) > MAX_LEVELS else None
    if numbers is not None:
        lookup = np.array([numbers[v] for v in distinct] + [np.nan], dtype=float)
        return _binned(name, kind, lookup[codes], known, source)  # code -1 picks the trailing NaN
    order = sorted(range(len(distinct)), key=lambda i: _natural(distinct[i]))
    rank = np.empty(len(distinct) + 1, dtype=np.int64)
    rank[order] = np.arange(len(distinct))
    rank[-1] = len(distinct)
    labels = [distinct[i] for i in order]
    if (codes == -1).any():
        labels.append(EMPTY)
    return Candidate(name, kind, rank[codes], tuple(labels), known, source)


def _numbers(distinct: set[str]) -> dict[str, float] | None:
    out = {}
    for v in distinct:
        try:
            f = float(v)
        except ValueError:
            return None
        if not math.isfinite(f):
            return None
        out[v] = f
    return out


def _natural(text: str) -> tuple[int, float, str]:
    try:
        return (0, float(text), text)
    except ValueError:
        return (1, 0.0, text)


def _binned(name: str, kind: str, x: np.ndarray, known: np.ndarray | None, source: str | None) -> Candidate:
    """Quartile bins of ``x`` (NaN is ``(empty)``); equal cut points merge."""
    ok = ~np.isnan(x)
    cuts = np.unique(np.quantile(x[ok], [0.25, 0.5, 0.75])) if ok.any() else np.array([])
    codes = np.searchsorted(cuts, x, side="left").astype(np.int64)  # x <= cut[0] is bin 0
    labels = []
    for i in range(len(cuts) + 1):
        if i == 0:
            labels.append(f"≤ {_num(cuts[0])}" if len(cuts) else "all")
        elif i == len(cuts):
            labels.append(f"> {_num(cuts[-1])}")
        else:
            labels.append(f"{_num(cuts[i - 1])} to {_num(cuts[i])}")
    if (~ok).any():
        codes[~ok] = len(labels)
        labels.append(EMPTY)
    return Candidate(name, kind, codes, tuple(labels), known, source)


def _num(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 or v == int(v) else f"{v:,.2f}".rstrip("0").rstrip(".")


def _start_features(facts: CaseFacts) -> list[Candidate]:
    local = np.asarray(facts.first_local, dtype=float)
    ok = ~np.isnan(local)
    days = np.floor(np.where(ok, local, 0) / 86_400).astype(np.int64)
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday
    hour = ((np.where(ok, local, 0) - days * 86_400) // 3600).astype(np.int64)
    month = (days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12).astype(np.int64)
    out = []
    for name, codes, labels in (
        ("start weekday", weekday, _WEEKDAYS),
        ("start hour", hour, tuple(f"{h:02d}:00-{h:02d}:59" for h in range(24))),
        ("start month", month, _MONTHS),
    ):
        c = np.where(ok, codes, len(labels))
        out.append(Candidate(name, "derived", c, (*labels, EMPTY) if (~ok).any() else labels))
    # Work in progress at the start: cases started before this one and not ended by then.
    first, last = np.asarray(facts.first, float), np.asarray(facts.last, float)
    wip = np.searchsorted(np.sort(first), first, side="left") - np.searchsorted(
        np.sort(last), first, side="right"
    )
    out.append(_binned("work in progress at start", "derived", wip.astype(float), None, None))
    return out


def _case_features(store: Store, events: str, params: dict, facts: CaseFacts) -> list[Candidate]:
    n = facts.n
    table = store.arrow(_CASE_SQL.format(events=events), params)
    pos = _align(np.asarray(table.column("case_no").to_numpy()), facts)
    handoffs = np.full(n, np.nan)
    handoffs[pos] = _np(table.column("handoffs"))
    loop = np.zeros(n, dtype=bool)
    loop[pos] = _np(table.column("n_events")) > _np(table.column("n_act"))
    out = []
    if not np.all(np.nan_to_num(handoffs) == 0):
        out.append(_small_count("hand-offs", handoffs))
    out.append(Candidate("repeats an activity", "mechanism", np.where(loop, 0, 1), ("yes", "no")))
    presence = store.arrow(_PRESENCE_SQL.format(events=events), params)
    acts = presence.column("activity").combine_chunks().dictionary_encode()
    names = [str(a) for a in acts.dictionary.to_pylist()]
    idx = np.asarray(acts.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    where = _align(np.asarray(presence.column("case_no").to_numpy()), facts)
    counts = np.bincount(idx, minlength=len(names))
    for k in sorted(range(len(names)), key=lambda i: names[i]):
        if ACTIVITY_SHARE * n <= counts[k] <= (1 - ACTIVITY_SHARE) * n:
            has = np.ones(n, dtype=np.int64)
            has[where[idx == k]] = 0
            out.append(Candidate(f"contains {names[k]}", "mechanism", has, ("yes", "no")))
    wanted = sorted(names[k] for k in range(len(names)) if counts[k] >= ACTIVITY_SHARE * n)
    out += _handled_by(store, events, {**params, "h_acts": wanted}, facts)
    return out


def _small_count(name: str, x: np.ndarray) -> Candidate:
    """Counts as their own values up to 3, then ``4 to 5``, ``6 to 9`` and ``10+``."""
    edges = [
        (0, 0, "0"),
        (1, 1, "1"),
        (2, 2, "2"),
        (3, 3, "3"),
        (4, 5, "4 to 5"),
        (6, 9, "6 to 9"),
        (10, math.inf, "10+"),
    ]
    codes = np.full(len(x), len(edges), dtype=np.int64)
    for i, (lo, hi, _) in enumerate(edges):
        codes[(x >= lo) & (x <= hi)] = i
    labels = [label for _, _, label in edges]
    if (codes == len(edges)).any():
        labels.append(EMPTY)
    return Candidate(name, "mechanism", codes, tuple(labels))


def _handled_by(store: Store, events: str, params: dict, facts: CaseFacts) -> list[Candidate]:
    n = facts.n
    if not params["h_acts"]:
        return []
    table = store.arrow(_HANDLED_SQL.format(events=events), params)
    if table.num_rows == 0:
        return []
    acts = table.column("activity").combine_chunks().dictionary_encode()
    names = [str(a) for a in acts.dictionary.to_pylist()]
    idx = np.asarray(acts.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    pos = _align(np.asarray(table.column("case_no").to_numpy()), facts)
    seconds = _np(table.column("s"))
    resource = table.column("resource").combine_chunks()
    out = []
    for k in sorted(range(len(names)), key=lambda i: names[i]):
        rows = np.flatnonzero(idx == k)
        known = np.full(n, np.nan)
        known[pos[rows]] = seconds[rows]
        name = f"{names[k]} handled by"
        cand = _encoded(name, "handled by", resource.take(rows), pos[rows], n, known, None, bin_numbers=False)
        if len([x for x in cand.labels if x != EMPTY]) >= 2:
            out.append(cand)
    return out
