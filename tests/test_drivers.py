"""Root-cause drivers: planted drivers found over ten seeds, null logs quiet, and one test per guard
(leakage, censoring, support, false discoveries, confounding, stability, Simpson's paradox)."""

from __future__ import annotations

import csv
import datetime as dt
import json

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from mining.cli import cli
from mining.drivers.find import find_drivers, parse_outcome
from mining.drivers.stats import benjamini_hochberg, mantel_haenszel, two_proportions
from mining.errors import AnalysisError
from mining.ingest import IngestOptions, ingest_file
from mining.store import Store
from tests.driverlog import BYSTANDER, DRIVERS, LEAKED, write_driver_log

SEEDS = range(10)
T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def _write(path, cases):
    """Cases as ``(case id, {attribute: value}, [(activity, hours after T0), ...])``; attributes on every event."""
    names = sorted({k for _, attrs, _ in cases for k in attrs})
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["case", "activity", "timestamp", "resource", *names])
        for case, attrs, events in cases:
            for activity, hours in events:
                stamp = (T0 + dt.timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")
                w.writerow([case, activity, stamp, "r1", *(attrs.get(k, "") for k in names)])
    return path


def _load(store, path, name):
    return ingest_file(store, path, IngestOptions(name=name)).log_id


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """Ten logs with planted drivers and ten null logs, in one workspace."""
    folder = tmp_path_factory.mktemp("drivers")
    with Store() as store:
        planted = {
            seed: _load(store, write_driver_log(folder / f"p{seed}.csv", seed=seed, cases=600), f"p{seed}")
            for seed in SEEDS
        }
        null = {
            seed: _load(
                store,
                write_driver_log(folder / f"n{seed}.csv", seed=100 + seed, cases=600, slow=1.0),
                f"n{seed}",
            )
            for seed in SEEDS
        }
        reports = {("planted", s): find_drivers(store, lid, "duration") for s, lid in planted.items()}
        reports |= {("null", s): find_drivers(store, lid, "duration") for s, lid in null.items()}
        yield reports


def _pairs(report):
    return [(d.attribute, d.value) for d in report.drivers]


@pytest.mark.slow
def test_both_planted_drivers_rank_in_the_top_three_for_every_seed(generated):
    for seed in SEEDS:
        top = _pairs(generated["planted", seed])[:3]
        assert all(driver in top for driver in DRIVERS), (seed, top)


@pytest.mark.slow
def test_the_bystander_is_never_reported_without_its_confounder(generated):
    seen = 0
    for seed in SEEDS:
        for d in generated["planted", seed].drivers:
            if (d.attribute, d.value) == BYSTANDER:
                seen += 1
                assert "channel" in d.confounded_by, (seed, d.confounded_by)
                assert "explained by channel" in d.sentence and not d.simpson
                # Confounded drivers come after every unconfounded one.
                assert all(not x.confounded_by for x in generated["planted", seed].drivers[:2])
    assert seen >= 5  # it rides with the channel, so it does show up: the guard is exercised


@pytest.mark.slow
def test_null_logs_report_no_driver_in_at_least_nine_of_ten(generated):
    quiet = [s for s in SEEDS if not generated["null", s].drivers]
    assert len(quiet) >= 9, {s: _pairs(generated["null", s]) for s in SEEDS}
    assert any("No driver" in n for n in generated["null", quiet[0]].notes)


@pytest.mark.slow
def test_a_field_written_on_the_last_event_is_excluded_as_leakage(generated):
    for seed in SEEDS:
        report = generated["planted", seed]
        assert LEAKED not in {d.attribute for d in report.drivers}
        leak = [e for e in report.excluded if e.attribute == LEAKED]
        assert len(leak) == 1 and leak[0].reason.startswith(
            "leakage: first filled at or after the moment the case became slow (or its last event)"
        )
        assert "100% of the judged cases" in leak[0].reason


@pytest.mark.slow
def test_a_driver_has_its_effect_interval_and_an_association_sentence(generated):
    d = next(d for d in generated["planted", 0].drivers if (d.attribute, d.value) == DRIVERS[0])
    lo, hi = d.ci
    assert lo < d.effect < hi and lo > 0
    assert d.outcome_value - d.rest_value == pytest.approx(d.effect)
    assert d.impact > 0 and d.adjusted_effect > 0 and d.confounded_by == ()
    assert d.sentence.startswith("Cases with channel = Partner take a median ")
    assert "longer than the rest" in d.sentence and "this holds after accounting for" in d.sentence
    assert "if they matched the rest, the overall median would drop by" in d.sentence
    assert d.q_value <= 0.05 and d.kind == "case attribute"


def _simpson_log(path):
    """Kidney stones, four times over: treatment A fails more often overall but less within each stone size."""
    rng = np.random.default_rng(7)
    counts = {
        ("small", "A"): (81, 6),
        ("small", "B"): (234, 36),
        ("large", "A"): (192, 71),
        ("large", "B"): (55, 25),
    }
    cases = []
    for (size, treatment), (ok, failed) in counts.items():
        for _ in range(4):
            for fail in [False] * ok + [True] * failed:
                start = float(rng.uniform(0, 24 * 300))
                cases.append(({"size": size, "treatment": treatment}, start, 10 * 24 if fail else 24))
    rows = [(f"k{i:05d}", attrs, [("Start", s), ("End", s + d)]) for i, (attrs, s, d) in enumerate(cases)]
    return _write(path, rows)


def test_a_simpsons_paradox_is_flagged(store, tmp_path):
    lid = _load(store, _simpson_log(tmp_path / "stones.csv"), "stones")
    report = find_drivers(store, lid, "sla:5d")
    treatment = [d for d in report.drivers if d.attribute == "treatment"]
    assert [d.value for d in treatment] == ["A"]
    a = treatment[0]
    assert a.effect > 0 and a.adjusted_effect < 0  # worse overall, better within each size
    assert a.simpson and a.simpson_by == ("size",) and a.confounded_by == ("size",)
    assert "Simpson's paradox" in a.sentence
    # Size itself is a driver that is not confounded.
    assert ("size", "large") in _pairs(report) and report.drivers[0].attribute == "size"


def _support_log(path, rare):
    """400 cases; ``rare`` of them (team X) take ten times longer."""
    rng = np.random.default_rng(3)
    rows = []
    for i in range(400):
        x = i < rare
        start = float(rng.uniform(0, 24 * 200))
        hours = float(rng.uniform(20, 30)) * (10 if x else 1)
        rows.append(
            (f"s{i:04d}", {"team": "X" if x else f"T{i % 4}"}, [("Open", start), ("Close", start + hours)])
        )
    return _write(path, rows)


def test_a_value_needs_thirty_cases_and_one_percent(store, tmp_path):
    few = _load(store, _support_log(tmp_path / "few.csv", 29), "few")
    enough = _load(store, _support_log(tmp_path / "enough.csv", 40), "enough")
    assert ("team", "X") not in _pairs(find_drivers(store, few, "duration"))
    assert ("team", "X") in _pairs(find_drivers(store, enough, "duration"))
    # 40 of 400 is 10%: a minimum share of 11% leaves it untested.
    assert ("team", "X") not in _pairs(find_drivers(store, enough, "duration", min_share=0.11))


def test_an_effect_that_reverses_in_the_second_half_is_excluded_as_unstable(store, tmp_path):
    rng = np.random.default_rng(5)
    rows = []
    for i in range(600):
        late = i >= 400  # the period's second half holds a third of the early cases and all the late ones
        start = (300 if late else 0) * 24 + float(rng.uniform(0, 24 * 250))
        night = i % 3 == 0
        # The night shift is four times slower early on, and a little faster later.
        hours = float(rng.uniform(20, 30)) * ((0.8 if late else 4) if night else 1)
        rows.append(
            (f"u{i:04d}", {"shift": "night" if night else "day"}, [("Open", start), ("Close", start + hours)])
        )
    lid = _load(store, _write(tmp_path / "unstable.csv", rows), "unstable")
    report = find_drivers(store, lid, "duration")
    assert "shift" not in {d.attribute for d in report.drivers}
    unstable = [e for e in report.excluded if e.attribute == "shift"]
    assert unstable and all(
        e.reason.startswith("unstable: the difference does not hold in both halves") for e in unstable
    )


def test_an_event_id_is_no_driver_and_is_said_to_be_left_out(store, tmp_path):
    """Road Traffic Fines' activity_instance_id (a number on every event) was binned into quartiles and
    tested as a driver ('activity_instance_id (first event) = <= 141,483')."""
    path = tmp_path / "ids.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["case", "activity", "timestamp", "event_id", "weight"])
        for i in range(300):
            start = T0 + dt.timedelta(hours=5 * i)
            hours = 30 if i < 100 else 3  # the first cases are slow, and hold the smallest ids
            for k, (activity, at) in enumerate((("Open", 0), ("Close", hours))):
                stamp = (start + dt.timedelta(hours=at)).strftime("%Y-%m-%dT%H:%M:%SZ")
                # A measurement with decimals differs on every event too, and is no identifier.
                w.writerow([f"c{i:03d}", activity, stamp, 2 * i + k, 2 * i + k + 0.25])
    report = find_drivers(store, _load(store, path, "ids"), "duration")
    assert not [d for d in report.drivers if d.attribute.startswith("event_id")]
    identifiers = [(e.attribute, e.reason) for e in report.excluded if e.reason.startswith("an identifier")]
    assert identifiers == [
        ("event_id", "an identifier: a different value on every event, which no two cases share")
    ]


def test_outcome_fields_repeated_on_every_row_and_dates_are_no_drivers(store, tmp_path):
    """ServiceNow's export repeats closed_code and resolved_by on every row, the first included, so their
    timing could not show them set as the case closed; resolved_at (text dates) became categories held
    fixed in every driver's adjustment."""
    path = tmp_path / "incidents.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["case", "activity", "timestamp", "closed_code", "resolvedBy", "resolved_at", "channel"])
        for i in range(300):
            start = T0 + dt.timedelta(hours=5 * i)
            slow = i % 3 == 0
            hours = 30 if slow else 3
            code = "escalated" if slow else "fixed"
            channel = ("Phone", "Email")[i % 2]
            resolved = (start + dt.timedelta(hours=hours)).strftime("%d/%m/%Y %H:%M")
            for activity, at in (("Open", 0), ("Close", hours)):
                stamp = (start + dt.timedelta(hours=at)).strftime("%Y-%m-%dT%H:%M:%SZ")
                w.writerow([f"c{i:03d}", activity, stamp, code, code.upper(), resolved, channel])
    report = find_drivers(store, _load(store, path, "incidents"), "duration")
    assert [d.attribute for d in report.drivers if d.attribute in {"closed_code", "resolvedBy"}] == []
    assert (
        _excluded_reason(report, "closed_code")
        == _excluded_reason(report, "resolvedBy")
        == ("named for how the case ended (set as it closes): a consequence of the outcome, not a cause")
    )
    assert _excluded_reason(report, "resolved_at") == (
        "dates or times: no kind of case, and one set as a case closes would be a consequence"
    )
    assert all("resolved_at" not in d.adjusted_for for d in report.drivers)


def test_cases_with_a_placeholder_date_are_named_as_left_out(store, tmp_path):
    # BPIC 2019's 1948 dates: 20 cases fewer than every other command, without a word.
    from mining.drivers.segments import compare_segments

    cases = [
        (f"c{i:03d}", {"channel": ("Phone", "Mail")[i % 2]}, [("Open", 5 * i), ("Close", 5 * i + 2 + i % 3)])
        for i in range(120)
    ]
    # Events in 1909 and 2126: the last case by id (its attributes fell past the end of the kept
    # cases, an IndexError), and one between c050 and c051 (its channel took c051's place, silently).
    cases.append(("c999", {"channel": "Phone"}, [("Open", -1_000_000), ("Close", 30)]))
    cases.append(("c050x", {"channel": "Phone"}, [("Open", 40), ("Close", 900_000)]))
    log = _load(store, _write(tmp_path / "placeholder.csv", cases), "placeholder")
    note = "2 cases have an event outside the data's range and are left out."
    assert note in find_drivers(store, log, "duration").notes
    compared = compare_segments(store, log, "channel", sla_seconds=None)
    assert compared.cases == 120 and note in compared.note
    assert {s.value: s.cases for s in compared.segments} == {"Phone": 60, "Mail": 60}


def test_open_cases_are_censored_not_dropped(store, tmp_path):
    # 200 complete cases of 1..200 hours, started long ago; 40 cases still open at the data end (no Close),
    # already running for 300 hours: they are longer than any complete case, so they raise the median.
    rows = [(f"d{i:03d}", {}, [("Open", i * 10.0), ("Close", i * 10.0 + 1 + i)]) for i in range(200)]
    end = 200 * 10.0 + 400
    rows += [(f"o{i:03d}", {}, [("Open", end - 300 - i), ("Work", end - i * 0.01)]) for i in range(40)]
    rows.append(("last", {}, [("Open", end - 1), ("Close", end)]))
    lid = _load(store, _write(tmp_path / "open.csv", rows), "open")
    report = find_drivers(store, lid, "duration")
    assert report.outcome.cases == 241
    # Kaplan-Meier over 201 complete and 40 censored cases beyond them: the median is the 121st shortest.
    durations = sorted([1.0 + i for i in range(200)] + [1.0])
    assert report.outcome.baseline == pytest.approx(durations[120] * 3600)
    # Without the open cases the median would be the 101st shortest.
    assert report.outcome.baseline > durations[100] * 3600
    # The open ones ran past the median: they are known to be slow.  Only the newest case, started an hour
    # before the data end, is too recent to judge.
    assert report.outcome.judged == 240
    assert any(n.startswith("1 case started less than 5.0 days before the data end") for n in report.notes)
    sla = find_drivers(store, lid, "sla:400h")
    assert sla.outcome.judged < sla.outcome.cases
    assert any("too recent to tell" in n for n in sla.notes)


def test_rework_does_not_explain_itself(store, tmp_path):
    rows = [
        (
            f"w{i:03d}",
            {},
            [
                ("A", i * 5.0),
                ("B", i * 5.0 + 1),
                *([("A", i * 5.0 + 2)] if i % 2 else []),
                ("C", i * 5.0 + 3),
            ],
        )
        for i in range(100)
    ]
    lid = _load(store, _write(tmp_path / "loops.csv", rows), "loops")
    report = find_drivers(store, lid, "rework")
    assert report.outcome.baseline == pytest.approx(0.5)
    assert (
        _excluded_reason(report, "repeats an activity")
        == "it is the outcome itself (a repeated activity is rework)"
    )


def _excluded_reason(report, attribute):
    return next(e.reason for e in report.excluded if e.attribute == attribute)


def test_outcomes_are_parsed_and_bad_ones_refused():
    assert parse_outcome("sla:36h").sla_seconds == 36 * 3600
    assert parse_outcome("deviation:m.bpmn").model == "m.bpmn"
    assert parse_outcome("Duration").kind == "duration"
    with pytest.raises(AnalysisError, match="unknown outcome 'speed'"):
        parse_outcome("speed")
    with pytest.raises(AnalysisError, match="an SLA outcome needs its limit"):
        parse_outcome("sla")
    with pytest.raises(AnalysisError, match="the outcome 'rework' takes no argument"):
        parse_outcome("rework:x")


@given(st.lists(st.floats(min_value=0, max_value=1), min_size=1, max_size=40))
def test_fdr_adjusted_values_never_fall_below_the_raw_ones_and_keep_their_order(p):
    p = np.array(p)
    q = benjamini_hochberg(p)
    assert np.all(q >= p - 1e-12) and np.all(q <= 1)
    order = np.argsort(p, kind="stable")
    assert np.all(np.diff(q[order]) >= -1e-12)


@given(st.integers(min_value=40, max_value=300), st.integers(min_value=0, max_value=2**31))
def test_one_stratum_gives_the_crude_difference(n, seed):
    rng = np.random.default_rng(seed)
    group = rng.random(n) < 0.4
    bad = rng.random(n) < 0.3
    if group.all() or not group.any():
        return
    rd, _se, _z = mantel_haenszel(group, bad, np.zeros(n, dtype=np.int64))
    diff, _, _, _ = two_proportions(bad[group].sum(), group.sum(), bad[~group].sum(), (~group).sum())
    assert rd == pytest.approx(float(diff))


def test_a_model_with_other_names_uses_the_mapping_saved_for_it_and_says_where_to_make_one(tmp_path):
    # Its hint named conform's --map and --force, which drivers and monitor do not have.
    from mining.conformance import LabelMapping
    from mining.conformance.saved import model_sha256, save_mapping

    ws = tmp_path / "ws.duckdb"
    cases = [
        (f"c{i:03d}", {}, [("Open", 5 * i), ("Fix", 5 * i + 1), ("Close", 5 * i + 2)]) for i in range(60)
    ]
    cases += [(f"d{i:03d}", {}, [("Open", 5 * i), ("Close", 5 * i + 2)]) for i in range(20)]
    log = _write(tmp_path / "t.csv", cases)
    model = tmp_path / "steps.txt"
    model.write_text("Opened\nRepaired\nClosed\n")
    runner = CliRunner()
    assert runner.invoke(cli, ["-w", str(ws), "ingest", str(log), "--name", "t"]).exit_code == 0
    hint = (
        "Hint: map the model's tasks to the log's activities on the app's Conformance page: the mapping it "
        "saves for this log and model is used here"
    )
    for command in (
        ["drivers", "t", "--outcome", f"deviation:{model}"],
        ["monitor", "t", "--model", str(model)],
    ):
        refused = runner.invoke(cli, ["-w", str(ws), *command])
        assert refused.exit_code == 1
        assert refused.output.startswith("Error: 0 of the model's 3 tasks (0%) match an activity of the log")
        assert hint in refused.output and "--force" not in refused.output
    with Store(ws) as store:
        mapping = LabelMapping((("Opened", "Open"), ("Repaired", "Fix"), ("Closed", "Close")))
        save_mapping(store, 1, model_sha256(model.read_bytes()), "steps.txt", mapping)
    mapped = runner.invoke(cli, ["-w", str(ws), "drivers", "t", "--outcome", f"deviation:{model}", "--json"])
    assert mapped.exit_code == 0, mapped.output
    outcome = json.loads(mapped.output)["outcome"]
    # The 20 cases that skip the repair deviate from the model Opened, Repaired, Closed.
    assert (outcome["cases"], outcome["baseline"]) == (80, 0.25)


def test_the_cli_prints_the_json_contract(tmp_path):
    ws = tmp_path / "ws.duckdb"
    runner = CliRunner()
    log = write_driver_log(tmp_path / "g.csv", seed=1, cases=600)
    assert runner.invoke(cli, ["-w", str(ws), "ingest", str(log), "--name", "g"]).exit_code == 0
    result = runner.invoke(cli, ["-w", str(ws), "drivers", "g", "--outcome", "sla:3d", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {"outcome", "drivers", "excluded", "notes"} <= set(data)
    assert {"kind", "definition", "cases", "baseline"} <= set(data["outcome"])
    assert data["outcome"]["kind"] == "sla" and data["outcome"]["cases"] == 600
    keys = {
        "attribute",
        "value",
        "cases",
        "share",
        "outcome_value",
        "rest_value",
        "effect",
        "ci",
        "adjusted_effect",
    }
    keys |= {"confounded_by", "impact", "sentence"}
    assert data["drivers"] and all(keys <= set(d) for d in data["drivers"])
    assert all(len(d["ci"]) == 2 and isinstance(d["confounded_by"], list) for d in data["drivers"])
    assert {"attribute", "reason"} <= set(data["excluded"][0])
    text = runner.invoke(cli, ["-w", str(ws), "drivers", "g", "--outcome", "sla:3d", "--top", "2"])
    assert text.exit_code == 0
    assert "1. channel = Partner" in text.output or "1. product = P4" in text.output
    bad = runner.invoke(cli, ["-w", str(ws), "drivers", "g", "--outcome", "sla:soon"])
    assert bad.exit_code == 1 and "Error: SLA limit 'soon' is not a duration" in bad.output


def test_compare_prints_segments_with_intervals_and_mix_adjusted_differences(tmp_path):
    ws = tmp_path / "ws.duckdb"
    runner = CliRunner()
    log = write_driver_log(tmp_path / "g.csv", seed=2, cases=600)
    assert runner.invoke(cli, ["-w", str(ws), "ingest", str(log), "--name", "g"]).exit_code == 0
    card = tmp_path / "card.csv"
    card.write_text("kind,name,value\nresource,*,60\nactivity,Close,5\nsetting,currency,EUR\n")
    args = ["-w", str(ws), "compare", "g", "--by", "channel", "--sla", "3d", "--rates", str(card), "--json"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["by"] == "channel" and {"by", "segments"} <= set(data)
    segments = {s["value"]: s for s in data["segments"]}
    assert set(segments) == {"Web", "Phone", "Email", "Partner"}
    assert sum(s["cases"] for s in segments.values()) == 600
    partner = segments["Partner"]
    assert set(partner["kpis"]) == {
        "cycle_median_s", "cycle_p90_s", "throughput_per_week", "rework_rate", "sla_breach_rate", "cost_per_case"
    }  # fmt: skip
    # Partner cases are planted twice as slow: slower than the rest, within its interval, and still after mix.
    vs = partner["vs_rest"]["cycle_median_s"]
    lo, hi = vs["ci"]
    assert vs["difference"] > 0 and lo < vs["difference"] < hi and lo > 0
    lo, hi = partner["intervals"]["cycle_median_s"]
    assert lo <= partner["kpis"]["cycle_median_s"] <= hi
    # Cost: every hour of the partner cases at 60, plus 5 per Close: slower cases cost more.
    assert partner["vs_rest"]["cost_per_case"]["difference"] > 0
    assert partner["kpis"]["cost_per_case"] > 5
    only = runner.invoke(
        cli, ["-w", str(ws), "compare", "g", "--by", "channel", "--kpi", "rework_rate", "--json"]
    )
    assert json.loads(only.output)["segments"][0]["kpis"].keys() == {"rework_rate"}
    unknown = runner.invoke(cli, ["-w", str(ws), "compare", "g", "--by", "colour"])
    assert (
        unknown.exit_code == 1 and "cannot compare by 'colour'; --by ATTRIBUTE names one of" in unknown.output
    )
    text = runner.invoke(cli, ["-w", str(ws), "compare", "g", "--by", "start weekday"])
    assert (
        text.exit_code == 0
        and "cases by start weekday:" in text.output
        and "Median cycle time:" in text.output
    )


def _messy_log(path, seed):
    """Values that change within cases, fields filled late or missing on the first event, tied times,
    events without a resource: every per-case reading of the candidates has something to get wrong."""
    rng = np.random.default_rng(seed)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["case", "activity", "timestamp", "resource", "team", "vary", "late", "first_gap", "size"])
        for c in range(120):
            team = str(rng.choice(["Zeta", "alpha", "Beta", "beta", "Ärger"]))
            size = str(int(rng.integers(1, 40)))
            n = int(rng.integers(1, 7))
            hours = np.sort(rng.integers(0, 6, size=n)) + c  # ties within a case
            for i in range(n):
                stamp = (T0 + dt.timedelta(hours=int(hours[i]))).strftime("%Y-%m-%dT%H:%M:%SZ")
                w.writerow(
                    [
                        f"c{c:03d}",
                        str(rng.choice(["A", "B", "C", "D"])),
                        stamp,
                        "" if rng.random() < 0.2 else str(rng.choice(["ann", "bob", "cy"])),
                        team if rng.random() < 0.97 or c % 2 else "alpha",  # rarely differs
                        str(rng.choice(["x", "y", "z", ""])),
                        "done" if i == n - 1 else "",
                        "" if i == 0 else team,
                        size,
                    ]
                )
    return path


@pytest.mark.parametrize("seed", [1, 2])
def test_candidates_read_each_case_as_the_events_say(store, tmp_path, seed):
    """Every candidate's per-case value, checked against a plain SQL reading of the same events:
    a case attribute is the case's first filled value (by time, then row), known then; a first-event
    attribute is the value on the first event (by time, then row); hand-offs, loops, contained
    activities and who first handled an activity likewise."""
    from mining.analysis.filters import Filter
    from mining.drivers.features import EMPTY, candidates
    from mining.monitor.periods import case_facts

    log = _load(store, _messy_log(tmp_path / "messy.csv", seed), "messy")
    facts = case_facts(store, log, Filter())
    cands = {c.attribute: c for c in candidates(store, log, Filter(), facts)}
    at = {int(c): i for i, c in enumerate(facts.case_no)}
    columns = dict(
        store.query("SELECT source_name, column_name FROM attribute_columns WHERE log_id = ?", [log]).rows
    )
    # arg_min_null: the first event's value even when empty (arg_min would skip to a filled one).
    first = "arg_min_null({x}, struct_pack(t := e.ts, r := e.row_no))"
    checked = 0
    for source, column in columns.items():
        rows = store.query(
            f'SELECT e.case_no, arg_min(a."{column}", struct_pack(t := e.ts, r := e.row_no)), max(a."{column}"), '
            f'count(a."{column}"), epoch(min(e.ts) FILTER (WHERE a."{column}" IS NOT NULL)), '
            f'{first.format(x=f"a.{column}")}, min(a."{column}") '
            f"FROM events e JOIN attrs_{log} a USING (row_no) WHERE e.log_id = ? GROUP BY 1",
            [log],
        ).rows
        filled = [r for r in rows if r[3]]
        constant = sum(r[6] == r[2] for r in filled) / len(filled) >= 0.95
        cand = cands[source] if constant else cands[f"{source} (first event)"]
        assert cand.kind == ("case attribute" if constant else "first event")
        if any(label.startswith(("≤ ", "> ")) for label in cand.labels):
            continue  # a number cut at its quartiles: the bins are checked elsewhere
        for case_no, earliest, _hi, n, when, head, _lo in rows:
            i = at[case_no]
            expected = (earliest if n else None) if constant else head
            assert cand.labels[cand.codes[i]] == (EMPTY if expected is None else expected)
            if constant:
                assert (np.isnan(cand.known_at[i]) and when is None) or cand.known_at[i] == when
            checked += 1
    assert checked >= 2 * len(at)
    assert cands["late"].kind == "case attribute"  # then excluded as a leak by find_drivers
    assert cands["first_gap"].kind == "case attribute" and cands["vary (first event)"].kind == "first event"

    per_case = store.query(
        "SELECT case_no, count(*), count(DISTINCT activity), count(*) FILTER (WHERE prev IS NOT NULL AND "
        "resource IS NOT NULL AND prev <> resource), list(DISTINCT activity) FROM (SELECT *, lag(resource) "
        "OVER (PARTITION BY case_no ORDER BY ts, row_no) AS prev FROM events WHERE log_id = ?) GROUP BY 1",
        [log],
    ).rows
    hand, loop = cands.get("hand-offs"), cands["repeats an activity"]
    for case_no, n, distinct, handoffs, acts in per_case:
        i = at[case_no]
        assert loop.labels[loop.codes[i]] == ("yes" if n > distinct else "no")
        if hand is not None:
            label = hand.labels[hand.codes[i]]
            assert label == str(handoffs) or (handoffs >= 4 and not label.isdigit())
        for name, cand in cands.items():
            if name.startswith("contains "):
                assert cand.labels[cand.codes[i]] == ("yes" if name[len("contains ") :] in acts else "no")
    assert any(name.startswith("contains ") for name in cands) or all(len(r[4]) == 4 for r in per_case)
    handled = store.query(
        f"SELECT activity, case_no, {first.format(x='resource')}, epoch(min(ts)) FROM events e "
        "WHERE log_id = ? AND resource IS NOT NULL GROUP BY 1, 2",
        [log],
    ).rows
    seen = 0
    for activity, case_no, resource, when in handled:
        cand = cands.get(f"{activity} handled by")
        if cand is not None:
            i = at[case_no]
            assert cand.labels[cand.codes[i]] == resource and cand.known_at[i] == when
            seen += 1
    assert seen > 100


def test_a_field_filled_during_the_case_is_a_mechanism_not_a_start_driver(store, tmp_path):
    # 'escalated' is written from the Review step on, two hours in (not on the first event, and before
    # any case is slow): no leak, but not known when the case starts either. 'team' is on every event
    # from the start.
    rng = np.random.default_rng(11)
    path = tmp_path / "during.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["case", "activity", "timestamp", "resource", "team", "escalated"])
        for i in range(400):
            start = float(rng.uniform(0, 24 * 200))
            slow_team, escalated = i % 4 == 0, i % 5 == 0
            hours = float(rng.uniform(20, 30)) * (6 if escalated else 1) * (3 if slow_team else 1)
            team = "B" if slow_team else "A"
            for activity, at, esc in (
                ("Open", start, ""),
                ("Review", start + 2, "yes" if escalated else "no"),
                ("Close", start + hours, "yes" if escalated else "no"),
            ):
                stamp = (T0 + dt.timedelta(hours=at)).strftime("%Y-%m-%dT%H:%M:%SZ")
                w.writerow([f"d{i:04d}", activity, stamp, "r1", team, esc])
    report = find_drivers(store, _load(store, path, "during"), "duration")
    kinds = {(d.attribute, d.value): d.kind for d in report.drivers}
    assert kinds[("escalated", "yes")] == "mechanism"
    assert kinds[("team", "B")] == "case attribute"
    escalated = next(d for d in report.drivers if (d.attribute, d.value) == ("escalated", "yes"))
    assert "how those cases unfold" in escalated.sentence
    # Known at the start ranks first.
    order = [(d.attribute, d.value) for d in report.drivers]
    assert order.index(("team", "B")) < order.index(("escalated", "yes"))


def test_a_range_value_reads_as_one_in_the_label_and_the_sentence(store, tmp_path):
    # 'amount' is a number: its values are tested in bins such as "> 380", which read without " = ".
    rng = np.random.default_rng(7)
    rows = []
    for i in range(400):
        start = float(rng.uniform(0, 24 * 200))
        amount = float(rng.uniform(10, 1000))
        hours = float(rng.uniform(20, 30)) * (8 if amount > 700 else 1)
        rows.append((f"m{i:04d}", {"amount": f"{amount:.2f}"}, [("Open", start), ("Close", start + hours)]))
    report = find_drivers(store, _load(store, _write(tmp_path / "amounts.csv", rows), "amounts"), "duration")
    ranged = [d for d in report.drivers if d.attribute == "amount"]
    assert ranged, [d.label for d in report.drivers]
    top = ranged[0]
    assert top.value.startswith(("> ", "≤ ")) or " to " in top.value
    assert top.label == f"amount {top.value}"
    assert top.sentence.startswith(f"Cases with amount {top.value} take a median")


def test_an_interval_across_zero_keeps_its_sign_in_the_sentence(store, shared_logs):
    # Sepsis' small groups have 95% intervals of the median difference that cross zero: the sentence
    # said "95% CI 5.9 days to 20.0 days" for an interval from -5.9 days to +20.0 days.
    from mining.durations import duration_words

    log = ingest_file(store, shared_logs / "sepsis.csv.gz").log_id
    report = find_drivers(store, log, "duration")
    across = [d for d in report.drivers if d.ci[0] < 0 < d.ci[1]]
    above = [d for d in report.drivers if d.ci[0] >= 0]
    assert across and above
    for d in across:
        lo, hi = d.ci
        assert (
            f"95% CI from {duration_words(lo)} shorter to {duration_words(hi)} longer, so possibly no difference"
            in d.sentence
        ), d.sentence
    for d in above:
        assert f"95% CI {duration_words(d.ci[0])} to {duration_words(d.ci[1])})" in d.sentence, d.sentence


def test_a_value_known_only_as_cases_end_is_leakage_though_its_attribute_is_not(store, shared_logs):
    # Receipt: the resource of T05 is set early in most cases, but admin1 prints the confirmation as
    # the case's last step in most of its cases; sepsis' return to the ER ends the cases it occurs in.
    receipt = ingest_file(store, shared_logs / "receipt_coselog.xes.gz").log_id
    report = find_drivers(store, receipt, "duration")
    t05 = "T05 Print and send confirmation of receipt handled by"
    assert (t05, "admin1") not in {(d.attribute, d.value) for d in report.drivers}
    [leak] = [e for e in report.excluded if (e.attribute, e.value) == (t05, "admin1")]
    assert leak.reason == (
        "leakage: this value is known only at or after the moment the case became slow (or its last event) "
        "in 98% of its judged cases, so it comes with the outcome (it may be a consequence, not a cause)"
    )
    assert t05 not in {e.attribute for e in report.excluded if e.value is None}  # the attribute itself stays
    # One-event cases took no time: not judged, so "contains any second step" is no driver.
    instants = store.scalar("SELECT count(*) FROM cases WHERE log_id = ? AND start_ts = end_ts", [receipt])
    assert instants > 100
    assert (
        f"{instants:,} cases of a single instant (one event, or all at one time) have no duration to explain: "
        "not judged, and left out of the medians."
    ) in report.notes
    assert not [d for d in report.drivers if d.attribute.startswith("contains T02")]
    sepsis = ingest_file(store, shared_logs / "sepsis.csv.gz").log_id
    excluded = {e.attribute: e.reason for e in find_drivers(store, sepsis, "duration").excluded}
    assert excluded["contains Return ER"].startswith(
        "leakage: first filled at or after the moment the case became slow (or its last event) in 100% "
    )


def test_who_handled_an_activity_is_its_executor_compared_among_the_cases_that_do_it(store, tmp_path):
    # 400 cases: a quarter skip Review and close at once; of the others, bob's reviews take 5 days
    # and alice's a few hours. A system user schedules every review: it handled none of them.
    rng = np.random.default_rng(5)
    path = tmp_path / "review.csv"
    durations: dict[str, list[float]] = {"alice": [], "bob": []}
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["case", "activity", "lifecycle", "timestamp", "resource"])
        for i in range(400):
            start = float(rng.uniform(0, 24 * 300))
            steps = [("Open", "complete", start, "desk")]
            if i % 4:
                who = "bob" if i % 4 == 1 else "alice"
                hours = float(rng.uniform(100, 140) if who == "bob" else rng.uniform(2, 6))
                steps += [
                    ("Review", "schedule", start + 0.5, "system"),
                    ("Review", "start", start + 1, who),
                    ("Review", "complete", start + hours, who),
                ]
                durations[who].append(hours * 3600 + 3600)
                end = start + hours + 1
            else:
                end = start + float(rng.uniform(0.5, 2))
            steps.append(("Close", "complete", end, "desk"))
            for activity, lc, at, res in steps:
                stamp = (T0 + dt.timedelta(hours=at)).strftime("%Y-%m-%dT%H:%M:%SZ")
                w.writerow([f"r{i:04d}", activity, lc, stamp, res])
    from mining.analysis.filters import Filter
    from mining.drivers.features import candidates
    from mining.monitor.periods import case_facts

    log = _load(store, path, "review")
    facts = case_facts(store, log, Filter())
    [review] = [c for c in candidates(store, log, Filter(), facts) if c.attribute == "Review handled by"]
    assert review.labels == ("alice", "bob", "(empty)")  # not the system user who scheduled them
    assert int(review.scope.sum()) == 300
    report = find_drivers(store, log, "duration")
    [bob] = [d for d in report.drivers if d.attribute == "Review handled by"]
    assert (bob.value, bob.cases) == ("bob", 100)
    # The rest is alice's cases, not the cases that never had a review.
    assert bob.rest_value == pytest.approx(float(np.median(durations["alice"])), abs=3600)
    assert "than the other cases with Review" in bob.sentence
    assert not [d for d in report.drivers if (d.attribute, d.value) == ("Review handled by", "(empty)")]
    # A start and a completion of one review are one instance: no case repeats an activity.
    [loops] = [c for c in candidates(store, log, Filter(), facts) if c.attribute == "repeats an activity"]
    assert set(loops.codes.tolist()) == {loops.labels.index("no")}
