"""The rate card: YAML and CSV read alike, rates by resource, role and default, clear refusals, Lean priced
to the cent."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mining.errors import AnalysisError, RateCardError
from mining.monitor.lean import lean_view
from mining.rates import RateCard, as_rate_card, format_money, load_rate_card, rate_card_from_bytes
from tests.conftest import FILES
from tests.tinylog import TINY, load_hours

CARDS = FILES / "rates"
# The tiny log of tests/test_lean.py: resources per event (see there for the hours).
RESOURCES = ["ann", "bob", "ann", "ann", "bob", "bob", "ann", "bob", "ann", "bob", "bob", "ann"]


def test_yaml_and_csv_cards_read_alike():
    yaml_card = load_rate_card(CARDS / "card.yaml")
    csv_card = load_rate_card(CARDS / "card.csv")
    assert yaml_card.source.endswith("card.yaml") and csv_card.source.endswith("card.csv")
    assert yaml_card == RateCard(
        resources=(("Bob", 100.0),),
        roles=(("clerk", 40.0),),
        members=(("Ann", "clerk"),),
        default=25.0,
        activities=(("B", 2.5), ("Send invoice", 1.2)),
        currency="EUR",
        waiting=True,
        source=yaml_card.source,
    )
    assert csv_card == RateCard(**{**yaml_card.__dict__, "source": csv_card.source})


def test_a_resource_is_priced_by_its_own_rate_then_its_role_then_the_default():
    card = load_rate_card(CARDS / "card.yaml")
    assert [card.hourly(r) for r in ("Bob", "Ann", "Zoe", None)] == [100.0, 40.0, 25.0, 25.0]
    assert (card.fixed("B"), card.fixed("Send invoice"), card.fixed("A")) == (2.5, 1.2, 0.0)
    assert card.priced_resources() == {"Bob": 100.0, "Ann": 40.0}
    assert RateCard(resources=(("Bob", 1.0),)).unpriced(["Bob", "Zoe", None]) == ["(no resource)", "Zoe"]
    assert card.label().endswith(
        "2 resource rates, EUR 25.00/h for everyone else, 2 fixed activity costs; waiting time charged"
    )


def test_older_rate_arguments_become_cards():
    assert as_rate_card(60) == RateCard(default=60.0)
    assert as_rate_card({"ann": 40, "*": 30}) == RateCard(resources=(("ann", 40.0),), default=30.0)
    with pytest.raises(
        RateCardError, match="cost_per_hour must be a number of money per hour, 0 or more; got -5"
    ):
        as_rate_card(-5)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "r.yaml",
            "resources:\n  Ann: -3\n",
            "r.yaml, resources, 'Ann': expected an amount of money, 0 or more",
        ),
        ("r.yaml", "resources:\n  Ann: boss\n", "the resource 'Ann' has the role 'boss', which has no rate"),
        ("r.yaml", "rates:\n  Ann: 3\n", "r.yaml: unknown key(s) 'rates'; expected a mapping"),
        (
            "r.yaml",
            "- 1\n- 2\n",
            "with some of the keys currency, resources (resource: rate or role), roles (role: rate), activities (activity: fixed cost) and waiting (yes/no); found a list",
        ),
        ("r.yaml", "roles: &r {a: 1}\nmore: *r\n", "r.yaml, line 1: YAML anchors and aliases"),
        ("r.yaml", "waiting: maybe\n", "r.yaml, waiting: expected yes or no; found text"),
        (
            "r.yaml",
            "activities: [A, B]\n",
            "r.yaml, activities: expected a mapping (name: amount); found a list",
        ),
        ("r.csv", "kind,name,value\nresource,Ann,1\nperson,Bob,2\n", "r.csv, row 3, column 'kind': 'person'"),
        ("r.csv", "kind,name,value\nactivity,A,1,5\n", "r.csv, row 2: 4 cells under a header of 3 columns"),
        (
            "r.csv",
            "kind,name,value\nactivity,A,1\nactivity,A,2\n",
            "r.csv, row 3: the activity 'A' is listed twice",
        ),
        ("r.csv", "kind,name,value\nrole,clerk,€12\n", "r.csv, row 2, column 'value': expected an amount"),
        ("r.csv", "who,rate\nAnn,3\n", "r.csv, row 1: no column 'kind', 'name', 'value'"),
        ("r.txt", "Ann: 3\n", "r.txt: a rate card is a .yaml, .yml or .csv file"),
    ],
)
def test_bad_cards_are_refused_naming_the_file_and_the_entry(name, text, message):
    with pytest.raises(RateCardError) as caught:
        rate_card_from_bytes(text.encode(), name=name)
    assert message in str(caught.value)


def test_a_semicolon_csv_with_a_byte_order_mark_reads():
    card = rate_card_from_bytes(
        "\ufeffkind;name;value\nrole;clerk;30\nresource;Ann;clerk\n".encode(), name="x.csv"
    )
    assert card.hourly("Ann") == 30.0


@given(st.floats(min_value=0, max_value=1e9, allow_nan=False))
def test_money_shows_the_amount_rounded_to_the_cent(amount):
    text = format_money(amount, "EUR")
    assert text.startswith("EUR ")
    assert float(text[4:].replace(",", "")) == pytest.approx(round(amount, 2), abs=0.006)
    assert re.fullmatch(r"EUR \d{1,3}(,\d{3})*\.\d\d", text)


@pytest.fixture
def tiny(store, tmp_path):
    return load_hours(store, tmp_path, [(*e, r) for e, r in zip(TINY, RESOURCES, strict=True)])


def test_lean_prices_waste_with_a_card_to_the_cent(store, tiny):
    # ann is a clerk at 40/h, bob has 100/h; a repeated B costs its fixed 2.50 again.
    card = rate_card_from_bytes(
        b"resources: {ann: clerk, bob: 100}\nroles: {clerk: 40}\nactivities: {B: 2.5}\n", name="card.yaml"
    )
    costs = {w.kind: round(w.cost, 2) for w in lean_view(store, tiny, cost_per_hour=card).wastes}
    # Hand-offs: bob waits 1 + 2 + 4 + 1/6 h (716.67), ann 2 + 1 h (120).  Waiting: bob's half hour.
    # Rework: c4's second B, bob's half hour (50) plus B's fixed 2.50.
    assert costs == {"hand-offs": 836.67, "waiting": 50.00, "rework": 52.50}


def test_lean_refuses_a_card_that_misses_a_resource(store, tiny):
    card = RateCard(resources=(("ann", 40.0),), source="card.yaml")
    with pytest.raises(
        AnalysisError, match=r"no hourly rate for resource\(s\) 'bob'; rates were given for 'ann'"
    ):
        lean_view(store, tiny, cost_per_hour=card)
