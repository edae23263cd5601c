"""ETC precision on the prefix tree equals pm4py's ``precision_token_based_replay``, and stays bounded.

The differential runs pm4py itself on an event log with one trace per case
(built from the stored variants) and our :func:`etc_precision` on the
variant counts, against the inductive miner's nets (IM, IMf 0.2, IM on the
ten most frequent variants) of real logs.  The documented models of the
shared logs are compared through ``conform()`` in test_conformance_pm4py.py.
"""

from __future__ import annotations

import pytest

from mining import pm4py_adapter
from mining.analysis.filters import Filter
from mining.conformance import from_discovered
from mining.conformance.check import checked_variants
from mining.conformance.precision import MAX_CLOSURE, PrecisionStopped, etc_precision
from mining.errors import ConformanceError
from mining.ingest import ingest_file
from mining.models import NetSpec, discover
from mining.store import Store


def pm4py_precision(net: NetSpec, variants) -> float:
    import pm4py
    from pm4py.objects.log.obj import Event, EventLog, Trace

    log = EventLog(
        [Trace([Event({"concept:name": a}) for a in acts]) for acts, n in variants for _ in range(n)]
    )
    model = pm4py_adapter.petri_net(net)
    return pm4py.precision_token_based_replay(log, model.net, model.initial_marking, model.final_marking)


NETS = {"IM": (Filter(), 0.0), "IMf 0.2": (Filter(), 0.2), "IM top 10": (Filter(variant_top_k=10), 0.0)}


@pytest.mark.parametrize("name", ["running-example.xes", "helpdesk.xes.gz", "receipt_coselog.xes.gz"])
def test_precision_equals_pm4py_on_inductive_nets_of_real_logs(shared_logs, name):
    with Store() as store:
        log_id = ingest_file(store, shared_logs / name).log_id
        variants = [(acts, n) for acts, n, _ in checked_variants(store, log_id)]
        nets = {
            key: from_discovered(discover(store, log_id, flt, noise=noise)).net
            for key, (flt, noise) in NETS.items()
        }
    seen = set()
    for key, net in nets.items():
        ours = etc_precision(net, variants)
        theirs = pm4py_precision(net, variants)
        assert ours == pytest.approx(theirs, abs=1e-9), (name, key)
        seen.add(round(ours, 9))
    # The three nets are different models of the log: the comparison is not one figure three times.
    assert len(seen) >= 2 or name == "running-example.xes"


def _net(transitions, arcs, initial=(("start", 1),), final=(("end", 1),)) -> NetSpec:
    ids = {t for t, _ in transitions}
    places = sorted({p for a in arcs for p in a if p not in ids})
    return NetSpec(tuple(places), tuple(transitions), tuple((s, d, 1) for s, d in arcs), initial, final)


def test_hand_made_net_counts_escaping_edges_per_prefix():
    # start -a-> p -(b|c)-> end: the log only ever takes b after a.
    net = _net(
        [("ta", "a"), ("tb", "b"), ("tc", "c")],
        [("start", "ta"), ("ta", "p"), ("p", "tb"), ("p", "tc"), ("tb", "end"), ("tc", "end")],
    )
    # empty prefix: allowed {a}, 3 cases, none escaping; prefix a: allowed {b, c}, 3 cases, c escapes.
    assert etc_precision(net, [(("a", "b"), 3)]) == pytest.approx(1 - 3 / (3 + 6))
    assert etc_precision(net, [(("a", "b"), 3)]) == pytest.approx(pm4py_precision(net, [(("a", "b"), 3)]))
    # An activity the net does not know is skipped, as pm4py's replay skips it.
    assert etc_precision(net, [(("a", "x", "b"), 2)]) == pytest.approx(
        pm4py_precision(net, [(("a", "x", "b"), 2)])
    )


def test_silent_producer_loop_is_refused_not_looped():
    # A silent transition that puts a token back and one more: unbounded, pm4py's walk never ends.
    net = _net(
        [("ta", "a"), ("tau", None), ("tb", "b")],
        [("start", "ta"), ("ta", "p"), ("p", "tau"), ("tau", "p"), ("tau", "q"), ("p", "tb"), ("tb", "end")],
    )
    with pytest.raises(ConformanceError, match=f"more than {MAX_CLOSURE:,} states"):
        etc_precision(net, [(("a", "b"), 1)])


def test_should_stop_interrupts_precision():
    net = _net(
        [("ta", "a"), ("tb", "b"), ("tend", None)],
        [("start", "ta"), ("ta", "p"), ("p", "tb"), ("tb", "p"), ("p", "tend"), ("tend", "end")],
    )
    variants = [(("a",) + ("b",) * k, 1) for k in range(1, 400)]
    assert etc_precision(net, variants[:40]) == pytest.approx(pm4py_precision(net, variants[:40]), abs=1e-9)
    with pytest.raises(PrecisionStopped):
        etc_precision(net, variants, should_stop=lambda: True)
