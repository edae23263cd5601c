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
   the same events (one query per attribute).  Medians and the paired ratio.

    python bench/drivers.py [--seeds 10] [--cases 1500] [--events 1000000] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
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
import json, sys, time
from mining.store import Store
from mining.drivers.find import find_drivers
ws, outcome = sys.argv[1], sys.argv[2]
with Store(ws, read_only=True) as s:
    columns = [r[0] for r in s.query("SELECT column_name FROM attribute_columns WHERE log_id = 1").rows]
    def reference():
        for c in columns:
            s.query(f'SELECT a."{c}", count(*) FROM events e JOIN attrs_1 a USING (row_no) '
                    f'WHERE e.log_id = 1 GROUP BY 1').rows
    reference()
    t = time.perf_counter(); reference(); ref = time.perf_counter() - t
    t = time.perf_counter(); r = find_drivers(s, 1, outcome); warm = time.perf_counter() - t
print(json.dumps({"reference": ref, "warm": warm, "drivers": [[d.attribute, d.value] for d in r.drivers[:3]],
                  "tested": r.tested, "columns": len(columns)}))
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


def speed(events: int, runs: int, outcomes: tuple[str, ...]) -> None:
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
    rows = []
    for outcome in outcomes:
        for _ in range(runs):
            done = subprocess.run(
                [sys.executable, "-c", CHILD, str(ws), outcome],
                capture_output=True,
                text=True,
                cwd=ROOT,
                check=True,
            )
            rows.append((outcome, json.loads(done.stdout.strip().splitlines()[-1])))
            got = rows[-1][1]
            print(
                f"  run: {outcome} find_drivers {got['warm']:.2f} s, reference {got['reference']:.2f} s",
                flush=True,
            )
    print(
        f"\nfind_drivers on {events:,} events ({cases:,} cases), {rows[0][1]['columns']} attribute columns:"
    )
    for outcome in outcomes:
        got = [r for o, r in rows if o == outcome]
        warm = statistics.median(r["warm"] for r in got)
        ref = statistics.median(r["reference"] for r in got)
        ratio = statistics.median(r["warm"] / r["reference"] for r in got)
        print(
            f"  {outcome:9s} median {warm:.2f} s, reference group-by {ref:.2f} s, "
            f"paired ratio {ratio:.1f}x over {len(got)} fresh processes; tested {got[0]['tested']} values; "
            f"top 3: {got[0]['drivers']}"
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
    args = parser.parse_args()
    if not args.skip_rates:
        rates(args.seeds, args.cases)
    if not args.skip_speed:
        speed(args.events, args.runs, tuple(args.outcomes))


if __name__ == "__main__":
    main()
