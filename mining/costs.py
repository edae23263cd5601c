"""Cost per case and per activity: the rate card (:mod:`mining.rates`) applied to the activity instances.

Each activity instance (:func:`mining.analysis.performance.instances_sql`)
costs

* its **labour**: the hours charged times the hourly rate of its resource;
  the hours charged are its processing time (start to completion), plus the
  waiting before it when the card charges waiting.  Without start timestamps
  processing cannot be told apart from waiting, so the time since the
  previous completion in the case is charged (an upper bound on the work);
  the first instance of a case then costs no labour;
* plus its activity's **fixed cost** per execution.

A case's cost is the sum over its instances.  Times are business time under a
calendar.  A resource the card cannot price (no own rate, no role, no
default) is an error that names it, never a silent zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mining.analysis.calendar import Calendar, clock
from mining.analysis.filters import Filter
from mining.analysis.performance import instances_sql, timed_sql
from mining.errors import AnalysisError
from mining.rates import DEFAULT_RATE_KEY, RateCard
from mining.store import numpy_column

if TYPE_CHECKING:
    from mining.store import Store

__all__ = ["ActivityCost", "CaseCosts", "CostSummary", "case_costs", "cost_summary"]

HOUR = 3600.0

_INSTANCES_SQL = """
SELECT t.case_no, t.activity, t.resource, {charged} AS charged, {rate} AS rate, {fixed} AS fixed
FROM ({timed}) t
"""

_CASES_SQL = """
WITH i AS ({instances})
SELECT i.case_no, k.case_id,
       CAST(sum(CAST(charged * rate / 3600 AS DECIMAL(38, 6))) AS DOUBLE) AS labour,
       CAST(sum(CAST(fixed AS DECIMAL(38, 6))) AS DOUBLE) AS fixed,
       sum(charged) / 3600 AS hours,
       (SELECT list(DISTINCT coalesce(resource, '(no resource)')) FROM i WHERE rate IS NULL) AS unpriced
FROM i JOIN cases k ON k.log_id = $c_log AND k.case_no = i.case_no
GROUP BY i.case_no, k.case_id ORDER BY i.case_no
"""

_ACTIVITIES_SQL = """
WITH i AS ({instances})
SELECT activity, count(*) AS executions, sum(charged) / 3600 AS hours,
       CAST(sum(CAST(charged * rate / 3600 AS DECIMAL(38, 6))) AS DOUBLE) AS labour,
       CAST(sum(CAST(fixed AS DECIMAL(38, 6))) AS DOUBLE) AS fixed
FROM i GROUP BY activity
"""


@dataclass(frozen=True, eq=False)
class CaseCosts:
    """Cost per kept case, as aligned arrays ordered by case number (money in the card's currency)."""

    case_no: np.ndarray
    case_id: tuple[str, ...]
    labour: np.ndarray
    fixed: np.ndarray
    hours: np.ndarray

    @property
    def total(self) -> np.ndarray:
        return self.labour + self.fixed


@dataclass(frozen=True)
class ActivityCost:
    """What one activity costs over the kept cases: its executions, the hours charged, labour and fixed cost."""

    activity: str
    executions: int
    hours: float
    labour: float
    fixed: float
    total: float


@dataclass(frozen=True)
class CostSummary:
    """Cost per case (total, mean, median, p90) and per activity (most expensive first)."""

    cases: int
    total: float
    mean: float | None
    median: float | None
    p90: float | None
    activities: tuple[ActivityCost, ...]
    currency: str
    processing_measured: bool
    waiting_charged: bool
    card: str
    note: str


def _instances(
    store: Store, log_id: int, card: RateCard, flt: Filter | None, calendar: Calendar | None
) -> tuple[str, dict[str, Any], bool]:
    inst = instances_sql(store, log_id, flt)
    clk = clock(store, log_id, calendar)
    measured = inst.source != "none"
    params: dict[str, Any] = {**inst.params, "c_log": log_id}
    if measured:
        charged = "coalesce(proc, 0) + coalesce(wait, 0)" if card.waiting else "coalesce(proc, 0)"
    else:
        charged = "coalesce(wait, 0)"
    sql = _INSTANCES_SQL.format(
        timed=timed_sql(inst, clk),
        charged=charged,
        rate=card.rate_sql("t.resource", params, "c"),
        fixed=card.fixed_sql("t.activity", params, "c"),
    )
    return sql, params, measured


def case_costs(
    store: Store, log_id: int, card: RateCard, flt: Filter | None = None, *, calendar: Calendar | None = None
) -> CaseCosts:
    """The cost of every kept case (see the module docstring)."""
    sql, params, _ = _instances(store, log_id, card, flt, calendar)
    table = store.arrow(_CASES_SQL.format(instances=sql), params)
    unpriced = table.column("unpriced")[0].as_py() if table.num_rows else None
    if unpriced:
        _refuse(card, sorted(unpriced))

    def arr(name: str) -> np.ndarray:
        return np.nan_to_num(np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=float))

    return CaseCosts(
        case_no=np.asarray(numpy_column(table.column("case_no")), dtype=np.int64),
        case_id=tuple(table.column("case_id").to_pylist()),
        labour=arr("labour"),
        fixed=arr("fixed"),
        hours=arr("hours"),
    )


def cost_summary(
    store: Store, log_id: int, card: RateCard, flt: Filter | None = None, *, calendar: Calendar | None = None
) -> CostSummary:
    """Cost per case and per activity over the kept cases."""
    costs = case_costs(store, log_id, card, flt, calendar=calendar)
    sql, params, measured = _instances(store, log_id, card, flt, calendar)
    params.pop("c_log")  # only the per-case query joins the cases table
    rows = store.query(_ACTIVITIES_SQL.format(instances=sql), params).dicts()
    acts = [
        ActivityCost(
            r["activity"],
            int(r["executions"]),
            float(r["hours"] or 0.0),
            float(r["labour"] or 0.0),
            float(r["fixed"] or 0.0),
            float(r["labour"] or 0.0) + float(r["fixed"] or 0.0),
        )
        for r in rows
    ]
    acts.sort(key=lambda a: (-a.total, a.activity))
    total = costs.total
    n = int(total.size)
    if measured:
        basis = "processing time (start to completion)" + (
            " plus the waiting before it" if card.waiting else ""
        )
    else:
        basis = (
            "the time since the previous completion in the case: there are no start timestamps, so processing "
            "cannot be told apart from waiting and this is an upper bound on the work"
        )
    note = (
        f"Cost per case = the hours charged x the hourly rate of the resource, plus each activity's fixed cost per "
        f"execution. Hours charged: {basis}. Rate card: {card.label()}."
    )
    return CostSummary(
        cases=n,
        total=float(total.sum()),
        mean=float(total.mean()) if n else None,
        median=float(np.median(total)) if n else None,
        p90=float(np.quantile(total, 0.9)) if n else None,
        activities=tuple(acts),
        currency=card.currency,
        processing_measured=measured,
        waiting_charged=card.waiting or not measured,
        card=card.label(),
        note=note,
    )


def _refuse(card: RateCard, missing: list[str]) -> None:
    named = sorted(card.priced_resources())
    shown = ", ".join(map(repr, missing[:10])) + (" and more" if len(missing) > 10 else "")
    where = f" in {card.source}" if card.source else ""
    msg = (
        f"the rate card{where} has no hourly rate for resource(s) {shown}; it names "
        f"{', '.join(map(repr, named[:10])) if named else 'no resource'} and has no default"
    )
    raise AnalysisError(msg, hint=f"add their rates or roles, or a default rate under {DEFAULT_RATE_KEY!r}")
