"""The directly-follows graph: edge frequencies, cases and transition times.

One aggregation over the kept events, grouped by ``(activity, next_activity)``
with the successor included when it is NULL: the non-NULL groups are the
edges, the NULL group of an activity counts the cases that end with it, and
the sum over an activity's groups is its event count.  Start counts follow
without a second pass: every kept event is either the first of its case or
the target of exactly one edge, so ``start[a] = events[a] - incoming[a]``.

Without an event projection the successors stored at ingest are used (no
window sort); with one, :func:`~mining.analysis.filters.events_relation`
recomputes them over the remaining events.

The distinct cases per edge never need a ``count(DISTINCT case_no)`` over the
events (the costliest part of the aggregate): a case's edges depend only on
its variant.  Without a projection one representative case per variant gives
them (:data:`EDGE_CASES_SQL`, reading only those cases' events); with one,
the same representatives' kept events give them
(:data:`PROJECTED_EDGE_CASES_SQL`).

Transition time is ``next_ts - ts`` in seconds; ``median`` is
``median(x)`` and ``p90`` is ``quantile_cont(x, 0.9)`` (linear interpolation
between the closest ranks, as numpy's default percentile).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mining.analysis.bounds import check_activities
from mining.analysis.calendar import Calendar, clock
from mining.analysis.filters import Filter, case_selection, events_relation, projection_conditions

if TYPE_CHECKING:
    from mining.store import Store

__all__ = ["DFG", "DFG_SQL", "EDGE_CASES_SQL", "PROJECTED_EDGE_CASES_SQL", "Edge", "dfg", "edge_cases"]

#: Grouped by (activity, successor), the NULL successor included; ``{events}``
#: is the kept-events relation of :func:`events_relation` (internal SQL only).
DFG_SQL = """
SELECT
    activity AS source,
    next_activity AS target,
    count(*) AS n,
    avg(d) AS mean_s,
    quantile_cont(d, [0.5, 0.9]) AS q
FROM (SELECT activity, next_activity, {duration} AS d FROM ({events}) AS x) AS e
GROUP BY activity, next_activity
"""

#: Cases per edge without a projection.  A case's distinct edges depend only on
#: its variant, so one representative case per variant (among the kept cases)
#: gives them, weighted by the variant's kept cases: no DISTINCT over all
#: events.  ``{selection}`` is empty or ``AND case_no IN (...)``.
EDGE_CASES_SQL = """
WITH kept AS (
    SELECT variant_id, count(*) AS n, min(case_no) AS rep
    FROM cases
    WHERE log_id = $log {selection}
    GROUP BY variant_id
),
variant_edges AS (
    SELECT DISTINCT kept.variant_id, e.activity, e.next_activity
    FROM events AS e
    JOIN kept ON e.case_no = kept.rep
    WHERE e.log_id = $log AND e.next_activity IS NOT NULL
)
SELECT ve.activity, ve.next_activity, sum(kept.n) AS n_cases
FROM variant_edges AS ve
JOIN kept ON kept.variant_id = ve.variant_id
GROUP BY ve.activity, ve.next_activity
"""


#: Cases per edge under a projection (activities kept or removed), by the same representatives:
#: the successors are recomputed over their kept events.  ``{kept}`` is the projection's condition.
PROJECTED_EDGE_CASES_SQL = """
WITH kept AS (
    SELECT variant_id, count(*) AS n, min(case_no) AS rep
    FROM cases
    WHERE log_id = $log {selection}
    GROUP BY variant_id
),
projected AS (
    SELECT kept.variant_id, e.activity,
           lead(e.activity) OVER (PARTITION BY e.case_no ORDER BY e.ts, e.row_no) AS next_activity
    FROM events AS e
    JOIN kept ON e.case_no = kept.rep
    WHERE e.log_id = $log AND {kept}
),
variant_edges AS (
    SELECT DISTINCT variant_id, activity, next_activity FROM projected WHERE next_activity IS NOT NULL
)
SELECT ve.activity, ve.next_activity, sum(kept.n) AS n_cases
FROM variant_edges AS ve
JOIN kept ON kept.variant_id = ve.variant_id
GROUP BY ve.activity, ve.next_activity
"""


@dataclass(frozen=True)
class Edge:
    """One directly-follows relation ``source -> target``.

    ``count`` is how often ``target`` directly follows ``source``; ``cases``
    how many cases have it at least once; the times are seconds from the
    source event's timestamp to the target's.
    """

    source: str
    target: str
    count: int
    cases: int
    mean_seconds: float
    median_seconds: float
    p90_seconds: float


@dataclass(frozen=True)
class DFG:
    """A directly-follows graph with start/end activities and event counts.

    ``edges`` are sorted by count (descending), then source, then target; the
    mappings are ordered by count (descending), then name.  ``cases`` counts
    the cases with at least one kept event; ``events`` the kept events.
    """

    edges: tuple[Edge, ...]
    start: Mapping[str, int] = field(default_factory=dict)
    end: Mapping[str, int] = field(default_factory=dict)
    activities: Mapping[str, int] = field(default_factory=dict)
    cases: int = 0
    events: int = 0


def dfg(store: Store, log_id: int, flt: Filter | None = None, *, calendar: Calendar | None = None) -> DFG:
    """The directly-follows graph of a log, optionally filtered.

    With a business ``calendar`` the transition times are working seconds.

    Examples
    --------
    ``store`` holds the textbook running example (6 cases, 42 events) as log ``log``:

    >>> g = dfg(store, log)
    >>> top = g.edges[0]
    >>> top.source, top.target, top.count, top.cases, top.median_seconds
    ('check ticket', 'decide', 6, 4, 129300.0)
    >>> g.start, g.end, g.events - g.cases == sum(e.count for e in g.edges)
    ({'register request': 6}, {'pay compensation': 3, 'reject request': 3}, True)
    """
    check_activities(store, log_id)
    rel = events_relation(store, log_id, flt)
    events, duration = rel.sql, "epoch(next_ts) - epoch(ts)"
    if calendar is not None:
        events = clock(store, log_id, calendar).extend(rel.sql, durations={"_dur": ("ts", "next_ts")})
        duration = "_dur"
    rows = store.query(DFG_SQL.format(events=events, duration=duration), rel.params).rows
    cases_of = edge_cases(store, log_id, flt)
    activities: dict[str, int] = {}
    end: dict[str, int] = {}
    incoming: dict[str, int] = {}
    edges = []
    # Median and p90 come from one quantile aggregate: one sort per edge, not two.
    for source, target, n, mean_s, q in rows:
        median_s, p90_s = q if q is not None else (None, None)
        activities[source] = activities.get(source, 0) + int(n)
        if target is None:
            end[source] = int(n)
            continue
        incoming[target] = incoming.get(target, 0) + int(n)
        edges.append(
            Edge(
                source,
                target,
                int(n),
                cases_of[source, target],
                float(mean_s),
                float(median_s),
                float(p90_s),
            )
        )
    start = {a: k - incoming.get(a, 0) for a, k in activities.items()}
    edges.sort(key=lambda e: (-e.count, e.source, e.target))
    return DFG(
        edges=tuple(edges),
        start=_ranked({a: k for a, k in start.items() if k > 0}),
        end=_ranked(end),
        activities=_ranked(activities),
        cases=sum(end.values()),
        events=sum(activities.values()),
    )


def edge_cases(store: Store, log_id: int, flt: Filter | None) -> dict[tuple[str, str], int]:
    """Distinct cases per edge, from the kept cases' variants."""
    params: dict[str, Any] = {"log": log_id}
    selection = ""
    if flt is not None and not flt.is_empty:
        case_filter = dataclasses.replace(flt, activities_keep=(), activities_remove=())
        if not case_filter.is_empty:
            selection = f"AND case_no IN ({case_selection(store, log_id, case_filter, params)})"
    if flt is not None and flt.projects_events:
        # A projected case's edges still depend only on its variant: the successors are recomputed
        # over the representatives' kept events only (a second window over every kept event cost
        # as much as the whole graph).
        kept = projection_conditions(flt, params, "e.activity")
        sql = PROJECTED_EDGE_CASES_SQL.format(selection=selection, kept=" AND ".join(kept))
    else:
        sql = EDGE_CASES_SQL.format(selection=selection)
    rows = store.query(sql, params).rows
    return {(a, b): int(n) for a, b, n in rows}


def _ranked(counts: Mapping[str, int]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
