"""Read an XES event log into an all-string Arrow table, one row per event.

The flattening is pm4py's: every event attribute becomes a column named by its
``key`` (``concept:name``, ``time:timestamp``, ...), and every trace attribute
becomes a column prefixed with ``case:`` (``case:concept:name``), repeated on
each event of the trace.  Values are the raw ``value`` strings from the file:
nothing is converted, so ``00123`` and ``2011-10-01T00:38:44.546+02:00`` stay
exactly as written.  Typing and timestamp parsing belong to the importer.

The file must already be decompressed (see ``sources.decompress_if_gzip``).
After ``sources.refuse_doctype`` has refused any DOCTYPE, a file written one
element per line, as real exports are, is read by the vectorised fast path of
``mining.ingest.xes_lines``, which proves that shape or declines; every other
file is streamed with ``lxml.etree.iterparse`` under a parser that resolves no
entities, loads no DTD and uses no network.  Both give the same table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
from lxml import etree

from mining.errors import EmptyLog, IngestError, UnknownFormat
from mining.ingest.sources import refuse_doctype, safe_iterparse
from mining.ingest.xes_lines import CASE_PREFIX, XesBatches, index_array, read_xes_lines, text_array

__all__ = ["BATCH_ROWS", "CASE_PREFIX", "XesRead", "read_xes"]

#: Events collected as Python lists before they are turned into Arrow arrays.
BATCH_ROWS = 65_536

_ATTRIBUTE_TAGS = tuple(
    "{*}" + t for t in ("string", "date", "int", "float", "boolean", "id", "list", "container")
)


@dataclass(frozen=True)
class XesRead:
    """What ``read_xes`` found: the events, and how many traces (with and without events)."""

    table: pa.Table
    traces: int
    empty_traces: int


def read_xes(path: Path, *, display_name: str, batch_rows: int = BATCH_ROWS, fast: bool = True) -> XesRead:
    """Read the XES file at ``path``; ``display_name`` is the name used in error messages.

    Returns one row per ``<event>`` in file order, every column a string.
    Trace attributes come first (in order of first appearance), then event
    attributes.  Attributes missing from an event are null.  Nested
    ``list``/``container`` attributes keep their own ``value`` if they have
    one; their children are ignored, as are ``<global>``, ``<classifier>`` and
    ``<extension>``.  Traces without events produce no rows and are counted
    in ``empty_traces``.  Events are gathered ``batch_rows`` at a time (then
    up to the end of the trace) before they become Arrow arrays.  ``fast=False``
    skips the one-element-per-line fast path (tests compare the two).

    Raises
    ------
    UnsafeInput
        The file declares a DOCTYPE or ENTITY.
    IngestError
        The XML is not well-formed (the message gives the line).
    UnknownFormat
        The XML is not an XES log (its root element is not ``<log>``).
    EmptyLog
        The log has no events.
    """
    path = Path(path)
    refuse_doctype(path, display_name=display_name)
    if fast:
        lines = read_xes_lines(path)
        if lines is not None:
            table, traces, empty_traces = lines
            return XesRead(table=table, traces=traces, empty_traces=empty_traces)
    reader = _Reader(batch_rows)
    context = safe_iterparse(path, tag=("{*}event", "{*}trace"))
    try:
        reader.consume(context)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else getattr(exc, "position", (None,))[0]
        where = f", line {line}" if line else ""
        raise IngestError(
            f"{display_name}{where}: the XML is not well-formed ({_clean(exc.msg)}); expected a valid XES file"
        ) from None
    except OSError as exc:
        raise IngestError(f"{display_name}: could not be read as XML ({exc})") from None

    root = context.root
    root_name = etree.QName(root).localname if root is not None else None
    if reader.rows == 0:
        if root_name != "log":
            raise UnknownFormat(
                f"{display_name}: this XML file is not an XES event log "
                f"(its root element is <{root_name}>, expected <log>)"
            )
        traces = f"{reader.traces} trace" + ("" if reader.traces == 1 else "s")
        raise EmptyLog(f"{display_name}: the XES log contains no <event> elements ({traces})")
    return XesRead(table=reader.table(), traces=reader.traces, empty_traces=reader.empty_traces)


class _Reader:
    """Collects values column by column while the parser streams the file.

    Values go into per-column Python lists, padded lazily with ``None``, for
    one batch of about ``batch_rows`` events; at the first trace end past
    that size the batch becomes Arrow arrays, so Python objects never pile up
    for more than one batch.  Trace attributes hold one value per non-empty
    trace of the batch and are spread over its events with ``take``.
    """

    def __init__(self, batch_rows: int) -> None:
        self.batch_rows = batch_rows
        self.rows = 0
        self.traces = 0
        self.empty_traces = 0
        # the current batch
        self._event_cols: dict[str, list[str | None]] = {}
        self._trace_cols: dict[str, list[str | None]] = {}
        self._row_trace: list[int] = []  # per row: position in the trace columns, -1 outside any trace
        self._batch_traces = 0
        self.batches = XesBatches()  # everything flushed so far

    def consume(self, context: etree.iterparse) -> None:
        event_cols = self._event_cols  # cleared in place by _flush, so this alias stays valid
        rows = 0  # rows in the current batch
        rows_at_last_trace = 0
        for _, elem in context:
            # The tag filter yields only events and traces: "...event" ends in "t", "...trace" in "e".
            if elem.tag[-1] == "t":
                for child in elem:
                    key = child.get("key")
                    if key is None:
                        continue
                    value = child.get("value")
                    if value is None:
                        continue  # a list or container without its own value
                    col = event_cols.get(key)
                    if col is None:
                        col = event_cols[key] = []
                    filled = len(col)
                    if filled > rows:  # the same key twice in one event: the last one wins
                        col[rows] = value
                        continue
                    if filled < rows:
                        col.extend([None] * (rows - filled))
                    col.append(value)
                rows += 1
                elem.clear()
            else:
                self._end_trace(elem, rows - rows_at_last_trace)
                if rows >= self.batch_rows:
                    self._flush(rows)
                    rows = 0
                rows_at_last_trace = rows
        self._flush(rows)

    def _end_trace(self, trace: etree._Element, recent: int) -> None:
        """Close one trace; ``recent`` events ended since the previous trace closed."""
        self.traces += 1
        # iterchildren matches tags in C, so the (cleared) events are skipped without a Python object each.
        attributes = list(trace.iterchildren(*_ATTRIBUTE_TAGS))
        events = min(len(trace) - len(attributes), recent)
        row_trace = self._row_trace
        if recent > events:  # events that ended since the previous trace but are not in this one
            row_trace.extend([-1] * (recent - events))
        if events == 0:
            self.empty_traces += 1
        else:
            index = self._batch_traces
            self._batch_traces += 1
            trace_cols = self._trace_cols
            for attr in attributes:
                key = attr.get("key")
                value = attr.get("value")
                if key is None or value is None:
                    continue
                name = CASE_PREFIX + key
                col = trace_cols.get(name)
                if col is None:
                    col = trace_cols[name] = []
                filled = len(col)
                if filled > index:
                    col[index] = value
                    continue
                if filled < index:
                    col.extend([None] * (index - filled))
                col.append(value)
            row_trace.extend([index] * events)
        trace.clear()
        parent = trace.getparent()
        if parent is not None:
            while trace.getprevious() is not None:
                del parent[0]

    def _flush(self, rows: int) -> None:
        if rows == 0:
            return
        self._row_trace.extend([-1] * (rows - len(self._row_trace)))  # events after the last trace
        trace_columns: dict[str, pa.Array] = {}
        if self._trace_cols:
            positions = np.asarray(self._row_trace, dtype=np.int64)
            take = index_array(positions, missing=positions < 0)
            for name, values in self._trace_cols.items():
                values.extend([None] * (self._batch_traces - len(values)))
                trace_columns[name] = text_array(values).take(take)
        event_columns: dict[str, pa.Array] = {}
        for name, values in self._event_cols.items():
            values.extend([None] * (rows - len(values)))
            event_columns[name] = text_array(values)
        self.batches.add(rows, trace_columns, event_columns)
        self.rows += rows
        self._event_cols.clear()
        self._trace_cols.clear()
        self._row_trace.clear()
        self._batch_traces = 0

    def table(self) -> pa.Table:
        return self.batches.table()


def _clean(message: str) -> str:
    return " ".join(str(message).split())
