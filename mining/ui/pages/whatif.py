"""What-if: the simulation model calibrated from the kept cases, its validation, scenarios, a run and the comparison.

The model is calibrated from the log under the filter bar and validated at
once (a replay of the log's own period, cached); the verdict stands above the
scenario controls so that nobody reads a prediction without it.  Scenarios
come from the controls (one scenario) or from an uploaded YAML file (any
number, the format of ``mining simulate --scenario``).  **Run** plays the
baseline and each scenario with a progress bar; **Cancel** stops it and the
page shows the runs that finished.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import streamlit as st

from mining.analysis.filters import Filter
from mining.durations import duration_words
from mining.schema import LogInfo
from mining.simulation.costs import Pricing
from mining.simulation.model import SimModel
from mining.simulation.report import describe_model, format_value
from mining.simulation.results import MEASURES
from mining.simulation.run import WhatIf, study
from mining.simulation.scenarios import Scenario, parse_scenarios
from mining.simulation.validate import TRUST_LIMIT, WAIT_FLOOR, Validation
from mining.ui.layout import explore_page
from mining.ui.messages import md
from mining.ui.progress import Progress
from mining.ui.state import reading, where
from mining.ui.tables import data_table

__all__ = ["CANCEL_KEY", "VALIDATION_RUNS", "render"]

#: Session flag set by the Cancel button; the run's ``cancel()`` reads it.
CANCEL_KEY = "whatif.cancel"
#: Replays of the log's period behind the verdict shown before any run.
VALIDATION_RUNS = 3
_SLOTS = "whatif.slots"
_HANDOVER_WAIT = 30.0


def render() -> None:
    explore_page("What-if", _render)


@st.cache_data(show_spinner=False, max_entries=16)
def _model_cached(workspace: str, version: tuple[int, ...], log_id: int, name: str, flt: Filter) -> SimModel:
    from mining.simulation.calibrate import calibrate

    with reading(workspace) as store:
        return calibrate(store, log_id, name, flt=flt)


@st.cache_data(show_spinner=False, max_entries=16)
def _validation_cached(
    workspace: str, version: tuple[int, ...], log_id: int, flt: Filter, _model: SimModel
) -> Validation:
    from mining.simulation.validate import validate

    return validate(_model, runs=VALIDATION_RUNS, seed=0)


@dataclass
class _Request:
    log_id: int
    flt: Filter
    scenarios: tuple[Scenario, ...]
    runs: int
    seed: int
    horizon: float
    cost: Pricing | None = None


class _Slot:
    """The last run of this session, handed over from a run that a click stopped (see the Conformance page)."""

    def __init__(self) -> None:
        self.stamp: tuple[str, tuple[int, ...]] | None = None
        self.request: _Request | None = None
        self.result: WhatIf | None = None
        self.idle = threading.Event()
        self.idle.set()


def _slot(log: LogInfo) -> _Slot:
    slots = st.session_state.setdefault(_SLOTS, {})
    return slots.setdefault(log.log_id, _Slot())


def _request_cancel() -> None:
    st.session_state[CANCEL_KEY] = True


def _render(log: LogInfo, flt: Filter) -> None:
    with st.spinner("Calibrating the simulation from the log…"):
        model = _model_cached(*where(), log.log_id, log.name, flt)
    st.subheader("The model")
    st.markdown("\n".join(f"- {md(line)}" for line in describe_model(model)))
    _model_tables(model)

    st.subheader("Validation")
    with st.spinner(f"Replaying the log's own period {VALIDATION_RUNS} times…"):
        validation = _validation_cached(*where(), log.log_id, flt, model)
    _verdict(validation)

    st.subheader("Scenario")
    request = _controls(log, flt, model)
    if request is None:
        return
    cols = st.columns([1, 1, 4])
    pressed = cols[0].button("Run", type="primary", key="whatif-run", icon=":material/play_arrow:")
    # Drawn before the run, so that a click can stop it; greyed when nothing runs.
    cols[1].button(
        "Cancel", key="whatif-cancel", on_click=_request_cancel, icon=":material/stop:", disabled=not pressed
    )
    if pressed:
        st.session_state[CANCEL_KEY] = False
    slot = _slot(log)
    if not slot.idle.is_set():
        with st.spinner("Stopping the running simulation…"):
            slot.idle.wait(_HANDOVER_WAIT)
    result = slot.result
    fresh = result is not None and slot.stamp == where() and slot.request == request
    if pressed:
        result = _run(model, slot, request)
    elif not fresh:
        st.info(
            "Press **Run** to simulate the baseline and the scenario "
            f"({request.runs} runs of {request.horizon:g} days each).",
            icon=":material/info:",
        )
        return
    assert result is not None
    _comparison(result)


def _model_tables(model: SimModel) -> None:
    with st.expander("Activities, pools and routing"):
        data_table(
            [
                {
                    "Activity": a.name,
                    "Pool": a.pool or "nobody",
                    "In the log": a.count,
                    "Processing, mean": duration_words(a.mean_duration),
                    "Delay before, mean": duration_words(sum(a.delays) / len(a.delays)) if a.delays else "-",
                    "Next": ", ".join(
                        f"{b or 'end'} {p:.0%}" for b, p in list(model.next_of(a.name).items())[:4]
                    ),
                }
                for a in sorted(model.activities, key=lambda a: -a.count)
            ],
            hide_index=True,
            width="stretch",
        )


def _verdict(v: Validation) -> None:
    if v.trusted:
        st.success(md(v.verdict), icon=":material/verified:")
    else:
        st.warning(md(v.verdict), icon=":material/warning:")
    cols = st.columns(4)
    cols[0].metric(
        "Cases", f"{v.cases_sim:,.0f}", help=f"{v.cases_log:,} in the log; error {v.arrival_error:.0%}"
    )
    cols[0].caption(f"log {v.cases_log:,} · error {v.arrival_error:.0%}")
    cols[1].metric("Activity mix differs by", f"{v.activity_error:.0%}")
    cols[1].caption("share of executions that would have to move")
    cols[2].metric(
        "Cycle time, mean",
        duration_words(v.cycle_mean_sim),
        help="The distance compares the whole spread of cycle times, not only their means: the average "
        "time by which the simulated cases would have to move to match the log's (the earth mover's "
        "distance), also as a share of the log's mean. Two equal means can still be far apart.",
    )
    cols[2].caption(
        f"log {duration_words(v.cycle_mean_log)} · distance {duration_words(v.cycle_time_emd_seconds)} "
        f"({v.cycle_error:.0%}; limit {TRUST_LIMIT:.0%})"
    )
    cols[3].metric("Waiting per case, mean", duration_words(v.wait_mean_sim))
    cols[3].caption(
        f"log {duration_words(v.wait_mean_log)} · error {v.wait_error:.0%} (limit {TRUST_LIMIT:.0%})"
    )
    cols[3].caption(
        f"relative to the log's waiting, or to {WAIT_FLOOR:.0%} of its cycle time when waiting is less"
    )


def _controls(log: LogInfo, flt: Filter, model: SimModel) -> _Request | None:
    names = [a.name for a in sorted(model.activities, key=lambda a: -a.count)]
    staffed = [a for a in names if model.activity(a).pool is not None]
    cols = st.columns(3)
    runs = int(cols[0].number_input("Runs", min_value=1, max_value=200, value=10, step=1, key="whatif-runs"))
    seed = int(cols[1].number_input("Seed", min_value=0, value=0, step=1, key="whatif-seed"))
    period = max(round(model.observed.period_days, 1), 0.1)
    horizon = float(
        cols[2].number_input(
            "Horizon (days)",
            min_value=0.1,
            value=period,
            step=1.0,
            format="%.1f",  # a tenth of a day is the finest anyone sets; "4917.00" read as noise
            key=f"whatif-horizon-{log.log_id}",
            help="Days to simulate; the default is the log's own period.",
        )
    )
    card_file = st.file_uploader(
        "Rate card",
        type=["yaml", "yml", "csv"],
        key="whatif-rates",
        help="Hourly rates by resource or role and fixed costs by activity (YAML or CSV): adds the cost per case.",
    )
    cost = None
    if card_file is not None:
        from mining.rates import rate_card_from_bytes
        from mining.simulation.costs import pricing

        cost = pricing(model, rate_card_from_bytes(card_file.getvalue(), name=card_file.name))
        st.caption(md(f"Costs from {cost.label}"))
    uploaded = st.file_uploader(
        "Scenario file (YAML)",
        type=["yaml", "yml"],
        key=f"whatif-file-{log.log_id}",
        help="Any number of scenarios in the format of `mining simulate --scenario`; it replaces the controls below.",
    )
    if uploaded is not None:
        text = uploaded.getvalue().decode("utf-8", errors="replace")
        scenarios = parse_scenarios(text, model, source=uploaded.name)
        st.caption(md("; ".join(f"{s.name}: {s.describe()}" for s in scenarios)))
        return _Request(log.log_id, flt, scenarios, runs, seed, horizon, cost)

    left, right = st.columns(2)
    name = left.text_input("Scenario name", value="My change", key="whatif-name")
    arrivals = right.slider(
        "Arrivals (x as many cases)",
        min_value=0.25,
        max_value=3.0,
        value=1.0,
        step=0.05,
        key="whatif-arrivals",
    )
    left, right = st.columns(2)
    staff_at = left.selectbox(
        "Change the people at",
        ["(nobody)", *staffed],
        key=f"whatif-staff-at-{log.log_id}",
        help="People are added to or removed from the whole pool that performs this activity.",
    )
    staff = 0
    if staff_at != "(nobody)":
        pool = model.pool(model.activity(staff_at).pool or "")
        staff = int(
            right.number_input(
                f"People added to pool {pool.name} (now {pool.capacity})",
                min_value=1 - pool.capacity,
                max_value=1000,
                value=1,
                step=1,
                key=f"whatif-staff-{log.log_id}-{pool.name}",
            )
        )
    left, right = st.columns(2)
    faster = left.selectbox("Change the time of", ["(nothing)", *names], key=f"whatif-dur-at-{log.log_id}")
    factor = 1.0
    if faster != "(nothing)":
        factor = float(
            right.slider(
                f"{faster} takes x as long",
                min_value=0.1,
                max_value=3.0,
                value=0.5,
                step=0.05,
                key="whatif-factor",
            )
        )
    left, right = st.columns(2)
    automate = left.multiselect(
        "Automate", names, key=f"whatif-automate-{log.log_id}", help="Nobody needed, no time taken."
    )
    remove = right.multiselect(
        "Remove", names, key=f"whatif-remove-{log.log_id}", help="Cases skip it and go where it led."
    )
    doc: dict[str, object] = {"name": name.strip() or "My change"}
    if staff:
        doc["staff"] = {staff_at: staff}
    if faster != "(nothing)" and factor != 1.0:
        doc["duration"] = {faster: factor}
    if automate:
        doc["automate"] = list(automate)
    if remove:
        doc["remove"] = list(remove)
    if arrivals != 1.0:
        doc["arrivals"] = float(arrivals)
    import yaml

    scenarios = parse_scenarios(yaml.safe_dump([doc], sort_keys=False), model, source="the scenario controls")
    st.caption(md(f"{scenarios[0].name}: {scenarios[0].describe()}"))
    return _Request(log.log_id, flt, scenarios, runs, seed, horizon, cost)


def _run(model: SimModel, slot: _Slot, request: _Request) -> WhatIf:
    progress = Progress(lambda: bool(st.session_state.get(CANCEL_KEY, False)), text="Simulating…")
    stamp = where()
    slot.idle.clear()
    try:
        result = study(
            model,
            request.scenarios,
            runs=request.runs,
            seed=request.seed,
            horizon_days=request.horizon,
            progress=progress.show,
            cancel=progress.cancelled,
            cost=request.cost,
        )
        slot.stamp, slot.request, slot.result = stamp, request, result
    finally:
        slot.idle.set()
    if progress.control is None:
        progress.bar.empty()
    if progress.control is not None:
        raise progress.control
    return result


def _cell(key: str, value: float, low: float, high: float) -> str:
    if math.isnan(value):
        return "n/a"
    if low == high:
        return format_value(key, value)
    return f"{format_value(key, value)} ({format_value(key, low)} to {format_value(key, high)})"


def _comparison(w: WhatIf) -> None:
    import altair as alt

    st.subheader("Comparison")
    if w.cancelled:
        st.info(
            f"Cancelled: the figures use the {w.baseline.runs} runs that finished.", icon=":material/stop:"
        )
    if not w.validation.trusted:
        st.warning(
            "Not trustworthy: the model did not replay the log well enough; read the differences as rough directions.",
            icon=":material/warning:",
        )
    words = {k: label for k, label, _ in MEASURES}
    if w.cost is not None and w.cost.currency:
        words["cost_per_case"] += f" ({w.cost.currency})"
    outcomes = [w.baseline, *(o for _, o in w.scenarios)]
    rows = []
    for key, label in words.items():
        if w.baseline.value(key) is None:
            continue
        row = {"Measure": label}
        for o in outcomes:
            m = o.value(key)
            row[o.name] = _cell(key, m.mean, m.low, m.high) if m else "n/a"
            if o is not w.baseline:
                d = dict(o.delta).get(key)
                row[f"{o.name}: change"] = (
                    f"{format_value(key, d.mean, signed=True)} ({format_value(key, d.low, signed=True)} to "
                    f"{format_value(key, d.high, signed=True)})"
                    if d
                    else "n/a"
                )
        rows.append(row)
    for pool, _ in w.baseline.utilisation:
        row = {"Measure": f"Utilisation {pool}"}
        for o in outcomes:
            m = dict(o.utilisation).get(pool)
            row[o.name] = _cell("utilisation", m.mean, m.low, m.high) if m else "n/a"
            if o is not w.baseline:
                d = dict(o.delta_utilisation).get(pool)
                row[f"{o.name}: change"] = format_value("utilisation", d.mean, signed=True) if d else "n/a"
        rows.append(row)
    data_table(rows, hide_index=True, width="stretch")
    st.caption(
        f"Mean of {w.baseline.runs} runs of {w.horizon_days:g} days (seed {w.seed}), with the 95% interval over runs; "
        "each change pairs run i of the scenario with run i of the baseline (same random numbers)."
    )

    order = [o.name for o in outcomes]
    bars = []
    for o in outcomes:
        for key in ("cycle_median_seconds", "cycle_mean_seconds", "cycle_p90_seconds"):
            m = o.value(key)
            if m is not None and not math.isnan(m.mean):
                bars.append(
                    {
                        "Scenario": o.name,
                        "Measure": words[key].replace("Cycle time, ", ""),
                        "Days": m.mean / 86_400,
                        "Low": m.low / 86_400,
                        "High": m.high / 86_400,
                    }
                )
    left, right = st.columns(2)
    if bars:
        x = alt.X(
            "Measure:N", title=None, sort=["median", "mean", "90th percentile"], axis=alt.Axis(labelAngle=0)
        )
        offset = alt.XOffset("Scenario:N", sort=order)
        base = alt.Chart(alt.Data(values=bars)).encode(x=x, xOffset=offset)
        chart = base.mark_bar().encode(
            y=alt.Y("Days:Q", title="days"),
            color=alt.Color("Scenario:N", sort=order, legend=alt.Legend(orient="bottom", title=None)),
            tooltip=["Scenario:N", "Measure:N", alt.Tooltip("Days:Q", format=".2f")],
        ) + base.mark_rule(color="black").encode(y="Low:Q", y2="High:Q")
        left.markdown("**Cycle time** (days; black line: 95% interval over runs)")
        left.altair_chart(chart, width="stretch")
    util = [
        {"Scenario": o.name, "Pool": p, "Utilisation": m.mean}
        for o in outcomes
        for p, m in o.utilisation
        if not math.isnan(m.mean)
    ]
    if util:
        chart = (
            alt.Chart(alt.Data(values=util))
            .mark_bar()
            .encode(
                # Every pool named (Vega hid every other label that overlapped), at an angle that fits.
                x=alt.X(
                    "Pool:N", title=None, axis=alt.Axis(labelAngle=-40, labelLimit=160, labelOverlap=False)
                ),
                xOffset=alt.XOffset("Scenario:N", sort=order),
                # The heading says what the share is; a long axis title was cut ("at wor").
                y=alt.Y("Utilisation:Q", axis=alt.Axis(format="%"), title="busy"),
                color=alt.Color("Scenario:N", sort=order, legend=alt.Legend(orient="bottom", title=None)),
                tooltip=["Scenario:N", "Pool:N", alt.Tooltip("Utilisation:Q", format=".0%")],
            )
        )
        right.markdown("**Utilisation per pool** (share of its working hours spent working)")
        right.altair_chart(chart, width="stretch")
