"""Rule files: YAML read safely into rules, with errors that name the file, the rule and the key.

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
      limit: 2d                # 2d, 4h, 90m, 30s, 1w, 1d 12h, 2 days, or ISO-8601 P2D, PT4H, P1DT12H
    - type: never
      activity: Cancel
    - type: at-most-once
      activity: Approve
    - type: not-both
      activities: [Reject, Pay]
    - Approve before Pay

Files are read with :func:`mining.safeyaml.load_yaml`: tags, anchors and
aliases are refused, and so are duplicate keys.  Activity names must be YAML text (quote
``yes``, ``no``, ``on``, ``off`` and numbers).
"""

from __future__ import annotations

import difflib
from pathlib import Path

from mining.conformance.rules.limits import parse_limit
from mining.conformance.rules.rule import ACTIVITY_KEYS, RULE_TYPES, Rule, check_unique
from mining.conformance.rules.text import parse_rule
from mining.durations import DURATION_EXAMPLES
from mining.errors import RuleError
from mining.safeyaml import load_yaml

__all__ = ["load_rules"]


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
    doc = load_yaml(text, source=label, kind="rule files", error=RuleError)
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
    check_unique(rules)
    return rules


def _rule_from_item(item: object, label: str, index: int) -> Rule:
    where = f"{label}, rule {index}"
    if isinstance(item, str):
        return parse_rule(item, origin=f"{where} ({item!r})")
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
    keys = ACTIVITY_KEYS[kind] + (("limit",) if kind == "max-time" else ())
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
        acts = tuple(_activity(item[k], where, k) for k in ACTIVITY_KEYS[kind])
    if len(acts) == 2 and acts[0] == acts[1]:
        msg = f"{where}: both activities are {acts[0]!r}; a {kind} rule needs two different activities"
        raise RuleError(msg)
    limit = None
    if kind == "max-time":
        raw = item["limit"]
        if not isinstance(raw, str):
            msg = f"{where}: key 'limit': expected a duration as text, e.g. {DURATION_EXAMPLES}; got {_kind(raw)}"
            raise RuleError(msg)
        try:
            limit = parse_limit(raw)
        except RuleError as exc:
            raise RuleError(f"{where}: {exc}") from None  # the message names the limit
    return Rule(kind, acts, limit, name or "", where)


def _activity(value: object, where: str, key: str) -> str:
    if not isinstance(value, str) or not value:
        got = "empty text" if value == "" else _kind(value)
        msg = f"{where}: key {key!r}: expected an activity name as text, got {got}; put it in quotes"
        raise RuleError(msg)
    return value
