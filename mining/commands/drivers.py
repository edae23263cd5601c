"""``mining drivers`` and ``mining compare``: why cases go worse, and how segments compare.

The workspace is opened read-only.  ``drivers --json`` prints one object
whose keys are a contract for scripts:

* ``outcome``: ``{"kind", "definition", "cases", "baseline", "unit", "judged"}``;
* ``drivers``: ranked by impact, unconfounded first, each ``{"attribute",
  "value", "cases", "share", "outcome_value", "rest_value", "effect", "ci":
  [lo, hi], "adjusted_effect", "confounded_by": [...], "impact", "sentence",
  "kind", "p_value", "q_value", "simpson", "simpson_by", "impact_cost", ...}``;
  durations are seconds, rates are shares;
* ``excluded``: ``[{"attribute", "reason", "value"}]`` (leakage, the outcome
  itself, unstable values);
* ``notes``: how the figures were computed, in sentences.

``compare --json`` prints ``{"by", "segments": [{"value", "cases", "open",
"kpis": {KPI: value}, "intervals": {KPI: [lo, hi]}, "vs_rest": {KPI:
{"rest", "difference", "ci": [lo, hi], "adjusted_difference"}}}], "kpis",
"mix_by", "cases", "weeks", "currency", "note"}``; durations in seconds,
rates as shares, money in the rate card's currency.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mining.commands.common import emit_json, fail_cleanly, model_labels_hint, open_reader
from mining.commands.explore import build_filter, filter_options

if TYPE_CHECKING:
    from mining.drivers.find import DriverReport

__all__ = ["compare_cmd", "drivers_cmd", "drivers_json"]

_KPIS = (
    "cycle_median_s",
    "cycle_p90_s",
    "throughput_per_week",
    "rework_rate",
    "sla_breach_rate",
    "cost_per_case",
)


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
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Drivers printed (--json lists them all).",
)
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
    with open_reader(ctx) as store, model_labels_hint():
        lid = log_id(store, log)
        mapping = None
        if spec.model is not None:
            from mining.conformance.saved import model_sha256, saved_mapping

            # The label mapping confirmed in the app for this log and model, as monitor --model uses it.
            mapping = saved_mapping(store, lid, model_sha256(Path(spec.model).read_bytes()))
        report = find_drivers(
            store, lid, spec, flt, model=model, mapping=mapping, rates=card, alpha=fdr, min_cases=min_cases
        )
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
        click.echo(f"{i}. {d.label}{flag}")
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


@click.command("compare")
@click.argument("log")
@click.option(
    "--by",
    required=True,
    metavar="ATTRIBUTE",
    help="The attribute whose values are the segments (a case attribute such as team or channel, or a derived "
    "one such as 'start weekday' or 'Approve handled by').",
)
@click.option(
    "--kpi",
    "kpis",
    multiple=True,
    type=click.Choice(_KPIS),
    help="KPIs to report (repeat; default all that apply).",
)
@click.option("--sla", metavar="DURATION", help="Cycle-time limit for the SLA breach rate, e.g. 5d or 36h.")
@click.option(
    "--rates",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="A rate card (.yaml or .csv) for the cost per case.",
)
@click.option(
    "--mix",
    default="variant",
    show_default=True,
    metavar="variant|ATTRIBUTE",
    help="The strata of the case-mix adjusted differences: variants or an attribute's values.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the bootstrap intervals.")
@filter_options
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as one JSON object.")
@click.pass_context
@fail_cleanly
def compare_cmd(
    ctx: click.Context,
    log: str,
    by: str,
    kpis: tuple[str, ...],
    sla: str | None,
    rates: Path | None,
    mix: str,
    seed: int,
    as_json: bool,
    **kw: Any,
) -> None:
    """Compare the segments of LOG by an ATTRIBUTE: KPIs with intervals and case-mix adjusted differences."""
    from mining.catalog import log_id
    from mining.drivers.segments import compare_segments, segments_json
    from mining.durations import parse_duration
    from mining.errors import AnalysisError
    from mining.rates import load_rate_card

    sla_seconds = parse_duration(sla, what="SLA", error=AnalysisError).total_seconds if sla else None
    wanted = set(kpis)
    if "sla_breach_rate" in wanted and sla_seconds is None:
        raise click.UsageError("--kpi sla_breach_rate needs --sla")
    if "cost_per_case" in wanted and rates is None:
        raise click.UsageError("--kpi cost_per_case needs --rates")
    card = load_rate_card(rates) if rates is not None else None
    flt = build_filter(kw)
    with open_reader(ctx) as store:
        lid = log_id(store, log)
        result = compare_segments(
            store, lid, by, flt, sla_seconds=sla_seconds, rates=card, mix_by=mix, seed=seed
        )
    data = segments_json(result)
    if wanted:
        data["kpis"] = [k for k in data["kpis"] if k in wanted]
        for seg in data["segments"]:
            for part in ("kpis", "intervals", "vs_rest"):
                seg[part] = {k: v for k, v in seg[part].items() if k in wanted}
    if as_json:
        emit_json(data)
        return
    _print_segments(data)


def _print_segments(data: dict[str, Any]) -> None:
    from mining.drivers.segments import KPI_LABELS
    from mining.durations import duration_words
    from mining.rates import format_money

    def show(kpi: str, v: float | None, *, signed: bool = False) -> str:
        if v is None:
            return "-"
        unit = KPI_LABELS[kpi][1]
        sign = ("+" if v >= 0 else "-") if signed else ""
        if unit == "seconds":
            return sign + duration_words(abs(v))
        if unit == "share":
            return f"{v * 100:+.1f} pp" if signed else f"{v:.1%}"
        if unit == "money":
            return sign + format_money(abs(v), data["currency"])
        return f"{v:+,.1f}" if signed else f"{v:,.1f}"

    click.echo(f"{data['cases']:,} cases by {data['by']}:")
    for seg in data["segments"]:
        click.echo("")
        click.echo(f"{seg['value']}: {seg['cases']:,} cases ({seg['open']:,} not complete)")
        for kpi in data["kpis"]:
            lo, hi = seg["intervals"].get(kpi, [None, None])
            vs = seg["vs_rest"][kpi]
            adjusted = vs["adjusted_difference"]
            click.echo(
                f"  {KPI_LABELS[kpi][0]}: {show(kpi, seg['kpis'][kpi])} (95% CI {show(kpi, lo)} to {show(kpi, hi)}); "
                f"vs the rest {show(kpi, vs['difference'], signed=True)}"
                + (f", mix-adjusted {show(kpi, adjusted, signed=True)}" if adjusted is not None else "")
            )
    click.echo("")
    click.echo(f"Note: {data['note']}")
