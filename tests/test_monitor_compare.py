"""Before/after: the built-in change of the sample logs is found, and none is found where there is none."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import math

import numpy as np
import pytest

from mining.errors import MonitorError
from mining.ingest import IngestOptions, ingest_file
from mining.monitor.bootstrap import EXACT_MEAN_CELLS, bootstrap, quantile_replicates
from mining.monitor.compare import compare, compare_maps
from mining.monitor.periods import case_facts, summarize
from mining.samples import CHANGE_DATES, PROCESSES, SLA_DAYS, write_log
from mining.store import Store
from tests.conftest import SAMPLE_LOGS

TZ = "Europe/Amsterdam"

#: Median cycle time change documented in sample_logs/README.md (before -> after the change date).
DOCUMENTED = {"service_desk": -0.29, "order_to_cash": -0.25, "purchase_to_pay": -0.24}


#: SLA breach rates before and after, from the same README (SLA_DAYS of each process).
BREACHES = {
    "service_desk": (0.317, 0.194),
    "order_to_cash": (0.358, 0.175),
    "purchase_to_pay": (0.316, 0.043),
}


def _compare(store, log, change, sla_days=5, **kw):
    facts = case_facts(store, log, timezone=TZ)
    return compare(store, facts, summarize(facts, sla_seconds=sla_days * 86400), change, **kw)


@pytest.mark.slow
@pytest.mark.parametrize("process", PROCESSES)
def test_the_sample_logs_change_is_found(store, process):
    log = ingest_file(store, SAMPLE_LOGS / f"{process}.csv").log_id
    c = _compare(store, log, CHANGE_DATES[process], sla_days=SLA_DAYS[process])
    median = c.get("cycle_median_s")
    assert median.relative == pytest.approx(DOCUMENTED[process], abs=0.01)
    assert median.p_value < 0.01
    # The whole interval lies below zero: shorter after the change.
    assert median.ci_low < median.ci_high < 0
    assert median.difference == median.after - median.before
    # Fewer cases wait long at the bottleneck and rework halves, whatever the mix.
    assert median.adjusted_difference < 0
    assert c.get("rework_rate").difference < 0
    sla = c.get("sla_breach_rate")
    assert (sla.before, sla.after) == pytest.approx(BREACHES[process], abs=0.001)
    assert sla.p_value < 0.01
    assert (
        c.before_cases + c.after_cases
        == {"service_desk": 2400, "order_to_cash": 2500, "purchase_to_pay": 1850}[process]
    )


@pytest.mark.slow
def test_no_change_no_finding_over_twenty_seeds(tmp_path):
    """False positives stay at the test's level.

    With no change, a calibrated test is significant at 0.05 in each of 20
    independent logs with probability 0.05, so the count is Binomial(20, 0.05):
    P(count >= 4) = 1.6 %.  More than 3 of 20 would mean the test is not
    calibrated (the seeds are fixed, so the outcome is too).
    """
    significant: dict[str, int] = {}
    for seed in range(20):
        path = write_log("service_desk", tmp_path / f"flat_{seed}.csv", cases=300, seed=seed, change=False)
        with Store() as store:
            log = ingest_file(store, path).log_id
            c = _compare(store, log, CHANGE_DATES["service_desk"], resamples=200)
        for k in c.kpis:
            significant[k.kpi] = significant.get(k.kpi, 0) + (k.p_value is not None and k.p_value < 0.05)
    assert set(significant) >= {
        "cycle_median_s",
        "rework_rate",
        "sla_breach_rate",
        "cost_per_case",
        "completed",
    }
    assert {k: n for k, n in significant.items() if n > 3} == {}


def _mix_log(store, tmp_path, jitter: int = 0):
    """Fast cases (A Z, 1 h) and slow ones (A B Z, 10 h), web then phone: 40/10 before, 10/40 after.

    ``jitter`` adds that many seconds times the case number to each case's end.
    """
    path = tmp_path / "mix.csv"
    rows = []
    start = dt.datetime(2024, 1, 1, 8, tzinfo=dt.UTC)
    for i in range(100):
        after = i >= 50
        slow = (i % 50 < 10) != after
        t0 = start + dt.timedelta(hours=12 * i)
        channel = "phone" if slow else "web"
        rows.append((f"m{i:03d}", "A", t0, channel))
        if slow:
            rows.append((f"m{i:03d}", "B", t0 + dt.timedelta(hours=5), channel))
        rows.append(
            (f"m{i:03d}", "Z", t0 + dt.timedelta(hours=10 if slow else 1, seconds=jitter * i), channel)
        )
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["case_id", "activity", "timestamp", "channel"])
        for case, act, t, ch in rows:
            w.writerow([case, act, t.isoformat(), ch])
    roles = {
        "case": "case_id",
        "activity": "activity",
        "timestamp": "timestamp",
        "resource": None,
        "start_timestamp": None,
        "lifecycle": None,
        "cost": None,
    }
    return ingest_file(store, path, IngestOptions(roles=roles)).log_id


def test_a_shifted_mix_is_flagged_and_adjusted(store, tmp_path):
    log = _mix_log(store, tmp_path)
    change = dt.date(2024, 1, 26)  # case 50 starts on 26 January 08:00 UTC
    facts = case_facts(store, log, timezone="UTC", end_activities=("Z",))
    c = compare(store, facts, summarize(facts), change)
    assert (c.before_cases, c.after_cases) == (50, 50)
    median = c.get("cycle_median_s")
    assert (median.before, median.after, median.difference) == (3600.0, 36000.0, 32400.0)
    # Reweighted to the before mix (80 % fast), the after median is the fast time again.
    assert (median.adjusted_after, median.adjusted_difference) == (3600.0, 0.0)
    assert c.mix.by == "variant"
    # 50 cases each: the tie goes to the sequence that sorts first.
    assert c.mix.strata == ("variant 1: A → B → Z", "variant 2: A → Z")
    assert c.mix.before == (10, 40) and c.mix.after == (40, 10)
    assert c.mix.shifted and c.mix.p_value < 1e-6
    assert (c.mix.biggest[0].before_share, c.mix.biggest[0].after_share) == (0.2, 0.8)
    assert any(
        "variant 1: A → B → Z: 20.0% of cases before, 80.0% after; variant 2: A → Z: 80.0% of cases "
        "before, 20.0% after" in w
        for w in c.warnings
    )
    by_channel = compare(store, facts, summarize(facts), change, stratify="channel")
    assert by_channel.mix.strata == ("channel = phone", "channel = web")
    assert by_channel.mix.before == (10, 40) and by_channel.mix.after == (40, 10)
    assert by_channel.get("cycle_median_s").adjusted_difference == 0.0


def test_intervals_are_reproducible_and_seeded(store, tmp_path):
    log = _mix_log(store, tmp_path, jitter=37)
    facts = case_facts(store, log, timezone="UTC", end_activities=("Z",))
    series = summarize(facts)
    change = dt.date(2024, 1, 26)
    a = compare(store, facts, series, change, seed=7)
    b = compare(store, facts, series, change, seed=7)
    other = compare(store, facts, series, change, seed=8)
    assert a == b
    p90 = a.get("cycle_p90_s")
    assert (p90.ci_low, p90.ci_high) != (other.get("cycle_p90_s").ci_low, other.get("cycle_p90_s").ci_high)
    rework = a.get("rework_rate")
    assert (rework.before, rework.after) == (0.0, 0.0)  # no activity repeats in this log
    assert rework.p_value == 1.0
    assert rework.test == "Mann-Whitney U on the 0/1 case values (two-proportion z-test)"


def test_change_outside_the_data_is_an_error(store, tmp_path):
    log = _mix_log(store, tmp_path)
    facts = case_facts(store, log, timezone="UTC")
    with pytest.raises(
        MonitorError, match="no case started after the change date 2030-01-01; nothing to compare"
    ):
        compare(store, facts, summarize(facts), dt.date(2030, 1, 1))
    with pytest.raises(
        MonitorError,
        match=r"cannot stratify by 'nope': the log has no such attribute; "
        r"use 'variant' or one of: 'channel'",
    ):
        compare(store, facts, summarize(facts), dt.date(2024, 1, 26), stratify="nope")


def test_open_cases_after_the_change_are_warned_about(store, tmp_path):
    # A case every 12 h, each A then Z 48 h later; the last ten never reach Z.  The quiet
    # horizon is 48 h, so of those ten the four whose A lies within 48 h of the data end are open.
    path = tmp_path / "open.csv"
    t0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["case_id", "activity", "timestamp"])
        for i in range(60):
            start = t0 + dt.timedelta(hours=12 * i)
            w.writerow([f"o{i:02d}", "A", start.isoformat()])
            if i < 50:
                w.writerow([f"o{i:02d}", "Z", (start + dt.timedelta(hours=48)).isoformat()])
    log = ingest_file(store, path).log_id
    # Learned, A would be an end activity too: 6 of the 56 settled cases end with it.
    assert case_facts(store, log, timezone="UTC").completeness.end_activities == ("Z", "A")
    facts = case_facts(store, log, timezone="UTC", end_activities=("Z",))
    assert (facts.completeness.open, facts.completeness.stalled) == (4, 6)
    c = compare(store, facts, summarize(facts), dt.date(2024, 1, 16))
    assert (c.before_cases, c.after_cases) == (30, 30)
    assert c.get("cycle_median_s").n_after == 20
    assert (
        "4 of the 30 cases that started after the change (13%) are still open: durations after the change "
        "cover only the completed ones"
    ) in " ".join(c.warnings)


def test_maps_before_and_after_share_one_node_set(store, tmp_path):
    log = _mix_log(store, tmp_path)
    m = compare_maps(store, log, dt.date(2024, 1, 26), timezone="UTC")
    assert m.activities == ("A", "B", "Z")
    assert m.edges == (("A", "B"), ("A", "Z"), ("B", "Z"))
    assert (m.before.cases, m.after.cases) == (50, 50)
    assert {(e.source, e.target): e.count for e in m.before.edges} == {
        ("A", "Z"): 40,
        ("A", "B"): 10,
        ("B", "Z"): 10,
    }
    assert {(e.source, e.target): e.count for e in m.after.edges} == {
        ("A", "Z"): 10,
        ("A", "B"): 40,
        ("B", "Z"): 40,
    }


def test_a_resamples_median_is_drawn_with_its_exact_distribution():
    # Two cases, 0 and 10 days: a resample is {0, 0}, {10, 10} (1/4 each) or mixed (1/2), median 0, 10 or 5.
    reps = quantile_replicates(np.array([0.0, 10.0]), 0.5, 40_000, np.random.default_rng(1))
    values, counts = np.unique(reps, return_counts=True)
    assert values.tolist() == [0.0, 5.0, 10.0]
    assert (counts / reps.size).tolist() == pytest.approx([0.25, 0.5, 0.25], abs=0.01)
    # p90 of three cases interpolates between the 2nd and 3rd order statistics, as np.quantile does.
    reps = quantile_replicates(np.array([1.0, 2.0, 4.0]), 0.9, 200, np.random.default_rng(2))
    naive = {float(np.quantile(np.array(r), 0.9)) for r in itertools.product([1.0, 2.0, 4.0], repeat=3)}
    assert set(reps.tolist()) <= naive
    assert quantile_replicates(np.full(50, 3.0), 0.9, 100, np.random.default_rng(3)).tolist() == [3.0] * 100


@pytest.mark.parametrize("q", [0.5, 0.9])
def test_quantile_replicates_match_resampling_cases(q):
    values = np.random.default_rng(4).lognormal(10, 1.2, 3_000)
    fast = quantile_replicates(values, q, 4_000, np.random.default_rng(5))
    rng = np.random.default_rng(6)
    naive = np.array(
        [np.quantile(values[rng.integers(0, values.size, values.size)], q) for _ in range(4_000)]
    )
    spread = naive.std()
    for pct in (2.5, 25, 50, 75, 97.5):
        assert abs(np.percentile(fast, pct) - np.percentile(naive, pct)) < 0.15 * spread, pct
    assert fast.std() == pytest.approx(spread, rel=0.08)


def test_a_mean_over_many_cases_takes_normal_replicates():
    values = np.random.default_rng(7).exponential(3600.0, 20_000)
    reps = bootstrap(values, "mean", 1_000, np.random.default_rng(8))
    assert values.size * 1_000 > EXACT_MEAN_CELLS
    assert reps.mean() == pytest.approx(values.mean(), rel=0.002)
    assert reps.std() == pytest.approx(values.std() / math.sqrt(values.size), rel=0.08)
