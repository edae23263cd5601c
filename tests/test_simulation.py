"""What-if simulation: calibration facts, queueing theory, scenarios, determinism and bad scenario files."""

from __future__ import annotations

import heapq
import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mining.errors import ScenarioError, SimulationError
from mining.ingest import IngestOptions, ingest_file
from mining.simulation.calibrate import calibrate, calibrate_frame
from mining.simulation.engine import run_many
from mining.simulation.hours import WEEK, WeekHours
from mining.simulation.model import END, ActivityModel, Observed, Pool, SimModel
from mining.simulation.report import describe_model
from mining.simulation.run import study
from mining.simulation.scenarios import apply, parse_scenarios
from mining.store import Store
from tests.conftest import FILES

CLAIMS = FILES / "simulation" / "claims.csv"


@pytest.fixture(scope="module")
def claims():
    with Store() as s:
        summary = ingest_file(
            s, CLAIMS, IngestOptions(roles={"timestamp": "end", "start_timestamp": "start"})
        )
        yield calibrate(s, summary.log_id, "claims")


def test_calibration_reads_routing_with_rework_times_pools_and_delays(claims):
    m = claims
    assert m.timing == "start_timestamp"
    assert m.start == (("Register", 1.0),)
    assert m.next_of("Register") == {"Check": 1.0}
    # Check: 5 instances, followed by Approve 3x, Check again (rework) once, Reject once
    assert m.next_of("Check") == pytest.approx({"Approve": 0.6, "Check": 0.2, "Reject": 0.2})
    assert m.next_of("Approve") == {END: 1.0}
    assert m.activity("Register").durations == (600.0,) * 4
    assert m.activity("Check").durations == (1800.0,) * 5
    assert sorted(m.activity("Approve").durations) == [1200.0] * 3
    # Cy does Approve and Reject: one pool of one person for both
    assert m.activity("Approve").pool == m.activity("Reject").pool == "Approve team"
    assert m.pool("Approve team").resources == ("Cy",)
    assert m.pool("Check").capacity == 1
    # Bob was never busy while a Check waited: every wait before Check is a delay
    assert sorted(m.activity("Check").delays) == [300.0, 600.0, 1200.0, 1200.0, 1800.0]
    # waiting per case: c1 20 min, c2 10+20+10, c3 10+20, c4 5+5
    assert sorted(m.observed.waits) == [600.0, 1200.0, 1800.0, 3600.0]
    assert m.observed.cases == 4
    assert any("too few cases" in r for r in m.reasons)


def test_arrivals_bunched_in_the_second_half_are_named_as_a_likely_reason():
    # 5 cases in the first hour, then 60 a month later: the bulk of a log often comes late in an export.
    t0 = 1_700_000_000.0
    rows = []
    for i in range(65):
        t = t0 + i * 600.0 if i < 5 else t0 + 30 * 86_400.0 + i * 600.0
        rows.append((i, "Arrive", None, t, t))
        rows.append((i, "Serve", "clerk 1", t, t + 300.0))
    frame = pl.DataFrame(rows, schema=["case_no", "activity", "resource", "st", "en"], orient="row")
    m = calibrate_frame(frame, name="t", timezone="UTC", timing="start_timestamp")
    assert "changing arrivals: 5 cases started in the first half of the period, 60 in the second" in m.reasons


def test_a_pool_is_staffed_as_in_the_weeks_where_its_work_is():
    # Ten weeks of trickle (one clerk, one case a week), then two weeks of bulk: five clerks, 40 cases each.
    t0 = 1_700_000_000.0
    rows = []
    case = 0
    for week in range(12):
        clerks = 1 if week < 10 else 5
        for k in range(1 if week < 10 else 200):
            t = t0 + week * WEEK + k * 600.0
            rows.append((case, "Arrive", None, t, t))
            rows.append((case, "Serve", f"clerk {k % clerks + 1}", t, t + 300.0))
            case += 1
    frame = pl.DataFrame(rows, schema=["case_no", "activity", "resource", "st", "en"], orient="row")
    m = calibrate_frame(frame, name="t", timezone="UTC", timing="start_timestamp")
    # the plain median week (10 of 12 weeks have one clerk) would staff it with 1 for 400 of 410 cases
    assert [(p.name, p.capacity, len(p.resources)) for p in m.pools] == [("Serve", 5, 5)]


def test_a_pool_that_works_at_scattered_hours_is_staffed_in_them():
    # A release desk: one release every Monday at 10:00, and twelve more a week at hours all over it.
    t0 = 1_704_067_200.0  # Monday 2024-01-01 00:00 UTC
    rows = []
    case = 0
    for week in range(20):
        hours = [10] + [((week * 12 + k) * 13) % 168 for k in range(12)]
        for h in hours:
            t = t0 + week * WEEK + h * 3600.0 + 600.0
            rows.append((case, "Admit", None, t - 60.0, t - 60.0))
            rows.append((case, "Release", "desk", t, t + 300.0))
            case += 1
    frame = pl.DataFrame(rows, schema=["case_no", "activity", "resource", "st", "en"], orient="row")
    [pool] = calibrate_frame(frame, name="t", timezone="UTC", timing="start_timestamp").pools
    # Monday 10:00 is its only hour worked in a fifth of the weeks: staffed for it alone (1 hour a week),
    # 240 of its 260 releases would queue for the next Monday
    assert pool.hours[10] and sum(pool.hours) == 161  # the hours of 90% of its releases, each day one stretch


def mmc_frame(lam: float, mu: float, c: int, n: int, seed: int) -> pl.DataFrame:
    """A log of an M/M/c queue: an instant Arrive, then Serve by one of c clerks, first come first served."""
    rng = np.random.default_rng(seed)
    t0 = 1_700_000_000.0
    arrive = t0 + np.cumsum(rng.exponential(1 / lam, n))
    service = rng.exponential(1 / mu, n)
    free = [(t0, k) for k in range(c)]
    rows = []
    for i in range(n):
        at, k = heapq.heappop(free)
        s = max(arrive[i], at)
        heapq.heappush(free, (s + service[i], k))
        rows.append((i, "Arrive", None, arrive[i], arrive[i]))
        rows.append((i, "Serve", f"clerk {k + 1}", s, s + service[i]))
    return pl.DataFrame(rows, schema=["case_no", "activity", "resource", "st", "en"], orient="row")


def erlang_c_wait(lam: float, mu: float, c: int) -> float:
    """Mean time in queue of M/M/c (Erlang C)."""
    a = lam / mu
    top = a**c / math.factorial(c) / (1 - a / c)
    p_wait = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    return p_wait / (c * mu - lam)


@pytest.fixture(scope="module")
def mmc():
    lam, mu, c = 0.014, 0.01, 2  # per second; load 0.7
    model = calibrate_frame(
        mmc_frame(lam, mu, c, 10_000, seed=7), name="mmc", timezone="UTC", timing="start_timestamp"
    )
    # what the log itself says the rates are: the theory the model can know
    serve = model.activity("Serve")
    lam_hat = model.observed.cases / (model.observed.period_days * 86_400)
    mu_hat = 1 / serve.mean_duration
    return model, lam_hat, mu_hat, c


def test_mmc_calibration_finds_the_queue(mmc):
    model, lam_hat, mu_hat, _ = mmc
    assert model.arrival_pattern == "steady"
    assert [(p.name, p.capacity, p.round_the_clock) for p in model.pools] == [("Serve", 2, True)]
    assert model.activity("Arrive").pool is None
    assert max(model.activity("Serve").delays) == 0.0  # all waiting is queueing
    assert lam_hat == pytest.approx(0.014, rel=0.05)
    assert mu_hat == pytest.approx(0.01, rel=0.05)


def test_mmc_baseline_and_one_more_person_match_erlang_c(mmc):
    model, lam_hat, mu_hat, c = mmc
    horizon = 3 * model.observed.period_days * 86_400
    base = run_many(model, horizon, runs=2, seed=3)
    wait = np.mean([r.waits.mean() for r in base])
    assert wait == pytest.approx(erlang_c_wait(lam_hat, mu_hat, c), rel=0.10)
    # the waiting for a person is all the waiting here
    assert np.mean([r.queue_waits.mean() for r in base]) == pytest.approx(wait)
    plus = apply(model, parse_scenarios("- name: one more\n  staff: {Serve: +1}\n", model)[0])
    assert plus.pool("Serve").capacity == 3
    more = run_many(plus, horizon, runs=2, seed=3)
    wait3 = np.mean([r.waits.mean() for r in more])
    assert wait3 == pytest.approx(erlang_c_wait(lam_hat, mu_hat, c + 1), rel=0.10)
    busy = np.mean([r.busy["Serve"] / r.available["Serve"] for r in base])
    assert busy == pytest.approx(lam_hat / mu_hat / c, rel=0.05)


def test_validation_trusts_a_queue_it_reproduces(mmc):
    model = mmc[0]
    w = study(model, runs=3, seed=1)
    v = w.validation
    assert v.trusted
    assert v.arrival_error < 0.05
    assert v.activity_error < 0.01
    assert v.cycle_error < 0.25 and v.wait_error < 0.25
    # The waiting error is relative to the log's waiting, or to a twentieth of its cycle time when less.
    from mining.simulation.validate import WAIT_FLOOR

    assert WAIT_FLOOR == 0.05
    assert v.wait_error == pytest.approx(
        abs(v.wait_mean_sim - v.wait_mean_log) / max(v.wait_mean_log, WAIT_FLOOR * v.cycle_mean_log)
    )
    assert v.verdict.startswith("Trustworthy")
    assert w.baseline.value("cases").mean == pytest.approx(v.cases_sim)


def test_same_seed_same_numbers_and_other_seed_other_numbers(claims):
    sc = parse_scenarios("- name: faster check\n  duration: {Check: 0.5}\n", claims)
    a = study(claims, sc, runs=3, seed=11, horizon_days=30)
    b = study(claims, sc, runs=3, seed=11, horizon_days=30)
    c = study(claims, sc, runs=3, seed=12, horizon_days=30)
    assert a.baseline == b.baseline and a.scenarios == b.scenarios
    assert a.baseline.values != c.baseline.values
    delta = dict(a.scenarios[0][1].delta)["cycle_mean_seconds"]
    assert delta.mean < 0  # half the checking time: shorter cases


def test_untrusted_model_says_why(claims):
    # four cases on four days: the replay brings cases the log spread differently
    w = study(claims, runs=2, seed=0)
    assert w.validation.cases_log == 4
    assert not w.validation.trusted
    assert w.validation.verdict.startswith("Not trustworthy")
    assert "too few cases (4; at least 200 are needed)" in w.validation.verdict


def test_scenarios_change_the_model(claims):
    text = """
- name: All changes
  staff: {Check: +2}
  duration: {Approve: 0.5}
  automate: [Register]
  remove: [Reject]
  arrivals: 1.5
  routing:
    Check: {Approve: 0.7, Check: 0.1, Reject: 0.2}
"""
    (sc,) = parse_scenarios(text, claims)
    m = apply(claims, sc)
    assert m.pool("Check").capacity == 3
    assert m.activity("Approve").durations == (600.0,) * 3
    assert m.activity("Register").pool is None and m.activity("Register").durations == (0.0,)
    assert [a.name for a in m.activities] == ["Approve", "Check", "Register"]
    # Reject removed: its 0.2 goes where Reject led (the end)
    assert m.next_of("Check") == pytest.approx({"Approve": 0.7, "Check": 0.1, END: 0.2})
    assert sum(m.arrivals) == pytest.approx(1.5 * sum(claims.arrivals))
    assert "+2 at Check" in sc.describe()


def test_removing_a_step_in_a_loop_keeps_the_probabilities():
    frame = pl.DataFrame(
        {
            "case_no": [1, 1, 1, 2, 2],
            "activity": ["A", "B", "C", "A", "C"],
            "resource": [None] * 5,
            "st": [0.0, 10.0, 20.0, 100.0, 110.0],
            "en": [5.0, 15.0, 25.0, 105.0, 115.0],
        }
    )
    m = calibrate_frame(frame, name="t", timezone="UTC", timing="start_timestamp")
    (sc,) = parse_scenarios("- name: no B\n  remove: [B]\n", m)
    assert apply(m, sc).next_of("A") == pytest.approx({"C": 1.0})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- name: x\n  staff: {Chekc: +1}\n", "line 2: unknown activity 'Chekc'; did you mean 'Check'?"),
        (
            "- name: x\n  staff:\n    Check: -1\n",
            "line 3: staff -1 at 'Check' would leave its pool 'Check' with 0 people",
        ),
        (
            "- name: x\n  routing:\n    Check: {Approve: 0.5, Reject: 0.2}\n",
            "line 3: the probabilities after 'Check' add up to 0.7, not 1",
        ),
        (
            "- name: x\n  duration: {Check: -2}\n",
            "line 2: the duration factor of 'Check' must be a positive number",
        ),
        ("- name: x\n  arrivals: lots\n", "line 2: arrivals must be a positive number"),
        ("- name: x\n  automate: [Approve, Nope]\n", "line 2: unknown activity 'Nope'"),
        ("- name: x\n  staf: {Check: 1}\n", "line 2: unknown key 'staf'; did you mean 'staff'?"),
        ("- name: x\n- name: x\n", "line 2: the name 'x' is used twice"),
        ("- staff: {Check: 1}\n", "scenario 1 needs a name"),
        ("- name: x\n  staff: {Check: 1.5}\n", "line 2: staff for 'Check' must be a whole number of people"),
        ("- name: x\n  routing: {Check: {Approve: 1.2, Reject: -0.2}}\n", "must be between 0 and 1"),
        ("name: x\n", "expected a list of scenarios"),
        ("- name: &a x\n", "line 1: YAML anchors and aliases"),
        ("- name: !!python/object x\n", "line 1: the YAML tag"),
        (
            "- name: x\n  staff: {Check: 1, Check: 2}\n",
            "line 2: not valid YAML (the key 'Check' appears twice)",
        ),
    ],
)
def test_bad_scenario_files_name_the_line(claims, text, expected):
    with pytest.raises(ScenarioError) as err:
        parse_scenarios(text, claims, source="whatif.yaml")
    assert str(err.value).startswith("whatif.yaml")
    assert expected in str(err.value)


def test_a_scenario_routing_to_end_is_allowed(claims):
    (sc,) = parse_scenarios("- name: x\n  routing: {Check: {Approve: 0.9, end: 0.1}}\n", claims)
    assert apply(claims, sc).next_of("Check") == {"Approve": 0.9, END: 0.1}


def test_run_limits_are_errors(claims):
    with pytest.raises(SimulationError, match="runs must be between 1 and 200"):
        study(claims, runs=0)
    with pytest.raises(SimulationError, match="horizon must be a positive number of days"):
        study(claims, runs=1, horizon_days=-1)
    fast = apply(claims, parse_scenarios("- name: flood\n  arrivals: 100000000\n", claims)[0])
    with pytest.raises(SimulationError, match="would bring about") as err:
        study(fast, runs=1)
    assert err.value.hint is not None and "shorten --horizon or lower the arrivals" in str(err.value.hint)


def test_cancel_keeps_finished_runs(claims):
    calls = []

    def cancel() -> bool:
        return len(calls) >= 2

    w = study(claims, runs=5, seed=0, progress=lambda share, msg: calls.append(msg), cancel=cancel)
    assert w.cancelled
    assert w.baseline.runs == 2
    assert w.validation.runs == 2
    assert calls == ["Baseline: run 1 of 5", "Baseline: run 2 of 5"]
    calls.clear()
    with pytest.raises(SimulationError, match="cancelled before its first run"):
        study(claims, runs=5, horizon_days=20, progress=lambda share, msg: calls.append(msg), cancel=cancel)
    assert calls == ["Replaying the log's period: run 1 of 5", "Replaying the log's period: run 2 of 5"]


def test_week_hours_count_and_advance_working_time():
    office = [d < 5 and 9 <= h < 17 for d in range(7) for h in range(24)]
    w = WeekHours(office)
    mon9 = 9 * 3600.0
    assert w.work(np.array([mon9, mon9 + 3600]))[1] - w.work(np.array([mon9]))[0] == 3600
    # 2 working hours from Monday 16:00 end Tuesday 10:00
    assert w.advance(16 * 3600.0, 7200) == 24 * 3600.0 + 10 * 3600
    # a working week from Friday 16:00 ends the next Friday 16:00
    fri16 = 4 * 86_400 + 16 * 3600.0
    assert w.advance(fri16, 40 * 3600) == pytest.approx(fri16 + WEEK)
    assert WeekHours(None).advance(5.0, 10.0) == 15.0


def test_cost_per_case_prices_work_at_the_pool_rate_plus_fixed_costs(claims, tmp_path):
    from mining.errors import RateCardError
    from mining.rates import load_rate_card
    from mining.simulation.costs import pricing
    from mining.simulation.results import summarize

    price = pricing(claims, load_rate_card(FILES / "simulation" / "card.yaml"))
    assert dict(price.hourly) == {"Register": 40.0, "Check": 100.0, "Approve": 25.0, "Reject": 25.0}
    runs = run_many(claims, 30 * 86_400, runs=2, seed=4)
    for r in runs:
        n = r.activity_counts
        by_hand = (
            n["Register"] * 600 / 3600 * 40
            + n["Check"] * 1800 / 3600 * 100
            + n["Approve"] * (1200 / 3600 * 25 + 2.0)
            + n["Reject"] * 300 / 3600 * 25
        ) / r.cases
        assert price.case_cost(r) == pytest.approx(by_hand)
    out = summarize("Baseline", runs, cost=price)
    assert out.value("cost_per_case").mean == pytest.approx(sum(price.case_cost(r) for r in runs) / 2)
    # automating Check leaves no checking hours to pay
    (sc,) = parse_scenarios("- name: robot\n  automate: [Check]\n", claims)
    robot = run_many(apply(claims, sc), 30 * 86_400, runs=2, seed=4)
    assert all(r.activity_work["Check"] == 0 for r in robot)
    assert dict(summarize("robot", robot, baseline=runs, cost=price).delta)["cost_per_case"].mean < 0
    no_default = tmp_path / "card.yaml"
    no_default.write_text("resources:\n  Ann: 40\n  Bob: 100\n", encoding="utf-8")
    with pytest.raises(RateCardError, match="no hourly rate for 'Cy'"):
        pricing(claims, load_rate_card(no_default))


@settings(max_examples=60, deadline=None)
@given(
    hours=st.lists(st.booleans(), min_size=168, max_size=168).filter(any),
    t=st.floats(min_value=0, max_value=4 * WEEK),
    d=st.floats(min_value=0, max_value=3 * WEEK),
)
def test_advance_is_the_inverse_of_working_time(hours, t, d):
    w = WeekHours(hours)
    end = w.advance(t, d)
    assert end >= t
    assert w.work(np.array([end]))[0] - w.work(np.array([t]))[0] == pytest.approx(d, abs=1e-6)


def test_utilisation_counts_only_the_pools_working_hours():
    # A one-person desk open Monday to Friday 09-17 whose steps take 12 hours: each step started in the
    # day runs on through the night. Work never stops while cases queue, so the desk is fully used.
    office = tuple(d < 5 and 9 <= h < 17 for d in range(7) for h in range(24))
    model = SimModel(
        log="desk",
        timezone="UTC",
        period_start=1_704_067_200.0,  # Monday 2024-01-01 00:00 UTC
        arrivals=(1.0,) * 168,
        arrival_pattern="round the clock",
        start=(("Review", 1.0),),
        routing=(("Review", ((END, 1.0),)),),
        activities=(ActivityModel("Review", "Desk", (12 * 3600.0,), 1),),
        pools=(Pool("Desk", ("Review",), ("clerk",), 1, office),),
        timing="start_timestamp",
        observed=Observed(1, 1.0, (0.0,), (0.0,), (("Review", 1),)),
    )
    [run] = run_many(model, 4 * WEEK, runs=1, seed=0)
    assert run.available["Desk"] == 160 * 3600.0
    # Each day one step runs 09:00-21:00 and the next waits for 09:00: 12 hours worked against 8 open,
    # which counted in wall-clock seconds read as a utilisation of 150%. Only working hours count.
    assert run.busy["Desk"] / run.available["Desk"] == pytest.approx(1.0, abs=0.02)


def test_activities_without_a_processing_time_are_named_in_one_note():
    """BPIC 2012's 16 A_ and O_ events have no start: the report said so in 16 lines."""
    names = ["Open", "Triage", "Notify", "Escalate", "Archive", "Label", "Tag", "Close"]
    rows = []
    for case in range(40):
        begin = 1_700_000_000.0 + case * 3600
        for k, activity in enumerate(names):
            at = begin + k * 300
            start = at if activity == "Triage" else None  # only Triage has a start
            rows.append((case, activity, "ann", start, at + 60.0))
    frame = pl.DataFrame(rows, schema=["case_no", "activity", "resource", "st", "en"], orient="row")
    model = calibrate_frame(frame, name="notes", timezone="UTC", timing="start_timestamp")
    assert [n for n in model.notes if "no processing time" in n] == [
        "7 activities have no processing time in the log (Archive, Close, Escalate, Label, Notify, Open and "
        "1 more); taken as instantaneous"
    ]
    assert model.activity("Tag").durations == (0.0,)
    # Nobody is named in this log beyond 'ann', so the report lists what needs nobody, six and a count.
    unstaffed = calibrate_frame(
        frame.with_columns(pl.lit(None, dtype=pl.String).alias("resource")),
        name="notes",
        timezone="UTC",
        timing="start_timestamp",
    )
    assert [line for line in describe_model(unstaffed) if line.startswith("Needs nobody")] == [
        "Needs nobody: Archive, Close, Escalate, Label, Notify, Open and 2 more."
    ]


def _march_and(tmp_path, extra: list[str]):
    """The model of 300 two-hour cases spread over March 2024, with the ``extra`` rows of the CSV."""
    lines = ["case,activity,timestamp,resource"]
    for case in range(300):
        day = 1 + case % 28
        lines += [f"c{case},Open,2024-03-{day:02d} 09:00,ann", f"c{case},Close,2024-03-{day:02d} 11:00,bob"]
    path = tmp_path / "march.csv"
    path.write_text("\n".join([*lines, *extra]) + "\n")
    with Store() as s:
        log = ingest_file(s, path, IngestOptions(name="march")).log_id
        return calibrate(s, log, "march")


def test_a_case_dated_far_outside_the_log_is_left_out_of_the_calibration(tmp_path):
    """BPIC 2019 has events of 1948: with them its simulated period ran 25,916 days."""
    # 300 cases: enough that the 0.5 % quantile of the case ends is a real one.
    model = _march_and(tmp_path, ["old,Open,1948-01-26 09:00,ann", "old,Close,2024-03-02 10:00,bob"])
    assert model.observed.cases == 300
    assert model.observed.period_days == pytest.approx(27.0)
    assert model.notes[0] == (
        "1 event dated outside the log's main range (2024-03-01 to 2024-03-28) is left out: 1948-01-26 "
        "(placeholder dates or typing errors), with the 1 case it belongs to"
    )


def test_arrivals_are_calibrated_on_the_main_period_not_a_thin_tail_of_old_cases(tmp_path):
    """BPIC 2019 holds 11,893 cases of 2018 and 80 of earlier and later years: over the whole span its
    arrival rate was 8.5 cases a day, against about 33 in 2018."""
    # Ten old cases, one every few months of 2021-2023: a thin tail, not placeholder dates.
    old = []
    for k in range(10):
        month, year = 1 + (k * 3) % 12, 2021 + k // 4
        old += [
            f"old{k},Open,{year}-{month:02d}-10 09:00,ann",
            f"old{k},Close,{year}-{month:02d}-10 11:00,bob",
        ]
    model = _march_and(tmp_path, old)
    # 95% of the 310 starts lie within March 2024, and so do the 300 that come as densely.
    assert model.observed.cases == 300
    assert model.observed.period_days == pytest.approx(27.0)
    # Every case starts at 09:00: the rate sits in those hours, about 11 a day on average (not 0.26).
    assert np.mean(model.arrivals) * 24 == pytest.approx(300 / 27.0, rel=0.15)
    [note] = [n for n in model.notes if n.startswith("calibrated on the log's main period")]
    assert note == (
        "calibrated on the log's main period, 2024-03-01 to 2024-03-28, where 97% of its cases start: the 10 "
        "cases starting before or after it, in the log's 1,173 days from 2021-01-10 to 2024-03-28, are left "
        "out, or they would thin its arrival rate"
    )


@pytest.mark.slow
def test_servicenows_incidents_arrive_at_the_rate_of_their_three_months(shared_logs):
    """99% of the ServiceNow incidents start in March to May 2016, the rest trickle in until February 2017:
    over the whole span they arrived at 70 a day."""
    roles = {"case": "number", "activity": "ident_state", "timestamp": "sys_updated_at"}
    with Store() as s:
        log = ingest_file(
            s,
            shared_logs / "servicenow_incident_event_log_uci_ids_stripped.csv.gz",
            IngestOptions(roles=roles),
        ).log_id
        model = calibrate(s, log, "servicenow")
    [note] = [n for n in model.notes if n.startswith("calibrated on the log's main period")]
    assert note.startswith(
        "calibrated on the log's main period, 2016-02-29 to 2016-06-01, where 99% of its cases"
    )
    assert model.observed.cases == 24_644
    assert model.observed.cases / model.observed.period_days == pytest.approx(265, rel=0.05)


def test_a_log_of_dates_works_and_arrives_over_whole_days():
    """Road Traffic Fines is dated to the day: its pools worked '00-01' every day, 7 hours a week,
    and every case arrived in the hour after midnight."""
    rng = np.random.default_rng(3)
    rows = []
    midnight = 1_704_067_200.0  # Monday 2024-01-01 00:00 UTC
    for case in range(400):
        day = int(rng.integers(0, 120))
        if day % 7 == 6:  # nothing on Sundays
            day -= 1
        sent = day + int(rng.integers(1, 4))
        sent += sent % 7 == 6
        rows.append((case, "Create", "clerk", None, midnight + day * 86_400))
        rows.append((case, "Send", "clerk", None, midnight + sent * 86_400))
    frame = pl.DataFrame(rows, schema=["case_no", "activity", "resource", "st", "en"], orient="row")
    frame = frame.sort(["case_no", "en"])
    model = calibrate_frame(frame, name="dates", timezone="UTC", timing="none")
    assert (
        "the log's times are dates without a time of day: cases arrive, and people work, over whole days"
        in (model.notes)
    )
    [pool] = model.pools
    # Every day with work is worked whole; Sunday, when nothing is dated, is not.
    assert [sum(pool.hours[d * 24 : d * 24 + 24]) for d in range(7)] == [24, 24, 24, 24, 24, 24, 0]
    assert model.arrival_pattern == "weekday"
    # Within a day every hour is as likely as midnight.
    monday = model.arrivals[:24]
    assert max(monday) == pytest.approx(min(monday)) and monday[0] > 0
