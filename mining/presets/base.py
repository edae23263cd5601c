"""What every preset is: a raw export's tables in, one row per event out.

A preset never touches the workspace.  It receives the export already read
into polars frames (text columns, as the system wrote them) and returns an
event table plus the column roles; :func:`mining.ingest.ingest_file` then
validates and loads that table exactly like any other file, so rejects,
time zones and the one-transaction guarantee apply unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import polars as pl

__all__ = ["EventTable", "Preset", "PresetOptions", "RawExport"]


@dataclass(frozen=True)
class RawExport:
    """An export as read from disk: one frame per table, all columns text.

    ``tables`` is keyed by the table's name: the file stem for a folder or a
    zip of files (``CDHDR``, ``CDPOS``), ``"main"`` for a single file.  JSON
    documents are kept parsed in ``documents`` (same keys), because their
    nesting (changelog histories, audit events) is what a preset explodes.
    """

    file: str  # how to name the export in messages
    tables: Mapping[str, pl.DataFrame] = field(default_factory=dict)
    documents: Mapping[str, object] = field(default_factory=dict)

    def columns(self) -> dict[str, tuple[str, ...]]:
        return {name: tuple(df.columns) for name, df in self.tables.items()}


@dataclass(frozen=True)
class PresetOptions:
    """What the user may add to a preset on the command line or the upload page."""

    timezone: str | None = None  # IANA zone for systems that export local time without an offset (SAP)
    include: tuple[str, ...] = ()  # optional event families, e.g. ("assignee", "resolution") for Jira
    roles: Mapping[str, str | None] = field(default_factory=dict)  # user overrides of the preset's columns


@dataclass(frozen=True)
class EventTable:
    """A preset's output: one row per event, ready for the ordinary ingest.

    ``roles`` maps ``case``, ``activity``, ``timestamp`` (and optionally
    ``start_timestamp``, ``resource``, ``lifecycle``, ``cost``) to columns of
    ``frame``; every other column becomes a case or event attribute.  All
    columns are text.  ``timestamp_format`` is the strptime pattern the
    timestamps are written in, so the loader never guesses; ``notes`` say in
    plain words what the preset did ("12 repeated order rows merged").
    """

    frame: pl.DataFrame
    roles: Mapping[str, str | None]
    timestamp_format: str | None = None
    dayfirst: bool | None = None
    timezone: str | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Preset:
    """A named, detectable transformation of one system's export.

    ``detect`` scores how well the export's tables/keys match (0 = not this
    system, 1 = certainly); detection picks the best score at or above 0.5.
    ``build`` raises :class:`mining.errors.IngestError` subclasses naming the
    file, row and column when the export is not what the preset expects.
    """

    name: str  # the --preset value, e.g. "jira"
    title: str  # shown in the app, e.g. "Jira (issue changelog)"
    description: str
    detect: Callable[[RawExport], float]
    build: Callable[[RawExport, PresetOptions], EventTable]
