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

A column with a different value on every event (an event or instance id) is
no candidate: it is listed as left out.

Numbers with more than :data:`MAX_LEVELS` distinct values are cut at their
quartiles (``≤ 350``, ``350 to 700``, ...).  A case without a value has the
value ``(empty)``, which is tested like any other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from mining.analysis.attributes import looks_like_dates
from mining.analysis.filters import Filter, events_relation
from mining.schema import NON_COMPLETION, NOT_EXECUTION
from mining.store import numpy_column

if TYPE_CHECKING:
    from mining.monitor.periods import CaseFacts
    from mining.store import Store

__all__ = ["DATES", "EMPTY", "IDENTIFIER", "MAX_LEVELS", "Candidate", "candidates"]

#: The value of a case that has none.
EMPTY = "(empty)"
#: The kind of a column with a different value on every event: reported as left out, never tested.
IDENTIFIER = "identifier"
#: The kind of a column of dates or times written as text (an export's opened_at, closed_at): left out too.
DATES = "dates"
#: A numeric attribute with more distinct values than this is cut at its quartiles.
MAX_LEVELS = 12
#: Share of the filled cases in which a column must be constant to count as a case attribute.
CONSTANT_SHARE = 0.95
#: An activity must occur in at least this share of cases to get "handled by" and "contains" features.
ACTIVITY_SHARE = 0.05

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# Every kept event in case order, first event first (by time, then row), with its activity, resource
# and attribute values: one ordered scan from which every per-case figure is reduced with numpy over
# dictionary codes.  It replaces four aggregates per attribute column over every case (DuckDB's hash
# aggregate pays dearly for string minima and maxima), a window query for the hand-offs and two more
# scans for the activities and their resources.  A LEFT JOIN keeps events without attribute row.
_ROWS_SQL = """
WITH ev AS ({events})
SELECT ev.case_no AS case_no, epoch(ev.ts) AS t, ev.activity AS activity, ev.resource AS resource,
       ev.lifecycle AS lifecycle{cols}
FROM ev{join} ORDER BY ev.case_no, ev.ts, ev.row_no
"""


@dataclass(frozen=True, eq=False)
class Candidate:
    """One candidate driver: a label per case (``codes`` index ``labels``; aligned with the case facts).

    ``known_at`` is the epoch second at which each case's value became known
    (``NaN``: at the start or not applicable); ``kind`` is ``case attribute``,
    ``first event``, ``derived``, ``handled by``, ``mechanism`` or
    ``identifier`` (a column with a different value on every event, left out).
    """

    attribute: str
    kind: str
    codes: np.ndarray
    labels: tuple[str, ...]
    known_at: np.ndarray | None = None
    source: str | None = None  # the source column, for attributes (filters by it)
    # The cases it says something about (None: all): who handled an activity, of the cases that do it.
    scope: np.ndarray | None = None


def candidates(store: Store, log_id: int, flt: Filter | None, facts: CaseFacts) -> list[Candidate]:
    """Every candidate of the kept cases, aligned with ``facts`` (ordered by case number)."""
    from mining.store import quote_ident

    flt = flt or Filter()
    ev = events_relation(store, log_id, flt)
    columns = store.query(
        "SELECT column_name, source_name FROM attribute_columns WHERE log_id = ? ORDER BY position", [log_id]
    ).rows
    cols = "".join(f", a.{quote_ident(c)} AS {quote_ident(c)}" for c, _ in columns)
    join = f" LEFT JOIN {quote_ident(f'attrs_{int(log_id)}')} a USING (row_no)" if columns else ""
    rows = store.arrow(_ROWS_SQL.format(events=ev.sql, cols=cols, join=join), ev.params)
    _, found = facts.kept(np.asarray(numpy_column(rows.column("case_no"))))
    if not found.all():
        import pyarrow as pa

        rows = rows.filter(pa.array(found))  # the events of cases the facts left out
    if rows.num_rows == 0:
        return _start_features(facts)
    events = _Events(rows, facts)
    out: list[Candidate] = []
    out += _attributes(events, columns, facts)
    out += _start_features(facts)
    out += _case_features(events, facts)
    return out


class _Events:
    """The ordered events: where each case's rows start and the case's position in the facts."""

    def __init__(self, rows: Any, facts: CaseFacts) -> None:
        self.rows = rows
        self.case = np.asarray(numpy_column(rows.column("case_no")))
        self.starts = np.flatnonzero(np.r_[True, self.case[1:] != self.case[:-1]])
        self.pos = _align(self.case[self.starts], facts)
        # Each event's case as 0..cases-1 (for bincount).
        self.index = np.cumsum(np.r_[False, self.case[1:] != self.case[:-1]])
        self.t = _np(rows.column("t"))


def _align(case_no: np.ndarray, facts: CaseFacts) -> np.ndarray:
    """Positions in ``facts`` of each case number (facts are sorted by case number)."""
    return np.searchsorted(facts.case_no, case_no)


def _attributes(events: _Events, columns: list[tuple[str, str]], facts: CaseFacts) -> list[Candidate]:
    starts, pos, n = events.starts, events.pos, facts.n
    out = []
    for c, source in columns:
        per_case = _per_case(events.rows.column(c), starts)
        if per_case is None:
            continue
        values, code, lo, hi = per_case
        if len(values) == int((code >= 0).sum()) > len(starts) and _id_like(values):
            # A different value on every event (an event or instance id): nothing cases share.
            out.append(Candidate(source, IDENTIFIER, np.zeros(n, dtype=np.int64), ("",), None, source))
            continue
        if looks_like_dates(values.slice(0, 50).to_pylist()):
            # Each case its own date, and a date set as the case closes (resolved_at) would be a consequence.
            out.append(Candidate(source, DATES, np.zeros(n, dtype=np.int64), ("",), None, source))
            continue
        filled = lo < len(values)
        if (lo == hi)[filled].mean() >= CONSTANT_SHARE:
            # Events are in time order within a case: a case whose value changes has the first one it
            # was given (what it was from the start), filled at that event's time.
            row = np.minimum.reduceat(np.where(code >= 0, np.arange(len(code)), len(code)), starts)
            first = code[np.minimum(row, len(code) - 1)]
            known = np.full(n, np.nan)
            known[pos] = np.where(filled, events.t[np.minimum(row, len(code) - 1)], np.nan)
            out.append(
                _encoded(source, "case attribute", _take(values, first, filled), pos, n, known, source)
            )
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
    order = np.asarray(numpy_column(pc.sort_indices(encoded.dictionary)), dtype=np.int64)
    # 32-bit codes (Arrow's indices are): half the memory traffic of 64-bit ones over a million events.
    rank = np.empty(k + 1, dtype=np.int32)
    rank[order] = np.arange(k, dtype=np.int32)
    rank[k] = -1  # an empty event (index -1 picks it)
    code = rank[np.asarray(encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False))]
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


def _id_like(values: Any) -> bool:
    """Text, or whole numbers: a measurement with decimals may differ on every event and still be one."""
    numbers = _numbers({str(v) for v in values.to_pylist()})
    return numbers is None or all(f.is_integer() for f in numbers.values())


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
    # Looked up in start order: sorted queries walk the sorted arrays instead of jumping about them.
    order = np.argsort(first, kind="stable")
    starts = first[order]
    wip = np.empty(len(first), dtype=np.int64)
    wip[order] = np.searchsorted(starts, starts, side="left") - np.searchsorted(
        np.sort(last), starts, side="right"
    )
    out.append(_binned("work in progress at start", "derived", wip.astype(float), None, None))
    return out


def _codes(column: Any) -> tuple[list[str], np.ndarray]:
    """The distinct values of a text column and each row's index among them (-1: empty)."""
    encoded = (column.combine_chunks() if hasattr(column, "combine_chunks") else column).dictionary_encode()
    names = [str(v) for v in encoded.dictionary.to_pylist()]
    return names, np.asarray(encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)


def _distinct(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct keys, sorted, and the index of each one's first occurrence (``np.unique`` with
    ``return_index``; without it numpy 2 hashes, many times slower on a million keys)."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    start = np.r_[True, ordered[1:] != ordered[:-1]]
    return ordered[start], order[start]


def _case_features(events: _Events, facts: CaseFacts) -> list[Candidate]:
    n = facts.n
    pos, index = events.pos, events.index
    cases = len(pos)
    names, act = _codes(events.rows.column("activity"))
    resource = events.rows.column("resource").combine_chunks()
    _, res = _codes(resource)
    # Hand-offs and loops count activity instances, as the rework analysis does: a start, a schedule
    # or a suspension of an activity is no step of its own.
    done = np.flatnonzero(~_not_completion(events.rows.column("lifecycle")))
    d_index, d_res = index[done], res[done]
    # A hand-off: an instance whose resource differs from the one of the instance before it in the case.
    same_case = d_index[1:] == d_index[:-1]
    handoff = same_case & (d_res[1:] >= 0) & (d_res[:-1] >= 0) & (d_res[1:] != d_res[:-1])
    handoffs = np.full(n, np.nan)
    handoffs[pos] = np.bincount(d_index[1:][handoff], minlength=cases)
    # Distinct (case, activity) pairs: the activities each case contains.
    pairs, first_row = _distinct(index * len(names) + act)
    pair_case, pair_act = pairs // len(names), pairs % len(names)
    done_pairs, _ = _distinct(d_index * len(names) + act[done])
    loop = np.zeros(n, dtype=bool)
    loop[pos] = np.bincount(d_index, minlength=cases) > np.bincount(done_pairs // len(names), minlength=cases)
    out = []
    if not np.all(np.nan_to_num(handoffs) == 0):
        out.append(_small_count("hand-offs", handoffs))
    out.append(Candidate("repeats an activity", "mechanism", np.where(loop, 0, 1), ("yes", "no")))
    counts = np.bincount(pair_act, minlength=len(names))
    # When each case first does each activity (events are in time order): "contains" is known from then on.
    first_at = events.t[first_row]
    for k in sorted(range(len(names)), key=lambda i: names[i]):
        if ACTIVITY_SHARE * n <= counts[k] <= (1 - ACTIVITY_SHARE) * n:
            has = np.ones(n, dtype=np.int64)
            mine = pair_act == k
            has[pos[pair_case[mine]]] = 0
            known = np.full(n, np.nan)
            known[pos[pair_case[mine]]] = first_at[mine]
            out.append(Candidate(f"contains {names[k]}", "mechanism", has, ("yes", "no"), known))
    wanted = {k for k in range(len(names)) if counts[k] >= ACTIVITY_SHARE * n}
    out += _handled_by(events, names, act, resource, res, wanted, facts)
    return out


def _in_lifecycle(column: Any, transitions: tuple[str, ...]) -> np.ndarray:
    """Whether each event's lifecycle (any case) is one of ``transitions``; an event without one is not."""
    import pyarrow as pa
    import pyarrow.compute as pc

    lower = pc.utf8_lower(column.combine_chunks().cast(pa.string()))
    return np.asarray(
        pc.fill_null(pc.is_in(lower, pa.array(transitions)), False).to_numpy(zero_copy_only=False)
    )


def _not_completion(column: Any) -> np.ndarray:
    return _in_lifecycle(column, NON_COMPLETION)


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


def _handled_by(
    events: _Events,
    names: list[str],
    act: np.ndarray,
    resource: Any,
    res: np.ndarray,
    wanted: set[int],
    facts: CaseFacts,
) -> list[Candidate]:
    """Per wanted activity, the resource of each case's first execution that names one, known at its time.

    An execution is a start or a completion: who scheduled, assigned or suspended it (often a system
    user) did not handle it.  Only the cases that do the activity are compared: the rest of them
    is who else handled it, not the cases without it ("contains" says that).
    """
    import pyarrow as pa

    n = facts.n
    other = _in_lifecycle(events.rows.column("lifecycle"), NOT_EXECUTION)
    rows = np.flatnonzero(
        (res >= 0) & ~other & np.isin(act, np.fromiter(wanted, dtype=np.int64, count=len(wanted)))
    )
    if rows.size == 0:
        return []
    # The first such row of each (case, activity): rows are in case order, then time, then row number.
    _, first = _distinct(events.index[rows] * len(names) + act[rows])
    rows = rows[first]
    pos = events.pos[events.index[rows]]
    seconds = events.t[rows]
    out = []
    for k in sorted(wanted, key=lambda i: names[i]):
        mine = rows[act[rows] == k]
        if mine.size == 0:
            continue
        at = pos[act[rows] == k]
        known = np.full(n, np.nan)
        known[at] = seconds[act[rows] == k]
        name = f"{names[k]} handled by"
        cand = _encoded(
            name, "handled by", resource.take(pa.array(mine)), at, n, known, None, bin_numbers=False
        )
        if len([x for x in cand.labels if x != EMPTY]) >= 2:
            out.append(replace(cand, scope=~np.isnan(known)))
    return out
