"""Delimited text: encoding, dialect and header, then DuckDB's parser.

DuckDB's own sniffer falls back silently to "one column holding the whole
line" on ragged files, so the dialect is decided here from a sample and given
to DuckDB explicitly; DuckDB then parses with ``store_rejects`` so every
ragged line is named rather than dropped.

Encodings: a BOM decides (UTF-8, UTF-16, UTF-32); otherwise the file must be
valid UTF-8 throughout, or it is transcoded from the encoding
charset-normalizer detects (cp1252, latin-1, ...).  Excel's ``sep=;`` first
line is honoured and skipped.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mining.errors import BadEncoding, EmptyLog, Option, StoreError, UnsafeInput, phrase
from mining.schema import Reject

if TYPE_CHECKING:
    from mining.store import Store

__all__ = ["CsvDialect", "prepare_csv", "stage_csv"]

_CHUNK = 8 << 20
_SNIFF_BYTES = 256 << 10
_DELIMITERS = (",", ";", "\t", "|")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


@dataclass(frozen=True)
class CsvDialect:
    """How a delimited file is written."""

    encoding: str
    delimiter: str
    quote: str
    escape: str
    skip_lines: int  # lines before the header (Excel's "sep=" line)
    header: tuple[str, ...]  # the header as written, before de-duplication
    control_chars: bool = True  # whether any control byte occurs; False lets the per-row check go


def prepare_csv(
    path: Path,
    workdir: Path,
    *,
    display_name: str,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> tuple[Path, CsvDialect]:
    """Return a UTF-8 file DuckDB can read, and its dialect."""
    with path.open("rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    if not head.strip():
        msg = f"{display_name} is empty"
        raise EmptyLog(msg, hint="export the data again; the file has no header and no rows")
    source_encoding, control = encoding, None
    if source_encoding is None:
        source_encoding, control = _detect_encoding(path, head, display_name)
    utf8_path = path
    if source_encoding not in {"utf-8", "utf-8-sig"}:
        utf8_path = _transcode(path, workdir, source_encoding, display_name)
        control = None
    if control is None:
        control = _has_control_bytes(utf8_path)
    with utf8_path.open("rb") as fh:
        text = fh.read(_SNIFF_BYTES).decode("utf-8-sig", errors="replace")
    lines = text.splitlines(keepends=True)
    if len(text) == _SNIFF_BYTES and lines:
        lines = lines[:-1]  # the last line may be cut short
    skip = 0
    if lines and lines[0].strip().lower().startswith("sep=") and len(lines[0].strip()) == 5:
        delimiter = delimiter or lines[0].strip()[4]
        lines = lines[1:]
        skip = 1
    if not lines or not lines[0].strip():
        msg = f"{display_name} has no header line"
        raise EmptyLog(msg)
    delim = delimiter or _sniff_delimiter(lines)
    escape = "\\" if '\\"' in text and '""' not in text else '"'
    header = next(csv.reader(io.StringIO("".join(lines)), delimiter=delim, quotechar='"'))
    if any("\x00" in h for h in header):
        msg = f"{display_name}: the header contains a NUL character"
        raise UnsafeInput(msg, hint="the file is probably binary or UTF-16 without a BOM")
    return utf8_path, CsvDialect(source_encoding, delim, '"', escape, skip, tuple(header), control)


def stage_csv(
    store: Store, path: Path, dialect: CsvDialect, table: str, *, display_name: str
) -> tuple[int, list[Reject]]:
    """Parse the file into ``table`` (columns c1..cN, all text) plus ``_row``.

    ``_row`` is the 1-based data row in the file (the header is row 0), the
    same numbering the parse rejects use.  Returns (rows read, rejects).
    """
    n = len(dialect.header)
    columns = {f"c{i}": "VARCHAR" for i in range(1, n + 1)}
    store.execute("DROP TABLE IF EXISTS reject_errors")
    store.execute("DROP TABLE IF EXISTS reject_scans")
    store.execute(
        f"CREATE TEMP TABLE {table}_raw AS SELECT * FROM read_csv($path, delim=$delim, quote=$quote, "
        "escape=$escape, header=true, skip=$skip, columns=$columns, auto_detect=false, "
        "store_rejects=true, strict_mode=true, null_padding=false, parallel=true)",
        {
            "path": str(path),
            "delim": dialect.delimiter,
            "quote": dialect.quote,
            "escape": dialect.escape,
            "skip": dialect.skip_lines,
            "columns": columns,
        },
    )
    rejects = _parse_rejects(store, display_name, header_lines=1 + dialect.skip_lines)
    rows = _number_rows(store, table, rejects)
    return rows + len({r.row for r in rejects}), rejects


def _parse_rejects(store: Store, display_name: str, *, header_lines: int) -> list[Reject]:
    try:
        found = store.query(
            "SELECT line, error_type, error_message, csv_line FROM reject_errors ORDER BY line"
        ).rows
    except StoreError:
        return []
    out = []
    for line, kind, message, raw in found:
        reason = _REASONS.get(str(kind), str(kind).lower())
        detail = str(message).split("\n")[0] if message else ""
        if "unterminated quote" in detail.lower():
            reason = "a quoted field is never closed (unterminated quote)"
        if "Expected Number of Columns" in detail:
            reason += (
                " ("
                + detail.replace("Expected Number of Columns", "expected").replace("Found", "found")
                + ")"
            )
        out.append(Reject(display_name, int(line) - header_lines, None, reason, raw))
    return out


_REASONS = {
    "TOO MANY COLUMNS": "ragged line: more fields than the header",
    "MISSING COLUMNS": "ragged line: fewer fields than the header",
    "UNQUOTED VALUE": "a quote inside an unquoted field",
    "INVALID UNICODE": "bytes that are not valid text in the file's encoding",
    "LINE SIZE OVER MAXIMUM": "line longer than the parser's maximum",
    "CAST ERROR": "value could not be read",
}


def _number_rows(store: Store, table: str, rejects: list[Reject]) -> int:
    # rowid of a table created from a parallel CSV scan follows file order;
    # the rejected records are holes in that sequence, added back here.
    if not rejects:
        # No holes: the row number is the position, so a view saves a copy.
        store.execute(f"CREATE TEMP VIEW {table} AS SELECT rowid + 1 AS _row, * FROM {table}_raw")
        return int(store.scalar(f"SELECT count(*) FROM {table}_raw"))
    else:
        holes = sorted({r.row for r in rejects})
        # The k-th accepted row sits at file row k + #{holes h_i : h_i - i < k}
        # (h_i sorted, i from 1): an ASOF join finds that count in one pass.
        adj = [h - i for i, h in enumerate(holes, start=1)]
        store.execute(
            f"CREATE TEMP TABLE {table}_holes AS SELECT a, max(i) AS i FROM "
            "(SELECT unnest($adj) AS a, generate_subscripts($adj, 1) AS i) GROUP BY a",
            {"adj": adj},
        )
        store.execute(
            f"CREATE TEMP TABLE {table} AS SELECT r.k + coalesce(h.i, 0) AS _row, r.* EXCLUDE (k) "
            f"FROM (SELECT rowid + 1 AS k, * FROM {table}_raw) r "
            f"ASOF LEFT JOIN {table}_holes h ON r.k > h.a ORDER BY r.k"
        )
        store.execute(f"DROP TABLE {table}_holes")
    store.execute(f"DROP TABLE {table}_raw")
    return int(store.scalar(f"SELECT count(*) FROM {table}"))


def _detect_encoding(path: Path, head: bytes, display_name: str) -> tuple[str, bool | None]:
    """The file's encoding, and whether it holds control bytes when that came for free."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name, None
    utf8, control = _scan_utf8(path)
    if utf8:
        return "utf-8", control
    from charset_normalizer import from_bytes

    best = from_bytes(head).best()
    if best is None:
        msg = f"{display_name}: cannot tell which text encoding the file uses"
        raise BadEncoding(
            msg, hint=phrase("save it as UTF-8, or pass ", Option("encoding"), " (for example cp1252)")
        )
    enc = best.encoding
    # charset-normalizer reports cp1252 text as latin-1 cousins; cp1252 is what
    # Windows Excel writes and is a superset for the printable range.
    return ("cp1252" if enc in {"latin_1", "iso8859_1", "iso8859_15", "cp1250", "cp1252"} else enc), None


_CONTROL_BYTES = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])


#: U+FFFE and U+FFFF in UTF-8: characters XML forbids, checked with the control bytes.
_NONCHARACTERS = (b"\xef\xbf\xbe", b"\xef\xbf\xbf")


def _has_control(chunk: bytes) -> bool:
    # In UTF-8 these bytes never occur inside a multi-byte character, so a byte
    # scan settles for the whole file whether any row needs the (much slower)
    # per-row check.  translate() runs at memory speed; a regex does not.
    # The caller overlaps chunks by two bytes so a noncharacter is never cut.
    return len(chunk.translate(None, _CONTROL_BYTES)) != len(chunk) or any(n in chunk for n in _NONCHARACTERS)


def _has_control_bytes(path: Path) -> bool:
    tail = b""
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            if _has_control(tail + chunk):
                return True
            tail = chunk[-2:]
    return False


def _scan_utf8(path: Path) -> tuple[bool, bool]:
    """One pass: is the whole file valid UTF-8, and does it hold control bytes."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    control = False
    tail = b""
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            control = control or _has_control(tail + chunk)
            tail = chunk[-2:]
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                return False, control
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False, control
    return True, control


def _transcode(path: Path, workdir: Path, encoding: str, display_name: str) -> Path:
    out = workdir / (path.stem + ".utf8.csv")
    decoder = codecs.getincrementaldecoder(encoding)()
    line = 1
    try:
        with path.open("rb") as src, out.open("w", encoding="utf-8", newline="") as dst:
            while chunk := src.read(_CHUNK):
                text = decoder.decode(chunk)
                if text.startswith("\ufeff"):
                    text = text[1:]
                dst.write(text)
                line += text.count("\n")
            dst.write(decoder.decode(b"", final=True))
    except (UnicodeDecodeError, LookupError) as exc:
        msg = f"{display_name}: not valid {encoding} text near line {line}: {exc}"
        hint = phrase("pass ", Option("encoding"), " with the file's real encoding")
        raise BadEncoding(msg, hint=hint) from exc
    return out


def _sniff_delimiter(lines: list[str]) -> str:
    sample = "".join(lines[:200])
    best, best_score = ",", -1.0
    for delim in _DELIMITERS:
        counts = [len(r) for r in csv.reader(io.StringIO(sample), delimiter=delim, quotechar='"') if r]
        if not counts or max(counts) < 2:
            continue
        header = counts[0]
        consistent = sum(1 for c in counts if c == header) / len(counts)
        score = consistent * 1000 + header
        if header >= 2 and score > best_score:
            best, best_score = delim, score
    return best
