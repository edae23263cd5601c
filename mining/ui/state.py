"""Workspace access, caching and error display for the pages.

Pages call these functions, never DuckDB or SQL.  Three rules shape them:

* **Short-lived connections, and writers that never block readers.**  Every
  call opens the workspace read-only for as long as it needs it and closes
  it.  An ingest (from this app or a scheduled ``mining ingest``) goes through
  :func:`mining.store.writing`, which writes a copy and swaps it in
  atomically, so pages keep answering while it runs.
* **Cache keys that cannot go stale or leak.**  ``st.cache_data`` is shared by
  every session of the server.  Each cached function therefore takes the
  workspace's resolved path *and* its version (mtime and size of the DuckDB
  file and its WAL), and anything derived from an upload is keyed by the
  SHA-256 of its bytes, never by its file name.
* **One place shows library errors.**  :func:`show_error` and
  :func:`reporting_errors` turn a :class:`~mining.errors.MiningError` into
  ``st.error``; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import re
import secrets
import shutil
import tempfile
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import streamlit as st

import mining
from mining import catalog
from mining.analysis import dfg as _dfg_mod
from mining.analysis import durations as _durations_mod
from mining.analysis import heatmaps as _heatmaps_mod
from mining.analysis import performance as _performance_mod
from mining.analysis import rework as _rework_mod
from mining.analysis import simplify as _simplify_mod
from mining.analysis import throughput as _throughput_mod
from mining.analysis import variants as _variants_mod
from mining.analysis.filters import Filter
from mining.errors import MiningError
from mining.ingest import IngestOptions, IngestPreview, ingest_file
from mining.schema import IngestSummary, LogInfo, QualityIssue, Reject
from mining.store import Store, writing
from mining.store import workspace_path as _workspace_from_env

if TYPE_CHECKING:
    from streamlit.runtime.uploaded_file_manager import UploadedFile

    from mining.ingest.job import IngestJob

__all__ = [
    "SAMPLE_LOG",
    "LogDetails",
    "Upload",
    "activity_times_of",
    "case_durations_of",
    "cases_of_variant",
    "choose_log",
    "dfg_of",
    "ensure_sample",
    "events_of_case",
    "heatmap_of",
    "log_details",
    "logs",
    "md",
    "preview_upload",
    "process_map_of",
    "rejects_csv",
    "remember_log",
    "reporting_errors",
    "rework_of",
    "save_upload",
    "show_error",
    "start_ingest",
    "throughput_of",
    "upload_columns",
    "upload_suffix",
    "variants_of",
    "workspace_path",
    "workspace_version",
]

#: The log a new user sees at once: ingested when the workspace holds no logs.
SAMPLE_LOG = Path(mining.__file__).resolve().parent.parent / "sample_logs" / "service_desk.csv"

_CHUNK = 1 << 20
_HEADER_MAX_BYTES = 256 << 20  # larger CSVs get text inputs instead of a header preview
_CURRENT_LOG = "mining.current_log"
_UPLOAD = "mining.upload"
_UPLOAD_DIR = "mining.upload_dir"


# -- the workspace -----------------------------------------------------------
def workspace_path() -> Path:
    """The workspace file: ``$MINING_WORKSPACE``, else ``mining.duckdb``."""
    return _workspace_from_env()


def workspace_version(path: Path) -> tuple[int, ...]:
    """A key that changes whenever the workspace is written (by us or by the CLI)."""
    out: list[int] = []
    for p in (path, path.with_name(path.name + ".wal")):
        try:
            stat = p.stat()
        except FileNotFoundError:
            out += [0, 0, 0]
        else:
            # The inode changes when a writer swaps its copy in (mining.store.writing).
            out += [stat.st_ino, stat.st_mtime_ns, stat.st_size]
    return tuple(out)


@contextlib.contextmanager
def _reading(workspace: str) -> Iterator[Store]:
    with Store(workspace, read_only=True, busy_timeout=5.0) as store:
        yield store


@contextlib.contextmanager
def _writing(workspace: Path) -> Iterator[Store]:
    with writing(workspace) as store:
        yield store


# -- cached reads --------------------------------------------------------------
@st.cache_data(show_spinner=False, max_entries=32)
def _logs(workspace: str, version: tuple[int, ...]) -> list[LogInfo]:
    # ``version`` is only part of the cache key: a write to the file makes a new entry.
    with _reading(workspace) as store:
        return catalog.list_logs(store)


def logs() -> list[LogInfo]:
    """The workspace's logs, oldest first; empty when there is no workspace yet."""
    path = workspace_path()
    if not path.exists():
        return []
    return _logs(str(path.resolve()), workspace_version(path))


@dataclass(frozen=True)
class LogDetails:
    """What the Logs page shows about one log besides its statistics."""

    quality: tuple[QualityIssue, ...]
    rejects: tuple[Reject, ...]
    rejects_csv: bytes


@st.cache_data(show_spinner=False, max_entries=32)
def _log_details(workspace: str, version: tuple[int, ...], log_id: int) -> LogDetails:
    with _reading(workspace) as store:
        found = tuple(catalog.rejects(store, log_id))
        issues = tuple(catalog.quality(store, log_id))
    return LogDetails(issues, found, rejects_csv(found))


def log_details(log: LogInfo) -> LogDetails:
    path = workspace_path()
    return _log_details(str(path.resolve()), workspace_version(path), log.log_id)


def rejects_csv(items: Sequence[Reject]) -> bytes:
    """The rejects as CSV bytes, with formula-like cells neutralised (``catalog.export_rejects``)."""
    with tempfile.TemporaryDirectory(prefix="mining-rejects-") as tmp:
        out = Path(tmp) / "rejects.csv"
        catalog.export_rejects(list(items), out)
        return out.read_bytes()


# -- the current log, shared by every page -------------------------------------
def remember_log(name: str) -> None:
    """Make ``name`` the log the pages open with (e.g. right after an upload)."""
    st.session_state[_CURRENT_LOG] = name


def choose_log(available: Sequence[LogInfo]) -> LogInfo:
    """A select box of the logs; starts on the remembered log, else the most recent."""
    names = [i.name for i in available]
    wanted = st.session_state.get(_CURRENT_LOG)
    if wanted not in names:
        wanted = max(available, key=lambda i: (i.ingested_at, i.log_id)).name
    name = st.selectbox("Log", names, index=names.index(wanted))
    remember_log(name)
    return available[names.index(name)]


# -- first launch --------------------------------------------------------------
def ensure_sample() -> IngestSummary | None:
    """Ingest the bundled sample log if the workspace holds no logs; return its summary."""
    if logs() or not SAMPLE_LOG.is_file():
        return None
    with (
        st.spinner(f"First launch: loading the sample log {SAMPLE_LOG.name}…"),
        _writing(workspace_path()) as store,
    ):
        if catalog.list_logs(store):  # another session got there first
            return None
        return ingest_file(store, SAMPLE_LOG, IngestOptions(display_name=SAMPLE_LOG.name))


# -- uploads -------------------------------------------------------------------
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


_PREVIEW_MAX_BYTES = 200 * 1024 * 1024  # a preview reads the whole file; beyond this the ingest alone does


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


# -- errors --------------------------------------------------------------------
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=&])")


def md(text: str) -> str:
    """Escape text (file names, values from the data) so markdown shows it literally."""
    return _MARKDOWN.sub(r"\\\1", text)


def show_error(exc: MiningError) -> None:
    """Show a library error as ``st.error``: the message, then the hint."""
    body = md(str(exc))
    if exc.hint:
        body += "\n\n**Hint:** " + md(exc.hint)
    st.error(body, icon=":material/error:")


@contextlib.contextmanager
def reporting_errors() -> Iterator[None]:
    """Run a block; a :class:`MiningError` ends it and is shown.  Nothing else is caught."""
    try:
        yield
    except MiningError as exc:
        show_error(exc)


# -- explore: cached analyses ----------------------------------------------------
# Each wrapper is keyed by the workspace path and version, the log id and the
# Filter (a frozen dataclass, so hashable), plus the measure's own options.


def _where() -> tuple[str, tuple[int, ...]]:
    path = workspace_path()
    return str(path.resolve()), workspace_version(path)


@st.cache_data(show_spinner=False, max_entries=64)
def _dfg_cached(workspace: str, version: tuple[int, ...], log_id: int, flt: Filter) -> _dfg_mod.DFG:
    with _reading(workspace) as store:
        return _dfg_mod.dfg(store, log_id, flt)


def dfg_of(log: LogInfo, flt: Filter) -> _dfg_mod.DFG:
    """The log's directly-follows graph under ``flt``."""
    return _dfg_cached(*_where(), log.log_id, flt)


@st.cache_data(show_spinner=False, max_entries=64)
def _map_cached(
    workspace: str, version: tuple[int, ...], log_id: int, flt: Filter, activities: float, paths: float
) -> _dfg_mod.DFG:
    with _reading(workspace) as store:
        return _simplify_mod.simplified_dfg(store, log_id, flt, activities=activities, paths=paths)


def process_map_of(log: LogInfo, flt: Filter, *, activities: float, paths: float) -> _dfg_mod.DFG:
    """The simplified process map (``simplified_dfg``) under ``flt``."""
    return _map_cached(*_where(), log.log_id, flt, activities, paths)


@st.cache_data(show_spinner=False, max_entries=64)
def _variants_cached(
    workspace: str, version: tuple[int, ...], log_id: int, flt: Filter, top: int | None
) -> _variants_mod.VariantTable:
    with _reading(workspace) as store:
        return _variants_mod.variants(store, log_id, flt, top=top)


def variants_of(log: LogInfo, flt: Filter, *, top: int | None = None) -> _variants_mod.VariantTable:
    """The variant table under ``flt``, most frequent first."""
    return _variants_cached(*_where(), log.log_id, flt, top)


@st.cache_data(show_spinner=False, max_entries=64)
def _variant_cases_cached(
    workspace: str, version: tuple[int, ...], log_id: int, flt: Filter, variant_id: int, limit: int
) -> _variants_mod.CaseList:
    with _reading(workspace) as store:
        return _variants_mod.cases_of_variant(store, log_id, variant_id, flt, limit=limit)


def cases_of_variant(
    log: LogInfo, flt: Filter, variant_id: int, *, limit: int = 100
) -> _variants_mod.CaseList:
    """The kept cases of one variant."""
    return _variant_cases_cached(*_where(), log.log_id, flt, variant_id, limit)


@st.cache_data(show_spinner=False, max_entries=64)
def _case_events_cached(
    workspace: str, version: tuple[int, ...], log_id: int, case_id: str
) -> tuple[_variants_mod.CaseEvent, ...]:
    with _reading(workspace) as store:
        return _variants_mod.events_of_case(store, log_id, case_id)


def events_of_case(log: LogInfo, case_id: str) -> tuple[_variants_mod.CaseEvent, ...]:
    """Every event of one case, in time order."""
    return _case_events_cached(*_where(), log.log_id, case_id)


@st.cache_data(show_spinner=False, max_entries=64)
def _durations_cached(
    workspace: str, version: tuple[int, ...], log_id: int, flt: Filter
) -> _durations_mod.CaseDurations:
    with _reading(workspace) as store:
        return _durations_mod.case_durations(store, log_id, flt)


def case_durations_of(log: LogInfo, flt: Filter) -> _durations_mod.CaseDurations:
    """Case-duration statistics and histogram under ``flt``."""
    return _durations_cached(*_where(), log.log_id, flt)


@st.cache_data(show_spinner=False, max_entries=64)
def _throughput_cached(
    workspace: str, version: tuple[int, ...], log_id: int, flt: Filter, period: str
) -> _throughput_mod.Throughput:
    with _reading(workspace) as store:
        return _throughput_mod.throughput(store, log_id, flt, period=period)


def throughput_of(log: LogInfo, flt: Filter, *, period: str = "week") -> _throughput_mod.Throughput:
    """Cases started and completed per period under ``flt``."""
    return _throughput_cached(*_where(), log.log_id, flt, period)


@st.cache_data(show_spinner=False, max_entries=64)
def _activity_times_cached(
    workspace: str, version: tuple[int, ...], log_id: int, flt: Filter
) -> _performance_mod.ActivityTimes:
    with _reading(workspace) as store:
        return _performance_mod.activity_times(store, log_id, flt)


def activity_times_of(log: LogInfo, flt: Filter) -> _performance_mod.ActivityTimes:
    """Waiting and processing per activity under ``flt``."""
    return _activity_times_cached(*_where(), log.log_id, flt)


@st.cache_data(show_spinner=False, max_entries=64)
def _rework_cached(
    workspace: str, version: tuple[int, ...], log_id: int, flt: Filter, limit: int
) -> _rework_mod.Rework:
    with _reading(workspace) as store:
        return _rework_mod.rework(store, log_id, flt, limit=limit)


def rework_of(log: LogInfo, flt: Filter, *, limit: int = 10) -> _rework_mod.Rework:
    """Rework, loops and ping-pong under ``flt``."""
    return _rework_cached(*_where(), log.log_id, flt, limit)


@st.cache_data(show_spinner=False, max_entries=64)
def _heatmap_cached(
    workspace: str, version: tuple[int, ...], log_id: int, flt: Filter, kind: str
) -> _heatmaps_mod.Heatmap:
    builders = {
        "transition": _heatmaps_mod.transition_wait_heatmap,
        "load": _heatmaps_mod.load_heatmap,
        "resource": _heatmaps_mod.resource_heatmap,
    }
    with _reading(workspace) as store:
        return builders[kind](store, log_id, flt)


def heatmap_of(log: LogInfo, flt: Filter, kind: str) -> _heatmaps_mod.Heatmap:
    """One heatmap under ``flt``: ``transition`` (x week, median wait), ``load``
    (activity x weekday-hour) or ``resource`` (resource x activity count)."""
    return _heatmap_cached(*_where(), log.log_id, flt, kind)
