"""What checking rules returns: plain frozen records."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mining.conformance.rules.rule import Rule

__all__ = ["OUTCOMES", "Counts", "PeriodRate", "RuleResult"]

#: A case's outcome for one rule (see :mod:`mining.conformance.rules`).
OUTCOMES = ("violated", "satisfied", "not_applicable", "unknown", "pending")


@dataclass(frozen=True)
class RuleResult:
    """One rule over the kept cases.  ``rate`` is violations / activated (0 when nothing was judged);
    ``sample_cases`` are the first violating case ids in case order."""

    rule: Rule
    name: str
    type: str
    sentence: str
    cases: int
    activated: int
    violations: int
    rate: float
    not_applicable: int
    unknown: int
    pending: int
    sample_cases: tuple[str, ...]
    calendar: str | None = None

    @property
    def satisfied(self) -> int:
        return self.activated - self.violations


@dataclass(frozen=True)
class PeriodRate:
    """A rule's outcome counts over the cases that started in one period (UTC)."""

    start: dt.datetime
    cases: int
    activated: int
    violations: int
    rate: float


@dataclass(frozen=True)
class Counts:
    """How the kept cases came out for one rule (see :data:`OUTCOMES`); ``activated`` = violated + satisfied."""

    cases: int
    activated: int
    violations: int
    not_applicable: int
    unknown: int
    pending: int
