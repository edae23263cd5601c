"""``mining logs`` and ``mining rejects``: what the workspace holds, and the rows an ingest left out.

Listing only reads; a workspace that does not exist yet is created empty
rather than refused.  ``mining logs --delete NAME`` and ``mining logs
--rename OLD NEW`` write through :func:`mining.store.writing`, so the change
lands whole or not at all.  ``mining logs --json`` prints ``{"logs": [{"log",
"cases", "events", "activities", "variants", "start", "end", "source",
"timezone", "ingested_at", "mapping"}]}``, with ``"deleted": NAME`` or
``"renamed": {"from", "to"}`` beside it after a change; ``mining rejects
--json`` prints ``{"log", "rejects"}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from mining.commands.common import emit_json, fail_cleanly, workspace_exists
from mining.words import plural

if TYPE_CHECKING:
    from mining.schema import LogInfo

__all__ = ["logs_cmd", "rejects_cmd"]


@click.command("logs")
@click.option(
    "--delete", "delete", metavar="NAME", help="Delete this log and all that was recorded about it."
)
@click.option("--rename", "rename", nargs=2, metavar="OLD NEW", help="Rename the log OLD to NEW.")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@click.pass_context
@fail_cleanly
def logs_cmd(ctx: click.Context, delete: str | None, rename: tuple[str, str] | None, as_json: bool) -> None:
    """List the logs in the workspace; delete or rename one (each in one transaction)."""
    from mining.catalog import delete_log, list_logs, rename_log
    from mining.store import Store, writing

    if delete is not None and rename:
        raise click.UsageError("pass --delete or --rename, not both")
    done: dict[str, object] = {}
    note = ""
    if delete is not None or rename:
        if not workspace_exists(ctx):
            from mining.errors import UnknownLog

            name = delete if delete is not None else rename[0]  # type: ignore[index]
            msg = f"no log named {name!r}: there is no workspace at {ctx.obj['workspace']} yet"
            raise UnknownLog(msg)
        with writing(ctx.obj["workspace"]) as store:
            if delete is not None:
                gone = delete_log(store, delete)
                done["deleted"] = gone.name
                note = f"Deleted log {gone.name!r} ({gone.cases:,} cases, {gone.events:,} events)."
            else:
                old, new = rename  # type: ignore[misc]
                rename_log(store, old, new)
                done["renamed"] = {"from": old, "to": new}
                note = f"Renamed log {old!r} to {new!r}."
            logs = list_logs(store)
    else:
        with Store(ctx.obj["workspace"], read_only=workspace_exists(ctx)) as store:
            logs = list_logs(store)
    if as_json:
        emit_json(
            {
                **done,
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
                ],
            }
        )
    else:
        if note:
            click.echo(note)
        click.echo(_text(logs))


@click.command("rejects")
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
    from mining.outputs import check_output
    from mining.store import Store

    if output:
        check_output(output, "output")
    with Store(ctx.obj["workspace"], read_only=workspace_exists(ctx)) as store:
        items = rejects(store, log_id(store, log))
    if output:
        n = export_rejects(items, output)
        click.echo(f"wrote {plural(n, 'rejected row')} to {output}")
    elif as_json:
        emit_json({"log": log, "rejects": items})
    else:
        for r in items:
            click.echo(str(r))
        click.echo(plural(len(items), "rejected row"))


def _text(logs: Sequence[LogInfo]) -> str:
    from mining.moments import local_text

    if not logs:
        return "The workspace holds no logs yet: mining ingest FILE"
    # Long names (a file name taken as the log's name) widen the column rather than shift the figures.
    w = max(32, *(len(i.name) for i in logs))
    header = f"{'log':<{w}} {'cases':>10} {'events':>12} {'activities':>10} {'variants':>9}  time span"
    rows = [header]
    for i in logs:
        # The days on the log's own wall clock, as every page shows them.
        span = (
            f"{local_text(i.start, i.timezone, '%Y-%m-%d')} to {local_text(i.end, i.timezone, '%Y-%m-%d')}"
            if i.start and i.end
            else "-"
        )
        rows.append(
            f"{i.name:<{w}} {i.cases:>10,} {i.events:>12,} {i.activities:>10,} {i.variants:>9,}  {span}"
        )
    return "\n".join(rows)
