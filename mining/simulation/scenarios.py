"""What-if scenarios: read from YAML, checked against the model, applied to a copy of it.

A scenario file is a list (or a mapping whose only key ``scenarios`` holds
the list); each scenario has a ``name`` and any of these changes::

    - name: One more clerk at Check
      staff: {Check: +1}            # people added to (or, -1, removed from) the pool doing Check
    - name: Faster approval
      duration: {Approve: 0.5}      # processing time times 0.5
    - name: Automatic notification
      automate: [Notify]            # nobody needed, no time taken
    - name: No second approval
      remove: [Second approval]     # cases skip it; what came before it goes where it led
    - name: Christmas rush
      arrivals: 1.3                 # 30% more cases
    - name: Fewer rejections
      routing:                      # what follows Check, replaced; 'end' ends the case
        Check: {Approve: 0.9, Reject: 0.1}

Files go through :func:`mining.safeyaml.load_yaml` (no anchors, aliases,
tags or duplicate keys).  Every error names the file and the line, and says
what was expected: an unknown activity (with the closest names), a pool left
with fewer than one person, a factor that is not a positive number,
probabilities that do not add up to 1.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mining.errors import ScenarioError
from mining.safeyaml import load_yaml
from mining.simulation.model import END, SimModel

__all__ = ["END_WORD", "KEYS", "Scenario", "apply", "load_scenarios", "parse_scenarios"]

#: How a scenario file names the end of a case in ``routing``.
END_WORD = "end"
KEYS = ("name", "staff", "duration", "automate", "remove", "arrivals", "routing")
_TOLERANCE = 0.001


@dataclass(frozen=True)
class Scenario:
    """One checked scenario: the changes to make, each as plain values."""

    name: str
    staff: tuple[tuple[str, int], ...] = ()
    duration: tuple[tuple[str, float], ...] = ()
    automate: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()
    arrivals: float = 1.0
    routing: tuple[tuple[str, tuple[tuple[str, float], ...]], ...] = ()

    def describe(self) -> str:
        """The changes in words."""
        parts = [f"{'+' if n > 0 else ''}{n} at {a}" for a, n in self.staff]
        parts += [f"{a} takes x{f:g} as long" for a, f in self.duration]
        parts += [f"{a} automated" for a in self.automate]
        parts += [f"{a} removed" for a in self.remove]
        if self.arrivals != 1.0:
            parts.append(f"arrivals x{self.arrivals:g}")
        for a, targets in self.routing:
            parts.append(f"after {a}: " + ", ".join(f"{b or END_WORD} {p:.0%}" for b, p in targets))
        return "; ".join(parts) or "no change"


class _Lines:
    """Line numbers of the YAML nodes, found by path (list index or mapping key)."""

    def __init__(self, text: str) -> None:
        import yaml

        self.root = yaml.compose(text, Loader=yaml.SafeLoader)

    def line(self, *path: object, key: bool = False) -> int | None:
        node = self.root
        mark = node.start_mark if node is not None else None
        for i, step in enumerate(path):
            if node is None:
                break
            if isinstance(step, int) and node.id == "sequence":
                node = node.value[step] if step < len(node.value) else None
            elif node.id == "mapping":
                found = None
                for k, v in node.value:
                    if k.value == str(step) or getattr(k, "value", None) == step:
                        found = (k, v)
                        break
                if found is None:
                    node = None
                    break
                node = found[0] if key and i == len(path) - 1 else found[1]
            else:
                node = None
            if node is not None:
                mark = node.start_mark
        return mark.line + 1 if mark is not None else None


def load_scenarios(path: str | Path, model: SimModel, *, file: str | None = None) -> tuple[Scenario, ...]:
    """The scenarios of the YAML file at ``path``, checked against ``model``."""
    p = Path(path)
    label = file or str(p)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{label}: no such scenario file") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{label}: the scenario file is not UTF-8 text") from None
    except OSError as exc:
        raise ScenarioError(f"{label}: cannot read the scenario file ({exc.strerror})") from None
    return parse_scenarios(text, model, source=label)


def parse_scenarios(text: str, model: SimModel, *, source: str = "scenarios") -> tuple[Scenario, ...]:
    """The scenarios in YAML ``text`` (named ``source`` in messages), checked against ``model``."""
    doc = load_yaml(
        text,
        source=source,
        kind="scenario files",
        expected="a list of scenarios, each with a name and changes",
        error=ScenarioError,
    )
    lines = _Lines(text)
    prefix: tuple[object, ...] = ()
    if isinstance(doc, dict) and set(doc) == {"scenarios"}:
        doc, prefix = doc["scenarios"], ("scenarios",)
    if not isinstance(doc, list) or not doc:
        msg = f"{source}: expected a list of scenarios, each a mapping with a name and changes ({', '.join(KEYS[1:])})"
        raise ScenarioError(msg)
    out: list[Scenario] = []
    seen: set[str] = set()
    for i, item in enumerate(doc):
        sc = _Checker(source, lines, (*prefix, i), model).scenario(item, i)
        if sc.name in seen:
            raise ScenarioError(
                f"{source}, line {lines.line(*prefix, i, 'name')}: the name {sc.name!r} is used twice"
            )
        seen.add(sc.name)
        out.append(sc)
    return tuple(out)


class _Checker:
    def __init__(self, source: str, lines: _Lines, path: tuple[object, ...], model: SimModel) -> None:
        self.source, self.lines, self.path, self.model = source, lines, path, model
        self.activities = [a.name for a in model.activities]

    def fail(self, where: tuple[object, ...], text: str, *, key: bool = False) -> ScenarioError:
        line = self.lines.line(*self.path, *where, key=key)
        return ScenarioError(f"{self.source}{f', line {line}' if line else ''}: {text}")

    def activity(self, value: object, where: tuple[object, ...], *, key: bool = True) -> str:
        if not isinstance(value, str) or value not in self.activities:
            close = difflib.get_close_matches(str(value), self.activities, n=3, cutoff=0.6)
            hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            known = (
                ""
                if close
                else f"; the log's activities are {', '.join(repr(a) for a in self.activities[:12])}"
            )
            more = " ..." if not close and len(self.activities) > 12 else ""
            raise self.fail(where, f"unknown activity {value!r}{hint}{known}{more}", key=key)
        return value

    def mapping(self, value: object, where: tuple[object, ...], what: str) -> dict[Any, Any]:
        if not isinstance(value, dict) or not value:
            raise self.fail(where, f"{where[-1]} expects a mapping of {what}")
        return value

    def factor(self, value: object, where: tuple[object, ...], what: str) -> float:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value <= 0
        ):
            raise self.fail(where, f"{what} must be a positive number (1.2 = 20% more), got {value!r}")
        return float(value)

    def names(self, value: object, where: tuple[object, ...]) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            raise self.fail(where, f"{where[-1]} expects a list of activities")
        return tuple(self.activity(v, (*where, j), key=False) for j, v in enumerate(value))

    def scenario(self, item: object, i: int) -> Scenario:
        if not isinstance(item, dict):
            raise self.fail((), f"scenario {i + 1} must be a mapping with a name and changes, got {item!r}")
        for k in item:
            if k not in KEYS:
                close = difflib.get_close_matches(str(k), KEYS, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise self.fail(
                    (k,), f"unknown key {k!r}; {hint}a scenario takes {', '.join(KEYS)}", key=True
                )
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            raise self.fail(("name",) if "name" in item else (), f"scenario {i + 1} needs a name (text)")
        staff = self.staff(item["staff"]) if "staff" in item else ()
        duration = tuple(
            (
                self.activity(a, ("duration", a)),
                self.factor(f, ("duration", a), f"the duration factor of {a!r}"),
            )
            for a, f in self.mapping(item.get("duration", {"": 1}), ("duration",), "activity: factor").items()
            if "duration" in item
        )
        automate = self.names(item["automate"], ("automate",)) if "automate" in item else ()
        remove = self.names(item["remove"], ("remove",)) if "remove" in item else ()
        if remove and set(remove) >= set(self.activities):
            raise self.fail(("remove",), "a scenario cannot remove every activity")
        arrivals = self.factor(item["arrivals"], ("arrivals",), "arrivals") if "arrivals" in item else 1.0
        routing = self.routing(item["routing"]) if "routing" in item else ()
        return Scenario(name.strip(), staff, duration, automate, remove, arrivals, routing)

    def staff(self, value: object) -> tuple[tuple[str, int], ...]:
        out: list[tuple[str, int]] = []
        change: dict[str, int] = {}
        for a, n in self.mapping(value, ("staff",), "activity: +N or -N").items():
            where = ("staff", a)
            act = self.activity(a, where)
            if isinstance(n, bool) or not isinstance(n, int) or n == 0:
                raise self.fail(
                    where, f"staff for {act!r} must be a whole number of people, +1 or -1, got {n!r}"
                )
            pool = self.model.activity(act).pool
            if pool is None:
                raise self.fail(
                    where,
                    f"{act!r} needs nobody in the model (the log names no resource for it); staff cannot change it",
                )
            change[pool] = change.get(pool, 0) + n
            have = self.model.pool(pool).capacity
            if have + change[pool] < 1:
                raise self.fail(
                    where,
                    f"staff {n:+d} at {act!r} would leave its pool {pool!r} with {have + change[pool]} people "
                    f"(it has {have}); a pool needs at least one person, or automate or remove the step",
                )
            out.append((act, n))
        return tuple(out)

    def routing(self, value: object) -> tuple[tuple[str, tuple[tuple[str, float], ...]], ...]:
        out = []
        for a, targets in self.mapping(value, ("routing",), "activity: {next: probability}").items():
            act = self.activity(a, ("routing", a))
            where = ("routing", a)
            ts = self.mapping(targets, where, "next activity: probability")
            row = []
            for b, p in ts.items():
                tgt = END if b == END_WORD and b not in self.activities else self.activity(b, (*where, b))
                if isinstance(p, bool) or not isinstance(p, int | float) or not 0 <= p <= 1:
                    raise self.fail(
                        (*where, b),
                        f"the probability of {b!r} after {act!r} must be between 0 and 1, got {p!r}",
                    )
                row.append((tgt, float(p)))
            total = sum(p for _, p in row)
            if abs(total - 1) > _TOLERANCE:
                raise self.fail(
                    where, f"the probabilities after {act!r} add up to {total:g}, not 1", key=True
                )
            out.append((act, tuple(row)))
        return tuple(out)


def _remove(routing: dict[str, dict[str, float]], start: dict[str, float], x: str) -> None:
    """Cases skip ``x``: whatever led to it leads, with its probability, to where ``x`` led."""
    after = dict(routing.pop(x, {END: 1.0}))
    loop = after.pop(x, 0.0)
    rest = sum(after.values())
    onward = {b: p / rest for b, p in after.items()} if rest > 0 and loop < 1 else {END: 1.0}
    for table in [start, *routing.values()]:
        p = table.pop(x, 0.0)
        if p:
            for b, q in onward.items():
                table[b] = table.get(b, 0.0) + p * q


def apply(model: SimModel, scenario: Scenario) -> SimModel:
    """A copy of ``model`` with the scenario's changes made."""
    routing = {a: dict(t) for a, t in model.routing}
    for a, targets in scenario.routing:
        routing[a] = dict(targets)
    start = dict(model.start)
    for x in scenario.remove:
        _remove(routing, start, x)
    staff: dict[str, int] = {}
    for a, n in scenario.staff:
        pool = model.activity(a).pool
        if pool is not None:
            staff[pool] = staff.get(pool, 0) + n
    factors = dict(scenario.duration)
    activities = []
    for act in model.activities:
        if act.name in scenario.remove:
            continue
        if act.name in scenario.automate:
            act = dataclasses.replace(act, pool=None, durations=(0.0,))
        elif act.name in factors:
            act = dataclasses.replace(act, durations=tuple(d * factors[act.name] for d in act.durations))
        activities.append(act)
    pools = tuple(dataclasses.replace(p, capacity=p.capacity + staff.get(p.name, 0)) for p in model.pools)
    return dataclasses.replace(
        model,
        arrivals=tuple(r * scenario.arrivals for r in model.arrivals),
        start=tuple(start.items()),
        routing=tuple((a, tuple(t.items())) for a, t in routing.items()),
        activities=tuple(activities),
        pools=pools,
    )
