"""``mining discover``: a process model from a stored log, written as BPMN or PNML.

The workspace is opened read-only; the model is mined from the log's
variants (see :mod:`mining.models.discover`).  ``--json`` prints one object
whose keys are a contract for scripts: ``algorithm``, ``noise``,
``variants``, ``cases``, ``places``, ``transitions``, ``output``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from mining.commands.common import emit_json, fail_cleanly, limit_options, limits_from, open_reader

if TYPE_CHECKING:
    from mining.models.discover import DiscoveredModel

__all__ = ["discover_cmd"]


@click.command("discover")
@click.argument("log")
@click.option(
    "--algorithm",
    type=click.Choice(["inductive", "heuristics"]),
    default="inductive",
    show_default=True,
    help="Inductive miner (IM, or IMf with --noise) or heuristics miner.",
)
@click.option(
    "--noise",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    metavar="X",
    help="Inductive miner noise threshold (0-1): 0 is IM, above 0 is IMf.",
)
@click.option(
    "--dependency-threshold",
    type=click.FloatRange(-1, 1),
    default=0.5,
    show_default=True,
    metavar="X",
    help="Heuristics miner: minimum dependency measure of an arc.",
)
@click.option(
    "--top-variants",
    type=click.IntRange(min=1),
    metavar="K",
    help="Mine only the cases of the K most frequent variants.",
)
@click.option(
    "--budget",
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    help="Stop the inductive miner after this many seconds, with an error that says so (default: no limit).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Write the model to FILE.bpmn (BPMN 2.0 with layout) or FILE.pnml (Petri net).",
)
@limit_options
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.pass_context
@fail_cleanly
def discover_cmd(
    ctx: click.Context,
    log: str,
    algorithm: str,
    noise: float,
    dependency_threshold: float,
    top_variants: int | None,
    budget: float | None,
    output: str | None,
    memory_limit: str | None,
    time_limit: str | None,
    as_json: bool,
) -> None:
    """Discover a process model from LOG's variants and optionally write it as .bpmn or .pnml."""
    from pathlib import Path

    from mining.analysis.filters import Filter
    from mining.errors import ModelError
    from mining.outputs import check_output

    if output and Path(output).suffix.lower() not in {".bpmn", ".pnml"}:
        msg = f"--output {output!r}: the file must end in .bpmn or .pnml"
        raise ModelError(msg)
    if algorithm == "heuristics" and noise:
        msg = "--noise applies to the inductive miner"
        raise ModelError(msg, hint="use --dependency-threshold with --algorithm heuristics")
    if output:
        check_output(output, "output")
    flt = Filter(variant_top_k=top_variants) if top_variants else None
    options = {
        "algorithm": algorithm,
        "noise": noise,
        "dependency_threshold": dependency_threshold,
        "budget": budget,
        "output": output,
    }
    limits = limits_from(memory_limit, time_limit)
    root = ctx.find_root().obj
    if root["engine"] == "duckdb":
        from mining.jobs import CHECK_MODULES, discover_command, discover_task
        from mining.limits import run

        done = run(
            discover_command,
            root["workspace"],
            log,
            flt,
            task=discover_task(log),
            limits=limits,
            preload=CHECK_MODULES,
            reuse="cli",
            **options,
        )
    else:
        from mining.jobs import discover_on

        with open_reader(ctx) as store:  # Spark: the driver is this process (a JVM has its own limits)
            done = discover_on(store, log, flt, **options)
    model, written = done.model, done.written
    if as_json:
        emit_json(_summary(model, written))
    else:
        click.echo(_text(log, model, written))


def _summary(model: DiscoveredModel, output: str | None) -> dict[str, Any]:
    return {
        "algorithm": model.algorithm,
        "noise": model.noise,
        "variants": model.variants,
        "cases": model.cases,
        "places": model.places,
        "transitions": model.transitions,
        "silent_transitions": model.silent_transitions,
        "arcs": model.arcs,
        "parameters": dict(model.parameters),
        "tree": model.tree,
        "output": output,
    }


def _text(log: str, model: DiscoveredModel, output: str | None) -> str:
    name = {
        "inductive": "inductive miner (IMf)" if model.noise else "inductive miner (IM)",
        "heuristics": "heuristics miner",
    }[model.algorithm]
    settings = ", ".join(f"{k} {v:g}" for k, v in model.parameters)
    lines = [
        f"{log}: {name}, {settings}",
        f"  mined from {model.variants:,} variants covering {model.cases:,} cases",
        f"  Petri net: {model.places:,} places, {model.transitions:,} transitions "
        f"({model.visible_transitions:,} visible, {model.silent_transitions:,} silent), {model.arcs:,} arcs",
    ]
    if model.tree:
        lines.append(f"  process tree: {model.tree}")
    if output:
        lines.append(f"  wrote {output}")
    return "\n".join(lines)
