"""Command line: regenerate the sample logs, or write one scaled log or model.

python -m mining.samples [FOLDER]            # the committed sample set (default: sample_logs)
python -m mining.samples --process service_desk --events 1000000 --out /tmp/sd_1m.parquet
python -m mining.samples --process order_to_cash --cases 500 --no-change --out o2c.csv
python -m mining.samples --process purchase_to_pay --out p2p.bpmn   # the documented model
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from mining.samples import (
    CHANGE_DATES,
    PROCESSES,
    SAMPLE_CASES,
    SAMPLE_SEED,
    write_log,
    write_model,
    write_samples,
)

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m mining.samples",
        description="Generate realistic sample event logs (deterministic) and their BPMN models.",
    )
    p.add_argument(
        "folder",
        nargs="?",
        default="sample_logs",
        help="without --out: folder for the sample set <process>.csv and <process>.bpmn "
        f"({', '.join(f'{k}: {v} cases' for k, v in SAMPLE_CASES.items())}, seed {SAMPLE_SEED}); "
        "default: sample_logs",
    )
    p.add_argument("--process", choices=PROCESSES, help="the process of a single log (with --out)")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--events", type=int, help="approximate number of events")
    size.add_argument("--cases", type=int, help="number of cases")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument(
        "--no-change",
        action="store_true",
        help="no process change: the same behaviour all year (for false-positive tests)",
    )
    p.add_argument("--format", choices=("csv", "parquet"), help="override the format chosen by the suffix")
    p.add_argument("--out", type=Path, help="write one log (.csv/.parquet) or the model (.bpmn) here")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    if args.out is None:
        if args.process or args.events or args.cases or args.no_change or args.format:
            parser.error("--process/--events/--cases/--no-change/--format need --out")
        for path in write_samples(args.folder):
            print(f"wrote {path} ({path.stat().st_size:,} bytes)")
        return 0
    if args.process is None:
        parser.error("--out needs --process")
    if args.out.suffix.lower() == ".bpmn" and args.format is None:
        if args.events or args.cases or args.no_change:
            parser.error("a .bpmn model takes no --events/--cases/--no-change")
        write_model(args.process, args.out)
    else:
        try:
            write_log(
                args.process,
                args.out,
                cases=args.cases,
                events=args.events,
                seed=args.seed,
                change=not args.no_change,
                fmt=args.format,
            )
        except ValueError as exc:
            parser.error(str(exc))
    change = "no change" if args.no_change else f"change on {CHANGE_DATES[args.process].isoformat()}"
    print(
        f"wrote {args.out} ({args.out.stat().st_size:,} bytes, {change}) in {time.perf_counter() - t0:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
