"""A weekday name before a date, dropped before any parse.

Reports and mail-like exports put the weekday first: ``Wed 13/03/2024 09:15``,
``Wednesday, March 13, 2024 9:15 AM``, C's ``ctime`` ``Wed Mar 13 09:15:00 2024``,
German ``Mi., 13.03.2024``, French ``mer. 13/03/2024``.  DuckDB's ``%a`` reads
English abbreviations only and ``%A`` full English names only, so each of these
columns was refused as holding no timestamps.  The weekday says nothing the date
does not: a column whose sample starts with one is read through :func:`weekdays_sql`,
which drops it (and its dot or comma), and the ordinary patterns read the rest.

Abbreviations that are also a month's (French, Spanish and Italian ``mar`` for
Tuesday, March in English) are left out: ``Mar 13 2024`` keeps its month.
"""

from __future__ import annotations

import re

__all__ = ["WEEKDAY_NOTE", "has_weekday_words", "weekdays_sql"]

#: What a format read through :func:`weekdays_sql` adds to its reason.
WEEKDAY_NOTE = "the weekday before each date is dropped"

# Each language's days, full names and the abbreviations its software writes (lower case, no dot).
_WORDS = (
    # English
    "monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs fri sat sun",
    # German
    "montag dienstag mittwoch donnerstag freitag samstag sonnabend sonntag mo di mi do fr sa so",
    # French
    "lundi mardi mercredi jeudi vendredi samedi dimanche lun mer jeu ven sam dim",
    # Spanish
    "lunes martes miércoles miercoles jueves viernes sábado sabado domingo mié mie jue vie sáb sab dom",
    # Italian
    "lunedì lunedi martedì martedi mercoledì mercoledi giovedì giovedi venerdì venerdi sabato domenica gio",
    # Dutch
    "maandag dinsdag woensdag donderdag vrijdag zaterdag zondag ma wo vr za zo",
    # Portuguese
    "segunda-feira terça-feira terca-feira quarta-feira quinta-feira sexta-feira seg ter qua qui sex",
    # Polish
    "poniedziałek poniedzialek wtorek środa sroda czwartek piątek piatek sobota niedziela pon wt śr czw pt "
    "sob niedz nd",
    # Czech
    "pondělí pondeli úterý utery středa streda čtvrtek ctvrtek pátek patek neděle nedele po út st čt pá ne",
    # Swedish, Danish and Norwegian
    "måndag tisdag onsdag torsdag fredag lördag söndag mandag tirsdag lørdag søndag mån tis ons tors fre "
    "lör sön man tir tor lør søn",
    # Finnish
    "maanantai tiistai keskiviikko torstai perjantai lauantai sunnuntai ti ke to pe la su",
    # Turkish
    "pazartesi sal\u0131 çarşamba perşembe cuma cumartesi pazar pzt sal çar per cum cmt paz",
)
_WEEKDAYS = frozenset(w for line in _WORDS for w in line.split())
# The longest first, so that "sonnabend" is not read as "so" and the rest.
_ALTERNATIVES = "|".join(sorted(_WEEKDAYS, key=lambda w: (-len(w), w)))
# A weekday, its dot or comma, and the space before the date: a digit or a month's name follows.
_PY_LEAD = re.compile(rf"^\s*(?:{_ALTERNATIVES})(?:\.,?\s*|,\s*|\s+)(?=[0-9]|[^\W\d_])", re.IGNORECASE)
# The same in DuckDB's RE2, which has no lookahead: the first character of the date is kept by a group.
_SQL_LEAD = rf"^\s*(?:{_ALTERNATIVES})(?:\.,?\s*|,\s*|\s+)([0-9]|\p{{L}})"
#: Share of a sample's values that must open with a weekday for the column to be read through the rewrite.
_SHARE = 0.5


def has_weekday_words(values: list[str]) -> bool:
    """Whether most of ``values`` open with a weekday name followed by a date."""
    shown = [v for v in values if v.strip()]
    return bool(shown) and sum(1 for v in shown if _PY_LEAD.match(v)) >= _SHARE * len(shown)


def weekdays_sql(value_sql: str) -> str:
    """SQL for the text without its leading weekday (``Mi., 13.03.2024`` is ``13.03.2024``); a value
    without one keeps its text."""
    # The words are this module's constants: letters and a hyphen only, safe inside the SQL literal.
    assert all(re.fullmatch(r"[^\W\d_]+(?:-[^\W\d_]+)?", w) for w in _WEEKDAYS)
    return f"regexp_replace({value_sql}, '(?i){_SQL_LEAD}', '\\1')"
