"""Marks around a clock time that no strptime pattern reads, rewritten before any parse.

* A comma between the date and the time, as ICU and JavaScript's ``toLocaleString()``
  write dates "as shown" in web applications' exports: ``3/13/2024, 9:15:00 AM``,
  ``Mar 13, 2024, 9:15:00 AM``, ``13.03.24, 09:15``.
* German ``Uhr`` after the time: ``13.03.2024 09:15 Uhr``.
* French ``h`` between hours and minutes: ``13/03/2024 09h15``.
* ISO 8601's basic form with ``Z``: ``20240313T091500Z`` (DuckDB's ``%z`` takes
  no ``Z``; it becomes ``+0000``).

A column whose sample writes such marks is read through :func:`clock_marks_sql`;
the ordinary patterns then read the rest.  Other columns never pay for the rewrite.
"""

from __future__ import annotations

import re

__all__ = ["CLOCK_MARKS_NOTE", "clock_marks_sql", "has_clock_marks"]

#: What a format read through :func:`clock_marks_sql` adds to its reason.
CLOCK_MARKS_NOTE = "the marks around the time of day (a comma before it, Uhr, 09h15, a basic Z) are read"

_PY_MARKS = re.compile(
    r"[0-9A-Za-z.],\s+[0-9]{1,2}[:.][0-9]{2}"  # a comma before the time
    r"|[0-9]{1,2}[:.][0-9]{2}(?::[0-9]{2})?\s*Uhr$"  # Uhr after it
    r"|(?<![0-9])[0-9]{1,2}h[0-9]{2}(?![0-9])"  # 09h15
    r"|^[0-9]{8}T[0-9]{4,6}Z$",  # ISO 8601's basic form in UTC
    re.IGNORECASE,
)
#: Share of a sample's values that must write a mark for the column to be read through the rewrite.
_SHARE = 0.5


def has_clock_marks(values: list[str]) -> bool:
    """Whether most of ``values`` write one of the marks (see the module's notes)."""
    shown = [v.strip() for v in values if v.strip()]
    return bool(shown) and sum(1 for v in shown if _PY_MARKS.search(v)) >= _SHARE * len(shown)


def clock_marks_sql(value_sql: str) -> str:
    """SQL for the text with the marks written as the patterns read them: ``3/13/2024 9:15:00 AM``,
    ``13.03.2024 09:15``, ``13/03/2024 09:15``, ``20240313T091500+0000``."""
    v = f"regexp_replace({value_sql}, ',\\s+([0-9]{{1,2}}[:.h][0-9]{{2}})', ' \\1')"
    v = f"regexp_replace({v}, '\\s*(?i:uhr)$', '')"
    v = f"regexp_replace({v}, '([^0-9]|^)([0-9]{{1,2}})h([0-9]{{2}})([^0-9]|$)', '\\1\\2:\\3\\4')"
    return f"regexp_replace({v}, '^([0-9]{{8}}T[0-9]{{4,6}})[Zz]$', '\\1+0000')"
