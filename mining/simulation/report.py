"""A what-if study in words and as the JSON contract, shared by the CLI and the app.

The JSON keys are a contract for scripts (see ``mining simulate --json`` in
the README): ``baseline``, ``validation`` and ``scenarios`` with the keys of
:data:`mining.simulation.results.MEASURES` (``cost_per_case`` only with a
rate card), ``utilisation`` per pool, and per scenario ``delta`` (difference
from the baseline, paired by run) and ``ci`` (95% interval over runs,
``[low, high]``).
"""

from __future__ import annotations

import math
from typing import Any

from mining.durations import duration_words
from mining.simulation.model import HOURS_PER_WEEK, SimModel
from mining.simulation.results import MEASURES, Measure, Outcome
from mining.simulation.run import WhatIf
from mining.simulation.validate import TRUST_LIMIT, Validation

__all__ = ["describe_model", "format_value", "whatif_json", "whatif_text"]


def _num(x: float) -> float | None:
    return None if x is None or math.isnan(x) else round(float(x), 6)


def _outcome_json(o: Outcome) -> dict[str, Any]:
    out: dict[str, Any] = {k: _num(m.mean) for k, m in o.values}
    out["utilisation"] = {p: _num(m.mean) for p, m in o.utilisation}
    out["runs"] = o.runs
    out["ci"] = {k: [_num(m.low), _num(m.high)] for k, m in o.values}
    out["ci"]["utilisation"] = {p: [_num(m.low), _num(m.high)] for p, m in o.utilisation}
    return out


def _validation_json(v: Validation) -> dict[str, Any]:
    return {
        "cycle_time_emd_seconds": _num(v.cycle_time_emd_seconds),
        "cycle_error": _num(v.cycle_error),
        "wait_error": _num(v.wait_error),
        "arrival_error": _num(v.arrival_error),
        "activity_error": _num(v.activity_error),
        "trusted": v.trusted,
        "limit": TRUST_LIMIT,
        "verdict": v.verdict,
        "reasons": list(v.reasons),
        "runs": v.runs,
        "cases_log": v.cases_log,
        "cases_simulated": _num(v.cases_sim),
        "cycle_mean_log_seconds": _num(v.cycle_mean_log),
        "cycle_mean_simulated_seconds": _num(v.cycle_mean_sim),
        "wait_mean_log_seconds": _num(v.wait_mean_log),
        "wait_mean_simulated_seconds": _num(v.wait_mean_sim),
    }


def whatif_json(w: WhatIf) -> dict[str, Any]:
    """The study as the ``mining simulate --json`` object."""
    m = w.model
    scenarios = []
    for sc, o in w.scenarios:
        item = {"name": sc.name, "changes": sc.describe(), **_outcome_json(o)}
        item["delta"] = {k: _num(d.mean) for k, d in o.delta}
        item["delta"]["utilisation"] = {p: _num(d.mean) for p, d in o.delta_utilisation}
        item["delta_ci"] = {k: [_num(d.low), _num(d.high)] for k, d in o.delta}
        item["trusted"] = w.validation.trusted
        scenarios.append(item)
    return {
        "log": m.log,
        "seed": w.seed,
        "runs": w.baseline.runs,
        "horizon_days": _num(w.horizon_days),
        "cancelled": w.cancelled,
        "currency": w.cost.currency if w.cost is not None else None,
        "rate_card": w.cost.label if w.cost is not None else None,
        "model": {
            "timing": m.timing,
            "arrival_pattern": m.arrival_pattern,
            "cases_per_day": _num(m.cases_per_day),
            "timezone": m.timezone,
            "pools": [
                {
                    "name": p.name,
                    "capacity": p.capacity,
                    "people": len(p.resources),
                    "activities": list(p.activities),
                    "hours_per_week": sum(p.hours),
                }
                for p in m.pools
            ],
            "notes": list(m.notes),
        },
        "baseline": _outcome_json(w.baseline),
        "validation": _validation_json(w.validation),
        "scenarios": scenarios,
    }


def _hours_words(hours: tuple[bool, ...]) -> str:
    if all(hours):
        return "round the clock"
    days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    spans = []
    for d in range(7):
        on = [h for h in range(24) if hours[d * 24 + h]]
        if on:
            spans.append(f"{days[d]} {on[0]:02d}-{on[-1] + 1:02d}")
    return f"{sum(hours)} h a week ({', '.join(spans)})" if spans else "never"


def describe_model(m: SimModel) -> list[str]:
    """The calibrated model in sentences: arrivals, pools, times, and what was assumed."""
    lines = []
    pattern = {
        "steady": "steadily round the clock",
        "weekday": "following the log's pattern per weekday (its times are dates only)",
    }.get(m.arrival_pattern, "following the log's pattern per weekday and hour")
    busiest = max(range(HOURS_PER_WEEK), key=lambda h: m.arrivals[h])
    days = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    peak = ""
    if m.arrival_pattern == "weekly":
        peak = f"; busiest hour {days[busiest // 24]} {busiest % 24:02d}:00 ({m.arrivals[busiest]:.1f} cases an hour)"
    elif m.arrival_pattern == "weekday":
        peak = f"; busiest day {days[busiest // 24]} ({24 * m.arrivals[busiest]:.1f} cases a day)"
    lines.append(
        f"Arrivals: {m.cases_per_day:.1f} cases a day, {pattern}{peak} "
        f"(from {m.observed.cases:,} cases over {m.observed.period_days:,.0f} days)."
    )
    timing = {
        "start_timestamp": "measured from the start and end timestamps",
        "lifecycle": "measured from start and complete events",
        "estimated": "estimated: the log has no start times",
        "none": "not measurable",
    }[m.timing]
    lines.append(f"Processing times: {timing}.")
    for p in m.pools:
        acts = ", ".join(p.activities[:4]) + (
            f" and {len(p.activities) - 4} more" if len(p.activities) > 4 else ""
        )
        people = f"{p.capacity} {'person' if p.capacity == 1 else 'people'}"
        seen = f" ({len(p.resources)} named in the log)" if len(p.resources) != p.capacity else ""
        lines.append(f"Pool {p.name}: {people}{seen} doing {acts}; works {_hours_words(p.hours)}.")
    free = [a.name for a in m.activities if a.pool is None]
    if free:
        more = f" and {len(free) - 6} more" if len(free) > 6 else ""
        lines.append(f"Needs nobody: {', '.join(free[:6])}{more}.")
    slow = sorted(m.activities, key=lambda a: -a.mean_duration)[:3]
    lines.append(
        "Longest steps: "
        + ", ".join(f"{a.name} {duration_words(a.mean_duration)}" for a in slow if a.durations)
        + "."
    )
    lines.extend(f"Assumed: {n}." for n in m.notes)
    return lines


def format_value(key: str, value: float, *, signed: bool = False) -> str:
    """A measure's value in words: durations as '3.2 days', shares as percentages, counts plainly."""
    if value is None or math.isnan(value):
        return "n/a"
    sign = "+" if signed and value > 0 else ("-" if signed and value < 0 else "")
    v = abs(value) if signed else value
    if key.endswith("_seconds"):
        return sign + duration_words(v)
    if key == "throughput_per_day":
        return f"{sign}{v:,.1f}/day"
    if key == "cost_per_case":
        return f"{sign}{v:,.2f}"
    if key == "utilisation":
        return f"{sign}{v:.0%}" if not signed else f"{sign}{v * 100:.0f} pts"
    return f"{sign}{v:,.0f}"


def _interval(key: str, m: Measure) -> str:
    if m.low == m.high:
        return format_value(key, m.mean)
    return f"{format_value(key, m.mean)} ({format_value(key, m.low)} to {format_value(key, m.high)})"


def whatif_text(w: WhatIf) -> list[str]:
    """The study as lines of text for the terminal."""
    v = w.validation
    out = [f"What-if for {w.model.log}: {w.baseline.runs} runs of {w.horizon_days:,.0f} days, seed {w.seed}"]
    if w.cancelled:
        out.append("Cancelled: the figures below use the runs that finished.")
    out.append("")
    out.extend(describe_model(w.model))
    out += [
        "",
        "Validation (replaying the log's own period):",
        f"  cases {v.cases_log:,} in the log, {v.cases_sim:,.{0 if v.cases_sim >= 100 else 1}f} simulated "
        f"(error {v.arrival_error:.0%})",
        f"  activity mix differs by {v.activity_error:.0%}",
        f"  cycle time: log mean {duration_words(v.cycle_mean_log)}, simulated {duration_words(v.cycle_mean_sim)}; "
        f"earth mover's distance {duration_words(v.cycle_time_emd_seconds)} ({v.cycle_error:.0%})",
        f"  waiting per case: log {duration_words(v.wait_mean_log)}, simulated {duration_words(v.wait_mean_sim)} "
        f"(error {v.wait_error:.0%})",
        f"  {v.verdict}",
        "",
    ]
    names = {k: words for k, words, _ in MEASURES}
    if w.cost is not None:
        out.append(f"Costs from {w.cost.label}.")
        if w.cost.currency:
            names["cost_per_case"] += f" ({w.cost.currency})"
    out.append("Baseline:")
    for k, m in w.baseline.values:
        out.append(f"  {names[k]}: {_interval(k, m)}")
    for p, m in w.baseline.utilisation:
        out.append(f"  Utilisation {p}: {_interval('utilisation', m)}")
    for sc, o in w.scenarios:
        out += ["", f"Scenario {sc.name} ({sc.describe()}){'' if v.trusted else ' [not trustworthy]'}:"]
        deltas = dict(o.delta)
        for k, m in o.values:
            d = deltas[k]
            out.append(
                f"  {names[k]}: {_interval(k, m)}; vs baseline {format_value(k, d.mean, signed=True)} "
                f"({format_value(k, d.low, signed=True)} to {format_value(k, d.high, signed=True)})"
            )
        du = dict(o.delta_utilisation)
        for p, m in o.utilisation:
            out.append(
                f"  Utilisation {p}: {_interval('utilisation', m)}; "
                f"vs baseline {format_value('utilisation', du[p].mean, signed=True) if p in du else 'n/a'}"
            )
    return out
