"""Conformance: the kept cases checked against a documented model, and rules checked without one.

The model is one kept in the workspace (an upload: BPMN, PNML, YAML or TXT
steps, stored by the hash of its bytes, so it survives page changes and
sessions) or a sample model (``sample_logs/*.bpmn``); a log starts on the
model it was last mapped against, a sample log on its own sample model, any
other log on none.  The mapping editor has one searchable select per model
task (a log activity, or silent); it starts from this session's draft, else
the mapping saved in the workspace for the log and model, else the exact and
normalised matches, and offers near matches for confirmation.  **Check** and
**Save mapping** save it in the workspace (as ``--map-file`` YAML, which can
also be downloaded and uploaded).  When the labels match too little
(:func:`mining.conformance.labels.require_matches`) the page says so instead
of scoring, unless **Score anyway** is ticked.  Then it runs
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

import datetime as dt
import hashlib
import re
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

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
from mining.conformance.labels import require_matches
from mining.conformance.rules.rule import quoted
from mining.conformance.sentences import share_words
from mining.errors import ConformanceError, LabelsUnmatched, MiningError
from mining.moments import local_text
from mining.schema import LogInfo
from mining.ui import measures, state
from mining.ui.layout import explore_page
from mining.ui.messages import md, reporting_errors, show_error
from mining.ui.progress import CheckInterrupted
from mining.ui.tables import data_table

if TYPE_CHECKING:
    from mining.conformance.saved import StoredModel

__all__ = ["CANCEL_KEY", "allow_entry", "render"]

#: Session flag set by the Cancel button; the check's ``cancel()`` reads it.
CANCEL_KEY = "conformance.cancel"
_SLOTS = "conformance.slots"  # log id -> _Slot
_DRAFTS = "conformance.drafts"  # (log id, model hash) -> the LabelMapping the editor shows
_UPLOADED = "conformance.uploaded"  # hash -> (StoredModel, bytes) of the models this session kept
_SAVED = "conformance.saved"  # (log id, model hash) -> the mapping this session saved
_APPLIED = "conformance.applied"  # (log id, model hash, file hash) of mapping files already loaded
_ACTIVE = "conformance.active"  # log id -> hash of the model checked last: reruns go automatically
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


def _rule_example(log: LogInfo, flt: Filter) -> str:
    """The rule examples in the log's own words: its most common first activity and two frequent others
    ("Approve before Pay" meant nothing on a log of fines)."""
    graph = measures.dfg_of(log, flt)
    first = next(iter(graph.start), None)
    others = [a for a in graph.activities if a != first][:2]
    if first is None or len(others) < 2:
        return "Approve before Pay\nReceive then Pay\nfour-eyes Approve, Pay\nReceive -> Pay within 2d"
    a, b = (quoted(x) for x in others)
    f = quoted(first)
    return "\n".join([f"{f} before {b}", f"{a} then {b}", f"four-eyes {a}, {b}", f"{f} -> {b} within 2d"])


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
_NONE = ""
_SAMPLE = "sample:"
_KEPT = "kept:"


def _model_choices(log: LogInfo) -> tuple[list[str], dict[str, str], str]:
    """The model select's options (``kept:<sha>``, ``sample:<file>``), their labels, and the default."""
    kept = list(state.stored_models())
    # Models kept by this session: a reader still on the workspace's previous file may not list them yet.
    listed = {m.sha256 for m in kept}
    kept += [m for m, _ in st.session_state.get(_UPLOADED, {}).values() if m.sha256 not in listed]
    samples = {p.name: p for p in state.sample_models()}
    options = [_NONE] + [_KEPT + m.sha256 for m in kept] + [_SAMPLE + n for n in samples]
    labels = {_NONE: "No model yet: choose or upload one"}
    labels.update({_KEPT + m.sha256: f"{m.name} ({m.format}, kept in the workspace)" for m in kept})
    labels.update({_SAMPLE + n: f"{n} (sample model)" for n in samples})
    last = state.last_model_of(log)
    default = _NONE
    if last is not None and _KEPT + last in options:
        default = _KEPT + last
    elif f"{log.name}.bpmn" in samples:
        # The sample models are preselected only for their own sample log.
        default = _SAMPLE + f"{log.name}.bpmn"
    elif (fitting := _fitting_model(log, kept)) is not None:
        default = _KEPT + fitting
    return options, labels, default


#: Kept models read to find the one that fits a log no model was mapped against yet.
_FIT_READ = 10


def _fitting_model(log: LogInfo, kept: list[StoredModel]) -> str | None:
    """The kept model most of whose tasks are the log's activities (by name, ignoring case), if any:
    a model checked with its automatic mapping is not remembered, and a new session opened on
    "No model yet" although the workspace keeps the log's model."""
    if not kept or len(kept) > _FIT_READ:
        return None
    names = {a.casefold() for a in measures.dfg_of(log, Filter()).activities}
    best, share = None, 0.5
    for m in kept:
        try:
            model, _ = measures.read_model(m.name, state.stored_model_bytes(m.sha256)[1])
        except MiningError:
            continue
        tasks = {t.casefold() for t in model.tasks}
        if tasks and (fit := len(tasks & names) / len(tasks)) >= share:
            best, share = m.sha256, fit
    return best


def _choose_model(log: LogInfo) -> tuple[ProcessModel, str, bytes] | None:
    st.subheader("Model")
    select_key = f"conf-model-{log.log_id}"
    uploaded = st.file_uploader(
        "Upload a model",
        type=[s.lstrip(".") for s in MODEL_SUFFIXES],
        key="conf-upload",
        help="BPMN 2.0 (bpmn.io, Camunda, Signavio), PNML, or a list of steps: a .txt with one step "
        "per line or YAML 'steps: [a, {parallel: [b, c]}, d]'. It is kept in the workspace.",
    )
    if uploaded is not None:
        data = uploaded.getvalue()
        digest = hashlib.sha256(data).hexdigest()
        uploads = st.session_state.setdefault(_UPLOADED, {})
        if digest not in uploads:
            kept = state.keep_model(uploaded.name, data)  # a model that cannot be read raises here
            uploads[digest] = (kept, data)
            st.session_state[select_key] = _KEPT + kept.sha256
    options, labels, default = _model_choices(log)
    if st.session_state.get(select_key) not in (None, *options):
        del st.session_state[select_key]
    choice = st.selectbox(
        "Model",
        options,
        # A value set by an upload lives in the session state; the default is for a first visit only.
        index=None if select_key in st.session_state else options.index(default),
        format_func=lambda o: labels[o],
        key=select_key,
        help="The models uploaded to this workspace, and the documented models of the sample logs.",
    )
    if choice == _NONE:
        st.info(
            "Choose a model above, or upload one (.bpmn, .pnml, .yaml/.yml or .txt).", icon=":material/info:"
        )
        return None
    if choice.startswith(_KEPT):
        digest = choice.removeprefix(_KEPT)
        mine = st.session_state.get(_UPLOADED, {}).get(digest)
        name, data = (mine[0].name, mine[1]) if mine else state.stored_model_bytes(digest)
    else:
        name = choice.removeprefix(_SAMPLE)
        data = next(p for p in state.sample_models() if p.name == name).read_bytes()
    model, sha256 = measures.read_model(name, data)
    st.caption(
        f"{md(model.name)}: {model.kind} model with {len(model.tasks):,} tasks: " + md(", ".join(model.tasks))
    )
    for note in model.notes:
        st.caption(":material/info: " + md(note))
    return model, sha256, data


# -- label mapping -------------------------------------------------------------------
_UNMATCHED = "\ue000unmatched"  # sentinels no activity name uses (a private-use character)
_SILENT = "\ue000silent"


def _task_key(log: LogInfo, sha256: str, task: str) -> str:
    return f"conf-task-{log.log_id}-{sha256[:12]}-{_token(task)}"


def _draft_key(log: LogInfo, sha256: str) -> tuple[int, str]:
    return (log.log_id, sha256)


def _starting_mapping(log: LogInfo, flt: Filter, model: ProcessModel, sha256: str) -> LabelMapping:
    """This session's draft, else the mapping saved in the workspace, else none (automatic matches only)."""
    drafts = st.session_state.get(_DRAFTS, {})
    found = drafts.get(_draft_key(log, sha256))
    if found is None:
        found = state.saved_mapping_of(log, sha256) or LabelMapping()
    return found.restricted(model.tasks, _activities(log, flt))


def _activities(log: LogInfo, flt: Filter) -> list[str]:
    counts = measures.dfg_of(log, flt).activities
    return sorted(counts, key=lambda a: (-counts[a], a))


def _set_tasks(pairs: dict[str, str]) -> None:
    # A callback: set task selects before they are drawn on the rerun it triggers.
    for key, value in pairs.items():
        st.session_state[key] = value


def _labels(
    log: LogInfo, flt: Filter, model: ProcessModel, sha256: str, data: bytes
) -> tuple[LabelMapping, DeltaGenerator]:
    """The mapping editor: one searchable select per model task; returns the mapping it shows."""
    activities = _activities(log, flt)
    counts = measures.dfg_of(log, flt).activities
    start = _starting_mapping(log, flt, model, sha256)
    _load_mapping_file(log, model, sha256, activities)
    auto = measures.labels_of(log, flt, model, LabelMapping())
    automatic = {m: (a, how) for m, a, how in auto.matched}
    current = measures.labels_of(log, flt, model, start)
    now = {m: a for m, a, _ in current.matched}
    silent_now = set(current.silent)

    suggestions = {}
    for s_ in auto.suggested:
        suggestions.setdefault(s_.model_label, s_)
    st.caption(
        "Choose the log activity each model task stands for (type to search), or mark it silent "
        "(a step the log does not record). Several tasks may share one activity. Exact and "
        "case-insensitive matches are filled in; near matches are only suggested."
    )
    # In the order of the model's tasks, as the selects below; a task whose select the user (or an
    # accepted suggestion, set before this rerun) has already given a value is not offered again.
    offers = {
        t: suggestions[t]
        for t in model.tasks
        if t in suggestions
        and t not in now
        and t not in silent_now
        and suggestions[t].log_activity in counts
        and st.session_state.get(_task_key(log, sha256, t), _UNMATCHED) == _UNMATCHED
    }
    if offers:
        # One button per suggestion: a near match may be wrong, so each is confirmed on its own.
        st.caption("Near matches, applied only when you accept them:")
        cols = st.columns(2)
        for i, (t, s_) in enumerate(offers.items()):
            cols[i % 2].button(
                f"{t} = {s_.log_activity} ({s_.ratio:.0%} similar)",
                key=f"conf-accept-{log.log_id}-{sha256[:12]}-{_token(t)}",
                on_click=_set_tasks,
                args=({_task_key(log, sha256, t): s_.log_activity},),
                icon=":material/done:",
                help=f"Map the model task '{t}' to the log activity '{s_.log_activity}'.",
            )
        if len(offers) > 1:
            st.button(
                f"Accept all {len(offers)} suggestions",
                key=f"conf-accept-{log.log_id}-{sha256[:12]}",
                on_click=_set_tasks,
                args=({_task_key(log, sha256, t): s_.log_activity for t, s_ in offers.items()},),
                icon=":material/done_all:",
            )
    pairs: list[tuple[str, str]] = []
    invisible: list[str] = []
    cols = st.columns(2)
    for i, task in enumerate(model.tasks):
        options = ([] if task in automatic else [_UNMATCHED]) + [_SILENT, *activities]
        value = _SILENT if task in silent_now else now.get(task, _UNMATCHED)
        if value not in options:
            value = options[0]
        hint = offers.get(task)
        how = automatic.get(task, (None, None))[1]
        key = _task_key(log, sha256, task)
        chosen = cols[i % 2].selectbox(
            task,
            options,
            index=None if key in st.session_state else options.index(value),
            format_func=lambda o: (
                "— not matched —"
                if o == _UNMATCHED
                else "(silent step: not an activity)"
                if o == _SILENT
                else f"{o} ({counts.get(o, 0):,} events)"
            ),
            key=key,
            help=(f"Suggested: {hint.log_activity} ({hint.ratio:.0%} similar)" if hint else None)
            or (f"Matched automatically ({how})" if how else None),
        )
        if chosen == _SILENT:
            invisible.append(task)
        elif chosen != _UNMATCHED and automatic.get(task, (None,))[0] != chosen:
            pairs.append((task, chosen))
    mapping = LabelMapping(tuple(pairs), tuple(invisible))
    drafts = dict(st.session_state.get(_DRAFTS, {}))
    drafts[_draft_key(log, sha256)] = mapping
    st.session_state[_DRAFTS] = drafts

    saved = state.saved_mapping_of(log, sha256)
    left, mid, right = st.columns(3, vertical_alignment="bottom")
    if left.button(
        "Save mapping", key="conf-save-mapping", icon=":material/save:", disabled=saved == mapping
    ):
        state.keep_mapping(log, model.name, data, mapping)
        saved = mapping
    mid.download_button(
        "Download mapping (YAML)",
        mapping.to_yaml(),
        file_name=f"{_safe_name(log.name)}-{_safe_name(model.name)}-labels.yaml",
        mime="application/yaml",
        on_click="ignore",
        key="conf-download-mapping",
        icon=":material/download:",
        help="The --map-file format of mining conform.",
    )
    status = right.empty()
    _say_saved(status, log, sha256, mapping, saved)
    return mapping, status


def _say_saved(
    status: DeltaGenerator, log: LogInfo, sha256: str, mapping: LabelMapping, saved: LabelMapping | None
) -> None:
    # What this session saved counts too: a reader may still be on the workspace's previous file.
    saved_here = st.session_state.get(_SAVED, {}).get((log.log_id, sha256))
    if mapping in (saved, saved_here):
        status.caption("Saved in the workspace for this log and model.")
    else:
        status.caption("Not saved yet: **Check** or **Save mapping** saves it.")


def _save(log: LogInfo, model: ProcessModel, sha256: str, data: bytes, mapping: LabelMapping) -> None:
    state.keep_mapping(log, model.name, data, mapping)
    kept = dict(st.session_state.get(_SAVED, {}))
    kept[(log.log_id, sha256)] = mapping
    st.session_state[_SAVED] = kept


def _load_mapping_file(log: LogInfo, model: ProcessModel, sha256: str, activities: Sequence[str]) -> None:
    upload = st.file_uploader(
        "Load a mapping (--map-file YAML)",
        type=["yaml", "yml"],
        key=f"conf-mapfile-{log.log_id}-{sha256[:12]}",
        help="'map: {Model task: Log activity}' and optionally 'invisible: [task, ...]'.",
    )
    if upload is None:
        return
    data = upload.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    applied = st.session_state.setdefault(_APPLIED, set())
    if (log.log_id, sha256, digest) in applied:
        return
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        msg = (
            f"{upload.name}: the mapping is not UTF-8 text; expected YAML 'map: {{Model task: Log activity}}'"
        )
        raise ConformanceError(msg) from None
    loaded = LabelMapping.from_yaml_text(text, upload.name)
    kept = loaded.restricted(model.tasks, activities)
    left_out = len(loaded.pairs) + len(loaded.invisible) - len(kept.pairs) - len(kept.invisible)
    applied.add((log.log_id, sha256, digest))
    for task in model.tasks:
        st.session_state.pop(_task_key(log, sha256, task), None)
    drafts = dict(st.session_state.get(_DRAFTS, {}))
    drafts[_draft_key(log, sha256)] = kept
    st.session_state[_DRAFTS] = drafts
    if left_out:
        st.warning(
            f"{md(upload.name)}: {left_out:,} entries name a task the model does not have or an activity "
            "the kept cases do not have; they were left out.",
            icon=":material/warning:",
        )
    st.rerun()


def _names(names: Sequence[str], shown: int = 30) -> str:
    # A log whose "activities" are ids has hundreds of thousands: name the most frequent only.
    more = f" and {len(names) - shown:,} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


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


def _check(log: LogInfo, flt: Filter, model: ProcessModel, sha256: str, data: bytes) -> None:
    st.subheader("Labels")
    mapping, status = _labels(log, flt, model, sha256, data)
    match = measures.labels_of(log, flt, model, mapping)
    coverage = measures.label_coverage_of(log, flt, match)
    st.caption(
        f"Matched {coverage.matched_tasks:,} of {coverage.tasks:,} model tasks; their activities cover "
        f"{coverage.event_share:.0%} of the kept events."
        + (f" Silent: {md(', '.join(match.silent))}." if match.silent else "")
        + (f" Log activities not in the model: {md(_names(match.log_only))}." if match.log_only else "")
    )
    force = False
    if not coverage.enough:
        try:
            require_matches(match, coverage)
        except LabelsUnmatched as exc:
            show_error(exc)
        force = st.checkbox(
            "Score anyway (the figures will say little)",
            key=f"conf-force-{log.log_id}-{sha256[:12]}",
            help="Check against the model although too few of its tasks match the log; the result is "
            "marked as forced.",
        )

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
        help="Stop the check after this long and report what was aligned, with bounds on fitness.",
    )
    blocked = not coverage.enough and not force
    pressed = cols[2].button(
        "Check", type="primary", key="conf-run", icon=":material/play_arrow:", disabled=blocked
    )
    cols[3].button("Cancel", key="conf-cancel", on_click=_request_cancel, icon=":material/stop:")
    if blocked:
        st.info(
            "Map the model's tasks above (or tick **Score anyway**) to check the log against it.",
            icon=":material/info:",
        )
        return
    if pressed and mapping not in (
        state.saved_mapping_of(log, sha256),
        st.session_state.get(_SAVED, {}).get((log.log_id, sha256)),
    ):
        _save(log, model, sha256, data, mapping)
        _say_saved(status, log, sha256, mapping, mapping)

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
        force=force,
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
    if result.forced:
        st.warning(
            "Scored anyway: too few of the model's tasks match the log's activities for these figures "
            "to say much. Map the tasks above for a meaningful check.",
            icon=":material/warning:",
        )
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
    if result.overlay is not None and (result.overlay.edges or result.overlay.activities):
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
            "share": share_words(d.share),
            "occurrences": d.occurrences,
            "median duration with (days)": _days(d.median_duration_with_s),
            "median duration without (days)": _days(d.median_duration_without_s),
            "impact (days)": None
            if d.median_duration_with_s is None or d.median_duration_without_s is None
            else _days(d.median_duration_with_s - d.median_duration_without_s),
        }
        for d in result.deviations
    ]
    data_table(rows, hide_index=True, width="stretch", key="conf-deviations")
    _deviation_cases(log, request, result)


@st.fragment
def _deviation_cases(log: LogInfo, request: measures.ConformanceRequest, result: ConformanceResult) -> None:
    # A fragment: picking a deviation or a case reruns this section only, not the figures, the deviations
    # and the allowlist above it, nor the downloads below (none of them depends on the pick).
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
    data_table(
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
    st.caption(f"Events of the case, times in the log's time zone ({log.timezone})")
    events = measures.events_of_case(log, case_id)
    # As on the Variants page: no column that no event fills.
    starts = any(e.start_timestamp is not None for e in events)
    lifecycles = any(e.lifecycle for e in events)
    data_table(
        [
            {
                "activity": e.activity,
                **({f"start ({log.timezone})": _local(e.start_timestamp, log.timezone)} if starts else {}),
                f"time ({log.timezone})": _local(e.timestamp, log.timezone),
                "resource": e.resource or "",
                **({"lifecycle": e.lifecycle or ""} if lifecycles else {}),
            }
            for e in events
        ],
        hide_index=True,
        width="stretch",
        key="conf-case-events",
    )


def _local(value: dt.datetime | None, zone: str) -> str:
    return local_text(value, zone, "%Y-%m-%d %H:%M:%S", none="")


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
        placeholder=_rule_example(log, flt),
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
    data_table(
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
