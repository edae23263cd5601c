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
    │   ├── LabelsUnmatched         too few model tasks match the log's activities to score
    │   └── RuleError               a declarative rule is malformed or names an unknown activity
    ├── MonitorError                periodic monitoring failed
    │   └── DigestError             the digest e-mail could not be sent
    ├── SimulationError             a log could not be turned into a simulation, or a run failed
    │   └── ScenarioError           a what-if scenario file is malformed or names an unknown activity
    ├── OutputError                 a result could not be written where asked
    ├── RateCardError               a rate card could not be read or does not fit the log
    └── LimitExceeded               the work needed more memory or time than it may use, and was stopped

A message or a hint that tells the user to set an option names it as an
:class:`Option` inside a :class:`Phrase`, not as a command-line flag: the CLI
words it as ``--timezone Europe/Berlin``, the app as its own control ("the
Time zone option").  ``str(error)`` and ``error.hint`` use the flags; an edge
with other words calls :meth:`MiningError.message_in` and
:meth:`MiningError.hint_in`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "AmbiguousMapping",
    "AnalysisError",
    "AppendMismatch",
    "BadEncoding",
    "BadExport",
    "BadTimestamp",
    "ConformanceError",
    "DigestError",
    "EmptyLog",
    "FilterError",
    "IngestError",
    "LabelsUnmatched",
    "LimitExceeded",
    "MigrationError",
    "MiningError",
    "MissingColumn",
    "ModelError",
    "MonitorError",
    "Option",
    "OutputError",
    "Phrase",
    "RateCardError",
    "RuleError",
    "ScenarioError",
    "SimulationError",
    "StoreError",
    "TooManyRejects",
    "UnknownFormat",
    "UnknownLog",
    "UnsafeInput",
    "WorkspaceBusy",
    "flag",
    "phrase",
]


@dataclass(frozen=True)
class Option:
    """An option the user can set, by the library's keyword (``timezone``, ``case``, ``max_rejects``),
    with a value worth trying (``Europe/Berlin``) or a placeholder (``COLUMN``) when one helps."""

    name: str
    value: str | None = None


def flag(option: Option) -> str:
    """The command line's words for an option: ``--timezone Europe/Berlin``."""
    text = "--" + option.name.replace("_", "-")
    return f"{text} {option.value}" if option.value else text


@dataclass(frozen=True)
class Phrase:
    """Words that name options: ``template`` has one ``{}`` per option, in order.

    Examples
    --------
    >>> str(Phrase("pass {} or {}", (Option("dayfirst"), Option("monthfirst"))))
    'pass --dayfirst or --monthfirst'
    """

    template: str
    options: tuple[Option, ...] = ()

    def render(self, word: Callable[[Option], str] = flag) -> str:
        return self.template.format(*(word(o) for o in self.options))

    def __str__(self) -> str:
        return self.render()


def phrase(*parts: str | Option) -> Phrase:
    """A :class:`Phrase` from text and options in reading order; the text is taken as it is, braces and all
    (a file name or a value from the data may hold ``{``).

    Examples
    --------
    >>> str(phrase("no log named '{x}'; pass ", Option("name", "LOG")))
    "no log named '{x}'; pass --name LOG"
    """
    template = "".join(
        "{}" if isinstance(p, Option) else p.replace("{", "{{").replace("}", "}}") for p in parts
    )
    return Phrase(template, tuple(p for p in parts if isinstance(p, Option)))


def _render(text: str | Phrase | None, word: Callable[[Option], str]) -> str | None:
    return text.render(word) if isinstance(text, Phrase) else text


class MiningError(Exception):
    """Base class: catch this at the edge (CLI, app) to show a clean message.

    ``hint`` is a short note on what to do next, shown under the message when set.
    """

    def __init__(self, message: str | Phrase, *, hint: str | Phrase | None = None) -> None:
        super().__init__(_render(message, flag))
        self.message, self._hint = message, hint

    def __reduce__(self) -> tuple[object, ...]:
        # Errors cross process boundaries (an ingest in a child process): keep the hint and extras.
        return self.__class__, (self.message,), self.__dict__

    @property
    def hint(self) -> str | None:
        return _render(self._hint, flag)

    def message_in(self, word: Callable[[Option], str]) -> str:
        """The message with each option in ``word``'s terms."""
        return _render(self.message, word) or ""

    def hint_in(self, word: Callable[[Option], str]) -> str | None:
        """The hint with each option in ``word``'s terms."""
        return _render(self._hint, word)


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

    def __init__(
        self, message: str | Phrase, *, hint: str | Phrase | None = None, role: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.role = role


class BadTimestamp(IngestError):
    """No single timestamp format fits the column, or day-first vs month-first is unproven."""


class TooManyRejects(IngestError):
    """More rows were rejected than the threshold allows; the first problems are listed."""

    def __init__(
        self, message: str | Phrase, *, rejects: list[object] | None = None, hint: str | Phrase | None = None
    ) -> None:
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


class LabelsUnmatched(ConformanceError):
    """Too few of the model's tasks match the log's activities for a score to mean anything.

    ``labels`` is the label match (a :class:`mining.conformance.labels.LabelMatch`), so
    an edge can show it for the user to complete.
    """

    def __init__(
        self, message: str | Phrase, *, labels: object = None, hint: str | Phrase | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.labels = labels


class RuleError(ConformanceError):
    """A rule file or rule text is malformed, or a rule names an activity the log lacks."""


class MonitorError(MiningError):
    """Periodic monitoring could not be completed."""


class DigestError(MonitorError):
    """The digest e-mail could not be sent: the server is unreachable, refuses the login or a recipient."""


class OutputError(MiningError):
    """A result (an export, a report) could not be written where asked; nothing was half-written."""


class LimitExceeded(MiningError):
    """The work needed more memory or time than it may use and was stopped; nothing was changed.

    ``kind`` is ``"memory"`` (``limit`` in bytes) or ``"time"`` (``limit`` in seconds).
    """

    def __init__(
        self,
        message: str | Phrase,
        *,
        kind: str = "memory",
        limit: float | None = None,
        hint: str | Phrase | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.kind, self.limit = kind, limit


class RateCardError(MiningError):
    """A rate card (hourly rates and fixed costs) could not be read or does not fit the log."""


class SimulationError(MiningError):
    """A simulation model could not be calibrated from the log, or a simulation could not be run."""


class ScenarioError(SimulationError):
    """A what-if scenario is malformed, names an unknown activity, or asks for something impossible."""
