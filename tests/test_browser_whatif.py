"""The What-if page in headless Chromium on BPIC 2012's W subprocess (start and complete events).

One server for the module, on a workspace holding the real log.  Screenshots
land in ``test-artifacts/`` for a person to look at.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import app_server, choose_option

pytestmark = [pytest.mark.browser, pytest.mark.slow]

playwright = pytest.importorskip("playwright.sync_api", reason="browser tests need: pip install playwright")

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("MINING_CHROMIUM", "/usr/bin/chromium")
LOG = "bpic2012_W_start_complete_simod"
WAIT_MS = 180_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, shared_logs) -> Iterator[str]:
    from mining.ingest import ingest_file
    from mining.store import Store

    workspace = tmp_path_factory.mktemp("browser-whatif") / "workspace.duckdb"
    with Store(workspace) as store:
        ingest_file(store, shared_logs / f"{LOG}.xes.gz")
    with app_server(workspace) as url:
        yield url


@pytest.fixture(scope="module")
def page(server) -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: run `bash .ci/setup --browser` (installs Debian's chromium)")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        pg = browser.new_context(viewport={"width": 1400, "height": 3000}).new_page()
        pg.set_default_timeout(WAIT_MS)
        pg.goto(f"{server}/what-if")
        pg.get_by_role("heading", name="What-if", exact=True).wait_for()
        yield pg
        browser.close()


def _settled(page) -> None:
    time.sleep(0.5)
    page.locator("[data-testid=stApp][data-test-script-state=notRunning]").wait_for()


def _shot(page, name: str) -> Path:
    # widgets are still painting (grey placeholders) just after the script settles
    page.get_by_role("button", name="Run").wait_for()
    page.wait_for_timeout(1500)
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def _no_errors(page) -> None:
    assert page.locator("[data-testid=stException]").count() == 0
    assert page.locator("[data-testid=stAlertContentError]").count() == 0, page.locator(
        "[data-testid=stAlertContentError]"
    ).all_inner_texts()


def _number(page, label: str, value: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Enter")
    _settled(page)


def _press_run(page) -> None:
    """Press Run and wait until the page has taken it (the progress bar or the comparison shows).

    A click that lands while the browser is still swapping the rerun's elements can be dropped; the
    page then still invites a press, script idle, and the click is made again (at most twice more).
    """
    started = page.locator("[data-testid=stProgress]").or_(page.get_by_text("Comparison", exact=True))
    for _ in range(3):
        page.get_by_role("button", name="Run").click()
        try:
            started.first.wait_for(timeout=20_000)
            return
        except playwright.TimeoutError:
            still_idle = page.locator("[data-testid=stApp][data-test-script-state=notRunning]").count() == 1
            if not (still_idle and page.get_by_text("Press Run to simulate").count() == 1):
                started.first.wait_for()
                return
    raise AssertionError(
        "Run was pressed three times and the page never started: " + page.inner_text("body")[:2000]
    )


def test_model_and_verdict_show_before_any_run(page) -> None:
    page.get_by_text("Validation", exact=True).wait_for()
    page.locator("[data-testid=stAlertContentSuccess], [data-testid=stAlertContentWarning]").first.wait_for()
    _settled(page)
    _no_errors(page)
    text = page.locator("[data-testid=stMain]").inner_text()
    assert "Arrivals: 56.4 cases a day" in text
    assert "Processing times: measured from start and complete events." in text
    assert "Pool W_Nabellen offertes team" in text
    assert "Trustworthy: the model replays the log's period" in text
    assert "Press Run to simulate" in text
    assert _shot(page, "whatif-bpic-model").stat().st_size > 10_000


def test_cancel_then_run_a_staffing_change(page) -> None:
    _number(page, "Runs", "40")
    # The page says so once the new value is in: on a loaded machine the rerun that takes it can start
    # after _settled's look, and a click on Run during that rerun is lost.
    page.get_by_text("(40 runs of", exact=False).wait_for()
    _settled(page)
    _press_run(page)
    # Under load Streamlit folds queued updates of one element together, so "run 1 of 40" can be replaced
    # by a later run's text before the browser ever draws it: wait for any run of the 40.
    page.get_by_text(re.compile(r"Baseline: run \d+ of 40")).wait_for()
    page.get_by_role("button", name="Cancel").click()
    page.get_by_text("Cancelled: the figures use the").wait_for()
    _settled(page)
    _no_errors(page)
    _shot(page, "whatif-bpic-cancelled")

    _number(page, "Runs", "2")
    _number(page, "Horizon (days)", "30")
    choose_option(page, page.get_by_role("combobox", name="Change the people at"), "W_Nabellen offertes")
    _settled(page)
    _number(page, "People added to pool W_Nabellen offertes team (now 38)", "-30")
    page.get_by_label("Scenario name").fill("Eight callers")
    page.get_by_label("Scenario name").press("Enter")
    _settled(page)
    _press_run(page)
    page.get_by_text("Comparison", exact=True).wait_for()
    _settled(page)
    assert _shot(page, "whatif-bpic-comparison").stat().st_size > 10_000
    _no_errors(page)
    text = page.locator("[data-testid=stMain]").inner_text()
    # the table is drawn on a canvas (its cells are checked by AppTest); the charts' legends are text
    assert "Eight callers: -30 at W_Nabellen offertes" in text
    assert "Mean of 2 runs of 30 days (seed 0)" in text
    assert page.locator("[data-testid=stVegaLiteChart]").count() == 2
    assert text.count("Eight callers") >= 3  # the scenario's summary and both charts' legends
