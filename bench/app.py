"""Workbench interaction speed on a 1M-event log, measured in a real browser.

Starts ``streamlit run app.py`` on a copy of the cached 1M-event workspace
(bench/out/ws_sd1m.duckdb, shared with bench/analytics.py), drives it with
headless Chromium and times each interaction from the user's action to the
moment the app has finished its rerun and the browser has painted twice.

"First" is an interaction on a page nobody has opened yet (its queries run);
"again" is the same page opened once more, with another filter value, or with
a slider moved to a value not seen before, so a cache hit does not flatter the
figure where a user would wait.  The reference is the Logs page, which reads
only the catalogue: the ratio against it shows the cost of each page over the
app's fixed per-rerun cost on this (noisy, shared) machine.

    python bench/app.py [--runs 5] [--chromium /usr/bin/chromium] [--code DIR] [--explore-only]

``--code DIR`` serves another checkout's app (a ``git archive`` of main, say) on the
same workspace, for a before/after measured in the same minutes; ``--explore-only``
leaves out Conformance, Monitoring and the server-side reruns (the Explore pages alone).

Conformance and Monitoring are timed too: the check itself (alignments,
ETC precision) is long work behind a progress bar and is reported apart
from the interactions on its result (picking a deviation, then a case).
Monitoring's first open computes every KPI per week; switching the period
or the KPI of the control chart are its interactions, then setting a change
date (the before/after joins every rerun) and switching the period again.

After a filter change the app computes the other Explore pages' measures in
the background; no pause is inserted between actions, so a page opened right
after one includes whatever of that warm-up is still running, and the
server-side figures (AppTest, one session) likewise find pages warmed by the
ones before them.

It also times the same reruns on the server alone (Streamlit's AppTest, no
browser): the difference is what the browser spends drawing (the charts, and
the map's SVG, laid out on the server) plus the warm-up of the other pages
that runs while the browser waits.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Half-way through the 1M-event log's 13 months.
CHANGE_DATE = "2025-07-01"

# Resolves when the next rerun has finished and the result has been painted.
_ARM = """() => {
  const app = document.querySelector('[data-testid=stApp]');
  window.__t0 = performance.now(); window.__done = null; window.__last = null;
  // Any change of the script state after arming is this action's rerun; a fast
  // rerun may flip running -> notRunning within one observer callback.
  const obs = new MutationObserver((records) => {
    window.__last = performance.now();
    if (records.some((r) => r.attributeName === 'data-test-script-state')
        && app.getAttribute('data-test-script-state') === 'notRunning') {
      obs.disconnect();
      requestAnimationFrame(() => requestAnimationFrame(() => { window.__done = performance.now(); }));
    }
  });
  obs.observe(app, {attributes: true, childList: true, subtree: true, characterData: true});
}"""

# A rerun fast enough for React to batch running -> notRunning leaves the state
# attribute unchanged: then the page is done at its last change, once it has
# been quiet for a while.
_DONE = """() => window.__done !== null || (window.__last !== null && performance.now() - window.__last > 500
  && document.querySelector('[data-testid=stApp]').getAttribute('data-test-script-state') === 'notRunning')"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(workspace: Path, code: Path) -> tuple[subprocess.Popen[str], str]:
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(code / "app.py"),
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--server.fileWatcherType",  # edits to the checkout during a run must not reload modules
            "none",
        ],
        cwd=code,
        env={**os.environ, "MINING_WORKSPACE": str(workspace), "PYTHONPATH": str(code)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.read() == b"ok":
                    return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the app did not start")


def _timed(page, action: Callable[[], None]) -> float:
    page.evaluate(_ARM)
    action()
    try:
        page.wait_for_function(_DONE, timeout=120_000)
    except Exception:
        page.screenshot(
            path=str(Path(tempfile.gettempdir()) / "mining-bench-app-timeout.png"), full_page=True
        )
        raise
    return (page.evaluate("(window.__done ?? window.__last) - window.__t0")) / 1000


def _nav(page, title: str) -> Callable[[], None]:
    return lambda: page.locator("[data-testid=stSidebarNav]").get_by_text(title, exact=True).click()


def _radio(page, label: str, option: str) -> None:
    group = page.get_by_role("radiogroup", name=label, exact=True)
    group.locator("[data-testid=stRadioOption]").filter(has_text=option).first.click()


def _select(page, label: str, option: int | str) -> Callable[[], None]:
    """Open the select box labelled ``label`` (not timed) and return the click on an option: by text, or the n-th."""
    box = (
        page.locator("[data-testid=stSelectbox]")
        .filter(has=page.get_by_role("combobox", name=label, exact=True))
        .first
    )
    # A select box drawn a moment ago may not open on the first click yet: try again.
    for _ in range(10):
        box.get_by_role("button", name="Open").click()
        try:
            page.get_by_role("listbox").first.wait_for(timeout=2_000)
            break
        except Exception:
            continue
    options = page.get_by_role("option")
    chosen = options.nth(option) if isinstance(option, int) else options.filter(has_text=option).first
    return chosen.click


def _check_pages(page, runs: int, add: Callable[[str, float], None]) -> None:
    add("Conformance: first open", _timed(page, _nav(page, "Conformance")))
    if page.get_by_role("combobox", name="Model").input_value() != "service_desk.bpmn (sample model)":
        _timed(page, _select(page, "Model", "service_desk.bpmn (sample model)"))
    add(
        "Conformance: the check (long work)",
        _timed(page, lambda: page.get_by_role("button", name="Check").click()),
    )
    page.get_by_text("Cases of a deviation").wait_for()
    for i in range(runs):
        add("Conformance: pick a deviation", _timed(page, _select(page, "Deviation", (i + 1) % 2)))
        add("Conformance: pick a case", _timed(page, _select(page, "Case", i + 1)))
    add("Monitoring: first open", _timed(page, _nav(page, "Monitoring")))
    for i in range(runs):
        add("Monitoring: control chart KPI", _timed(page, _select(page, "KPI", i + 1)))
    for i in range(runs):
        period = "month" if i % 2 == 0 else "week"
        add("Monitoring: period week/month", _timed(page, _select(page, "Period", period)))
    # A change date adds the before/after (bootstrap intervals and tests, case mix) to every rerun.
    # The date is typed into its field and applied with Enter.
    field = page.get_by_role("textbox", name="Change date")
    field.fill(CHANGE_DATE)
    add("Monitoring: change date (before/after)", _timed(page, lambda: field.press("Enter")))
    page.get_by_role("heading", name=f"Before and after {CHANGE_DATE}").wait_for()
    for i in range(runs):
        # Starting from the period the loop above left selected would time a no-op first.
        period = "month" if (runs + i) % 2 == 0 else "week"
        add("Monitoring: period, with before/after", _timed(page, _select(page, "Period", period)))
    for i in range(runs):
        field.fill(f"2025-08-0{i + 1}")  # a date not chosen before: no cached run
        add("Monitoring: change date, new value", _timed(page, lambda: field.press("Enter")))


def _session(browser, url: str, runs: int, *, checks: bool = True) -> dict[str, list[float]]:
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    page.set_default_timeout(120_000)
    page.goto(url)
    page.locator("[data-testid=stMetric]").first.wait_for()
    page.locator("[data-testid=stApp][data-test-script-state=notRunning]").wait_for()
    t: dict[str, list[float]] = {}

    def add(name: str, seconds: float) -> None:
        t.setdefault(name, []).append(seconds)

    for title in ("Overview", "Process map", "Variants", "Bottlenecks"):
        add(f"{title}: first open", _timed(page, _nav(page, title)))
        add("Logs (reference)", _timed(page, _nav(page, "Logs")))
    for i in range(runs):
        for title in ("Start", "Overview", "Process map", "Variants", "Bottlenecks"):
            add(f"{title}: open again", _timed(page, _nav(page, title)))
        add("Logs (reference)", _timed(page, _nav(page, "Logs")))
        _timed(page, _nav(page, "Process map"))
        slider = page.locator("[data-testid=stSlider]").first.locator("input[type=range]")
        slider.focus()
        add(
            "Process map: activities slider, new value",
            _timed(page, lambda: page.keyboard.press("ArrowLeft")),
        )
        paths = page.locator("[data-testid=stSlider]").nth(1).locator("input[type=range]")
        paths.focus()
        add("Process map: paths slider, new value", _timed(page, lambda: page.keyboard.press("ArrowLeft")))
        # The other view than the one shown (the page may keep the mode when it is left).
        shown = (
            page.get_by_role("radiogroup", name="Show", exact=True)
            .locator("input:checked")
            .locator("..")
            .inner_text()
        )
        mode = "Frequency" if "Performance" in shown else "Performance"
        add("Process map: frequency/performance", _timed(page, lambda m=mode: _radio(page, "Show", m)))
        _timed(page, _nav(page, "Variants"))
        radio = "top k" if i % 2 == 0 else "all"
        add(
            "Filter: variants all/top k (Variants page)",
            _timed(page, lambda r=radio: _radio(page, "Variants", r)),
        )
    if runs % 2:  # the last pick was "top k": back to all variants for the pages that follow
        _timed(page, lambda: _radio(page, "Variants", "all"))
    # The working calendar: business time on every duration of the page, then other hours.
    _timed(page, _nav(page, "Bottlenecks"))
    page.get_by_text("Working calendar and time zone").click()
    add(
        "Bottlenecks: working calendar on",
        _timed(page, lambda: page.get_by_text("Count working time only").click()),
    )
    for i in range(runs):
        hours = page.get_by_role("textbox", name="Working hours", exact=True)
        hours.fill(f"{7 + i % 3}-{15 + i}")  # hours not seen before: no cached figures
        add("Bottlenecks: working hours, new value", _timed(page, lambda h=hours: h.press("Enter")))
    page.get_by_text("Count working time only").click()
    page.locator("[data-testid=stApp][data-test-script-state=notRunning]").wait_for()
    if checks:
        _check_pages(page, runs, add)
    ctx.close()
    return t


SERVER_CHILD = r"""
import datetime as dt, json, os, statistics, sys, time
os.environ["MINING_WORKSPACE"] = sys.argv[1]
runs = int(sys.argv[2])
from streamlit.testing.v1 import AppTest

def page(name):
    return AppTest.from_string(f"from mining.ui.pages import {name}\n{name}.render()\n", default_timeout=600)

def widget(elements, label):
    return next(e for e in elements if e.label == label)

out = {}
def timed(name, at, step):
    t = time.perf_counter(); step(at); out.setdefault(name, []).append(time.perf_counter() - t)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]

at = AppTest.from_string("from mining.ui.pages import start\nstart.render({})\n", default_timeout=600)
timed("start: first open", at, lambda a: a.run())
for name in ("overview", "process_map", "variants", "bottlenecks"):
    at = page(name)
    timed(name + ": first open", at, lambda a: a.run())
    for i in range(runs):
        timed(name + ": rerun", at, lambda a: a.run())
        timed(name + ": filter variants all/top k", at,
              lambda a, i=i: a.radio(key="flt-1-vmode").set_value("top k" if i % 2 == 0 else "all").run())
        if name == "process_map":
            timed("process_map: activities slider", at,
                  lambda a, i=i: a.slider(key="map-activities-1").set_value(20 - i).run())
            timed("process_map: frequency/performance", at,
                  lambda a, i=i: a.radio(key="map-mode").set_value(["Performance", "Frequency"][i % 2]).run())

at = page("conformance")
timed("conformance: first open", at, lambda a: a.run())
widget(at.selectbox, "Model").set_value("sample:service_desk.bpmn").run()
timed("conformance: the check (long work)", at, lambda a: a.button(key="conf-run").click().run())
for i in range(runs):
    timed("conformance: pick a deviation", at,
          lambda a, i=i: widget(a.selectbox, "Deviation").select_index((i + 1) % 2).run())
    timed("conformance: pick a case", at,
          lambda a, i=i: widget(a.selectbox, "Case").select_index(i + 1).run())

at = page("monitoring")
timed("monitoring: first open", at, lambda a: a.run())
for i in range(runs):
    timed("monitoring: control chart KPI", at, lambda a, i=i: widget(a.selectbox, "KPI").select_index(i + 1).run())
for i in range(runs):
    timed("monitoring: period week/month", at,
          lambda a, i=i: widget(a.selectbox, "Period").set_value("month" if i % 2 == 0 else "week").run())
timed("monitoring: change date (before/after)", at,
      lambda a: widget(a.text_input, "Change date").set_value(sys.argv[3]).run())
for i in range(runs):
    timed("monitoring: period, with before/after", at,
          lambda a, i=i: widget(a.selectbox, "Period").set_value("month" if i % 2 == 0 else "week").run())
for i in range(runs):
    timed("monitoring: change date, new value", at,
          lambda a, i=i: widget(a.text_input, "Change date").set_value(dt.date(2025, 8, i + 1).isoformat()).run())
print(json.dumps({k: [statistics.median(v), max(v)] for k, v in out.items()}), flush=True)
# A daemon warm-up thread still inside DuckDB when the interpreter ends aborts the process
# ("terminate called ..."): let it finish, then leave without the interpreter's teardown.
from mining.ui import warmup
warmup.warm_wait(600)
os._exit(0)
"""


def _server_side(ws: Path, runs: int, code: Path) -> dict[str, list[float]]:
    import json

    out = subprocess.run(
        [sys.executable, "-c", SERVER_CHILD, str(ws), str(runs), CHANGE_DATE],
        capture_output=True,
        text=True,
        cwd=code,
        env={**os.environ, "PYTHONPATH": str(code)},
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--chromium", default=os.environ.get("MINING_CHROMIUM", "/usr/bin/chromium"))
    ap.add_argument(
        "--code", type=Path, default=ROOT, help="the checkout whose app is served (default: this one)"
    )
    ap.add_argument(
        "--explore-only",
        action="store_true",
        help="only the Explore pages in the browser: no Conformance, Monitoring or server-side reruns",
    )
    args = ap.parse_args()
    code = args.code.resolve()

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from analytics import source, workspace  # the same cached 1M-event workspace as the analytics bench
    from playwright.sync_api import sync_playwright

    cached = workspace("sd1m", source("sd1m")[0])

    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "ws.duckdb"
        shutil.copyfile(cached, ws)
        server = {} if args.explore_only else _server_side(ws, args.runs, code)
        proc, url = _serve(ws, code)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=args.chromium,
                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
                )
                times = _session(browser, url, args.runs, checks=not args.explore_only)
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    if server:
        print("Server side (AppTest rerun of the page, no browser); seconds")
        print(f"{'interaction':<46} {'median':>8} {'max':>8}")
        for name, (med, worst) in server.items():
            print(f"{name:<46} {med:8.3f} {worst:8.3f}")
        print()
    ref = statistics.median(times["Logs (reference)"])
    print(
        f"1M-event service desk log, {args.runs} runs, app of {code}; median seconds from action to painted result"
    )
    print(f"{'interaction':<46} {'median':>8} {'max':>8} {'x ref':>7}")
    for name, values in times.items():
        med = statistics.median(values)
        print(f"{name:<46} {med:8.3f} {max(values):8.3f} {med / ref:7.1f}")


if __name__ == "__main__":
    main()
