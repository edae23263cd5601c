"""Variants (distinct activity sequences) with their frequencies, and drill-down.

Without an event projection the ``cases`` and ``variants`` tables written at
ingest answer directly: one GROUP BY over the kept cases, no sort of events.

With a projection (activities kept or removed) a case's trace is its stored
variant's sequence without the dropped activities, so the projection is done
on the stored variants of the kept cases (far fewer rows than events), in
Python: rebuilding traces from events needs an ordered list aggregate, which
is slow here (a sort per case) and has no portable SQL form (Spark's
``collect_list`` ignores ``ORDER BY``).  Cases left with no event drop out, and
variant ids are re-ranked over the projected sequences.

Order everywhere: cases (descending), then the activity sequence
(lexicographic); stored variant ids follow the same rule on the whole log.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mining.analysis.bounds import check_activities
from mining.analysis.filters import Filter, case_selection, events_relation
from mining.errors import AnalysisError

if TYPE_CHECKING:
    from mining.store import Store

__all__ = [
    "CaseEvent",
    "CaseList",
    "CaseSummary",
    "Ending",
    "Variant",
    "VariantTable",
    "cases_of_variant",
    "endings",
    "events_of_case",
    "projected_variants",
    "variants",
]

# -- SQL --------------------------------------------------------------------
# Each builder returns a relation (variant_id, activities, n) of the kept
# cases' variants; the ranking query on top adds totals and running shares.

#: The whole log: the stored variants table as it is.
STORED_VARIANTS_SQL = "SELECT variant_id, activities, n_cases AS n FROM variants WHERE log_id = $log"

#: A case selection without projection: count the selected cases per stored variant.
SELECTED_VARIANTS_SQL = """
SELECT v.variant_id, v.activities, c.n
FROM (
    SELECT variant_id, count(*) AS n FROM cases
    WHERE log_id = $log AND case_no IN ({selection})
    GROUP BY variant_id
) AS c
JOIN variants AS v ON v.log_id = $log AND v.variant_id = c.variant_id
"""

#: Ranking with whole-table totals; ``{limit}`` is empty or ``LIMIT $top``.
RANKED_SQL = """
SELECT variant_id, activities, n,
       sum(n) OVER () AS total_cases,
       count(*) OVER () AS total_variants,
       sum(n) OVER (ORDER BY n DESC, activities ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running
FROM ({variants}) AS v
ORDER BY n DESC, activities
{limit}
"""

#: Cases of one stored variant among the selected cases, earliest first.
CASES_OF_STORED_VARIANT_SQL = """
SELECT case_id, n_events, start_ts, end_ts, duration_s
FROM cases
WHERE log_id = $log AND variant_id = $variant AND case_no IN ({selection})
ORDER BY start_ts, case_id
LIMIT $limit
"""

#: Kept cases among ``{events}`` (a projected relation limited to some
#: variants), with figures of their kept events, earliest first.
PROJECTED_CASES_SQL = """
SELECT case_id, n_events, start_ts, end_ts, epoch(end_ts) - epoch(start_ts) AS duration_s
FROM (
    SELECT any_value(case_id) AS case_id, count(*) AS n_events, min(ts) AS start_ts, max(ts) AS end_ts
    FROM ({events}) AS e
    GROUP BY case_no
) AS t
ORDER BY start_ts, case_id
LIMIT $limit
"""

#: All events of one case, in the stored (ts, row_no) order.
CASE_EVENTS_SQL = """
SELECT activity, ts, start_ts, resource, lifecycle, cost, row_no
FROM events
WHERE log_id = $log AND case_id = $case
ORDER BY ts, row_no
"""


#: Per activity of the variants in ``{variants}``: the cases it ends and the cases it occurs in.
ENDINGS_SQL = """
SELECT activity, coalesce(sum(n) FILTER (WHERE last = activity), 0) AS ends, sum(n) AS cases
FROM (SELECT n, activities[len(activities)] AS last, unnest(list_distinct(activities)) AS activity
      FROM ({variants}) v)
GROUP BY activity
ORDER BY ends DESC, cases DESC, activity
"""


# -- records ----------------------------------------------------------------
@dataclass(frozen=True)
class Variant:
    """One distinct activity sequence; ``share`` of the kept cases, and the
    running share up to and including this variant in table order."""

    variant_id: int
    activities: tuple[str, ...]
    cases: int
    share: float
    cumulative_share: float


@dataclass(frozen=True)
class VariantTable:
    """Variants in order; ``total_*`` count all of them, also when ``top`` cut the list."""

    variants: tuple[Variant, ...]
    total_cases: int
    total_variants: int


@dataclass(frozen=True)
class CaseSummary:
    """One case of a drill-down list; with a projection the figures are of the kept events."""

    case_id: str
    n_events: int
    start: dt.datetime
    end: dt.datetime
    duration_seconds: float


@dataclass(frozen=True)
class CaseList:
    """Cases of one variant, earliest first; ``truncated`` when more than ``limit`` exist."""

    variant_id: int
    cases: tuple[CaseSummary, ...]
    truncated: bool


@dataclass(frozen=True)
class CaseEvent:
    """One event of a case, as stored."""

    activity: str
    timestamp: dt.datetime
    start_timestamp: dt.datetime | None
    resource: str | None
    lifecycle: str | None
    cost: float | None
    row_no: int


@dataclass(frozen=True)
class Ending:
    """How often an activity ends the cases it occurs in: ``ends`` of its ``cases``."""

    activity: str
    ends: int
    cases: int


# -- measures ---------------------------------------------------------------
def variants(store: Store, log_id: int, flt: Filter | None = None, *, top: int | None = None) -> VariantTable:
    """Variants of the kept cases, most frequent first; ``top`` keeps the first N.

    Examples
    --------
    ``store`` holds the textbook running example (6 cases, all different) as log ``log``:

    >>> table = variants(store, log, top=2)
    >>> table.total_cases, table.total_variants, len(table.variants)
    (6, 6, 2)
    >>> table.variants[0].activities[:2], round(table.variants[0].share, 4)
    (('register request', 'check ticket'), 0.1667)
    """
    if top is not None and top < 0:
        msg = f"`top` must be at least 0, got {top}"
        raise AnalysisError(msg)
    check_activities(store, log_id)
    if flt is not None and flt.projects_events:
        groups = projected_variants(store, log_id, flt)
        total = sum(n for _, n, _ in groups)
        out, running = [], 0
        for rank, (acts, n, _) in enumerate(groups[:top], start=1):
            running += n
            out.append(Variant(rank, acts, n, n / total, running / total))
        return VariantTable(tuple(out), total, len(groups))
    params: dict[str, Any] = {}
    relation = _variants_relation(store, log_id, flt, params)
    limit = ""
    if top is not None:
        # At least one row, so the totals arrive also when top=0.
        params["top"] = max(top, 1)
        limit = "LIMIT $top"
    rows = store.query(RANKED_SQL.format(variants=relation, limit=limit), params).rows
    if not rows:
        return VariantTable((), 0, 0)
    total_cases, total_variants = int(rows[0][3]), int(rows[0][4])
    out = tuple(
        Variant(int(vid), tuple(acts), int(n), n / total_cases, int(running) / total_cases)
        for vid, acts, n, _, _, running in rows[:top]
    )
    return VariantTable(out, total_cases, total_variants)


def endings(store: Store, log_id: int, flt: Filter | None = None) -> tuple[Ending, ...]:
    """Each activity of the kept cases, with the cases it ends and the cases it occurs in; most endings first.

    Which activities end a process a log cannot say for sure (see
    :mod:`mining.monitor.periods`): a release ends most cases it occurs in, a
    lab test a few of its many, where the record stops.  These two counts let a
    person choose.  A filter's activity projection is not applied: the last
    activity is the case's own.
    """
    flt = None if flt is None else dataclasses.replace(flt, activities_keep=(), activities_remove=())
    params: dict[str, Any] = {}
    rows = store.query(
        ENDINGS_SQL.format(variants=_variants_relation(store, log_id, flt, params)), params
    ).rows
    return tuple(Ending(str(a), int(e), int(c)) for a, e, c in rows)


def cases_of_variant(
    store: Store, log_id: int, variant_id: int, flt: Filter | None = None, *, limit: int = 100
) -> CaseList:
    """The kept cases that follow one variant (an id of :func:`variants` with the same filter)."""
    flt = flt or Filter()
    if limit < 0:
        msg = f"`limit` must be at least 0, got {limit}"
        raise AnalysisError(msg)
    params: dict[str, Any] = {"limit": limit + 1}
    if flt.projects_events:
        groups = projected_variants(store, log_id, flt)
        if not 1 <= variant_id <= len(groups):
            return CaseList(variant_id, (), truncated=False)
        # The kept cases of the stored variants that project onto this one.
        narrowed = dataclasses.replace(flt, variant_ids=groups[variant_id - 1][2])
        rel = events_relation(store, log_id, narrowed)
        params.update(rel.params)
        sql = PROJECTED_CASES_SQL.format(events=rel.sql)
    else:
        params.update(log=log_id, variant=variant_id)
        sql = CASES_OF_STORED_VARIANT_SQL.format(selection=case_selection(store, log_id, flt, params))
    rows = store.query(sql, params).rows
    found = tuple(CaseSummary(str(c), int(n), s, e, float(d)) for c, n, s, e, d in rows[:limit])
    return CaseList(variant_id, found, truncated=len(rows) > limit)


def events_of_case(store: Store, log_id: int, case_id: str) -> tuple[CaseEvent, ...]:
    """Every event of one case in time order; :class:`AnalysisError` if there is no such case."""
    rows = store.query(CASE_EVENTS_SQL, {"log": log_id, "case": case_id}).rows
    if not rows:
        msg = f"the log has no case {case_id!r}"
        raise AnalysisError(msg)
    return tuple(
        CaseEvent(a, ts, start, res, life, None if cost is None else float(cost), int(row))
        for a, ts, start, res, life, cost, row in rows
    )


def _variants_relation(store: Store, log_id: int, flt: Filter | None, params: dict[str, Any]) -> str:
    """The stored variants of the kept cases, as (variant_id, activities, n); no projection."""
    params["log"] = log_id
    if flt is None or flt.is_empty:
        return STORED_VARIANTS_SQL
    return SELECTED_VARIANTS_SQL.format(selection=case_selection(store, log_id, flt, params))


def projected_variants(
    store: Store, log_id: int, flt: Filter
) -> list[tuple[tuple[str, ...], int, tuple[int, ...]]]:
    """The kept cases' stored variants with ``flt``'s activities removed, merged:
    ``(sequence, cases, stored variant ids)``, ranked by cases (descending),
    then sequence.  Sequences left empty are dropped with their cases."""
    selection = dataclasses.replace(flt, activities_keep=(), activities_remove=())
    params: dict[str, Any] = {}
    rows = store.query(_variants_relation(store, log_id, selection, params), params).rows
    keep = set(flt.activities_keep)
    drop = set(flt.activities_remove)
    groups: dict[tuple[str, ...], tuple[int, tuple[int, ...]]] = {}
    for vid, acts, n in rows:
        seq = tuple(a for a in acts if (not keep or a in keep) and a not in drop)
        if seq:
            cases, ids = groups.get(seq, (0, ()))
            groups[seq] = (cases + int(n), (*ids, int(vid)))
    ranked = sorted(groups.items(), key=lambda kv: (-kv[1][0], kv[0]))
    return [(seq, n, tuple(sorted(ids))) for seq, (n, ids) in ranked]
