"""The outcome of one rule for every kept case, as one SQL relation over the activity instances.

:func:`outcomes_sql` is the relation of ``(case_no, outcome, seconds)`` for
one rule; join it to ``cases`` on ``case_no`` to group by a case's start,
end or any attribute.  Events are read as activity instances
(:func:`mining.analysis.performance.instances_sql`), ordered by timestamp and
file row within the case.  Max-time measures completion to completion, in
elapsed seconds, or in working seconds under a business calendar's clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mining.conformance.rules.limits import business_seconds

if TYPE_CHECKING:
    from mining.analysis.calendar import Calendar, Clock
    from mining.analysis.filters import Filter
    from mining.conformance.rules.rule import Rule
    from mining.store import Store

__all__ = ["OutcomesSQL", "outcomes", "outcomes_sql", "rule_clock"]

_ORDER_KEY = "{'t': en, 'r': row_no}"


@dataclass(frozen=True)
class OutcomesSQL:
    """A relation with one row per kept case: ``case_no``, ``outcome`` (one of
    ``violated``, ``satisfied``, ``not_applicable``, ``unknown``, ``pending``) and
    ``seconds`` (max-time: A to B, or A to the log's end without B; else NULL)."""

    sql: str
    params: dict[str, Any]


def outcomes_sql(
    store: Store,
    log_id: int,
    rule: Rule,
    flt: Filter | None = None,
    *,
    calendar: Calendar | None = None,
) -> OutcomesSQL:
    """The per-case outcomes of ``rule`` as SQL (see :class:`OutcomesSQL`), for callers that group them.

    Activity names are not checked here; :func:`~mining.conformance.rules.check.check_rules` does that.
    """
    return outcomes(store, log_id, rule, flt, rule_clock(store, log_id, [rule], calendar))


def rule_clock(store: Store, log_id: int, rules: Sequence[Rule], calendar: Calendar | None) -> Clock | None:
    """The clock that reads business time for ``rules``: None without a calendar or without a max-time rule."""
    if calendar is None or not any(r.type == "max-time" for r in rules):
        return None
    from mining.analysis.calendar import clock

    return clock(store, log_id, calendar)


def outcomes(store: Store, log_id: int, rule: Rule, flt: Filter | None, clk: Clock | None) -> OutcomesSQL:
    """:func:`outcomes_sql` with the clock already made (:func:`rule_clock`), for callers that check many rules."""
    from mining.analysis.performance import instances_sql

    inst = instances_sql(store, log_id, flt, starts=False)
    params = dict(inst.params)
    params["r_a"] = rule.activities[0]
    if len(rule.activities) == 2:
        params["r_b"] = rule.activities[1]
    is_a, is_b = "activity = $r_a", "activity = $r_b"
    none = "CAST(NULL AS DOUBLE) AS seconds"
    if rule.type in ("precedence", "response"):
        agg = "min" if rule.type == "precedence" else "max"
        # The first (last) occurrence decides: every B has an earlier A iff the first A
        # comes before the first B; every A has a later B iff the last B follows the last A.
        outcome = (
            "CASE WHEN k_b IS NULL THEN 'not_applicable' WHEN k_a IS NULL OR k_a > k_b THEN 'violated' "
            "ELSE 'satisfied' END"
            if rule.type == "precedence"
            else "CASE WHEN k_a IS NULL THEN 'not_applicable' WHEN k_b IS NULL OR k_b < k_a THEN 'violated' "
            "ELSE 'satisfied' END"
        )
        sql = (
            f"SELECT case_no, {outcome} AS outcome, {none} FROM ("
            f"SELECT case_no, {agg}({_ORDER_KEY}) FILTER (WHERE {is_a}) AS k_a, "
            f"{agg}({_ORDER_KEY}) FILTER (WHERE {is_b}) AS k_b FROM ({inst.sql}) i GROUP BY case_no) p"
        )
    elif rule.type == "four-eyes":
        sql = (
            f"WITH i AS ({inst.sql}), p AS (SELECT case_no, count(*) FILTER (WHERE {is_a}) AS n_a, "
            f"count(*) FILTER (WHERE {is_b}) AS n_b, "
            f"count(*) FILTER (WHERE ({is_a} OR {is_b}) AND resource IS NULL) AS n_null FROM i GROUP BY case_no), "
            # Cases where one resource did both activities.
            f"s AS (SELECT DISTINCT case_no FROM i WHERE ({is_a} OR {is_b}) AND resource IS NOT NULL "
            "GROUP BY case_no, resource HAVING count(DISTINCT activity) = 2) "
            "SELECT p.case_no, CASE WHEN n_a = 0 OR n_b = 0 THEN 'not_applicable' "
            "WHEN s.case_no IS NOT NULL THEN 'violated' WHEN n_null > 0 THEN 'unknown' ELSE 'satisfied' END "
            f"AS outcome, {none} FROM p LEFT JOIN s ON s.case_no = p.case_no"
        )
    elif rule.type == "max-time":
        sql = _max_time_sql(store, log_id, rule, inst.sql, params, clk)
    else:
        counts = f"count(*) FILTER (WHERE {is_a}) AS n_a" + (
            f", count(*) FILTER (WHERE {is_b}) AS n_b" if rule.type == "not-both" else ""
        )
        outcome = {
            "never": "CASE WHEN n_a > 0 THEN 'violated' ELSE 'satisfied' END",
            "at-most-once": "CASE WHEN n_a = 0 THEN 'not_applicable' WHEN n_a > 1 THEN 'violated' "
            "ELSE 'satisfied' END",
            "not-both": "CASE WHEN n_a = 0 AND n_b = 0 THEN 'not_applicable' WHEN n_a > 0 AND n_b > 0 "
            "THEN 'violated' ELSE 'satisfied' END",
        }[rule.type]
        sql = (
            f"SELECT case_no, {outcome} AS outcome, {none} FROM ("
            f"SELECT case_no, {counts} FROM ({inst.sql}) i GROUP BY case_no) p"
        )
    return OutcomesSQL(sql, params)


def _max_time_sql(
    store: Store, log_id: int, rule: Rule, inst: str, params: dict[str, Any], clk: Clock | None
) -> str:
    assert rule.limit is not None
    business = clk is not None and clk.calendar is not None
    params["r_limit"] = business_seconds(rule.limit, clk.calendar) if business else rule.limit.total_seconds
    # The log's end is the last event of the whole log, whatever the filter keeps.
    params["r_end"] = store.scalar("SELECT max(ts) FROM events WHERE log_id = ?", [log_id])
    inner = (
        f"WITH i AS ({inst}), "
        f"p AS (SELECT case_no, min({_ORDER_KEY}) FILTER (WHERE activity = $r_a) AS k_a FROM i GROUP BY case_no), "
        # The first B after the first A (ordered by time, then file row, like the events).
        f"b AS (SELECT i.case_no, min(i.en) AS b_ts FROM i JOIN p ON p.case_no = i.case_no "
        f"WHERE i.activity = $r_b AND p.k_a IS NOT NULL AND {{'t': i.en, 'r': i.row_no}} > p.k_a "
        "GROUP BY i.case_no) "
        "SELECT p.case_no, struct_extract(p.k_a, 't') AS a_ts, b.b_ts, CAST($r_end AS TIMESTAMPTZ) AS end_ts "
        "FROM p LEFT JOIN b ON b.case_no = p.case_no"
    )
    if business:
        assert clk is not None
        # B(t) per instant, then differences: working seconds between the two.
        timed = (
            "SELECT x.*, t_b - t_a AS d, t_end - t_a AS d_end FROM ("
            + clk.extend(inner, times={"t_a": "a_ts", "t_b": "b_ts", "t_end": "end_ts"})
            + ") x"
        )
    else:
        timed = f"SELECT x.*, epoch(b_ts) - epoch(a_ts) AS d, epoch(end_ts) - epoch(a_ts) AS d_end FROM ({inner}) x"
    return (
        "SELECT case_no, CASE WHEN a_ts IS NULL THEN 'not_applicable' "
        "WHEN b_ts IS NOT NULL THEN (CASE WHEN d IS NULL THEN 'unknown' WHEN d > $r_limit THEN 'violated' "
        "ELSE 'satisfied' END) "
        "WHEN d_end IS NULL THEN 'unknown' WHEN d_end > $r_limit THEN 'violated' ELSE 'pending' END AS outcome, "
        f"CASE WHEN a_ts IS NULL THEN NULL ELSE coalesce(d, d_end) END AS seconds FROM ({timed}) y"
    )
