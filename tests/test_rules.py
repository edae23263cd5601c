"""Declarative rules: exact counts on hand-made cases, a plain-Python reference on
generated and real logs, rule files and their errors, and the ``mining rules`` command."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
from collections import defaultdict

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from mining.analysis.calendar import Calendar
from mining.analysis.filters import Filter
from mining.cli import cli
from mining.conformance.rules import (
    RULE_TYPES,
    PeriodRate,
    Rule,
    business_seconds,
    check_rules,
    export_violations,
    find_rule,
    load_rules,
    outcomes_sql,
    parse_limit,
    parse_rule,
    rates_by_period,
    violating_cases,
)
from mining.durations import Duration
from mining.errors import RuleError
from mining.ingest import IngestOptions, ingest_file
from mining.store import Store
from tests.conftest import FILES
from tests.tinylog import T0, load_hours

RULE_FILES = FILES / "rules"

# (case, activity, hours after 2024-01-01 00:00 UTC (a Monday), resource; "" is no resource).
EVENTS = [
    ("c01", "Receive", 0, "ann"),
    ("c01", "Approve", 1, "bob"),
    ("c01", "Pay", 2, "cy"),
    ("c02", "Receive", 0, "ann"),
    ("c02", "Pay", 1, "ann"),
    ("c02", "Approve", 2, "bob"),  # Pay before Approve
    ("c03", "Receive", 0, "ann"),
    ("c03", "Approve", 1, "dan"),
    ("c03", "Pay", 3, "dan"),  # same resource
    ("c04", "Receive", 0, "ann"),
    ("c04", "Approve", 1, "bob"),
    ("c04", "Pay", 2, ""),  # Pay without resource
    ("c05", "Receive", 0, "ann"),
    ("c05", "Check", 1, "ann"),  # never paid
    ("c06", "Receive", 0, "ann"),
    ("c06", "Approve", 1, "bob"),
    ("c06", "Pay", 60, "cy"),  # paid late
    ("c07", "Pay", 0, "cy"),
    ("c07", "Approve", 1, "bob"),
    ("c07", "Pay", 2, "cy"),  # Pay before and after
    ("c08", "Approve", 0, "bob"),
    ("c08", "Pay", 1, "cy"),
    ("c08", "Approve", 2, "bob"),  # Approve redone last
    ("c09", "Receive", 290, "ann"),  # 10 h before the log's end: pending
    ("c10", "Receive", 200, "ann"),
    ("c10", "Cancel", 300, "ann"),  # the log's last event
    ("c11", "Approve", 10, "bob"),
    ("c11", "Pay", 10, "cy"),  # a tie, Approve first in the file
    ("c12", "Pay", 10, "cy"),
    ("c12", "Approve", 10, "bob"),  # a tie, Pay first in the file
    ("c13", "Pay", 0, "cy"),
    ("c13", "Receive", 1, "ann"),  # the only Pay is before Receive
    ("c14", "Receive", 0, "ann"),
    ("c14", "Receive", 40, "ann"),
    ("c14", "Pay", 50, "cy"),  # timed from the first
    ("c15", "Approve", 0, "eve"),
    ("c15", "Pay", 1, ""),
    ("c15", "Pay", 2, "eve"),  # eve did both, one unknown
    ("c16", "Receive", 100, "ann"),
    ("c16", "Pay", 148, "cy"),  # exactly two days
]
ALL = [f"c{i:02d}" for i in range(1, 17)]


@pytest.fixture
def log(store, tmp_path):
    return load_hours(store, tmp_path, EVENTS, name="invoices")


def one(store, log, text, flt=None, **kw):
    (result,) = check_rules(store, log, [parse_rule(text)], flt, **kw)
    return result


def counts(r):
    return r.cases, r.activated, r.violations, r.not_applicable, r.unknown, r.pending


# -- each rule type on the hand-made cases ---------------------------------------------------------------


def test_precedence_counts_cases_and_sentence(store, log):
    r = one(store, log, "Approve before Pay")
    assert (r.name, r.type) == ("Approve before Pay", "precedence")
    # Every case with Pay is judged; c05, c09, c10 have none (vacuously satisfied).
    assert counts(r) == (16, 13, 6, 3, 0, 0)
    assert r.rate == 6 / 13
    assert r.sample_cases == ("c02", "c07", "c12", "c13", "c14", "c16")
    assert r.sentence == (
        "'Pay' happened without an earlier 'Approve' in 46.2% of cases where 'Pay' occurred (6 of 13)."
    )
    assert r.satisfied == 7


def test_response_counts_cases_and_sentence(store, log):
    r = one(store, log, "Approve then Pay")
    assert counts(r) == (16, 10, 3, 6, 0, 0)
    # c02: no Pay after Approve; c08: Approve redone after the Pay; c12: the tie puts Pay first.
    assert r.sample_cases == ("c02", "c08", "c12")
    assert r.sentence == (
        "'Approve' was not followed by a later 'Pay' in 30.0% of cases where 'Approve' occurred (3 of 10)."
    )


def test_four_eyes_reports_missing_resources_apart(store, log):
    r = one(store, log, "four-eyes Approve, Pay")
    # c03 (dan) and c15 (eve, despite one Pay without resource) violate; c04 cannot be judged.
    assert counts(r) == (16, 9, 2, 6, 1, 0)
    assert r.sample_cases == ("c03", "c15")
    assert r.rate == 2 / 9
    assert r.sentence == (
        "The same resource performed 'Approve' and 'Pay' in 22.2% of judged cases with both "
        "(2 of 9). 1 case with both but a missing resource could not be judged."
    )


def test_max_time_times_from_the_first_a_to_the_first_b_after_it(store, log):
    r = one(store, log, "Receive -> Pay within 2d")
    # c05 and c13 have no Pay after Receive and the limit passed before the log's end; c06 and c14 took
    # 60 h and 50 h (c14 timed from its first Receive); c16 took exactly 48 h (in time); c09 is pending.
    assert counts(r) == (16, 10, 5, 5, 0, 1)
    assert r.sample_cases == ("c05", "c06", "c10", "c13", "c14")
    assert r.sentence == (
        "'Pay' did not follow 'Receive' within 2d in 50.0% of judged cases with 'Receive' "
        "(5 of 10). 1 case without 'Pay' is still within the limit at the log's end (pending)."
    )
    assert r.calendar is None


def test_max_time_limit_forms_agree(store, log):
    texts = [
        "Receive -> Pay within 2d",
        "Receive -> Pay within P2D",
        "Receive -> Pay within 48h",
        "Receive → Pay within 1d 24h",
        "Receive -> Pay within PT2880M",
    ]
    results = check_rules(store, log, [parse_rule(t) for t in texts])
    assert {counts(r) for r in results} == {(16, 10, 5, 5, 0, 1)}
    # A shorter limit makes c09 late too (10 h at the log's end) and c01-c04 stay in time.
    assert counts(one(store, log, "Receive -> Pay within 5h")) == (16, 11, 7, 5, 0, 0)


def test_never_at_most_once_and_not_both(store, log):
    never = one(store, log, "never Cancel")
    assert counts(never) == (16, 16, 1, 0, 0, 0)
    assert never.sentence == "'Cancel' occurred in 6.2% of cases (1 of 16)."
    once = one(store, log, "at most once Approve")
    assert counts(once) == (16, 10, 1, 6, 0, 0) and once.sample_cases == ("c08",)
    assert once.sentence == "'Approve' occurred more than once in 10.0% of cases where it occurred (1 of 10)."
    both = one(store, log, "not both Cancel, Receive")
    assert counts(both) == (16, 11, 1, 5, 0, 0) and both.sample_cases == ("c10",)
    assert both.sentence == "'Cancel' and 'Receive' both occurred in 9.1% of cases with either (1 of 11)."


def test_sample_is_bounded_and_violating_cases_lists_all(store, log):
    rule = parse_rule("Approve before Pay")
    (r,) = check_rules(store, log, [rule], sample=2)
    assert r.sample_cases == ("c02", "c07") and r.violations == 6
    (r0,) = check_rules(store, log, [rule], sample=0)
    assert r0.sample_cases == () and r0.violations == 6
    assert violating_cases(store, log, rule) == ("c02", "c07", "c12", "c13", "c14", "c16")


def test_rule_without_activations_says_it_was_not_tested(store, log):
    flt = Filter(activities_remove=("Pay",))
    r = one(store, log, "Approve before Pay", flt)
    assert counts(r) == (16, 0, 0, 16, 0, 0) and r.rate == 0.0
    assert r.sentence == "No case had 'Pay', so the rule was not tested."
    pending_only = one(
        store, log, "Receive -> Pay within 2d", Filter(start=T0 + dt.timedelta(hours=250), window="started")
    )
    assert counts(pending_only) == (1, 0, 0, 0, 0, 1)
    assert pending_only.sentence == (
        "No case with 'Receive' could be judged yet, so the rule was not tested. "
        "1 case without 'Pay' is still within the limit at the log's end (pending)."
    )


def test_filters_change_the_counts(store, log):
    late = Filter(start=T0 + dt.timedelta(hours=100), window="started")  # c09, c10, c16
    assert counts(one(store, log, "Receive -> Pay within 2d", late)) == (3, 2, 1, 0, 0, 1)
    # Without Approve events every Pay lacks an earlier Approve.
    r = one(store, log, "Approve before Pay", Filter(activities_remove=("Approve",)))
    assert counts(r) == (16, 13, 13, 3, 0, 0)
    # Only the cases whose resources include dan or eve.
    r = one(store, log, "four-eyes Approve, Pay", Filter(resources=("dan", "eve")))
    assert counts(r) == (2, 2, 2, 0, 0, 0)


def test_business_calendar_counts_working_days(store, tmp_path):
    # Fri 5 Jan 16:00 -> Mon 8 Jan 15:00 is 71 h elapsed but 7 working hours (Fri 1 h + Mon 6 h);
    # Fri 16:00 -> Mon 17:00 is 9 working hours, more than one working day of 8 h.
    fri, mon = 4 * 24 + 16, 7 * 24
    log = load_hours(
        store,
        tmp_path,
        [
            ("k1", "Receive", fri),
            ("k1", "Pay", mon + 15),
            ("k2", "Receive", fri),
            ("k2", "Pay", mon + 17),
        ],
    )
    rule = parse_rule("Receive -> Pay within 1d")
    (elapsed,) = check_rules(store, log, [rule])
    assert (elapsed.activated, elapsed.violations) == (2, 2)
    (business,) = check_rules(store, log, [rule], calendar=Calendar())
    assert (business.activated, business.violations, business.sample_cases) == (2, 1, ("k2",))
    assert business.calendar == "Mon-Fri 09:00-17:00 (UTC)"
    assert business.sentence == (
        "'Pay' did not follow 'Receive' within 1d of business time in 50.0% of cases with 'Receive' (1 of 2)."
    )
    # With Monday closed both payments came one working hour after Receive.
    closed = Calendar(closed_days=(dt.date(2024, 1, 8),))
    assert check_rules(store, log, [rule], calendar=closed)[0].violations == 0
    # Two working days (16 h) cover both; a working week is five working days.
    assert business_seconds(parse_limit("1w"), Calendar()) == 5 * 8 * 3600
    assert business_seconds(parse_limit("2d"), Calendar(start_hour=dt.time(8, 30), end_hour=17)) == 17 * 3600


def test_rates_by_period_group_by_case_start(store, log):
    rule = parse_rule("Approve before Pay")
    weeks = rates_by_period(store, log, rule, period="week")
    utc = dt.UTC
    assert weeks == (
        PeriodRate(dt.datetime(2024, 1, 1, tzinfo=utc), 14, 13, 6, 6 / 13),
        PeriodRate(dt.datetime(2024, 1, 8, tzinfo=utc), 2, 0, 0, 0.0),
    )
    with pytest.raises(RuleError, match=r"^period 'year': expected day, week or month$"):
        rates_by_period(store, log, rule, period="year")


def test_outcomes_sql_gives_one_outcome_per_case(store, log):
    o = outcomes_sql(store, log, parse_rule("Receive -> Pay within 2d"))
    rows = store.query(
        f"SELECT c.case_id, o.outcome, o.seconds FROM ({o.sql}) o JOIN cases c "
        "ON c.log_id = $f_log AND c.case_no = o.case_no ORDER BY c.case_id",
        o.params,
    ).rows
    assert [r[0] for r in rows] == ALL
    got = {cid: (outcome, seconds) for cid, outcome, seconds in rows}
    assert got["c09"] == ("pending", 10 * 3600.0)
    assert got["c14"] == ("violated", 50 * 3600.0)
    assert got["c16"] == ("satisfied", 48 * 3600.0)
    assert got["c07"] == ("not_applicable", None)


def test_export_violations_writes_neutralised_csv(store, tmp_path):
    log = load_hours(
        store,
        tmp_path,
        [
            ("=HYPERLINK(1)", "Receive", 0),
            ("=HYPERLINK(1)", "Pay", 30),
            ("ok", "Receive", 0),
            ("ok", "Pay", 1),
            ("-2", "Receive", 0),
            ("-2", "Cancel", 40),
        ],
    )
    out = tmp_path / "late.csv"
    rule = parse_rule("Receive -> Pay within 1d", name="@late")
    assert export_violations(store, log, rule, out) == 2
    with out.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows == [
        ["rule", "type", "case_id", "seconds"],
        ["'@late", "max-time", "'-2", "144000"],
        ["'@late", "max-time", "'=HYPERLINK(1)", "108000"],
    ]


def test_unknown_activity_names_the_nearest(store, log):
    with pytest.raises(RuleError) as err:
        check_rules(store, log, [parse_rule("Aprove before Pay")])
    assert str(err.value) == "rule 'Aprove before Pay': the log has no activity 'Aprove'"
    assert err.value.hint == "nearest activities in the log: 'Approve'"
    with pytest.raises(RuleError) as err:
        check_rules(store, log, load_rules("- never Zzz", file="r.yaml"))
    assert str(err.value) == "r.yaml, rule 1 ('never Zzz'): the log has no activity 'Zzz'"
    assert err.value.hint == "the log's activities: 'Approve', 'Cancel', 'Check', 'Pay', 'Receive'"


def test_rule_names_must_be_unique(store, log):
    rules = [parse_rule("never Cancel", name="x"), parse_rule("never Pay", name="x")]
    with pytest.raises(
        RuleError,
        match=r"^rule 'never Pay': the name 'x' is already used by rule 1; rule names "
        r"must be unique$",
    ):
        check_rules(store, log, rules)


# -- one-line rules and limits ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("Approve before Pay", Rule("precedence", ("Approve", "Pay"))),
        ("  approve   BEFORE  pay ", Rule("precedence", ("approve", "pay"))),
        ("Approve then Pay", Rule("response", ("Approve", "Pay"))),
        ("four-eyes Approve, Pay", Rule("four-eyes", ("Approve", "Pay"))),
        ("Four eyes Approve,Pay", Rule("four-eyes", ("Approve", "Pay"))),
        ("Receive -> Pay within 2d", Rule("max-time", ("Receive", "Pay"), Duration(days=2))),
        ("Receive→Pay within 90m", Rule("max-time", ("Receive", "Pay"), Duration(seconds=5400, text="90m"))),
        ("never Cancel", Rule("never", ("Cancel",))),
        ("at most once Approve", Rule("at-most-once", ("Approve",))),
        ("not both Reject, Pay", Rule("not-both", ("Reject", "Pay"))),
        ('"Check, then pay" before Pay', Rule("precedence", ("Check, then pay", "Pay"))),
        ("'Send \"final\" notice' then Close", Rule("response", ('Send "final" notice', "Close"))),
        ("Manager's approval before Pay", Rule("precedence", ("Manager's approval", "Pay"))),
        (
            'four-eyes "Approve, 2nd", "Pay before noon"',
            Rule("four-eyes", ("Approve, 2nd", "Pay before noon")),
        ),
    ],
)
def test_parse_rule_forms(text, rule):
    assert parse_rule(text) == rule


def test_default_name_is_the_canonical_text():
    assert parse_rule("  approve   before  pay ").name == "approve before pay"
    assert parse_rule("Receive→Pay within 90m").name == "Receive -> Pay within 90m"
    assert parse_rule('"Check, then pay" before Pay').name == '"Check, then pay" before Pay'
    assert parse_rule("never Cancel", name="No cancellations").name == "No cancellations"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "Approve after Pay",
            "rule 'Approve after Pay': not a rule; expected 'A before B', 'A then B', "
            "'four-eyes A, B', 'A -> B within 2d', 'never A', 'at most once A' or 'not both A, B' (quote activity names "
            "that contain these words)",
        ),
        (
            "Check before approval then Pay",
            "rule 'Check before approval then Pay': 'before', 'then' and '->' may "
            "appear once, outside quotes; put activity names that contain them in quotes",
        ),
        ("Receive -> Pay", "rule 'Receive -> Pay': '->' needs one limit, as in 'Receive -> Pay within 2d'"),
        (
            "Receive -> Pay within 2x",
            "rule 'Receive -> Pay within 2x': limit '2x' is not a duration; expected e.g. 5d, 36h, "
            "1d12h, 90m, 2 days or ISO 8601 P2D, PT4H",
        ),
        (
            "four-eyes Approve",
            "rule 'four-eyes Approve': four-eyes needs two activity names separated by a comma "
            "(quote names that contain a comma)",
        ),
        (
            "Pay before Pay",
            "rule 'Pay before Pay': both activities are 'Pay'; the rule needs two different activities",
        ),
        ('"Approve before Pay', "rule '\"Approve before Pay': a quote (\") is not closed"),
        ('"" before Pay', "rule '\"\" before Pay': an activity name is empty"),
    ],
)
def test_parse_rule_errors(text, message):
    with pytest.raises(RuleError) as err:
        parse_rule(text)
    assert str(err.value) == message


@pytest.mark.parametrize(
    ("text", "weeks", "days", "seconds"),
    [
        ("2d", 0, 2, 0),
        ("4h", 0, 0, 14400),
        ("90m", 0, 0, 5400),
        ("30s", 0, 0, 30),
        ("1w", 1, 0, 0),
        ("1d 12h", 0, 1, 43200),
        ("1.5 hours", 0, 0, 5400),
        ("P2D", 0, 2, 0),
        ("PT4H", 0, 0, 14400),
        ("P1DT12H", 0, 1, 43200),
        ("p1w", 1, 0, 0),
        ("PT1M30S", 0, 0, 90),
    ],
)
def test_parse_limit(text, weeks, days, seconds):
    limit = parse_limit(text)
    assert (limit.weeks, limit.days, limit.seconds, limit.text) == (weeks, days, seconds, text)
    assert limit.total_seconds == (weeks * 7 + days) * 86400 + seconds


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "2x",
            "limit '2x' is not a duration; expected e.g. 5d, 36h, 1d12h, 90m, 2 days or ISO 8601 P2D, PT4H",
        ),
        (
            "2d4",
            "limit '2d4' is not a duration; expected e.g. 5d, 36h, 1d12h, 90m, 2 days or ISO 8601 P2D, PT4H",
        ),
        (
            "2d 3d",
            "limit '2d 3d' is not a duration; expected e.g. 5d, 36h, 1d12h, 90m, 2 days or ISO 8601 P2D, PT4H",
        ),
        (
            "PT",
            "limit 'PT' is not a duration; expected e.g. 5d, 36h, 1d12h, 90m, 2 days or ISO 8601 P2D, PT4H",
        ),
        ("", "limit '' is not a duration; expected e.g. 5d, 36h, 1d12h, 90m, 2 days or ISO 8601 P2D, PT4H"),
        ("P1M", "limit 'P1M' counts years or months, which have no fixed length; use days or weeks"),
        ("0h", "limit '0h' is zero; expected a duration longer than zero"),
    ],
)
def test_parse_limit_errors(text, message):
    with pytest.raises(RuleError) as err:
        parse_limit(text)
    assert str(err.value) == message


names = st.text(st.sampled_from("ab ,'\"→-xy"), min_size=1, max_size=6) | st.sampled_from(
    ["before", "x then y", "never", "at most once", "not both", "four-eyes", "A -> B", " pad "]
)


def _rule(kind, a, b, hours):
    acts = (a,) if kind in ("never", "at-most-once") else (a, b)
    try:
        return Rule(kind, acts, Duration(seconds=hours * 3600) if kind == "max-time" else None)
    except RuleError:  # two equal names are refused
        return None


@settings(max_examples=200, deadline=None)
@given(st.builds(_rule, st.sampled_from(RULE_TYPES), names, names, st.integers(1, 99)))
def test_text_round_trips(rule):
    # A name holding both quote characters cannot be written on one line; everything else can.
    if rule is not None and not ("'" in "".join(rule.activities) and '"' in "".join(rule.activities)):
        assert parse_rule(rule.text) == rule


# -- rule files -------------------------------------------------------------------------------------


def test_rule_file_with_every_type():
    rules = load_rules(RULE_FILES / "all_types.yaml")
    assert [(r.name, r.type, r.activities) for r in rules] == [
        ("Pay only approved invoices", "precedence", ("Approve", "Pay")),
        ("Approve then Pay", "response", ("Approve", "Pay")),
        ("four-eyes Approve, Pay", "four-eyes", ("Approve", "Pay")),
        ("Pay within two days", "max-time", ("Receive", "Pay")),
        ("never Cancel", "never", ("Cancel",)),
        ("at most once Approve", "at-most-once", ("Approve",)),
        ("not both Cancel, Receive", "not-both", ("Cancel", "Receive")),
        ("Receive -> Pay within PT36H", "max-time", ("Receive", "Pay")),
    ]
    assert rules[3].limit == Duration(days=2) and rules[7].limit == Duration(seconds=36 * 3600)
    assert load_rules(RULE_FILES / "wrapped.yaml") == (
        parse_rule("Approve before Pay"),
        parse_rule("four-eyes Approve, Pay"),
    )


def test_rule_file_checked_on_the_log(store, log):
    results = check_rules(store, log, load_rules(RULE_FILES / "all_types.yaml"))
    assert [(r.name, r.activated, r.violations) for r in results] == [
        ("Pay only approved invoices", 13, 6),
        ("Approve then Pay", 10, 3),
        ("four-eyes Approve, Pay", 9, 2),
        ("Pay within two days", 10, 5),
        ("never Cancel", 16, 1),
        ("at most once Approve", 10, 1),
        ("not both Cancel, Receive", 11, 1),
        ("Receive -> Pay within PT36H", 10, 6),  # c16 is late too
    ]


@pytest.mark.parametrize(
    ("file", "message"),
    [
        (
            "unknown_type.yaml",
            "unknown_type.yaml, rule 2 ('approvals'): key 'type': unknown rule type 'precedance'; "
            "expected one of precedence, response, four-eyes, max-time, never, at-most-once, not-both "
            "(did you mean 'precedence'?)",
        ),
        (
            "bad_limit.yaml",
            "bad_limit.yaml, rule 1 ('fast payment'): limit '2x' is not a duration; expected "
            "e.g. 5d, 36h, 1d12h, 90m, 2 days or ISO 8601 P2D, PT4H",
        ),
        (
            "missing_key.yaml",
            "missing_key.yaml, rule 1: missing key 'after'; a precedence rule needs 'before' and 'after'",
        ),
        (
            "unknown_key.yaml",
            "unknown_key.yaml, rule 1: unknown key 'limt' for a max-time rule; expected keys: name, "
            "type, from, to, limit",
        ),
        ("syntax.yaml", "syntax.yaml, line 3: not valid YAML (mapping values are not allowed here)"),
        (
            "tag.yaml",
            "tag.yaml, line 2: the YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is refused; "
            "rule files hold only text, lists and mappings",
        ),
        (
            "duplicate_key.yaml",
            "duplicate_key.yaml, line 3: not valid YAML (the key 'activity' appears twice)",
        ),
        (
            "number_activity.yaml",
            "number_activity.yaml, rule 1: key 'activity': expected an activity name as text, "
            "got the number 8; put it in quotes",
        ),
        (
            "not_a_list.yaml",
            "not_a_list.yaml: expected a list of rules, or a mapping with only the key 'rules'; "
            "found keys 'type', 'activity'",
        ),
        (
            "duplicate_name.yaml",
            "duplicate_name.yaml, rule 2 ('payments'): the name 'payments' is already used by "
            "rule 1; rule names must be unique",
        ),
    ],
)
def test_bad_rule_files(file, message):
    with pytest.raises(RuleError) as err:
        load_rules(RULE_FILES / file, file=file)
    assert str(err.value) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "rules: no rules; expected a list of rules"),
        ("rules: []", "rules: no rules; expected a list of rules"),
        ("just text", "rules: expected a list of rules, got text"),
        (
            "- [Approve, Pay]",
            "rules, rule 1: expected a mapping with 'type' and its activities, or a one-line rule "
            "such as 'Approve before Pay'; got a list",
        ),
        (
            "- Approve after Pay",
            "rules, rule 1 ('Approve after Pay'): not a rule; expected 'A before B', 'A then B', "
            "'four-eyes A, B', 'A -> B within 2d', 'never A', 'at most once A' or 'not both A, B' (quote activity names "
            "that contain these words)",
        ),
        (
            "- {before: A, after: B}",
            "rules, rule 1: missing key 'type'; expected one of precedence, response, "
            "four-eyes, max-time, never, at-most-once, not-both",
        ),
        (
            "- {type: never, activity: yes}",
            "rules, rule 1: key 'activity': expected an activity name as text, got "
            "True (YAML reads yes, no, on and off as true or false); put it in quotes",
        ),
        (
            "- {type: four-eyes, activities: [A]}",
            "rules, rule 1: key 'activities': expected a list of two activity names, got a list of 1",
        ),
        (
            "- {type: not-both, activities: [A, A]}",
            "rules, rule 1: both activities are 'A'; a not-both rule needs two different activities",
        ),
        (
            "- {type: max-time, from: A, to: B, limit: 3600}",
            "rules, rule 1: key 'limit': expected a duration as text, "
            "e.g. 5d, 36h, 1d12h, 90m, 2 days or ISO 8601 P2D, PT4H; got the number 3600",
        ),
        (
            "- {type: max-time, from: A, to: B, limit: P1Y}",
            "rules, rule 1: limit 'P1Y' counts years or months, "
            "which have no fixed length; use days or weeks",
        ),
        (
            "- {name: 7, type: never, activity: A}",
            "rules, rule 1: key 'name': expected text, got the number 7",
        ),
        (
            "- {type: never, activity: A}\n- type: [",
            "rules, line 2: not valid YAML (expected the node content, but found '<stream end>')",
        ),
    ],
)
def test_bad_rule_texts(text, message):
    with pytest.raises(RuleError) as err:
        load_rules(text)
    assert str(err.value) == message


def test_missing_rule_file_and_find_rule(tmp_path):
    with pytest.raises(RuleError, match=r"^nope\.yaml: no such rule file$"):
        load_rules(tmp_path / "nope.yaml", file="nope.yaml")
    rules = load_rules(RULE_FILES / "all_types.yaml")
    assert find_rule(rules, "never Cancel").activities == ("Cancel",)
    with pytest.raises(RuleError) as err:
        find_rule(rules, "Pay within 2 days")
    assert str(err.value).startswith(
        "no rule named 'Pay within 2 days'; rules: 'Pay only approved invoices', "
    )
    assert err.value.hint == "nearest: 'Pay within two days', 'Receive -> Pay within PT36H'"


# -- invariants on generated logs, against a plain-Python reference -----------------------------------------


def reference(rule, trace, end_hour):
    """The outcome of ``rule`` on one case, straight from the definitions.

    ``trace`` is [(activity, hour, resource)] in case order (time, then file row).
    """
    acts = [a for a, _, _ in trace]
    a = rule.activities[0]
    b = rule.activities[1] if len(rule.activities) == 2 else None
    if rule.type == "precedence":
        if b not in acts:
            return "not_applicable"
        ok = all(a in acts[:i] for i, x in enumerate(acts) if x == b)
        return "satisfied" if ok else "violated"
    if rule.type == "response":
        if a not in acts:
            return "not_applicable"
        ok = all(b in acts[i + 1 :] for i, x in enumerate(acts) if x == a)
        return "satisfied" if ok else "violated"
    if rule.type == "four-eyes":
        if a not in acts or b not in acts:
            return "not_applicable"
        by = {x: {r for y, _, r in trace if y == x and r} for x in (a, b)}
        if by[a] & by[b]:
            return "violated"
        return "unknown" if any(r is None for y, _, r in trace if y in (a, b)) else "satisfied"
    if rule.type == "max-time":
        if a not in acts:
            return "not_applicable"
        i = acts.index(a)
        later = [h for x, h, _ in trace[i + 1 :] if x == b]
        limit_h = rule.limit.total_seconds / 3600
        if later:
            return "violated" if later[0] - trace[i][1] > limit_h else "satisfied"
        return "violated" if end_hour - trace[i][1] > limit_h else "pending"
    if rule.type == "never":
        return "violated" if a in acts else "satisfied"
    if rule.type == "at-most-once":
        n = acts.count(a)
        return "not_applicable" if n == 0 else "violated" if n > 1 else "satisfied"
    assert rule.type == "not-both"
    if a not in acts and b not in acts:
        return "not_applicable"
    return "violated" if a in acts and b in acts else "satisfied"


def traces(events):
    out = defaultdict(list)
    for case, act, hour, res in sorted(events, key=lambda e: e[2]):  # stable: ties keep file order
        out[case].append((act, hour, res or None))
    return out


def sql_outcomes(store, log, rule):
    o = outcomes_sql(store, log, rule)
    return dict(
        store.query(
            f"SELECT c.case_id, o.outcome FROM ({o.sql}) o JOIN cases c ON c.log_id = $f_log "
            "AND c.case_no = o.case_no",
            o.params,
        ).rows
    )


_names = itertools.count()


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    """One workspace for every generated log, each under a new name."""
    with Store() as s:
        yield s, tmp_path_factory.mktemp("rules")


GENERATED_RULES = [
    parse_rule(t)
    for t in (
        "A before B",
        "B before A",
        "A then B",
        "B then C",
        "four-eyes A, B",
        "A -> B within 5h",
        "B -> A within 1h",
        "never C",
        "at most once A",
        "not both A, C",
    )
]
# Every rule's activities must exist in the log, so each generated log starts with this case.
EVERY_ACTIVITY = [("c0", "A", 3, "ann"), ("c0", "B", 4, "bob"), ("c0", "C", 5, "")]
gen_events = st.lists(
    st.tuples(
        st.sampled_from(["c1", "c2", "c3", "c4", "c5"]),
        st.sampled_from("ABC"),
        st.integers(0, 24),
        st.sampled_from(["ann", "bob", ""]),
    ),
    min_size=1,
    max_size=30,
)


@pytest.mark.slow
@settings(max_examples=30, deadline=None)
@given(gen_events)
def test_every_rule_matches_the_reference(ws, events):
    store, folder = ws
    events = [*EVERY_ACTIVITY, *events]
    log = load_hours(store, folder, events, name=f"g{next(_names)}")
    end = max(h for _, _, h, _ in events)
    by_case = traces(events)
    results = check_rules(store, log, GENERATED_RULES)
    for rule, r in zip(GENERATED_RULES, results, strict=True):
        expected = {case: reference(rule, t, end) for case, t in by_case.items()}
        assert sql_outcomes(store, log, rule) == expected, rule.name
        assert 0 <= r.violations <= r.activated <= r.cases == len(by_case)
        assert r.activated + r.not_applicable + r.unknown + r.pending == r.cases
        if rule.type == "precedence":
            # Violations plus satisfied cases are exactly the cases containing B.
            with_b = sum(1 for t in by_case.values() if any(a == rule.activities[1] for a, _, _ in t))
            assert r.violations + r.satisfied == with_b
        assert set(r.sample_cases) == {c for c, o in expected.items() if o == "violated"}


@settings(max_examples=12, deadline=None)
@given(gen_events)
def test_response_is_precedence_on_reversed_traces(ws, events):
    store, folder = ws
    events = [*EVERY_ACTIVITY, *events]
    # Each case again as r<case>, its events mirrored in time and in file order (ties reverse too).
    mirrored = [(f"r{c}", a, 24 - h, res) for c, a, h, res in reversed(events)]
    log = load_hours(store, folder, events + mirrored, name=f"m{next(_names)}")
    for x, y in (("A", "B"), ("B", "A"), ("A", "C")):
        forward = sql_outcomes(store, log, parse_rule(f"{x} then {y}"))
        backward = sql_outcomes(store, log, parse_rule(f"{y} before {x}"))
        assert {c: o for c, o in forward.items() if not c.startswith("r")} == {
            c[1:]: o for c, o in backward.items() if c.startswith("r")
        }


# -- real logs ------------------------------------------------------------------------------------------


def store_traces(store, log):
    """Each case's (activity, ts, resource) in stored order, read back as plain rows."""
    out = defaultdict(list)
    for case, act, ts, res in store.query(
        "SELECT case_id, activity, ts, resource FROM events WHERE log_id = ? ORDER BY case_no, ts, row_no",
        [log],
    ).rows:
        out[case].append((act, ts, res))
    return out


def python_outcomes(rule, by_case, end):
    """The reference over datetimes: hours from the log's start stand in for the timestamps."""
    start = min(t for trace in by_case.values() for _, t, _ in trace)
    hours = {
        c: [(a, (t - start).total_seconds() / 3600, r) for a, t, r in trace] for c, trace in by_case.items()
    }
    return {c: reference(rule, trace, (end - start).total_seconds() / 3600) for c, trace in hours.items()}


def test_running_example_facts(store, shared_logs):
    log = ingest_file(store, shared_logs / "running-example.xes", IngestOptions()).log_id
    rules = [
        parse_rule(t)
        for t in (
            "examine thoroughly before decide",
            "check ticket then decide",
            "four-eyes register request, pay compensation",
            "register request -> decide within 7d",
            "at most once decide",
        )
    ]
    results = check_rules(store, log, rules)
    # Read off the book's table: only cases 1 and 4 examine thoroughly before their first decision; case 6 is
    # registered and paid by Mike; case 1 waits 7 days 16 minutes for a decision; cases 3 and 5 decide again.
    assert [(r.activated, r.violations, r.sample_cases) for r in results] == [
        (6, 4, ("2", "3", "5", "6")),
        (6, 0, ()),
        (3, 1, ("6",)),
        (6, 1, ("1",)),
        (6, 2, ("3", "5")),
    ]
    by_case = store_traces(store, log)
    end = max(t for trace in by_case.values() for _, t, _ in trace)
    for rule in rules:
        assert sql_outcomes(store, log, rule) == python_outcomes(rule, by_case, end), rule.name


@pytest.mark.slow
def test_helpdesk_matches_plain_python(store, shared_logs):
    log = ingest_file(store, shared_logs / "helpdesk.xes.gz", IngestOptions()).log_id
    rules = [
        parse_rule(t)
        for t in (
            "Assign seriousness before Take in charge ticket",
            "Take in charge ticket then Resolve ticket",
            "Take in charge ticket -> Resolve ticket within 7d",
            "four-eyes Take in charge ticket, Resolve ticket",
            "at most once Take in charge ticket",
        )
    ]
    results = check_rules(store, log, rules)
    by_case = store_traces(store, log)
    end = max(t for trace in by_case.values() for _, t, _ in trace)
    assert all(r.cases == 4_580 for r in results)
    for rule, r in zip(rules, results, strict=True):
        expected = python_outcomes(rule, by_case, end)
        assert r.violations == sum(o == "violated" for o in expected.values()), rule.name
        assert r.activated == sum(o in ("violated", "satisfied") for o in expected.values()), rule.name
    # The figures the reference confirmed, pinned.
    assert [(r.activated, r.violations) for r in results] == [
        (4_285, 78),
        (4_285, 8),
        (4_285, 1_425),
        (4_278, 3_358),
        (4_285, 623),
    ]


# -- the command line -----------------------------------------------------------------------------------


@pytest.fixture
def workspace(tmp_path):
    path = tmp_path / "ws.duckdb"
    with Store(path) as s:
        load_hours(s, tmp_path, EVENTS, name="invoices")
    return path


def run(workspace, *args):
    return CliRunner().invoke(cli, ["--workspace", str(workspace), "rules", "invoices", *args])


def test_cli_json_contract(workspace):
    res = run(workspace, "--rule", "Approve before Pay", "--rule", "Receive -> Pay within 2d", "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["cases"] == 16 and data["calendar"] is None and data["output"] is None
    assert data["rules"] == [
        {
            "name": "Approve before Pay",
            "type": "precedence",
            "sentence": "'Pay' happened without an earlier 'Approve' in 46.2% of cases where 'Pay' occurred (6 of 13).",
            "activated": 13,
            "violations": 6,
            "rate": 6 / 13,
            "not_applicable": 3,
            "unknown": 0,
            "pending": 0,
            "sample_cases": ["c02", "c07", "c12", "c13", "c14", "c16"],
        },
        {
            "name": "Receive -> Pay within 2d",
            "type": "max-time",
            "sentence": "'Pay' did not follow 'Receive' within 2d in 50.0% of judged cases with 'Receive' (5 of 10). "
            "1 case without 'Pay' is still within the limit at the log's end (pending).",
            "activated": 10,
            "violations": 5,
            "rate": 0.5,
            "not_applicable": 5,
            "unknown": 0,
            "pending": 1,
            "sample_cases": ["c05", "c06", "c10", "c13", "c14"],
        },
    ]


def test_cli_rule_file_cases_csv_and_text(workspace, tmp_path):
    out = tmp_path / "late.csv"
    res = run(
        workspace,
        "--rules",
        str(RULE_FILES / "all_types.yaml"),
        "--cases",
        "Pay within two days",
        "--output",
        str(out),
        "--sample",
        "2",
    )
    assert res.exit_code == 0, res.output
    assert res.output.startswith("invoices: 8 rules over 16 cases\n")
    assert (
        "[four-eyes] four-eyes Approve, Pay\n  The same resource performed 'Approve' and 'Pay'" in res.output
    )
    assert "  violating cases: c02, c07 ...\n" in res.output
    assert res.output.endswith(f"wrote 5 violating cases of 'Pay within two days' to {out}\n")
    with out.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows == [["rule", "type", "case_id", "seconds"]] + [
        ["Pay within two days", "max-time", c, s]
        for c, s in (
            ("c05", "1080000"),
            ("c06", "216000"),
            ("c10", "360000"),
            ("c13", "1076400"),
            ("c14", "180000"),
        )
    ]


def test_cli_business_hours(workspace):
    res = run(workspace, "--rule", "Receive -> Pay within 1d", "--business-hours", "9-17", "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["calendar"] == "Mon-Fri 09:00-17:00 (UTC)"
    # One working day is 8 h: c01-c04 were paid before 09:00 on Monday (0 working seconds); c16's 48 h
    # (Fri 04:00 - Sun 04:00) hold exactly 8, in time; c14's 50 h (Mon 00:00 - Wed 02:00) hold 16.
    assert [(r["activated"], r["violations"], r["sample_cases"]) for r in data["rules"]] == [
        (10, 5, ["c05", "c06", "c10", "c13", "c14"])
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--rule", "Aprove before Pay"),
            "Error: rule 'Aprove before Pay': the log has no activity 'Aprove'\nHint: nearest activities in the log: "
            "'Approve'\n",
        ),
        (
            (),
            "Error: no rules: give --rules FILE.yaml or at least one --rule TEXT\nHint: e.g. mining rules LOG --rule "
            "'Approve before Pay'\n",
        ),
        (
            ("--rule", "never Cancel", "--cases", "never Cancel"),
            "Error: --cases RULE_NAME and --output FILE.csv go together\n",
        ),
        (
            ("--rules", str(RULE_FILES / "bad_limit.yaml")),
            f"Error: {RULE_FILES / 'bad_limit.yaml'}, rule 1 ('fast payment'): limit '2x' is not a duration; "
            "expected e.g. 5d, 36h, 1d12h, 90m, 2 days or ISO 8601 P2D, PT4H\n",
        ),
        (
            ("--rule", "never Cancel", "--cases", "never Pay", "--output", "x.csv"),
            "Error: no rule named 'never Pay'; rules: 'never Cancel'\nHint: nearest: 'never Cancel'\n",
        ),
    ],
)
def test_cli_bad_input_exits_1(workspace, args, message):
    res = run(workspace, *args)
    assert res.exit_code == 1
    assert res.output == message
