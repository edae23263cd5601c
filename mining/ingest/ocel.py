"""Object-centric event logs (OCEL 2.0 and 1.0) read into one shape, whichever file holds them.

OCEL (ocel-standard.org) lets one event touch many objects of many types: an
order, its items, the package they ship in, the clerk who packed it.  The
standard writes OCEL 2.0 as JSON, XML or an SQLite database, and OCEL 1.0 as
JSON or XML.  Each is read here into an :class:`OcelLog` of plain text
columns, so that the preset (:mod:`mining.ingest.presets.ocel`) flattens all
five the same way.

OCEL files are recognised by their content, not their names: an XML file whose
first elements are ``<object-types>``, ``<events>`` or ``<objects>`` (an XES
log has none), an SQLite database with the tables ``event``, ``object`` and
``event_object``.  XML goes through the same DOCTYPE refusal and entity-free
parser as XES; SQLite is opened read-only and immutable, so reading it never
writes beside it.
"""

from __future__ import annotations

import gzip
import re
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from mining.errors import BadExport, EmptyLog, IngestError

__all__ = ["OcelLog", "from_document", "is_ocel_document", "ocel_file_kind", "read_ocel_file"]

_SNIFF = 64 * 1024
_SQLITE_MAGIC = b"SQLite format 3\x00"
_GZIP_MAGIC = b"\x1f\x8b"
#: An OCEL XML file names these before any XES element; XES logs hold none of them.
_XML_MARKS = re.compile(rb"<(object-types|event-types|objects|events)[\s>/]")
_XES_MARKS = re.compile(rb"<(trace|extension|classifier)[\s>/]")
_JSON_MARKS = re.compile(rb'"(objectTypes|eventTypes|ocel:[a-z-]+)"\s*:')
#: The standard's own columns in an SQLite OCEL (``ocel_time``), and pm4py's copy of the type (``ocel:activity``).
_SQLITE_OWN = ("ocel_", "ocel:")


@dataclass(frozen=True)
class OcelLog:
    """An object-centric log as text columns, in file order.

    ``events``: ``id``, ``type`` (the activity), ``time``, ``where`` (how to
    name the event in a message: ``events[3]``, ``line 120``, ``event 'e3'``).
    ``event_attributes``: ``event``, ``name``, ``value``.  ``relations`` (event
    to object): ``event``, ``object``, ``qualifier``.  ``objects``: ``id``,
    ``type``.  ``object_attributes``: ``object``, ``name``, ``time`` (OCEL 2.0
    attributes change over time; None for a value without one), ``value``.
    ``object_relations`` counts the object-to-object links, which a flattening
    does not use.
    """

    version: str  # "OCEL 2.0 (JSON)", "OCEL 1.0 (XML)", ...
    events: dict[str, list[str | None]] = field(default_factory=dict)
    event_attributes: dict[str, list[str | None]] = field(default_factory=dict)
    relations: dict[str, list[str | None]] = field(default_factory=dict)
    objects: dict[str, list[str | None]] = field(default_factory=dict)
    object_attributes: dict[str, list[str | None]] = field(default_factory=dict)
    object_relations: int = 0


class _Builder:
    """Collects an OCEL file's rows column by column; refuses a repeated event id or a retyped object."""

    def __init__(self, file: str, version: str) -> None:
        self.file, self.version = file, version
        self.events: dict[str, list[str | None]] = {"id": [], "type": [], "time": [], "where": []}
        self.event_attributes: dict[str, list[str | None]] = {"event": [], "name": [], "value": []}
        self.relations: dict[str, list[str | None]] = {"event": [], "object": [], "qualifier": []}
        self.objects: dict[str, list[str | None]] = {"id": [], "type": []}
        self.object_attributes: dict[str, list[str | None]] = {
            "object": [],
            "name": [],
            "time": [],
            "value": [],
        }
        self.object_relations = 0
        self._event_at: dict[str, str] = {}
        self._object_type: dict[str, str | None] = {}

    def event(self, eid: str | None, etype: str | None, time: str | None, where: str) -> str:
        if eid is None:
            msg = f"{self.file} {where}: an event without its id; every OCEL event has a unique id"
            raise BadExport(msg)
        if eid in self._event_at:
            msg = (
                f"{self.file} {where}: the event id {eid!r} is used twice (first at {self._event_at[eid]}); "
                "OCEL event ids are unique"
            )
            raise BadExport(msg)
        self._event_at[eid] = where
        for key, value in (("id", eid), ("type", etype), ("time", time), ("where", f"{self.file} {where}")):
            self.events[key].append(value)
        return eid

    def event_attribute(self, eid: str, name: str | None, value: str | None) -> None:
        if name is None:
            return
        self.event_attributes["event"].append(eid)
        self.event_attributes["name"].append(name)
        self.event_attributes["value"].append(value)

    def relation(self, eid: str, oid: str | None, qualifier: str | None) -> None:
        if oid is None:
            return
        self.relations["event"].append(eid)
        self.relations["object"].append(oid)
        self.relations["qualifier"].append(qualifier)

    def object(self, oid: str | None, otype: str | None, where: str) -> str:
        if oid is None:
            msg = f"{self.file} {where}: an object without its id; every OCEL object has a unique id"
            raise BadExport(msg)
        if oid in self._object_type:
            if self._object_type[oid] != otype:
                msg = (
                    f"{self.file} {where}: the object {oid!r} is of type {otype!r} here and "
                    f"{self._object_type[oid]!r} before; an OCEL object has one type"
                )
                raise BadExport(msg)
            return oid
        self._object_type[oid] = otype
        self.objects["id"].append(oid)
        self.objects["type"].append(otype)
        return oid

    def object_attribute(self, oid: str, name: str | None, time: str | None, value: str | None) -> None:
        if name is None:
            return
        for key, v in (("object", oid), ("name", name), ("time", time), ("value", value)):
            self.object_attributes[key].append(v)

    def log(self) -> OcelLog:
        if not self.events["id"]:
            msg = f"{self.file}: the {self.version} log holds no events"
            raise EmptyLog(msg)
        return OcelLog(
            version=self.version,
            events=self.events,
            event_attributes=self.event_attributes,
            relations=self.relations,
            objects=self.objects,
            object_attributes=self.object_attributes,
            object_relations=self.object_relations,
        )


def _text(value: object) -> str | None:
    from mining.ingest.presets.base import text

    return text(value)


# -- recognising a file ---------------------------------------------------------------------------


def _head(path: Path) -> bytes:
    with path.open("rb") as fh:
        head = fh.read(_SNIFF)
    if head.startswith(_GZIP_MAGIC):
        try:
            with gzip.open(path, "rb") as fh:
                return fh.read(_SNIFF)
        except (OSError, EOFError):
            return b""  # a damaged gzip: the ordinary reader says so
    return head


def ocel_file_kind(path: Path) -> str | None:
    """``"xml"``, ``"sqlite"`` or ``"json"`` when the head of ``path`` (gzipped or not) shows an OCEL log
    in that form; else None.

    For JSON the head is a hint, not a proof (``"objectTypes"`` or ``"ocel:`` among the first 64 KiB,
    where OCEL writers put them): the ingest parses JSON whole, and the preset knows OCEL by the
    document's keys.
    """
    if path.is_dir():
        return None
    head = _head(path)
    if head.startswith(_SQLITE_MAGIC):
        return "sqlite" if _sqlite_tables(path) >= {"event", "object", "event_object"} else None
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith((b"{", b"[")):
        return "json" if _JSON_MARKS.search(head) else None
    if not text.startswith(b"<"):
        return None
    ocel = _XML_MARKS.search(head)
    xes = _XES_MARKS.search(head)
    if ocel is not None and (xes is None or ocel.start() < xes.start()):
        return "xml"
    return None


def is_ocel_document(document: object) -> bool:
    """Whether a parsed JSON document is an OCEL 2.0 or OCEL 1.0 log (by its keys)."""
    if not isinstance(document, Mapping):
        return False
    keys = set(document)
    return ({"events", "objects"} <= keys and bool(keys & {"objectTypes", "eventTypes"})) or {
        "ocel:events",
        "ocel:objects",
    } <= keys


# -- reading --------------------------------------------------------------------------------------


def read_ocel_file(path: Path, kind: str, *, file: str) -> OcelLog:
    """Read an OCEL XML file or SQLite database (already decompressed) named ``file`` in messages."""
    if kind == "sqlite":
        return _from_sqlite(path, file)
    return _from_xml(path, file)


def from_document(document: object, *, file: str) -> OcelLog:
    """An OCEL 2.0 or 1.0 JSON document (as parsed) as an :class:`OcelLog`."""
    if not isinstance(document, Mapping) or not is_ocel_document(document):
        msg = f"{file}: not an OCEL log: expected the keys 'objectTypes', 'events' and 'objects' (OCEL 2.0)"
        raise BadExport(msg)
    if "ocel:events" in document:
        return _from_json1(document, file)
    return _from_json2(document, file)


def _items(value: object, file: str, where: str, what: str) -> list[object]:
    if value is None:
        return []
    if not isinstance(value, list):
        msg = f"{file} {where}: expected a list of {what}, got {type(value).__name__}"
        raise BadExport(msg)
    return value


def _record(value: object, file: str, where: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        msg = f"{file} {where}: expected an object, got {type(value).__name__}"
        raise BadExport(msg)
    return value


def _from_json2(doc: Mapping[str, object], file: str) -> OcelLog:
    b = _Builder(file, "OCEL 2.0 (JSON)")
    for i, raw in enumerate(_items(doc.get("objects"), file, "objects", "objects")):
        where = f"objects[{i}]"
        obj = _record(raw, file, where)
        oid = b.object(_text(obj.get("id")), _text(obj.get("type")), where)
        for j, a in enumerate(_items(obj.get("attributes"), file, f"{where}.attributes", "attributes")):
            a = _record(a, file, f"{where}.attributes[{j}]")
            b.object_attribute(oid, _text(a.get("name")), _text(a.get("time")), _text(a.get("value")))
        b.object_relations += len(_items(obj.get("relationships"), file, f"{where}.relationships", "links"))
    for i, raw in enumerate(_items(doc.get("events"), file, "events", "events")):
        where = f"events[{i}]"
        ev = _record(raw, file, where)
        eid = b.event(_text(ev.get("id")), _text(ev.get("type")), _text(ev.get("time")), where)
        for j, a in enumerate(_items(ev.get("attributes"), file, f"{where}.attributes", "attributes")):
            a = _record(a, file, f"{where}.attributes[{j}]")
            b.event_attribute(eid, _text(a.get("name")), _text(a.get("value")))
        for j, r in enumerate(_items(ev.get("relationships"), file, f"{where}.relationships", "links")):
            r = _record(r, file, f"{where}.relationships[{j}]")
            b.relation(eid, _text(r.get("objectId")), _text(r.get("qualifier")))
    return b.log()


def _mapping(value: object, file: str, where: str) -> Mapping[str, object]:
    if value is None:
        return {}
    return _record(value, file, where)


def _from_json1(doc: Mapping[str, object], file: str) -> OcelLog:
    b = _Builder(file, "OCEL 1.0 (JSON)")
    for oid, raw in _mapping(doc.get("ocel:objects"), file, "ocel:objects").items():
        where = f"ocel:objects[{oid!r}]"
        obj = _record(raw, file, where)
        b.object(oid, _text(obj.get("ocel:type")), where)
        for name, value in _mapping(obj.get("ocel:ovmap"), file, f"{where}.ocel:ovmap").items():
            b.object_attribute(oid, name, None, _text(value))
    for eid, raw in _mapping(doc.get("ocel:events"), file, "ocel:events").items():
        where = f"ocel:events[{eid!r}]"
        ev = _record(raw, file, where)
        b.event(eid, _text(ev.get("ocel:activity")), _text(ev.get("ocel:timestamp")), where)
        for name, value in _mapping(ev.get("ocel:vmap"), file, f"{where}.ocel:vmap").items():
            b.event_attribute(eid, name, _text(value))
        typed = ev.get("ocel:typedOmap")
        if isinstance(typed, list) and typed:
            for j, r in enumerate(typed):
                r = _record(r, file, f"{where}.ocel:typedOmap[{j}]")
                b.relation(eid, _text(r.get("ocel:oid")), _text(r.get("ocel:qualifier")))
        else:
            for oid in _items(ev.get("ocel:omap"), file, f"{where}.ocel:omap", "object ids"):
                b.relation(eid, _text(oid), None)
    return b.log()


def _from_xml(path: Path, file: str) -> OcelLog:
    from lxml import etree

    from mining.ingest.sources import refuse_doctype, safe_iterparse

    refuse_doctype(path, display_name=file)
    context = safe_iterparse(path, tag=("{*}event", "{*}object"))
    b: _Builder | None = None
    try:
        for _, elem in context:
            parent = elem.getparent()
            container = etree.QName(parent).localname if parent is not None else ""
            if container not in {"events", "objects"}:
                continue  # an <object> inside an OCEL 1.0 <global> or a 2.0 relationship list
            if b is None:
                b = _Builder(file, "OCEL 2.0 (XML)" if elem.get("id") is not None else "OCEL 1.0 (XML)")
            where = f"line {elem.sourceline}"
            if elem.get("id") is not None:
                _xml2(b, elem, where)
            else:
                _xml1(b, elem, where)
            elem.clear()
            while elem.getprevious() is not None:  # the cleared siblings too: memory stays flat
                del parent[0]
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or 0
        msg = f"{file}, line {line}: the XML is not well-formed ({exc.msg}); expected an OCEL XML file"
        raise IngestError(msg) from None
    if b is None:
        msg = f"{file}: the OCEL XML file holds no events"
        raise EmptyLog(msg)
    return b.log()


def _local(elem: object) -> str:
    from lxml import etree

    return etree.QName(elem).localname  # type: ignore[arg-type]


def _xml2(b: _Builder, elem: object, where: str) -> None:
    kind = _local(elem)
    attributes = [c for c in elem.iter("{*}attribute")]  # type: ignore[attr-defined]
    links = [c for c in elem.iter("{*}relationship")]  # type: ignore[attr-defined]
    if kind == "object":
        oid = b.object(elem.get("id"), elem.get("type"), where)  # type: ignore[attr-defined]
        for a in attributes:
            b.object_attribute(oid, a.get("name"), a.get("time"), _xml_text(a))
        b.object_relations += len(links)
        return
    eid = b.event(elem.get("id"), elem.get("type"), elem.get("time"), where)  # type: ignore[attr-defined]
    for a in attributes:
        b.event_attribute(eid, a.get("name"), _xml_text(a))
    for r in links:
        b.relation(eid, r.get("object-id"), r.get("qualifier"))


def _xml_text(elem: object) -> str | None:
    value = elem.text  # type: ignore[attr-defined]
    return value if value not in (None, "") else None


def _keyed(elem: object) -> Iterator[tuple[str | None, str | None, object]]:
    """OCEL 1.0 XML's children: ``<string key="id" value="e1"/>`` as (key, value, element)."""
    for child in elem:  # type: ignore[attr-defined]
        if isinstance(child.tag, str):
            yield child.get("key"), child.get("value"), child


def _xml1(b: _Builder, elem: object, where: str) -> None:
    fields = {key: (value, child) for key, value, child in _keyed(elem)}

    def value(*keys: str) -> str | None:
        for k in keys:
            if k in fields:
                return fields[k][0]
        return None

    def entries(key: str) -> list[tuple[str | None, str | None]]:
        found = fields.get(key) or fields.get(f"ocel:{key}")
        return [] if found is None else [(k, v) for k, v, _ in _keyed(found[1])]

    if _local(elem) == "object":
        oid = b.object(value("id", "ocel:id"), value("type", "ocel:type"), where)
        for name, v in entries("ovmap"):
            b.object_attribute(oid, name, None, v)
        return
    eid = b.event(
        value("id", "ocel:id"),
        value("activity", "ocel:activity"),
        value("timestamp", "ocel:timestamp"),
        where,
    )
    for name, v in entries("vmap"):
        b.event_attribute(eid, name, v)
    for _, oid in entries("omap"):
        b.relation(eid, oid, None)


def _sqlite_connect(path: Path) -> sqlite3.Connection:
    # immutable: no lock, no journal, nothing written beside the file; a damaged file fails on reading.
    uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
    con = sqlite3.connect(uri, uri=True)
    con.execute("PRAGMA trusted_schema = OFF")
    return con


def _sqlite_tables(path: Path) -> set[str]:
    try:
        con = _sqlite_connect(path)
        try:
            return {r[0].lower() for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            con.close()
    except sqlite3.Error:
        return set()


def _ident(name: str) -> str:
    from mining.store import quote_ident

    return quote_ident(name)


def _from_sqlite(path: Path, file: str) -> OcelLog:
    b = _Builder(file, "OCEL 2.0 (SQLite)")
    try:
        con = _sqlite_connect(path)
        try:
            _read_sqlite(con, b, file)
        finally:
            con.close()
    except sqlite3.Error as exc:
        msg = f"{file}: the OCEL SQLite database cannot be read ({exc}); expected the OCEL 2.0 tables"
        raise IngestError(msg) from None
    return b.log()


def _columns(con: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in con.execute(f"PRAGMA table_info({_ident(table)})")]


def _type_tables(con: sqlite3.Connection, kind: str, tables: set[str]) -> dict[str, str]:
    """``{type: table}`` from ``event_map_type`` / ``object_map_type`` (the table is ``kind_<map>``)."""
    mapping = f"{kind}_map_type"
    if mapping not in tables:
        return {}
    out = {}
    for otype, suffix in con.execute(f"SELECT ocel_type, ocel_type_map FROM {_ident(mapping)}"):
        table = f"{kind}_{suffix}"
        if table.lower() in tables:
            out[str(otype)] = table
    return out


def _read_sqlite(con: sqlite3.Connection, b: _Builder, file: str) -> None:
    tables = {r[0].lower() for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    for need in ("event", "object", "event_object"):
        if need not in tables:
            msg = f"{file}: an SQLite database without the OCEL 2.0 table {need!r}"
            raise BadExport(msg)
    for oid, otype in con.execute("SELECT ocel_id, ocel_type FROM object"):
        b.object(str(oid), _text(otype), f"object {oid!r}")
    for table in _type_tables(con, "object", tables).values():
        cols = _columns(con, table)
        names = [c for c in cols if not c.startswith(_SQLITE_OWN)]
        if not names:
            continue
        timed = "ocel_time" in cols
        select = ", ".join(_ident(c) for c in ["ocel_id", *(["ocel_time"] if timed else []), *names])
        order = ' ORDER BY "ocel_time"' if timed else ""
        for row in con.execute(f"SELECT {select} FROM {_ident(table)}{order}"):
            oid, time = str(row[0]), (_text(row[1]) if timed else None)
            values = row[2:] if timed else row[1:]
            for name, value in zip(names, values, strict=True):
                if value is not None:
                    b.object_attribute(oid, name, time, _text(value))
    times: dict[str, tuple[str | None, dict[str, str | None]]] = {}
    for etype, table in _type_tables(con, "event", tables).items():
        cols = _columns(con, table)
        names = [c for c in cols if not c.startswith(_SQLITE_OWN)]
        select = ", ".join(_ident(c) for c in ["ocel_id", "ocel_time", *names])
        if "ocel_time" not in cols:
            msg = f"{file}: the OCEL table {table!r} of the events {etype!r} has no column 'ocel_time'"
            raise BadExport(msg)
        for row in con.execute(f"SELECT {select} FROM {_ident(table)}"):
            times[str(row[0])] = (_text(row[1]), dict(zip(names, (_text(v) for v in row[2:]), strict=True)))
    for n, (eid, etype) in enumerate(con.execute("SELECT ocel_id, ocel_type FROM event"), start=1):
        time, attrs = times.get(str(eid), (None, {}))
        b.event(str(eid), _text(etype), time, f"event {eid!r} (row {n} of table 'event')")
        for name, value in attrs.items():
            if value is not None:
                b.event_attribute(str(eid), name, value)
    qualified = "ocel_qualifier" in _columns(con, "event_object")
    select = "ocel_event_id, ocel_object_id" + (", ocel_qualifier" if qualified else "")
    for row in con.execute(f"SELECT {select} FROM event_object"):
        b.relation(str(row[0]), _text(row[1]), _text(row[2]) if qualified else None)
    if "object_object" in tables:
        b.object_relations = int(con.execute("SELECT count(*) FROM object_object").fetchone()[0])
