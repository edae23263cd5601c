"""Conformance: the kept cases checked against a documented model, and rules checked without one.

The model is a sample model (``sample_logs/*.bpmn``, the one named like the
log preselected) or an upload (BPMN, PNML, YAML or TXT steps, cached by the
hash of its bytes).  The page shows how the model's tasks met the log's
activities and lets the user confirm near matches, then runs
:func:`mining.conformance.check.conform` with a progress bar and a Cancel
button: a cancelled or over-budget check shows what it aligned and the
bounds of fitness, never a silently partial figure.  Results: fitness,
precision, fitting cases, the deviations in words and as a table with
their cases and events, an allowlist, and the deviating cases as CSV and
XLSX.  The check's map overlay is kept for the Process map page.

Once a log has been checked against a model, changing the labels, method,
budget, allowlist or filters checks it again at once (complete results are
cached); after Cancel it waits for the next press of **Check**.
"""

from __future__ import annotations

import hashlib
import re
import threading

import streamlit as st

from mining.analysis.filters import Filter
from mining.conformance import (
    METHODS,
    MODEL_SUFFIXES,
    Allowlist,
    ConformanceResult,
    Deviation,
    LabelMapping,
    ProcessModel,
)
from mining.schema import LogInfo
from mining.ui import measures, state
from mining.ui.layout import explore_page
from mining.ui.messages import md, reporting_errors
from mining.ui.progress import CheckInterrupted

__all__ = ["CANCEL_KEY", "allow_entry", "render"]

#: Session flag set by the Cancel button; the check's ``cancel()`` reads it.
CANCEL_KEY = "conformance.cancel"
_SLOTS = "conformance.slots"  # log id -> _Slot
_ACTIVE = "conformance.active"  # log id -> hash of the model checked last: reruns go automatically
_UPLOADED = "conformance.uploaded"  # (name, bytes) of the model uploaded last, kept across pages
#: How long a new run waits for an interrupted check to hand over what it aligned (seconds).
_HANDOVER_WAIT = 120.0
_KINDS = {
    "skipped": "skipped",
    "inserted": "inserted",
    "out_of_order": "out of order",
    "not_in_model": "not in the model",
}
#: Allowlist prefix of each deviation kind (see mining.conformance.deviations).
_ALLOW_PREFIX = {"skipped": "skip", "inserted": "insert", "not_in_model": "insert", "out_of_order": "swap"}
_RULE_EXAMPLE = "\n".join(
    ["Approve before Pay", "Receive then Pay", "four-eyes Approve, Pay", "Receive -> Pay within 2d"]
)


def render() -> None:
    explore_page("Conformance", _render)


def allow_entry(kind: str, activity: str) -> str:
    """The allowlist line that accepts a deviation: ``skip:A``, ``insert:A`` or ``swap:A``."""
    return f"{_ALLOW_PREFIX[kind]}:{activity}"


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._") or "log"


def _token(value: object) -> str:
    # Widget keys that change when what their options come from changes (stale picks are dropped).
    return hashlib.sha256(repr(value).encode()).hexdigest()[:12]


def _render(log: LogInfo, flt: Filter) -> None:
    chosen = None
    with reporting_errors():
        chosen = _choose_model(log)
    if chosen is not None:
        with reporting_errors():
            _check(log, flt, *chosen)
    st.divider()
    with reporting_errors():
        _rules(log, flt)


# -- the model -----------------------------------------------------------------------
def _choose_model(log: LogInfo) -> tuple[ProcessModel, str] | None:
    st.subheader("Model")
    source = st.radio(
        "Model",
        ["Sample model", "Upload a model"],
        horizontal=True,
        key=state.keep_widget("conf-source", "Sample model"),
        label_visibility="collapsed",
    )
    if source == "Sample model":
        models = state.sample_models()
        if not models:
            st.info("No sample models are installed: upload a model.", icon=":material/info:")
            return None
        names = [p.name for p in models]
        wanted = f"{log.name}.bpmn"
        key = state.keep_widget(f"conf-sample-{log.log_id}", wanted if wanted in names else names[0])
        if st.session_state[key] not in names:
            st.session_state[key] = names[0]
        name = st.selectbox(
            "Sample model",
            names,
            key=key,
            help="The documented BPMN models of the sample processes.",
        )
        data = models[names.index(name)].read_bytes()
    else:
        uploaded = st.file_uploader(
            "Model file",
            type=[s.lstrip(".") for s in MODEL_SUFFIXES],
            key="conf-upload",
            help="BPMN 2.0 (bpmn.io, Camunda, Signavio), PNML, or a list of steps: a .txt with one step "
            "per line or YAML 'steps: [a, {parallel: [b, c]}, d]'.",
        )
        if uploaded is not None:
            st.session_state[_UPLOADED] = (uploaded.name, uploaded.getvalue())
        elif _UPLOADED in st.session_state:
            # A file picker forgets its file on another page: the model uploaded last stays chosen.
            st.caption(f"Using the model uploaded earlier, {md(st.session_state[_UPLOADED][0])}.")
        else:
            st.caption("Upload a .bpmn, .pnml, .yaml/.yml or .txt model.")
            return None
        name, data = st.session_state[_UPLOADED]
    model, sha256 = measures.read_model(name, data)
    st.caption(
        f"{md(model.name)}: {model.kind} model with {len(model.tasks):,} tasks: " + md(", ".join(model.tasks))
    )
    for note in model.notes:
        st.caption(":material/info: " + md(note))
    return model, sha256


# -- label matching ------------------------------------------------------------------
def _labels(log: LogInfo, flt: Filter, model: ProcessModel, sha256: str) -> LabelMapping:
    first = measures.labels_of(log, flt, model, LabelMapping())
    suggested = first.suggested
    picked: list[int] = []
    if suggested:
        picked = st.multiselect(
            "Confirm near matches",
            range(len(suggested)),
            format_func=lambda i: (
                f"{suggested[i].model_label} = {suggested[i].log_activity} ({suggested[i].ratio:.0%} similar)"
            ),
            key=state.keep_widget(f"conf-confirm-{log.log_id}-{sha256[:12]}", []),
            help="Near matches are never applied until you confirm them.",
        )
    invisible: list[str] = []
    if first.model_only:
        invisible = st.multiselect(
            "Treat as silent steps (not activities)",
            first.model_only,
            key=state.keep_widget(f"conf-invisible-{log.log_id}-{sha256[:12]}", []),
            help="Model tasks that are not recorded in the log, e.g. gateways drawn as tasks.",
        )
    mapping = LabelMapping(
        tuple((suggested[i].model_label, suggested[i].log_activity) for i in sorted(picked)), tuple(invisible)
    )
    match = first if mapping == LabelMapping() else measures.labels_of(log, flt, model, mapping)
    left, right = st.columns(2)
    with left:
        st.caption(f"Matched: {len(match.matched):,} model tasks")
        st.dataframe(
            [{"model task": m, "log activity": a, "how": how} for m, a, how in match.matched],
            hide_index=True,
            width="stretch",
            key="conf-matched",
        )
    with right:
        for title, items in (
            ("Model tasks missing from the log", match.model_only),
            ("Log activities missing from the model", match.log_only),
            ("Silent labels (not activities)", match.silent),
        ):
            st.caption(f"{title}: " + (md(", ".join(items)) if items else "none"))
        if suggested:
            st.caption(
                "Suggested near matches: "
                + md("; ".join(f"{s.model_label} = {s.log_activity}" for s in suggested))
            )
    return mapping


# -- the check -----------------------------------------------------------------------
def _request_cancel() -> None:
    st.session_state[CANCEL_KEY] = True


class _Slot:
    """The last check of one log in this session, and whether one is running.

    A click during a check starts a new script run at once (Streamlit's fast
    reruns) while the old run is still checking, and the old run can no
    longer touch the session state (every access raises ``StopException``).
    It hands its result over through this object instead, and the new run
    waits for ``idle`` before it shows it.
    """

    def __init__(self) -> None:
        self.stamp: tuple[str, tuple[int, ...]] | None = None
        self.request: measures.ConformanceRequest | None = None
        self.result: ConformanceResult | None = None
        self.idle = threading.Event()
        self.idle.set()

    def keep(self, request: measures.ConformanceRequest, result: ConformanceResult) -> None:
        self.stamp, self.request, self.result = state.where(), request, result


def _slot(log: LogInfo) -> _Slot:
    slots = st.session_state.setdefault(_SLOTS, {})
    return slots.setdefault(log.log_id, _Slot())


def _check(log: LogInfo, flt: Filter, model: ProcessModel, sha256: str) -> None:
    st.subheader("Labels")
    mapping = _labels(log, flt, model, sha256)

    st.subheader("Check")
    cols = st.columns([3, 2, 1, 1], vertical_alignment="bottom")
    method = cols[0].radio(
        "Method",
        METHODS,
        horizontal=True,
        key=state.keep_widget("conf-method", METHODS[0]),
        help="Alignments give fitness and the deviations; token replay gives fitness only.",
    )
    budget = cols[1].number_input(
        "Time budget (seconds)",
        min_value=0.0,
        step=10.0,
        key=state.keep_widget("conf-budget", 120.0),
        help="Stop aligning after this long and report what was aligned, with bounds on fitness.",
    )
    pressed = cols[2].button("Check", type="primary", key="conf-run", icon=":material/play_arrow:")
    cols[3].button("Cancel", key="conf-cancel", on_click=_request_cancel, icon=":material/stop:")

    allow_key = state.keep_widget(f"conf-allow-{log.log_id}", [])
    accepted = sorted(st.session_state.get(allow_key, []))
    request = measures.ConformanceRequest(
        log_id=log.log_id,
        flt=flt,
        model_name=model.name,
        model_sha256=sha256,
        method=method,
        budget=budget,
        mapping=mapping,
        allow=Allowlist.parse(accepted, source="the allowlist") if accepted else None,
    )
    if pressed:
        st.session_state[CANCEL_KEY] = False
    slot = _slot(log)
    if not slot.idle.is_set():
        with st.spinner("Stopping the running check…"):
            slot.idle.wait(_HANDOVER_WAIT)
    if not slot.idle.is_set():
        st.info("A check is still finishing: its result shows on the next action.", icon=":material/info:")
        return
    result = slot.result
    fresh = result is not None and slot.stamp == state.where() and slot.request == request
    automatic = st.session_state.get(_ACTIVE, {}).get(log.log_id) == sha256 and not st.session_state.get(
        CANCEL_KEY, False
    )
    if pressed or (automatic and not fresh):
        result = _run(log, slot, request, model)
    elif not fresh:
        if result is not None and st.session_state.get(CANCEL_KEY, False):
            st.info("The check was cancelled and the settings changed since: press **Check**.")
        else:
            st.info("Press **Check** to check the kept cases against the model.", icon=":material/info:")
        return
    assert result is not None
    _show(log, request, result, allow_key)


def _run(
    log: LogInfo, slot: _Slot, request: measures.ConformanceRequest, model: ProcessModel
) -> ConformanceResult:
    active = dict(st.session_state.get(_ACTIVE, {}))
    active[log.log_id] = request.model_sha256
    st.session_state[_ACTIVE] = active
    slot.idle.clear()
    try:
        try:
            result = measures.conformance_of(
                request, model, cancel=lambda: bool(st.session_state.get(CANCEL_KEY, False))
            )
        except CheckInterrupted as stop:
            # A click stopped this run: hand over what was aligned, then let Streamlit go on.
            slot.keep(request, stop.result)
            raise stop.control from None
        slot.keep(request, result)
    finally:
        slot.idle.set()
    return result


# -- results -------------------------------------------------------------------------
def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else many or one + 's'}"


def _days(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 86400, 2)


def _show(
    log: LogInfo, request: measures.ConformanceRequest, result: ConformanceResult, allow_key: str
) -> None:
    if result.overlay is not None:
        state.remember_overlay(log, result.model, result.overlay)
    lo, hi = result.fitness_bounds
    flo, fhi = result.fitting_cases_bounds
    if not result.complete:
        st.warning(
            f"Partial result: {result.aligned_variants_share:.0%} of the variants "
            f"({result.aligned_cases_share:.1%} of the cases) were aligned. The fitness of all cases lies "
            f"between {lo:.3f} and {hi:.3f}, the share of fitting cases between {flo:.1%} and {fhi:.1%}. "
            "Press **Check** to run it again.",
            icon=":material/hourglass_disabled:",
        )
    cols = st.columns(4)
    cols[0].metric(
        "Fitness",
        f"{result.fitness:.3f}" if result.fitness is not None else f"{lo:.3f} to {hi:.3f}",
        help="How well the cases fit the model, from 0 to 1: 1 means every case runs exactly as the model "
        "allows. "
        + (
            "Each case is lined up with its closest path through the model and the steps it has to skip or "
            "add are counted (the standard alignment measure)."
            if result.method == "alignments"
            else "Each case is replayed on the model and the steps the model misses or leaves over are counted "
            "(the standard token-replay measure)."
        ),
    )
    cols[1].metric(
        "Precision",
        "-" if result.precision is None else f"{result.precision:.3f}",
        help="How little the model allows beyond what the cases do, from 0 to 1: 1 means the model allows "
        "nothing that the log never shows (the standard escaping-edges measure).",
    )
    cols[2].metric(
        "Fitting cases",
        f"{result.fitting_cases_share:.1%}"
        if result.fitting_cases_share is not None
        else f"{flo:.1%} to {fhi:.1%}",
        help="Cases without a deviation (after the allowlist).",
    )
    cols[3].metric(
        "Checked cases",
        f"{result.cases:,}",
        help=f"{len(result.variants):,} variants, checked by {result.engine} in {result.seconds:.1f} s",
    )
    for note in result.notes:
        st.caption(":material/info: " + md(note))

    st.subheader("Deviations")
    if result.method != "alignments":
        st.caption("Deviations per activity come from alignments: choose that method to see them.")
    elif not result.complete:
        st.caption(f"Deviations of the aligned {result.aligned_cases_share:.1%} of the cases only.")
    elif not result.deviations:
        st.success("No deviation is left in the checked cases.", icon=":material/check_circle:")
    for d in result.deviations:
        st.markdown(md(d.sentence))
    if result.deviations:
        _deviation_table(log, request, result)
    _allowlist(result, allow_key)
    if result.method == "alignments":
        _downloads(log, request, result)
    if result.overlay is not None:
        st.caption(
            f"The **Process map** page can now mark the {_count(len(result.overlay.edges), 'path')} and "
            f"{_count(len(result.overlay.activities), 'activity', 'activities')} the model does not allow."
        )


def _deviation_table(log: LogInfo, request: measures.ConformanceRequest, result: ConformanceResult) -> None:
    rows = [
        {
            "kind": _KINDS[d.kind],
            "activity": d.activity,
            "cases": d.cases,
            "share": f"{d.share:.1%}",
            "occurrences": d.occurrences,
            "median duration with (days)": _days(d.median_duration_with_s),
            "median duration without (days)": _days(d.median_duration_without_s),
            "impact (days)": None
            if d.median_duration_with_s is None or d.median_duration_without_s is None
            else _days(d.median_duration_with_s - d.median_duration_without_s),
        }
        for d in result.deviations
    ]
    st.dataframe(rows, hide_index=True, width="stretch", key="conf-deviations")

    st.subheader("Cases of a deviation")
    devs: tuple[Deviation, ...] = result.deviations
    index = st.selectbox(
        "Deviation",
        range(len(devs)),
        format_func=lambda i: f"{devs[i].activity}: {_KINDS[devs[i].kind]} ({devs[i].cases:,} cases)",
        key=f"conf-deviation-{_token(request)}",
    )
    chosen = devs[index]
    cases, more = measures.deviation_cases_of(request, result, chosen.kind, chosen.activity)
    st.dataframe(
        [
            {
                "case": c.case_id,
                "variant": c.variant_id,
                "deviations": c.deviations,
                "duration (days)": _days(c.duration_s),
            }
            for c in cases
        ],
        hide_index=True,
        width="stretch",
        key="conf-deviation-cases",
    )
    if more:
        st.caption(f"The first {len(cases):,} of {chosen.cases:,} cases, by case id.")
    if not cases:
        return
    case_id = st.selectbox("Case", [c.case_id for c in cases], key=f"conf-case-{_token((request, index))}")
    st.caption("Events of the case")
    st.dataframe(
        [
            {
                "activity": e.activity,
                "start (UTC)": e.start_timestamp,
                "timestamp (UTC)": e.timestamp,
                "resource": e.resource or "",
                "lifecycle": e.lifecycle or "",
            }
            for e in measures.events_of_case(log, case_id)
        ],
        hide_index=True,
        width="stretch",
        key="conf-case-events",
    )


def _allowlist(result: ConformanceResult, allow_key: str) -> None:
    if result.method != "alignments":
        return
    chosen = list(st.session_state.get(allow_key, []))
    options = sorted(
        set(chosen)
        | {allow_entry(d.kind, d.activity) for d in result.deviations}
        | {allow_entry(k, a) for k, a, _ in result.accepted}
    )
    if not options:
        return
    st.multiselect(
        "Accepted deviations (allowlist)",
        options,
        key=allow_key,
        help="Accepted deviations leave the figures; a case whose only deviations are accepted fits.",
    )
    if result.accepted:
        st.caption(
            "Accepted: " + md("; ".join(f"{a} {_KINDS[k]} in {n:,} cases" for k, a, n in result.accepted))
        )


def _downloads(log: LogInfo, request: measures.ConformanceRequest, result: ConformanceResult) -> None:
    export = measures.deviating_export_of(request, result)
    if not export.rows:
        return
    base = f"{_safe_name(log.name)}-deviating-cases"
    left, right = st.columns(2)
    left.download_button(
        f"Download {export.rows:,} deviating cases (CSV)",
        export.csv,
        file_name=f"{base}.csv",
        mime="text/csv",
        on_click="ignore",
        key="conf-download-csv",
        icon=":material/download:",
    )
    right.download_button(
        f"Download {export.rows:,} deviating cases (Excel)",
        export.xlsx,
        file_name=f"{base}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        on_click="ignore",
        key="conf-download-xlsx",
        icon=":material/download:",
    )


# -- rules ---------------------------------------------------------------------------
def _rules(log: LogInfo, flt: Filter) -> None:
    st.subheader("Rules")
    text = st.text_area(
        "Rules, one per line",
        key=state.keep_widget(f"conf-rules-{log.log_id}", ""),
        placeholder=_RULE_EXAMPLE,
        help="A before B · A then B · four-eyes A, B · A -> B within 2d · never A · at most once A · "
        "not both A, B. Quote names that contain these words; # starts a comment.",
    )
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    if not lines:
        st.caption("Rules are checked over the kept cases, without a model.")
        return
    results = measures.rules_of(log, flt, lines)
    for r in results:
        st.markdown(md(r.sentence))
    st.dataframe(
        [
            {
                "rule": r.name,
                "type": r.type,
                "judged cases": r.activated,
                "violations": r.violations,
                "rate": f"{r.rate:.1%}",
                "not applicable": r.not_applicable,
                "unknown": r.unknown,
                "pending": r.pending,
                "first violating cases": ", ".join(r.sample_cases),
            }
            for r in results
        ],
        hide_index=True,
        width="stretch",
        key="conf-rules-table",
    )
