"""Discovery from the stored variants equals pm4py's discovery on the full log.

How equality is judged:

* Inductive miner (IM, IMf): the process trees' string form.  pm4py folds
  and sorts every tree it returns (``fold`` + ``tree_sort``), so equal
  strings mean identical trees, hence identical Petri nets (same places,
  transitions, arcs); the net sizes are compared too.
* Heuristics miner: the Petri nets themselves.  Its places are named after
  the activities they connect (``pre_decide``, ``splace_in_decide_check
  ticket``, ``source0``...), only silent transitions carry counters
  (``hid_7``).  So the multiset of (label or τ, input place names, output
  place names) over all transitions, plus the place names and the initial
  and final markings, is the net up to renaming silent transitions: every
  arc is in it, and any difference in thresholds or counts that changes a
  dependency, an AND split, a loop or a place shows up.

The reference is pm4py run on the log as pm4py itself reads it
(``read_xes(variant="iterparse")``, or pandas + ``format_dataframe``), not on
anything the store produced.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mining import pm4py_adapter  # noqa: F401  (quiets pm4py before anything imports it)
from mining.analysis.filters import Filter
from mining.errors import ModelError
from mining.ingest import ingest_file
from mining.models import (
    DiscoveredModel,
    discover,
    discover_variants,
    to_bpmn_xml,
    trace_variants,
    write_model,
)
from mining.store import Store

ROOT = Path(__file__).resolve().parent.parent

# log: (cases, variants).  helpdesk and sepsis take ~10 s each to read and mine twice.
EQUALITY_LOGS = {
    "running-example.xes": (6, 6),
    "receipt_coselog.xes.gz": (1_434, 116),
    "helpdesk.xes.gz": (4_580, 226),
    "sepsis.csv.gz": (1_050, 846),
}
SLOW_LOGS = {"helpdesk.xes.gz", "sepsis.csv.gz"}


def _pm4py():
    import pm4py

    return pm4py


def _keys() -> tuple[str, str, str]:
    from pm4py.util import constants, xes_constants

    return constants.CASE_CONCEPT_NAME, xes_constants.DEFAULT_NAME_KEY, xes_constants.DEFAULT_TIMESTAMP_KEY


def read_with_pm4py(path: Path):
    """The full log as pm4py reads it, independent of our ingest."""
    pm4py = _pm4py()
    if path.name.endswith(".csv.gz"):
        import pandas as pd

        case, activity, ts = _keys()
        # keep_default_na=False: sepsis has a real case called "NA" (24 events).
        frame = pd.read_csv(
            path, usecols=[case, activity, ts], dtype={case: str, activity: str}, keep_default_na=False
        )
        return pm4py.format_dataframe(frame)
    return pm4py.read_xes(str(path), variant="iterparse")


class Loaded:
    def __init__(self, path: Path) -> None:
        self.name = path.name
        self.frame = read_with_pm4py(path)
        self.store = Store()
        ingest_file(self.store, path)
        self.log_id = 1


_CACHE: dict[str, Loaded] = {}


@pytest.fixture(scope="module")
def loaded(shared_logs):
    """``loaded(name)``: a real log read by pm4py and ingested by us, kept for the module."""

    def get(name: str) -> Loaded:
        if name not in _CACHE:
            _CACHE[name] = Loaded(shared_logs / name)
        return _CACHE[name]

    yield get
    for item in _CACHE.values():
        item.store.close()
    _CACHE.clear()


def net_signature(net, im, fm):
    transitions = sorted(
        (
            t.label if t.label is not None else "τ",
            tuple(sorted(a.source.name for a in t.in_arcs)),
            tuple(sorted(a.target.name for a in t.out_arcs)),
        )
        for t in net.transitions
    )
    places = sorted(p.name for p in net.places)
    marking = lambda m: sorted((p.name, n) for p, n in m.items())  # noqa: E731
    return transitions, places, marking(im), marking(fm)


def net_sizes(net):
    return (
        len(net.places),
        len(net.transitions),
        sum(t.label is None for t in net.transitions),
        len(net.arcs),
    )


# ---------------------------------------------------------------------------
# equality with pm4py on the full log


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW_LOGS else n for n in EQUALITY_LOGS]
)
def test_discovery_equals_pm4py_on_the_full_log(loaded, name):
    pm4py = _pm4py()
    log = loaded(name)
    cases, n_variants = EQUALITY_LOGS[name]

    for noise in (0.0, 0.2):
        model = discover(log.store, log.log_id, noise=noise)
        reference = pm4py.discover_process_tree_inductive(log.frame, noise_threshold=noise)
        assert model.tree == str(reference), f"{name} noise={noise}"
        assert (model.variants, model.cases) == (n_variants, cases)
        net, _, _ = pm4py.convert_to_petri_net(reference)
        assert (model.places, model.transitions, model.silent_transitions, model.arcs) == net_sizes(net)
        assert model.noise == noise

    model = discover(log.store, log.log_id, algorithm="heuristics")
    net, im, fm = pm4py.discover_petri_net_heuristics(log.frame)
    ours = model._model
    assert net_signature(ours.net, ours.initial_marking, ours.final_marking) == net_signature(net, im, fm)
    assert (model.places, model.transitions, model.silent_transitions, model.arcs) == net_sizes(net)


def test_heuristics_thresholds_reach_pm4py(loaded):
    pm4py = _pm4py()
    log = loaded("receipt_coselog.xes.gz")
    for dependency in (0.3, 0.9):
        model = discover(
            log.store,
            log.log_id,
            algorithm="heuristics",
            dependency_threshold=dependency,
            and_threshold=0.8,
            loop_two_threshold=0.7,
        )
        net, im, fm = pm4py.discover_petri_net_heuristics(
            log.frame, dependency_threshold=dependency, and_threshold=0.8, loop_two_threshold=0.7
        )
        ours = model._model
        assert net_signature(ours.net, ours.initial_marking, ours.final_marking) == net_signature(net, im, fm)
    # A stricter threshold keeps fewer arcs: the thresholds are not ignored.
    loose = discover(log.store, log.log_id, algorithm="heuristics", dependency_threshold=0.3)
    strict = discover(log.store, log.log_id, algorithm="heuristics", dependency_threshold=0.99)
    assert strict.arcs < loose.arcs


def test_variant_order_does_not_change_the_model(loaded):
    # pm4py's own Counter is ordered by case id; ours by frequency.  Neither
    # miner depends on it: any order gives the same tree and the same net.
    log = loaded("receipt_coselog.xes.gz")
    variants = trace_variants(log.store, log.log_id)
    shuffled = list(variants)
    random.Random(7).shuffle(shuffled)
    for kwargs in ({"noise": 0.0}, {"noise": 0.2}):
        assert discover_variants(variants, **kwargs).tree == discover_variants(shuffled, **kwargs).tree
    a = discover_variants(variants, algorithm="heuristics")._model
    b = discover_variants(shuffled, algorithm="heuristics")._model
    assert net_signature(a.net, a.initial_marking, a.final_marking) == net_signature(
        b.net, b.initial_marking, b.final_marking
    )


def test_noise_filter_reads_the_counts():
    # A rarely skipped activity: IM keeps the skip, IMf at 0.2 drops it while
    # it is rare, and keeps it once it is frequent: the counts reach the miner.
    frequent = (("a", "b", "c"), 50)
    assert discover_variants([frequent, (("a", "c"), 1)], noise=0.0).tree == "->( 'a', X( tau, 'b' ), 'c' )"
    assert discover_variants([frequent, (("a", "c"), 1)], noise=0.2).tree == "->( 'a', 'b', 'c' )"
    assert discover_variants([frequent, (("a", "c"), 40)], noise=0.2).tree == "->( 'a', X( tau, 'b' ), 'c' )"


# ---------------------------------------------------------------------------
# filters


def test_case_filter_equals_pm4py_on_the_selected_cases(loaded):
    pm4py = _pm4py()
    log = loaded("receipt_coselog.xes.gz")
    flt = Filter(variant_top_k=8)
    model = discover(log.store, log.log_id, flt, noise=0.0)
    kept = [
        r[0]
        for r in log.store.query(
            "SELECT case_id FROM cases WHERE log_id = ? AND variant_id <= 8", [log.log_id]
        ).rows
    ]
    case, _, _ = _keys()
    subset = log.frame[log.frame[case].isin(kept)]
    assert model.cases == len(kept) == subset[case].nunique()
    assert model.variants == 8
    assert model.tree == str(pm4py.discover_process_tree_inductive(subset))
    heu = discover(log.store, log.log_id, flt, algorithm="heuristics")._model
    assert net_signature(heu.net, heu.initial_marking, heu.final_marking) == net_signature(
        *pm4py.discover_petri_net_heuristics(subset)
    )


def test_activity_projection_recomputes_traces(loaded):
    pm4py = _pm4py()
    log = loaded("receipt_coselog.xes.gz")
    dropped = ("T02 Check confirmation of receipt", "Confirmation of receipt")
    flt = Filter(activities_remove=dropped)
    variants = trace_variants(log.store, log.log_id, flt)
    assert all(not set(dropped) & set(acts) for acts, _ in variants)
    case, activity, _ = _keys()
    rest = log.frame[~log.frame[activity].isin(dropped)]
    assert sum(n for _, n in variants) == rest[case].nunique()
    assert discover(log.store, log.log_id, flt, noise=0.2).tree == str(
        pm4py.discover_process_tree_inductive(rest, noise_threshold=0.2)
    )


def test_trace_variants_reads_the_variants_table(loaded):
    log = loaded("running-example.xes")
    variants = trace_variants(log.store, log.log_id)
    assert len(variants) == 6 and sum(n for _, n in variants) == 6
    assert all(acts[0] == "register request" for acts, _ in variants)
    assert trace_variants(log.store, log.log_id, Filter()) == variants


# ---------------------------------------------------------------------------
# the record and its errors


def test_model_record_is_plain_data(loaded):
    import dataclasses
    import pickle

    from mining.schema import to_jsonable

    model = discover(loaded("running-example.xes").store, 1)
    fields = {f.name: getattr(model, f.name) for f in dataclasses.fields(model)}
    assert "_model" not in fields
    for value in fields.values():
        assert value is None or isinstance(value, str | int | float | tuple)
    assert json.loads(json.dumps(to_jsonable(model)))["transitions"] == 10
    assert (model.places, model.transitions, model.silent_transitions, model.arcs) == (9, 10, 2, 22)
    assert model.visible_transitions == 8
    assert "_model" not in repr(model)
    again = pickle.loads(pickle.dumps(model))
    assert again == model and again._model is not None
    assert to_bpmn_xml(again) == to_bpmn_xml(model)
    bare = DiscoveredModel(**fields)
    with pytest.raises(ModelError, match="no net"):
        to_bpmn_xml(bare)


def test_bad_requests_raise_model_error(loaded, tmp_path):
    log = loaded("running-example.xes")
    with pytest.raises(ModelError, match="unknown discovery algorithm 'alpha'"):
        discover(log.store, log.log_id, algorithm="alpha")
    with pytest.raises(ModelError, match="noise must be between 0 and 1"):
        discover(log.store, log.log_id, noise=1.5)
    with pytest.raises(ModelError, match="noise applies to the inductive miner") as err:
        discover(log.store, log.log_id, algorithm="heuristics", noise=0.2)
    assert err.value.hint == "use --dependency-threshold for the heuristics miner"
    assert err.value.hint_in(lambda o: f"the {o.name} option") == (
        "use the dependency_threshold option for the heuristics miner"
    )
    with pytest.raises(ModelError, match="the filter keeps none"):
        discover(log.store, log.log_id, Filter(variant_ids=(999,)))
    with pytest.raises(ModelError, match="no non-empty traces"):
        discover_variants([((), 3)])
    model = discover(log.store, log.log_id)
    with pytest.raises(ModelError, match=r"expected a \.bpmn or \.pnml file"):
        write_model(model, tmp_path / "model.svg")


def test_importing_the_models_does_not_import_pm4py():
    code = (
        "import sys, mining.models, mining.models.discover, mining.models.bpmn; "
        "assert 'pm4py' not in sys.modules, 'pm4py imported'"
    )
    subprocess.run(
        [sys.executable, "-c", code], check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}
    )


# ---------------------------------------------------------------------------
# CLI


def test_cli_discover_writes_bpmn_and_json(shared_logs, tmp_path):
    from click.testing import CliRunner

    from mining.cli import cli

    workspace = str(tmp_path / "ws.duckdb")
    with Store(workspace) as store:
        ingest_file(store, shared_logs / "running-example.xes")
    out = tmp_path / "model.bpmn"
    runner = CliRunner()
    result = runner.invoke(
        cli, ["--workspace", workspace, "discover", "running-example", "--output", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"algorithm", "noise", "variants", "cases", "places", "transitions", "output"} <= set(data)
    assert (data["algorithm"], data["noise"], data["variants"], data["cases"]) == ("inductive", 0.0, 6, 6)
    assert (data["places"], data["transitions"]) == (9, 10)
    assert data["output"] == str(out)
    assert out.read_text(encoding="utf-8").startswith("<?xml")
    assert b"BPMNDiagram" in out.read_bytes()

    pnml = tmp_path / "model.pnml"
    result = runner.invoke(
        cli,
        [
            "--workspace",
            workspace,
            "discover",
            "running-example",
            "--algorithm",
            "heuristics",
            "-o",
            str(pnml),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "heuristics miner" in result.stdout and "6 variants covering 6 cases" in result.stdout
    assert "13 places, 15 transitions" in result.stdout
    assert pnml.exists()

    result = runner.invoke(cli, ["--workspace", workspace, "discover", "running-example", "--noise", "0.2"])
    assert result.exit_code == 0 and "IMf" in result.stdout and "noise 0.2" in result.stdout

    result = runner.invoke(cli, ["--workspace", workspace, "discover", "nope"])
    assert result.exit_code == 1 and "no log named 'nope'" in result.stderr
    result = runner.invoke(cli, ["--workspace", workspace, "discover", "running-example", "-o", "m.png"])
    assert result.exit_code == 1 and ".bpmn or .pnml" in result.stderr


# ---------------------------------------------------------------------------
# timing (recorded, not asserted)


@pytest.mark.slow
def test_inductive_on_road_traffic_variants_is_fast(shared_logs, capsys):
    discover_variants([(("a", "b"), 1)])  # pm4py's import is not part of the measure
    with Store() as store:
        ingest_file(store, shared_logs / "road_traffic_fines.csv.gz")
        start = time.perf_counter()
        variants = trace_variants(store, 1)
        read = time.perf_counter() - start
        start = time.perf_counter()
        model = discover_variants(variants)
        mined = time.perf_counter() - start
        start = time.perf_counter()
        imf = discover_variants(variants, noise=0.2)
        mined_f = time.perf_counter() - start
        start = time.perf_counter()
        to_bpmn_xml(model)
        bpmn = time.perf_counter() - start
    assert (model.variants, model.cases) == (231, 150_370)
    assert imf.cases == 150_370
    with capsys.disabled():
        print(
            f"\nroad_traffic_fines: read variants {read * 1000:.1f} ms, IM {mined * 1000:.1f} ms, "
            f"IMf {mined_f * 1000:.1f} ms, BPMN {bpmn * 1000:.1f} ms"
        )
