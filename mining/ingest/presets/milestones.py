"""A table of one row per case with a date per step, as an event log.

The export most systems give without an administrator is a list, not an
audit trail: Zendesk's and Jira's ticket lists (``Created at``, ``Assigned
at``, ``Solved at``), ServiceNow's incident list (``Opened``, ``Resolved``,
``Closed``), an ERP's order list (``Order date``, ``Ship date``, ``Invoice
date``).  Read as an event log it gave one event per case (its status at
its last update), and no process at all.

Each date column becomes an activity named after it (``Solved at`` →
``Solved``), and each filled cell an event of the row's case; an empty cell
is a step the case has not reached.  Two kinds of date columns are not
steps and are left out, said so in the notes and kept as attributes: the
last change of the record (``Updated at``, ``Last modified``), which moves
every time anything is edited, and planned dates (``Due date``, ``SLA
target``), which are not events.  ``--include COLUMN`` chooses the steps
instead.  Every other column is kept as an attribute of the case's events.

Steps at the same instant keep the file's column order (Created before
Assigned).  The case column is the first id-like column whose values are
all distinct (``--preset-role case=COLUMN`` to choose); the dates are read
by the ordinary loader, one format for every step, with ``--timezone`` and
``--dayfirst`` as for any file.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from mining.errors import MissingColumn, Option, phrase
from mining.ingest.mapping import name_score
from mining.ingest.presets.base import (
    SOURCE_ROW,
    EventTable,
    Header,
    Preset,
    PresetOptions,
    RawExport,
    norm,
    pl,
    plural,
    unique_name,
)

__all__ = ["PRESET", "build", "detect", "plausible"]

#: Words of a column name that say it holds a moment: "Created at", "ShipDate", "date_closed".
_DATE_WORDS = frozenset({"at", "date", "time", "datetime", "timestamp", "on", "dt", "ts", "when"})
#: Verbs (as past participles) and nouns of the steps records go through.
_STEP_WORDS = frozenset(
    {
        "created", "opened", "submitted", "received", "registered", "logged", "reported", "assigned",
        "accepted", "acknowledged", "started", "approved", "rejected", "declined", "escalated", "resolved",
        "solved", "closed", "completed", "finished", "done", "cancelled", "canceled", "reopened", "shipped",
        "delivered", "dispatched", "picked", "packed", "ordered", "confirmed", "paid", "invoiced", "billed",
        "fulfilled", "returned", "refunded", "booked", "signed", "sent", "posted", "cleared", "archived",
        "order", "ship", "shipping", "delivery", "invoice", "payment", "resolution", "closure", "approval",
        "creation", "receipt", "dispatch", "return", "refund", "cancellation",
    }
)  # fmt: skip
#: Date columns that are not steps: the record's last edit, and planned or personal dates.
_NOT_STEPS = frozenset(
    {
        "updated", "modified", "changed", "edited", "viewed", "synced", "exported", "imported", "last",
        "due", "deadline", "target", "expected", "planned", "estimated", "scheduled", "promised", "sla",
        "birth", "dob", "expiry", "expires", "valid", "effective",
    }
)  # fmt: skip
#: Names of an event log's case column: one that repeats its values says the rows are events.
_CASE_NAMES = frozenset(
    {"case", "caseid", "casenumber", "caseconceptname", "ticket", "ticketid", "ticketnumber", "incident",
     "incidentid", "incidentnumber", "issuekey", "issueid", "orderid", "ordernumber", "processid", "instanceid"}
)  # fmt: skip
#: Words of a distinct column that numbers rows or events, not cases.
_ROW_WORDS = frozenset({"event", "row", "line", "entry", "log", "audit", "history", "change", "transaction"})
#: Words of an event's own start and end.
_BOUNDS = frozenset({"start", "started", "begin", "end", "ended", "stop", "finish"})
_ID_WORDS = frozenset(
    {"id", "key", "number", "no", "nr", "num", "ticket", "order", "case", "incident", "issue", "ref"}
)
# A date at the start of the value (2026-03-01, 01/03/2026, 1.3.26), by name (13 Mar 2026, Mar 13, 2026), or
# a Unix time: what a step's cell holds.
_DATE_VALUE = (
    r"^\s*(\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|\d{1,2}[-. /]*\p{L}{3,}\.?[-. /]*\d{2,4}|\p{L}{3,}\.? \d{1,2},? \d{4}"
    r"|1\d{9}(\.\d+)?|1\d{12})"
)
#: Share of a date column's filled cells that must hold a date.
_DATED = 0.9


def _words(label: str) -> list[str]:
    # Accents go first: "Coûts" is "couts", not "co" and "ts" (a time's abbreviation).
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", label)
    plain = unicodedata.normalize("NFKD", spaced.lower()).encode("ascii", "ignore").decode()
    return [w for w in re.split(r"[^a-z0-9]+", plain) if w]


def _date_named(label: str) -> bool:
    words = set(_words(label))
    return bool(words & (_DATE_WORDS | _STEP_WORDS))


def _not_a_step(label: str) -> bool:
    return bool(set(_words(label)) & _NOT_STEPS)


def plausible(columns: Sequence[str]) -> bool:
    """Whether a header may be such a list (two step-like date columns, no activity column): only then
    are its values worth reading for :func:`detect`."""
    # A column named as an activity, in any language the role detection knows, makes an event log.
    if any(name_score("activity", c) >= 0.8 for c in columns):
        return False
    return sum(1 for c in columns if _date_named(c) and not _not_a_step(c)) >= 2


def detect(raw: RawExport) -> float:
    """0.6 for one table whose rows are distinct cases with two or more step dates; 0 for anything else,
    and for a header alone (the values decide)."""
    if len(raw.tables) != 1:
        return 0.0
    [frame] = raw.tables.values()
    # A header alone (a plain file, before any row is read) says nothing: asking polars would import it.
    if isinstance(frame, Header) or not plausible(frame.columns) or frame.height < 2:
        return 0.0
    # An event log may hold a distinct id per row (an event id) beside its case column, which repeats.
    if any(norm(c) in _CASE_NAMES and frame[c].n_unique() < frame.height for c in frame.columns):
        return 0.0
    try:
        case = _case_column(frame, None, raw.file, strict=True)
    except MissingColumn:
        return 0.0
    steps, _ = _step_columns(frame, case, (), raw.file)
    # A start and an end alone are an event log's two timestamps (or a list with no steps between).
    if all(set(_words(c)) & _BOUNDS for c in steps):
        return 0.0
    return 0.6 if len(steps) >= 2 else 0.0


def _dated_share(values: pl.Series) -> float:
    filled = values.drop_nulls().str.strip_chars()
    filled = filled.filter(filled != "")
    if filled.is_empty():
        return 0.0
    return float(filled.str.contains(_DATE_VALUE).mean() or 0.0)


def _case_column(frame: pl.DataFrame, given: str | None, file: str, *, strict: bool = False) -> str:
    if given is not None:
        if given not in frame.columns:
            msg = phrase(
                f"{file}: no column {given!r} for ",
                Option("preset_role", "case=COLUMN"),
                "; its columns: " + ", ".join(repr(c) for c in frame.columns),
            )
            raise MissingColumn(msg)
        return given
    distinct = [
        c
        for c in frame.columns
        if frame[c].null_count() == 0
        and frame[c].n_unique() == frame.height
        and _dated_share(frame[c]) < _DATED
        and not set(_words(c)) & _ROW_WORDS
    ]
    # Named as an id, in English or as the role detection knows a case column in other languages; a
    # distinct column named otherwise (a cost, a title) is no case unless nothing else is.
    named = [c for c in distinct if set(_words(c)) & _ID_WORDS or name_score("case", c) >= 0.7]
    if named or (distinct and not strict):
        return (named or distinct)[0]
    msg = phrase(
        f"{file}: one row per case was expected, but no column holds a distinct value in every row; "
        "name the case column with ",
        Option("preset_role", "case=COLUMN"),
    )
    raise MissingColumn(msg)


def _step_columns(
    frame: pl.DataFrame, case: str, include: Sequence[str], file: str
) -> tuple[list[str], list[str]]:
    """The step columns, in file order, and the date columns left out as no steps."""
    if include:
        unknown = [c for c in include if c not in frame.columns]
        if unknown:
            msg = phrase(
                f"{file}: ",
                Option("include"),
                f" {unknown[0]!r}: no such column; its columns: " + ", ".join(repr(c) for c in frame.columns),
            )
            raise MissingColumn(msg)
        return [c for c in frame.columns if c in include], []
    dated = [c for c in frame.columns if c != case and _dated_share(frame[c]) >= _DATED]
    return [c for c in dated if not _not_a_step(c)], [c for c in dated if _not_a_step(c)]


def _activity(label: str) -> str:
    """``Solved at`` → ``Solved``, ``ship_date`` → ``ship``, ``Date Closed`` → ``Closed``, ``OrderDate`` → ``Order``."""
    words = [w for w in re.split(r"[\s_]+", re.sub(r"([a-z])([A-Z])", r"\1 \2", label.strip())) if w]
    kept = [w for w in words if w.lower() not in _DATE_WORDS]
    if not kept:
        return label.strip()
    name = " ".join(kept)
    return name[0].upper() + name[1:]


def build(raw: RawExport, options: PresetOptions) -> EventTable:
    """One event per filled step cell (see the module docstring)."""
    if len(raw.tables) != 1:
        msg = f"{raw.file}: one table of one row per case was expected, not {len(raw.tables)} tables"
        raise MissingColumn(msg)
    [(key, frame)] = raw.tables.items()
    file = raw.source(key)
    case = _case_column(frame, options.roles.get("case"), file)
    steps, left_out = _step_columns(frame, case, options.include, file)
    if len(steps) < 2:
        shown = ", ".join(repr(c) for c in steps) or "none"
        msg = phrase(
            f"{file}: a process needs two or more date columns, one per step; dated columns found: {shown}; "
            "choose them with ",
            Option("include", "COLUMN"),
        )
        raise MissingColumn(msg)
    names: dict[str, str] = {}
    for column in steps:
        names[column] = unique_name(_activity(column), names.values())
    # The case column keeps its name (a --case or the upload page's Case choice names it, or another
    # column of the row); the step columns give way to the activity and its time.
    attributes = [c for c in frame.columns if c not in steps]
    activity = unique_name("activity", attributes)
    timestamp = unique_name("timestamp", [*attributes, activity])
    source = unique_name(SOURCE_ROW, [*attributes, activity, timestamp])
    numbered = frame.with_row_index("_row", offset=1)
    parts = []
    for position, column in enumerate(steps):
        cells = numbered.filter(pl.col(column).is_not_null() & (pl.col(column).str.strip_chars() != ""))
        parts.append(
            cells.select(
                *[pl.col(a) for a in attributes],
                pl.lit(names[column]).alias(activity),
                pl.col(column).alias(timestamp),
                (
                    pl.lit(f"{file} row ") + pl.col("_row").cast(pl.Utf8) + pl.lit(f", column '{column}'")
                ).alias(source),
                (pl.col("_row") * len(steps) + position).alias("_order"),
            )
        )
    events = pl.concat(parts).sort("_order").drop("_order")
    cells = frame.height * len(steps)
    notes = [
        f"Each row of {file} is one case ({case!r}): its date columns "
        + ", ".join(f"{c!r} ({names[c]})" for c in steps)
        + f" became {plural(events.height, 'event')}"
        + (
            f"; {plural(cells - events.height, 'empty cell')}: steps not reached"
            if cells > events.height
            else ""
        )
    ]
    if left_out:
        notes.append(
            phrase(
                "Left out as no steps: "
                + ", ".join(repr(c) for c in left_out)
                + " (the record's last change, or a planned date); add one with ",
                Option("include", "COLUMN"),
                " beside the others",
            )
        )
    return EventTable(
        frame=events,
        roles={"case": case, "activity": activity, "timestamp": timestamp, "resource": None},
        dayfirst=options.dayfirst,
        notes=tuple(notes),
    )


PRESET = Preset(
    name="milestones",
    title="List with a date per step (one row per case)",
    description=(
        "A list of tickets, orders or incidents with one row per case and a date column per step (Created, "
        "Assigned, Solved): each filled date becomes an event named after its column. The record's last "
        "change (Updated at) and planned dates (Due date) are left out; --include chooses the steps."
    ),
    detect=detect,
    build=build,
    by_values=plausible,
)
