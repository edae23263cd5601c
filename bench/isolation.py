"""What isolation costs, and what it saves: the app's upload path in and out of a child, and hostile inputs.

Part 1, the common upload (the bundled ``service_desk.csv``, 16,649 rows), as
the app's server does it, in fresh processes, the two trees interleaved:

* ``before`` (``--before``, a checkout of main): the server reads the header
  and the preview itself (after one earlier upload), and starts a fresh
  ``python -m mining.ingest.job`` child for the ingest;
* ``after`` (``--after``, this tree): as the Upload page now does it, through
  :mod:`mining.limits`: a spare child with the readers imported and warmed
  (started when the page opened), the header and the preview in it, then the
  ingest in it; each step asks for a spare first, as the page's reruns do.

It prints the median seconds of each step and the ratio after/before.

Part 2, each class of hostile input of issue 16, through the command line of
two source trees (``--before`` a checkout of main, ``--after`` this one):
seconds, the peak memory of the largest process, how it ended (exit code or
signal) and the first line it printed.  The inputs are generated into a
temporary folder.

    python bench/isolation.py [--runs 5] [--before /path/to/main-checkout] [--after .]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_logs" / "service_desk.csv"
WARM = ROOT / "sample_logs" / "order_to_cash.csv"

UPLOAD = r"""
import json, sys, tempfile, time
from pathlib import Path
mode, sample, warm, folder = sys.argv[1:5]
from mining.ingest import IngestOptions, preview
out = {}
if mode == "before":
    # main: the server read the header and the preview itself, and started a fresh child per ingest.
    from mining.errors import MiningError
    from mining.ingest.csv import prepare_csv
    from mining.ingest.job import start_ingest
    from mining.ingest.sources import detect_format
    preview(Path(warm), IngestOptions())  # the server has read an upload before
    t = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        assert detect_format(Path(sample)) == "csv"
        prepare_csv(Path(sample), Path(tmp), display_name="s")
    out["header"] = time.perf_counter() - t
    t = time.perf_counter(); preview(Path(sample), IngestOptions()); out["preview"] = time.perf_counter() - t
    t = time.perf_counter()
    job = start_ingest(Path(folder) / "ws.duckdb", sample, IngestOptions())
    while not job.status().done:
        time.sleep(0.2)  # the page's poll
    job.result()
    out["ingest"] = time.perf_counter() - t
else:
    from mining.ingest.job import READER_CHILD, file_task, header_of, start_ingest
    from mining.limits import Limits, prepare, run
    limits = Limits(memory=4 * 1000**3, seconds=300)
    prepare(READER_CHILD)  # the Upload page opened
    # An earlier upload was read; the page was then left open a while.
    run(preview, Path(warm), IngestOptions(), task=file_task("w"), limits=limits, preload=READER_CHILD,
        reuse="upload:warm", keep=False)
    time.sleep(10)
    # Each step is a rerun of the page, which asks for a spare first (prepare_readers).
    t = time.perf_counter()
    prepare(READER_CHILD)
    run(header_of, sample, task=file_task("s"), limits=limits, preload=READER_CHILD, reuse="upload:s")
    out["header"] = time.perf_counter() - t
    t = time.perf_counter()
    run(preview, Path(sample), IngestOptions(), task=file_task("s"), limits=limits, preload=READER_CHILD,
        reuse="upload:s")
    out["preview"] = time.perf_counter() - t
    time.sleep(1)  # the user reads the preview and clicks Ingest
    t = time.perf_counter()
    prepare(READER_CHILD)
    job = start_ingest(Path(folder) / "ws.duckdb", sample, IngestOptions(), limits=limits, reuse="upload:s",
                       keep=False, preload=READER_CHILD)
    while not job.status().done:
        time.sleep(0.2)
    job.result()
    out["ingest"] = time.perf_counter() - t
print(json.dumps(out))
"""

#: Runs a command and reports its seconds and the peak memory of its largest process.
MEASURE = r"""
import json, os, resource, subprocess, sys, time
cap, timeout = int(sys.argv[1]), float(sys.argv[2])
def capped():  # a safety net for the machine (a 'before' tree may grow without bound), far above any limit
    resource.setrlimit(resource.RLIMIT_DATA, (cap, cap))
def tree_peak(root):
    # The largest peak RSS (VmHWM) among root and its descendants now: a command's child may outlive it.
    kids, peak = {}, 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    kids.setdefault(int(fh.read().rsplit(")", 1)[1].split()[1]), []).append(int(entry))
            except OSError:
                pass
    todo = [root]
    while todo:
        pid = todo.pop()
        todo += kids.get(pid, [])
        try:
            with open(f"/proc/{pid}/status") as fh:
                peak = max([peak] + [int(l.split()[1]) * 1024 for l in fh if l.startswith("VmHWM:")])
        except OSError:
            pass
    return peak
t = time.perf_counter()
proc = subprocess.Popen(sys.argv[3:], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=capped)
peak = 0
try:
    while True:
        try:
            out, err = proc.communicate(timeout=0.1)
            break
        except subprocess.TimeoutExpired:
            peak = max(peak, tree_peak(proc.pid))
            if time.perf_counter() - t > timeout:
                raise
except subprocess.TimeoutExpired:
    proc.kill()
    out, err = proc.communicate()
    err = f"still running after {timeout:.0f} s: stopped by the bench\n" + err
seconds = time.perf_counter() - t
peak = max(peak, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024) / 1024**2
text = (err.strip() or out.strip()).splitlines()
print(json.dumps({"seconds": seconds, "peak_mib": peak, "code": proc.returncode, "said": text[0] if text else ""}))
"""


def _env(tree: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(tree), "PM4PY_SHOW_PROGRESS_BAR": "false"}


def upload_costs(runs: int, before: Path | None, after: Path) -> None:
    trees = {"before": before, "after": after} if before else {"after": after}
    steps: dict[str, dict[str, list[float]]] = {mode: {} for mode in trees}
    for _ in range(runs):
        for mode, tree in trees.items():  # interleaved, so the machine's noise hits both alike
            assert tree is not None
            with tempfile.TemporaryDirectory(prefix="bench-iso-") as tmp:
                out = subprocess.run(
                    [sys.executable, "-c", UPLOAD, mode, str(SAMPLE), str(WARM), tmp],
                    capture_output=True,
                    text=True,
                    env=_env(tree),
                    check=True,
                )
            for step, seconds in json.loads(out.stdout.strip().splitlines()[-1]).items():
                steps[mode].setdefault(step, []).append(seconds)
    print(f"\nThe bundled sample ({SAMPLE.name}) as the Upload page reads it: median seconds of {runs} runs")
    print(f"{'step':<10} {'before s':>9} {'after s':>9} {'after/before':>13}")
    for step in ("header", "preview", "ingest"):
        first = steps.get("before", {}).get(step)
        late = statistics.median(steps["after"][step])
        shown = f"{statistics.median(first):9.3f}" if first else f"{'-':>9}"
        ratio = f"{late / statistics.median(first):12.2f}x" if first else f"{'-':>13}"
        print(f"{step:<10} {shown} {late:9.3f} {ratio}", flush=True)


def cli_costs(runs: int, before: Path | None, after: Path) -> None:
    """``mining ingest`` of the bundled sample into a new workspace, whole command, fresh process each run."""
    trees = {"before": before, "after": after} if before else {"after": after}
    seconds: dict[str, list[float]] = {mode: [] for mode in trees}
    for _ in range(runs):
        for mode, tree in trees.items():
            assert tree is not None
            with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
                workspace = str(Path(tmp) / "ws.duckdb")
                t = time.perf_counter()
                subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "mining",
                        "--workspace",
                        workspace,
                        "ingest",
                        str(SAMPLE),
                        "--json",
                    ],
                    capture_output=True,
                    env=_env(tree),
                    check=True,
                )
                seconds[mode].append(time.perf_counter() - t)
    first = statistics.median(seconds["before"]) if before else None
    late = statistics.median(seconds["after"])
    shown = f"{first:9.3f}" if first else f"{'-':>9}"
    ratio = f"{late / first:12.2f}x" if first else f"{'-':>13}"
    print(f"{'CLI ingest':<10} {shown} {late:9.3f} {ratio}   (mining ingest, the whole command)", flush=True)


def _hostile(folder: Path) -> list[tuple[str, list[str]]]:
    sys.path.insert(0, str(ROOT))
    from tests.hostile import far_cell_xlsx, long_csv, wide_csv

    far = far_cell_xlsx(folder / "far.xlsx")
    wide = wide_csv(folder / "wide.csv")
    big = long_csv(folder / "big.csv", rows=1_000_000)
    laughs = folder / "labels.yaml"
    laughs.write_text(
        "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8)
        )
        + "map: *i\n",
        encoding="utf-8",
    )
    readonly = folder / "readonly.duckdb"
    link = folder / "link.duckdb"
    return [
        ("far-away xlsx cell (1.6 KB)", ["ingest", str(far), "--name", "far"]),
        ("3,000-column CSV (0.8 MB)", ["ingest", str(wide), "--name", "wide"]),
        (
            "1M-row CSV, --memory-limit 300MB",
            ["ingest", str(big), "--name", "big", "--memory-limit", "300MB"],
        ),
        (
            "ingest --rejects in a missing folder",
            ["ingest", str(SAMPLE), "--name", "r", "--rejects", str(folder / "no" / "r.csv")],
        ),
        (
            "aliased --map-file (9^9 items)",
            [
                "conform",
                "small",
                "--model",
                str(ROOT / "sample_logs" / "service_desk.bpmn"),
                "--map-file",
                str(laughs),
            ],
        ),
        ("read-only workspace (0444)", ["--workspace", str(readonly), "ingest", str(SAMPLE), "--name", "ro"]),
        ("symlinked workspace", ["--workspace", str(link), "ingest", str(SAMPLE), "--name", "ln"]),
        ("new workspace", ["--workspace", str(folder / "new.duckdb"), "ingest", str(SAMPLE), "--name", "n"]),
        (
            "group-readable workspace (0640)",
            ["--workspace", str(folder / "shared.duckdb"), "ingest", str(SAMPLE)],
        ),
        ("full disk (tmpfs)", ["--workspace", str(folder / "full" / "ws.duckdb"), "ingest", str(SAMPLE)]),
    ]


def _prepare_workspaces(tree: Path, folder: Path) -> None:
    base = [sys.executable, "-m", "mining"]
    small = ROOT / "tests" / "files" / "ingest" / "small.csv"
    for ws in (folder / n for n in ("ws.duckdb", "readonly.duckdb", "target.duckdb", "shared.duckdb")):
        subprocess.run(
            [*base, "--workspace", str(ws), "ingest", str(small)],
            env=_env(tree),
            check=True,
            capture_output=True,
        )
    (folder / "readonly.duckdb").chmod(0o444)
    (folder / "link.duckdb").symlink_to(folder / "target.duckdb")
    (folder / "shared.duckdb").chmod(0o640)
    # A disk with room for the workspace but not for the copy a write makes beside it (needs root).
    disk = folder / "full"
    disk.mkdir()
    size = (folder / "ws.duckdb").stat().st_size * 13 // 10
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(disk)], check=False)
    if mounted.returncode == 0:
        shutil.copyfile(folder / "ws.duckdb", disk / "ws.duckdb")


def _describe(code: int) -> str:
    if code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit {code}"


def hostile_classes(before: Path | None, after: Path, cap: int, timeout: float) -> None:
    trees = [("before", before), ("after", after)] if before else [("after", after)]
    print("\nHostile inputs through the command line: seconds, peak MiB of the largest process, how it ended")
    for label, tree in trees:
        assert tree is not None
        with tempfile.TemporaryDirectory(prefix="bench-hostile-") as tmp:
            folder = Path(tmp)
            cases = _hostile(folder)
            _prepare_workspaces(tree, folder)
            try:
                for name, args in cases:
                    argv = [sys.executable, "-m", "mining"]
                    if args[0] != "--workspace":
                        argv += ["--workspace", str(folder / "ws.duckdb")]
                    t = time.perf_counter()
                    out = subprocess.run(
                        [sys.executable, "-c", MEASURE, str(cap), str(timeout), *argv, *args],
                        capture_output=True,
                        text=True,
                        env=_env(tree),
                        check=True,
                        cwd=folder,
                    )
                    r = json.loads(out.stdout.strip().splitlines()[-1])
                    extra = ""
                    if "symlinked" in name:
                        extra = (
                            " | link kept"
                            if (folder / "link.duckdb").is_symlink()
                            else " | LINK REPLACED BY A FILE"
                        )
                    if "full disk" in name:
                        left = sorted(p.name for p in (folder / "full").iterdir())
                        extra = f" | files left: {', '.join(left)}"
                    if "new workspace" in name or "0640" in name:
                        made = folder / ("new.duckdb" if "new" in name else "shared.duckdb")
                        extra = f" | mode now {oct(made.stat().st_mode & 0o777)}"
                    if "read-only" in name:
                        extra = f" | mode now {oct((folder / 'readonly.duckdb').stat().st_mode & 0o777)}"
                    if "missing folder" in name:
                        got = subprocess.run(
                            [
                                sys.executable,
                                "-m",
                                "mining",
                                "--workspace",
                                str(folder / "ws.duckdb"),
                                "logs",
                            ],
                            capture_output=True,
                            text=True,
                            env=_env(tree),
                            check=False,
                        ).stdout
                        extra = " | log 'r' stored" if "\nr " in got else " | nothing stored"
                    print(
                        f"{label:<7} {name:<38} {r['seconds']:7.2f} s {r['peak_mib']:8.0f} MiB  {_describe(r['code']):<18} "
                        f"{r['said'][:110]}{extra}",
                        flush=True,
                    )
                    print(f"        (wall incl. measuring {time.perf_counter() - t:.2f} s)")
            finally:
                subprocess.run(["umount", str(folder / "full")], capture_output=True, check=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--before", type=Path, help="a checkout of main, for part 2's 'before'")
    ap.add_argument("--after", type=Path, default=ROOT)
    ap.add_argument("--skip-upload", action="store_true")
    ap.add_argument("--skip-hostile", action="store_true")
    ap.add_argument(
        "--timeout", type=float, default=300.0, help="seconds before a measured command is stopped"
    )
    ap.add_argument(
        "--cap-gb",
        type=float,
        default=8.0,
        help="RLIMIT_DATA on every measured command, to spare the machine",
    )
    args = ap.parse_args()
    if not args.skip_upload:
        upload_costs(args.runs, args.before, args.after)
        cli_costs(args.runs, args.before, args.after)
    if args.skip_hostile:
        return
    hostile_classes(args.before, args.after, int(args.cap_gb * 1000**3), args.timeout)


if __name__ == "__main__":
    main()
