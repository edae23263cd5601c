"""Matching a model's task labels to a log's activities.

The order, first hit wins:

1. a mapping the user confirmed (:class:`LabelMapping`, from ``--map
   "Model label=Log activity"`` or a YAML file);
2. the same text;
3. the same text ignoring case and runs of whitespace (``Approve  order``
   and ``approve order``), when exactly one activity fits.

What is left is listed, both ways, and every remaining task gets near
matches (``difflib`` ratio at least :data:`SUGGEST_RATIO`) as suggestions:
they are never applied until the user passes them back as a mapping.  Near
matches are looked for among the first :data:`SUGGEST_AMONG` unmatched
activities in the order given (callers pass the most frequent first), so a
log with hundreds of thousands of distinct activities is matched in bounded
time.

A score needs labels that match: when fewer than :data:`MIN_TASK_SHARE`
of the model's visible tasks are matched, or the matched activities cover
less than :data:`MIN_EVENT_SHARE` of the log's events, :func:`require_matches`
refuses with :class:`~mining.errors.LabelsUnmatched`, listing the unmatched
tasks, the best suggestions and how to map them.

Labels that name no real step (empty, ``tau``, ``tau_1``, ``τ``, ``Inv1``,
``invisible``, ``silent_2``, ``hid_7``, ``skip_approve``) are treated as
silent unless an activity of the log matches them; ``invisible`` in the
mapping (``--invisible LABEL``) adds more.  The result says which were made silent.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from mining.errors import ConformanceError, LabelsUnmatched, Option, Phrase, phrase
from mining.safeyaml import load_yaml

__all__ = [
    "MIN_EVENT_SHARE",
    "MIN_TASK_SHARE",
    "SUGGEST_AMONG",
    "SUGGEST_RATIO",
    "LabelCoverage",
    "LabelMapping",
    "LabelMatch",
    "Suggestion",
    "label_coverage",
    "looks_silent",
    "match_labels",
    "require_matches",
]

SUGGEST_RATIO = 0.6
#: Unmatched activities (the first ones given, the most frequent) compared with each unmatched task.
SUGGEST_AMONG = 2_000
#: Below this share of the model's visible tasks matched to an activity, nothing is scored.
MIN_TASK_SHARE = 0.5
#: Below this share of the log's events in matched activities, nothing is scored.
MIN_EVENT_SHARE = 0.5

# "tau", "tau_1", "tau split", "τ", "Inv1", "invisible 2", "silent", "hid_7", "skip_approve".
_SILENT = re.compile(
    r"(?:tau|invisible|silent)(?:\d*|[\s_\-].*)|τ.*|inv[_\-]?\d+|hid(?:den)?[_\-]?\d+|skip_.+",
    re.IGNORECASE,
)


def looks_silent(label: str) -> bool:
    """True for labels modelling tools give steps that are not activities: ``tau_3``, ``Inv1``, ``skip_x``."""
    text = label.strip()
    return not text or bool(_SILENT.fullmatch(text))


@dataclass(frozen=True)
class LabelMapping:
    """Confirmed matches ``(model label, log activity)`` and labels to treat as silent."""

    pairs: tuple[tuple[str, str], ...] = ()
    invisible: tuple[str, ...] = ()

    @classmethod
    def parse(cls, items: Iterable[str], invisible: Iterable[str] = ()) -> LabelMapping:
        """From ``"Model label=Log activity"`` strings (the CLI's ``--map``)."""
        pairs = []
        for item in items:
            model, sep, log = item.partition("=")
            if not sep or not model.strip() or not log.strip():
                raise ConformanceError(
                    Phrase("{}: expected 'Model label=Log activity'", (Option("map", repr(item)),))
                )
            pairs.append((model.strip(), log.strip()))
        return cls(tuple(pairs), tuple(i.strip() for i in invisible))

    @classmethod
    def from_yaml(cls, path: str | Path) -> LabelMapping:
        """From a YAML file: ``map: {Model label: Log activity, ...}`` and optionally ``invisible: [...]``."""
        name = Path(path).name
        expected = "YAML 'map: {Model label: Log activity}'"
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            msg = f"{name}: cannot read the label mapping ({exc}); expected {expected}"
            raise ConformanceError(msg) from None
        return cls.from_yaml_text(text, name)

    @classmethod
    def from_yaml_text(cls, text: str, name: str = "the label mapping") -> LabelMapping:
        """From the text of a ``--map-file`` (an upload, or a mapping saved in the workspace)."""
        expected = "YAML 'map: {Model label: Log activity}'"
        data = load_yaml(text, source=name, kind="label mappings", expected=expected, error=ConformanceError)
        if not isinstance(data, dict) or not isinstance(data.get("map", {}), dict):
            msg = f"{name}: expected YAML 'map: {{Model label: Log activity}}' and optionally 'invisible: [...]'"
            raise ConformanceError(msg)
        unknown = sorted(str(k) for k in data if k not in {"map", "invisible"})
        if unknown:
            # A misspelt key ('maps:', 'invisable:') would otherwise drop its whole section unnoticed.
            msg = f"{name}: unknown key {', '.join(repr(k) for k in unknown)}; expected only 'map' and 'invisible'"
            raise ConformanceError(msg)
        invisible = data.get("invisible") or []
        if not isinstance(invisible, list):
            msg = f"{name}: 'invisible' must be a list of model labels"
            raise ConformanceError(msg)
        pairs = tuple((str(k).strip(), str(v).strip()) for k, v in (data.get("map") or {}).items())
        return cls(pairs, tuple(str(i).strip() for i in invisible))

    def merged(self, other: LabelMapping) -> LabelMapping:
        return LabelMapping(self.pairs + other.pairs, self.invisible + other.invisible)

    def to_yaml(self) -> str:
        """The ``--map-file`` YAML of this mapping (what :meth:`from_yaml_text` reads back)."""
        import yaml

        data: dict[str, object] = {"map": dict(self.pairs)}
        if self.invisible:
            data["invisible"] = list(self.invisible)
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=False)

    def restricted(self, tasks: Iterable[str], activities: Iterable[str]) -> LabelMapping:
        """Only the pairs and silent labels that apply to these model tasks and log activities.

        A saved mapping is reused under other filters and after appends: a pair
        whose activity the kept cases no longer have is left out, not an error.
        """
        known_tasks, known_acts = set(tasks), set(activities)
        return LabelMapping(
            tuple((m, a) for m, a in self.pairs if m in known_tasks and a in known_acts),
            tuple(i for i in self.invisible if i in known_tasks),
        )


@dataclass(frozen=True)
class Suggestion:
    """A near match the user may confirm with ``--map "model=log"``."""

    model_label: str
    log_activity: str
    ratio: float


@dataclass(frozen=True)
class LabelMatch:
    """How the model's labels met the log's activities.

    ``matched`` is ``(model label, log activity, how)`` with ``how`` one of
    ``exact``, ``normalised`` (case/whitespace) or ``mapped`` (confirmed by
    the user); ``silent`` lists labels treated as silent steps.
    """

    matched: tuple[tuple[str, str, str], ...]
    model_only: tuple[str, ...]
    log_only: tuple[str, ...]
    suggested: tuple[Suggestion, ...]
    silent: tuple[str, ...]

    def relabelling(self) -> dict[str, str | None]:
        """Model label -> the name its transitions carry in the check (a log activity, or None if silent)."""
        out: dict[str, str | None] = {m: log for m, log, _ in self.matched}
        out.update({s: None for s in self.silent})
        return out


@dataclass(frozen=True)
class LabelCoverage:
    """How much of the model and of the log the matched labels cover."""

    tasks: int  # the model's visible tasks (not silent)
    matched_tasks: int
    events: int  # the checked events
    matched_events: int  # of them, events of an activity some task is matched to

    @property
    def task_share(self) -> float:
        return self.matched_tasks / self.tasks if self.tasks else 0.0

    @property
    def event_share(self) -> float:
        return self.matched_events / self.events if self.events else 0.0

    @property
    def enough(self) -> bool:
        """True when a score means something: see :data:`MIN_TASK_SHARE` and :data:`MIN_EVENT_SHARE`."""
        return self.task_share >= MIN_TASK_SHARE and self.event_share >= MIN_EVENT_SHARE


def label_coverage(match: LabelMatch, events: Mapping[str, int]) -> LabelCoverage:
    """The coverage of ``match`` given each activity's number of events."""
    used = {log for _, log, _ in match.matched}
    return LabelCoverage(
        tasks=len(match.matched) + len(match.model_only),
        matched_tasks=len(match.matched),
        events=sum(events.values()),
        matched_events=sum(n for a, n in events.items() if a in used),
    )


def require_matches(match: LabelMatch, coverage: LabelCoverage) -> None:
    """Raise :class:`~mining.errors.LabelsUnmatched` unless the labels match enough to score."""
    if coverage.enough:
        return
    said = (
        f"{coverage.matched_tasks:,} of the model's {coverage.tasks:,} tasks ({coverage.task_share:.0%}) "
        f"match an activity of the log, and those activities cover {coverage.event_share:.0%} of its "
        f"{coverage.events:,} events; nothing was scored: a score needs at least {MIN_TASK_SHARE:.0%} of the "
        f"tasks matched and {MIN_EVENT_SHARE:.0%} of the events covered."
    )
    said += " Unmatched tasks: " + _listing(match.model_only) + "."
    best = _best_suggestions(match)
    if best:
        said += (
            " Suggested matches: "
            + "; ".join(f"{s.model_label!r} = {s.log_activity!r} ({s.ratio:.0%} similar)" for s in best)
            + "."
        )
    example = best[0] if best else None
    pair = f"'{example.model_label}={example.log_activity}'" if example else "'Model task=Log activity'"
    hint = phrase(
        "map each task to the activity it stands for with ",
        Option("map", pair),
        " or a YAML file with ",
        Option("map_file", "FILE.yaml"),
        " ('map: {Model task: Log activity}'); ",
        Option("force"),
        " scores anyway",
    )
    raise LabelsUnmatched(said, labels=match, hint=hint)


def _best_suggestions(match: LabelMatch, limit: int = 8) -> list[Suggestion]:
    # The best suggestion of each unmatched task, the most similar first.
    best: dict[str, Suggestion] = {}
    for s in match.suggested:
        if s.model_label not in best or s.ratio > best[s.model_label].ratio:
            best[s.model_label] = s
    return sorted(best.values(), key=lambda s: (-s.ratio, s.model_label))[:limit]


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def match_labels(
    model_labels: Sequence[str], log_activities: Sequence[str], mapping: LabelMapping | None = None
) -> LabelMatch:
    """Match labels as described in the module docstring; errors name what the mapping got wrong."""
    mapping = mapping or LabelMapping()
    labels = list(dict.fromkeys(model_labels))
    activities = list(dict.fromkeys(log_activities))
    known_labels, known_acts = set(labels), set(activities)
    for label in mapping.invisible:
        if label not in known_labels:
            msg = Phrase(
                "{}: the model has no task of that name; tasks: " + _literal(_listing(labels)),
                (Option("invisible", repr(label)),),
            )
            raise ConformanceError(msg)
    matched: dict[str, tuple[str, str]] = {}
    for model, log in mapping.pairs:
        given = (Option("map", f"{model!r}={log!r}"),)
        if model not in known_labels:
            msg = Phrase(
                "{}: " + _literal(f"the model has no task {model!r}; tasks: {_listing(labels)}"), given
            )
            raise ConformanceError(msg)
        if log not in known_acts:
            found = f"the log has no activity {log!r}; activities: {_listing(activities)}"
            raise ConformanceError(Phrase("{}: " + _literal(found), given))
        if model in matched and matched[model][0] != log:
            twice = f"model task {model!r} is mapped twice ({matched[model][0]!r} and {log!r}); expected once"
            raise ConformanceError(Phrase("{}: " + _literal(twice), (Option("map"),)))
        matched[model] = (log, "mapped")
    silent = [lab for lab in labels if lab in mapping.invisible and lab not in matched]
    for label in labels:
        if label not in matched and label not in silent and label in known_acts:
            matched[label] = (label, "exact")
    used = {log for log, _ in matched.values()}
    by_norm: dict[str, list[str]] = {}
    for act in activities:
        if act not in used:
            by_norm.setdefault(_norm(act), []).append(act)
    for label in labels:
        if label in matched or label in silent:
            continue
        candidates = [a for a in by_norm.get(_norm(label), []) if a not in used]
        if len(candidates) == 1:
            matched[label] = (candidates[0], "normalised")
            used.add(candidates[0])
        elif looks_silent(label):
            silent.append(label)
    model_only = tuple(lab for lab in labels if lab not in matched and lab not in silent)
    log_only = tuple(a for a in activities if a not in used)
    suggestions = []
    among = log_only[:SUGGEST_AMONG]
    for label in model_only:
        scored = sorted(
            ((difflib.SequenceMatcher(None, _norm(label), _norm(a)).ratio(), a) for a in among),
            key=lambda x: (-x[0], x[1]),
        )
        suggestions += [Suggestion(label, a, round(r, 3)) for r, a in scored[:3] if r >= SUGGEST_RATIO]
    return LabelMatch(
        matched=tuple((lab, *matched[lab]) for lab in labels if lab in matched),
        model_only=model_only,
        log_only=log_only,
        suggested=tuple(suggestions),
        silent=tuple(silent),
    )


def _listing(items: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(repr(i) for i in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "") if items else "none"


def _literal(text: str) -> str:
    """``text`` (names from a model or a log) as a :class:`~mining.errors.Phrase` template that shows it as is."""
    return text.replace("{", "{{").replace("}", "}}")
