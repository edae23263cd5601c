"""Hostile and extreme ingest inputs: seconds and peak memory of each, in a fresh process.

Each class of input named by issue #16 (spreadsheets with an absurd used
range, files with thousands of columns, long fields and lines, offsets beyond
+/-14:00, names XML forbids, folder exports with symlinks that leave the
folder, unknown preset roles) is generated here, small, and ingested by
``python -m mining ingest`` in a child process under an address-space cap
(``--cap-gb``, default 6) and a time limit, so a run that would take the
machine down is reported as killed rather than taking it down.  A clean tiny
CSV is the reference measured in the same run.

For each class it prints the median wall seconds, the median peak RSS of the
child (MiB) and how the run ended: the first line of the error, "loaded", or
"killed by the cap" / "timeout" / "traceback".  ``--code DIR`` runs another
checkout's code (for the before/after table), e.g. a ``git archive`` of main.

    python bench/hostile.py [--runs 3] [--code DIR] [--only wide_csv long_line]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _rows(n: int, extra: str = "") -> str:
    return "".join(f"c{i // 3},A{i % 3},2024-01-01 {10 + i % 3}:00:00{extra}\n" for i in range(n))


def reference(d: Path) -> tuple[Path, list[str]]:
    p = d / "clean.csv"
    p.write_text("case,activity,timestamp\n" + _rows(30))
    return p, []


def xlsx_far_cell(d: Path) -> tuple[Path, list[str]]:
    """A 10-row sheet plus one cell at XFD1048576: a used range of 17 billion cells."""
    import xlsxwriter

    p = d / "far.xlsx"
    book = xlsxwriter.Workbook(str(p))
    sheet = book.add_worksheet()
    for c, h in enumerate(("case", "activity", "timestamp")):
        sheet.write_string(0, c, h)
    for r in range(1, 10):
        sheet.write_string(r, 0, f"c{r // 3}")
        sheet.write_string(r, 1, f"A{r % 3}")
        sheet.write_string(r, 2, f"2024-01-01 1{r % 3}:00:00")
    sheet.write_string(1048575, 16383, "x")
    book.close()
    return p, []


def wide_csv(d: Path) -> tuple[Path, list[str]]:
    """3,000 columns and 400 rows (about 1.2 MB)."""
    p = d / "wide.csv"
    cols = 3000
    with p.open("w") as fh:
        fh.write("case,activity,timestamp," + ",".join(f"x{i}" for i in range(cols - 3)) + "\n")
        filler = "," + ",".join("1" for _ in range(cols - 3))
        for i in range(400):
            fh.write(f"c{i // 4},A{i % 4},2024-01-01 1{i % 4}:00:00{filler}\n")
    return p, []


def very_wide_csv(d: Path) -> tuple[Path, list[str]]:
    """30,000 columns and 50 rows."""
    p = d / "very_wide.csv"
    cols = 30_000
    with p.open("w") as fh:
        fh.write("case,activity,timestamp," + ",".join(f"x{i}" for i in range(cols - 3)) + "\n")
        filler = "," + ",".join("1" for _ in range(cols - 3))
        for i in range(50):
            fh.write(f"c{i // 4},A{i % 4},2024-01-01 1{i % 4}:00:00{filler}\n")
    return p, []


def long_field(d: Path) -> tuple[Path, list[str]]:
    """A 200 KiB comment in the first row: longer than the sniffer's sample."""
    p = d / "long_field.csv"
    with p.open("w") as fh:
        fh.write("case,activity,timestamp,comment\n")
        fh.write("c0,A0,2024-01-01 10:00:00," + "x" * (200 << 10) + "\n")
        fh.write("".join(line.rstrip("\n") + ",ok\n" for line in _rows(29).splitlines(keepends=True)))
    return p, ["--max-rejects", "0.5"]


def huge_field(d: Path) -> tuple[Path, list[str]]:
    """A 40 MiB field in row 3 of 30: beyond DuckDB's 32 MiB line buffer."""
    p = d / "huge_field.csv"
    lines = _rows(30).splitlines()
    with p.open("w") as fh:
        fh.write("case,activity,timestamp,comment\n")
        for i, line in enumerate(lines, start=1):
            fh.write(line + "," + ("y" * (40 << 20) if i == 3 else "ok") + "\n")
    return p, ["--max-rejects", "0.5"]


def long_line(d: Path) -> tuple[Path, list[str]]:
    """A header, then one 200 MB line without a newline."""
    p = d / "long_line.csv"
    with p.open("wb") as fh:
        fh.write(b"case,activity,timestamp\n")
        chunk = b"z" * (1 << 20)
        for _ in range(200):
            fh.write(chunk)
    return p, []


def offsets(d: Path) -> tuple[Path, list[str]]:
    """Offsets of +15:00 and -18:00 among valid ones."""
    p = d / "offsets.csv"
    rows = [f"c{i // 3},A{i % 3},2024-01-01T1{i % 3}:00:00+01:00" for i in range(28)]
    rows += ["c99,A0,2024-01-01T10:00:00+15:00", "c99,A1,2024-01-01T11:00:00-18:00"]
    p.write_text("case,activity,timestamp\n" + "\n".join(rows) + "\n")
    return p, ["--max-rejects", "0.5"]


def xml_forbidden(d: Path) -> tuple[Path, list[str]]:
    """Activity names holding U+FFFE and U+FFFF."""
    p = d / "xml_forbidden.csv"
    rows = _rows(27).splitlines()
    rows += ["c98,Approve\ufffe,2024-01-01 10:00:00", "c98,Ship\uffff,2024-01-01 11:00:00"]
    p.write_text("case,activity,timestamp\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return p, ["--max-rejects", "0.5"]


def folder_symlink(d: Path) -> tuple[Path, list[str]]:
    """A folder export whose CDPOS.csv is a symlink to a file outside the folder."""
    outside = d / "secret.txt"
    outside.write_text("TOP SECRET payroll line\n")
    folder = d / "export"
    folder.mkdir()
    (folder / "CDHDR.csv").write_text("OBJECTCLAS,OBJECTID,CHANGENR,USERNAME,UDATE,UTIME\n")
    (folder / "CDPOS.csv").symlink_to(outside)
    return folder, ["--preset", "sap", "--timezone", "UTC"]


def unknown_preset_role(d: Path) -> tuple[Path, list[str]]:
    """A change log with --preset-role colour=Field (no preset has that role)."""
    p = d / "changes.csv"
    p.write_text(
        "record,field,new,changed_at\n"
        + "".join(f"r{i // 3},status,s{i % 3},2024-01-01 1{i % 3}:00:00\n" for i in range(30))
    )
    return p, ["--preset", "changelog", "--preset-role", "colour=field"]


CLASSES: dict[str, Callable[[Path], tuple[Path, list[str]]]] = {
    "reference": reference,
    "xlsx_far_cell": xlsx_far_cell,
    "wide_csv": wide_csv,
    "very_wide_csv": very_wide_csv,
    "long_field": long_field,
    "huge_field": huge_field,
    "long_line": long_line,
    "offsets": offsets,
    "xml_forbidden": xml_forbidden,
    "folder_symlink": folder_symlink,
    "unknown_preset_role": unknown_preset_role,
}


def run_once(
    code: Path, path: Path, args: list[str], cap_gb: float, timeout: float
) -> tuple[float, float, str]:
    cap = int(cap_gb * (1 << 30))

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as tmp:
        cmd = [
            sys.executable,
            "-m",
            "mining",
            "--workspace",
            str(Path(tmp) / "ws.duckdb"),
            "ingest",
            str(path),
        ]
        env = {**os.environ, "PYTHONPATH": str(code)}
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [*cmd, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            preexec_fn=limit,  # the cap must be set in the child before it execs
        )
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            return time.perf_counter() - t0, float("nan"), f"timeout after {timeout:.0f} s"
        elapsed = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    text = err.decode(errors="replace")
    if proc.returncode == 0:
        outcome = "loaded: " + out.decode(errors="replace").splitlines()[0][:100]
    elif "Traceback" in text:
        last = [line for line in text.splitlines() if line.strip()][-1]
        outcome = "traceback: " + last[:140]
    elif proc.returncode < 0 or "MemoryError" in text or "Out of Memory" in text:
        outcome = f"killed by the {cap_gb:g} GB cap (exit {proc.returncode})"
    else:
        first = next((line for line in text.splitlines() if line.startswith("Error:")), text[:140])
        outcome = first[:160]
    return elapsed, peak, outcome


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--code", type=Path, default=ROOT, help="the checkout whose mining to run")
    ap.add_argument("--cap-gb", type=float, default=6.0)
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--only", nargs="*", default=None)
    a = ap.parse_args()
    names = a.only or list(CLASSES)
    print(f"code: {a.code}; {a.runs} runs each; cap {a.cap_gb:g} GB")
    print(f"{'class':<22} {'s':>8} {'peak MiB':>9}  outcome")
    for name in names:
        work = Path(tempfile.mkdtemp(prefix=f"hostile-{name}-"))
        try:
            path, args = CLASSES[name](work)
            times, peaks, outcome = [], [], ""
            for _ in range(a.runs):
                # RUSAGE_CHILDREN keeps the largest child so far: measure each run in its own process.
                r = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--child",
                        str(a.code),
                        str(path),
                        str(a.cap_gb),
                        str(a.timeout),
                        *args,
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                s, peak, outcome = r.stdout.rstrip("\n").split("\t", 2)
                times.append(float(s))
                peaks.append(float(peak))
            print(
                f"{name:<22} {statistics.median(times):>8.2f} {statistics.median(peaks):>9.0f}  {outcome}",
                flush=True,
            )
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        code, path, cap, timeout, *rest = sys.argv[2:]
        s, peak, outcome = run_once(Path(code), Path(path), rest, float(cap), float(timeout))
        print(f"{s:.3f}\t{peak:.0f}\t{outcome}")
    else:
        main()
