"""Work in a limited child: results, errors, progress and early stops come back; a child that needs more memory
or time than allowed is stopped with a plain message, and the caller (this test process) carries on."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mining.errors import IngestError, LimitExceeded, MiningError
from mining.ingest.job import file_task
from mining.limits import (
    Limits,
    Task,
    format_size,
    machine_memory,
    memory_limit,
    parse_size,
    prepare,
    run,
    start,
)
from tests import childwork
from tests.hostile import far_cell_xlsx

TASK = Task("the file export.csv", "read", "split the export into smaller files")
SMALL = Limits(memory=300 * 1000**2, seconds=60)


def test_a_child_returns_its_value_and_its_progress_in_order() -> None:
    seen: list[tuple[int, int]] = []
    assert run(childwork.steps, 5, task=TASK, limits=SMALL, progress=lambda d, t: seen.append((d, t))) == (
        "done",
        5,
    )
    # Polling may skip a payload, never reorder or invent one; the last one always arrives.
    assert seen == sorted(set(seen)) and seen[-1] == (5, 5) and all(t == 5 for _, t in seen)


def test_a_library_error_comes_back_as_itself_with_its_hint() -> None:
    with pytest.raises(IngestError) as err:
        run(childwork.fail, task=TASK, limits=SMALL)
    assert str(err.value) == "bad.csv, row 3, column 'when': expected a date"
    assert err.value.hint == "pass --timestamp-format"


def test_a_bug_in_the_child_keeps_its_traceback() -> None:
    with pytest.raises(RuntimeError) as err:
        run(childwork.divide, 1, 0, task=TASK, limits=SMALL)
    assert not isinstance(err.value, MiningError)
    assert "the file export.csv: the work failed in its child process" in str(err.value)
    assert "ZeroDivisionError: division by zero" in str(err.value)


def test_memory_under_the_limit_is_given_on_top_of_what_the_child_holds() -> None:
    assert run(childwork.allocate, 150, task=TASK, limits=SMALL) == 150


def test_memory_beyond_the_limit_stops_the_child_with_a_plain_message() -> None:
    with pytest.raises(LimitExceeded) as err:
        run(childwork.allocate, 2000, task=TASK, limits=SMALL)
    assert (err.value.kind, err.value.limit) == ("memory", 300 * 1000**2)
    assert str(err.value) == (
        "the file export.csv needs more than 300 MB of memory to read; it was stopped, and nothing was changed"
    )
    assert (
        err.value.hint
        == "split the export into smaller files, or give it more memory with --memory-limit 1GB"
    )
    assert run(childwork.allocate, 10, task=TASK, limits=SMALL) == 10  # and the next job runs


def test_a_rust_library_that_aborts_on_a_failed_allocation_is_a_limit_not_a_crash() -> None:
    # polars aborts the whole process ("memory allocation of 16000000000 bytes failed").
    with pytest.raises(LimitExceeded) as err:
        run(childwork.polars_allocates, 2_000_000_000, task=TASK, limits=SMALL, preload=("polars",))
    assert err.value.kind == "memory"
    assert str(err.value).startswith("the file export.csv needs more than 300 MB of memory to read")


def test_a_reader_that_allocates_a_far_away_cell_cannot_take_the_caller_down(tmp_path: Path) -> None:
    # The 1.4 KB workbook whose used range reaches XFD1048576: a reader that trusts it asks for the
    # whole rectangle.  Whatever the ingest's own reader does with it, a reader that tries is stopped.
    book = far_cell_xlsx(tmp_path / "far.xlsx")
    assert book.stat().st_size < 2000
    with pytest.raises(LimitExceeded) as err:
        run(
            childwork.calamine_reads,
            str(book),
            task=file_task("far.xlsx"),
            limits=Limits(memory=2 * 1000**3),
            preload=("python_calamine",),
        )
    assert err.value.kind == "memory"
    if machine_memory() < 500 * 1000**3:  # the rectangle is 550 GB: more than this machine has
        assert str(err.value) == (
            "the file far.xlsx asked for 549.8 GB of memory at once to read, more than this machine has "
            "(the limit is 2 GB); it was stopped, and nothing was changed"
        )
        assert "export the sheet as CSV" in (err.value.hint or "")
    else:
        assert str(err.value).startswith("the file far.xlsx needs more than 2 GB of memory to read")
    assert os.getpid() and run(childwork.divide, 6, 3, task=TASK, limits=SMALL) == 2.0


def test_duckdb_in_a_limited_child_stays_under_the_limit_and_says_when_it_cannot(tmp_path: Path) -> None:
    setting = run(childwork.duckdb_memory_limit, str(tmp_path / "ws.duckdb"), task=TASK, limits=SMALL)
    held = parse_size(setting)
    assert 64 * 1000**2 <= held < 300 * 1000**2, setting
    with pytest.raises(LimitExceeded) as err:
        run(childwork.duckdb_lists, str(tmp_path / "ws.duckdb"), 200_000_000, task=TASK, limits=SMALL)
    assert err.value.kind == "memory"
    assert str(err.value).startswith("the file export.csv needs more than 300 MB of memory to read")


def test_time_beyond_the_limit_stops_the_child() -> None:
    with pytest.raises(LimitExceeded) as err:
        run(childwork.sleep, 60, task=TASK, limits=Limits(seconds=1))
    assert (err.value.kind, err.value.limit) == ("time", 1)
    assert str(err.value) == (
        "the file export.csv took longer than 1 second to read; it was stopped, and nothing was changed"
    )
    assert err.value.hint == "split the export into smaller files, or give it more time with --time-limit 1h"


def test_a_stop_request_returns_what_the_work_has_done() -> None:
    seen: list[int] = []
    outcome, done = run(
        childwork.steps,
        10_000,
        0.01,
        task=TASK,
        limits=SMALL,
        progress=lambda d, _: seen.append(d),
        stop=lambda: bool(seen),  # once the work has reported a step
    )
    assert outcome == "stopped" and seen[0] <= done < 10_000


def test_a_stop_sent_before_the_child_took_the_job_still_stops_it() -> None:
    job = start(childwork.steps, 10_000, 0.01, task=TASK, limits=SMALL, preload=("tests.childwork", "csv"))
    job.stop()  # the child is still starting: the request waits for it
    assert job.result() == ("stopped", 0)


def test_cancel_kills_the_child_at_once() -> None:
    job = start(childwork.sleep, 60, task=TASK, limits=SMALL)
    job.cancel()
    assert job.status().done
    with pytest.raises(MiningError, match=r"^the file export\.csv was cancelled; nothing was changed$"):
        job.result()


def test_a_reusable_worker_remembers_between_jobs_and_a_one_shot_child_does_not() -> None:
    kept = [run(childwork.count, task=TASK, limits=SMALL, reuse="test-count") for _ in range(3)]
    fresh = [run(childwork.count, task=TASK, limits=SMALL) for _ in range(3)]
    assert kept == [1, 2, 3]
    assert fresh == [1, 1, 1]


def _children_with(module: str) -> set[int]:
    """This process's children that run mining.limits with ``module`` imported ahead."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == os.getpid() and b"serve_child" in b" ".join(argv) and module.encode() in argv:
            found.add(int(entry.name))
    return found


def _wait_for(predicate, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.05)
    return predicate()


def test_prepare_keeps_a_spare_that_the_next_job_runs_in_and_replaces_it_once_the_work_is_quiet() -> None:
    kind = ("tests.childwork", "json")
    prepare(kind)  # at once, or a moment after the jobs of the tests before
    assert _wait_for(lambda: len(_children_with("json")) == 1)
    spares = _children_with("json")
    job = start(childwork.sleep, 1.5, task=TASK, limits=SMALL, preload=kind)
    time.sleep(1.0)
    # While the work runs, its replacement does not start: it would take a core from the work.
    prepare(kind)
    assert _children_with("json") == spares
    assert job.result() == "woke"
    assert _wait_for(lambda: len(_children_with("json") - spares) == 1)  # a new spare, once all is quiet
    replacement = _children_with("json") - spares
    assert run(childwork.pid, task=TASK, limits=SMALL, preload=kind) in replacement


def test_sizes_read_and_print_in_the_same_units() -> None:
    assert parse_size("2GB") == parse_size("2 gb") == parse_size("2G") == 2_000_000_000
    assert parse_size("512MiB") == 512 * 1024**2
    assert parse_size("1.5GB") == 1_500_000_000
    assert format_size(12_600_000_000) == "12.6 GB"
    for bad in ("lots", "-1GB", "0", "2XB", ""):
        with pytest.raises(MiningError, match=r"is not a size; expected e\.g\. 2GB, 512MB or 1\.5GiB"):
            parse_size(bad)


@given(st.integers(min_value=1000, max_value=10**15))
def test_a_printed_size_reads_back_within_five_percent(n: int) -> None:
    back = parse_size(format_size(n).replace(" ", ""))
    assert abs(back - n) <= 0.05 * n


def test_the_default_limit_is_half_the_machine_and_the_setting_overrides_it(monkeypatch) -> None:
    monkeypatch.delenv("MINING_MEMORY_LIMIT", raising=False)
    assert memory_limit() == max(1000**3, machine_memory() // 2)
    monkeypatch.setenv("MINING_MEMORY_LIMIT", "3GB")
    assert memory_limit() == 3_000_000_000
    assert memory_limit("1GB") == 1_000_000_000
    monkeypatch.setenv("MINING_MEMORY_LIMIT", "plenty")
    with pytest.raises(MiningError, match=r"^MINING_MEMORY_LIMIT: 'plenty' is not a size"):
        memory_limit()
