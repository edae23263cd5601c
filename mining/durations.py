"""Durations as people write and read them: one grammar, one way to show them.

Every place that takes a duration from a person (an SLA, a rule's limit, a
scenario) parses it here, and every place that shows one formats it here, so
``--sla "2 days"`` and the rule ``A -> B within 2 days`` mean the same thing and
a report, a page and a sentence print the same ``1d 06h``.

The grammar: a sum of parts ``<number><unit>`` with optional spaces (``5d``,
``36h``, ``1d12h``, ``1d 12h``, ``90m``, ``2 days``, ``1 day 12 hours``,
``2.5 hours``) or ISO 8601 (``P2D``, ``PT4H``, ``P1W``, ``P1DT12H``).  Years
and months have no fixed length and are refused.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from mining.errors import MiningError

__all__ = [
    "DURATION_EXAMPLES",
    "Duration",
    "duration_unit",
    "duration_words",
    "format_duration",
    "parse_duration",
    "span_words",
]

DURATION_EXAMPLES = "5d, 36h, 1d12h, 90m, 2 days or ISO 8601 P2D, PT4H"

_DAY = 86_400
_YEAR_DAYS = 365.2425  # the Gregorian year's mean length
_MONTH_DAYS = _YEAR_DAYS / 12
_UNIT_SECONDS = {"w": 7 * _DAY, "d": _DAY, "h": 3600, "m": 60, "s": 1}
_UNIT_NAMES = {
    "w": ("w", "wk", "wks", "week", "weeks"),
    "d": ("d", "day", "days"),
    "h": ("h", "hr", "hrs", "hour", "hours"),
    "m": ("m", "min", "mins", "minute", "minutes"),
    "s": ("s", "sec", "secs", "second", "seconds"),
}
_UNITS = {name: unit for unit, names in _UNIT_NAMES.items() for name in names}
_PART = re.compile(r"\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-z]+)", re.IGNORECASE)
_ISO = re.compile(
    r"P(?:(?P<y>\d+(?:\.\d+)?)Y)?(?:(?P<mo>\d+(?:\.\d+)?)M)?(?:(?P<w>\d+(?:\.\d+)?)W)?(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<mi>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Duration:
    """A parsed duration.  Weeks and days are kept apart from the hours, minutes
    and seconds so that a business calendar can read them as working weeks and
    working days; ``text`` is what the person wrote."""

    weeks: float = 0.0
    days: float = 0.0
    seconds: float = 0.0
    text: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.text:
            object.__setattr__(self, "text", _compact(self.weeks, self.days, self.seconds))

    @property
    def total_seconds(self) -> float:
        """Elapsed (wall-clock) seconds."""
        return (self.weeks * 7 + self.days) * _DAY + self.seconds


def parse_duration(text: str, *, what: str = "duration", error: type[MiningError] = MiningError) -> Duration:
    """Read a positive duration; anything else raises ``error`` naming ``what`` and the forms accepted.

    Examples
    --------
    >>> parse_duration("1d12h").total_seconds, parse_duration("2 days").total_seconds
    (129600.0, 172800.0)
    >>> parse_duration("PT36H") == parse_duration("36 hours")
    True
    """
    raw = text.strip()
    parts: dict[str, float] = {}
    iso = _ISO.fullmatch(raw) if raw[:1].upper() == "P" else None
    if iso and len(raw) > 1 and not raw.upper().endswith("T"):
        if iso["y"] or iso["mo"]:
            msg = f"{what} {text!r} counts years or months, which have no fixed length; use days or weeks"
            raise error(msg)
        parts = {
            u: float(iso[g])
            for u, g in (("w", "w"), ("d", "d"), ("h", "h"), ("m", "mi"), ("s", "s"))
            if iso[g]
        }
    else:
        pos = 0
        for m in _PART.finditer(raw):
            unit = _UNITS.get(m[2].lower())
            if m.start() != pos or unit is None or unit in parts:
                break
            parts[unit] = float(m[1])
            pos = m.end()
        if pos != len(raw):
            parts = {}
    if not parts:
        msg = f"{what} {text!r} is not a duration; expected e.g. {DURATION_EXAMPLES}"
        raise error(msg)
    duration = Duration(
        parts.get("w", 0.0),
        parts.get("d", 0.0),
        sum(parts.get(u, 0.0) * _UNIT_SECONDS[u] for u in "hms"),
        raw,
    )
    if duration.total_seconds <= 0:
        msg = f"{what} {text!r} is zero; expected a duration longer than zero"
        raise error(msg)
    return duration


def format_duration(seconds: float | None) -> str:
    """``'3d 04h'``, ``'2h 05m'``, ``'4m 10s'``, ``'12s'``; ``'-'`` for none: the two largest units, for tables.

    Examples
    --------
    >>> format_duration(110_800), format_duration(7_500), format_duration(-250), format_duration(None)
    ('1d 06h', '2h 05m', '-4m 10s', '-')
    """
    if seconds is None or not math.isfinite(seconds):
        return "-"
    s = round(seconds)
    sign = "-" if s < 0 else ""
    days, rest = divmod(abs(s), _DAY)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days}d {hours:02d}h"
    if hours:
        return f"{sign}{hours}h {minutes:02d}m"
    if minutes:
        return f"{sign}{minutes}m {secs:02d}s"
    return f"{sign}{secs}s"


def duration_unit(seconds: float) -> tuple[float, str]:
    """The unit that keeps ``seconds`` readable, as ``(seconds per unit, name)``, for an axis or a column.

    Examples
    --------
    >>> duration_unit(30), duration_unit(5_000), duration_unit(400_000)
    ((1, 'seconds'), (3600, 'hours'), (86400, 'days'))
    """
    s = abs(seconds)
    if s < 60:
        return 1, "seconds"
    if s < 3600:
        return 60, "minutes"
    if s < 2 * _DAY:
        return 3600, "hours"
    return _DAY, "days"


def duration_words(seconds: float) -> str:
    """``'45 seconds'``, ``'12.5 minutes'``, ``'3.2 hours'``, ``'2.1 days'``: a duration inside a sentence.

    The sign is dropped; the sentence says longer or shorter.

    Examples
    --------
    From 100 units on, the tenth is noise to a reader ("204 days", not "204.0 days"):

    >>> duration_words(45), duration_words(3600), duration_words(-183_600), duration_words(1.5e9)
    ('45 seconds', '1.0 hour', '2.1 days', '17,361 days')
    """
    per, unit = duration_unit(seconds)
    value = abs(seconds) / per
    text = f"{value:,.0f}" if per == 1 or round(value, 1) >= 100 else f"{value:,.1f}"
    return f"{text} {unit[:-1] if text in {'1', '1.0'} else unit}"


def span_words(seconds: float) -> str:
    """A stretch of calendar time: in :func:`duration_words` up to 60 days, then months, then years.

    A log's time span reads in the units a person plans in ("3.9 years", not "1,415.4 days",
    which a narrow metric cuts to "1,415.4 d...").

    Examples
    --------
    >>> span_words(3 * 86_400), span_words(120 * 86_400), span_words(1_415.35 * 86_400)
    ('3.0 days', '3.9 months', '3.9 years')
    """
    days = abs(seconds) / _DAY
    if days <= 60:
        return duration_words(seconds)
    if days < 730:
        return f"{days / _MONTH_DAYS:,.1f} months"
    return f"{days / _YEAR_DAYS:,.1f} years"


def _compact(weeks: float, days: float, seconds: float) -> str:
    out = [f"{weeks:g}w"] if weeks else []
    out += [f"{days:g}d"] if days else []
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    out += [f"{v:g}{u}" for v, u in ((hours, "h"), (minutes, "m"), (secs, "s")) if v]
    return " ".join(out) or "0s"
