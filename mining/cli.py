"""The ``mining`` command: a thin layer that parses, calls the library, prints.

The commands live in :mod:`mining.commands`, a module per command or per pair
of related ones, and are added to the group here.  Only they turn
a :class:`~mining.errors.MiningError` into a message.  Library imports wait
inside the commands so ``mining --help`` starts fast.
"""

from __future__ import annotations

import click

from mining.commands import (
    app,
    bottlenecks,
    conform,
    discover,
    drivers,
    explore,
    export,
    ingest,
    logs,
    monitor,
    presets,
    rules,
    simulate,
)

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--workspace",
    "-w",
    envvar="MINING_WORKSPACE",
    default="mining.duckdb",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="The DuckDB workspace file (or set MINING_WORKSPACE).",
)
@click.option(
    "--engine",
    type=click.Choice(["duckdb", "spark"]),
    envvar="MINING_ENGINE",
    default="duckdb",
    show_default=True,
    help="Where the analysis commands run: the workspace, or Spark over --parquet.",
)
@click.option(
    "--parquet",
    "parquet",
    multiple=True,
    envvar="MINING_PARQUET",
    metavar="DIR",
    help="With --engine spark: a folder written by `mining export` (local, s3a://, hdfs://, ...).",
)
@click.option(
    "--spark-master",
    envvar="MINING_SPARK_MASTER",
    metavar="URL",
    help="With --engine spark: the cluster's master URL (default local[2]).",
)
@click.option(
    "--spark-remote",
    envvar="MINING_SPARK_REMOTE",
    metavar="URL",
    help="With --engine spark: a Spark Connect URL (sc://host:15002) instead of a master.",
)
@click.version_option(package_name="mining")
@click.pass_context
def cli(
    ctx: click.Context,
    workspace: str,
    engine: str,
    parquet: tuple[str, ...],
    spark_master: str | None,
    spark_remote: str | None,
) -> None:
    """Process mining over a DuckDB workspace: load exports, then analyse them."""
    ctx.obj = {
        "workspace": workspace,
        "engine": engine,
        "parquet": parquet,
        "spark_master": spark_master,
        "spark_remote": spark_remote,
    }


# click lists the commands by name, whatever the order here.
for _command in (
    ingest.ingest_cmd,
    logs.logs_cmd,
    logs.rejects_cmd,
    app.app_cmd,
    explore.dfg_cmd,
    explore.variants_cmd,
    discover.discover_cmd,
    bottlenecks.bottlenecks_cmd,
    export.export_cmd,
    rules.rules_cmd,
    presets.presets_cmd,
    monitor.monitor_cmd,
    conform.conform_cmd,
    drivers.drivers_cmd,
    drivers.compare_cmd,
    simulate.simulate_cmd,
):
    cli.add_command(_command)


def main() -> None:
    cli(prog_name="mining")


if __name__ == "__main__":
    main()
