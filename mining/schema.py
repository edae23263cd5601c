"""Canonical names and the plain records every layer shares.

Nothing here does I/O.  The importer maps a user's columns onto these names
once; everything after it (analytics, pm4py adapter, app, CLI) speaks only
these.  Records are frozen dataclasses so they cache in Streamlit, compare in
tests and serialise to JSON for the CLI's ``--json``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mining.errors import Phrase

__all__ = [
    "ACTIVITY",
    "CASE_ID",
    "COST",
    "IS_COMPLETION",
    "IS_LIFECYCLE_START",
    "IS_NOT_EXECUTION",
    "LIFECYCLE",
    "LIFECYCLE_STARTS",
    "LOG_ID",
    "NON_COMPLETION",
    "NOT_EXECUTION",
    "QUALITY_FIXES",
    "RESOURCE",
    "ROLES",
    "ROW_NO",
    "START_TS",
    "TIMESTAMP",
    "ColumnMapping",
    "IngestSummary",
    "LogInfo",
    "QualityIssue",
    "Reject",
    "RoleGuess",
    "to_jsonable",
]

# Canonical column names of the ``events`` table.
LOG_ID = "log_id"
CASE_ID = "case_id"
ACTIVITY = "activity"
TIMESTAMP = "ts"
START_TS = "start_ts"
RESOURCE = "resource"
LIFECYCLE = "lifecycle"
COST = "cost"
ROW_NO = "row_no"

#: Roles a source column can play, in the order the mapping screen shows them.
ROLES = ("case", "activity", "timestamp", "start_timestamp", "resource", "lifecycle", "cost")

#: Lifecycle values (lower case) read as XES's ``start``: exports write the transition in their own words
#: ("Started" and "Completed", "begin" and "end"), and a start read as a completion doubles every instance.
LIFECYCLE_STARTS = ("start", "started", "starting", "begin", "began", "begun")
#: SQL: the event's ``lifecycle`` is a start (over the events table, or a relation with its columns).
IS_LIFECYCLE_START = "lower(lifecycle) IN ({})".format(", ".join(f"'{t}'" for t in LIFECYCLE_STARTS))
#: Lifecycle transitions that do not end an activity instance.
NON_COMPLETION = ("schedule", "assign", "reassign", *LIFECYCLE_STARTS, "suspend", "resume")
#: SQL: the event ends an activity instance (no lifecycle, or one that is not in :data:`NON_COMPLETION`).
IS_COMPLETION = "(lifecycle IS NULL OR lower(lifecycle) NOT IN ({}))".format(
    ", ".join(f"'{t}'" for t in NON_COMPLETION)
)
#: Lifecycle transitions that are no execution of the activity (a start or a completion is one).
NOT_EXECUTION = tuple(t for t in NON_COMPLETION if t not in LIFECYCLE_STARTS)
#: SQL: the event's lifecycle is one of :data:`NOT_EXECUTION` (a schedule, a suspension, ...).
IS_NOT_EXECUTION = "lower(lifecycle) IN ({})".format(", ".join(f"'{t}'" for t in NOT_EXECUTION))


@dataclass(frozen=True)
class RoleGuess:
    """The detector's best column for one role, and why."""

    role: str
    column: str | None
    confidence: float
    reason: str


@dataclass(frozen=True)
class ColumnMapping:
    """Which source column plays which role, and how to read its timestamps.

    ``None`` means "not present" for optional roles.  ``timestamp_format`` is a
    strptime pattern (``%d/%m/%Y %H:%M``) or ``None`` to detect one format from
    the whole column.
    """

    case: str
    activity: str
    timestamp: str
    start_timestamp: str | None = None
    resource: str | None = None
    lifecycle: str | None = None
    cost: str | None = None
    timestamp_format: str | None = None
    start_timestamp_format: str | None = None
    timezone: str = "UTC"

    def roles(self) -> dict[str, str | None]:
        return {role: getattr(self, role) for role in ROLES}

    def used_columns(self) -> set[str]:
        return {c for c in self.roles().values() if c is not None}


@dataclass(frozen=True)
class Reject:
    """One source row that could not become an event."""

    file: str
    row: int
    column: str | None
    reason: str
    value: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}, row {self.row}"
        if self.column is not None:
            where += f", column {self.column!r}"
        shown = "" if self.value is None else f" (value {_clip(self.value)!r})"
        return f"{where}: {self.reason}{shown}"


@dataclass(frozen=True)
class QualityIssue:
    """A data-quality finding that did not reject rows: duplicates, ties, sentinel dates, ...

    ``fix`` says what to do about it (:data:`QUALITY_FIXES`, by ``kind``).
    """

    kind: str
    count: int
    message: str
    examples: tuple[str, ...] = ()
    fix: str = ""


#: What to do about each kind of data-quality finding, in the words the CLI, the app and reports show.
QUALITY_FIXES: dict[str, str] = {
    "duplicate_events": "If the source system logs each event once, remove the repeats in the export; "
    "otherwise they are real repetitions and counted as such.",
    "timestamp_ties": "If the order of these events matters, export finer timestamps (seconds, or milliseconds "
    "when they have seconds already) or sort the export by an event number; otherwise the file's order stands.",
    "dates_without_times": "Export the time of day for these events; until then read their order within a day as "
    "unknown (the map's paths into and out of them on that day may be the wrong way round).",
    "sentinel_dates": "Treat these dates as missing in the source, or filter the events out on the Overview.",
    "complete_before_start": "Check the start and end columns: they may be swapped, or in different time zones.",
    "dst_gap": "Nothing to do if the times are local; pass --timezone with the zone the system writes in.",
    "dst_overlap": "Nothing to do if the times are local; use a source with offsets to tell the two apart.",
    "renamed_columns": "Give every column a unique, non-empty header in the export.",
    "skipped_preamble": "Nothing to do if those lines are a title; if the table really starts higher, remove "
    "the lines above its header in the export.",
    "near_duplicate_activities": "If they are the same step, correct the names in the source system or the "
    "export and ingest it again; if they are different steps, ignore this.",
    "names_with_spaces": "Trim the spaces in the source system or the export and ingest it again; names are "
    "kept exactly as written.",
    "one_event_cases": "Check that the case column identifies cases, not events; otherwise filter these cases "
    "out on the Overview.",
    "cases_cut_by_extract": "Extract a wider date range, or filter these cases out (they start or end mid-way) "
    "before measuring durations.",
    "clock_shift": "Check the time zone of each source (--timezone) and of each export appended; remove the "
    "shifted copies and ingest again.",
}


@dataclass(frozen=True)
class IngestSummary:
    """What one ``ingest`` did, for the CLI, the app and monitoring."""

    log: str
    log_id: int
    status: str  # "loaded", "appended" or "unchanged"
    source: str
    content_hash: str
    cases: int
    events: int
    activities: int
    variants: int
    start: dt.datetime | None
    end: dt.datetime | None
    rows_read: int
    events_added: int
    rejected_rows: int
    mapping: ColumnMapping
    guesses: tuple[RoleGuess, ...] = ()
    timestamp_formats: Mapping[str, str] = field(default_factory=dict)
    timezone: str = "UTC"
    rejects: tuple[Reject, ...] = ()
    quality: tuple[QualityIssue, ...] = ()
    # A warning or note that names an option is a Phrase, so each edge words the option its own way.
    warnings: tuple[str | Phrase, ...] = ()
    preset: str | None = None  # the export preset that made the events (mining.ingest.presets), if any
    preset_notes: tuple[str | Phrase, ...] = ()  # what the preset did, in plain words
    # Words read as a missing value (``NULL``, ``N/A``) in the time and number columns:
    # column -> word as written -> rows.  Names (case, activity, resource) keep such words as values.
    missing_words: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    # Lifecycle starts folded into their completions by this ingest (``pair_starts``).
    paired_starts: int = 0


@dataclass(frozen=True)
class LogInfo:
    """One log in the workspace, as ``mining logs`` lists it."""

    log_id: int
    name: str
    source: str
    content_hash: str
    cases: int
    events: int
    activities: int
    variants: int
    start: dt.datetime | None
    end: dt.datetime | None
    timezone: str
    ingested_at: dt.datetime
    mapping: Mapping[str, Any]


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def to_jsonable(value: Any) -> Any:
    """Turn records (and what they hold) into JSON-ready values; a :class:`Phrase` becomes its text."""
    if isinstance(value, Phrase):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value
