"""The Start page (the default page), the log chooser, and page state kept across pages, by AppTest.

One workspace per module holds the sample service-desk log and a copy of a
small log under a long name; the expected figures come from the library.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("streamlit", reason="the app is an optional extra: pip install '.[app]'")

from streamlit.testing.v1 import AppTest

from mining.analysis.durations import case_durations
from mining.catalog import list_logs
from mining.durations import duration_words
from mining.ingest import IngestOptions, ingest_file
from mining.store import Store
from mining.ui.messages import md
from mining.ui.pages.start import NEXT_STEPS
from tests.conftest import FILES, SAMPLE_LOGS, app_workspace

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
TIMEOUT = 60
LONG_NAME = "ERP export purchase-to-pay 2024 Q1-Q4 all plants (final, corrected)"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    tiny = (FILES / "app" / "tiny.csv", IngestOptions(name=LONG_NAME))
    with app_workspace(tmp_path_factory.mktemp("start"), tiny, SAMPLE_LOGS / "service_desk.csv") as path:
        yield path


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_the_default_page_says_what_the_app_shows_with_the_logs_headline_numbers(workspace: Path) -> None:
    with Store(workspace, read_only=True) as store:
        log = next(i for i in list_logs(store) if i.name == "service_desk")
        durations = case_durations(store, log.log_id)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception and not at.error
    assert at.title[0].value == "See how your process really runs"
    assert at.selectbox[0].value == "service_desk"  # the most recent log
    shown = _metrics(at)
    assert (shown["Cases"], shown["Events"], shown["Activities"], shown["Variants"]) == (
        f"{log.cases:,}",
        f"{log.events:,}",
        f"{log.activities:,}",
        f"{log.variants:,}",
    )
    text = " ".join(m.value for m in at.markdown)
    assert f"Half the cases take less than **{duration_words(durations.median_seconds)}**" in text
    # Where to go next: a link to each page that answers a question, with what it answers.
    links = {link.proto.label.strip("*"): link.proto.page for link in at.get("page_link")}
    assert {title for title, _ in NEXT_STEPS} <= set(links)
    assert links["Process map"] == "process-map"
    assert links["Conformance"] == "conformance"
    assert links["Monitoring"] == "monitoring"
    assert links["Add an export"] == "upload"
    captions = [c.value for c in at.caption]
    assert all(what in captions for _, what in NEXT_STEPS)
    # The span in the log's own zone (the sample writes +01:00/+02:00: CET), as every page shows its
    # events; DuckDB's reading of the zone gives the wall clock.
    assert log.timezone == "CET"
    with Store(workspace, read_only=True) as store:
        first, last = store.query(
            "SELECT strftime(timezone('CET', min(start_ts)), '%Y-%m-%d %H:%M'), "
            "strftime(timezone('CET', max(end_ts)), '%Y-%m-%d %H:%M') FROM cases WHERE log_id = ?",
            [log.log_id],
        ).rows[0]
    assert f"From {first} to {last} (CET, the log's time zone)" in captions


def test_a_long_log_name_is_shown_in_full(workspace: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.selectbox[0].set_value(LONG_NAME).run()
    assert not at.exception
    assert md(LONG_NAME) in [c.value for c in at.caption]
    assert _metrics(at)["Cases"] == "3"
    at.selectbox[0].set_value("service_desk").run()
    assert md("service_desk") not in [c.value for c in at.caption]  # a short name needs no second line


def _pages_of_one_session() -> None:
    # One session moving between pages, as the sidebar does.
    import importlib

    import streamlit as st

    importlib.import_module(f"mining.ui.pages.{st.session_state.get('page', 'monitoring')}").render()


def _go(at: AppTest, page: str) -> None:
    at.session_state["page"] = page
    at.run()
    assert not at.exception


def test_monitoring_and_conformance_choices_survive_a_visit_to_another_page(workspace: Path) -> None:
    at = AppTest.from_function(_pages_of_one_session, default_timeout=TIMEOUT)
    at.session_state["mining.current_log"] = "service_desk"
    at.run()
    assert not at.exception
    with Store(workspace, read_only=True) as store:
        log = next(i for i in list_logs(store) if i.name == "service_desk")
    change = "2025-06-02"  # typed, as the page takes a change date
    at.selectbox(key="mon-period").set_value("month").run()
    at.text_input(key=f"mon-change-{log.log_id}").set_value(change).run()
    at.text_input(key=f"mon-sla-{log.log_id}").set_value("3d").run()
    at.number_input(key="mon-cost").set_value(40.0).run()
    assert not at.exception and not at.error

    _go(at, "overview")
    _go(at, "monitoring")
    assert at.selectbox(key="mon-period").value == "month"
    assert at.text_input(key=f"mon-change-{log.log_id}").value == change
    assert at.text_input(key=f"mon-sla-{log.log_id}").value == "3d"
    assert at.number_input(key="mon-cost").value == 40.0

    _go(at, "conformance")
    at.radio(key="conf-method").set_value("token-replay").run()
    at.number_input(key="conf-budget").set_value(30.0).run()
    at.text_area(key=f"conf-rules-{log.log_id}").set_value("never Reopen").run()
    assert not at.exception
    _go(at, "variants")
    _go(at, "conformance")
    assert at.radio(key="conf-method").value == "token-replay"
    assert at.number_input(key="conf-budget").value == 30.0
    assert at.text_area(key=f"conf-rules-{log.log_id}").value == "never Reopen"
    _go(at, "monitoring")
    assert at.selectbox(key="mon-period").value == "month"  # and the first page's, after two others


def _upload_with_links() -> None:
    # The Upload page as app.py builds it: with the pages its summary links to.
    import streamlit as st

    from mining.ui.pages import overview, process_map, upload, variants

    pages = {
        "Process map": st.Page(process_map.render, title="Process map", url_path="process-map"),
        "Overview": st.Page(overview.render, title="Overview", url_path="overview"),
        "Variants": st.Page(variants.render, title="Variants", url_path="variants"),
    }
    upload.render(pages)


def test_after_an_ingest_the_summary_stands_alone_with_links_to_explore_the_new_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MINING_WORKSPACE", str(tmp_path / "fresh.duckdb"))
    tiny = FILES / "app" / "tiny.csv"
    at = AppTest.from_function(_upload_with_links, default_timeout=TIMEOUT).run()
    at.file_uploader[0].set_value(("tiny.csv", tiny.read_bytes(), "text/csv"))
    at.run()
    assert any(b.key == "upload-ingest" for b in at.button)  # before: the preview and the Ingest button
    at.button(key="upload-ingest").click().run()
    assert not at.exception and not at.error
    assert [b.key for b in at.button] == []  # no Cancel (nor Ingest) button left over
    assert _metrics(at)["Cases"] == "3"
    # The mapping once: one role/column table; how each column was found is folded away.
    tables = [list(d.value.columns) for d in at.dataframe]
    assert tables.count(["role", "column", "format"]) == 1
    assert ["case_id", "activity", "timestamp", "resource"] not in tables  # the preview's rows are gone
    assert [e.label for e in at.expander if e.label == "How the columns were detected"]
    links = {link.proto.page: link.proto.label for link in at.get("page_link")}
    assert links["process-map"] == "Explore it on the process map"
    assert set(links) == {"process-map", "overview", "variants"}
    # Another option brings the preview and the Ingest button back.
    next(t for t in at.text_input if t.label == "Log name").set_value("tiny2").run()
    assert any(b.key == "upload-ingest" for b in at.button)


def _overview_and_bottlenecks() -> None:
    import streamlit as st

    from mining.ui.pages import bottlenecks, overview

    (overview if st.session_state.get("page", "overview") == "overview" else bottlenecks).render()


def test_a_log_spanning_a_century_is_drawn_per_month_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = ["case,activity,timestamp"]
    for i in range(300):  # one case every 140 days from 1910 to 2025: about 6,000 weeks
        t = dt.datetime(1910, 1, 3) + dt.timedelta(days=140 * i)
        lines += [f"c{i},Open,{t:%Y-%m-%d %H:%M}", f"c{i},Close,{t + dt.timedelta(days=1):%Y-%m-%d %H:%M}"]
    source = tmp_path / "century.csv"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path = tmp_path / "century.duckdb"
    with Store(path) as store:
        ingest_file(store, source)
    monkeypatch.setenv("MINING_WORKSPACE", str(path))
    at = AppTest.from_function(_overview_and_bottlenecks, default_timeout=TIMEOUT).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "Cases per month" in [s.value for s in at.subheader]
    # 300 completions over some 1,380 months: the median month completes none, so the average is shown
    metric = next(m for m in at.metric if m.label.startswith("Completed per month"))
    assert (metric.label, metric.value) == ("Completed per month (average)", "0.2")
    assert "complete no kept case, so the median is 0" in metric.help
    assert _metrics(at)["Time span"] == "114.6 years"  # 1910-01-03 to 2024-08-13, not "41,861.0 days"
    assert any(
        "Per month: 5,9" in c.value.replace("\\", "") and "weeks are more than a chart can show" in c.value
        for c in at.caption
    )
    at.session_state["page"] = "bottlenecks"
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "Median wait per transition and month (the most frequent transitions)" in [
        c.value for c in at.caption
    ]


@pytest.mark.parametrize("warm", [True, False], ids=["warmed", "not-warmed"])
def test_while_the_start_page_is_read_the_explore_pages_first_figures_are_computed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, warm: bool
) -> None:
    from mining.analysis import attributes, dfg, performance, summary
    from mining.ui import warmup

    path = tmp_path / "fresh.duckdb"  # a workspace of its own: nothing of it is cached yet
    with Store(path) as store:
        ingest_file(store, SAMPLE_LOGS / "service_desk.csv")
    monkeypatch.setenv("MINING_WORKSPACE", str(path))
    if not warm:
        monkeypatch.setattr(warmup, "warm_explore", lambda *a, **k: None)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception and at.title[0].value == "See how your process really runs"
    assert warmup.warm_wait(TIMEOUT)

    calls: list[str] = []
    for module, name in (
        (attributes, "attribute_summaries"),
        (dfg, "dfg"),
        (performance, "activity_times"),
        (summary, "resource_table"),
    ):
        real = getattr(module, name)
        monkeypatch.setattr(
            module, name, lambda *a, _real=real, _name=name, **k: calls.append(_name) or _real(*a, **k)
        )
    for page in ("overview", "process_map"):
        opened = AppTest.from_string(
            f"from mining.ui.pages import {page}\n{page}.render()\n", default_timeout=TIMEOUT
        ).run()
        assert not opened.exception and not opened.error
    if warm:
        assert calls == []  # the filter bar's lists, the Overview and the map came from the cache
    else:
        assert {"attribute_summaries", "dfg", "activity_times", "resource_table"} <= set(calls)
