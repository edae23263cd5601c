"""The XES fast path (one element per line) reads exactly what lxml reads, and declines every other shape.

Every real XES log and every hand-made one is read both ways and compared
cell for cell; generated documents (hypothesis) check that the fast path
either declines or agrees, whatever the layout and even for broken files.
"""

from __future__ import annotations

import random
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mining.errors import EmptyLog, IngestError, MiningError
from mining.ingest import xes_lines
from mining.ingest.sources import decompress_if_gzip
from mining.ingest.xes import read_xes
from mining.ingest.xes_lines import read_xes_lines
from tests.conftest import FILES
from tests.test_readers import SHARED_XES

XML_FILES = FILES / "xml"


def _lxml(path: Path):
    return read_xes(path, display_name=path.name, fast=False)


def _assert_same(fast: tuple[pa.Table, int, int] | None, path: Path) -> pa.Table:
    """The fast path's result equals lxml's cell for cell, column names and order included."""
    assert fast is not None, f"{path.name} did not take the fast path"
    table, traces, empty = fast
    slow = _lxml(path)
    assert (traces, empty) == (slow.traces, slow.empty_traces)
    assert table.column_names == slow.table.column_names
    assert table.schema == slow.table.schema
    assert table.num_rows == slow.table.num_rows
    for name in table.column_names:  # Arrow's equality: values and nulls, whatever the chunks
        assert table.column(name).equals(slow.table.column(name)), name
    return table


def _read_as_lxml_reads(path: Path) -> None:
    """``read_xes`` (fast path first) gives lxml's table, traces and column order, or lxml's error."""
    try:
        expected = _lxml(path)
    except MiningError as exc:
        with pytest.raises(type(exc)) as info:
            read_xes(path, display_name=path.name)
        assert str(info.value) == str(exc)
        return
    got = read_xes(path, display_name=path.name)
    assert got.table.to_pylist() == expected.table.to_pylist()
    assert got.table.column_names == expected.table.column_names
    assert (got.traces, got.empty_traces) == (expected.traces, expected.empty_traces)


# --------------------------------------------------------------------------- real logs


@pytest.mark.parametrize(("name", "events", "traces"), SHARED_XES)
def test_every_shared_xes_log_reads_the_same_both_ways(
    shared_logs, tmp_path: Path, name: str, events: int, traces: int
) -> None:
    plain = decompress_if_gzip(shared_logs / name, tmp_path)
    table = _assert_same(read_xes_lines(plain), plain)
    assert table.num_rows == events
    assert table.column("case:concept:name").null_count == 0


# --------------------------------------------------------------------------- hand-made files


def test_hand_made_one_per_line_log_reads_every_edge_exactly() -> None:
    path = XML_FILES / "one_per_line.xes"
    table = _assert_same(read_xes_lines(path), path)
    assert table.column_names == [
        "case:concept:name",
        "case:priority",
        "case:region",
        "concept:name",
        "time:timestamp",
        "note",
        "a&b",
        "ticket",
        "items",
        "org:resource",
        "urgent",
    ]
    rows = table.to_pylist()
    assert len(rows) == 4  # the empty trace gives no row
    assert rows[0]["concept:name"] == "Tom & Jerry <3 > \"x\" 'y' &lt; &amp;"
    # a literal tab is read as a space, a referenced one stays a tab
    assert rows[0]["note"] == "tab here, ref\tthere, line\nbreak, \U0001f600 and \u00e9"
    assert rows[0]["case:concept:name"] == "own case"  # the event's own case:concept:name wins
    assert rows[1]["case:concept:name"] == "c&1"
    assert rows[0]["a&b"] == "" and rows[1]["a&b"] == "same key, spelled with a character reference"
    assert rows[1]["concept:name"] == "de cide"  # a literal tab alone, read as a space
    assert rows[1]["org:resource"] == "second"  # the same key twice in one event: the last wins
    assert rows[0]["case:region"] == rows[1]["case:region"] == "south"  # after the events, last wins
    assert rows[0]["case:priority"] == "007" and rows[0]["items"] == "a list with its own value"
    assert rows[2] == dict.fromkeys(table.column_names)  # an event without attributes
    assert rows[3]["urgent"] == "true" and rows[3]["case:concept:name"] is None


@pytest.mark.parametrize("path", sorted(XML_FILES.glob("*.xes")), ids=lambda p: p.name)
def test_every_hand_made_xes_file_reads_as_lxml_reads_it(path: Path) -> None:
    _read_as_lxml_reads(path)


def test_small_blocks_read_the_same_as_one(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Blocks end after a ``</trace>`` line: traces never straddle them, columns first seen late keep
    their order, and an event's ``case:`` attribute met before the trace attribute still merges."""
    lines = ["<?xml version='1.0' encoding='UTF-8'?>", "<log>"]
    for t in range(40):
        lines.append("  <trace>")
        for e in range(t % 4):
            lines += ["    <event>", f'      <string key="concept:name" value="a{e}"/>']
            if t < 5:
                lines.append(f'      <string key="case:region" value="event {t}"/>')
            if t > 30:
                lines.append(f'      <int key="late{t % 3}" value="{t}"/>')
            lines.append("    </event>")
        lines.append(f'    <string key="concept:name" value="case {t}"/>')
        if t > 20:
            lines.append(f'    <string key="region" value="trace {t}"/>')
        lines.append("  </trace>")
    lines.append("</log>")
    path = tmp_path / "blocks.xes"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    whole = read_xes_lines(path)
    monkeypatch.setattr(xes_lines, "BLOCK_BYTES", 300)
    table = _assert_same(read_xes_lines(path), path)
    assert table.column("concept:name").num_chunks > 5
    assert whole is not None and whole[0].to_pylist() == table.to_pylist()
    assert table.column_names == [
        "case:concept:name",
        "case:region",
        "concept:name",
        "late1",
        "late0",
        "late2",
    ]
    assert table.num_rows == sum(t % 4 for t in range(40))
    regions = table.column("case:region").to_pylist()
    assert regions[0] == "event 1" and regions[-1] == "trace 39"


def test_a_trace_longer_than_many_blocks_is_read_whole(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    events = "\n".join(f'<event>\n<string key="concept:name" value="a{i}"/>\n</event>' for i in range(3_000))
    path = tmp_path / "long_trace.xes"
    path.write_text(_LOG.format(f"<trace>\n{events}\n</trace>\n{_TRACE}"), encoding="utf-8")
    monkeypatch.setattr(xes_lines, "BLOCK_BYTES", 1_000)  # the long trace spans about 130 reads
    table = _assert_same(read_xes_lines(path), path)
    assert table.num_rows == 3_001
    assert table.column("concept:name").to_pylist()[2_999:] == ["a2999", "a"]
    monkeypatch.setattr(xes_lines, "MAX_BLOCK_BYTES", 50_000)  # past it without a trace's end: lxml reads it
    assert read_xes_lines(path) is None
    assert read_xes(path, display_name="long_trace.xes").table.num_rows == 3_001


# --------------------------------------------------------------------------- what goes to lxml

_LOG = "<?xml version='1.0' encoding='UTF-8'?>\n<log>\n{}\n</log>\n"
_TRACE = '<trace>\n<string key="concept:name" value="c1"/>\n<event>\n<string key="concept:name" value="a"/>\n</event>\n</trace>'

#: Shapes the fast path cannot prove: each must decline, and lxml's reading (or error) stands.
DECLINED = {
    "two elements on one line": _LOG.format(
        '<trace><event>\n<string key="concept:name" value="a"/>\n</event>\n</trace>'
    ),
    "value before key": _LOG.format(
        _TRACE.replace('key="concept:name" value="a"', 'value="a" key="concept:name"')
    ),
    "single quotes": _LOG.format(_TRACE.replace('value="a"', "value='a'")),
    "comment among traces": _LOG.format(_TRACE + "\n<!-- a note -->\n" + _TRACE),
    "CDATA in a trace": _LOG.format(_TRACE.replace("<event>", "<![CDATA[x]]>\n<event>")),
    "nested list in an event": _LOG.format(
        _TRACE.replace("</event>", '<list key="items">\n<string key="i" value="1"/>\n</list>\n</event>')
    ),
    "prefixed names": "<?xml version='1.0'?>\n<x:log xmlns:x='urn:x'>\n"
    + _TRACE.replace("<", "<x:").replace("<x:/", "</x:")
    + "\n</x:log>\n",
    "event outside traces": _LOG.format(
        '<event>\n<string key="concept:name" value="loose"/>\n</event>\n' + _TRACE
    ),
    "self-closing event": _LOG.format(_TRACE.replace("</event>", "</event>\n<event/>")),
    "self-closing trace in the header": _LOG.format("<trace/>\n" + _TRACE),
    "traces inside a comment": "<?xml version='1.0'?>\n<log>\n<!--\n"
    + _TRACE
    + "\n-->\n"
    + _TRACE
    + "\n</log>\n",
    "traces wrapped below the root": _LOG.format("<wrap>\n" + _TRACE + "\n</wrap>"),
    "attribute without a value": _LOG.format(_TRACE.replace("</event>", '<string key="x"/>\n</event>')),
    "another encoding": "<?xml version='1.0' encoding='ISO-8859-1'?>\n<log>\n" + _TRACE + "\n</log>\n",
    "XML 1.1": "<?xml version='1.1'?>\n<log>\n" + _TRACE + "\n</log>\n",
    "carriage returns alone": _LOG.format(_TRACE).replace("\n", "\r"),
    "a CR inside a value": _LOG.format(_TRACE.replace('value="a"', 'value="a\rb"')),
    "only an empty trace": _LOG.format('<trace>\n<string key="concept:name" value="c"/>\n</trace>'),
    # broken files: lxml names the line
    "unclosed trace": "<?xml version='1.0'?>\n<log>\n" + _TRACE.removesuffix("</trace>") + "\n</log>\n",
    "undefined entity": _LOG.format(_TRACE.replace('value="a"', 'value="&nbsp;"')),
    "forbidden character reference": _LOG.format(_TRACE.replace('value="a"', 'value="&#1;"')),
    "bare ampersand": _LOG.format(_TRACE.replace('value="a"', 'value="a & b"')),
    "control character": _LOG.format(_TRACE.replace('value="a"', 'value="a\x02b"')),
    "a non-character": _LOG.format(_TRACE.replace('value="a"', 'value="a\ufffeb"')),
    "duplicate attribute": _LOG.format(_TRACE.replace('value="a"', 'value="a" value="b"')),
    "content after the root": _LOG.format(_TRACE) + "<log/>\n",
    "unclosed root": "<?xml version='1.0'?>\n<log>\n" + _TRACE + "\n",
}


@pytest.mark.parametrize("name", list(DECLINED))
def test_shapes_the_fast_path_cannot_prove_go_to_lxml(tmp_path: Path, name: str) -> None:
    path = tmp_path / "shape.xes"
    path.write_bytes(DECLINED[name].encode("latin-1" if "ISO-8859-1" in DECLINED[name] else "utf-8"))
    assert read_xes_lines(path) is None
    _read_as_lxml_reads(path)


@pytest.mark.parametrize("bad", [b"\xff", b"\xed\xa0\x80", b"\xc0\xaf"], ids=["ff", "surrogate", "overlong"])
def test_invalid_utf8_goes_to_lxml_which_names_the_line(tmp_path: Path, bad: bytes) -> None:
    path = tmp_path / "bytes.xes"
    path.write_bytes(_LOG.format(_TRACE).encode().replace(b'value="a"', b'value="a' + bad + b'"'))
    assert read_xes_lines(path) is None
    with pytest.raises(IngestError, match=r"bytes\.xes, line 6: the XML is not well-formed"):
        read_xes(path, display_name="bytes.xes")


def test_a_line_longer_than_the_limit_goes_to_lxml(tmp_path: Path) -> None:
    path = tmp_path / "long.xes"
    path.write_text(_LOG.format(_TRACE.replace('value="a"', f'value="{"x" * 1_000_001}"')), encoding="utf-8")
    assert read_xes_lines(path) is None
    assert read_xes(path, display_name="long.xes").table.column("concept:name").to_pylist() == [
        "x" * 1_000_001
    ]


def test_crlf_line_ends_and_a_byte_order_mark_take_the_fast_path(tmp_path: Path) -> None:
    path = tmp_path / "crlf.xes"
    text = _LOG.format(_TRACE + "\n" + _TRACE.replace('"a"', '"b"')).replace("\n", "\r\n")
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    table = _assert_same(read_xes_lines(path), path)
    assert table.to_pylist() == [
        {"case:concept:name": "c1", "concept:name": "a"},
        {"case:concept:name": "c1", "concept:name": "b"},
    ]


# --------------------------------------------------------------------------- generated documents

_KEYS = ["concept:name", "time:timestamp", "org:resource", "case:concept:name", "a&b", "x<y", "k\u00e9y", ""]
#: Values: XML's special characters and text that looks like a reference once decoded, often, among any
#: text XML allows.
_TEXT = st.lists(
    st.one_of(
        st.sampled_from([*"&<>\"'\t\n\r é\U0001f600\x7f\x85", "&lt;", "&amp;", "&#38;", "&#x9;", "lt;"]),
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\ufffe\uffff"),
    ),
    max_size=6,
).map(lambda parts: "".join(c for c in "".join(parts) if c in "\t\n\r" or ord(c) >= 0x20))


def _escape(text: str, rnd: random.Random) -> str:
    """Each character written as XML allows, picked at random: mostly literal where it may be, else a named
    or a numeric reference (newlines always as references, so the element stays on its line)."""
    named = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"}
    out = []
    for c in text:
        if c not in '&<"\n\r' and rnd.random() < 0.7:
            out.append(c)
        elif c in named and rnd.random() < 0.6:
            out.append(named[c])
        else:
            out.append(rnd.choice([f"&#{ord(c)};", f"&#x{ord(c):x};"]))
    return "".join(out)


@st.composite
def one_per_line_logs(draw: st.DrawFn) -> tuple[str, bool]:
    """An XES document in the shape real exporters write; the flag says whether it has an event."""
    rnd = random.Random(draw(st.integers(0, 2**32)))
    indent = draw(st.sampled_from(["", "  ", "\t"]))
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<log xmlns="http://www.xes-standard.org/">']
    events = 0
    for _ in range(draw(st.integers(0, 4))):
        lines.append(indent + draw(st.sampled_from(["<trace>", "<trace >"])))
        body = []
        for _ in range(draw(st.integers(0, 3))):
            attrs = []
            for _ in range(draw(st.integers(0, 4))):
                key, value = draw(st.sampled_from(_KEYS)), draw(_TEXT)
                tag = draw(st.sampled_from(["string", "date", "int", "id", "boolean", "float"]))
                end = draw(st.sampled_from(["/>", " />"]))
                attrs.append(
                    f'{indent * 3}<{tag} key="{_escape(key, rnd)}" value="{_escape(value, rnd)}"{end}'
                )
            body.append([indent * 2 + "<event>", *attrs, indent * 2 + "</event>"])
            events += 1
        for _ in range(draw(st.integers(0, 3))):
            key, value = draw(st.sampled_from(_KEYS)), draw(_TEXT)
            line = f'{indent * 2}<string key="{_escape(key, rnd)}" value="{_escape(value, rnd)}"/>'
            body.insert(draw(st.integers(0, len(body))), [line])
        lines += [line for part in body for line in part]
        if draw(st.booleans()):
            lines.append("")
        lines.append(indent + "</trace>")
    lines.append("</log>")
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return newline.join(lines) + newline, events > 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=one_per_line_logs())
def test_generated_one_per_line_logs_read_the_same_both_ways(tmp_path: Path, doc: tuple[str, bool]) -> None:
    text, has_events = doc
    path = tmp_path / "generated.xes"
    path.write_bytes(text.encode("utf-8"))
    fast = read_xes_lines(path)
    if not has_events:
        assert fast is None
        with pytest.raises(EmptyLog):
            _lxml(path)
        return
    _assert_same(fast, path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    doc=one_per_line_logs(),
    cut=st.integers(0, 10_000),
    junk=st.sampled_from(["", "<", "&", '"', "\n", "<trace>"]),
)
def test_damaged_or_reshaped_logs_read_as_lxml_reads_them(
    tmp_path: Path, doc: tuple[str, bool], cut: int, junk: str
) -> None:
    """Whatever the damage, the fast path declines or agrees: same table, or the same error."""
    text, _ = doc
    at = cut % (len(text) + 1)
    damaged = text[:at] + junk + text[at + (1 if junk else 0) :]
    path = tmp_path / "damaged.xes"
    path.write_bytes(damaged.encode("utf-8"))
    _read_as_lxml_reads(path)
