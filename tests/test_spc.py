"""Control charts and capability: each Nelson rule fed by a series built to fire it, limits checked by hand.

Most series are a fixed 20-point baseline ``BASE`` (phase I, no signal of its
own) followed by a pattern written in sigma units of that baseline; the
baseline's last points matter for runs, so their z-scores are listed.
"""

from __future__ import annotations

import json
import math
import statistics

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from mining.errors import MonitorError
from mining.monitor.spc import NELSON_RULES, WESTERN_ELECTRIC, capability, cusum, imr_chart, p_chart, u_chart
from mining.schema import to_jsonable

# Mean 202/20 = 10.1; moving ranges sum to 45 over 19, so MR-bar = 45/19 and
# sigma = MR-bar / 1.128 = 2.0997.  z of points 15-19: 0.43, -1.0002, -0.05, 0.43, -0.52.
BASE = [10, 12, 9, 11, 8, 10, 13, 9, 11, 10, 7, 12, 10, 9, 12, 11, 8, 10, 11, 9]
CENTER = 202 / 20
SIGMA = 45 / 19 / 1.128


def after_base(zs):
    """BASE, then points at ``z`` baseline sigmas from its center (None stays missing); limits from BASE."""
    tail = [None if z is None else CENTER + z * SIGMA for z in zs]
    return imr_chart(BASE + tail, baseline=len(BASE))


def fired(chart):
    return [(s.rule, s.index) for s in chart.signals]


# -- limits -----------------------------------------------------------------


def test_baseline_has_no_signal_and_its_limits_match_a_hand_computation():
    i, mr = imr_chart(BASE)
    assert fired(i) == [] and fired(mr) == []
    assert i.center == pytest.approx(10.1)
    assert i.sigma[0] == pytest.approx(SIGMA)
    # 3 / 1.128 = 2.6596: the textbook's 2.66, unrounded.
    assert i.ucl[0] == pytest.approx(10.1 + 2.6596 * 45 / 19, abs=1e-3)
    assert i.lcl[0] == pytest.approx(10.1 - 3 * SIGMA)
    assert mr.center == pytest.approx(45 / 19)
    assert mr.ucl[0] == pytest.approx(3.267 * 45 / 19)
    assert mr.lcl == (0.0,) * 20
    assert mr.values[0] is None and mr.values[1:4] == (2.0, 3.0, 2.0)
    assert "2.66 times the average moving range" in i.note


def test_the_baseline_sets_the_limits_and_later_points_are_judged_against_them():
    late = [30.0, 31.0, 29.0]
    phased, _ = imr_chart(BASE + late, baseline=20)
    assert phased.baseline == 20
    assert phased.center == pytest.approx(10.1)
    assert phased.ucl[22] == pytest.approx(10.1 + 3 * SIGMA)
    assert phased.fired(1) == (20, 21, 22)
    assert "Points 20-22 are judged against these limits" in phased.note
    # Without a baseline the outliers take part in the limits.
    whole, _ = imr_chart(BASE + late)
    assert whole.center == pytest.approx((202 + 90) / 23)
    assert whole.ucl[0] > phased.ucl[0]


def test_the_example_of_the_docstring():
    i, mr = imr_chart([10, 12, 11, 13, 12, 30], baseline=5)
    # Center 58/5, MR-bar (2+1+2+1)/4 = 1.5.
    assert i.center == 11.6
    assert i.ucl[5] == pytest.approx(11.6 + 3 * 1.5 / 1.128)
    assert mr.ucl[5] == pytest.approx(3.267 * 1.5)
    assert fired(i) == [(1, 5)]
    assert fired(mr) == [(1, 5)]


def test_descriptions_use_the_labels():
    labels = [f"week of 2025-06-{d:02d}" for d in (2, 9, 16, 23, 30)] + ["week of 2025-07-07"]
    i, mr = imr_chart([10, 12, 11, 13, 12, 30], baseline=5, labels=labels)
    (signal,) = i.signals
    assert signal.name == "1 point beyond 3 sigma"
    assert signal.points == (5,)
    assert signal.description == (
        "Point 5 (week of 2025-07-07) is above the upper control limit: 30 against 15.59."
    )
    assert mr.signals[0].description == (
        "The jump into point 5 (week of 2025-07-07) is larger than the moving-range limit: "
        "18 against 4.901, an abrupt change."
    )
    assert i.labels == tuple(labels)


# -- each rule ----------------------------------------------------------------


def test_rule_1_a_single_outlier_fires_only_rule_1():
    i, mr = after_base([4.0])
    assert fired(i) == [(1, 20)]
    assert fired(mr) == [(1, 20)]
    low, _ = after_base([-4.0])
    assert fired(low) == [(1, 20)]
    assert "below the lower control limit" in low.signals[0].description


def test_rule_2_a_small_shift_fires_at_the_ninth_point_and_only_once():
    # +0.5 sigma from point 20: point 19 is below the center, so the run starts at 20.
    i, _ = after_base([0.5] * 8)
    assert fired(i) == []
    i, _ = after_base([0.5] * 9)
    assert fired(i) == [(2, 28)]
    assert i.signals[0].points == tuple(range(20, 29))
    assert "above the center line" in i.signals[0].description
    # The run goes on: no new signal at points 29-30.
    longer, _ = after_base([0.5] * 11)
    assert fired(longer) == [(2, 28)]
    # Two points more and points 17-31 have all stayed within 1 sigma: rule 7, still no new rule 2.
    assert fired(after_base([0.5] * 12)[0]) == [(2, 28), (7, 31)]
    # Broken by a point below the center, a new run fires again nine points later
    # (and every point from 17 on within 1 sigma fires rule 7 at 31).
    again, _ = after_base([0.5] * 9 + [-0.5] + [0.5] * 9)
    assert fired(again) == [(2, 28), (7, 31), (2, 38)]


def test_a_shift_of_one_and_a_half_sigma_fires_rules_6_8_and_2_in_that_order():
    i, _ = after_base([1.5] * 12)
    assert fired(i) == [(6, 23), (8, 27), (2, 28)]
    assert i.signals[0].points == (19, 20, 21, 22, 23)


def test_rule_3_six_points_five_increases():
    # Point 20 is below point 19 (-0.8 < -0.52), so the rise starts at 20.
    rise = [-0.8, -0.6, -0.4, -0.2, 0.1, 0.3]
    i, _ = after_base(rise[:5])
    assert fired(i) == []
    i, _ = after_base(rise)
    assert fired(i) == [(3, 25)]
    assert i.signals[0].points == tuple(range(20, 26))
    assert "rise steadily" in i.signals[0].description
    # Still rising: the same run, reported once.
    i, _ = after_base([*rise, 0.5, 0.7])
    assert fired(i) == [(3, 25)]
    # A tie breaks the run; it restarts at the tie.
    i, _ = after_base([-0.8, -0.6, -0.6, -0.4, -0.2, 0.1, 0.3])
    assert fired(i) == []
    i, _ = after_base([-0.8, -0.6, -0.6, -0.4, -0.2, 0.1, 0.3, 0.5])
    assert fired(i) == [(3, 27)]


def test_rule_3_falling():
    i, _ = after_base([0.8, 0.6, 0.4, 0.2, -0.1, -0.3])
    assert fired(i) == [(3, 25)]
    assert "fall steadily" in i.signals[0].description


def test_rule_4_fourteen_alternating_points():
    assert fired(imr_chart([10, 12] * 6 + [10])[0]) == []
    i, _ = imr_chart([10, 12] * 7)
    assert fired(i) == [(4, 13)]
    assert i.signals[0].points == tuple(range(14))
    # Still alternating: no new rule 4; but 15 points within 1 sigma now fire rule 7.
    assert fired(imr_chart([10, 12] * 8)[0]) == [(4, 13), (7, 14)]


def test_rule_5_two_of_three_beyond_two_sigma():
    i, _ = after_base([2.5, 0.5, 2.5])
    assert fired(i) == [(5, 22)]
    assert i.signals[0].points == (20, 21, 22)
    assert i.signals[0].description.startswith("2 of points 20-22 are more than 2 sigma above")
    # Alternating 2.5 / 1.5 sigma is one run of rule 5 (and four of five beyond 1 sigma at 23).
    i, _ = after_base([2.5, 1.5, 2.5, 1.5, 2.5])
    assert fired(i) == [(5, 22), (6, 23)]
    # Once the windows stop overlapping it is a new run; below the center is its own side.
    i, _ = after_base([2.5, 0, 2.5, 0, 0, 0, -2.5, 0, -2.5])
    assert fired(i) == [(5, 22), (5, 28)]
    assert "below the center line" in i.signals[1].description


def test_rule_6_four_of_five_beyond_one_sigma():
    i, _ = after_base([1.5, 1.5, 0.5, 1.5])
    assert fired(i) == []
    i, _ = after_base([1.5, 1.5, 0.5, 1.5, 1.5])
    assert fired(i) == [(6, 24)]
    assert i.signals[0].points == (20, 21, 22, 23, 24)


def test_rule_7_fifteen_points_hugging_the_center():
    calm = [0.3, 0.2, -0.3, -0.2, 0.4, 0.1, -0.1, -0.4, 0.3, 0.2, -0.3, -0.2, 0.4, 0.1, -0.1]
    # The 1.5-sigma point at 20 stops the run that the baseline's last points would start.
    i, _ = after_base([1.5, *calm[:-1]])
    assert fired(i) == []
    i, _ = after_base([1.5, *calm])
    assert fired(i) == [(7, 35)]
    assert i.signals[0].points == tuple(range(21, 36))


def test_rule_8_eight_points_away_from_the_center_on_both_sides():
    i, _ = after_base([1.5, 1.5, -1.5, -1.5, 1.5, 1.5, -1.5])
    assert fired(i) == []
    i, _ = after_base([1.5, 1.5, -1.5, -1.5, 1.5, 1.5, -1.5, -1.5])
    assert fired(i) == [(8, 27)]
    assert i.signals[0].points == tuple(range(20, 28))


def test_rules_can_be_chosen_western_electric_included():
    i, _ = imr_chart(BASE + [CENTER + 1.5 * SIGMA] * 12, baseline=20, rules=WESTERN_ELECTRIC.values())
    assert fired(i) == [(6, 23), (2, 28)]
    i, _ = imr_chart(BASE + [CENTER + 1.5 * SIGMA] * 12, baseline=20, rules=[8])
    assert fired(i) == [(8, 27)]
    with pytest.raises(MonitorError, match=r"unknown rule\(s\) \[9\]: Nelson rules are numbered 1 to 8"):
        imr_chart(BASE, rules=[1, 9])


# -- missing points, constant series, errors ---------------------------------


def test_missing_points_keep_their_index_and_runs_pass_over_them():
    i, mr = after_base([None, 4.0])
    assert i.values[20] is None
    assert fired(i) == [(1, 21)]
    # The moving range spans the gap: point 19 to point 21.
    assert mr.values[20] is None
    assert mr.values[21] == pytest.approx(CENTER + 4 * SIGMA - 9)
    i, _ = after_base([0.5] * 4 + [None] + [0.5] * 5)
    assert fired(i) == [(2, 29)]
    assert i.signals[0].points == (20, 21, 22, 23, 25, 26, 27, 28, 29)
    assert "1 missing point(s) are skipped" in i.note
    # A missing point in the baseline is left out of the limits.
    with_gap, _ = imr_chart([10, None, 12, 11, float("nan"), 13], baseline=4)
    assert with_gap.center == 11.0
    assert with_gap.values[4] is None


def test_a_constant_series_has_no_sigma_and_no_zone_rules():
    i, mr = imr_chart([5.0] * 30)
    assert (i.center, i.ucl[0], i.lcl[0]) == (5.0, 5.0, 5.0)
    assert i.sigma == (None,) * 30 and mr.sigma == (None,) * 30
    assert fired(i) == [] and fired(mr) == []
    assert "no variation (MR̄ = 0)" in i.note and "zone rules (1, 5, 6, 7, 8) are not applied" in i.note
    # A float whose mean is off by an ulp (0.1 * 3 / 3) still sits on the center line.
    assert fired(imr_chart([0.1] * 30)[0]) == []
    # After a flat baseline a shift is seen by rule 2, never by rule 1.
    shifted, _ = imr_chart([5.0] * 10 + [6.0] * 9, baseline=10)
    assert fired(shifted) == [(2, 18)]


def test_bad_input_is_refused_with_a_reason():
    with pytest.raises(
        MonitorError, match=r"baseline must count 1 to 5 leading points \(the series has 5\), got 0"
    ):
        imr_chart([1, 2, 3, 4, 5], baseline=0)
    with pytest.raises(
        MonitorError, match=r"needs at least 2 values in the baseline \(points 0-2\); found 1"
    ):
        imr_chart([1, None, None, 4, 5], baseline=3)
    with pytest.raises(MonitorError, match=r"expected one label per point \(3\), got 2"):
        imr_chart([1, 2, 3], labels=["a", "b"])
    with pytest.raises(MonitorError, match="point 1: expected a finite number or None, got inf"):
        imr_chart([1, math.inf, 3])
    with pytest.raises(MonitorError, match="the series is empty"):
        imr_chart([])


# -- p-chart ------------------------------------------------------------------


def test_p_chart_limits_vary_with_the_period_size():
    c = p_chart([5, 10, 3], [100, 400, 100])
    assert c.kind == "p" and c.center == 0.03
    assert c.values == (0.05, 0.025, 0.03)
    assert c.ucl[0] == pytest.approx(0.03 + 3 * math.sqrt(0.03 * 0.97 / 100))  # 0.08118
    assert c.ucl[1] == pytest.approx(0.03 + 3 * math.sqrt(0.03 * 0.97 / 400))  # 0.05559
    assert c.lcl[1] == pytest.approx(0.03 - 3 * math.sqrt(0.03 * 0.97 / 400))  # 0.00441
    # Clipped at 0 where p-bar - 3 sigma is negative.
    assert c.lcl[0] == 0.0 and c.lcl[2] == 0.0
    assert c.signals == ()


def test_p_chart_rule_1_with_a_baseline_and_an_empty_period():
    defects = [3, 2, 4, 3, 3, 2, 4, 3, 3, 3, 0, 15]
    sizes = [100] * 10 + [0, 100]
    labels = [f"W{k}" for k in range(1, 13)]
    c = p_chart(defects, sizes, baseline=10, labels=labels)
    assert c.center == 0.03
    assert c.values[10] is None and c.ucl[10] is None and c.lcl[10] is None
    assert fired(c) == [(1, 11)]
    assert (
        c.signals[0].description == "Point 11 (W12) is above the upper control limit: 15.00% against 8.12%."
    )
    assert "1 period(s) without units are skipped" in c.note


def test_p_chart_with_no_defects_in_the_baseline_has_no_sigma():
    c = p_chart([0] * 10 + [1] * 9, [50] * 19, baseline=10)
    assert c.center == 0.0 and c.ucl[0] == 0.0
    assert fired(c) == [(2, 18)]
    assert "Every baseline unit is good: there is no sigma" in c.note


def test_p_chart_refuses_impossible_counts():
    with pytest.raises(
        MonitorError, match=r"p-chart point 1 \(W2\): expected 0 <= defects <= size, got 5 defects out of 4"
    ):
        p_chart([1, 5], [10, 4], labels=["W1", "W2"])
    with pytest.raises(MonitorError, match="got 2 counts and 3 sizes"):
        p_chart([1, 2], [10, 10, 10])
    with pytest.raises(MonitorError, match=r"every period there is empty"):
        p_chart([0, 0, 1], [0, 0, 5], baseline=2)


def test_charts_are_plain_json():
    i, _ = after_base([None, 4.0])
    data = json.loads(json.dumps(to_jsonable(i), allow_nan=False))
    assert data["kind"] == "I" and data["values"][20] is None
    assert data["signals"][0]["rule"] == 1 and data["signals"][0]["index"] == 21


# -- capability ---------------------------------------------------------------


def test_capability_one_sided_against_a_hand_computation():
    cap = capability([2.0, 4.0, 3.0, 5.0, 6.0], usl=8.0)
    sigma_w = 1.5 / 1.128  # moving ranges 2, 1, 2, 1
    sigma_o = math.sqrt(2.5)  # squared deviations 4, 0, 1, 1, 4 over n - 1
    assert (cap.n, cap.mean) == (5, 4.0)
    assert cap.sigma_within == pytest.approx(sigma_w)
    assert cap.sigma_overall == pytest.approx(sigma_o)
    assert cap.cp is None and cap.pp is None
    assert cap.cpk == pytest.approx(4 / (3 * sigma_w))  # 1.0027
    assert cap.ppk == pytest.approx(4 / (3 * sigma_o))  # 0.8433
    assert cap.sigma_level == pytest.approx(3 * cap.cpk)
    assert (cap.defects, cap.defect_rate, cap.process_sigma) == (0, 0.0, None)
    assert cap.expected_ppm == pytest.approx(1e6 * (1 - statistics.NormalDist().cdf(4 / sigma_o)))  # 5,706
    assert "Cp and Pp are undefined" in cap.note
    assert "right-skewed" in cap.note and "observed defect rate" in cap.note


def test_capability_two_sided():
    cap = capability([2.0, 4.0, 3.0, 5.0, 6.0], usl=8.0, lsl=1.0)
    sigma_w, sigma_o = 1.5 / 1.128, math.sqrt(2.5)
    assert cap.cp == pytest.approx(7 / (6 * sigma_w))  # 0.8773
    assert cap.cpk == pytest.approx(3 / (3 * sigma_w))  # the lower side is nearer
    assert cap.pp == pytest.approx(7 / (6 * sigma_o))
    assert cap.ppk == pytest.approx(3 / (3 * sigma_o))


def test_capability_counts_defects_and_gives_the_long_term_sigma():
    cap = capability(list(range(1, 11)), usl=8)
    assert (cap.defects, cap.defect_rate) == (2, 0.2)
    # Normal quantile of the 80% in spec, plus the 1.5 shift.
    assert cap.process_sigma == pytest.approx(0.841621 + 1.5, abs=1e-6)
    assert capability([1, 2, 3, 4], usl=2.5).process_sigma == pytest.approx(1.5)
    # On the limit meets the SLA.
    assert capability([8, 8, 7, None], usl=8).defects == 0


def test_capability_of_constant_values_and_bad_specs():
    cap = capability([3.0, 3.0, 3.0], usl=5.0)
    assert (cap.cpk, cap.ppk, cap.sigma_level, cap.expected_ppm) == (None, None, None, None)
    assert "do not vary" in cap.note
    with pytest.raises(MonitorError, match="give an upper limit"):
        capability([1, 2], usl=None)
    with pytest.raises(MonitorError, match=r"the lower limit \(5\) must be below the upper limit \(4\)"):
        capability([1, 2], usl=4, lsl=5)
    with pytest.raises(MonitorError, match="at least 2 values, got 1"):
        capability([1, None], usl=4)


# -- invariants ---------------------------------------------------------------


@st.composite
def charted(draw):
    """(series, baseline): random integers with gaps, or segments that tend to fire the run rules
    (trends, alternation, shifted levels, noise, gaps), with a random baseline."""
    if draw(st.booleans()):
        xs = draw(st.lists(st.one_of(st.none(), st.integers(-50, 50)), min_size=3, max_size=60))
    else:
        xs = []
        segments = st.tuples(st.sampled_from("udahlng"), st.integers(2, 18))
        for kind, length in draw(st.lists(segments, min_size=1, max_size=6)):
            wiggle = draw(st.lists(st.integers(0, 2), min_size=length, max_size=length))
            xs += {
                "u": [2 * k + w for k, w in enumerate(wiggle)],
                "d": [40 - 2 * k - w for k, w in enumerate(wiggle)],
                "a": [(20 if k % 2 else 14) + w for k, w in enumerate(wiggle)],
                "h": [30 + w for w in wiggle],
                "l": [5 + w for w in wiggle],
                "n": [draw(st.integers(0, 40)) for _ in wiggle],
                "g": [None if w == 0 else 17 + w for w in wiggle],
            }[kind]
    baseline = draw(st.integers(2, max(2, len(xs))))
    assume(len(xs) >= baseline and sum(x is not None for x in xs[:baseline]) >= 2)
    return xs, baseline


RUN_LENGTH = {2: 9, 3: 6, 4: 14, 7: 15, 8: 8}


def keyed(chart):
    return [(s.rule, s.index, s.points) for s in chart.signals]


@settings(max_examples=200, deadline=None)
@given(charted(), st.integers(-1000, 1000), st.sampled_from([0.25, 0.5, 2.0, 3.0, 1000.0]))
def test_shifting_and_scaling_move_the_limits_and_keep_the_signals(case, shift, scale):
    xs, baseline = case
    i, mr = imr_chart(xs, baseline=baseline)
    moved, moved_mr = imr_chart([None if x is None else x + shift for x in xs], baseline=baseline)
    assert moved.center == pytest.approx(i.center + shift)
    assert moved.ucl[0] == pytest.approx(i.ucl[0] + shift)
    assert moved.lcl[0] == pytest.approx(i.lcl[0] + shift)
    assert keyed(moved) == keyed(i) and keyed(moved_mr) == keyed(mr)
    scaled, scaled_mr = imr_chart([None if x is None else x * scale for x in xs], baseline=baseline)
    assert scaled.center == pytest.approx(i.center * scale)
    assert scaled.ucl[0] - scaled.center == pytest.approx((i.ucl[0] - i.center) * scale)
    assert scaled_mr.ucl[0] == pytest.approx(mr.ucl[0] * scale)
    assert keyed(scaled) == keyed(i) and keyed(scaled_mr) == keyed(mr)


#: Two alternating runs that pivot on point 13 (14 -> 15 -> 20 rises twice): both hold it.
PIVOT = ([14, 20] * 6 + [14, 15] + [20, 14] * 5 + [20, 0, 2], 2)


@settings(max_examples=200, deadline=None)
@given(charted())
@example(PIVOT)
def test_signals_are_consistent_with_the_limits_and_reported_once(case):
    xs, baseline = case
    i, _ = imr_chart(xs, baseline=baseline)
    sigma = i.sigma[0]
    if sigma is not None:
        # Rule 1 fires exactly at the points clearly outside the limits.
        margin = 1e-6 * sigma
        outside = {
            k for k, x in enumerate(xs) if x is not None and (x > i.ucl[k] + margin or x < i.lcl[k] - margin)
        }
        inside = {k for k, x in enumerate(xs) if x is not None and i.lcl[k] + margin < x < i.ucl[k] - margin}
        assert outside <= set(i.fired(1))
        assert not inside & set(i.fired(1))
    else:
        assert all(s.rule in (2, 3, 4) for s in i.signals)
    for s in i.signals:
        assert s.index == s.points[-1] and list(s.points) == sorted(s.points)
        assert all(xs[k] is not None for k in s.points)
        if s.rule in RUN_LENGTH:
            assert len(s.points) == RUN_LENGTH[s.rule]
    # A run is reported once: two signals of one run rule never share a point, except that
    # an alternation may start at the point where the last one broke (rule 3 trends likewise
    # share their peak, hence it is not checked here).
    for rule in (2, 4, 7, 8):
        seen: set[int] = set()
        for s in i.signals:
            if s.rule == rule:
                shared = seen & set(s.points)
                assert not shared or (rule == 4 and shared == {s.points[0]} and s.points[0] == max(seen))
                seen |= set(s.points)
    assert {s.rule for s in i.signals} <= set(NELSON_RULES)


# -- phases, Laney, u-chart, CUSUM ---------------------------------------------------


def test_phases_have_their_own_limits_and_runs_stop_at_the_phase_edge():
    from mining.monitor.spc import Phase

    before, after = [10, 12] * 10, [20, 22] * 5
    plan = [Phase(0, 20, tuple(range(20)), "before"), Phase(20, 30, tuple(range(20, 30)), "after")]
    i, mr = imr_chart(before + after, phases=plan)
    assert i.centers == (11.0,) * 20 + (21.0,) * 10 and i.center == 21.0
    assert i.center_at(5) == 11.0 and i.center_at(25) == 21.0
    # Each phase's moving ranges are 2; the jump between the phases (12 to 20) is not one of them.
    assert mr.centers == (2.0,) * 30 and mr.values[20] == 8.0
    # MR-bar is 2 in both phases: sigma 2 / 1.128, limits at center +- 5.32.
    assert i.ucl[0] == pytest.approx(11 + 3 * 2 / 1.128) and i.ucl[29] == pytest.approx(21 + 3 * 2 / 1.128)
    # Judged against its own phase, the new level fires nothing; against the old one it is beyond 3 sigma.
    assert fired(i) == [(4, 13), (7, 14)]  # patterns of the alternating before-phase, none after
    one, _ = imr_chart(before + after, baseline=20)
    assert set(one.fired(1)) == set(range(20, 30))
    assert "before: center = mean of the 20 baseline values (points 0-19)" in i.note
    assert "after: center = mean of the 10 baseline values (points 20-29)" in i.note


def test_a_baseline_of_chosen_points_leaves_the_others_out_of_the_limits():
    from mining.monitor.spc import Phase

    xs = [10.0, 12, 100, 11, 13, 12, 30]  # point 2 is not in the baseline (say, a partial period)
    i, _ = imr_chart(xs, phases=[Phase(0, 7, (0, 1, 3, 4, 5))])
    assert i.center == 11.6 and i.fired(1) == (2, 6)
    assert (
        "(5 points from 0 to 5)" in i.note
        and "2 points from 2 to 6 are judged against these limits" in i.note
    )


def test_points_before_the_baseline_are_drawn_against_its_limits_but_not_judged():
    from mining.monitor.spc import Phase

    # Point 0 is far above limits set by later points: what was usual then, they cannot say.
    xs = [100.0, 10, 12, 11, 13, 12, 30]
    i, mr = imr_chart(xs, phases=[Phase(0, 7, (1, 2, 3, 4, 5))])
    assert i.center == 11.6 and i.fired(1) == (6,)
    assert i.ucl[0] == i.ucl[6] and i.centers[0] == 11.6  # still drawn against them
    assert "Point 6 is judged against these limits." in i.note
    assert "Point 0, before the baseline, is drawn against its limits but not judged" in i.note
    assert mr.fired(1) == (6,)  # nor is the jump from point 0 into the baseline
    assert cusum(i).fired() == (6,)


def test_each_phase_judges_its_points_from_its_own_baseline_on():
    from mining.monitor.spc import Phase

    # Before and after a change, each phase's limits set by its last five points: the five before
    # those, in each phase, lie far off and are not flagged; the points after the baselines are.
    old, new = [50.0] * 5 + [10, 12, 11, 13, 12], [90.0] * 5 + [20, 22, 21, 23, 22]
    labels = [f"w{i}" for i in range(22)]
    i, _ = imr_chart(
        [*old, *new, 40, 12],
        phases=[Phase(0, 10, (5, 6, 7, 8, 9), "Before"), Phase(10, 22, (15, 16, 17, 18, 19), "After")],
        labels=labels,
    )
    assert i.fired(1) == (20, 21)
    assert (
        "Points 0-4 (w0 to w4) and points 10-14 (w10 to w14), each before its phase's baseline, are drawn "
        "against their phase's limits but not judged" in i.note
    )


def test_a_thin_last_half_year_flags_none_of_the_busier_years_before_it():
    from mining.monitor.spc import Phase

    # Road Traffic Fines: 676 weeks of 20-100 new cases a working day, then 26 of about 8 that set
    # the limits of the newest week; the chart flagged 496 older weeks against them.
    busy = [(60 + 40 * ((i % 52) < 10)) * 5 for i in range(100)]
    thin = [40 + (i % 3) for i in range(26)]
    counts = busy + thin + [45]
    chart = u_chart(counts, [5.0] * len(counts), phases=[Phase(0, len(counts), tuple(range(100, 126)))])
    assert [s.index for s in chart.signals if min(s.points) < 100] == []
    assert chart.center == pytest.approx(sum(thin) / 130)
    assert chart.ucl[0] < busy[0] / 5  # the old weeks lie far above today's limits, and are not flagged
    assert "Points 0-99, before the baseline, are drawn against its limits but not judged" in chart.note
    assert "Point 126 is judged against ū." in chart.note


def test_phases_must_cover_the_series():
    from mining.monitor.spc import Phase

    with pytest.raises(MonitorError, match="phases must cover points 0-4 in order"):
        imr_chart([1, 2, 3, 4, 5], phases=[Phase(0, 3, (0, 1))])
    with pytest.raises(MonitorError, match="phases must follow each other"):
        imr_chart([1, 2, 3, 4, 5], phases=[Phase(0, 2, (0, 1)), Phase(3, 5, (3, 4))])


def test_laney_widens_the_limits_of_overdispersed_rates_and_never_narrows_them():
    # 20 periods of 1,000 cases: the rate swings between 10 % and 14 %, far more than binomial.
    defects = [100, 140] * 10
    sizes = [1000] * 20
    classic = p_chart(defects, sizes)
    laney = p_chart(defects, sizes, laney=True)
    assert classic.center == laney.center == 0.12
    binomial = math.sqrt(0.12 * 0.88 / 1000)
    # z alternates +-1.946: MR-bar(z) = 3.892, sigma_z = 3.45.
    sigma_z = 2 * 0.02 / binomial / 1.128
    assert classic.ucl[0] == pytest.approx(0.12 + 3 * binomial)
    assert laney.ucl[0] == pytest.approx(0.12 + 3 * binomial * sigma_z)
    assert classic.fired(1) == () and {s.rule for s in classic.signals} >= {4}
    assert "times Laney's sigma_z = 3.45" in laney.note
    # Calmer than binomial: sigma_z is not taken below 1.
    calm = p_chart([120, 121] * 10, sizes, laney=True)
    assert calm.ucl[0] == pytest.approx(0.1205 + 3 * math.sqrt(0.1205 * 0.8795 / 1000))


def test_u_chart_judges_counts_per_unit_of_exposure():
    # Five working days a week, 50 cases a week; the holiday week has three days and 30 cases.
    counts = [50] * 10 + [30, 51]
    days = [5.0] * 10 + [3.0, 5.0]
    c = u_chart(counts, days, baseline=10, laney=False, unit="cases per working day")
    assert c.kind == "u" and c.center == 10.0
    assert c.values[10] == 10.0 and c.fired(1) == ()
    assert c.ucl[10] == pytest.approx(10 + 3 * math.sqrt(10 / 3))
    assert c.ucl[11] == pytest.approx(10 + 3 * math.sqrt(10 / 5))
    # Judged as a raw count, the holiday week would be far below the usual 50.
    raw, _ = imr_chart([float(x) for x in counts[:10]] + [30.0, 51.0], baseline=10)
    assert raw.sigma[0] is None  # ten identical weeks: no sigma at all
    low = u_chart([50] * 10 + [10], [5.0] * 11, baseline=10, laney=False)
    assert low.fired(1) == (10,)
    assert "center ū = 500 / 50 = 10 per unit" in low.note
    empty = u_chart([50, 50, 0], [5.0, 5.0, 0.0], laney=False)
    assert empty.values[2] is None and empty.ucl[2] is None
    with pytest.raises(MonitorError, match=r"expected a count >= 0 and an exposure >= 0, got 1 and -1\.0"):
        u_chart([1], [-1.0])


def test_cusum_catches_a_sustained_shift_that_no_point_shows():
    from mining.monitor.spc import cusum

    # 20 baseline points (sigma 1.773), then a shift of 1.13 sigma: no point is beyond 3 sigma.
    i, _ = imr_chart([10, 12] * 10 + [13.0] * 10, baseline=20)
    shift = cusum(i)
    assert i.fired(1) == () and shift is not None
    assert shift.fired() == (27,)
    sig = shift.signals[0]
    assert (sig.direction, sig.since) == ("up", 19)
    # Point 19 starts the sum (z = 0.56, 0.06 over k); eight points of z = 1.128 add 0.628 each.
    sigma = 2 / 1.128
    assert sig.statistic == pytest.approx((1 / sigma - 0.5) + 8 * (2 / sigma - 0.5))
    # The sums restart after a signal: the next one needs another eight points.
    assert shift.upper[28] == pytest.approx((13 - 11) / (2 / 1.128) - 0.5)
    assert max(shift.upper[:19]) == pytest.approx(1 / sigma - 0.5)  # the baseline never builds a sum
    assert "decision interval of h = 5 sigma" in shift.note


def test_cusum_of_an_in_control_series_stays_quiet_and_a_flat_one_has_none():
    from mining.monitor.spc import cusum

    i, _ = imr_chart(BASE * 3)
    assert cusum(i).signals == ()
    flat, _ = imr_chart([5.0] * 20)
    assert cusum(flat) is None


def test_descriptions_and_notes_use_the_callers_formatter():
    from mining.durations import format_duration

    hours = [3600.0 * h for h in (20, 22, 21, 23, 22, 60)]
    i, mr = imr_chart(hours, baseline=5, fmt=format_duration)
    assert i.signals[0].description == ("Point 5 is above the upper control limit: 2d 12h against 1d 01h.")
    assert "MR̄ = 1h 30m" in i.note and "e+" not in i.note
    assert "e+" not in mr.signals[0].description
