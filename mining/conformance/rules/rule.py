"""A declarative rule: its type, its activities, its limit, and its one-line text.

The record checks itself when built (a known type, the right number of
different activities, a limit for max-time only), so every rule that exists
is well formed, whichever way it was read (:mod:`~mining.conformance.rules.text`,
:mod:`~mining.conformance.rules.files`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mining.errors import RuleError

if TYPE_CHECKING:
    from mining.durations import Duration

__all__ = ["ACTIVITY_KEYS", "ARITY", "RULE_TYPES", "Rule", "check_unique", "find_rule", "quoted"]

RULE_TYPES = ("precedence", "response", "four-eyes", "max-time", "never", "at-most-once", "not-both")

#: The YAML keys holding each type's activities, in the order of ``Rule.activities``.
#: A key ``activities`` holds a list of two names.
ACTIVITY_KEYS: dict[str, tuple[str, ...]] = {
    "precedence": ("before", "after"),
    "response": ("before", "after"),
    "four-eyes": ("activities",),
    "max-time": ("from", "to"),
    "never": ("activity",),
    "at-most-once": ("activity",),
    "not-both": ("activities",),
}
#: How many activities a rule of each type names.
ARITY = {t: 1 if keys == ("activity",) else 2 for t, keys in ACTIVITY_KEYS.items()}


@dataclass(frozen=True)
class Rule:
    """One rule.  ``activities`` is ``(A,)`` or ``(A, B)`` as in the rule's text
    (precedence ``A before B``, max-time ``A -> B``); ``name`` defaults to
    that text.  ``origin`` says where the rule came from, for messages."""

    type: str
    activities: tuple[str, ...]
    limit: Duration | None = None
    name: str = ""
    origin: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        where = self.origin or f"rule {self.name or self.activities!r}"
        if self.type not in RULE_TYPES:
            msg = f"{where}: unknown rule type {self.type!r}; expected one of {', '.join(RULE_TYPES)}"
            raise RuleError(msg)
        acts = self.activities
        if len(acts) != ARITY[self.type] or not all(isinstance(a, str) and a for a in acts):
            msg = f"{where}: a {self.type} rule needs {ARITY[self.type]} activity name(s), got {acts!r}"
            raise RuleError(msg)
        if len(acts) == 2 and acts[0] == acts[1]:
            msg = f"{where}: both activities are {acts[0]!r}; the rule needs two different activities"
            raise RuleError(msg)
        if (self.limit is not None) != (self.type == "max-time"):
            msg = f"{where}: only a max-time rule has a limit, and it needs one"
            raise RuleError(msg)
        if not self.name:
            object.__setattr__(self, "name", self.text)
        if not self.origin:
            object.__setattr__(self, "origin", f"rule {self.name!r}")

    @property
    def text(self) -> str:
        """The rule as one line, readable back by :func:`~mining.conformance.rules.text.parse_rule`."""
        q = [quoted(a) for a in self.activities]
        if self.type == "precedence":
            return f"{q[0]} before {q[1]}"
        if self.type == "response":
            return f"{q[0]} then {q[1]}"
        if self.type == "max-time":
            assert self.limit is not None
            return f"{q[0]} -> {q[1]} within {self.limit.text}"
        if self.type == "never":
            return f"never {q[0]}"
        if self.type == "at-most-once":
            return f"at most once {q[0]}"
        return f"{'four-eyes' if self.type == 'four-eyes' else 'not both'} {q[0]}, {q[1]}"


_NEEDS_QUOTES = re.compile(
    r"[,\"'→]|->|\b(?:before|then|within|never|four|eyes|not|both|at|most|once)\b", re.IGNORECASE
)


def quoted(name: str) -> str:
    """``name`` as a one-line rule writes it: in quotes when it holds a keyword, a comma or a quote."""
    if name.strip() != name or _NEEDS_QUOTES.search(name):
        return f"'{name}'" if '"' in name else f'"{name}"'
    return name


def find_rule(rules: Iterable[Rule], name: str) -> Rule:
    """The rule called ``name``; the error lists the nearest names."""
    rules = tuple(rules)
    for rule in rules:
        if rule.name == name:
            return rule
    names = [r.name for r in rules]
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    msg = f"no rule named {name!r}; rules: {', '.join(repr(n) for n in names)}"
    raise RuleError(msg, hint=f"nearest: {', '.join(repr(n) for n in close)}" if close else None)


def check_unique(rules: Sequence[Rule]) -> None:
    """Refuse two rules with one name: the error names the second and the first."""
    first: dict[str, int] = {}
    for i, rule in enumerate(rules):
        if rule.name in first:
            msg = (
                f"{rule.origin}: the name {rule.name!r} is already used by rule {first[rule.name] + 1}; "
                "rule names must be unique"
            )
            raise RuleError(msg)
        first[rule.name] = i
