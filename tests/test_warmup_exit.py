"""The app's background work and the interpreter's exit: queries under way end, nothing new starts.

A daemon thread still inside a DuckDB query when Python finalises can abort the process, so a
server stopped (or a test run that passed) would end with SIGABRT; the exit waits for it instead.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = r"""
import atexit, threading, time

def late():
    # Registered before the warm-up module, so it runs after that module's exit hook.
    from mining.ui import warmup
    warmup.background(lambda: print("late work ran", flush=True), "late")
    print("late asked", flush=True)

atexit.register(late)

import duckdb
from mining.ui import warmup

started = threading.Event()

def query():
    con = duckdb.connect()
    started.set()
    time.sleep(1.0)  # the query is still to come when the interpreter starts to exit
    total = con.execute("SELECT sum(i) FROM range(1000000) t(i)").fetchone()[0]
    print(f"query done {total}", flush=True)

warmup.background(query, "query")
started.wait()
print("main done", flush=True)
"""


def test_the_exit_waits_for_background_work_and_starts_no_more() -> None:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.splitlines() == ["main done", "query done 499999500000", "late asked"]
