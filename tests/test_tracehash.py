"""Variants from the stored order agree with a plain grouping of each case's activity sequence."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from mining.ingest.tracehash import variants_of

traces = st.lists(
    st.lists(st.sampled_from(["a", "b", "c", "NA", ""]), min_size=1, max_size=6), min_size=1, max_size=40
)


@settings(max_examples=60, deadline=None)
@given(cases=traces)
def test_variants_match_a_plain_grouping(cases):
    case_no = np.repeat(np.arange(1, len(cases) + 1), [len(t) for t in cases])
    activity = pa.array([a for t in cases for a in t])
    found = variants_of(case_no, activity)
    counts = Counter(tuple(t) for t in cases)
    expected = sorted(counts, key=lambda t: (-counts[t], t))
    assert found.traces == expected
    assert found.counts == [counts[t] for t in expected]
    assert found.case_no.tolist() == list(range(1, len(cases) + 1))
    assert [found.traces[v - 1] for v in found.variant_of_case.tolist()] == [tuple(t) for t in cases]


def test_one_case_of_one_event():
    found = variants_of(np.array([7]), pa.array(["Open"]))
    assert (found.traces, found.counts, found.variant_of_case.tolist()) == ([("Open",)], [1], [1])
