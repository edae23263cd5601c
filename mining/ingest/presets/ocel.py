"""Object-centric logs (OCEL 2.0 and 1.0) flattened to one object type: each object of it is a case.

An OCEL event may touch many objects: "pack items" touches an order, three
items and the clerk.  A case-centric map needs one case notion, so the log is
flattened on an object type ``T`` (``--object-type orders``), as pm4py's
``ocel_flattening`` does: every event related to an object of type ``T``
becomes one event of that object's case, once per such object.

What the flattening distorts is said in the notes, with counts, because a
reader of the map cannot see it (van der Aalst, "Object-Centric Process
Mining", 2019):

* **left out**: events that touch no object of type ``T`` ("ship package" on
  an order log) are not in any case;
* **convergence**: an event that touches several ``T`` objects is copied into
  each of their cases, so its activity counts more events than happened;
* **divergence**: an activity repeated within a case once per object of
  another type ("pick item", once per item of the order) looks like rework,
  but is the case's objects being handled one by one.

The other object types become event attributes named by the type, holding
the related objects' ids (``items``: ``i1, i2``), so that a filter, a driver
or ``--resource employees`` can use them.  Event attributes stay event
attributes; the ``T`` object's own attributes become case attributes (OCEL
2.0 attributes change over time: the first value is taken, the object as it
entered the process, so that no outcome leaks into its drivers).

Without ``--object-type`` the type touching the most events is taken, among
those not named as people (employees, users, resources: as cases they would
be one long case per person); the note names the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from mining.errors import EmptyLog, MissingColumn, Option, Phrase, phrase
from mining.ingest.ocel import OcelLog, from_document, is_ocel_document
from mining.ingest.presets.base import (
    SOURCE_ROW,
    EventTable,
    Preset,
    PresetOptions,
    RawExport,
    norm,
    pl,
    plural,
    unique_name,
)
from mining.words import agree

__all__ = ["PRESET", "build", "detect", "file_object_types", "object_types"]

#: Object types whose objects are people or machines: a case notion only when asked for.
_PEOPLE = {
    "employee",
    "employees",
    "user",
    "users",
    "resource",
    "resources",
    "orgresource",
    "staff",
    "agent",
    "agents",
    "worker",
    "workers",
    "clerk",
    "clerks",
    "person",
    "persons",
    "people",
}
#: Event attributes that name who did the event.
_RESOURCE_ATTRIBUTES = ("orgresource", "resource", "user", "username", "performer", "employee", "agent")
#: How many activities a note names before "and N more".
_SHOWN = 3


def _log(raw: RawExport) -> OcelLog | None:
    doc = raw.documents.get("main")
    if isinstance(doc, OcelLog):
        return doc
    if is_ocel_document(doc):
        return from_document(doc, file=raw.source("main"))
    return None


def detect(raw: RawExport) -> float:
    doc = raw.documents.get("main")
    return 1.0 if isinstance(doc, OcelLog) or is_ocel_document(doc) else 0.0


def _frames(log: OcelLog) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(events, typed relations, object types): relations joined to their objects' types, one per pair."""
    text = pl.Utf8
    events = pl.DataFrame(log.events, schema={"id": text, "type": text, "time": text, "where": text})
    objects = pl.DataFrame(log.objects, schema={"id": text, "type": text})
    relations = (
        pl.DataFrame(log.relations, schema={"event": text, "object": text, "qualifier": text})
        .unique(subset=["event", "object"], keep="first", maintain_order=True)
        .join(objects.rename({"id": "object", "type": "object_type"}), on="object", how="left")
    )
    return events, relations, objects


def object_types(log: OcelLog) -> list[tuple[str, int, int]]:
    """``(type, objects, events touching one)`` for every object type, the most events first."""
    return _types(*_frames(log))


def _types(
    events: pl.DataFrame, relations: pl.DataFrame, objects: pl.DataFrame
) -> list[tuple[str, int, int]]:
    counts = objects.group_by("type").agg(pl.len().alias("objects"))
    touched = (
        relations.filter(pl.col("object_type").is_not_null())
        .join(events.select(pl.col("id").alias("event")), on="event", how="semi")
        .group_by("object_type")
        .agg(pl.col("event").n_unique().alias("events"))
        .rename({"object_type": "type"})
    )
    table = counts.join(touched, on="type", how="left").with_columns(pl.col("events").fill_null(0))
    rows = [
        (str(t), int(o), int(e)) for t, o, e in table.select("type", "objects", "events").iter_rows() if t
    ]
    return sorted(rows, key=lambda r: (-r[2], -r[1], r[0]))


def file_object_types(
    path: Path, workdir: Path, *, file: str
) -> tuple[tuple[tuple[str, int, int], ...], str] | None:
    """The object types of an OCEL file (see :func:`object_types`) and the default case type; None
    when the file is not an object-centric log.

    The file's head decides whether it is read at all (:func:`mining.ingest.ocel.ocel_file_kind`), so
    that a large CSV or a system's JSON export is not decompressed or parsed a second time to learn
    that it is not OCEL.
    """
    from mining.ingest.ocel import ocel_file_kind, read_ocel_file
    from mining.ingest.presets.raw import read_json
    from mining.ingest.sources import decompress_if_gzip

    kind = ocel_file_kind(path)
    if kind is None:
        return None
    plain = decompress_if_gzip(path, workdir, display_name=file)
    if kind == "json":
        document = read_json(plain, workdir, file=file)
        if not is_ocel_document(document):
            return None
        log = from_document(document, file=file)
    else:
        log = read_ocel_file(plain, kind, file=file)
    types = object_types(log)
    return tuple(types), _choose_type(types, None, file)[0]


def _choose_type(types: list[tuple[str, int, int]], asked: str | None, file: str) -> tuple[str, bool]:
    """The object type to flatten on, and whether the user chose it."""
    names = [t for t, _, _ in types]
    listing = ", ".join(f"{t!r} ({plural(o, 'object')}, {plural(e, 'event')})" for t, o, e in types)
    if asked is not None:
        if asked in names:
            return asked, True
        folded = [t for t in names if t.casefold() == asked.casefold()]
        if len(folded) == 1:
            return folded[0], True
        msg = phrase(
            f"{file}: no object type {asked!r} for ", Option("object_type"), f"; the log has {listing}"
        )
        raise MissingColumn(msg)
    usable = [t for t in types if t[2] > 0]
    if not usable:
        msg = f"{file}: no event of the OCEL log is related to an object, so no object can be a case"
        raise MissingColumn(msg)
    not_people = [t for t in usable if norm(t[0]) not in _PEOPLE]
    return (not_people or usable)[0][0], False


def _most(counts: pl.DataFrame, key: str) -> str:
    """``'a' (12), 'b' (3) and 2 more`` from a frame of ``key`` and ``n``, the largest first."""
    rows = counts.sort(["n", key], descending=[True, False]).iter_rows()
    listed = [(str(k), int(n)) for k, n in rows]
    # "and 1 more" would take the room of naming it.
    cut = len(listed) if len(listed) <= _SHOWN + 1 else _SHOWN
    shown = ", ".join(f"{k!r} ({n:,})" for k, n in listed[:cut])
    rest = len(listed) - cut
    return shown + (f" and {rest:,} more" if rest > 0 else "")


def build(raw: RawExport, options: PresetOptions) -> EventTable:
    file = raw.source("main")
    log = _log(raw)
    if log is None:
        msg = f"{file}: not an OCEL log: expected OCEL 2.0 JSON, XML or SQLite, or OCEL 1.0 JSON or XML"
        raise MissingColumn(msg)
    events, relations, objects = _frames(log)
    types = _types(events, relations, objects)
    chosen, asked = _choose_type(types, options.object_type, file)

    cases = relations.filter(pl.col("object_type") == chosen).select("event", pl.col("object").alias("case"))
    flat = (
        events.with_row_index("_order")
        .join(cases, left_on="id", right_on="event", how="inner")
        .sort(["_order", "case"])
    )
    if flat.height == 0:
        listing = ", ".join(f"{t!r} ({plural(e, 'event')})" for t, _, e in types if e)
        msg = phrase(
            f"{file}: no event touches an object of type '{chosen}', so it has no case; events touch ",
            listing,
            "; choose one of those with ",
            Option("object_type"),
        )
        raise EmptyLog(msg)
    taken: set[str] = set()

    def name(base: str) -> str:
        out = unique_name(base, taken)
        taken.add(out)
        return out

    case_col, activity_col, time_col = name(chosen), name("activity"), name("timestamp")
    id_col, where_col = name("event_id"), name(SOURCE_ROW)
    frame = flat.select(
        pl.col("case").alias(case_col),
        pl.col("type").alias(activity_col),
        pl.col("time").alias(time_col),
        pl.col("id").alias(id_col),
        pl.col("where").alias(where_col),
    )

    # The pivots' key columns are named with a NUL, which no header holds (staging refuses it), so that
    # an attribute called "event" or "object" keeps its name.
    key = "\x00key"
    others = relations.filter(pl.col("object_type").is_not_null() & (pl.col("object_type") != chosen))
    type_columns: dict[str, str] = {}
    if others.height:
        linked = (
            others.group_by(["event", "object_type"], maintain_order=True)
            .agg(pl.col("object").str.join(", "))
            .rename({"event": key})
        )
        wide = linked.pivot(on="object_type", index=key, values="object", aggregate_function="first")
        type_columns = {t: name(t) for t in wide.columns if t != key}
        frame = frame.join(wide.rename(type_columns), left_on=id_col, right_on=key, how="left")

    attrs = pl.DataFrame(
        log.event_attributes, schema={"event": pl.Utf8, "name": pl.Utf8, "value": pl.Utf8}
    ).rename({"event": key})
    event_attribute_names: list[str] = []
    if attrs.height:
        wide = attrs.pivot(on="name", index=key, values="value", aggregate_function="first")
        renames = {a: name(a) for a in wide.columns if a != key}
        event_attribute_names = list(renames.values())
        frame = frame.join(wide.rename(renames), left_on=id_col, right_on=key, how="left")

    object_attrs = (
        pl.DataFrame(
            log.object_attributes,
            schema={"object": pl.Utf8, "name": pl.Utf8, "time": pl.Utf8, "value": pl.Utf8},
        ).rename({"object": key})
    ).join(cases.select(pl.col("case").alias(key)).unique(), on=key, how="semi")
    if object_attrs.height:
        # The first value of each attribute: by its time (none first: a value with no time is the
        # object's own), then by file order.
        first = (
            object_attrs.with_row_index("\x00order")
            .sort([key, "name", "time", "\x00order"], nulls_last=False)
            .group_by([key, "name"], maintain_order=True)
            .agg(pl.col("value").first())
        )
        wide = first.pivot(on="name", index=key, values="value", aggregate_function="first")
        renames = {a: name(a) for a in wide.columns if a != key}
        frame = frame.join(wide.rename(renames), left_on=case_col, right_on=key, how="left")

    roles: dict[str, str | None] = {
        "case": case_col,
        "activity": activity_col,
        "timestamp": time_col,
        "resource": _resource(event_attribute_names, type_columns),
    }
    divergent = _divergence(flat, relations, chosen)
    notes = _notes(log, types, chosen, asked, events, relations, flat, divergent)
    left_out = events.height - flat.select("id").n_unique()
    facts = {
        "object_type": chosen,
        "events_left_out": left_out,
        "divergent": {activity: other for activity, other, _ in divergent},
    }
    return EventTable(frame=frame, roles=roles, notes=notes, facts=facts)


def _resource(attributes: list[str], type_columns: Mapping[str, str]) -> str | None:
    """Who did the event: an event attribute named so, else the related objects of a type of people."""
    by_norm = {norm(a): a for a in attributes}
    for key in _RESOURCE_ATTRIBUTES:
        if key in by_norm:
            return by_norm[key]
    for otype, column in type_columns.items():
        if norm(otype) in _PEOPLE:
            return column
    return None


def _notes(
    log: OcelLog,
    types: list[tuple[str, int, int]],
    chosen: str,
    asked: bool,
    events: pl.DataFrame,
    relations: pl.DataFrame,
    flat: pl.DataFrame,
    divergent: list[tuple[str, str, int]],
) -> tuple[str | Phrase, ...]:
    n_objects = next(o for t, o, _ in types if t == chosen)
    listing = "; ".join(f"{t} {plural(o, 'object')}, {plural(e, 'event')}" for t, o, e in types)
    notes: list[str | Phrase] = [
        f"{log.version}: {plural(events.height, 'event')} and {plural(len(log.objects['id']), 'object')} "
        f"of {plural(len(types), 'type')} ({listing}). Each of the {n_objects:,} '{chosen}' objects is a case."
    ]
    if not asked:
        # Suggested in the order a reader would try them: the other things first, people last.
        others = sorted((t for t, _, _ in types if t != chosen), key=lambda t: norm(t) in _PEOPLE)
        events_of = {t: e for t, _, e in types}
        people = [t for t in others if norm(t) in _PEOPLE and events_of[t] >= events_of[chosen]]
        why = "its objects touch the most events" + (
            f" (types of people, such as {people[0]!r}, are not taken unless asked for)" if people else ""
        )
        if others:
            notes.append(
                phrase(
                    f"'{chosen}' is the case because {why}; to follow "
                    f"{' or '.join(repr(t) for t in others[:_SHOWN])} instead, pass ",
                    Option("object_type", others[0]),
                )
            )
    in_cases = flat.select("id").unique()
    left_out = events.join(in_cases, on="id", how="anti")
    if left_out.height:
        counts = left_out.group_by("type").agg(pl.len().alias("n"))
        notes.append(
            f"{plural(left_out.height, 'event')} {agree(left_out.height, 'touches', 'touch')} no '{chosen}' "
            f"object and {agree(left_out.height, 'is', 'are')} in no case: {_most(counts, 'type')}."
        )
    copies = flat.group_by("id").agg(pl.len().alias("k"), pl.col("type").first()).filter(pl.col("k") > 1)
    if copies.height:
        extra = int(copies["k"].sum()) - copies.height
        counts = copies.group_by("type").agg(pl.len().alias("n"))
        notes.append(
            f"Convergence: {plural(copies.height, 'event')} {agree(copies.height, 'touches', 'touch')} several "
            f"'{chosen}' objects and {agree(copies.height, 'is', 'are')} copied into each of their cases "
            f"({plural(extra, 'copy', 'copies')} in all), so these activities count more events than "
            f"happened: {_most(counts, 'type')}."
        )
    if divergent:
        notes.append(_divergence_note(divergent))
    dangling = relations.filter(pl.col("object_type").is_null()).height
    if dangling:
        notes.append(f"{plural(dangling, 'link')} of events name objects the file does not list; left out.")
    if log.object_relations:
        notes.append(
            f"{plural(log.object_relations, 'object-to-object link')} not used: a case follows the events of "
            f"one '{chosen}' object."
        )
    return tuple(notes)


def _divergence(flat: pl.DataFrame, relations: pl.DataFrame, chosen: str) -> list[tuple[str, str, int]]:
    """``(activity, other object type, cases)`` for each activity that repeats within cases once per object
    of another type, the most cases first (per activity, the type explaining the most of them)."""
    repeated = flat.group_by(["case", "type"]).agg(pl.len().alias("k")).filter(pl.col("k") > 1).drop("k")
    if repeated.height == 0:
        return []
    events = flat.join(repeated, on=["case", "type"], how="semi").select("case", "type", "id")
    # People are not handled one by one: a repeat done by someone else is still a repeat.
    handled = [t for t in relations["object_type"].drop_nulls().unique().to_list() if norm(t) not in _PEOPLE]
    linked = relations.filter(
        pl.col("object_type").is_in(handled) & (pl.col("object_type") != chosen)
    ).select(pl.col("event").alias("id"), "object", "object_type")
    per = (
        events.join(linked, on="id", how="inner")
        .group_by(["case", "type", "object_type"])
        .agg(pl.col("id").n_unique().alias("events"), pl.col("object").n_unique().alias("objects"))
        # Repeats that name more than one such object: divergence, though a re-done object among them
        # is still rework (the rework measures count repeats per activity and object).
        .filter(pl.col("objects") >= 2)
    )
    if per.height == 0:
        return []
    best = (
        per.group_by(["type", "object_type"])
        .agg(pl.len().alias("n"))
        .sort(["n", "type", "object_type"], descending=[True, False, False])
        .unique(subset=["type"], keep="first", maintain_order=True)
    )
    return [(str(t), str(o), int(n)) for t, o, n in best.select("type", "object_type", "n").iter_rows()]


def _divergence_note(divergent: list[tuple[str, str, int]]) -> str:
    shown = [f"'{t}' in {plural(n, 'case')}, once per '{o}' object" for t, o, n in divergent]
    rest = len(shown) - _SHOWN
    return (
        "Divergence: these activities repeat within a case for its objects of another type, one by one, "
        "which is not rework: "
        + "; ".join(shown[:_SHOWN])
        + (f"; and {rest:,} more" if rest > 0 else "")
        + "."
    )


PRESET = Preset(
    name="ocel",
    title="OCEL (object-centric event log)",
    description=(
        "An object-centric log in OCEL 2.0 (JSON, XML, SQLite) or OCEL 1.0 (JSON, XML), flattened to one object "
        "type: each of its objects is a case (--object-type; default: the type with the most events). The notes "
        "count what flattening distorts: events left out, events copied into several cases, activities repeated "
        "once per object."
    ),
    detect=detect,
    build=build,
)
