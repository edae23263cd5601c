"""Conformance on hand-made logs with known deviations: exact counts, sentences, budget and cancel.

The model (tests/files/conformance/steps_abcd.yaml) is A, B, C, D in
sequence with D optional (a silent step skips it).  The log, hours from the
first event to the last in brackets:

    c1 A B C D (10)    fits
    c2 A B C D (12)    fits
    c3 A B C   (8)     fits through the silent skip of D
    c4 A B D   (30)    C skipped
    c5 A B C C D (20)  C inserted (C is in the model)
    c6 A B X C D (50)  X is not in the model
    c7 A C B D (40)    B and C swapped: one of them is out of order

Medians "without" are over the aligned cases that do not have the
deviation, e.g. for 'C skipped': 8, 10, 12, 20, 40, 50 -> 16 h.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mining import pm4py_adapter
from mining.analysis.filters import Filter
from mining.conformance import Allowlist, conform, deviating_cases, export_cases, from_discovered, load_model
from mining.conformance.sentences import sentence
from mining.durations import duration_words
from mining.errors import ConformanceError
from mining.store import Store
from tests.conftest import FILES
from tests.tinylog import load_hours

HERE = FILES / "conformance"
HOUR = 3600.0
CASES = {
    "c1": ("ABCD", 10),
    "c2": ("ABCD", 12),
    "c3": ("ABC", 8),
    "c4": ("ABD", 30),
    "c5": ("ABCCD", 20),
    "c6": ("ABXCD", 50),
    "c7": ("ACBD", 40),
}


def events(cases):
    out = []
    for case, (acts, hours) in cases.items():
        out += [(case, a, i * hours / (len(acts) - 1)) for i, a in enumerate(acts)]
    return out


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    with Store() as store:
        log = load_hours(store, tmp_path_factory.mktemp("tiny"), events(CASES))
        yield store, log


@pytest.fixture(scope="module")
def model():
    return load_model(HERE / "steps_abcd.yaml")


@pytest.fixture(scope="module")
def full(tiny, model):
    return conform(*tiny, model)


def test_each_known_deviation_is_found_with_its_counts_and_sentence(full):
    assert (full.engine, full.complete, full.cases) == ("r4pm", True, 7)
    got = [
        (d.kind, d.activity, d.cases, d.occurrences, d.median_duration_with_s, d.median_duration_without_s)
        for d in full.deviations
    ]
    assert got == [
        ("skipped", "C", 1, 1, 30 * HOUR, 16 * HOUR),
        ("inserted", "C", 1, 1, 20 * HOUR, 21 * HOUR),
        ("out_of_order", "C", 1, 1, 40 * HOUR, 16 * HOUR),
        ("not_in_model", "X", 1, 1, 50 * HOUR, 16 * HOUR),
    ]
    assert [d.sentence for d in full.deviations] == [
        "'C' skipped in 14% of cases (1 of 7); these cases took a median 14.0 hours longer than the rest (an association; other differences between these cases may explain it).",
        "'C' done where the model does not allow it in 14% of cases (1 of 7); these cases took a median 1.0 hour shorter "
        "than the rest (an association; other differences between these cases may explain it).",
        "'C' done out of order in 14% of cases (1 of 7); these cases took a median 24.0 hours longer than the rest (an association; other differences between these cases may explain it).",
        "'X' (not in the model) done in 14% of cases (1 of 7); these cases took a median 34.0 hours longer than the rest (an association; other differences between these cases may explain it).",
    ]
    assert [d.share for d in full.deviations] == [1 / 7] * 4


def test_metrics_of_the_hand_made_log(full):
    # Deviating moves over worst cases (trace length + 3 for the model's shortest run A B C):
    # 0/7 0/7 0/6 1/6 1/8 1/8 2/7 -> 1 - 5/49.
    assert full.fitness == pytest.approx(1 - 5 / 49)
    assert full.fitness_bounds == (full.fitness, full.fitness)
    assert full.fitting_cases_share == pytest.approx(3 / 7)
    assert full.precision == 1.0
    assert (full.aligned_variants_share, full.aligned_cases_share) == (1.0, 1.0)
    variants = [(v.rank, "".join(v.activities), v.cases, v.cost, v.deviations) for v in full.variants]
    assert variants == [
        (1, "ABCD", 2, 0, ()),
        (2, "ABC", 1, 0, ()),
        (3, "ABCCD", 1, 1, (("inserted", "C", 1),)),
        (4, "ABD", 1, 1, (("skipped", "C", 1),)),
        (5, "ABXCD", 1, 1, (("not_in_model", "X", 1),)),
        (6, "ACBD", 1, 2, (("out_of_order", "C", 1),)),
    ]
    assert full.labels.log_only == ("X",)
    assert full.notes == ()


def test_pm4py_engine_gives_the_same_figures(tiny, model, full):
    other = conform(*tiny, model, engine="pm4py", processes=1)
    assert other.engine == "pm4py"
    assert other.fitness == full.fitness
    assert other.fitting_cases_share == full.fitting_cases_share
    # A swap has two optimal alignments (B moved, or C moved).  r4pm's choice is fixed (its
    # transitions are numbered); pm4py breaks the tie by hash order, which varies between runs.
    found = [(d.kind, d.activity, d.cases) for d in other.deviations]
    swapped = [f for f in found if f[0] == "out_of_order"]
    assert len(swapped) == 1
    assert swapped[0] in {("out_of_order", "B", 1), ("out_of_order", "C", 1)}
    assert [f for f in found if f[0] != "out_of_order"] == [
        ("skipped", "C", 1),
        ("inserted", "C", 1),
        ("not_in_model", "X", 1),
    ]


def test_map_overlay_lists_paths_and_activities_the_model_does_not_allow(full):
    edges = [(e.source, e.target, e.count, e.cases) for e in full.overlay.edges]
    assert edges == [
        ("B", "D", 2, 2),
        ("A", "C", 1, 1),
        ("B", "X", 1, 1),
        ("C", "B", 1, 1),
        ("C", "C", 1, 1),
        ("X", "C", 1, 1),
    ]
    assert full.overlay.activities == (("X", 1, 1),)
    assert (full.overlay.model_pairs, full.overlay.complete) == (3, True)


@pytest.mark.parametrize("name", ["allow.yaml", "allow.txt"])
def test_allowlist_takes_accepted_deviations_out(tiny, model, full, name):
    result = conform(*tiny, model, allow=Allowlist.load(HERE / name))
    if name == "allow.yaml":  # skip C, insert X
        assert result.accepted == (("not_in_model", "X", 1), ("skipped", "C", 1))
        assert [(d.kind, d.activity) for d in result.deviations] == [("inserted", "C"), ("out_of_order", "C")]
        assert result.fitting_cases_share == pytest.approx(5 / 7)
    else:  # skip C, swap B: r4pm moved C, so the swap stays
        assert result.accepted == (("skipped", "C", 1),)
        assert [(d.kind, d.activity) for d in result.deviations] == [
            ("inserted", "C"),
            ("out_of_order", "C"),
            ("not_in_model", "X"),
        ]
        assert result.fitting_cases_share == pytest.approx(4 / 7)
    # Accepting a deviation does not change what the model allows.
    assert result.fitness == full.fitness


def test_allowlist_errors_name_the_file_and_line():
    with pytest.raises(ConformanceError) as err:
        Allowlist.load(HERE / "allow_bad.txt")
    assert str(err.value) == (
        "allow_bad.txt, line 2: 'move:C'; expected 'skip:Activity', 'insert:Activity' or 'swap:Activity'"
    )


def test_budget_zero_reports_a_partial_result_with_bounds(tiny, model, full):
    result = conform(*tiny, model, budget=0)
    assert (result.complete, result.fitness, result.fitting_cases_share, result.precision) == (
        False,
        None,
        None,
        None,
    )
    assert (result.aligned_variants_share, result.aligned_cases_share) == (0.0, 0.0)
    assert result.fitness_bounds == (0.0, 1.0)
    assert result.fitting_cases_bounds == (0.0, 1.0)
    assert result.deviations == ()
    assert result.notes == (
        "precision was not computed: the budget ran out",
        "partial result: 0 of 6 variants (0 of 7 cases) were aligned before the budget ran out",
    )
    assert result.fitness_bounds[0] <= full.fitness <= result.fitness_bounds[1]


@pytest.mark.parametrize("engine", ["r4pm", "pm4py"])
def test_cancel_after_the_first_variant(tiny, model, full, engine):
    calls = []
    result = conform(
        *tiny,
        model,
        engine=engine,
        processes=1,
        progress=lambda d, t: calls.append((d, t)),
        cancel=lambda: bool(calls),
    )
    assert calls == [(1, 6)]
    assert (result.complete, result.fitness) == (False, None)
    assert result.aligned_variants_share == pytest.approx(1 / 6)
    assert result.aligned_cases_share == pytest.approx(2 / 7)
    lo, hi = result.fitness_bounds
    # Variant 1 (2 cases) fits; the other 5 cases' 35 worst-case moves are unknown.
    assert (lo, hi) == (pytest.approx(1 - 35 / 49), 1.0)
    assert lo <= full.fitness <= hi
    assert result.fitting_cases_bounds == (pytest.approx(2 / 7), 1.0)
    assert (
        result.notes[-1] == "partial result: 1 of 6 variants (2 of 7 cases) were aligned before the check "
        "was cancelled"
    )


def test_pm4py_takes_over_when_r4pm_fails(tiny, model, full, monkeypatch):
    def broken(*args, **kwargs):
        raise ConformanceError("r4pm could not align against this net: boom")

    monkeypatch.setattr(pm4py_adapter, "align_r4pm", broken)
    result = conform(*tiny, model, processes=1)
    assert result.engine == "pm4py"
    assert result.notes == ("r4pm could not align against this net: boom; aligned with pm4py instead",)
    assert result.fitness == full.fitness
    with pytest.raises(ConformanceError, match="boom"):
        conform(*tiny, model, engine="r4pm")


def test_variants_r4pm_gives_up_on_are_aligned_by_pm4py(tiny, model, full, monkeypatch):
    real = pm4py_adapter.align_r4pm
    # Six states are enough for the empty trace and the two shortest variants, not for the rest.
    monkeypatch.setattr(pm4py_adapter, "align_r4pm", lambda *a, **k: real(*a, **{**k, "max_states": 6}))
    result = conform(*tiny, model, processes=1)
    assert result.engine == "r4pm+pm4py"
    assert result.notes == (
        "r4pm could not align 4 variant(s) (r4pm: {'SearchError': 'LimitReached'}); "
        "they were aligned with pm4py",
    )
    assert (result.complete, result.fitness) == (True, full.fitness)


def test_token_replay_method(tiny, model):
    result = conform(*tiny, model, method="token-replay")
    assert (result.method, result.engine, result.deviations) == ("token-replay", "pm4py", ())
    # pm4py's own figure on the same cases, as a dataframe of the stored events.
    import pandas as pd
    import pm4py

    store, log = tiny
    rows = store.query(
        "SELECT case_id, activity, ts FROM events WHERE log_id = ? ORDER BY case_no, ts, row_no", [log]
    ).rows
    frame = pd.DataFrame(rows, columns=["case:concept:name", "concept:name", "time:timestamp"])
    pm = pm4py_adapter.petri_net(model.net)
    expected = pm4py.fitness_token_based_replay(frame, pm.net, pm.initial_marking, pm.final_marking)
    assert result.fitness == pytest.approx(expected["log_fitness"], abs=1e-12)
    assert result.fitting_cases_share == pytest.approx(expected["percentage_of_fitting_traces"] / 100)
    assert result.notes == (
        "token replay gives fitness and fitting cases; deviations per activity come from alignments",
    )


def test_filters_select_and_project_the_checked_cases(tiny, model):
    top = conform(*tiny, model, Filter(variant_top_k=2))
    assert (top.cases, top.fitness, top.deviations) == (3, 1.0, ())
    without_x = conform(*tiny, model, Filter(activities_remove=("X",)))
    assert without_x.cases == 7
    assert without_x.variants[0].activities == ("A", "B", "C", "D")
    assert (without_x.variants[0].cases, without_x.variants[0].stored_variant_ids) == (3, (1, 5))
    assert [(d.kind, d.activity) for d in without_x.deviations] == [
        ("skipped", "C"),
        ("inserted", "C"),
        ("out_of_order", "C"),
    ]
    with pytest.raises(ConformanceError) as err:
        conform(*tiny, model, Filter(min_duration_s=1e9))
    assert str(err.value) == "no cases to check (the filter keeps none)"


def test_deviating_cases_and_their_export(tiny, full, tmp_path):
    store, _ = tiny
    cases = deviating_cases(store, full)
    assert [(c.case_id, c.deviations, c.duration_s) for c in cases] == [
        ("c4", "skipped 'C'", 30 * HOUR),
        ("c5", "inserted 'C'", 20 * HOUR),
        ("c6", "not in the model 'X'", 50 * HOUR),
        ("c7", "out of order 'C'", 40 * HOUR),
    ]
    assert export_cases(cases, tmp_path / "cases.csv") == 4
    assert (tmp_path / "cases.csv").read_text(encoding="utf-8").splitlines()[:2] == [
        "case,variant,deviations,duration_seconds,duration",
        "c4,4,skipped 'C',108000.0,1d 06h",
    ]
    with pytest.raises(ConformanceError) as err:
        export_cases(cases, tmp_path / "cases.json")
    assert str(err.value) == "cannot write deviating cases to 'cases.json': expected a .csv or .xlsx file"


def test_export_neutralises_formulas_in_csv_and_xlsx(store, tmp_path, model):
    import csv

    from python_calamine import CalamineWorkbook

    log = load_hours(
        store,
        tmp_path,
        [("=HYPERLINK(1)", "A", 0), ("=HYPERLINK(1)", "D", 1), ("+1", "A", 0), ("+1", "@X", 1)],
    )
    result = conform(store, log, model)
    cases = deviating_cases(store, result)
    assert [(c.case_id, c.deviations) for c in cases] == [
        ("+1", "skipped 'B'; skipped 'C'; not in the model '@X'"),
        ("=HYPERLINK(1)", "skipped 'B'; skipped 'C'"),
    ]
    export_cases(cases, tmp_path / "cases.csv")
    with (tmp_path / "cases.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert [r[0] for r in rows] == ["case", "'+1", "'=HYPERLINK(1)"]
    export_cases(cases, tmp_path / "cases.xlsx")
    sheet = CalamineWorkbook.from_path(str(tmp_path / "cases.xlsx")).get_sheet_by_index(0).to_python()
    assert sheet[0] == ["case", "variant", "deviations", "duration_seconds", "duration"]
    assert [r[0] for r in sheet[1:]] == ["'+1", "'=HYPERLINK(1)"]
    assert sheet[1][3] == 3600.0


def test_a_discovered_model_fits_its_own_log(tiny):
    from mining.models import discover

    store, log = tiny
    result = conform(store, log, from_discovered(discover(store, log)))
    assert (result.fitness, result.fitting_cases_share, result.deviations) == (1.0, 1.0, ())


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (45, "45 seconds"),
        (1, "1 second"),
        (60, "1.0 minute"),
        (750, "12.5 minutes"),
        (3 * 3600, "3.0 hours"),
        (47 * 3600, "47.0 hours"),
        (2.1 * 86400, "2.1 days"),
        (-90, "1.5 minutes"),
        (99.94 * 86400, "99.9 days"),
        (99.96 * 86400, "100 days"),  # from 100 on, whole units: "204 days", not "204.0 days"
        (50_648_730.04 * 86400, "50,648,730 days"),
    ],
)
def test_durations_in_sentences_use_a_readable_unit(seconds, text):
    assert duration_words(seconds) == text


def test_sentence_variants():
    assert sentence("skipped", "Approve", 412, 2300, 5 * 86400, 2.9 * 86400) == (
        "'Approve' skipped in 18% of cases (412 of 2,300); these cases took a median 2.1 days longer than the rest (an association; other differences between these cases may explain it)."
    )
    assert sentence("inserted", "Remind", 3, 2000, 10.0, 70.0) == (
        "'Remind' done where the model does not allow it in 0.1% of cases (3 of 2,000); these cases took "
        "a median 1.0 minute shorter than the rest (an association; other differences between these cases may explain it)."
    )
    assert sentence("out_of_order", "Pay", 1, 20_000, 5.0, 5.0) == (
        "'Pay' done out of order in <0.1% of cases (1 of 20,000); these cases took as long as the rest (median)."
    )
    assert sentence("skipped", "Pay", 4, 4, 5.0, None) == (
        "'Pay' skipped in 100% of cases (4 of 4); no cases without it to compare durations."
    )
    assert sentence("skipped", "Pay", 4, 4, 5.0, None, unmatched=True) == (
        "'Pay' (a model task no log activity matches) skipped in 100% of cases (4 of 4); "
        "no cases without it to compare durations."
    )


def test_a_model_task_no_activity_matches_is_worded_as_such(tiny):
    # 'Archive' matches nothing but A-D carry the score: the skip is a labelling gap, and says so.
    result = conform(*tiny, load_model(b"A\nB\nC\nD (optional)\nArchive\n", "archive.txt"))
    assert result.labels.model_only == ("Archive",)
    skipped = next(d for d in result.deviations if d.activity == "Archive")
    assert (skipped.kind, skipped.cases) == ("skipped", 7)
    assert skipped.sentence == (
        "'Archive' (a model task no log activity matches) skipped in 100% of cases (7 of 7); "
        "no cases without it to compare durations."
    )
    assert next(
        d for d in result.deviations if d.activity == "C" and d.kind == "skipped"
    ).sentence.startswith("'C' skipped in 14% of cases (1 of 7)")


def test_bad_arguments_are_refused(tiny, model):
    with pytest.raises(
        ConformanceError, match=r"^unknown method 'fast'; expected one of alignments, token-replay$"
    ):
        conform(*tiny, model, method="fast")
    with pytest.raises(ConformanceError, match=r"^the budget must be at least 0 seconds, got -1$"):
        conform(*tiny, model, budget=-1)


# ---------------------------------------------------------------------------
# invariants

traces = st.lists(st.lists(st.sampled_from("ABCDX"), min_size=1, max_size=6), min_size=1, max_size=8)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cases=traces, stop_after=st.integers(min_value=1, max_value=4))
def test_engines_agree_and_partial_bounds_hold_the_full_figure(tmp_path_factory, model, cases, stop_after):
    with Store() as store:
        log = load_hours(
            store,
            tmp_path_factory.mktemp("h"),
            [(f"c{i}", a, k) for i, acts in enumerate(cases) for k, a in enumerate(acts)],
        )
        # Random logs may match few of the model's tasks: this is about the engines, so score anyway.
        r4pm = conform(store, log, model, force=True)
        # pm4py in this process (processes=0): a worker pool per example would cost seconds each.
        pm4py = conform(store, log, model, engine="pm4py", processes=0, force=True)
        assert 0.0 <= r4pm.fitness <= 1.0
        assert r4pm.fitness == pm4py.fitness
        assert [v.cost for v in r4pm.variants] == [v.cost for v in pm4py.variants]
        assert r4pm.fitting_cases_share == pm4py.fitting_cases_share
        assert sum(v.cases for v in r4pm.variants) == len(cases)
        seen = []
        part = conform(
            store,
            log,
            model,
            progress=lambda d, t: seen.append(d),
            cancel=lambda: len(seen) >= stop_after,
            force=True,
        )
        lo, hi = part.fitness_bounds
        assert lo <= r4pm.fitness <= hi
        flo, fhi = part.fitting_cases_bounds
        assert flo <= r4pm.fitting_cases_share <= fhi
        if not part.complete:
            assert part.fitness is None


@pytest.mark.slow
def test_pm4py_process_pool_gives_the_same_costs(tiny, model, full):
    # Two spawned workers (each imports pm4py: a few seconds); this test module has no __main__ guard
    # to rely on, which the pool must not need.
    calls = []
    pooled = conform(*tiny, model, engine="pm4py", processes=2, progress=lambda d, t: calls.append(d))
    assert pooled.engine == "pm4py"
    assert [v.cost for v in pooled.variants] == [v.cost for v in full.variants]
    assert pooled.fitness == full.fitness
    assert calls == [1, 2, 3, 4, 5, 6]


def test_precision_can_be_skipped(tiny, model, full):
    quick = conform(*tiny, model, precision=False)
    assert (quick.precision, quick.notes) == (None, ())
    assert (quick.fitness, quick.deviations) == (full.fitness, full.deviations)
