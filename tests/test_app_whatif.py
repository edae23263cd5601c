"""The What-if page, by AppTest, on the sample service-desk log: the model in words, the verdict, a run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("streamlit", reason="the app is an optional extra: pip install '.[app]'")

from streamlit.testing.v1 import AppTest

from mining.analysis.filters import Filter
from mining.catalog import list_logs
from mining.simulation.calibrate import calibrate
from mining.simulation.report import format_value
from mining.simulation.run import study
from mining.simulation.scenarios import parse_scenarios
from mining.simulation.validate import validate
from mining.store import Store
from mining.ui.pages.whatif import VALIDATION_RUNS
from tests.conftest import SAMPLE_LOGS, app_workspace

SAMPLE = SAMPLE_LOGS / "service_desk.csv"
TIMEOUT = 240


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with app_workspace(tmp_path_factory.mktemp("whatif"), SAMPLE) as path:
        yield path


@pytest.fixture(scope="module")
def model(workspace: Path):
    with Store(workspace, read_only=True) as store:
        [log] = list_logs(store)
        return calibrate(store, log.log_id, log.name, flt=Filter())


def _page() -> None:
    from mining.ui.pages import whatif

    whatif.render()


@pytest.fixture(scope="module")
def page(workspace: Path) -> AppTest:
    at = AppTest.from_function(_page, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert not at.error
    return at


def _widget(elements, label: str):
    return next(e for e in elements if e.label == label)


def _plain(text: str) -> str:
    return text.replace("\\", "")


def test_page_tells_the_model_and_the_verdict(page: AppTest, model) -> None:
    text = _plain(" ".join(m.value for m in page.markdown))
    assert f"Arrivals: {model.cases_per_day:.1f} cases a day" in text
    assert "Processing times: measured from the start and end timestamps." in text
    for pool in model.pools:
        assert f"Pool {pool.name}: " in text
    v = validate(model, runs=VALIDATION_RUNS, seed=0)
    shown = [_plain(s.value) for s in page.success] + [_plain(w.value) for w in page.warning]
    assert v.verdict in shown
    assert v.trusted  # the generated service desk is replayed within 25%
    assert _widget(page.number_input, "Horizon (days)").value == round(model.observed.period_days, 1)
    assert "Press **Run**" in page.info[0].value
    assert page.button(key="whatif-cancel").disabled  # nothing runs yet: nothing to cancel


def test_run_compares_a_scenario_with_the_baseline(page: AppTest, model) -> None:
    _widget(page.number_input, "Runs").set_value(2)
    _widget(page.number_input, "Horizon (days)").set_value(60.0)
    _widget(page.selectbox, "Change the people at").set_value("Investigate")
    page.run()
    pool = model.pool(model.activity("Investigate").pool)
    _widget(page.number_input, f"People added to pool {pool.name} (now {pool.capacity})").set_value(-12)
    page.run()
    _widget(page.text_input, "Scenario name").set_value("Twelve fewer")
    page.button(key="whatif-run").click().run()
    assert not page.exception and not page.error
    table = next(d.value for d in page.dataframe if "Measure" in d.value.columns)
    assert list(table.columns[:4]) == ["Measure", "Baseline", "Twelve fewer", "Twelve fewer: change"]
    doc = "- name: Twelve fewer\n  staff:\n    Investigate: -12\n"
    expected = study(model, parse_scenarios(doc, model), runs=2, seed=0, horizon_days=60.0)
    row = table[table["Measure"] == "Cycle time, mean"].iloc[0]
    base = expected.baseline.value("cycle_mean_seconds")
    assert row["Baseline"].startswith(format_value("cycle_mean_seconds", base.mean))
    delta = dict(expected.scenarios[0][1].delta)["cycle_mean_seconds"]
    assert row["Twelve fewer: change"].startswith(format_value("cycle_mean_seconds", delta.mean, signed=True))
    row = table[table["Measure"] == "Waiting for a person per case, mean"].iloc[0]
    wait = dict(expected.scenarios[0][1].delta)["wait_mean_seconds"]
    assert row["Twelve fewer: change"].startswith(format_value("wait_mean_seconds", wait.mean, signed=True))
    assert wait.mean > 3600  # four people left for the pool's work: hours more waiting per case
    assert len(page.get("vega_lite_chart")) >= 2


def test_options_in_simulation_hints_are_the_pages_fields(page: AppTest) -> None:
    from mining.errors import Option
    from mining.ui.messages import control

    labels = [w.label for w in page.number_input]
    for name in ("horizon", "runs"):
        words = control(Option(name))
        assert words.startswith('the "') and words.endswith('" field')
        assert words.split('"')[1] in labels
