"""Readers are never refused while a writer runs: the app and cron jobs keep working during an ingest.

DuckDB lets one process hold a file read-write and then refuses every other
process, so :func:`mining.store.writing` writes a copy and swaps it in.  These
tests run real second processes, because DuckDB's lock is per process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mining.catalog import list_logs
from mining.errors import WorkspaceBusy
from mining.ingest import ingest_file
from mining.store import Store, writing
from tests.conftest import FILES

ROOT = Path(__file__).resolve().parent.parent
SMALL = FILES / "ingest" / "small.csv"


def _mining(workspace: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mining", "--workspace", str(workspace), *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _names(workspace: Path) -> list[str]:
    with Store(workspace, read_only=True) as store:
        return [i.name for i in list_logs(store)]


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "ws.duckdb"
    with writing(path) as store:
        ingest_file(store, SMALL)
    return path


def test_another_process_reads_the_old_state_while_a_write_is_open(workspace: Path, tmp_path: Path) -> None:
    second = tmp_path / "second.csv"
    second.write_text(SMALL.read_text(encoding="utf-8").replace("1,", "2,"))
    with writing(workspace) as store:
        ingest_file(store, second)
        # Mid-write, another process opens the workspace read-only at once and sees the old state.
        during = _mining(workspace, "logs", "--json")
        assert during.returncode == 0, during.stderr
        assert [entry["log"] for entry in json.loads(during.stdout)["logs"]] == ["small"]
    after = _mining(workspace, "logs", "--json")
    assert [entry["log"] for entry in json.loads(after.stdout)["logs"]] == ["small", "second"]


def test_a_failed_write_leaves_the_workspace_and_no_scratch_file(workspace: Path, tmp_path: Path) -> None:
    before = workspace.read_bytes()
    second = tmp_path / "second.csv"
    second.write_text(SMALL.read_text(encoding="utf-8").replace("1,", "2,"))
    with pytest.raises(RuntimeError, match="boom"), writing(workspace) as store:
        ingest_file(store, second)
        raise RuntimeError("boom")
    assert workspace.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "second.csv",
        "ws.duckdb",
        "ws.duckdb.lock",
    ]
    assert _names(workspace) == ["small"]


def test_writers_queue_and_a_second_one_times_out_with_workspace_busy(workspace: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import sys
            from mining.store import writing
            with writing({str(workspace)!r}):
                print("ready", flush=True)
                sys.stdin.readline()
        """),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with (
            pytest.raises(WorkspaceBusy, match="another mining process is writing"),
            writing(workspace, busy_timeout=0.3),
        ):
            pass
        # Reading is unaffected by the waiting writers.
        assert _names(workspace) == ["small"]
    finally:
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=30)
    with writing(workspace, busy_timeout=5) as store:  # free again once the holder is done
        assert store.scalar("SELECT count(*) FROM logs") == 1


def test_a_killed_writer_leaves_a_scratch_file_that_the_next_writer_removes(workspace: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import sys
            from mining.store import writing
            with writing({str(workspace)!r}) as store:
                store.execute("DELETE FROM logs")
                print("ready", flush=True)
                sys.stdin.readline()
        """),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "ready"
    holder.kill()
    holder.wait(timeout=30)
    scratch = [p.name for p in workspace.parent.iterdir() if p.name.endswith(".tmp") or ".tmp." in p.name]
    assert scratch, "the killed writer's copy is still there"
    assert _names(workspace) == ["small"]
    with writing(workspace, busy_timeout=5):
        pass
    assert [p.name for p in workspace.parent.iterdir() if ".tmp" in p.name] == []
    assert _names(workspace) == ["small"]


@pytest.mark.slow
def test_the_app_keeps_serving_while_a_scheduled_ingest_runs(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("streamlit")
    import duckdb
    from streamlit.testing.v1 import AppTest

    big = tmp_path / "big.csv"
    con = duckdb.connect()
    con.execute(
        "COPY (SELECT 'C' || lpad((i // 8)::VARCHAR, 8, '0') AS case_id, 'step ' || (i % 8) AS activity, "
        "strftime(TIMESTAMP '2024-01-01' + (i * INTERVAL 1 MINUTE), '%Y-%m-%dT%H:%M:%SZ') AS timestamp "
        "FROM range(2000000) t(i)) TO ? (HEADER)",
        [str(big)],
    )
    con.close()
    monkeypatch.setenv("MINING_WORKSPACE", str(workspace))
    child = subprocess.Popen(
        [sys.executable, "-m", "mining", "--workspace", str(workspace), "ingest", str(big)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Wait until the ingest holds the writer lock (its copy exists), then use the app.
        deadline = time.monotonic() + 60
        while not any(".tmp" in p.name for p in workspace.parent.iterdir()):
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, "the ingest never started writing"
            time.sleep(0.05)
        served = 0
        while child.poll() is None and served < 3:
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
            assert not at.exception
            assert not at.error, [e.value for e in at.error]
            assert {m.label: m.value for m in at.metric}["Cases"] == "1"
            served += 1
        assert served >= 1, "the ingest finished before the app was used; make the file bigger"
    finally:
        _out, err = child.communicate(timeout=600)
    assert child.returncode == 0, err
    assert _names(workspace) == ["small", "big"]


def test_the_apps_held_reader_follows_each_write_and_lets_the_old_file_go(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("streamlit", reason="the app is an optional extra")
    import threading

    from mining.ui import state

    opened: list[Store] = []

    class Counted(Store):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            opened.append(self)

    monkeypatch.setattr(state, "Store", Counted)

    def count() -> int:
        with state.reading(str(workspace)) as store:
            return int(store.scalar("SELECT count(*) FROM logs"))

    before = count()
    # Readers of one version, in any thread, share one open file, each with a cursor of its own.
    with state.reading(str(workspace)) as a, state.reading(str(workspace)) as b:
        assert a is not b and a.scalar("SELECT 1") == b.scalar("SELECT 1") == 1
    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(count())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [before] * 4
    assert len(opened) == 1
    # A reader still at work when another process swaps in a write keeps its file; the next read
    # sees the new one, and the old file is closed once that reader is done.
    with state.reading(str(workspace)) as old_reader:
        assert _mining(workspace, "ingest", str(SMALL), "--name", "second").returncode == 0
        assert count() == before + 1
        assert len(opened) == 2
        assert int(old_reader.scalar("SELECT count(*) FROM logs")) == before
    with pytest.raises(Exception, match=r"(?i)closed"):
        opened[0].scalar("SELECT 1")
    assert count() == before + 1 and len(opened) == 2
