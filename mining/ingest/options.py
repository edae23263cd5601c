"""What the user asks of an ingest, on the command line or the upload page."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["IngestOptions", "log_name_for"]


@dataclass(frozen=True)
class IngestOptions:
    """What the user said on the command line or the upload page."""

    name: str | None = None
    append: bool = False
    roles: dict[str, str | None] = field(default_factory=dict)  # role -> source column (None = none)
    timestamp_format: str | None = None
    start_timestamp_format: str | None = None
    dayfirst: bool | None = None
    # IANA zone of naive timestamps; None = not given: UTC, the log's zone on --append, and
    # presets of systems that export local time (SAP) ask for it.
    timezone: str | None = None
    dst: str = "shift"  # or "reject"
    max_rejects: float = 0.05  # share of rows that may be rejected before the load fails
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    display_name: str | None = None  # how to name the file in messages (uploads)
    source: str | None = None  # what to record as the source (uploads: the original name, not a temp path)
    preset: str | None = (
        "auto"  # a preset name (mining.ingest.presets), "auto" to detect one, "none" (or None) for none
    )
    include: tuple[str, ...] = ()  # a preset's optional event families, e.g. ("assignee",) for Jira
    preset_roles: dict[str, str] = field(
        default_factory=dict
    )  # a preset's own columns (changelog: field, old, new)
    object_type: str | None = None  # an object-centric log's case notion: the type whose objects are cases
    # Fold each lifecycle start into its completion: one step per activity instance (see
    # mining.ingest.instances); None = not given (off, and on a file loaded again, as the log was).
    pair_starts: bool | None = None


def log_name_for(path: Path) -> str:
    """The log name a file gets when none is given: its name without the format suffixes."""
    name = path.name
    for suffix in (
        ".gz",
        ".csv",
        ".tsv",
        ".txt",
        ".xes",
        ".mxml",
        ".parquet",
        ".pq",
        ".xlsx",
        ".xls",
        ".ods",
        ".htm",
        ".html",
        ".json",
        ".jsonl",
        ".ndjson",
        ".jsonocel",
        ".xmlocel",
        ".xml",
        ".sqlite",
        ".sqlite3",
        ".zip",
    ):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return name or path.name
