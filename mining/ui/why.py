"""What the Root causes and Compare pages share: the rate card upload, and their cached measures.

The rate card a user uploads is kept in the session, so every page that
prices time (Overview, Bottlenecks, Compare, Root causes, Monitoring) uses
the same card until it is removed.  Measures are cached like those of
:mod:`mining.ui.measures`: keyed by the workspace's path and version, the
log, the filter and the options (all frozen, so hashable).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from mining.analysis.filters import Filter
from mining.errors import MiningError
from mining.rates import RateCard, compact_money, rate_card_from_bytes
from mining.schema import LogInfo
from mining.ui.messages import md, show_error
from mining.ui.state import reading, where
from mining.ui.tables import data_table

if TYPE_CHECKING:
    from mining.costs import CostSummary
    from mining.drivers.find import DriverReport, OutcomeSpec
    from mining.drivers.segments import SegmentComparison
    from mining.monitor.lean import LeanView

__all__ = [
    "RATE_CARD_KEY",
    "cost_of",
    "cost_section",
    "drivers_of",
    "rate_card",
    "rate_card_control",
    "segments_of",
    "waste_in_money",
    "waste_section",
]

#: Session key of the uploaded rate card.
RATE_CARD_KEY = "rate-card"
_READ_KEY = "rate-card-file"
_ERROR_KEY = "rate-card-error"
_EXAMPLE = """currency: EUR
resources:        # resource: hourly rate, or the name of a role
  Ann: 40
  Bob: clerk
  "*": 30         # everyone else
roles:
  clerk: 35
activities:       # activity: fixed cost per execution
  Send invoice: 1.20
waiting: no       # yes: also charge waiting time
"""


def rate_card() -> RateCard | None:
    """The rate card uploaded in this session, if any."""
    card = st.session_state.get(RATE_CARD_KEY)
    return card if isinstance(card, RateCard) else None


def rate_card_control(*, key: str) -> RateCard | None:
    """An expander to upload (or remove) the session's rate card; returns the card in use."""
    card = rate_card()
    title = "Rate card: " + (md(card.source) if card is not None else "none (upload one to see money)")
    # Its content (an uploader, an example card) is drawn only while it is open: a closed expander's
    # content is still built by the browser on every rerun of the page it sits on.
    panel = st.expander(title, icon=":material/payments:", key=f"{key}-panel", on_change="rerun")
    if not panel.open:
        return card
    with panel:
        st.caption(
            "Hourly rates by resource or role, and fixed costs by activity, as YAML or CSV "
            "(columns kind, name, value). The card is kept for this session and used on every page."
        )
        upload = st.file_uploader("Rate card (.yaml, .yml or .csv)", type=["yaml", "yml", "csv"], key=key)
        # Each uploaded file is read once: removing the card must not bring it back from the uploader.
        if upload is not None and st.session_state.get(_READ_KEY) != upload.file_id:
            st.session_state[_READ_KEY] = upload.file_id
            st.session_state.pop(_ERROR_KEY, None)
            try:
                card = rate_card_from_bytes(upload.getvalue(), name=upload.name)
            except MiningError as exc:
                st.session_state[_ERROR_KEY] = exc
            else:
                st.session_state[RATE_CARD_KEY] = card
                st.rerun()  # the title above and every figure below must show the new card
        failed = st.session_state.get(_ERROR_KEY)
        if upload is not None and isinstance(failed, MiningError):
            show_error(failed)
        if card is not None:
            st.caption(md(card.label()))
            if st.button("Remove the rate card", key=f"{key}-remove"):
                st.session_state.pop(RATE_CARD_KEY, None)
                card = None
                st.rerun()
        with st.popover("Example card"):
            st.code(_EXAMPLE, language="yaml")
    return card


@st.cache_data(show_spinner=False, max_entries=16)
def _drivers_cached(
    workspace: str,
    version: tuple[int, ...],
    log_id: int,
    flt: Filter,
    spec: OutcomeSpec,
    card: RateCard | None,
) -> DriverReport:
    from mining.drivers.find import find_drivers

    with reading(workspace) as store:
        return find_drivers(store, log_id, spec, flt, rates=card)


def drivers_of(log: LogInfo, flt: Filter, spec: OutcomeSpec, card: RateCard | None) -> DriverReport:
    """The drivers of an outcome over the kept cases."""
    with st.spinner("Testing every attribute value..."):
        return _drivers_cached(*where(), log.log_id, flt, spec, card)


@st.cache_data(show_spinner=False, max_entries=16)
def _segments_cached(
    workspace: str,
    version: tuple[int, ...],
    log_id: int,
    flt: Filter,
    by: str,
    sla_seconds: float | None,
    card: RateCard | None,
) -> SegmentComparison:
    from mining.drivers.segments import compare_segments

    with reading(workspace) as store:
        return compare_segments(store, log_id, by, flt, sla_seconds=sla_seconds, rates=card)


def segments_of(
    log: LogInfo, flt: Filter, by: str, *, sla_seconds: float | None, card: RateCard | None
) -> SegmentComparison:
    """The segments of one attribute compared with the rest."""
    with st.spinner("Comparing the segments..."):
        return _segments_cached(*where(), log.log_id, flt, by, sla_seconds, card)


@st.cache_data(show_spinner=False, max_entries=16)
def _cost_cached(
    workspace: str, version: tuple[int, ...], log_id: int, flt: Filter, card: RateCard
) -> CostSummary:
    from mining.costs import cost_summary

    with reading(workspace) as store:
        return cost_summary(store, log_id, card, flt)


def cost_of(log: LogInfo, flt: Filter, card: RateCard) -> CostSummary:
    """Cost per case and per activity of the kept cases under the card."""
    return _cost_cached(*where(), log.log_id, flt, card)


@st.cache_data(show_spinner=False, max_entries=16)
def _waste_cached(
    workspace: str, version: tuple[int, ...], log_id: int, flt: Filter, card: RateCard
) -> LeanView:
    from mining.monitor.lean import lean_view

    with reading(workspace) as store:
        return lean_view(store, log_id, flt, cost_per_hour=card)


def waste_in_money(log: LogInfo, flt: Filter, card: RateCard) -> LeanView:
    """The Lean waste (waiting, hand-offs, rework) of the kept cases, priced by the card."""
    return _waste_cached(*where(), log.log_id, flt, card)


def cost_section(log: LogInfo, flt: Filter, *, key: str) -> None:
    """Cost per case and per activity under the session's rate card (or how to get one)."""
    import pandas as pd

    from mining.ui.messages import reporting_errors

    st.subheader("Cost per case")
    card = rate_card_control(key=key)
    if card is None:
        st.caption("Upload a rate card above to turn processing time into cost per case and per activity.")
        return
    with reporting_errors():
        summary = cost_of(log, flt, card)
        cols = st.columns(4)
        for col, label, value in zip(
            cols,
            ("Total cost", "Mean per case", "Median per case", "p90 per case"),
            (summary.total, summary.mean, summary.median, summary.p90),
            strict=True,
        ):
            col.metric(
                label,
                compact_money(value, card.currency),
                help=f"{card.money(value)} over {summary.cases:,} cases",
            )
        data_table(
            pd.DataFrame(
                [
                    {
                        "activity": a.activity,
                        "executions": a.executions,
                        "hours charged": round(a.hours, 1),
                        "labour": card.money(a.labour),
                        "fixed": card.money(a.fixed),
                        "total": card.money(a.total),
                        "share of cost": f"{a.total / summary.total:.1%}" if summary.total else "-",
                    }
                    for a in summary.activities
                ]
            ),
            hide_index=True,
            width="stretch",
        )
        st.caption(md(summary.note))


def waste_section(log: LogInfo, flt: Filter, *, key: str) -> None:
    """Waste (waiting, hand-offs, rework) in hours and money under the session's rate card."""
    import pandas as pd

    from mining.ui.messages import reporting_errors

    st.subheader("Waste in money")
    card = rate_card_control(key=key)
    if card is None:
        st.caption("Upload a rate card above to price the waiting, hand-offs and rework in money.")
        return
    with reporting_errors():
        view = waste_in_money(log, flt, card)
        data_table(
            pd.DataFrame(
                [
                    {
                        "waste": w.kind,
                        "hours": None if w.hours is None else round(w.hours, 1),
                        "cost": card.money(w.cost),
                        "cases": w.cases,
                        "costliest cases": ", ".join(w.top_cases[:5]),
                    }
                    for w in view.wastes
                ]
            ),
            hide_index=True,
            width="stretch",
        )
        for w in view.wastes:
            st.caption(f"**{md(w.kind.capitalize())}**: {md(w.explanation)}")
