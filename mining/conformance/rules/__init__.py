"""Declarative rules checked over the events, without a process model.

A rule says one thing the process must (or must not) do; each is checked in
SQL over the stored events and reported as a violation rate with its cases.

Rule types
----------
``precedence`` — "A before B"
    Every B is preceded, somewhere earlier in the case, by an A.  A case
    violates it when it has a B with no earlier A (equivalently: its first B
    comes before its first A, or it has no A).
``response`` — "A then B"
    Every A is followed, somewhere later in the case, by a B.
``four-eyes`` — "four-eyes A, B" (segregation of duties)
    A and B in one case are done by different resources.  A case violates it
    when one resource did both an A and a B.
``max-time`` — "A -> B within 2d" (an SLA)
    From the case's first A to the first B after it takes at most ``limit``.
``never`` — "never A": A does not occur at all.
``at-most-once`` — "at most once A": A is not redone in a case.
``not-both`` — "not both A, B": a case holds A or B, not both.

Every case of the (filtered) log gets exactly one outcome:

* ``violated`` / ``satisfied``: the rule applied and was judged;
* ``not_applicable``: the rule's trigger did not occur, so the case satisfies
  it vacuously (precedence: no B; response, max-time, at-most-once: no A;
  four-eyes: A or B missing; not-both: neither);
* ``unknown``: it applied but cannot be judged (four-eyes: no resource proves
  a violation and an A or B has no resource; max-time under a calendar: an
  instant outside the calendar's table);
* ``pending`` (max-time only): A happened, no B followed yet, and the limit has
  not passed at the log's end (the last timestamp of the whole log, the best
  stand-in for the moment of the export), so the case is censored.

``activated`` counts the judged cases (violated + satisfied) and is the
denominator of ``rate``, so ``cases = activated + not_applicable + unknown +
pending``; ``never`` applies to every case.

Order and time
--------------
Events are read as activity instances, as every measure reads them (see
:mod:`mining.analysis.performance`: in a log with lifecycle transitions only
completions count), ordered by timestamp and file row within the case, so
"earlier" means earlier in that order, also for equal timestamps.  Max-time
measures completion to completion, in elapsed seconds, or under a business
:class:`~mining.analysis.calendar.Calendar` in working seconds; then ``d`` in
a limit means one working day (the calendar's daily window, 8 h for 09-17)
and ``w`` one working week (its working days), so "2d" reads as two business
days (:func:`~mining.conformance.rules.limits.business_seconds`).  The limit
is inclusive: exactly 2d is in time.

Modules
-------
``rule`` (the record), ``text`` (one-line rules: ``A before B`` · ``A then
B`` · ``four-eyes A, B`` · ``A -> B within 2d`` · ``never A`` · ``at most
once A`` · ``not both A, B``), ``files`` (YAML rule files), ``limits`` (a
max-time limit, read by the package's one duration grammar), ``sql`` (a
rule's outcome per case), ``check`` (counts and rates), ``sentences``,
``records`` and ``export`` (violating cases to CSV).

Monitoring
----------
:func:`outcomes_sql` is the relation of ``(case_no, outcome, seconds)`` for
one rule; join it to ``cases`` on ``case_no`` to group by a case's start,
end or any attribute.  :func:`rates_by_period` does that for the case's
start week or month.
"""

from mining.conformance.rules.check import DEFAULT_SAMPLE, check_rules, rates_by_period, violating_cases
from mining.conformance.rules.export import export_violations
from mining.conformance.rules.files import load_rules
from mining.conformance.rules.limits import business_seconds, parse_limit
from mining.conformance.rules.records import OUTCOMES, PeriodRate, RuleResult
from mining.conformance.rules.rule import RULE_TYPES, Rule, find_rule
from mining.conformance.rules.sql import OutcomesSQL, outcomes_sql
from mining.conformance.rules.text import parse_rule

__all__ = [
    "DEFAULT_SAMPLE",
    "OUTCOMES",
    "RULE_TYPES",
    "OutcomesSQL",
    "PeriodRate",
    "Rule",
    "RuleResult",
    "business_seconds",
    "check_rules",
    "export_violations",
    "find_rule",
    "load_rules",
    "outcomes_sql",
    "parse_limit",
    "parse_rule",
    "rates_by_period",
    "violating_cases",
]
