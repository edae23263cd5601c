"""One step per activity instance: lifecycle starts folded into their completions (``--pair-starts``).

The checks: two real logs give the lifecycle counts SOURCES.md lists, with the
Bottlenecks figures of the unpaired log unchanged; the pairing rule against a
plain-Python reference on generated logs (n-th start with n-th completion, never
a start after it, other transitions kept), with the stored successors and the
directly-follows invariant; the folded starts' attributes gone; the preview's
counts equal to the ingest's; and the refusals: a start column, no lifecycle
column, an export appended to a paired log, the same file read otherwise.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mining.analysis.dfg import dfg
from mining.analysis.performance import activity_times
from mining.analysis.variants import variants
from mining.cli import cli
from mining.errors import IngestError
from mining.ingest import IngestOptions, ingest_file, preview
from mining.store import Store

PAIR = IngestOptions(pair_starts=True)
# Named, so a tiny generated file is not left to the detector (one time for every row reads as no time).
ROLES = {"case": "case", "activity": "activity", "lifecycle": "lifecycle", "timestamp": "timestamp"}
NAMED = IngestOptions(pair_starts=True, roles=ROLES)
T0 = dt.datetime(2024, 3, 4, 9, 0, tzinfo=dt.UTC)


def _csv(tmp_path: Path, rows: list[tuple[str, str, str, int, str]], name: str = "log.csv") -> Path:
    """Rows of (case, activity, lifecycle, minutes after T0, note)."""
    lines = ["case,activity,lifecycle,timestamp,note"]
    lines += [f"{c},{a},{lc},{(T0 + dt.timedelta(minutes=m)).isoformat()},{n}" for c, a, lc, m, n in rows]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def _events(store: Store, log_id: int) -> list[tuple]:
    return store.query(
        "SELECT case_id, activity, lifecycle, ts, start_ts, next_activity, next_ts FROM events "
        "WHERE log_id = ? ORDER BY case_no, ts, row_no",
        [log_id],
    ).rows


def test_production_counts_one_event_per_instance_with_unchanged_times(store, shared_logs):
    path = shared_logs / "production_manufacturing.xes.gz"
    paired = ingest_file(store, path, PAIR)
    raw = ingest_file(store, path, IngestOptions(name="raw"))
    # SOURCES.md: 9,906 events, lifecycle start 4,953 and complete 4,953.
    assert (raw.events, paired.events) == (9_906, 4_953)
    assert (paired.cases, paired.activities, paired.paired_starts) == (225, 26, 4_953)
    assert paired.rows_read == 9_906
    assert paired.events_added == 4_953
    assert (
        "each lifecycle start was paired with its completion: 4,953 activity instances, each one step "
        "with its processing time"
    ) in [str(w) for w in paired.warnings]
    graph = dfg(store, paired.log_id)
    assert sum(e.count for e in graph.edges) == paired.events - paired.cases
    # Every instance's start is at or before its completion, and none is left without one.
    assert store.query(
        "SELECT count(*), count(start_ts), count(*) FILTER (WHERE start_ts > ts) FROM events WHERE log_id = ?",
        [paired.log_id],
    ).rows == [(4_953, 4_953, 0)]
    # The Bottlenecks page pairs the same starts with the same completions.
    a, b = activity_times(store, paired.log_id), activity_times(store, raw.log_id)
    assert (a.instances, a.paired) == (b.instances, b.paired) == (4_953, 4_953)
    assert [(x.activity, x.count, x.waiting, x.processing) for x in a.activities] == [
        (x.activity, x.count, x.waiting, x.processing) for x in b.activities
    ]
    assert a.pce_median == b.pce_median
    assert "paired in order when the log was loaded" in a.note


def test_bpic2012_simod_pairs_every_start(store, shared_logs):
    summary = ingest_file(store, shared_logs / "bpic2012_W_start_complete_simod.xes.gz", PAIR)
    # SOURCES.md: 118,604 events, lifecycle complete 59,302 and start 59,302; 8,616 cases, 6 activities.
    assert (summary.cases, summary.events, summary.activities, summary.paired_starts) == (
        8_616,
        59_302,
        6,
        59_302,
    )
    table = variants(store, summary.log_id)
    assert sum(v.cases for v in table.variants) == 8_616
    assert (
        store.scalar(
            "SELECT count(*) FROM events WHERE log_id = ? AND lower(lifecycle) = 'start'", [summary.log_id]
        )
        == 0
    )
    # A case's variant is its sequence of completions: the unpaired log's, read without the starts.
    raw = ingest_file(
        store, shared_logs / "bpic2012_W_start_complete_simod.xes.gz", IngestOptions(name="raw")
    )
    assert raw.variants == 2_115  # SOURCES.md
    expected = store.query(
        "SELECT n, count(*) FROM (SELECT case_id, list(activity ORDER BY ts, row_no) AS n FROM events "
        "WHERE log_id = ? AND lower(lifecycle) = 'complete' GROUP BY case_id) GROUP BY n",
        [raw.log_id],
    ).rows
    assert sorted((tuple(v.activities), v.cases) for v in table.variants) == sorted(
        (tuple(n), c) for n, c in expected
    )
    assert summary.variants == len(expected)


def _left_out(rows: list[tuple[str, str, str, int, str]]) -> int:
    """The schedule events of cases that have another event: they mark no step."""
    others = {c for c, _, lc, _, _ in rows if lc != "schedule"}
    return sum(1 for c, _, lc, _, _ in rows if lc == "schedule" and c in others)


def _reference(rows: list[tuple[str, str, str, int, str]]) -> tuple[int, dict[tuple[str, str, int], int]]:
    """The pairing rule in plain Python: per case and activity, the n-th start (by time, then file
    order) with the n-th completion, when the start is not after it.  Returns the pairs and each
    paired completion's start minute, keyed by (case, activity, completion minute)."""
    starts: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    done: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    for i, (c, a, lc, m, _) in enumerate(rows):
        if lc == "start":
            starts[(c, a)].append((m, i))
        elif lc == "complete":
            done[(c, a)].append((m, i))
    found: dict[tuple[str, str, int], int] = {}
    pairs = 0
    for key, ss in starts.items():
        for (sm, _), (dm, _) in zip(sorted(ss), sorted(done.get(key, [])), strict=False):
            if sm <= dm:
                pairs += 1
                found[(*key, dm)] = sm
    return pairs, found


_ROW = st.tuples(
    st.sampled_from(["c1", "c2", "c3"]),
    st.sampled_from(["Check", "Fix"]),
    st.sampled_from(["start", "complete", "complete", "start", "schedule"]),
    st.integers(0, 40),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_ROW, min_size=1, max_size=30, unique_by=lambda r: (r[0], r[1], r[2], r[3])))
def test_pairing_follows_the_rule_and_keeps_successors(tmp_path_factory, drawn):
    rows = [(c, a, lc, m, f"n{i}") for i, (c, a, lc, m) in enumerate(drawn)]
    tmp = tmp_path_factory.mktemp("pairs")
    pairs, starts = _reference(rows)
    dropped = _left_out(rows)
    with Store() as store:
        summary = ingest_file(store, _csv(tmp, rows), NAMED)
        stored = _events(store, summary.log_id)
        assert summary.paired_starts == pairs
        assert summary.events == len(rows) - pairs - dropped == len(stored)
        got = {
            (c, a, int((ts - T0).total_seconds() // 60)): int((st_ - T0).total_seconds() // 60)
            for c, a, lc, ts, st_, _, _ in stored
            if st_ is not None
        }
        assert got == starts
        # Unpaired starts stay events; schedules stay only in a case that has nothing else.
        assert sum(1 for r in stored if r[2] == "start") == sum(1 for r in rows if r[2] == "start") - pairs
        assert (
            sum(1 for r in stored if r[2] == "schedule")
            == sum(1 for r in rows if r[2] == "schedule") - dropped
        )
        assert summary.cases == len({r[0] for r in rows})
        if dropped:
            assert (
                f"left out with the starts paired: {dropped:,} schedule event{'s' if dropped > 1 else ''}; "
                in " ".join(str(w) for w in summary.warnings)
            )
        # Each stored successor is the next event kept in its case.
        for here, after in zip(stored, [*stored[1:], None], strict=True):
            same = after is not None and after[0] == here[0]
            assert (here[5], here[6]) == ((after[1], after[3]) if same else (None, None))
        graph = dfg(store, summary.log_id)
        assert sum(e.count for e in graph.edges) == summary.events - summary.cases
        # One attribute row per event kept: the folded starts' rows are gone.
        assert store.scalar(f"SELECT count(*) FROM attrs_{summary.log_id}") == summary.events
        # The preview counts what the ingest stores.
        plan = preview(_csv(tmp, rows, "again.csv"), NAMED)
        assert (plan.events, plan.cases, plan.paired_starts, plan.left_out_events) == (
            summary.events,
            summary.cases,
            pairs,
            dropped,
        )


def test_without_the_option_the_preview_counts_the_starts(tmp_path):
    rows = [
        ("c1", "Check", "start", 0, ""),
        ("c1", "Check", "complete", 5, ""),
        ("c1", "Fix", "complete", 9, ""),
    ]
    plan = preview(_csv(tmp_path, rows))
    assert (plan.events, plan.lifecycle_starts, plan.paired_starts) == (3, 1, 0)


def test_a_start_column_or_no_lifecycle_is_refused(store, tmp_path):
    with_start = tmp_path / "two.csv"
    with_start.write_text(
        "case,activity,start,end,lifecycle\nc1,Check,2024-03-04T09:00:00Z,2024-03-04T09:05:00Z,complete\n"
    )
    with pytest.raises(IngestError) as err:
        ingest_file(store, with_start, IngestOptions(pair_starts=True, roles={"start_timestamp": "start"}))
    assert str(err.value) == (
        "two.csv: --pair-starts pairs lifecycle start events with their completions, but the start-time "
        "column 'start' already gives each event its start"
    )
    plain = tmp_path / "plain.csv"
    plain.write_text("case,activity,timestamp\nc1,Check,2024-03-04T09:00:00Z\n")
    with pytest.raises(IngestError) as err:
        preview(plain, PAIR)
    assert str(err.value) == (
        "plain.csv: --pair-starts pairs lifecycle start events with their completions, but no lifecycle "
        "column was found"
    )
    assert "--lifecycle COLUMN" in str(err.value.hint)
    assert store.scalar("SELECT count(*) FROM logs") == 0


def test_a_paired_log_takes_no_append_and_keeps_its_reading(store, tmp_path):
    rows = [("c1", "Check", "start", 0, ""), ("c1", "Check", "complete", 5, "")]
    first = _csv(tmp_path, rows)
    summary = ingest_file(store, first, PAIR)
    assert summary.events == 1
    newer = _csv(
        tmp_path, [*rows, ("c2", "Check", "start", 7, ""), ("c2", "Check", "complete", 8, "")], "new.csv"
    )
    with pytest.raises(IngestError) as err:
        ingest_file(store, newer, IngestOptions(name="log", append=True))
    assert str(err.value) == (
        "the log 'log' pairs its lifecycle starts with their completions, so a newer export cannot be added to it"
    )
    with pytest.raises(IngestError) as err:
        ingest_file(store, first, IngestOptions(pair_starts=False))
    assert "read with other options: lifecycle starts not paired (the log pairs them)" in str(err.value)
    # The same file with the same reading is unchanged, the option said or not.
    assert ingest_file(store, first).status == "unchanged"
    assert ingest_file(store, first, PAIR).status == "unchanged"
    assert store.scalar("SELECT count(*) FROM events") == 1


def test_cli_pairs_and_reports_the_count(tmp_path):
    rows = [
        ("c1", "Check", "start", 0, ""),
        ("c1", "Check", "complete", 5, ""),
        ("c1", "Check", "start", 9, ""),
    ]
    result = CliRunner().invoke(
        cli,
        [
            "--workspace",
            str(tmp_path / "ws.duckdb"),
            "ingest",
            str(_csv(tmp_path, rows)),
            "--pair-starts",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["events"], data["paired_starts"], data["rows_read"]) == (2, 1, 3)
    assert (
        "each lifecycle start was paired with its completion: 1 activity instance, each one step with its "
        "processing time; 1 start without a completion stays a step of its own"
    ) in data["warnings"]


def test_a_lifecycle_without_starts_pairs_nothing_and_says_so(store, tmp_path):
    rows = [("c1", "Check", "complete", 0, ""), ("c1", "Fix", "complete", 5, "")]
    summary = ingest_file(store, _csv(tmp_path, rows), NAMED)
    assert (summary.events, summary.paired_starts) == (2, 0)
    assert (
        "no lifecycle start could be paired with a completion: each event is a step, and processing time "
        "cannot be separated from waiting time"
    ) in [str(w) for w in summary.warnings]
    assert store.scalar("SELECT has_start FROM logs") is False


def test_bpic2012_leaves_out_its_schedule_events_and_keeps_its_times(store, shared_logs):
    path = shared_logs / "bpic2012.xes.gz"
    paired = ingest_file(store, path, PAIR)
    raw = ingest_file(store, path, IngestOptions(name="raw"))
    # SOURCES.md: 262,200 events; COMPLETE 164,506, START 71,376, SCHEDULE 26,318.
    assert raw.events == 262_200
    # The usual closers are activities, most cases first (2,747 cases end with W_Valideren aanvraag,
    # 57 with W_Beoordelen fraude): not "cases usually end with", which A_DECLINED's 3,429 belied.
    [cut] = [q for q in raw.quality if q.kind == "cases_cut_by_extract"]
    assert cut.message.endswith(
        "the activities that usually open the cases they occur in: 'A_SUBMITTED'; that usually close them: "
        "'W_Valideren aanvraag', 'W_Beoordelen fraude', 'W_Wijzigen contractgegevens'"
    )
    assert paired.paired_starts == 71_369
    assert paired.events == 262_200 - 71_369 - 26_318 == 164_513
    assert (
        "left out with the starts paired: 26,318 schedule events; such a transition marks no step of an "
        in (" ".join(str(w) for w in paired.warnings))
    )
    a, b = activity_times(store, paired.log_id), activity_times(store, raw.log_id)
    assert (a.instances, a.paired) == (b.instances, b.paired) == (164_506, 71_369)

    def figures(times):
        # Medians and quantiles exactly; means and totals up to the order of their sums.
        return [
            (
                x.activity,
                x.count,
                d.count,
                d.median,
                d.p90,
                None if d.mean is None else pytest.approx(d.mean, rel=1e-9),
            )
            for x in times.activities
            for d in (x.waiting, x.processing)
        ]

    assert figures(a) == figures(b)


def test_monitoring_reads_a_paired_log_as_its_unpaired_file(store, shared_logs):
    # The quiet horizon was a quantile of the gaps between any two events, so the gaps from a start to
    # its completion (work, not silence) shortened it in the unpaired log: the same cases were judged
    # open or complete otherwise, and other weeks raised alerts. Both now measure between completions.
    from mining.monitor.run import MonitorOptions, monitor

    path = shared_logs / "production_manufacturing.xes.gz"
    paired = ingest_file(store, path, PAIR).log_id
    raw = ingest_file(store, path, IngestOptions(name="raw")).log_id
    runs = [monitor(store, log, options=MonitorOptions(period="week", lean=False)) for log in (paired, raw)]
    a, b = (r.series.completeness for r in runs)
    assert a.quiet_seconds == b.quiet_seconds > 0
    assert (a.complete, a.open, a.stalled) == (b.complete, b.open, b.stalled)
    assert [x.sentence for x in runs[0].alerts] == [x.sentence for x in runs[1].alerts]
