"""Cost per case and per activity from a rate card, against a hand calculation to the cent."""

from __future__ import annotations

import pytest

from mining.costs import case_costs, cost_summary
from mining.errors import AnalysisError
from mining.rates import RateCard, rate_card_from_bytes
from tests.conftest import FILES
from tests.tinylog import TINY, load_file, load_hours

# tests/files/lean/starts.csv, minutes of work (start to completion) and of waiting before each activity:
# c1: A ann 30, B bob 30 (waits 30), C bob 10 (waits 30)
# c2: A ann 20, B bob 20 (waits 30), C bob 10 (waits 120)
# c3: A ann 30, B bob 20 (waits 10), B bob 30 (waits 60), C ann 10 (waits 0)
CARD = b"resources: {ann: clerk, bob: 100}\nroles: {clerk: 40}\nactivities: {B: 2.50}\ncurrency: EUR\n"


@pytest.fixture
def starts(store):
    return load_file(store, FILES / "lean" / "starts.csv")


def test_cost_per_case_matches_a_hand_calculation_to_the_cent(store, starts):
    card = rate_card_from_bytes(CARD, name="card.yaml")
    costs = case_costs(store, starts, card)
    assert costs.case_id == ("c1", "c2", "c3")
    # c1: 30 min x 40 + 30 min x 100 + 2.50 + 10 min x 100 = 20 + 50 + 2.50 + 16.67
    # c2: 20 min x 40 + 20 min x 100 + 2.50 + 10 min x 100 = 13.33 + 33.33 + 2.50 + 16.67
    # c3: 30 min x 40 + 20 min x 100 + 2.50 + 30 min x 100 + 2.50 + 10 min x 40 = 20 + 33.33 + 50 + 5 + 6.67
    assert [round(x, 2) for x in costs.total] == [89.17, 65.83, 115.00]
    assert [round(x, 2) for x in costs.fixed] == [2.50, 2.50, 5.00]
    assert [round(h * 60) for h in costs.hours] == [70, 50, 90]


def test_waiting_is_charged_when_the_card_says_so(store, starts):
    card = rate_card_from_bytes(CARD + b"waiting: yes\n", name="card.yaml")
    # Waiting is charged at the rate of the resource waited for: c1 bob 60 min, c2 bob 150 min,
    # c3 bob 70 min and ann 0 min.
    assert [round(x, 2) for x in case_costs(store, starts, card).total] == [189.17, 315.83, 231.67]


def test_cost_per_activity_and_summary(store, starts):
    summary = cost_summary(store, starts, rate_card_from_bytes(CARD, name="card.yaml"))
    assert summary.cases == 3 and round(summary.total, 2) == 270.00
    assert round(summary.mean, 2) == 90.00 and round(summary.median, 2) == 89.17
    rows = [
        (a.activity, a.executions, round(a.labour, 2), round(a.fixed, 2), round(a.total, 2))
        for a in summary.activities
    ]
    assert rows == [
        ("B", 4, 166.67, 10.00, 176.67),
        ("A", 3, 53.33, 0.00, 53.33),
        ("C", 3, 40.00, 0.00, 40.00),
    ]
    assert summary.processing_measured and not summary.waiting_charged
    assert "processing time (start to completion)" in summary.note and "card.yaml" in summary.note


def test_without_start_timestamps_the_time_since_the_previous_completion_is_charged(store, tmp_path):
    resources = ["ann", "bob", "ann", "ann", "bob", "bob", "ann", "bob", "ann", "bob", "bob", "ann"]
    lid = load_hours(store, tmp_path, [(*e, r) for e, r in zip(TINY, resources, strict=True)])
    card = RateCard(resources=(("ann", 40.0), ("bob", 100.0)))
    # c1: B bob 1 h, C ann 2 h -> 100 + 80; c3: C bob 4 h -> 400.
    total = dict(zip(case_costs(store, lid, card).case_id, case_costs(store, lid, card).total, strict=True))
    assert round(total["c1"], 2) == 180.00 and round(total["c3"], 2) == 400.00
    summary = cost_summary(store, lid, card)
    assert not summary.processing_measured and "upper bound on the work" in summary.note


def test_a_resource_without_a_rate_is_named(store, starts):
    card = RateCard(resources=(("ann", 40.0),), source="card.csv")
    with pytest.raises(
        AnalysisError, match=r"the rate card in card.csv has no hourly rate for resource\(s\) 'bob'"
    ):
        case_costs(store, starts, card)


def test_monitoring_takes_the_card_for_cost_per_case(store, starts):
    from mining.monitor.periods import case_facts
    from mining.monitor.run import MonitorOptions, monitor

    card = rate_card_from_bytes(CARD, name="card.yaml")
    facts = case_facts(store, starts, cost_per_hour=card)
    assert [round(x, 2) for x in facts.cost] == [89.17, 65.83, 115.00]
    assert facts.cost_source.startswith("rate card (card.yaml:")
    run = monitor(store, starts, options=MonitorOptions(period="week", cost_per_hour=card))
    # One week: the mean of the three complete cases' costs.
    assert round(run.series.periods[0].cost_per_case, 2) == round((89.17 + 65.83 + 115.00) / 3, 2)
    # Rework: c3 waits 60 and works 30 minutes on its second B (bob, 100/h), which costs its 2.50 again.
    assert {w.kind: round(w.cost, 2) for w in run.lean.wastes}["rework"] == 152.50
