"""The shared Filter: which cases each kind of condition keeps."""

from __future__ import annotations

import csv
import datetime as dt

import pytest

from mining.analysis.filters import Filter, case_selection, events_relation
from mining.analysis.variants import variants
from mining.errors import FilterError
from mining.ingest import IngestOptions, ingest_file

UTC = dt.UTC
ROLES = {
    "case": "case_id",
    "activity": "activity",
    "timestamp": "timestamp",
    "resource": "resource",
    "start_timestamp": None,
    "lifecycle": None,
    "cost": None,
}


def day(d: int) -> dt.datetime:
    return dt.datetime(2024, 1, d, tzinfo=UTC)


# case: (first day, last day, channel, resource of the last event, trace)
CASES = {
    "w0": (1, 2, "web", "ann", "ABC"),
    "w1": (3, 5, "web", "bob", "ABC"),
    "w2": (4, 10, "phone", "ann", "ABC"),
    "w3": (9, 12, "mail", "cy", "AC"),
    "w4": (11, 12, "phone", "ann", "ABBC"),
}


@pytest.fixture
def log(store, tmp_path):
    path = tmp_path / "windows.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["case_id", "activity", "timestamp", "resource", "channel"])
        for case, (first, last, channel, res, trace) in CASES.items():
            for i, act in enumerate(trace):
                when = day(first) if i < len(trace) - 1 else day(last)
                w.writerow(
                    [case, act, (when + dt.timedelta(minutes=i)).isoformat(), res if i else "ann", channel]
                )
    return ingest_file(store, path, IngestOptions(roles=ROLES)).log_id


def kept(store, log, flt):
    params: dict = {}
    sql = case_selection(store, log, flt, params)
    return {r[0] for r in store.query(f"SELECT case_id FROM cases WHERE case_no IN ({sql})", params).rows}


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        # Window [Jan 5, Jan 10): started in it, completed in it, or overlapping it.
        ("started", {"w3"}),
        ("completed", {"w1"}),
        ("intersecting", {"w1", "w2", "w3"}),
    ],
)
def test_time_window_modes(store, log, window, expected):
    assert kept(store, log, Filter(start=day(5), end=day(10), window=window)) == expected


def test_open_ended_windows(store, log):
    assert kept(store, log, Filter(start=day(11), window="started")) == {"w4"}
    assert kept(store, log, Filter(end=day(3), window="completed")) == {"w0"}
    assert kept(store, log, Filter(end=day(4), window="intersecting")) == {"w0", "w1"}


def test_unknown_window_mode_is_refused(store, log):
    with pytest.raises(FilterError, match="started, completed, intersecting"):
        kept(store, log, Filter(start=day(1), window="during"))


def test_top_k_and_coverage(store, log):
    # Variants: ABC x3 (id 1), ABBC x1 (id 2), AC x1 (id 3).
    assert [v.cases for v in variants(store, log).variants] == [3, 1, 1]
    assert kept(store, log, Filter(variant_top_k=1)) == {"w0", "w1", "w2"}
    assert kept(store, log, Filter(variant_top_k=2)) == {"w0", "w1", "w2", "w4"}
    # Coverage keeps variants until the share is reached; the one crossing the line stays.
    assert kept(store, log, Filter(variant_coverage=0.6)) == {"w0", "w1", "w2"}
    assert kept(store, log, Filter(variant_coverage=0.61)) == {"w0", "w1", "w2", "w4"}
    assert kept(store, log, Filter(variant_coverage=1.0)) == set(CASES)
    assert kept(store, log, Filter(variant_ids=(3,))) == {"w3"}
    with pytest.raises(FilterError, match="coverage"):
        kept(store, log, Filter(variant_coverage=1.5))


def test_attribute_filter(store, log):
    assert kept(store, log, Filter(attributes=(("channel", ("phone",)),))) == {"w2", "w4"}
    assert kept(store, log, Filter(attributes=(("channel", ("phone", "mail")),))) == {"w2", "w3", "w4"}
    assert kept(store, log, Filter(attributes=(("channel", ("fax",)),))) == set()


def test_unknown_attribute_lists_the_attributes(store, log):
    with pytest.raises(FilterError, match=r"no attribute 'colour'; attributes: 'channel'"):
        kept(store, log, Filter(attributes=(("colour", ("red",)),)))


def test_resource_filter_keeps_cases_touched_by_the_resource(store, log):
    assert kept(store, log, Filter(resources=("bob",))) == {"w1"}
    assert kept(store, log, Filter(resources=("cy", "bob"))) == {"w1", "w3"}


def test_duration_filter(store, log):
    days = 86400
    assert kept(store, log, Filter(min_duration_s=3 * days)) == {"w2", "w3"}
    # w0 lasts 1 day + 2 min (trace ABC), w4 1 day + 3 min (ABBC).
    assert kept(store, log, Filter(max_duration_s=1 * days + 180)) == {"w0", "w4"}
    assert kept(store, log, Filter(max_duration_s=1 * days + 179)) == {"w0"}


def test_conditions_combine_with_and(store, log):
    flt = Filter(attributes=(("channel", ("phone",)),), start=day(5), end=day(10), window="intersecting")
    assert kept(store, log, flt) == {"w2"}


def test_events_relation_without_projection_keeps_stored_successors(store, log):
    rel = events_relation(store, log, Filter(variant_ids=(3,)))
    rows = store.query(f"SELECT activity, next_activity FROM ({rel.sql}) ORDER BY ts", rel.params).rows
    assert rows == [("A", "C"), ("C", None)]
    assert "OVER" not in rel.sql  # no window sort when nothing is projected


def test_events_relation_with_projection_recomputes_successors(store, log):
    rel = events_relation(store, log, Filter(activities_remove=("B",), variant_ids=(2,)))
    rows = store.query(f"SELECT activity, next_activity FROM ({rel.sql}) ORDER BY ts", rel.params).rows
    assert rows == [("A", "C"), ("C", None)]


def test_chips_describe_the_active_conditions():
    assert Filter().chips() == []
    assert Filter().is_empty
    chips = Filter(variant_top_k=3, activities_keep=("A",)).chips()
    assert chips == ["activities: A", "top 3 variants"]
    # A window open at one end says so in words, dates only (the end is exclusive: the day before shows).
    day = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
    assert Filter(start=day).chips() == ["intersecting 2024-03-01 onwards"]
    assert Filter(end=day, window="completed").chips() == ["completed until 2024-02-29"]


def test_a_duration_chip_shows_durations_as_every_table_does():
    assert Filter(min_duration_s=5400, max_duration_s=2 * 86400 + 3600).chips() == [
        "duration 1h 30m to 2d 01h"
    ]
    assert Filter(min_duration_s=45).chips() == ["duration 45s to ∞"]
