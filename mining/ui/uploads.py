"""An upload's life on the Upload page: saved once, hashed, its header read, previewed, ingested.

The file is saved under a random name in a private per-session directory (its
suffixes kept, so ``.xes.gz`` still reads as XES).  Everything derived from it
is cached by the SHA-256 of its bytes, never by the name the browser sent: two
sessions uploading ``export.csv`` with other contents never see each other's.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import secrets
import shutil
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import streamlit as st

from mining.errors import MiningError
from mining.ingest import IngestOptions, IngestPreview
from mining.ui.state import workspace_path

if TYPE_CHECKING:
    from streamlit.runtime.uploaded_file_manager import UploadedFile

    from mining.ingest.job import IngestJob

__all__ = ["Upload", "preview_upload", "save_upload", "start_ingest", "upload_columns", "upload_suffix"]

_CHUNK = 1 << 20
_HEADER_MAX_BYTES = 256 << 20  # larger CSVs get text inputs instead of a header preview
_PREVIEW_MAX_BYTES = 200 * 1024 * 1024  # a preview reads the whole file; beyond this the ingest alone does
_UPLOAD = "mining.upload"
_UPLOAD_DIR = "mining.upload_dir"


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
        self.path = Path(tempfile.mkdtemp(prefix="mining-upload-"))
        weakref.finalize(self, shutil.rmtree, str(self.path), True)


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


@st.cache_data(show_spinner=False, max_entries=64)
def _columns(sha256: str, suffix: str, _path: str) -> tuple[str, ...] | None:
    # Keyed by the content hash: the same name with other bytes is another entry.
    from mining.ingest.csv import prepare_csv
    from mining.ingest.sources import detect_format

    path = Path(_path)
    with tempfile.TemporaryDirectory(prefix="mining-header-") as tmp:
        try:
            if detect_format(path) != "csv":
                return None
            _, dialect = prepare_csv(path, Path(tmp), display_name=path.name)
        except MiningError:
            return None  # the ingest reports it, with the upload's own name
    return tuple(dict.fromkeys(h.strip() for h in dialect.header if h.strip()))


def upload_columns(upload: Upload) -> tuple[str, ...] | None:
    """The header of an uncompressed delimited upload, or ``None`` (other formats, very large files)."""
    suffix = upload_suffix(upload.name).lower()
    if suffix.endswith(".gz") or upload.size > _HEADER_MAX_BYTES:
        return None
    return _columns(upload.sha256, suffix, str(upload.path))


@st.cache_data(show_spinner=False, max_entries=16)
def _preview(sha256: str, name: str, _path: str, options: IngestOptions) -> IngestPreview:
    # Keyed by the content hash and the options, never by the file name.
    from mining.ingest import preview

    return preview(Path(_path), dataclasses.replace(options, display_name=name, source=name))


def preview_upload(upload: Upload, options: IngestOptions) -> IngestPreview | None:
    """What the ingest would do (roles with confidence, formats, preset, first rows), or None for big files."""
    if upload.size > _PREVIEW_MAX_BYTES:
        return None
    return _preview(upload.sha256, upload.name, str(upload.path), options)


def start_ingest(upload: Upload, options: IngestOptions) -> IngestJob:
    """Start ingesting a saved upload in a child process (cancellable); messages name the original file."""
    from mining.ingest.job import start_ingest as _start

    opts = dataclasses.replace(options, display_name=upload.name, source=upload.name)
    return _start(workspace_path(), upload.path, opts)
