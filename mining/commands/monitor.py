"""``mining monitor``: KPIs per period, before/after a change, control charts and alerts for cron.

Everything is computed from the workspace opened read-only; only then, and
only when this exact run (same data, same parameters) is not stored yet, is
the workspace opened for writing to record it (one short insert).  With
``--email-to`` the manager's summary is e-mailed, the report attached, when
the run is new to those recipients (:mod:`mining.monitor.digest`); the send
happens before anything is recorded, so a failed send (exit 1) is retried by
the next run, and a run over unchanged data sends nothing.  The exit
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
  "sentence", "trend", ...}]`` (``trend`` is ``null`` unless the period only
  continues a steady drift of its baseline);
* ``key``, ``log``, ``window``, ``kpis`` (what each column means),
  ``completeness``, ``charts``, ``capability``, ``rules``, ``lean``, ``quality``.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mining.commands.common import (
    calendar_from,
    calendar_options,
    fail_cleanly,
    limit_options,
    limits_from,
    model_labels_hint,
    open_reader,
)

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
    default="auto",
    show_default=True,
    metavar="auto|variant|ATTRIBUTE",
    help="Case-mix strata of the before/after: a case attribute's values, or variants; "
    "auto picks a case attribute when the log has one.",
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
@limit_options
@click.option(
    "--email-to",
    "email_to",
    multiple=True,
    metavar="ADDR",
    help="E-mail the summary (report attached) to ADDR when the run is new to it; repeat for more.",
)
@click.option(
    "--email-from", metavar="ADDR", help="Sender of the digest (default: mining-monitor@this host)."
)
@click.option(
    "--smtp",
    "smtp_server",
    default="localhost:25",
    show_default=True,
    metavar="HOST:PORT",
    help="The SMTP server that sends the digest.",
)
@click.option(
    "--smtp-user", metavar="USER", help="Log in to the SMTP server as USER (needs --smtp-password-env)."
)
@click.option(
    "--smtp-password-env",
    metavar="VAR",
    help="The environment variable that holds the SMTP password (never on the command line).",
)
@click.option(
    "--starttls", is_flag=True, help="Switch the SMTP connection to TLS (STARTTLS) before logging in."
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
    memory_limit: str | None,
    time_limit: str | None,
    email_to: tuple[str, ...],
    email_from: str | None,
    smtp_server: str,
    smtp_user: str | None,
    smtp_password_env: str | None,
    starttls: bool,
    as_json: bool,
) -> None:
    """KPIs per period of LOG, before/after --change-date, control charts and alerts (exit 3 on an alert)."""
    from mining.durations import parse_duration
    from mining.errors import MonitorError
    from mining.jobs import MONITOR_MODULES, monitor_command, monitor_task
    from mining.limits import run
    from mining.monitor.run import MonitorOptions
    from mining.outputs import check_output

    root = ctx.find_root().obj
    if root["engine"] != "duckdb":
        msg = "mining monitor runs on the workspace only; drop --engine spark"
        raise MonitorError(msg)
    if report_path:
        check_output(report_path, "report")
    calendar = calendar_from(business_hours, country, subdivision, timezone)
    options = MonitorOptions(
        period=period,
        change_date=change_date,
        sla_seconds=parse_duration(sla, what="--sla", error=MonitorError).total_seconds if sla else None,
        max_breach_rate=max_breach_rate,
        cost_per_hour=_rates(rates_file, cost_per_hour),
        end_activities=end_activities,
        stratify=None if stratify == "auto" else stratify,
        calendar=calendar,
        timezone=timezone,
        resamples=resamples,
        seed=seed,
        lean=not no_lean,
    )
    server, recipients, sender = _mail_options(
        email_to, email_from, smtp_server, smtp_user, smtp_password_env, starttls
    )
    rules: tuple[Any, ...] = ()
    if rules_file:  # read here first: a mistake in it is reported before any work
        from mining.conformance.rules import load_rules

        rules = load_rules(Path(rules_file))
    from mining.analysis.filters import check_window

    check_window(since, until)
    # The run, the model file and storing the run happen in a child under the limits.
    with model_labels_hint():
        done = run(
            monitor_command,
            root["workspace"],
            log,
            options,
            since=since,
            until=until,
            rules=rules,
            model_file=model_file,
            save=not recipients,
            task=monitor_task(log),
            limits=limits_from(memory_limit, time_limit),
            preload=MONITOR_MODULES,
            reuse="cli",
        )
    monitored, text, known = done.run, done.text, done.known
    sent = None
    if recipients:
        from mining.monitor.digest import already_sent

        with open_reader(ctx) as store:
            mailed = already_sent(store, monitored.key, recipients)
        if not mailed:
            from mining.monitor.digest import digest_message, send

            # Sent before anything is recorded: a failed send stores nothing, so the next run tries again.
            send(digest_message(monitored, sender=sender, recipients=recipients), server)
            sent = dt.datetime.now(dt.UTC)
        new_run = not known and done.unstored is None
        if new_run or (sent is not None and done.unstored is None):
            from mining.monitor.digest import record_sent
            from mining.monitor.run import save_run
            from mining.store import writing

            # One write: the run and its digest land together, or neither.
            with writing(root["workspace"]) as store:
                if new_run:
                    save_run(store, monitored, text=text)
                if sent is not None:
                    record_sent(store, monitored.key, recipients, sent)
    if report_path:
        from mining.monitor.html import write_report

        write_report(monitored, report_path)
    if as_json:
        click.echo(text)
        if done.unstored:
            click.echo(f"Note: the run was not stored: {done.unstored}", err=True)
    else:
        click.echo(
            _text(
                monitored,
                report_path,
                stored=not known,
                mailed=None if not recipients else sent is not None,
                unstored=done.unstored,
            )
        )
    if monitored.alerts:
        sys.exit(EXIT_ALERT)


def _mail_options(
    email_to: tuple[str, ...],
    email_from: str | None,
    smtp_server: str,
    smtp_user: str | None,
    smtp_password_env: str | None,
    starttls: bool,
) -> tuple[Any, list[str], str]:
    """The SMTP server, the recipients and the sender, checked before any work is done."""
    import os
    import socket

    from mining.errors import DigestError, Option, phrase
    from mining.monitor.digest import SmtpServer, parse_address, parse_smtp

    recipients = [
        parse_address(part, Option("email_to", "ADDR"))
        for item in email_to
        for part in item.split(",")
        if part.strip()
    ]
    mail_only = {
        "email_from": email_from,
        "smtp_user": smtp_user,
        "smtp_password_env": smtp_password_env,
        "starttls": starttls or None,
    }
    given = [name for name, value in mail_only.items() if value is not None]
    if not recipients:
        if given:
            msg = phrase(
                f"--{given[0].replace('_', '-')} is for the digest e-mail; add ", Option("email_to", "ADDR")
            )
            raise DigestError(msg)
        return None, [], ""
    if (smtp_user is None) != (smtp_password_env is None):
        msg = phrase(
            "an SMTP login needs both ",
            Option("smtp_user", "USER"),
            " and ",
            Option("smtp_password_env", "VAR"),
        )
        raise DigestError(msg)
    password = None
    if smtp_password_env is not None:
        password = os.environ.get(smtp_password_env)
        if password is None:
            msg = f"the environment variable {smtp_password_env} (from --smtp-password-env) is not set"
            raise DigestError(msg, hint=f"export {smtp_password_env}=... in the job that runs mining monitor")
    host, port = parse_smtp(smtp_server)
    sender = parse_address(
        email_from or f"mining-monitor@{socket.getfqdn() or 'localhost'}", Option("email_from", "ADDR")
    )
    return SmtpServer(host, port, smtp_user, password, starttls), recipients, sender


def _text(
    run: MonitorRun,
    report_path: str | None,
    *,
    stored: bool,
    mailed: bool | None = None,
    unstored: str | None = None,
) -> str:
    from mining.monitor.run import format_value, period_label, why_not_judged
    from mining.monitor.summary import manager_summary
    from mining.monitor.words import difference_words, p_words

    s = run.series
    c = s.completeness
    lines = [
        f"{run.log}: {s.cases:,} cases ({c.complete:,} complete, {c.open:,} open, {c.stalled:,} stalled), "
        f"{len(s.periods)} {s.period}s in {s.timezone}",
        f"  end activities: {', '.join(c.end_activities) or 'none'}",
        "",
        *(f"  {sentence}" for sentence in manager_summary(run).sentences),
    ]
    shown = [
        k
        for k in s.kpis
        if k.name in {"started", "completed", "wip_end", "cycle_median_s", "rework_rate", "sla_breach_rate"}
    ]
    lines.append("")
    lines.append(f"{'period':<22}" + "".join(f"{_short(k.name):>12}" for k in shown))
    for p in s.periods[-8:]:
        mark = " *" if p.cut else " ~" if why_not_judged(p) else ""
        label = period_label(p.start, s.period) + mark
        lines.append(f"{label:<22}" + "".join(f"{format_value(p.value(k.name), k.unit):>12}" for k in shown))
    if any(p.cut for p in s.periods[-8:]):
        lines.append(
            "  * not judged: the export cuts the period (partial, or only the tails of earlier cases)"
        )
    if any(why_not_judged(p) and not p.cut for p in s.periods[-8:]):
        lines.append(
            "  ~ durations, rates and costs not judged yet: too many of its cases are still open, or would "
            "usually still be running at the data end"
        )
    cmp = run.comparison
    if cmp is not None:
        lines += [
            "",
            f"before / after {cmp.change_date.isoformat()} ({cmp.before_cases:,} / {cmp.after_cases:,} "
            "cases):",
        ]
        for k in cmp.kpis:
            rel = "" if k.relative is None else f", {k.relative:+.1%} relative"
            p = p_words(k.p_value, cmp.resamples)
            lines.append(
                f"  {k.label}: {format_value(k.before, k.unit)} -> {format_value(k.after, k.unit)} "
                f"({difference_words(k.difference, k.unit)}{rel}), p {p if p.startswith('<') else '= ' + p}"
            )
        lines += [f"  note: {w}" for w in cmp.warnings]
    lines.append("")
    if run.alerts:
        lines.append(f"{len(run.alerts)} alert(s):")
        lines += [f"  {a.sentence}" for a in run.alerts]
    else:
        lines.append("no alert")
    if unstored:
        lines.append(f"run {run.key[:12]} not stored: {unstored}")
    else:
        lines.append(f"run {run.key[:12]} " + ("stored" if stored else "was already stored"))
    if mailed is not None:
        lines.append("digest e-mailed" if mailed else "digest already sent for this run: nothing e-mailed")
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
