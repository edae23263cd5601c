"""MXML, XES's predecessor: ProM 5's format, which CPN Tools, older ProM plug-ins and many published
logs still use, and Disco reads.

``<WorkflowLog><Process><ProcessInstance id="..."><AuditTrailEntry>`` holds one event per entry:
``WorkflowModelElement`` (the activity), ``EventType`` (the lifecycle transition), ``Timestamp``
and ``Originator``, and ``<Data><Attribute name="...">`` on an instance or an entry.  The table is
the one the XES reader makes of the same log, so everything after it is shared: ``case:concept:name``,
``concept:name``, ``lifecycle:transition``, ``time:timestamp``, ``org:resource``, an instance's
attributes as ``case:<name>`` and an entry's as ``<name>``; values as written.  Instances are read
one at a time (the parser keeps none behind it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from mining.errors import EmptyLog, IngestError
from mining.ingest.sources import refuse_doctype, safe_iterparse

__all__ = ["read_mxml"]

#: An entry's own elements, and the XES keys they become.
_ENTRY = {
    "WorkflowModelElement": "concept:name",
    "EventType": "lifecycle:transition",
    "Timestamp": "time:timestamp",
    "Originator": "org:resource",
}


def read_mxml(path: Path, *, display_name: str) -> pa.Table:
    """One row per ``<AuditTrailEntry>`` of the MXML log at ``path``, every column text."""
    from lxml import etree

    refuse_doctype(path, display_name=display_name)
    trace_cols: dict[str, list[str | None]] = {"case:concept:name": []}
    event_cols: dict[str, list[str | None]] = {}
    rows = 0
    try:
        for _, instance in safe_iterparse(path, tag=("{*}ProcessInstance",)):
            case = {"case:concept:name": instance.get("id"), **_data(instance, "case:")}
            for entry in instance.iterfind("{*}AuditTrailEntry"):
                values = {**_data(entry, "")}
                for child in entry:
                    key = _ENTRY.get(etree.QName(child).localname) if isinstance(child.tag, str) else None
                    if key is not None:
                        text = (child.text or "").strip()
                        # ProM writes EventType "unknown" with the real word in an attribute.
                        if text == "unknown":
                            text = child.get("unknowntype") or text
                        values[key] = text or None
                _append(trace_cols, case, rows)
                _append(event_cols, values, rows)
                rows += 1
            instance.clear()
            while instance.getprevious() is not None:
                del instance.getparent()[0]
    except etree.XMLSyntaxError as exc:
        where = f", line {exc.lineno}" if exc.lineno else ""
        raise IngestError(
            f"{display_name}{where}: the XML is not well-formed ({exc.msg}); expected a valid MXML file"
        ) from None
    if rows == 0:
        raise EmptyLog(f"{display_name}: the MXML log holds no <AuditTrailEntry> elements")
    columns = {**trace_cols, **{k: v for k, v in event_cols.items() if k not in trace_cols}}
    return pa.table({k: pa.array(v + [None] * (rows - len(v)), type=pa.string()) for k, v in columns.items()})


def _data(elem: Any, prefix: str) -> dict[str, str | None]:
    """The ``<Data><Attribute name="...">`` of an instance or an entry, as ``prefix + name``."""
    out: dict[str, str | None] = {}
    for attribute in elem.iterfind("{*}Data/{*}Attribute"):
        name = attribute.get("name")
        if name:
            out[prefix + name] = attribute.text
    return out


def _append(columns: dict[str, list[str | None]], values: dict[str, str | None], row: int) -> None:
    """Add one row's ``values``: a column first seen now is padded with ``None`` up to ``row``."""
    for key, value in values.items():
        column = columns.get(key)
        if column is None:
            column = columns[key] = []
        column.extend([None] * (row - len(column)))
        column.append(value)
