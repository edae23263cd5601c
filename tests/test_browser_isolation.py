"""One upload cannot hurt other users: in a real browser, a file that needs more memory than the server allows
is refused with a plain message while a second session keeps using the app, and the first one carries on.

The server runs with ``MINING_MEMORY_LIMIT=100MB``; the hostile uploads are generated here: the 1.4 KB
workbook whose sheet reaches cell XFD1048576 (it once took the server down), and a valid log of a million
rows (38 MB), whose preview may fit under the limit while its ingest needs several times more.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tests.conftest import FILES, app_process, chromium, list_options
from tests.hostile import far_cell_xlsx

pytestmark = pytest.mark.browser

playwright = pytest.importorskip("playwright.sync_api", reason="browser tests need: pip install playwright")

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
WAIT_MS = 120_000
LIMIT = "100MB"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    workspace = tmp_path_factory.mktemp("isolation") / "workspace.duckdb"
    with app_process(workspace, env={"MINING_MEMORY_LIMIT": LIMIT}) as (url, proc):
        yield url, proc


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def big_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hostile") / "big_export.csv"
    con = duckdb.connect()
    con.execute(
        "COPY (SELECT 'C' || lpad((i // 8)::VARCHAR, 8, '0') AS case_id, 'step ' || (i % 8) AS activity, "
        "strftime(TIMESTAMP '2024-01-01' + (i * INTERVAL 1 MINUTE), '%Y-%m-%dT%H:%M:%SZ') AS timestamp "
        "FROM range(1000000) t(i)) TO ? (HEADER)",
        [str(path)],
    )
    con.close()
    return path


def _session(browser, url: str):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(url.rstrip("/") + "/logs")  # the app opens on the Start page; these tests begin on Logs
    page.get_by_role("heading", name="Logs", exact=True).wait_for()
    return context, page


def _open(page, title: str, drawn: str) -> None:
    page.locator("[data-testid=stSidebarNav]").get_by_text(title, exact=True).click()
    page.get_by_role("heading", name=title, exact=True).wait_for()
    page.locator(drawn).first.wait_for()
    page.locator("[data-testid=stApp][data-test-script-state=notRunning]").wait_for()


def _metric(page, label: str) -> str:
    box = page.locator("[data-testid=stMetric]").filter(has=page.get_by_text(label, exact=True)).first
    return box.locator("[data-testid=stMetricValue]").inner_text()


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_a_file_over_the_memory_limit_is_refused_while_another_session_carries_on(
    browser, server, big_export: Path, tmp_path: Path
) -> None:
    url, proc = server
    first, upload = _session(browser, url)
    second, other = _session(browser, url)
    try:
        _open(upload, "Upload", "[data-testid=stFileUploader]")
        dropzone = upload.locator("[data-testid=stFileUploaderDropzoneInput]")
        # A reader that tries the far-away cell is stopped in its child; the page says so in one message.
        dropzone.set_input_files(str(far_cell_xlsx(tmp_path / "far.xlsx")))
        refused = upload.locator("[data-testid=stAlertContentError]").filter(has_text="far.xlsx")
        refused.wait_for()
        assert upload.locator("[data-testid=stException]").count() == 0
        _shot(upload, "isolation-far-cell-xlsx")
        assert proc.poll() is None
        dropzone.set_input_files(str(big_export))

        # Meanwhile, another user goes through the pages of the sample log.
        assert _metric(other, "Cases") == "2,400"
        _open(other, "Overview", "[data-testid=stVegaLiteChart]")
        assert _metric(other, "Cases") == "2,400"
        _open(other, "Process map", "[data-testid=process-map][data-ready='1'] g.pm-node")
        assert other.locator("g.pm-node:has(rect)").count() == 10  # the 10 activities, drawn as boxes
        _open(other, "Variants", "[data-testid=stVegaLiteChart]")
        assert other.locator("[data-testid=stException]").count() == 0
        _shot(other, "isolation-second-session")

        # The preview may fit under the limit (it can spill to disk); the ingest cannot.
        error = upload.locator("[data-testid=stAlertContentError]").filter(has_text="big_export.csv").first
        ingest = upload.get_by_role("button", name="Ingest")
        error.or_(ingest).first.wait_for()
        if not error.is_visible():
            assert (
                "1,000,000 rows"
                in upload.get_by_text("rows; Timestamp read as", exact=False).first.inner_text()
            )
            ingest.click()
            # While that ingest runs out of memory, the other user opens one more page.
            _open(other, "Overview", "[data-testid=stVegaLiteChart]")
            assert _metric(other, "Cases") == "2,400"
            try:
                error.wait_for()
            finally:
                _shot(upload, "isolation-ingest")
        text = error.inner_text()
        assert f"the file big_export.csv needs more than {LIMIT[:-2]} MB of memory to read" in text
        assert "it was stopped, and nothing was changed" in text
        assert "MINING_MEMORY_LIMIT=1GB" in text  # the hint names the server's setting
        assert upload.locator("[data-testid=stException]").count() == 0
        _shot(upload, "isolation-refused-upload")
        assert proc.poll() is None  # the server is up

        # The first user carries on: a small file loads.
        upload.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(
            str(FILES / "cli" / "tiny.csv")
        )
        # Its preview replaces the refused file's page before Ingest is clicked (not the old button).
        upload.get_by_text("3 rows; Timestamp read as", exact=False).wait_for()
        upload.locator("[data-testid=stApp][data-test-script-state=notRunning]").wait_for()
        upload.get_by_role("button", name="Ingest").click()
        try:
            upload.locator("[data-testid=stAlertContentSuccess]").first.wait_for()
            upload.locator("[data-testid=stAlertContentSuccess]").first.scroll_into_view_if_needed()
        finally:
            _shot(upload, "isolation-then-a-small-file")
        assert "tiny" in upload.locator("[data-testid=stAlertContentSuccess]").first.inner_text()
        assert upload.get_by_role("button", name="Cancel").count() == 0  # nothing is left to cancel
        _open(other, "Logs", "[data-testid=stMetric]")
        options = list_options(other, other.get_by_role("combobox", name="Log"))
        assert sorted(options) == ["service_desk", "tiny"]
    finally:
        first.close()
        second.close()
