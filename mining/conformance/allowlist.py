"""Accepted deviations: read the allowlist, and take what it accepts off a trace's deviations.

Accepted deviations are written ``kind:Activity``, one per line in a text
file or as YAML lists::

    skip: [Send reminder]        # or lines "skip:Send reminder"
    insert: [Call customer]      # also covers activities not in the model
    swap: [Approve]              # Approve done out of order

They leave the deviation figures, and a case whose only deviations are
accepted counts as fitting; the result lists what was accepted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mining.conformance.records import KINDS
from mining.errors import ConformanceError
from mining.safeyaml import load_yaml

__all__ = ["Allowlist", "split_accepted"]

#: Allowlist prefix -> the kinds it accepts.
_PREFIXES = {"skip": ("skipped",), "insert": ("inserted", "not_in_model"), "swap": ("out_of_order",)}


@dataclass(frozen=True)
class Allowlist:
    """Accepted deviations as ``(kind, activity)``; see the module docstring for the file formats."""

    entries: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, items: Iterable[str], *, source: str = "allowlist") -> Allowlist:
        """From ``"skip:Approve"``-style strings."""
        entries = []
        for n, item in enumerate(items, start=1):
            prefix, sep, activity = item.partition(":")
            if not sep or prefix.strip().lower() not in _PREFIXES or not activity.strip():
                msg = (
                    f"{source}, line {n}: {item!r}; expected 'skip:Activity', 'insert:Activity' "
                    "or 'swap:Activity'"
                )
                raise ConformanceError(msg)
            entries.append((prefix.strip().lower(), " ".join(activity.split())))
        return cls(tuple(entries))

    @classmethod
    def load(cls, path: str | Path) -> Allowlist:
        """From a file: YAML (``skip: [..]``, ``insert: [..]``, ``swap: [..]``) or one entry per line."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            msg = f"{path.name}: cannot read the allowlist ({exc}); expected UTF-8 text"
            raise ConformanceError(msg) from None
        if path.suffix.lower() in {".yaml", ".yml"}:
            data = (
                load_yaml(
                    text,
                    source=path.name,
                    kind="allowlists",
                    expected="'skip: [Activity, ...]', 'insert: [...]', 'swap: [...]'",
                    error=ConformanceError,
                )
                or {}
            )
            if not isinstance(data, dict) or not set(data) <= set(_PREFIXES):
                msg = f"{path.name}: expected the keys 'skip', 'insert' and 'swap', each with a list of activities"
                raise ConformanceError(msg)
            items = []
            for prefix, acts in data.items():
                if not isinstance(acts, list):
                    msg = f"{path.name}: '{prefix}' must be a list of activities"
                    raise ConformanceError(msg)
                items += [f"{prefix}:{a}" for a in acts]
            return cls.parse(items, source=path.name)
        lines = [ln.split("#", 1)[0].strip() for ln in text.splitlines()]
        return cls.parse([ln for ln in lines if ln], source=path.name)

    def accepts(self, kind: str, activity: str) -> bool:
        return any(kind in _PREFIXES[p] and a == activity for p, a in self.entries)


def split_accepted(
    found: Counter[tuple[str, str]], allow: Allowlist | None
) -> tuple[tuple[tuple[str, str, int], ...], tuple[tuple[str, str, int], ...]]:
    """(deviations, accepted) of one trace, each sorted by kind then activity."""
    order = {k: i for i, k in enumerate(KINDS)}
    items = sorted(found.items(), key=lambda kv: (order[kv[0][0]], kv[0][1]))
    kept = tuple((k, a, n) for (k, a), n in items if allow is None or not allow.accepts(k, a))
    accepted = tuple((k, a, n) for (k, a), n in items if allow is not None and allow.accepts(k, a))
    return kept, accepted
