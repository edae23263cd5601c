"""What-if simulation: the engine against SimPy on the same model, and 10 runs of 10,000 cases.

Every measurement runs in a fresh process, several times, interleaved
(ours, SimPy, ours, SimPy, ...); the script prints medians of wall and CPU
seconds and the paired ratio SimPy/ours.  A fixed pure-Python reference
loop is timed in each child too, so a figure can be read against how busy
the machine was (``ref`` column: seconds of the reference loop).

* ``engines``: one model, played by :func:`mining.simulation.engine.run_once`
  and by the same model written for SimPy 4 (a ``Resource`` per pool,
  a process per case).  To compare like with like, both play the model
  without working hours and without delays (SimPy has no calendar of its
  own): routing, resampled processing times and FCFS pools only.
* ``target``: ``study`` (validation excluded) with 10 runs over a horizon
  that brings 10,000 cases a run, on each calibrated log, as the app and
  ``mining simulate`` run it (hours and delays included).

SimPy is not a dependency of mining: install it beside (``pip install
--target DIR simpy==4.1.2``, then ``PYTHONPATH=DIR``) to get its column.

    .venv/bin/python bench/simulation.py --rounds 3
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
SHARED = ROOT.parent / "shared" / "logs"
LOGS = {
    "service_desk": ROOT / "sample_logs" / "service_desk.csv",
    "order_to_cash": ROOT / "sample_logs" / "order_to_cash.csv",
    "bpic2012_W": SHARED / "bpic2012_W_start_complete_simod.xes.gz",
}


def _workspace() -> Path:
    from mining.ingest import IngestOptions, ingest_file
    from mining.store import Store

    OUT.mkdir(parents=True, exist_ok=True)
    ws = OUT / "simulation.duckdb"
    with Store(ws) as store:
        for name, path in LOGS.items():
            if path.exists():
                ingest_file(store, path, IngestOptions(name=name))
    return ws


def _model(ws: str, name: str):
    from mining.catalog import log_id
    from mining.simulation.calibrate import calibrate
    from mining.store import Store

    with Store(ws, read_only=True) as store:
        return calibrate(store, log_id(store, name), name)


def _reference() -> float:
    t = time.perf_counter()
    total = 0
    for i in range(2_000_000):
        total += i % 7
    return time.perf_counter() - t


def _plain(model):
    """The model without hours and delays: what both engines can play the same way."""
    acts = tuple(dataclasses.replace(a, delays=(0.0,)) for a in model.activities)
    pools = tuple(dataclasses.replace(p, hours=(True,) * 168) for p in model.pools)
    return dataclasses.replace(model, activities=acts, pools=pools)


def _simpy_run(model, horizon: float, seed: int) -> tuple[int, float]:
    """One run of ``model`` in SimPy: cases, mean waiting for a person."""
    from bisect import bisect_right
    from itertools import accumulate

    import numpy as np
    import simpy

    from mining.simulation.engine import arrival_times
    from mining.simulation.model import END, local_hour

    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    pools = {p.name: simpy.Resource(env, capacity=p.capacity) for p in model.pools}
    acts = {a.name: a for a in model.activities}
    starts = [a for a, _ in model.start]
    start_cum = list(accumulate(p for _, p in model.start))
    routes = {a: ([b for b, _ in t], list(accumulate(p for _, p in t))) for a, t in model.routing}
    waits: list[float] = []
    hw0 = local_hour(model.period_start, model.timezone)
    arrivals = arrival_times(model, horizon, hw0, model.period_start % 3600.0, rng)

    def case(t0: float):
        yield env.timeout(t0 - env.now)
        waited = 0.0
        act = starts[bisect_right(start_cum, rng.random() * start_cum[-1])]
        for _ in range(500):
            a = acts[act]
            d = a.durations[int(rng.random() * len(a.durations))]
            if a.pool is None:
                yield env.timeout(d)
            else:
                ready = env.now
                with pools[a.pool].request() as req:
                    yield req
                    waited += env.now - ready
                    yield env.timeout(d)
            targets, cum = routes.get(act, ([END], [1.0]))
            act = targets[min(bisect_right(cum, rng.random() * cum[-1]), len(cum) - 1)]
            if act == END:
                break
        waits.append(waited)

    for t in arrivals:
        env.process(case(float(t)))
    env.run()
    return len(waits), float(np.mean(waits)) if waits else 0.0


def _child(args: argparse.Namespace) -> None:
    model = _model(args.workspace, args.log)
    horizon = 86_400 * args.cases / model.cases_per_day
    ref = _reference()
    cpu, wall = time.process_time(), time.perf_counter()
    if args.what == "ours":
        from mining.simulation.engine import run_once

        r = run_once(_plain(model), horizon, 1, 0)
        cases, wait = r.cases, float(r.queue_waits.mean())
    elif args.what == "simpy":
        cases, wait = _simpy_run(_plain(model), horizon, 1)
    else:  # target: 10 runs as the app and the CLI run them
        from mining.simulation.engine import run_many

        runs = run_many(model, horizon, runs=10, seed=0)
        cases, wait = int(sum(r.cases for r in runs) / len(runs)), float(runs[0].queue_waits.mean())
    out = {
        "wall": time.perf_counter() - wall,
        "cpu": time.process_time() - cpu,
        "ref": ref,
        "cases": cases,
        "wait": wait,
        "steps": sum(a.count for a in model.activities) / model.observed.cases,
    }
    print(json.dumps(out))


def _measure(ws: Path, log: str, what: str, cases: int) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        what,
        "--workspace",
        str(ws),
        "--log",
        log,
        "--cases",
        str(cases),
    ]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if res.returncode != 0:
        return {"error": res.stderr.strip().splitlines()[-1] if res.stderr.strip() else "failed"}
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--child")
    parser.add_argument("--workspace")
    parser.add_argument("--log")
    args = parser.parse_args()
    if args.child:
        args.what = args.child
        _child(args)
        return
    ws = _workspace()
    try:
        import simpy  # noqa: F401

        have_simpy = True
    except ImportError:
        have_simpy = False
        print("SimPy is not installed here: its column is left out (see the docstring)")
    from mining.store import Store

    with Store(ws, read_only=True) as store:
        names = [r[0] for r in store.query("SELECT name FROM logs ORDER BY log_id").rows]
    print(f"{args.rounds} rounds, {args.cases:,} cases a run, fresh process per measurement\n")
    print(
        "| log | steps/case | ours wall s | ours cpu s | SimPy wall s | SimPy cpu s | SimPy/ours (cpu) | wait ours | wait SimPy | ref s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for log in names:
        ours, theirs, ratios = [], [], []
        for _ in range(args.rounds):
            a = _measure(ws, log, "ours", args.cases)
            ours.append(a)
            if have_simpy:
                b = _measure(ws, log, "simpy", args.cases)
                theirs.append(b)
                if "cpu" in a and "cpu" in b:
                    ratios.append(b["cpu"] / a["cpu"])

        def med(rows, key):
            vals = [r[key] for r in rows if key in r]
            return statistics.median(vals) if vals else float("nan")

        print(
            f"| {log} | {med(ours, 'steps'):.1f} | {med(ours, 'wall'):.2f} | {med(ours, 'cpu'):.2f} | "
            f"{med(theirs, 'wall'):.2f} | {med(theirs, 'cpu'):.2f} | "
            f"{statistics.median(ratios) if ratios else float('nan'):.1f}x | {med(ours, 'wait'):.0f} | "
            f"{med(theirs, 'wait'):.0f} | {med(ours, 'ref'):.3f} |"
        )
    print("\n10 runs of 10,000 cases (hours and delays included), as `mining simulate --runs 10`:\n")
    print("| log | wall s (median) | cpu s (median) | cases a run | ref s |")
    print("|---|---|---|---|---|")
    for log in names:
        rows = [_measure(ws, log, "target", args.cases) for _ in range(args.rounds)]
        print(
            f"| {log} | {statistics.median(r['wall'] for r in rows):.2f} | "
            f"{statistics.median(r['cpu'] for r in rows):.2f} | {rows[0]['cases']:,} | "
            f"{statistics.median(r['ref'] for r in rows):.3f} |"
        )


if __name__ == "__main__":
    main()
