"""What every preset is: a raw export's tables in, one row per event out.

A preset never touches the workspace.  It receives the export already read
into polars frames (text columns, as the system wrote them) and returns an
event table plus the column roles; :func:`mining.ingest.ingest_file` then
validates and loads that table exactly like any other file, so rejects,
time zones and the one-transaction guarantee apply unchanged.

The helpers below are shared by every preset so that their messages read
alike: :func:`norm` and :func:`find_column` match headers however a system
spells them, :func:`require_columns` names what is missing,
:func:`parse_timestamps` reads one timestamp format per column and says
where a value does not fit, :func:`text` turns JSON scalars into the text a
frame holds, :func:`plural` counts things in notes.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mining.errors import BadTimestamp, MissingColumn, Phrase
from mining.schema import Reject
from mining.words import plural

if TYPE_CHECKING:
    import polars as pl
else:

    class _Polars:
        """polars, imported at the first use of one of its names.

        Every preset module names polars at its top, and detection imports
        them all; a plain file that no preset takes never needs polars (its
        import is a tenth of a 1M-row ingest's CPU outside DuckDB).
        """

        def __getattr__(self, name: str) -> Any:
            return getattr(importlib.import_module("polars"), name)

    pl = _Polars()

__all__ = [
    "ISO",
    "SOURCE_ROW",
    "EventTable",
    "Header",
    "Preset",
    "PresetOptions",
    "RawExport",
    "find_column",
    "norm",
    "parse_timestamps",
    "pl",
    "plural",
    "require_columns",
    "text",
    "unique_name",
]

#: ``EventTable.timestamp_format`` for ISO 8601 text (the value of ``mining.ingest.timestamps.ISO``).
ISO = "ISO 8601"

#: The attribute column naming where an event came from: ``sys_audit.csv row 14``,
#: ``jira.json issues[3].changelog.histories[5]``.
SOURCE_ROW = "source_row"


@dataclass(frozen=True)
class Header:
    """A table known by its header alone: what detection reads of a plain file, before any row is converted."""

    columns: tuple[str, ...]


@dataclass(frozen=True)
class RawExport:
    """An export as read from disk: one frame per table, all columns text.

    ``tables`` is keyed by the table's name: the lower-cased file stem for a
    folder or a zip of files (``cdhdr``, ``cdpos``, ``sys_audit``), ``"main"``
    for a single file.  JSON documents are kept parsed in ``documents`` (same
    keys), because their nesting (changelog histories, audit events) is what
    a preset explodes.  ``sources`` names the file each key came from, as
    messages should show it (``export.zip/CDPOS.csv``); ``notes`` say what the
    reader skipped.  Table rows are in file order with none left out, so row
    ``i`` of a frame is data row ``i + 1`` of its file (the header is row 0).
    """

    file: str  # how to name the export in messages
    tables: Mapping[str, pl.DataFrame] = field(default_factory=dict)
    documents: Mapping[str, object] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str | Phrase, ...] = ()

    def columns(self) -> dict[str, tuple[str, ...]]:
        return {name: tuple(df.columns) for name, df in self.tables.items()}

    def source(self, key: str) -> str:
        """How to name the file behind table or document ``key`` in a message."""
        return self.sources.get(key, self.file)


@dataclass(frozen=True)
class PresetOptions:
    """What the user may add to a preset on the command line or the upload page."""

    timezone: str | None = None  # IANA zone for systems that export local time without an offset (SAP)
    include: tuple[str, ...] = ()  # optional event families, e.g. ("assignee", "resolution") for Jira
    roles: Mapping[str, str | None] = field(default_factory=dict)  # user overrides of the preset's columns
    dayfirst: bool | None = None  # --dayfirst / --monthfirst, for systems whose date order is a user setting
    object_type: str | None = (
        None  # an object-centric log's case notion (OCEL): the type whose objects are cases
    )


@dataclass(frozen=True)
class EventTable:
    """A preset's output: one row per event, ready for the ordinary ingest.

    ``roles`` maps ``case``, ``activity``, ``timestamp`` (and optionally
    ``start_timestamp``, ``resource``, ``lifecycle``, ``cost``) to columns of
    ``frame``; every other column becomes a case or event attribute, and
    roles left out are off (nothing is guessed from the attributes).  All
    columns are text.  ``timestamp_format`` is the strptime pattern the
    timestamps are written in (or :data:`ISO`), so the loader never guesses;
    ``None`` lets the loader choose one format from the whole column.
    ``notes`` say in plain words what the preset did ("12 repeated order rows
    merged").  ``rejects`` are source records the preset could not turn into
    events (file, row or JSON path, column, reason); they are stored and
    counted like any other rejected row.  ``rows``, when each event is one
    row of one file, holds that row for every event (unique, 1-based data
    rows): the loader then names rejected events, and orders ties, by the
    file's rows rather than by position in ``frame``.
    """

    frame: pl.DataFrame
    roles: Mapping[str, str | None]
    timestamp_format: str | None = None
    dayfirst: bool | None = None
    timezone: str | None = None
    notes: tuple[str | Phrase, ...] = ()  # a Phrase where a note names an option
    rejects: tuple[Reject, ...] = ()
    rows: pl.Series | None = None
    # What the pages should know of how the events were made, kept with the log (``preset_facts`` in its
    # mapping): an OCEL flattening's object type and the activities that repeat once per object.
    facts: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Preset:
    """A named, detectable transformation of one system's export.

    ``detect`` scores how well the export's tables/keys match (0 = not this
    system, 1 = certainly); detection picks the best score at or above 0.5.
    It reads the tables' ``columns`` and the documents, never a table's rows:
    a plain file is offered as its :class:`Header`, so that a file no preset
    takes is never converted to a frame; a preset with ``by_values`` is then
    offered the rows of a file whose header it finds worth reading.
    ``build`` raises :class:`mining.errors.IngestError` subclasses naming the
    file, row and column when the export is not what the preset expects.
    """

    name: str  # the --preset value, e.g. "jira"
    title: str  # shown in the app, e.g. "Jira (issue changelog)"
    description: str
    detect: Callable[[RawExport], float]
    build: Callable[[RawExport, PresetOptions], EventTable]
    # The preset's own columns that --preset-role may name, beside the ordinary roles (case, activity, ...).
    roles: tuple[str, ...] = ()
    # For a preset told by a plain file's values, not its header: whether the header (its column names)
    # is worth reading the values for; ``detect`` then scores the table itself.
    by_values: Callable[[Sequence[str]], bool] | None = None


def norm(label: str) -> str:
    """A header reduced to lower-case letters and digits: ``'Issue key'`` and ``'issue_key'`` are ``'issuekey'``."""
    return re.sub(r"[^a-z0-9]", "", label.lower())


def find_column(columns: Iterable[str], *names: str) -> str | None:
    """The first of ``columns`` whose :func:`norm` is one of ``names`` (tried in the order of ``names``)."""
    by_norm: dict[str, str] = {}
    for c in columns:
        by_norm.setdefault(norm(c), c)
    for name in names:
        if name in by_norm:
            return by_norm[name]
    return None


def require_columns(
    frame: pl.DataFrame, wanted: Mapping[str, Sequence[str]], *, file: str, what: str
) -> dict[str, str]:
    """Map each key of ``wanted`` to the frame's column whose normalised name is one of its spellings.

    Raises :class:`MissingColumn` listing every key with no column, the
    spellings accepted and the columns the file has.
    """
    found: dict[str, str] = {}
    missing: list[str] = []
    for key, names in wanted.items():
        col = find_column(frame.columns, *names)
        if col is None:
            missing.append(key)
        else:
            found[key] = col
    if missing:
        available = ", ".join(repr(c) for c in frame.columns) or "none"
        shown = ", ".join(repr(m) for m in missing)
        msg = f"{file}: not {what}: no column {shown}; available columns: {available}"
        raise MissingColumn(msg)
    return found


def unique_name(base: str, taken: Iterable[str]) -> str:
    """``base``, or ``base_2``, ``base_3``... whichever is not in ``taken``."""
    used = set(taken)
    name, k = base, 2
    while name in used:
        name = f"{base}_{k}"
        k += 1
    return name


def text(value: object) -> str | None:
    """A JSON value as frame text: ``12`` → ``'12'``, ``True`` → ``'true'``, objects as compact JSON, empty → None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        return value if value != "" else None
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def parse_timestamps(
    values: pl.Series, *, formats: Sequence[str], example: str, where: Callable[[int], str]
) -> pl.Series:
    """Read text timestamps with one format for the whole column; return ISO 8601 text.

    ``formats`` are chrono/strptime patterns tried in order; the first that
    reads every value is used (a trailing ``Z`` counts as ``+00:00``).
    Patterns with ``%z`` give UTC instants written ``YYYY-MM-DDTHH:MM:SS.ffffff+00:00``;
    patterns without give naive text ``YYYY-MM-DD HH:MM:SS.ffffff`` that the
    loader reads in the log's time zone.  When no pattern reads them all,
    :class:`BadTimestamp` names the first value the closest pattern misses:
    ``where(i)`` says where value ``i`` came from (file and row or JSON path,
    and the column or key), ``example`` shows what was expected.
    """
    raw = values.cast(pl.Utf8)
    if raw.is_empty():
        return raw
    stripped = raw.str.strip_chars()
    zulu = stripped.str.replace(r"[Zz]$", "+00:00")
    best: tuple[int, pl.Series] | None = None
    for fmt in formats:
        aware = "%z" in fmt
        parsed = zulu.str.to_datetime(fmt, strict=False, time_unit="us")
        bad = parsed.is_null()
        n_bad = int(bad.sum())
        if n_bad == 0:
            if aware:
                return parsed.dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S%.6f+00:00")
            return parsed.dt.strftime("%Y-%m-%d %H:%M:%S%.6f")
        if best is None or n_bad < best[0]:
            best = (n_bad, bad)
    if best is None:  # no formats given: every value is out of format
        best = (len(raw), pl.Series([True] * len(raw)))
    i = int(best[1].arg_true()[0])
    got = raw[i]
    shown = "nothing" if got is None or not got.strip() else repr(got)
    msg = f"{where(i)}: expected a timestamp like {example!r}, got {shown}"
    raise BadTimestamp(msg)
