"""Checking rules over a stored log: counts, rates, sentences, the violating cases, rates per period.

Every case of the (filtered) log gets exactly one outcome per rule (see
:mod:`mining.conformance.rules`); the counts come from one query over the
rule's outcome relation (:func:`~mining.conformance.rules.sql.outcomes`).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from mining.conformance.rules.records import Counts, PeriodRate, RuleResult
from mining.conformance.rules.rule import Rule, check_unique
from mining.conformance.rules.sentences import sentence
from mining.conformance.rules.sql import outcomes, rule_clock
from mining.errors import RuleError

if TYPE_CHECKING:
    from mining.analysis.calendar import Calendar
    from mining.analysis.filters import Filter
    from mining.store import Store

__all__ = [
    "CASE_IDS_SQL",
    "COUNTS_SQL",
    "DEFAULT_SAMPLE",
    "PERIOD_SQL",
    "VIOLATING_SQL",
    "check_activities",
    "check_rules",
    "rates_by_period",
    "violating_cases",
    "violations",
]

DEFAULT_SAMPLE = 10

COUNTS_SQL = """
SELECT count(*) AS cases,
       count(*) FILTER (WHERE outcome = 'violated') AS violated,
       count(*) FILTER (WHERE outcome = 'satisfied') AS satisfied,
       count(*) FILTER (WHERE outcome = 'not_applicable') AS not_applicable,
       count(*) FILTER (WHERE outcome = 'unknown') AS unknown,
       count(*) FILTER (WHERE outcome = 'pending') AS pending,
       min(case_no, $r_sample) FILTER (WHERE outcome = 'violated') AS sample
FROM ({outcomes}) o
"""

CASE_IDS_SQL = (
    "SELECT case_id FROM cases WHERE log_id = $f_log AND list_contains($r_nos, case_no) ORDER BY case_no"
)

VIOLATING_SQL = """
SELECT c.case_id, o.seconds FROM ({outcomes}) o
JOIN cases c ON c.log_id = $f_log AND c.case_no = o.case_no
WHERE o.outcome = 'violated' ORDER BY o.case_no
"""

PERIOD_SQL = """
SELECT date_trunc($r_period, c.start_ts) AS period, count(*) AS cases,
       count(*) FILTER (WHERE o.outcome IN ('violated', 'satisfied')) AS activated,
       count(*) FILTER (WHERE o.outcome = 'violated') AS violated
FROM ({outcomes}) o JOIN cases c ON c.log_id = $f_log AND c.case_no = o.case_no
GROUP BY 1 ORDER BY 1
"""


def check_activities(store: Store, log_id: int, rules: Sequence[Rule]) -> None:
    """Refuse a rule naming an activity the log does not have; the hint lists the nearest ones."""
    known = {
        r[0] for r in store.query("SELECT DISTINCT activity FROM events WHERE log_id = ?", [log_id]).rows
    }
    for rule in rules:
        for activity in rule.activities:
            if activity in known:
                continue
            close = difflib.get_close_matches(activity, sorted(known), n=3, cutoff=0.6)
            if close:
                hint = "nearest activities in the log: " + ", ".join(repr(c) for c in close)
            else:
                listed = sorted(known)
                hint = f"the log's activities: {', '.join(repr(c) for c in listed[:10])}" + (
                    f" and {len(listed) - 10} more" if len(listed) > 10 else ""
                )
            msg = f"{rule.origin}: the log has no activity {activity!r}"
            raise RuleError(msg, hint=hint)


def check_rules(
    store: Store,
    log_id: int,
    rules: Iterable[Rule],
    flt: Filter | None = None,
    *,
    calendar: Calendar | None = None,
    sample: int = DEFAULT_SAMPLE,
) -> tuple[RuleResult, ...]:
    """Check each rule over the kept cases; one :class:`RuleResult` per rule, in order.

    ``calendar`` turns max-time durations into business time (other rules
    ignore it).  ``sample`` bounds ``sample_cases``.  A rule naming an
    activity the log does not have is a :class:`~mining.errors.RuleError`
    whose hint lists the nearest activities.

    Examples
    --------
    >>> [r.sentence for r in check_rules(store, log, [parse_rule("Approve before Pay")])]  # doctest: +SKIP
    ["'Pay' happened without an earlier 'Approve' in 3.2% of cases where 'Pay' occurred (41 of 1,280)."]
    """
    rules = tuple(rules)
    if sample < 0:
        msg = f"`sample` must be 0 or more, got {sample}"
        raise RuleError(msg)
    check_unique(rules)
    check_activities(store, log_id, rules)
    clk = rule_clock(store, log_id, rules, calendar)
    label = clk.calendar.label() if clk is not None and clk.calendar is not None else None
    out = []
    for rule in rules:
        o = outcomes(store, log_id, rule, flt, clk)
        params = {**o.params, "r_sample": max(sample, 1)}
        cases, violated, satisfied, na, unknown, pending, nos = store.query(
            COUNTS_SQL.format(outcomes=o.sql), params
        ).rows[0]
        ids: tuple[str, ...] = ()
        if sample and nos:
            ids = tuple(r[0] for r in store.query(CASE_IDS_SQL, {"f_log": log_id, "r_nos": list(nos)}).rows)
        activated = int(violated) + int(satisfied)
        counts = Counts(int(cases), activated, int(violated), int(na), int(unknown), int(pending))
        time_label = label if rule.type == "max-time" else None
        out.append(
            RuleResult(
                rule=rule,
                name=rule.name,
                type=rule.type,
                sentence=sentence(rule, counts, time_label),
                cases=counts.cases,
                activated=activated,
                violations=counts.violations,
                rate=counts.violations / activated if activated else 0.0,
                not_applicable=counts.not_applicable,
                unknown=counts.unknown,
                pending=counts.pending,
                sample_cases=ids,
                calendar=time_label,
            )
        )
    return tuple(out)


def violating_cases(
    store: Store,
    log_id: int,
    rule: Rule,
    flt: Filter | None = None,
    *,
    calendar: Calendar | None = None,
) -> tuple[str, ...]:
    """Every violating case id of ``rule`` among the kept cases, in case order (for drill-down)."""
    return tuple(case for case, _ in violations(store, log_id, rule, flt, calendar=calendar))


def violations(
    store: Store, log_id: int, rule: Rule, flt: Filter | None = None, *, calendar: Calendar | None = None
) -> list[tuple[str, float | None]]:
    """``(case id, seconds)`` of every violating case of ``rule``, in case order; ``seconds`` for max-time only."""
    check_activities(store, log_id, [rule])
    o = outcomes(store, log_id, rule, flt, rule_clock(store, log_id, [rule], calendar))
    return [(str(c), s) for c, s in store.query(VIOLATING_SQL.format(outcomes=o.sql), o.params).rows]


def rates_by_period(
    store: Store,
    log_id: int,
    rule: Rule,
    flt: Filter | None = None,
    *,
    period: str = "month",
    calendar: Calendar | None = None,
) -> tuple[PeriodRate, ...]:
    """Counts and violation rate of ``rule`` per ``week`` or ``month`` of the case's start (UTC)."""
    if period not in ("day", "week", "month"):
        msg = f"period {period!r}: expected day, week or month"
        raise RuleError(msg)
    check_activities(store, log_id, [rule])
    o = outcomes(store, log_id, rule, flt, rule_clock(store, log_id, [rule], calendar))
    rows = store.query(PERIOD_SQL.format(outcomes=o.sql), {**o.params, "r_period": period}).rows
    return tuple(
        PeriodRate(start, int(n), int(act), int(v), int(v) / int(act) if act else 0.0)
        for start, n, act, v in rows
    )
