"""Models that would make a check hang or crash get a clear error or a bounded answer.

The hostile models are written inside each test; the log is the tiny orders log.
"""

from __future__ import annotations

import time

import pytest

from mining.conformance import conform, load_model
from mining.errors import ConformanceError, ModelError
from mining.ingest import ingest_file
from mining.store import Store
from tests.conftest import FILES

LOG = FILES / "conformance" / "orders.csv"


@pytest.fixture(scope="module")
def orders():
    with Store() as store:
        yield store, ingest_file(store, LOG).log_id


def _pnml(places, transitions, arcs, initial=None) -> bytes:
    body = "".join(
        f'<place id="{p}">'
        + (f"<initialMarking><text>{initial[p]}</text></initialMarking>" if initial and p in initial else "")
        + "</place>"
        for p in places
    )
    body += "".join(
        f'<transition id="{t}"><name><text>{lab}</text></name></transition>'
        if lab
        else f'<transition id="{t}"><toolspecific tool="ProM" version="6.4" activity="$invisible$"/></transition>'
        for t, lab in transitions
    )
    body += "".join(f'<arc id="a{i}" source="{s}" target="{d}"/>' for i, (s, d) in enumerate(arcs))
    return f'<?xml version="1.0"?><pnml><net id="n"><page id="pg">{body}</page></net></pnml>'.encode()


def test_bpmn_with_only_gateways_is_refused():
    bpmn = (
        b'<?xml version="1.0"?><definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"><process id="p">'
        b'<startEvent id="s"/><exclusiveGateway id="g1"/><parallelGateway id="g2"/><endEvent id="e"/>'
        b'<sequenceFlow id="f1" sourceRef="s" targetRef="g1"/><sequenceFlow id="f2" sourceRef="g1" targetRef="g2"/>'
        b'<sequenceFlow id="f3" sourceRef="g2" targetRef="e"/></process></definitions>'
    )
    with pytest.raises(ModelError, match=r"gates\.bpmn: the process has no named tasks"):
        load_model(bpmn, "gates.bpmn")


def test_pnml_without_places_is_refused():
    with pytest.raises(ModelError, match=r"empty\.pnml: no initial marking, and it cannot be inferred"):
        load_model(_pnml([], [("t1", "A")], []), "empty.pnml")


def test_pnml_without_initial_marking_infers_the_source_and_says_so(orders):
    model = load_model(
        _pnml(
            ["p0", "p1", "p2"],
            [("t1", "A"), ("t2", "B")],
            [("p0", "t1"), ("t1", "p1"), ("p1", "t2"), ("t2", "p2")],
        ),
        "noinit.pnml",
    )
    assert dict(model.net.initial) == {"p0": 1}
    result = conform(*orders, model, force=True)
    assert result.complete and result.fitness is not None


def test_unbounded_net_gets_a_clear_error_at_once(orders):
    # A silent transition that always puts its token back and one more elsewhere: infinitely many markings.
    model = load_model(
        _pnml(
            ["p0", "p1", "q", "p2"],
            [("t1", "A"), ("tau", None), ("t2", "B"), ("t3", "C"), ("t4", "D")],
            [
                ("p0", "t1"),
                ("t1", "p1"),
                ("p1", "tau"),
                ("tau", "p1"),
                ("tau", "q"),
                ("p1", "t2"),
                ("t2", "p2"),
                ("p2", "t3"),
                ("t3", "p2"),
                ("p2", "t4"),
                ("t4", "p0"),
            ],
            {"p0": 1},
        ),
        "unbounded.pnml",
    )
    started = time.monotonic()
    # Tokens pile up in q, so the final marking can never be reached: said so, not searched forever.
    with pytest.raises(ConformanceError, match=r"r4pm could not align against this net: .*Unreachable"):
        conform(*orders, model, budget=20, engine="r4pm", force=True)
    assert time.monotonic() - started < 60


def test_several_hundred_transitions_are_checked_within_the_budget(orders):
    steps = "\n".join(["A", "B", "C", *(f"Step {i} (optional)" for i in range(400)), "D"]).encode()
    model = load_model(steps, "long.txt")
    assert len(model.tasks) == 404
    started = time.monotonic()
    result = conform(*orders, model, budget=30, force=True)
    assert time.monotonic() - started < 90
    assert result.forced
    assert result.precision is not None or any("precision" in n for n in result.notes)
