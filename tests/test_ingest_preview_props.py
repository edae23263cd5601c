"""Invariant: the preview's counts are the ingest's, for any small table with good and bad rows."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mining.errors import IngestError
from mining.ingest import IngestOptions, ingest_file, preview
from mining.store import Store

_cases = st.sampled_from(["1", "2", "NA", "00123", " 7", ""])
_activities = st.sampled_from(["Approve", "approve ", "NULL", "-", "Ship", ""])
_times = st.sampled_from(
    [
        "2024-01-01 10:00",
        "2024-01-02 11:30",
        "2024-01-03T09:00:00+02:00",
        "N/A",
        "yesterday",
        "",
        "2024-01-04",
    ]
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(_cases, _activities, _times), min_size=4, max_size=30))
def test_preview_counts_are_the_ingests(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("p") / "log.csv"
    path.write_text(
        "case_id,activity,timestamp\n" + "".join(f"{c},{a},{t}\n" for c, a, t in rows), encoding="utf-8"
    )
    options = IngestOptions(
        max_rejects=1.0, roles={"case": "case_id", "activity": "activity", "timestamp": "timestamp"}
    )
    try:
        seen = preview(path, options)
    except IngestError as exc:
        with Store() as store:
            try:
                ingest_file(store, path, options)
            except IngestError as again:
                assert type(again) is type(exc)
                return
        raise AssertionError(f"the preview refused what the ingest loads: {exc}") from None
    with Store() as store:
        try:
            s = ingest_file(store, path, options)
        except IngestError:
            assert seen.rejected_rows == seen.rows_read  # every row rejected: the preview says so
            return
    assert (seen.events, seen.cases, seen.activities, seen.rejected_rows) == (
        s.events,
        s.cases,
        s.activities,
        s.rejected_rows,
    )
