"""Opening uploaded files safely: content hash, format detection, gunzip with caps, DOCTYPE refusal.

Nothing here parses event data.  These helpers run before any reader so that a
renamed file is read by the right reader, a decompression bomb is refused
before it fills the disk, and XML with a DTD never reaches a parser::

    path = decompress_if_gzip(upload, workdir)      # UnsafeInput on a bomb
    kind = detect_format(path)                      # "csv" | "xlsx" | "parquet" | "xes"
    if kind == "xes":
        refuse_doctype(path, display_name=name)    # UnsafeInput on <!DOCTYPE / <!ENTITY
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import shutil
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import Any

from mining.errors import EmptyLog, IngestError, UnknownFormat, UnsafeInput

__all__ = [
    "DEFAULT_MAX_DECOMPRESSED_BYTES",
    "FORMATS",
    "MAX_DECOMPRESSED_BYTES_ENV",
    "binary_kind",
    "check_zip_expansion",
    "decompress_if_gzip",
    "detect_format",
    "is_workbook_zip",
    "max_decompressed_bytes",
    "refuse_doctype",
    "safe_iterparse",
    "safe_parse",
    "sha256_file",
    "workbook_kind",
    "xml_root",
]

#: The values ``detect_format`` returns.
FORMATS = ("csv", "xlsx", "parquet", "xes")

MAX_DECOMPRESSED_BYTES_ENV = "MINING_MAX_DECOMPRESSED_BYTES"
DEFAULT_MAX_DECOMPRESSED_BYTES = 16 * 1024**3

_CHUNK = 1024 * 1024
#: The ratio cap only applies once this much has been written: tiny files can
#: legitimately compress far better than 200x (a header and a few repeated rows).
_RATIO_GRACE_BYTES = 64 * 1024 * 1024
_PROLOG_LIMIT = 1024 * 1024
_SNIFF_BYTES = 4096

_GZIP_MAGIC = b"\x1f\x8b"
_PARQUET_MAGIC = b"PAR1"
_ZIP_MAGIC = b"PK\x03\x04"
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old binary .xls (and .doc, .msg)
#: Stream names of an OLE2 compound file (UTF-16 in its directory) and what the file then is.
_OLE2_STREAMS = (
    ("Workbook", None),  # Excel 97-2003 (BIFF8)
    ("Book", None),  # Excel 5.0/95 (BIFF5)
    ("EncryptedPackage", "a password-protected Excel or Office file"),
    ("WordDocument", "a Word document (.doc)"),
    ("PowerPoint Document", "a PowerPoint presentation (.ppt)"),
    ("__substg1.0_", "an Outlook message (.msg)"),
)

_SUFFIX_FORMATS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".xls": "xlsx",
    ".ods": "xlsx",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xes": "xes",
    ".mxml": "xes",
}
_SUPPORTED = (
    ".csv, .tsv, .txt (CSV), .xlsx/.xls (Excel), .ods (OpenDocument), .parquet/.pq (Parquet) and .xes (XES), "
    "each optionally "
    ".gz-compressed"
)
_XLS_HINT = (
    "Open it in Excel or LibreOffice and save it as .xlsx (Excel workbook) or CSV, then upload that file."
)

# Byte-order marks, longest first (the UTF-32 LE mark starts with the UTF-16 LE one).
_BOMS = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
)


def sha256_file(path: Path) -> str:
    """Return the hex SHA-256 of the file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def detect_format(path: Path, *, display_name: str | None = None) -> str:
    """Return ``"csv"``, ``"xlsx"``, ``"parquet"`` or ``"xes"`` for ``path``.

    The suffix (a trailing ``.gz`` ignored) gives a first answer; the content,
    decompressed if it is gzip, confirms or overrides it: ``PAR1`` is Parquet,
    a ZIP holding ``xl/`` is an Excel workbook, text starting with ``<?xml`` or
    ``<log`` is XES.  A binary format named by the suffix but absent from the
    content, or an unknown suffix with no recognisable content, raises
    :class:`UnknownFormat`; old binary ``.xls`` workbooks are refused with a hint.
    """
    path = Path(path)
    name = display_name or path.name
    suffix = _format_suffix(path)
    by_suffix = _SUFFIX_FORMATS.get(suffix)
    head, gzipped = _sniff(path, name)

    if head.startswith(_OLE2_MAGIC):
        return _ole2_format(path, name)
    if head.startswith(_PARQUET_MAGIC):
        return "parquet"
    if head.startswith(_ZIP_MAGIC):
        if gzipped or is_workbook_zip(path):
            return "xlsx"
        raise UnknownFormat(
            f"{name}: this is a ZIP archive but not an Excel .xlsx or OpenDocument .ods workbook; "
            f"unzip it and upload the export inside (supported formats are {_SUPPORTED})"
        )
    markup = _markup_kind(head)
    if markup is not None:
        return "xlsx"  # a table written as HTML or as Excel 2003 XML: read as a workbook's sheets
    if _looks_like_xml(head):
        return "xes"
    kind = binary_kind(head)
    if kind is not None:
        raise UnknownFormat(
            f"{name} is not a text table: it is {kind}" + (", whatever its name says" if by_suffix else ""),
            hint=f"export the event data as CSV, Excel .xlsx, Parquet or XES; supported formats are {_SUPPORTED}",
        )
    if not head:
        if by_suffix == "csv":
            return "csv"  # the CSV reader says "file is empty" with its own context
        raise EmptyLog(f"{name}: the file is empty (0 bytes{' after decompression' if gzipped else ''})")
    if suffix == ".xls" and _decode_head(head).lstrip().lower().startswith("mime-version:"):
        raise UnknownFormat(
            f"{name}: this is a web archive (MHTML, Excel's 'Single File Web Page'), not a table this "
            f"reader can open; supported formats are {_SUPPORTED}",
            hint=_XLS_HINT,
        )
    if by_suffix == "csv" or suffix == ".xls":
        # Text named .xls is a delimited export: SAP GUI's "Spreadsheet" download writes tab-separated
        # text under that name, and so do many reporting tools.
        return "csv"
    if by_suffix is not None:
        expected = {
            "xlsx": "an Excel workbook (a ZIP starting with 'PK', or an old binary .xls)",
            "parquet": "a Parquet file (starting with 'PAR1')",
            "xes": "XES (XML starting with '<?xml' or '<log')",
        }[by_suffix]
        raise UnknownFormat(
            f"{name}: the name ends in {suffix} but the content is not {expected}; "
            f"supported formats are {_SUPPORTED}",
            hint="If this is really a CSV export, rename it to .csv.",
        )
    shown = suffix or "no suffix"
    raise UnknownFormat(f"{name}: unknown file type ({shown}); supported formats are {_SUPPORTED}")


def workbook_kind(path: Path) -> str:
    """Which kind of spreadsheet a file :func:`detect_format` calls ``"xlsx"`` is (not gzipped):
    ``"xlsx"``, ``"xlsb"`` (Excel's binary workbook), ``"ods"`` (OpenDocument, LibreOffice's), ``"xls"``
    (binary, Excel 5 to 2003), ``"html"`` or ``"spreadsheetml"``."""
    with open(path, "rb") as f:
        head = f.read(_SNIFF_BYTES)
    if head.startswith(_OLE2_MAGIC):
        return "xls"
    if head.startswith(_ZIP_MAGIC):
        return _zip_workbook(path) or "xlsx"
    return _markup_kind(head) or "xlsx"


def xml_root(path: Path, file: str) -> str | None:
    """The root element's name (without namespace) of an XML file, gzipped or not; None for a file that is
    no XML, or an HTML page or Excel 2003 XML (read as a workbook).  Without an ``<?xml`` declaration
    only a file named ``.xml`` counts: a text table may start with ``<``."""
    head, _ = _sniff(path, file)
    if _markup_kind(head) is not None:
        return None
    text = re.sub(r"<!--.*?-->", "", _decode_head(head), flags=re.DOTALL).lstrip(" \t\r\n")
    suffix = _format_suffix(Path(file))
    if not (text.startswith("<?xml") or (suffix == ".xml" and re.match(r"<[A-Za-z_]", text))):
        return None
    found = re.search(r"<(?![?!])([^\s/>]+)", text)
    return found.group(1).rsplit(":", 1)[-1] if found else None


def _ole2_format(path: Path, name: str) -> str:
    """``"xlsx"`` for an old binary Excel workbook (Excel 5 to 2003); otherwise the refusal that names
    what the OLE2 compound file holds instead (a Word document, a password-protected workbook, ...)."""
    if _ole2_first_entries(path) & {"Workbook", "Book"}:
        return "xlsx"  # the common case, from the directory's first sector: no scan of the file
    found = _ole2_streams(path)
    if "Workbook" in found or "Book" in found:
        return "xlsx"
    kind = next((k for stream, k in _OLE2_STREAMS if stream in found and k is not None), None)
    if kind == "a password-protected Excel or Office file":
        raise IngestError(
            f"{name}: this is {kind}; expected an unprotected workbook",
            hint="Save a copy without a password, or export the sheet as CSV.",
        )
    what = kind or "an old Office (OLE2) file that holds no Excel workbook"
    raise UnknownFormat(
        f"{name} is not a table: it is {what}; supported formats are {_SUPPORTED}",
        hint="export the event data from its system as CSV, Excel .xlsx, Parquet or XES",
    )


def _ole2_first_entries(path: Path) -> set[str]:
    """The stream names in the first sector of an OLE2 file's directory (where Excel, and every writer
    tried, puts the workbook's stream); empty when the header points nowhere readable."""
    with open(path, "rb") as f:
        header = f.read(512)
        if len(header) < 512:
            return set()
        shift = int.from_bytes(header[30:32], "little")
        first = int.from_bytes(header[48:52], "little")
        if shift not in (9, 12) or first >= 0xFFFFFFFA:
            return set()
        f.seek((first + 1) << shift)
        sector = f.read(1 << shift)
    names = set()
    for at in range(0, len(sector) - 127, 128):
        size = int.from_bytes(sector[at + 64 : at + 66], "little")
        if 2 <= size <= 64:
            names.add(sector[at : at + size - 2].decode("utf-16-le", errors="replace"))
    return names


def _ole2_streams(path: Path) -> set[str]:
    """The known stream names in an OLE2 file.  Its directory can lie anywhere in the file; the names are
    UTF-16 there, at the start of a 128-byte entry, so a plain scan finds them (a cell's text that happens
    to spell one, in UTF-16, could too, but in a file that has none of its own)."""
    found: set[str] = set()
    tail = b""
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            data = tail + chunk
            for stream, _ in _OLE2_STREAMS:
                if stream.encode("utf-16-le") + (b"" if stream.endswith("_") else b"\x00\x00") in data:
                    found.add(stream)
            tail = data[-64:]
    return found


def _markup_kind(head: bytes) -> str | None:
    """``"html"`` for a web page (a report or an "Excel" download written as an HTML table),
    ``"spreadsheetml"`` for Excel 2003 XML (``<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">``);
    None for anything else."""
    text = _decode_head(head).lstrip(" \t\r\n").lower()
    if text.startswith(("<!doctype html", "<html", "<table")):
        return "html"
    if not text.startswith("<?xml"):
        return None
    if "urn:schemas-microsoft-com:office:spreadsheet" in text and "<workbook" in text:
        return "spreadsheetml"
    if re.search(r"<(?:!doctype\s+)?html\b", text):
        return "html"
    return None


#: Leading bytes of formats that are never an event table, and how to name them.
_BINARY_MAGIC = (
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"BM", None),  # a bitmap only with its header's size field: checked below
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"BZh", None),  # bzip2 only with its block magic: checked below
    (b"\xfd7zXZ\x00", "an XZ archive"),
    (b"\x28\xb5\x2f\xfd", "a Zstandard archive"),
    (b"\x7fELF", "a program (ELF executable)"),
    (b"MZ", None),  # a Windows program only with its PE header: checked below
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\x00\x00\x00\x0cjP  ", "a JPEG 2000 image"),
    (b"OggS", "an Ogg audio or video file"),
    (b"ID3", "an MP3 audio file"),
    (b"fLaC", "a FLAC audio file"),
    (b"\x1aE\xdf\xa3", "a Matroska/WebM video"),
    (b"wOFF", "a web font"),
    (b"\xca\xfe\xba\xbe", "a Java class or macOS program"),
    (b"ARROW1", "an Arrow IPC file"),
    (b"Obj\x01", "an Avro file"),
    (b"ORC", "an ORC file"),
)


def binary_kind(head: bytes) -> str | None:
    """What a file that is certainly not text is (``"a PDF document"``), from its first bytes; None otherwise.

    Known magic numbers name the kind; other content counts as binary when it
    holds bytes no text encoding writes (NUL, most control bytes) in a
    pattern that is not UTF-16 or UTF-32 text.  Gzip, ZIP, Parquet and old
    Excel files are not reported here: they have readers or their own message.
    """
    for magic, kind in _BINARY_MAGIC:
        if not head.startswith(magic):
            continue
        if kind is not None:
            return kind
        if magic == b"BM" and len(head) >= 14 and head[6:10] == b"\x00\x00\x00\x00":
            return "a BMP image"
        if magic == b"BZh" and head[3:4].isdigit() and head[4:10] == b"1AY&SY":
            return "a bzip2 archive"
        if magic == b"MZ" and b"This program cannot be run in DOS mode" in head[:512]:
            return "a Windows program"
    if head[4:12] in (b"ftypisom", b"ftypmp42", b"ftypqt  ", b"ftypM4A ", b"ftypheic", b"ftypavif"):
        return "an MP4/QuickTime video, audio or HEIC/AVIF image"
    if head.startswith(b"RIFF") and head[8:12] in (b"WEBP", b"WAVE", b"AVI "):
        return {b"WEBP": "a WebP image", b"WAVE": "a WAV audio file", b"AVI ": "an AVI video"}[head[8:12]]
    if len(head) >= 257 + 5 and head[257:262] == b"ustar":
        return "a tar archive"
    if _looks_binary(head):
        return "binary data (not text in any encoding)"
    return None


_TEXT_CONTROLS = frozenset(b"\t\n\r\x0c\x1a\x1b")


def _looks_binary(head: bytes) -> bool:
    """Bytes no text table holds: NULs outside a UTF-16/32 pattern, or many other control bytes."""
    sample = head[:_SNIFF_BYTES]
    if not sample:
        return False
    for bom, _ in _BOMS:
        if sample.startswith(bom):
            return False
    nul = sample.count(0)
    # A stray NUL in a cell rejects its row; a binary file is full of them.
    if nul >= 16 and nul > 0.01 * len(sample):
        # UTF-16/32 text without a BOM: the NULs sit at fixed positions of each unit.
        width = 4 if sample[:2] == b"\x00\x00" or sample[2:4] == b"\x00\x00" else 2
        at = [sample[i::width].count(0) for i in range(width)]
        units = max(1, len(sample) // width)
        zero_lanes = sum(1 for n in at if n > 0.6 * units)
        clean_lanes = sum(1 for n in at if n < 0.05 * units)
        return not (zero_lanes >= 1 and zero_lanes + clean_lanes == width)
    controls = sum(1 for b in sample if b < 0x20 and b not in _TEXT_CONTROLS)
    return controls > 0.05 * len(sample)


def decompress_if_gzip(
    path: Path,
    workdir: Path,
    *,
    max_bytes: int | None = None,
    max_ratio: float = 200.0,
    display_name: str | None = None,
) -> Path:
    """Gunzip ``path`` into a new file under ``workdir`` if it is gzip; otherwise return ``path``.

    The output keeps the name without ``.gz`` (``log.xes.gz`` → ``log.xes``) so
    the suffix still tells the format.  Decompression is streamed in 1 MiB
    chunks.  More than ``max_bytes`` of output (default: the environment
    variable ``MINING_MAX_DECOMPRESSED_BYTES``, else 16 GiB), or, past the first
    64 MiB, more than ``max_ratio`` output bytes per compressed byte read,
    raises :class:`UnsafeInput` and removes the partial output.  A truncated
    or corrupt stream raises :class:`IngestError`.
    """
    path = Path(path)
    name = display_name or path.name
    with open(path, "rb") as f:
        if f.read(2) != _GZIP_MAGIC:
            return path
    limit = max_decompressed_bytes() if max_bytes is None else max_bytes

    out_name = path.name[:-3] if path.name.lower().endswith(".gz") else path.name
    out_dir = Path(tempfile.mkdtemp(prefix="gunzip-", dir=workdir))
    out_path = out_dir / (out_name or "decompressed")
    ok = False
    try:
        _gunzip(path, out_path, name=name, limit=limit, max_ratio=max_ratio)
        ok = True
    finally:
        if not ok:
            shutil.rmtree(out_dir, ignore_errors=True)
    return out_path


def refuse_doctype(path: Path, *, display_name: str) -> None:
    """Raise :class:`UnsafeInput` if the XML prolog of ``path`` declares a DOCTYPE or an ENTITY.

    Only the prolog is scanned: the bytes before the first element start tag,
    at most the first 1 MiB.  UTF-8 (with or without BOM), UTF-16 and UTF-32
    are recognised by their byte-order marks or by the ``<`` of the first tag.
    A prolog longer than 1 MiB is refused as well, so a DOCTYPE cannot hide
    behind a long comment, and text that is not markup before the first
    element (for example UTF-7, which spells ``<`` as ``+ADw-``) raises
    :class:`IngestError`.
    """
    with open(path, "rb") as f:
        raw = f.read(_PROLOG_LIMIT)
    text = _decode_head(raw)
    pos = 0
    end = len(text)
    while True:
        while pos < end and text[pos] in " \t\r\n":
            pos += 1
        if pos >= end:
            if len(raw) < _PROLOG_LIMIT:
                return  # no element at all: the parser reports that
            raise UnsafeInput(
                f"{display_name}: the XML prolog (before the first element) is longer than 1 MiB; "
                "refused because it could hide a DOCTYPE declaration"
            )
        if text.startswith("<?", pos):
            close = text.find("?>", pos + 2)
            if close < 0:
                pos = end
                continue
            pos = close + 2
        elif text.startswith("<!--", pos):
            close = text.find("-->", pos + 4)
            if close < 0:
                pos = end
                continue
            pos = close + 3
        elif text.startswith("<!", pos):
            word = text[pos + 2 : pos + 9].upper()
            what = "an ENTITY" if word.startswith("ENTITY") else "a DOCTYPE"
            raise UnsafeInput(
                f"{display_name}: contains {what} declaration; XML with DOCTYPE is refused "
                "because it can expand entities or read files",
                hint="Export the file again without a DTD, or remove the <!DOCTYPE …> block at the top.",
            )
        elif text.startswith("<", pos) and pos + 1 < end and _starts_name(text[pos + 1]):
            return  # the first element: the prolog is clean
        else:
            found = text[pos : pos + 20]
            raise IngestError(
                f"{display_name}: does not start like XML; expected '<?xml' or an element after the prolog, "
                f"found {found!r}"
            )


def safe_iterparse(path: Path, *, tag: tuple[str, ...]) -> Any:
    """lxml's ``iterparse`` over ``path``, reporting the end of each ``tag`` element, with nothing
    resolved or fetched: no entities, no DTD, no network, no huge-tree mode.  Call
    :func:`refuse_doctype` first; every XML reader (XES, MXML, OCEL, Excel 2003 XML, XML records)
    shares these settings, so a safety fix reaches them all."""
    from lxml import etree

    return etree.iterparse(str(path), events=("end",), tag=tag, remove_blank_text=True, **_SAFE_XML)


def safe_parse(path: Path) -> Any:
    """lxml's ``parse`` of the whole file at ``path`` with :func:`safe_iterparse`'s settings (its root)."""
    from lxml import etree

    return etree.parse(str(path), etree.XMLParser(**_SAFE_XML)).getroot()


_SAFE_XML: dict[str, bool] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
}


def check_zip_expansion(
    path: Path, *, display_name: str, max_bytes: int | None = None, max_ratio: float = 200.0
) -> None:
    """Refuse a ZIP container (an .xlsx) whose members declare a bomb-like expansion.

    The sizes come from the ZIP directory, so this is a cheap first check, not
    a guarantee; it catches the ordinary zip bomb before a reader inflates it.
    """
    limit = max_decompressed_bytes() if max_bytes is None else max_bytes
    try:
        with zipfile.ZipFile(path) as z:
            members = z.infolist()
    except (zipfile.BadZipFile, OSError):
        return  # not a readable ZIP: the reader reports it with its own words
    total = sum(m.file_size for m in members)
    if total > limit:
        raise UnsafeInput(
            f"{display_name}: the workbook's parts add up to {total:,} bytes when unpacked, more than the "
            f"limit of {limit:,} (set by {MAX_DECOMPRESSED_BYTES_ENV}); refusing a possible decompression bomb"
        )
    for m in members:
        if m.file_size > _RATIO_GRACE_BYTES and m.file_size / max(m.compress_size, 1) > max_ratio:
            raise UnsafeInput(
                f"{display_name}: the part {m.filename!r} expands more than {max_ratio:g}× "  # noqa: RUF001
                f"({m.compress_size:,} → {m.file_size:,} bytes) — refusing a possible decompression bomb"
            )


# --------------------------------------------------------------------------- helpers


def _format_suffix(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def _sniff(path: Path, name: str) -> tuple[bytes, bool]:
    """The first few KiB of the content (decompressed if gzip) and whether it was gzip."""
    with open(path, "rb") as f:
        head = f.read(_SNIFF_BYTES)
    if not head.startswith(_GZIP_MAGIC):
        return head, False
    try:
        with gzip.open(path, "rb") as g:
            return g.read(_SNIFF_BYTES), True
    except (EOFError, OSError, zlib.error) as exc:
        raise IngestError(f"{name}: the gzip data is truncated or corrupt ({exc})") from None


def is_workbook_zip(path: Path) -> bool:
    """Whether a ZIP is a spreadsheet (an .xlsx, or an OpenDocument .ods) rather than an archive of
    exports; a damaged ZIP counts as a workbook, so that the workbook reader reports it."""
    return _zip_workbook(path) is not None


def _zip_workbook(path: Path) -> str | None:
    """``"xlsx"``, ``"xlsb"`` (Excel's binary workbook), ``"ods"`` or None (an archive of other files)
    for a ZIP."""
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            small = "mimetype" in names and z.getinfo("mimetype").file_size < 256
            if small and z.read("mimetype").startswith(_ODS_MIMETYPE):
                return "ods"
    except (zipfile.BadZipFile, OSError, KeyError, zlib.error, EOFError):
        return "xlsx"  # a damaged workbook: let the Excel reader report it
    if "xl/workbook.bin" in names:
        return "xlsb"
    return "xlsx" if any(n.startswith("xl/") for n in names) or "[Content_Types].xml" in names else None


def _decode_head(raw: bytes) -> str:
    """Decode the first bytes of an XML file just well enough to read its markup."""
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            return _decode(raw[len(bom) :], encoding)
    if raw.startswith(b"\x00\x00\x00<"):
        return _decode(raw, "utf-32-be")
    if raw.startswith(b"<\x00\x00\x00"):
        return _decode(raw, "utf-32-le")
    if raw.startswith(b"\x00<"):
        return _decode(raw, "utf-16-be")
    if raw.startswith(b"<\x00"):
        return _decode(raw, "utf-16-le")
    # UTF-8 and every ASCII-compatible legacy encoding keep markup bytes as ASCII.
    return raw.decode("latin-1")


def _decode(raw: bytes, encoding: str) -> str:
    width = 4 if "32" in encoding else 2 if "16" in encoding else 1
    raw = raw[: len(raw) - len(raw) % width]
    return raw.decode(encoding, errors="replace")


def _starts_name(char: str) -> bool:
    return char.isalpha() or char in "_:" or ord(char) > 0x7F


def _looks_like_xml(head: bytes) -> bool:
    text = _decode_head(head).lstrip(" \t\r\n")
    return text.startswith(("<?xml", "<log"))


def max_decompressed_bytes() -> int:
    """The byte cap for decompressed data: ``MINING_MAX_DECOMPRESSED_BYTES`` if set, else 16 GiB."""
    raw = os.environ.get(MAX_DECOMPRESSED_BYTES_ENV)
    if raw is None or not raw.strip():
        return DEFAULT_MAX_DECOMPRESSED_BYTES
    try:
        value = int(raw.strip())
    except ValueError:
        value = -1
    if value <= 0:
        raise IngestError(
            f"the setting {MAX_DECOMPRESSED_BYTES_ENV}={raw!r} is not a positive whole number of bytes"
        )
    return value


def _gunzip(src: Path, dest: Path, *, name: str, limit: int, max_ratio: float) -> None:
    written = 0
    with open(src, "rb") as raw, gzip.GzipFile(fileobj=raw, mode="rb") as gz, open(dest, "wb") as out:
        while True:
            try:
                chunk = gz.read(_CHUNK)
            except (EOFError, OSError, zlib.error) as exc:
                raise IngestError(
                    f"{name}: the gzip data is truncated or corrupt after {written:,} decompressed bytes ({exc}); "
                    "expected a complete .gz file"
                ) from None
            if not chunk:
                return
            written += len(chunk)
            if written > limit:
                raise UnsafeInput(
                    f"{name}: decompresses to more than {limit:,} bytes (the limit set by "
                    f"{MAX_DECOMPRESSED_BYTES_ENV}); refusing a possible decompression bomb"
                )
            consumed = max(raw.tell(), 1)
            if written > _RATIO_GRACE_BYTES and written / consumed > max_ratio:
                raise UnsafeInput(
                    f"{name}: expands more than {max_ratio:g}× (over {written:,} bytes from {consumed:,} "  # noqa: RUF001
                    "compressed bytes) — refusing a possible decompression bomb"
                )
            out.write(chunk)
