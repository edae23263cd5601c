"""``mining rules``: check declarative rules (precedence, response, four-eyes, max-time, ...) on a log.

Rules come from a YAML file (``--rules``), one-line texts (``--rule``,
repeatable), or both; see :mod:`mining.conformance.rules` for the forms.  The
workspace is opened read-only.  Violations are findings, not errors: the
command exits 0 when the check ran and 1 on bad input (unreadable rule file,
unknown activity, unknown log).

``--json`` prints one object whose keys are a contract for scripts::

    {"log", "calendar", "cases",
     "rules": [{"name", "type", "sentence", "activated", "violations", "rate",
                "not_applicable", "unknown", "pending", "sample_cases"}],
     "output"}

``output`` is set when ``--cases RULE --output FILE.csv`` wrote the violating
cases of one rule (columns ``rule, type, case_id, seconds``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from mining.commands.common import calendar_from, calendar_options, emit_json, fail_cleanly, open_reader

if TYPE_CHECKING:
    from mining.conformance.rules import RuleResult

__all__ = ["rules_cmd"]


@click.command("rules")
@click.argument("log")
@click.option(
    "--rules",
    "rules_file",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="YAML file with a list of rules.",
)
@click.option(
    "--rule",
    "rule_texts",
    multiple=True,
    metavar="TEXT",
    help="One rule as text (repeatable): 'A before B', 'A then B', 'four-eyes A, B', "
    "'A -> B within 2d', 'never A', 'at most once A', 'not both A, B'.",
)
@click.option(
    "--cases",
    "cases_rule",
    metavar="RULE_NAME",
    help="Write every violating case of this rule (its name, or its text) to --output.",
)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False), metavar="FILE.csv", help="CSV file for --cases."
)
@click.option(
    "--sample",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="Violating case ids listed per rule.",
)
@calendar_options(
    hours_help="Max-time rules count working time only, Mon-Fri, e.g. 9-17; '2d' is two working days.",
    timezone_help="IANA zone of the working hours (default: the log's).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the results as one JSON object.")
@click.pass_context
@fail_cleanly
def rules_cmd(
    ctx: click.Context,
    log: str,
    rules_file: str | None,
    rule_texts: tuple[str, ...],
    cases_rule: str | None,
    output: str | None,
    sample: int,
    business_hours: str | None,
    country: str | None,
    subdivision: str | None,
    timezone: str | None,
    as_json: bool,
) -> None:
    """Check declarative rules on LOG and report each rule's violation rate and cases."""
    from pathlib import Path

    from mining.catalog import log_id
    from mining.conformance.rules import check_rules, export_violations, find_rule, load_rules, parse_rule
    from mining.errors import RuleError

    if not rules_file and not rule_texts:
        msg = "no rules: give --rules FILE.yaml or at least one --rule TEXT"
        raise RuleError(msg, hint="e.g. mining rules LOG --rule 'Approve before Pay'")
    if bool(cases_rule) != bool(output):
        msg = "--cases RULE_NAME and --output FILE.csv go together"
        raise RuleError(msg)
    if ctx.find_root().obj["engine"] != "duckdb":
        msg = "mining rules runs on the workspace only; leave out --engine spark"
        raise RuleError(msg)
    if output:
        from mining.outputs import check_output

        check_output(output, "output")
    rules = list(load_rules(Path(rules_file))) if rules_file else []
    rules += [parse_rule(text) for text in rule_texts]
    calendar = calendar_from(business_hours, country, subdivision, timezone)
    written = None
    with open_reader(ctx) as store:
        lid = log_id(store, log)
        results = check_rules(store, lid, rules, calendar=calendar, sample=sample)
        if cases_rule and output:
            written = export_violations(store, lid, find_rule(rules, cases_rule), output, calendar=calendar)
    cases = results[0].cases if results else 0
    label = next((r.calendar for r in results if r.calendar), None)
    if as_json:
        emit_json(_json(log, label, cases, results, output if written is not None else None))
        return
    click.echo(
        f"{log}: {len(results)} rule{'s' if len(results) != 1 else ''} over {cases:,} cases"
        + (f"; max-time in business time, {label}" if label else "")
    )
    for r in results:
        click.echo(f"\n[{r.type}] {r.name}\n  {r.sentence}")
        if r.sample_cases:
            more = " ..." if r.violations > len(r.sample_cases) else ""
            click.echo(f"  violating cases: {', '.join(r.sample_cases)}{more}")
    if written is not None:
        click.echo(f"\nwrote {written:,} violating cases of {cases_rule!r} to {output}")


def _json(
    log: str, label: str | None, cases: int, results: tuple[RuleResult, ...], output: str | None
) -> dict[str, Any]:
    return {
        "log": log,
        "calendar": label,
        "cases": cases,
        "rules": [
            {
                "name": r.name,
                "type": r.type,
                "sentence": r.sentence,
                "activated": r.activated,
                "violations": r.violations,
                "rate": r.rate,
                "not_applicable": r.not_applicable,
                "unknown": r.unknown,
                "pending": r.pending,
                "sample_cases": list(r.sample_cases),
            }
            for r in results
        ],
        "output": output,
    }
