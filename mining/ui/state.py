"""The workspace the pages read, its version, and what a session remembers about it.

Pages call these functions (and the measures of :mod:`mining.ui.measures`),
never DuckDB or SQL.  Two rules shape them:

* **One connection per version, and writers that never block readers.**  The
  server holds the workspace open read-only while its file stays the same
  (:func:`reading` hands each call a cursor of it: opening the file and
  loading its catalogue cost 25-200 ms a read, a dozen times on a page's first
  open); the next read after a write opens the new file and lets the old one go
  once its last reader is done.  An ingest (from this app or a scheduled
  ``mining ingest``) goes through :func:`mining.store.writing`, which writes a
  copy and swaps it in atomically, so pages keep answering while it runs.
* **Cache keys that cannot go stale or leak.**  ``st.cache_data`` is shared by
  every session of the server.  Each cached function therefore takes the
  workspace's resolved path *and* its version (:func:`where`), and anything
  derived from an upload is keyed by the SHA-256 of its bytes, never by its
  file name.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

import mining
from mining import catalog
from mining.ingest import IngestOptions, ingest_file
from mining.schema import IngestSummary, LogInfo, QualityIssue, Reject
from mining.spreadsheet import csv_bytes
from mining.store import Store, writing
from mining.store import workspace_path as _workspace_from_env
from mining.ui.messages import md

if TYPE_CHECKING:
    from mining.conformance import LabelMapping, MapOverlay
    from mining.conformance.saved import StoredModel

__all__ = [
    "SAMPLE_FACTS",
    "SAMPLE_LOG",
    "LogDetails",
    "RememberedOverlay",
    "attributes_of",
    "choose_log",
    "delete_log",
    "ensure_sample",
    "enter_page",
    "has_widget",
    "keep_mapping",
    "keep_model",
    "keep_widget",
    "kept_values",
    "last_model_of",
    "log_details",
    "logs",
    "reading",
    "rejects_csv",
    "remember_log",
    "remember_overlay",
    "remembered_overlay",
    "rename_log",
    "reset_widgets",
    "sample_defaults",
    "sample_models",
    "save_widgets",
    "saved_mapping_of",
    "set_widget",
    "stored_model_bytes",
    "stored_models",
    "where",
    "workspace_path",
    "workspace_version",
]

#: The log a new user sees at once: ingested when the workspace holds no logs.
SAMPLE_LOG = Path(mining.__file__).resolve().parent.parent / "sample_logs" / "service_desk.csv"
#: The change date and SLA documented for each sample log, written by ``python -m mining.samples``.
SAMPLE_FACTS = SAMPLE_LOG.parent / "samples.json"

_CURRENT_LOG = "mining.current_log"
#: Log names longer than this are cut short in the sidebar's select box (at its default width).
_SHOWN_CHARS = 24
_OVERLAYS = "mining.overlays"
#: The columns of ``mining rejects -o`` (:func:`mining.catalog.export_rejects`), for the same download.
_REJECT_COLUMNS = ("file", "row", "column", "reason", "value")


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


def where() -> tuple[str, tuple[int, ...]]:
    """The workspace's resolved path and its version: the first two arguments of every cached read."""
    path = workspace_path()
    return str(path.resolve()), workspace_version(path)


@dataclass
class _Held:
    """The workspace file held open for reading, at one version, and its readers at work."""

    version: tuple[int, ...]
    store: Store
    readers: int = 0
    retired: bool = False


_HELD_LOCK = threading.Lock()
_held: dict[str, _Held] = {}


def _retire(held: _Held) -> None:
    # Under _HELD_LOCK. Closing the store closes its cursors: only once its last reader is done.
    held.retired = True
    if held.readers == 0:
        held.store.close()


def _cursor_of(held: _Held) -> Store:
    # Under _HELD_LOCK, in the same hold that found or made ``held``: counted as a reader before
    # the lock is let go, so another thread's retirement cannot close it under this one.
    held.readers += 1
    try:
        return held.store.cursor()
    except BaseException:
        held.readers -= 1
        raise


@contextlib.contextmanager
def reading(workspace: str) -> Iterator[Store]:
    """The workspace opened read-only for one cached read (waiting a little for a writer's swap).

    A cursor of the connection held for the file's current version (:func:`workspace_version`);
    a workspace last written in place (a WAL beside it) is opened for this read alone, since the
    file lock of a held reader would keep the writer that folds that WAL in waiting.
    """
    path = Path(workspace)
    if path.with_name(path.name + ".wal").exists():
        with Store(workspace, read_only=True, busy_timeout=5.0) as store:
            yield store
        return
    version = workspace_version(path)
    with _HELD_LOCK:
        held = _held.get(workspace)
        if held is not None and held.version != version:
            del _held[workspace]
            _retire(held)
            held = None
        cursor = _cursor_of(held) if held is not None else None
    if cursor is None:
        opened = Store(workspace, read_only=True, busy_timeout=5.0)  # may wait: not under the lock
        with _HELD_LOCK:
            held = _held.get(workspace)
            if held is not None and held.version == version:
                opened.close()  # another thread opened it meanwhile
            else:
                if held is not None:
                    del _held[workspace]
                    _retire(held)
                held = _held[workspace] = _Held(version, opened)
            cursor = _cursor_of(held)
    assert held is not None
    try:
        yield cursor
    finally:
        cursor.close()
        with _HELD_LOCK:
            held.readers -= 1
            if held.retired and held.readers == 0:
                held.store.close()


# -- cached reads of the catalogue --------------------------------------------------
@st.cache_data(show_spinner=False, max_entries=32)
def _logs(workspace: str, version: tuple[int, ...]) -> list[LogInfo]:
    # ``version`` is only part of the cache key: a write to the file makes a new entry.
    with reading(workspace) as store:
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
    with reading(workspace) as store:
        found = tuple(catalog.rejects(store, log_id))
        issues = tuple(catalog.quality(store, log_id))
    return LogDetails(issues, found, rejects_csv(found))


def log_details(log: LogInfo) -> LogDetails:
    return _log_details(*where(), log.log_id)


def rejects_csv(items: Sequence[Reject]) -> bytes:
    """The rejects as the CSV ``mining rejects -o`` writes, with formula-like cells neutralised."""
    return csv_bytes(
        _REJECT_COLUMNS, [(r.file, r.row, r.column or "", r.reason, r.value or "") for r in items]
    )


@st.cache_data(show_spinner=False, max_entries=32)
def _attributes(workspace: str, version: tuple[int, ...], log_id: int) -> tuple[str, ...]:
    with reading(workspace) as store:
        return tuple(catalog.attribute_names(store, log_id))


def attributes_of(log: LogInfo) -> tuple[str, ...]:
    """The log's attribute columns (to stratify by), in file order."""
    return _attributes(*where(), log.log_id)


# -- changing the catalogue ------------------------------------------------------
def delete_log(name: str) -> LogInfo:
    """Delete the log ``name`` from the workspace, whole or not at all; return what it held."""
    with writing(workspace_path()) as store:
        gone = catalog.delete_log(store, name)
    if st.session_state.get(_CURRENT_LOG) == name:
        st.session_state.pop(_CURRENT_LOG, None)
    return gone


def rename_log(old: str, new: str) -> None:
    """Rename the log ``old`` to ``new``; the session keeps it selected under its new name."""
    with writing(workspace_path()) as store:
        catalog.rename_log(store, old, new)
    if st.session_state.get(_CURRENT_LOG) == old:
        remember_log(new.strip())


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
    name = st.selectbox("Log", names, index=names.index(wanted), help="The log every page shows.")
    if len(name) > _SHOWN_CHARS:  # the box cuts long names short: the whole name below it
        st.caption(md(name))
    remember_log(name)
    return available[names.index(name)]


# -- widget values that outlive the page --------------------------------------------
_SAVED = "mining.widgets"
_PAGE = "mining.page"
_ARRIVED = "mining.arrived"
_KEYS = "mining.widget_keys"


def enter_page(page: str) -> bool:
    """Note the page this run draws; True on its first run since another page was shown."""
    arrived = st.session_state.get(_PAGE) != page
    st.session_state[_PAGE] = page
    st.session_state[_ARRIVED] = arrived
    return arrived


def keep_widget(key: str, default: object) -> str:
    """A widget key whose value survives moving to another page and back; returns ``key``.

    Streamlit ties a widget's state to the page that drew it and drops it when
    another page runs, so the value is saved (:func:`save_widgets`) and given
    back through the session state before the widget is created: once, and
    again on each arrival on a page (:func:`enter_page`).
    """
    if st.session_state.get(_ARRIVED, False) or key not in st.session_state:
        st.session_state[key] = st.session_state.get(_SAVED, {}).get(key, default)
    keys = st.session_state.setdefault(_KEYS, set())
    keys.add(key)
    return key


def has_widget(key: str) -> bool:
    """True when the widget ``key`` has a value, shown or saved."""
    return key in st.session_state or key in st.session_state.get(_SAVED, {})


def kept_values(prefix: str) -> dict[str, object]:
    """The values of the kept widgets whose keys start with ``prefix``: shown this run, else saved
    (a widget not drawn in the last run keeps its value only among the saved ones)."""
    found = {k: v for k, v in st.session_state.get(_SAVED, {}).items() if k.startswith(prefix)}
    found.update({k: v for k, v in st.session_state.items() if isinstance(k, str) and k.startswith(prefix)})
    return found


def save_widgets() -> None:
    """Save the current value of every key given by :func:`keep_widget`."""
    saved = dict(st.session_state.get(_SAVED, {}))
    for key in st.session_state.get(_KEYS, set()):
        if key in st.session_state:
            saved[key] = st.session_state[key]
    st.session_state[_SAVED] = saved


def reset_widgets(prefix: str) -> None:
    """Forget the saved and current values of the widgets whose keys start with ``prefix`` (a callback)."""
    st.session_state[_SAVED] = {
        k: v for k, v in st.session_state.get(_SAVED, {}).items() if not k.startswith(prefix)
    }
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(prefix)]:
        del st.session_state[key]


def set_widget(key: str, value: object) -> None:
    """Set a kept widget's value from a callback, so it shows on this page and the next."""
    st.session_state[key] = value
    saved = dict(st.session_state.get(_SAVED, {}))
    saved[key] = value
    st.session_state[_SAVED] = saved


# -- the map overlay of the last conformance check, for the Process map page ----
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
    workspace, version = where()
    kept = dict(st.session_state.get(_OVERLAYS, {}))
    kept[log.log_id] = RememberedOverlay(workspace, version, log.log_id, model, overlay)
    st.session_state[_OVERLAYS] = kept


def remembered_overlay(log: LogInfo) -> RememberedOverlay | None:
    """The overlay kept for ``log``, unless the workspace changed since."""
    found = st.session_state.get(_OVERLAYS, {}).get(log.log_id)
    if isinstance(found, RememberedOverlay) and (found.workspace, found.version) == where():
        return found
    return None


# -- the sample logs -------------------------------------------------------------
def ensure_sample() -> IngestSummary | None:
    """Ingest the bundled sample log on a first launch (no workspace file yet); return its summary.

    A workspace whose logs were all deleted stays empty: the user chose that.
    """
    if workspace_path().exists() or not SAMPLE_LOG.is_file():
        return None
    with (
        st.spinner(f"First launch: loading the sample log {SAMPLE_LOG.name}…"),
        writing(workspace_path()) as store,
    ):
        if catalog.list_logs(store):  # another session got there first
            return None
        return ingest_file(store, SAMPLE_LOG, IngestOptions(display_name=SAMPLE_LOG.name))


def sample_models() -> list[Path]:
    """The documented models of the sample logs (``sample_logs/*.bpmn``), by name."""
    return sorted(SAMPLE_LOG.parent.glob("*.bpmn"))


def sample_defaults(name: str) -> tuple[dt.date | None, str]:
    """The change date and the SLA (``"5d"``, or ``""``) documented for the sample log ``name``.

    They are read from ``sample_logs/samples.json`` (:data:`SAMPLE_FACTS`), which the sample
    generator writes beside the logs.  Another log, or no such file, gets ``(None, "")``: the
    Monitoring page then starts without them.
    """
    if not SAMPLE_FACTS.is_file():
        return None, ""
    facts = json.loads(SAMPLE_FACTS.read_text(encoding="utf-8")).get(name)
    if facts is None:
        return None, ""
    return dt.date.fromisoformat(facts["change_date"]), f"{facts['sla_days']}d"


# -- models and label mappings kept in the workspace (the Conformance page) ----------
@st.cache_data(show_spinner=False, max_entries=32)
def _stored_models(workspace: str, version: tuple[int, ...]) -> tuple[StoredModel, ...]:
    from mining.conformance.saved import stored_models as listed

    with reading(workspace) as store:
        return tuple(listed(store))


def stored_models() -> tuple[StoredModel, ...]:
    """The models kept in the workspace, the most recently stored first."""
    if not workspace_path().exists():
        return ()
    return _stored_models(*where())


@st.cache_data(show_spinner=False, max_entries=16)
def _stored_model_bytes(workspace: str, version: tuple[int, ...], sha256: str) -> tuple[str, bytes]:
    from mining.conformance.saved import stored_model

    with reading(workspace) as store:
        return stored_model(store, sha256)


def stored_model_bytes(sha256: str) -> tuple[str, bytes]:
    """The file name and bytes of a model kept in the workspace."""
    return _stored_model_bytes(*where(), sha256)


@st.cache_data(show_spinner=False, max_entries=64)
def _saved_mapping(workspace: str, version: tuple[int, ...], log_id: int, sha256: str) -> LabelMapping | None:
    from mining.conformance.saved import saved_mapping

    with reading(workspace) as store:
        return saved_mapping(store, log_id, sha256)


def saved_mapping_of(log: LogInfo, sha256: str) -> LabelMapping | None:
    """The label mapping saved for this log and model, or None."""
    return _saved_mapping(*where(), log.log_id, sha256)


@st.cache_data(show_spinner=False, max_entries=64)
def _last_model(workspace: str, version: tuple[int, ...], log_id: int) -> str | None:
    from mining.conformance.saved import last_model

    with reading(workspace) as store:
        return last_model(store, log_id)


def last_model_of(log: LogInfo) -> str | None:
    """The SHA-256 of the model this log was last mapped against, or None."""
    return _last_model(*where(), log.log_id)


def keep_model(name: str, data: bytes) -> StoredModel:
    """Store an uploaded model in the workspace (one write; a model that cannot be read is refused)."""
    from mining.conformance.saved import model_sha256, store_model

    digest = model_sha256(data)
    for found in stored_models():
        if found.sha256 == digest:
            return found
    with st.spinner(f"Keeping {name} in the workspace…"), writing(workspace_path()) as store:
        kept, _ = store_model(store, name, data)
    return kept


def keep_mapping(log: LogInfo, name: str, data: bytes, mapping: LabelMapping) -> None:
    """Save the mapping of this log and model, and the model with it, in one write."""
    from mining.conformance.saved import model_sha256, save_mapping, store_model

    digest = model_sha256(data)
    with writing(workspace_path()) as store:
        if digest not in {m.sha256 for m in stored_models()}:
            store_model(store, name, data)
        save_mapping(store, log.log_id, digest, name, mapping)
