"""What the commands share: the error edge, JSON output, the store they read, and option groups.

Only the commands turn a :class:`~mining.errors.MiningError` into a message
(:func:`fail_cleanly`); anything else is a bug and keeps its traceback.  This
module imports click alone: library imports wait inside the functions, so
``mining --help`` starts fast.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from mining.analysis.calendar import Calendar
    from mining.limits import Limits

__all__ = [
    "EXIT_ERROR",
    "calendar_from",
    "calendar_options",
    "emit_json",
    "fail_cleanly",
    "limit_options",
    "limits_from",
    "model_labels_hint",
    "open_reader",
    "role_option",
    "workspace_exists",
]

#: Exit code of a command that failed with a :class:`~mining.errors.MiningError`.
EXIT_ERROR = 1

_F = TypeVar("_F", bound=Callable[..., Any])


def fail_cleanly(func: _F) -> _F:
    """Print a library error as ``Error: ...`` and ``Hint: ...`` on stderr and exit 1."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from mining.errors import MiningError

        try:
            return func(*args, **kwargs)
        except MiningError as exc:
            click.echo(f"Error: {exc}", err=True)
            if exc.hint:
                click.echo(f"Hint: {exc.hint}", err=True)
            sys.exit(EXIT_ERROR)

    return wrapper  # type: ignore[return-value]


def emit_json(data: Any) -> None:
    """Print a record (or what holds records) as indented JSON."""
    from mining.schema import to_jsonable

    click.echo(json.dumps(to_jsonable(data), ensure_ascii=False, indent=2))


@contextlib.contextmanager
def open_reader(ctx: click.Context) -> Iterator[Any]:
    """The store the analysis commands read: the workspace (read-only) or Spark over Parquet."""
    obj = ctx.find_root().obj
    if obj["engine"] == "duckdb":
        from mining.store import Store

        with Store(obj["workspace"], read_only=True) as store:
            yield store
        return
    from mining.errors import StoreError
    from mining.spark import SparkStore, session_for

    if not obj["parquet"]:
        msg = "--engine spark needs --parquet DIR (a folder written by `mining export LOG --parquet DIR`)"
        raise StoreError(msg)
    yield SparkStore(session_for(master=obj["spark_master"], remote=obj["spark_remote"]), obj["parquet"])


@contextlib.contextmanager
def model_labels_hint() -> Iterator[None]:
    """A model whose tasks too few of the log's activities match, in a command without ``conform``'s
    --map, --map-file and --force: the hint names what this command reads, the mapping the app saves."""
    from mining.errors import LabelsUnmatched

    try:
        yield
    except LabelsUnmatched as exc:
        hint = (
            "map the model's tasks to the log's activities on the app's Conformance page: the mapping it "
            "saves for this log and model is used here"
        )
        raise LabelsUnmatched(exc.message, labels=exc.labels, hint=hint) from None


def workspace_exists(ctx: click.Context) -> bool:
    """Whether the workspace file is there (a command that only lists may then open it read-only)."""
    return Path(ctx.find_root().obj["workspace"]).exists()


def role_option(name: str, help_text: str) -> Callable[[_F], _F]:
    """``--NAME COLUMN``: the column that plays a role (case, activity, ...) in an export."""
    return click.option(f"--{name}", default=None, metavar="COLUMN", help=help_text)


def calendar_options(*, hours_help: str, timezone_help: str) -> Callable[[_F], _F]:
    """``--business-hours``, ``--country``, ``--subdivision`` and ``--timezone``, in that order.

    The commands say in their own words what the hours and the zone do to
    them; the country and its region mean the same everywhere.  Read the four
    values with :func:`calendar_from`.
    """
    options = (
        click.option("--business-hours", metavar="START-END", help=hours_help),
        click.option(
            "--country",
            metavar="CODE",
            help="Leave out this country's public holidays (ISO code such as NL); implies 9-17 hours.",
        ),
        click.option(
            "--subdivision", metavar="CODE", help="Region for --country holidays (e.g. BY for Bavaria)."
        ),
        click.option("--timezone", metavar="ZONE", help=timezone_help),
    )

    def decorate(func: _F) -> _F:
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


def calendar_from(
    business_hours: str | None, country: str | None, subdivision: str | None, timezone: str | None
) -> Calendar | None:
    """The business calendar that the :func:`calendar_options` describe.

    None (wall-clock time) unless hours or a country are given; a country alone means 9-17.
    """
    if subdivision and not country:
        from mining.errors import AnalysisError, Option, phrase

        msg = phrase(
            Option("subdivision", subdivision),
            " names a region of a country's public holidays, but no ",
            Option("country"),
            " is given",
        )
        raise AnalysisError(msg)
    if not (business_hours or country):
        return None
    from mining.analysis.calendar import Calendar, parse_hours

    start, end = parse_hours(business_hours or "9-17")
    return Calendar(
        timezone=timezone,
        start_hour=start,
        end_hour=end,
        country=country.upper() if country else None,
        subdivision=subdivision,
    )


def limit_options(func: _F) -> _F:
    """``--memory-limit SIZE`` and ``--time-limit DURATION``: what the command's child process may use.

    Read them with :func:`limits_from`.  The work runs in a child process
    (:mod:`mining.limits`) that is stopped when it needs more, with a message
    that says so, whatever the input.
    """
    func = click.option(
        "--time-limit",
        metavar="DURATION",
        help="Stop the work after this long, e.g. 30m or 2h (default: $MINING_TIME_LIMIT, else no limit).",
    )(func)
    return click.option(
        "--memory-limit",
        metavar="SIZE",
        help="The most memory the work may use, e.g. 2GB (default: $MINING_MEMORY_LIMIT, else half the "
        "machine's memory); DuckDB spills to disk beyond half of it.",
    )(func)


def limits_from(memory_limit: str | None, time_limit: str | None) -> Limits:
    """The :class:`~mining.limits.Limits` that :func:`limit_options` describe."""
    from mining.durations import parse_duration
    from mining.errors import MiningError, Option
    from mining.limits import Limits
    from mining.limits import memory_limit as default_memory
    from mining.limits import time_limit as default_time

    seconds = (
        parse_duration(time_limit, what="--time-limit", error=MiningError).total_seconds
        if time_limit
        else default_time(None)
    )
    return Limits(memory=default_memory(memory_limit, option=Option("memory_limit")), seconds=seconds)
