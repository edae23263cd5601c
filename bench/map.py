"""The first drawing of a 150-activity process map: in the library and in a real browser.

A generated log of 10,000 cases through 15 stages of 10 activities each (150
activities, 150,000 events, about 1,400 distinct paths; a few activities per
stage far more frequent than the rest) is ingested once into
``bench/out/ws_many150.duckdb``.  Each run is a fresh process, so nothing is
cached:

* **library**: what the Process map page computes before it draws, with its
  defaults: the directly-follows graph of the log, the graph of the log
  projected onto its 25 most frequent activities (two queries), the paths
  slider's first value (about 60 paths), the simplified graph at that value
  and the layout (:func:`mining.ui.mapdraw.draw_map`); wall time, and the
  CPU time of all the process's threads (on a shared, busy machine the wall
  time includes waiting for a core);
* **browser**: a fresh ``streamlit run app.py`` and headless Chromium at
  1440x900; the seconds from the click on "Process map" in the sidebar (the
  page's first open in the server) to the map drawn on screen (the SVG built,
  two frames painted).  The reference is the Logs page opened in the same
  session just before: the app's fixed cost per rerun on this machine.

    python bench/map.py [--runs 5] [--chromium /usr/bin/chromium]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
CASES = 10_000
STAGES = 15
PER_STAGE = 10

# The library's part of the page's first drawing, in a fresh process (imports not timed).
LIBRARY_CHILD = r"""
import dataclasses, json, sys, time
from mining.analysis.dfg import dfg
from mining.analysis.filters import Filter
from mining.analysis.simplify import kept_activities, simplify
from mining.store import Store
from mining.ui.mapdraw import draw_map
from mining.ui.pages.process_map import DEFAULT_ACTIVITIES, default_paths, endpoint_min

with Store(sys.argv[1], read_only=True) as store:
    log_id = int(store.scalar("SELECT min(log_id) FROM logs"))
    t0, c0 = time.perf_counter(), time.process_time()
    full = dfg(store, log_id, Filter())
    kept = kept_activities(full, DEFAULT_ACTIVITIES / len(full.activities))
    shown = dfg(store, log_id, Filter(activities_keep=kept))
    paths = default_paths(shown)
    graph = simplify(shown, activities=1.0, paths=paths / 100)
    drawing = draw_map(graph, endpoint_min=endpoint_min(graph, paths))
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
print(json.dumps({"seconds": seconds, "cpu": cpu, "activities": len(full.activities), "paths": len(full.edges),
                  "boxes": len(graph.activities), "drawn_paths": len(drawing.edges), "share": paths}))
"""

# Resolves when the map is drawn (searched in shadow roots too: the component may live in one) and the
# app has finished its rerun, two frames later; or, with no map wanted, when the rerun has finished.
_ARM = """(wantMap) => {
  const app = document.querySelector('[data-testid=stApp]');
  const find = (root) => {
    const m = root.querySelector('[data-testid=process-map][data-ready="1"]');
    if (m) return m;
    for (const el of root.querySelectorAll('*')) if (el.shadowRoot) { const r = find(el.shadowRoot); if (r) return r; }
    return null;
  };
  window.__t0 = performance.now(); window.__done = null; let started = false;
  const tick = () => {
    const state = app.getAttribute('data-test-script-state');
    if (state === 'running') started = true;
    const ready = wantMap ? find(document) !== null : started;
    if (ready && state === 'notRunning') {
      requestAnimationFrame(() => requestAnimationFrame(() => { window.__done = performance.now(); }));
      return;
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}"""


def write_log(path: Path) -> Path:
    """The 150-activity log: per stage, activity k is taken with weight 1 / (k + 1) ** 1.5."""
    rng = random.Random(150)
    weights = [1 / (k + 1) ** 1.5 for k in range(PER_STAGE)]
    lines = ["case,activity,resource,timestamp"]
    for c in range(CASES):
        minute = c * 13
        for stage in range(STAGES):
            k = rng.choices(range(PER_STAGE), weights)[0]
            name = f"Stage {stage + 1:02d} step {k + 1}: " + ("check the documents" if k % 2 else "approve")
            minute += rng.randint(5, 600)
            day, rest = divmod(minute, 24 * 60)
            date = f"2024-{1 + day // 28 % 12:02d}-{1 + day % 28:02d}"
            lines.append(f"c{c},{name},clerk {rng.randint(1, 40)},{date} {rest // 60:02d}:{rest % 60:02d}:00")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def workspace() -> Path:
    ws = OUT / "ws_many150.duckdb"
    done = OUT / "ws_many150.done"  # written only after a complete ingest
    if not done.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        ws.unlink(missing_ok=True)
        source = write_log(OUT / "many150.csv")
        code = (
            "from mining.store import Store; from mining.ingest import IngestOptions, ingest_file; import sys\n"
            "with Store(sys.argv[1]) as s: ingest_file(s, sys.argv[2], IngestOptions(name='many150'))"
        )
        subprocess.run([sys.executable, "-c", code, str(ws), str(source)], check=True, env=_env())
        done.write_text("ok\n")
    return ws


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def library_run(ws: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", LIBRARY_CHILD, str(ws)],
        capture_output=True,
        text=True,
        env=_env(),
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def browser_run(ws: Path, chromium: str) -> tuple[float, float]:
    """(seconds to the painted map on its first open, seconds of the Logs page just before) in a fresh server."""
    from playwright.sync_api import sync_playwright

    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
         "--server.headless", "true", "--server.address", "127.0.0.1", "--server.fileWatcherType", "none"],
        cwd=ROOT, env={**_env(), "MINING_WORKSPACE": str(ws)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read() == b"ok":
                        break
            except OSError:
                time.sleep(0.2)
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=chromium,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
            page.set_default_timeout(120_000)
            page.goto(url)
            page.locator("[data-testid=stMetric]").first.wait_for()
            page.locator("[data-testid=stApp][data-test-script-state=notRunning]").wait_for()

            def timed(title: str, want_map: bool) -> float:
                page.evaluate(_ARM, want_map)
                page.locator("[data-testid=stSidebarNav]").get_by_text(title, exact=True).click()
                page.wait_for_function("() => window.__done !== null", timeout=120_000)
                return page.evaluate("window.__done - window.__t0") / 1000

            reference = timed("Logs", want_map=False)
            first = timed("Process map", want_map=True)
            browser.close()
        return first, reference
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--chromium", default=os.environ.get("MINING_CHROMIUM", "/usr/bin/chromium"))
    args = ap.parse_args()
    ws = workspace()
    library = [library_run(ws) for _ in range(args.runs)]
    facts = library[0]
    print(
        f"{facts['activities']} activities, {facts['paths']:,} paths; first drawing: {facts['boxes']} boxes, "
        f"{facts['drawn_paths']} paths (paths slider at {facts['share']} %)"
    )
    lib = [r["seconds"] for r in library]
    cpu = [r["cpu"] for r in library]
    print(
        f"library, fresh process: median {statistics.median(lib):.3f} s, max {max(lib):.3f} s "
        f"(CPU time of every thread, which a busy machine inflates less: median {statistics.median(cpu):.3f} s)"
    )
    runs = [browser_run(ws, args.chromium) for _ in range(args.runs)]
    first = [f for f, _ in runs]
    ref = [r for _, r in runs]
    ratios = [f / r for f, r in runs]
    print(
        f"browser, fresh server: Process map first open to painted map median {statistics.median(first):.3f} s, "
        f"max {max(first):.3f} s; Logs (reference) median {statistics.median(ref):.3f} s; "
        f"ratio median {statistics.median(ratios):.1f}x"
    )


if __name__ == "__main__":
    main()
