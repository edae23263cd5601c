"""The long work of the app and the command line, as functions a limited child process runs.

Each function here is what one child of :mod:`mining.limits` does: it opens
the workspace itself (read-only, or through :func:`mining.store.writing` to
store), does the work, and returns a plain record, so nothing but the result
crosses back to the caller.  Progress goes out with
:func:`mining.limits.report` and an early stop comes in through
:func:`mining.limits.stop_requested` (a check cut short returns what it
aligned).  Readings of export files are in :mod:`mining.ingest.job`.

The monitoring run keeps its costly stages (the case facts and the Lean view)
in this process between runs on the same workspace state, so the app's
reusable monitoring worker answers another period or change date at once.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterator, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mining.limits import Task, report, stop_requested

if TYPE_CHECKING:
    from mining.analysis.filters import Filter
    from mining.conformance import Allowlist, ConformanceResult
    from mining.conformance.labels import LabelMapping
    from mining.conformance.rules import Rule
    from mining.models import ProcessModel
    from mining.models.discover import DiscoveredModel
    from mining.monitor.run import MonitorOptions, MonitorRun

__all__ = [
    "AHEAD_NICENESS",
    "CHECK_CHILD",
    "CHECK_MODULES",
    "MONITOR_MODULES",
    "CheckDone",
    "DiscoverDone",
    "MonitorDone",
    "check_conformance",
    "check_task",
    "conform_command",
    "conform_on",
    "discover_command",
    "discover_on",
    "discover_task",
    "monitor_command",
    "monitor_run",
    "monitor_task",
    "monitor_warm",
    "warm_check",
]

#: What a conformance or discovery child imports before its first job.
CHECK_MODULES = ("mining.conformance.check", "mining.models", "mining.pm4py_adapter", "pm4py", "r4pm")
#: The app's checking children: the modules, then one small check (see :func:`warm_check`).
CHECK_CHILD = (*CHECK_MODULES, "mining.jobs:warm_check")
#: What a monitoring child imports before its first job.
MONITOR_MODULES = ("mining.monitor.run", "scipy.stats")


def check_task(log: str) -> Task:
    """A conformance check of ``log``, as a limit's message names it."""
    return Task(f"the conformance check of {log!r}", "finish", "filter the log to fewer cases or variants")


def discover_task(log: str) -> Task:
    """A discovery on ``log``, as a limit's message names it."""
    return Task(f"discovering a model of {log!r}", "finish", "mine fewer variants (--top-variants)")


def monitor_task(log: str) -> Task:
    """A monitoring run of ``log``, as a limit's message names it."""
    return Task(f"monitoring {log!r}", "finish", "filter the log to a shorter time window")


# -- conformance -------------------------------------------------------------------------------
def warm_check() -> None:
    """Check a small log of our own against a small model, so that a spare's first check meets warm code."""
    from mining.conformance.check import conform
    from mining.ingest.run import ingest_file
    from mining.models import load_model
    from mining.scratch import scratch_dir
    from mining.store import Store

    rows = "".join(
        f"w{i // 3},{'ABC'[i % 3] if i % 7 else 'D'},2024-03-01T{8 + i % 12:02d}:{i % 60:02d}:00Z\n"
        for i in range(60)
    )
    with scratch_dir("warm") as tmp, Store() as store:
        path = Path(tmp) / "warm.csv"
        path.write_text("case_id,activity,timestamp\n" + rows, encoding="utf-8")
        summary = ingest_file(store, path)
        log_id = store.scalar("SELECT log_id FROM logs WHERE name = ?", [summary.log])
        conform(store, log_id, load_model(b"A\nB\nC\n", "warm.txt"))


def check_conformance(
    workspace: str,
    log_id: int,
    model: ProcessModel,
    flt: Filter | None,
    *,
    method: str,
    mapping: LabelMapping | None,
    allow: Allowlist | None,
    budget: float | None,
    force: bool = False,
) -> ConformanceResult:
    """The app's check: ``(done, total)`` progress; an early stop returns what was aligned."""
    from mining.conformance.check import conform
    from mining.store import Store

    with Store(workspace, read_only=True, busy_timeout=5.0) as store:
        return conform(
            store,
            log_id,
            model,
            flt,
            method=method,
            mapping=mapping,
            allow=allow,
            budget=budget,
            progress=report,
            cancel=stop_requested,
            force=force,
        )


@dataclass(frozen=True)
class CheckDone:
    """What ``mining conform`` prints: the result and the deviating cases written, if asked."""

    result: ConformanceResult
    written: int | None


def conform_command(workspace: str, log: str, model_path: str, **options: Any) -> CheckDone:
    """``mining conform`` in a child: :func:`conform_on` the workspace."""
    from mining.store import Store

    with Store(workspace, read_only=True) as store:
        return conform_on(store, log, model_path, **options)


def conform_on(
    store: Any,
    log: str,
    model_path: str,
    *,
    method: str,
    mapping: LabelMapping,
    allow: Allowlist | None,
    budget: float | None,
    precision: bool,
    cases_path: str | None,
    force: bool = False,
    use_saved: bool = False,
) -> CheckDone:
    """``mining conform`` on a store (the workspace, or Spark); the model file is read here.

    With ``use_saved`` (no labels given on the command line), the mapping saved in
    the workspace for this log and model by the app is used, and a note says so.
    """
    import dataclasses

    from mining.catalog import log_id
    from mining.conformance import conform, deviating_cases, export_cases, load_model
    from mining.conformance.check import checked_variants
    from mining.conformance.saved import model_sha256, saved_mapping

    model = load_model(model_path)
    lid = log_id(store, log)
    saved = saved_mapping(store, lid, model_sha256(Path(model_path).read_bytes())) if use_saved else None
    if saved is not None:
        activities = sorted({a for acts, _, _ in checked_variants(store, lid) for a in acts})
        mapping = saved.restricted(model.tasks, activities)
    result = conform(
        store,
        lid,
        model,
        method=method,
        mapping=mapping,
        allow=allow,
        budget=budget,
        precision=precision,
        force=force,
    )
    if saved is not None:
        note = "used the label mapping saved in the workspace for this log and model"
        result = dataclasses.replace(result, notes=(*result.notes, note))
    written = export_cases(deviating_cases(store, result), cases_path) if cases_path else None
    return CheckDone(result, written)


# -- discovery ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class DiscoverDone:
    """What ``mining discover`` prints: the model and the file written, if asked."""

    model: DiscoveredModel
    written: str | None


def discover_command(workspace: str, log: str, flt: Filter | None, **options: Any) -> DiscoverDone:
    """``mining discover`` in a child: :func:`discover_on` the workspace."""
    from mining.store import Store

    with Store(workspace, read_only=True) as store:
        return discover_on(store, log, flt, **options)


def discover_on(
    store: Any,
    log: str,
    flt: Filter | None,
    *,
    algorithm: str,
    noise: float,
    dependency_threshold: float,
    budget: float | None,
    output: str | None,
) -> DiscoverDone:
    """``mining discover`` on a store (the workspace, or Spark): mine the model and write it."""
    from mining.catalog import log_id
    from mining.models.discover import discover, write_model

    model = discover(
        store,
        log_id(store, log),
        flt,
        algorithm=algorithm,
        noise=noise,
        dependency_threshold=dependency_threshold,
        budget=budget,
    )
    return DiscoverDone(model, str(write_model(model, output)) if output else None)


# -- monitoring --------------------------------------------------------------------------------
class _Memo(MutableMapping[Hashable, object]):
    """A small LRU mapping (the monitoring run's case facts and Lean view)."""

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


#: The niceness of a monitoring run computed ahead of the page (:func:`monitor_warm`).
AHEAD_NICENESS = 10

#: One memo per workspace state (path, version): a write gives a new version, hence a fresh memo.
#: Twelve entries hold the case facts, KPIs per period, strata and Lean views of a few filters (a 1M-event
#: log's facts take ~30 MB, the others far less); beside them, the last eight whole runs (a background run
#: hands its result to the page this way).
_MEMOS: OrderedDict[tuple[str, tuple[int, ...]], tuple[_Memo, _Memo]] = OrderedDict()
_MEMOS_KEPT = 2


def _memo(workspace: str, version: tuple[int, ...]) -> tuple[_Memo, _Memo]:
    key = (workspace, version)
    if key not in _MEMOS:
        _MEMOS[key] = (_Memo(12), _Memo(8))
        while len(_MEMOS) > _MEMOS_KEPT:
            _MEMOS.popitem(last=False)
    _MEMOS.move_to_end(key)
    return _MEMOS[key]


def monitor_run(
    workspace: str, version: tuple[int, ...], log_id: int, flt: Filter | None, options: MonitorOptions
) -> MonitorRun:
    """The app's monitoring run; another period, change date or SLA on the same data reuses the facts,
    and the very same run (one :func:`monitor_warm` computed ahead) is served as it was computed."""
    from mining.monitor.run import monitor
    from mining.store import Store

    stages, runs = _memo(workspace, version)
    key = (log_id, flt, options)
    try:
        return runs[key]  # type: ignore[return-value]
    except KeyError:
        pass
    with Store(workspace, read_only=True, busy_timeout=5.0) as store:
        run = runs[key] = monitor(store, log_id, flt, options, memo=stages)
    return run


def monitor_warm(
    workspace: str, version: tuple[int, ...], log_id: int, flt: Filter | None, options: MonitorOptions
) -> None:
    """:func:`monitor_run` ahead of the page, kept in this worker, and the strata a change date typed
    next would need (:func:`~mining.monitor.run.keep_stratum`); nothing but ``None`` goes back.

    It runs at a lower CPU priority (:data:`AHEAD_NICENESS`), in a thread of its own: on two cores,
    work done for a page the user may open must not slow the page they are looking at.  The
    niceness is the thread's, and DuckDB's threads started from it inherit it; the worker's main
    thread, which serves the pages' runs, keeps its own.
    """
    from mining.monitor.run import keep_stratum
    from mining.store import Store

    failed: list[BaseException] = []

    def ahead() -> None:
        try:
            with contextlib.suppress(OSError):  # a system that refuses it: the same work, at full priority
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), AHEAD_NICENESS)
            monitor_run(workspace, version, log_id, flt, options)
            with Store(workspace, read_only=True, busy_timeout=5.0) as store:
                keep_stratum(store, log_id, flt, options, _memo(workspace, version)[0])
        except BaseException as exc:  # handed to the caller's thread, which reports it as any job's
            failed.append(exc)

    thread = threading.Thread(target=ahead, name="monitoring ahead")
    thread.start()
    thread.join()
    if failed:
        raise failed[0]


@dataclass(frozen=True)
class MonitorDone:
    """What ``mining monitor`` prints: the run, its JSON, whether it was stored before, and why it was not
    stored now (``unstored``: the workspace is read-only), if so."""

    run: MonitorRun
    text: str
    known: bool
    unstored: str | None = None


def monitor_command(
    workspace: str,
    log: str,
    options: MonitorOptions,
    *,
    since: Any,
    until: Any,
    rules: tuple[Rule, ...],
    model_file: str | None,
    save: bool = True,
) -> MonitorDone:
    """``mining monitor`` in a child: the run (the model file is read here), and storing it when it is new.

    With ``save=False`` the caller stores a new run itself, together with what it records of its own
    (the digest e-mailed), so that a failed send leaves nothing stored and the next run tries again.
    """
    from zoneinfo import ZoneInfo

    from mining.analysis.calendar import clock
    from mining.analysis.filters import Filter
    from mining.catalog import log_id
    from mining.errors import StoreError
    from mining.monitor.run import conformance_measures, monitor, run_json, save_run
    from mining.store import Store, check_writable, writing

    with Store(workspace, read_only=True) as store:
        lid = log_id(store, log)
        flt = None
        if since or until:
            # A date without an offset means local midnight where the periods are counted.
            zone = ZoneInfo(clock(store, lid, options.calendar, timezone=options.timezone).timezone)
            since, until = (t if t is None or t.tzinfo else t.replace(tzinfo=zone) for t in (since, until))
            flt = Filter(start=since, end=until, window="started")
        measures = None
        if model_file:
            from mining.conformance.saved import model_sha256, saved_mapping
            from mining.models import load_model

            # The label mapping confirmed in the app for this log and model, if any.
            mapping = saved_mapping(store, lid, model_sha256(Path(model_file).read_bytes()))
            measures = conformance_measures(store, lid, load_model(Path(model_file)), flt, mapping=mapping)
        run = monitor(store, lid, flt, options, measures=measures, rules=rules)
        known = _stored(store, run.key)
    text = run_json(run)
    if known:
        return MonitorDone(run, text, known)
    try:
        check_writable(workspace)
    except StoreError as exc:
        # A workspace the user made read-only is read, never written: the run is reported, not recorded.
        return MonitorDone(run, text, known, unstored=str(exc).split(";")[0])
    if not save:
        return MonitorDone(run, text, known)
    with writing(workspace) as store:
        save_run(store, run, text=text)
    return MonitorDone(run, text, known)


def _stored(store: Any, key: str) -> bool:
    # A workspace from before the monitor migration has no table yet: nothing is stored.
    has_table = store.scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'monitor_runs'"
    )
    return bool(has_table) and bool(
        store.scalar("SELECT count(*) FROM monitor_runs WHERE run_key = ?", [key])
    )
