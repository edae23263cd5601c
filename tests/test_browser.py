"""The workbench in a real browser: headless Chromium drives a running ``streamlit run app.py``.

Chromium is Debian's (``/usr/bin/chromium``, or ``$MINING_CHROMIUM``): no
browser can be downloaded here, so Playwright is pointed at it.  Screenshots
of every page land in ``test-artifacts/`` for a human to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import app_server, assert_one_layout, choose_option, chromium, list_options, open_expander

pytestmark = pytest.mark.browser

playwright = pytest.importorskip("playwright.sync_api", reason="browser tests need: pip install playwright")

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
PAGES = {  # title -> what shows that the page has drawn
    "Logs": "[data-testid=stMetric]",
    "Upload": "[data-testid=stFileUploader]",
    "Overview": "[data-testid=stVegaLiteChart]",
    "Process map": "g.pm-node",
    "Variants": "[data-testid=stVegaLiteChart]",
    "Bottlenecks": "[data-testid=stVegaLiteChart]",
    "Conformance": "[data-testid=stAlertContentInfo]",
    "Monitoring": "[data-testid=stVegaLiteChart]",
}
WAIT_MS = 90_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workspace = tmp_path_factory.mktemp("browser") / "workspace.duckdb"
    with app_server(workspace) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(WAIT_MS)
    pg.goto(server)
    pg.get_by_role("heading", name="See how your process really runs", exact=True).wait_for()  # Start
    yield pg
    context.close()


def _open(page, title: str) -> None:
    """Navigate as a user does, by the sidebar, so the session (and its chosen log) is kept."""
    page.locator("[data-testid=stSidebarNav]").get_by_text(title, exact=True).click()
    page.get_by_role("heading", name=title, exact=True).wait_for()
    page.locator(PAGES[title]).first.wait_for()
    _settled(page)


def _settled(page) -> None:
    page.locator("[data-testid=stApp][data-test-script-state=notRunning]").wait_for()


def _shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def _no_errors(page) -> None:
    assert page.locator("[data-testid=stException]").count() == 0
    assert page.locator("[data-testid=stAlertContentError]").count() == 0, page.locator(
        "[data-testid=stAlertContentError]"
    ).all_inner_texts()


def _metric(page, label: str) -> str:
    box = page.locator("[data-testid=stMetric]").filter(has=page.get_by_text(label, exact=True)).first
    return box.locator("[data-testid=stMetricValue]").inner_text()


def _map_size(page) -> tuple[int, int]:
    page.locator("g.pm-node").first.wait_for()
    return page.locator("g.pm-node").count(), page.locator("g.pm-edge").count()


def test_every_page_renders_on_the_sample_log_and_is_screenshotted(page) -> None:
    # The first launch loaded the bundled sample: 2,400 service-desk tickets.
    assert _metric(page, "Cases") == "2,400"
    # Its headline numbers fit their cells: an equal fifth of the row cut "12.3 months" to "12.3 mon…".
    assert _metric(page, "Time span") == "12.3 months"
    fits = page.locator("[data-testid=stMetricValue]").evaluate_all(
        "es => es.map(e => { const d = e.querySelector('div') || e; return d.scrollWidth <= d.clientWidth; })"
    )
    assert len(fits) == 5 and all(fits), fits
    for title in PAGES:
        _open(page, title)
        _no_errors(page)
        shot = _shot(page, f"sample-{title.lower().replace(' ', '-')}")
        assert shot.stat().st_size > 10_000
    _open(page, "Overview")
    assert _metric(page, "Cases") == "2,400"
    _open(page, "Process map")
    # 10 activities plus the start and end markers.
    assert _map_size(page)[0] == 12


def test_upload_a_real_log_then_a_slider_simplifies_its_map(page, shared_logs) -> None:
    helpdesk = shared_logs / "helpdesk.xes.gz"
    _open(page, "Upload")
    page.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(str(helpdesk))
    page.get_by_role("button", name="Ingest").wait_for()
    _settled(page)
    _shot(page, "upload-preview")
    page.get_by_role("button", name="Ingest").click()
    page.locator("[data-testid=stAlertContentSuccess]").first.wait_for()
    _settled(page)
    _no_errors(page)
    assert "helpdesk" in page.locator("[data-testid=stAlertContentSuccess]").first.inner_text()
    assert _metric(page, "Cases") == "4,580"
    _shot(page, "upload-done")

    _open(page, "Process map")
    nodes, edges = _map_size(page)
    assert nodes == 16  # helpdesk's 14 activities plus start and end
    caption = page.get_by_text("activities and", exact=False).filter(has_text="paths;").first.inner_text()
    assert caption.startswith("14 of 14 activities")

    thumb = page.locator("[data-testid=stSlider]").first.locator("input[type=range]")
    thumb.focus()
    page.keyboard.press("Home")  # 1 % of the activities: the most frequent one
    page.get_by_text("1 of 14 activities", exact=False).first.wait_for()
    _settled(page)
    small_nodes, small_edges = _map_size(page)
    assert small_nodes == 3
    assert small_edges < edges
    _shot(page, "helpdesk-map-simplified")


def test_a_long_ingest_shows_progress_and_cancel_leaves_the_workspace_as_it_was(page, tmp_path) -> None:
    import duckdb

    big = tmp_path / "big_export.csv"
    con = duckdb.connect()
    con.execute(
        "COPY (SELECT 'C' || lpad((i // 8)::VARCHAR, 8, '0') AS case_id, 'step ' || (i % 8) AS activity, "
        "strftime(TIMESTAMP '2024-01-01' + (i * INTERVAL 1 MINUTE), '%Y-%m-%dT%H:%M:%SZ') AS timestamp "
        "FROM range(1500000) t(i)) TO ? (HEADER)",
        [str(big)],
    )
    con.close()
    _open(page, "Logs")
    before = page.get_by_role("combobox", name="Log").input_value()

    _open(page, "Upload")
    page.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(str(big))
    page.get_by_role("button", name="Ingest").wait_for()
    _settled(page)
    page.get_by_role("button", name="Ingest").click()
    page.locator("[data-testid=stProgress]").wait_for()
    _shot(page, "upload-progress")
    page.get_by_role("button", name="Cancel").click()
    page.get_by_text("Ingest cancelled; the workspace is as it was.").wait_for()
    _settled(page)
    _no_errors(page)

    _open(page, "Logs")
    assert page.get_by_role("combobox", name="Log").input_value() == before
    options = list_options(page, page.get_by_role("combobox", name="Log"))
    assert before in options
    assert not [o for o in options if "big_export" in o]


def _selected(page, label: str) -> str:
    group = page.get_by_role("radiogroup", name=label)
    return group.locator("[data-testid=stRadioOption][data-selected=true]").inner_text()


def test_the_filter_bar_keeps_its_values_from_page_to_page(page) -> None:
    # Whichever log is active (an earlier test may have uploaded one): every log here has over 10 variants.
    _open(page, "Variants")
    everything = page.get_by_text("variants over", exact=False).first.inner_text()
    page.get_by_role("radiogroup", name="Variants").locator("[data-testid=stRadioOption]").filter(
        has_text="top k"
    ).click()
    page.get_by_text("Top variants", exact=True).wait_for()
    _settled(page)
    kept = page.get_by_text("variants over", exact=False).first.inner_text()
    assert kept.startswith("10 variants over") and kept != everything
    # Streamlit ties a widget's state to the page that drew it; the bar must carry it over both ways.
    for title in ("Process map", "Variants", "Overview", "Variants"):
        _open(page, title)
        assert _selected(page, "Variants") == "top k", title
    assert page.get_by_text("variants over", exact=False).first.inner_text() == kept


def _choose_log(page, name: str) -> None:
    box = page.locator("[data-testid=stSidebar]").get_by_role("combobox", name="Log")
    if box.input_value() != name:
        choose_option(page, box, name)
        _settled(page)


def test_monitoring_applies_a_typed_change_date_on_enter(page) -> None:
    page.locator(PAGES["Logs"]).first.wait_for()  # the first launch has loaded the sample
    _open(page, "Monitoring")
    _choose_log(page, "service_desk")
    page.get_by_role("heading", name="Before and after 2025-07-01").wait_for()
    field = page.get_by_role("textbox", name="Change date")
    field.fill("2025-09-01")
    field.press("Enter")
    page.get_by_role("heading", name="Before and after 2025-09-01").wait_for()
    _settled(page)
    _no_errors(page)
    summary = page.locator(".st-key-mon-summary").inner_text()
    assert summary.startswith("Since the change on 2025-09-01, the median cycle time")
    assert page.get_by_role("heading", name="Before and after 2025-07-01").count() == 0
    # The maps before and after draw when their expander is opened.
    maps = page.locator("[data-testid=process-map]")
    assert maps.count() == 0
    expander = page.locator("[data-testid=stExpander]").filter(has_text="Process maps before and after")
    open_expander(page, expander, maps)
    page.locator("[data-testid=process-map][data-ready='1']").nth(1).wait_for()
    _settled(page)
    _no_errors(page)
    assert maps.count() == 2
    assert_one_layout(maps)
    _shot(page, "monitoring-typed-change-date")


def test_the_reports_summary_fits_one_screen(browser, tmp_path) -> None:
    from mining.ingest import ingest_file
    from mining.monitor.html import write_report
    from mining.monitor.run import MonitorOptions, monitor
    from mining.samples import CHANGE_DATES
    from mining.store import Store
    from tests.conftest import SAMPLE_LOGS

    with Store() as store:
        log = ingest_file(store, SAMPLE_LOGS / "service_desk.csv").log_id
        run = monitor(
            store,
            log,
            options=MonitorOptions(change_date=CHANGE_DATES["service_desk"], sla_seconds=5 * 86400.0),
        )
    report = write_report(run, tmp_path / "report.html")
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    pg = context.new_page()
    pg.goto(report.as_uri())
    bottom = pg.locator("#summary").evaluate("e => e.getBoundingClientRect().bottom")
    assert bottom < 800  # the title, the facts and the summary on one screen of a laptop
    folded = pg.evaluate("document.documentElement.scrollHeight")
    assert folded < 1600  # every detail folded: the whole report is two screens, not 19,000 px
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / "report-summary.png"))
    context.close()
