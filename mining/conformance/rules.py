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
days.  The limit is inclusive: exactly 2d is in time.

Rule files (YAML)
-----------------
A list of rules (or a mapping whose only key ``rules`` holds the list).  Each
rule is a mapping with ``type``, an optional ``name`` (default: the rule's
one-line text) and its activities, or simply a one-line rule as text::

    - name: Pay only approved invoices
      type: precedence
      before: Approve          # every 'after' needs an earlier 'before'
      after: Pay
    - type: response           # every 'before' needs a later 'after'
      before: Approve
      after: Pay
    - type: four-eyes
      activities: [Approve, Pay]
    - type: max-time
      from: Receive
      to: Pay
      limit: 2d                # 2d, 4h, 90m, 30s, 1w, 1d 12h, or ISO-8601 P2D, PT4H, P1DT12H
    - type: never
      activity: Cancel
    - type: at-most-once
      activity: Approve
    - type: not-both
      activities: [Reject, Pay]
    - Approve before Pay

Files are read with ``yaml.safe_load``: tags that construct objects are
refused, and so are duplicate keys.  Activity names must be YAML text (quote
``yes``, ``no``, ``on``, ``off`` and numbers).

One-line rules
--------------
``A before B`` · ``A then B`` · ``four-eyes A, B`` · ``A -> B within 2d``
(or ``→``) · ``never A`` · ``at most once A`` · ``not both A, B``.  Keywords
are case-insensitive; put an activity name in quotes (``"Check, then pay"
before Pay``) when it contains a keyword, a comma or a quote.

Monitoring
----------
:func:`outcomes_sql` is the relation of ``(case_no, outcome, seconds)`` for
one rule; join it to ``cases`` on ``case_no`` to group by a case's start,
end or any attribute.  :func:`rates_by_period` does that for the case's
start week or month.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mining.analysis.filters import Filter
from mining.errors import RuleError
from mining.spreadsheet import safe_cell as _safe_cell

if TYPE_CHECKING:
    from mining.analysis.calendar import Calendar, Clock
    from mining.store import Store

__all__ = [
    "OUTCOMES",
    "RULE_TYPES",
    "Limit",
    "OutcomesSQL",
    "PeriodRate",
    "Rule",
    "RuleResult",
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

RULE_TYPES = ("precedence", "response", "four-eyes", "max-time", "never", "at-most-once", "not-both")

#: The YAML keys holding each type's activities, in the order of ``Rule.activities``.
#: A key ``activities`` holds a list of two names.
_ACTIVITY_KEYS: dict[str, tuple[str, ...]] = {
    "precedence": ("before", "after"),
    "response": ("before", "after"),
    "four-eyes": ("activities",),
    "max-time": ("from", "to"),
    "never": ("activity",),
    "at-most-once": ("activity",),
    "not-both": ("activities",),
}
_ARITY = {t: 1 if keys == ("activity",) else 2 for t, keys in _ACTIVITY_KEYS.items()}
_FORMS = (
    "'A before B', 'A then B', 'four-eyes A, B', 'A -> B within 2d', 'never A', "
    "'at most once A' or 'not both A, B'"
)
_DURATION_HELP = "expected e.g. 2d, 4h, 90m, 30s, 1w, 1d 12h or ISO-8601 P2D, PT4H"
OUTCOMES = ("violated", "satisfied", "not_applicable", "unknown", "pending")
DEFAULT_SAMPLE = 10


# -- limits ------------------------------------------------------------------


@dataclass(frozen=True)
class Limit:
    """A max-time limit.  Days and weeks are kept apart from hours so that a
    business calendar can read them as working days and working weeks."""

    weeks: float = 0.0
    days: float = 0.0
    seconds: float = 0.0
    text: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.text:
            object.__setattr__(self, "text", _limit_text(self.weeks, self.days, self.seconds))

    def elapsed_seconds(self) -> float:
        return (self.weeks * 7 + self.days) * 86_400 + self.seconds

    def business_seconds(self, calendar: Calendar) -> float:
        """Working seconds: a day is the calendar's daily window, a week its working days."""
        start, end = calendar.window()
        day = (86_400 if end is None else end.hour * 3600 + end.minute * 60) - (
            start.hour * 3600 + start.minute * 60
        )
        return (self.weeks * len(set(calendar.workdays)) + self.days) * day + self.seconds


_UNITS = {
    "w": "w",
    "week": "w",
    "weeks": "w",
    "d": "d",
    "day": "d",
    "days": "d",
    "h": "h",
    "hr": "h",
    "hrs": "h",
    "hour": "h",
    "hours": "h",
    "m": "m",
    "min": "m",
    "mins": "m",
    "minute": "m",
    "minutes": "m",
    "s": "s",
    "sec": "s",
    "secs": "s",
    "second": "s",
    "seconds": "s",
}
_SECONDS = {"h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]+)", re.IGNORECASE)
_ISO = re.compile(
    r"P(?:(?P<y>\d+(?:\.\d+)?)Y)?(?:(?P<mo>\d+(?:\.\d+)?)M)?(?:(?P<w>\d+(?:\.\d+)?)W)?(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<mi>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?",
    re.IGNORECASE,
)


def parse_limit(text: str) -> Limit:
    """Read ``"2d"``, ``"4h"``, ``"90m"``, ``"1d 12h"``, ``"1w"`` or ISO-8601 ``"P2D"``, ``"PT4H"``."""
    raw = text.strip()
    parts: dict[str, float] = {}
    iso = _ISO.fullmatch(raw)
    if iso and len(raw) > 1 and not raw.upper().endswith("T"):
        if iso["y"] or iso["mo"]:
            msg = f"{text!r} counts years or months, which have no fixed length; use days or weeks"
            raise RuleError(msg)
        parts = {
            u: float(iso[g])
            for u, g in (("w", "w"), ("d", "d"), ("h", "h"), ("m", "mi"), ("s", "s"))
            if iso[g] is not None
        }
    else:
        pos = 0
        for m in _PART.finditer(raw):
            unit = _UNITS.get(m[2].lower())
            if m.start() != pos or unit is None or unit in parts:
                break
            parts[unit] = float(m[1])
            pos = m.end()
        if not parts or pos != len(raw):
            msg = f"{text!r} is not a duration; {_DURATION_HELP}"
            raise RuleError(msg)
    limit = Limit(
        parts.get("w", 0.0), parts.get("d", 0.0), sum(parts.get(u, 0.0) * k for u, k in _SECONDS.items()), raw
    )
    if limit.elapsed_seconds() <= 0:
        msg = f"{text!r} is zero; a limit must be longer than zero"
        raise RuleError(msg)
    return limit


def _limit_text(weeks: float, days: float, seconds: float) -> str:
    out = [f"{weeks:g}w"] if weeks else []
    out += [f"{days:g}d"] if days else []
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    out += [f"{v:g}{u}" for v, u in ((hours, "h"), (minutes, "m"), (secs, "s")) if v]
    return " ".join(out) or "0s"


# -- rules -------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One rule.  ``activities`` is ``(A,)`` or ``(A, B)`` as in the rule's text
    (precedence ``A before B``, max-time ``A -> B``); ``name`` defaults to
    that text.  ``origin`` says where the rule came from, for messages."""

    type: str
    activities: tuple[str, ...]
    limit: Limit | None = None
    name: str = ""
    origin: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        where = self.origin or f"rule {self.name or self.activities!r}"
        if self.type not in RULE_TYPES:
            msg = f"{where}: unknown rule type {self.type!r}; expected one of {', '.join(RULE_TYPES)}"
            raise RuleError(msg)
        acts = self.activities
        if len(acts) != _ARITY[self.type] or not all(isinstance(a, str) and a for a in acts):
            msg = f"{where}: a {self.type} rule needs {_ARITY[self.type]} activity name(s), got {acts!r}"
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
        """The rule as one line, readable back by :func:`parse_rule`."""
        q = [_show(a) for a in self.activities]
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


def _show(name: str) -> str:
    if name.strip() != name or _NEEDS_QUOTES.search(name):
        return f"'{name}'" if '"' in name else f'"{name}"'
    return name


def _mask(text: str, where: str) -> str:
    """``text`` with quoted spans replaced by ``\\0``, so keywords are only found outside quotes.

    A quote opens a span only where a name starts (after a space, a comma or
    an arrow), so an apostrophe inside a name ("Manager's approval") is text.
    """
    out = []
    quote = None
    for i, ch in enumerate(text):
        if quote is None and ch in "\"'" and (i == 0 or text[i - 1] in " \t,>→"):
            quote = ch
            out.append("\0")
        elif quote is not None:
            out.append("\0")
            if ch == quote:
                quote = None
        else:
            out.append(ch)
    if quote is not None:
        msg = f"{where}: a quote ({quote}) is not closed"
        raise RuleError(msg)
    return "".join(out)


def _name(text: str, where: str) -> str:
    s = text.strip()
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "\"'":
        s = s[1:-1]
    if not s:
        msg = f"{where}: an activity name is empty"
        raise RuleError(msg)
    return s


_INFIX = {
    "before": re.compile(r"\s+before\s+", re.I),
    "then": re.compile(r"\s+then\s+", re.I),
    "->": re.compile(r"\s*(?:->|→)\s*"),
}
_PREFIX = (
    ("four-eyes", re.compile(r"\s*four[- ]eyes\s+", re.I), 2),
    ("not-both", re.compile(r"\s*not\s+both\s+", re.I), 2),
    ("at-most-once", re.compile(r"\s*at\s+most\s+once\s+", re.I), 1),
    ("never", re.compile(r"\s*never\s+", re.I), 1),
)
_WITHIN = re.compile(r"\s+within\s+", re.I)


def _parse_text(text: str, where: str, name: str | None) -> Rule:
    masked = _mask(text, where)
    found = {k: list(p.finditer(masked)) for k, p in _INFIX.items()}
    hits = [k for k, ms in found.items() if ms]
    if len(hits) > 1 or any(len(found[k]) > 1 for k in hits):
        msg = (
            f"{where}: 'before', 'then' and '->' may appear once, outside quotes; "
            "put activity names that contain them in quotes"
        )
        raise RuleError(msg)

    def cut(m: re.Match[str], end: int | None = None) -> tuple[str, str]:
        return text[: m.start()], text[m.end() : end]

    if hits:
        key = hits[0]
        m = found[key][0]
        within = list(_WITHIN.finditer(masked, m.end()))
        if key == "->":
            if len(within) != 1:
                msg = f"{where}: '->' needs one limit, as in 'Receive -> Pay within 2d'"
                raise RuleError(msg)
            a, b = cut(m, within[0].start())
            try:
                limit = parse_limit(text[within[0].end() :])
            except RuleError as exc:
                raise RuleError(f"{where}: {exc}") from None
            return Rule("max-time", (_name(a, where), _name(b, where)), limit, name or "", where)
        a, b = cut(m)
        kind = "precedence" if key == "before" else "response"
        return Rule(kind, (_name(a, where), _name(b, where)), None, name or "", where)
    for kind, prefix, arity in _PREFIX:
        m = prefix.match(masked)
        if not m:
            continue
        rest, rest_masked = text[m.end() :], masked[m.end() :]
        commas = [i for i, ch in enumerate(rest_masked) if ch == ","]
        if len(commas) != arity - 1:
            need = "two activity names separated by a comma" if arity == 2 else "one activity name"
            msg = f"{where}: {kind} needs {need} (quote names that contain a comma)"
            raise RuleError(msg)
        names = [rest] if arity == 1 else [rest[: commas[0]], rest[commas[0] + 1 :]]
        acts = tuple(_name(n, where) for n in names)
        if arity == 2 and acts[0] == acts[1]:
            msg = f"{where}: both activities are {acts[0]!r}; the rule needs two different activities"
            raise RuleError(msg)
        return Rule(kind, acts, None, name or "", where)
    msg = f"{where}: not a rule; expected {_FORMS} (quote activity names that contain these words)"
    raise RuleError(msg)


def parse_rule(text: str, *, name: str | None = None) -> Rule:
    """One rule from its one-line text, e.g. ``"Approve before Pay"`` or ``"Receive -> Pay within 2d"``.

    Examples
    --------
    >>> parse_rule("Receive -> Pay within 2d").limit.elapsed_seconds()
    172800.0
    >>> parse_rule('four-eyes "Approve, final", Pay').activities
    ('Approve, final', 'Pay')
    """
    return _parse_text(text, f"rule {text!r}", name)


# -- rule files --------------------------------------------------------------


def _loader() -> type:
    import yaml

    class UniqueKeyLoader(yaml.SafeLoader):
        """``yaml.SafeLoader`` that refuses a key given twice in one mapping."""

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"the key {key!r} appears twice", key_node.start_mark
                    )
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    return UniqueKeyLoader


def _kind(value: object) -> str:
    """What a YAML value is, for messages."""
    if isinstance(value, bool):
        return f"{value} (YAML reads yes, no, on and off as true or false)"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    return {dict: "a mapping", list: "a list", str: "text", type(None): "nothing"}.get(
        type(value), type(value).__name__
    )


def load_rules(source: str | Path, *, file: str | None = None) -> tuple[Rule, ...]:
    """Rules from a YAML file (a :class:`~pathlib.Path`) or YAML text (a ``str``).

    ``file`` names the source in messages (default: the path, or ``rules``
    for text).  Errors name the file, the line (YAML syntax) or the rule's
    number (from 1) and name, and the key, and say what was expected.
    """
    import yaml

    if isinstance(source, Path):
        label = file or str(source)
        try:
            text = source.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise RuleError(f"{label}: no such rule file") from None
        except UnicodeDecodeError:
            raise RuleError(f"{label}: the rule file is not UTF-8 text") from None
        except OSError as exc:
            raise RuleError(f"{label}: cannot read the rule file ({exc.strerror})") from None
    else:
        label, text = file or "rules", source
    try:
        doc = yaml.load(text, Loader=_loader())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f", line {mark.line + 1}" if mark is not None else ""
        problem = exc.problem or exc.context or "unreadable"
        tag = re.search(r"the tag '([^']*)'", problem)
        if tag:
            msg = f"{label}{line}: the YAML tag {tag[1]!r} is refused; rule files hold only text, lists and mappings"
        else:
            msg = f"{label}{line}: not valid YAML ({problem})"
        raise RuleError(msg) from None
    except yaml.YAMLError as exc:
        raise RuleError(f"{label}: not valid YAML ({exc})") from None
    if isinstance(doc, dict):
        if set(doc) != {"rules"}:
            keys = ", ".join(repr(k) for k in doc)
            msg = f"{label}: expected a list of rules, or a mapping with only the key 'rules'; found keys {keys}"
            raise RuleError(msg)
        doc = doc["rules"]
    if doc is None or doc == []:
        msg = f"{label}: no rules; expected a list of rules"
        raise RuleError(msg)
    if not isinstance(doc, list):
        msg = f"{label}: expected a list of rules, got {_kind(doc)}"
        raise RuleError(msg)
    rules = tuple(_rule_from_item(item, label, i) for i, item in enumerate(doc, start=1))
    _check_unique(rules, [r.origin for r in rules])
    return rules


def _rule_from_item(item: object, label: str, index: int) -> Rule:
    where = f"{label}, rule {index}"
    if isinstance(item, str):
        return _parse_text(item, f"{where} ({item!r})", None)
    if not isinstance(item, dict):
        msg = (
            f"{where}: expected a mapping with 'type' and its activities, or a one-line rule such as "
            f"'Approve before Pay'; got {_kind(item)}"
        )
        raise RuleError(msg)
    name = item.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        msg = f"{where}: key 'name': expected text, got {_kind(name)}"
        raise RuleError(msg)
    if name:
        where += f" ({name!r})"
    if "type" not in item:
        msg = f"{where}: missing key 'type'; expected one of {', '.join(RULE_TYPES)}"
        raise RuleError(msg)
    kind = item["type"]
    if kind not in RULE_TYPES:
        close = difflib.get_close_matches(str(kind), RULE_TYPES, n=1)
        guess = f" (did you mean {close[0]!r}?)" if close else ""
        msg = (
            f"{where}: key 'type': unknown rule type {kind!r}; expected one of {', '.join(RULE_TYPES)}{guess}"
        )
        raise RuleError(msg)
    keys = _ACTIVITY_KEYS[kind] + (("limit",) if kind == "max-time" else ())
    allowed = ("name", "type", *keys)
    for key in item:
        if key not in allowed:
            msg = f"{where}: unknown key {key!r} for a {kind} rule; expected keys: {', '.join(allowed)}"
            raise RuleError(msg)
    for key in keys:
        if key not in item:
            need = " and ".join(f"'{k}'" for k in keys)
            msg = f"{where}: missing key {key!r}; a {kind} rule needs {need}"
            raise RuleError(msg)
    if keys[0] == "activities":
        pair = item["activities"]
        if not (isinstance(pair, list) and len(pair) == 2):
            msg = f"{where}: key 'activities': expected a list of two activity names, got {_kind(pair)}"
            if isinstance(pair, list):
                msg += f" of {len(pair)}"
            raise RuleError(msg)
        acts = tuple(_activity(v, where, "activities") for v in pair)
    else:
        acts = tuple(_activity(item[k], where, k) for k in _ACTIVITY_KEYS[kind])
    if len(acts) == 2 and acts[0] == acts[1]:
        msg = f"{where}: both activities are {acts[0]!r}; a {kind} rule needs two different activities"
        raise RuleError(msg)
    limit = None
    if kind == "max-time":
        raw = item["limit"]
        if not isinstance(raw, str):
            msg = f"{where}: key 'limit': expected a duration as text such as 2d, 4h, 90m or P2D, got {_kind(raw)}"
            raise RuleError(msg)
        try:
            limit = parse_limit(raw)
        except RuleError as exc:
            raise RuleError(f"{where}: key 'limit': {exc}") from None
    return Rule(kind, acts, limit, name or "", where)


def _activity(value: object, where: str, key: str) -> str:
    if not isinstance(value, str) or not value:
        got = "empty text" if value == "" else _kind(value)
        msg = f"{where}: key {key!r}: expected an activity name as text, got {got}; put it in quotes"
        raise RuleError(msg)
    return value


def _check_unique(rules: Sequence[Rule], wheres: Sequence[str]) -> None:
    first: dict[str, int] = {}
    for i, rule in enumerate(rules):
        if rule.name in first:
            msg = (
                f"{wheres[i]}: the name {rule.name!r} is already used by rule {first[rule.name] + 1}; "
                "rule names must be unique"
            )
            raise RuleError(msg)
        first[rule.name] = i


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


# -- checking ----------------------------------------------------------------


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
class OutcomesSQL:
    """A relation with one row per kept case: ``case_no``, ``outcome`` (one of
    ``violated``, ``satisfied``, ``not_applicable``, ``unknown``, ``pending``) and
    ``seconds`` (max-time: A to B, or A to the log's end without B; else NULL)."""

    sql: str
    params: dict[str, Any]


@dataclass(frozen=True)
class PeriodRate:
    """A rule's outcome counts over the cases that started in one period (UTC)."""

    start: dt.datetime
    cases: int
    activated: int
    violations: int
    rate: float


_ORDER_KEY = "{'t': en, 'r': row_no}"

_COUNTS_SQL = """
SELECT count(*) AS cases,
       count(*) FILTER (WHERE outcome = 'violated') AS violated,
       count(*) FILTER (WHERE outcome = 'satisfied') AS satisfied,
       count(*) FILTER (WHERE outcome = 'not_applicable') AS not_applicable,
       count(*) FILTER (WHERE outcome = 'unknown') AS unknown,
       count(*) FILTER (WHERE outcome = 'pending') AS pending,
       min(case_no, $r_sample) FILTER (WHERE outcome = 'violated') AS sample
FROM ({outcomes}) o
"""

_CASE_IDS_SQL = (
    "SELECT case_id FROM cases WHERE log_id = $f_log AND list_contains($r_nos, case_no) ORDER BY case_no"
)

_VIOLATING_SQL = """
SELECT c.case_id, o.seconds FROM ({outcomes}) o
JOIN cases c ON c.log_id = $f_log AND c.case_no = o.case_no
WHERE o.outcome = 'violated' ORDER BY o.case_no
"""

_PERIOD_SQL = """
SELECT date_trunc($r_period, c.start_ts) AS period, count(*) AS cases,
       count(*) FILTER (WHERE o.outcome IN ('violated', 'satisfied')) AS activated,
       count(*) FILTER (WHERE o.outcome = 'violated') AS violated
FROM ({outcomes}) o JOIN cases c ON c.log_id = $f_log AND c.case_no = o.case_no
GROUP BY 1 ORDER BY 1
"""


def outcomes_sql(
    store: Store,
    log_id: int,
    rule: Rule,
    flt: Filter | None = None,
    *,
    calendar: Calendar | None = None,
) -> OutcomesSQL:
    """The per-case outcomes of ``rule`` as SQL (see :class:`OutcomesSQL`), for callers that group them.

    Activity names are not checked here; :func:`check_rules` does that.
    """
    return _outcomes(store, log_id, rule, flt, _clock(store, log_id, [rule], calendar))


def _outcomes(store: Store, log_id: int, rule: Rule, flt: Filter | None, clk: Clock | None) -> OutcomesSQL:
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
    params["r_limit"] = (
        rule.limit.business_seconds(clk.calendar) if business else rule.limit.elapsed_seconds()
    )
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


def _check_activities(store: Store, log_id: int, rules: Sequence[Rule]) -> None:
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


def _clock(store: Store, log_id: int, rules: Sequence[Rule], calendar: Calendar | None) -> Clock | None:
    if calendar is None or not any(r.type == "max-time" for r in rules):
        return None
    from mining.analysis.calendar import clock

    return clock(store, log_id, calendar)


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
    _check_unique(rules, [r.origin for r in rules])
    _check_activities(store, log_id, rules)
    clk = _clock(store, log_id, rules, calendar)
    label = clk.calendar.label() if clk is not None and clk.calendar is not None else None
    out = []
    for rule in rules:
        o = _outcomes(store, log_id, rule, flt, clk)
        params = {**o.params, "r_sample": max(sample, 1)}
        cases, violated, satisfied, na, unknown, pending, nos = store.query(
            _COUNTS_SQL.format(outcomes=o.sql), params
        ).rows[0]
        ids: tuple[str, ...] = ()
        if sample and nos:
            ids = tuple(r[0] for r in store.query(_CASE_IDS_SQL, {"f_log": log_id, "r_nos": list(nos)}).rows)
        activated = int(violated) + int(satisfied)
        counts = _Counts(int(cases), activated, int(violated), int(na), int(unknown), int(pending))
        time_label = label if rule.type == "max-time" else None
        out.append(
            RuleResult(
                rule=rule,
                name=rule.name,
                type=rule.type,
                sentence=_sentence(rule, counts, time_label),
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
    return tuple(case for case, _ in _violations(store, log_id, rule, flt, calendar))


def _violations(
    store: Store, log_id: int, rule: Rule, flt: Filter | None, calendar: Calendar | None
) -> list[tuple[str, float | None]]:
    _check_activities(store, log_id, [rule])
    o = _outcomes(store, log_id, rule, flt, _clock(store, log_id, [rule], calendar))
    return [(str(c), s) for c, s in store.query(_VIOLATING_SQL.format(outcomes=o.sql), o.params).rows]


def export_violations(
    store: Store,
    log_id: int,
    rule: Rule,
    path: str | Path,
    flt: Filter | None = None,
    *,
    calendar: Calendar | None = None,
) -> int:
    """Write the violating cases of ``rule`` to CSV (``rule, type, case_id, seconds``); return how many.

    ``seconds`` is filled for max-time (A to B, or A to the log's end).  Cells
    a spreadsheet would run as a formula are neutralised, as for rejects.
    """
    rows = _violations(store, log_id, rule, flt, calendar)
    with Path(path).open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["rule", "type", "case_id", "seconds"])
        for case, seconds in rows:
            shown = "" if seconds is None else f"{seconds:.3f}".rstrip("0").rstrip(".")
            writer.writerow([_safe_cell(x) for x in (rule.name, rule.type, case, shown)])
    return len(rows)


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
    _check_activities(store, log_id, [rule])
    o = _outcomes(store, log_id, rule, flt, _clock(store, log_id, [rule], calendar))
    rows = store.query(_PERIOD_SQL.format(outcomes=o.sql), {**o.params, "r_period": period}).rows
    return tuple(
        PeriodRate(start, int(n), int(act), int(v), int(v) / int(act) if act else 0.0)
        for start, n, act, v in rows
    )


# -- sentences ---------------------------------------------------------------


@dataclass(frozen=True)
class _Counts:
    cases: int
    activated: int
    violations: int
    not_applicable: int
    unknown: int
    pending: int


def _pct(n: int, d: int) -> str:
    share = n / d
    if 0 < share < 0.001:
        return "<0.1%"
    if n < d and share > 0.999:
        return ">99.9%"
    return f"{share:.1%}"


def _cases(n: int) -> str:
    return f"{n:,} case" + ("" if n == 1 else "s")


def _sentence(rule: Rule, c: _Counts, calendar: str | None) -> str:
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
