"""Month names in the languages of European exports, read as English abbreviations before any parse.

A French export writes ``13 mars 2026 09:00``, a Dutch Excel ``13-mrt-2026``, a German one
``13. März 2026``, a Spanish one ``13 de marzo de 2026``.  DuckDB's ``%b`` and ``%B`` read English
names only, so such a column was refused as holding no timestamps.  A column whose sample writes a
month word of another language is read through :func:`months_sql`, which turns the word into its
English abbreviation (``Mar``), drops the words that join date and time (``de``, ``à``, ``um``, ``kl.``)
and the dot after a day or an abbreviation; the ordinary patterns (``%d %b %Y %H:%M``) then read it.

Croatian is left out: its ``listopad`` is October where Czech and Polish mean November, and its
``lipanj`` June where Polish ``lipiec`` is July.
"""

from __future__ import annotations

import re

__all__ = ["has_month_words", "month_words_note", "months_sql"]

_ENGLISH = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# Each month's words (lower case, without a trailing dot), any language; English among them, so a
# column that mixes "April" with "März" is read in one pattern.
_WORDS: tuple[str, ...] = (
    # January
    (
        "january jan januar jänner jän janvier janv enero ene gennaio gen januari janeiro styczeń "
        "stycznia sty leden ledna tammikuu tammikuuta ocak"
    ),
    # February
    (
        "february feb februar feber février févr fév fevrier fevr febrero febbraio februari "
        "fevereiro fev luty lutego lut únor února helmikuu helmikuuta şubat"
    ),
    # March
    (
        "march mar märz mär mrz mars marzo maart mrt março marts marzec marca březen března "
        "maaliskuu maaliskuuta mart"
    ),
    # April
    ("april apr avril avr abril abr aprile kwiecień kwietnia kwi duben dubna huhtikuu huhtikuuta nisan"),
    # May
    "may mai mayo maggio mag mei maio maj maja květen května toukokuu toukokuuta may\u0131s mayis",
    # June
    (
        "june jun juni juin junio giugno giu junho czerwiec czerwca cze červen června kesäkuu "
        "kesäkuuta haziran"
    ),
    # July
    (
        "july jul juli juillet juil julio luglio lug julho lipiec lipca lip červenec července "
        "heinäkuu heinäkuuta temmuz"
    ),
    # August
    (
        "august aug août aout agosto ago augustus augusti sierpień sierpnia sie srpen srpna elokuu "
        "elokuuta ağustos"
    ),
    # September
    (
        "september sep sept septembre septiembre setiembre settembre set setembro wrzesień września "
        "wrz září syyskuu syyskuuta eylül"
    ),
    # October
    (
        "october oct oktober okt octobre octubre ottobre ott outubro out październik października "
        "paź říjen října lokakuu lokakuuta ekim"
    ),
    # November
    (
        "november nov novembre noviembre novembro listopad listopada listopadu lis marraskuu "
        "marraskuuta kas\u0131m"
    ),
    # December
    (
        "december dec dezember dez décembre déc decembre diciembre dic dicembre dezembro desember "
        "des grudzień grudnia gru prosinec prosince joulukuu joulukuuta aral\u0131k"
    ),
)
_ENGLISH_TEXT = (
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
)
_MONTH_OF = {w: _ENGLISH[i] for i, words in enumerate(_WORDS) for w in words.split()}
#: English names and abbreviations: a sample of these alone is read by %b and %B as it stands.
_ENGLISH_WORDS = frozenset(_ENGLISH_TEXT.split())
_PY_LETTERS = re.compile(r"[^\W\d_]+")
#: The words that join a date and its time, or the parts of a date: Spanish and Portuguese "13 de marzo
#: de 2026", French "à 09:00", German "um", Dutch "om", Nordic "kl." and "klo", Spanish "a las".
_JOINERS = r"\s+(de|del|à|a las|um|om|kl\.?|klo|at)\s+"


def has_month_words(values: list[str]) -> bool:
    """Whether ``values`` write a month by a name of another language than English."""
    for value in values:
        for word in _PY_LETTERS.findall(value):
            w = word.lower()
            if w in _MONTH_OF and w not in _ENGLISH_WORDS:
                return True
    return False


def month_words_note(values: list[str]) -> str:
    """What the format's reason adds: which month words of ``values`` are read as months."""
    seen: list[str] = []
    for value in values:
        for word in _PY_LETTERS.findall(value):
            w = word.lower()
            if w in _MONTH_OF and w not in _ENGLISH_WORDS and word not in seen:
                seen.append(word)
    shown = ", ".join(seen[:4]) + (f" and {len(seen) - 4} more" if len(seen) > 4 else "")
    return f"month names written as {shown} are read as their months"


def months_sql(value_sql: str) -> str:
    """SQL for the text with its month word written as the English abbreviation (``13. März 2026 um
    09:00`` is ``13 Mar 2026 09:00``); a value without a known month word keeps its text, so the
    parse refuses it as before.  ``value_sql`` is read several times: a column or a short expression."""
    words = sorted(_MONTH_OF)
    # The words are this module's own constants, letters only: written into the SQL as a list.
    assert all(w.isalpha() for w in words)
    names = "[" + ", ".join(f"'{w}'" for w in words) + "]"
    abbreviations = "[" + ", ".join(f"'{_MONTH_OF[w]}'" for w in words) + "]"
    joined = f"regexp_replace({value_sql}, '{_JOINERS}', ' ', 'gi')"
    word = f"regexp_extract({joined}, '\\p{{L}}+')"
    month = f"{abbreviations}[list_position({names}, lower({word}))]"
    swapped = f"regexp_replace({joined}, '\\p{{L}}+\\.?', {month})"
    # "13. Mar" and "13.Mar": the day's dot goes, as the patterns write a space.
    return (
        f"CASE WHEN {month} IS NULL THEN {value_sql} "
        f"ELSE regexp_replace({swapped}, '^([0-9]{{1,2}})\\.\\s*([A-Z])', '\\1 \\2') END"
    )
