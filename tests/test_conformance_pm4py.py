"""Our conformance figures equal pm4py's on the real logs and documented models.

pm4py computes independently: it reads the log file itself (``read_xes``
with the iterparse reader, or pandas + ``format_dataframe``, which orders
ties by file position as our ingest does) and replays every case, while we
align one trace per variant of the stored log.  Nets:

* PNML: pm4py's own ``read_pnml``.  The road fines net marks its silent
  transitions with ``invisible="true"`` and its final marking per place,
  which pm4py's reader ignores, so the test applies both by hand
  (``Inv1``..``Inv6`` silent, one token in the place named "End").
* BPMN: for alignment fitness, pm4py's own BPMN import and conversion (a
  different net with the same behaviour, so the same fitness); token
  replay and precision depend on the net's structure, so those run on our
  net in both tools.

Alignment fitness may differ by 1/10000 of a move per silent step (pm4py
adds it to both sides of its ratio; we count whole moves): within 0.001.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from mining import pm4py_adapter
from mining.analysis.filters import Filter
from mining.conformance import conform, load_model
from mining.ingest import ingest_file
from mining.store import Store


def pm4py_log(path: Path):
    import pm4py

    if path.name.endswith(".csv.gz"):
        import pandas as pd

        frame = pd.read_csv(
            path, usecols=["case_id", "activity", "timestamp"], dtype=str, keep_default_na=False
        )
        frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
        return pm4py.format_dataframe(
            frame, case_id="case_id", activity_key="activity", timestamp_key="timestamp"
        )
    return pm4py.read_xes(str(path), variant="iterparse")


def pm4py_figures(frame, net, im, fm, *, precision=True):
    import pm4py

    out = {
        "align": pm4py.fitness_alignments(frame, net, im, fm, multi_processing=False),
        "tbr": pm4py.fitness_token_based_replay(frame, net, im, fm),
    }
    if precision:
        out["precision"] = pm4py.precision_token_based_replay(frame, net, im, fm)
    return out


@pytest.fixture(scope="module")
def stores(shared_logs):
    opened: dict[str, tuple[Store, int]] = {}

    def get(name: str) -> tuple[Store, int]:
        if name not in opened:
            store = Store()
            opened[name] = (store, ingest_file(store, shared_logs / name).log_id)
        return opened[name]

    yield get
    for store, _ in opened.values():
        store.close()


def check(result, expected, *, align_net_is_ours=True):
    align, tbr = expected["align"], expected["tbr"]
    assert result["align"].complete
    assert result["align"].fitness == pytest.approx(align["log_fitness"], abs=1e-3)
    assert result["align"].fitting_cases_share == pytest.approx(align["percentage_of_fitting_traces"] / 100)
    assert result["tbr"].fitness == pytest.approx(tbr["log_fitness"], abs=1e-9)
    assert result["tbr"].fitting_cases_share == pytest.approx(tbr["percentage_of_fitting_traces"] / 100)
    if "precision" in expected:
        assert result["align"].precision == pytest.approx(expected["precision"], abs=1e-9)


def ours(store, log, model, flt=None):
    return {
        "align": conform(store, log, model, flt),
        "tbr": conform(store, log, model, flt, method="token-replay"),
    }


def test_running_example_against_its_pnml(stores, shared_logs, shared_models):
    import pm4py

    store, log = stores("running-example.xes")
    net, im, fm = pm4py.read_pnml(str(shared_models / "running-example.pnml"))
    expected = pm4py_figures(pm4py_log(shared_logs / "running-example.xes"), net, im, fm)
    result = ours(store, log, load_model(shared_models / "running-example.pnml"))
    check(result, expected)
    # The textbook model fits its six cases; pm4py's ETC precision is 0.7531 (61/81).
    assert (result["align"].fitness, result["align"].fitting_cases_share) == (1.0, 1.0)
    assert result["align"].precision == pytest.approx(61 / 81)


def test_running_example_against_its_bpmn(stores, shared_logs, shared_models):
    import pm4py

    store, log = stores("running-example.xes")
    model = load_model(shared_models / "running-example.bpmn")
    frame = pm4py_log(shared_logs / "running-example.xes")
    theirs = pm4py.convert_to_petri_net(pm4py.read_bpmn(str(shared_models / "running-example.bpmn")))
    mine = pm4py_adapter.petri_net(model.net)
    expected = pm4py_figures(frame, mine.net, mine.initial_marking, mine.final_marking)
    expected["align"] = pm4py.fitness_alignments(frame, *theirs, multi_processing=False)
    check(ours(store, log, model), expected)


@pytest.mark.slow
def test_receipt_against_its_bpmn(stores, shared_logs, shared_models):
    import pm4py

    store, log = stores("receipt_coselog.xes.gz")
    model = load_model(shared_models / "receipt.bpmn")
    frame = pm4py_log(shared_logs / "receipt_coselog.xes.gz")
    theirs = pm4py.convert_to_petri_net(pm4py.read_bpmn(str(shared_models / "receipt.bpmn")))
    mine = pm4py_adapter.petri_net(model.net)
    expected = pm4py_figures(frame, mine.net, mine.initial_marking, mine.final_marking)
    expected["align"] = pm4py.fitness_alignments(frame, *theirs, multi_processing=False)
    result = ours(store, log, model)
    check(result, expected)
    assert (result["align"].cases, len(result["align"].variants)) == (1_434, 116)
    assert result["align"].precision == pytest.approx(0.1573, abs=1e-4)


def road_fines_net(models):
    import pm4py
    from pm4py.objects.petri_net.obj import Marking

    net, im, _ = pm4py.read_pnml(str(models / "road_traffic_fines_normative_no_data.pnml"))
    for t in net.transitions:
        if t.label and t.label.startswith("Inv"):
            t.label = None
    end = next(p for p in net.places if p.name == "n4")  # <name>End</name>
    return net, im, Marking({end: 1})


@pytest.mark.slow
def test_road_fines_against_its_normative_net(stores, shared_logs, shared_models):
    store, log = stores("road_traffic_fines.csv.gz")
    model = load_model(shared_models / "road_traffic_fines_normative_no_data.pnml")
    net, im, fm = road_fines_net(shared_models)
    frame = pm4py_log(shared_logs / "road_traffic_fines.csv.gz")
    # pm4py's ETC precision takes about a minute on the 150,370 cases: it is compared on a window below.
    expected = pm4py_figures(frame, net, im, fm, precision=False)
    result = ours(store, log, model)
    check(result, expected)
    align = result["align"]
    assert (align.cases, len(align.variants), align.engine) == (150_370, 231, "r4pm")
    assert align.fitness == pytest.approx(0.99451, abs=1e-4)
    assert align.fitting_cases_share == pytest.approx(0.976079, abs=1e-6)
    top = align.deviations[0]
    assert (top.kind, top.activity, top.cases) == ("inserted", "Add penalty", 3_294)


@pytest.mark.slow
def test_road_fines_precision_on_a_half_year_of_cases(stores, shared_logs, shared_models):
    import pm4py

    store, log = stores("road_traffic_fines.csv.gz")
    start, end = dt.datetime(2002, 1, 1, tzinfo=dt.UTC), dt.datetime(2002, 7, 1, tzinfo=dt.UTC)
    flt = Filter(start=start, end=end, window="started")
    result = conform(store, log, load_model(shared_models / "road_traffic_fines_normative_no_data.pnml"), flt)
    frame = pm4py_log(shared_logs / "road_traffic_fines.csv.gz")
    first = frame.groupby("case:concept:name")["time:timestamp"].transform("min")
    window = frame[(first >= start) & (first < end)]
    net, im, fm = road_fines_net(shared_models)
    assert result.cases == window["case:concept:name"].nunique() == 4_981
    assert result.precision == pytest.approx(
        pm4py.precision_token_based_replay(window, net, im, fm), abs=1e-9
    )
    expected = pm4py.fitness_alignments(window, net, im, fm, multi_processing=False)
    assert result.fitness == pytest.approx(expected["log_fitness"], abs=1e-3)
