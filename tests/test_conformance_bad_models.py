"""Models that would make a check hang or crash get a clear error or a bounded answer.

The hostile models are written inside each test; the log is the tiny orders log.
The budget bounds every part of a check of each of them: with ``budget=0`` no
part starts (each says so), and with a real budget each finishes.  More
classes (wide parallel nets, logs of ids) are in test_bounded_work.py.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from mining.cli import cli
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


GATES = (
    b'<?xml version="1.0"?><definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"><process id="p">'
    b'<startEvent id="s"/><exclusiveGateway id="g1"/><parallelGateway id="g2"/><endEvent id="e"/>'
    b'<sequenceFlow id="f1" sourceRef="s" targetRef="g1"/><sequenceFlow id="f2" sourceRef="g1" targetRef="g2"/>'
    b'<sequenceFlow id="f3" sourceRef="g2" targetRef="e"/></process></definitions>'
)


def test_bpmn_with_only_gateways_is_refused():
    with pytest.raises(ModelError, match=r"gates\.bpmn: the process has no named tasks"):
        load_model(GATES, "gates.bpmn")


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


def _unbounded() -> bytes:
    # A silent transition that always puts its token back and one more elsewhere: infinitely many markings.
    return _pnml(
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
    )


def test_unbounded_net_gets_a_clear_error_at_once(orders):
    model = load_model(_unbounded(), "unbounded.pnml")
    # Tokens pile up in q, so the final marking can never be reached: said so, not searched forever.
    with pytest.raises(ConformanceError, match=r"r4pm could not align against this net: .*Unreachable"):
        conform(*orders, model, budget=20, engine="r4pm", force=True)
    # Without forcing r4pm, pm4py is not sent to search the infinite net either: the loop is named.
    with pytest.raises(
        ConformanceError, match=r"the model is unbounded: the silent step 'tau' can repeat forever"
    ):
        conform(*orders, model, budget=20, force=True)


def _silent_cycle() -> bytes:
    # Two silent steps that hand one token back and forth between p1 and p2, for ever if fired.
    return _pnml(
        ["p0", "p1", "p2", "p3", "p4"],
        [("t1", "A"), ("s1", None), ("s2", None), ("t2", "B"), ("t3", "C"), ("t4", "D")],
        [
            ("p0", "t1"),
            ("t1", "p1"),
            ("p1", "s1"),
            ("s1", "p2"),
            ("p2", "s2"),
            ("s2", "p1"),
            ("p2", "t2"),
            ("t2", "p3"),
            ("p3", "t3"),
            ("t3", "p3"),
            ("p3", "t4"),
            ("t4", "p4"),
        ],
        {"p0": 1},
    )


def test_a_cycle_of_silent_transitions_is_checked(orders):
    model = load_model(_silent_cycle(), "silent_cycle.pnml")
    for method in ("alignments", "token-replay"):
        result = conform(*orders, model, method=method, budget=60)
        assert result.complete and 0.0 < result.fitness <= 1.0
        assert result.precision is not None


def _several_hundred() -> bytes:
    return "\n".join(["A", "B", "C", *(f"Step {i} (optional)" for i in range(400)), "D"]).encode()


def test_several_hundred_transitions_are_checked(orders):
    model = load_model(_several_hundred(), "long.txt")
    assert len(model.tasks) == 404
    result = conform(*orders, model, budget=60, force=True)
    assert result.forced
    assert result.complete and result.precision is not None


BOUNDED = {
    "noinit.pnml": lambda: _pnml(
        ["p0", "p1", "p2"],
        [("t1", "A"), ("t2", "B")],
        [("p0", "t1"), ("t1", "p1"), ("p1", "t2"), ("t2", "p2")],
    ),
    "silent_cycle.pnml": _silent_cycle,
    "long.txt": _several_hundred,
}


@pytest.mark.parametrize("name", sorted(BOUNDED))
@pytest.mark.parametrize("method", ["alignments", "token-replay"])
def test_budget_zero_stops_every_part_of_a_check_of_a_bad_model(orders, name, method):
    result = conform(*orders, load_model(BOUNDED[name](), name), method=method, budget=0, force=True)
    assert (result.complete, result.fitness, result.precision) == (False, None, None)
    assert result.aligned_cases_share == 0.0
    assert "precision was not computed: the budget ran out" in result.notes
    done = "replayed" if method == "token-replay" else "aligned"
    assert result.notes[-1].endswith(f"were {done} before the budget ran out")


@pytest.mark.parametrize(
    ("name", "data", "said"),
    [
        ("gates.bpmn", GATES, "gates.bpmn: the process has no named tasks"),
        ("empty.pnml", None, "empty.pnml: no initial marking, and it cannot be inferred"),
        ("unbounded.pnml", None, "the model is unbounded"),
        ("long.txt", None, None),
    ],
)
def test_conform_budget_in_the_cli_refuses_or_reports_partial(tmp_path, name, data, said):
    files = {
        "empty.pnml": lambda: _pnml([], [("t1", "A")], []),
        "unbounded.pnml": _unbounded,
        "long.txt": _several_hundred,
    }
    path = tmp_path / name
    path.write_bytes(data if data is not None else files[name]())
    ws = str(tmp_path / "ws.duckdb")
    runner = CliRunner()
    assert runner.invoke(cli, ["--workspace", ws, "ingest", str(LOG), "--name", "orders"]).exit_code == 0
    res = runner.invoke(
        cli,
        ["--workspace", ws, "conform", "orders", "--model", str(path), "--budget", "0", "--force", "--json"],
    )
    if said is None:
        assert res.exit_code == 0, res.output
        out = json.loads(res.output)
        assert (out["complete"], out["fitness"], out["aligned_cases_share"]) == (False, None, 0.0)
    else:
        assert res.exit_code == 1
        assert said in res.output
