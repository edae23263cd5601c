"""``mining conform``: check a stored log against a documented model (BPMN, PNML or a list of steps).

The workspace is opened read-only.  ``--json`` prints one object whose keys
are a contract for scripts: ``fitness``, ``fitness_bounds``, ``precision``,
``fitting_cases_share``, ``deviations`` (each with ``kind``, ``activity``,
``cases``, ``share``, ``sentence``, ``median_duration_with_s``,
``median_duration_without_s``), ``method``, ``engine``, ``complete``,
``aligned_variants_share``, ``aligned_cases_share``, ``labels``,
``accepted``, ``overlay``, ``notes``, ``forced``, ``coverage``.

Without ``--map``, ``--map-file`` or ``--invisible``, the label mapping saved
in the workspace for this log and model (by the app) is used.  When the
labels match too little to score (see :mod:`mining.conformance.labels`) the
command exits 1 naming the unmatched tasks; ``--force`` scores anyway.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from mining.commands.common import emit_json, fail_cleanly, limit_options, limits_from, open_reader

if TYPE_CHECKING:
    from mining.conformance import ConformanceResult

__all__ = ["conform_cmd"]


@click.command("conform")
@click.argument("log")
@click.option(
    "--model",
    "model_path",
    required=True,
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="The documented model: .bpmn (BPMN 2.0), .pnml (Petri net), .yaml/.yml or .txt (steps).",
)
@click.option(
    "--method",
    type=click.Choice(["alignments", "token-replay"]),
    default="alignments",
    show_default=True,
    help="Alignments (fitness, deviations) or token replay (fitness only).",
)
@click.option(
    "--budget",
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    help="Stop aligning after this many seconds and report the share aligned and fitness bounds.",
)
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="'MODEL=LOG'",
    help="Match a model task to a log activity, e.g. --map 'Approve=Approval'. Repeatable.",
)
@click.option(
    "--map-file",
    type=click.Path(dir_okay=False, exists=True),
    metavar="FILE.yaml",
    help="Label matches from YAML: 'map: {Model task: Log activity}', optional 'invisible: [...]'.",
)
@click.option(
    "--invisible",
    multiple=True,
    metavar="LABEL",
    help="Treat this model label as a silent step (not an activity). Repeatable.",
)
@click.option(
    "--allow",
    "allow_path",
    type=click.Path(dir_okay=False, exists=True),
    metavar="FILE",
    help="Accepted deviations: lines 'skip:A', 'insert:B', 'swap:C', or YAML with those keys.",
)
@click.option(
    "--no-precision",
    is_flag=True,
    help="Skip ETC precision (it replays every prefix of every variant: slow with many variants).",
)
@click.option(
    "--cases",
    "cases_path",
    type=click.Path(dir_okay=False),
    metavar="FILE.csv|FILE.xlsx",
    help="Write the deviating cases (case, variant, deviations, duration) to this file.",
)
@limit_options
@click.option(
    "--force",
    is_flag=True,
    help="Score even when fewer than half the model's tasks match the log's activities (marked as forced).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@click.pass_context
@fail_cleanly
def conform_cmd(
    ctx: click.Context,
    log: str,
    model_path: str,
    method: str,
    budget: float | None,
    maps: tuple[str, ...],
    map_file: str | None,
    invisible: tuple[str, ...],
    allow_path: str | None,
    no_precision: bool,
    cases_path: str | None,
    memory_limit: str | None,
    time_limit: str | None,
    force: bool,
    as_json: bool,
) -> None:
    """Check LOG against a documented model: fitness, precision, deviations in plain words."""
    from pathlib import Path

    from mining.errors import ConformanceError
    from mining.outputs import check_output

    if cases_path and Path(cases_path).suffix.lower() not in {".csv", ".xlsx"}:
        msg = f"--cases {cases_path!r}: the file must end in .csv or .xlsx"
        raise ConformanceError(msg)
    if cases_path:
        check_output(cases_path, "cases")
    from mining.conformance import Allowlist, LabelMapping

    # The label files are small and read here first: a mistake in them is reported before any work.
    given = bool(maps or map_file or invisible)
    mapping = LabelMapping.parse(maps, invisible)
    if map_file:
        mapping = LabelMapping.from_yaml(map_file).merged(mapping)
    options = {
        "method": method,
        "mapping": mapping,
        "allow": Allowlist.load(allow_path) if allow_path else None,
        "budget": budget,
        "precision": not no_precision,
        "cases_path": cases_path,
        "force": force,
        "use_saved": not given,
    }
    limits = limits_from(memory_limit, time_limit)
    root = ctx.find_root().obj
    if root["engine"] == "duckdb":
        from mining.jobs import CHECK_MODULES, check_task, conform_command
        from mining.limits import run

        # The whole check, the model and label files included, runs in a child under the limits.
        done = run(
            conform_command,
            root["workspace"],
            log,
            model_path,
            task=check_task(log),
            limits=limits,
            preload=CHECK_MODULES,
            reuse="cli",
            **options,
        )
    else:
        from mining.jobs import conform_on

        with open_reader(ctx) as store:  # Spark: the driver is this process (a JVM has its own limits)
            done = conform_on(store, log, model_path, **options)
    if as_json:
        emit_json(_summary(done.result, cases_path, done.written))
    else:
        click.echo(_text(log, done.result, cases_path, done.written))


#: Entries the JSON lists per list (deviations, unmatched log activities, overlay edges and
#: activities), most frequent first; ``*_total`` keys give the full count.  A log whose
#: "activities" are ids would otherwise print hundreds of megabytes.
_JSON_LIMIT = 1_000


def _summary(r: ConformanceResult, cases_path: str | None, written: int | None) -> dict[str, Any]:
    return {
        "model": r.model,
        "method": r.method,
        "engine": r.engine,
        "cases": r.cases,
        "complete": r.complete,
        "fitness": r.fitness,
        "fitness_bounds": list(r.fitness_bounds),
        "precision": r.precision,
        "fitting_cases_share": r.fitting_cases_share,
        "fitting_cases_bounds": list(r.fitting_cases_bounds),
        "aligned_variants_share": r.aligned_variants_share,
        "aligned_cases_share": r.aligned_cases_share,
        "deviations": [
            {
                "kind": d.kind,
                "activity": d.activity,
                "cases": d.cases,
                "share": d.share,
                "occurrences": d.occurrences,
                "median_duration_with_s": d.median_duration_with_s,
                "median_duration_without_s": d.median_duration_without_s,
                "sentence": d.sentence,
            }
            for d in r.deviations[:_JSON_LIMIT]
        ],
        "deviations_total": len(r.deviations),
        "accepted": [{"kind": k, "activity": a, "cases": n} for k, a, n in r.accepted],
        "labels": {
            "matched": [{"model": m, "log": log, "how": how} for m, log, how in r.labels.matched],
            "unmatched_model": list(r.labels.model_only),
            "unmatched_log": list(r.labels.log_only[:_JSON_LIMIT]),
            "unmatched_log_total": len(r.labels.log_only),
            "suggested": [
                {"model": s.model_label, "log": s.log_activity, "ratio": s.ratio} for s in r.labels.suggested
            ],
            "silent": list(r.labels.silent),
        },
        "overlay": None
        if r.overlay is None
        else {
            "complete": r.overlay.complete,
            "edges": [
                {"source": e.source, "target": e.target, "count": e.count, "cases": e.cases}
                for e in r.overlay.edges[:_JSON_LIMIT]
            ],
            "edges_total": len(r.overlay.edges),
            "activities": [
                {"activity": a, "events": n, "cases": c} for a, n, c in r.overlay.activities[:_JSON_LIMIT]
            ],
            "activities_total": len(r.overlay.activities),
        },
        "notes": list(r.notes),
        "forced": r.forced,
        "coverage": None
        if r.coverage is None
        else {
            "tasks": r.coverage.tasks,
            "matched_tasks": r.coverage.matched_tasks,
            "task_share": r.coverage.task_share,
            "events": r.coverage.events,
            "matched_events": r.coverage.matched_events,
            "event_share": r.coverage.event_share,
        },
        "cases_file": cases_path,
        "deviating_cases": written,
        "seconds": round(r.seconds, 3),
    }


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"


#: Deviations and names the text output lists before it says how many more there are.
_SHOWN = 50


def _listing(names: tuple[str, ...]) -> str:
    shown = ", ".join(repr(n) for n in names[:_SHOWN])
    return shown + (f" and {len(names) - _SHOWN:,} more" if len(names) > _SHOWN else "")


def _text(log: str, r: ConformanceResult, cases_path: str | None, written: int | None) -> str:
    lo, hi = r.fitness_bounds
    fitness = f"{r.fitness:.4f}" if r.fitness is not None else f"between {lo:.4f} and {hi:.4f} (partial)"
    lines = [
        f"{log} against {r.model}: {r.method} ({r.engine}), {r.cases:,} cases"
        + (" -- FORCED: the labels match too little for these figures to mean much" if r.forced else ""),
        f"  fitness {fitness}",
        f"  precision {'-' if r.precision is None else f'{r.precision:.4f}'}",
        "  fitting cases "
        + (
            _pct(r.fitting_cases_share)
            if r.fitting_cases_share is not None
            else f"between {_pct(r.fitting_cases_bounds[0])} and {_pct(r.fitting_cases_bounds[1])}"
        ),
    ]
    if not r.complete:
        lines.append(
            f"  aligned {_pct(r.aligned_variants_share)} of variants, {_pct(r.aligned_cases_share)} of cases"
        )
    if r.deviations:
        lines.append("Deviations:")
        lines += [f"  {d.sentence}" for d in r.deviations[:_SHOWN]]
        if len(r.deviations) > _SHOWN:
            lines.append(
                f"  ... and {len(r.deviations) - _SHOWN:,} more (--json lists the first {_JSON_LIMIT:,})"
            )
    elif r.method == "alignments":
        lines.append("No deviations." if r.complete else "No deviations among the aligned cases.")
    if r.accepted:
        lines.append("Accepted: " + ", ".join(f"{k} '{a}' ({n:,} cases)" for k, a, n in r.accepted))
    if r.labels.model_only:
        lines.append("Model tasks not in the log: " + _listing(r.labels.model_only))
    if r.labels.log_only:
        lines.append("Log activities not in the model: " + _listing(r.labels.log_only))
    for s in r.labels.suggested:
        lines.append(f"  did you mean --map '{s.model_label}={s.log_activity}'? (similarity {s.ratio:.2f})")
    lines += [f"Note: {n}" for n in r.notes]
    if cases_path:
        lines.append(f"wrote {written:,} deviating cases to {cases_path}")
    return "\n".join(lines)
