"""Every error the library raises, under one base class.

The library raises; only the CLI and the app turn these into messages.  Every
message is written for the person who owns the data: it names the file, the
row and the column where it can, and says what was expected::

    MiningError
    ├── IngestError                 an export could not be loaded
    │   ├── UnknownFormat           the file is not a format we read
    │   ├── EmptyLog                no header, or no usable events
    │   ├── BadEncoding             the bytes do not decode as any known text encoding
    │   ├── UnsafeInput             refused for safety: DOCTYPE/entities, gzip bomb, NUL in headers
    │   ├── MissingColumn           a role points at a column the file does not have
    │   ├── AmbiguousMapping        a role could not be detected with confidence
    │   ├── BadTimestamp            no single format fits the column, or day/month order is unproven
    │   ├── TooManyRejects          more rows were rejected than the threshold allows
    │   ├── AppendMismatch          --append into a log whose columns do not match
    │   └── BadExport               a system export is inconsistent: a record without its key, a dangling reference
    ├── StoreError                  the workspace could not be opened or queried
    │   ├── WorkspaceBusy           another process holds the workspace
    │   ├── MigrationError          the workspace schema is newer or damaged
    │   └── UnknownLog              no log of that name in the workspace
    ├── AnalysisError               a measure could not be computed as asked
    │   └── FilterError             a filter names something the log does not have
    ├── ModelError                  a process model could not be read or used
    ├── ConformanceError            conformance checking failed
    │   └── RuleError               a declarative rule is malformed or names an unknown activity
    └── MonitorError                periodic monitoring failed
"""

from __future__ import annotations

__all__ = [
    "AmbiguousMapping",
    "AnalysisError",
    "AppendMismatch",
    "BadEncoding",
    "BadExport",
    "BadTimestamp",
    "ConformanceError",
    "EmptyLog",
    "FilterError",
    "IngestError",
    "MigrationError",
    "MiningError",
    "MissingColumn",
    "ModelError",
    "MonitorError",
    "RuleError",
    "StoreError",
    "TooManyRejects",
    "UnknownFormat",
    "UnknownLog",
    "UnsafeInput",
    "WorkspaceBusy",
]


class MiningError(Exception):
    """Base class: catch this at the edge (CLI, app) to show a clean message."""

    #: A short hint on what to do next, shown under the message when set.
    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint


class IngestError(MiningError):
    """An export could not be loaded; nothing was written to the workspace."""


class UnknownFormat(IngestError):
    """The file's extension and content match no reader."""


class EmptyLog(IngestError):
    """The file has no header, or no rows that make usable events."""


class BadEncoding(IngestError):
    """The bytes do not decode in the detected or requested encoding."""


class UnsafeInput(IngestError):
    """Refused for safety: XML with a DOCTYPE, a decompression bomb, NUL in a header."""


class MissingColumn(IngestError):
    """A role was given a column the file does not have."""


class AmbiguousMapping(IngestError):
    """A role (case, activity, timestamp) could not be detected with confidence."""


class BadTimestamp(IngestError):
    """No single timestamp format fits the column, or day-first vs month-first is unproven."""


class TooManyRejects(IngestError):
    """More rows were rejected than the threshold allows; the first problems are listed."""

    def __init__(self, message: str, *, rejects: list[object] | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.rejects = list(rejects or [])


class AppendMismatch(IngestError):
    """An --append export does not fit the log it is appended to."""


class BadExport(IngestError):
    """A system export (a preset's input) is inconsistent: a record lacks its key or points at nothing."""


class StoreError(MiningError):
    """The workspace could not be opened, migrated or queried."""


class WorkspaceBusy(StoreError):
    """Another process holds the workspace lock; retry when it has finished."""


class MigrationError(StoreError):
    """The workspace was written by a newer version, or a migration failed."""


class UnknownLog(StoreError):
    """No log of that name exists in the workspace."""


class AnalysisError(MiningError):
    """A measure could not be computed as asked."""


class FilterError(AnalysisError):
    """A filter names something the log does not have, or contradicts itself."""


class ModelError(MiningError):
    """A process model could not be read, converted or used."""


class ConformanceError(MiningError):
    """Conformance checking could not be completed."""


class RuleError(ConformanceError):
    """A rule file or rule text is malformed, or a rule names an activity the log lacks."""


class MonitorError(MiningError):
    """Periodic monitoring could not be completed."""
