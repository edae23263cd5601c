"""Few and true alerts, measured: stationary logs stay quiet, a step that slows is caught.

A few seeds here (the harness is :mod:`tests.drift_harness`); ``bench/monitoring.py``
runs 20 of each and prints the rates.
"""

from __future__ import annotations

import datetime as dt
import itertools
import statistics

import numpy as np

from mining.samples.drift import ORIGIN, PER_DAY, SLOWDOWN, drift_rows, export_end, shift_start
from tests.drift_harness import CYCLE_KPIS, SHIFT_WEEK, WEEKS, detect_shift, stationary_alerts

SEEDS = (0, 1, 2)


def test_the_generator_cuts_a_stationary_export_mid_week_with_open_and_truncated_cases():
    rows = drift_rows(5, weeks=WEEKS)
    first, last = rows[0][2], rows[-1][2]
    assert first >= ORIGIN + dt.timedelta(days=2, hours=13) and first.isoweekday() == 3  # a Wednesday
    assert last <= export_end(WEEKS) and export_end(WEEKS).isoweekday() == 4  # cut on a Thursday
    cases: dict[str, list[str]] = {}
    for case, activity, _, _ in rows:
        cases.setdefault(case, []).append(activity)
    assert sum(1 for acts in cases.values() if acts[0] != "Register") > 0  # began before the export
    assert sum(1 for acts in cases.values() if acts[-1] != "Close") > 0  # still open at its end
    # Constant arrivals: every whole week's count is within four standard deviations of 56.
    starts = [t for _, activity, t, _ in rows if activity == "Register"]
    weekly = np.bincount([(t - ORIGIN).days // 7 for t in starts])[1:WEEKS]
    assert all(abs(n - 7 * PER_DAY) < 4 * (7 * PER_DAY) ** 0.5 for n in weekly)


def test_the_shifted_log_slows_approve_from_its_week_on_and_nothing_else():
    def approve_waits(rows, after: bool) -> list[float]:
        by_case: dict[str, list[tuple[str, dt.datetime]]] = {}
        for case, activity, t, _ in rows:
            by_case.setdefault(case, []).append((activity, t))
        waits = []
        for events in by_case.values():
            for (a, t0), (b, t1) in itertools.pairwise(events):
                if b == "Approve" and a == "Check" and (t0 >= shift_start(SHIFT_WEEK)) == after:
                    waits.append((t1 - t0).total_seconds())
        return waits

    shifted = drift_rows(5, weeks=WEEKS, shift_week=SHIFT_WEEK)
    before, after = approve_waits(shifted, False), approve_waits(shifted, True)
    assert statistics.median(after) / statistics.median(before) > 0.9 * SLOWDOWN
    # An export taken earlier is the same process, cut: its rows are the first ones of the full export.
    cut = ORIGIN + dt.timedelta(weeks=25, hours=10)
    early = drift_rows(5, weeks=WEEKS, shift_week=SHIFT_WEEK, end=cut)
    assert early == [r for r in shifted if r[2] <= cut]


def test_stationary_logs_raise_no_alert_on_their_newest_judged_periods():
    assert {seed: stationary_alerts(seed) for seed in SEEDS} == dict.fromkeys(SEEDS, ())


def test_a_step_that_slows_raises_a_cycle_time_alert_within_weeks():
    found = [detect_shift(seed) for seed in SEEDS]
    # The weekly job sees it at its second or third Monday after the slowdown: the first week whose
    # cases have all finished.
    assert [d.runs for d in found] == [2, 2, 3]
    for d in found:
        assert d.alerts and {a.kpi for a in d.alerts} <= CYCLE_KPIS
        assert all((a.direction, a.assessment) == ("up", "worse") for a in d.alerts)
