"""The Lean view: a value-stream strip of the main variant, and waste in hours and money.

Built on the activity instances of :mod:`mining.analysis.performance` (its
waiting/processing split, business calendar and filter) and the variants of
:mod:`mining.analysis.variants`.

**The strip.**  Along the main (most frequent) variant of the kept cases, per
step (position in the sequence): the median processing time and the median
waiting time before it, over that variant's cases.  Its **process cycle
efficiency** is the processing time of those cases over their lead time
(first start to last completion), both summed over the cases.  Without start
timestamps processing time is unknown: it is ``None``, never 0.

**Waste**, over all kept cases, in hours (business hours under a calendar).
Every second of waiting is counted in one category only, first match wins:

* **rework**: the time of repeated activity instances, i.e. every execution of
  an activity beyond its first in the case: the waiting before it plus its
  processing (without start timestamps: the time since the previous
  completion).  Work *between* repeats (B in A-B-A) is not counted, so this
  is a lower bound on what loops cost;
* **hand-offs**: waiting before an instance whose resource differs from the
  previous instance's resource (both known);
* **waiting**: all other waiting between activities.  Without start
  timestamps it is all of the time between consecutive completions, so it
  includes processing and is an upper bound;
* **deviations** (only when ``deviating_cases`` is given): the lead time of
  each deviating case beyond the median lead time of the other kept cases,
  summed.  It overlaps the three above: a deviating case's extra time is also
  waiting, hand-offs or rework.

**Money.**  With ``cost_per_hour`` each hour is priced by a
:class:`~mining.rates.RateCard` (or, as before, one rate for all or a rate per
resource with key ``"*"`` for everyone not listed; a resource without a rate
is an error).  Waiting, hand-offs and rework are charged at the rate of the
resource of the instance they belong to (the one the work waited for), and a
repeated execution also costs its activity's fixed cost again; a deviating
case's extra time is charged at that case's time-weighted average rate.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mining.analysis.calendar import Calendar, Clock, clock
from mining.analysis.filters import Filter
from mining.analysis.performance import InstancesSQL, instances_sql, timed_sql
from mining.analysis.variants import projected_variants, variants
from mining.durations import duration_words, format_duration
from mining.errors import AnalysisError, MiningError
from mining.rates import DEFAULT_RATE_KEY, RateCard, as_rate_card
from mining.words import plural

if TYPE_CHECKING:
    from mining.store import Store

__all__ = [
    "DEFAULT_RATE_KEY",
    "TOP_CASES",
    "LeanStep",
    "LeanView",
    "Waste",
    "lean_view",
    "pce_words",
    "waste_words",
]

#: Case ids listed per waste, most waste first, for drill-down.
TOP_CASES = 10
HOUR = 3600.0

# Steps of the main variant: position in completion order, the activity most
# cases have there, medians; plus per-case processing and lead totals.
_STEPS_SQL = """
WITH d AS (
    SELECT t.*, row_number() OVER (PARTITION BY case_no ORDER BY en, row_no) AS pos FROM ({timed}) t
), s AS (
    SELECT pos, mode(activity) AS activity, count(*) AS n, median(proc) AS proc, median(wait) AS wait
    FROM d GROUP BY pos
), c AS (
    SELECT count(*) AS cases, sum(proc) AS proc_total, sum(lead) AS lead_total, median(lead) AS lead_median
    FROM (SELECT sum(proc) AS proc, max(b_en) - min(coalesce(b_st, b_en)) AS lead FROM d GROUP BY case_no) x
)
SELECT s.*, c.* FROM s CROSS JOIN c ORDER BY pos
"""

# Waste per instance (disjoint: rework, else hand-off, else waiting), per case,
# then totals, cases with waste and the top cases of each kind.
_WASTE_SQL = """
WITH d AS (
    SELECT t.*, row_number() OVER (PARTITION BY case_no, unit ORDER BY en, row_no) AS occ, {rate} AS rate,
           {fixed} AS fixed
    FROM ({timed}) t
), k AS (
    SELECT case_no, resource, rate, b_st, b_en, coalesce(wait, 0) + coalesce(proc, 0) AS spent,
           CASE WHEN occ > 1 THEN coalesce(wait, 0) + coalesce(proc, 0) ELSE 0 END AS rework,
           CASE WHEN occ = 1 AND prev_resource <> resource THEN coalesce(wait, 0) ELSE 0 END AS handoff,
           CASE WHEN occ = 1 AND NOT coalesce(prev_resource <> resource, false)
                THEN coalesce(wait, 0) ELSE 0 END AS waiting,
           CASE WHEN occ > 1 THEN fixed ELSE 0 END AS rework_fixed
    FROM d
), c AS (
    SELECT case_no, max(b_en) - min(coalesce(b_st, b_en)) AS lead,
           sum(waiting) AS waiting, sum(waiting * rate) AS waiting_cost,
           sum(handoff) AS handoff, sum(handoff * rate) AS handoff_cost,
           sum(rework) AS rework, sum(rework * rate) + 3600 * sum(rework_fixed) AS rework_cost,
           sum(spent * rate) / nullif(sum(spent), 0) AS case_rate
    FROM k GROUP BY case_no
), cc AS (
    SELECT c.*, cs.case_id, cs.case_id IN (SELECT unnest($lean_dev)) AS dev
    FROM c JOIN cases cs ON cs.log_id = $f_log AND cs.case_no = c.case_no
), m AS (SELECT median(lead) AS med, count(*) AS others FROM cc WHERE NOT dev
), x AS (
    SELECT cc.*, CASE WHEN dev AND lead > m.med THEN lead - m.med ELSE 0 END AS deviation
    FROM cc CROSS JOIN m
)
SELECT count(*) AS cases, coalesce(sum(lead), 0) AS lead,
       any_value(m.med) AS dev_median, any_value(m.others) AS dev_others,
       count(*) FILTER (WHERE dev) AS dev_cases,
       {totals},
       (SELECT list(DISTINCT coalesce(resource, '(no resource)')) FROM k WHERE rate IS NULL) AS unpriced
FROM x CROSS JOIN m
"""

_KINDS = ("waiting", "handoff", "rework", "deviation")
_WASTE_NAMES = {"waiting": "waiting", "handoff": "hand-offs", "rework": "rework", "deviation": "deviations"}


@dataclass(frozen=True)
class LeanStep:
    """One step of the main variant: medians in seconds (business seconds under a calendar).

    ``processing_median`` is ``None`` without start timestamps;
    ``waiting_median`` is ``None`` for the first step (nothing to wait for).
    """

    position: int  # 1-based
    activity: str
    cases: int
    processing_median: float | None
    waiting_median: float | None


@dataclass(frozen=True)
class Waste:
    """One kind of waste: hours, their cost, the cases that carry it and how it was computed.

    ``kind`` is ``waiting``, ``hand-offs``, ``rework`` or ``deviations``.
    ``hours`` is ``None`` when it cannot be computed (deviations with no other
    case to compare with); ``cost`` is ``None`` without rates.  ``top_cases``
    lists up to ten case ids with the most of it, most first.
    """

    kind: str
    hours: float | None
    cost: float | None
    cases: int
    top_cases: tuple[str, ...]
    explanation: str


@dataclass(frozen=True)
class LeanView:
    """The value-stream strip of the main variant and the waste of the kept cases.

    Times of steps are seconds; waste and ``total_hours`` (the kept cases'
    lead times, summed) are hours.  ``wastes`` is a Pareto: most hours first.
    ``main_variant`` is the sequence as the variants table shows it; the
    steps are activity instances, so in a log with lifecycle start/complete
    events (where the variant lists each activity twice) a pair is one step.
    """

    cases: int
    main_variant: tuple[str, ...]
    main_variant_cases: int
    main_variant_share: float
    steps: tuple[LeanStep, ...]
    lead_time_median: float | None
    pce: float | None
    processing_measured: bool
    total_hours: float
    wastes: tuple[Waste, ...]
    costed: bool
    business_time: bool
    note: str

    def waste(self, kind: str) -> Waste:
        for w in self.wastes:
            if w.kind == kind:
                return w
        msg = f"no waste {kind!r}; kinds: {', '.join(w.kind for w in self.wastes)}"
        raise AnalysisError(msg)


def lean_view(
    store: Store,
    log_id: int,
    flt: Filter | None = None,
    *,
    calendar: Calendar | None = None,
    cost_per_hour: RateCard | float | Mapping[str, float] | None = None,
    deviating_cases: Collection[str] | None = None,
    leave_out: Collection[int] = (),
) -> LeanView:
    """The main variant's steps and PCE, and waste (waiting, hand-offs, rework, deviations) in hours and money.

    ``leave_out`` names internal case numbers to leave out (a monitor leaves out the cases with
    placeholder dates, whose waiting would be counted in millennia).

    Examples
    --------
    >>> view = lean_view(store, log_id, cost_per_hour={"ann": 40.0, "*": 30.0})  # doctest: +SKIP
    >>> [(w.kind, round(w.hours, 1), round(w.cost)) for w in view.wastes]      # doctest: +SKIP
    [('waiting', 412.5, 12375), ('rework', 96.0, 3480), ('hand-offs', 20.3, 610)]
    """
    flt = flt or Filter()
    params: dict[str, Any] = {}
    try:
        card = as_rate_card(cost_per_hour)
    except MiningError as exc:
        raise AnalysisError(str(exc)) from None
    rate_sql = card.rate_sql("resource", params, "lean") if card else "CAST(NULL AS DOUBLE)"
    fixed_sql = card.fixed_sql("activity", params, "lean") if card else "CAST(0 AS DOUBLE)"
    dev = sorted({str(c) for c in deviating_cases}) if deviating_cases is not None else []
    if dev:
        _check_cases(store, log_id, dev)
    clk = clock(store, log_id, calendar)
    out = sorted(int(c) for c in leave_out)
    inst = _without(instances_sql(store, log_id, flt), out)
    measured = inst.source != "none"

    totals = ", ".join(
        f"coalesce(sum({k}), 0) AS {k}, sum({k}_cost) AS {k}_cost, count(*) FILTER (WHERE {k} > 0) AS {k}_cases, "
        f"(list(case_id ORDER BY {k} DESC, case_id) FILTER (WHERE {k} > 0))[1:{TOP_CASES}] AS {k}_top"
        for k in _KINDS[:3]
    )
    totals += (
        ", sum(deviation) AS deviation, sum(deviation * coalesce(case_rate, 0)) AS deviation_cost, "
        "count(*) FILTER (WHERE deviation > 0) AS deviation_cases, "
        f"(list(case_id ORDER BY deviation DESC, case_id) FILTER (WHERE deviation > 0))[1:{TOP_CASES}] "
        "AS deviation_top"
    )
    sql = _WASTE_SQL.format(
        timed=timed_sql(inst, clk, lags=("resource",)), rate=rate_sql, fixed=fixed_sql, totals=totals
    )
    row = store.query(sql, {**inst.params, **params, "lean_dev": dev}).dicts()[0]
    if card is not None and row["unpriced"]:
        missing = sorted(row["unpriced"])
        named = sorted(card.priced_resources())
        msg = (
            f"no hourly rate for resource(s) {', '.join(map(repr, missing[:10]))}"
            f"{' and more' if len(missing) > 10 else ''}; rates were given for "
            f"{', '.join(map(repr, named)) if named else 'none'}"
        )
        raise AnalysisError(msg, hint=f"add their rates, or a default rate under {DEFAULT_RATE_KEY!r}")

    costed = card is not None
    wastes = [_waste(k, row, costed, _explain(k, measured, row)) for k in _KINDS[:3]]
    if deviating_cases is not None:
        wastes.append(_waste("deviation", row, costed, _explain("deviation", measured, row)))
    wastes.sort(key=lambda w: (w.hours is None, -(w.hours or 0.0)))

    main, main_cases, share, steps, lead_median, pce = _main_variant(store, log_id, flt, clk, out)
    note = (
        "Waiting, hand-offs and rework are disjoint (each second of waiting counts once: rework first, then "
        "hand-off, then waiting)"
        + ("; deviations overlap them" if deviating_cases is not None else "")
        + ". PCE = processing time / lead time (first start to last completion) over the main variant's cases."
    )
    if not measured:
        note += (
            " There are no start timestamps: processing time cannot be measured, so the PCE and the steps' "
            "processing times are unknown (left empty), and waiting is all of the time between completions."
        )
    if costed:
        note += (
            " Cost = hours x rate; with rates per resource, waiting is charged at the rate of the resource "
            "whose activity waited, a repeated activity also costs its fixed cost again, and a deviating "
            "case's extra time is charged at the case's average rate."
        )
    if clk.calendar is not None:
        note += f" Times are business time ({clk.calendar.label()})."
    return LeanView(
        cases=int(row["cases"]),
        main_variant=main,
        main_variant_cases=main_cases,
        main_variant_share=share,
        steps=steps,
        lead_time_median=lead_median,
        pce=pce,
        processing_measured=measured,
        total_hours=float(row["lead"]) / HOUR,
        wastes=tuple(wastes),
        costed=costed,
        business_time=clk.business,
        note=note,
    )


def _without(inst: InstancesSQL, cases: list[int]) -> InstancesSQL:
    """The instances without those of ``cases`` (internal case numbers)."""
    if not cases:
        return inst
    sql = f"SELECT * FROM ({inst.sql}) lean_i WHERE NOT list_contains($lean_out, lean_i.case_no)"
    return dataclasses.replace(inst, sql=sql, params={**inst.params, "lean_out": cases})


def _main_variant(
    store: Store, log_id: int, flt: Filter, clk: Clock, leave_out: list[int]
) -> tuple[tuple[str, ...], int, float, tuple[LeanStep, ...], float | None, float | None]:
    """(sequence, cases, share, steps, median lead time, PCE) of the most frequent kept variant."""
    table = variants(store, log_id, flt, top=1)
    if not table.variants:
        return (), 0, 0.0, (), None, None
    top = table.variants[0]
    # The variant's cases: its stored variant ids (several may project onto it) within the filter.
    ids = projected_variants(store, log_id, flt)[0][2] if flt.projects_events else (top.variant_id,)
    inst = _without(instances_sql(store, log_id, dataclasses.replace(flt, variant_ids=ids)), leave_out)
    rows = store.query(_STEPS_SQL.format(timed=timed_sql(inst, clk)), inst.params).dicts()
    measured = inst.source != "none"

    def num(v: Any) -> float | None:
        return None if v is None else float(v)

    steps = tuple(
        LeanStep(
            int(r["pos"]),
            str(r["activity"]),
            int(r["n"]),
            num(r["proc"]) if measured else None,
            num(r["wait"]),
        )
        for r in rows
    )
    pce = None
    if rows and measured and rows[0]["proc_total"] is not None and rows[0]["lead_total"]:
        pce = float(rows[0]["proc_total"]) / float(rows[0]["lead_total"])
    lead = num(rows[0]["lead_median"]) if rows else None
    return top.activities, top.cases, top.share, steps, lead, pce


def _waste(kind: str, row: dict[str, Any], costed: bool, explanation: str) -> Waste:
    seconds = row[kind]
    if kind == "deviation" and row["dev_median"] is None:
        seconds = None
    cost = row[f"{kind}_cost"]
    return Waste(
        kind=_WASTE_NAMES[kind],
        hours=None if seconds is None else float(seconds) / HOUR,
        cost=(float(cost or 0.0) / HOUR) if costed and seconds is not None else None,
        cases=int(row[f"{kind}_cases"]),
        top_cases=tuple(row[f"{kind}_top"] or ()),
        explanation=explanation,
    )


def _explain(kind: str, measured: bool, row: dict[str, Any]) -> str:
    if kind == "waiting":
        if measured:
            return (
                "Waiting before activities (previous completion in the case to the start), "
                "leaving out hand-offs and repeated activities, which are counted there."
            )
        return (
            "Time between consecutive completions in a case, leaving out hand-offs and repeated "
            "activities. There are no start timestamps, so processing cannot be told apart: this "
            "includes processing time and is an upper bound on waiting."
        )
    if kind == "handoff":
        return (
            "Waiting before an activity done by another resource than the previous activity "
            "(the work changed hands); cases or events without a resource have no hand-offs."
        )
    if kind == "rework":
        spent = (
            "the waiting before it plus its processing time"
            if measured
            else "the time since the previous completion (no start timestamps)"
        )
        return (
            f"Time of repeated activities (each execution beyond an activity's first in the case): {spent}. "
            "Work between repeats (B in A-B-A) is not counted, so this is a lower bound on the cost of loops."
        )
    n_dev, others, med = int(row["dev_cases"]), int(row["dev_others"] or 0), row["dev_median"]
    if med is None:
        return (
            f"Not computable: all {plural(n_dev, 'kept case')} are deviating, so there is no other case to "
            "compare their lead time with."
        )
    return (
        f"Lead time of the {plural(n_dev, 'deviating case')} beyond the median lead time of the "
        f"{plural(others, 'other case')} ({duration_words(float(med))}), summed over the deviating cases that "
        "took longer. "
        "This time is also counted as waiting, hand-offs or rework."
    )


def _check_cases(store: Store, log_id: int, cases: list[str]) -> None:
    unknown = store.query(
        "SELECT list(d ORDER BY d) FROM (SELECT unnest($ids) AS d) t "
        "WHERE d NOT IN (SELECT case_id FROM cases WHERE log_id = $log)",
        {"ids": cases, "log": log_id},
    ).scalar()
    if unknown:
        name = store.scalar("SELECT name FROM logs WHERE log_id = ?", [log_id])
        shown = ", ".join(map(repr, unknown[:5])) + (" and more" if len(unknown) > 5 else "")
        msg = f"{plural(len(unknown), 'deviating case')} {'is' if len(unknown) == 1 else 'are'} not in log {name!r}: {shown}"
        raise AnalysisError(msg)


def waste_words(w: Waste, business_time: bool = False) -> tuple[str, str]:
    """A waste's time as a person reads it: in all (``"155,306 days"``) and per case that carries it.

    Under a working calendar the time is business time, in business hours: a
    "day" of business seconds would be read as a working day, which it is not.
    """
    if w.hours is None:
        return "-", "-"
    per_case = format_duration(w.hours * HOUR / w.cases) if w.cases else "-"
    if business_time:
        return f"{w.hours:,.1f} business hours", per_case + " (business)"
    return duration_words(w.hours * HOUR), per_case


def pce_words(view: LeanView) -> str:
    """The process cycle efficiency as a percentage, or why it is unknown."""
    if view.pce is not None:
        return f"{view.pce:.1%}"
    if not view.processing_measured:
        return "unknown (no start timestamps, so no processing time)"
    return "unknown"
