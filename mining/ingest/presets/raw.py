"""Reading a business system's export into a :class:`~mining.ingest.presets.base.RawExport`.

An export is one file or several:

* one table: CSV/TSV/TXT, XLSX or Parquet, read by the ordinary readers
  (encodings, delimiters, gzip caps) into the staging table, then handed
  over as a polars frame of text (:func:`~mining.ingest.staging.frame_from_stage`);
* one JSON document: ``.json``, ``.jsonl``/``.ndjson`` (JSON Lines: a list of
  the lines' values), either optionally ``.gz``; kept parsed;
* several tables: a folder, or a ``.zip``, of such files (SAP ``CDHDR.csv`` +
  ``CDPOS.csv``, ServiceNow ``sys_audit.csv`` + ``incident.csv``), keyed by
  the lower-cased file stem.  A folder's symbolic links that lead out of it
  are refused.

A zip is unpacked under the ingest's temporary folder after its directory is
checked: members with absolute paths, ``..`` or symlinks are refused, and so
is more than ``MINING_MAX_DECOMPRESSED_BYTES`` in all, or (past 64 MiB) a
member that expands more than 200 times, as for gzip in
:mod:`mining.ingest.sources`.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from mining.errors import BadEncoding, EmptyLog, IngestError, UnsafeInput

if TYPE_CHECKING:
    import polars as pl

    from mining.ingest.presets.base import RawExport
    from mining.store import Store

__all__ = ["JSON_SUFFIXES", "content_hash", "export_kind", "export_members", "read_export", "read_json"]

JSON_SUFFIXES = (".json", ".jsonl", ".ndjson", ".jsonocel")
TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".parquet", ".pq")

_ZIP_MAGIC = b"PK\x03\x04"
_MAX_RATIO = 200.0
_RATIO_GRACE_BYTES = 64 * 1024 * 1024
_CHUNK = 1024 * 1024
_SKIPPED_DIRS = ("__MACOSX",)


def _suffix(name: str) -> str:
    """The format suffix of a file name, a trailing ``.gz`` ignored: ``'a.json.gz'`` → ``'.json'``."""
    lower = name.lower()
    if lower.endswith(".gz"):
        lower = lower[:-3]
    dot = lower.rfind(".")
    return lower[dot:] if dot > 0 else ""


def _stem(name: str) -> str:
    """The table key of a file: lower-cased, without folders, ``.gz`` and the format suffix."""
    base = re.split(r"[\\/]", name)[-1].lower()
    if base.endswith(".gz"):
        base = base[:-3]
    dot = base.rfind(".")
    return base[:dot] if dot > 0 else base


def export_kind(path: Path, file: str) -> str | None:
    """``"folder"``, ``"zip"``, ``"json"``, ``"xml"`` (records) or ``"ocel"`` for an export only presets
    read, or read as records; None for the ordinary formats.

    A ZIP that holds an Excel workbook (``xl/``) or an OpenDocument spreadsheet stays an ordinary
    workbook.  ``"ocel"`` is an object-centric log in XML or SQLite, known by its content
    (:func:`mining.ingest.ocel.ocel_file_kind`); OCEL JSON is ``"json"``, and its preset knows it by its
    keys.  ``"xml"`` is any other XML but an XES or MXML log: a list of records.
    """
    from mining.ingest.ocel import ocel_file_kind
    from mining.ingest.sources import is_workbook_zip, xml_root

    if path.is_dir():
        return "folder"
    if _suffix(file) in JSON_SUFFIXES:
        return "json"
    if ocel_file_kind(path) in {"xml", "sqlite"}:
        return "ocel"
    root = xml_root(path, file)
    if root is not None and root not in ("log", "WorkflowLog"):
        return "xml"  # records, not an XES log (whose root is <log>) nor an MXML one
    with path.open("rb") as fh:
        head = fh.read(4)
    if head == _ZIP_MAGIC and not is_workbook_zip(path):
        return "zip"
    return None


def export_members(folder: Path) -> list[Path]:
    """The files of a folder export, sorted by name: top level only, hidden files left out.

    A symbolic link whose target lies outside the folder is refused before
    anything reads it: an export is what is in its folder, and an error
    quoting a header must never quote a file from elsewhere.
    """
    root = folder.resolve()
    members = []
    for p in sorted(folder.iterdir()):
        if p.name.startswith("."):
            continue
        if p.is_symlink():
            target = p.resolve()
            if not target.is_relative_to(root):
                msg = (
                    f"{folder.name}/{p.name} is a link to a file outside the export folder; "
                    "refused, so that no file outside the export is read"
                )
                raise UnsafeInput(msg, hint="copy the file itself into the folder, or remove the link")
        if p.is_file():
            members.append(p)
    return members


def content_hash(path: Path) -> str:
    """SHA-256 of a file, or of a folder's files (their sorted names and hashes), for the idempotent re-ingest."""
    from mining.ingest.sources import sha256_file

    if not path.is_dir():
        return sha256_file(path)
    digest = hashlib.sha256()
    for member in export_members(path):
        digest.update(f"{member.name}\0{sha256_file(member)}\n".encode())
    return digest.hexdigest()


def read_export(
    store: Store,
    path: Path,
    workdir: Path,
    *,
    file: str,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
) -> RawExport:
    """Read any export into a RawExport: a folder, a zip, a JSON document, or one table (key ``"main"``).

    Every table must read whole: a ragged line is an error naming the file
    and row, because a preset joins tables by their keys and a lost row
    would silently lose events.  (``ingest_file`` stages a single table
    itself and converts it only when a preset takes it.)
    """
    from mining.ingest.presets.base import RawExport

    kind = export_kind(path, file)
    if kind == "json":
        return RawExport(
            file=file, documents={"main": read_json(path, workdir, file=file)}, sources={"main": file}
        )
    if kind == "xml":
        from mining.ingest.xmlrecords import read_xml_records

        return RawExport(
            file=file, documents={"main": read_xml_records(path, workdir, file=file)}, sources={"main": file}
        )
    if kind == "ocel":
        from mining.ingest.ocel import ocel_file_kind, read_ocel_file
        from mining.ingest.sources import decompress_if_gzip

        plain = decompress_if_gzip(path, workdir, display_name=file)
        kind_of = ocel_file_kind(plain)
        log = read_ocel_file(plain, "sqlite" if kind_of == "sqlite" else "xml", file=file)
        return RawExport(file=file, documents={"main": log}, sources={"main": file})
    if kind == "folder":
        members = [(m, f"{file}/{m.name}") for m in export_members(path)]
    elif kind == "zip":
        members = _unzip(path, workdir, file)
    else:
        table = _read_table(
            store, path, workdir, file=file, encoding=encoding, delimiter=delimiter, sheet=sheet
        )
        return RawExport(file=file, tables={"main": table}, sources={"main": file})
    tables: dict[str, pl.DataFrame] = {}
    documents: dict[str, object] = {}
    sources: dict[str, str] = {}
    skipped: list[str] = []
    for member, shown in members:
        suffix = _suffix(member.name)
        if suffix not in JSON_SUFFIXES and suffix not in TABLE_SUFFIXES:
            skipped.append(member.name)
            continue
        key = _stem(member.name)
        if key in sources:
            msg = f"{file}: both {sources[key]!r} and {shown!r} give the table {key!r}; keep one of them"
            raise IngestError(msg)
        sources[key] = shown
        if suffix in JSON_SUFFIXES:
            documents[key] = read_json(member, workdir, file=shown)
        else:
            tables[key] = _read_table(
                store, member, workdir, file=shown, encoding=encoding, delimiter=delimiter, sheet=sheet
            )
    if not sources:
        what = "folder" if kind == "folder" else "archive"
        msg = f"{file}: the {what} holds no CSV, TSV, TXT, XLSX, Parquet or JSON file"
        raise EmptyLog(msg)
    notes = (f"{file}: skipped {', '.join(sorted(skipped))} (not a table or JSON file)",) if skipped else ()
    return RawExport(file=file, tables=tables, documents=documents, sources=sources, notes=notes)


def _read_table(
    store: Store,
    path: Path,
    workdir: Path,
    *,
    file: str,
    encoding: str | None,
    delimiter: str | None,
    sheet: str | None,
) -> pl.DataFrame:
    from mining.ingest.staging import drop_staging, frame_from_stage, stage_file

    try:
        staged = stage_file(
            store, path, workdir, file=file, encoding=encoding, delimiter=delimiter, sheet=sheet
        )
        if staged.rejects:
            first = staged.rejects[0]
            msg = f"{first}; every row of a multi-file export must read, so that no event is lost"
            raise IngestError(msg, hint="fix that line (or export the table again) and retry")
        return frame_from_stage(store, staged.columns)
    finally:
        drop_staging(store)


def read_json(path: Path, workdir: Path, *, file: str) -> object:
    """Parse a JSON (or JSON Lines) file, gunzipped first if needed; syntax errors name the line and column.

    A ``.json`` file that turns out to hold one value per line is read as
    JSON Lines.  JSON is UTF-8 (RFC 8259); a byte-order mark is allowed.
    """
    from mining.errors import BadExport, UnknownFormat
    from mining.ingest.sources import binary_kind, decompress_if_gzip

    plain = decompress_if_gzip(path, workdir, display_name=file)
    data = plain.read_bytes()
    if not data.strip():
        msg = f"{file}: the file is empty; expected a JSON document"
        raise EmptyLog(msg)
    kind = binary_kind(data[:4096])
    if kind is not None:
        # Said as for a file named .csv: what the bytes are, not which byte fails to decode.
        msg = f"{file} is not a JSON document: it is {kind}, whatever its name says"
        raise UnknownFormat(msg, hint="export the event data as JSON, CSV, Excel .xlsx, Parquet or XES")
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        msg = f"{file} line {line}: bytes that are not UTF-8 (at byte {exc.start:,}); JSON exports are UTF-8"
        raise BadEncoding(msg) from None
    if _suffix(file) in {".jsonl", ".ndjson"}:
        return _json_lines(content, file)
    try:
        return json.loads(content)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":
            return _json_lines(content, file)
        msg = f"{file} line {exc.lineno}, column {exc.colno}: invalid JSON: {exc.msg}"
        raise BadExport(msg) from None
    except RecursionError:
        msg = f"{file}: the JSON is nested too deeply to read"
        raise BadExport(msg) from None


def _json_lines(content: str, file: str) -> list[object]:
    from mining.errors import BadExport

    out: list[object] = []
    for n, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError as exc:
            msg = f"{file} line {n}, column {exc.colno}: invalid JSON: {exc.msg}"
            raise BadExport(msg) from None
        except RecursionError:
            msg = f"{file} line {n}: the JSON is nested too deeply to read"
            raise BadExport(msg) from None
    return out


def _unsafe_name(name: str) -> bool:
    parts = re.split(r"[\\/]", name)
    return (
        name.startswith(("/", "\\"))
        or bool(re.match(r"^[A-Za-z]:", name))
        or any(p == ".." for p in parts)
        or "\x00" in name
    )


def _unzip(path: Path, workdir: Path, file: str) -> list[tuple[Path, str]]:
    """Extract the archive's files under ``workdir``; return (extracted path, name for messages)."""
    from mining.ingest.sources import MAX_DECOMPRESSED_BYTES_ENV, max_decompressed_bytes

    limit = max_decompressed_bytes()
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        msg = f"{file}: the zip archive cannot be read ({exc})"
        raise IngestError(msg) from None
    out_dir = workdir / "unzipped"
    out_dir.mkdir(exist_ok=True)
    members: list[tuple[Path, str]] = []
    with archive:
        infos = archive.infolist()
        for info in infos:
            if _unsafe_name(info.filename):
                msg = (
                    f"{file}: the member {info.filename!r} points outside the archive (an absolute path or "
                    "'..'); refused"
                )
                raise UnsafeInput(msg)
            if (info.external_attr >> 16) & 0o170000 == 0o120000:
                msg = f"{file}: the member {info.filename!r} is a symbolic link; refused"
                raise UnsafeInput(msg)
        declared = sum(i.file_size for i in infos)
        if declared > limit:
            msg = (
                f"{file}: the archive's files add up to {declared:,} bytes when unpacked, more than the limit of "
                f"{limit:,} (set by {MAX_DECOMPRESSED_BYTES_ENV}); refusing a possible decompression bomb"
            )
            raise UnsafeInput(msg)
        written = 0
        for n, info in enumerate(infos):
            parts = [p for p in re.split(r"[\\/]", info.filename) if p]
            if info.is_dir() or not parts or parts[0] in _SKIPPED_DIRS or parts[-1].startswith("."):
                continue
            if info.flag_bits & 0x1:
                msg = f"{file}: the member {info.filename!r} is encrypted; expected an archive without a password"
                raise IngestError(msg)
            # A folder per member, named by its index: the member's own path never
            # decides where bytes land; only its last part names the file.
            target = out_dir / str(n) / parts[-1]
            target.parent.mkdir()
            written = _extract(archive, info, target, file=file, written=written, limit=limit)
            members.append((target, f"{file}/{info.filename}"))
    return members


def _extract(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, *, file: str, written: int, limit: int
) -> int:
    from mining.ingest.sources import MAX_DECOMPRESSED_BYTES_ENV

    member_bytes = 0
    with archive.open(info) as src, target.open("wb") as dst:
        while chunk := src.read(_CHUNK):
            member_bytes += len(chunk)
            written += len(chunk)
            if written > limit:
                msg = (
                    f"{file}: unpacks to more than {limit:,} bytes (the limit set by {MAX_DECOMPRESSED_BYTES_ENV}); "
                    "refusing a possible decompression bomb"
                )
                raise UnsafeInput(msg)
            if member_bytes > _RATIO_GRACE_BYTES and member_bytes / max(info.compress_size, 1) > _MAX_RATIO:
                msg = (
                    f"{file}: the member {info.filename!r} expands more than {_MAX_RATIO:g} times "
                    f"({info.compress_size:,} compressed bytes); refusing a possible decompression bomb"
                )
                raise UnsafeInput(msg)
            dst.write(chunk)
    return written
