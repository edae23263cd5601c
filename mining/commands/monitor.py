"""``mining monitor``: KPIs per period, before/after a change, control charts and alerts for cron.

Everything is computed from the workspace opened read-only; only then, and
only when this exact run (same data, same parameters) is not stored yet, is
the workspace opened for writing to record it (one short insert).  The exit
code tells a scheduler what happened: 0 nothing fired, 3 an alert fired, 1 an
error (a message on stderr).

``--json`` prints the stored form of the run (the same bytes for the same
data and parameters), one object with at least:

* ``periods``: ``[{"start", "end", "partial", "started", "completed", "open",
  "stalled", "wip_end", "cycle_median_s", "cycle_p90_s", "cycle_median_km_s",
  "rework_rate", "sla_breach_rate", "cost_per_case", "pce_median", ...}]``;
* ``comparison``: ``null`` without ``--change-date``, else ``{"change_date",
  "kpis": [{"kpi", "before", "after", "difference", "relative", "ci_low",
  "ci_high", "p_value", "adjusted_difference", ...}], "mix", "warnings", ...}``;
* ``alerts``: ``[{"kpi", "rule", "period", "direction", "assessment",
  "sentence", ...}]``;
* ``key``, ``log``, ``window``, ``kpis`` (what each column means),
  ``completeness``, ``charts``, ``capability``, ``rules``, ``lean``, ``quality``.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mining.commands.common import calendar_from, calendar_options, fail_cleanly, open_reader

if TYPE_CHECKING:
    from mining.monitor.run import MonitorRun

__all__ = ["EXIT_ALERT", "monitor_cmd"]


def _rates(path: str | None, cost_per_hour: float | None) -> Any:
    """The rate card in ``path``, else the one rate for everyone."""
    if path is None:
        return cost_per_hour
    if cost_per_hour is not None:
        raise click.UsageError("give --rates or --cost-per-hour, not both")
    from mining.rates import load_rate_card

    return load_rate_card(path)


#: Exit code when at least one alert fired.
EXIT_ALERT = 3


class _Date(click.ParamType):
    """A calendar date, YYYY-MM-DD."""

    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dt.date:
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a date such as 2025-07-01", param, ctx)


class _Instant(click.ParamType):
    """An ISO 8601 date or date-time; without an offset it stays naive, to be read in the periods' zone."""

    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dt.datetime:
        if isinstance(value, dt.datetime):
            return value
        try:
            return dt.datetime.fromisoformat(str(value))
        except ValueError:
            self.fail(
                f"{value!r} is not an ISO 8601 date such as 2025-01-31 or 2025-01-31T08:00:00+01:00",
                param,
                ctx,
            )


@click.command("monitor")
@click.argument("log")
@click.option(
    "--period",
    type=click.Choice(["day", "week", "month"]),
    default="week",
    show_default=True,
    help="KPIs per local day, ISO week or month.",
)
@click.option(
    "--change-date", type=_Date(), help="Compare the cases started before and from this local date."
)
@click.option("--sla", metavar="DURATION", help="Cycle-time limit, e.g. 5d, 36h, 1d12h or ISO 8601 P5D.")
@click.option(
    "--max-breach-rate",
    type=click.FloatRange(0, 1),
    metavar="X",
    help="Alert when the SLA breach rate of the newest period exceeds this share (needs --sla).",
)
@click.option(
    "--cost-per-hour",
    type=click.FloatRange(min=0),
    metavar="X",
    help="Cost per case = this rate x processing time (lead time without start timestamps).",
)
@click.option(
    "--rates",
    "rates_file",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="A rate card (.yaml or .csv: hourly rates by resource or role, fixed costs by activity) for cost per "
    "case and waste; replaces --cost-per-hour.",
)
@click.option(
    "--end-activity",
    "end_activities",
    multiple=True,
    metavar="ACTIVITY",
    help="An activity that completes a case (repeat it); default: learned from the settled cases.",
)
@click.option(
    "--stratify",
    default="variant",
    show_default=True,
    metavar="variant|ATTRIBUTE",
    help="Case-mix strata of the before/after: variants, or a case attribute's values.",
)
@click.option(
    "--rules",
    "rules_file",
    type=click.Path(dir_okay=False, exists=True),
    metavar="FILE",
    help="A YAML rule file: each rule's violation rate becomes a KPI.",
)
@click.option(
    "--model",
    "model_file",
    type=click.Path(dir_okay=False, exists=True),
    metavar="FILE",
    help="A documented model (.bpmn/.pnml/.yaml/.txt): fitness and the share of deviating cases become KPIs.",
)
@calendar_options(
    hours_help="Also report business cycle times, Mon-Fri, e.g. 9-17 or 8:30-17:15.",
    timezone_help="IANA zone of the periods and the change date (default: the log's).",
)
@click.option(
    "--since",
    type=_Instant(),
    help="Keep the cases that started from this date (in the periods' zone if no offset).",
)
@click.option(
    "--until",
    type=_Instant(),
    help="Keep the cases that started before this date (in the periods' zone if no offset).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the bootstrap intervals.")
@click.option(
    "--resamples",
    type=click.IntRange(min=100),
    default=1000,
    show_default=True,
    help="Bootstrap resamples per KPI.",
)
@click.option("--no-lean", is_flag=True, help="Leave out the Lean view (waste in hours and money).")
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False),
    metavar="FILE.html",
    help="Write a self-contained HTML report.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the run as one JSON object.")
@click.pass_context
@fail_cleanly
def monitor_cmd(
    ctx: click.Context,
    log: str,
    period: str,
    change_date: dt.date | None,
    sla: str | None,
    max_breach_rate: float | None,
    cost_per_hour: float | None,
    rates_file: str | None,
    end_activities: tuple[str, ...],
    stratify: str,
    rules_file: str | None,
    model_file: str | None,
    business_hours: str | None,
    country: str | None,
    subdivision: str | None,
    timezone: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    seed: int,
    resamples: int,
    no_lean: bool,
    report_path: str | None,
    as_json: bool,
) -> None:
    """KPIs per period of LOG, before/after --change-date, control charts and alerts (exit 3 on an alert)."""
    from zoneinfo import ZoneInfo

    from mining.analysis.calendar import clock
    from mining.analysis.filters import Filter
    from mining.catalog import log_id
    from mining.durations import parse_duration
    from mining.errors import MonitorError
    from mining.monitor.run import MonitorOptions, monitor, run_json, save_run

    root = ctx.find_root().obj
    if root["engine"] != "duckdb":
        msg = "mining monitor runs on the workspace only; drop --engine spark"
        raise MonitorError(msg)
    calendar = calendar_from(business_hours, country, subdivision, timezone)
    options = MonitorOptions(
        period=period,
        change_date=change_date,
        sla_seconds=parse_duration(sla, what="--sla", error=MonitorError).total_seconds if sla else None,
        max_breach_rate=max_breach_rate,
        cost_per_hour=_rates(rates_file, cost_per_hour),
        end_activities=end_activities,
        stratify=stratify,
        calendar=calendar,
        timezone=timezone,
        resamples=resamples,
        seed=seed,
        lean=not no_lean,
    )
    rules: tuple[Any, ...] = ()
    if rules_file:
        from mining.conformance.rules import load_rules

        rules = load_rules(Path(rules_file))
    with open_reader(ctx) as store:
        lid = log_id(store, log)
        flt = None
        if since or until:
            # A date without an offset means local midnight where the periods are counted.
            zone = ZoneInfo(clock(store, lid, calendar, timezone=timezone).timezone)
            since, until = (t if t is None or t.tzinfo else t.replace(tzinfo=zone) for t in (since, until))
            flt = Filter(start=since, end=until, window="started")
        measures = None
        if model_file:
            from mining.models import load_model
            from mining.monitor.run import conformance_measures

            measures = conformance_measures(store, lid, load_model(Path(model_file)), flt)
        run = monitor(store, lid, flt, options, measures=measures, rules=rules)
        known = _stored(store, run.key)
    text = run_json(run)
    if not known:
        from mining.store import writing

        with writing(root["workspace"]) as store:
            save_run(store, run, text=text)
    if report_path:
        from mining.monitor.html import write_report

        write_report(run, report_path)
    if as_json:
        click.echo(text)
    else:
        click.echo(_text(run, report_path, stored=not known))
    if run.alerts:
        sys.exit(EXIT_ALERT)


def _stored(store: Any, key: str) -> bool:
    # A workspace from before the monitor migration has no table yet: nothing is stored.
    has_table = store.scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'monitor_runs'"
    )
    return bool(has_table) and bool(
        store.scalar("SELECT count(*) FROM monitor_runs WHERE run_key = ?", [key])
    )


def _text(run: MonitorRun, report_path: str | None, *, stored: bool) -> str:
    from mining.monitor.run import format_value, period_label

    s = run.series
    c = s.completeness
    lines = [
        f"{run.log}: {s.cases:,} cases ({c.complete:,} complete, {c.open:,} open, {c.stalled:,} stalled), "
        f"{len(s.periods)} {s.period}s in {s.timezone}",
        f"  end activities: {', '.join(c.end_activities) or 'none'}",
    ]
    shown = [
        k
        for k in s.kpis
        if k.name in {"started", "completed", "wip_end", "cycle_median_s", "rework_rate", "sla_breach_rate"}
    ]
    lines.append("")
    lines.append(f"{'period':<22}" + "".join(f"{_short(k.name):>12}" for k in shown))
    for p in s.periods[-8:]:
        label = period_label(p.start, s.period) + (" *" if p.partial else "")
        lines.append(f"{label:<22}" + "".join(f"{format_value(p.value(k.name), k.unit):>12}" for k in shown))
    if any(p.partial for p in s.periods[-8:]):
        lines.append("  * the data cover the period only partly")
    cmp = run.comparison
    if cmp is not None:
        lines += [
            "",
            f"before / after {cmp.change_date.isoformat()} ({cmp.before_cases:,} / {cmp.after_cases:,} "
            "cases):",
        ]
        for k in cmp.kpis:
            rel = "" if k.relative is None else f" ({k.relative:+.1%})"
            p = "-" if k.p_value is None else f"{k.p_value:.2g}"
            lines.append(
                f"  {k.label}: {format_value(k.before, k.unit)} -> {format_value(k.after, k.unit)}"
                f"{rel}, p = {p}"
            )
        lines += [f"  note: {w}" for w in cmp.warnings]
    lines.append("")
    if run.alerts:
        lines.append(f"{len(run.alerts)} alert(s):")
        lines += [f"  {a.sentence}" for a in run.alerts]
    else:
        lines.append("no alert")
    lines.append(f"run {run.key[:12]} " + ("stored" if stored else "was already stored"))
    if report_path:
        lines.append(f"wrote {report_path}")
    return "\n".join(lines)


def _short(name: str) -> str:
    return {
        "started": "started",
        "completed": "completed",
        "wip_end": "WIP",
        "cycle_median_s": "median CT",
        "rework_rate": "rework",
        "sla_breach_rate": "SLA breach",
    }[name]
