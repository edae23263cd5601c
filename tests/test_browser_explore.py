"""The Explore pages in a real browser on real logs and a generated 150-activity log.

One server per module on one workspace holding running-example.xes,
helpdesk.xes.gz and sepsis.csv.gz from ``../shared/logs`` and a generated log
of 150 activities.  Measured in the browser at 1440x900: the first map's
boxes and paths, its label height, zoom; the case count each filter leaves,
against a query on the same workspace; values kept across pages.  Every page
of two real logs is screenshotted into ``test-artifacts/``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mining.ingest import ingest_file
from mining.store import Store
from mining.ui.pages.process_map import DEFAULT_ACTIVITIES
from tests.conftest import ROOT, app_server

pytestmark = pytest.mark.browser

playwright = pytest.importorskip("playwright.sync_api", reason="browser tests need: pip install playwright")

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 120_000
REAL = {"running-example": "running-example.xes", "helpdesk": "helpdesk.xes.gz", "sepsis": "sepsis.csv.gz"}
MANY = "generated-150-activities"
#: The page titles, and what shows that each has drawn.
PAGES = {
    "Start": "[data-testid=stMetric]",
    "Logs": "[data-testid=stMetric]",
    "Overview": "[data-testid=stVegaLiteChart]",
    "Process map": "g.pm-node",
    "Variants": "[data-testid=stVegaLiteChart]",
    "Bottlenecks": "[data-testid=stVegaLiteChart]",
    "Conformance": "[data-testid=stMarkdown]",
    "Monitoring": "[data-testid=stVegaLiteChart]",
}
HEADINGS = {"Start": "See how your process really runs"}


def _many_activities(path: Path) -> Path:
    """1,500 cases through 15 stages of 10 activities each (150 in all), a few far more frequent."""
    rng = random.Random(150)
    weights = [1 / (k + 1) ** 1.5 for k in range(10)]
    lines = ["case,activity,resource,timestamp"]
    for c in range(1500):
        minute = c * 37
        for stage in range(15):
            k = rng.choices(range(10), weights)[0]
            name = f"Stage {stage + 1:02d} step {k + 1}: " + ("check the documents" if k % 2 else "approve")
            minute += rng.randint(5, 600)
            day, rest = divmod(minute, 24 * 60)
            lines.append(
                f"c{c},{name},clerk {rng.randint(1, 40)},2024-01-{1 + day % 28:02d} "
                f"{rest // 60:02d}:{rest % 60:02d}:00"
            )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, shared_logs) -> Path:
    folder = tmp_path_factory.mktemp("explore-browser")
    path = folder / "workspace.duckdb"
    with Store(path) as store:
        for file in REAL.values():
            ingest_file(store, shared_logs / file)
        source = _many_activities(folder / f"{MANY}.csv")
        ingest_file(store, source)
    return path


@pytest.fixture(scope="module")
def server(workspace: Path) -> Iterator[str]:
    with app_server(workspace) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: run `bash .ci/setup --browser` (installs Debian's chromium)")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(WAIT_MS)
    pg.goto(server)
    pg.get_by_role("heading", name=HEADINGS["Start"], exact=True).wait_for()
    _settled(pg)
    yield pg
    context.close()


def _settled(page) -> None:
    page.locator("[data-testid=stApp][data-test-script-state=notRunning]").wait_for()


# Notes when the app's next rerun has finished: any change of the script state after arming belongs
# to the action that follows (a fast rerun may flip running -> notRunning within one callback).
_ARM = """() => {
  const app = document.querySelector('[data-testid=stApp]');
  window.__rerunDone = false; window.__lastChange = null;
  const obs = new MutationObserver((records) => {
    window.__lastChange = performance.now();
    if (records.some((r) => r.attributeName === 'data-test-script-state')
        && app.getAttribute('data-test-script-state') === 'notRunning') {
      obs.disconnect(); window.__rerunDone = true;
    }
  });
  obs.observe(app, {attributes: true, childList: true, subtree: true});
}"""
_DONE = """() => window.__rerunDone || (window.__lastChange !== null && performance.now() - window.__lastChange > 700
  && document.querySelector('[data-testid=stApp]').getAttribute('data-test-script-state') === 'notRunning')"""


def _rerun(page, action) -> None:
    """Do ``action`` and wait until the rerun it starts has finished."""
    page.evaluate(_ARM)
    action()
    page.wait_for_function(_DONE)
    _settled(page)


def _open(page, title: str) -> None:
    """Navigate as a user does, by the sidebar, so the session (its log and filters) is kept."""
    page.locator("[data-testid=stSidebarNav]").get_by_text(title, exact=True).click()
    page.get_by_role("heading", name=HEADINGS.get(title, title), exact=True).wait_for()
    page.locator(PAGES[title]).first.wait_for()
    _settled(page)


def _no_errors(page) -> None:
    assert page.locator("[data-testid=stException]").count() == 0
    errors = page.locator("[data-testid=stAlertContentError]")
    assert errors.count() == 0, errors.all_inner_texts()


def _shot(page, name: str) -> Path:
    """The whole page, as tall as its content (the app scrolls inside its main area, not the window)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    size = page.viewport_size
    tall = page.locator("[data-testid=stMain]").evaluate("(e) => e.scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": min(max(tall, size["height"]), 8000)})
    page.wait_for_timeout(400)  # charts redraw at the new size
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)
    return path


def _select(page, label: str, option: str) -> None:
    """Pick ``option`` in the select box labelled ``label`` (the first one on the page)."""
    box = page.locator("[data-testid=stSelectbox]").filter(
        has=page.get_by_role("combobox", name=label, exact=True)
    )
    for _ in range(10):  # a box drawn a moment ago may not open on the first click yet
        box.first.get_by_role("button", name="Open").click()
        try:
            page.get_by_role("listbox").first.wait_for(timeout=2_000)
            break
        except playwright.TimeoutError:
            continue
    _rerun(page, page.get_by_role("option", name=option, exact=True).first.click)


def _choose_log(page, name: str) -> None:
    if page.get_by_role("combobox", name="Log", exact=True).first.input_value() != name:
        _select(page, "Log", name)


def _metric(page, label: str) -> str:
    box = page.locator("[data-testid=stMetric]").filter(has=page.get_by_text(label, exact=True)).first
    return box.locator("[data-testid=stMetricValue]").inner_text()


def _cases(page) -> int:
    return int(_metric(page, "Cases").replace(",", ""))


def _cases_become(page, expected: int) -> int:
    """The case count shown once the rerun a filter started has drawn it (or after a minute)."""
    deadline = time.monotonic() + 60
    while (shown := _cases(page)) != expected and time.monotonic() < deadline:
        time.sleep(0.3)
        _settled(page)
    return shown


def _log_id(workspace: Path, name: str) -> int:
    with Store(workspace, read_only=True) as store:
        return int(store.scalar("SELECT log_id FROM logs WHERE name = ?", [name]))


def _count(workspace: Path, sql: str, params: list) -> int:
    with Store(workspace, read_only=True) as store:
        return int(store.scalar(sql, params))


_LABELS_JS = """(wrap) => {
  const labels = [...wrap.querySelectorAll('text.pm-label')];
  const heights = labels.map((t) => t.getBoundingClientRect().height);
  const fonts = labels.map((t) => parseFloat(t.getAttribute('font-size')) * t.getCTM().a);
  return {scale: parseFloat(wrap.dataset.scale), minHeight: Math.min(...heights), minFont: Math.min(...fonts),
          width: wrap.clientWidth};
}"""


def _map(page) -> dict:
    view = page.locator("[data-testid=process-map][data-ready='1']").first
    view.wait_for()
    found = view.evaluate(_LABELS_JS)
    found["boxes"] = page.locator("g.pm-node:has(rect)").count()
    found["paths"] = page.locator("g.pm-edge").count()
    return found


@pytest.mark.parametrize("name", [*REAL, MANY])
def test_the_first_map_of_each_log_is_readable(page, workspace: Path, name: str) -> None:
    activities = _count(
        workspace, "SELECT count(DISTINCT activity) FROM events WHERE log_id = ?", [_log_id(workspace, name)]
    )
    _open(page, "Process map")
    _choose_log(page, name)
    page.get_by_text(f"of {activities} activities and", exact=False).first.wait_for()  # this log's map
    _no_errors(page)
    drawn = _map(page)
    assert 1 < drawn["boxes"] <= DEFAULT_ACTIVITIES
    assert drawn["paths"] <= 66  # about 60: the paths that keep every box connected come on top
    assert drawn["minFont"] >= 11 - 1e-3  # the smallest label's font, in screen pixels
    assert drawn["minHeight"] >= 11  # and the height of its box on screen
    assert drawn["boxes"] == min(activities, DEFAULT_ACTIVITIES)  # 25 of the 150 generated ones
    _shot(page, f"map-{name}")

    page.get_by_role("button", name="Zoom in", exact=True).click()
    zoomed = _map(page)
    assert zoomed["scale"] == pytest.approx(drawn["scale"] * 1.25)
    assert zoomed["minHeight"] > drawn["minHeight"] * 1.2
    page.get_by_role("button", name="Zoom out", exact=True).click()
    assert _map(page)["scale"] == pytest.approx(drawn["scale"])


def _reset(page) -> None:
    _rerun(page, page.locator("[data-testid=stSidebar]").get_by_role("button", name="Reset").click)
    page.get_by_text("No filters: every case is kept.").wait_for()


def _expand(page, title: str, field) -> None:
    """Open the sidebar's expander ``title`` unless ``field`` (a locator inside it) shows already."""
    if not field.is_visible():
        page.locator("[data-testid=stSidebar] [data-testid=stExpander]").filter(has_text=title).first.locator(
            "summary"
        ).click()
    field.wait_for(state="visible")


def _multiselect(page, expander: str, label: str, value: str) -> None:
    box = page.locator("[data-testid=stSidebar]").get_by_role("combobox", name=label, exact=True)
    _expand(page, expander, box)
    box.click()
    box.fill(value)
    _rerun(page, page.get_by_role("option", name=value, exact=True).first.click)
    page.keyboard.press("Escape")
    _settled(page)


def test_each_filter_leaves_the_cases_a_query_on_the_workspace_finds(page, workspace: Path) -> None:
    log_id = _log_id(workspace, "helpdesk")
    _open(page, "Overview")
    _choose_log(page, "helpdesk")
    _reset(page)
    total = _cases(page)
    assert total == _count(workspace, "SELECT count(*) FROM cases WHERE log_id = ?", [log_id]) == 4580

    # Cases passing through an activity.
    _multiselect(page, "Activities and paths", "Cases passing through", "Wait")
    expected = _count(
        workspace,
        "SELECT count(DISTINCT case_no) FROM events WHERE log_id = ? AND activity = 'Wait'",
        [log_id],
    )
    assert _cases_become(page, expected) == expected < total
    _reset(page)

    # Cases started with an activity other than the usual first one.
    _multiselect(page, "Activities and paths", "Started with", "Insert ticket")
    expected = _count(
        workspace,
        "SELECT count(*) FROM (SELECT case_no, arg_min(activity, (ts, row_no)) AS first FROM events "
        "WHERE log_id = ? GROUP BY case_no) WHERE first = 'Insert ticket'",
        [log_id],
    )
    assert _cases_become(page, expected) == expected < total
    _reset(page)

    # Cases in which a resource worked.
    with Store(workspace, read_only=True) as store:  # the busiest resource that misses some cases
        resource, expected = store.query(
            "SELECT resource, count(DISTINCT case_no) AS n FROM events WHERE log_id = ? AND resource IS NOT NULL "
            "GROUP BY resource HAVING n < ? ORDER BY n DESC, resource LIMIT 1",
            [log_id, total],
        ).rows[0]
    _multiselect(page, "Resources, attributes and duration", "Resources", resource)
    assert _cases_become(page, expected) == expected < total
    _reset(page)

    # Cases that took at least as many whole days as the median case.
    days = _count(workspace, "SELECT floor(median(duration_s) / 86400) FROM cases WHERE log_id = ?", [log_id])
    field = page.locator("[data-testid=stSidebar]").get_by_label("Case duration at least", exact=True)
    _expand(page, "Resources, attributes and duration", field)
    field.fill(f"{days}d")
    _rerun(page, lambda: field.press("Enter"))
    page.get_by_text("No filters: every case is kept.").wait_for(state="detached")
    expected = _count(
        workspace, "SELECT count(*) FROM cases WHERE log_id = ? AND duration_s >= ? * 86400", [log_id, days]
    )
    assert _cases_become(page, expected) == expected < total
    _shot(page, "helpdesk-overview-filtered")
    _reset(page)
    assert _cases_become(page, total) == total


def test_a_filter_and_a_slider_survive_moving_between_pages(page) -> None:
    _open(page, "Process map")
    _choose_log(page, "sepsis")
    _reset(page)

    def activities():
        return page.locator("[data-testid=stMain] [data-testid=stSlider]").first.locator("input[type=range]")

    activities().focus()
    for _ in range(2):
        _rerun(page, lambda: page.keyboard.press("ArrowLeft"))
    chosen = activities().input_value()
    boxes = _map(page)["boxes"]
    assert boxes == int(chosen) == 14  # 16 activities, two steps down
    for title in ("Variants", "Bottlenecks", "Process map"):
        _open(page, title)
    assert activities().input_value() == chosen
    assert _map(page)["boxes"] == boxes

    top_k = (
        page.locator("[data-testid=stSidebar]")
        .get_by_role("radiogroup", name="Variants", exact=True)
        .locator("[data-testid=stRadioOption]")
        .filter(has_text="top k")
    )
    _rerun(page, top_k.click)
    chip = page.locator("[data-testid=stSidebar]").get_by_text("top 10 variants", exact=False)
    chip.first.wait_for()
    kept = _map(page)["boxes"]
    assert kept < boxes  # the top 10 variants pass through fewer activities
    for title in ("Variants", "Bottlenecks", "Overview", "Process map"):
        _open(page, title)
        _no_errors(page)
        assert chip.count() == 1, title
    assert _map(page)["boxes"] == kept
    _reset(page)


@pytest.mark.parametrize("name", ["helpdesk", "sepsis"])
def test_every_page_of_a_real_log_is_screenshotted(page, name: str) -> None:
    _choose_log(page, name)
    _shot(page, f"{name}-start")
    for title in PAGES:
        _open(page, title)
        _no_errors(page)
        assert _shot(page, f"{name}-{title.lower().replace(' ', '-')}").stat().st_size > 10_000
