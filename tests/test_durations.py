"""Case durations: statistics, percentiles and histogram on hand-made logs."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from mining.analysis.durations import CaseDurations, all_case_durations, case_durations
from mining.analysis.filters import Filter
from mining.errors import AnalysisError
from tests.tinylog import load_hours as load

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
H = 3600.0


def cases_lasting(hours):
    """One case per duration: start at hour 0, end after it, with a middle event."""
    rows = []
    for i, h in enumerate(hours):
        rows += [(f"c{i}", "A", 0), (f"c{i}", "B", h / 2), (f"c{i}", "C", h)]
    return rows


DURATIONS_H = [0, 1, 2, 3, 4, 5, 6, 7, 8, 10]


def test_statistics_match_numpy(store, tmp_path):
    d = case_durations(store, load(store, tmp_path, cases_lasting(DURATIONS_H)))
    secs = np.array(DURATIONS_H) * H
    assert d.count == 10
    assert (d.min_seconds, d.max_seconds) == (0.0, 10 * H)
    assert d.mean_seconds == pytest.approx(secs.mean())
    assert d.median_seconds == pytest.approx(4.5 * H)
    # quantile_cont is numpy's default (linear) percentile: 8 h + 0.1 * 2 h.
    assert d.p90_seconds == pytest.approx(np.percentile(secs, 90)) == pytest.approx(8.2 * H)
    assert d.p95_seconds == pytest.approx(np.percentile(secs, 95))


def test_histogram_has_fixed_bins_with_edges(store, tmp_path):
    log = load(store, tmp_path, cases_lasting(DURATIONS_H))
    d = case_durations(store, log, bins=5)
    assert d.bin_edges == pytest.approx([0, 2 * H, 4 * H, 6 * H, 8 * H, 10 * H])
    # [0,2) 0 1 | [2,4) 2 3 | [4,6) 4 5 | [6,8) 6 7 | [8,10] 8 10
    assert d.bin_counts == (2, 2, 2, 2, 2)
    default = case_durations(store, log)
    assert (len(default.bin_counts), len(default.bin_edges), sum(default.bin_counts)) == (30, 31, 10)
    assert default.bin_counts[-1] == 1  # the maximum falls into the last bin
    with pytest.raises(AnalysisError, match="bins"):
        case_durations(store, log, bins=0)


def test_equal_durations_give_one_bin(store, tmp_path):
    d = case_durations(store, load(store, tmp_path, cases_lasting([2, 2, 2])))
    assert (d.bin_edges, d.bin_counts) == ((2 * H, 2 * H), (3,))


def test_single_event_case_lasts_zero(store, tmp_path):
    log = load(store, tmp_path, [("one", "A", 5), ("two", "A", 0), ("two", "B", 1)])
    assert all_case_durations(store, log) == (0.0, H)


def test_all_case_durations_sorted(store, tmp_path):
    log = load(store, tmp_path, cases_lasting([5, 1, 3]))
    assert all_case_durations(store, log) == (H, 3 * H, 5 * H)


def test_duration_filter_bounds_are_inclusive(store, tmp_path):
    log = load(store, tmp_path, cases_lasting(DURATIONS_H))
    kept = all_case_durations(store, log, Filter(min_duration_s=2 * H, max_duration_s=5 * H))
    assert kept == (2 * H, 3 * H, 4 * H, 5 * H)


def test_projection_recomputes_durations_over_kept_events(store, tmp_path):
    log = load(store, tmp_path, [*cases_lasting([2, 4]), ("only_c", "C", 0)])
    # Keeping A and B: each case lasts half as long; "only_c" has no event left.
    assert all_case_durations(store, log, Filter(activities_keep=("A", "B"))) == (H, 2 * H)
    d = case_durations(store, log, Filter(activities_keep=("B",)))
    assert (d.count, d.max_seconds) == (2, 0.0)


def test_no_case_kept_gives_empty_record(store, tmp_path):
    d = case_durations(store, load(store, tmp_path, cases_lasting([1])), Filter(min_duration_s=99 * H))
    assert d == CaseDurations(0, None, None, None, None, None, None, (), ())


def test_time_span_is_the_kept_cases_and_their_kept_events(store, tmp_path):
    log = load(store, tmp_path, [("a", "A", 0), ("a", "B", 5), ("b", "A", 10), ("b", "C", 30)])
    whole = case_durations(store, log)
    assert (whole.first_ts, whole.last_ts) == (T0, T0 + dt.timedelta(hours=30))
    late = case_durations(store, log, Filter(min_duration_s=10 * H))
    assert (late.first_ts, late.last_ts) == (T0 + dt.timedelta(hours=10), T0 + dt.timedelta(hours=30))
    # Without C, case b ends at its A: the span ends there too.
    projected = case_durations(store, log, Filter(activities_remove=("C",)))
    assert (projected.first_ts, projected.last_ts) == (T0, T0 + dt.timedelta(hours=10))
    assert case_durations(store, log, Filter(min_duration_s=99 * H)).first_ts is None


def test_cases_dated_outside_the_robust_span_are_left_out_and_counted(store):
    from mining.analysis.span import robust_span
    from mining.ingest import ingest_file
    from tests.conftest import FILES

    # Four cases; c4 is closed on SAP's "open" date 9999-12-31.
    log = ingest_file(store, FILES / "app" / "placeholder_open.csv").log_id
    whole = case_durations(store, log, log_scale=None)
    assert (whole.count, whole.left_out) == (4, 0)
    assert whole.p90_seconds > 1e11  # millennia: what the Overview showed before
    d = case_durations(store, log, log_scale=None, span=robust_span(store, log))
    assert (d.count, d.left_out) == (3, 1)
    # c1 1 day, c2 3 days, c3 36 hours: the placeholder case moves no figure.
    assert (d.min_seconds, d.median_seconds, d.max_seconds) == (86400.0, 129600.0, 259200.0)
    assert d.p90_seconds == pytest.approx(np.percentile([1, 1.5, 3], 90) * 86400)
    assert sum(d.bin_counts) == 3 and not d.log_bins
    # The kept cases' time range still names every kept case (the page clips it to the span).
    assert (d.first_ts.year, d.last_ts.year) == (2024, 9999)
    # A filter that keeps only the placeholder case leaves no figure, and says why.
    only = case_durations(
        store, log, Filter(starts_with=("a",), min_duration_s=1e9), span=robust_span(store, log)
    )
    assert (only.count, only.left_out, only.median_seconds) == (0, 1, None)


def test_cases_under_a_minute_have_a_bin_of_their_own_off_the_log_axis(store, tmp_path):
    # Road Traffic Fines (dated to the day): 4,920 cases of no time and 5,511 of one day shared a bar
    # drawn from 0.001 to 1.5 days, read as durations of minutes.
    from mining.ui.charts import duration_histogram

    hours = [0] * 6 + [24] * 5 + [48] * 4 + [72] * 3 + [24 * 400]
    d = case_durations(store, load(store, tmp_path, cases_lasting(hours)), log_scale=None)
    assert d.log_bins
    assert (d.bin_edges[0], d.bin_edges[1], d.bin_counts[0]) == (0.0, 24 * H, 6)
    assert d.under_a_minute == 6 and sum(d.bin_counts) == 19
    # The next bin starts at the shortest duration of at least a minute: the one-day cases.
    assert d.bin_counts[1] == 5
    bars = duration_histogram(d).to_dict()["datasets"]
    [rows] = bars.values()
    # In hours, the unit of the median: the first bar starts at the one-day cases.
    assert sum(r["cases"] for r in rows) == 13 and min(r["from"] for r in rows) == pytest.approx(24.0)
