"""Root causes: which kinds of cases are slow, breach the SLA, loop or deviate, ranked by what fixing them is worth.

One :func:`mining.drivers.find.find_drivers` run over the kept cases: a card
per driver (its sentence, the figures behind it and its flags), the excluded
candidates with the reason, and how it was computed.  With a rate card the
drivers' impact is also priced.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from mining.analysis.filters import Filter
from mining.drivers.find import Driver, DriverReport, OutcomeSpec
from mining.durations import duration_unit, duration_words, format_duration, parse_duration
from mining.errors import AnalysisError
from mining.rates import compact_money, format_money
from mining.schema import LogInfo
from mining.spreadsheet import csv_bytes
from mining.ui import state, why
from mining.ui.layout import explore_page
from mining.ui.messages import md
from mining.ui.tables import data_table
from mining.words import plural

__all__ = ["OUTCOMES", "render"]

#: The outcomes offered, with their labels.
OUTCOMES = {
    "duration": "Cycle time",
    "sla": "SLA breach",
    "rework": "Rework (a repeated activity)",
    "deviation": "Deviation from the common paths",
}
_SHOWN = 10
_GROUPS = (
    (
        "Drivers",
        "Kinds of cases, known when a case starts, and who handled its steps, that go worse than the rest.",
    ),
    (
        "Mechanisms",
        "How the worse cases unfold (hand-offs, loops, activities they contain): what happens, not why.",
    ),
    (
        "Confounded",
        "Differences that shrink or vanish when another attribute is held fixed: that attribute explains them.",
    ),
)


def render() -> None:
    explore_page("Root causes", _render)


def _render(log: LogInfo, flt: Filter) -> None:
    spec = _controls(log)
    card = why.rate_card_control(key="rc-rates")
    if spec is None:
        return
    report = why.drivers_of(log, flt, spec, card)
    _summary(report)
    if not report.drivers:
        st.success(
            "No driver: no attribute value is associated with a worse outcome beyond chance "
            f"({report.tested:,} values of {report.candidates:,} attributes tested).",
            icon=":material/check_circle:",
        )
    else:
        st.altair_chart(_impact_chart(report), width="stretch")
        heading = None
        for i, d in enumerate(report.drivers[:_SHOWN], start=1):
            group = _GROUPS[2 if d.confounded_by else 1 if d.kind == "mechanism" else 0]
            if group != heading:
                heading = group
                st.subheader(group[0])
                st.caption(group[1])
            _card(i, d, report)
        if len(report.drivers) > _SHOWN:
            st.caption(f"{plural(len(report.drivers) - _SHOWN, 'more driver')} in the download below.")
        st.download_button(
            "Download the drivers (CSV)",
            _drivers_csv(report),
            file_name=f"drivers-{spec.kind}.csv",
            mime="text/csv",
            icon=":material/download:",
            key="rc-download",
        )
    _excluded(report)
    with st.expander("How this was computed", icon=":material/info:"):
        for note in report.notes:
            st.markdown("- " + md(note))


def _controls(log: LogInfo) -> OutcomeSpec | None:
    cols = st.columns([2, 1, 3])
    kind = cols[0].selectbox(
        "Outcome",
        list(OUTCOMES),
        format_func=OUTCOMES.__getitem__,
        key="rc-outcome",
        help="What to explain: which kinds of cases take longer, breach the SLA, repeat work or deviate.",
    )
    if kind != "sla":
        return OutcomeSpec(kind)
    _, sla_default = state.sample_defaults(log.name)
    text = cols[1].text_input(
        "SLA (cycle time)",
        value=sla_default or "5d",
        key=f"rc-sla-{log.log_id}",
        placeholder="e.g. 5d, 36h, P5D",
        help="A limit on the elapsed cycle time.",
    )
    if not text.strip():
        st.info("Enter an SLA to explain its breaches.", icon=":material/info:")
        return None
    seconds = parse_duration(text.strip(), what="SLA", error=AnalysisError).total_seconds
    return OutcomeSpec("sla", sla_seconds=seconds)


def _value(report: DriverReport, v: float | None) -> str:
    if v is None:
        return "-"
    return duration_words(v) if report.outcome.unit == "seconds" else f"{v:.1%}"


def _compact(report: DriverReport, v: float | None) -> str:
    if v is None or report.outcome.unit != "seconds":
        return _value(report, v)
    return format_duration(v)


def _effect(report: DriverReport, v: float | None) -> str:
    if v is None:
        return "-"
    if report.outcome.unit == "seconds":
        return ("+" if v >= 0 else "-") + format_duration(abs(v))
    return f"{v * 100:+.1f} pp"


def _summary(report: DriverReport) -> None:
    o = report.outcome
    cols = st.columns(4)
    cols[0].metric("Cases", f"{o.cases:,}")
    cols[1].metric(
        "Judged", f"{o.judged:,}", help="Cases whose outcome is known (see How this was computed)."
    )
    if o.unit == "seconds":
        cols[2].metric(
            "Median cycle time",
            _value(report, o.baseline),
            help="Open cases count as lasting at least as long as they have run so far (a Kaplan-Meier "
            "median), and cases of one event, which took no time, are left out; so this can differ from the "
            "Overview's median case duration, which takes every case as it stands.",
        )
    else:
        cols[2].metric("Overall rate", _value(report, o.baseline))
    cols[3].metric("Drivers", f"{len(report.drivers):,}", help="Unconfounded drivers first.")
    st.caption(md(o.definition[:1].upper() + o.definition[1:] + "."))


def _impact_chart(report: DriverReport) -> alt.Chart:
    seconds = report.outcome.unit == "seconds"
    shown = report.drivers[:_SHOWN]
    # A driver worth 40 minutes reads as 0.03 days on a day axis: the axis takes the biggest bar's unit.
    per, name = duration_unit(max((abs(d.impact or 0.0) for d in shown), default=0.0))
    rows = []
    for d in shown:
        impact = d.impact or 0.0
        rows.append(
            {
                "driver": d.label,
                "impact": impact / per if seconds else impact * 100,
                "status": "confounded"
                if d.confounded_by
                else ("mechanism" if d.kind == "mechanism" else "driver"),
                "sentence": d.sentence,
            }
        )
    unit = f"{name} off the median" if seconds else "percentage points off the rate"
    frame = pd.DataFrame(rows)
    return (
        alt.Chart(frame, title=f"If these cases did as well as the rest ({unit})")
        .mark_bar()
        .encode(
            x=alt.X("impact:Q", title=unit),
            y=alt.Y("driver:N", sort=None, title=None, axis=alt.Axis(labelLimit=440)),
            color=alt.Color(
                "status:N",
                scale=alt.Scale(
                    domain=["driver", "mechanism", "confounded"], range=["#2171b5", "#9e9ac8", "#c7c7c7"]
                ),
                legend=alt.Legend(title=None, orient="bottom", labelLimit=300),
            ),
            tooltip=[alt.Tooltip("driver:N"), alt.Tooltip("impact:Q", format=",.2f", title=unit)],
        )
        .properties(height=alt.Step(26))
    )


def _card(i: int, d: Driver, report: DriverReport) -> None:
    with st.container(border=True):
        badges = []
        if d.confounded_by:
            badges.append(
                ":gray-badge[:material/link: confounded by " + md(", ".join(d.confounded_by[:3])) + "]"
            )
        if d.simpson:
            badges.append(":orange-badge[:material/warning: Simpson's paradox]")
        if d.kind == "mechanism":
            badges.append(":violet-badge[mechanism]")
        st.markdown(f"**{i}. {md(d.label)}** " + " ".join(badges))
        st.markdown(md(d.sentence))
        cols = st.columns(6 if d.impact_cost is not None else 5)
        cols[0].metric("Cases", f"{d.cases:,}", help=f"{d.share:.1%} of the judged cases")
        # Compact durations, as the difference beside them: "19.2 minutes" was cut to "19.2 min…".
        cols[1].metric("These cases", _compact(report, d.outcome_value))
        cols[2].metric("The rest", _compact(report, d.rest_value))
        lo, hi = d.ci
        cols[3].metric(
            "Difference",
            _effect(report, d.effect),
            help=f"95% interval {_effect(report, lo)} to {_effect(report, hi)}; held fixed for the other "
            f"attributes: {_effect(report, d.adjusted_effect)}",
        )
        cols[4].metric(
            "Impact",
            _effect(report, d.impact).lstrip("+"),
            help="How much the overall figure improves if these cases match the rest.",
        )
        if d.impact_cost is not None:
            cols[5].metric(
                "Extra cost",
                compact_money(d.impact_cost, report.currency),
                help=f"{format_money(d.impact_cost, report.currency)}: what these cases cost beyond the rest's "
                "average cost per case, summed over them (rate card).",
            )


def _excluded(report: DriverReport) -> None:
    if not report.excluded:
        return
    with st.expander(f"Excluded ({len(report.excluded)})", icon=":material/block:"):
        st.caption(
            "Candidates left out by a guard: fields filled only once the outcome is decided (leakage), "
            "the outcome itself, and values whose difference does not hold in both halves of the period."
        )
        data_table(
            pd.DataFrame(
                [
                    {"attribute": e.attribute, "value": e.value or "(all)", "reason": e.reason}
                    for e in report.excluded
                ]
            ),
            hide_index=True,
            width="stretch",
        )


_CSV_FIELDS = (
    "attribute", "value", "cases", "share", "outcome_value", "rest_value", "effect", "adjusted_effect",
    "simpson", "impact", "impact_cost", "q_value", "sentence",
)  # fmt: skip


def _drivers_csv(report: DriverReport) -> bytes:
    header = ["rank", *_CSV_FIELDS[:7], "ci_low", "ci_high", *_CSV_FIELDS[7:], "confounded_by"]
    rows = [
        [
            i,
            *(getattr(d, f) for f in _CSV_FIELDS[:7]),
            d.ci[0],
            d.ci[1],
            *(getattr(d, f) for f in _CSV_FIELDS[7:]),
            "; ".join(d.confounded_by),
        ]
        for i, d in enumerate(report.drivers, start=1)
    ]
    return csv_bytes(header, rows)
