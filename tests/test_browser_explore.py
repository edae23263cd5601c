"""The Explore pages in a real browser on real logs and a generated 150-activity log.

One server per module on one workspace holding running-example.xes,
helpdesk.xes.gz and sepsis.csv.gz from ``../shared/logs`` and a generated log
of 150 activities.  Measured in the browser at 1440x900: the first map's
boxes and paths, its label height, zoom; the case count each filter leaves,
against a query on the same workspace; values kept across pages.  Every page
of two real logs is screenshotted into ``test-artifacts/``.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mining.ingest import ingest_file
from mining.store import Store
from mining.ui.pages.process_map import DEFAULT_ACTIVITIES
from tests.conftest import ROOT, app_server, chromium, open_expander

pytestmark = pytest.mark.browser

playwright = pytest.importorskip("playwright.sync_api", reason="browser tests need: pip install playwright")

ARTIFACTS = ROOT / "test-artifacts"
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
#: An activity name that HTML would decode: the map shows it as typed.
TYPED = "Stage 01 step 1: approve &lt;b&gt; <i>now</i>"
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
            if stage == 0 and k == 0:
                name = TYPED  # the most frequent first box: its label must read as typed
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
    with chromium(ARGS) as b:
        yield b


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
  // Path labels that touch another label or lie on a box, as drawn: two side by side read as one figure.
  const hit = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  const figures = [...wrap.querySelectorAll('text.pm-edge-label')].map((t) => t.getBoundingClientRect());
  const boxes = [...wrap.querySelectorAll('g.pm-node rect')].map((r) => r.getBoundingClientRect());
  let touching = 0;
  figures.forEach((a, i) => figures.slice(i + 1).forEach((b) => { if (hit(a, b)) touching += 1; }));
  const onBoxes = figures.filter((a) => boxes.some((b) => hit(a, b))).length;
  return {scale: parseFloat(wrap.dataset.scale), minHeight: Math.min(...heights), minFont: Math.min(...fonts),
          width: wrap.clientWidth, figures: figures.length, touching, onBoxes};
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
    assert drawn["figures"] == drawn["paths"]  # every path shows its count
    assert (drawn["touching"], drawn["onBoxes"]) == (0, 0)  # and each count reads on its own
    _shot(page, f"map-{name}")
    if name == MANY:
        typed = page.locator("g.pm-node").filter(has_text="approve &lt;b&gt;")
        lines = typed.first.locator("text.pm-label").all_text_contents()
        assert " ".join(lines[:-1]) == TYPED  # wrapped, the last line is its count
        assert typed.first.locator("title").first.text_content().split("\n")[0] == TYPED

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
        expander = (
            page.locator("[data-testid=stSidebar] [data-testid=stExpander]").filter(has_text=title).first
        )
        open_expander(page, expander, field)
    field.wait_for(state="visible")


def _multiselect(page, expander: str, label: str, value: str) -> None:
    box = page.locator("[data-testid=stSidebar]").get_by_role("combobox", name=label, exact=True)
    _expand(page, expander, box)
    _type_and_pick(page, box, value)
    page.keyboard.press("Escape")
    _settled(page)


# Scrolls every ancestor of ``el`` may still be doing (a smooth scroll into view, an expander opening),
# resolved once no scroll offset has moved for five frames.
_STILL_JS = """(el) => new Promise((done) => {
  const boxes = []; for (let e = el.parentElement; e; e = e.parentElement) boxes.push(e);
  const offsets = () => boxes.map((e) => e.scrollTop).join(',');
  let last = offsets(), calm = 0;
  const tick = () => { const now = offsets(); calm = now === last ? calm + 1 : 0; last = now;
                       if (calm >= 5) done(true); else requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
})"""


def _type_and_pick(page, box, value: str) -> None:
    """Type ``value`` into the select ``box`` and pick the option of that name.

    The list is a react-aria popover, which closes when anything around it scrolls (a smooth scroll into
    view still running, the sidebar moving as an expander opens) and may close between showing an option
    and the click on it. So the box is brought to the middle of the view and left still before it is
    clicked, and the pick is checked on the box itself and done again if it did not take.
    """
    option = page.get_by_role("option", name=value, exact=True).first
    for attempt in range(3):
        box.evaluate("(e) => e.scrollIntoView({block: 'center'})")
        box.evaluate(_STILL_JS)
        box.click()
        box.fill(value)
        page.evaluate(_ARM)
        try:
            option.wait_for(timeout=10_000)
            option.click(timeout=10_000)
            deadline = time.monotonic() + 5
            while not box.evaluate(_PICKED_JS, value):
                if time.monotonic() > deadline:
                    raise playwright.TimeoutError(f"{value!r} was clicked but is not shown as picked")
                time.sleep(0.1)
            break
        except playwright.TimeoutError:
            if attempt == 2:
                raise
            page.keyboard.press("Escape")
            _settled(page)
    page.wait_for_function(_DONE)
    _settled(page)


# A multiselect shows a pick as a tag (text outside its input); a select box closes with the pick as its
# input's value (a list that closed without a pick puts the previous value back).
_PICKED_JS = """(input, value) => {
  const holder = input.closest('[data-testid=stMultiSelect], [data-testid=stSelectbox]');
  return holder.innerText.split('\\n').includes(value)
    || (input.getAttribute('aria-expanded') === 'false' && input.value === value);
}"""


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


def _typed_select(page, where: str, label: str, option: str) -> None:
    """Pick ``option`` in the select box ``label`` of the sidebar or the main area by typing it (a long
    list draws only its first options, and redraws them while the page is busy)."""
    box = page.locator(f"[data-testid={where}]").get_by_role("combobox", name=label, exact=True)
    _type_and_pick(page, box, option)


def _pick_on_map(page, name: str) -> None:
    """Click the box ``name`` on the map, as a user does, and wait for its figures."""
    box = page.locator("[data-testid=process-map][data-ready='1'] g.pm-node").filter(
        has=page.locator("title", has_text=name)
    )
    _rerun(page, box.first.click)  # the box's group: its rect and its labels
    page.get_by_role("heading", name="Activity or path", exact=True).wait_for()
    page.locator("[data-testid=stMetric]").filter(has_text="Events").first.wait_for()


def test_a_click_on_a_box_or_a_path_shows_its_figures_and_keeps_its_cases(page, workspace: Path) -> None:
    log_id = _log_id(workspace, "helpdesk")
    _open(page, "Process map")
    _choose_log(page, "helpdesk")
    _reset(page)
    events, cases = (
        _count(workspace, f"SELECT {what} FROM events WHERE log_id = ? AND activity = 'Wait'", [log_id])
        for what in ("count(*)", "count(DISTINCT case_no)")
    )
    _pick_on_map(page, "Wait")
    assert int(_metric(page, "Events").replace(",", "")) == events == 1463
    assert int(_metric(page, "Cases").replace(",", "")) == cases == 1236
    assert page.get_by_text("Done most by:", exact=False).count() == 1
    _shot(page, "helpdesk-map-activity-picked")

    # A path picked from the list: how often it is taken, against the stored successors.
    with Store(workspace, read_only=True) as store:
        source, target, times, through = store.query(
            "SELECT activity, next_activity, count(*) AS n, count(DISTINCT case_no) FROM events "
            "WHERE log_id = ? AND next_activity IS NOT NULL AND activity <> next_activity "
            "GROUP BY ALL ORDER BY n DESC LIMIT 1",
            [log_id],
        ).rows[0]
    _typed_select(
        page, "stMain", "Click a box or a path on the map, or pick one here", f"{source} → {target}"
    )
    page.locator("[data-testid=stMetric]").filter(has_text="Times").first.wait_for()
    assert int(_metric(page, "Times").replace(",", "")) == times
    assert int(_metric(page, "Cases").replace(",", "")) == through

    # The box's button keeps the cases through it, on every page.
    _pick_on_map(page, "Wait")
    keep = page.get_by_role("button", name="Keep only the cases passing through Wait", exact=True)
    _rerun(page, keep.click)
    page.locator("[data-testid=stSidebar]").get_by_text("through: Wait", exact=False).first.wait_for()
    _open(page, "Overview")
    assert _cases_become(page, cases) == cases
    _reset(page)


def test_the_other_filters_leave_the_cases_a_query_finds(page, workspace: Path) -> None:
    log_id = _log_id(workspace, "helpdesk")
    _open(page, "Overview")
    _choose_log(page, "helpdesk")
    _reset(page)
    total = _cases(page)

    # Ended with an activity other than the usual last one.
    _multiselect(page, "Activities and paths", "Ended with", "Resolve ticket")
    expected = _count(
        workspace,
        "SELECT count(*) FROM (SELECT case_no, arg_max(activity, (ts, row_no)) AS last FROM events "
        "WHERE log_id = ? GROUP BY case_no) WHERE last = 'Resolve ticket'",
        [log_id],
    )
    assert _cases_become(page, expected) == expected < total
    _reset(page)

    # A eventually followed by B.
    follow = page.locator("[data-testid=stSidebar]").get_by_role("combobox", name="Activity A", exact=True)
    _expand(page, "Activities and paths", follow)
    _typed_select(page, "stSidebar", "Activity A", "Wait")
    _typed_select(page, "stSidebar", "by activity B", "Take in charge ticket")
    expected = _count(
        workspace,
        "SELECT count(DISTINCT a.case_no) FROM events a JOIN events b ON a.log_id = b.log_id "
        "AND a.case_no = b.case_no AND (b.ts, b.row_no) > (a.ts, a.row_no) "
        "WHERE a.log_id = ? AND a.activity = 'Wait' AND b.activity = 'Take in charge ticket'",
        [log_id],
    )
    assert _cases_become(page, expected) == expected < total
    _reset(page)

    # An event attribute's value.
    with Store(workspace, read_only=True) as store:
        column = store.scalar(
            "SELECT column_name FROM attribute_columns WHERE log_id = ? AND source_name = 'service_level'",
            [log_id],
        )
    _multiselect(page, "Resources, attributes and duration", "service_level (event attribute)", "Value 2")
    expected = _count(
        workspace,
        f"SELECT count(DISTINCT e.case_no) FROM events e JOIN attrs_{log_id} a USING (row_no) "
        f"WHERE e.log_id = ? AND a.{column} = 'Value 2'",
        [log_id],
    )
    assert _cases_become(page, expected) == expected < total
    _reset(page)

    # The top 10 variants.
    top = (
        page.locator("[data-testid=stSidebar]")
        .get_by_role("radiogroup", name="Variants", exact=True)
        .locator("[data-testid=stRadioOption]")
        .filter(has_text="top k")
    )
    _rerun(page, top.click)
    expected = _count(
        workspace,
        "SELECT sum(n) FROM (SELECT count(*) AS n FROM cases WHERE log_id = ? "
        "GROUP BY variant_id ORDER BY n DESC LIMIT 10)",
        [log_id],
    )
    assert _cases_become(page, expected) == expected < total
    _reset(page)

    # A time window: the cases that overlap the last month of the log.
    with Store(workspace, read_only=True) as store:
        last = store.scalar("SELECT max(end_ts) FROM cases WHERE log_id = ?", [log_id])
    first_day = (last - dt.timedelta(days=30)).date()
    field = page.locator("[data-testid=stSidebar]").get_by_label("From", exact=True)
    field.get_by_role("spinbutton").first.click()
    page.keyboard.type(first_day.strftime("%Y%m%d"))  # year, month and day segments in turn
    _rerun(page, page.locator("[data-testid=stMain] h1").first.click)  # leaving the field sets it
    expected = _count(
        workspace,
        "SELECT count(*) FROM cases WHERE log_id = ? AND end_ts >= ?",
        [log_id, dt.datetime.combine(first_day, dt.time(), dt.UTC)],
    )
    assert _cases_become(page, expected) == expected < total
    _shot(page, "helpdesk-overview-last-month")
    _reset(page)


def test_the_performance_view_wheel_zoom_and_full_screen(page) -> None:
    _open(page, "Process map")
    _choose_log(page, "sepsis")
    _reset(page)
    show = page.get_by_role("radiogroup", name="Show", exact=True).locator("[data-testid=stRadioOption]")
    _rerun(page, show.filter(has_text="Performance").click)
    page.get_by_text("boxes show the median", exact=False).first.wait_for()
    view = page.locator("[data-testid=process-map][data-ready='1']").first
    view.wait_for()
    drawn = view.evaluate(
        """(wrap) => ({
          boxes: [...wrap.querySelectorAll('g.pm-node')].filter((g) => g.querySelector('rect'))
            .map((g) => [...g.querySelectorAll('text.pm-label')].pop().textContent),
          paths: [...wrap.querySelectorAll('text.pm-edge-label')].map((t) => t.textContent),
          tips: [...wrap.querySelectorAll('g.pm-edge > title')].map((t) => t.textContent)})"""
    )
    duration = re.compile(r"^-?\d+(d \d\dh|h \d\dm|m \d\ds|s)$")
    # Sepsis records no start times: boxes show the waiting before each activity.
    assert drawn["boxes"] and all(b.startswith("median waiting ") for b in drawn["boxes"])
    assert sum(bool(duration.match(b.removeprefix("median waiting "))) for b in drawn["boxes"]) >= 10
    labelled = [p for p in drawn["paths"] if p]
    assert labelled and all(duration.match(p) for p in labelled)  # times on paths, not counts
    assert any(re.search(r"\d times in \d+ cases?\n", t) for t in drawn["tips"])  # counts in tooltips
    _shot(page, "sepsis-map-performance")

    before = float(view.get_attribute("data-scale"))
    box = view.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(3):  # three notches of the wheel, 15 % each
        page.mouse.wheel(0, -100)
        page.wait_for_timeout(100)
    assert float(view.get_attribute("data-scale")) == pytest.approx(before * 1.15**3)
    page.get_by_role("button", name="Full screen", exact=True).click()
    page.wait_for_function("() => document.fullscreenElement !== null")
    page.wait_for_timeout(300)
    assert view.bounding_box()["height"] == pytest.approx(900, abs=2)  # the whole window
    page.get_by_role("button", name="Full screen", exact=True).click()
    page.wait_for_function("() => document.fullscreenElement === null")
    _rerun(page, show.filter(has_text="Frequency").click)
