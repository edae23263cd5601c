"""The fast path for XES written one element per line, and the column assembly both XES readers share.

Real exports (ProM/OpenXES, Disco, pm4py, Celonis) write every ``<trace>``,
``<event>``, ``</event>``, ``</trace>`` and every attribute element
(``<string key="..." value="..."/>``) on a line of its own.  For that shape
the file is read in blocks of whole traces with numpy and Arrow's vectorised
kernels, without a Python call per element: each line is checked against a
strict grammar (one regular expression, RE2), the nesting of traces and
events is checked as a sequence of line kinds, and keys and values are cut
out of the file's bytes between their quotes.

The fast path never guesses.  :func:`read_xes_lines` returns ``None`` (and
the caller reads the file with lxml) unless it has proved that lxml would
read the same table: every line between the first ``<trace>`` and the last
``</trace>`` matches the grammar (attribute values may hold only characters
XML allows, ``&`` only in the five named or numeric references, no ``<``, no
``"``), traces and events nest correctly, the text is UTF-8, and what lies
outside the traces (the prolog, ``<log>``, extensions, globals, classifiers,
log attributes, the closing tags) parses with lxml as a well-formed XML 1.0
document in UTF-8 in which the traces sit directly inside the root element and
which holds no other ``<trace>`` or ``<event>``.  Anything else -- several
elements on one line, attributes in another order or quoting, comments or
CDATA among the traces, nested ``list``/``container`` children, prefixed
names, events outside traces, another encoding, a log without events, any
malformation -- goes to lxml, which also words every error.

Values come out as lxml gives them: references decoded, and a literal tab in
an attribute value read as a space (XML's attribute-value normalisation).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from lxml import etree

__all__ = [
    "BLOCK_BYTES",
    "CASE_PREFIX",
    "MAX_BLOCK_BYTES",
    "XesBatches",
    "index_array",
    "read_xes_lines",
    "text_array",
]

#: Prefix given to trace attributes, as pm4py does.
CASE_PREFIX = "case:"

#: Bytes read at a time; a block is cut after its last ``</trace>`` line, so it holds whole traces.
#: Small blocks stay in the CPU caches: 8 MiB blocks read BPIC 2012 as fast as 32 MiB ones, and peak at
#: about the lxml reader's memory (180 MiB against 290).
BLOCK_BYTES = 8 * 1024 * 1024
#: A block that grows past this without a ``</trace>`` line (one huge trace, or no traces) goes to lxml.
MAX_BLOCK_BYTES = 512 * 1024 * 1024
#: Longer lines go to lxml, which limits one attribute value to 10 MB unless ``huge_tree`` is set.
_MAX_LINE = 1_000_000

# An attribute value as XML allows it between double quotes: no '<', no '"', '&' only in a
# reference, no control character but tab (CR and LF cannot occur inside one line of the
# fast path, and a CR is refused so that XML's line-end normalisation never applies).
_VALUE = r'(?:[^"<&\x00-\x08\x0A-\x1F\x{FFFE}\x{FFFF}]|&(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)*'
_ATTRIBUTE_TAGS = "string|date|int|float|boolean|id|list|container"
_LINE = (
    r"[ \t]*(?:"
    r"</?(?:trace|event)[ \t]*>"
    rf'|<(?:{_ATTRIBUTE_TAGS})[ \t]+key="{_VALUE}"[ \t]+value="{_VALUE}"[ \t]*/>'
    r")?[ \t]*\r?\n"
)
# All the lines of a block's body at once: RE2 runs one DFA over the text, twice as fast as line by line.
_BODY = rf"\A(?:{_LINE})*\z"

# Line kinds.  Structural kinds follow each other only as _NEXT allows.
_BLANK, _TRACE, _END_TRACE, _EVENT, _END_EVENT, _ATTRIBUTE = 0, 1, 2, 3, 4, 5
_NEXT = np.zeros((6, 6), dtype=bool)
for _a, _b in ((_TRACE, _EVENT), (_TRACE, _END_TRACE), (_EVENT, _END_EVENT), (_END_EVENT, _EVENT)):
    _NEXT[_a, _b] = True
_NEXT[_END_EVENT, _END_TRACE] = _NEXT[_END_TRACE, _TRACE] = True

_MARKER = "mining-xes-traces"
_NAMED = (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"), ("&amp;", "&"))
_REFERENCE = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);")
_NAMED_TEXT = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


class _NotThisShape(Exception):
    """The file is not in the shape the fast path proves; lxml reads it."""


class XesBatches:
    """Columns of events gathered a batch at a time, assembled into one table in pm4py's order.

    Trace attributes come first (``case:KEY``, in order of first appearance),
    then event attributes; an event attribute literally named ``case:KEY``
    fills the trace attribute's column where it has a value.  Both readers
    add their batches here, so they order and merge columns alike.
    """

    def __init__(self) -> None:
        self.rows = 0
        self._trace_names: dict[str, None] = {}  # ordered sets
        self._event_names: dict[str, None] = {}
        self._batches: list[tuple[int, dict[str, list[pa.Array]]]] = []

    def add(self, rows: int, trace_columns: dict[str, pa.Array], event_columns: dict[str, pa.Array]) -> None:
        """One batch of ``rows`` events: trace columns already spread over the events, each in order of first
        appearance."""
        arrays: dict[str, list[pa.Array]] = {}
        for name, array in trace_columns.items():
            arrays[name] = _chunks(array)
            self._trace_names.setdefault(name)
        for name, array in event_columns.items():
            if name in arrays:  # an event attribute literally named "case:…": the event value wins
                array = pc.coalesce(array, pa.chunked_array(arrays[name], type=pa.string()))
            else:
                self._event_names.setdefault(name)
            arrays[name] = _chunks(array)
        self._batches.append((rows, arrays))
        self.rows += rows

    def table(self) -> pa.Table:
        names = list(self._trace_names) + [n for n in self._event_names if n not in self._trace_names]
        columns = []
        for name in names:
            chunks: list[pa.Array] = []
            for rows, arrays in self._batches:
                chunks.extend(arrays.get(name) or [pa.nulls(rows, pa.string())])
            columns.append(pa.chunked_array(chunks, type=pa.string()))
        return pa.table(columns, names=names)


def read_xes_lines(path: Path) -> tuple[pa.Table, int, int] | None:
    """``(table, traces, empty traces)`` as the lxml reader gives them, or ``None`` if the file is not in the
    one-element-per-line shape this path proves (see the module's notes).

    The file must be decompressed and its prolog already checked for a DOCTYPE.  A file that cannot be
    read is also ``None``: lxml then words the error.
    """
    try:
        return _read(Path(path))
    except (_NotThisShape, pa.ArrowInvalid, UnicodeDecodeError, ValueError, OSError):
        return None


def _read(path: Path) -> tuple[pa.Table, int, int]:
    batches = XesBatches()
    traces = empty = 0
    header: bytes | None = None
    with open(path, "rb") as f:
        pending = b""
        while True:
            # A block without a trace's end grows by doubling, so a huge trace costs linear time to find.
            data = f.read(max(BLOCK_BYTES, len(pending)))
            if not data:
                break
            block = pending + data if pending else data
            last_line = block.rfind(b"\n")
            cut = block.rfind(b"</trace>", 0, last_line) if last_line >= 0 else -1
            if cut < 0:
                if len(block) > MAX_BLOCK_BYTES:
                    raise _NotThisShape
                pending = block
                continue
            end = block.index(b"\n", cut) + 1
            pending = block[end:]
            read = _block(memoryview(block)[:end], first=header is None)  # a view: no copy
            if header is None:
                header = read.header
            batches.add(read.rows, read.trace_columns, read.event_columns)
            traces += read.traces
            empty += read.empty_traces
    if header is None or batches.rows == 0:
        raise _NotThisShape  # no traces, or no events: lxml says what the file holds
    _check_outside(header, pending)
    return batches.table(), traces, empty


class _Block:
    __slots__ = ("empty_traces", "event_columns", "header", "rows", "trace_columns", "traces")

    def __init__(self) -> None:
        self.header = b""
        self.rows = self.traces = self.empty_traces = 0
        self.trace_columns: dict[str, pa.Array] = {}
        self.event_columns: dict[str, pa.Array] = {}


def _block(data: memoryview, *, first: bool) -> _Block:
    """Read one block of whole lines ending with a ``</trace>`` line; the first one also holds the header."""
    out = _Block()
    buf = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(buf == 10)
    starts = np.empty(len(newlines) + 1, dtype=np.int32)
    starts[0] = 0
    starts[1:] = newlines + 1
    bytes_buffer = pa.py_buffer(data)
    lines = pa.StringArray.from_buffers(len(newlines), pa.py_buffer(starts), bytes_buffer)
    lines.validate(full=True)  # UTF-8 throughout, or ArrowInvalid
    kinds = _kinds(buf, starts, lines)

    body = 0
    if first:
        opening = np.flatnonzero(kinds == _TRACE)
        if len(opening) == 0:
            raise _NotThisShape
        body = int(opening[0])
        out.header = bytes(data[: starts[body]])
    if int(np.diff(starts[body:]).max()) > _MAX_LINE:
        raise _NotThisShape
    text = pa.StringArray.from_buffers(1, pa.py_buffer(starts[[body, -1]]), bytes_buffer)
    if not pc.match_substring_regex(text, _BODY)[0].as_py():
        raise _NotThisShape
    kinds = kinds[body:]

    structural = np.flatnonzero((kinds >= _TRACE) & (kinds <= _END_EVENT))
    sequence = kinds[structural]
    if sequence[0] != _TRACE or sequence[-1] != _END_TRACE or not _NEXT[sequence[:-1], sequence[1:]].all():
        raise _NotThisShape

    # Numbers of traces and events within the block, counted at each structural line.
    trace_no = np.cumsum(sequence == _TRACE) - 1
    event_no = np.cumsum(sequence == _EVENT) - 1
    out.traces = int(trace_no[-1]) + 1
    event_lines = sequence == _EVENT
    event_trace = trace_no[event_lines]  # the trace of each event
    out.rows = len(event_trace)
    events_per_trace = np.bincount(event_trace, minlength=out.traces)
    out.empty_traces = int((events_per_trace == 0).sum())
    if out.rows == 0:
        return out

    # Each attribute line belongs to the event or trace opened by the structural line before it.
    attributes = np.flatnonzero(kinds == _ATTRIBUTE)
    before = np.cumsum((kinds >= _TRACE) & (kinds <= _END_EVENT))[attributes] - 1
    # Quotes: the grammar allows exactly four on an attribute line and none on any other body line.
    quotes = np.flatnonzero(buf[starts[body] :] == 34) + int(starts[body])
    if len(quotes) != 4 * len(attributes):
        raise _NotThisShape
    quotes = quotes.reshape(-1, 4)
    known = before >= 0
    previous = np.where(known, sequence[np.maximum(before, 0)], _END_TRACE)
    in_event = previous == _EVENT
    in_trace = (previous == _TRACE) | (previous == _END_EVENT)
    owned = in_event | in_trace  # attributes of the log between traces are not columns
    if not owned.any():
        out.event_columns = {}
        return out
    quotes = quotes[owned]
    keys, values = _keys_and_values(quotes, bytes_buffer)
    owner_line = before[owned]
    in_event = in_event[owned]
    key_codes, key_names = _decoded_keys(keys)
    values = _decoded_values(values)

    positions = np.arange(len(owner_line))
    # Events: their number; traces: their number among the block's non-empty traces.
    ev = in_event
    out.event_columns = _pivot(
        event_no[owner_line[ev]], key_codes[ev], positions[ev], key_names, out.rows, values, prefix=""
    )
    nonempty = events_per_trace > 0
    trace_rank = np.cumsum(nonempty) - 1
    tr = ~in_event
    trace_of_attribute = trace_no[owner_line[tr]]
    keep = nonempty[trace_of_attribute]
    per_trace = _pivot(
        trace_rank[trace_of_attribute[keep]],
        key_codes[tr][keep],
        positions[tr][keep],
        key_names,
        int(nonempty.sum()),
        values,
        prefix=CASE_PREFIX,
    )
    spread = index_array(trace_rank[event_trace])
    out.trace_columns = {name: column.take(spread) for name, column in per_trace.items()}
    return out


def _kinds(buf: np.ndarray, starts: np.ndarray, lines: pa.StringArray) -> np.ndarray:
    """Each line's kind, read off the characters after its first '<' (meaningful on lines the grammar
    accepts)."""
    first = _numpy_ints(pc.find_substring(lines, "<")).astype(np.int64)
    at = starts[:-1].astype(np.int64) + first
    last = len(buf) - 1
    c1 = buf[np.minimum(at + 1, last)]
    c2 = buf[np.minimum(at + 2, last)]
    kinds = np.full(len(first), _ATTRIBUTE, dtype=np.int8)
    kinds[c1 == ord("t")] = _TRACE
    kinds[c1 == ord("e")] = _EVENT
    closing = c1 == ord("/")
    kinds[closing & (c2 == ord("t"))] = _END_TRACE
    kinds[closing & (c2 == ord("e"))] = _END_EVENT
    kinds[first < 0] = _BLANK
    return kinds


def _keys_and_values(quotes: np.ndarray, data: pa.Buffer) -> tuple[pa.StringArray, pa.StringArray]:
    """The text between each line's first two quotes and between its last two, still encoded.

    One string array over the file's bytes alternates key, gap, value, gap (its offsets are
    the quote positions, so nothing is copied); ``take`` then copies out keys and values.
    """
    n = len(quotes)
    offsets = np.empty(4 * n + 1, dtype=np.int32)
    offsets[0:-1:4] = quotes[:, 0] + 1
    offsets[1:-1:4] = quotes[:, 1]
    offsets[2:-1:4] = quotes[:, 2] + 1
    offsets[3:-1:4] = quotes[:, 3]
    offsets[-1] = quotes[-1, 3]
    pieces = pa.StringArray.from_buffers(4 * n, pa.py_buffer(offsets), data)
    keys = pieces.take(index_array(np.arange(0, 4 * n, 4)))
    values = pieces.take(index_array(np.arange(2, 4 * n, 4)))
    return keys, values


def _decoded_keys(keys: pa.StringArray) -> tuple[np.ndarray, list[str]]:
    """A code per attribute line and the decoded key of each code (two spellings of one key share a code)."""
    encoded = keys.dictionary_encode()
    names: list[str] = []
    code_of: dict[str, int] = {}
    recode = np.empty(len(encoded.dictionary), dtype=np.int64)
    for i, raw in enumerate(encoded.dictionary.to_pylist()):
        name = _decode(raw)
        recode[i] = code_of.setdefault(name, len(names))
        if recode[i] == len(names):
            names.append(name)
    return recode[_numpy_ints(encoded.indices)], names


def _decoded_values(values: pa.StringArray) -> pa.StringArray:
    """Tabs read as spaces, then references decoded, as an XML parser does."""
    if _holds(values, "\t"):
        values = pc.replace_substring(values, "\t", " ")
    if not _holds(values, "&"):
        return values
    numeric = pc.match_substring(values, "&#")
    decoded = values
    for entity, text in _NAMED:  # '&amp;' last, so '&amp;lt;' stays '&lt;'
        decoded = pc.replace_substring(decoded, entity, text)
    if pc.any(numeric).as_py():
        rows = np.flatnonzero(_numpy_bools(numeric))
        exact = text_array([_decode(v) for v in values.take(index_array(rows)).to_pylist()])
        decoded = pc.replace_with_mask(decoded, numeric, exact)
    return decoded


def text_array(texts: Sequence[str | None]) -> pa.Array:
    """A string array of Python strings (``None`` is null), built on its buffers: ``pa.array`` of a list
    imports pandas, most of a second in a process that has no other use for it."""
    encoded = [b"" if text is None else text.encode() for text in texts]
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    if int(lengths.sum()) >= 2**31:  # past 32-bit offsets: pyarrow splits it into chunks
        return pa.array(texts, type=pa.string())
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    offsets[1:] = np.cumsum(lengths)
    missing = np.fromiter((text is None for text in texts), dtype=bool, count=len(encoded))
    validity = pa.py_buffer(np.packbits(~missing, bitorder="little")) if missing.any() else None
    buffers = [validity, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]
    return pa.Array.from_buffers(pa.string(), len(encoded), buffers)


def _holds(values: pa.StringArray, char: str) -> bool:
    """Whether any value holds the (ASCII) ``char``: one scan of the bytes, not one call per value."""
    data = values.buffers()[2]
    if data is None or len(values) == 0:
        return False
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int32)[
        values.offset : values.offset + len(values) + 1
    ]
    return bool((np.frombuffer(data, dtype=np.uint8)[offsets[0] : offsets[-1]] == ord(char)).any())


def _decode(raw: str) -> str:
    """One key or value as XML reads it; a reference to a character XML forbids is not this shape."""
    return _REFERENCE.sub(_reference, raw.replace("\t", " "))


def _reference(match: re.Match[str]) -> str:
    ref = match.group(1)
    if ref[0] != "#":
        return _NAMED_TEXT[ref]
    code = int(ref[2:], 16) if ref[1] == "x" else int(ref[1:])
    if not (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    ):
        raise _NotThisShape
    return chr(code)


def _pivot(
    owners: np.ndarray,
    codes: np.ndarray,
    positions: np.ndarray,
    names: list[str],
    size: int,
    values: pa.StringArray,
    *,
    prefix: str,
) -> dict[str, pa.Array]:
    """One column per key over ``size`` owners, keys in order of first appearance; the last value of a key
    repeated within one owner wins."""
    if len(codes) == 0:
        return {}
    counts = np.bincount(codes, minlength=len(names))
    # A stable sort of small integers is a radix sort in numpy: each key's lines, in file order.
    narrow = codes.astype(np.int16) if len(names) < 2**15 else codes
    order = np.argsort(narrow, kind="stable")
    bounds = np.zeros(len(names) + 1, dtype=np.int64)
    np.cumsum(counts, out=bounds[1:])
    present = np.flatnonzero(counts)
    first = order[bounds[present]]  # where each key first appears
    columns: dict[str, pa.Array] = {}
    for code in present[np.argsort(first, kind="stable")]:
        group = order[bounds[code] : bounds[code + 1]]
        who = owners[group]
        last = np.ones(len(group), dtype=bool)
        last[:-1] = who[1:] != who[:-1]
        index = np.full(size, -1, dtype=np.int64)
        index[who[last]] = positions[group[last]]
        columns[prefix + names[code]] = values.take(index_array(index, missing=index < 0))
    return columns


def _check_outside(header: bytes, trailer: bytes) -> None:
    """Prove that the text around the traces is what lxml would read around them.

    The header and trailer are parsed with a marker element where the traces
    were: the document must be well-formed XML 1.0 in UTF-8, the marker an
    element right inside the root (not in a comment, CDATA or attribute, not
    deeper), and nothing else in it a trace or an event.
    """
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
    )
    try:
        root = etree.fromstring(header + f"<{_MARKER}/>".encode() + trailer, parser)
    except etree.XMLSyntaxError as exc:
        raise _NotThisShape from exc
    tree = root.getroottree()
    if (tree.docinfo.xml_version or "1.0") != "1.0" or (tree.docinfo.encoding or "").upper() not in (
        "UTF-8",
        "UTF8",
    ):
        raise _NotThisShape
    markers = 0
    for element in root.iter(etree.Element):
        name = etree.QName(element).localname
        if name == _MARKER:
            markers += 1
            if element.getparent() is not root:
                raise _NotThisShape
        elif name in ("trace", "event"):
            raise _NotThisShape
    if markers != 1:
        raise _NotThisShape


def _numpy_bools(array: pa.BooleanArray) -> np.ndarray:
    """A boolean array without nulls as numpy, read off its bits (``to_numpy`` imports pandas, which alone
    costs most of a second)."""
    bits = np.frombuffer(array.buffers()[1], dtype=np.uint8)
    return np.unpackbits(bits, bitorder="little")[array.offset : array.offset + len(array)].view(np.bool_)


def index_array(index: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """Positions for ``take`` (null where ``missing``), built on numpy's buffers: ``pa.array`` of a numpy
    array imports pandas."""
    index = np.ascontiguousarray(index, dtype=np.int64)
    validity = None
    if missing is not None and missing.any():
        validity = pa.py_buffer(np.packbits(~missing, bitorder="little"))
    return pa.Array.from_buffers(pa.int64(), len(index), [validity, pa.py_buffer(index)])


def _numpy_ints(array: pa.Array) -> np.ndarray:
    """An integer array without nulls as numpy, read off its buffer (see ``_numpy_bools``)."""
    data = np.frombuffer(array.buffers()[1], dtype=np.dtype(f"i{array.type.bit_width // 8}"))
    return data[array.offset : array.offset + len(array)]


def _chunks(array: pa.Array | pa.ChunkedArray) -> list[pa.Array]:
    """``pa.array`` splits data over 2 GiB into a ChunkedArray; keep a flat list of chunks either way."""
    return list(array.chunks) if isinstance(array, pa.ChunkedArray) else [array]
