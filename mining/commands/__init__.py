"""CLI commands by area; each module has ``register(cli)``.  Only the CLI imports these."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mining.analysis.calendar import Calendar

__all__ = ["calendar_option_values"]


def calendar_option_values(
    business_hours: str | None, country: str | None, subdivision: str | None, timezone: str | None
) -> Calendar | None:
    """The business calendar that ``--business-hours``/``--country``/``--subdivision``/``--timezone`` describe.

    None (wall-clock time) unless hours or a country are given; a country alone means 9-17.
    """
    if not (business_hours or country):
        return None
    from mining.analysis.calendar import Calendar, parse_hours

    start, end = parse_hours(business_hours or "9-17")
    return Calendar(
        timezone=timezone,
        start_hour=start,
        end_hour=end,
        country=country.upper() if country else None,
        subdivision=subdivision,
    )
