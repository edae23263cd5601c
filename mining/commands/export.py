"""``mining export``: write one log's tables as Parquet, for Spark or any other engine.

The workspace is opened read-only.  The folder receives ``events``, ``cases``,
``variants``, ``attribute_columns``, ``attrs_<id>`` and ``logs`` as
``<table>.parquet``; copy it to shared storage (S3, HDFS, ADLS) and run the
measures there with :class:`mining.spark.SparkStore` (see ``docs/spark.md``).
``--json`` prints ``{"log", "log_id", "folder", "tables": {name: rows}}``.
"""

from __future__ import annotations

import click

from mining.commands.common import emit_json, fail_cleanly

__all__ = ["export_cmd"]


@click.command("export")
@click.argument("log")
@click.option(
    "--parquet",
    "folder",
    required=True,
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Folder to write the Parquet files into (created if missing; files are replaced).",
)
@click.option("--json", "as_json", is_flag=True, help="Print what was written as one JSON object.")
@click.pass_context
@fail_cleanly
def export_cmd(ctx: click.Context, log: str, folder: str, as_json: bool) -> None:
    """Write LOG's canonical tables as Parquet files into a folder (for Spark on shared storage)."""
    from mining.catalog import log_id
    from mining.export import export_parquet
    from mining.outputs import check_output_folder
    from mining.store import Store

    check_output_folder(folder, "parquet")
    with Store(ctx.obj["workspace"], read_only=True) as store:
        written = export_parquet(store, log_id(store, log), folder)
    if as_json:
        emit_json({"log": log, "log_id": written.log_id, "folder": written.folder, "tables": written.tables})
        return
    for table, rows in written.tables.items():
        click.echo(f"{written.path(table)}  {rows:,} rows")
    click.echo(f"wrote log {log!r} (id {written.log_id}) to {written.folder}")
