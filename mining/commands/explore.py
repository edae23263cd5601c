"""``mining dfg`` and ``mining variants``: the process map and the variant list.

Both open the workspace read-only, resolve the log by name and share the
filter flags (time window, top variants, coverage).  ``--json`` prints the
record as one JSON object; the keys are a contract for scripts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from mining.commands.common import emit_json, fail_cleanly, open_reader

if TYPE_CHECKING:
    from mining.analysis.dfg import DFG
    from mining.analysis.filters import Filter
    from mining.analysis.variants import VariantTable

__all__ = ["build_filter", "dfg_cmd", "filter_options", "variants_cmd"]


class _Instant(click.ParamType):
    """An ISO 8601 date or date-time; without an offset it is read as UTC."""

    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dt.datetime:
        if isinstance(value, dt.datetime):
            return value
        try:
            parsed = dt.datetime.fromisoformat(str(value))
        except ValueError:
            self.fail(
                f"{value!r} is not an ISO 8601 date such as 2024-01-31 or 2024-01-31T08:00:00+01:00",
                param,
                ctx,
            )
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def filter_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "--start", type=_Instant(), help="Keep cases in the window from this date (UTC if no offset)."
        ),
        click.option("--end", type=_Instant(), help="Keep cases in the window up to this date (exclusive)."),
        click.option(
            "--window",
            type=click.Choice(["started", "completed", "intersecting"]),
            default="intersecting",
            show_default=True,
            help="Which cases the window keeps: started in it, completed in it, or overlapping it.",
        ),
        click.option(
            "--top-variants",
            type=click.IntRange(min=1),
            metavar="K",
            help="Keep only the cases of the K most frequent variants.",
        ),
        click.option(
            "--coverage",
            type=click.FloatRange(0, 1, min_open=True),
            metavar="X",
            help="Keep the most frequent variants covering this share of cases (0-1].",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def build_filter(kw: dict[str, Any]) -> Filter:
    from mining.analysis.filters import Filter, check_window

    check_window(kw["start"], kw["end"])
    return Filter(
        start=kw["start"],
        end=kw["end"],
        window=kw["window"],
        variant_top_k=kw["top_variants"],
        variant_coverage=kw["coverage"],
    )


@click.command("dfg")
@click.argument("log")
@click.option("--json", "as_json", is_flag=True, help="Print the map as one JSON object.")
@click.option(
    "--activities",
    type=click.FloatRange(0, 1),
    metavar="X",
    help="Keep this share of the most frequent activities (0-1); the map is recomputed over them.",
)
@click.option(
    "--paths",
    type=click.FloatRange(0, 1),
    metavar="X",
    help="Keep this share of the most frequent paths (0-1), plus those needed to stay connected.",
)
@filter_options
@click.pass_context
@fail_cleanly
def dfg_cmd(
    ctx: click.Context, log: str, as_json: bool, activities: float | None, paths: float | None, **kw: Any
) -> None:
    """The directly-follows graph (process map): paths with counts and transition times."""
    from mining.analysis.dfg import dfg
    from mining.analysis.simplify import simplified_dfg
    from mining.catalog import log_id

    flt = build_filter(kw)
    with open_reader(ctx) as store:
        lid = log_id(store, log)
        if activities is None and paths is None:
            graph = dfg(store, lid, flt)
        else:
            graph = simplified_dfg(
                store,
                lid,
                flt,
                activities=1.0 if activities is None else activities,
                paths=1.0 if paths is None else paths,
            )
    if as_json:
        emit_json(graph)
    else:
        click.echo(_dfg_text(graph))


@click.command("variants")
@click.argument("log")
@click.option(
    "--top", type=click.IntRange(min=1), metavar="N", help="Show only the N most frequent variants."
)
@click.option("--json", "as_json", is_flag=True, help="Print the variants as one JSON object.")
@filter_options
@click.pass_context
@fail_cleanly
def variants_cmd(ctx: click.Context, log: str, top: int | None, as_json: bool, **kw: Any) -> None:
    """Variants (distinct activity sequences), most frequent first, with shares of cases."""
    from mining.analysis.variants import variants
    from mining.catalog import log_id

    flt = build_filter(kw)
    with open_reader(ctx) as store:
        table = variants(store, log_id(store, log), flt, top=top)
    if as_json:
        emit_json(table)
    else:
        click.echo(_variants_text(table))


def _dfg_text(g: DFG) -> str:
    from mining.durations import format_duration

    lines = [
        f"{g.cases:,} cases, {g.events:,} events, {len(g.activities)} activities, {len(g.edges)} paths",
        "",
    ]
    lines.append("start: " + ", ".join(f"{a} ({k:,})" for a, k in g.start.items()))
    lines.append("end:   " + ", ".join(f"{a} ({k:,})" for a, k in g.end.items()))
    lines.append("")
    lines += [
        f"{e.count:>9,}  {e.cases:>8,} cases  median {format_duration(e.median_seconds):>7}  {e.source} -> {e.target}"
        for e in g.edges
    ]
    return "\n".join(lines)


def _variants_text(t: VariantTable) -> str:
    lines = [f"{t.total_variants:,} variants over {t.total_cases:,} cases", ""]
    lines += [
        f"#{v.variant_id:<5} {v.cases:>9,}  {v.share:6.1%}  (cum {v.cumulative_share:6.1%})  "
        + " > ".join(v.activities)
        for v in t.variants
    ]
    if len(t.variants) < t.total_variants:
        lines.append(f"... {t.total_variants - len(t.variants):,} more (use --top)")
    return "\n".join(lines)
