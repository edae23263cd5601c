"""BPMN 2.0 export: well-formed for modellers, laid out for people, and read back by pm4py.

The layout checks are the ones bpmn.io / Camunda users notice (pm4py #348,
#371): every node and flow drawn, nothing stacked on top of anything, flows
attached to their shapes and never drawn through one.
"""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mining import pm4py_adapter  # also quiets pm4py before anything imports it
from mining.errors import ModelError
from mining.ingest import ingest_file
from mining.models import discover, discover_variants, to_bpmn_xml, write_model
from mining.models.bpmn import BpmnGraph, FlowNode, to_xml
from mining.store import Store
from tests.bpmn_layout import NS, check_bpmn, local

RUNNING_EXAMPLE_ACTIVITIES = {
    "register request",
    "examine thoroughly",
    "examine casually",
    "check ticket",
    "decide",
    "reinitiate request",
    "pay compensation",
    "reject request",
}


@pytest.fixture(scope="module")
def running_example(shared_logs):
    with Store() as store:
        ingest_file(store, shared_logs / "running-example.xes")
        yield store


@pytest.fixture(scope="module")
def receipt(shared_logs):
    with Store() as store:
        ingest_file(store, shared_logs / "receipt_coselog.xes.gz")
        yield store


def names(root, kind: str) -> list[str]:
    return [el.get("name") for el in root.find("bpmn:process", NS) if local(el) == kind]


def wl_labels(bpmn) -> Counter:
    """Weisfeiler-Lehman labels of a pm4py BPMN graph: equal multisets = same graph, up to ids."""

    def kind(n) -> str:
        names_ = {c.__name__ for c in type(n).__mro__}
        for cls, label in (
            ("StartEvent", "start"),
            ("EndEvent", "end"),
            ("Task", "task"),
            ("ExclusiveGateway", "xor"),
            ("ParallelGateway", "and"),
            ("InclusiveGateway", "or"),
        ):
            if cls in names_:
                return label + (":" + n.get_name() if label == "task" else "")
        raise AssertionError(type(n))

    label = {n: kind(n) for n in bpmn.get_nodes()}
    ins: dict = {n: [] for n in label}
    outs: dict = {n: [] for n in label}
    for f in bpmn.get_flows():
        outs[f.get_source()].append(f.get_target())
        ins[f.get_target()].append(f.get_source())
    for _ in range(6):
        label = {
            n: str(
                hash(
                    (
                        label[n],
                        tuple(sorted(label[m] for m in ins[n])),
                        tuple(sorted(label[m] for m in outs[n])),
                    )
                )
            )
            for n in label
        }
    return Counter(label.values())


# ---------------------------------------------------------------------------
# the running example


def test_running_example_bpmn_structure_and_layout(running_example):
    model = discover(running_example, 1)
    root = check_bpmn(to_bpmn_xml(model))
    assert set(names(root, "task")) == RUNNING_EXAMPLE_ACTIVITIES
    assert len(names(root, "task")) == 8
    # ->( register, *( ->( +( check, X( ... ) ), decide ), reinitiate ), X( reject, pay ) )
    kinds = Counter(local(el) for el in root.find("bpmn:process", NS))
    assert kinds["parallelGateway"] == 2 and kinds["exclusiveGateway"] >= 4
    assert kinds["sequenceFlow"] == 21
    directions = {el.get("gatewayDirection") for el in root.iter(f"{{{NS['bpmn']}}}parallelGateway")}
    assert directions == {"Diverging", "Converging"}


def test_bpmn_reads_back_into_pm4py_and_replays(running_example, shared_logs, tmp_path):
    import pm4py

    frame = pm4py.read_xes(str(shared_logs / "running-example.xes"), variant="iterparse")
    model = discover(running_example, 1)
    path = write_model(model, tmp_path / "running.bpmn")
    bpmn = pm4py.read_bpmn(str(path))
    # The file is pm4py's own BPMN conversion of the tree, node for node.
    assert wl_labels(bpmn) == wl_labels(pm4py.convert_to_bpmn(model._model.tree))
    net, im, fm = pm4py.convert_to_petri_net(bpmn)
    replayed = pm4py.fitness_token_based_replay(frame, net, im, fm)
    discovered = pm4py.fitness_token_based_replay(
        frame, model._model.net, model._model.initial_marking, model._model.final_marking
    )
    assert replayed["log_fitness"] == discovered["log_fitness"] == 1.0
    assert replayed["perc_fit_traces"] == 100.0


def test_heuristics_bpmn_keeps_pm4py_conversion(running_example, shared_logs, tmp_path):
    import pm4py

    frame = pm4py.read_xes(str(shared_logs / "running-example.xes"), variant="iterparse")
    model = discover(running_example, 1, algorithm="heuristics")
    check_bpmn(to_bpmn_xml(model))
    h = model._model
    in_memory = pm4py.convert_to_bpmn(h.net, h.initial_marking, h.final_marking)
    read_back = pm4py.read_bpmn(str(write_model(model, tmp_path / "heu.bpmn")))
    assert wl_labels(read_back) == wl_labels(in_memory)
    # Alignments are exact (token replay depends on pm4py's set order), so the
    # file behaves exactly as pm4py's in-memory BPMN.
    a = pm4py.fitness_alignments(frame, *pm4py.convert_to_petri_net(read_back))["log_fitness"]
    b = pm4py.fitness_alignments(frame, *pm4py.convert_to_petri_net(in_memory))["log_fitness"]
    assert a == pytest.approx(b, abs=1e-12)


def test_export_is_deterministic(running_example):
    # pm4py's BPMN nodes come out of sets keyed by random uuids; ids, order and
    # coordinates must not depend on that.
    first = to_bpmn_xml(discover(running_example, 1))
    second = to_bpmn_xml(discover(running_example, 1))
    assert first == second
    assert 'id="StartEvent_1"' in first and 'id="Flow_1"' in first


@pytest.mark.parametrize("algorithm", ["inductive", "heuristics"])
def test_layout_does_not_depend_on_input_order(receipt, algorithm):
    import random

    nodes, flows = pm4py_adapter.bpmn_elements(discover(receipt, 1, algorithm=algorithm)._model)
    outputs = set()
    for seed in range(4):
        rnd = random.Random(seed)
        keys = list(range(len(nodes)))
        rnd.shuffle(keys)
        shuffled_nodes = [FlowNode(keys[k], kind, name) for k, kind, name in nodes]
        shuffled_flows = [(keys[a], keys[b]) for a, b in flows]
        rnd.shuffle(shuffled_nodes)
        rnd.shuffle(shuffled_flows)
        outputs.add(to_xml(BpmnGraph(tuple(shuffled_nodes), tuple(shuffled_flows))))
    assert len(outputs) == 1


@pytest.mark.parametrize(
    ("algorithm", "noise"), [("inductive", 0.0), ("inductive", 0.2), ("heuristics", 0.0)]
)
def test_receipt_layout(receipt, algorithm, noise):
    model = discover(receipt, 1, algorithm=algorithm, noise=noise)
    root = check_bpmn(to_bpmn_xml(model))
    assert len(names(root, "task")) == model.visible_transitions


# ---------------------------------------------------------------------------
# names are user data


def test_names_are_escaped():
    name = '<Approve & "pay">'
    graph = BpmnGraph(
        (FlowNode(0, "startEvent", "start"), FlowNode(1, "task", name), FlowNode(2, "endEvent", "end")),
        ((0, 1), (1, 2)),
    )
    xml = to_xml(graph, name="a <process> & more")
    assert 'name="&lt;Approve &amp; &quot;pay&quot;&gt;"' in xml
    root = check_bpmn(xml)
    assert names(root, "task") == [name]
    assert root.find("bpmn:process", NS).get("name") == "a <process> & more"


def test_control_characters_do_not_break_the_xml():
    graph = BpmnGraph(
        (FlowNode(0, "startEvent"), FlowNode(1, "task", "bell\x07 and nul\x00"), FlowNode(2, "endEvent")),
        ((0, 1), (1, 2)),
    )
    root = check_bpmn(to_xml(graph))
    assert names(root, "task") == ["bell\ufffd and nul\ufffd"]


def test_documentation_element_ids_and_flow_names_are_written():
    graph = BpmnGraph(
        (
            FlowNode(0, "startEvent", "Order received", element_id="StartEvent_in"),
            FlowNode(1, "exclusiveGateway", "Paid?", element_id="Gateway_paid"),
            FlowNode(2, "task", "Ship", documentation="The carrier <collects> it", element_id="Task_ship"),
            FlowNode(3, "endEvent", "Done", element_id="EndEvent_done"),
        ),
        ((0, 1), (1, 2), (1, 3), (2, 3)),
        ("", "yes", "no", ""),
    )
    root = check_bpmn(to_xml(graph, name="Orders", documentation="How orders & payments go"))
    process = root.find("bpmn:process", NS)
    assert process.find("bpmn:documentation", NS).text == "How orders & payments go"
    ship = process.find("bpmn:task", NS)
    assert (ship.get("id"), ship.find("bpmn:documentation", NS).text) == (
        "Task_ship",
        "The carrier <collects> it",
    )
    assert local(ship[0]) == "documentation"  # the schema puts it before incoming and outgoing
    flows = {
        (f.get("sourceRef"), f.get("targetRef")): f.get("name")
        for f in process.findall("bpmn:sequenceFlow", NS)
    }
    assert flows == {
        ("StartEvent_in", "Gateway_paid"): None,
        ("Gateway_paid", "Task_ship"): "yes",
        ("Gateway_paid", "EndEvent_done"): "no",
        ("Task_ship", "EndEvent_done"): None,
    }


def test_element_ids_and_flow_names_must_fit_the_graph():
    start, end = FlowNode(0, "startEvent", element_id="X"), FlowNode(1, "endEvent", element_id="X")
    with pytest.raises(ModelError, match="duplicate flow node ids"):
        to_xml(BpmnGraph((start, end), ((0, 1),)))
    with pytest.raises(ModelError, match="2 flow names for 1 sequence flows"):
        to_xml(BpmnGraph((FlowNode(0, "startEvent"), FlowNode(1, "endEvent")), ((0, 1),), ("a", "b")))


def test_user_activity_names_survive_discovery_and_pm4py(tmp_path):
    import pm4py

    csv = tmp_path / "approvals.csv"
    csv.write_text(
        "case,activity,time\n"
        '1,Submit,2024-01-01 09:00:00\n1,"<Approve & ""pay"">",2024-01-01 10:00:00\n'
        '2,Submit,2024-01-02 09:00:00\n2,"<Approve & ""pay"">",2024-01-02 10:00:00\n',
        encoding="utf-8",
    )
    with Store() as store:
        ingest_file(store, csv)
        model = discover(store, 1)
    path = write_model(model, tmp_path / "approvals.bpmn")
    root = check_bpmn(path.read_text(encoding="utf-8"))
    assert sorted(names(root, "task")) == ['<Approve & "pay">', "Submit"]
    bpmn = pm4py.read_bpmn(str(path))
    assert sorted(n.get_name() for n in bpmn.get_nodes() if type(n).__name__ == "Task") == [
        '<Approve & "pay">',
        "Submit",
    ]


def test_graph_errors_are_model_errors():
    with pytest.raises(ModelError, match="no flow nodes"):
        to_xml(BpmnGraph((), ()))
    with pytest.raises(ModelError, match="unsupported BPMN element"):
        to_xml(BpmnGraph((FlowNode(0, "subProcess"),), ()))
    with pytest.raises(ModelError, match="refers to a node"):
        to_xml(BpmnGraph((FlowNode(0, "startEvent"),), ((0, 5),)))


# ---------------------------------------------------------------------------
# PNML


def _net_signature(net, im, fm):
    transitions = sorted(
        (
            t.label if t.label is not None else "τ",
            tuple(sorted(a.source.name for a in t.in_arcs)),
            tuple(sorted(a.target.name for a in t.out_arcs)),
        )
        for t in net.transitions
    )
    marking = lambda m: sorted((p.name, n) for p, n in m.items())  # noqa: E731
    return transitions, sorted(p.name for p in net.places), marking(im), marking(fm)


@pytest.mark.parametrize("algorithm", ["inductive", "heuristics"])
def test_pnml_round_trip(running_example, tmp_path, algorithm):
    import pm4py

    model = discover(running_example, 1, algorithm=algorithm)
    path = write_model(model, tmp_path / "model.pnml")
    text = path.read_text(encoding="utf-8")
    assert "<finalmarkings>" in text and "<initialMarking>" in text
    net, im, fm = pm4py.read_pnml(str(path))
    assert (len(net.places), len(net.transitions), len(net.arcs)) == (
        model.places,
        model.transitions,
        model.arcs,
    )
    assert sum(t.label is None for t in net.transitions) == model.silent_transitions
    assert len(im) == 1 and len(fm) == 1
    ours = model._model
    # Same net: every transition with its label and its input/output places, same markings.
    assert _net_signature(net, im, fm) == _net_signature(ours.net, ours.initial_marking, ours.final_marking)


# ---------------------------------------------------------------------------
# generated logs


_traces = st.lists(st.sampled_from("abcde"), min_size=1, max_size=6).map(tuple)
_logs = st.lists(st.tuples(_traces, st.integers(1, 20)), min_size=1, max_size=6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    variants=_logs, algorithm=st.sampled_from(["inductive", "heuristics"]), noise=st.sampled_from([0.0, 0.2])
)
def test_layout_rules_hold_on_generated_models(variants, algorithm, noise):
    model = discover_variants(variants, algorithm=algorithm, noise=noise if algorithm == "inductive" else 0.0)
    root = check_bpmn(to_bpmn_xml(model))
    assert len(names(root, "task")) == model.visible_transitions
