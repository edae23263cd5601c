"""Work for the children of tests/test_limits.py: module-level functions, so a child can import them by name.

Kept apart from the test module so that a child imports only this (and what
a function asks for), not pytest.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from mining.errors import IngestError
from mining.limits import report, stop_requested

__all__ = [
    "IMPORTED_AT",
    "allocate",
    "calamine_reads",
    "count",
    "divide",
    "duckdb_lists",
    "duckdb_memory_limit",
    "fail",
    "imported_at",
    "pid",
    "polars_allocates",
    "sleep",
    "steps",
]

#: When this module was imported (in a child: before or after its job arrived).
IMPORTED_AT = time.time()
_calls = 0


def imported_at() -> float:
    return IMPORTED_AT


def pid() -> int:
    return os.getpid()


def count() -> int:
    """How many times this function ran in this process: a reusable worker remembers."""
    global _calls
    _calls += 1
    return _calls


def fail() -> None:
    raise IngestError("bad.csv, row 3, column 'when': expected a date", hint="pass --timestamp-format")


def divide(a: int, b: int) -> float:
    return a / b


def allocate(megabytes: int, step: int = 10) -> int:
    """Hold ``megabytes`` MB, touched, in ``step`` MB blocks; return the MB held."""
    held = [bytearray(step * 1000**2) for _ in range(megabytes // step)]
    return sum(len(b) for b in held) // 1000**2


def polars_allocates(rows: int) -> int:
    """A polars column of ``rows`` 64-bit integers: polars (Rust) aborts the process when that cannot be had."""
    import polars as pl

    return pl.select(pl.int_range(0, rows, eager=False).alias("a")).height


def calamine_reads(path: str) -> int:
    """A reader that trusts a sheet's declared dimensions: python-calamine reads the whole used range."""
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(path)
    return len(book.get_sheet_by_index(0).to_python())


def duckdb_memory_limit(workspace: str) -> str:
    """The memory limit DuckDB runs with in this process."""
    from mining.store import Store

    with Store(Path(workspace)) as store:
        return str(store.scalar("SELECT current_setting('memory_limit')"))


def duckdb_lists(workspace: str, rows: int) -> int:
    """One DuckDB list of ``rows`` integers: it cannot spill, so past DuckDB's limit it runs out of memory."""
    from mining.store import Store

    with Store(Path(workspace)) as store:
        return int(store.scalar("SELECT len(list(range)) FROM range(?)", [rows]))


def sleep(seconds: float) -> str:
    time.sleep(seconds)
    return "woke"


def steps(n: int, pause: float = 0.02) -> tuple[str, int]:
    """``n`` steps, each reported as ``(done, n)``; stops early, saying how far it got, when asked."""
    for i in range(n):
        if stop_requested():
            return ("stopped", i)
        report(i + 1, n)
        time.sleep(pause)
    return ("done", n)
