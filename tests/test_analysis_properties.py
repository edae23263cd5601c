"""Invariants of the measures over generated logs (hypothesis).

Each generated log is also replayed in plain Python (stable sort of each case
by timestamp, ties in file order) to give reference edges and variants, with
and without an activity projection.  Random filters never add cases, and two
filters together keep no more than either alone.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import itertools
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mining.analysis.dfg import dfg
from mining.analysis.durations import all_case_durations, case_durations
from mining.analysis.filters import Filter
from mining.analysis.simplify import simplified_dfg
from mining.analysis.variants import cases_of_variant, endings, variants
from mining.ingest import IngestOptions, ingest_file
from mining.store import Store

T0 = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
ACTIVITIES = ("A", "B", "C", "D", "E")
RESOURCES = ("ann", "bob", "cy")
CHANNELS = ("web", "phone")
ROLES = {
    "case": "case_id",
    "activity": "activity",
    "timestamp": "timestamp",
    "resource": "resource",
    "start_timestamp": None,
    "lifecycle": None,
    "cost": None,
}
SETTINGS = settings(max_examples=12, deadline=None)

# Few hours and cases, so timestamp ties and shared variants are common.
events = st.tuples(
    st.sampled_from(["c1", "c2", "c3", "c4", "c5", "c6"]),
    st.sampled_from(ACTIVITIES),
    st.integers(0, 48),
    st.sampled_from(RESOURCES),
    st.sampled_from(CHANNELS),
)
logs = st.lists(events, min_size=1, max_size=40)
instants = st.integers(0, 48).map(lambda h: T0 + dt.timedelta(hours=h))
subsets = st.lists(st.sampled_from(ACTIVITIES), min_size=1, max_size=3, unique=True).map(tuple)
maybe = st.one_of

filters = st.builds(
    Filter,
    start=maybe(st.none(), instants),
    end=maybe(st.none(), instants),
    window=st.sampled_from(["started", "completed", "intersecting"]),
    activities_keep=maybe(st.just(()), subsets),
    activities_remove=maybe(st.just(()), subsets),
    attributes=maybe(st.just(()), st.sampled_from(CHANNELS).map(lambda c: (("channel", (c,)),))),
    variant_top_k=maybe(st.none(), st.integers(1, 4)),
    variant_coverage=maybe(st.none(), st.floats(0.05, 1.0)),
    min_duration_s=maybe(st.none(), st.integers(0, 30).map(lambda h: h * 3600.0)),
    max_duration_s=maybe(st.none(), st.integers(0, 48).map(lambda h: h * 3600.0)),
    resources=maybe(st.just(()), st.sampled_from(RESOURCES).map(lambda r: (r,))),
)


_names = itertools.count()


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    """One workspace for all examples: each log is loaded under a new name, so
    the measures are also checked not to mix logs."""
    with Store() as s:
        yield s, tmp_path_factory.mktemp("logs")


def ingest(ws, log) -> int:
    store, folder = ws
    name = f"log{next(_names)}"
    path = folder / f"{name}.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["case_id", "activity", "timestamp", "resource", "channel"])
        w.writerows([c, a, (T0 + dt.timedelta(hours=h)).isoformat(), r, ch] for c, a, h, r, ch in log)
    return ingest_file(store, path, IngestOptions(name=name, roles=ROLES)).log_id


def traces(log, keep=None) -> dict[str, tuple[str, ...]]:
    """Each case's activities sorted by time, ties in file order; projected on ``keep``."""
    by_case: dict[str, list[tuple[int, int, str]]] = {}
    for row, (c, a, h, _, _) in enumerate(log):
        if keep is None or a in keep:
            by_case.setdefault(c, []).append((h, row, a))
    return {c: tuple(a for _, _, a in sorted(evs)) for c, evs in by_case.items()}


def reference_edges(tr: dict[str, tuple[str, ...]]) -> Counter:
    return Counter(pair for t in tr.values() for pair in itertools.pairwise(t))


def reference_edge_cases(tr: dict[str, tuple[str, ...]]) -> Counter:
    return Counter(pair for t in tr.values() for pair in set(itertools.pairwise(t)))


def both(a: Filter, b: Filter) -> Filter:
    """The conjunction of two filters that share their window mode."""
    keep = a.activities_keep or b.activities_keep
    if a.activities_keep and b.activities_keep:
        keep = tuple(x for x in a.activities_keep if x in b.activities_keep) or ("no such activity",)

    def pick(x, y, f):
        return y if x is None else x if y is None else f(x, y)

    return Filter(
        start=pick(a.start, b.start, max),
        end=pick(a.end, b.end, min),
        window=a.window,
        activities_keep=keep,
        activities_remove=tuple(sorted(set(a.activities_remove) | set(b.activities_remove))),
        attributes=a.attributes + b.attributes,
        variant_top_k=pick(a.variant_top_k, b.variant_top_k, min),
        variant_coverage=pick(a.variant_coverage, b.variant_coverage, min),
        min_duration_s=pick(a.min_duration_s, b.min_duration_s, max),
        max_duration_s=pick(a.max_duration_s, b.max_duration_s, min),
        resources=a.resources,
    )


@settings(max_examples=20, deadline=None)
@given(log=logs, keep=subsets)
def test_measures_match_a_python_replay(ws, log, keep):
    s, lid = ws[0], ingest(ws, log)
    g, table, durations = dfg(s, lid), variants(s, lid), all_case_durations(s, lid)
    tr = traces(log)
    n_events, n_cases = len(log), len(tr)
    assert sum(v.cases for v in table.variants) == table.total_cases == n_cases
    assert table.total_variants == len(table.variants) == len(set(tr.values()))
    assert {v.activities: v.cases for v in table.variants} == Counter(tr.values())
    assert abs(table.variants[-1].cumulative_share - 1) < 1e-12
    assert sum(e.count for e in g.edges) == n_events - n_cases
    assert {(e.source, e.target): e.count for e in g.edges} == reference_edges(tr)
    assert {(e.source, e.target): e.cases for e in g.edges} == reference_edge_cases(tr)
    assert dict(g.start) == Counter(t[0] for t in tr.values())
    assert dict(g.end) == Counter(t[-1] for t in tr.values())
    assert all(e.median_seconds >= 0 and e.p90_seconds >= e.median_seconds - 1e-9 for e in g.edges)
    assert len(durations) == n_cases
    assert all(d >= 0 for d in durations)
    assert list(durations) == sorted(durations)
    # Each case ends with one activity: the endings sum to the cases, each at most the cases it occurs in.
    named = {a for t in tr.values() for a in t}
    assert {e.activity: (e.ends, e.cases) for e in endings(s, lid)} == {
        a: (sum(t[-1] == a for t in tr.values()), sum(a in t for t in tr.values())) for a in named
    }

    # Projected onto `keep`: kept events, and cases with at least one of them.
    flt = Filter(activities_keep=keep)
    g, table, d = dfg(s, lid, flt), variants(s, lid, flt), case_durations(s, lid, flt)
    tr = traces(log, keep=set(keep))
    kept_events = sum(1 for _, a, *_ in log if a in keep)
    assert (g.events, g.cases) == (kept_events, len(tr))
    assert sum(e.count for e in g.edges) == kept_events - len(tr)
    assert {(e.source, e.target): e.count for e in g.edges} == reference_edges(tr)
    assert {(e.source, e.target): e.cases for e in g.edges} == reference_edge_cases(tr)
    assert {v.activities: v.cases for v in table.variants} == Counter(tr.values())
    assert table.total_cases == d.count == len(tr)
    # Drill-down lists exactly the cases whose projected trace is the variant.
    for v in table.variants:
        listed = cases_of_variant(s, lid, v.variant_id, flt, limit=100)
        assert sorted(c.case_id for c in listed.cases) == sorted(
            c for c, t in tr.items() if t == v.activities
        )


@SETTINGS
@given(log=logs, f=filters, g=filters)
def test_filters_never_add_cases(ws, log, f, g):
    g = dataclasses.replace(g, window=f.window, resources=())
    s, lid = ws[0], ingest(ws, log)

    def cases(flt):
        n = variants(s, lid, flt).total_cases
        # Every measure agrees on how many cases a filter keeps.
        assert dfg(s, lid, flt).cases == n
        assert len(all_case_durations(s, lid, flt)) == n
        return n

    whole, with_f, with_g, with_both = cases(None), cases(f), cases(g), cases(both(f, g))

    # The stored-successor path and the recomputing (projection) path agree:
    # removing an activity the log does not have projects nothing away.
    plain = dataclasses.replace(f, activities_keep=(), activities_remove=())
    forced = dataclasses.replace(plain, activities_remove=("no such activity",))
    assert dfg(s, lid, plain) == dfg(s, lid, forced)
    assert [(v.activities, v.cases) for v in variants(s, lid, plain).variants] == [
        (v.activities, v.cases) for v in variants(s, lid, forced).variants
    ]
    assert all_case_durations(s, lid, plain) == all_case_durations(s, lid, forced)

    assert with_f <= whole
    assert with_g <= whole
    # Top k and coverage rank the variants of the cases every other condition keeps, so a
    # condition added to a ranking filter can let in a case its ranking had left out (f keeps
    # c1 only; g's 50% coverage over all cases picks c2, over f's cases c1): the conjunction
    # stays within each side that does not rank.
    if not _ranks(f):
        assert with_both <= with_f
    if not _ranks(g):
        assert with_both <= with_g


def _ranks(flt: Filter) -> bool:
    return flt.variant_top_k is not None or flt.variant_coverage is not None


@settings(max_examples=10, deadline=None)
@given(log=logs, activities=st.floats(0, 1), paths=st.floats(0, 1))
def test_simplified_map_stays_connected(ws, log, activities, paths):
    s, lid = ws[0], ingest(ws, log)
    full = dfg(s, lid)
    m = simplified_dfg(s, lid, activities=activities, paths=paths)
    assert 1 <= len(m.activities) <= len(full.activities)
    # The map is the DFG of the log projected onto the kept activities.
    tr = traces(log, keep=set(m.activities))
    assert (m.cases, dict(m.start), dict(m.end)) == (
        len(tr),
        Counter(t[0] for t in tr.values()),
        Counter(t[-1] for t in tr.values()),
    )
    assert {(e.source, e.target) for e in m.edges} <= set(reference_edges(tr))
    reach = set(m.start)
    back = set(m.end)
    for _ in m.activities:
        reach |= {e.target for e in m.edges if e.source in reach}
        back |= {e.source for e in m.edges if e.target in back}
    assert reach == back == set(m.activities)
