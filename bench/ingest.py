"""Ingest speed and memory, side by side with a bare DuckDB load of the same file in the same run.

Each measurement is a whole fresh process (imports included); the tools run
interleaved (A B C A B C ...) so the machine's noise hits them alike, and
ratios are paired within a round before the median is taken.

* ``mining``: ``mining ingest FILE`` into a new workspace file -- sniffing,
  role detection, validation of every row with rejects, the sort by (case,
  time, row), successors, cases, variants, attributes, the quality findings,
  one committed transaction;
* ``duckdb`` (the reference, CSV and Parquet): the least any loader does --
  ``read_csv``/``read_parquet`` with DuckDB's own type detection, the
  directly-follows successor by a window, the table sorted by (case, time) and
  written to a database file;
* ``pm4py`` (XES): ``pm4py.read_xes`` (its Rust backend when installed), the
  same file in memory as a dataframe;
* ``reader``/``lxml`` (XES): mining's XES reader alone (gunzip, DOCTYPE check,
  the table of text), by its fast path for one element per line and forced
  through lxml, so the reader's share and the fast path's gain show in the same run.

Inputs: the project's generated service desk (9 columns: case, activity,
start and end timestamps with offsets, resource, cost and three attributes)
at 1M and 10M events as CSV and Parquet, its 4-column cut (case, activity,
timestamp, resource) as CSV, cached under bench/out/, and BPIC 2012 as XES
from ../shared/logs (``$MINING_SHARED/logs`` when the checkout is elsewhere).

    python bench/ingest.py [--inputs csv1m csv4-1m parquet1m xes csv10m csv4-10m parquet10m] [--runs 3] [--before DIR]

``--before DIR`` adds ``before``: ``mining ingest`` of another checkout (a
``git archive`` of main), interleaved in the same rounds, with its ratios.

Both checkouts' bytecode is compiled before the first round (as a package
install does; DuckDB's own modules come compiled).

It prints, per input and tool: median wall seconds, median CPU seconds (user +
system of the process and its threads: what the 2 cores spent, the figure
least moved by other tenants), peak RSS in MiB, and mining's paired ratios to
the reference for time and memory.
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
BPIC2012 = Path(os.environ.get("MINING_SHARED", ROOT.parent / "shared")) / "logs" / "bpic2012.xes.gz"

CHILD = r"""
import json, os, resource, sys, time
tool, path, workdir = sys.argv[1], sys.argv[2], sys.argv[3]
t0 = time.perf_counter()
if tool in ("mining", "before"):
    from mining.ingest import ingest_file
    from mining.store import Store
    ws = os.path.join(workdir, "ws.duckdb")
    with Store(ws) as s:
        events = ingest_file(s, path).events
elif tool == "duckdb":
    import duckdb
    con = duckdb.connect(os.path.join(workdir, "bare.duckdb"))
    reader = "read_parquet" if path.endswith(".parquet") else "read_csv"
    src = f"{reader}('{path}')"
    if path.endswith(".parquet"):
        # The generated Parquet holds text, as exports do: the time is cast, as read_csv's detection would.
        src = f"(SELECT * REPLACE (CAST(timestamp AS TIMESTAMPTZ) AS timestamp) FROM {src})"
    con.execute(
        f"CREATE TABLE events AS SELECT *, lead(activity) OVER w AS next_activity, lead(timestamp) OVER w AS next_ts "
        f"FROM {src} WINDOW w AS (PARTITION BY case_id ORDER BY timestamp) ORDER BY case_id, timestamp"
    )
    con.execute("CHECKPOINT")
    events = con.execute("SELECT count(*) FROM events").fetchone()[0]
    con.close()
elif tool in ("reader", "lxml"):
    import pathlib
    from mining.ingest.sources import decompress_if_gzip
    from mining.ingest.xes import read_xes
    plain = decompress_if_gzip(pathlib.Path(path), pathlib.Path(workdir))
    events = read_xes(plain, display_name=plain.name, fast=tool == "reader").table.num_rows
else:
    import pm4py
    events = len(pm4py.read_xes(path))
elapsed = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": elapsed, "cpu": ru.ru_utime + ru.ru_stime, "events": events, "peak_mib": ru.ru_maxrss / 1024}))
"""

#: input name -> (description, tools; the first after mining is the reference)
INPUTS = {
    "csv1m": ("1M events, CSV, 9 columns", ("mining", "duckdb")),
    "csv4-1m": ("1M events, CSV, 4 columns", ("mining", "duckdb")),
    "parquet1m": ("1M events, Parquet, 9 columns", ("mining", "duckdb")),
    "xes": ("BPIC 2012, XES (262k events)", ("mining", "pm4py", "reader", "lxml")),
    "csv10m": ("10M events, CSV, 9 columns", ("mining", "duckdb")),
    "csv4-10m": ("10M events, CSV, 4 columns", ("mining", "duckdb")),
    "parquet10m": ("10M events, Parquet, 9 columns", ("mining", "duckdb")),
}


def ensure_data(name: str) -> Path:
    if name == "xes":
        return BPIC2012
    OUT.mkdir(parents=True, exist_ok=True)
    size = 10 if name.endswith("10m") else 1
    fmt = "parquet" if name.startswith("parquet") else "csv"
    full = OUT / f"service_desk_{size}m.{fmt}"
    if not full.exists():
        print(f"generating {full.name} ...", flush=True)
        # In a child: Linux keeps a process's peak RSS across fork and exec, so a
        # generator run here would lend its gigabytes to every measured child's peak.
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from mining.samples import write_log; "
                "write_log('service_desk', sys.argv[1], events=int(sys.argv[2]), seed=1)",
                str(full),
                str(size * 1_000_000),
            ],
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            check=True,
        )
    if not name.startswith("csv4"):
        return full
    narrow = OUT / f"service_desk_{size}m_4col.csv"
    if not narrow.exists():
        copy = (
            f"COPY (SELECT case_id, activity, timestamp, resource FROM read_csv('{full}', all_varchar = true)) "
            f"TO '{narrow}' (HEADER)"
        )
        subprocess.run(
            [sys.executable, "-c", "import duckdb, sys; duckdb.sql(sys.argv[1])", copy], check=True
        )
    return narrow


def run_child(tool: str, path: Path, before: Path | None = None) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        code = before if tool == "before" and before is not None else ROOT
        env = {**os.environ, "PYTHONPATH": str(code), "PM4PY_SHOW_PROGRESS_BAR": "false"}
        out = subprocess.run(
            [sys.executable, "-c", CHILD, tool, str(path), tmp],
            # Not the caller's folder: `python -c` puts the working directory first on sys.path,
            # so a run from a checkout would import that checkout's mining whatever PYTHONPATH says.
            cwd=tmp,
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if out.returncode != 0:
            raise SystemExit(f"{tool} on {path.name} failed:\n{out.stderr[-3000:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])


def compile_bytecode(code: Path) -> None:
    """Write the checkout's bytecode first, as installing a package does.

    DuckDB's modules come compiled with the wheel; a source checkout run with
    PYTHONDONTWRITEBYTECODE (as here) would otherwise compile mining's modules
    in every measured process (0.05 CPU s), a cost no installed copy pays.
    """
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(code / "mining")], check=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inputs", nargs="+", default=list(INPUTS), choices=list(INPUTS))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--before", type=Path, help="another checkout whose ingest runs beside this one's")
    args = ap.parse_args()
    for code in (ROOT, args.before):
        if code is not None:
            compile_bytecode(code)
    print(
        f"{'input':<34} {'tool':<7} {'wall s':>8} {'cpu s':>8} {'peak MiB':>9} "
        f"{'x ref wall':>10} {'x ref cpu':>9} {'x ref MiB':>9}"
    )
    for name in args.inputs:
        title, tools = INPUTS[name]
        if args.before is not None:
            tools = ("before", *tools)
        path = ensure_data(name)
        runs: dict[str, list[dict]] = {t: [] for t in tools}
        for _ in range(args.runs):
            for tool in tools:  # interleaved, so noise hits both alike
                runs[tool].append(run_child(tool, path, args.before))
        ref = INPUTS[name][1][1]  # the input's reference: bare DuckDB, or pm4py for XES
        for tool in tools:
            r = runs[tool]
            line = (
                f"{title:<34} {tool:<7} {statistics.median(x['seconds'] for x in r):8.2f} "
                f"{statistics.median(x['cpu'] for x in r):8.2f} {statistics.median(x['peak_mib'] for x in r):9.0f}"
            )
            if tool in ("mining", "before"):
                for key in ("seconds", "cpu", "peak_mib"):
                    paired = [m[key] / b[key] for m, b in zip(r, runs[ref], strict=True)]
                    line += f" {statistics.median(paired):9.2f}x"
            print(line + f"   ({r[0]['events']:,} events)", flush=True)


if __name__ == "__main__":
    main()
