"""The Lean view: exact step times, PCE and waste on hand-made logs, money, filter, calendar, a real log."""

from __future__ import annotations

import csv
import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mining.analysis.calendar import Calendar
from mining.analysis.durations import all_case_durations
from mining.analysis.filters import Filter
from mining.analysis.performance import activity_times
from mining.analysis.variants import variants
from mining.errors import AnalysisError
from mining.ingest import IngestOptions, ingest_file
from mining.monitor.lean import lean_view, pce_words, waste_words
from mining.store import Store
from tests.conftest import FILES
from tests.tinylog import TINY, load_file, load_hours, load_text

# TINY (no start timestamps) with resources; in hours after midnight:
# c1: A ann 0, B bob 1, C ann 3        waits B 1 (hand-off), C 2 (hand-off)
# c2: A ann 0, B bob 2, C bob 2.5      waits B 2 (hand-off), C 0.5 (same resource: waiting)
# c3: A ann 0, C bob 4                 wait  C 4 (hand-off)
# c4: A ann 0, B bob 1/6, B bob 2/3, C ann 5/3
#                                      waits B 1/6 (hand-off), B again 1/2 (rework), C 1 (hand-off)
RESOURCES = ["ann", "bob", "ann", "ann", "bob", "bob", "ann", "bob", "ann", "bob", "bob", "ann"]
HANDOFF_HOURS = 1 + 2 + 2 + 4 + 1 / 6 + 1

# With start timestamps (Monday 2024-01-08), minutes:
# c1: A 09:00-09:30 ann, B 10:00-10:30 bob, C 11:00-11:10 bob           lead 130
# c2: A 09:00-09:20 ann, B 09:50-10:10 bob, C 12:10-12:20 bob           lead 200
# c3: A 09:00-09:30 ann, B 09:40-10:00 bob, B 11:00-11:30 bob, C 11:30-11:40 ann   lead 160
STARTS = FILES / "lean" / "starts.csv"
MIN = 60


@pytest.fixture
def tiny(store, tmp_path):
    return load_hours(store, tmp_path, [(*e, r) for e, r in zip(TINY, RESOURCES, strict=True)])


@pytest.fixture
def starts(store):
    return load_file(store, STARTS)


def hours(view):
    return {w.kind: w.hours for w in view.wastes}


def test_without_start_timestamps_processing_is_unknown_not_zero(store, tiny):
    view = lean_view(store, tiny)
    assert view.cases == 4
    assert (view.main_variant, view.main_variant_cases, view.main_variant_share) == (("A", "B", "C"), 2, 0.5)
    assert not view.processing_measured and view.pce is None
    assert [(s.position, s.activity, s.cases) for s in view.steps] == [(1, "A", 2), (2, "B", 2), (3, "C", 2)]
    assert all(s.processing_median is None for s in view.steps)
    # c1 and c2: B waits 1 h and 2 h, C 2 h and 0.5 h; their lead times are 3 h and 2.5 h.
    assert [s.waiting_median for s in view.steps] == [None, 1.5 * 3600, 1.25 * 3600]
    assert view.lead_time_median == 2.75 * 3600
    assert "no start timestamps" in view.note
    # The note is read on the page and in the report: no Python word in it.
    assert "processing times are unknown (left empty)" in view.note and "None" not in view.note


def test_waste_hours_without_start_timestamps(store, tiny):
    view = lean_view(store, tiny)
    assert hours(view) == pytest.approx({"hand-offs": HANDOFF_HOURS, "waiting": 0.5, "rework": 0.5})
    assert [w.kind for w in view.wastes] == ["hand-offs", "waiting", "rework"]  # a Pareto
    handoffs = view.waste("hand-offs")
    assert (handoffs.cases, handoffs.top_cases) == (4, ("c3", "c1", "c2", "c4"))
    assert view.waste("rework").top_cases == ("c4",)
    assert all(w.cost is None for w in view.wastes) and not view.costed
    # No starts and no overlap: the three kinds tile every case's span exactly.
    assert view.total_hours == pytest.approx(3 + 2.5 + 4 + 5 / 3)
    assert sum(hours(view).values()) == pytest.approx(view.total_hours)
    assert "upper bound on waiting" in view.waste("waiting").explanation
    assert "lower bound on the cost of loops" in view.waste("rework").explanation
    with pytest.raises(AnalysisError, match="no waste 'deviations'; kinds: hand-offs, waiting, rework"):
        view.waste("deviations")
    # A person reads them in words: in all, and per case that carries them (hand-offs: 10 h 10 m over 4).
    assert waste_words(handoffs) == ("10.2 hours", "2h 32m")
    assert waste_words(view.waste("rework")) == ("30.0 minutes", "30m 00s")
    assert pce_words(view) == "unknown (no start timestamps, so no processing time)"


def test_steps_pce_and_waste_with_start_timestamps(store, starts):
    view = lean_view(store, starts)
    assert view.processing_measured
    assert (view.main_variant, view.main_variant_cases) == (("A", "B", "C"), 2)
    # c1 and c2.  A: 30 and 20 min of work.  B: waits 30 and 30, works 30 and 20.  C: waits 30 and 120, works 10.
    assert [(s.waiting_median, s.processing_median) for s in view.steps] == [
        (None, 25 * MIN),
        (30 * MIN, 25 * MIN),
        (75 * MIN, 10 * MIN),
    ]
    # Processing 70 + 50 minutes over lead times 130 + 200.
    assert view.pce == pytest.approx(120 / 330)
    assert view.lead_time_median == 165 * MIN
    # Waiting: C after B by the same resource in c1 (30) and c2 (120).  Hand-offs: ann to bob in
    # c1 (30), c2 (30), c3 (10) and bob to ann in c3 (0).  Rework: c3's second B, waits 60 and works 30.
    assert hours(view) == pytest.approx({"waiting": 2.5, "hand-offs": 70 / 60, "rework": 1.5})
    assert view.waste("hand-offs").cases == 3
    assert view.waste("rework").top_cases == ("c3",)
    assert view.total_hours == pytest.approx((130 + 200 + 160) / 60)
    assert "waiting before it plus its processing time" in view.waste("rework").explanation


def test_a_flat_rate_prices_every_hour(store, tiny):
    view = lean_view(store, tiny, cost_per_hour=60)
    assert view.costed
    costs = {w.kind: w.cost for w in view.wastes}
    assert costs == pytest.approx({"hand-offs": 60 * HANDOFF_HOURS, "waiting": 30.0, "rework": 30.0})
    assert "hours x rate" in view.note


def test_rates_per_resource_charge_the_resource_whose_activity_waited(store, tiny):
    view = lean_view(store, tiny, cost_per_hour={"ann": 40, "bob": 100})
    costs = {w.kind: w.cost for w in view.wastes}
    # Hand-offs: bob waits 1 + 2 + 4 + 1/6 h, ann waits 2 + 1 h.  Waiting and rework are bob's half hours.
    assert costs == pytest.approx({"hand-offs": 100 * (7 + 1 / 6) + 40 * 3, "waiting": 50.0, "rework": 50.0})
    # A default rate under "*" prices everyone not listed.
    assert lean_view(store, tiny, cost_per_hour={"ann": 40, "*": 100}).wastes == view.wastes


def test_missing_or_bad_rates_are_refused(store, tiny):
    with pytest.raises(
        AnalysisError, match=r"no hourly rate for resource\(s\) 'bob'; rates were given for 'ann'"
    ):
        lean_view(store, tiny, cost_per_hour={"ann": 40})
    with pytest.raises(
        AnalysisError, match="cost_per_hour must be a number of money per hour, 0 or more; got -5"
    ):
        lean_view(store, tiny, cost_per_hour=-5)
    with pytest.raises(AnalysisError, match="the rate of 'bob' must be a number of money per hour"):
        lean_view(store, tiny, cost_per_hour={"ann": 40, "bob": "lots"})


def test_deviations_are_the_extra_lead_time_over_the_median_of_the_others(store, tiny):
    # c3 lasts 4 h; the others 3, 2.5 and 5/3 h: median 2.5 h.
    view = lean_view(store, tiny, deviating_cases=["c3"])
    dev = view.waste("deviations")
    assert dev.hours == pytest.approx(1.5)
    assert (dev.cases, dev.top_cases) == (1, ("c3",))
    assert "1 deviating case beyond the median lead time of the 3 other cases (2.5 hours)" in dev.explanation
    assert "deviations overlap them" in view.note
    # Two deviating cases: the others last 2.5 and 5/3 h, median 25/12 h.
    two = lean_view(store, tiny, deviating_cases={"c1", "c3"}).waste("deviations")
    assert two.hours == pytest.approx((3 - 25 / 12) + (4 - 25 / 12))
    assert two.top_cases == ("c3", "c1")
    # A deviating case faster than the median adds nothing.
    assert lean_view(store, tiny, deviating_cases=["c4"]).waste("deviations").hours == 0.0


def test_deviations_in_money_use_the_case_rate(store, tiny):
    # c3's time is all bob's (A is instantaneous), so its 1.5 extra hours cost 1.5 x 100.
    view = lean_view(store, tiny, cost_per_hour={"ann": 40, "bob": 100}, deviating_cases=["c3"])
    assert view.waste("deviations").cost == pytest.approx(150.0)
    assert lean_view(store, tiny, cost_per_hour=60, deviating_cases=["c3"]).waste("deviations").cost == (
        pytest.approx(90.0)
    )


def test_deviations_need_known_cases_and_someone_to_compare_with(store, tiny):
    with pytest.raises(AnalysisError, match=r"2 deviating cases are not in log 'tiny': 'c8', 'c9'"):
        lean_view(store, tiny, deviating_cases=["c1", "c9", "c8"])
    alone = lean_view(store, tiny, Filter(variant_ids=(1,)), deviating_cases=["c1", "c2"])
    dev = alone.waste("deviations")
    assert (dev.hours, dev.cost) == (None, None)
    assert dev.explanation.startswith("Not computable: all 2 kept cases are deviating")
    assert alone.wastes[-1] is dev  # unknown hours sort last


def test_the_filter_is_respected(store, tiny):
    # Without B every case is A, C; the wait before C is the whole case.
    view = lean_view(store, tiny, Filter(activities_remove=("B",)))
    assert (view.main_variant, view.main_variant_cases, view.cases) == (("A", "C"), 4, 4)
    assert view.steps[1].waiting_median == pytest.approx((2.5 + 3) / 2 * 3600)
    # C by ann waits in c1 (3 h) and c4 (5/3 h); by bob, after ann, in c2 (2.5 h) and c3 (4 h).
    assert hours(view) == pytest.approx({"waiting": 3 + 5 / 3, "hand-offs": 6.5, "rework": 0.0})
    # A case filter: the cases of at least 3 hours are c1 (A B C) and c3 (A C); ties go to the first sequence.
    long = lean_view(store, tiny, Filter(min_duration_s=3 * 3600))
    assert (long.cases, long.main_variant, long.main_variant_cases) == (2, ("A", "B", "C"), 1)
    assert long.total_hours == pytest.approx(7.0)
    assert hours(long) == pytest.approx({"hand-offs": 1 + 2 + 4, "waiting": 0.0, "rework": 0.0})
    empty = lean_view(store, tiny, Filter(min_duration_s=10 * 3600))
    assert (empty.cases, empty.main_variant, empty.steps, empty.total_hours) == (0, (), (), 0.0)


def test_a_business_calendar_counts_working_time_only(store, tmp_path):
    # Friday 16:30-17:30 by ann, then Monday 09:30-10:00 by bob (UTC, office hours 9-17).
    log = load_text(
        store,
        tmp_path,
        (
            "case_id,activity,start_timestamp,timestamp,resource\n"
            "c1,A,2024-01-12T16:30:00Z,2024-01-12T17:30:00Z,ann\n"
            "c1,B,2024-01-15T09:30:00Z,2024-01-15T10:00:00Z,bob\n"
        ),
    )
    plain = lean_view(store, log)
    assert hours(plain)["hand-offs"] == pytest.approx(64.0)
    office = lean_view(store, log, calendar=Calendar(timezone="UTC"), cost_per_hour=100)
    assert office.business_time and "business time (Mon-Fri 09:00-17:00" in office.note
    assert hours(office)["hand-offs"] == pytest.approx(0.5)
    assert office.waste("hand-offs").cost == pytest.approx(50.0)
    assert [s.processing_median for s in office.steps] == [30 * MIN, 30 * MIN]
    # Lead time: Friday 16:30-17:00 and Monday 09:00-10:00 are working time.
    assert office.lead_time_median == 90 * MIN
    assert office.pce == pytest.approx(60 / 90)
    # Business time stays in business hours: a "day" of them would be read as a working day.
    assert waste_words(office.waste("hand-offs"), business_time=True) == (
        "0.5 business hours",
        "30m 00s (business)",
    )
    assert waste_words(plain.waste("hand-offs")) == ("2.7 days", "2d 16h")
    assert pce_words(office) == "66.7%"


@pytest.mark.slow
def test_helpdesk_waste_tiles_the_case_durations(store, shared_logs):
    log = ingest_file(store, shared_logs / "helpdesk.xes.gz").log_id
    view = lean_view(store, log)
    top = variants(store, log, top=1).variants[0]
    assert (view.cases, view.main_variant, view.main_variant_cases) == (4580, top.activities, top.cases)
    assert len(view.steps) == len(top.activities)
    assert [s.activity for s in view.steps] == list(top.activities)
    assert all(s.cases == top.cases for s in view.steps)
    # Complete events only: waiting, hand-offs and rework share out each case's duration.
    durations = sum(all_case_durations(store, log)) / 3600
    assert view.total_hours == pytest.approx(durations)
    assert sum(hours(view).values()) == pytest.approx(durations)
    assert not view.processing_measured and view.pce is None


@pytest.mark.slow
def test_lifecycle_start_complete_pairs_are_one_step(store, shared_logs):
    log = ingest_file(store, shared_logs / "bpic2012_W_start_complete_simod.xes.gz").log_id
    view = lean_view(store, log)
    top = variants(store, log, top=1).variants[0]
    assert (view.cases, top.activities, view.main_variant_cases) == (
        8616,
        ("W_Afhandelen leads", "W_Afhandelen leads"),
        top.cases,
    )
    (step,) = view.steps
    assert (step.activity, step.cases, step.waiting_median) == ("W_Afhandelen leads", top.cases, None)
    assert step.processing_median > 0
    # One instance per case: its lead time is its processing time.
    assert view.pce == pytest.approx(1.0)
    # The three kinds hold all waiting, plus the processing of repeated instances only.
    times = activity_times(store, log)
    total = sum(hours(view).values()) * 3600
    assert times.waiting_total < total < times.waiting_total + times.processing_total


# -- invariant ------------------------------------------------------------------

T0 = dt.datetime(2024, 3, 4, tzinfo=dt.UTC)
ROLES = {
    "case": "case_id",
    "activity": "activity",
    "timestamp": "timestamp",
    "resource": "resource",
    "start_timestamp": None,
    "lifecycle": None,
    "cost": None,
}
generated = st.lists(
    st.tuples(
        st.sampled_from(["c1", "c2", "c3", "c4"]),
        st.sampled_from("ABC"),
        st.integers(0, 30),
        st.sampled_from(["ann", "bob"]),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(generated, st.floats(0.5, 200))
def test_waste_shares_out_the_lead_time_and_a_flat_rate_scales_it(tmp_path, events, rate):
    path = tmp_path / "gen.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["case_id", "activity", "timestamp", "resource"])
        for case, act, hour, res in events:
            w.writerow([case, act, (T0 + dt.timedelta(hours=hour)).isoformat(), res])
    with Store() as store:
        log = ingest_file(store, path, IngestOptions(name="gen", roles=ROLES)).log_id
        view = lean_view(store, log, cost_per_hour=rate)
        assert sum(hours(view).values()) == pytest.approx(view.total_hours, abs=1e-9)
        for w in view.wastes:
            assert w.cost == pytest.approx(w.hours * rate)
            assert w.hours >= 0 and len(w.top_cases) == min(w.cases, 10)
        assert view.main_variant_cases == variants(store, log, top=1).variants[0].cases
