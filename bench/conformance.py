"""Conformance speed and agreement: mining's conform() against pm4py, side by side in one run.

Logs and models (every pair is checked by both tools against the same net,
written once as PNML to bench/out/ and read by each tool itself):

  sepsis  the real Sepsis log (1,050 cases, 846 variants) against the inductive
          miner's net on its 10 most frequent variants (a "happy path" model)
  sepsis-imf  the same log against IMf (noise 0.2) on all its variants: a larger
          net with more silent steps and concurrency, the hard case for alignments
  rtf     road_traffic_fines (150,370 cases) against its normative net
  o2c1m   the generated order-to-cash log, ~1M events, against sample_logs/order_to_cash.bpmn

Measures (mining call / pm4py call):
  alignments    conform(method="alignments", precision=False)   / pm4py.fitness_alignments
  token-replay  conform(method="token-replay", precision=False) / pm4py.fitness_token_based_replay
  full check    conform(method="alignments")                    / fitness_alignments + precision_token_based_replay
  r4pm alone    r4pm's align_variants on the same variants, one call / pm4py.fitness_alignments
                (the floor of mining's alignments: what r4pm itself takes)
  whole process `mining conform LOG --model NET --json` in a fresh process (start, imports,
                reading the model and the workspace, alignments, precision, deviations,
                the JSON printed) / a fresh python that imports pm4py, reads the CSV,
                formats it, reads the net and calls fitness_alignments +
                precision_token_based_replay.  Wall seconds, and CPU seconds of the
                process (user + system, children included; less noisy on a busy machine)

mining's figures include what pm4py's do not: reading the variants from the
workspace, deviations with duration medians and the map overlay; pm4py
gets a dataframe loaded and formatted beforehand (not timed).  The full
check adds ETC precision to both; its fitness column shows precision.  Each tool runs in a
fresh process per round (tools interleaved A B A B), each measure is called
once to warm up and then ``--runs`` times; medians are printed with the
paired ratio and both tools' fitness.

    python bench/conformance.py [--logs sepsis sepsis-imf rtf o2c1m] [--runs 3] [--pm4py-runs 1] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
SHARED = ROOT.parent / "shared"
MEASURES = ("alignments", "token-replay", "full check")

MINING_CHILD = r"""
import json, statistics, sys, time
from mining.store import Store
from mining.conformance import conform, load_model
ws, model_path, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
model = load_model(model_path)
calls = {
    "alignments": dict(method="alignments", precision=False),
    "token-replay": dict(method="token-replay", precision=False),
    "full check": dict(method="alignments"),
}
out = {}
with Store(ws, read_only=True) as s:
    for name, kw in calls.items():
        result = conform(s, 1, model, **kw)  # warm: imports, file pages
        times = []
        for _ in range(runs):
            t = time.perf_counter(); result = conform(s, 1, model, **kw); times.append(time.perf_counter() - t)
        value = result.precision if name == "full check" else result.fitness
        out[name] = {"seconds": statistics.median(times), "fitness": value, "engine": result.engine,
                     "variants": len(result.variants), "cases": result.cases}
    # The floor: r4pm's own alignment of the same variants in one call, nothing around it.
    from mining import pm4py_adapter as ad
    net, _ = ad.r4pm_net(model.net)
    options = ad.r4pm_options(max_states=None)
    traces = [v.activities for v in result.variants]
    frame = ad.r4pm_frame(traces, range(len(traces)))  # the log align_r4pm builds, in one piece
    times = []
    for _ in range(runs + 1):
        t = time.perf_counter()
        ad.r4pm_align_frame(net, frame, options)  # the call align_r4pm makes per chunk
        times.append(time.perf_counter() - t)
    out["r4pm alone"] = {"seconds": statistics.median(times[1:]), "fitness": float("nan"), "engine": "r4pm",
                         "variants": len(traces), "cases": result.cases}
print(json.dumps(out))
"""

PM4PY_LOAD = r"""
import json, os, statistics, sys, time
os.environ["PM4PY_SHOW_PROGRESS_BAR"] = "false"
import pandas as pd
import pm4py
path, model_path, runs, case, act, ts = sys.argv[1], sys.argv[2], int(sys.argv[3]), *sys.argv[4:7]
df = pd.read_csv(path, usecols=[case, act, ts], dtype={case: str, act: str}, keep_default_na=False)
df[ts] = pd.to_datetime(df[ts], utc=True, format="ISO8601")
df = pm4py.format_dataframe(df, case_id=case, activity_key=act, timestamp_key=ts)
net, im, fm = pm4py.read_pnml(model_path)
"""

# The whole check from a cold start, as a script would run it: nothing timed inside.
PM4PY_WHOLE = (
    PM4PY_LOAD
    + r"""
print(json.dumps({"fitness": pm4py.fitness_alignments(df, net, im, fm)["log_fitness"],
                  "precision": pm4py.precision_token_based_replay(df, net, im, fm)}))
"""
)

PM4PY_CHILD = (
    PM4PY_LOAD
    + r"""
calls = {
    "alignments": lambda: pm4py.fitness_alignments(df, net, im, fm)["log_fitness"],
    "token-replay": lambda: pm4py.fitness_token_based_replay(df, net, im, fm)["log_fitness"],
    "full check": lambda: (pm4py.fitness_alignments(df, net, im, fm),
                           pm4py.precision_token_based_replay(df, net, im, fm))[1],
}
out = {}
for name, call in calls.items():
    times = []
    for _ in range(runs):
        t = time.perf_counter(); fitness = call(); times.append(time.perf_counter() - t)
    out[name] = {"seconds": statistics.median(times), "fitness": fitness}
print(json.dumps(out))
"""
)

LOGS = ("sepsis", "sepsis-imf", "rtf", "o2c1m")


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "PM4PY_SHOW_PROGRESS_BAR": "false"}


def source(key: str) -> tuple[Path, tuple[str, str, str]]:
    if key.startswith("sepsis"):
        return SHARED / "logs" / "sepsis.csv.gz", ("case:concept:name", "concept:name", "time:timestamp")
    if key == "rtf":
        return SHARED / "logs" / "road_traffic_fines.csv.gz", ("case_id", "activity", "timestamp")
    path = OUT / "order_to_cash_1m.csv"
    if not path.exists():
        sys.path.insert(0, str(ROOT))
        from mining.samples import write_log

        OUT.mkdir(parents=True, exist_ok=True)
        write_log("order_to_cash", path, events=1_000_000, seed=1)
    return path, ("case_id", "activity", "timestamp")


def workspace(key: str, path: Path) -> Path:
    ws = OUT / f"ws_conform_{key}.duckdb"
    done = OUT / f"ws_conform_{key}.done"  # written only after a complete ingest
    if not done.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        for stale in OUT.glob(f"ws_conform_{key}.duckdb*"):
            stale.unlink() if stale.is_file() else shutil.rmtree(stale)
        print(f"ingesting {path.name} into {ws.name} ...", flush=True)
        code = (
            "from mining.store import Store; from mining.ingest import ingest_file; import sys\n"
            "with Store(sys.argv[1], memory_limit='2GB') as s: ingest_file(s, sys.argv[2]); s.execute('CHECKPOINT')"
        )
        subprocess.run([sys.executable, "-c", code, str(ws), str(path)], check=True, env=_env())
        done.write_text("ok\n")
    return ws


def model_file(key: str, ws: Path) -> Path:
    """The net both tools check against, as PNML (pm4py's writer; both readers take it)."""
    target = OUT / f"conform_{key}.pnml"
    if target.exists():
        return target
    sys.path.insert(0, str(ROOT))
    from mining import pm4py_adapter
    from mining.analysis.filters import Filter
    from mining.conformance import from_discovered, load_model
    from mining.models import discover
    from mining.store import Store

    if key == "sepsis":
        with Store(ws, read_only=True) as s:
            model = from_discovered(discover(s, 1, Filter(variant_top_k=10)))
    elif key == "sepsis-imf":
        with Store(ws, read_only=True) as s:
            model = from_discovered(discover(s, 1, Filter(), noise=0.2))
    elif key == "rtf":
        model = load_model(SHARED / "models" / "road_traffic_fines_normative_no_data.pnml")
    else:
        model = load_model(ROOT / "sample_logs" / "order_to_cash.bpmn")
    target.write_text(pm4py_adapter.pnml_xml(pm4py_adapter.petri_net(model.net)), encoding="utf-8")
    return target


def child(code: str, *args: str) -> dict[str, dict[str, float]]:
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=_env(), check=False
    )
    if out.returncode != 0:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def whole(cmd: list[str]) -> dict[str, float]:
    """Wall and CPU seconds of one fresh process running ``cmd``, and the precision it printed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env=_env(), check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise SystemExit(out.stderr[-3000:])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"seconds": wall, "cpu": cpu, "fitness": json.loads(out.stdout)["precision"]}


def log_name(ws: Path) -> str:
    sys.path.insert(0, str(ROOT))
    from mining.store import Store

    with Store(ws, read_only=True) as s:
        return str(s.scalar("SELECT name FROM logs WHERE log_id = 1"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--logs", nargs="+", default=list(LOGS), choices=LOGS)
    ap.add_argument("--runs", type=int, default=3, help="timed calls per measure and process (mining)")
    ap.add_argument("--pm4py-runs", type=int, default=1, help="timed calls per measure and process (pm4py)")
    ap.add_argument("--rounds", type=int, default=2, help="fresh-process rounds, tools interleaved")
    args = ap.parse_args()
    print(
        f"{'log':<10} {'measure':<13} {'mining s':>9} {'pm4py s':>9} {'pm4py/mining':>13} "
        f"{'mining fitness':>15} {'pm4py fitness':>14}  engine, variants, cases"
    )
    for key in args.logs:
        path, (case, act, ts) = source(key)
        ws = workspace(key, path)
        model = model_file(key, ws)
        mine: dict[str, list[dict[str, float]]] = {m: [] for m in (*MEASURES, "r4pm alone", "whole process")}
        pm: dict[str, list[dict[str, float]]] = {m: [] for m in (*MEASURES, "whole process")}
        cli = [sys.executable, "-m", "mining", "--workspace", str(ws), "conform", log_name(ws)]
        cli += ["--model", str(model), "--json"]
        for _ in range(args.rounds):  # A B A B: noise hits both alike
            mine["whole process"].append(whole(cli))
            pm["whole process"].append(
                whole([sys.executable, "-c", PM4PY_WHOLE, str(path), str(model), "1", case, act, ts])
            )
            for m, v in child(MINING_CHILD, str(ws), str(model), str(args.runs)).items():
                mine[m].append(v)
            for m, v in child(
                PM4PY_CHILD, str(path), str(model), str(args.pm4py_runs), case, act, ts
            ).items():
                pm[m].append(v)
        for m in MEASURES:
            a = statistics.median(r["seconds"] for r in mine[m])
            if m == "full check":  # before it: the alignments' floor, against pm4py's alignments
                floor = statistics.median(r["seconds"] for r in mine["r4pm alone"])
                ratio = statistics.median(
                    y["seconds"] / x["seconds"]
                    for x, y in zip(mine["r4pm alone"], pm["alignments"], strict=True)
                )
                print(
                    f"{key:<10} {'r4pm alone':<13} {floor:9.3f} {statistics.median(r['seconds'] for r in pm['alignments']):9.3f} "
                    f"{ratio:12.1f}x {'':>15} {'':>14}  r4pm's call on the same variants, nothing around it",
                    flush=True,
                )
            b = statistics.median(r["seconds"] for r in pm[m])
            ratio = statistics.median(
                y["seconds"] / x["seconds"] for x, y in zip(mine[m], pm[m], strict=True)
            )
            last = mine[m][-1]
            print(
                f"{key:<10} {m:<13} {a:9.3f} {b:9.3f} {ratio:12.1f}x {last['fitness']:15.6f} "
                f"{pm[m][-1]['fitness']:14.6f}  {last['engine']}, {last['variants']:,}, {last['cases']:,}",
                flush=True,
            )
        for clock, label in (("seconds", "whole wall"), ("cpu", "whole CPU")):
            a = statistics.median(r[clock] for r in mine["whole process"])
            b = statistics.median(r[clock] for r in pm["whole process"])
            ratio = statistics.median(
                y[clock] / x[clock] for x, y in zip(mine["whole process"], pm["whole process"], strict=True)
            )
            print(
                f"{key:<10} {label:<13} {a:9.3f} {b:9.3f} {ratio:12.1f}x "
                f"{mine['whole process'][-1]['fitness']:15.6f} {pm['whole process'][-1]['fitness']:14.6f}  "
                "fresh process: the CLI's full check / pm4py's script from reading the CSV (precision shown)",
                flush=True,
            )


if __name__ == "__main__":
    main()
