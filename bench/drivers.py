"""The driver finder: how often it finds planted drivers, how quiet it stays on null logs, and how fast it is.

1. **Rates.**  ``tests/driverlog.py`` writes logs with two planted drivers
   (channel = Partner, product = P4), a bystander riding with the channel, a
   leaked field and 20 noise attributes; and null logs where nothing matters.
   Over ``--seeds`` seeds: how often both drivers rank in the top 3, how often
   the bystander is reported without its confounder, how often the leak is
   excluded; over as many null logs: how many report no driver.
2. **Speed.**  A generated log of ``--events`` events (four per case) with 30
   attributes is ingested once (cached in bench/out/); ``find_drivers`` is
   then timed in ``--runs`` fresh processes (opening the workspace read-only,
   the reference warms the file, then one timed call), interleaved with a reference in the
   same processes: a plain DuckDB group-by of every attribute's values over
   the same events (one query per attribute).  Wall and CPU seconds (user and
   system of the whole process, DuckDB's threads included: the steadier figure
   on a loaded machine), medians and the paired ratio, and the load average.
   With ``--before DIR`` (a checkout of another commit, e.g. ``git archive
   main | tar -x -C DIR``) each run also times that code in its own fresh
   process, interleaved, on the same workspace.

    python bench/drivers.py [--seeds 10] [--cases 1500] [--events 1000000] [--runs 5] [--before DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))

CHILD = r"""
import json, os, sys, time
from mining.store import Store
from mining.drivers.find import find_drivers
ws, outcome = sys.argv[1], sys.argv[2]
with Store(ws, read_only=True) as s:
    columns = [r[0] for r in s.query("SELECT column_name FROM attribute_columns WHERE log_id = 1").rows]
    def reference():
        for c in columns:
            s.query(f'SELECT a."{c}", count(*) FROM events e JOIN attrs_1 a USING (row_no) '
                    f'WHERE e.log_id = 1 GROUP BY 1').rows
    def cpu():
        t = os.times()
        return t.user + t.system
    reference()
    t, c = time.perf_counter(), cpu(); reference(); ref, ref_cpu = time.perf_counter() - t, cpu() - c
    t, c = time.perf_counter(), cpu(); r = find_drivers(s, 1, outcome); warm, warm_cpu = time.perf_counter() - t, cpu() - c
print(json.dumps({"reference": ref, "reference_cpu": ref_cpu, "warm": warm, "warm_cpu": warm_cpu,
                  "drivers": [[d.attribute, d.value] for d in r.drivers[:3]],
                  "report": repr((r.drivers, r.excluded, r.tested)), "tested": r.tested, "columns": len(columns),
                  "load": os.getloadavg()[0]}))
"""


def rates(seeds: int, cases: int) -> None:
    from mining.drivers.find import find_drivers
    from mining.ingest import IngestOptions, ingest_file
    from mining.store import Store
    from tests.driverlog import BYSTANDER, DRIVERS, LEAKED, write_driver_log

    top3 = bystander_alone = bystander_seen = leak_excluded = quiet = 0
    with tempfile.TemporaryDirectory() as tmp, Store() as store:
        for seed in range(seeds):
            path = write_driver_log(Path(tmp) / f"p{seed}.csv", seed=seed, cases=cases)
            report = find_drivers(
                store, ingest_file(store, path, IngestOptions(name=f"p{seed}")).log_id, "duration"
            )
            pairs = [(d.attribute, d.value) for d in report.drivers]
            top3 += all(d in pairs[:3] for d in DRIVERS)
            for d in report.drivers:
                if (d.attribute, d.value) == BYSTANDER:
                    bystander_seen += 1
                    bystander_alone += "channel" not in d.confounded_by
            leak_excluded += any(
                e.attribute == LEAKED and e.reason.startswith("leakage") for e in report.excluded
            )
            null = write_driver_log(Path(tmp) / f"n{seed}.csv", seed=1000 + seed, cases=cases, slow=1.0)
            quiet += not find_drivers(
                store, ingest_file(store, null, IngestOptions(name=f"n{seed}")).log_id, "duration"
            ).drivers
    print(f"planted logs ({seeds} seeds, {cases} cases each, outcome duration):")
    print(f"  both true drivers in the top 3: {top3}/{seeds}")
    print(
        f"  bystander reported: {bystander_seen}/{seeds}, of which without its confounder: {bystander_alone}"
    )
    print(f"  leaked field excluded as leakage: {leak_excluded}/{seeds}")
    print(f"null logs ({seeds}): no driver reported in {quiet}/{seeds}")


def speed(events: int, runs: int, outcomes: tuple[str, ...], before: Path | None = None) -> None:
    from mining.ingest import IngestOptions, ingest_file
    from mining.store import Store
    from tests.driverlog import write_driver_log

    OUT.mkdir(parents=True, exist_ok=True)
    cases = events // 4
    ws = OUT / f"ws_drivers_{events}.duckdb"
    if not ws.exists():
        csv = OUT / f"drivers_{events}.csv"
        # 2 drivers + bystander + leak + 26 noise = 30 attributes.
        if not csv.exists():
            write_driver_log(csv, seed=1, cases=cases, noise=26)
        t = time.perf_counter()
        with Store(ws) as store:
            roles = {"case": "case", "activity": "activity", "timestamp": "timestamp", "resource": "resource"}
            ingest_file(
                store, csv, IngestOptions(name="big", roles=roles, timestamp_format="%Y-%m-%dT%H:%M:%SZ")
            )
        print(f"ingested {events:,} events in {time.perf_counter() - t:.1f} s (not part of the figures)")
        csv.unlink()
    codes = [("this tree", ROOT)] + ([("before", before)] if before is not None else [])
    rows = []
    for outcome in outcomes:
        for _ in range(runs):
            for label, code in codes:
                done = subprocess.run(
                    [sys.executable, "-c", CHILD, str(ws), outcome],
                    capture_output=True,
                    text=True,
                    cwd=code,
                    env={**os.environ, "PYTHONPATH": str(code)},
                    check=True,
                )
                got = json.loads(done.stdout.strip().splitlines()[-1])
                rows.append((outcome, label, got))
                print(
                    f"  run: {label:9s} {outcome} find_drivers {got['warm']:.2f} s (CPU {got['warm_cpu']:.2f} s), "
                    f"reference {got['reference']:.2f} s (CPU {got['reference_cpu']:.2f} s), "
                    f"load {got['load']:.1f}",
                    flush=True,
                )
    print(
        f"\nfind_drivers on {events:,} events ({cases:,} cases), {rows[0][2]['columns']} attribute columns:"
    )
    for outcome in outcomes:
        for label, _ in codes:
            got = [r for o, lb, r in rows if o == outcome and lb == label]
            med = {
                k: statistics.median(r[k] for r in got)
                for k in ("warm", "warm_cpu", "reference", "reference_cpu", "load")
            }
            ratio = statistics.median(r["warm"] / r["reference"] for r in got)
            cpu_ratio = statistics.median(r["warm_cpu"] / r["reference_cpu"] for r in got)
            print(
                f"  {label:9s} {outcome:9s} median {med['warm']:.2f} s (CPU {med['warm_cpu']:.2f} s), reference "
                f"group-by {med['reference']:.2f} s (CPU {med['reference_cpu']:.2f} s), paired ratio {ratio:.2f}x "
                f"(CPU {cpu_ratio:.2f}x) over {len(got)} fresh processes, load average {med['load']:.1f}; "
                f"tested {got[0]['tested']} values; top 3: {got[0]['drivers']}"
            )
        if before is not None:
            same = {r["report"] for o, _, r in rows if o == outcome}
            print(
                f"  {outcome}: both trees report {'the same' if len(same) == 1 else 'DIFFERENT'} drivers and exclusions"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--cases", type=int, default=1500)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--outcomes", nargs="+", default=["duration", "sla:3d"])
    parser.add_argument("--skip-rates", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--before", type=Path, help="another checkout to time in the same runs")
    args = parser.parse_args()
    if not args.skip_rates:
        rates(args.seeds, args.cases)
    if not args.skip_speed:
        speed(args.events, args.runs, tuple(args.outcomes), args.before.resolve() if args.before else None)


if __name__ == "__main__":
    main()
