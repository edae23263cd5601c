"""KPIs per period: exact values on a hand-made log, completeness, and invariants."""

from __future__ import annotations

import csv
import datetime as dt

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mining.analysis.calendar import Calendar
from mining.analysis.filters import Filter
from mining.durations import parse_duration
from mining.errors import MonitorError
from mining.ingest import IngestOptions, ingest_file
from mining.monitor.periods import (
    CaseMeasure,
    case_facts,
    kaplan_meier_quantile,
    kpis_per_period,
    summarize,
)
from mining.store import Store

ROLES = {
    "case": "case_id",
    "activity": "activity",
    "timestamp": "timestamp",
    "start_timestamp": "start",
    "resource": "resource",
    "cost": "cost",
    "lifecycle": None,
}
W1, W2, W3 = dt.date(2024, 1, 1), dt.date(2024, 1, 8), dt.date(2024, 1, 15)  # Mondays
H = 3600

# (case, activity, start, end, cost); times are "MM-DD HH:MM" in January 2024, UTC.
#   c1 A B Z      week 1, complete, 25 h, processing 3 h
#   c2 A B B Z    week 1, complete, 48.5 h, rework, processing 3 h
#   c3 A Z        week 2, complete, 49 h, processing 2 h
#   c4 A B        week 2, ends without Z long before the data end: stalled
#   c5 A B        week 3, ends without Z near the data end: open
#   c6 A Z        week 3, complete, 3 h, processing 2 h
EVENTS = [
    ("c1", "A", "01-01 09:00", "01-01 10:00", 10),
    ("c1", "B", "01-01 11:00", "01-01 12:00", 10),
    ("c1", "Z", "01-02 09:00", "01-02 10:00", 10),
    ("c2", "A", "01-02 09:00", "01-02 09:30", 5),
    ("c2", "B", "01-02 10:00", "01-02 11:00", 10),
    ("c2", "B", "01-03 10:00", "01-03 11:00", 10),
    ("c2", "Z", "01-04 09:00", "01-04 09:30", 5),
    ("c3", "A", "01-08 09:00", "01-08 10:00", 10),
    ("c3", "Z", "01-10 09:00", "01-10 10:00", 10),
    ("c4", "A", "01-09 09:00", "01-09 10:00", 10),
    ("c4", "B", "01-09 10:00", "01-09 11:00", 10),
    ("c5", "A", "01-15 09:00", "01-15 10:00", 10),
    ("c5", "B", "01-15 12:00", "01-15 13:00", 10),
    ("c6", "A", "01-16 09:00", "01-16 10:00", 10),
    ("c6", "Z", "01-16 11:00", "01-16 12:00", 10),
]


def _stamp(text: str) -> str:
    return f"2024-{text.replace(' ', 'T')}:00+00:00"


def load_tiny(store: Store, tmp_path, events=EVENTS, name: str = "tiny") -> int:
    path = tmp_path / f"{name}.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["case_id", "activity", "start", "timestamp", "resource", "cost"])
        for case, act, start, end, cost in events:
            w.writerow([case, act, _stamp(start), _stamp(end), "ann", cost])
    return ingest_file(store, path, IngestOptions(name=name, roles=ROLES)).log_id


@pytest.fixture
def tiny(store, tmp_path):
    return store, load_tiny(store, tmp_path)


def test_every_kpi_of_a_hand_made_log(tiny):
    store, log = tiny
    s = kpis_per_period(store, log, period="week", sla_seconds=36 * H, end_activities=("Z",))
    c = s.completeness
    # Gaps between consecutive events: 1, 1.5, 2, 2, 3, 22, 22.5, 24, 48 h; the 99th percentile
    # interpolates 92 % of the way from 24 h to 48 h.
    assert c.quiet_seconds == pytest.approx(46.08 * H)
    assert c.as_of == dt.datetime(2024, 1, 16, 12, tzinfo=dt.UTC)
    assert (c.complete, c.open, c.stalled, c.settled_cases) == (4, 1, 1, 4)
    assert [p.start for p in s.periods] == [W1, W2, W3]
    assert [p.end for p in s.periods] == [W2, W3, dt.date(2024, 1, 22)]
    assert [p.partial for p in s.periods] == [True, False, True]  # data start Monday 09:00, end Tuesday noon
    assert [p.started for p in s.periods] == [2, 2, 2]
    assert [p.completed for p in s.periods] == [2, 1, 1]
    assert [p.open for p in s.periods] == [0, 0, 1]
    assert [p.stalled for p in s.periods] == [0, 1, 0]
    # c4 stalled after its last event on 9 January; c5 stays open to the data end.
    assert [p.wip_end for p in s.periods] == [0, 0, 1]
    w1, w2, w3 = s.periods
    assert w1.cycle_median_s == (25 + 48.5) / 2 * H
    assert w1.cycle_p90_s == pytest.approx((25 + 0.9 * 23.5) * H)
    assert (w2.cycle_median_s, w3.cycle_median_s) == (49 * H, 3 * H)
    # Kaplan-Meier: the lower middle value without censoring; c4 (censored at 2 h) does not
    # count as a completion in week 2; in week 3 c6 completes while c5 is still running.
    assert [p.cycle_median_km_s for p in s.periods] == [25 * H, 49 * H, 3 * H]
    assert [(p.rework_cases, p.rework_rate) for p in s.periods] == [(1, 0.5), (0, 0.0), (0, 0.0)]
    # SLA 36 h: c2 and c3 breach; c4 (2 h old when it stalled) and c5 (27 h open) are undecided.
    assert [(p.sla_breaches, p.sla_decided, p.sla_breach_rate) for p in s.periods] == [
        (1, 2, 0.5),
        (1, 1, 1.0),
        (0, 1, 0.0),
    ]
    assert [p.cost_per_case for p in s.periods] == [30.0, 20.0, 20.0]
    assert w1.pce_median == pytest.approx((3 / 25 + 3 / 48.5) / 2)
    assert w2.pce_median == pytest.approx(2 / 49)
    assert w3.pce_median == pytest.approx(2 / 3)
    assert s.cost_source == "cost column"
    assert w1.cycle_median_business_s is None


def test_business_time_cost_per_hour_and_plugged_measures(tiny):
    store, log = tiny
    measure = CaseMeasure("Fitness below 1", {"c1": 1.0, "c2": 0.0, "c3": 1.0, "c4": 1.0}, kind="rate")
    s = kpis_per_period(
        store,
        log,
        period="week",
        end_activities=("Z",),
        cost_per_hour=50.0,
        calendar=Calendar(timezone="UTC"),
        measures={"unfit": measure},
    )
    w1, w2, w3 = s.periods
    # Mon 09-17 plus Tue 09-10 for c1 (9 h); Tue 8 h + Wed 8 h + Thu 0.5 h for c2 (16.5 h);
    # c3 Mon 8 h + Tue 8 h + Wed 1 h; c6 within Tuesday's hours.
    assert w1.cycle_median_business_s == (9 + 16.5) / 2 * H
    assert (w2.cycle_median_business_s, w3.cycle_median_business_s) == (17 * H, 3 * H)
    assert w1.cycle_p90_business_s == pytest.approx((9 + 0.9 * 7.5) * H)
    assert w1.cycle_median_s == (25 + 48.5) / 2 * H  # elapsed time is still reported
    assert s.cost_source == "cost per hour x processing time"
    assert [p.cost_per_case for p in s.periods] == [150.0, 100.0, 100.0]
    # c4 is stalled, so its value is not averaged: only complete cases count.
    assert [p.extra["unfit"] for p in s.periods] == [0.5, 1.0, None]
    assert [p.extra_n["unfit"] for p in s.periods] == [2, 1, 0]
    assert s.kpi("extra.unfit").kind == "rate"
    assert s.values("extra.unfit") == (0.5, 1.0, None)


def test_end_activities_are_learned_from_the_settled_cases(tiny):
    store, log = tiny
    c = kpis_per_period(store, log, period="week").completeness
    # The settled cases (silent for longer than 46 h before the data end) are c1-c4:
    # three end in Z and one in B, both at least 1 % of them.
    assert c.end_activities == ("Z", "B")
    assert not c.end_activities_given
    assert (c.complete, c.open, c.stalled) == (6, 0, 0)
    assert "learned" in c.method and "Z, B" in c.method


def test_months_and_days_and_a_time_zone(tiny):
    store, log = tiny
    months = kpis_per_period(store, log, period="month", end_activities=("Z",))
    assert [(p.start, p.started, p.completed) for p in months.periods] == [(dt.date(2024, 1, 1), 6, 4)]
    days = kpis_per_period(store, log, period="day", end_activities=("Z",))
    assert days.periods[0].start == dt.date(2024, 1, 1) and days.periods[-1].start == dt.date(2024, 1, 16)
    assert sum(p.started for p in days.periods) == 6
    assert [p.started for p in days.periods if p.started] == [1, 1, 1, 1, 1, 1]
    # 09:00 UTC is 04:00 in New York: same local days, but the week of c1 starts on Monday 1 January.
    ny = kpis_per_period(store, log, period="week", timezone="America/New_York", end_activities=("Z",))
    assert ny.timezone == "America/New_York"
    assert [p.started for p in ny.periods] == [2, 2, 2]


def test_unknown_period_is_an_error(tiny):
    store, log = tiny
    with pytest.raises(MonitorError, match="unknown period 'year'; expected one of day, week, month"):
        kpis_per_period(store, log, period="year")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("5d", 5 * 86400),
        ("36h", 36 * H),
        ("1d12h", 36 * H),
        ("1d 12h", 36 * H),
        ("90m", 5400),
        ("45s", 45),
        ("2w", 14 * 86400),
        ("P5D", 5 * 86400),
        ("PT36H", 36 * H),
        ("P1DT12H", 36 * H),
        ("p1w", 7 * 86400),
        ("1.5h", 5400),
        ("2 days", 2 * 86400),
        ("1 day 12 hours", 36 * H),
    ],
)
def test_an_sla_is_read_by_the_one_duration_grammar(text, seconds):
    assert parse_duration(text, what="--sla", error=MonitorError).total_seconds == seconds


@pytest.mark.parametrize("text", ["", "5", "5x", "d5", "P", "PT", "P5DT", "5d h", "five days"])
def test_a_bad_sla_says_what_was_expected(text):
    expected = f"--sla {text!r} is not a duration; expected e.g. 5d, 36h, 1d12h, 90m, 2 days or ISO 8601"
    with pytest.raises(MonitorError) as err:
        parse_duration(text, what="--sla", error=MonitorError)
    assert str(err.value).startswith(expected)


def test_a_zero_sla_is_refused():
    with pytest.raises(MonitorError, match=r"^--sla '0d' is zero; expected a duration longer than zero$"):
        parse_duration("0d", what="--sla", error=MonitorError)


def test_kaplan_meier_quantile():
    d = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    assert kaplan_meier_quantile(d, np.ones(5, dtype=bool)) == 3.0
    # 2 censored: S(1) = 4/5, S(3) = 4/5 * 2/3 = 0.533, S(4) = 0.267 -> median 4.
    assert kaplan_meier_quantile(d, np.array([True, False, True, True, True])) == 4.0
    # Fewer than half can be seen to complete: no median.
    assert kaplan_meier_quantile(d, np.array([True, False, False, False, False])) is None
    assert kaplan_meier_quantile(np.array([]), np.array([], dtype=bool)) is None


events_strategy = st.lists(
    st.tuples(st.integers(0, 7), st.sampled_from("ABZ"), st.integers(0, 24 * 40), st.integers(0, 300)),
    min_size=1,
    max_size=30,
)


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=events_strategy, period=st.sampled_from(["day", "week", "month"]))
def test_every_case_is_counted_once(tmp_path_factory, rows, period):
    tmp = tmp_path_factory.mktemp("prop")
    events = []
    for case, act, hour, minutes in rows:
        start = dt.datetime(2024, 3, 1, tzinfo=dt.UTC) + dt.timedelta(hours=hour)
        end = start + dt.timedelta(minutes=minutes)
        events.append((f"k{case}", act, start.strftime("%m-%d %H:%M"), end.strftime("%m-%d %H:%M"), 1))
    with Store() as store:
        log = load_tiny(store, tmp, events, name="prop")
        facts = case_facts(store, log, period=period)
        s = summarize(facts, sla_seconds=3600.0)
        c = s.completeness
        n_cases = len({e[0] for e in events})
        assert sum(p.started for p in s.periods) == n_cases == c.complete + c.open + c.stalled
        assert sum(p.completed for p in s.periods) == c.complete
        assert sum(p.open for p in s.periods) == c.open and sum(p.stalled for p in s.periods) == c.stalled
        assert all(p.wip_end >= 0 for p in s.periods)
        # Open cases are still in progress at the data end.
        assert s.periods[-1].wip_end >= c.open
        for p in s.periods:
            assert p.sla_breaches <= p.sla_decided <= p.started
            for v in (p.cycle_median_s, p.cycle_p90_s, p.cycle_median_km_s):
                assert v is None or v >= 0
            if p.cycle_median_s is not None:
                assert p.cycle_median_s <= p.cycle_p90_s


def test_a_filter_end_closes_the_window(tiny):
    store, log = tiny
    flt = Filter(end=dt.datetime(2024, 1, 15, tzinfo=dt.UTC), window="started")
    s = kpis_per_period(store, log, flt, period="week", end_activities=("Z",))
    # Weeks 1 and 2 only: no kept case can start after the end, and week 2 is covered whole.
    assert [(p.start, p.partial, p.started, p.completed) for p in s.periods] == [
        (W1, True, 2, 2),
        (W2, False, 2, 1),
    ]
    days = kpis_per_period(
        store,
        log,
        Filter(end=dt.datetime(2024, 1, 9, 12, tzinfo=dt.UTC), window="started"),
        period="day",
        end_activities=("Z",),
    )
    # c4 started on 9 January at 09:00, inside the window; c3 completes on the 10th, after it.
    assert days.periods[-1].start == dt.date(2024, 1, 9) and days.periods[-1].partial
    assert sum(p.started for p in days.periods) == 4 and sum(p.completed for p in days.periods) == 2


# -- the export's edges, placeholder dates, the calendar ----------------------------------


def _write(path, rows, header=("case_id", "activity", "timestamp")):
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for row in rows:
            w.writerow([x.isoformat() if isinstance(x, dt.datetime) else x for x in row])
    return path


PLAIN = {"case": "case_id", "activity": "activity", "timestamp": "timestamp"}
PLAIN = {**dict.fromkeys(("start_timestamp", "resource", "cost", "lifecycle")), **PLAIN}
MON = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def _steady(days=70, every_h=6, steps=("A", "B", "C"), gap_h=20, start=MON):
    """A case every ``every_h`` hours for ``days`` days, each step ``gap_h`` hours after the last."""
    rows = []
    for i in range(days * 24 // every_h):
        t = start + dt.timedelta(hours=every_h * i)
        rows += [(f"c{i:04d}", a, t + dt.timedelta(hours=gap_h * k)) for k, a in enumerate(steps)]
    return rows


def test_cases_that_began_before_the_export_cut_its_first_periods(store, tmp_path):
    # Steps four days apart; the export holds the events from Saturday 2024-01-20 13:00 on, so
    # the cases that began up to eight days before show B or C first, until Wednesday 01-24.
    export = dt.datetime(2024, 1, 20, 13, tzinfo=dt.UTC)
    every = _steady(days=84, gap_h=96)
    rows = [r for r in every if r[2] >= export]
    log = ingest_file(store, _write(tmp_path / "window.csv", rows), IngestOptions(roles=PLAIN)).log_id
    facts = case_facts(store, log, timezone="UTC")
    s = summarize(facts)
    assert facts.completeness.start_activities == ("A",)
    began = {r[0] for r in every if r[1] == "A" and r[2] < export} & {r[0] for r in rows}
    assert facts.completeness.truncated == len(began) == 32
    first_seen = {c: min(r[2] for r in rows if r[0] == c) for c in began}
    in_second = sum(1 for t in first_seen.values() if t >= dt.datetime(2024, 1, 22, tzinfo=dt.UTC))
    first, second, third = s.periods[:3]
    assert first.cut == "the data begin inside it"
    assert (second.start, second.truncated, second.started) == (
        dt.date(2024, 1, 22),
        in_second,
        28 + in_second,
    )
    assert in_second == 22
    assert second.cut == "22 of its 50 cases began before the export (no usual first activity)"
    assert third.truncated == 0 and third.cut == ""
    assert "A case began before the export when its first activity is none of the start activities" in (
        facts.completeness.method
    )


def test_a_recent_stop_at_an_end_activity_that_usually_leads_on_is_open(store, tmp_path):
    # Fines: Create, Send two days later; three in four are paid 20 days after Send, the rest end at Send.
    # The export stops on day 140, so the fines sent in its last 20 days end at Send too, paid or not.
    export = MON + dt.timedelta(days=140)
    rows = []
    for i in range(140 * 4):
        t = MON + dt.timedelta(hours=6 * i)
        case = f"f{i:04d}"
        rows += [(case, "Create", t), (case, "Send", t + dt.timedelta(days=2))]
        if i % 4:
            rows.append((case, "Pay", t + dt.timedelta(days=22)))
    rows = [r for r in rows if r[2] <= export]
    log = ingest_file(store, _write(tmp_path / "fines.csv", rows), IngestOptions(roles=PLAIN)).log_id
    facts = case_facts(store, log, timezone="UTC")
    c = facts.completeness
    assert c.end_activities == ("Pay", "Send") and c.quiet_seconds == 20 * 86400
    last = {}
    for case, activity, t in rows:
        last[case] = (activity, t)
    as_of = max(t for _, t in last.values())
    recent_send = sum(1 for a, t in last.values() if a == "Send" and t > as_of - dt.timedelta(days=20))
    # of the Sends silent for up to 20 days, 3 in 4 went on to Pay: these cases are open, not complete
    assert c.likely_to_continue == recent_send == 80
    unsent = sum(1 for a, _ in last.values() if a == "Create")
    assert c.open == recent_send + unsent == 80 + 7  # with the fines created in the last two days, unsent
    assert "most went on to another step (80 cases)" in c.method
    # an old Send is a real end, and a recent Pay stays complete
    assert c.complete == sum(1 for a, t in last.values() if a == "Pay" or t <= as_of - dt.timedelta(days=20))
    # the user's own end activities are obeyed as given
    given = case_facts(store, log, timezone="UTC", end_activities=("Pay", "Send")).completeness
    assert (given.likely_to_continue, given.complete) == (0, c.complete + 80)


def test_periods_after_the_last_case_start_hold_only_tails(store, tmp_path):
    # Cases start for six weeks; the export goes on three more weeks with their last steps only.
    rows = _steady(days=42, gap_h=170)
    log = ingest_file(store, _write(tmp_path / "intake.csv", rows), IngestOptions(roles=PLAIN)).log_id
    s = kpis_per_period(store, log, timezone="UTC")
    assert [(p.start.isoformat(), p.started) for p in s.periods[-3:]] == [
        ("2024-02-05", 28),
        ("2024-02-12", 0),
        ("2024-02-19", 0),
    ]
    tails = "no case starts after 2024-02-11: only the tails of earlier cases"
    assert [p.cut for p in s.periods[-3:]] == [tails, tails, "the data end inside it"]
    assert "No case starts after 2024-02-11 although events go on for 14.2 days" in s.note
    assert not any(p.cut for p in s.periods[:-3])


def test_periods_before_the_first_completion_hold_only_long_cases(store, tmp_path):
    # An export of the cases that completed in March: the earlier a case started, the longer it ran.
    rows = []
    for i in range(200):
        start = dt.datetime(2023, 1, 2, tzinfo=dt.UTC) + dt.timedelta(days=2 * i)
        end = dt.datetime(2024, 3, 1, tzinfo=dt.UTC) + dt.timedelta(hours=3 * i)
        rows += [(f"k{i:03d}", "A", start), (f"k{i:03d}", "Z", end)]
    log = ingest_file(store, _write(tmp_path / "closed.csv", rows), IngestOptions(roles=PLAIN)).log_id
    s = kpis_per_period(store, log, period="month", timezone="UTC")
    assert all(p.cut for p in s.periods)
    assert s.periods[0].cut == "the data begin inside it"
    assert s.periods[1].cut == "no case completes before 2024-03-01: its cases are only those still open then"
    assert "the export holds the cases that completed from then on" in s.note


def test_placeholder_dates_are_left_out_named_and_never_make_thousands_of_periods(store, tmp_path):
    rows = _steady(days=28, gap_h=10)
    rows += [
        ("c0001", "C", dt.datetime(9999, 12, 31, tzinfo=dt.UTC)),
        ("c0002", "A", dt.datetime(1, 1, 1, tzinfo=dt.UTC)),
        ("c0003", "C", dt.datetime(1970, 1, 1, tzinfo=dt.UTC)),
    ]
    log = ingest_file(store, _write(tmp_path / "sentinels.csv", rows), IngestOptions(roles=PLAIN)).log_id
    for period, count in (("week", 5), ("day", 29)):
        s = kpis_per_period(store, log, period=period, timezone="UTC")
        assert len(s.periods) == count, period
        assert (s.left_out, s.left_out_events, s.cases) == (3, 3, 109)
        assert s.range_note == (
            "3 events dated outside the log's main range (2024-01-01 to 2024-01-29) are left out: 0001-01-01, "
            "1970-01-01, 9999-12-31 (placeholder dates or typing errors), with the 3 cases they belong to."
        )
        assert "3 cases have an event outside the data's range and are left out." in s.note
    # The Lean view leaves them out too: no waiting of eight thousand years.
    from mining.monitor.run import MonitorOptions, monitor

    run = monitor(store, log, options=MonitorOptions(timezone="UTC"))
    assert run.lean.cases == 109
    assert run.lean.waste("waiting").hours == pytest.approx(109 * 20, rel=0.01)


def test_more_periods_than_the_cap_are_refused_with_the_way_out(store, tmp_path):
    # Twenty years of real, sparse data: 7,300 days are too many to lay out; weeks are fine.
    rows = []
    for i in range(40):
        t = dt.datetime(2000, 1, 3, tzinfo=dt.UTC) + dt.timedelta(days=183 * i)
        rows += [(f"y{i:02d}", "A", t), (f"y{i:02d}", "Z", t + dt.timedelta(hours=5))]
    log = ingest_file(store, _write(tmp_path / "years.csv", rows), IngestOptions(roles=PLAIN)).log_id
    with pytest.raises(MonitorError, match=r"more than 5,000 days to lay out; choose a longer --period week"):
        kpis_per_period(store, log, period="day", timezone="UTC")
    # The last case starts 39 x 183 = 7,137 days after the first: 1,020 weeks.
    assert len(kpis_per_period(store, log, period="week", timezone="UTC").periods) == 7_137 // 7 + 1


def _office(per_day, first=dt.date(2024, 10, 7), last=dt.date(2024, 12, 27), closed=()):
    """``per_day`` cases each working day (Monday to Friday, not on ``closed``), A at 09:00 then Z at 12:00."""
    rows = []
    day = first
    while day <= last:
        if day.isoweekday() <= 5 and day not in closed:
            for k in range(per_day):
                t = dt.datetime.combine(day, dt.time(9), dt.UTC) + dt.timedelta(minutes=k)
                case = f"{day.isoformat()}-{k:02d}"
                rows += [(case, "A", t), (case, "Z", t + dt.timedelta(hours=3))]
        day += dt.timedelta(days=1)
    # Monday morning's export: one case has started.
    rows.append(("next", "A", dt.datetime(2024, 12, 30, 9, 30, tzinfo=dt.UTC)))
    return rows


def test_holiday_weeks_are_marked_and_volumes_judged_per_working_day(store, tmp_path):
    from mining.monitor.run import MonitorOptions, monitor

    christmas = (dt.date(2024, 12, 25), dt.date(2024, 12, 26))
    path = _write(tmp_path / "office.csv", _office(20, closed=christmas))
    log = ingest_file(store, path, IngestOptions(roles=PLAIN)).log_id
    dutch = Calendar(timezone="UTC", country="NL")
    run = monitor(store, log, options=MonitorOptions(calendar=dutch, timezone="UTC", lean=False))
    week = run.series.periods[-2]
    assert (week.start, week.started, week.working_days) == (dt.date(2024, 12, 23), 60, 3.0)
    assert week.holidays == ("2024-12-25 Christmas Day", "2024-12-26 Second Day of Christmas")
    assert [p.working_days for p in run.series.periods[:-2]] == [5.0] * 11
    assert run.series.periods[-1].holidays == ("2025-01-01 New Year's Day",)
    started = next(c for c in run.charts if c.kpi == "started")
    assert started.chart.kind == "u" and started.unit == "cases per working day"
    assert started.chart.values[-2] == 20.0 and started.newest == 11
    assert not [a for a in run.alerts if a.kpi == "started"]
    assert run.series.working_days_method.startswith("Working days: working days of the calendar (Mon-Fri")
    # Without the calendar the holidays are unknown: 60 cases over five working days is far too few.
    plain = monitor(store, log, options=MonitorOptions(timezone="UTC", lean=False))
    assert plain.series.periods[-2].working_days == 5.0 and plain.series.periods[-2].holidays == ()
    assert plain.series.working_days_method == (
        "Working days: the weekdays on which cases start; Saturday and Sunday have fewer than 10% of the "
        "average starts and count as closed."
    )
    low = next(a for a in plain.alerts if a.kpi == "started")
    assert (low.rule, low.direction, low.assessment) == ("nelson-1", "down", "changed")
    assert low.sentence.startswith(
        "Cases started in the week of 2024-12-23 are unusually low: 60 cases, 12.0 per working day over "
        "5 working days against a usual 20.0 per working day"
    )
