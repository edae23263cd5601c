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
from mining.rates import RateCard, rate_card_from_bytes
from mining.schema import LogInfo
from mining.ui.messages import md, show_error
from mining.ui.state import reading, where

if TYPE_CHECKING:
    from mining.costs import CostSummary
    from mining.drivers.find import DriverReport, OutcomeSpec
    from mining.drivers.segments import SegmentComparison

__all__ = ["RATE_CARD_KEY", "cost_of", "drivers_of", "rate_card", "rate_card_control", "segments_of"]

#: Session key of the uploaded rate card.
RATE_CARD_KEY = "rate-card"
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
    with st.expander(title, icon=":material/payments:", expanded=False):
        st.caption(
            "Hourly rates by resource or role, and fixed costs by activity, as YAML or CSV "
            "(columns kind, name, value). The card is kept for this session and used on every page."
        )
        upload = st.file_uploader("Rate card (.yaml, .yml or .csv)", type=["yaml", "yml", "csv"], key=key)
        if upload is not None:
            try:
                card = rate_card_from_bytes(upload.getvalue(), name=upload.name)
            except MiningError as exc:
                show_error(exc)
            else:
                st.session_state[RATE_CARD_KEY] = card
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
