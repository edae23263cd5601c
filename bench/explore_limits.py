"""Hostile logs against the Explore measures: seconds and peak memory per command and page.

Three classes of input, generated here (never committed):

* ``extreme-dates``: 20,000 cases of five events in 2024, and 1 % of the
  events on placeholder dates (9999-12-31, 0001-01-01, 1970-01-01);
* ``many-activities``: 300,000 events whose activity is unique per event
  (an id column mapped as the activity), 100,000 cases;
* ``markup-labels``: a small log whose activities are ``&lt;b&gt;``,
  ``<i>x</i>`` and ``a & b``.

Each is ingested once, then each command (``dfg``, ``variants``,
``bottlenecks``, all ``--json``) and each Explore page (Streamlit's AppTest,
no browser) runs in a fresh process under a memory cap and a time limit;
the script prints the median seconds, the peak RSS and how the run ended
(``ok``, the error's first words, ``killed``, ``timeout``).  ``--code DIR``
measures another checkout (for a before/after table: ``--code /path/to/main``).

    python bench/explore_limits.py [--runs 3] [--code DIR] [--limit-gb 6] [--timeout 300]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "limits"
T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)

CHILD = r"""
import json, os, resource, sys, time
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
kind, ws, log = sys.argv[2], sys.argv[3], sys.argv[4]
t0 = time.perf_counter()
status = "ok"
try:
    if kind.startswith("page:"):
        os.environ["MINING_WORKSPACE"] = ws
        from streamlit.testing.v1 import AppTest
        name = kind[5:]
        at = AppTest.from_string(
            "import streamlit as st\n"
            f"st.session_state['mining.current_log'] = {log!r}\n"
            f"from mining.ui.pages import {name}\n{name}.render()\n",
            default_timeout=600,
        )
        at.run()
        if at.exception:
            status = "crash: " + str(at.exception[0].message)[:60]
        elif at.error:
            status = "refused: " + at.error[0].value[:60]
    else:
        import contextlib, io
        from mining.cli import cli
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()) as err:
            try:
                cli.main(["--workspace", ws, kind, log, "--json"], prog_name="mining", standalone_mode=False)
            except SystemExit as exc:
                if exc.code:
                    status = "refused: " + err.getvalue().strip().splitlines()[0][:60]
            except Exception as exc:
                status = f"crash: {type(exc).__name__}: {str(exc)[:50]}"
        if status == "ok" and err.getvalue().strip():
            status = "refused: " + err.getvalue().strip().splitlines()[0][:60]
except MemoryError:
    status = "memory error"
print(json.dumps({"seconds": time.perf_counter() - t0, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "status": status}), flush=True)
# The app's warm-up thread may still hold DuckDB: end without tearing it down.
os._exit(0)
"""

COMMANDS = ("dfg", "variants", "bottlenecks", "page:overview", "page:process_map", "page:bottlenecks")


def _write(path: Path, rows: list[tuple[str, str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["case", "activity", "timestamp"])
        w.writerows(rows)


def make_inputs() -> dict[str, Path]:
    OUT.mkdir(parents=True, exist_ok=True)
    files = {}
    path = OUT / "extreme_dates.csv"
    if not path.exists():
        rows = []
        placeholders = ("9999-12-31T00:00:00+00:00", "0001-01-01T00:00:00+00:00", "1970-01-01T00:00:00+00:00")
        for c in range(20_000):
            start = T0 + dt.timedelta(minutes=26 * c)
            for i, a in enumerate(("Open", "Triage", "Work", "Review", "Close")):
                stamp = (start + dt.timedelta(hours=5 * i)).isoformat()
                if (c * 5 + i) % 100 == 7:
                    stamp = placeholders[(c // 20) % 3]
                rows.append((f"c{c}", a, stamp))
        _write(path, rows)
    files["extreme-dates"] = path
    path = OUT / "many_activities.csv"
    if not path.exists():
        rows = [
            (f"c{n // 3}", f"step {n:06d}", (T0 + dt.timedelta(minutes=n)).isoformat())
            for n in range(300_000)
        ]
        _write(path, rows)
    files["many-activities"] = path
    path = OUT / "markup_labels.csv"
    if not path.exists():
        names = ("&lt;b&gt;", "<i>x</i>", "a & b")
        rows = [
            (f"c{c}", a, (T0 + dt.timedelta(hours=c + i)).isoformat())
            for c in range(30)
            for i, a in enumerate(names)
        ]
        _write(path, rows)
    files["markup-labels"] = path
    return files


def _env(code: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(code)}


def ingest(code: Path, ws: Path, files: dict[str, Path]) -> None:
    for name, path in files.items():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "mining",
                "--workspace",
                str(ws),
                "ingest",
                str(path),
                "--name",
                name,
                "--case",
                "case",
                "--activity",
                "activity",
                "--timestamp",
                "timestamp",
                "--max-rejects",
                "0.5",
            ],
            env=_env(code),
            check=True,
            capture_output=True,
        )


def run(code: Path, ws: Path, kind: str, log: str, limit: int, timeout: float) -> dict[str, object]:
    try:
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(limit), kind, str(ws), log],
            capture_output=True,
            text=True,
            env=_env(code),
            timeout=timeout,
            check=False,
            cwd=code,
        )
    except subprocess.TimeoutExpired:
        return {"seconds": timeout, "peak_mib": None, "status": "timeout"}
    if out.returncode != 0 or not out.stdout.strip():
        return {"seconds": None, "peak_mib": None, "status": f"killed (exit {out.returncode})"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--code", type=Path, default=ROOT, help="the checkout whose mining package is measured")
    ap.add_argument("--limit-gb", type=float, default=6.0, help="address-space cap of each run")
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--only", nargs="*", help="input classes to run (default: all)")
    args = ap.parse_args()
    files = make_inputs()
    if args.only:
        files = {k: v for k, v in files.items() if k in args.only}
    limit = int(args.limit_gb * 2**30)
    print(f"code: {args.code.resolve()}; {args.runs} runs; cap {args.limit_gb:g} GB, {args.timeout:g} s")
    print(f"{'input':<16} {'command':<18} {'median s':>9} {'peak MiB':>9}  result")
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "ws.duckdb"
        ingest(args.code.resolve(), ws, files)
        for name in files:
            for kind in COMMANDS:
                results = [
                    run(args.code.resolve(), ws, kind, name, limit, args.timeout) for _ in range(args.runs)
                ]
                secs = [r["seconds"] for r in results if r["seconds"] is not None]
                peaks = [r["peak_mib"] for r in results if r["peak_mib"] is not None]
                med = f"{statistics.median(secs):9.2f}" if secs else f"{'-':>9}"
                peak = f"{max(peaks):9.0f}" if peaks else f"{'-':>9}"
                print(f"{name:<16} {kind:<18} {med} {peak}  {results[-1]['status']}", flush=True)


if __name__ == "__main__":
    main()
