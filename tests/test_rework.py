"""Rework: repeats, self- and short loops, ping-pong, counted on constructed cases."""

from __future__ import annotations

from mining.analysis.filters import Filter
from mining.analysis.rework import Loop, PingPong, rework
from mining.ingest import IngestOptions, ingest_file
from tests.conftest import SAMPLE_LOGS


def load(store, tmp_path, rows, *, header="case_id,activity,timestamp,resource", name="log", **roles):
    path = tmp_path / f"{name}.csv"
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return ingest_file(store, path, IngestOptions(roles=roles)).log_id


def case(case_id, steps, day=8):
    """``steps`` as 'A:x B:y ...' (activity:resource), one hour apart."""
    out = []
    for i, step in enumerate(steps.split()):
        activity, _, resource = step.partition(":")
        out.append(f"{case_id},{activity},2024-01-{day:02d}T{9 + i:02d}:00:00Z,{resource}")
    return out


CASES = [
    *case("c1", "A:x B:y A:x C:z"),  # short loop ABA; ping-pong x-y-x
    *case("c2", "A:x A:x B:y"),  # self-loop AA; no ping-pong (x, x)
    *case("c3", "A:x B:y C:z"),  # no rework
    *case("c4", "B:y C:z B:y C:z"),  # short loops BCB and CBC; ping-pong y-z-y and z-y-z
]


def test_repeats_loops_and_ping_pong(store, tmp_path):
    r = rework(store, load(store, tmp_path, CASES))
    assert (r.cases, r.cases_with_rework, r.rework_share) == (4, 3, 0.75)
    acts = {a.activity: (a.cases, a.cases_repeated, a.extra_executions) for a in r.activities}
    assert acts == {"A": (3, 2, 2), "B": (4, 1, 1), "C": (3, 1, 1)}
    assert [a.activity for a in r.activities] == ["A", "B", "C"]
    assert (r.self_loops, r.short_loops) == (1, 3)
    assert set(r.loops) == {
        Loop("self", ("A", "A"), 1, 1),
        Loop("short", ("A", "B", "A"), 1, 1),
        Loop("short", ("B", "C", "B"), 1, 1),
        Loop("short", ("C", "B", "C"), 1, 1),
    }
    assert r.has_resources
    assert (r.ping_pong, r.ping_pong_cases) == (3, 2)
    assert r.ping_pong_pairs == (PingPong(("y", "z"), 2, 1), PingPong(("x", "y"), 1, 1))


def test_limit_cuts_lists_but_not_totals(store, tmp_path):
    r = rework(store, load(store, tmp_path, CASES), limit=1)
    assert len(r.loops) == 1 and len(r.ping_pong_pairs) == 1
    assert (r.self_loops, r.short_loops, r.ping_pong) == (1, 3, 3)


def test_filter_selects_cases(store, tmp_path):
    log = load(store, tmp_path, CASES)
    r = rework(store, log, Filter(min_duration_s=3 * 3600))  # c1 and c4 last three hours
    assert (r.cases, r.cases_with_rework, r.short_loops, r.self_loops) == (2, 2, 3, 0)


def test_lifecycle_pairs_are_one_execution(store, tmp_path):
    rows = [
        "c1,A,2024-01-08T09:00:00Z,start,x",
        "c1,A,2024-01-08T09:10:00Z,complete,x",
        "c1,B,2024-01-08T09:20:00Z,start,y",
        "c1,B,2024-01-08T09:30:00Z,complete,y",
        "c1,A,2024-01-08T09:40:00Z,start,x",
        "c1,A,2024-01-08T09:50:00Z,complete,x",
    ]
    log = load(
        store, tmp_path, rows, header="case_id,activity,timestamp,lifecycle,resource", lifecycle="lifecycle"
    )
    r = rework(store, log)
    assert (r.self_loops, r.short_loops, r.ping_pong) == (0, 1, 1)
    assert {a.activity: a.extra_executions for a in r.activities} == {"A": 1, "B": 0}


def test_no_resources_no_ping_pong(store, tmp_path):
    rows = [row.rsplit(",", 1)[0] for row in CASES]
    r = rework(store, load(store, tmp_path, rows, header="case_id,activity,timestamp"))
    assert not r.has_resources
    assert (r.ping_pong, r.ping_pong_pairs) == (0, ())
    assert r.cases_with_rework == 3


def test_service_desk_rework_share_matches_its_readme(store):
    # sample_logs/README.md: rework (repeated activities or Reopen) in 17.3 % of 2,400 tickets.
    r = rework(store, ingest_file(store, SAMPLE_LOGS / "service_desk.csv").log_id)
    assert (r.cases, r.cases_with_rework) == (2_400, 415)
    assert r.activities[0].activity == "Investigate"
    assert r.loops[0].pattern == ("Investigate", "Assign to group", "Investigate")
