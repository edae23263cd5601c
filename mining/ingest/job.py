"""The reading of an export in a child process under limits: the ingest, the preview and the header.

A file is whatever the user uploads, and a reader that meets a hostile one
(a sheet whose used range is a billion cells, thousands of columns) may take
its process down.  So neither the app nor the command line reads an export in
its own process: each reading runs in a child of :mod:`mining.limits`, with a
cap on memory and time, and a child that needs more is stopped with a plain
:class:`~mining.errors.LimitExceeded` ("the file export.xlsx needs more than
2 GB of memory to read").

:func:`start_ingest` also makes an ingest cancellable: the app cannot stop a
DuckDB statement running in its own process, and a large ingest runs for
minutes.  Cancelling kills the child; because every write goes through
:func:`mining.store.writing`, the workspace is exactly as it was (the child's
copy is discarded).  Progress comes as ``(share, message)`` payloads.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mining.errors import MiningError, TooManyRejects
from mining.limits import Job, Limits, Task, memory_limit, report, start
from mining.scratch import scratch_dir

if TYPE_CHECKING:
    from mining.ingest.options import IngestOptions
    from mining.schema import IngestSummary

__all__ = [
    "INGEST_MODULES",
    "READER_CHILD",
    "IngestJob",
    "Status",
    "file_task",
    "header_of",
    "ingest_into",
    "object_types_of",
    "start_ingest",
    "warm_up",
]

#: What a child that reads exports imports before its first job (a spare has them ready).
INGEST_MODULES = (
    "mining.ingest.run",
    "mining.ingest.csv",
    "mining.ingest.sources",
    "mining.ingest.presets",
    "mining.catalog",
    "polars",
    "pyarrow",
)


#: The app's reading children: the modules, then one warm-up read (see :func:`warm_up`).
READER_CHILD = (*INGEST_MODULES, "mining.ingest.job:warm_up")

_WARM_ROWS = "".join(
    f"W{i // 4},{('Open', 'Work', 'Check', 'Close')[i % 4]},2024-03-{1 + i // 8:02d}T{8 + i % 8:02d}:15:00Z,r{i % 3}\n"
    for i in range(40)
)


def warm_up() -> None:
    """Preview and ingest a small log of our own, so that a spare's first real file meets warm code.

    The first read in a process pays for lazy imports, DuckDB's first
    connection and polars' thread pool: about as long again as the read.
    """
    from mining.ingest.run import ingest_file, preview
    from mining.store import Store

    with scratch_dir("warm") as tmp:
        path = Path(tmp) / "warm.csv"
        path.write_text("case_id,activity,timestamp,resource\n" + _WARM_ROWS, encoding="utf-8")
        preview(path)
        header_of(str(path))
        with Store() as store:
            ingest_file(store, path)


def file_task(name: str) -> Task:
    """The reading of the file ``name``, as a limit's message names it."""
    return Task(f"the file {name}", "read", "split the export into smaller files")


@dataclass(frozen=True)
class Status:
    """The latest stage reported by the child."""

    share: float  # 0..1
    message: str
    done: bool


class IngestJob:
    """A running ingest; poll :meth:`status`, then take :meth:`result`, or :meth:`cancel` it."""

    def __init__(self, job: Job) -> None:
        self._job = job

    def status(self) -> Status:
        """The stage the child reached; never blocks."""
        status = self._job.status()
        share, message = status.progress or (0.0, "Starting")
        return Status(1.0 if status.done else float(share), str(message), done=status.done)

    def result(self) -> IngestSummary:
        """The summary; raises the child's :class:`~mining.errors.MiningError` as it was raised there, or
        :class:`~mining.errors.LimitExceeded` when the file needed more memory or time than allowed."""
        return self._job.result()

    def cancel(self) -> None:
        """Stop the child at once; the workspace keeps its state from before the ingest."""
        self._job.cancel()


def start_ingest(
    workspace: str | os.PathLike[str],
    path: str | os.PathLike[str],
    options: IngestOptions,
    *,
    limits: Limits | None = None,
    rejects: str | os.PathLike[str] | None = None,
    reuse: str | None = None,
    keep: bool = True,
    preload: tuple[str, ...] = INGEST_MODULES,
) -> IngestJob:
    """Start ``ingest_file(path, options)`` into ``workspace`` in a child process.

    ``limits`` default to the machine's memory limit (:func:`mining.limits.memory_limit`)
    and no time limit; ``rejects`` is a file for every rejected row (see :func:`ingest_into`);
    ``reuse``, ``keep`` and ``preload`` choose the child (see :func:`mining.limits.start`).
    """
    name = options.display_name or Path(path).name
    job = start(
        ingest_into,
        str(workspace),
        str(path),
        options,
        None if rejects is None else str(rejects),
        task=file_task(name),
        limits=limits or Limits(memory=memory_limit()),
        preload=preload,
        reuse=reuse,
        keep=keep,
    )
    return IngestJob(job)


def ingest_into(
    workspace: str, path: str, options: IngestOptions, rejects: str | None = None
) -> IngestSummary:
    """Ingest ``path`` into ``workspace`` (the child's side of :func:`start_ingest`).

    ``rejects`` receives every rejected row, also when there are too many; it
    is written before the workspace is swapped in, so a file that cannot be
    written leaves the workspace as it was.
    """
    from mining.catalog import export_rejects
    from mining.ingest.run import ingest_file
    from mining.store import writing

    with writing(workspace) as store:
        try:
            summary = ingest_file(store, path, options, progress=report)
        except TooManyRejects as exc:
            if rejects:
                export_rejects(exc.rejects, rejects)  # type: ignore[arg-type]
            raise
        if rejects:
            export_rejects(list(summary.rejects), rejects)
    return summary


def header_of(path: str) -> tuple[str, ...] | None:
    """The column names of a delimited file, in order and without repeats; ``None`` for other formats
    or a file whose header cannot be read (the ingest then says why)."""
    from mining.ingest.csv import prepare_csv
    from mining.ingest.sources import detect_format

    file = Path(path)
    with scratch_dir("header") as tmp:
        try:
            if detect_format(file) != "csv":
                return None
            _, dialect = prepare_csv(file, Path(tmp), display_name=file.name)
        except MiningError:
            return None
    return tuple(dict.fromkeys(h.strip() for h in dialect.header if h.strip()))


def object_types_of(path: str, name: str) -> tuple[tuple[tuple[str, int, int], ...], str] | None:
    """An object-centric (OCEL) file's object types, as ``(type, objects, events touching one)`` with
    the most events first, and the type it is flattened on by default; ``None`` for any other file or
    one that cannot be read (the ingest then says why)."""
    from mining.ingest.presets.ocel import file_object_types

    with scratch_dir("ocel") as tmp:
        try:
            return file_object_types(Path(path), Path(tmp), file=name)
        except MiningError:
            return None
