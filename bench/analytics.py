"""Analytics speed: mining's measures against pm4py, side by side in one run.

Logs: the generated service desk at 1M and 10M events and the real
road_traffic_fines (561k events).  For mining each log is ingested once into a
cached workspace (bench/out/ws_*.duckdb); each measure is then timed warm in a
fresh process (open the workspace read-only, run it ``--runs`` times, take the
median), because "after ingest" is what a user waits for.  For pm4py the
dataframe is loaded and formatted first (not timed, as pm4py's own benchmarks
do), then each call is timed the same way.

Measures (mining call / pm4py call):
  dfg+perf   dfg()                        / discover_dfg + discover_performance_dfg
  variants   variants()                   / get_variants
  durations  case_durations()             / get_all_case_durations
  heatmap    load_heatmap()               / - (pm4py has no heatmap)
  inductive  discover(algorithm=inductive)/ discover_petri_net_inductive

    python bench/analytics.py [--logs sd1m sd10m rtf] [--runs 5] [--pm4py-runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
SHARED = ROOT.parent / "shared" / "logs"
MEASURES = ("dfg+perf", "variants", "durations", "heatmap", "inductive")

MINING_CHILD = r"""
import json, statistics, sys, time
from mining.store import Store
from mining.analysis.dfg import dfg
from mining.analysis.variants import variants
from mining.analysis.durations import case_durations
from mining.analysis.heatmaps import load_heatmap
from mining.models.discover import discover
ws, runs = sys.argv[1], int(sys.argv[2])
calls = {
    "dfg+perf": lambda s: dfg(s, 1),
    "variants": lambda s: variants(s, 1),
    "durations": lambda s: case_durations(s, 1),
    "heatmap": lambda s: load_heatmap(s, 1),
    "inductive": lambda s: discover(s, 1, algorithm="inductive"),
}
out = {}
with Store(ws, read_only=True) as s:
    for name, call in calls.items():
        call(s)  # warm: the first call pays for reading the file from disk
        times = []
        for _ in range(runs):
            t = time.perf_counter(); call(s); times.append(time.perf_counter() - t)
        out[name] = statistics.median(times)
print(json.dumps(out))
"""

PM4PY_CHILD = r"""
import json, os, statistics, sys, time
os.environ["PM4PY_SHOW_PROGRESS_BAR"] = "false"
import pandas as pd
import pm4py
path, runs, case, act, ts = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
df = pd.read_parquet(path) if path.endswith(".parquet") else pd.read_csv(path, dtype={case: str}, keep_default_na=False)
df[ts] = pd.to_datetime(df[ts], utc=True, format="ISO8601")
# pm4py would take a column named start_timestamp as interval starts; mining's
# case durations run from first to last completion, so compare like with like.
df = df.drop(columns=[c for c in ("start_timestamp",) if c in df.columns])
df = pm4py.format_dataframe(df, case_id=case, activity_key=act, timestamp_key=ts)
calls = {
    "dfg+perf": lambda: (pm4py.discover_dfg(df), pm4py.discover_performance_dfg(df)),
    "variants": lambda: pm4py.get_variants(df),
    "durations": lambda: pm4py.get_all_case_durations(df),
    "inductive": lambda: pm4py.discover_petri_net_inductive(df),
}
out = {}
for name, call in calls.items():
    times = []
    for _ in range(runs):
        t = time.perf_counter(); call(); times.append(time.perf_counter() - t)
    out[name] = statistics.median(times)
print(json.dumps(out))
"""

LOGS = {
    "sd1m": ("service_desk_1m.csv", 1_000_000),
    "sd10m": ("service_desk_10m.csv", 10_000_000),
    "rtf": (None, None),
}


def source(key: str) -> tuple[Path, tuple[str, str, str]]:
    if key == "rtf":
        return SHARED / "road_traffic_fines.csv.gz", ("case_id", "activity", "timestamp")
    name, events = LOGS[key]
    path = OUT / name
    if not path.exists():
        sys.path.insert(0, str(ROOT))
        from mining.samples import write_log

        OUT.mkdir(parents=True, exist_ok=True)
        write_log("service_desk", path, events=events, seed=1)
    return path, ("case_id", "activity", "timestamp")


def workspace(key: str, path: Path) -> Path:
    ws = OUT / f"ws_{key}.duckdb"
    done = OUT / f"ws_{key}.done"  # written only after a complete ingest
    if not done.exists():
        for stale in OUT.glob(f"ws_{key}.duckdb*"):
            stale.unlink() if stale.is_file() else shutil.rmtree(stale)
        print(f"ingesting {path.name} into {ws.name} ...", flush=True)
        code = (
            "from mining.store import Store; from mining.ingest import ingest_file; import sys\n"
            "with Store(sys.argv[1], memory_limit='2GB') as s: ingest_file(s, sys.argv[2]); s.execute('CHECKPOINT')"
        )
        subprocess.run([sys.executable, "-c", code, str(ws), str(path)], check=True, env=_env())
        done.write_text("ok\n")
    return ws


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "PM4PY_SHOW_PROGRESS_BAR": "false"}


def child(code: str, *args: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=_env(), check=False
    )
    if out.returncode != 0:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--logs", nargs="+", default=["sd1m", "rtf", "sd10m"], choices=list(LOGS))
    ap.add_argument("--runs", type=int, default=5, help="timed calls per measure and process")
    ap.add_argument("--pm4py-runs", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=2, help="fresh-process rounds, tools interleaved")
    args = ap.parse_args()
    print(f"{'log':<6} {'measure':<10} {'mining s':>9} {'pm4py s':>9} {'pm4py/mining':>13}")
    for key in args.logs:
        path, (case, act, ts) = source(key)
        ws = workspace(key, path)
        mine: dict[str, list[float]] = {m: [] for m in MEASURES}
        pm: dict[str, list[float]] = {m: [] for m in MEASURES}
        for _ in range(args.rounds):  # A B A B: noise hits both alike
            for m, v in child(MINING_CHILD, str(ws), str(args.runs)).items():
                mine[m].append(v)
            for m, v in child(PM4PY_CHILD, str(path), str(args.pm4py_runs), case, act, ts).items():
                pm[m].append(v)
        for m in MEASURES:
            a = statistics.median(mine[m])
            b = statistics.median(pm[m]) if pm[m] else None
            ratios = [y / x for x, y in zip(mine[m], pm[m], strict=False)] if pm[m] else []
            ratio = f"{statistics.median(ratios):12.1f}x" if ratios else f"{'-':>13}"
            pm_text = f"{b:9.3f}" if b is not None else f"{'-':>9}"
            print(f"{key:<6} {m:<10} {a:9.3f} {pm_text} {ratio}", flush=True)


if __name__ == "__main__":
    main()
