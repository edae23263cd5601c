"""Rework: repeated activities, loops, and ping-pong hand-offs between resources.

Counted over activity instances (see :mod:`mining.analysis.performance`: in
a log with lifecycle start/complete events one instance is one completion), in
completion order within each case:

* an activity **repeats** in a case when it has more than one instance there;
  its *extra executions* are the instances beyond the first;
* a **self-loop** is A → A on consecutive instances;
* a **short loop** is A → B → A (B ≠ A) on three consecutive instances; a run
  A B A B A holds three of them (ABA, BAB, ABA);
* a **ping-pong** is resource X → Y → X (Y ≠ X) on three consecutive
  instances that all name a resource; pairs are reported unordered, as
  ``(min, max)`` of the two names;
* a case **has rework** when any activity repeats in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mining.analysis.filters import Filter
from mining.analysis.performance import instances_sql

if TYPE_CHECKING:
    from mining.store import Store

__all__ = ["ActivityRework", "Loop", "PingPong", "Rework", "rework"]


@dataclass(frozen=True)
class ActivityRework:
    """How often one activity is redone."""

    activity: str
    cases: int  # cases with the activity
    cases_repeated: int  # cases where it occurs more than once
    extra_executions: int  # instances beyond the first, summed over cases


@dataclass(frozen=True)
class Loop:
    """A self-loop ``(A, A)`` or a short loop ``(A, B, A)``."""

    kind: str  # "self" or "short"
    pattern: tuple[str, ...]
    count: int
    cases: int


@dataclass(frozen=True)
class PingPong:
    """Work handed X → Y → X between two resources (unordered pair)."""

    resources: tuple[str, str]
    count: int
    cases: int


@dataclass(frozen=True)
class Rework:
    """Rework in the kept cases; lists are most frequent first, cut at ``limit``."""

    cases: int
    cases_with_rework: int
    rework_share: float
    activities: tuple[ActivityRework, ...]  # every activity, most extra executions first
    self_loops: int
    short_loops: int
    loops: tuple[Loop, ...]
    ping_pong: int
    ping_pong_cases: int
    ping_pong_pairs: tuple[PingPong, ...]
    has_resources: bool


# Per activity (cases with it, cases repeating it, extra executions) and, in
# the per-case grouping set folded into one row, the kept cases and those with
# any repeat: one pass over the (case, activity) counts.
_REPEATS_SQL = """
SELECT by_case AS is_total, activity,
       sum(CASE WHEN by_case = 1 THEN 1 ELSE cases END) AS cases,
       sum(CASE WHEN by_case = 1 THEN (CASE WHEN repeated > 0 THEN 1 ELSE 0 END) ELSE repeated END) AS repeated,
       sum(extra) AS extra
FROM (
    SELECT grouping(activity) AS by_case, activity, count(*) AS cases,
           sum(CASE WHEN n > 1 THEN 1 ELSE 0 END) AS repeated, sum(extra) AS extra
    FROM (
        SELECT case_no, activity, max(n) AS n, sum(n - 1) AS extra
        FROM (SELECT case_no, activity, unit, count(*) AS n FROM ({inst}) i GROUP BY case_no, activity, unit) cu
        GROUP BY case_no, activity
    ) ca
    GROUP BY GROUPING SETS ((activity), (case_no))
) g
GROUP BY by_case, activity
"""

# One window pass tags each instance as closing a loop and/or a ping-pong; each
# kind is counted per case first, so the last step counts cases without DISTINCT.
_PATTERNS_SQL = """
WITH t AS (
    SELECT case_no, activity, unit, resource,
           lag(activity, 1) OVER w AS a1, lag(unit, 1) OVER w AS u1, lag(unit, 2) OVER w AS u2,
           lag(resource, 1) OVER w AS r1, lag(resource, 2) OVER w AS r2
    FROM ({inst}) i WINDOW w AS (PARTITION BY case_no ORDER BY en, row_no)
), tagged AS (
    SELECT case_no,
           CASE WHEN unit = u1 THEN 'self' WHEN unit = u2 THEN 'short' END AS loop_kind,
           activity, CASE WHEN unit <> u1 AND unit = u2 THEN a1 END AS loop_via,
           CASE WHEN resource = r2 AND resource <> r1 THEN least(resource, r1) END AS pair_x,
           CASE WHEN resource = r2 AND resource <> r1 THEN greatest(resource, r1) END AS pair_y
    FROM t WHERE unit = u1 OR unit = u2 OR (resource = r2 AND resource <> r1)
), per_case AS (
    SELECT loop_kind AS what, activity AS k1, loop_via AS k2, case_no, count(*) AS n
    FROM tagged WHERE loop_kind IS NOT NULL GROUP BY loop_kind, activity, loop_via, case_no
    UNION ALL
    SELECT 'ping_pong', pair_x, pair_y, case_no, count(*)
    FROM tagged WHERE pair_x IS NOT NULL GROUP BY pair_x, pair_y, case_no
    UNION ALL
    SELECT 'ping_pong_case', NULL, NULL, case_no, count(*)
    FROM tagged WHERE pair_x IS NOT NULL GROUP BY case_no
)
SELECT what, k1, k2, sum(n) AS n, count(*) AS cases FROM per_case GROUP BY what, k1, k2
"""


def rework(store: Store, log_id: int, flt: Filter | None = None, *, limit: int = 10) -> Rework:
    """Repeats per activity, self- and short loops, and ping-pong between resources.

    Examples
    --------
    >>> r = rework(store, log_id)            # doctest: +SKIP
    >>> r.rework_share, r.ping_pong_pairs[0]  # doctest: +SKIP
    """
    inst = instances_sql(store, log_id, flt, starts=False)
    params = inst.params
    acts: list[ActivityRework] = []
    cases = reworked = 0
    for r in store.query(_REPEATS_SQL.format(inst=inst.sql), params).dicts():
        if r["is_total"]:
            cases, reworked = int(r["cases"]), int(r["repeated"])
        else:
            acts.append(ActivityRework(r["activity"], int(r["cases"]), int(r["repeated"]), int(r["extra"])))
    acts.sort(key=lambda a: (-a.extra_executions, -a.cases_repeated, a.activity))
    loops: list[Loop] = []
    pairs: list[PingPong] = []
    pp_total = pp_cases = 0
    for what, k1, k2, n, n_cases in store.query(_PATTERNS_SQL.format(inst=inst.sql), params).rows:
        if what == "self":
            loops.append(Loop("self", (k1, k1), int(n), int(n_cases)))
        elif what == "short":
            loops.append(Loop("short", (k1, k2, k1), int(n), int(n_cases)))
        elif what == "ping_pong":
            pairs.append(PingPong((k1, k2), int(n), int(n_cases)))
            pp_total += int(n)
        else:
            pp_cases = int(n_cases)
    loops.sort(key=lambda x: (-x.count, x.pattern))
    pairs.sort(key=lambda x: (-x.count, x.resources))
    has_resources = bool(store.scalar("SELECT has_resource FROM logs WHERE log_id = ?", [log_id]))
    return Rework(
        cases=cases,
        cases_with_rework=reworked,
        rework_share=reworked / cases if cases else 0.0,
        activities=tuple(acts),
        self_loops=sum(x.count for x in loops if x.kind == "self"),
        short_loops=sum(x.count for x in loops if x.kind == "short"),
        loops=tuple(loops[:limit]),
        ping_pong=pp_total,
        ping_pong_cases=pp_cases,
        ping_pong_pairs=tuple(pairs[:limit]),
        has_resources=has_resources,
    )
