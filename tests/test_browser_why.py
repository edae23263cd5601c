"""Root causes and Compare in a real browser, on a real log (sepsis), with a rate card uploaded as a user does.

One ``streamlit run app.py`` for the module, over a workspace holding the
sepsis log; Chromium as in tests/test_browser.py.  Screenshots land in
``test-artifacts/``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

playwright = pytest.importorskip("playwright.sync_api", reason="browser tests need: pip install playwright")

from mining.drivers.find import find_drivers  # noqa: E402
from mining.ingest import ingest_file  # noqa: E402
from mining.store import Store  # noqa: E402
from tests.conftest import app_server, assert_one_layout, choose_option  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("MINING_CHROMIUM", "/usr/bin/chromium")
WAIT_MS = 180_000
CARD = "currency: EUR\nresources:\n  '*': 45\nactivities:\n  ER Registration: 12.50\n"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, shared_logs) -> Path:
    path = tmp_path_factory.mktemp("browser-why") / "workspace.duckdb"
    with Store(path) as store:
        ingest_file(store, shared_logs / "sepsis.csv.gz")
    return path


@pytest.fixture(scope="module")
def server(workspace: Path) -> Iterator[str]:
    with app_server(workspace) as url:
        yield url


@pytest.fixture(scope="module")
def page(server: str) -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: run `bash .ci/setup --browser` (installs Debian's chromium)")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        context = browser.new_context(viewport={"width": 1400, "height": 2400})
        pg = context.new_page()
        pg.set_default_timeout(WAIT_MS)
        pg.goto(server.rstrip("/") + "/logs")  # the app opens on the Start page; these tests begin on Logs
        pg.get_by_role("heading", name="Logs", exact=True).wait_for()
        yield pg
        browser.close()


def _settled(page) -> None:
    page.locator("[data-testid=stApp][data-test-script-state=notRunning]").wait_for()


def _open(page, title: str) -> None:
    page.locator("[data-testid=stSidebarNav]").get_by_text(title, exact=True).click()
    page.get_by_role("heading", name=title, exact=True).wait_for()
    _settled(page)


def _no_errors(page) -> None:
    assert page.locator("[data-testid=stException]").count() == 0
    errors = page.locator("[data-testid=stAlertContentError]")
    assert errors.count() == 0, errors.all_inner_texts()


def _metric(page, label: str) -> str:
    box = page.locator("[data-testid=stMetric]").filter(has=page.get_by_text(label, exact=True)).first
    return box.locator("[data-testid=stMetricValue]").inner_text()


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_root_causes_on_sepsis_then_a_rate_card_prices_the_impact_and_compare_keeps_it(
    page, workspace, tmp_path
) -> None:
    with Store(workspace, read_only=True) as store:
        expected = find_drivers(store, 1, "duration")
    _open(page, "Root causes")
    page.get_by_text("If these cases did as well as the rest", exact=False).first.wait_for()
    _settled(page)
    _no_errors(page)
    assert _metric(page, "Cases") == "1,050"
    assert _metric(page, "Drivers") == str(len(expected.drivers))
    first = expected.drivers[0]
    page.get_by_text(f"1. {first.attribute} = {first.value}", exact=True).wait_for()
    _shot(page, "why-root-causes-sepsis")

    card = tmp_path / "rates.yaml"
    card.write_text(CARD)
    page.get_by_text("Rate card: none", exact=False).first.click()
    page.locator("[data-testid=stFileUploaderDropzoneInput]").first.set_input_files(str(card))
    page.get_by_text("Rate card: rates.yaml", exact=False).first.wait_for()
    _settled(page)
    _no_errors(page)
    assert _metric(page, "Extra cost").startswith("EUR ")
    _shot(page, "why-root-causes-sepsis-priced")

    # One journey, so that running either half alone cannot miss the session's rate card.
    _compare_draws_two_maps_on_one_layout_and_keeps_the_rate_card(page)


def _compare_draws_two_maps_on_one_layout_and_keeps_the_rate_card(page) -> None:
    _open(page, "Compare")
    choose_option(page, page.get_by_role("combobox", name="Compare by"), "InfectionSuspected")
    page.get_by_text("segments of", exact=False).first.wait_for()
    _settled(page)
    page.locator("[data-testid=process-map][data-ready='1']").nth(1).wait_for()
    _no_errors(page)
    maps = page.locator("[data-testid=process-map]")
    assert maps.count() == 2
    # One layout: both maps hold the same boxes at the same places (faint where a segment lacks one), legibly.
    assert_one_layout(maps)
    assert "True" in page.get_by_text("InfectionSuspected = True:", exact=False).first.inner_text()
    _shot(page, "why-compare-sepsis")
    # The rate card uploaded on Root causes is kept for the session: cost per case joins the table.
    assert page.get_by_text("Rate card: rates.yaml", exact=False).count() >= 1
    choose_option(page, page.get_by_role("combobox", name="KPI in detail"), "Cost per case")
    page.get_by_text("Cost per case per segment", exact=False).first.wait_for()
    _settled(page)
    _no_errors(page)
    _shot(page, "why-compare-sepsis-cost")
    _open(page, "Overview")
    page.get_by_text("Total cost", exact=True).wait_for()
    _no_errors(page)
    assert _metric(page, "Total cost").startswith("EUR ")
    _shot(page, "why-overview-cost-sepsis")
