"""An upload's life on the Upload page: saved once, hashed, its header read, previewed, ingested.

The file is saved under a random name in a private per-session directory (its
suffixes kept, so ``.xes.gz`` still reads as XES).  Everything derived from it
is cached by the SHA-256 of its bytes, never by the name the browser sent: two
sessions uploading ``export.csv`` with other contents never see each other's.

The server never reads an upload itself: the header, the previews and the
ingest run in a child process under the server's limits on memory and time
(:mod:`mining.ingest.job`, :mod:`mining.limits`), so a file that needs more
is refused with a plain message and the other sessions carry on.  One child
reads one file (and no other), and ends with its ingest.  A file refused for
its size is remembered for the session, so the page's reruns do not read it
again.  Children with the readers imported are kept ready while the Upload
page is open (:func:`prepare_readers`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import secrets
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, TypeVar

import streamlit as st

from mining.errors import LimitExceeded
from mining.ingest import IngestOptions, IngestPreview
from mining.ingest.job import READER_CHILD, file_task, header_of, object_types_of
from mining.limits import Limits, memory_limit, prepare, run, time_limit
from mining.scratch import ScratchDir
from mining.ui.state import workspace_path

if TYPE_CHECKING:
    from streamlit.runtime.uploaded_file_manager import UploadedFile

    from mining.ingest.job import IngestJob

__all__ = [
    "Upload",
    "prepare_readers",
    "preview_upload",
    "reading_limits",
    "save_upload",
    "start_ingest",
    "upload_columns",
    "upload_suffix",
]

_T = TypeVar("_T")
_CHUNK = 1 << 20
_HEADER_MAX_BYTES = 256 << 20  # larger CSVs get text inputs instead of a header preview
_PREVIEW_MAX_BYTES = 200 * 1024 * 1024  # a preview reads the whole file; beyond this the ingest alone does
_UPLOAD = "mining.upload"
_UPLOAD_DIR = "mining.upload_dir"
_REFUSED = "mining.upload_refused"  # (sha256, LimitExceeded) of the last upload that needed too much
#: Seconds a header or a preview may take, and an ingest (unless MINING_TIME_LIMIT says otherwise).
_READ_SECONDS = 300.0
_INGEST_SECONDS = 3600.0


@dataclass(frozen=True)
class Upload:
    """An uploaded file saved under a random name in this session's temp directory."""

    name: str  # as the browser sent it: for messages and the default log name only
    path: Path
    sha256: str
    size: int
    file_id: str


_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,12}")


def upload_suffix(name: str) -> str:
    """The suffix(es) to keep from an uploaded name: ``.csv``, and ``.xes.gz`` for gzip."""
    base = PurePosixPath(name.replace("\\", "/")).name
    suffixes = PurePosixPath(base).suffixes
    keep = suffixes[-2:] if suffixes and suffixes[-1].lower() == ".gz" else suffixes[-1:]
    return "".join(s for s in keep if _SUFFIX.fullmatch(s))


class _SessionDir:
    """A private temp directory, removed when the session's state is dropped."""

    def __init__(self) -> None:
        scratch = ScratchDir("upload")
        self.path = scratch.path
        weakref.finalize(self, scratch.close)


def _session_dir() -> Path:
    holder = st.session_state.get(_UPLOAD_DIR)
    if not isinstance(holder, _SessionDir) or not holder.path.is_dir():
        holder = _SessionDir()
        st.session_state[_UPLOAD_DIR] = holder
    return holder.path


def save_upload(uploaded: UploadedFile) -> Upload:
    """Write the upload to disk once per upload and hash it; later reruns reuse the file."""
    current = st.session_state.get(_UPLOAD)
    if isinstance(current, Upload) and current.file_id == uploaded.file_id and current.path.is_file():
        return current
    if isinstance(current, Upload):
        current.path.unlink(missing_ok=True)
    path = _session_dir() / (secrets.token_hex(16) + upload_suffix(uploaded.name))
    digest = hashlib.sha256()
    uploaded.seek(0)
    with path.open("xb") as fh:
        while chunk := uploaded.read(_CHUNK):
            digest.update(chunk)
            fh.write(chunk)
    uploaded.seek(0)
    saved = Upload(uploaded.name, path, digest.hexdigest(), path.stat().st_size, uploaded.file_id)
    st.session_state[_UPLOAD] = saved
    return saved


def reading_limits(seconds: float = _READ_SECONDS) -> Limits:
    """The server's limits on one reading of an upload: ``$MINING_MEMORY_LIMIT`` (default half the
    machine's memory) and ``seconds`` (``$MINING_TIME_LIMIT`` when set)."""
    return Limits(memory=memory_limit(), seconds=time_limit(seconds))


def prepare_readers() -> None:
    """Have a child with the readers imported ready: a new upload's header and preview come next."""
    prepare(READER_CHILD)


def _refused(upload: Upload) -> None:
    """Raise again the limit this upload hit earlier in the session, instead of reading it again."""
    found = st.session_state.get(_REFUSED)
    if isinstance(found, tuple) and found[0] == upload.sha256:
        raise found[1]


def _guarded(upload: Upload, read: Callable[[], _T]) -> _T:
    _refused(upload)
    try:
        return read()
    except LimitExceeded as exc:
        st.session_state[_REFUSED] = (upload.sha256, exc)
        raise


@st.cache_data(show_spinner=False, max_entries=64)
def _columns(sha256: str, name: str, _path: str) -> tuple[str, ...] | None:
    # Keyed by the content hash: the same name with other bytes is another entry.
    return run(
        header_of,
        _path,
        task=file_task(name),
        limits=reading_limits(),
        preload=READER_CHILD,
        reuse=_worker_of(sha256),
    )


@st.cache_data(show_spinner=False, max_entries=16)
def _object_types(sha256: str, name: str, _path: str) -> tuple[tuple[tuple[str, int, int], ...], str] | None:
    return run(
        object_types_of,
        _path,
        name,
        task=file_task(name),
        limits=reading_limits(),
        preload=READER_CHILD,
        reuse=_worker_of(sha256),
    )


def upload_object_types(upload: Upload) -> tuple[tuple[tuple[str, int, int], ...], str] | None:
    """An object-centric (OCEL) upload's object types ``(type, objects, events)`` and the default case
    type; ``None`` for any other upload or one too large to read before the ingest."""
    if upload.size > _PREVIEW_MAX_BYTES:
        return None
    return _guarded(upload, lambda: _object_types(upload.sha256, upload.name, str(upload.path)))


def upload_columns(upload: Upload) -> tuple[str, ...] | None:
    """The header of an uncompressed delimited upload, or ``None`` (other formats, very large files)."""
    suffix = upload_suffix(upload.name).lower()
    if suffix.endswith(".gz") or upload.size > _HEADER_MAX_BYTES:
        return None
    return _guarded(upload, lambda: _columns(upload.sha256, upload.name, str(upload.path)))


@st.cache_data(show_spinner=False, max_entries=16)
def _preview(sha256: str, name: str, _path: str, options: IngestOptions) -> IngestPreview:
    # Keyed by the content hash and the options, never by the file name.
    from mining.ingest import preview

    opts = dataclasses.replace(options, display_name=name, source=name)
    return run(
        preview,
        Path(_path),
        opts,
        task=file_task(name),
        limits=reading_limits(),
        preload=READER_CHILD,
        reuse=_worker_of(sha256),
    )


def preview_upload(upload: Upload, options: IngestOptions) -> IngestPreview | None:
    """What the ingest would do (roles with confidence, formats, preset, first rows), or None for big files."""
    if upload.size > _PREVIEW_MAX_BYTES:
        return None
    return _guarded(upload, lambda: _preview(upload.sha256, upload.name, str(upload.path), options))


def start_ingest(upload: Upload, options: IngestOptions) -> IngestJob:
    """Start ingesting a saved upload in a child process (cancellable); messages name the original file."""
    from mining.ingest.job import start_ingest as _start

    opts = dataclasses.replace(options, display_name=upload.name, source=upload.name)
    return _start(
        workspace_path(),
        upload.path,
        opts,
        limits=reading_limits(_INGEST_SECONDS),
        reuse=_worker_of(upload.sha256),
        keep=False,  # the file is loaded: its child is done
        preload=READER_CHILD,
    )


def _worker_of(sha256: str) -> str:
    """One child reads one file's header, previews and ingest, and no other file."""
    return f"upload:{sha256}"
