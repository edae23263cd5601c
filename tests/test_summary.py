"""The Overview's activity table: events and cases per activity, as a plain count over the kept events."""

from __future__ import annotations

import pytest

from mining.analysis.dfg import dfg
from mining.analysis.filters import Filter, events_relation
from mining.analysis.summary import activity_table
from mining.ingest import ingest_file
from tests.conftest import SAMPLE_LOGS


@pytest.fixture
def sample(store) -> int:
    return ingest_file(store, SAMPLE_LOGS / "service_desk.csv").log_id


def test_activity_counts_come_from_the_variants_and_match_a_count_over_the_kept_events(store, sample):
    names = list(dfg(store, sample).activities)
    filters = [
        Filter(),
        Filter(activities_keep=tuple(names[:3])),
        Filter(activities_remove=(names[0], names[4])),
        Filter(variant_top_k=2),
        Filter(activities_keep=tuple(names[:5]), with_activities=(names[-1],)),
        Filter(min_duration_s=2 * 86400.0),
        Filter(activities_keep=("no such activity",)),
    ]
    for flt in filters:
        rel = events_relation(store, sample, flt)
        expected = store.query(
            f"SELECT activity, count(*) AS n, count(DISTINCT case_no) FROM ({rel.sql}) e "
            "GROUP BY 1 ORDER BY n DESC, 1",
            rel.params,
        ).rows
        got = [(r.activity, r.events, r.cases) for r in activity_table(store, sample, flt)]
        assert got == [(a, int(n), int(c)) for a, n, c in expected], flt
    assert len(activity_table(store, sample)) == len(names) and not activity_table(store, sample, filters[-1])
