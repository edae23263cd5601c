"""Label matching between a model's tasks and a log's activities."""

from __future__ import annotations

import pytest

from mining.conformance import LabelMapping, conform, load_model
from mining.conformance.labels import Suggestion, looks_silent, match_labels
from mining.errors import ConformanceError
from tests.conftest import FILES
from tests.tinylog import load_hours

HERE = FILES / "conformance"


def test_exact_then_case_and_whitespace_then_suggestions():
    found = match_labels(
        ["Approve order", "tau_1", "Ship", "send  Invoice", "Inv3", "Pay"],
        ["approve order", "Ship", "Send invoice", "Payment", "Cancel"],
    )
    assert found.matched == (
        ("Approve order", "approve order", "normalised"),
        ("Ship", "Ship", "exact"),
        ("send  Invoice", "Send invoice", "normalised"),
    )
    assert found.silent == ("tau_1", "Inv3")
    assert found.model_only == ("Pay",)
    assert found.log_only == ("Payment", "Cancel")
    # Suggested, never applied: 'Pay' stays unmatched until the user confirms.
    assert found.suggested == (Suggestion("Pay", "Payment", 0.6),)
    assert found.relabelling() == {
        "Approve order": "approve order",
        "Ship": "Ship",
        "send  Invoice": "Send invoice",
        "tau_1": None,
        "Inv3": None,
    }


def test_confirmed_mapping_and_invisible_labels_win():
    mapping = LabelMapping.parse(["Pay=Payment", "Ship=Cancel"], invisible=["Approve order"])
    found = match_labels(
        ["Approve order", "Ship", "Pay"], ["Approve order", "Ship", "Payment", "Cancel"], mapping
    )
    assert found.matched == (("Ship", "Cancel", "mapped"), ("Pay", "Payment", "mapped"))
    assert found.silent == ("Approve order",)
    assert found.log_only == ("Approve order", "Ship")


def test_a_log_activity_called_tau_is_matched_not_silenced():
    found = match_labels(["tau", "A"], ["tau", "A"])
    assert found.silent == ()
    assert [m[0] for m in found.matched] == ["tau", "A"]


@pytest.mark.parametrize(
    ("label", "silent"),
    [
        ("", True),
        ("tau", True),
        ("tau_1", True),
        ("Tau split", True),
        ("τ", True),
        ("Inv1", True),
        ("invisible", True),
        ("silent_2", True),
        ("hid_7", True),
        ("skip_approve", True),
        ("Invoice", False),
        ("Taurus check", False),
        ("Skip payment", False),
        ("Send invoice", False),
    ],
)
def test_which_labels_look_silent(label, silent):
    assert looks_silent(label) is silent


@pytest.mark.parametrize(
    ("items", "invisible", "message"),
    [
        (["Nope=A"], (), "--map 'Nope'='A': the model has no task 'Nope'; tasks: 'A', 'B'"),
        (["A=Nope"], (), "--map 'A'='Nope': the log has no activity 'Nope'; activities: 'a', 'b'"),
        (["A=a", "A=b"], (), "--map: model task 'A' is mapped twice ('a' and 'b'); expected once"),
        ((), ["Z"], "--invisible 'Z': the model has no task of that name; tasks: 'A', 'B'"),
    ],
)
def test_mapping_errors_name_what_is_wrong(items, invisible, message):
    with pytest.raises(ConformanceError) as err:
        match_labels(["A", "B"], ["a", "b"], LabelMapping.parse(items, invisible))
    assert str(err.value) == message


def test_mapping_errors_name_the_option_for_each_edge_to_word():
    # The app words an Option as its own control; names with braces stay as they are.
    def word(option):
        return f"<{option.name}: {option.value}>" if option.value else f"<{option.name}>"

    with pytest.raises(ConformanceError) as err:
        match_labels(["A {x}", "B"], ["a", "b"], LabelMapping.parse(["A {x}=c"]))
    assert (
        err.value.message_in(word) == "<map: 'A {x}'='c'>: the log has no activity 'c'; activities: 'a', 'b'"
    )
    assert str(err.value) == "--map 'A {x}'='c': the log has no activity 'c'; activities: 'a', 'b'"
    with pytest.raises(ConformanceError) as err:
        match_labels(["A", "B"], ["a", "b"], LabelMapping.parse(["A=a", "A=b"]))
    assert err.value.message_in(word).startswith("<map>: model task 'A' is mapped twice")
    with pytest.raises(ConformanceError) as err:
        match_labels(["A", "{B}"], ["a"], LabelMapping.parse([], ["Z"]))
    assert (
        err.value.message_in(word)
        == "<invisible: 'Z'>: the model has no task of that name; tasks: 'A', '{B}'"
    )


def test_map_strings_must_have_both_sides():
    with pytest.raises(ConformanceError) as err:
        LabelMapping.parse(["Approve"])
    assert str(err.value) == "--map 'Approve': expected 'Model label=Log activity'"


def test_mapping_from_yaml(tmp_path):
    path = tmp_path / "labels.yaml"
    path.write_text("map:\n  Pay: Payment\ninvisible: [tau_1]\n", encoding="utf-8")
    assert LabelMapping.from_yaml(path) == LabelMapping((("Pay", "Payment"),), ("tau_1",))
    path.write_text("- Pay\n", encoding="utf-8")
    with pytest.raises(ConformanceError) as err:
        LabelMapping.from_yaml(path)
    assert str(err.value) == (
        "labels.yaml: expected YAML 'map: {Model label: Log activity}' and optionally 'invisible: [...]'"
    )


def test_mapping_file_with_an_unknown_key_is_an_error(tmp_path):
    path = tmp_path / "labels.yaml"
    path.write_text("maps:\n  Pay: Payment\ninvisable: [tau_1]\n", encoding="utf-8")
    with pytest.raises(ConformanceError) as err:
        LabelMapping.from_yaml(path)
    assert str(err.value) == (
        "labels.yaml: unknown key 'invisable', 'maps'; expected only 'map' and 'invisible'"
    )


def test_mapping_changes_the_check(store, tmp_path):
    # The model says "Approve", the log "Approval": unmatched, suggested, then confirmed.
    log = load_hours(
        store,
        tmp_path,
        [
            ("c1", "Order", 0),
            ("c1", "Approval", 1),
            ("c1", "Ship", 2),
            ("c2", "Order", 0),
            ("c2", "Approval", 2),
            ("c2", "Ship", 3),
        ],
    )
    model = load_model(b"Order\nApprove\nShip\n", "steps.txt")
    before = conform(store, log, model)
    assert before.labels.model_only == ("Approve",)
    assert before.labels.log_only == ("Approval",)
    assert before.labels.suggested == (Suggestion("Approve", "Approval", 0.8),)
    assert before.fitness == pytest.approx(1 - 4 / 12)  # per case: a model move and a log move of 6
    after = conform(store, log, model, mapping=LabelMapping.parse(["Approve=Approval"]))
    assert after.labels.matched[1] == ("Approve", "Approval", "mapped")
    assert (after.fitness, after.fitting_cases_share, after.deviations) == (1.0, 1.0, ())


def test_tau_labels_of_a_pnml_are_silent_in_the_check(store, tmp_path):
    log = load_hours(store, tmp_path, [("c1", "A", 0), ("c2", "A", 0), ("c2", "B", 1)])
    result = conform(store, log, load_model(HERE / "no_final.pnml"))
    assert result.labels.silent == ("tau_1",)
    assert result.notes == (
        "no_final.pnml has no final marking; it was inferred as one token in the place without outgoing arcs "
        "('done')",
        "treated as silent steps: 'tau_1'",
    )
    assert (result.fitness, result.deviations) == (1.0, ())
