"""The rate card: what an hour of each resource costs, and what each execution of an activity costs.

One card prices everything that turns time into money: cost per case and per
activity (:mod:`mining.costs`), Lean waste (:mod:`mining.monitor.lean`), the
drivers' impact and simulation.  A card is written by the user, as YAML::

    currency: EUR          # a label for amounts (optional)
    resources:             # resource -> money per hour, or -> the name of a role
      Ann: 40
      Bob: clerk
      "*": 25              # everyone not listed (optional; without it an unlisted resource is an error)
    roles:                 # role -> money per hour
      clerk: 30
    activities:            # activity -> a fixed cost per execution
      Send invoice: 1.20
    waiting: false         # also charge waiting time, at the rate of the resource waited for

or as CSV, one row per entry (``kind`` is ``resource``, ``role``,
``activity`` or ``setting``)::

    kind,name,value
    resource,Ann,40
    resource,Bob,clerk
    resource,*,25
    role,clerk,30
    activity,Send invoice,1.20
    setting,currency,EUR
    setting,waiting,no

A resource's hourly rate is its own, else its role's, else the default
(``"*"``).  Events without a resource are charged the default.  Amounts are
plain numbers (a decimal point, no thousands separators), 0 or more.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mining.errors import RateCardError
from mining.safeyaml import load_yaml
from mining.spreadsheet import read_small_csv

__all__ = [
    "DEFAULT_RATE_KEY",
    "RATE_CARD_SUFFIXES",
    "RateCard",
    "as_rate_card",
    "format_money",
    "load_rate_card",
    "rate_card_from_bytes",
]

#: Key that prices every resource not listed.
DEFAULT_RATE_KEY = "*"
RATE_CARD_SUFFIXES = (".yaml", ".yml", ".csv")
_YAML_KEYS = ("currency", "resources", "roles", "activities", "waiting")
_CSV_KINDS = ("resource", "role", "activity", "setting")
_TRUE = {"yes", "true", "on", "1", "y"}
_FALSE = {"no", "false", "off", "0", "n", ""}
_EXPECTED = (
    "a mapping with some of the keys currency, resources (resource: rate or role), roles (role: rate), "
    "activities (activity: fixed cost) and waiting (yes/no)"
)


@dataclass(frozen=True)
class RateCard:
    """Hourly rates by resource (directly or through a role), a default, and fixed costs by activity.

    Mappings are stored as sorted tuples of pairs so a card hashes (it keys
    caches).  ``members`` maps a resource to its role.  ``waiting`` says
    whether cost per case also charges waiting time.
    """

    resources: tuple[tuple[str, float], ...] = ()
    roles: tuple[tuple[str, float], ...] = ()
    members: tuple[tuple[str, str], ...] = ()
    default: float | None = None
    activities: tuple[tuple[str, float], ...] = ()
    currency: str = ""
    waiting: bool = False
    source: str = ""

    def hourly(self, resource: str | None) -> float | None:
        """The hourly rate of ``resource`` (``None`` for no resource): own, else its role's, else the default."""
        if resource is not None:
            own = dict(self.resources).get(resource)
            if own is not None:
                return own
            role = dict(self.members).get(resource)
            if role is not None:
                return dict(self.roles)[role]
        return self.default

    def fixed(self, activity: str) -> float:
        """The fixed cost of one execution of ``activity`` (0 when not listed)."""
        return dict(self.activities).get(activity, 0.0)

    def priced_resources(self) -> dict[str, float]:
        """Every resource the card names, with its effective hourly rate."""
        out = {name: rate for name, rate in self.resources}
        roles = dict(self.roles)
        for name, role in self.members:
            out.setdefault(name, roles[role])
        return out

    def rate_sql(self, column: str, params: dict[str, Any], prefix: str) -> str:
        """SQL for the hourly rate of the resource in ``column`` (``NULL`` when the card has none).

        Binds the card into ``params`` under names starting with ``prefix``.
        """
        named = self.priced_resources()
        params[f"{prefix}_names"] = list(named)
        params[f"{prefix}_rates"] = list(named.values())
        params[f"{prefix}_default"] = self.default
        return (
            f"coalesce(CAST(list_extract(${prefix}_rates, list_position(${prefix}_names, {column})) AS DOUBLE), "
            f"CAST(${prefix}_default AS DOUBLE))"
        )

    def fixed_sql(self, column: str, params: dict[str, Any], prefix: str) -> str:
        """SQL for the fixed cost of one execution of the activity in ``column`` (0 when not listed)."""
        params[f"{prefix}_acts"] = [a for a, _ in self.activities]
        params[f"{prefix}_fixed"] = [c for _, c in self.activities]
        return (
            f"coalesce(CAST(list_extract(${prefix}_fixed, list_position(${prefix}_acts, {column})) AS DOUBLE), "
            "CAST(0 AS DOUBLE))"
        )

    def unpriced(self, resources: list[str | None]) -> list[str]:
        """The resources among ``resources`` without an hourly rate (``None`` shown as ``(no resource)``)."""
        return sorted({"(no resource)" if r is None else r for r in resources if self.hourly(r) is None})

    def money(self, amount: float | None) -> str:
        """``amount`` in this card's currency: ``EUR 1,234.50``."""
        return format_money(amount, self.currency)

    def label(self) -> str:
        """A one-line description: what is priced, for notes and captions."""
        parts = []
        n = len(self.priced_resources())
        if n:
            parts.append(f"{n} resource rate{'s' if n != 1 else ''}")
        if self.default is not None:
            parts.append(f"{format_money(self.default, self.currency)}/h for everyone else")
        if self.activities:
            k = len(self.activities)
            parts.append(f"{k} fixed activity cost{'s' if k != 1 else ''}")
        text = ", ".join(parts) or "no rates"
        text += "; waiting time charged" if self.waiting else "; waiting time not charged"
        return f"{self.source}: {text}" if self.source else text


def format_money(amount: float | None, currency: str = "") -> str:
    """Money with two decimals and thousands separators: ``EUR 1,234.50``; ``None`` is ``-``.

    Examples
    --------
    >>> format_money(1234.5, "EUR"), format_money(0.125), format_money(None)
    ('EUR 1,234.50', '0.13', '-')
    """
    if amount is None or not math.isfinite(amount):
        return "-"
    text = f"{amount:,.2f}"
    return f"{currency} {text}" if currency else text


def as_rate_card(
    value: RateCard | float | Mapping[str, float] | None, *, name: str = "cost_per_hour"
) -> RateCard | None:
    """A card from what older callers pass: one rate for all, or ``{resource: rate, "*": default}``.

    ``name`` is the option that passed a single rate, for its message.
    """
    if value is None or isinstance(value, RateCard):
        return value
    if isinstance(value, Mapping):
        named = {str(k): _hourly(v, f"the rate of {k!r}") for k, v in value.items()}
        default = named.pop(DEFAULT_RATE_KEY, None)
        return RateCard(resources=tuple(sorted(named.items())), default=default)
    return RateCard(default=_hourly(value, name))


def _hourly(value: Any, what: str) -> float:
    try:
        return _amount(value, what, RateCardError)
    except RateCardError:
        msg = f"{what} must be a number of money per hour, 0 or more; got {value!r}"
        raise RateCardError(msg) from None


def load_rate_card(path: str | Path) -> RateCard:
    """The rate card in a ``.yaml``/``.yml`` or ``.csv`` file; errors name the file, the entry and what was expected."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise RateCardError(f"{path}: no such rate card") from None
    except OSError as exc:
        raise RateCardError(f"{path}: cannot read the rate card ({exc.strerror or exc})") from None
    return rate_card_from_bytes(data, name=str(path))


def rate_card_from_bytes(data: bytes, *, name: str) -> RateCard:
    """The rate card in ``data``, a file called ``name`` (its suffix says YAML or CSV)."""
    suffix = Path(name).suffix.lower()
    if suffix not in RATE_CARD_SUFFIXES:
        msg = f"{name}: a rate card is a .yaml, .yml or .csv file"
        raise RateCardError(msg)
    if suffix == ".csv":
        return _from_csv(data, name)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RateCardError(f"{name}: the rate card is not UTF-8 text") from None
    doc = load_yaml(text, source=name, kind="rate cards", expected=_EXPECTED, error=RateCardError)
    return _from_yaml(doc, name)


def _from_yaml(doc: Any, name: str) -> RateCard:
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise RateCardError(f"{name}: expected {_EXPECTED}; found {_kind(doc)}")
    unknown = [str(k) for k in doc if k not in _YAML_KEYS]
    if unknown:
        raise RateCardError(f"{name}: unknown key(s) {', '.join(map(repr, unknown))}; expected {_EXPECTED}")
    resources: dict[str, float] = {}
    members: dict[str, str] = {}
    for key, value in _section(doc, "resources", name).items():
        where = f"{name}, resources, {key!r}"
        if isinstance(value, str) and not _is_number(value):
            members[key] = value.strip()
        else:
            resources[key] = _amount(value, where, RateCardError)
    roles = {
        k: _amount(v, f"{name}, roles, {k!r}", RateCardError) for k, v in _section(doc, "roles", name).items()
    }
    activities = {
        k: _amount(v, f"{name}, activities, {k!r}", RateCardError)
        for k, v in _section(doc, "activities", name).items()
    }
    currency = doc.get("currency", "")
    if not isinstance(currency, str):
        raise RateCardError(f"{name}, currency: expected a label such as EUR; found {_kind(currency)}")
    waiting = doc.get("waiting", False)
    if not isinstance(waiting, bool):
        raise RateCardError(f"{name}, waiting: expected yes or no; found {_kind(waiting)}")
    return _card(resources, members, roles, activities, currency.strip(), waiting, name)


def _from_csv(data: bytes, name: str) -> RateCard:
    header, rows = read_small_csv(data, source=name, error=RateCardError)
    cols = [h.lower() for h in header]
    missing = [c for c in ("kind", "name", "value") if c not in cols]
    if missing:
        msg = (
            f"{name}, row 1: no column {', '.join(map(repr, missing))}; expected the header kind,name,value "
            f"(found {', '.join(map(repr, header))})"
        )
        raise RateCardError(msg)
    ki, ni, vi = cols.index("kind"), cols.index("name"), cols.index("value")
    resources: dict[str, float] = {}
    members: dict[str, str] = {}
    roles: dict[str, float] = {}
    activities: dict[str, float] = {}
    currency, waiting = "", False
    seen: set[tuple[str, str]] = set()
    for i, row in enumerate(rows, start=2):
        kind, key, value = row[ki].lower(), row[ni], row[vi]
        where = f"{name}, row {i}"
        if kind not in _CSV_KINDS:
            msg = f"{where}, column 'kind': {row[ki]!r} is not one of {', '.join(_CSV_KINDS)}"
            raise RateCardError(msg)
        if not key:
            raise RateCardError(f"{where}, column 'name': empty; expected the {kind}'s name")
        if (kind, key) in seen:
            raise RateCardError(f"{where}: the {kind} {key!r} is listed twice")
        seen.add((kind, key))
        col = f"{where}, column 'value'"
        if kind == "resource":
            if value and not _is_number(value):
                members[key] = value
            else:
                resources[key] = _amount(value, col, RateCardError)
        elif kind == "role":
            roles[key] = _amount(value, col, RateCardError)
        elif kind == "activity":
            activities[key] = _amount(value, col, RateCardError)
        elif key.lower() == "currency":
            currency = value
        elif key.lower() == "waiting":
            if value.lower() not in _TRUE | _FALSE:
                raise RateCardError(f"{col}: expected yes or no for waiting; found {value!r}")
            waiting = value.lower() in _TRUE
        else:
            raise RateCardError(
                f"{where}, column 'name': unknown setting {key!r}; expected currency or waiting"
            )
    return _card(resources, members, roles, activities, currency, waiting, name)


def _card(
    resources: dict[str, float],
    members: dict[str, str],
    roles: dict[str, float],
    activities: dict[str, float],
    currency: str,
    waiting: bool,
    name: str,
) -> RateCard:
    default = resources.pop(DEFAULT_RATE_KEY, None)
    if DEFAULT_RATE_KEY in members:
        role = members.pop(DEFAULT_RATE_KEY)
        if role not in roles:
            raise RateCardError(
                f"{name}: the default {DEFAULT_RATE_KEY!r} names the role {role!r}, which has no rate"
            )
        default = roles[role]
    for resource, role in members.items():
        if role not in roles:
            known = ", ".join(map(repr, sorted(roles))) or "none"
            msg = (
                f"{name}: the resource {resource!r} has the role {role!r}, which has no rate (roles: {known})"
            )
            raise RateCardError(msg)
    return RateCard(
        resources=tuple(sorted(resources.items())),
        roles=tuple(sorted(roles.items())),
        members=tuple(sorted(members.items())),
        default=default,
        activities=tuple(sorted(activities.items())),
        currency=currency,
        waiting=waiting,
        source=name,
    )


def _section(doc: dict[str, Any], key: str, name: str) -> dict[str, Any]:
    value = doc.get(key) or {}
    if not isinstance(value, dict):
        raise RateCardError(f"{name}, {key}: expected a mapping (name: amount); found {_kind(value)}")
    return {str(k): v for k, v in value.items()}


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _amount(value: Any, where: str, error: type[RateCardError]) -> float:
    if isinstance(value, bool):
        value = math.nan
    try:
        amount = float(value)
    except (TypeError, ValueError):
        amount = math.nan
    if not math.isfinite(amount) or amount < 0:
        msg = f"{where}: expected an amount of money, 0 or more (such as 42.50); found {value!r}"
        raise error(msg)
    return amount


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return f"{value} (YAML reads yes, no, on and off as true or false)"
    return {dict: "a mapping", list: "a list", str: "text", type(None): "nothing"}.get(
        type(value), f"the number {value!r}" if isinstance(value, int | float) else type(value).__name__
    )
