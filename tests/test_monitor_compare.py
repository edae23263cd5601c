"""Before/after: the built-in change of the sample logs is found, and none is found where there is none."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mining.durations import format_duration
from mining.errors import MonitorError
from mining.ingest import IngestOptions, ingest_file
from mining.monitor.bootstrap import EXACT_MEAN_CELLS, bootstrap, percentile_test, quantile_replicates
from mining.monitor.compare import compare, compare_maps, default_stratum
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
    c = compare(store, facts, summarize(facts), change, stratify="variant")
    assert (c.before_cases, c.after_cases) == (50, 50)
    median = c.get("cycle_median_s")
    assert (median.before, median.after, median.difference) == (3600.0, 36000.0, 32400.0)
    # Reweighted to the before mix (80 % fast), the after median is the fast time again.
    assert (median.adjusted_after, median.adjusted_difference) == (3600.0, 0.0)
    assert (median.adjustment, median.adjusted_coverage) == ("applied", 1.0)
    assert c.mix.by == "variant" and c.mix.chosen == "Stratified by variant, as asked."
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
    # By default a case attribute is the stratum: channel, one value per case on every case.
    by_channel = compare(store, facts, summarize(facts), change)
    assert by_channel.mix.by == "channel"
    assert by_channel.mix.chosen.startswith("Stratified by channel, chosen as a case attribute with 2 values")
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
    assert rework.test == (
        "bootstrap of the difference of the rates (binomial replicates): interval and p-value from the same "
        "1,000 replicates"
    )


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


# -- each statistic its own test; labels; the case mix over strata on both sides ------------


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(-5, 5, allow_nan=False), min_size=100, max_size=400),
    st.sampled_from([0.8, 0.9, 0.95, 0.99]),
)
def test_the_p_value_agrees_with_the_interval(reps, confidence):
    low, high, p = percentile_test(np.array(reps), confidence)
    assert low <= high
    assert (p < 1 - confidence) == (low > 0 or high < 0)
    assert 0 <= p <= 1


def _two_sides(before, after, change=dt.date(2024, 3, 1), attrs=None):
    """Cases A -> Z with the given durations (hours), before and after ``change``; one a day."""
    rows = []
    t0 = dt.datetime(2024, 1, 1, 8, tzinfo=dt.UTC)
    t1 = dt.datetime.combine(change, dt.time(8), dt.UTC)
    for side, hours, start in (("b", before, t0), ("a", after, t1)):
        for i, h in enumerate(hours):
            t = start + dt.timedelta(hours=13 * i)
            case = f"{side}{i:03d}"
            extra = [attrs[side][i]] if attrs else []
            rows.append([case, "A", t.isoformat(), *extra])
            rows.append([case, "Z", (t + dt.timedelta(hours=h)).isoformat(), *extra])
    return rows


def _load_rows(store, tmp_path, rows, header=("case_id", "activity", "timestamp")):
    path = tmp_path / "sides.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    roles = {"case": "case_id", "activity": "activity", "timestamp": "timestamp"}
    roles |= dict.fromkeys(("resource", "start_timestamp", "lifecycle", "cost"))
    return ingest_file(store, path, IngestOptions(roles=roles)).log_id


def test_the_p90_is_tested_by_its_own_bootstrap_not_through_the_median(store, tmp_path):
    # The same median (10 h) on both sides, but after the change the slowest fifth takes 40 h, not 12 h.
    before = [8.0] * 40 + [10.0] * 20 + [12.0] * 40
    after = [8.0] * 40 + [10.0] * 20 + [12.0] * 20 + [40.0] * 20
    log = _load_rows(store, tmp_path, _two_sides(before, after))
    facts = case_facts(store, log, timezone="UTC", end_activities=("Z",))
    c = compare(store, facts, summarize(facts), dt.date(2024, 3, 1), stratify="variant")
    median, p90 = c.get("cycle_median_s"), c.get("cycle_p90_s")
    assert (median.before, median.after) == (10 * 3600.0, 10 * 3600.0)
    assert (p90.before, p90.after) == (12 * 3600.0, 40 * 3600.0)
    assert median.p_value > 0.5 and median.ci_low <= 0 <= median.ci_high
    assert p90.p_value < 0.01 and p90.ci_low > 0
    assert p90.test.startswith("bootstrap of the difference of the 90th percentiles")
    assert median.test.startswith("bootstrap of the difference of the medians")
    for k in c.kpis:
        if k.p_value is not None:
            assert (k.p_value < 0.05) == (k.ci_low > 0 or k.ci_high < 0), k.kpi


def test_differences_of_rates_are_percentage_points_and_relative_changes_percent(store, tmp_path):
    log = _mix_log(store, tmp_path)
    facts = case_facts(store, log, timezone="UTC", end_activities=("Z",))
    c = compare(store, facts, summarize(facts, sla_seconds=5 * 3600), dt.date(2024, 1, 26))
    sla = c.get("sla_breach_rate")
    assert (sla.before, sla.after) == (0.2, 0.8)
    assert sla.difference == pytest.approx(0.6)
    assert sla.difference_label == "+60.0 percentage points"
    assert sla.relative_label == "+300.0% relative to before"
    assert sla.difference_unit == "share (0.01 = 1 percentage point)"
    median = c.get("cycle_median_s")
    assert (median.difference_label, median.difference_unit) == ("+9h 00m", "seconds")
    started = c.get("started")
    assert started.difference_unit == "cases per period"


def test_the_mix_adjustment_covers_only_strata_on_both_sides_and_says_how_many_cases(store, tmp_path):
    # Before: 30 web cases of 2 h and 10 mail cases of 20 h.  After: 30 web of 3 h and 30 phone of 9 h.
    # Only web is on both sides: 60 of the 100 cases; like with like, the change is +1 h.
    before, after = [2.0] * 30 + [20.0] * 10, [3.0] * 30 + [9.0] * 30
    channels = {"b": ["web"] * 30 + ["mail"] * 10, "a": ["web"] * 30 + ["phone"] * 30}
    rows = _two_sides(before, after, attrs=channels)
    log = _load_rows(store, tmp_path, rows, header=("case_id", "activity", "timestamp", "channel"))
    facts = case_facts(store, log, timezone="UTC", end_activities=("Z",))
    c = compare(store, facts, summarize(facts), dt.date(2024, 3, 1))
    assert c.mix.by == "channel"
    median = c.get("cycle_median_s")
    assert (median.before, median.after) == (2 * 3600.0, 6 * 3600.0)
    assert median.adjustment == "applied"
    assert median.adjusted_coverage == pytest.approx(60 / 100)
    assert (median.adjusted_before, median.adjusted_after, median.adjusted_difference) == (
        2 * 3600.0,
        3 * 3600.0,
        3600.0,
    )
    assert median.adjustment_note.startswith(
        "Over the 1 channel strata with cases on both sides, holding 60% of the cases"
    )


def test_rework_by_variant_is_fixed_by_the_stratum_and_the_adjustment_does_not_apply(store, tmp_path):
    rows = []
    t0 = dt.datetime(2024, 1, 1, 8, tzinfo=dt.UTC)
    for i in range(80):
        t = t0 + dt.timedelta(hours=12 * i)
        loop = (i % 4 == 0) if i < 40 else (i % 2 == 0)  # rework in a quarter of the cases, then half
        steps = ["A", "B", "B", "Z"] if loop else ["A", "B", "Z"]
        rows += [[f"r{i:02d}", a, (t + dt.timedelta(hours=k)).isoformat()] for k, a in enumerate(steps)]
    log = _load_rows(store, tmp_path, rows)
    facts = case_facts(store, log, timezone="UTC", end_activities=("Z",))
    change = dt.date(2024, 1, 21)  # case 40 starts on 21 January 08:00
    by_variant = compare(store, facts, summarize(facts), change, stratify="variant")
    rework = by_variant.get("rework_rate")
    assert (rework.before, rework.after) == (0.25, 0.5)
    assert rework.difference_label == "+25.0 percentage points"
    assert (rework.adjustment, rework.adjusted_difference, rework.adjusted_after) == (
        "does not apply",
        None,
        None,
    )
    assert rework.adjustment_note == (
        "The mix adjustment does not apply to rework rate: a case's variant fixes it, so within a variant it "
        "cannot change and reweighting the strata cannot tell a change in the process from a change in the mix."
    )
    # The cycle time is not fixed by the variant: it is adjusted.
    assert by_variant.get("cycle_median_s").adjustment == "applied"
    # This log has no case attribute: by default it is stratified by variant, and says why.
    default = compare(store, facts, summarize(facts), change)
    assert default.mix.by == "variant"
    assert default.mix.chosen == "Stratified by variant: the log has no case attribute."


def test_a_default_stratum_is_a_case_attribute_with_few_values_on_most_cases(store, tmp_path):
    # ticket: one value per event (not a case attribute); team: changes inside cases; region: 3 values
    # on every case; size: 2 values on 70 % of the cases only.
    rows = []
    t0 = dt.datetime(2024, 1, 1, 8, tzinfo=dt.UTC)
    for i in range(60):
        t = t0 + dt.timedelta(hours=12 * i)
        region = ("north", "south", "west")[i % 3]
        size = ("S", "L")[i % 2] if i % 10 < 7 else ""
        for k, a in enumerate(("A", "Z")):
            rows.append(
                [
                    f"d{i:02d}",
                    a,
                    (t + dt.timedelta(hours=k + 1)).isoformat(),
                    f"T{i}{k}",
                    f"team{k}",
                    region,
                    size,
                ]
            )
    header = ("case_id", "activity", "timestamp", "ticket", "team", "region", "size")
    log = _load_rows(store, tmp_path, rows, header=header)
    facts = case_facts(store, log, timezone="UTC")
    assert default_stratum(store, facts) == (
        "region",
        "Stratified by region, chosen as a case attribute with 3 values on 100% of the cases; ask for another "
        "attribute or for variant to compare.",
    )


def test_an_export_of_closed_cases_cuts_the_durations_after_a_late_change_short_and_says_so(store, tmp_path):
    # Half the cases take 10 h, half 100 h, on both sides.  The export holds only the cases closed by
    # its end (as a "closed tickets" export does): after a change three weeks before the end, the
    # long cases that started in its last 100 h are missing, so the durations after it look shorter.
    before = [10.0, 100.0] * 50
    after = [10.0, 100.0] * 20
    rows = _two_sides(before, after)
    starts = {r[0]: dt.datetime.fromisoformat(r[2]) for r in rows if r[1] == "A"}
    ends = {r[0]: dt.datetime.fromisoformat(r[2]) for r in rows if r[1] == "Z"}
    cut = max(starts.values()) + dt.timedelta(hours=20)
    closed = [r for r in rows if ends[r[0]] <= cut]
    log = _load_rows(store, tmp_path, closed)
    facts = case_facts(store, log, timezone="UTC", end_activities=("Z",))
    c = compare(store, facts, summarize(facts), dt.date(2024, 3, 1), stratify="variant")
    # The share, computed case by case: of the after-cases in the export, at the durations before the
    # change, how many would still be running at the data end.
    data_end = max(ends[case] for case in ends if ends[case] <= cut)
    kept_after = [case for case in starts if case.startswith("a") and ends[case] <= cut]
    hours = [(data_end - starts[case]).total_seconds() / 3600 for case in kept_after]
    expected = sum(sum(1 for d in before if d > h) / len(before) for h in hours) / len(hours)
    assert c.cut_short == pytest.approx(expected)
    assert len(kept_after) == 36 and c.cut_short > 0.02
    newest = min(hours)
    assert (
        f"The newest case that started after the change has had {format_duration(newest * 3600)} to finish "
        f"by the data end; at the durations seen before the change, {expected:.0%} of the cases after it "
        "would still be running then. Durations after the change, the 90th percentile most, are cut short"
    ) in " ".join(c.warnings)
    # The same export judged at a change early in the data: the after-cases had weeks to finish.
    early = compare(store, facts, summarize(facts), dt.date(2024, 1, 10), stratify="variant")
    assert early.cut_short is not None and early.cut_short < 0.02
    assert not any("would still be running" in w for w in early.warnings)


def test_the_default_stratum_counts_the_values_its_strata_have(store, shared_logs):
    # Helpdesk: seriousness_2 was chosen "with 3 values" (distinct per-case minima) while its strata,
    # each case's first value, were 4. A case's value is now its first one in both.
    from mining.analysis.filters import Filter
    from mining.monitor.compare import case_stratum

    log = ingest_file(store, shared_logs / "helpdesk.xes.gz").log_id
    stratum = case_stratum(store, case_facts(store, log, Filter()))
    assert stratum.chosen.startswith("Stratified by service_type, chosen as a case attribute with 3 values")
    assert [x for x in stratum.labels if " = " in x] == [
        "service_type = Value 1",
        "service_type = Value 2",
        "service_type = Value 3",
    ]
