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
import contextlib
import csv
import io
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mining.errors import BadEncoding, EmptyLog, IngestError, Option, StoreError, UnsafeInput, phrase
from mining.schema import Reject

if TYPE_CHECKING:
    from mining.store import Store

__all__ = [
    "MAX_COLUMNS",
    "MAX_FIELD_BYTES",
    "MAX_HEADER_BYTES",
    "MAX_LINE_BYTES",
    "CsvDialect",
    "prepare_csv",
    "stage_csv",
]

#: Columns a table may have: role detection and the per-row checks stay within memory up to here.
MAX_COLUMNS = 4096
#: A header line may be this long (a wide export's header is a few hundred KiB).
MAX_HEADER_BYTES = 8 << 20
#: A record longer than this is rejected, with its row (DuckDB's line size, set explicitly).
MAX_FIELD_BYTES = 32 << 20
#: A line longer than this refuses the file: DuckDB could not even name it as a reject.
MAX_LINE_BYTES = 96 << 20

_CHUNK = 8 << 20
_SNIFF_BYTES = 256 << 10
_BLOCK = 1 << 20
# DuckDB's default maximum line size: longer lines need the explicit, larger one.
_DUCKDB_LINE = 2 << 20
# A field larger than the csv module's default limit (128 KiB) must not break sniffing.
csv.field_size_limit(max(csv.field_size_limit(), MAX_HEADER_BYTES + 2 * _SNIFF_BYTES))
_DELIMITERS = (",", ";", "\t", "|")
#: Lines above a header that may be skipped as a report's title, and rows needed below it to tell.
_PREAMBLE_MAX = 20
_PREAMBLE_ROWS = 2
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
    skip_lines: int  # lines before the header (Excel's "sep=" line, a report's title lines)
    header: tuple[str, ...]  # the header as written, before de-duplication
    control_chars: bool = True  # whether any control byte occurs; False lets the per-row check go
    # The longest line when it is beyond DuckDB's default line size (0: none): read with larger buffers.
    longest_line: int = 0
    new_line: str | None = None  # "\r" for old Mac line ends; None lets DuckDB tell \n from \r\n
    # Lines above the header that are not part of the table (a report's title, its date), as written.
    preamble: tuple[str, ...] = ()


def prepare_csv(
    path: Path,
    workdir: Path,
    *,
    display_name: str,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> tuple[Path, CsvDialect]:
    """Return a UTF-8 file DuckDB can read, and its dialect.

    Never raises anything but an :class:`~mining.errors.IngestError`: a header
    longer than :data:`MAX_HEADER_BYTES`, more than :data:`MAX_COLUMNS`
    columns, a line longer than :data:`MAX_LINE_BYTES`, or text that the
    encoding turns into nonsense are refused with the limit or the likely
    cause named.
    """
    with path.open("rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    if not head.strip():
        msg = f"{display_name} is empty"
        raise EmptyLog(msg, hint="export the data again; the file has no header and no rows")
    scan: _Scan | None = None
    source_encoding = encoding
    if source_encoding is None:
        source_encoding, scan = _detect_encoding(path, head, display_name)
    else:
        _check_chosen_encoding(head, source_encoding, display_name)
    utf8_path = path
    if source_encoding not in {"utf-8", "utf-8-sig"}:
        utf8_path = _transcode(path, workdir, source_encoding, display_name)
        scan = None
    if scan is None:
        scan = _scan_file(utf8_path)
    raw, header_line, skip = _head_lines(utf8_path, display_name)
    text = raw.decode("utf-8-sig", errors="replace")
    _refuse_nonsense(text, head, source_encoding, encoding is not None, display_name)
    lines = text.splitlines(keepends=True)
    if len(raw) >= header_line + _SNIFF_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut short
    if skip:
        delimiter = delimiter or lines[0].strip()[4]
        lines = lines[1:]
    above = _preamble(lines, delimiter)
    preamble = tuple(line.strip()[:200] for line in lines[:above] if line.strip())
    lines = lines[above:]
    skip += above
    if not lines or not lines[0].strip():
        msg = f"{display_name} has no header line"
        raise EmptyLog(msg)
    delim = delimiter or _sniff_delimiter(lines)
    escape = "\\" if '\\"' in text and '""' not in text else '"'
    try:
        # The lines, not one text: a file with old Mac line ends (\r alone) splits the same way.
        header = next(csv.reader(lines, delimiter=delim, quotechar='"'), [])
    except csv.Error as exc:
        msg = f"{display_name}, line {1 + skip}: the header cannot be split into columns ({exc})"
        raise IngestError(msg, hint="check the quotes in the first line") from None
    if any("\x00" in h for h in header):
        msg = f"{display_name}: the header contains a NUL character"
        raise UnsafeInput(msg, hint="the file is probably binary or UTF-16 without a BOM")
    if len(header) > MAX_COLUMNS:
        msg = (
            f"{display_name} has {len(header):,} columns; at most {MAX_COLUMNS:,} can be loaded "
            "(the role detection and the checks of every row must stay within memory)"
        )
        raise IngestError(msg, hint="export only the columns the process needs (case, activity, times, ...)")
    longest = _check_long_lines(scan, display_name)
    # DuckDB finds \n and \r\n itself; a file whose lines end in \r alone must be told.
    mac = "\n" not in text and "\r" in text
    return utf8_path, CsvDialect(
        source_encoding,
        delim,
        '"',
        escape,
        skip,
        tuple(header),
        scan.control,
        longest,
        "\r" if mac else None,
        preamble,
    )


def _head_lines(path: Path, display_name: str) -> tuple[bytes, int, int]:
    """The head of the file: the (Excel ``sep=``) line and the header whole, then up to 256 KiB of rows.

    Returns (bytes, where the header starts, lines before it).  A header is
    read to its end, however long, up to :data:`MAX_HEADER_BYTES`.
    """
    with path.open("rb") as fh:
        raw = fh.read(_SNIFF_BYTES)
        first = raw.split(b"\n", 1)[0].strip().lower()
        skip = (
            1
            if first.lstrip(b"\xef\xbb\xbf").startswith(b"sep=") and len(first.lstrip(b"\xef\xbb\xbf")) == 5
            else 0
        )
        start = raw.index(b"\n") + 1 if skip else 0
        while raw.find(b"\n", start) < 0:
            more = fh.read(_SNIFF_BYTES)
            if not more:
                return raw, start, skip  # one line: a header and nothing else
            raw += more
            if len(raw) - start > MAX_HEADER_BYTES:
                msg = (
                    f"{display_name}: the first line is longer than {MAX_HEADER_BYTES >> 20} MiB without a line "
                    "break; that is not a header"
                )
                raise IngestError(msg, hint="check that the file is a table with one record per line")
        end = raw.index(b"\n", start)
        if len(raw) < end + _SNIFF_BYTES:
            raw += fh.read(end + _SNIFF_BYTES - len(raw))
    return raw, start, skip


def _check_chosen_encoding(head: bytes, encoding: str, display_name: str) -> None:
    """Refuse an encoding the user chose that cannot be right for these bytes."""
    import codecs as _codecs

    try:
        name = _codecs.lookup(encoding).name
    except LookupError:
        msg = f"{display_name}: unknown text encoding {encoding!r}"
        raise BadEncoding(
            msg, hint=phrase("pass ", Option("encoding"), " with a name such as utf-8 or cp1252")
        ) from None
    if name in {"utf-8", "utf-8-sig"} or name.startswith(("utf-16", "utf-32")):
        return
    body = head[: len(head) - 4] if len(head) == _SNIFF_BYTES else head
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return
    if any(ord(c) > 0x7F for c in text):
        sample = next(c for c in text if ord(c) > 0x7F)
        misread = sample.encode("utf-8").decode(encoding, errors="replace")
        msg = (
            f"{display_name} is UTF-8 text (its accented letters are valid UTF-8); read as {encoding} "
            f"{sample!r} would become {misread!r}"
        )
        raise BadEncoding(msg, hint=phrase("leave ", Option("encoding"), " out, or pass utf-8"))


def _refuse_nonsense(text: str, head: bytes, encoding: str, chosen: bool, display_name: str) -> None:
    """Text full of control or unassigned characters, or without a line break, was decoded wrongly."""
    sample = text[:65536]
    if not sample:
        return
    # Printable ASCII with tabs and line breaks holds no nonsense; most exports are that,
    # and the per-character test below costs half a second on 64k characters.
    bad = (
        0
        if sample.isascii() and not _ASCII_CONTROL.search(sample)
        else sum(1 for c in sample if _nonsense_char(c))
    )
    breaks_in_bytes = head.count(b"\n")
    reason = None
    if bad >= 3 and bad > 0.02 * len(sample):
        reason = f"{bad / len(sample):.0%} of its first characters are control or unassigned characters"
    elif breaks_in_bytes >= 2 and "\n" not in text and len(text) > 200:
        reason = "the bytes hold line breaks, but the decoded text has none"
    if reason is None:
        return
    how = "as asked" if chosen else "as detected"
    likely = ""
    if head.count(0) > 0.2 * len(head):
        likely = "; the NUL bytes suggest UTF-16 without a byte-order mark (try utf-16-le or utf-16-be)"
    msg = f"{display_name}: read as {encoding} ({how}), the text is nonsense: {reason}{likely}"
    raise BadEncoding(
        msg, hint=phrase("the encoding is likely wrong: pass ", Option("encoding"), " with the file's own")
    )


_ASCII_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _nonsense_char(c: str) -> bool:
    if c in "\t\n\r":
        return False
    if c == "\ufffd":
        return True
    code = ord(c)
    if code < 0x20 or 0x7F <= code < 0xA0:
        return True
    if 0xE000 <= code < 0xF900 or 0xD800 <= code < 0xE000 or code >= 0xF0000:
        return True  # private use and surrogates
    return unicodedata.category(c) == "Cn"


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
    params: dict[str, object] = {
        "path": str(path),
        "delim": dialect.delimiter,
        "quote": dialect.quote,
        "escape": dialect.escape,
        "skip": dialect.skip_lines,
        "columns": columns,
    }
    sizes = ""
    if dialect.longest_line:
        # DuckDB drops a line longer than its buffer without a word, even with
        # store_rejects: with a buffer beyond the longest line, a line over
        # MAX_FIELD_BYTES becomes a reject with its row, and shorter ones load.
        sizes = ", max_line_size=$max_line, buffer_size=$buffer"
        params["max_line"] = MAX_FIELD_BYTES
        params["buffer"] = max(2 * MAX_FIELD_BYTES, dialect.longest_line + (4 << 20))
    if dialect.new_line:
        sizes += ", new_line=$new_line"
        params["new_line"] = dialect.new_line.replace("\r", "\\r")  # DuckDB takes it escaped: '\r'

    threads = int(store.scalar("SELECT current_setting('threads')"))
    if not _PARALLEL:
        store.execute("SET threads = 1")
    try:
        store.execute(
            f"CREATE TEMP TABLE {table}_raw AS SELECT * FROM read_csv($path, delim=$delim, quote=$quote, "
            "escape=$escape, header=true, skip=$skip, columns=$columns, auto_detect=false, "
            f"store_rejects=true, strict_mode=true, null_padding=false, parallel=true{sizes})",
            params,
        )
    except StoreError as exc:
        if "invalid state" not in str(exc):
            raise
        # DuckDB's strict parser gives up on a bare carriage return inside a field, naming no line.
        raise IngestError(_parser_gave_up(path, display_name), hint=_CR_HINT) from None
    finally:
        store.execute("SET threads = $threads", {"threads": threads})
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
        value = _clip(raw)
        if reason == _REASONS["LINE SIZE OVER MAXIMUM"]:
            size = re.search(r"Actual Size:\s*(\d+)", str(message or ""))
            shown = f" of {int(size.group(1)):,} bytes" if size else ""
            reason = f"line{shown} longer than {MAX_FIELD_BYTES >> 20} MiB, the most a row may have"
            value = None if raw is None else f"{str(raw)[:_RAW_SHOWN]}…"  # DuckDB keeps only the line's start
        out.append(Reject(display_name, int(line) - header_lines, None, reason, value))
    return out


_CR_HINT = "remove the stray carriage returns (or quote the fields that hold them) and export again"


def _parser_gave_up(path: Path, display_name: str) -> str:
    """Where the first carriage return without a line feed after it stands, as a message."""
    line, tail = 1, b""
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            data = tail + chunk
            at = next((i for i in _bare_cr(data) if i + 1 < len(data) or not chunk), None)
            if at is not None:
                line += data.count(b"\n", 0, at)
                return (
                    f"{display_name}, line {line}: a carriage return (\\r) inside an unquoted field breaks the row; "
                    "the parser cannot read on from there"
                )
            line += data[:-1].count(b"\n")
            tail = data[-1:]
    return f"{display_name}: the CSV parser could not read the file (a quote or line break out of place)"


def _bare_cr(data: bytes):  # type: ignore[no-untyped-def]
    start = 0
    while (i := data.find(b"\r", start)) >= 0:
        if data[i + 1 : i + 2] != b"\n":
            yield i
        start = i + 1


_RAW_SHOWN = 10_000

# DuckDB's parallel CSV scan, kept in file order (the row numbers rest on it),
# pays for re-ordering its batches: on two cores it took 1.08 CPU s and 1.03 s
# of wall time for 1M rows of 9 columns where one thread took 0.75 and 0.75.
# So on two cores the scan runs in one thread (the same scanner: its rejects
# are the same; ``parallel=false`` is another scanner that misses an
# unterminated quote).  Beyond two cores the parallel scan shortens the wall time.
_PARALLEL = (os.cpu_count() or 1) > 2


def _clip(raw: object) -> str | None:
    """A rejected line as stored and shown: whole up to 10,000 characters, else its start and its length."""
    if raw is None:
        return None
    text = str(raw)
    if len(text) <= _RAW_SHOWN:
        return text
    return f"{text[:_RAW_SHOWN]}… ({len(text):,} characters in all)"


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


def _detect_encoding(path: Path, head: bytes, display_name: str) -> tuple[str, _Scan | None]:
    """The file's encoding, and the scan of its bytes when that came for free (UTF-8 without a BOM)."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name, None
    scan = _scan_file(path, check_utf8=True)
    if scan.utf8:
        return "utf-8", scan
    from charset_normalizer import from_bytes

    matches = from_bytes(head)
    best = matches.best()
    if best is None:
        msg = f"{display_name}: cannot tell which text encoding the file uses"
        raise BadEncoding(
            msg, hint=phrase("save it as UTF-8, or pass ", Option("encoding"), " (for example cp1252)")
        )
    # charset-normalizer reports cp1252 text as latin-1 cousins; cp1252 is what Windows Excel writes
    # and is a superset for the printable range.  On a short file it may rank a DOS or Baltic code page
    # first (cp775 for a German export of four rows: "Tõtigkeit"): a Western one that reads the bytes
    # as cleanly wins.
    if any(m.encoding in _WESTERN and m.chaos <= best.chaos + _western_margin(head) for m in matches):
        return ("cp1250" if _central_european(head) else "cp1252"), None
    if best.encoding in {"cp949", "euc_kr", "johab"} and _shift_jis(head):
        return "cp932", None
    return best.encoding, None


def _western_margin(head: bytes) -> float:
    """How much more chaos a Western reading may show than charset-normalizer's best and still be taken.

    Text written in a Latin alphabet is mostly ASCII letters, a few accented: on a small file of such
    text charset-normalizer may rank a Baltic or Mac code page first by a hair (Dutch read as cp1257,
    "Muńoz"; French as Mac Latin 2).  Text in another alphabet written in a single-byte code page
    (Cyrillic, Greek) reads through cp1252 as words made of accented letters alone: the margin stays
    narrow for it.
    """
    text = head.decode("cp1252", errors="replace")
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.01
    accented = sum(1 for c in letters if not c.isascii())
    return 0.03 if accented < 0.15 * len(letters) else 0.01


def _shift_jis(head: bytes) -> bool:
    """Whether bytes taken for Korean are Japanese Excel's cp932 (Shift JIS).

    Both read each other's bytes as valid text, and charset-normalizer ranks the Korean reading first.
    Shift JIS puts kana and the common kanji behind lead bytes 0x81-0x9F; Korean text written in cp949
    puts its syllables behind 0xB0-0xC8, the lower leads holding only the rare extended syllables.
    """
    leads, low, i = 0, 0, 0
    while i < len(head):
        if head[i] >= 0x81:
            leads += 1
            low += head[i] <= 0xA0
            i += 2
        else:
            i += 1
    if not leads or low <= leads / 2:
        return False
    try:
        head[: head.rfind(b"\n") + 1 or len(head)].decode("cp932")
    except UnicodeDecodeError:
        return False
    return True


#: The encodings charset-normalizer names for text that Windows' cp1252 reads.
_WESTERN = frozenset({"latin_1", "iso8859_1", "iso8859_15", "cp1250", "cp1252"})
#: Polish letters as cp1252 reads their cp1250 bytes, inside a word: ł ą ż ź Ą Ł Ż become ³ ¹ ¿ Ÿ ¥ £ ¯
#: ("Z³o¿enie" for "Złożenie"), which no Western word holds between two letters.
_CP1250_IN_CP1252 = re.compile(
    "[A-Za-z\u00c0-\u00ff][\u00b3\u00b9\u00bf\u0178\u00a5\u00a3\u00af][A-Za-z\u00c0-\u00ff]"
)
#: The same at a word's end, where Polish writes ł and ą often ("Paweł", "pracą"), after three letters
#: or more: "m³" and "cm³" are units of a Western file.
_CP1250_AT_END = re.compile(
    "[A-Za-z\u00c0-\u00ff]{3}[\u00b3\u00b9\u00bf\u0178\u00a5\u00a3\u00af](?![A-Za-z\u00c0-\u00ff0-9])"
)


#: Czech, Slovak, Hungarian, Croatian and Polish letters as cp1252 reads their cp1250 bytes: ř č ě ň ů Ř Č Ě
#: ő ű ć ś Ś become ø è ì ò ù Ø È Ì õ û æ œ Œ ("Pøíjem" for "Příjem", "Czynnoœæ" for "Czynność").  Each is a
#: Western letter, but no Western word holds one beside a letter both code pages share that those languages
#: use and Western ones do not mix with it (š ž ý í á ú), or beside another of them: Danish ø comes
#: without í, Italian ì without á, French œ without æ; Danish and Norwegian æ and ø go together, and
#: Icelandic æ with á and ý, so æ counts only beside another mark (đ, Icelandic's ð, not at all).
_CP1250_MARKED = frozenset("øèìòùõûæœØÈÌÒÙÕÛÆŒ")
_CP1250_SHARED = frozenset("šžýíáúŠŽÝÍÁÚ")
_NORDIC = frozenset("æøÆØ")
_NORDIC_AE = frozenset("æÆ")
#: Hungarian ő and ű read as õ and û, which Portuguese writes too, but beside ç and ã, and Estonian,
#: beside ä, letters Hungarian has not.
_HUNGARIAN = frozenset("õûÕÛ")
_NOT_HUNGARIAN = frozenset("ãçäÃÇÄ")
#: Polish ś read as œ, which French writes between letters too (sœur), but never without é, à or ç.
_POLISH_S = frozenset("œŒ")
_FRENCH = frozenset("éàçÉÀÇ")
_WORD = re.compile(r"[^\W\d_]{3,}")
#: Croatian and Serbian latin, whose č and ć read as è and æ and whose other letters both code pages
#: share: č before a vowel ("Raèun", "Isporuèeno"), which no Western word writes (French è comes before
#: a consonant, Italian's at a word's end), and the surnames' final ić ("Horvatiæ").
_C_BEFORE_VOWEL = re.compile("[èÈ][aeiouAEIOU]|[iI][æÆ]$")


def _central_european(head: bytes) -> bool:
    """Whether bytes that both Windows code pages read are Central European (cp1250) rather than Western.

    Polish shows itself in one word (³ ¿ between letters, or ³ ¹ ending one); the others in two
    distinct words that each hold one of their marks, so a single borrowed name does not turn a
    Western file.  Bytes cp1252 leaves undefined (Slovak and Czech ť, Ť, Ź) settle it when cp1250 reads them.
    """
    try:
        text = head.decode("cp1252")
    except UnicodeDecodeError:
        try:
            head.decode("cp1250")
        except UnicodeDecodeError:
            text = head.decode("cp1252", errors="replace")
        else:
            return True
    if _CP1250_IN_CP1252.search(text) is not None:
        return True
    hungarian = not any(c in _NOT_HUNGARIAN for c in text)
    french = any(c in _FRENCH for c in text)
    # A footnote's ¹ after a French word would turn è into č: French marks keep the Western reading.
    if not french and _CP1250_AT_END.search(text) is not None:
        return True
    mixed = set()
    for word in _WORD.findall(text):
        letters = set(word)
        marked = letters & _CP1250_MARKED
        if not marked:
            continue
        if (
            (marked - _NORDIC_AE and letters & _CP1250_SHARED)
            or (not marked <= _NORDIC and len(marked) > 1)
            or (marked & _HUNGARIAN and hungarian)
            or (marked & _POLISH_S and not french)
            or _C_BEFORE_VOWEL.search(word)
        ):
            mixed.add(word)
            if len(mixed) >= 2:
                return True
    return False


_CONTROL_BYTES = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
#: U+FFFE and U+FFFF in UTF-8: characters XML forbids, checked with the control bytes.
_NONCHARACTERS = (b"\xef\xbf\xbe", b"\xef\xbf\xbf")


def _has_control(chunk: bytes) -> bool:
    # In UTF-8 these bytes never occur inside a multi-byte character, so a byte
    # scan settles for the whole file whether any row needs the (much slower)
    # per-row check.  translate() runs at memory speed; a regex does not.
    if len(chunk.translate(None, _CONTROL_BYTES)) != len(chunk):
        return True
    # isascii() runs at memory speed; the two substring searches do not.
    return not chunk.isascii() and any(n in chunk for n in _NONCHARACTERS)


@dataclass
class _Scan:
    """One pass over the bytes: valid UTF-8?, any control byte?, and the longest line.

    The longest line is found without splitting the text: a line of 2 MiB or
    more holds a whole aligned 1 MiB block without a line break, and only
    such blocks are measured exactly (``bytes.count``/``find`` run at memory
    speed).  Lines under 2 MiB are not measured: DuckDB reads them as they are.
    """

    utf8: bool = True
    control: bool = False
    seen: int = 0  # bytes fed so far
    current: int = 0  # bytes of the line not yet ended
    longest: int = 0  # the longest line of 2 MiB or more (0: none)
    # (line, bytes) of the first line over MAX_LINE_BYTES; the scan keeps where it starts, and
    # _scan_file counts the line breaks before it only then (counting every chunk's cost a tenth of a second per 100 MB).
    too_long: tuple[int, int] | None = None
    _tail: bytes = b""

    def feed(self, chunk: bytes) -> None:
        # A control byte is one byte, so the chunk alone settles it; only a noncharacter (three
        # bytes) can straddle two chunks, and the seam's four bytes settle that without copying the chunk.
        self.control = self.control or _has_control(chunk) or _has_control(self._tail + chunk[:2])
        self._tail = chunk[-2:]
        first = chunk.find(b"\n")
        if first < 0:
            self.current += len(chunk)
            self.seen += len(chunk)
            if self.current > MAX_LINE_BYTES and self.too_long is None:
                self.too_long = (self.seen - self.current, self.current)
            return
        self._line(self.current + first, self.seen - self.current)
        last = chunk.rfind(b"\n")
        block = first + 1
        while block + _BLOCK <= last:
            if chunk.find(b"\n", block, block + _BLOCK) >= 0:  # find stops at the first break
                block += _BLOCK
                continue
            start = chunk.rfind(b"\n", 0, block)
            end = chunk.find(b"\n", block)
            self._line(end - start - 1, self.seen + start + 1)
            block = end + 1
        self.current = len(chunk) - last - 1
        self.seen += len(chunk)

    def finish(self) -> None:
        if self.current:
            self._line(self.current, self.seen - self.current)

    def _line(self, length: int, start: int) -> None:
        if length >= _DUCKDB_LINE:
            self.longest = max(self.longest, length)
        if length > MAX_LINE_BYTES and self.too_long is None:
            self.too_long = (start, length)


def _scan_file(path: Path, *, check_utf8: bool = False) -> _Scan:
    """Scan the file in 8 MiB chunks (memory stays bounded whatever its lines)."""
    scan = _Scan()
    decoder = codecs.getincrementaldecoder("utf-8")() if check_utf8 else None
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            scan.feed(chunk)
            # ASCII is UTF-8: isascii() runs at memory speed, the decoder builds a string of the chunk.
            if decoder is not None and scan.utf8 and not (chunk.isascii() and not decoder.getstate()[0]):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    scan.utf8 = False
                    return scan  # not UTF-8: the caller transcodes and scans the result
    if decoder is not None and scan.utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            scan.utf8 = False
    scan.finish()
    if scan.too_long is not None:
        start, length = scan.too_long
        scan.too_long = (_line_at(path, start), length)
    return scan


def _line_at(path: Path, offset: int) -> int:
    """The line (1-based) that begins at byte ``offset`` of the file."""
    breaks = 0
    with path.open("rb") as fh:
        while offset > 0 and (chunk := fh.read(min(_CHUNK, offset))):
            breaks += chunk.count(b"\n")
            offset -= len(chunk)
    return breaks + 1


def _check_long_lines(scan: _Scan, display_name: str) -> int:
    """Refuse a line no reader can hold; return the longest line DuckDB must be told about (0: none)."""
    if scan.too_long is not None:
        line, length = scan.too_long
        del length
        msg = (
            f"{display_name}, line {line}: the line is longer than {MAX_LINE_BYTES >> 20} MiB, the most a line "
            "may have; refused before reading it"
        )
        raise IngestError(msg, hint="check that the file is a table with one record per line")
    return scan.longest


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


def _preamble(lines: list[str], delimiter: str | None) -> int:
    """How many lines above the header are not part of the table: 0 for most files.

    Report exports (ServiceNow, SAP list output, a spreadsheet saved as CSV) often open with a title,
    a date or a blank line.  Read as the header, such a line makes a one-column table whose only column
    is the title.  So when the first line does not head a regular table, but a line further down does
    (at least 2 rows below it, 9 in 10 of them as wide, at least 2 fields), and every line above that
    one is at most half as wide (a title, not a header short of a trailing delimiter), those lines are
    skipped.  The table is read by records, not lines: a quoted field may hold a line break (a comment
    column), and its pieces are no rows of their own.
    """
    sample = lines[: _PREAMBLE_MAX + 200]
    found = []
    for delim in (delimiter,) if delimiter else _DELIMITERS:
        if _regular_from(_record_widths(sample, 0, delim), 0):
            return 0
        widths = _line_widths(sample[:_PREAMBLE_MAX], delim)
        for k in range(1, min(_PREAMBLE_MAX, len(sample) - 1) + 1):
            records = _record_widths(sample, k, delim)
            if _regular_from(records, 0) and all(w <= max(1, records[0] // 2) for w in widths[:k]):
                found.append(k)
                break
    return min(found, default=0)


def _line_widths(lines: list[str], delim: str) -> list[int]:
    """Fields per line, each line read alone (a blank line has none)."""
    return [len(next(csv.reader([line], delimiter=delim, quotechar='"'), [])) for line in lines]


def _record_widths(lines: list[str], start: int, delim: str) -> list[int]:
    """Fields per record of the lines from ``start`` on, a quoted line break inside its record; the
    records before a quote the sample leaves open (its last line may be cut short)."""
    widths: list[int] = []
    # The lines as they were split (old Mac files end them with a lone CR), a record read across them;
    # a quote after the spaces that pad a field still opens it (" "multi-line note" ").
    reader = csv.reader(lines[start:], delimiter=delim, quotechar='"', skipinitialspace=True)
    with contextlib.suppress(csv.Error):
        widths.extend(len(record) for record in reader)
    return widths


def _regular_from(widths: list[int], k: int) -> bool:
    """Whether the lines from ``k`` are a table headed by line ``k``: enough rows, nearly all as wide."""
    if len(widths) <= k:
        return False
    head, rows = widths[k], [w for w in widths[k + 1 :] if w]
    if head < 2 or len(rows) < _PREAMBLE_ROWS:
        return False
    return sum(1 for w in rows if w == head) >= 0.9 * len(rows)


def _sniff_delimiter(lines: list[str]) -> str:
    sample = "".join(lines[:200])
    best, best_score = ",", -1.0
    for delim in _DELIMITERS:
        try:
            counts = [len(r) for r in csv.reader(io.StringIO(sample), delimiter=delim, quotechar='"') if r]
        except csv.Error:
            continue  # this delimiter does not split the sample cleanly
        if not counts or max(counts) < 2:
            continue
        header = counts[0]
        consistent = sum(1 for c in counts if c == header) / len(counts)
        score = consistent * 1000 + header
        if header >= 2 and score > best_score:
            best, best_score = delim, score
    return best
