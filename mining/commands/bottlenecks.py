"""``mining bottlenecks``: where cases wait, what is redone, and who hands work back and forth.

The workspace is opened read-only.  ``--business-hours`` and/or ``--country``
switch every duration to business seconds (Mon-Fri, 09-17 unless given,
without the country's public holidays).  ``--json`` prints one object whose
keys are a contract for scripts:

* ``log``, ``timezone``, ``calendar`` (a label, or ``null`` for elapsed time),
  ``processing_measured``, ``timing_source``, ``note``, ``pce_median``;
* ``activities``: one object per activity, longest median waiting first, with
  ``activity``, ``count``, ``waiting_median_seconds``, ``waiting_mean_seconds``,
  ``waiting_p90_seconds``, ``waiting_total_seconds`` and the same four
  ``processing_*_seconds`` (``null`` when processing cannot be measured);
* ``rework``: ``cases``, ``cases_with_rework``, ``rework_share``,
  ``self_loops``, ``short_loops``, ``activities`` and ``loops``;
* ``ping_pong``: ``[{"resources": [x, y], "count", "cases"}]``;
* ``heatmaps``: ``transition_wait``, ``load``, ``resource_count``,
  ``resource_processing``, each ``{"metric", "unit", "rows", "columns",
  "values", "note"}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from mining.commands.common import calendar_from, calendar_options, emit_json, fail_cleanly, open_reader
from mining.words import plural

if TYPE_CHECKING:
    from mining.analysis.heatmaps import Heatmap
    from mining.analysis.performance import ActivityTimes, DurationStats
    from mining.analysis.rework import Rework

__all__ = ["bottlenecks_cmd"]


@click.command("bottlenecks")
@click.argument("log")
@click.option(
    "--period",
    type=click.Choice(["week", "month"]),
    default="week",
    show_default=True,
    help="Columns of the transition-waiting heatmap.",
)
@calendar_options(
    hours_help="Count only working time, Mon-Fri, e.g. 9-17 or 8:30-17:15.",
    timezone_help="IANA zone for hours and weekdays (default: the log's).",
)
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Rows shown per list, and transitions in the heatmap (JSON lists all activities).",
)
@click.option("--json", "as_json", is_flag=True, help="Print everything as one JSON object.")
@click.pass_context
@fail_cleanly
def bottlenecks_cmd(
    ctx: click.Context,
    log: str,
    period: str,
    business_hours: str | None,
    country: str | None,
    subdivision: str | None,
    timezone: str | None,
    top: int,
    as_json: bool,
) -> None:
    """Waiting vs processing per activity, rework, ping-pong and heatmaps for LOG."""
    from mining.analysis.calendar import clock
    from mining.analysis.heatmaps import load_heatmap, resource_heatmap, transition_wait_heatmap
    from mining.analysis.performance import activity_times
    from mining.analysis.rework import rework
    from mining.catalog import log_id

    calendar = calendar_from(business_hours, country, subdivision, timezone)
    with open_reader(ctx) as store:
        lid = log_id(store, log)
        clk = clock(store, lid, calendar, timezone=timezone)
        times = activity_times(store, lid, calendar=clk.calendar)
        redo = rework(store, lid, limit=top)
        maps = {
            "transition_wait": transition_wait_heatmap(
                store, lid, calendar=clk.calendar, period=period, timezone=clk.timezone, limit=top
            ),
            "load": load_heatmap(store, lid, calendar=clk.calendar, timezone=clk.timezone),
            "resource_count": resource_heatmap(store, lid, calendar=clk.calendar, metric="count"),
            "resource_processing": resource_heatmap(store, lid, calendar=clk.calendar, metric="processing"),
        }
    label = clk.calendar.label() if clk.calendar else None
    if as_json:
        emit_json(_json(log, clk.timezone, label, times, redo, maps))
    else:
        click.echo(_text(log, label, times, redo, maps, top))


def _stats_json(prefix: str, s: DurationStats, measured: bool) -> dict[str, float | None]:
    keep = measured and s.count > 0
    return {
        f"{prefix}_median_seconds": s.median if keep else None,
        f"{prefix}_mean_seconds": s.mean if keep else None,
        f"{prefix}_p90_seconds": s.p90 if keep else None,
        f"{prefix}_total_seconds": s.total if keep else None,
    }


def _json(
    log: str, tz: str, label: str | None, times: ActivityTimes, redo: Rework, maps: dict[str, Heatmap]
) -> dict[str, Any]:
    return {
        "log": log,
        "timezone": tz,
        "calendar": label,
        "processing_measured": times.processing_measured,
        "timing_source": times.source,
        "note": times.note,
        "pce_median": times.pce_median,
        "activities": [
            {
                "activity": a.activity,
                "count": a.count,
                **_stats_json("waiting", a.waiting, True),
                **_stats_json("processing", a.processing, times.processing_measured),
            }
            for a in times.activities
        ],
        "rework": {
            "cases": redo.cases,
            "cases_with_rework": redo.cases_with_rework,
            "rework_share": redo.rework_share,
            "self_loops": redo.self_loops,
            "short_loops": redo.short_loops,
            "activities": [
                {
                    "activity": a.activity,
                    "cases": a.cases,
                    "cases_repeated": a.cases_repeated,
                    "extra_executions": a.extra_executions,
                }
                for a in redo.activities
                if a.extra_executions
            ],
            "loops": [
                {"kind": x.kind, "pattern": list(x.pattern), "count": x.count, "cases": x.cases}
                for x in redo.loops
            ],
        },
        "ping_pong": [
            {"resources": list(p.resources), "count": p.count, "cases": p.cases} for p in redo.ping_pong_pairs
        ],
        "heatmaps": {
            name: {
                "metric": h.metric,
                "unit": h.unit,
                "rows": list(h.rows),
                "columns": list(h.columns),
                "values": [list(v) for v in h.values],
                "note": h.note,
            }
            for name, h in maps.items()
        },
    }


def _text(
    log: str, label: str | None, times: ActivityTimes, redo: Rework, maps: dict[str, Heatmap], top: int
) -> str:
    from mining.durations import format_duration

    out = [
        f"{log}: {times.instances:,} activity instances; durations in "
        + (f"business time, {label}" if label else "elapsed time"),
        times.note,
        "",
    ]
    width = max([len(a.activity) for a in times.activities[:top]] + [8])
    out.append(
        f"{'activity':<{width}}  {'count':>8}  {'wait median':>11}  {'wait p90':>9}  {'processing':>10}"
    )
    for a in times.activities[:top]:
        proc = format_duration(a.processing.median) if times.processing_measured else "n/a"
        out.append(
            f"{a.activity:<{width}}  {a.count:>8,}  {format_duration(a.waiting.median):>11}  "
            f"{format_duration(a.waiting.p90):>9}  {proc:>10}"
        )
    if times.pce_median is not None:
        out.append(f"process cycle efficiency (median over cases): {times.pce_median:.1%}")
    out += [
        "",
        f"rework: {redo.cases_with_rework:,} of {redo.cases:,} cases ({redo.rework_share:.1%}) repeat an "
        f"activity; {redo.self_loops:,} self-loops, {redo.short_loops:,} short loops",
    ]
    for a in [a for a in redo.activities if a.extra_executions][:top]:
        out.append(
            f"  {a.activity}: {plural(a.extra_executions, 'extra execution')} in {plural(a.cases_repeated, 'case')}"
        )
    for x in redo.loops[:top]:
        out.append(f"  loop {' → '.join(x.pattern)}: {plural(x.count, 'time')} in {plural(x.cases, 'case')}")
    out.append("")
    if not redo.has_resources:
        out.append("ping-pong: the log has no resources")
    else:
        out.append(
            f"ping-pong: {plural(redo.ping_pong, 'hand-off')} X → Y → X in {plural(redo.ping_pong_cases, 'case')}"
        )
        for p in redo.ping_pong_pairs[:top]:
            out.append(
                f"  {p.resources[0]} ⇄ {p.resources[1]}: {plural(p.count, 'time')} in {plural(p.cases, 'case')}"
            )
    out += ["", "heatmaps:"]
    for name, h in maps.items():
        rows, cols = h.shape
        out.append(f"  {name}: {rows} x {cols} ({h.metric}, {h.unit})")
    return "\n".join(out)
