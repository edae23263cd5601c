"""The ``mining`` command: a thin layer that parses, calls the library, prints.

Only this module and the app turn a :class:`~mining.errors.MiningError` into a
message; anything else is a bug and keeps its traceback.  Library imports are
deferred into the commands so ``mining --help`` starts fast.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from functools import wraps
from typing import Any

import click

__all__ = ["main"]

EXIT_ERROR = 1


def fail_cleanly(func: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from mining.errors import MiningError

        try:
            return func(*args, **kwargs)
        except MiningError as exc:
            click.echo(f"Error: {exc}", err=True)
            if exc.hint:
                click.echo(f"Hint: {exc.hint}", err=True)
            sys.exit(EXIT_ERROR)

    return wrapper


def emit_json(data: Any) -> None:
    from mining.schema import to_jsonable

    click.echo(json.dumps(to_jsonable(data), ensure_ascii=False, indent=2))


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


@contextlib.contextmanager
def open_reader(ctx: click.Context) -> Iterator[Any]:
    """The store the analysis commands read: the workspace (read-only) or Spark over Parquet."""
    obj = ctx.find_root().obj
    if obj["engine"] == "duckdb":
        from mining.store import Store

        with Store(obj["workspace"], read_only=True) as store:
            yield store
        return
    from mining.errors import StoreError
    from mining.spark import SparkStore, session_for

    if not obj["parquet"]:
        msg = "--engine spark needs --parquet DIR (a folder written by `mining export LOG --parquet DIR`)"
        raise StoreError(msg)
    yield SparkStore(session_for(master=obj["spark_master"], remote=obj["spark_remote"]), obj["parquet"])


def _role_option(name: str, help_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(f"--{name}", default=None, metavar="COLUMN", help=help_text)


@cli.command()
@click.argument("path", type=click.Path())
@click.option("--name", help="Log name (default: the file name without extensions).")
@click.option("--append", is_flag=True, help="Add only the new events of a newer export to an existing log.")
@_role_option("case", "Column holding the case id.")
@_role_option("activity", "Column holding the activity.")
@_role_option("timestamp", "Column holding the (completion) timestamp.")
@_role_option("start-timestamp", "Column holding the start timestamp ('' for none).")
@_role_option("resource", "Column holding the resource ('' for none).")
@_role_option("lifecycle", "Column holding the lifecycle transition ('' for none).")
@_role_option("cost", "Column holding a per-event cost ('' for none).")
@click.option(
    "--timestamp-format", metavar="FORMAT", help="strptime format of the timestamp, e.g. '%d/%m/%Y %H:%M'."
)
@click.option("--start-timestamp-format", metavar="FORMAT", help="strptime format of the start timestamp.")
@click.option("--dayfirst/--monthfirst", default=None, help="Read 03/04 as 3 April (day first) or 4 March.")
@click.option(
    "--timezone",
    default=None,
    help="IANA zone of timestamps without an offset (default UTC; on --append, the log's zone).",
)
@click.option(
    "--dst",
    type=click.Choice(["shift", "reject"]),
    default="shift",
    show_default=True,
    help="Local times in a DST gap or overlap: read by the zoneinfo fold=0 rule, or reject the row.",
)
@click.option(
    "--max-rejects",
    type=click.FloatRange(0, 1),
    default=0.05,
    show_default=True,
    help="Share of rows that may be rejected before the ingest fails.",
)
@click.option(
    "--rejects",
    "rejects_path",
    type=click.Path(dir_okay=False),
    help="Write every rejected row to this CSV (also when the ingest fails).",
)
@click.option("--encoding", help="Text encoding of a CSV (default: detected).")
@click.option("--delimiter", help="Field delimiter of a CSV (default: detected).")
@click.option("--sheet", help="Sheet of an .xlsx workbook (default: the first with data).")
@click.option(
    "--preset",
    default="auto",
    show_default=True,
    metavar="NAME|auto|none",
    help="Read a business system's export (mining presets lists them): auto detects one, none never.",
)
@click.option(
    "--include",
    multiple=True,
    metavar="FAMILY",
    help="Add an optional event family of the preset (repeatable), e.g. assignee for Jira.",
)
@click.option(
    "--preset-role",
    "preset_roles",
    multiple=True,
    metavar="ROLE=COLUMN",
    help="A preset's own column (repeatable), e.g. field=Attribute for the change-log preset.",
)
@click.option(
    "--memory-limit",
    metavar="SIZE",
    help="Cap DuckDB's memory during the ingest, e.g. 2GB; beyond it DuckDB spills to disk (slower).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.pass_context
@fail_cleanly
def ingest(ctx: click.Context, path: str, **kw: Any) -> None:
    """Load an export (CSV/TSV/TXT, XLSX, Parquet, XES, .gz; a system's JSON, folder or zip) into the workspace."""
    from mining.catalog import export_rejects
    from mining.errors import TooManyRejects
    from mining.ingest import IngestOptions, ingest_file
    from mining.report import ingest_text
    from mining.store import writing

    roles: dict[str, str | None] = {}
    for role in ("case", "activity", "timestamp", "start_timestamp", "resource", "lifecycle", "cost"):
        value = kw.pop(role)
        if value is not None:
            roles[role] = value or None
    rejects_path = kw.pop("rejects_path")
    as_json = kw.pop("as_json")
    memory_limit = kw.pop("memory_limit")
    preset_roles: dict[str, str] = {}
    for item in kw.pop("preset_roles"):
        role, sep, column = item.partition("=")
        if not sep or not role.strip() or not column.strip():
            raise click.BadParameter(f"expected ROLE=COLUMN, got {item!r}", param_hint="--preset-role")
        preset_roles[role.strip()] = column.strip()
    kw["include"] = tuple(kw.pop("include"))
    options = IngestOptions(roles=roles, preset_roles=preset_roles, **kw)
    with writing(ctx.obj["workspace"], memory_limit=memory_limit) as store:
        try:
            summary = ingest_file(store, path, options)
        except TooManyRejects as exc:
            if rejects_path:
                export_rejects(exc.rejects, rejects_path)  # type: ignore[arg-type]
            raise
    if rejects_path:
        export_rejects(list(summary.rejects), rejects_path)
    if as_json:
        data = {
            "log": summary.log,
            "status": summary.status,
            "cases": summary.cases,
            "events": summary.events,
            "activities": summary.activities,
            "variants": summary.variants,
            "start": summary.start,
            "end": summary.end,
            "rows_read": summary.rows_read,
            "events_added": summary.events_added,
            "rejected_rows": summary.rejected_rows,
            "timezone": summary.timezone,
            "timestamp_formats": summary.timestamp_formats,
            "mapping": summary.mapping.roles(),
            "guesses": summary.guesses,
            "quality": summary.quality,
            "warnings": summary.warnings,
            "rejects": summary.rejects[:100],
            "preset": summary.preset,
            "preset_notes": summary.preset_notes,
        }
        emit_json(data)
    else:
        click.echo(ingest_text(summary))


@cli.command("logs")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@click.pass_context
@fail_cleanly
def logs_cmd(ctx: click.Context, as_json: bool) -> None:
    """List the logs in the workspace."""
    from mining.catalog import list_logs
    from mining.report import logs_text
    from mining.store import Store

    with Store(ctx.obj["workspace"], read_only=_exists(ctx)) as store:
        logs = list_logs(store)
    if as_json:
        emit_json(
            {
                "logs": [
                    {
                        "log": i.name,
                        "cases": i.cases,
                        "events": i.events,
                        "activities": i.activities,
                        "variants": i.variants,
                        "start": i.start,
                        "end": i.end,
                        "source": i.source,
                        "timezone": i.timezone,
                        "ingested_at": i.ingested_at,
                        "mapping": i.mapping,
                    }
                    for i in logs
                ]
            }
        )
    else:
        click.echo(logs_text(logs))


@cli.command("rejects")
@click.argument("log")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False), help="Write them to this CSV instead of printing."
)
@click.option("--json", "as_json", is_flag=True, help="Print them as JSON.")
@click.pass_context
@fail_cleanly
def rejects_cmd(ctx: click.Context, log: str, output: str | None, as_json: bool) -> None:
    """Show the rows an ingest rejected, with file, row, column and reason."""
    from mining.catalog import export_rejects, log_id, rejects
    from mining.store import Store

    with Store(ctx.obj["workspace"], read_only=_exists(ctx)) as store:
        items = rejects(store, log_id(store, log))
    if output:
        n = export_rejects(items, output)
        click.echo(f"wrote {n:,} rejected rows to {output}")
    elif as_json:
        emit_json({"log": log, "rejects": items})
    else:
        for r in items:
            click.echo(str(r))
        click.echo(f"{len(items):,} rejected rows")


@cli.command("app")
@click.option("--port", default=8501, show_default=True)
@click.pass_context
def app_cmd(ctx: click.Context, port: int) -> None:
    """Open the workbench in the browser (Streamlit)."""
    import os
    import subprocess
    from pathlib import Path

    app = Path(__file__).resolve().parent.parent / "app.py"
    env = dict(os.environ, MINING_WORKSPACE=str(Path(ctx.obj["workspace"]).resolve()))
    sys.exit(
        subprocess.call(
            [sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(port)], env=env
        )
    )


def _exists(ctx: click.Context) -> bool:
    from pathlib import Path

    return Path(ctx.obj["workspace"]).exists()


# Commands of each area live in mining/commands/<area>.py and add themselves
# with register(cli); their library imports stay inside the commands.
_COMMAND_MODULES: tuple[str, ...] = (
    "discovery_map",
    "discover",
    "bottlenecks",
    "spark",
    "rules",
    "presets",
    "monitor",
    "conform",
)


def _register_commands() -> None:
    import importlib

    for name in _COMMAND_MODULES:
        importlib.import_module(f"mining.commands.{name}").register(cli)


_register_commands()


def main() -> None:
    cli(prog_name="mining")


if __name__ == "__main__":
    main()
