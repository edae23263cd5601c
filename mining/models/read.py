"""Reading a process model: BPMN 2.0, PNML or a list of steps, into one accepting Petri net.

Every format ends as a :class:`~mining.models.net.NetSpec` inside a
:class:`~mining.models.net.ProcessModel`, which says what reading assumed.

Reading is strict and safe: XML with a DOCTYPE is refused before parsing
(:func:`mining.ingest.sources.refuse_doctype`), lxml never resolves
entities or touches the network, and YAML aliases are refused.

BPMN to Petri net (the usual place-per-sequence-flow translation):

* every sequence flow is a place; an exclusive or event-based gateway, an
  implicit merge (a task with several incoming flows) and the end events
  fuse the places of their incoming flows into one; a gateway's branch is
  fused into the gateway's place too (a choice without a silent step)
  unless other flows end in the same place, where a silent step leads to it;
* a task is a visible transition labelled with its name (whitespace
  collapsed); several outgoing flows start parallel branches (BPMN's
  implicit split); a task without a name is a silent step;
* a parallel gateway is one silent transition; an inclusive gateway has a
  silent transition per non-empty subset of its branches (at most 8);
* intermediate events pass the token on; a boundary event is an
  alternative to completing its task; an expanded sub-process is inlined;
* the final marking is one token in the place of the end events.

PNML: places, transitions, arcs (with inscriptions) from every page; a
transition with ``invisible="true"`` or ProM's ``activity="$invisible$"`` is
silent; the final marking is read from ``<finalmarkings>`` or per-place
``<finalMarking>``, or inferred from the one place without outgoing arcs
(said so in :attr:`ProcessModel.notes`).

Steps (``.txt``, one per line, or ``.yaml``)::

    steps:
      - Receive order
      - Check credit
      - parallel: [Pick items, [Print label, Pack]]
      - Ship
    optional: [Check credit]

A ``.txt`` line may end in ``(optional)``; ``#`` starts a comment.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mining.errors import ModelError
from mining.models.net import NetSpec, ProcessModel
from mining.safeyaml import load_yaml
from mining.scratch import scratch_dir

if TYPE_CHECKING:
    from lxml import etree

__all__ = ["MAX_INCLUSIVE_BRANCHES", "MAX_MODEL_BYTES", "MODEL_SUFFIXES", "load_model"]

MODEL_SUFFIXES = (".bpmn", ".pnml", ".yaml", ".yml", ".txt")

#: Largest model file read (bytes); documented models are a few hundred kB.
MAX_MODEL_BYTES = 20 * 1024 * 1024

#: An inclusive gateway gets 2**k - 1 silent transitions; beyond this it is refused.
MAX_INCLUSIVE_BRANCHES = 8

_TASKS = {
    "task",
    "usertask",
    "servicetask",
    "manualtask",
    "scripttask",
    "sendtask",
    "receivetask",
    "businessruletask",
    "callactivity",
}
_SUBPROCESSES = {"subprocess", "transaction", "adhocsubprocess"}
_XOR = {"exclusivegateway", "eventbasedgateway"}
_PASS = {"intermediatecatchevent", "intermediatethrowevent"}
_FLOW_NODES = (
    _TASKS
    | _SUBPROCESSES
    | _XOR
    | _PASS
    | {"startevent", "endevent", "boundaryevent", "parallelgateway", "inclusivegateway", "complexgateway"}
)


# ---------------------------------------------------------------------------
# entry point


def load_model(source: str | Path | bytes, name: str | None = None) -> ProcessModel:
    """Read a model from a path, or from bytes named ``name`` (an upload), by suffix, else by sniffing.

    Examples
    --------
    >>> model = load_model("order.bpmn")  # doctest: +SKIP
    >>> model.tasks  # doctest: +SKIP
    ('Receive order', 'Check credit', 'Ship')
    """
    if isinstance(source, bytes):
        display = name or "model"
        data = source
    else:
        path = Path(source)
        display = name or path.name
        try:
            size = path.stat().st_size
        except OSError as exc:
            msg = f"{display}: cannot read the model file ({exc.strerror or exc})"
            raise ModelError(msg) from exc
        if size > MAX_MODEL_BYTES:
            msg = f"{display}: {size:,} bytes is larger than the {MAX_MODEL_BYTES:,} bytes a model may have"
            raise ModelError(msg)
        data = path.read_bytes()
    if len(data) > MAX_MODEL_BYTES:
        msg = f"{display}: {len(data):,} bytes is larger than the {MAX_MODEL_BYTES:,} bytes a model may have"
        raise ModelError(msg)
    kind = _kind(display, data)
    if kind == "bpmn":
        return _read_bpmn(display, _parse_xml(display, data, "BPMN 2.0 XML"))
    if kind == "pnml":
        return _read_pnml(display, _parse_xml(display, data, "PNML"))
    if kind == "yaml":
        return _read_yaml_steps(display, _text(display, data))
    return _read_text_steps(display, _text(display, data))


def _kind(display: str, data: bytes) -> str:
    suffix = Path(display).suffix.lower()
    if suffix in {".bpmn", ".pnml"}:
        return suffix[1:]
    if suffix in {".yaml", ".yml"}:
        return "yaml"
    if suffix == ".txt":
        return "text"
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        local = re.search(rb"<(?![?!])(?:[\w.-]+:)?([\w.-]+)", head)
        root = local.group(1).decode("ascii", "replace").lower() if local else ""
        if root == "definitions":
            return "bpmn"
        if root == "pnml":
            return "pnml"
        msg = (
            f"{display}: XML with root element <{root}> is not a model this tool reads; "
            "expected BPMN 2.0 (<definitions>) or PNML (<pnml>)"
        )
        raise ModelError(msg)
    if re.match(rb"\s*(?:#.*\n\s*)*steps\s*:", data[:4096]):
        return "yaml"
    msg = (
        f"{display}: unknown model format (suffix {suffix or 'none'!r}); "
        "expected .bpmn (BPMN 2.0), .pnml (Petri net), .yaml/.yml or .txt (a list of steps)"
    )
    raise ModelError(msg)


def _text(display: str, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        msg = f"{display}: not UTF-8 text (byte {exc.start}); expected a list of steps in UTF-8"
        raise ModelError(msg) from None


def _parse_xml(display: str, data: bytes, expected: str) -> etree._Element:
    from lxml import etree

    from mining.errors import IngestError
    from mining.ingest.sources import refuse_doctype

    # refuse_doctype reads a file: the bytes go through a private temporary copy.
    with scratch_dir("model") as tmp:
        path = Path(tmp) / "model.xml"
        path.write_bytes(data)
        try:
            refuse_doctype(path, display_name=display)
        except IngestError as exc:
            if type(exc) is IngestError:  # not XML at all (UnsafeInput passes through unchanged)
                raise ModelError(f"{exc}; expected {expected}") from None
            raise
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, remove_comments=True, remove_pis=True, huge_tree=False
    )
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line = f"line {exc.lineno}: " if getattr(exc, "lineno", None) else ""
        msg = f"{display}: malformed XML ({line}{exc.msg}); expected {expected}"
        raise ModelError(msg) from None


def _local(el: etree._Element) -> str:
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1].split(":")[-1].lower()


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


# ---------------------------------------------------------------------------
# PNML


def _read_pnml(display: str, root: etree._Element) -> ProcessModel:
    if _local(root) != "pnml":
        msg = f"{display}: root element <{_local(root)}>; expected PNML (<pnml>)"
        raise ModelError(msg)
    nets = [el for el in root if _local(el) == "net"]
    if not nets:
        msg = f"{display}: no <net> element; expected PNML with one Petri net"
        raise ModelError(msg)
    net = nets[0]
    notes: list[str] = []
    if len(nets) > 1:
        notes.append(f"{display} holds {len(nets)} nets; the first was read")
    places: dict[str, str] = {}
    initial: dict[str, int] = {}
    final_in_place: dict[str, int] = {}
    transitions: list[tuple[str, str | None]] = []
    arcs: list[tuple[str, str, int]] = []
    for el in _net_elements(net):
        kind = _local(el)
        if kind == "place":
            pid = _required_id(display, el, "place")
            places[pid] = _clean(_child_text(el, "name")) or pid
            tokens = _count(display, el, "initialmarking", f"place {pid!r}")
            if tokens:
                initial[pid] = tokens
            tokens = _count(display, el, "finalmarking", f"place {pid!r}")
            if tokens:
                final_in_place[pid] = tokens
        elif kind == "transition":
            tid = _required_id(display, el, "transition")
            label = _clean(_child_text(el, "name")) or None
            tool_silent = any(_local(t) == "toolspecific" and t.get("activity") == "$invisible$" for t in el)
            if (el.get("invisible") or "").lower() == "true" or tool_silent:
                label = None
            transitions.append((tid, label))
        elif kind == "arc":
            src, dst = el.get("source"), el.get("target")
            if not src or not dst:
                msg = f"{display}: arc {el.get('id')!r} lacks a source or target; expected both"
                raise ModelError(msg)
            weight = _count(display, el, "inscription", f"arc {el.get('id')!r}") or 1
            arcs.append((src, dst, weight))
    tids = {t for t, _ in transitions}
    for src, dst, _ in arcs:
        if not ((src in places and dst in tids) or (src in tids and dst in places)):
            msg = (
                f"{display}: arc {src!r} -> {dst!r} does not join a place and a transition; "
                "expected every arc to run between a place and a transition"
            )
            raise ModelError(msg)
    if not transitions:
        msg = f"{display}: the net has no transitions; expected a Petri net with at least one task"
        raise ModelError(msg)
    final = _final_markings(display, net, places) or final_in_place
    if not initial:
        initial = {_only_end(display, places, arcs, "initial", incoming=True): 1}
        notes.append(
            f"{display} has no initial marking; one token was put in the place without "
            f"incoming arcs ({places[next(iter(initial))]!r})"
        )
    if not final:
        final = {_only_end(display, places, arcs, "final", incoming=False): 1}
        notes.append(
            f"{display} has no final marking; it was inferred as one token in the place without "
            f"outgoing arcs ({places[next(iter(final))]!r})"
        )
    spec = NetSpec(
        tuple(places), tuple(transitions), tuple(arcs), tuple(initial.items()), tuple(final.items())
    )
    return ProcessModel(display, "pnml", spec, tuple(notes))


def _net_elements(el: etree._Element) -> Iterator[etree._Element]:
    """Places, transitions and arcs of the net and its (nested) pages, not the markings' place references."""
    for child in el:
        kind = _local(child)
        if kind in {"place", "transition", "arc"}:
            yield child
        elif kind == "page":
            yield from _net_elements(child)


def _required_id(display: str, el: etree._Element, what: str) -> str:
    ident = el.get("id")
    if not ident:
        msg = f"{display}: a <{what}> has no id (line {el.sourceline}); expected an id attribute"
        raise ModelError(msg)
    return ident


def _child_text(el: etree._Element, child: str) -> str | None:
    for c in el:
        if _local(c) == child:
            for t in c:
                if _local(t) == "text":
                    return t.text or ""
            return c.text
    return None


def _count(display: str, el: etree._Element, child: str, where: str) -> int:
    text = _child_text(el, child)
    if text is None or not text.strip():
        return 0
    value = text.strip()
    # ProM writes "1", pm4py "1"; some tools write "Default,1" in inscriptions.
    value = value.rsplit(",", 1)[-1]
    if not value.isdigit():
        msg = f"{display}: {where} has <{child}> {text.strip()!r}; expected a whole number of tokens"
        raise ModelError(msg)
    return int(value)


def _final_markings(display: str, net: etree._Element, places: dict[str, str]) -> dict[str, int]:
    for section in net.iter():
        if _local(section) != "finalmarkings":
            continue
        for marking in section:
            if _local(marking) != "marking":
                continue
            found: dict[str, int] = {}
            for ref in marking:
                if _local(ref) != "place":
                    continue
                pid = ref.get("idref") or ""
                if pid not in places:
                    msg = f"{display}: the final marking names place {pid!r}, which the net does not have"
                    raise ModelError(msg)
                tokens = _count(display, ref, "text", f"final marking of place {pid!r}")
                if tokens:
                    found[pid] = tokens
            if found:
                return found
    return {}


def _only_end(
    display: str, places: dict[str, str], arcs: Sequence[tuple[str, str, int]], which: str, *, incoming: bool
) -> str:
    used = {dst if incoming else src for src, dst, _ in arcs}
    ends = [p for p in places if p not in used]
    side = "incoming" if incoming else "outgoing"
    if len(ends) == 1:
        return ends[0]
    shown = ", ".join(repr(places[p]) for p in ends[:10]) or "none"
    msg = (
        f"{display}: no {which} marking, and it cannot be inferred: places without {side} arcs: {shown}; "
        f"expected exactly one such place, or a {which} marking in the file"
    )
    raise ModelError(msg)


# ---------------------------------------------------------------------------
# BPMN


class _Builder:
    """Places by union-find over 'slots' (sequence flows and helpers), transitions and arcs."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.transitions: list[tuple[str, str | None]] = []
        self.inputs: dict[str, list[str]] = {}
        self.outputs: dict[str, list[str]] = {}

    def slot(self, name: str) -> str:
        self.parent.setdefault(name, name)
        return name

    def find(self, name: str) -> str:
        self.slot(name)
        while self.parent[name] != name:
            self.parent[name] = self.parent[self.parent[name]]
            name = self.parent[name]
        return name

    def union(self, *names: str) -> str:
        roots = [self.find(n) for n in names]
        for r in roots[1:]:
            self.parent[r] = roots[0]
        return roots[0]

    def transition(self, tid: str, label: str | None, inputs: Iterable[str], outputs: Iterable[str]) -> None:
        self.transitions.append((tid, label))
        self.inputs[tid] = [self.slot(s) for s in inputs]
        self.outputs[tid] = [self.slot(s) for s in outputs]

    def spec(self, initial: str, final: str) -> NetSpec:
        places = tuple(dict.fromkeys(self.find(s) for s in self.parent))
        arcs: list[tuple[str, str, int]] = []
        for tid, _ in self.transitions:
            arcs += [(self.find(s), tid, 1) for s in self.inputs[tid]]
            arcs += [(tid, self.find(s), 1) for s in self.outputs[tid]]
        return NetSpec(
            places, tuple(self.transitions), tuple(arcs), ((self.find(initial), 1),), ((self.find(final), 1),)
        )


def _read_bpmn(display: str, root: etree._Element) -> ProcessModel:
    if _local(root) != "definitions":
        msg = f"{display}: root element <{_local(root)}>; expected BPMN 2.0 XML (<definitions>)"
        raise ModelError(msg)
    processes = [el for el in root if _local(el) == "process"]
    if not processes:
        msg = f"{display}: no <process> element; expected BPMN 2.0 XML"
        raise ModelError(msg)
    with_nodes = [p for p in processes if any(_local(c) in _FLOW_NODES for c in p)]
    if len(with_nodes) > 1:
        names = ", ".join(repr(p.get("name") or p.get("id")) for p in with_nodes)
        msg = f"{display}: {len(with_nodes)} processes ({names}); expected one process (one pool) to check against"
        raise ModelError(msg)
    if not with_nodes:
        msg = f"{display}: the process has no tasks, events or gateways; expected a BPMN 2.0 process diagram"
        raise ModelError(msg)
    builder = _Builder()
    notes: list[str] = []
    _convert_scope(display, with_nodes[0], builder, "source", "sink", notes, top=True)
    spec = builder.spec("source", "sink")
    if not spec.labels:
        msg = f"{display}: the process has no named tasks; expected tasks whose names match the log's activities"
        raise ModelError(msg)
    return ProcessModel(display, "bpmn", spec, tuple(notes))


def _convert_scope(
    display: str, scope: etree._Element, b: _Builder, source: str, sink: str, notes: list[str], *, top: bool
) -> None:
    nodes: dict[str, etree._Element] = {}
    flows: dict[str, tuple[str, str]] = {}
    for el in scope:
        kind = _local(el)
        if kind == "sequenceflow":
            fid = _required_id(display, el, "sequenceFlow")
            flows[fid] = (el.get("sourceRef") or "", el.get("targetRef") or "")
        elif kind in _FLOW_NODES:
            nodes[_required_id(display, el, kind)] = el
    incoming: dict[str, list[str]] = {n: [] for n in nodes}
    outgoing: dict[str, list[str]] = {n: [] for n in nodes}
    for fid, (src, dst) in flows.items():
        for end in (src, dst):
            if end not in nodes:
                msg = (
                    f"{display}: sequence flow {fid!r} connects {end!r}, which is not a task, event or "
                    "gateway of the same process; expected both ends in the process"
                )
                raise ModelError(msg)
        outgoing[src].append(f"flow:{fid}")
        incoming[dst].append(f"flow:{fid}")
    # How many flows share the place a flow ends in: all incoming flows of a merging node, all
    # flows into end events (one sink), one for a parallel or inclusive join (each is consumed).
    into_ends = sum(len(incoming[n]) for n, el in nodes.items() if _local(el) == "endevent")
    merged: dict[str, int] = {}
    for fid, (_, dst) in flows.items():
        kind = _local(nodes[dst])
        merged[f"flow:{fid}"] = (
            into_ends
            if kind == "endevent"
            else 1
            if kind in {"parallelgateway", "inclusivegateway"}
            else len(incoming[dst])
        )
    starts = [n for n, el in nodes.items() if _local(el) == "startevent"]
    if not starts:
        where = "the process" if top else f"sub-process {scope.get('name') or scope.get('id')!r}"
        msg = f"{display}: {where} has no start event; expected one <startEvent>"
        raise ModelError(msg)
    if len(starts) == 1 and len(outgoing[starts[0]]) == 1:
        b.union(source, outgoing[starts[0]][0])
    else:
        for n in starts:
            b.transition(f"start:{n}", None, [source], outgoing[n])
    for nid, el in nodes.items():
        kind = _local(el)
        ins, outs = incoming[nid], outgoing[nid]
        name = _clean(el.get("name"))
        shown = repr(name or nid)
        if kind == "startevent":
            if ins:
                msg = f"{display}: start event {shown} has incoming sequence flows; expected none"
                raise ModelError(msg)
            continue
        if kind == "endevent":
            b.union(sink, *ins)
            continue
        if kind == "boundaryevent":
            host = el.get("attachedToRef") or ""
            if host not in nodes:
                msg = (
                    f"{display}: boundary event {shown} is attached to {host!r}, which is not in the process"
                )
                raise ModelError(msg)
            b.transition(
                f"boundary:{nid}",
                None,
                [b.union(*incoming[host]) if incoming[host] else b.find(source)],
                outs or [sink],
            )
            notes.append(
                f"boundary event {shown} is read as an alternative to completing "
                f"{_clean(nodes[host].get('name')) or host!r}"
            )
            continue
        if not ins:
            msg = f"{display}: {kind} {shown} has no incoming sequence flow; expected every node after the start"
            raise ModelError(msg)
        if kind in _XOR:
            if not outs:
                msg = f"{display}: gateway {shown} has no outgoing sequence flow"
                raise ModelError(msg)
            here = b.union(*ins)
            for out in outs:
                # Fusing a branch into a place other flows also reach would let their tokens take
                # this gateway's branches too; such a branch gets a silent step instead.
                if merged[out] == 1:
                    b.union(here, out)
                else:
                    b.transition(f"xor:{nid}:{out}", None, [here], [out])
        elif kind in _PASS:
            if len(outs) == 1:
                b.union(*ins, outs[0])
            else:
                b.transition(f"event:{nid}", None, [b.union(*ins)], outs or [sink])
        elif kind == "parallelgateway":
            b.transition(f"and:{nid}", None, ins, outs or [sink])
        elif kind == "inclusivegateway":
            _inclusive(display, b, nid, shown, ins, outs or [sink])
        elif kind == "complexgateway":
            msg = f"{display}: complex gateway {shown} is not supported; expected exclusive, parallel or inclusive"
            raise ModelError(msg)
        elif kind in _SUBPROCESSES and any(_local(c) in _FLOW_NODES for c in el):
            entry, leave = f"sub-in:{nid}", f"sub-out:{nid}"
            b.union(entry, *ins)
            _convert_scope(display, el, b, entry, leave, notes, top=False)
            if len(outs) == 1:
                b.union(leave, outs[0])
            else:
                b.transition(f"sub:{nid}", None, [leave], outs or [sink])
        else:  # a task, a call activity or a collapsed sub-process
            if not name:
                notes.append(f"{kind} {nid!r} has no name; it is read as a silent step")
            b.transition(f"task:{nid}", name or None, [b.union(*ins)], outs or [sink])


def _inclusive(display: str, b: _Builder, nid: str, shown: str, ins: list[str], outs: list[str]) -> None:
    if max(len(ins), len(outs)) > MAX_INCLUSIVE_BRANCHES:
        msg = (
            f"{display}: inclusive gateway {shown} has more than {MAX_INCLUSIVE_BRANCHES} branches; "
            "expected fewer (each combination of branches becomes a step)"
        )
        raise ModelError(msg)
    middle = ins[0] if len(ins) == 1 else f"or:{nid}"
    if len(ins) > 1:
        # Joins every combination that arrives: a combination the split did not start leaves
        # a token behind, so the final marking is never reached that way.
        for k, subset in enumerate(_subsets(ins)):
            b.transition(f"or-join:{nid}:{k}", None, subset, [middle] if len(outs) > 1 else outs)
    if len(outs) > 1:
        for k, subset in enumerate(_subsets(outs)):
            b.transition(f"or-split:{nid}:{k}", None, [middle], subset)
    elif len(ins) == 1:
        b.union(ins[0], outs[0])


def _subsets(items: Sequence[str]) -> list[tuple[str, ...]]:
    return [c for r in range(1, len(items) + 1) for c in itertools.combinations(items, r)]


# ---------------------------------------------------------------------------
# steps


def _read_text_steps(display: str, text: str) -> ProcessModel:
    steps: list[Any] = []
    optional: list[str] = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"(.*?)\s*\(optional\)", line, flags=re.IGNORECASE)
        step = _clean(match.group(1) if match else line)
        if match:
            optional.append(step)
        steps.append(step)
    return _steps_model(display, steps, optional)


def _read_yaml_steps(display: str, text: str) -> ProcessModel:
    data = load_yaml(
        text,
        source=display,
        kind="step lists",
        expected="'steps: [first step, second step, ...]'",
        error=ModelError,
    )
    if not isinstance(data, dict) or "steps" not in data:
        msg = f"{display}: no 'steps' list; expected 'steps: [first step, second step, ...]'"
        raise ModelError(msg)
    unknown = sorted(set(data) - {"steps", "optional"})
    if unknown:
        msg = f"{display}: unknown key(s) {', '.join(map(repr, unknown))}; expected 'steps' and 'optional'"
        raise ModelError(msg)
    optional = data.get("optional") or []
    if not isinstance(optional, list) or not all(isinstance(o, str) for o in optional):
        msg = f"{display}: 'optional' must be a list of step names"
        raise ModelError(msg)
    steps = data["steps"]
    if not isinstance(steps, list):
        msg = f"{display}: 'steps' must be a list"
        raise ModelError(msg)
    return _steps_model(display, steps, [_clean(o) for o in optional])


def _steps_model(display: str, steps: list[Any], optional: list[str]) -> ProcessModel:
    b = _Builder()
    counter = itertools.count()
    seen: set[str] = set()

    def chain(items: list[Any], start: str, where: str) -> str:
        at = start
        for item in items:
            nxt = f"p{next(counter)}"
            if isinstance(item, str) and _clean(item):
                step = _clean(item)
                seen.add(step)
                b.transition(f"step{next(counter)}", step, [at], [nxt])
                if step in optional:
                    b.transition(f"skip{next(counter)}", None, [at], [nxt])
            elif isinstance(item, dict) and set(item) == {"parallel"} and isinstance(item["parallel"], list):
                branches = [br if isinstance(br, list) else [br] for br in item["parallel"]]
                if len(branches) < 2:
                    msg = f"{display}: a 'parallel' group in {where} needs at least two branches"
                    raise ModelError(msg)
                starts = [f"p{next(counter)}" for _ in branches]
                ends = [chain(br, s, "a parallel branch") for br, s in zip(branches, starts, strict=True)]
                b.transition(f"split{next(counter)}", None, [at], starts)
                b.transition(f"join{next(counter)}", None, ends, [nxt])
            else:
                msg = (
                    f"{display}: step {item!r} in {where}; expected a step name or "
                    "'parallel: [branch, branch, ...]'"
                )
                raise ModelError(msg)
            at = nxt
        return at

    b.slot("source")
    end = chain(steps, "source", "the steps")
    if not seen:
        msg = f"{display}: no steps; expected at least one step name"
        raise ModelError(msg)
    missing = [o for o in optional if o not in seen]
    if missing:
        msg = f"{display}: optional step(s) {', '.join(map(repr, missing))} are not among the steps"
        raise ModelError(msg)
    return ProcessModel(display, "steps", b.spec("source", end))
