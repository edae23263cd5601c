"""Bounded work: hostile logs and models against `mining conform` and `mining discover`, before and after.

Each class of input is generated here (nothing is downloaded), ingested by
the code under test, then the command runs in a fresh process; the script
prints its wall time, its CPU time, the peak memory of its whole process tree (the pm4py
pool's workers included, sampled every 50 ms) and what it answered (complete,
partial, refused with which message).  A run is killed at ``--timeout``
seconds or ``--memory-cap`` MB of the tree, and then says so.

  unbounded      a loop whose task adds a token to a place nothing empties:
                 no run reaches the final marking (200 cases)
  unbounded-reachable  an optional silent step that adds a token to such a
                 place: the final marking is reachable, the silent closure
                 is infinite (precision)
  unbounded-tr   the same, --method token-replay
  wide           30 parallel branches, 300 cases in random orders, some
                 with a skipped or a repeated task
  wide-optional  30 parallel branches each with a silent skip (2^30 markings
                 by silent steps alone)
  long-case      one case of 200,000 events over 20 activities: discover
  long-case-conform  the same case checked against a model of its 20 activities
  activities     300,000 distinct activities (100,000 cases of 3 events): discover
  activities-conform  the same log checked against a 3-step model (--force)

``--roots`` names the source trees to compare (default: /work/main, the
previous state, and this tree); each tree ingests its own workspace.

    python bench/bounded.py [--classes ...] [--roots /work/main .] [--runs 3] [--timeout 180]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "bounded"

WIDE = 30


def _pnml(places, transitions, arcs, initial, final) -> str:
    body = "".join(
        f'<place id="{p}">'
        + (f"<initialMarking><text>{initial[p]}</text></initialMarking>" if p in initial else "")
        + "</place>"
        for p in places
    )
    body += "".join(
        f'<transition id="{t}"><name><text>{lab}</text></name></transition>'
        if lab
        else f'<transition id="{t}"><toolspecific tool="ProM" version="6.4" activity="$invisible$"/></transition>'
        for t, lab in transitions
    )
    body += "".join(f'<arc id="a{i}" source="{s}" target="{d}"/>' for i, (s, d) in enumerate(arcs))
    marks = "".join(f'<place idref="{p}"><text>{n}</text></place>' for p, n in final.items())
    return (
        f'<?xml version="1.0"?><pnml><net id="n" type="http://www.pnml.org/version-2009/grammar/pnmlcoremodel">'
        f'<page id="pg">{body}</page><finalmarkings><marking>{marks}</marking></finalmarkings></net></pnml>'
    )


def unbounded_net(reachable: bool) -> str:
    """start -A-> p1 -B-> p2 -C-> end with a place q that grows without bound.

    ``reachable``: an optional silent step at p1 puts its token back and one
    more in q (the final marking stays reachable: never fire it).  Otherwise
    B itself puts a token in q and a silent step loops back from p2 to p1:
    nothing empties q, so no run reaches the final marking.
    """
    transitions: list[tuple[str, str | None]] = [("tA", "A"), ("tB", "B"), ("tC", "C")]
    arcs = [("start", "tA"), ("tA", "p1"), ("p1", "tB"), ("tB", "p2"), ("p2", "tC"), ("tC", "end")]
    if reachable:
        transitions.append(("tau", None))
        arcs += [("p1", "tau"), ("tau", "p1"), ("tau", "q")]
    else:
        transitions.append(("back", None))
        arcs += [("tB", "q"), ("p2", "back"), ("back", "p1")]
    return _pnml(["start", "p1", "p2", "q", "end"], transitions, arcs, {"start": 1}, {"end": 1})


def wide_net(optional: bool) -> str:
    """A silent split into WIDE branches of one task each (or its silent skip) and a silent join."""
    places = ["start", "end"]
    transitions: list[tuple[str, str | None]] = [("split", None), ("join", None)]
    arcs = [("start", "split"), ("join", "end")]
    for i in range(WIDE):
        places += [f"b{i}", f"c{i}"]
        transitions.append((f"t{i}", f"Task {i:02d}"))
        arcs += [("split", f"b{i}"), (f"b{i}", f"t{i}"), (f"t{i}", f"c{i}"), (f"c{i}", "join")]
        if optional:
            transitions.append((f"skip{i}", None))
            arcs += [(f"b{i}", f"skip{i}"), (f"skip{i}", f"c{i}")]
    return _pnml(places, transitions, arcs, {"start": 1}, {"end": 1})


def _csv(rows) -> str:
    lines = ["case_id,activity,timestamp"]
    base = 1_700_000_000
    for k, (case, act) in enumerate(rows):
        ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(base + 60 * k))
        lines.append(f"{case},{act},{ts}")
    return "\n".join(lines) + "\n"


def abc_log() -> str:
    rng = random.Random(1)
    rows = []
    for c in range(200):
        trace = ["A", "B", "C"]
        r = rng.random()
        if r < 0.2:
            trace.remove("B")
        elif r < 0.3:
            trace.insert(2, "B")
        rows += [(f"c{c}", a) for a in trace]
    return _csv(rows)


def wide_log() -> str:
    rng = random.Random(2)
    rows = []
    for c in range(300):
        tasks = [f"Task {i:02d}" for i in range(WIDE)]
        rng.shuffle(tasks)
        r = rng.random()
        if r < 0.2:
            tasks.pop(rng.randrange(len(tasks)))
        elif r < 0.3:
            tasks.insert(rng.randrange(len(tasks)), tasks[0])
        rows += [(f"c{c}", a) for a in tasks]
    return _csv(rows)


def long_log(events: int = 200_000, activities: int = 20) -> str:
    rng = random.Random(3)
    return _csv(("only", f"act{rng.randrange(activities):02d}") for _ in range(events))


def activities_log(cases: int = 100_000) -> str:
    return _csv((f"c{c}", f"step {3 * c + k:07d}") for c in range(cases) for k in range(3))


CLASSES = {
    # name: (log file, log writer, model file or None, model writer, command after LOG)
    "unbounded": (
        "abc",
        abc_log,
        "unbounded.pnml",
        lambda: unbounded_net(False),
        ["conform", "--budget", "10"],
    ),
    "unbounded-reachable": (
        "abc",
        abc_log,
        "unbounded_reachable.pnml",
        lambda: unbounded_net(True),
        ["conform", "--budget", "10"],
    ),
    "unbounded-tr": (
        "abc",
        abc_log,
        "unbounded_reachable.pnml",
        lambda: unbounded_net(True),
        ["conform", "--budget", "10", "--method", "token-replay"],
    ),
    "wide": ("wide", wide_log, "wide.pnml", lambda: wide_net(False), ["conform", "--budget", "10"]),
    "wide-optional": (
        "wide",
        wide_log,
        "wide_optional.pnml",
        lambda: wide_net(True),
        ["conform", "--budget", "10"],
    ),
    "long-case": ("long", long_log, None, None, ["discover", "--budget", "60"]),
    "long-case-conform": (
        "long",
        long_log,
        "twenty.txt",
        lambda: "\n".join(f"act{i:02d}" for i in range(20)) + "\n",
        ["conform", "--budget", "10"],
    ),
    "activities": ("activities", activities_log, None, None, ["discover", "--budget", "60"]),
    "activities-conform": (
        "activities",
        activities_log,
        "abc.txt",
        lambda: "step 0000000\nstep 0000001\nstep 0000002\n",
        ["conform", "--budget", "10", "--force"],
    ),
}


def _tree_rss(pid: int) -> int:
    """Resident memory (bytes) of ``pid`` and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo += children.get(p, [])
        try:
            with open(f"/proc/{p}/statm", encoding="utf-8") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            pass
    return total


def measure(
    cmd: list[str], cwd: Path, env: dict[str, str], timeout: float, cap_mb: float
) -> dict[str, object]:
    """Run ``cmd``; its seconds, CPU seconds, peak tree MB and outcome, killing it at the time or memory cap.

    CPU seconds (user + system of the command and the children it waited for) say what the work
    costs when the shared machine is so loaded that wall time mostly measures waiting for a core.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    peak, killed = 0, ""
    while proc.poll() is None:
        peak = max(peak, _tree_rss(proc.pid))
        if peak > cap_mb * 2**20:
            killed = f"killed at {cap_mb:,.0f} MB"
        elif time.monotonic() - started > timeout:
            killed = f"killed at {timeout:.0f} s"
        if killed:
            os.killpg(proc.pid, 9)
            break
        time.sleep(0.05)
    out, err = proc.communicate()
    seconds = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if killed:
        outcome = killed
    elif proc.returncode == 0:
        outcome = _answer(out)
    else:
        lines = [line for line in err.strip().splitlines() if line.strip()]
        outcome = f"exit {proc.returncode}: {lines[-1][:150] if lines else ''}"
    return {"seconds": seconds, "cpu": cpu, "peak_mb": peak / 2**20, "outcome": outcome}


def _answer(out: str) -> str:
    try:
        data = json.loads(out)
    except json.JSONDecodeError:
        return out.strip().splitlines()[0][:150] if out.strip() else "ok"
    if "transitions" in data and "fitness" not in data:
        return f"model: {data['transitions']} transitions"
    said = (
        "complete" if data.get("complete") else f"partial ({data.get('aligned_cases_share', 0):.1%} of cases)"
    )
    precision = data.get("precision")
    said += ", precision " + ("-" if precision is None else f"{precision:.3f}")
    notes = [n for n in data.get("notes", []) if "precision" in n or "budget" in n or "r4pm" in n]
    return said + (f"; {notes[0][:110]}" if notes else "")


def prepare(root: Path, tag: str, name: str) -> tuple[Path, Path | None]:
    log_key, write_log, model_name, write_model, _ = CLASSES[name]
    folder = OUT / tag
    folder.mkdir(parents=True, exist_ok=True)
    csv = OUT / f"{log_key}.csv"
    if not csv.exists():
        csv.write_text(write_log(), encoding="utf-8")
    ws = folder / f"{log_key}.duckdb"
    if not ws.exists():
        env = {**os.environ, "PYTHONPATH": str(root)}
        subprocess.run(
            [
                *(
                    sys.executable,
                    "-m",
                    "mining",
                    "--workspace",
                    str(ws),
                    "ingest",
                    str(csv),
                    "--name",
                    log_key,
                ),
                *("--case", "case_id", "--activity", "activity", "--timestamp", "timestamp"),
            ],
            cwd=root,
            env=env,
            check=True,
            capture_output=True,
        )
    model = None
    if model_name:
        model = OUT / model_name
        if not model.exists():
            model.write_text(write_model(), encoding="utf-8")
    return ws, model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--classes", nargs="+", default=list(CLASSES), choices=list(CLASSES))
    ap.add_argument("--roots", nargs="+", default=["/work/main", str(ROOT)])
    ap.add_argument("--runs", type=int, default=3, help="fresh-process runs per class and tree")
    ap.add_argument("--timeout", type=float, default=180.0)
    ap.add_argument("--memory-cap", type=float, default=6000.0, help="MB of the process tree")
    args = ap.parse_args()
    roots = [Path(r).resolve() for r in args.roots]
    print(f"{'class':<20} {'tree':<12} {'median s':>9} {'CPU s':>7} {'peak MB':>8}  answer")
    for name in args.classes:
        *_, command = CLASSES[name]
        results: dict[Path, list[dict[str, object]]] = {r: [] for r in roots}
        for _ in range(args.runs):
            for root in roots:  # A B A B
                if results[root] and str(results[root][-1]["outcome"]).startswith("killed"):
                    continue  # once is enough to say so
                tag = root.name
                ws, model = prepare(root, tag, name)
                cmd = [sys.executable, "-m", "mining", "--workspace", str(ws), command[0], CLASSES[name][0]]
                cmd += command[1:] + (["--model", str(model)] if model else []) + ["--json"]
                if command[0] == "discover" and not _knows_budget(root):
                    at = cmd.index("--budget")
                    del cmd[at : at + 2]
                if "--force" in cmd and not _knows_force(root):
                    cmd.remove("--force")  # before it, every model was scored anyway
                env = {**os.environ, "PYTHONPATH": str(root), "PM4PY_SHOW_PROGRESS_BAR": "false"}
                results[root].append(measure(cmd, root, env, args.timeout, args.memory_cap))
        for root in roots:
            runs = results[root]
            print(
                f"{name:<20} {root.name:<12} {statistics.median(r['seconds'] for r in runs):9.2f} "
                f"{statistics.median(r['cpu'] for r in runs):7.2f} "
                f"{max(r['peak_mb'] for r in runs):8.0f}  {runs[-1]['outcome']}",
                flush=True,
            )


def _knows_budget(root: Path) -> bool:
    return "--budget" in (root / "mining" / "commands" / "discover.py").read_text(encoding="utf-8")


def _knows_force(root: Path) -> bool:
    return "--force" in (root / "mining" / "commands" / "conform.py").read_text(encoding="utf-8")


if __name__ == "__main__":
    main()
