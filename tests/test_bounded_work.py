"""Bounded work: hostile models and logs get a bounded answer or a clear refusal from conform and discover.

Each class of input is generated here, small (the same classes at full size
are timed by ``bench/bounded.py``): unbounded nets, very wide parallel nets,
one very long case, very many distinct activities, and the budget in every
part of a check (alignments with r4pm and with pm4py's fallback, token
replay, precision, the map overlay).  A call that used to run for ever runs
in a daemon thread here, so that a regression fails instead of hanging.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter

import numpy as np
import pytest

from mining import pm4py_adapter
from mining.conformance import conform, load_model
from mining.conformance.labels import SUGGEST_AMONG, match_labels
from mining.errors import ConformanceError, ModelError
from mining.models import MAX_ACTIVITIES, NetSpec, ProcessModel, discover_variants
from mining.models.boundedness import growth
from mining.models.reachability import model_follows
from mining.store import Store
from tests.conftest import SAMPLE_LOGS
from tests.tinylog import load_hours


def finishes(call, seconds: float = 180.0):
    """``call()``'s result; fails (instead of hanging) when it does not return within ``seconds``."""
    out: list[object] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            out.append(call())
        except BaseException as exc:  # handed to the test below
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"did not return within {seconds:.0f} s: it searches for ever"
    if errors:
        raise errors[0]
    return out[0]


def _model(name: str, transitions, arcs, initial=(("start", 1),), final=(("end", 1),)) -> ProcessModel:
    ids = {t for t, _ in transitions}
    places = sorted({n for a in arcs for n in a if n not in ids})
    net = NetSpec(tuple(places), tuple(transitions), tuple((s, d, 1) for s, d in arcs), initial, final)
    return ProcessModel(name, "pnml", net)


def unbounded(reachable: bool) -> ProcessModel:
    """start -A-> p1 -B-> p2 -C-> end, and a place q that fills up without end.

    ``reachable``: an optional silent step at p1 adds a token to q (never firing it reaches the
    end).  Otherwise B itself adds one and a silent step loops back: no run reaches the end.
    """
    transitions = [("tA", "A"), ("tB", "B"), ("tC", "C")]
    arcs = [("start", "tA"), ("tA", "p1"), ("p1", "tB"), ("tB", "p2"), ("p2", "tC"), ("tC", "end")]
    if reachable:
        transitions.append(("tau", None))
        arcs += [("p1", "tau"), ("tau", "p1"), ("tau", "q")]
    else:
        transitions.append(("back", None))
        arcs += [("tB", "q"), ("p2", "back"), ("back", "p1")]
    return _model("unbounded.pnml", transitions, arcs)


def wide(branches: int, optional: bool) -> ProcessModel:
    """A silent split into ``branches`` parallel tasks (each with a silent skip if ``optional``)."""
    transitions: list[tuple[str, str | None]] = [("split", None), ("join", None)]
    arcs = [("start", "split"), ("join", "end")]
    for i in range(branches):
        transitions.append((f"t{i}", f"T{i:02d}"))
        arcs += [("split", f"b{i}"), (f"b{i}", f"t{i}"), (f"t{i}", f"c{i}"), (f"c{i}", "join")]
        if optional:
            transitions.append((f"skip{i}", None))
            arcs += [(f"b{i}", f"skip{i}"), (f"skip{i}", f"c{i}")]
    return _model("wide.pnml", transitions, arcs)


@pytest.fixture(scope="module")
def abc(tmp_path_factory):
    rows = []
    for c, acts in enumerate(["ABC", "ABC", "AC", "ABBC", "ABCC", "BAC"]):
        rows += [(f"c{c}", a, k) for k, a in enumerate(acts)]
    with Store() as store:
        yield store, load_hours(store, tmp_path_factory.mktemp("abc"), rows)


@pytest.fixture(scope="module")
def parallel(tmp_path_factory):
    # 20 tasks in parallel, in random orders; some cases skip one or repeat one.
    rng = random.Random(7)
    rows = []
    for c in range(12):
        tasks = [f"T{i:02d}" for i in range(20)]
        rng.shuffle(tasks)
        if c % 4 == 1:
            tasks.pop(3)
        elif c % 4 == 2:
            tasks.insert(5, tasks[0])
        rows += [(f"c{c}", a, k) for k, a in enumerate(tasks)]
    with Store() as store:
        yield store, load_hours(store, tmp_path_factory.mktemp("parallel"), rows)


# -- unbounded nets ---------------------------------------------------------------------


def test_growth_names_the_repeating_steps_and_the_place_that_fills():
    found = growth(unbounded(reachable=False).net)
    assert found is not None
    assert found.describe() == (
        "'B' then the silent step 'back' can repeat forever, each time adding a token to place 'q'"
    )
    assert growth(unbounded(reachable=True).net).describe() == (
        "the silent step 'tau' can repeat forever, each time adding a token to place 'q'"
    )


def test_growth_finds_nothing_in_bounded_nets(shared_models):
    # Sound models (documented and discovered ones), and a net with 2^20 markings it gives up on.
    for model in (
        load_model(SAMPLE_LOGS / "order_to_cash.bpmn"),
        load_model(shared_models / "road_traffic_fines_normative_no_data.pnml"),
        load_model(shared_models / "receipt.bpmn"),
        wide(20, optional=True),
    ):
        assert growth(model.net) is None, model.name


def test_unbounded_net_that_never_ends_is_refused_naming_the_loop(abc):
    # r4pm says the final marking is unreachable; pm4py is not asked to search the infinite net.
    with pytest.raises(ConformanceError) as caught:
        finishes(lambda: conform(*abc, unbounded(reachable=False), budget=30))
    said = str(caught.value)
    assert "r4pm could not align against this net" in said
    assert "the model is unbounded: 'B' then the silent step 'back' can repeat forever" in said
    assert "correct the model" in said


def test_unbounded_net_with_a_way_out_is_checked_and_precision_says_why_not(abc):
    result = finishes(lambda: conform(*abc, unbounded(reachable=True), budget=30))
    assert result.complete and result.fitness is not None
    assert result.precision is None
    assert (
        "the model is unbounded: the silent step 'tau' can repeat forever, each time adding a token to place 'q'"
    ) in result.notes
    assert any(
        n.startswith("precision was not computed: silent steps alone reach infinitely") for n in result.notes
    )


def test_token_replay_on_an_unbounded_net_finishes(abc):
    # pm4py's replay ends each trace by listing what its marking allows after silent steps: on this
    # net that walk never ended (ABBC leaves a token at p1, where the silent step adds to q for ever).
    model = unbounded(reachable=True)
    result = finishes(lambda: conform(*abc, model, method="token-replay", budget=30, precision=False))
    assert result.complete
    assert 0.0 < result.fitness < 1.0
    # Only ABC (two cases) replays without missing or remaining tokens.
    fitting = {"".join(v.activities) for v in result.variants if v.fitness == 1.0}
    assert fitting == {"ABC"}
    assert result.fitting_cases_share == pytest.approx(2 / 6)


# -- wide parallel nets -----------------------------------------------------------------


def test_wide_parallel_net_is_checked_with_pm4py_finding_the_shortest_run(parallel):
    # r4pm walks every interleaving of the 20 branches for the empty trace (2^20 markings) and stops
    # at its cap; pm4py's search goes straight through, and r4pm aligns the cases themselves.
    model = wide(20, optional=False)
    result = finishes(lambda: conform(*parallel, model, budget=120, precision=False))
    assert result.complete
    assert result.engine == "r4pm+pm4py"
    assert any(
        "exceeded 50,000 states (many branches in parallel); pm4py searched it" in n for n in result.notes
    )
    reference = conform(*parallel, model, engine="pm4py", processes=0, precision=False)
    assert result.fitness == reference.fitness
    assert [v.cost for v in result.variants] == [v.cost for v in reference.variants]


def test_wide_optional_net_bounds_precision_overlay_and_token_replay(parallel):
    # Each branch can be skipped silently: 2^20 markings by silent steps alone.  Token replay and
    # precision (whose walk through silent steps keeps one marking per transition) stay small;
    # the overlay's reachability graph stops at its limit.
    import pm4py

    model = wide(20, optional=True)
    result = finishes(lambda: conform(*parallel, model, method="token-replay", budget=120))
    assert result.complete and result.fitness is not None
    store, log = parallel
    rows = store.query(
        "SELECT case_id, activity, ts FROM events WHERE log_id = ? ORDER BY case_no, ts, row_no", [log]
    ).rows
    frame = pm4py.format_dataframe(
        __import__("pandas").DataFrame(rows, columns=["case", "activity", "ts"]),
        case_id="case",
        activity_key="activity",
        timestamp_key="ts",
    )
    pm = pm4py_adapter.petri_net(model.net)
    assert result.precision == pytest.approx(
        pm4py.precision_token_based_replay(frame, pm.net, pm.initial_marking, pm.final_marking), abs=1e-9
    )
    assert result.overlay is not None and not result.overlay.complete
    assert model_follows(model.net) is None


# -- the budget in every part -----------------------------------------------------------


def test_budget_zero_stops_every_part_at_once(parallel):
    model = wide(20, optional=True)
    for method in ("alignments", "token-replay"):
        result = finishes(lambda method=method: conform(*parallel, model, method=method, budget=0))
        assert (result.complete, result.fitness, result.precision) == (False, None, None)
        assert result.aligned_variants_share == 0.0
        assert "precision was not computed: the budget ran out" in result.notes
        done = "replayed" if method == "token-replay" else "aligned"
        assert (
            result.notes[-1]
            == f"partial result: 0 of 12 variants (0 of 12 cases) were {done} before the budget ran out"
        )
        assert result.overlay is not None and not result.overlay.complete


def test_token_replay_stopped_by_the_budget_gives_honest_bounds(abc):
    model = unbounded(reachable=True)
    result = conform(*abc, model, method="token-replay", budget=0)
    # Unreplayed cases may consume and miss any number of tokens: fitness may be anything.
    assert result.fitness_bounds == (0.0, 1.0)
    assert result.fitting_cases_bounds == (0.0, 1.0)


def test_r4pm_state_cap_follows_the_time_left():
    # With a second left, the empty trace of a 20-branch net gets the smallest cap, not 2 million states.
    net = wide(20, optional=False).net
    started = time.monotonic()
    run = pm4py_adapter.align_r4pm(net, [], deadline=started + 1.0)
    assert run.empty_cost is None
    # A plain net is unaffected.
    plain = load_model(SAMPLE_LOGS / "order_to_cash.bpmn").net
    assert pm4py_adapter.align_r4pm(plain, [], deadline=time.monotonic() + 1.0).empty_cost is not None


def _loops_net_and_trace() -> tuple[NetSpec, list[str]]:
    """Eight parallel loops and a random trace: pm4py's A* opens states by the thousand on it."""
    transitions: list[tuple[str, str | None]] = [("split", None), ("join", None)]
    arcs = [("start", "split"), ("join", "end")]
    for i in range(8):
        transitions += [(f"a{i}", f"A{i}"), (f"x{i}", f"B{i}"), (f"e{i}", None)]
        arcs += [
            ("split", f"b{i}"),
            (f"b{i}", f"a{i}"),
            (f"a{i}", f"c{i}"),
            (f"c{i}", f"x{i}"),
            (f"x{i}", f"b{i}"),
        ]
        arcs += [(f"c{i}", f"e{i}"), (f"e{i}", f"d{i}"), (f"d{i}", "join")]
    rng = random.Random(5)
    trace = [rng.choice([f"A{i}" for i in range(8)] + [f"B{i}" for i in range(8)]) for _ in range(40)]
    return _model("loops.pnml", transitions, arcs).net, trace


def test_pm4py_worker_out_of_memory_reports_the_trace():
    net, trace = _loops_net_and_trace()
    # The search fails either with a MemoryError or, about one time in seven, with GLPK
    # aborting the worker when its malloc is refused: the answer must be the same.
    for _ in range(3):
        run = pm4py_adapter.align_pm4py(net, [trace], memory=8 * 2**20, deadline=time.monotonic() + 170)
        assert run.aligned == {}
        assert run.failed == {0: "pm4py needed more than 8 MB of memory"}
        assert run.empty_cost is not None


def _pool_workers() -> list[int]:
    """The pids of this process's children that run multiprocessing's spawn entry point."""
    import os
    from pathlib import Path

    pids = []
    for proc in Path("/proc").iterdir():
        try:
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (proc / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        if ppid == os.getpid() and b"spawn_main" in cmdline:
            pids.append(int(proc.name))
    return pids


@pytest.mark.parametrize(
    ("memory", "how", "reason"),
    [
        (None, "SIGKILL", "a pm4py worker was stopped by the system before it finished (out of memory?)"),
        # Under a cap, an abort is what GLPK does when its malloc is refused.
        (2**31, "SIGABRT", "pm4py needed more than 2.0 GB of memory"),
    ],
)
def test_a_dead_pm4py_worker_loses_only_its_own_trace(memory, how, reason):
    import os
    import signal

    net, hard = _loops_net_and_trace()
    easy = ["A0", "B0", "A1"]
    # Workers of other pools (kept warm by earlier tests) are not this call's.
    others = set(_pool_workers())
    killed: list[int] = []

    def kill_once(_n: int) -> None:
        # The first easy trace is done, so the one worker has taken the hard one next.
        if not killed:

            def later() -> None:
                time.sleep(2.0)
                for pid in set(_pool_workers()) - others:
                    os.kill(pid, getattr(signal, how))
                    killed.append(pid)

            threading.Thread(target=later, daemon=True).start()
            killed.append(0)

    run = finishes(
        lambda: pm4py_adapter.align_pm4py(
            net, [easy, hard, easy], memory=memory, on_done=kill_once, deadline=time.monotonic() + 170
        )
    )
    assert len(killed) == 2, "exactly one worker was there to kill"
    assert sorted(run.aligned) == [0, 2]
    assert run.failed == {1: reason}
    assert run.empty_cost is not None


# -- long cases and many activities in discovery ----------------------------------------


def test_linear_directly_follows_count_equals_pm4pys():
    from pm4py.util.compression import util as comut

    rng = random.Random(3)
    for _ in range(20):
        log: Counter[tuple[str, ...]] = Counter()
        for _ in range(rng.randrange(1, 8)):
            log[tuple(rng.choice("abcde") for _ in range(rng.randrange(0, 40)))] += rng.randrange(1, 5)
        theirs, ours = comut.discover_dfg_uvcl(log), pm4py_adapter.directly_follows_uvcl(log)
        assert list(ours.graph.items()) == list(theirs.graph.items())
        assert list(ours.start_activities.items()) == list(theirs.start_activities.items())
        assert list(ours.end_activities.items()) == list(theirs.end_activities.items())


def test_one_long_case_is_mined_as_pm4py_mines_it():
    import pm4py

    rng = random.Random(4)
    trace = tuple(f"act{rng.randrange(12)}" for _ in range(1_500))
    ours = discover_variants([(trace, 1)])
    log = pm4py.objects.log.obj.EventLog(
        [pm4py.objects.log.obj.Trace([pm4py.objects.log.obj.Event({"concept:name": a}) for a in trace])]
    )
    assert ours.tree == str(pm4py.discover_process_tree_inductive(log))


def test_discovery_stops_at_its_budget_with_a_clear_error():
    with pytest.raises(ModelError) as caught:
        discover_variants([(("a", "b", "c"), 2), (("a", "c"), 1)], budget=0)
    assert str(caught.value) == (
        "discovery stopped when its budget of 0 seconds ran out (2 variants, 8 events); nothing was mined"
    )
    assert (
        caught.value.hint
        == "mine the most frequent variants with --top-variants K, or allow more time with --budget SECONDS"
    )


def test_discovery_refuses_a_log_of_ids_for_activities():
    variants = [
        ((f"id{3 * c}", f"id{3 * c + 1}", f"id{3 * c + 2}"), 1) for c in range(MAX_ACTIVITIES // 3 + 1)
    ]
    for algorithm in ("inductive", "heuristics"):
        with pytest.raises(ModelError) as caught:
            discover_variants(variants, algorithm=algorithm)
        assert str(caught.value).startswith(
            f"the log has {3 * (MAX_ACTIVITIES // 3 + 1):,} distinct activities; "
        )
        assert "--activity COLUMN" in caught.value.hint


# -- many activities in a check ---------------------------------------------------------


def test_near_matches_are_looked_for_among_the_most_frequent_activities_only():
    filler = [f"step {i:05d}" for i in range(SUGGEST_AMONG + 100)]
    early = match_labels(["Approve orders"], ["Approve order", *filler])
    late = match_labels(["Approve orders"], [*filler, "Approve order"])
    assert [(s.model_label, s.log_activity) for s in early.suggested] == [("Approve orders", "Approve order")]
    assert late.suggested == ()
    assert len(late.log_only) == SUGGEST_AMONG + 101


def test_deviation_medians_equal_duckdbs_over_many_deviations(tmp_path):
    # 300 cases, most with an activity of their own (a deviation each), random durations.
    rng = random.Random(9)
    rows = []
    for c in range(300):
        acts = ["A", "B", "C"] if c % 3 else ["A", f"X{c}", "B", "C"]
        if c % 7 == 0:
            acts.remove("B")
        hours = rng.uniform(1, 100)
        rows += [(f"c{c}", a, k * hours / (len(acts) - 1)) for k, a in enumerate(acts)]
    model = load_model(b"A\nB\nC\n", "abc.txt")
    with Store() as store:
        log = load_hours(store, tmp_path, rows)
        result = conform(store, log, model)
        by_variant: dict[int, list[float]] = {}
        for vid, d in store.query("SELECT variant_id, duration_s FROM cases WHERE log_id = ?", [log]).rows:
            by_variant.setdefault(int(vid), []).append(float(d))
    assert len(result.deviations) > 100
    all_ids = {vid for v in result.variants for vid in v.stored_variant_ids}
    for d in result.deviations:
        with_ids = {vid for v in result.variants if v.rank in d.variants for vid in v.stored_variant_ids}
        inside = [x for vid in with_ids for x in by_variant[vid]]
        outside = [x for vid in all_ids - with_ids for x in by_variant[vid]]
        assert d.median_duration_with_s == pytest.approx(float(np.median(inside)))
        assert d.median_duration_without_s == pytest.approx(float(np.median(outside)))
