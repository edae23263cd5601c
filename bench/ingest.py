"""Ingest speed and memory: mining against pm4py, side by side, on the same files.

For each size (1M, 10M events) and format (CSV, Parquet) this times, in fresh
processes and interleaved A B A B:

* mining: ``ingest_file`` into a workspace file on disk -- parse, validate,
  sort by (case, time, row), precompute successors, cases and variants, commit;
* pm4py: ``pandas.read_csv``/``read_parquet`` + ``pm4py.format_dataframe``,
  which is what pm4py needs before any algorithm.

It prints the median seconds, events per second, peak RSS of the process, the
stored bytes per event, and the paired ratio pm4py/mining.  Data comes from
the project's generator (``service_desk``), cached under bench/out/.

    python bench/ingest.py [--sizes 1000000 10000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"

CHILD = r"""
import json, os, resource, sys, time
tool, path, workdir = sys.argv[1], sys.argv[2], sys.argv[3]
t0 = time.perf_counter()
if tool == "mining":
    from mining.ingest import ingest_file
    from mining.store import Store
    ws = os.path.join(workdir, "ws.duckdb")
    with Store(ws) as s:
        summary = ingest_file(s, path)
        s.execute("CHECKPOINT")
    events = summary.events
    elapsed = time.perf_counter() - t0
    stored = os.path.getsize(ws)
else:
    import pandas as pd
    import pm4py
    df = pd.read_parquet(path) if path.endswith(".parquet") else pd.read_csv(path, dtype={"case_id": str})
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True, format="ISO8601")
    df = pm4py.format_dataframe(df, case_id="case_id", activity_key="activity", timestamp_key="timestamp")
    events = len(df)
    elapsed = time.perf_counter() - t0
    stored = None
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": elapsed, "events": events, "peak_mib": peak, "stored_bytes": stored}))
"""


def ensure_data(events: int, fmt: str) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"service_desk_{events // 1_000_000}m.{fmt}"
    if not path.exists():
        sys.path.insert(0, str(ROOT))
        from mining.samples import write_log

        print(f"generating {path.name} ...", flush=True)
        write_log("service_desk", path, events=events, seed=1)
    return path


def run_child(tool: str, path: Path) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PM4PY_SHOW_PROGRESS_BAR": "false"}
        out = subprocess.run(
            [sys.executable, "-c", CHILD, tool, str(path), tmp],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if out.returncode != 0:
            raise SystemExit(f"{tool} on {path.name} failed:\n{out.stderr[-3000:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--formats", nargs="+", default=["csv", "parquet"])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--skip-pm4py-above", type=int, default=20_000_000)
    args = ap.parse_args()
    print(
        f"{'size':>6} {'fmt':<8} {'tool':<7} {'median s':>9} {'events/s':>12} {'peak MiB':>9} "
        f"{'B/event':>8} {'pm4py/mining':>13}"
    )
    for size in args.sizes:
        for fmt in args.formats:
            path = ensure_data(size, fmt)
            tools = ["mining"] + (["pm4py"] if size <= args.skip_pm4py_above else [])
            runs: dict[str, list[dict]] = {t: [] for t in tools}
            for _ in range(args.runs):
                for tool in tools:  # interleaved, so noise hits both alike
                    runs[tool].append(run_child(tool, path))
            ratios = (
                [p["seconds"] / m["seconds"] for m, p in zip(runs["mining"], runs["pm4py"], strict=True)]
                if "pm4py" in runs
                else []
            )
            for tool in tools:
                r = runs[tool]
                secs = statistics.median(x["seconds"] for x in r)
                events = r[0]["events"]
                peak = statistics.median(x["peak_mib"] for x in r)
                stored = r[0]["stored_bytes"]
                per_event = f"{stored / events:8.1f}" if stored else f"{'-':>8}"
                ratio = f"{statistics.median(ratios):12.1f}x" if tool == "pm4py" and ratios else f"{'':>13}"
                print(
                    f"{size // 1_000_000:>5}M {fmt:<8} {tool:<7} {secs:9.2f} {events / secs:12,.0f} "
                    f"{peak:9.0f} {per_event} {ratio}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
