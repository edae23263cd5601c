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
import shutil
import tempfile
import zipfile
import zlib
from pathlib import Path

from mining.errors import EmptyLog, IngestError, UnknownFormat, UnsafeInput

__all__ = [
    "DEFAULT_MAX_DECOMPRESSED_BYTES",
    "FORMATS",
    "MAX_DECOMPRESSED_BYTES_ENV",
    "check_zip_expansion",
    "decompress_if_gzip",
    "detect_format",
    "max_decompressed_bytes",
    "refuse_doctype",
    "sha256_file",
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
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old binary .xls (and .doc, .msg)

_SUFFIX_FORMATS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xes": "xes",
}
_SUPPORTED = ".csv, .tsv, .txt (CSV), .xlsx (Excel), .parquet/.pq (Parquet) and .xes (XES), each optionally .gz-compressed"
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
        raise UnknownFormat(
            f"{name}: this is an old binary Excel workbook (.xls), which is not supported; "
            f"supported formats are {_SUPPORTED}",
            hint=_XLS_HINT,
        )
    if head.startswith(_PARQUET_MAGIC):
        return "parquet"
    if head.startswith(_ZIP_MAGIC):
        if gzipped or _is_xlsx_zip(path):
            return "xlsx"
        raise UnknownFormat(
            f"{name}: this is a ZIP archive but not an Excel .xlsx workbook; "
            f"unzip it and upload the export inside (supported formats are {_SUPPORTED})"
        )
    if _looks_like_xml(head):
        return "xes"
    if not head:
        if by_suffix == "csv":
            return "csv"  # the CSV reader says "file is empty" with its own context
        raise EmptyLog(f"{name}: the file is empty (0 bytes{' after decompression' if gzipped else ''})")
    if suffix == ".xls":
        raise UnknownFormat(
            f"{name}: .xls files are not supported (this one holds text, perhaps a tab-separated or HTML "
            "export, not an Excel workbook); "
            f"supported formats are {_SUPPORTED}",
            hint=_XLS_HINT,
        )
    if by_suffix == "csv":
        return "csv"
    if by_suffix is not None:
        expected = {
            "xlsx": "an Excel workbook (a ZIP starting with 'PK')",
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


def _is_xlsx_zip(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
    except (zipfile.BadZipFile, OSError):
        return True  # a damaged workbook: let the Excel reader report it
    return any(n.startswith("xl/") for n in names) or "[Content_Types].xml" in names


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
