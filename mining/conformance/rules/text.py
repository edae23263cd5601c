"""One-line rules: ``A before B`` · ``A then B`` · ``four-eyes A, B`` · ``A -> B within 2d``
(or ``→``) · ``never A`` · ``at most once A`` · ``not both A, B``.

Keywords are case-insensitive; put an activity name in quotes (``"Check, then
pay" before Pay``) when it contains a keyword, a comma or a quote.  A rule's
:attr:`~mining.conformance.rules.rule.Rule.text` reads back to the same rule.
"""

from __future__ import annotations

import re

from mining.conformance.rules.limits import parse_limit
from mining.conformance.rules.rule import Rule
from mining.errors import RuleError

__all__ = ["parse_rule"]

_FORMS = (
    "'A before B', 'A then B', 'four-eyes A, B', 'A -> B within 2d', 'never A', "
    "'at most once A' or 'not both A, B'"
)


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


def parse_rule(text: str, *, name: str | None = None, origin: str | None = None) -> Rule:
    """One rule from its one-line text, e.g. ``"Approve before Pay"`` or ``"Receive -> Pay within 2d"``.

    ``origin`` says where the text came from, for messages (default: the text itself).

    Examples
    --------
    >>> parse_rule("Receive -> Pay within 2d").limit.total_seconds
    172800.0
    >>> parse_rule('four-eyes "Approve, final", Pay').activities
    ('Approve, final', 'Pay')
    """
    return _parse_text(text, origin or f"rule {text!r}", name)
