"""The app's words for what the library says, and the one place a library error is shown.

The library names the options a person can set as :class:`~mining.errors.Option`
records (``Option("timezone")``, ``Option("case", "COLUMN")``); the command
line words them as flags.  Here :func:`control` words each as the control that
sets it on the pages (the "Time zone" option, the Case column under Options),
and :func:`show_error` and :func:`app_text` put a message, a hint or a warning
in those words.  Messages and data are shown as markdown, so everything that
came from a file or a user goes through :func:`md`.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

import streamlit as st

from mining.errors import MiningError, Option, Phrase, flag
from mining.schema import ROLES

__all__ = ["app_text", "control", "md", "reporting_errors", "show_error"]

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=&])")

_DATE_ORDER = 'the "Dates such as 03/04/2025" choice under Options'
#: Options that one control sets, whatever value the library suggests.
_CONTROLS = {
    "append": '"Append to an existing log"',
    "dayfirst": _DATE_ORDER,
    "encoding": 'the "Encoding" option',
    "max_rejects": 'the "Max rejected rows" slider',
    "monthfirst": _DATE_ORDER,
    "name": 'the "Log name" option',
    "sheet": 'the "Sheet" option',
    "object_type": 'the "Cases are the objects of type" choice',
    "pair_starts": 'the "One step per activity instance" checkbox',
    # A too-many-rejects error is shown above the rejected rows and their download.
    "rejects": 'the "Download … rejected rows (CSV)" button below',
    "timestamp_format": 'the "Timestamp format" option',
    "timezone": 'the "Time zone" option',
    # The Monitoring page.
    "change_date": 'the "Change date"',
    "cost_per_hour": 'the "Cost per hour" field',
    "sla": 'the "SLA (cycle time)" field',
    "stratify": 'the "Case mix by" choice',
    # The Conformance page.
    "map": "the task selects under Labels",
    "map_file": 'the "Load a mapping" upload',
    "force": 'the "Score anyway" checkbox',
    # The Root causes and Compare pages.
    "outcome": 'the "Outcome" choice',
    "rates": 'the "Rate card" upload',
    "by": 'the "Compare by" choice',
    # The What-if page.
    "horizon": 'the "Horizon (days)" field',
    "runs": 'the "Runs" field',
}
#: The change-log preset's own columns (``--preset-role field=COLUMN``), by their labels under Options.
_CHANGE_COLUMNS = {"field": "Field name", "new": "New value", "old": "Old value"}
_PRESET_CHOICES = {"none": '"None"', "auto": '"Detect automatically"'}
_INCLUDE = '"Also read as events"'
#: Limits on the work a session starts, set for the whole server by environment variables.
_SERVER_LIMITS = {"memory_limit": "MINING_MEMORY_LIMIT", "time_limit": "MINING_TIME_LIMIT"}


def md(text: str) -> str:
    """Escape text (file names, values from the data) so markdown shows it literally."""
    return _MARKDOWN.sub(r"\\\1", text)


def control(option: Option) -> str:
    """The app's words for an option: the control that sets it, e.g. ``the "Time zone" option``.

    An option the pages do not offer is named as the command line's flag.
    """
    name, value = option.name, option.value
    if name in ROLES:
        return _role(name)
    if name in _CONTROLS:
        return _CONTROLS[name]
    if name == "preset":
        if value in {None, "NAME"}:
            return 'the "Source system" choice'
        return 'the "Source system" choice ' + _PRESET_CHOICES.get(value, f'"{value}"')
    if name in _SERVER_LIMITS:
        # The server's own limits: only whoever starts the app can change them.
        setting = f"{_SERVER_LIMITS[name]}={value}" if value else _SERVER_LIMITS[name]
        return f"the server's setting {setting} (where the app is started)"
    if name == "include":
        return _INCLUDE if value in {None, "FIELD", "FAMILY", "COLUMN"} else f'"{value}" in {_INCLUDE}'
    if name == "preset_role":
        role = (value or "").partition("=")[0]
        if role in _CHANGE_COLUMNS:
            return f'the "{_CHANGE_COLUMNS[role]}" column under Options'
        return _role(role) if role in ROLES else "the change-history columns under Options"
    return f"the command line's {flag(option)}"


def _role(name: str) -> str:
    return f"the {name.replace('_', ' ').capitalize()} column under Options"


def app_text(text: str | Phrase) -> str:
    """A library sentence in the app's words: a :class:`~mining.errors.Phrase` names the controls."""
    return text.render(control) if isinstance(text, Phrase) else text


def show_error(exc: MiningError) -> None:
    """Show a library error as ``st.error``: the message, then the hint, naming the app's controls."""
    body = md(exc.message_in(control))
    hint = exc.hint_in(control)
    if hint:
        body += "\n\n**Hint:** " + md(hint)
    st.error(body, icon=":material/error:")


@contextlib.contextmanager
def reporting_errors() -> Iterator[None]:
    """Run a block; a :class:`MiningError` ends it and is shown.  Nothing else is caught."""
    try:
        yield
    except MiningError as exc:
        show_error(exc)
