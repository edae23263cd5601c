"""Scratch folders do not outlive their process: a killed reading's folder is swept, a live one never."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from mining.ingest import IngestOptions, ingest_file
from mining.ingest.job import INGEST_MODULES, start_ingest
from mining.scratch import ScratchDir, scratch_dir, sweep
from mining.store import Store
from tests.conftest import FILES, SAMPLE_LOGS

_HOLD = """
import sys, time
from mining.scratch import ScratchDir
d = ScratchDir("held")
(d.path / "big.csv").write_text("x" * 1000)
print(d.path, flush=True)
time.sleep(600)
"""


@pytest.fixture
def tmp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The system temp folder, for this test and the children it starts, is a fresh one."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setenv("TMPDIR", str(root))
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


def _holder() -> tuple[subprocess.Popen[str], Path]:
    proc = subprocess.Popen([sys.executable, "-c", _HOLD], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, Path(proc.stdout.readline().strip())


def _ours(root: Path) -> list[str]:
    return sorted(p.name.rsplit("-", 1)[0] for p in root.iterdir() if p.name.startswith("mining-"))


def test_a_folder_is_removed_after_its_block(tmp_root: Path) -> None:
    with scratch_dir("ingest") as path:
        (path / "a.csv").write_text("a")
        assert path.parent == tmp_root
        assert path.name.startswith("mining-ingest-")
    assert not path.exists()
    assert _ours(tmp_root) == []


def test_a_killed_owners_folder_is_swept_and_a_live_owners_is_kept(tmp_root: Path) -> None:
    killed, dead_path = _holder()
    live, live_path = _holder()
    try:
        killed.send_signal(signal.SIGKILL)
        killed.wait()
        assert (dead_path / "big.csv").is_file()  # a killed process runs no cleanup
        assert sweep() == 1
        assert not dead_path.exists()
        assert (live_path / "big.csv").is_file()
        assert _ours(tmp_root) == ["mining-held"]
    finally:
        live.kill()
        live.wait()
    assert sweep() == 1
    assert _ours(tmp_root) == []


def test_a_folder_held_in_this_process_is_kept(tmp_root: Path) -> None:
    held = ScratchDir("upload")
    try:
        assert sweep() == 0
        assert held.path.is_dir()
    finally:
        held.close()
        held.close()  # twice is harmless
    assert _ours(tmp_root) == []


def test_a_folder_without_a_lock_is_swept_only_once_a_day_old(tmp_root: Path) -> None:
    young = tmp_root / "mining-ingest-young"
    old = tmp_root / "mining-ingest-old"
    other = tmp_root / "someone-elses"
    for path in (young, old, other):
        path.mkdir()
    day_ago = time.time() - 25 * 3600
    os.utime(old, (day_ago, day_ago))
    os.utime(other, (day_ago, day_ago))
    assert sweep() == 1
    assert sorted(p.name for p in tmp_root.iterdir()) == ["mining-ingest-young", "someone-elses"]


def test_a_cancelled_ingest_leaves_a_folder_that_the_next_ingest_sweeps(
    tmp_root: Path, tmp_path: Path
) -> None:
    ws = tmp_path / "ws.duckdb"
    # A preload of its own: a fresh child, started with this test's temp folder.
    job = start_ingest(
        ws, SAMPLE_LOGS / "service_desk.csv", IngestOptions(), preload=(*INGEST_MODULES, "json")
    )
    deadline = time.monotonic() + 120
    while job.status().message == "Starting":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    job.cancel()
    assert _ours(tmp_root) == ["mining-ingest"]
    with Store() as store:
        summary = ingest_file(store, FILES / "ingest" / "small.csv")
    assert summary.events > 0
    assert _ours(tmp_root) == []
