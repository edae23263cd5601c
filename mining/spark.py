"""The measures on Apache Spark: the same DuckDB SQL, transpiled, over Parquet.

The measures in :mod:`mining.analysis` are written once, in DuckDB's SQL
dialect, against a store with ``query``/``scalar``/``arrow``/``register``.
:class:`SparkStore` is such a store over a :class:`pyspark.sql.SparkSession`:
the Parquet folder(s) written by :func:`mining.export.export_parquet` are
registered as temporary views named exactly like the DuckDB tables
(``events``, ``cases``, ``variants``, ``attribute_columns``, ``logs``,
``attrs_<log_id>``), and every statement is translated by :func:`to_spark_sql`:

1. parse it as DuckDB SQL with sqlglot;
2. rewrite the constructs sqlglot would translate *wrongly* (silently) into
   Spark equivalents with the same meaning (see :data:`REWRITES` and
   ``docs/spark.md``), and refuse the ones we know to be wrong and have no
   rewrite for (:class:`UnsupportedConstruct`);
3. generate Spark SQL with ``unsupported_level=RAISE``.

Parameters stay parameters: DuckDB's ``$name`` becomes Spark's ``:name`` and
``?`` stays ``?``; the values go to ``spark.sql(query, args=...)``.  Results
are collected through Arrow in query order and returned as
:class:`mining.store.Result`, with the Python values DuckDB gives (aware UTC
datetimes for ``TIMESTAMP WITH TIME ZONE``, lists for arrays).

pyspark and sqlglot are imported inside the functions that need them, so
``import mining.spark`` costs nothing and the rest of the package never needs
them.  Example::

    from mining.spark import SparkStore, local_session
    from mining.analysis.dfg import dfg

    spark = local_session()
    graph = dfg(SparkStore(spark, "/data/parquet/sepsis"), log_id)
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from mining.errors import StoreError
from mining.store import Result

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from sqlglot import exp

__all__ = [
    "LOCAL_CONF",
    "REWRITES",
    "SMALL_DATA_CONF",
    "SparkStore",
    "UnsupportedConstruct",
    "local_session",
    "session_for",
    "spark_args",
    "to_spark_sql",
]

#: Settings of :func:`local_session`; the time zone one matters on any cluster too.
LOCAL_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "2",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}

#: Added by ``local_session(small_data=True)``: for logs of a few thousand events
#: (tests, demos) start-up and per-query overhead dominate, so the JVM skips the
#: optimising JIT and Spark interprets expressions instead of generating code.
#: Two to three times faster there; slower on big data, so off by default.
SMALL_DATA_CONF: dict[str, str] = {
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
    "spark.sql.adaptive.enabled": "false",
}

#: Tables of a Parquet folder besides ``attrs_<log_id>`` (see :mod:`mining.export`).
TABLES = ("logs", "events", "cases", "variants", "attribute_columns")


class UnsupportedConstruct(StoreError):
    """The DuckDB SQL uses something that would not mean the same on Spark."""


# -- sessions ------------------------------------------------------------------


def local_session(
    app_name: str = "mining", *, cores: int = 2, small_data: bool = False, conf: dict[str, str] | None = None
) -> SparkSession:
    """A ``local[cores]`` SparkSession set up for the measures (UTC, 2 shuffle partitions, no UI).

    ``small_data`` adds :data:`SMALL_DATA_CONF` (it only takes effect when
    this call starts the JVM).  On a cluster build the session yourself
    (``SparkSession.builder.master(...)`` or ``.remote("sc://...")``) and set
    ``spark.sql.session.timeZone=UTC``; :class:`SparkStore` checks it.
    """
    from pyspark.sql import SparkSession

    settings = {**LOCAL_CONF, **(SMALL_DATA_CONF if small_data else {}), **(conf or {})}
    builder = SparkSession.builder.master(f"local[{int(cores)}]").appName(app_name)
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    # getOrCreate may hand back a running session: set the runtime settings that matter again.
    session.conf.set("spark.sql.session.timeZone", "UTC")
    session.sparkContext.setLogLevel("ERROR")
    return session


def session_for(*, master: str | None = None, remote: str | None = None) -> SparkSession:
    """The session the CLI uses: Spark Connect at ``remote``, a cluster ``master``, else ``local[2]``."""
    if master is None and remote is None:
        return local_session()
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("mining")
    builder = builder.remote(remote) if remote else builder.master(master)
    session = builder.config("spark.sql.session.timeZone", "UTC").getOrCreate()
    session.conf.set("spark.sql.session.timeZone", "UTC")
    return session


# -- the translation -------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _parsed_template(spark_sql: str) -> exp.Expression:
    import sqlglot

    return sqlglot.parse_one(spark_sql, read="spark")


def _template(spark_sql: str, *args: exp.Expression) -> exp.Expression:
    """Parse a Spark SQL expression and put copies of ``args`` in place of ``__0``, ``__1``, ..."""
    from sqlglot import exp

    tree = _parsed_template(spark_sql).copy()

    def fill(node: exp.Expression) -> exp.Expression:
        if (
            isinstance(node, exp.Column)
            and not node.table
            and node.name.startswith("__")
            and node.name[2:].isdigit()
        ):
            return args[int(node.name[2:])].copy()
        return node

    return tree.transform(fill)


def _epoch(node: exp.Expression) -> exp.Expression:
    # DuckDB epoch(ts): seconds since 1970 as DOUBLE, microseconds included.
    # sqlglot writes UNIX_TIMESTAMP(ts), which is whole seconds (BIGINT).
    return _template("(UNIX_MICROS(CAST(__0 AS TIMESTAMP)) / 1e6)", node)


def _field_name(node: exp.Expression) -> str | None:
    from sqlglot import exp

    if isinstance(node, exp.Var | exp.Column | exp.Identifier):
        return node.name.lower()
    if isinstance(node, exp.Literal) and node.is_string:
        return node.this.lower()
    return None


def _date_part(field: str, arg: exp.Expression, original: str) -> exp.Expression | None:
    """``date_part(field, arg)`` / ``extract(field FROM arg)`` with DuckDB's meaning, or None if portable."""
    if field == "epoch":
        return _epoch(arg)
    if field in {"dow", "dayofweek", "weekday"}:  # DuckDB: Sunday = 0 ... Saturday = 6
        return _template("(DAYOFWEEK(__0) - 1)", arg)
    if field == "isodow":  # Monday = 1 ... Sunday = 7
        return _template("(WEEKDAY(__0) + 1)", arg)
    if field in {"second", "seconds", "s"}:  # DuckDB: whole seconds; Spark's EXTRACT keeps the fraction
        return _template("SECOND(__0)", arg)
    if field in {"year", "month", "day", "hour", "minute", "quarter", "week", "doy", "dayofyear"}:
        return None
    msg = f"date part {field!r} in {original!r} has no checked Spark equivalent"
    raise UnsupportedConstruct(msg, hint="use year/month/day/hour/minute/second/dow/isodow/epoch")


def _ordered_keys(order: exp.Order, original: str) -> list[exp.Expression]:
    """Struct fields that sort like DuckDB's ``ORDER BY`` (ascending keys; NULLs last unless asked)."""
    from sqlglot import exp

    fields: list[exp.Expression] = []
    for item in order.expressions:
        key = item.this if isinstance(item, exp.Ordered) else item
        desc = bool(isinstance(item, exp.Ordered) and item.args.get("desc"))
        nulls_first = bool(isinstance(item, exp.Ordered) and item.args.get("nulls_first"))
        if desc:
            msg = f"ordered aggregate with a descending key in {original!r}"
            raise UnsupportedConstruct(msg, hint="order the aggregate by ascending keys")
        fields.append(_template("(__0 IS NOT NULL)" if nulls_first else "(__0 IS NULL)", key))
        fields.append(key)
    return fields


def _ordered_list(value: exp.Expression, order: exp.Order, original: str) -> exp.Expression:
    """``array_agg(value ORDER BY k1, k2)``: sort a list of structs (k1, k2, value), keep the values.

    Spark's collect_list has no ORDER BY (sqlglot drops it silently) and skips
    NULL values; wrapping each value in a struct keeps both order and NULLs.
    """
    from sqlglot import exp

    keys = _ordered_keys(order, original)
    struct = exp.Struct(
        expressions=[
            *(
                exp.PropertyEQ(this=exp.to_identifier(f"k{i}"), expression=k.copy())
                for i, k in enumerate(keys)
            ),
            exp.PropertyEQ(this=exp.to_identifier("v"), expression=value.copy()),
        ]
    )
    # DuckDB returns NULL, not an empty list, for a group of no rows (a global aggregate).
    listed = _template("TRANSFORM(ARRAY_SORT(COLLECT_LIST(__0)), _e -> _e.v)", struct)
    return _template("CASE WHEN SIZE(__0) > 0 THEN __0 END", listed)


def _rewrite(node: exp.Expression, original: str) -> exp.Expression:
    from sqlglot import exp

    if (
        isinstance(node, exp.Select)
        and isinstance(node.args.get("distinct"), exp.Distinct)
        and node.args["distinct"].args.get("on") is not None
    ):
        return _distinct_on(node, original)
    if isinstance(node, exp.TimeToUnix):  # epoch(ts)
        return _epoch(node.this)
    if isinstance(node, exp.DayOfWeek):  # DuckDB dayofweek: Sunday = 0
        return _template("(DAYOFWEEK(__0) - 1)", node.this)
    if isinstance(node, exp.DayOfWeekIso):  # isodow: Monday = 1 (sqlglot's ((DAYOFWEEK % 7) + 1) is off)
        return _template("(WEEKDAY(__0) + 1)", node.this)
    if isinstance(node, exp.Extract):
        field = _field_name(node.this)
        if field is not None:
            return _date_part(field, node.expression, original) or node
    if (
        isinstance(node, exp.Anonymous)
        and node.name.lower() in {"date_part", "datepart"}
        and len(node.expressions) == 2
    ):
        field = _field_name(node.expressions[0])
        if field is not None:
            return _date_part(field, node.expressions[1], original) or node
    if (
        isinstance(node, exp.Floor | exp.Ceil)
        and not node.args.get("decimals")
        and isinstance(node.this.unnest(), exp.Div)
    ):
        # DuckDB's `/` always gives DOUBLE and floor(DOUBLE) stays DOUBLE; Spark's FLOOR returns BIGINT.
        return _template(
            f"CAST({'FLOOR' if isinstance(node, exp.Floor) else 'CEIL'}(__0) AS DOUBLE)", node.this
        )
    if isinstance(node, exp.Median):  # DuckDB median = quantile_cont(x, 0.5), interpolated
        return _template("PERCENTILE(__0, 0.5)", node.this)
    if isinstance(node, exp.PercentileCont) and node.expression is not None:
        # quantile_cont(x, q): Spark's percentile_cont takes WITHIN GROUP; percentile(x, q) is the same.
        return _template("PERCENTILE(__0, __1)", node.this, node.expression)
    if isinstance(node, exp.PercentileDisc) and node.expression is not None:
        msg = f"quantile_disc in {original!r}: DuckDB and Spark pick different ranks"
        raise UnsupportedConstruct(msg, hint="use quantile_cont, or min(x) FILTER over a row_number")
    if isinstance(node, exp.ArrayAgg) and isinstance(node.this, exp.Order):
        return _ordered_list(node.this.this, node.this, original)
    if isinstance(node, exp.GroupConcat) and isinstance(node.this, exp.Order):
        sep = node.args.get("separator") or exp.Literal.string(",")
        listed = _ordered_list(node.this.this, node.this, original)
        return _template("ARRAY_JOIN(__0, __1)", listed, sep)
    if isinstance(node, exp.DateDiff):  # DuckDB date_diff/datediff: a count of unit boundaries
        return _date_diff(node, original)
    if isinstance(node, exp.UnixToTime) and node.args.get("scale") is not None and not _is_numeric(node.this):
        msg = f"epoch_ms/epoch_us of a timestamp in {original!r} would become TIMESTAMP_MILLIS on Spark"
        raise UnsupportedConstruct(msg, hint="use epoch(ts) * 1000")
    if isinstance(node, exp.DateBin):
        msg = f"time_bucket in {original!r} has no Spark equivalent"
        raise UnsupportedConstruct(msg, hint="use date_trunc, or floor(epoch(ts) / width) arithmetic")
    if isinstance(node, exp.Bracket) and any(isinstance(e, exp.Slice) for e in node.expressions):
        msg = f"list slice in {original!r}: DuckDB's 1-based inclusive slices do not transpile"
        raise UnsupportedConstruct(msg, hint="use list_extract / l[i] per element, or slice in Python")
    return node


def _rewrite_tree(tree: exp.Expression, original: str) -> exp.Expression:
    """Apply :func:`_rewrite` bottom-up, so a rewritten node's arguments are rewritten first.

    Nodes a rewrite creates are not visited again (they are Spark SQL already).
    """
    for node in reversed(list(tree.walk(bfs=False))):
        new = _rewrite(node, original)
        if new is not node:
            if node is tree:
                tree = new
            else:
                node.replace(new)
    return tree


def _distinct_on(select: exp.Select, original: str) -> exp.Expression:
    """``SELECT DISTINCT ON (k) cols FROM ... ORDER BY o`` as a ROW_NUMBER filter, keeping DuckDB's output order.

    sqlglot's own rewrite drops the final ORDER BY and leaks its row number
    through ``SELECT *``.  Here the order keys travel as hidden columns and
    the outer query selects the named columns, ordered and limited as asked.
    """
    from sqlglot import exp

    distinct = select.args["distinct"]
    on = distinct.args["on"]
    keys = list(on.expressions) if isinstance(on, exp.Tuple) else [on]
    names = []
    for p in select.expressions:
        if isinstance(p, exp.Star) or (isinstance(p, exp.Column) and isinstance(p.this, exp.Star)):
            msg = f"DISTINCT ON with * in {original!r}"
            raise UnsupportedConstruct(msg, hint="name the columns of a DISTINCT ON query")
        if not p.alias_or_name:
            msg = f"DISTINCT ON with an unnamed column in {original!r}"
            raise UnsupportedConstruct(msg, hint="give every column of a DISTINCT ON query a name")
        names.append(p.alias_or_name)
    aliased = {p.alias: p.this for p in select.expressions if isinstance(p, exp.Alias)}

    def resolve(e: exp.Expression) -> exp.Expression:  # ORDER BY may name an output alias
        if isinstance(e, exp.Column) and not e.table and e.name in aliased:
            return aliased[e.name].copy()
        return e.copy()

    order = select.args.get("order")
    ordered = (
        list(order.expressions) if order else [exp.Ordered(this=k.copy(), nulls_first=False) for k in keys]
    )
    inner = select.copy()
    for arg in ("distinct", "order", "limit", "offset", "with"):
        inner.set(arg, None)
    window = exp.Window(
        this=exp.RowNumber(),
        partition_by=[resolve(k) for k in keys],
        order=exp.Order(
            expressions=[
                exp.Ordered(
                    this=resolve(o.this), desc=o.args.get("desc"), nulls_first=o.args.get("nulls_first")
                )
                for o in ordered
            ]
        ),
    )
    inner.select(exp.alias_(window, "_dn"), copy=False)
    hidden = []
    for i, o in enumerate(ordered if order else []):
        inner.select(exp.alias_(resolve(o.this), f"_do{i}"), copy=False)
        hidden.append(
            exp.Ordered(
                this=exp.column(f"_do{i}"), desc=o.args.get("desc"), nulls_first=o.args.get("nulls_first")
            )
        )
    outer = exp.select(*[exp.column(n) for n in names]).from_(inner.subquery("_d")).where("_dn = 1")
    if hidden:
        outer = outer.order_by(*hidden)
    for arg in ("limit", "offset", "with"):
        if select.args.get(arg) is not None:
            outer.set(arg, select.args[arg].copy())
    return outer


def _unique_cte_names(tree: exp.Expression) -> exp.Expression:
    """Rename CTEs of nested WITH clauses whose name is already taken.

    sqlglot's Spark generator moves every CTE to the top-level WITH (Spark
    once lacked nested WITH) without renaming, so ``WITH c ... (WITH c ...)``,
    legal in DuckDB, becomes a duplicate CTE name that Spark refuses.  A
    renamed table keeps its old name as alias, so qualified columns still
    resolve.
    """
    from sqlglot import exp

    ctes = list(tree.find_all(exp.CTE))  # breadth first: outer clauses before nested ones
    taken = {c.alias for c in ctes}
    seen: set[str] = set()
    for cte in ctes:
        name = cte.alias
        if name not in seen:
            seen.add(name)
            continue
        k = 1
        while f"{name}_{k}" in taken:
            k += 1
        new = f"{name}_{k}"
        taken.add(new)
        scope = cte.parent.parent if cte.parent is not None else None
        if scope is None:
            continue
        for table in scope.find_all(exp.Table):
            if table.name == name and not table.args.get("db") and not table.args.get("catalog"):
                if not table.alias:
                    table.set("alias", exp.TableAlias(this=exp.to_identifier(name)))
                table.set("this", exp.to_identifier(new))
        cte.set("alias", exp.TableAlias(this=exp.to_identifier(new)))
    return tree


def _is_numeric(node: exp.Expression) -> bool:
    from sqlglot import exp

    return isinstance(node, exp.Literal) and not node.is_string


_DIFF_UNITS = {"second": 1, "minute": 60, "hour": 3600}


def _date_diff(node: exp.DateDiff, original: str) -> exp.Expression:
    """DuckDB ``date_diff(unit, a, b)`` counts unit *boundaries* crossed; Spark's counts whole units."""
    unit = (node.text("unit") or "day").lower().rstrip("s")
    a, b = node.expression, node.this
    if unit in _DIFF_UNITS:
        width = _DIFF_UNITS[unit] * 1_000_000
        return _template(
            f"(FLOOR(UNIX_MICROS(CAST(__1 AS TIMESTAMP)) / {width}) - FLOOR(UNIX_MICROS(CAST(__0 AS TIMESTAMP)) / {width}))",
            a,
            b,
        )
    if unit == "day":
        return _template("DATEDIFF(CAST(__1 AS DATE), CAST(__0 AS DATE))", a, b)
    if unit == "month":
        return _template("((YEAR(__1) * 12 + MONTH(__1)) - (YEAR(__0) * 12 + MONTH(__0)))", a, b)
    if unit == "year":
        return _template("(YEAR(__1) - YEAR(__0))", a, b)
    msg = f"date_diff with unit {unit!r} in {original!r} has no checked Spark equivalent"
    raise UnsupportedConstruct(msg, hint="use second, minute, hour, day, month or year")


#: What :func:`to_spark_sql` does besides sqlglot's own translation, for docs and tests.
REWRITES: tuple[tuple[str, str], ...] = (
    (
        "epoch(ts), extract(epoch FROM ts)",
        "UNIX_MICROS(CAST(ts AS TIMESTAMP)) / 1e6 (not UNIX_TIMESTAMP: whole seconds)",
    ),
    ("dayofweek(ts), date_part('dow', ts)", "DAYOFWEEK(ts) - 1 (DuckDB Sunday = 0, Spark Sunday = 1)"),
    ("isodow(ts)", "WEEKDAY(ts) + 1 (Monday = 1)"),
    ("date_part('second', ts)", "SECOND(ts) (Spark's EXTRACT(SECOND) keeps the fraction)"),
    ("floor(a / b), ceil(a / b)", "CAST(FLOOR(a / b) AS DOUBLE) (Spark's FLOOR returns BIGINT)"),
    ("median(x)", "PERCENTILE(x, 0.5)"),
    ("quantile_cont(x, q)", "PERCENTILE(x, q) (Spark's PERCENTILE_CONT needs WITHIN GROUP)"),
    (
        "array_agg(x ORDER BY k), list(x ORDER BY k)",
        "TRANSFORM(ARRAY_SORT(COLLECT_LIST(STRUCT(k IS NULL, k, x))), e -> e.v)",
    ),
    ("string_agg(x, sep ORDER BY k)", "ARRAY_JOIN(<the ordered list>, sep)"),
    (
        "date_diff('hour', a, b)",
        "boundary count: FLOOR(micros(b) / unit) - FLOOR(micros(a) / unit); day: DATEDIFF of dates",
    ),
    (
        "SELECT DISTINCT ON (k) ... ORDER BY o",
        "ROW_NUMBER() filter with the ORDER BY kept on the outer query",
    ),
    ("nested WITH reusing a CTE name", "the nested CTE renamed (sqlglot hoists all CTEs to the top)"),
    ("?", "named markers :_pos1, :_pos2, ... bound from the list"),
)


_POSITIONAL = "_pos"


def _name_positional(sql: str) -> tuple[str, int]:
    """Replace each ``?`` by ``$_pos1``, ``$_pos2``, ... in text order (strings and comments untouched).

    Named markers survive rewrites that repeat an argument (a positional one would shift).
    """
    if "?" not in sql:
        return sql, 0
    from sqlglot.dialects.dialect import Dialect
    from sqlglot.tokens import TokenType

    tokens = [
        t for t in Dialect.get_or_raise("duckdb").tokenize(sql) if t.token_type == TokenType.PLACEHOLDER
    ]
    out, last = [], 0
    for i, tok in enumerate(tokens, 1):
        out += [sql[last : tok.start], f"${_POSITIONAL}{i}"]
        last = tok.end + 1
    return "".join([*out, sql[last:]]), len(tokens)


@functools.lru_cache(maxsize=1024)
def _translate(sql: str) -> tuple[str, tuple[str, ...], int]:
    """(Spark SQL, parameter names it uses, how many of them stand for ``?`` markers)."""
    import sqlglot
    from sqlglot import ErrorLevel, exp
    from sqlglot.errors import SqlglotError

    try:
        named_sql, positional = _name_positional(sql)
        trees = sqlglot.parse(named_sql, read="duckdb")
    except SqlglotError as exc:
        msg = f"cannot parse the query for Spark: {exc}"
        raise UnsupportedConstruct(msg) from None
    if len(trees) != 1 or trees[0] is None:
        msg = "one statement at a time"
        raise UnsupportedConstruct(msg)
    short = " ".join(sql.split())[:120]
    tree = _unique_cte_names(_rewrite_tree(trees[0], short))
    names: list[str] = []
    for ph in tree.find_all(exp.Placeholder):
        if ph.this is None or str(ph.this).isdigit():
            msg = "unsupported parameter marker: use $name or ?"
            raise UnsupportedConstruct(msg)
        if ph.name not in names:
            names.append(ph.name)
    if tree.find(exp.Parameter):
        msg = "unsupported parameter syntax: use $name or ?"
        raise UnsupportedConstruct(msg)
    if positional and any(not n.startswith(_POSITIONAL) for n in names):
        msg = "a statement mixes $name and ? parameters"
        raise UnsupportedConstruct(msg)
    try:
        out = tree.sql(dialect="spark", unsupported_level=ErrorLevel.RAISE)
    except SqlglotError as exc:
        msg = f"cannot translate the query to Spark SQL: {exc}"
        raise UnsupportedConstruct(msg) from None
    return out, tuple(names), positional


def to_spark_sql(sql: str) -> str:
    """Spark SQL with the same meaning as DuckDB ``sql``; :class:`UnsupportedConstruct` if there is none."""
    return _translate(sql)[0]


# -- parameters ------------------------------------------------------------------


def _spark_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        # DuckDB's connection is in UTC: a naive datetime means UTC there.  pyspark reads
        # a naive one in the Python process's zone, an aware one exactly.
        return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    if isinstance(value, list | tuple):
        if not value:
            msg = "an empty list parameter has no element type on Spark"
            raise UnsupportedConstruct(msg, hint="leave the condition out when the list is empty")
        return [_spark_value(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):  # numpy scalars
        return value.item()
    return value


def spark_args(
    params: Sequence[Any] | dict[str, Any] | None, names: Sequence[str] = (), positional: int = 0
) -> dict[str, Any] | None:
    """``spark.sql(args=...)`` for DuckDB parameters, checked like DuckDB checks them.

    ``names`` are the markers of the translated statement; ``positional`` of
    them (``_pos1`` ...) stand for ``?`` markers and take a list's values in order.
    """
    if params is None or (not params and not names):
        if names:
            msg = "the statement has parameters but no values were given"
            raise StoreError(msg)
        return None
    if positional:
        if isinstance(params, dict) or len(params) != positional:
            n = len(params)
            msg = f"the statement has {positional} ? parameters, got {n} values"
            raise StoreError(msg)
        params = {f"{_POSITIONAL}{i}": v for i, v in enumerate(params, 1)}
    elif not isinstance(params, dict):
        msg = f"the statement has no ? parameters, got {len(params)} values"
        raise StoreError(msg)
    missing = [n for n in names if n not in params]
    if missing:
        msg = f"no values for parameters {missing}"
        raise StoreError(msg)
    extra = sorted(set(params) - set(names))
    if extra:  # as DuckDB does: a value the statement does not use is a mistake in the caller
        msg = f"values given for parameters the statement does not use: {extra}"
        raise StoreError(msg)
    return {n: _spark_value(params[n]) for n in names} or None


# -- the store -------------------------------------------------------------------

_ACTIVE: dict[int, SparkStore] = {}
_ACTIVE_LOCK = threading.Lock()


class SparkStore:
    """A read-only store over Parquet folders on Spark, with the reading interface of :class:`~mining.store.Store`.

    ``folders`` is one folder written by :func:`mining.export.export_parquet`
    or several (one per log); their tables are unioned.  Paths may be local or
    any URL the cluster reads (``s3a://``, ``hdfs://``, ``abfss://``).  Views
    are temporary views of ``session``; several stores may share a session
    (each re-registers its views when it is used after another).
    """

    def __init__(
        self,
        session: SparkSession,
        folders: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
        *,
        cache: bool = False,
    ) -> None:
        tz = session.conf.get("spark.sql.session.timeZone")
        if tz not in {"UTC", "Etc/UTC", "Z", "+00:00"}:
            msg = f"the Spark session's time zone is {tz!r}; the measures need spark.sql.session.timeZone=UTC"
            raise StoreError(msg, hint='session.conf.set("spark.sql.session.timeZone", "UTC")')
        self.session = session
        if isinstance(folders, str | os.PathLike):
            folders = [folders]
        self.folders = tuple(os.fspath(f) for f in folders)
        if not self.folders:
            msg = "no Parquet folder given"
            raise StoreError(msg)
        self._views: dict[str, DataFrame] = {}
        self._build(cache)
        self._activate(force=True)

    # -- views -------------------------------------------------------------
    def _build(self, cache: bool) -> None:
        from pyspark.sql import functions as F

        read = self.session.read
        frames = {t: [read.parquet(_join(folder, f"{t}.parquet")) for folder in self.folders] for t in TABLES}
        # One job finds which folder holds which log (each folder's attrs_<id> belongs to it).
        logs = functools.reduce(
            lambda a, b: a.unionByName(b),
            [df.select("log_id", F.lit(i).alias("_folder")) for i, df in enumerate(frames["logs"])],
        )
        seen: dict[int, str] = {}
        for log_id, i in sorted(logs.collect()):
            folder = self.folders[int(i)]
            if int(log_id) in seen:
                msg = f"log id {log_id} is in both {seen[int(log_id)]} and {folder}"
                raise StoreError(
                    msg, hint="export the logs from one workspace, or use one SparkStore per folder"
                )
            seen[int(log_id)] = folder
            attrs = read.parquet(_join(folder, f"attrs_{int(log_id)}.parquet"))
            self._views[f"attrs_{int(log_id)}"] = attrs.cache() if cache else attrs
        for t, dfs in frames.items():
            df = functools.reduce(lambda a, b: a.unionByName(b), dfs)
            self._views[t] = df.cache() if cache else df
        self.log_ids = tuple(sorted(seen))

    def _activate(self, force: bool = False) -> None:
        key = id(self.session)
        with _ACTIVE_LOCK:
            if not force and _ACTIVE.get(key) is self:
                return
            for name, df in self._views.items():
                df.createOrReplaceTempView(name)
            _ACTIVE[key] = self

    # -- the reading interface of Store -------------------------------------
    def _frame(self, sql: str, params: Sequence[Any] | dict[str, Any] | None) -> DataFrame:
        spark_sql, names, positional = _translate(sql)
        args = spark_args(params, names, positional)
        self._activate()
        return self._run(lambda: self.session.sql(spark_sql, args=args), sql)

    def _run(self, action: Callable[[], Any], sql: str) -> Any:
        try:
            return action()
        except Exception as exc:
            if type(exc).__module__.split(".")[0] not in {"pyspark", "py4j"}:
                raise
            first = " ".join(sql.split())[:200]
            err = StoreError(f"Spark query failed: {str(exc).strip().splitlines()[0][:500]}")
            err.sql = first  # type: ignore[attr-defined]
            raise err from exc

    def arrow(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> Any:
        """Run one statement and return a ``pyarrow.Table`` (timestamps as UTC instants)."""
        df = self._frame(sql, params)
        return self._run(df.toArrow, sql)

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> Result:
        """Run one statement and fetch all its rows, in order, as DuckDB's Python values."""
        table = self.arrow(sql, params)
        columns = tuple(table.column_names)
        data = [col.to_pylist() for col in table.columns]
        return Result(columns, list(zip(*data, strict=True)) if data else [])

    def scalar(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> Any:
        return self.query(sql, params).scalar()

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> None:
        msg = "a SparkStore is read-only: ingest into DuckDB, then export_parquet"
        raise StoreError(msg)

    def register(self, name: str, table: Any) -> None:
        """Expose an Arrow table (or polars frame) to SQL under ``name`` (a temporary view)."""
        if type(table).__module__.split(".")[0] == "polars":
            table = table.to_arrow()
        df = self.session.createDataFrame(table)
        self._views[name] = df
        with _ACTIVE_LOCK:
            if _ACTIVE.get(id(self.session)) is self:
                df.createOrReplaceTempView(name)
                return
        self._activate(force=True)

    def unregister(self, name: str) -> None:
        if self._views.pop(name, None) is not None and _ACTIVE.get(id(self.session)) is self:
            self.session.catalog.dropTempView(name)

    # -- lifecycle (a Store is a context manager) -----------------------------
    def close(self) -> None:
        """Forget this store's views; the session stays (it belongs to the caller)."""
        with _ACTIVE_LOCK:
            if _ACTIVE.get(id(self.session)) is self:
                for name in self._views:
                    self.session.catalog.dropTempView(name)
                del _ACTIVE[id(self.session)]
        self._views.clear()

    def __enter__(self) -> SparkStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _join(folder: str, name: str) -> str:
    if "://" in folder:
        return folder.rstrip("/") + "/" + name
    return os.path.join(folder, name)
