"""Variants, shares and drill-down on hand-made logs."""

from __future__ import annotations

import datetime as dt

import pytest

from mining.analysis.filters import Filter
from mining.analysis.variants import (
    CaseList,
    Variant,
    VariantTable,
    cases_of_variant,
    events_of_case,
    variants,
)
from mining.errors import AnalysisError
from tests.tinylog import TINY
from tests.tinylog import load_hours as load

UTC = dt.UTC
T0 = dt.datetime(2024, 1, 1, tzinfo=UTC)


def test_variants_shares_and_order(store, tmp_path):
    table = variants(store, load(store, tmp_path, TINY))
    assert table == VariantTable(
        variants=(
            Variant(1, ("A", "B", "C"), 2, 0.5, 0.5),
            # Ties in frequency go by the activity sequence: A B B C < A C.
            Variant(2, ("A", "B", "B", "C"), 1, 0.25, 0.75),
            Variant(3, ("A", "C"), 1, 0.25, 1.0),
        ),
        total_cases=4,
        total_variants=3,
    )


def test_top_truncates_but_totals_stay_whole(store, tmp_path):
    log = load(store, tmp_path, TINY)
    table = variants(store, log, top=1)
    assert [v.activities for v in table.variants] == [("A", "B", "C")]
    assert (table.total_cases, table.total_variants) == (4, 3)
    none = variants(store, log, top=0)
    assert (none.variants, none.total_cases, none.total_variants) == ((), 4, 3)
    assert len(variants(store, log, top=10).variants) == 3
    with pytest.raises(AnalysisError, match="top"):
        variants(store, log, top=-1)


def test_case_filter_counts_selected_cases_and_keeps_stored_ids(store, tmp_path):
    log = load(store, tmp_path, TINY)
    # c1 lasts 3 h, c2 2.5 h, c3 4 h, c4 1 h 40 min: keep those of at least 2.5 h.
    table = variants(store, log, Filter(min_duration_s=2.5 * 3600))
    assert [(v.variant_id, v.activities, v.cases) for v in table.variants] == [
        (1, ("A", "B", "C"), 2),
        (3, ("A", "C"), 1),
    ]
    assert [v.share for v in table.variants] == pytest.approx([2 / 3, 1 / 3])
    assert table.variants[-1].cumulative_share == pytest.approx(1.0)


def test_projection_rebuilds_traces_and_reranks(store, tmp_path):
    log = load(store, tmp_path, TINY)
    table = variants(store, log, Filter(activities_keep=("A", "C")))
    assert [(v.variant_id, v.activities, v.cases) for v in table.variants] == [(1, ("A", "C"), 4)]
    table = variants(store, log, Filter(activities_remove=("C",)))
    assert [(v.variant_id, v.activities, v.cases) for v in table.variants] == [
        (1, ("A", "B"), 2),
        (2, ("A",), 1),
        (3, ("A", "B", "B"), 1),
    ]
    # Cases left without events drop out of the totals.
    table = variants(store, log, Filter(activities_keep=("B",)))
    assert (table.total_cases, [v.activities for v in table.variants]) == (3, [("B",), ("B", "B")])


def test_projected_traces_use_time_then_file_order(store, tmp_path):
    log = load(store, tmp_path, [("t", "Y", 5), ("t", "X", 5), ("t", "Z", 1), ("t", "W", 9)])
    table = variants(store, log, Filter(activities_remove=("W",)))
    assert table.variants[0].activities == ("Z", "Y", "X")


def test_cases_of_variant_lists_cases_earliest_first(store, tmp_path):
    rows = [(f"k{i}", a, i + h) for i in range(5) for a, h in (("A", 0), ("B", 1))] + [("z", "B", 0)]
    log = load(store, tmp_path, rows)
    found = cases_of_variant(store, log, 1, limit=3)
    assert isinstance(found, CaseList)
    assert [c.case_id for c in found.cases] == ["k0", "k1", "k2"]
    assert found.truncated
    assert found.cases[0].n_events == 2
    assert found.cases[0].duration_seconds == 3600.0
    assert found.cases[1].start == dt.datetime(2024, 1, 1, 1, tzinfo=UTC)
    everything = cases_of_variant(store, log, 1, limit=5)
    assert (len(everything.cases), everything.truncated) == (5, False)
    assert [c.case_id for c in cases_of_variant(store, log, 2).cases] == ["z"]
    # With a filter, only the selected cases of that variant.
    assert [
        c.case_id
        for c in cases_of_variant(
            store, log, 1, Filter(start=dt.datetime(2024, 1, 1, 3, tzinfo=UTC), window="started")
        ).cases
    ] == ["k3", "k4"]


def test_cases_of_a_projected_variant(store, tmp_path):
    log = load(store, tmp_path, TINY)
    flt = Filter(activities_remove=("C",))
    ids = {v.activities: v.variant_id for v in variants(store, log, flt).variants}
    found = cases_of_variant(store, log, ids[("A", "B")], flt)
    assert [c.case_id for c in found.cases] == ["c1", "c2"]
    # Figures are of the kept events: c1 is A at 0 h, B at 1 h.
    assert (found.cases[0].n_events, found.cases[0].duration_seconds) == (2, 3600.0)
    assert [c.case_id for c in cases_of_variant(store, log, ids[("A",)], flt).cases] == ["c3"]


def test_events_of_case_in_time_order(store, tmp_path):
    log = load(store, tmp_path, TINY)
    events = events_of_case(store, log, "c4")
    assert [e.activity for e in events] == ["A", "B", "B", "C"]
    assert events[1].timestamp == dt.datetime(2024, 1, 1, 0, 10, tzinfo=UTC)
    assert events[0].resource == "ann"
    with pytest.raises(AnalysisError, match="no case 'nope'"):
        events_of_case(store, log, "nope")


def test_stored_and_projected_paths_agree_on_a_trivial_projection(store, tmp_path):
    log = load(store, tmp_path, TINY)
    stored = variants(store, log)
    projected = variants(store, log, Filter(activities_remove=("not an activity",)))
    assert projected == stored


# -- CLI: mining variants -------------------------------------------------------
def run_variants(tmp_path, *args):
    import json

    from click.testing import CliRunner

    from mining.cli import cli
    from mining.store import Store

    path = tmp_path / "ws.duckdb"
    if not path.exists():
        with Store(path) as s:
            load(s, tmp_path, TINY)
    res = CliRunner().invoke(cli, ["-w", str(path), "variants", "tiny", *args])
    return res, (json.loads(res.output) if res.exit_code == 0 and "--json" in args else None)


def test_cli_variants_json_contract(tmp_path):
    res, data = run_variants(tmp_path, "--json")
    assert res.exit_code == 0, res.output
    assert data == {
        "variants": [
            {
                "variant_id": 1,
                "activities": ["A", "B", "C"],
                "cases": 2,
                "share": 0.5,
                "cumulative_share": 0.5,
            },
            {
                "variant_id": 2,
                "activities": ["A", "B", "B", "C"],
                "cases": 1,
                "share": 0.25,
                "cumulative_share": 0.75,
            },
            {"variant_id": 3, "activities": ["A", "C"], "cases": 1, "share": 0.25, "cumulative_share": 1.0},
        ],
        "total_cases": 4,
        "total_variants": 3,
    }


def test_cli_variants_top_and_filters(tmp_path):
    _, data = run_variants(tmp_path, "--json", "--top", "1")
    assert ([v["activities"] for v in data["variants"]], data["total_cases"], data["total_variants"]) == (
        [["A", "B", "C"]],
        4,
        3,
    )
    _, data = run_variants(tmp_path, "--json", "--top-variants", "2")
    assert (data["total_cases"], data["total_variants"]) == (3, 2)
    _, data = run_variants(tmp_path, "--json", "--coverage", "0.5")
    assert [v["cases"] for v in data["variants"]] == [2]
    # c3 (A C) ends at 04:00, the only case still open after 03:30.
    _, data = run_variants(tmp_path, "--json", "--start", "2024-01-01T03:30:00", "--window", "intersecting")
    assert [(v["variant_id"], v["activities"]) for v in data["variants"]] == [(3, ["A", "C"])]


def test_cli_variants_text_and_bad_flags(tmp_path):
    res, _ = run_variants(tmp_path, "--top", "2")
    assert res.exit_code == 0
    assert "3 variants over 4 cases" in res.output
    assert "A > B > C" in res.output
    assert "1 more (use --top)" in res.output
    res, _ = run_variants(tmp_path, "--coverage", "0")
    assert res.exit_code == 2
    res, _ = run_variants(tmp_path, "--window", "during")
    assert res.exit_code == 2
