"""The Root causes and Compare pages, by AppTest, on a generated log with planted drivers and on a real log.

Every expected figure is the library's own result on the same workspace.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("streamlit", reason="the app is an optional extra: pip install '.[app]'")

from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

from mining.analysis.filters import Filter
from mining.catalog import list_logs
from mining.drivers.find import OutcomeSpec, find_drivers
from mining.durations import duration_unit, duration_words
from mining.ingest import IngestOptions
from mining.rates import compact_money, rate_card_from_bytes
from mining.store import Store
from mining.ui.why import RATE_CARD_KEY
from tests.conftest import app_workspace
from tests.driverlog import write_driver_log

TIMEOUT = 180
CARD = rate_card_from_bytes(
    b'currency: EUR\nresources: {"*": 60}\nactivities: {Close: 5}\n', name="card.yaml"
)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("why")
    planted = (write_driver_log(folder / "planted.csv", seed=3, cases=600), IngestOptions(name="planted"))
    with app_workspace(folder, planted) as path:
        yield path


def _root_causes() -> None:
    from mining.ui.pages import root_causes

    root_causes.render()


def _run(script, **state) -> AppTest:
    at = AppTest.from_function(script, default_timeout=TIMEOUT)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def _plain(text: str) -> str:
    return text.replace("\\", "")


def _metrics(at: AppTest) -> dict[str, str]:
    """The page's metrics by label; the first of each label (the summary row, above the driver cards)."""
    found: dict[str, str] = {}
    for m in at.metric:
        found.setdefault(m.label, m.value)
    return found


def _expected(workspace: Path, spec: OutcomeSpec, card=None):
    with Store(workspace, read_only=True) as store:
        [log] = list_logs(store)
        return find_drivers(store, log.log_id, spec, Filter(), rates=card)


def test_root_causes_shows_the_drivers_the_library_finds(workspace):
    expected = _expected(workspace, OutcomeSpec("duration"))
    at = _run(_root_causes)
    metrics = _metrics(at)
    assert metrics["Cases"] == "600" and metrics["Drivers"] == str(len(expected.drivers))
    # Kaplan-Meier, unlike the Overview's median case duration: the help says why the two can differ
    [median] = [m for m in at.metric if m.label == "Median cycle time"][:1]
    assert "Kaplan-Meier" in median.proto.help and "Overview's median case duration" in median.proto.help
    texts = [_plain(m.value) for m in at.markdown]
    first = expected.drivers[0]
    assert any(t.startswith(f"**1. {first.attribute} = {first.value}**") for t in texts)
    # The first card's figures are compact durations, as its difference is ("19.2 min…" was cut).
    from mining.durations import format_duration

    assert [m.value for m in at.metric if m.label in {"These cases", "The rest"}][:2] == [
        format_duration(first.outcome_value),
        format_duration(first.rest_value),
    ]
    assert first.sentence in texts
    assert {(d.attribute, d.value) for d in expected.drivers[:3]} >= {
        ("channel", "Partner"),
        ("product", "P4"),
    }
    # The impact chart's axis is in the unit of its biggest bar (hours for hours, never 0.03 days).
    [chart] = at.get("vega_lite_chart")
    biggest = max(abs(d.impact or 0.0) for d in expected.drivers[:10])
    per, unit = duration_unit(biggest)
    assert (
        json.loads(chart.proto.spec)["title"]
        == f"If these cases did as well as the rest ({unit} off the median)"
    )
    [dataset] = chart.proto.datasets
    bars = convert_arrow_bytes_to_pandas_df(dataset.data.data)["impact"]
    assert bars.abs().max() == pytest.approx(biggest / per)
    # The leaked field is listed with its reason, not shown as a driver.
    excluded = at.dataframe[0].value
    assert "closure" in set(excluded["attribute"])
    assert excluded.set_index("attribute").loc["closure", "reason"].startswith("leakage:")
    assert not any("closure =" in t for t in texts)


def test_root_causes_explains_sla_breaches_and_prices_the_impact(workspace):
    at = _run(_root_causes, **{RATE_CARD_KEY: CARD})
    at.selectbox(key="rc-outcome").set_value("sla").run()
    next(w for w in at.text_input if w.label == "SLA (cycle time)").set_value("3d").run()
    assert not at.exception and not at.error
    expected = _expected(workspace, OutcomeSpec("sla", sla_seconds=3 * 86400.0), CARD)
    metrics = _metrics(at)
    assert metrics["Overall rate"] == f"{expected.outcome.baseline:.1%}"
    top = expected.drivers[0]
    assert top.impact_cost is not None and top.impact_cost > 0
    # The first card's impact: percentage points off the rate, and the money beyond the rest's average.
    values = [m.value for m in at.metric]
    assert f"{top.impact * 100:.1f} pp" in values and compact_money(top.impact_cost, "EUR") in values
    assert f"Together they cost EUR {top.impact_cost:,.2f} more" in top.sentence
    assert any(_plain(e.label).startswith("Rate card: card.yaml") for e in at.expander)


def _compare() -> None:
    from mining.ui.pages import compare

    compare.render()


def test_compare_shows_each_segment_and_two_maps_on_one_layout(workspace):
    from mining.drivers.segments import compare_segments

    at = _run(_compare)
    next(w for w in at.selectbox if w.label == "Compare by").set_value("channel").run()
    assert not at.exception and not at.error
    with Store(workspace, read_only=True) as store:
        [log] = list_logs(store)
        expected = compare_segments(store, log.log_id, "channel", Filter(), sla_seconds=None)
    table = at.dataframe[0].value
    assert list(table["segment"]) == [s.value for s in expected.segments]
    assert list(table["cases"]) == [s.cases for s in expected.segments]
    partner = next(s for s in expected.segments if s.value == "Partner")
    assert table.set_index("segment").loc["Partner", "Median cycle time"] == duration_words(
        partner.kpis["cycle_median_s"]
    )
    # The detail of the median: the interval, the rest, the difference and the mix-adjusted difference.
    detail = at.dataframe[1].value.set_index("segment").loc["Partner"]
    vs = partner.vs_rest["cycle_median_s"]
    lo, hi = partner.intervals["cycle_median_s"]
    assert detail["95% interval"] == f"{duration_words(lo)} to {duration_words(hi)}"
    assert detail["difference"] == f"+{duration_words(vs.difference)}"
    assert detail["mix-adjusted"] == f"+{duration_words(vs.adjusted_difference)}"
    # Two maps, drawn as the Process map draws its map, on one layout: the same boxes at the same places.
    maps = at.get("bidi_component")
    assert len(maps) == 2
    left, right = (json.loads(m.proto.json) for m in maps)
    boxes = [
        [(n["name"], n["x"], n["y"]) for n in d["nodes"] if n["kind"] == "activity"] for d in (left, right)
    ]
    assert boxes[0] == boxes[1] and len(boxes[0]) == 4
    shown = [next(w for w in at.selectbox if w.label == label).value for label in ("First map", "Second map")]
    assert shown[0] == "Web" and shown[1] != shown[0]
    assert [d["label"] for d in (left, right)] == [f"Map of channel = {v}" for v in shown]
    captions = [_plain(c.value) for c in at.caption]
    assert any(c.startswith("channel = Web: ") for c in captions)


def _overview() -> None:
    from mining.ui.pages import overview

    overview.render()


def _bottlenecks() -> None:
    from mining.ui.pages import bottlenecks

    bottlenecks.render()


def test_overview_and_bottlenecks_price_time_with_the_sessions_rate_card(workspace):
    from mining.costs import cost_summary
    from mining.monitor.lean import lean_view

    with Store(workspace, read_only=True) as store:
        [log] = list_logs(store)
        summary = cost_summary(store, log.log_id, CARD)
        waste = lean_view(store, log.log_id, cost_per_hour=CARD)
    at = _run(_overview, **{RATE_CARD_KEY: CARD})
    metrics = _metrics(at)
    assert metrics["Total cost"] == compact_money(summary.total, "EUR")
    assert metrics["Median per case"] == compact_money(summary.median, "EUR")
    table = next(d.value for d in at.dataframe if "share of cost" in d.value.columns)
    assert list(table["activity"]) == [a.activity for a in summary.activities]
    # Close carries its 5.00 per execution: 600 executions.
    assert table.set_index("activity").loc["Close", "fixed"] == "EUR 3,000.00"
    at = _run(_bottlenecks, **{RATE_CARD_KEY: CARD})
    table = next(d.value for d in at.dataframe if "costliest cases" in d.value.columns)
    assert list(table["waste"]) == [w.kind for w in waste.wastes]
    assert list(table["cost"]) == [f"EUR {w.cost:,.2f}" for w in waste.wastes]
    # Without a card the sections say how to get one.
    at = _run(_overview)
    assert "Total cost" not in _metrics(at)
    assert any("Upload a rate card above" in c.value for c in at.caption)


def test_compare_paints_orange_only_what_the_other_segment_never_did(tmp_path):
    # Fines' Create Fine -> Payment was orange in one segment's map while the other had it 11 times,
    # hidden by its own map's simplification: orange now means the other segment has none at all.
    rows = ["case,activity,timestamp,channel"]
    t0 = dt.datetime(2024, 3, 4, 9)
    for i in range(60):
        channel = "Web" if i < 30 else "Shop"
        # Each channel mostly goes its own way, and once the other's way; Web alone reworks a fix.
        usual = (i % 30) != 1
        path = ["Open", "Fix", "Close"] if (channel == "Web") == usual else ["Open", "Close"]
        if channel == "Web" and i % 3 == 0:
            path = ["Open", "Fix", "Fix", "Close"]
        for k, activity in enumerate(path):
            rows.append(f"c{i:02d},{activity},{t0 + dt.timedelta(days=i, hours=k):%Y-%m-%d %H:%M},{channel}")
    source = tmp_path / "channels.csv"
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with app_workspace(tmp_path, source):
        at = _run(_compare)
        next(w for w in at.selectbox if w.label == "Compare by").set_value("channel").run()
        from mining.ui.mapdraw import DEVIATION

        def orange_at(paths: int) -> list[tuple[str, str, str]]:
            next(w for w in at.slider if w.label == "Paths (%)").set_value(paths).run()
            assert not at.exception and not at.error
            shown = [next(w for w in at.selectbox if w.label == x).value for x in ("First map", "Second map")]
            found = []
            for value, m in zip(shown, at.get("bidi_component"), strict=True):
                drawing = json.loads(m.proto.json)
                name = {n["id"]: n["name"] for n in drawing["nodes"]}
                found += [
                    (value, name[e["source"]], name[e["target"]])
                    for e in drawing["edges"]
                    if e["colour"] == DEVIATION and e["source"] in name and e["target"] in name
                ]
            return found

        # Every path drawn: only Web's repeated fix is one the other segment never took.
        assert orange_at(100) == [("Web", "Fix", "Fix")]
        # Simplified to the few most frequent paths of both: nothing is orange that the other did.
        assert orange_at(10) == []


def test_compare_draws_no_map_of_the_cases_without_a_value(tmp_path):
    # Fines opened Compare on lastsent with its "(empty)" segment first: a map filtered on the value
    # "(empty)" kept no case. A segment of no value is compared in the table but not drawn.
    from mining.drivers.segments import compare_segments

    rows = ["case,activity,timestamp,channel"]
    t0 = dt.datetime(2024, 3, 4, 9)
    for i in range(90):
        channel = ("", "Web", "Shop")[i % 3]
        for k, activity in enumerate(("Open", "Close")):
            rows.append(f"c{i:02d},{activity},{t0 + dt.timedelta(days=i, hours=k):%Y-%m-%d %H:%M},{channel}")
    source = tmp_path / "gaps.csv"
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with app_workspace(tmp_path, source) as path:
        with Store(path, read_only=True) as store:
            [log] = list_logs(store)
            result = compare_segments(store, log.log_id, "channel", Filter(), sla_seconds=None)
        assert {s.value: s.source_value for s in result.segments} == {
            "(empty)": None,
            "Shop": "Shop",
            "Web": "Web",
        }
        at = _run(_compare)
        next(w for w in at.selectbox if w.label == "Compare by").set_value("channel").run()
        assert not at.exception and not at.error
        first = next(w for w in at.selectbox if w.label == "First map")
        assert first.options == ["Shop", "Web"] or first.options == ["Web", "Shop"]
        captions = [_plain(c.value) for c in at.caption]
        assert "channel = Shop: 30 cases" in captions and "channel = Web: 30 cases" in captions
