"""Hostile uploads and log management in a real browser: a clear answer on the page, and the server serves on.

One ``streamlit run app.py`` for the module, driven by Debian's Chromium as in
``test_browser.py``.  Screenshots land in ``test-artifacts/``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import FILES, app_server, chromium, click_until

pytestmark = pytest.mark.browser

playwright = pytest.importorskip("playwright.sync_api", reason="browser tests need: pip install playwright")

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
WAIT_MS = 90_000
TINY = FILES / "app" / "tiny.csv"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workspace = tmp_path_factory.mktemp("browser-ingest") / "workspace.duckdb"
    subprocess.run(
        [sys.executable, "-m", "mining", "--workspace", str(workspace), "ingest", str(TINY)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
        capture_output=True,
    )
    with app_server(workspace) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as b:
        yield b


def _page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(server.rstrip("/") + "/logs")  # the app opens on the Start page; these tests begin on Logs
    page.get_by_role("heading", name="Logs", exact=True).wait_for()
    _settled(page)
    return context, page


def _settled(page) -> None:
    page.locator("[data-testid=stApp][data-test-script-state=notRunning]").wait_for()


def _open(page, title: str) -> None:
    page.locator("[data-testid=stSidebarNav]").get_by_text(title, exact=True).click()
    page.get_by_role("heading", name=title, exact=True).wait_for()
    _settled(page)


def _tick(checkbox) -> None:
    """Tick a Streamlit checkbox, ticking again if the click landed while its expander was still opening."""
    box = checkbox.locator("input")
    for _ in range(3):
        if not box.is_checked():  # a second click on a ticked box would untick it
            checkbox.locator("label").click()
        try:
            playwright.expect(box).to_be_checked(timeout=5_000)
            return
        except AssertionError:
            continue
    playwright.expect(box).to_be_checked()


def _far_cell_xlsx(path: Path) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    for c, h in enumerate(("case", "activity", "timestamp")):
        sheet.write_string(0, c, h)
    sheet.write_string(1048575, 16383, "x")
    book.close()


def test_hostile_uploads_get_a_clear_answer_while_another_session_is_served(
    browser, server, tmp_path
) -> None:
    pdf = tmp_path / "invoices.csv"
    pdf.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n" + bytes(range(256)) * 16)
    far = tmp_path / "far.xlsx"
    _far_cell_xlsx(far)
    first, page = _page(browser, server)
    other, second = _page(browser, server)
    try:
        _open(page, "Upload")
        for path, message in (
            (pdf, "invoices.csv is not a text table: it is a PDF document, whatever its name says"),
            (far, "far.xlsx: the sheet 'Sheet1' spans A1:XFD1048576"),
        ):
            page.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(str(path))
            error = page.locator("[data-testid=stAlertContentError]", has_text=path.name).first
            error.wait_for()
            _settled(page)
            assert message in error.inner_text().replace("\\", "")
            assert page.locator("[data-testid=stException]").count() == 0
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"upload-refused-{path.suffix[1:]}.png"))
            # The other session is served meanwhile: its Logs page answers.
            second.reload()
            second.get_by_role("heading", name="Logs", exact=True).wait_for()
            cases = second.locator("[data-testid=stMetric]").filter(
                has=second.get_by_text("Cases", exact=True)
            )
            playwright.expect(cases.first.locator("[data-testid=stMetricValue]")).to_have_text("3")
    finally:
        first.close()
        other.close()


def test_delete_a_log_after_the_confirmation(browser, server) -> None:
    context, page = _page(browser, server)
    try:
        button = page.locator("button", has_text="Delete log")
        # A click on the panel can land while a rerun redraws the page and be lost (the panel stayed
        # closed, its button hidden, for 90 s once under load): open it again until the button shows.
        click_until(page, page.get_by_text("Rename or delete this log"), button)
        assert button.is_disabled()
        _tick(page.locator("[data-testid=stCheckbox]", has_text="Yes, delete tiny"))
        # The button is enabled by the rerun the tick starts; on a loaded machine that takes more than 5 s.
        playwright.expect(button).to_be_enabled(timeout=WAIT_MS)
        button.click()
        page.locator("[data-testid=stAlertContentSuccess]").first.wait_for()
        _settled(page)
        assert (
            "Deleted log tiny (3 cases, 6 events)."
            in page.locator("[data-testid=stAlertContentSuccess]").first.inner_text()
        )
        assert page.get_by_text("The workspace holds no logs yet").count() == 1
        page.screenshot(path=str(ARTIFACTS / "logs-deleted.png"))
    finally:
        context.close()


def test_a_german_export_with_its_date_and_time_apart_is_read_as_one_timestamp(browser, server) -> None:
    # Vorgang;Tätigkeit;Datum;Uhrzeit;Bearbeiter: German headers, and the time of day beside the date.
    context, page = _page(browser, server)
    try:
        _open(page, "Upload")
        page.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(
            str(FILES / "ingest" / "date_and_time.csv")
        )
        page.get_by_role("button", name="Ingest").wait_for()
        _settled(page)
        # The preview's detected roles (a grid drawn on a canvas; its cells are in the DOM for screen
        # readers): the timestamp joins the two columns, and says why.
        cells = page.locator("[data-testid=stDataFrame] td")
        cells.filter(has_text="Datum+Uhrzeit").first.wait_for(state="attached")
        why = "the dates of 'Datum' with the times of day of 'Uhrzeit' beside them; parses as %d.%m.%Y %H:%M"
        cells.filter(has_text=why).first.wait_for(state="attached")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "upload-date-and-time-preview.png"), full_page=True)
        page.get_by_role("button", name="Ingest").click()
        page.locator("[data-testid=stAlertContentSuccess]").first.wait_for()
        _settled(page)
        assert page.locator("[data-testid=stException]").count() == 0
        metrics = {
            m.locator("[data-testid=stMetricLabel]").inner_text(): m.locator(
                "[data-testid=stMetricValue]"
            ).inner_text()
            for m in page.locator("[data-testid=stMetric]").all()
        }
        assert (metrics["Cases"], metrics["Events"], metrics["Variants"]) == ("3", "5", "3")
        page.screenshot(path=str(ARTIFACTS / "upload-date-and-time-done.png"), full_page=True)
    finally:
        context.close()
