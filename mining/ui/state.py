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
import importlib
import re
import secrets
import shutil
import sys
import tempfile
import threading
import weakref
from collections import OrderedDict
from collections.abc import Hashable, Iterator, MutableMapping, Sequence
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
from mining.schema import ROLES, IngestSummary, LogInfo, QualityIssue, Reject
from mining.store import Store, writing
from mining.store import workspace_path as _workspace_from_env

if TYPE_CHECKING:
    from streamlit.runtime.uploaded_file_manager import UploadedFile

    from mining.ingest.job import IngestJob

__all__ = [
    "SAMPLE_LOG",
    "CheckInterrupted",
    "ConformanceRequest",
    "DeviatingExport",
    "LogDetails",
    "RememberedOverlay",
    "Upload",
    "activity_times_of",
    "attributes_of",
    "case_durations_of",
    "cases_of_variant",
    "choose_log",
    "conformance_of",
    "deviating_export_of",
    "deviation_cases_of",
    "dfg_of",
    "ensure_sample",
    "events_of_case",
    "heatmap_of",
    "labels_of",
    "log_details",
    "logs",
    "maps_of",
    "md",
    "monitor_of",
    "monitor_report_of",
    "preview_upload",
    "process_map_of",
    "read_model",
    "rejects_csv",
    "remember_log",
    "remember_overlay",
    "remembered_overlay",
    "reporting_errors",
    "rework_of",
    "rules_of",
    "sample_models",
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


_ROLE_FLAGS = "|".join(r.replace("_", "-") for r in ROLES)

#: The library's hints name the CLI's flags; here each becomes the upload page's control for it.
_APP_TERMS: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = tuple(
    (re.compile(pattern), words)
    for pattern, words in (
        (r"\bpass (?=--)", "use "),
        (r"\s*\(write them all with --rejects FILE\)", ""),
        (r"\s*\(`mining presets` lists them\)|; `mining presets` lists them", ""),
        (
            rf"--({_ROLE_FLAGS}) COLUMN( to choose)?",
            lambda m: f"the {m.group(1).replace('-', ' ').capitalize()} column under Options",
        ),
        (r"--dayfirst or --monthfirst", 'the "Dates such as 03/04/2025" choice under Options'),
        (r"--dayfirst|--monthfirst", 'the "Dates such as 03/04/2025" choice under Options'),
        (r"--timestamp-format", 'the "Timestamp format" option'),
        (r"--timezone", 'the "Time zone" option'),
        (r"--max-rejects", 'the "Max rejected rows" slider'),
        (r"--append", '"Append to an existing log"'),
        (r"--name\b", 'the "Log name" option'),
        (r"--encoding", 'the "Encoding" option'),
        (r"--include( FIELD)?", '"Also read as events"'),
        (r"--preset-role \w+=COLUMN", "the change-history columns under Options"),
        (r"--preset none", 'the "Source system" choice "None"'),
        (r"--preset NAME( \(`mining presets` lists them\))?", 'the "Source system" choice'),
        (r" or --preset auto", ""),
    )
)


def in_app_terms(text: str) -> str:
    """A library message or hint with the CLI's flags put as the app's controls."""
    for pattern, words in _APP_TERMS:
        text = pattern.sub(words, text)
    return text


def show_error(exc: MiningError) -> None:
    """Show a library error as ``st.error``: the message, then the hint, in the app's words."""
    body = md(in_app_terms(str(exc)))
    if exc.hint:
        body += "\n\n**Hint:** " + md(in_app_terms(exc.hint))
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


# -- check: conformance ------------------------------------------------------------
# The Conformance and Monitoring pages.  Their library modules are imported
# inside the functions: the Explore pages never pay for them.

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable

    from mining.conformance import Allowlist, ConformanceResult, DeviatingCase, MapOverlay, ProcessModel
    from mining.conformance.labels import LabelMapping, LabelMatch
    from mining.conformance.rules import RuleResult
    from mining.monitor.compare import MapComparison
    from mining.monitor.run import MonitorOptions, MonitorRun

_OVERLAYS = "mining.overlays"
_DEVIATING_LIMIT = 1000  # cases listed in a deviation's drill-down


def sample_models() -> list[Path]:
    """The documented models of the sample logs (``sample_logs/*.bpmn``), by name."""
    return sorted(SAMPLE_LOG.parent.glob("*.bpmn"))


@st.cache_data(show_spinner=False, max_entries=32)
def _model_cached(sha256: str, name: str, _data: bytes) -> ProcessModel:
    # Keyed by the content hash and the name (the suffix decides the format); never by the name alone.
    from mining.models import load_model

    return load_model(_data, name)


def read_model(name: str, data: bytes) -> tuple[ProcessModel, str]:
    """A model read from its bytes (an upload or a sample file) and the SHA-256 of those bytes."""
    digest = hashlib.sha256(data).hexdigest()
    return _model_cached(digest, name, data), digest


@st.cache_data(show_spinner=False, max_entries=64)
def _labels_cached(tasks: tuple[str, ...], activities: tuple[str, ...], mapping: LabelMapping) -> LabelMatch:
    from mining.conformance.labels import match_labels

    return match_labels(tasks, activities, mapping)


def labels_of(log: LogInfo, flt: Filter, model: ProcessModel, mapping: LabelMapping) -> LabelMatch:
    """How the model's tasks meet the kept activities (most frequent first), as the check will match them."""
    counts = dfg_of(log, flt).activities
    activities = tuple(sorted(counts, key=lambda a: (-counts[a], a)))
    return _labels_cached(model.tasks, activities, mapping)


@dataclass(frozen=True)
class ConformanceRequest:
    """Everything a conformance check depends on besides the workspace: its cache key."""

    log_id: int
    flt: Filter
    model_name: str
    model_sha256: str
    method: str
    budget: float | None
    mapping: LabelMapping
    allow: Allowlist | None


class CheckInterrupted(Exception):
    """Streamlit stopped the script while a check ran (Cancel, or any other click).

    ``result`` is the partial result the check returned when asked to stop;
    the page keeps it and re-raises ``control`` so that Streamlit reruns.
    """

    def __init__(self, result: ConformanceResult, control: BaseException) -> None:
        super().__init__("the conformance check was interrupted")
        self.result = result
        self.control = control


class _Unfinished(Exception):
    """Carries a partial result out of the cached function, so that it is never cached."""

    def __init__(self, result: ConformanceResult) -> None:
        super().__init__("partial conformance result")
        self.result = result


class _Progress:
    """``progress`` and ``cancel`` callbacks for :func:`mining.conformance.check.conform`.

    A click (Cancel, or any widget) stops a running script: with Streamlit's
    fast reruns (the default) a new run starts at once and every later element
    call *or session-state access* of the old run raises ``StopException``;
    without them the next element call raises ``RerunException``.  Raised
    inside the check either would throw away every alignment done so far, so
    it is kept here instead: the check then stops at its next chunk
    (``cancelled``: the Cancel flag read through ``cancel()`` and this both
    stop it) and returns a partial result, and the exception is raised after.
    """

    def __init__(self, cancel: Callable[[], bool]) -> None:
        self.bar = st.progress(0.0, text="Aligning the variants…")
        self.cancel = cancel
        self.control: BaseException | None = None

    def __call__(self, done: int, total: int) -> None:
        self.show(min(1.0, done / total) if total else 1.0, f"Aligned {done:,} of {total:,} variants")

    def show(self, share: float, text: str) -> None:
        from streamlit.runtime.scriptrunner_utils.exceptions import RerunException, StopException

        if self.control is not None:
            return
        try:
            self.bar.progress(share, text=text)
        except (RerunException, StopException) as exc:
            self.control = exc

    def cancelled(self) -> bool:
        from streamlit.runtime.scriptrunner_utils.exceptions import RerunException, StopException

        if self.control is None:
            try:
                return bool(self.cancel())
            except (RerunException, StopException) as exc:
                self.control = exc
        return True


@st.cache_data(show_spinner=False, max_entries=16)
def _conformance_cached(
    workspace: str,
    version: tuple[int, ...],
    request: ConformanceRequest,
    _model: ProcessModel,
    _cancel: Callable[[], bool],
) -> ConformanceResult:
    from mining.conformance.check import conform

    progress = _Progress(_cancel)
    with _reading(workspace) as store:
        result = conform(
            store,
            request.log_id,
            _model,
            request.flt,
            method=request.method,
            mapping=request.mapping,
            allow=request.allow,
            budget=request.budget,
            progress=progress,
            cancel=progress.cancelled,
        )
    if result.complete:
        # A click during the last steps (precision) lands here: the result is whole, but still kept.
        progress.show(1.0, f"Checked {len(result.variants):,} variants ({result.engine})")
    if progress.control is not None:
        raise CheckInterrupted(result, progress.control)
    if not result.complete:
        raise _Unfinished(result)
    return result


def conformance_of(
    request: ConformanceRequest, model: ProcessModel, *, cancel: Callable[[], bool]
) -> ConformanceResult:
    """Check the log against ``model`` with a progress bar; complete results are cached.

    A result cut short by the budget or by ``cancel()`` is returned but never
    cached (the next run may get further).  Raises :class:`CheckInterrupted`
    when Streamlit stopped the script during the check.
    """
    try:
        return _conformance_cached(*_where(), request, model, cancel)
    except _Unfinished as unfinished:
        return unfinished.result


def _result_key(result: ConformanceResult) -> float:
    # Variants are aligned most frequent first, so the aligned share identifies a partial result.
    return result.aligned_variants_share


@st.cache_data(show_spinner=False, max_entries=64)
def _deviation_cases_cached(
    workspace: str,
    version: tuple[int, ...],
    request: ConformanceRequest,
    aligned: float,
    kind: str,
    activity: str,
    _result: ConformanceResult,
) -> tuple[tuple[DeviatingCase, ...], bool]:
    from mining.conformance.cases import deviating_cases

    [found] = [d for d in _result.deviations if (d.kind, d.activity) == (kind, activity)]
    ranks = set(found.variants)
    # The deviating cases of a result restricted to the variants that have this deviation.
    only = dataclasses.replace(_result, variants=tuple(v for v in _result.variants if v.rank in ranks))
    with _reading(workspace) as store:
        cases = deviating_cases(store, only, limit=_DEVIATING_LIMIT + 1)
    return tuple(cases[:_DEVIATING_LIMIT]), len(cases) > _DEVIATING_LIMIT


def deviation_cases_of(
    request: ConformanceRequest, result: ConformanceResult, kind: str, activity: str
) -> tuple[tuple[DeviatingCase, ...], bool]:
    """The checked cases with one deviation (by case id, at most 1,000) and whether there are more."""
    return _deviation_cases_cached(*_where(), request, _result_key(result), kind, activity, result)


@dataclass(frozen=True)
class DeviatingExport:
    """The deviating cases as CSV and XLSX bytes (``export_cases``: formula-like cells neutralised)."""

    rows: int
    csv: bytes
    xlsx: bytes


@st.cache_data(show_spinner=False, max_entries=16)
def _export_cached(
    workspace: str,
    version: tuple[int, ...],
    request: ConformanceRequest,
    aligned: float,
    _result: ConformanceResult,
) -> DeviatingExport:
    from mining.conformance.cases import deviating_cases, export_cases

    with _reading(workspace) as store:
        cases = deviating_cases(store, _result)
    with tempfile.TemporaryDirectory(prefix="mining-deviating-") as tmp:
        rows = export_cases(cases, Path(tmp) / "cases.csv")
        export_cases(cases, Path(tmp) / "cases.xlsx")
        return DeviatingExport(
            rows, (Path(tmp) / "cases.csv").read_bytes(), (Path(tmp) / "cases.xlsx").read_bytes()
        )


def deviating_export_of(request: ConformanceRequest, result: ConformanceResult) -> DeviatingExport:
    """Every deviating case of ``result`` as CSV and XLSX bytes."""
    return _export_cached(*_where(), request, _result_key(result), result)


@st.cache_data(show_spinner=False, max_entries=64)
def _rules_cached(
    workspace: str, version: tuple[int, ...], log_id: int, flt: Filter, texts: tuple[str, ...]
) -> tuple[RuleResult, ...]:
    from mining.conformance.rules import check_rules, parse_rule

    rules = [parse_rule(text) for text in texts]
    with _reading(workspace) as store:
        return check_rules(store, log_id, rules, flt)


def rules_of(log: LogInfo, flt: Filter, texts: Sequence[str]) -> tuple[RuleResult, ...]:
    """One-line rules (``A before B``, ...) checked over the kept cases, in order."""
    return _rules_cached(*_where(), log.log_id, flt, tuple(texts))


@dataclass(frozen=True)
class RememberedOverlay:
    """The map overlay of the last conformance check of a log, for the Process map page."""

    workspace: str
    version: tuple[int, ...]
    log_id: int
    model: str
    overlay: MapOverlay


def remember_overlay(log: LogInfo, model: str, overlay: MapOverlay) -> None:
    """Keep the overlay of a check for this session's Process map page."""
    workspace, version = _where()
    kept = dict(st.session_state.get(_OVERLAYS, {}))
    kept[log.log_id] = RememberedOverlay(workspace, version, log.log_id, model, overlay)
    st.session_state[_OVERLAYS] = kept


def remembered_overlay(log: LogInfo) -> RememberedOverlay | None:
    """The overlay kept for ``log``, unless the workspace changed since."""
    found = st.session_state.get(_OVERLAYS, {}).get(log.log_id)
    if isinstance(found, RememberedOverlay) and (found.workspace, found.version) == _where():
        return found
    return None


# -- check: monitoring -------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=32)
def _attributes_cached(workspace: str, version: tuple[int, ...], log_id: int) -> tuple[str, ...]:
    with _reading(workspace) as store:
        return tuple(catalog.attribute_names(store, log_id))


def attributes_of(log: LogInfo) -> tuple[str, ...]:
    """The log's attribute columns (to stratify by), in file order."""
    return _attributes_cached(*_where(), log.log_id)


class _Memo(MutableMapping[Hashable, object]):
    """A small LRU mapping, safe to share between the server's session threads."""

    def __init__(self, size: int) -> None:
        self._size, self._items, self._lock = size, OrderedDict[Hashable, object](), threading.Lock()

    def __getitem__(self, key: Hashable) -> object:
        with self._lock:
            self._items.move_to_end(key)
            return self._items[key]

    def __setitem__(self, key: Hashable, value: object) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def __delitem__(self, key: Hashable) -> None:
        with self._lock:
            del self._items[key]

    def __iter__(self) -> Iterator[Hashable]:
        with self._lock:
            return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)


@st.cache_resource(show_spinner=False, max_entries=4)
def _monitor_memo(workspace: str, version: tuple[int, ...]) -> _Memo:
    # One per workspace state: a write gives a new version, hence a fresh memo.  Eight entries
    # hold the case facts and Lean views of a few filters (a 1M-event log's facts take ~30 MB).
    return _Memo(8)


@st.cache_data(show_spinner=False, max_entries=16)
def _monitor_cached(
    workspace: str, version: tuple[int, ...], log_id: int, flt: Filter, options: MonitorOptions
) -> MonitorRun:
    from mining.monitor.run import monitor

    with _reading(workspace) as store:
        # Another period, change date or SLA reuses the facts and the Lean view of the last run.
        return monitor(store, log_id, flt, options, memo=_monitor_memo(workspace, version))


def monitor_of(log: LogInfo, flt: Filter, options: MonitorOptions) -> MonitorRun:
    """One monitoring run (KPIs, before/after, control charts, alerts, Lean view) under ``flt``."""
    if options.change_date is None:
        # The before/after's tests come from scipy, half a second to import: load it while the
        # user reads the page, not when they pick a change date.
        _warm_import("scipy.stats")
    return _monitor_cached(*_where(), log.log_id, flt, options)


# -- warm-up: the other Explore pages' measures, computed while the user reads ----------
# One daemon thread, newest request first: after a filter change the pages not shown yet fill
# the shared cache, so opening one is a cache hit.  Streamlit's per-key compute lock makes a
# page that opens mid-way wait for the value being computed instead of computing it twice.

_WARM_LOCK = threading.Lock()
_warm_next: tuple[Hashable, tuple[Callable[[], object], ...]] | None = None  # only the newest request waits
_WARM_DONE: OrderedDict[Hashable, None] = OrderedDict()
_WARM_KEPT = 64
_warm_thread: threading.Thread | None = None


def warm_explore(log: LogInfo, flt: Filter, calls: Sequence[Callable[[], object]]) -> None:
    """Run ``calls`` (cached reads of ``log`` under ``flt``) in the background, once per workspace state."""
    global _warm_next, _warm_thread
    key = (*_where(), log.log_id, flt)
    with _WARM_LOCK:
        if key in _WARM_DONE:
            return
        _warm_next = (key, tuple(calls))
        if _warm_thread is None or not _warm_thread.is_alive():  # not alive: a bug ended it
            _warm_thread = threading.Thread(target=_warm_worker, name="mining warm-up", daemon=True)
            _warm_thread.start()


def warm_wait(timeout: float | None = None) -> bool:
    """Wait until the warm-up has nothing left to do; False on timeout (for tests)."""
    with _WARM_LOCK:
        thread = _warm_thread
    if thread is not None:
        thread.join(timeout)
        return not thread.is_alive()
    return True


def _warm_worker() -> None:
    global _warm_next, _warm_thread
    while True:
        with _WARM_LOCK:
            if _warm_next is None:
                _warm_thread = None  # under the lock: a new request starts a new thread
                return
            (key, calls), _warm_next = _warm_next, None
        for call in calls:
            if _warm_next is not None:
                break  # a newer filter came: its measures matter more
            with contextlib.suppress(MiningError):  # the page shows it when it is opened
                call()
        else:
            with _WARM_LOCK:
                _WARM_DONE[key] = None
                while len(_WARM_DONE) > _WARM_KEPT:
                    _WARM_DONE.popitem(last=False)


_WARMING: set[str] = set()


def _warm_import(module: str) -> None:
    if module in sys.modules or module in _WARMING:
        return
    _WARMING.add(module)
    threading.Thread(
        target=importlib.import_module, args=(module,), name=f"import {module}", daemon=True
    ).start()


@st.cache_data(show_spinner=False, max_entries=16)
def _report_cached(
    workspace: str, version: tuple[int, ...], log_id: int, flt: Filter, options: MonitorOptions
) -> bytes:
    from mining.monitor.report import render_html

    # The bytes `mining monitor --report` writes (UTF-8, "\n" line ends).
    return render_html(_monitor_cached(workspace, version, log_id, flt, options)).encode("utf-8")


def monitor_report_of(log: LogInfo, flt: Filter, options: MonitorOptions) -> bytes:
    """The run's self-contained HTML report."""
    return _report_cached(*_where(), log.log_id, flt, options)


@st.cache_data(show_spinner=False, max_entries=16)
def _maps_cached(
    workspace: str,
    version: tuple[int, ...],
    log_id: int,
    flt: Filter,
    change_date: dt.date,
    timezone: str | None,
) -> MapComparison:
    from mining.monitor.compare import compare_maps

    with _reading(workspace) as store:
        return compare_maps(store, log_id, change_date, flt, timezone=timezone)


def maps_of(log: LogInfo, flt: Filter, change_date: dt.date, *, timezone: str | None = None) -> MapComparison:
    """The process maps of the cases started before and after ``change_date``, over one node set."""
    return _maps_cached(*_where(), log.log_id, flt, change_date, timezone)
