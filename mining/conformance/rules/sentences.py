"""Each rule's outcome in one plain sentence, with the share of the judged cases that violated it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mining.conformance.rules.records import Counts
    from mining.conformance.rules.rule import Rule

__all__ = ["sentence"]


def _pct(n: int, d: int) -> str:
    share = n / d
    if 0 < share < 0.001:
        return "<0.1%"
    if n < d and share > 0.999:
        return ">99.9%"
    return f"{share:.1%}"


def _cases(n: int) -> str:
    return f"{n:,} case" + ("" if n == 1 else "s")


def sentence(rule: Rule, c: Counts, calendar: str | None) -> str:
    """What ``c`` says about ``rule``; ``calendar`` labels a max-time limit read in business time."""
    a = f"'{rule.activities[0]}'"
    b = f"'{rule.activities[1]}'" if len(rule.activities) == 2 else ""
    of = f"({c.violations:,} of {c.activated:,})"
    # Cases left undecided are not in the rate: say so where it matters.
    judged = "judged " if c.pending or c.unknown else ""
    if rule.type == "max-time":
        assert rule.limit is not None
        span = f"{rule.limit.text}" + (" of business time" if calendar else "")
        tail = ""
        if c.pending:
            tail += (
                f" {_cases(c.pending)} without {b} {'is' if c.pending == 1 else 'are'} still within "
                "the limit at the log's end (pending)."
            )
        if c.unknown:
            tail += f" {_cases(c.unknown)} fell outside the calendar and could not be judged."
        if not c.activated:
            judged = (
                f"No case had {a}"
                if not (c.pending or c.unknown)
                else f"No case with {a} could be judged yet"
            )
            return f"{judged}, so the rule was not tested.{tail}"
        return (
            f"{b} did not follow {a} within {span} in {_pct(c.violations, c.activated)} of {judged}cases "
            f"with {a} {of}.{tail}"
        )
    if rule.type == "four-eyes":
        tail = (
            f" {_cases(c.unknown)} with both but a missing resource could not be judged." if c.unknown else ""
        )
        if not c.activated:
            known = " with known resources" if c.unknown else ""
            return f"No case had both {a} and {b}{known}, so the rule was not tested.{tail}"
        return (
            f"The same resource performed {a} and {b} in {_pct(c.violations, c.activated)} of {judged}cases "
            f"with both {of}.{tail}"
        )
    if not c.activated:
        missing = {"precedence": b, "not-both": f"{a} or {b}"}.get(rule.type, a)
        if rule.type == "never":
            return "No case was kept, so the rule was not tested."
        return f"No case had {missing}, so the rule was not tested."
    pct = _pct(c.violations, c.activated)
    return {
        "precedence": f"{b} happened without an earlier {a} in {pct} of cases where {b} occurred {of}.",
        "response": f"{a} was not followed by a later {b} in {pct} of cases where {a} occurred {of}.",
        "never": f"{a} occurred in {pct} of cases {of}.",
        "at-most-once": f"{a} occurred more than once in {pct} of cases where it occurred {of}.",
        "not-both": f"{a} and {b} both occurred in {pct} of cases with either {of}.",
    }[rule.type]
