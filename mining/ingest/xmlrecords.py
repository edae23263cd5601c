"""An XML export that is a list of records, read as the JSON document it would be.

Systems that export XML mostly write one element per record, one child per
field: ServiceNow's list export (``<xml><incident><number>INC0010001</number>
...``) and its "unload" of records, Zendesk's and other Rails applications'
``<tickets type="array"><ticket>...``, and many reporting tools.  Such a file
becomes the nested document :func:`mining.ingest.prepare` reads JSON records
from, so both formats share one reading (the record list found inside, nested
fields as ``parent.field`` columns, repeated ones kept as a list):

* an element holding only text is that text (``None`` when empty);
* an element with children is an object of them, and a child that repeats
  is a list;
* an attribute on a field is a field of its own, ``name.attribute``
  (ServiceNow's ``<assigned_to display_value="Beth Anglin">``), except two of
  Rails' serialisation: ``type="integer"`` is dropped and ``nil="true"`` is an
  empty value;
* namespaces are dropped from names, as the XES reader does.

The file is parsed once, with nothing resolved or fetched (no DTD, no
entities, no network), after :func:`~mining.ingest.sources.refuse_doctype`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mining.errors import BadExport

__all__ = ["read_xml_records"]

#: Rails' ``to_xml`` types every field (``<id type="integer">``): a type is no field of the export.
_DROPPED = frozenset({"type"})


def read_xml_records(path: Path, workdir: Path, *, file: str) -> dict[str, Any]:
    """The XML at ``path`` (gzipped or not) as ``{root name: its content}``."""
    from lxml import etree

    from mining.ingest.sources import decompress_if_gzip, refuse_doctype, safe_parse

    plain = decompress_if_gzip(path, workdir, display_name=file)
    refuse_doctype(plain, display_name=file)
    try:
        root = safe_parse(plain)
    except etree.XMLSyntaxError as exc:
        line = f" line {exc.lineno}" if exc.lineno else ""
        raise BadExport(f"{file}{line}: invalid XML: {exc.msg}") from None
    return {_local(root.tag): _content(root)}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _content(elem: Any) -> Any:
    """What ``elem`` holds: its text, or an object of its children and attributes."""
    children = [c for c in elem if isinstance(c.tag, str)]
    if not children:
        text = elem.text
        return text if text is not None and text.strip() else None
    out: dict[str, Any] = dict(_attributes(elem, ""))
    grouped: dict[str, list[Any]] = {}
    for child in children:
        name = _local(child.tag)
        if name not in grouped:
            out[name] = None  # its place among the fields, filled below
        grouped.setdefault(name, []).append(None if child.get("nil") == "true" else _content(child))
        if not any(isinstance(c.tag, str) for c in child):
            for key, attr in _attributes(child, name + "."):
                out.setdefault(key, attr)
    for name, values in grouped.items():
        out[name] = values[0] if len(values) == 1 else values
    return out


def _attributes(elem: Any, prefix: str) -> list[tuple[str, str]]:
    return [
        (prefix + _local(k), v)
        for k, v in elem.attrib.items()
        if _local(k) not in _DROPPED and not (_local(k) == "nil" and v == "true")
    ]
