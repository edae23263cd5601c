"""The filter's case conditions against plain DuckDB queries on the same cases (the sample service desk)."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise

import pytest

from mining.analysis.filters import Filter, case_selection
from mining.analysis.variants import variants
from mining.ingest import ingest_file
from mining.store import Store
from tests.conftest import SAMPLE_LOGS


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, int]]:
    path = tmp_path_factory.mktemp("filters") / "ws.duckdb"
    with Store(path) as store:
        log = ingest_file(store, SAMPLE_LOGS / "service_desk.csv").log_id
    with Store(path, read_only=True) as store:
        yield store, log


def _kept(store: Store, log: int, flt: Filter) -> set[str]:
    params: dict = {}
    sql = f"SELECT case_id FROM cases WHERE case_no IN ({case_selection(store, log, flt, params)})"
    return {r[0] for r in store.query(sql, params).rows}


def _cases(store: Store, sql: str, log: int) -> set[str]:
    return {r[0] for r in store.query(sql, {"log": log}).rows}


def _traces(store: Store, log: int) -> dict[str, list[str]]:
    rows = store.query(
        "SELECT case_id, list(activity ORDER BY ts, row_no) FROM events WHERE log_id = $log GROUP BY case_id",
        {"log": log},
    ).rows
    return {c: list(t) for c, t in rows}


def test_endpoints_keep_the_cases_that_start_or_end_so(tmp_path) -> None:
    from tests.tinylog import load_hours

    events = [("c1", "A", 0), ("c1", "B", 1), ("c2", "B", 0), ("c2", "C", 1), ("c3", "A", 0), ("c3", "C", 2)]
    with Store() as store:
        log = load_hours(store, tmp_path, events)
        assert _kept(store, log, Filter(starts_with=("A",))) == {"c1", "c3"}
        assert _kept(store, log, Filter(ends_with=("C",))) == {"c2", "c3"}
        assert _kept(store, log, Filter(starts_with=("A",), ends_with=("C",))) == {"c3"}
        assert _kept(store, log, Filter(starts_with=("B", "A"), ends_with=("B",))) == {"c1"}


def test_follower_directly_and_eventually(sample) -> None:
    store, log = sample
    traces = _traces(store, log)
    a, b = "Triage", "Resolve"
    directly = {c for c, t in traces.items() if any(x == a and y == b for x, y in pairwise(t))}
    eventually = {
        c for c, t in traces.items() if a in t and b in t and t.index(a) < len(t) - 1 - t[::-1].index(b)
    }
    assert _kept(store, log, Filter(follows=((a, b, True),))) == directly
    assert _kept(store, log, Filter(follows=((a, b, False),))) == eventually
    assert len(directly) < len(eventually)


def test_cases_through_an_activity_and_by_resources(sample) -> None:
    store, log = sample
    through = _kept(store, log, Filter(with_activities=("Reopen",)))
    assert through == _cases(
        store, "SELECT DISTINCT case_id FROM events WHERE log_id = $log AND activity = 'Reopen'", log
    )
    assert 0 < len(through) < 2400
    [resource] = store.query(
        "SELECT resource FROM events WHERE log_id = $log AND resource IS NOT NULL "
        "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
        {"log": log},
    ).rows[0]
    assert _kept(store, log, Filter(resources=(resource,))) == {
        r[0]
        for r in store.query(
            "SELECT DISTINCT case_id FROM events WHERE log_id = $log AND resource = $r",
            {"log": log, "r": resource},
        ).rows
    }


def test_top_variants_are_ranked_after_the_other_filters(sample) -> None:
    store, log = sample
    narrow = Filter(with_activities=("Reopen",))
    within = variants(store, log, narrow)
    top = Filter(with_activities=("Reopen",), variant_top_k=3)
    kept = variants(store, log, top)
    # The three most frequent variants among the escalated cases, not the log's top three.
    assert [v.activities for v in kept.variants] == [v.activities for v in within.variants[:3]]
    assert kept.total_cases == sum(v.cases for v in within.variants[:3])
    overall = variants(store, log, Filter(variant_top_k=3))
    assert [v.activities for v in kept.variants] != [v.activities for v in overall.variants]
    covered = variants(store, log, Filter(with_activities=("Reopen",), variant_coverage=0.5))
    shares = [v.cumulative_share for v in within.variants]
    needed = next(i for i, s in enumerate(shares, start=1) if s >= 0.5)
    assert covered.total_variants == needed


def test_numeric_attribute_range(tmp_path) -> None:
    from tests.tinylog import load_text

    text = "case,activity,timestamp,amount\n" + "\n".join(
        f"c{i},A,2024-01-0{1 + i % 5}T10:00:00Z,{amount}"
        for i, amount in enumerate(["5", "12.5", "100", "n/a", "40"])
    )
    with Store() as store:
        log = load_text(store, tmp_path, text, case="case", activity="activity", timestamp="timestamp")
        assert _kept(store, log, Filter(attribute_ranges=(("amount", 10.0, 50.0),))) == {"c1", "c4"}
        assert _kept(store, log, Filter(attribute_ranges=(("amount", None, 10.0),))) == {"c0"}
        assert _kept(store, log, Filter(attribute_ranges=(("amount", 50.0, None),))) == {"c2"}


def test_chips_are_readable() -> None:
    import datetime as dt

    flt = Filter(
        start=dt.datetime(2025, 7, 1, tzinfo=dt.UTC),
        end=dt.datetime(2025, 8, 1, tzinfo=dt.UTC),
        follows=(("A", "B", False),),
        starts_with=("A",),
        attribute_ranges=(("amount", 10.0, None),),
    )
    assert flt.chips() == [
        "intersecting 2025-07-01 to 2025-07-31",
        "starts with: A",
        "A eventually followed by B",
        "amount from 10 to …",
    ]


def test_attribute_summaries_count_cases_per_value_and_tell_case_from_event_attributes(tmp_path) -> None:
    from mining.analysis.attributes import attribute_summaries

    rows = [
        # case, activity, hour, region (one per case), amount (a number, changes within c1), note
        ("c1", "A", 0, "North", "10", "x"),
        ("c1", "B", 1, "North", "30", ""),
        ("c2", "A", 0, "South", "20", "y"),
        ("c3", "A", 0, "North", "5", " "),
        ("c3", "C", 2, "North", "5", "x"),
        ("c4", "A", 0, "", "", ""),
    ]
    csv = tmp_path / "attrs.csv"
    csv.write_text(
        "case,activity,timestamp,region,amount,note\n"
        + "".join(f"{c},{a},2024-01-01 0{h}:00:00,{r},{m},{n}\n" for c, a, h, r, m, n in rows),
        encoding="utf-8",
    )
    with Store() as store:
        log = ingest_file(store, csv).log_id
        got = {a.name: a for a in attribute_summaries(store, log, top=5)}
        assert list(got) == ["region", "amount", "note"]  # file order
        region, amount, note = got["region"], got["amount"], got["note"]
        assert (region.level, region.numeric, region.distinct, region.cases) == ("case", False, 2, 3)
        assert region.top == (("North", 2), ("South", 1))  # cases, not events (c1 and c3 have two each)
        assert (amount.level, amount.numeric, amount.distinct, amount.cases) == ("event", True, 4, 3)
        # Over the cases' values: c1 10 and 30, c2 20, c3 5 (once, though two events carry it).
        assert (amount.minimum, amount.median, amount.maximum) == (5.0, 15.0, 30.0)
        assert amount.top == (("10", 1), ("20", 1), ("30", 1), ("5", 1))  # ties by value
        assert (note.numeric, note.distinct, note.cases, note.top) == (False, 2, 3, (("x", 2), ("y", 1)))
        assert note.minimum is None and note.median is None
        # Over the kept cases only, and ``top`` caps the values listed.
        kept = {a.name: a for a in attribute_summaries(store, log, Filter(with_activities=("B",)), top=1)}
        assert (kept["region"].cases, kept["region"].top) == (1, (("North", 1),))
        assert (kept["amount"].distinct, kept["amount"].top) == (2, (("10", 1),))


def test_an_inverted_time_window_is_refused() -> None:
    # Typed on the command line, intersecting, it kept the cases spanning the gap, without a word.
    import datetime as dt

    from mining.analysis.filters import check_window
    from mining.errors import FilterError

    late, early = dt.datetime(2010, 1, 1, tzinfo=dt.UTC), dt.datetime(2005, 1, 1, tzinfo=dt.UTC)
    with pytest.raises(FilterError) as caught:
        check_window(late, early)
    assert str(caught.value) == "the time window ends (2005-01-01 00:00) before it starts (2010-01-01 00:00)"
    with pytest.raises(FilterError):
        check_window(late, late)
    check_window(early, late)
    check_window(None, early)
    check_window(late, None)
    check_window(early.replace(tzinfo=None), late)  # one bound without an offset is still compared
    with pytest.raises(FilterError):
        check_window(late.replace(tzinfo=None), early)


def test_the_cli_refuses_an_inverted_window(tmp_path) -> None:
    from click.testing import CliRunner

    from mining.cli import cli

    ws = tmp_path / "ws.duckdb"
    runner = CliRunner()
    assert runner.invoke(cli, ["-w", str(ws), "ingest", str(SAMPLE_LOGS / "service_desk.csv")]).exit_code == 0
    res = runner.invoke(
        cli, ["-w", str(ws), "variants", "service_desk", "--start", "2025-06-01", "--end", "2025-01-01"]
    )
    assert res.exit_code == 1
    assert res.output.startswith(
        "Error: the time window ends (2025-01-01 00:00) before it starts (2025-06-01 00:00)"
    )
