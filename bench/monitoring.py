"""Monitoring: how often alerts are false or missed, and what extreme dates cost.

**Alert rates.**  For each of ``--seeds`` seeds, the generator of
:mod:`mining.samples.drift` writes a stationary log (30 weeks, exported on a
Thursday afternoon with open cases) and a log whose Approve step slows by half
from week 20.  A stationary log fails when its run raises any alert; a shifted
log is detected when a weekly job (an export every Monday 10:00 after the
shift, then the Thursday export) raises a cycle-time alert by the end.  It
prints the false-alarm rate, the detection rate and the weeks to detection, and
the share of all the stationary weekly runs that alerted.

**Extreme dates (issue 16).**  ``mining monitor`` on a log of 600 cases with a
few placeholder dates (9999-12-31, 0001-01-01, 1970-01-01) and on one with a
1900-01-01 and a 1970-01-01: median seconds and peak memory (RSS of the child)
over ``--runs`` fresh processes, per period, and the number of periods laid
out.

Every measurement runs in fresh child processes with ``PYTHONPATH`` set to
``--code`` (default: this checkout), so the same generated inputs can be put
to another checkout, e.g. ``--code ../main`` for the figures before a change;
the children use only ``ingest_file``, ``monitor`` and the CLI, which both
have.

    python bench/monitoring.py [--seeds 20] [--runs 3] [--code DIR] [--skip-rates] [--skip-extremes]
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
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mining.samples.drift import write_drift_log  # noqa: E402
from tests.drift_harness import CYCLE_KPIS, SHIFT_WEEK, WEEKS, cron_cuts  # noqa: E402

#: The child: ingest each CSV into a memory store, monitor it, print the alerts' KPIs per file.
ALERTS_CHILD = r"""
import json, sys
from mining.ingest import ingest_file
from mining.monitor.run import MonitorOptions, monitor
from mining.store import Store
out = []
for path in sys.argv[1:]:
    with Store() as store:
        log = ingest_file(store, path).log_id
        run = monitor(store, log, options=MonitorOptions(timezone="UTC", lean=False))
    out.append([a.kpi for a in run.alerts])
print(json.dumps(out))
"""


def _child(code: Path, args: list[str]) -> tuple[int, str, str]:
    """Run one fresh process with ``code`` on the path: (exit code, stdout, stderr)."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    # In the checkout: a child's first import path is its working folder.
    proc = subprocess.run(
        [sys.executable, *args], env=env, cwd=code, capture_output=True, text=True, check=False
    )
    return proc.returncode, proc.stdout, proc.stderr


def _peak_child(code: Path, args: list[str]) -> tuple[float, float, int, str]:
    """Seconds, peak RSS (MiB) and exit code of one fresh process, measured with wait4."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        # In the checkout (see _child); stderr to a file, so a long traceback never blocks the child.
        proc = subprocess.Popen(
            [sys.executable, *args], env=env, cwd=code, stdout=subprocess.DEVNULL, stderr=errors
        )
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        err = errors.read().decode("utf-8", "replace")
    return seconds, usage.ru_maxrss / 1024, proc.returncode, err


def rates(code: Path, seeds: int, folder: Path) -> None:
    quiet_fail, runs_alerting, runs_total = 0, 0, 0
    detected, delays = 0, []
    start_week = dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(weeks=SHIFT_WEEK)
    cuts = cron_cuts()
    for seed in range(seeds):
        stationary = [write_drift_log(folder / f"s{seed}_final.csv", seed, weeks=WEEKS)]
        # The stationary log's own weekly job, for the share of runs that alert.
        stationary += [
            write_drift_log(folder / f"s{seed}_{k}.csv", seed, weeks=WEEKS, end=cut)
            for k, cut in enumerate(cuts[:-1])
        ]
        shifted = [
            write_drift_log(folder / f"d{seed}_{k}.csv", seed, weeks=WEEKS, shift_week=SHIFT_WEEK, end=cut)
            for k, cut in enumerate(cuts)
        ]
        code_s, out, err = _child(code, ["-c", ALERTS_CHILD, *map(str, stationary + shifted)])
        if code_s != 0:
            raise SystemExit(f"seed {seed}: the child failed:\n{err}")
        found = json.loads(out)
        quiet, shifted_alerts = found[: len(stationary)], found[len(stationary) :]
        quiet_fail += bool(quiet[0])
        runs_alerting += sum(bool(a) for a in quiet)
        runs_total += len(quiet)
        hit = next((k for k, kpis in enumerate(shifted_alerts) if set(kpis) & CYCLE_KPIS), None)
        if hit is not None:
            detected += 1
            delays.append((cuts[hit] - start_week) / dt.timedelta(weeks=1))
        seen = f"detected after {delays[-1]:.1f} weeks" if hit is not None else "MISSED"
        print(
            f"  seed {seed:2d}: stationary {'ALERT ' + ','.join(quiet[0]) if quiet[0] else 'quiet'}; shifted {seen}",
            flush=True,
        )
    print()
    print(f"stationary logs with no alert on the newest judged period: {seeds - quiet_fail} of {seeds}")
    print(f"shifted logs with a cycle-time alert by the end:           {detected} of {seeds}")
    if delays:
        print(
            f"weeks from the slowdown to the first alert: median {statistics.median(delays):.1f}, "
            f"max {max(delays):.1f}"
        )
    print(f"stationary weekly runs that raised any alert: {runs_alerting} of {runs_total}")


def _extreme_csv(path: Path, tail: list[tuple[str, str, str]]) -> Path:
    start = dt.datetime(2024, 1, 1, 9)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["case_id", "activity", "timestamp"])
        for i in range(600):
            t = start + dt.timedelta(hours=6 * i)
            w.writerow([f"c{i}", "A", t.isoformat()])
            w.writerow([f"c{i}", "B", (t + dt.timedelta(hours=5 + (i * 37) % 55)).isoformat()])
        w.writerows(tail)
    return path


EXTREMES = {
    "9999-12-31, 0001-01-01, 1970-01-01": [
        ("c1", "B", "9999-12-31T00:00:00"),
        ("c2", "A", "0001-01-01T00:00:00"),
        ("c3", "B", "1970-01-01T00:00:00"),
        ("x9", "A", "9999-12-31T00:00:00"),
        ("x8", "A", "0001-01-01T00:00:00"),
    ],
    "1900-01-01, 1970-01-01": [("c3", "B", "1970-01-01T00:00:00"), ("x7", "A", "1900-01-01T00:00:00")],
}


def extremes(code: Path, runs: int, folder: Path) -> None:
    print(f"{'input':<38}{'period':>7}{'median s':>10}{'peak MiB':>10}  outcome")
    for k, (name, tail) in enumerate(EXTREMES.items()):
        source = _extreme_csv(folder / f"extreme{k}.csv", tail)
        ws = folder / f"extreme{k}.duckdb"
        ws.unlink(missing_ok=True)
        rc, _, err = _child(
            code, ["-m", "mining", "--workspace", str(ws), "ingest", str(source), "--name", "x"]
        )
        if rc != 0:
            raise SystemExit(f"ingest of {name} failed:\n{err}")
        for period in ("week", "day"):
            args = ["-m", "mining", "--workspace", str(ws), "monitor", "x", "--period", period, "--no-lean"]
            report = folder / f"extreme{k}-{period}.html"
            times, peaks, outcome = [], [], ""
            for _ in range(runs):
                seconds, peak, rc, err = _peak_child(code, [*args, "--report", str(report)])
                times.append(seconds)
                peaks.append(peak)
                if rc in (0, 3):
                    rc_json, out, _ = _child(code, [*args, "--json"])
                    periods = (
                        f"{len(json.loads(out)['periods']):,}"
                        if rc_json in (0, 3)
                        else f"? (--json exit {rc_json})"
                    )
                    outcome = f"{periods} periods, report {report.stat().st_size / 1e6:.2f} MB"
                else:
                    outcome = "crash: " + (err.strip().splitlines() or ["?"])[-1][:60]
            print(
                f"{name:<38}{period:>7}{statistics.median(times):>10.2f}{statistics.median(peaks):>10.0f}  {outcome}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout whose mining monitors")
    parser.add_argument("--skip-rates", action="store_true")
    parser.add_argument("--skip-extremes", action="store_true")
    opts = parser.parse_args()
    code = opts.code.resolve()
    print(f"code: {code}")
    with tempfile.TemporaryDirectory() as tmp:
        if not opts.skip_rates:
            print(f"\nAlert rates over {opts.seeds} seeds (shift from week {SHIFT_WEEK} of {WEEKS}):")
            rates(code, opts.seeds, Path(tmp))
        if not opts.skip_extremes:
            print(f"\nExtreme dates, {opts.runs} fresh processes each:")
            extremes(code, opts.runs, Path(tmp))


if __name__ == "__main__":
    main()
