"""The app's long work runs in limited children: a conformance check or a monitoring run over the server's
limit ends in one plain message on its page, never a traceback (the browser test shows the server
carrying on for the uploads).

The limit here is time (one second), against a child that cannot be ready by then: the tests ask for a kind
of child no one has started (the usual modules plus ``tests.slowimport``, which sleeps three seconds as it
loads), so its imports alone outlast the limit.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("streamlit", reason="the app is an optional extra: pip install '.[app]'")

from streamlit.testing.v1 import AppTest

from mining.jobs import CHECK_CHILD, MONITOR_MODULES
from mining.limits import Limits
from mining.ui import measures
from tests.conftest import SAMPLE_LOGS, app_workspace

TIMEOUT = 120


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with app_workspace(tmp_path_factory.mktemp("app-limits"), SAMPLE_LOGS / "service_desk.csv") as path:
        yield path


@pytest.fixture
def one_second(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(measures, "work_limits", lambda: Limits(memory=2 * 1000**3, seconds=1.0))
    # A kind of child of its own: no spare or idle worker of it exists, so the work waits for its imports,
    # and one of them sleeps three seconds (the monitoring modules alone can load in under a second).
    monkeypatch.setattr(measures, "CHECK_CHILD", (*CHECK_CHILD, "tests.slowimport"))
    monkeypatch.setattr(measures, "MONITOR_MODULES", (*MONITOR_MODULES, "tests.slowimport"))


def _pages() -> None:
    import importlib

    import streamlit as st

    importlib.import_module(f"mining.ui.pages.{st.session_state['test-page']}").render()


def _open(page: str) -> AppTest:
    at = AppTest.from_function(_pages, default_timeout=TIMEOUT)
    at.session_state["test-page"] = page
    return at.run()


def _plain(text: str) -> str:
    return text.replace("\\", "")


def test_a_check_over_the_time_limit_says_so_in_one_message(workspace: Path, one_second) -> None:
    at = _open("conformance")
    at.button(key="conf-run").click().run()
    assert not at.exception
    [error] = at.error
    assert _plain(error.value).startswith(
        "the conformance check of 'service_desk' took longer than 1 second to finish; it was stopped, and "
        "nothing was changed"
    )
    # The hint names the server's setting, not a command-line flag.
    assert _plain(error.value).endswith(
        "**Hint:** filter the log to fewer cases or variants, or give it more time with the server's setting "
        "MINING_TIME_LIMIT=1h (where the app is started)"
    )
    assert not at.metric


def test_a_monitoring_run_over_the_time_limit_says_so(workspace: Path, one_second) -> None:
    at = _open("monitoring")
    assert not at.exception
    messages = [_plain(e.value) for e in at.error]
    assert any(
        m.startswith("monitoring 'service_desk' took longer than 1 second to finish; it was stopped")
        for m in messages
    ), messages
