"""Export one log's canonical tables as Parquet, for an engine beyond one machine.

:func:`export_parquet` writes ``events``, ``cases``, ``variants``,
``attribute_columns``, ``attrs_<log_id>`` and ``logs`` of one log into a
folder, one ``<table>.parquet`` file each, in the stored order (events by
case, timestamp and row number).  That folder is what goes onto shared
storage (S3, HDFS, ADLS, a network drive) for a Spark cluster; see
:mod:`mining.spark` and ``docs/spark.md``.

Everything runs through :meth:`Store.execute` as DuckDB ``COPY (SELECT ...)
TO ... (FORMAT PARQUET)`` with the log id and the file path bound as
parameters.  Timestamps are stored as UTC instants
(``TIMESTAMP(isAdjustedToUTC=true)``), lists as Parquet lists.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mining.errors import StoreError, UnknownLog

if TYPE_CHECKING:
    from mining.store import Store

__all__ = ["CANONICAL_TABLES", "ParquetExport", "export_parquet", "parquet_tables"]

#: Tables filtered by ``log_id``, each with the order its rows are written in.
CANONICAL_TABLES: tuple[tuple[str, str], ...] = (
    ("logs", "log_id"),
    ("events", "case_no, ts, row_no"),
    ("cases", "case_no"),
    ("variants", "variant_id"),
    ("attribute_columns", "position"),
)


@dataclass(frozen=True)
class ParquetExport:
    """What :func:`export_parquet` wrote: ``tables`` maps a table name to its row count."""

    folder: str
    log_id: int
    tables: dict[str, int]

    def path(self, table: str) -> str:
        return _join(self.folder, f"{table}.parquet")


def parquet_tables(log_id: int) -> tuple[str, ...]:
    """The table (and file) names a Parquet folder of log ``log_id`` holds."""
    return (*(name for name, _ in CANONICAL_TABLES), f"attrs_{int(log_id)}")


def export_parquet(store: Store, log_id: int, folder: str | os.PathLike[str]) -> ParquetExport:
    """Write the canonical tables of log ``log_id`` as ``<folder>/<table>.parquet`` files.

    A local folder is created when missing; existing files of the same names
    are replaced.  A URL (``s3://...``) is passed to DuckDB as it is (it then
    needs DuckDB's ``httpfs`` extension and credentials set up by the caller).
    """
    log_id = int(log_id)
    if not store.scalar("SELECT count(*) FROM logs WHERE log_id = ?", [log_id]):
        msg = f"no log with id {log_id} in the workspace"
        raise UnknownLog(msg, hint="list the logs with: mining logs")
    target = os.fspath(folder)
    if "://" not in target:
        path = Path(target)
        if path.exists() and not path.is_dir():
            msg = f"{target} exists and is not a folder"
            raise StoreError(msg)
        path.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for table, order in CANONICAL_TABLES:
        counts[table] = _copy(
            store,
            f"SELECT * FROM {table} WHERE log_id = ? ORDER BY {order}",
            [log_id],
            _join(target, f"{table}.parquet"),
        )
    # attrs_<id> has no log_id column: the table itself belongs to the log.
    attrs = f"attrs_{log_id}"
    counts[attrs] = _copy(
        store, f"SELECT * FROM {attrs} ORDER BY row_no", [], _join(target, f"{attrs}.parquet")
    )
    return ParquetExport(target, log_id, counts)


def _copy(store: Store, select: str, params: list[object], path: str) -> int:
    store.execute(f"COPY ({select}) TO ? (FORMAT PARQUET)", [*params, path])
    return int(store.scalar(f"SELECT count(*) FROM ({select}) AS t", params))


def _join(folder: str, name: str) -> str:
    if "://" in folder:
        return folder.rstrip("/") + "/" + name
    return str(Path(folder) / name)
