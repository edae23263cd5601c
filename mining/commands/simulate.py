"""``mining simulate``: calibrate a simulation from LOG, validate it on the log's own period, run scenarios.

The workspace is opened read-only.  ``--json`` prints one object whose keys
are a contract for scripts: ``baseline`` (``cases``, ``cycle_mean_seconds``,
``cycle_median_seconds``, ``cycle_p90_seconds``, ``wait_mean_seconds``,
``delay_mean_seconds``, ``throughput_per_day``, ``utilisation`` per pool,
``cost_per_case`` with ``--rates``, ``ci``), ``validation`` (``cycle_time_emd_seconds``, ``wait_error``,
``arrival_error``, ``trusted``, ...) and ``scenarios`` (each with ``name``,
the same keys, ``delta`` and ``ci``).  The same seed gives the same numbers.
"""

from __future__ import annotations

import click

from mining.commands.common import calendar_from, calendar_options, emit_json, fail_cleanly

__all__ = ["simulate_cmd"]


@click.command("simulate")
@click.argument("log")
@click.option(
    "--scenario",
    "scenario_file",
    metavar="FILE.yaml",
    type=click.Path(dir_okay=False),
    help="What-if scenarios to run against the baseline (a YAML list; see the README).",
)
@click.option(
    "--runs",
    type=click.IntRange(1, 200),
    default=10,
    show_default=True,
    help="Runs per scenario (and baseline).",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Random seed: the same seed gives the same numbers.",
)
@click.option(
    "--horizon",
    "horizon_days",
    type=click.FloatRange(min=0, min_open=True),
    metavar="DAYS",
    help="Days to simulate (default: the log's own period).",
)
@click.option(
    "--rates",
    "rates_file",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="A rate card (YAML or CSV: hourly rates by resource or role, fixed costs by activity) for cost per case.",
)
@calendar_options(
    hours_help="The pools' working hours (Mon-Fri unless --country), e.g. 8-18; default: read from the log.",
    timezone_help="IANA zone of the working hours and of arrivals per hour (default: the log's).",
)
@click.option("--json", "as_json", is_flag=True, help="Print everything as one JSON object.")
@click.pass_context
@fail_cleanly
def simulate_cmd(
    ctx: click.Context,
    log: str,
    scenario_file: str | None,
    runs: int,
    seed: int,
    horizon_days: float | None,
    rates_file: str | None,
    business_hours: str | None,
    country: str | None,
    subdivision: str | None,
    timezone: str | None,
    as_json: bool,
) -> None:
    """Simulate LOG as it runs, check the simulation against the log, then run what-if scenarios."""
    from mining.catalog import log_id
    from mining.errors import SimulationError
    from mining.simulation.calibrate import calibrate
    from mining.simulation.report import whatif_json, whatif_text
    from mining.simulation.run import study
    from mining.simulation.scenarios import load_scenarios
    from mining.store import Store

    obj = ctx.find_root().obj
    if obj["engine"] != "duckdb":
        msg = "simulate reads the workspace; it does not run on --engine spark"
        raise SimulationError(msg)
    calendar = calendar_from(business_hours, country, subdivision, timezone)
    with Store(obj["workspace"], read_only=True) as store:
        lid = log_id(store, log)
        model = calibrate(store, lid, log, calendar=calendar, timezone=timezone)
    scenarios = load_scenarios(scenario_file, model) if scenario_file else ()
    cost = None
    if rates_file:
        from mining.rates import load_rate_card
        from mining.simulation.costs import pricing

        cost = pricing(model, load_rate_card(rates_file))
    progress = None
    if not as_json:

        def progress(share: float, message: str) -> None:
            click.echo(f"\r{share:4.0%} {message}" + " " * 10, nl=False, err=True)

    result = study(
        model, scenarios, runs=runs, seed=seed, horizon_days=horizon_days, cost=cost, progress=progress
    )
    if as_json:
        emit_json(whatif_json(result))
    else:
        click.echo("", err=True)
        click.echo("\n".join(whatif_text(result)))
