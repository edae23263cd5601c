"""How monitoring writes its numbers for people: values, differences, periods.

One place, so the page, the CLI, the report and the digest say a figure the
same way: durations as ``3d 04h`` (:mod:`mining.durations`), shares as
percentages, and a difference of shares in percentage points, never in
percent (which is what a relative change is read in).
"""

from __future__ import annotations

import datetime as dt

from mining.durations import format_duration

__all__ = [
    "difference_words",
    "format_pair",
    "format_value",
    "interval_words",
    "p_words",
    "period_label",
    "relative_words",
]

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def period_label(start: dt.date, period: str) -> str:
    """``2025-07-07`` (day), ``week of 2025-07-07`` or ``July 2025`` (month, in English whatever the locale)."""
    if period == "month":
        return f"{_MONTHS[start.month - 1]} {start.year}"
    if period == "week":
        return f"week of {start.isoformat()}"
    return start.isoformat()


def format_value(value: float | None, unit: str) -> str:
    """A KPI value for people: durations as ``3d 04h``, shares as percentages, counts as integers.

    Examples
    --------
    >>> format_value(110_800, "seconds"), format_value(0.182, "share"), format_value(26.5, "cases")
    ('1d 06h', '18.2%', '26.5')
    """
    if value is None:
        return "-"
    if unit == "seconds":
        return format_duration(value)
    if unit in {"share", "ratio"}:
        return f"{value:.1%}"
    if unit == "cases":
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    if unit in {"cases per period", "cases per working day"}:
        return f"{value:,.1f}"
    return f"{value:,.2f}"


def format_pair(value: float | None, usual: float | None, unit: str) -> tuple[str, str]:
    """A value and the usual level it is set against, written so that they differ when they do: shares
    that round alike get more digits.

    Examples
    --------
    >>> format_pair(0.0042, 0.0038, "ratio"), format_pair(0.25, 0.5, "share")
    (('0.42%', '0.38%'), ('25.0%', '50.0%'))
    """
    a, b = format_value(value, unit), format_value(usual, unit)
    if unit in {"share", "ratio"} and a == b and value is not None and usual is not None and value != usual:
        for digits in (2, 3):
            a, b = f"{value:.{digits}%}", f"{usual:.{digits}%}"
            if a != b:
                break
    return a, b


def difference_words(value: float | None, unit: str, *, short: bool = False) -> str:
    """A difference for people: ``+12.0 percentage points`` (``+12.0 pp`` short) for shares, ``-2d 01h``.

    Examples
    --------
    >>> difference_words(-0.12, "share"), difference_words(-0.12, "share", short=True)
    ('-12.0 percentage points', '-12.0 pp')
    >>> difference_words(-90_000, "seconds")
    '-1d 01h'
    """
    if value is None:
        return "-"
    sign = "+" if value > 0 else "-" if value < 0 else ""
    if unit in {"share", "ratio"}:
        return f"{sign}{abs(value) * 100:.1f} {'pp' if short else 'percentage points'}"
    return sign + format_value(abs(value), unit)


def interval_words(low: float | None, high: float | None, unit: str) -> str:
    """An interval of a difference, its unit said once: ``-14.6 to -9.3 pp``, ``-3d 16h to -21h 41m``.

    Examples
    --------
    >>> interval_words(-0.146, -0.093, "share")
    '-14.6 to -9.3 pp'
    """
    if low is None or high is None:
        return "-"
    if unit in {"share", "ratio"}:
        return f"{difference_words(low, unit, short=True)[:-3]} to {difference_words(high, unit, short=True)}"
    return f"{difference_words(low, unit)} to {difference_words(high, unit)}"


def relative_words(relative: float | None) -> str:
    """A change relative to the value before, in percent: ``-39.6% relative to before``."""
    return "-" if relative is None else f"{relative:+.1%} relative to before"


def p_words(p: float | None, resamples: int | None = None) -> str:
    """A p-value: two significant digits; a bootstrap p of 0 is ``< 2 / resamples``."""
    if p is None:
        return "-"
    if p == 0 and resamples:
        return f"< {2 / resamples:.2g}"
    return f"{p:.2g}"
