"""``mining drivers``: which kinds of cases are slow, breach the SLA, loop or deviate, and what it costs.

The workspace is opened read-only.  ``--json`` prints one object whose keys
are a contract for scripts:

* ``outcome``: ``{"kind", "definition", "cases", "baseline", "unit", "judged"}``;
* ``drivers``: ranked by impact, unconfounded first, each ``{"attribute",
  "value", "cases", "share", "outcome_value", "rest_value", "effect", "ci":
  [lo, hi], "adjusted_effect", "confounded_by": [...], "impact", "sentence",
  "kind", "p_value", "q_value", "simpson", "simpson_by", "impact_cost", ...}``;
  durations are seconds, rates are shares;
* ``excluded``: ``[{"attribute", "reason", "value"}]`` (leakage, the outcome
  itself, unstable values);
* ``notes``: how the figures were computed, in sentences.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mining.commands.common import emit_json, fail_cleanly, open_reader
from mining.commands.explore import build_filter, filter_options

if TYPE_CHECKING:
    from mining.drivers.find import DriverReport

__all__ = ["drivers_cmd", "drivers_json"]


@click.command("drivers")
@click.argument("log")
@click.option(
    "--outcome",
    required=True,
    metavar="duration|sla:DURATION|rework|deviation[:MODEL]",
    help="What to explain: cycle time, an SLA breach (sla:5d), rework, or deviation from the common paths "
    "or from a model file (deviation:order.bpmn).",
)
@filter_options
@click.option(
    "--rates",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="A rate card (.yaml or .csv): hourly rates by resource or role, fixed costs by activity; prices the "
    "drivers' impact.",
)
@click.option(
    "--fdr",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.05,
    show_default=True,
    help="False-discovery rate held over every attribute value tested.",
)
@click.option(
    "--min-cases",
    type=click.IntRange(min=1),
    default=30,
    show_default=True,
    help="Cases a value needs to be tested (and at least 1% of the cases).",
)
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True, help="Drivers shown.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@click.pass_context
@fail_cleanly
def drivers_cmd(
    ctx: click.Context,
    log: str,
    outcome: str,
    rates: Path | None,
    fdr: float,
    min_cases: int,
    top: int,
    as_json: bool,
    **kw: Any,
) -> None:
    """Root-cause drivers of LOG's OUTCOME: attribute values associated with worse cases, ranked by impact."""
    from mining.catalog import log_id
    from mining.drivers.find import find_drivers, parse_outcome
    from mining.rates import load_rate_card

    spec = parse_outcome(outcome)
    flt = build_filter(kw)
    card = load_rate_card(rates) if rates is not None else None
    model = None
    if spec.model is not None:
        from mining.models import load_model

        model = load_model(spec.model)
    with open_reader(ctx) as store:
        lid = log_id(store, log)
        report = find_drivers(store, lid, spec, flt, model=model, rates=card, alpha=fdr, min_cases=min_cases)
    if as_json:
        emit_json(drivers_json(report))
        return
    _print(report, top)


def drivers_json(report: DriverReport) -> dict[str, Any]:
    """The report as the ``--json`` contract (see the module docstring)."""
    from mining.schema import to_jsonable

    drivers = []
    for d in report.drivers:
        row = to_jsonable(d)
        row["ci"] = list(d.ci)
        row["confounded_by"] = list(d.confounded_by)
        drivers.append(row)
    return {
        "outcome": to_jsonable(report.outcome),
        "drivers": drivers,
        "excluded": [to_jsonable(e) for e in report.excluded],
        "notes": list(report.notes),
        "tested": report.tested,
        "candidates": report.candidates,
        "currency": report.currency,
    }


def _print(report: DriverReport, top: int) -> None:
    from mining.durations import duration_words

    o = report.outcome
    base = (
        "unknown"
        if o.baseline is None
        else (f"median {duration_words(o.baseline)}" if o.unit == "seconds" else f"rate {o.baseline:.1%}")
    )
    click.echo(f"Outcome: {o.definition}.")
    click.echo(f"{o.cases:,} cases, {o.judged:,} judged; overall {base}.")
    click.echo("")
    if not report.drivers:
        click.echo("No driver found.")
    for i, d in enumerate(report.drivers[:top], start=1):
        flag = " [confounded]" if d.confounded_by else ""
        flag += " [Simpson's paradox]" if d.simpson else ""
        click.echo(f"{i}. {d.attribute} = {d.value}{flag}")
        click.echo(f"   {d.sentence}")
    if len(report.drivers) > top:
        click.echo(f"... and {len(report.drivers) - top} more (--top, or --json for all).")
    if report.excluded:
        click.echo("")
        click.echo("Excluded:")
        for e in report.excluded:
            what = e.attribute if e.value is None else f"{e.attribute} = {e.value}"
            click.echo(f"  - {what}: {e.reason}")
    click.echo("")
    for note in report.notes:
        click.echo(f"Note: {note}")
