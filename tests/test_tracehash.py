"""Variants from the stored order agree with a plain grouping of each case's activity sequence."""

from __future__ import annotations

from collections import Counter
from unittest import mock

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from mining.ingest import tracehash
from mining.ingest.tracehash import codes_from_hashes, dictionary_codes, rows_of, variants_of

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


def test_codes_from_hashes_index_the_names_in_hash_order():
    rows = np.array([30, 10, 30, 20], dtype=np.uint64)
    codes, names = codes_from_hashes(rows, [(10, "Approve"), (20, "Pay"), (30, "Create")])
    assert codes.tolist() == [2, 0, 2, 1]
    assert [names[c] for c in codes] == ["Create", "Approve", "Create", "Pay"]


def test_two_names_with_one_hash_fall_back_to_the_names():
    rows = pa.chunked_array([pa.array([7, 7, 9], type=pa.uint64())])
    assert codes_from_hashes(rows, [(7, "A"), (7, "B"), (9, "C")]) is None
    codes, names = dictionary_codes(pa.chunked_array([pa.array(["B", "A"]), pa.array(["B"])]))
    assert codes.tolist() == [0, 1, 0]
    assert names == ["B", "A"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from(["a", "b", "c", "a b", ""]), min_size=1, max_size=6), min_size=1, max_size=25
    )
)
def test_hash_codes_and_name_codes_give_the_same_variants(cases):
    case_no = np.repeat(np.arange(1, len(cases) + 1), [len(c) for c in cases])
    activity = [a for c in cases for a in c]
    # Any injective code per name will do: a stand-in hash, sorted distinct pairs as the database returns them.
    fake = {name: (hash(name) & 0xFFFF_FFFF_FFFF) + 1 for name in set(activity)}
    pairs = sorted((fake[a], a) for a in set(activity))
    by_hash = variants_of(
        case_no, *codes_from_hashes(np.array([fake[a] for a in activity], np.uint64), pairs)
    )
    by_name = variants_of(case_no, *dictionary_codes(pa.array(activity)))
    assert by_hash.traces == by_name.traces
    assert by_hash.counts == by_name.counts
    assert by_hash.variant_of_case.tolist() == by_name.variant_of_case.tolist()
    # The traces are the cases' own sequences, most frequent first.
    expected = sorted({tuple(c) for c in cases}, key=lambda t: (-sum(tuple(c) == t for c in cases), t))
    assert by_hash.traces == expected


@settings(max_examples=60, deadline=None)
@given(cases=traces, slice_events=st.integers(min_value=1, max_value=8))
def test_cases_hashed_a_few_events_at_a_time_give_the_same_variants(cases, slice_events):
    case_no = np.repeat(np.arange(1, len(cases) + 1), [len(t) for t in cases])
    activity = pa.array([a for t in cases for a in t])
    whole = variants_of(case_no, activity)
    # Slices shorter than a case, ending inside one, and holding many: the keys are the same.
    with mock.patch.object(tracehash, "_SLICE", slice_events):
        sliced = variants_of(case_no, activity)
    assert sliced.traces == whole.traces
    assert sliced.counts == whole.counts
    assert sliced.variant_of_case.tolist() == whole.variant_of_case.tolist()


def test_codes_from_hashes_reads_an_arrow_column_chunk_by_chunk():
    rows = pa.chunked_array(
        [pa.array([30, 10], pa.uint64()), pa.array([], pa.uint64()), pa.array([30, 20], pa.uint64())]
    )
    codes, names = codes_from_hashes(rows, [(10, "Approve"), (20, "Pay"), (30, "Create")])
    assert names == ["Approve", "Pay", "Create"]
    assert (codes.dtype, codes.tolist()) == (np.dtype(np.uint32), [2, 0, 2, 1])


def test_rows_of_takes_the_rows_across_chunks():
    values = pa.chunked_array(
        [pa.array([5, 6, 7], pa.int64()), pa.array([], pa.int64()), pa.array([8, 9], pa.int64())]
    )
    assert rows_of(values, np.array([0, 2, 3, 4])).tolist() == [5, 7, 8, 9]
    assert rows_of(values, np.array([], dtype=np.int64)).tolist() == []
    assert rows_of(pa.array([1, 2, 3], pa.int64()), np.array([1])).tolist() == [2]
