"""Shared fixtures: fresh in-memory workspaces and the paths of test data.

The real public logs and models live in ``../shared`` beside the checkout,
not in it.  Only the ``shared_logs`` and ``shared_models`` fixtures know that
place: a test that reads them asks for the fixture and builds each path from
it (``shared_logs / "helpdesk.xes.gz"``), and is skipped, with the folder it
expected named in the reason, when the folder or that file is absent -- so a
clone without ``../shared`` runs everything else.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from mining.store import Store

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_LOGS = ROOT / "sample_logs"
FILES = Path(__file__).resolve().parent / "files"


class SharedFolder:
    """A folder of ``../shared``; ``folder / name`` is a file in it, or skips the test."""

    def __init__(self, path: Path, what: str) -> None:
        self.path = path
        self.what = what

    def reason(self, name: str | None = None) -> str:
        wanted = f"{name} from {self.what}" if name else self.what
        return f"needs {wanted} in {self.path} (../shared beside the checkout); not present"

    def present(self) -> SharedFolder:
        """This folder, after skipping the test when it is absent."""
        if not self.path.is_dir():
            pytest.skip(self.reason())
        return self

    def __truediv__(self, name: str) -> Path:
        path = self.path / name
        if not path.is_file():
            pytest.skip(self.reason(name))
        return path


@pytest.fixture
def store():
    with Store() as s:
        yield s


@pytest.fixture(scope="session")
def shared_logs() -> SharedFolder:
    """The real public logs (``../shared/logs``); skips the test when they are absent."""
    return SharedFolder(ROOT.parent / "shared" / "logs", "the real public logs").present()


@pytest.fixture(scope="session")
def shared_models() -> SharedFolder:
    """The documented process models (``../shared/models``); skips the test when they are absent."""
    return SharedFolder(ROOT.parent / "shared" / "models", "the documented process models").present()


@contextlib.contextmanager
def app_workspace(folder: Path, *sources: Path | tuple[Path, object]) -> Iterator[Path]:
    """A workspace in ``folder`` holding ``sources`` (a path, or a path and its ``IngestOptions``),
    named by ``MINING_WORKSPACE`` while the block runs: the app, and AppTest, open it."""
    from mining.ingest import ingest_file

    path = folder / "workspace.duckdb"
    with Store(path) as store:
        for source in sources:
            if isinstance(source, tuple):
                ingest_file(store, *source)  # type: ignore[arg-type]
            else:
                ingest_file(store, source)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MINING_WORKSPACE", str(path))
        yield path


def free_port() -> int:
    """A TCP port nobody listens on now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


#: Debian's chromium: tests cannot download a browser.
CHROMIUM = os.environ.get("MINING_CHROMIUM", "/usr/bin/chromium")
BROWSER_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-background-networking")


@contextlib.contextmanager
def chromium(args: Sequence[str] = BROWSER_ARGS) -> Iterator[object]:
    """A headless Chromium driven by Playwright (``CHROMIUM``); fails the test, naming the setup, when absent."""
    playwright = pytest.importorskip(
        "playwright.sync_api", reason="browser tests need: pip install playwright"
    )
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: run `bash .ci/setup --browser` (installs Debian's chromium)")
    # An app rerun on a loaded CI machine can take longer than Playwright's 5 s default for `expect`.
    playwright.expect.set_options(timeout=30_000)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=list(args))
        try:
            yield browser
        finally:
            browser.close()


def click_until(page, target, shown, *, attempts: int = 3, wait_ms: int = 20_000) -> None:
    """Click ``target`` until ``shown`` (a locator) appears, at most ``attempts`` times.

    Only for clicks that are harmless to repeat, such as opening a select's list; a button that starts
    work needs its own check that the page did not take the first click (see test_browser_whatif).

    On a loaded machine a click can land while the browser swaps a rerun's elements: it is then
    dropped, or what it opened (a select's list) is closed by the redraw.  So the click is made again
    once the script is idle and ``shown`` is still absent; the failure carries the page's text.
    """
    from playwright.sync_api import TimeoutError as Timeout

    idle = page.locator("[data-testid=stApp][data-test-script-state=notRunning]")
    for _ in range(attempts):
        idle.wait_for()
        target.click()
        try:
            shown.first.wait_for(timeout=wait_ms)
            return
        except Timeout:
            page.keyboard.press("Escape")  # a half-open list or popover would swallow the next click
    raise AssertionError(f"clicked {attempts} times and nothing showed: " + page.inner_text("body")[:2000])


def open_expander(page, expander, shown, *, attempts: int = 3, wait_ms: int = 30_000) -> None:
    """Open ``expander`` (a ``stExpander`` locator) until ``shown`` (a locator inside it) appears.

    A second click on an open expander would close it, so each attempt clicks only while its
    ``details`` element is still closed: a click that landed during a rerun's redraw was dropped.
    """
    from playwright.sync_api import TimeoutError as Timeout

    idle = page.locator("[data-testid=stApp][data-test-script-state=notRunning]")
    details = expander.locator("details").first
    for _ in range(attempts):
        idle.wait_for()
        if details.get_attribute("open") is None:
            expander.locator("summary").first.click()
        try:
            shown.first.wait_for(timeout=wait_ms)
            return
        except Timeout:
            continue
    raise AssertionError(f"opened {attempts} times and nothing showed: " + page.inner_text("body")[:2000])


def choose_option(page, combobox, name: str, *, exact: bool = True, typed: str | None = None) -> None:
    """Pick the option ``name`` in a select (``combobox``), typing ``typed`` first to filter a long list.

    The list can close between showing the option and the click on it (a rerun's redraw): then it is
    opened and the option clicked again, at most three times.
    """
    from playwright.sync_api import TimeoutError as Timeout

    option = page.get_by_role("option", name=name, exact=exact).first
    for _ in range(3):
        click_until(page, combobox, page.get_by_role("option"))
        if typed is not None:
            combobox.fill(typed)
        try:
            option.click(timeout=10_000)
            return
        except Timeout:
            page.keyboard.press("Escape")
    raise AssertionError(f"could not pick {name!r}: " + page.inner_text("body")[:2000])


def assert_one_layout(maps) -> None:
    """Two maps of the Process map's renderer (``maps``, a locator of both) share one layout, legibly.

    The same boxes at the same places in each (faint where a side lacks one), and every label at least
    11 px high, as the Process map's own.
    """
    boxes = [
        m.locator("g.pm-node").evaluate_all(
            "gs => gs.map(g => [g.dataset.name, g.querySelector('rect, circle').getAttribute('x')])"
        )
        for m in (maps.nth(0), maps.nth(1))
    ]
    assert boxes[0] == boxes[1] and len(boxes[0]) > 2
    heights = (
        maps.nth(0)
        .locator("text.pm-label")
        .evaluate_all("ts => ts.map(t => t.getBoundingClientRect().height)")
    )
    assert min(heights) >= 11


def list_options(page, combobox) -> list[str]:
    """Open a select's list (``combobox``) and return its options' texts, closing it again."""
    options = page.get_by_role("option")
    click_until(page, combobox, options)
    texts = options.all_inner_texts()
    page.keyboard.press("Escape")
    return texts


@contextlib.contextmanager
def app_server(workspace: Path, *, timeout: float = 60) -> Iterator[str]:
    """``streamlit run app.py`` on ``workspace`` at a free local port; yields its URL, stops it after."""
    with app_process(workspace, timeout=timeout) as (url, _):
        yield url


@contextlib.contextmanager
def app_process(
    workspace: Path, *, timeout: float = 60, env: dict[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen]]:
    """:func:`app_server` with extra environment ``env``; yields the URL and the server's process."""
    import sys
    import tempfile
    import time
    import urllib.request

    port = free_port()
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ROOT / "app.py"),
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--server.address",
        "127.0.0.1",
        "--server.fileWatcherType",
        "none",
    ]
    env = {**os.environ, "MINING_WORKSPACE": str(workspace), "PYTHONPATH": str(ROOT), **(env or {})}
    # The server's output goes to a file: a pipe nobody reads fills after 64 KiB and stalls the server.
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8") as output:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                        if r.read() == b"ok":
                            break
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    proc.kill()
                    proc.wait(timeout=30)
                    output.seek(0)
                    pytest.fail(f"the app did not start: {output.read()[-4000:]}")
                time.sleep(0.3)
            yield url, proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:  # a server that does not stop must not fail the test after it
                proc.kill()
                proc.wait(timeout=30)
