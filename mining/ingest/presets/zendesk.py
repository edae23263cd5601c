"""Zendesk tickets as an event log, from ticket audits or the incremental ticket-event export.

(a) Ticket audits (``/api/v2/tickets/{id}/audits``, ``/api/v2/ticket_audits``):
``{"audits": [...]}``, ``{"audit": {...}}`` or a list.  An audit has
``ticket_id``, ``created_at``, ``author_id``, ``via.channel`` and
``events[]`` whose ``type`` is ``Create`` (a field set on a new ticket),
``Change`` (``field_name``, ``value``, ``previous_value``) or ``Comment``
(``public``), among others that are not events here (notifications...).

(b) The incremental export (``/api/v2/incremental/ticket_events``):
``{"ticket_events": [...]}`` with ``ticket_id``, ``created_at`` (or the Unix
``timestamp``), ``updater_id``, ``via`` and ``child_events[]`` whose
``event_type`` is ``Create``, ``Change`` (the field as its own key, e.g.
``"status": "solved"``, or ``field_name``/``value``; ``previous_value``) or
``Comment`` (``comment_public``, or ``public`` with the comment sideload).
Records without child events (SLA metric events) are not events here.

One case per ``ticket_id``.  Events per audit: ``Ticket created`` once for an
audit holding ``Create`` events (its comment is the ticket's description,
not a reply), ``status → <value>`` and ``group → <value>`` for changes of
``status`` and ``group_id``, ``Public reply`` and ``Internal note`` for
comments; ``include`` adds ``priority`` and ``assignee`` changes
(``priority → <value>``, ``assignee → <value>``).  The resource is the
audit's ``author_id`` (``updater_id``), kept as text: Zendesk exports ids,
not names.  Attributes: ``via``, the change's ``field``, ``from``, ``to``
and ``source_row`` (the JSON path).  Timestamps are UTC (``...Z``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from mining.errors import BadExport, MissingColumn, Option, phrase
from mining.ingest.presets.base import (
    ISO,
    SOURCE_ROW,
    EventTable,
    Preset,
    PresetOptions,
    RawExport,
    parse_timestamps,
    pl,
    plural,
    text,
)

__all__ = ["FAMILIES", "PRESET", "build", "detect"]

#: Optional event families (``include``), besides status, group, comments and creation.
FAMILIES = ("priority", "assignee")

_FIELDS = {"status": "status", "group_id": "group", "priority": "priority", "assignee_id": "assignee"}
_EXAMPLE = "2024-01-05T10:32:11Z"
_FORMATS = ("%Y-%m-%dT%H:%M:%S%.f%z",)
_COLUMNS = ("ticket_id", "activity", "timestamp", "author_id", "via", "field", "from", "to", SOURCE_ROW)
_ROLES = {"case": "ticket_id", "activity": "activity", "timestamp": "timestamp", "resource": "author_id"}


def _records(doc: object) -> tuple[str, str, list[Any]] | None:
    """(kind, JSON path prefix, records) of a Zendesk document; None when it is not one."""
    if isinstance(doc, Mapping):
        if isinstance(doc.get("audits"), list):
            return "audits", "audits", doc["audits"]
        if isinstance(doc.get("audit"), Mapping):
            return "audits", "audit", [doc["audit"]]
        if isinstance(doc.get("ticket_events"), list):
            return "ticket_events", "ticket_events", doc["ticket_events"]
        return None
    if isinstance(doc, list) and doc and all(isinstance(r, Mapping) for r in doc[:20]):
        if all("ticket_id" in r and "events" in r for r in doc[:20]):
            return "audits", "", doc
        if all("ticket_id" in r and "child_events" in r for r in doc[:20]):
            return "ticket_events", "", doc
    return None


def _at(prefix: str, i: int) -> str:
    if prefix == "audit":
        return "audit"
    return f"{prefix}[{i}]"


def detect(raw: RawExport) -> float:
    """0.95 for audits or ticket events holding ticket ids, 0.9 for a bare list of them."""
    best = 0.0
    for doc in raw.documents.values():
        found = _records(doc)
        if found is None:
            continue
        kind, prefix, records = found
        sample = [r for r in records[:20] if isinstance(r, Mapping)]
        # Most records, not all: one broken record should get its own error from build().
        if not sample or sum("ticket_id" in r for r in sample) < 0.8 * len(sample):
            continue
        inner = "events" if kind == "audits" else "child_events"
        if any(inner in r for r in sample) or kind == "ticket_events":
            best = max(best, 0.95 if prefix else 0.9)
    return best


def build(raw: RawExport, options: PresetOptions) -> EventTable:
    """One row per event: see the module docstring."""
    unknown = [f for f in options.include if f not in FAMILIES]
    if unknown:
        msg = phrase(
            f"unknown Zendesk event family {unknown[0]!r} for ",
            Option("include"),
            f"; expected one of: {', '.join(FAMILIES)}",
        )
        raise BadExport(msg)
    wanted = {"status", "group", *options.include}
    for key, doc in raw.documents.items():
        found = _records(doc)
        if found is not None:
            return _build(raw.source(key), *found, wanted)
    keys = sorted({k for d in raw.documents.values() if isinstance(d, Mapping) for k in d}) or ["none"]
    msg = (
        f"{raw.file}: not a Zendesk export: expected an 'audits' or 'ticket_events' list; "
        f"top-level keys: {', '.join(keys)}"
    )
    raise MissingColumn(msg)


def _require(obj: Mapping[str, Any], key: str, where: str, expected: str) -> Any:
    if obj.get(key) in (None, ""):
        msg = f"{where}: missing key {key!r}; expected {expected}"
        raise MissingColumn(msg)
    return obj[key]


def _change(event: Mapping[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(field, new value, previous value) of a Change event in either export's shape."""
    if "field_name" in event:
        return text(event.get("field_name")), text(event.get("value")), text(event.get("previous_value"))
    for key in _FIELDS:
        if key in event:
            return key, text(event[key]), text(event.get("previous_value"))
    return None, None, None


def _build(file: str, kind: str, prefix: str, records: list[Any], wanted: set[str]) -> EventTable:
    audits = kind == "audits"
    inner_key, type_key, who_key = (
        ("events", "type", "author_id") if audits else ("child_events", "event_type", "updater_id")
    )
    rows: list[tuple[str | None, ...]] = []
    where: list[str] = []
    tickets: set[str | None] = set()
    skipped = 0
    for i, record in enumerate(records):
        at = f"{file} {_at(prefix, i)}" if prefix else f"{file} [{i}]"
        if not isinstance(record, Mapping):
            msg = f"{at}: expected an object, got {type(record).__name__}"
            raise BadExport(msg)
        ticket = text(_require(record, "ticket_id", at, "the ticket's id"))
        inner = record.get(inner_key)
        if inner is None and not audits:
            skipped += 1  # a metric event (SLA), not an update of the ticket
            continue
        if not isinstance(inner, list):
            msg = f"{at}: missing key {inner_key!r}; expected the list of what changed in this update"
            raise MissingColumn(msg)
        when = record.get("created_at")
        if when in (None, "") and isinstance(record.get("timestamp"), int):
            when = dt.datetime.fromtimestamp(record["timestamp"], dt.UTC).isoformat()
        if when in (None, ""):
            msg = f"{at}: missing key 'created_at'; expected the time of the update, like {_EXAMPLE!r}"
            raise MissingColumn(msg)
        when = text(when)
        who = text(record.get(who_key))
        via = record.get("via")
        channel = text(via.get("channel")) if isinstance(via, Mapping) else text(via)
        tickets.add(ticket)
        created = any(isinstance(e, Mapping) and e.get(type_key) == "Create" for e in inner)
        events: list[tuple[str, str | None, str | None, str | None, str]] = []
        if created:
            events.append(("Ticket created", None, None, None, f"{at}.{inner_key}"))
        for j, event in enumerate(inner):
            if not isinstance(event, Mapping):
                continue
            ref = f"{at}.{inner_key}[{j}]"
            kind_of = event.get(type_key)
            if kind_of == "Comment" and not created:
                public = event.get("public", event.get("comment_public"))
                events.append(("Public reply" if public else "Internal note", None, None, None, ref))
            elif kind_of == "Change":
                field, value, previous = _change(event)
                family = _FIELDS.get(field or "")
                if family in wanted:
                    events.append(
                        (
                            f"{family} → {value if value is not None else '(empty)'}",
                            field,
                            previous,
                            value,
                            ref,
                        )
                    )
        for activity, field, previous, value, ref in events:
            rows.append((ticket, activity, when, who, channel, field, previous, value, ref))
            where.append(f"{at}, key 'created_at'")
    frame = pl.DataFrame(rows, schema={c: pl.Utf8 for c in _COLUMNS}, orient="row")
    frame = frame.with_columns(
        parse_timestamps(frame["timestamp"], formats=_FORMATS, example=_EXAMPLE, where=where.__getitem__)
    )
    notes = [
        f"{plural(len(tickets), 'ticket')}, {plural(len(records) - skipped, 'update')}, "
        f"{plural(frame.height, 'event')}"
    ]
    if skipped:
        notes.append(f"{plural(skipped, 'ticket event')} without child events (SLA metrics) left out")
    return EventTable(frame=frame, roles=_ROLES, timestamp_format=ISO, notes=tuple(notes))


PRESET = Preset(
    name="zendesk",
    title="Zendesk (ticket audits)",
    description=(
        "Zendesk ticket audits or the incremental ticket_events export (JSON): Ticket created, status → <status>, "
        "group → <group>, Public reply and Internal note per ticket; --include priority, assignee for more."
    ),
    detect=detect,
    build=build,
)
