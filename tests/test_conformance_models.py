"""Reading models for conformance: BPMN, PNML and step lists, and what each is refused for.

The behaviour of a converted net is checked through alignment costs (pm4py's
units: 10000 per deviating move, 1 per silent step), computed by both r4pm
and pm4py on the same net, so a conversion that lets through one trace too
many or one too few fails here.
"""

from __future__ import annotations

import pytest

from mining import pm4py_adapter
from mining.conformance import load_model
from mining.errors import ModelError, UnsafeInput
from mining.models import NetSpec
from tests.conftest import FILES, SAMPLE_LOGS

HERE = FILES / "conformance"


def costs(model, traces):
    """Alignment cost of each trace, asserting r4pm and pm4py agree."""
    r4pm = pm4py_adapter.align_r4pm(model.net, traces)
    # In this process (processes=0): the nets are small, and a worker per call would cost seconds.
    pm4py = pm4py_adapter.align_pm4py(model.net, traces, processes=0)
    assert r4pm.empty_cost == pm4py.empty_cost
    found = [r4pm.aligned[i][0] for i in range(len(traces))]
    assert found == [pm4py.aligned[i][0] for i in range(len(traces))]
    return found


# ---------------------------------------------------------------------------
# BPMN


def test_bpmn_io_inclusive_gateway_allows_every_non_empty_combination():
    model = load_model(HERE / "inclusive.bpmn")
    # bpmn.io writes "Receive&#10;order": the line break becomes a space.
    assert model.tasks == ("Receive order", "Call customer", "Send letter", "Close")
    assert (model.kind, model.notes) == ("bpmn", ())
    a, b, c, d = model.tasks
    # Each fitting trace passes one silent split and one silent join (1 + 1).
    assert costs(model, [[a, b, d], [a, c, d], [a, b, c, d], [a, c, b, d], [a, d], [a, b, b, d]]) == [
        2,
        2,
        2,
        2,
        10_002,
        10_002,
    ]


def test_chained_exclusive_gateways_do_not_leak_tokens_backwards():
    # Fusing x1 and x2 into one place (x1 -> x2 is a flow) would let a token
    # after B go back to x1 and run B again.
    model = load_model(HERE / "xor_chain.bpmn")
    assert model.tasks == ("A", "B", "C")
    assert costs(model, [["A", "B", "C"], ["A", "C"], ["A", "B", "B", "C"], ["A", "B"]]) == [
        0,
        1,
        10_000,
        10_000,
    ]


def test_parallel_gateway_subprocess_events_and_boundary_event():
    model = load_model(HERE / "parallel_sub.bpmn")
    assert model.tasks == ("Register", "Check stock", "Send invoice", "Book payment", "Ship", "Cancel")
    assert model.notes == (
        "task 'unnamed' has no name; it is read as a silent step",
        "boundary event 'Two weeks' is read as an alternative to completing 'Ship'",
    )
    traces = [
        ["Register", "Check stock", "Send invoice", "Book payment", "Ship"],
        ["Register", "Send invoice", "Check stock", "Book payment", "Ship"],
        ["Register", "Send invoice", "Book payment", "Check stock", "Cancel"],
        ["Register", "Check stock", "Book payment", "Ship"],
    ]
    # Silent steps: two parallel gateways and the unnamed task (or the boundary event).
    assert costs(model, traces) == [3, 3, 3, 10_003]


@pytest.mark.parametrize(
    ("name", "tasks", "extra"),
    [
        ("running-example.bpmn", 8, set()),
        ("receipt.bpmn", 27, set()),
        # A collapsed sub-process is an activity with a name: a task here, silent in pm4py.
        ("bpic2019_p2p_purchase_orders_collapsed.bpmn", 7, {"SRM subprocess"}),
    ],
)
def test_documented_bpmn_models_have_the_tasks_pm4py_reads(shared_models, name, tasks, extra):
    import pm4py

    model = load_model(shared_models / name)
    net, _, _ = pm4py.convert_to_petri_net(pm4py.read_bpmn(str(shared_models / name)))
    assert set(model.tasks) == {t.label for t in net.transitions if t.label} | extra
    assert len(model.tasks) == tasks


@pytest.mark.parametrize("name", ["order_to_cash.bpmn", "purchase_to_pay.bpmn", "service_desk.bpmn"])
def test_sample_bpmn_models_load_with_every_task(name):
    import pm4py

    model = load_model(SAMPLE_LOGS / name)
    net, _, _ = pm4py.convert_to_petri_net(pm4py.read_bpmn(str(SAMPLE_LOGS / name)))
    assert set(model.tasks) == {t.label for t in net.transitions if t.label}
    # Our own conversion: one token from start to end, and the empty trace needs every mandatory task.
    assert model.net.initial == ((model.net.initial[0][0], 1),)
    assert pm4py_adapter.align_r4pm(model.net, []).empty_cost >= 10_000


def test_bpmn_without_process_is_refused():
    with pytest.raises(ModelError) as err:
        load_model(HERE / "no_process.bpmn")
    assert str(err.value) == "no_process.bpmn: no <process> element; expected BPMN 2.0 XML"


def test_bpmn_with_two_pools_is_refused():
    with pytest.raises(ModelError) as err:
        load_model(HERE / "two_pools.bpmn")
    assert str(err.value) == (
        "two_pools.bpmn: 2 processes ('Shop', 'Bank'); expected one process (one pool) to check against"
    )


def test_doctype_is_refused_before_parsing():
    with pytest.raises(
        UnsafeInput,
        match=r"^doctype\.bpmn: contains a DOCTYPE declaration; XML with DOCTYPE is "
        r"refused",
    ):
        load_model(HERE / "doctype.bpmn")
    # The same bytes uploaded under another name are refused the same way.
    with pytest.raises(UnsafeInput, match=r"^upload\.bpmn: contains a DOCTYPE"):
        load_model((HERE / "doctype.bpmn").read_bytes(), "upload.bpmn")


def test_malformed_xml_names_the_file_line_and_expectation():
    with pytest.raises(ModelError) as err:
        load_model(HERE / "malformed.bpmn")
    text = str(err.value)
    assert text.startswith(
        "malformed.bpmn: malformed XML (line 3: Opening and ending tag mismatch: startEvent"
    )
    assert text.endswith("; expected BPMN 2.0 XML")


def test_bpmn_flow_to_an_unknown_node_is_refused():
    xml = (
        b'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"><process id="p">'
        b'<startEvent id="s"/><task id="t" name="A"/><sequenceFlow id="f" sourceRef="s" targetRef="ghost"/>'
        b"</process></definitions>"
    )
    with pytest.raises(ModelError) as err:
        load_model(xml, "flows.bpmn")
    assert str(err.value) == (
        "flows.bpmn: sequence flow 'f' connects 'ghost', which is not a task, event or "
        "gateway of the same process; expected both ends in the process"
    )


# ---------------------------------------------------------------------------
# PNML


def test_pnml_without_final_marking_infers_the_sink_and_says_so():
    model = load_model(HERE / "no_final.pnml")
    assert model.notes == (
        "no_final.pnml has no final marking; it was inferred as one token in the place "
        "without outgoing arcs ('done')",
    )
    assert model.net.final == (("done", 1),)
    assert model.net.initial == (("start", 1),)
    # invisible="true" makes t4 silent; "tau_1" stays a label until label matching (see test_conformance_labels).
    assert dict(model.net.transitions) == {"t1": "A", "t2": "B", "t3": "tau_1", "t4": None}
    assert costs(model, [["A", "B"], ["B"], ["A"]]) == [0, 1, 10_000]


def test_pnml_with_two_sink_places_is_refused():
    with pytest.raises(ModelError) as err:
        load_model(HERE / "ambiguous_final.pnml")
    assert str(err.value) == (
        "ambiguous_final.pnml: no final marking, and it cannot be inferred: places without outgoing arcs: "
        "'approved', 'rejected'; expected exactly one such place, or a final marking in the file"
    )


def test_road_fines_pnml_reads_per_place_final_marking_and_invisible_transitions(shared_models):
    model = load_model(shared_models / "road_traffic_fines_normative_no_data.pnml")
    assert model.notes == ()
    assert len(model.net.places) == 9
    assert len(model.net.transitions) == 19
    assert sum(label is None for _, label in model.net.transitions) == 6  # Inv1 ... Inv6
    assert sum(label == "Payment" for _, label in model.net.transitions) == 3
    assert model.net.final == (("n4", 1),)  # the place called "End"
    assert len(model.tasks) == 11


def test_running_example_pnml_reads_the_finalmarkings_section_and_prom_invisible(shared_models):
    model = load_model(shared_models / "running-example.pnml")
    assert model.net.final == (("n2", 1),)
    assert sum(label is None for _, label in model.net.transitions) == 2  # activity="$invisible$"


def test_pnml_arc_weights():
    xml = (
        b'<pnml><net id="n"><page id="g"><place id="p"><initialMarking><text>2</text></initialMarking></place>'
        b'<place id="q"/><transition id="t"><name><text>Pack</text></name></transition>'
        b'<arc id="a" source="p" target="t"><inscription><text>2</text></inscription></arc>'
        b'<arc id="b" source="t" target="q"/></page></net></pnml>'
    )
    model = load_model(xml, "weights.pnml")
    assert model.net.arcs == (("p", "t", 2), ("t", "q", 1))
    assert model.net.initial == (("p", 2),)
    assert model.net.final == (("q", 1),)
    # pm4py's A* does not honour arc weights (it finds no path at all); r4pm does.
    run = pm4py_adapter.align_r4pm(model.net, [["Pack"], []])
    assert (run.aligned[0][0], run.aligned[1][0]) == (0, 10_000)


def test_pnml_arc_between_two_places_is_refused():
    xml = (
        b'<pnml><net id="n"><place id="p"><initialMarking><text>1</text></initialMarking></place>'
        b'<place id="q"/><transition id="t"><name><text>A</text></name></transition>'
        b'<arc id="a" source="p" target="q"/></net></pnml>'
    )
    with pytest.raises(ModelError) as err:
        load_model(xml, "places.pnml")
    assert str(err.value) == (
        "places.pnml: arc 'p' -> 'q' does not join a place and a transition; "
        "expected every arc to run between a place and a transition"
    )


# ---------------------------------------------------------------------------
# steps


def test_yaml_steps_with_optional_step_and_parallel_branches():
    model = load_model(HERE / "steps_parallel.yaml")
    assert model.tasks == ("Receive order", "Pick items", "Print label", "Pack", "Ship")
    traces = [
        ["Receive order", "Pick items", "Print label", "Pack", "Ship"],
        ["Receive order", "Pack", "Pick items", "Ship"],  # label skipped, branches interleaved
        ["Receive order", "Pick items", "Ship"],  # Pack missing
    ]
    assert costs(model, traces) == [2, 3, 10_003]


def test_text_steps_with_comments_and_optional_marker():
    model = load_model(HERE / "steps.txt")
    assert model.kind == "steps"
    assert model.tasks == ("Receive request", "Check receipt", "Approve", "Pay refund")
    assert costs(
        model, [["Receive request", "Check receipt", "Pay refund"], ["Receive request", "Pay refund"]]
    ) == [1, 10_001]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("steps: [a, b]\nextra: 1\n", "bad.yaml: unknown key(s) 'extra'; expected 'steps' and 'optional'"),
        ("stages: [a]\n", "bad.yaml: no 'steps' list; expected 'steps: [first step, second step, ...]'"),
        ("steps: [a, b]\noptional: [c]\n", "bad.yaml: optional step(s) 'c' are not among the steps"),
        (
            "steps: [a, {parallel: [b]}]\n",
            "bad.yaml: a 'parallel' group in the steps needs at least two branches",
        ),
        (
            "steps: &x [a, b]\noptional: *x\n",
            "bad.yaml, line 1: YAML anchors and aliases (&name, *name) are refused; step lists hold only text, "
            "lists and mappings, written out",
        ),
        (
            "steps: [a, b\n",
            "bad.yaml, line 2: not valid YAML (expected ',' or ']', but got '<stream end>'); "
            "expected 'steps: [first step, second step, ...]'",
        ),
        ("steps: []\n", "bad.yaml: no steps; expected at least one step name"),
    ],
)
def test_yaml_steps_errors(text, message):
    with pytest.raises(ModelError) as err:
        load_model(text.encode(), "bad.yaml")
    assert str(err.value) == message


# ---------------------------------------------------------------------------
# dispatch


def test_unknown_suffix_is_refused_with_the_formats_expected():
    with pytest.raises(ModelError) as err:
        load_model(b"PK\x03\x04 not a model", "process.docx")
    assert str(err.value) == (
        "process.docx: unknown model format (suffix '.docx'); expected .bpmn (BPMN 2.0), "
        ".pnml (Petri net), .yaml/.yml or .txt (a list of steps)"
    )


def test_content_is_sniffed_when_the_suffix_says_nothing():
    assert load_model((HERE / "xor_chain.bpmn").read_bytes(), "export.xml").kind == "bpmn"
    assert load_model((HERE / "no_final.pnml").read_bytes(), "net.xml").kind == "pnml"
    assert load_model(b"# my process\nsteps: [a, b]\n", "process").tasks == ("a", "b")
    with pytest.raises(ModelError) as err:
        load_model(b"<?xml version='1.0'?><log><trace/></log>", "log.xml")
    assert str(err.value) == (
        "log.xml: XML with root element <log> is not a model this tool reads; "
        "expected BPMN 2.0 (<definitions>) or PNML (<pnml>)"
    )


def test_missing_file_is_a_model_error():
    with pytest.raises(ModelError, match=r"^nowhere\.bpmn: cannot read the model file"):
        load_model(HERE / "nowhere.bpmn")


def test_relabel_renames_and_silences_only_visible_labels():
    net = NetSpec(("p", "q"), (("t1", "A"), ("t2", None), ("t3", "B")), (), (("p", 1),), (("q", 1),))
    assert net.relabel({"A": "a", "B": None}).transitions == (("t1", "a"), ("t2", None), ("t3", None))
    assert net.labels == ("A", "B")
