"""The package's shape: imports point one way, down a table of layers; no cycles; no private names
borrowed across modules; every ``__all__`` true.

The import graph is read from the source with ``ast``: imports inside functions
and under ``TYPE_CHECKING`` count, relative imports are resolved, and modules
loaded by name (``importlib.import_module("mining.x")``) count as imports.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

import mining

PACKAGE = Path(mining.__file__).resolve().parent
ROOT = PACKAGE.parent

#: Layer of each top-level part of the package.  A module may import from a lower
#: layer, or from inside its own part (``mining.ingest.presets.sap`` from
#: ``mining.ingest.load``); never upwards and never sideways into another part
#: of its own layer.
LAYERS: dict[str, int] = {
    "mining": 1,
    "mining.errors": 0,
    "mining.schema": 1,
    "mining.durations": 1,
    "mining.store": 1,
    "mining.spreadsheet": 1,
    "mining.outputs": 1,
    "mining.safeyaml": 1,
    "mining.rates": 2,
    "mining.catalog": 2,
    "mining.limits": 2,
    "mining.spark": 2,
    "mining.export": 3,
    "mining.ingest": 3,
    "mining.analysis": 3,
    "mining.pm4py_adapter": 3,
    "mining.models": 4,
    "mining.costs": 4,
    "mining.simulation": 4,
    "mining.conformance": 5,
    "mining.samples": 5,
    "mining.monitor": 6,
    "mining.drivers": 7,
    "mining.jobs": 7,
    "mining.commands": 8,
    "mining.ui": 8,
    "mining.cli": 9,
    "mining.__main__": 10,
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


@cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _resolve(name: str) -> str | None:
    """The deepest module of the package that ``name`` (a module or a name inside one) refers to."""
    known = modules()
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def _package_of(path: Path) -> str:
    name = _module_name(path) if path.is_relative_to(PACKAGE) else ""
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def _imported(path: Path) -> Iterator[tuple[str, tuple[str, ...], int]]:
    """``(module, names, line)`` for each import in the file, relative ones resolved."""
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, (), node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = _package_of(path).split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*parts, base] if base else parts)
            yield base, tuple(a.name for a in node.names), node.lineno
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id)
            in {"import_module", "__import__"}
            and node.args
        ):
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                yield arg.value, (), node.lineno
            elif isinstance(arg, ast.JoinedStr) and arg.values and isinstance(arg.values[0], ast.Constant):
                prefix = str(arg.values[0].value).rstrip(".")
                # a module loaded by a computed name: every module under the prefix may be meant
                for name in modules():
                    if name.startswith(prefix + "."):
                        yield name, (), node.lineno


def _targets(module: str, names: tuple[str, ...]) -> set[str]:
    out: set[str] = set()
    for name in names or ("",):
        target = _resolve(f"{module}.{name}" if name else module)
        if target:
            out.add(target)
    return out


@cache
def import_graph() -> dict[str, frozenset[str]]:
    graph: dict[str, frozenset[str]] = {}
    for name, path in modules().items():
        edges: set[str] = set()
        for module, names, _ in _imported(path):
            if module == "mining" or module.startswith("mining."):
                edges |= _targets(module, names)
        edges.discard(name)
        graph[name] = frozenset(edges)
    return graph


def _cycles(graph: dict[str, frozenset[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def part_of(module: str) -> str:
    """The entry of :data:`LAYERS` that holds ``module`` (the longest matching prefix)."""
    best = max((p for p in LAYERS if module == p or module.startswith(p + ".")), key=len, default=None)
    if best is None:
        pytest.fail(f"{module} has no layer in LAYERS; add its part to the table")
    return best


def test_the_import_graph_has_no_cycle():
    assert _cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": frozenset({"b"}), "b": frozenset({"c"}), "c": frozenset({"a"}), "d": frozenset({"a"})}
    assert _cycles(graph) == [["a", "b", "c"]]


def test_imports_point_down_the_layers_or_stay_inside_a_part():
    wrong = []
    for source, targets in import_graph().items():
        here = part_of(source)
        for target in targets:
            there = part_of(target)
            if there != here and LAYERS[there] >= LAYERS[here]:
                wrong.append(f"{source} (L{LAYERS[here]}) imports {target} (L{LAYERS[there]})")
    assert sorted(wrong) == []


def test_every_module_has_a_layer():
    assert {m: part_of(m) for m in modules()}  # part_of fails on a module outside the table


def _python_files() -> Iterator[Path]:
    yield from sorted(PACKAGE.rglob("*.py"))
    yield from sorted((ROOT / "tests").rglob("*.py"))
    yield from sorted((ROOT / "bench").rglob("*.py"))
    yield ROOT / "app.py"


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def test_no_private_name_is_imported_across_modules():
    """Nothing outside a module uses its ``_names``: in the package, the tests and the benchmarks."""
    wrong = []
    for path in _python_files():
        here = path.relative_to(ROOT).as_posix()
        aliases: dict[str, str] = {}
        for module, names, line in _imported(path):
            if not (module == "mining" or module.startswith("mining.")):
                continue
            for name in names:
                if _private(name) and _resolve(f"{module}.{name}") != f"{module}.{name}":
                    wrong.append(f"{here}:{line} imports {name} from {module}")
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.startswith("mining") and a.asname:
                        aliases[a.asname] = a.name
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mining"):
                for a in node.names:
                    full = f"{node.module}.{a.name}"
                    if full in modules():
                        aliases[a.asname or a.name] = full
        for node in ast.walk(_tree(path)):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and _private(node.attr)
            ):
                wrong.append(f"{here}:{node.lineno} uses {aliases[node.value.id]}.{node.attr}")
    assert wrong == []


def _top_level_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
        elif isinstance(node, ast.AnnAssign | ast.AugAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.If | ast.Try):  # TYPE_CHECKING blocks, optional imports
            inner = ast.Module(body=[*node.body, *getattr(node, "orelse", [])], type_ignores=[])
            names |= _top_level_names(inner)
    return names


@cache
def exported() -> dict[str, tuple[str, ...] | None]:
    """Each module's ``__all__`` (None when it has none)."""
    out: dict[str, tuple[str, ...] | None] = {}
    for name, path in modules().items():
        value = None
        for node in _tree(path).body:
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
            ):
                value = tuple(ast.literal_eval(node.value))
        out[name] = value
    return out


def test_every_module_declares_all():
    missing = sorted(m for m, names in exported().items() if names is None and not m.endswith("__main__"))
    assert missing == []


def test_every_name_in_all_exists():
    wrong = []
    for module, names in exported().items():
        defined = _top_level_names(_tree(modules()[module]))
        wrong += [
            f"{module}.{n}" for n in names or () if n not in defined and f"{module}.{n}" not in modules()
        ]
    assert wrong == []


def test_cross_module_imports_name_what_the_target_exports():
    """``from mining.x import y`` names something in ``mining.x.__all__`` (or a submodule ``mining.x.y``)."""
    wrong = []
    for path in _python_files():
        here = path.relative_to(ROOT).as_posix()
        for module, names, line in _imported(path):
            if module not in modules() or not names or names == ("*",):
                continue
            public = exported()[module] or ()
            for name in names:
                if f"{module}.{name}" not in modules() and name not in public:
                    wrong.append(f"{here}:{line} imports {name} from {module}, which does not export it")
    assert wrong == []


def test_one_grammar_reads_an_sla_and_a_rule_limit_alike():
    from mining.conformance.rules import parse_rule
    from mining.durations import parse_duration

    rule = parse_rule("A -> B within 2 days")
    assert rule.limit is not None
    assert rule.limit.total_seconds == parse_duration("2 days").total_seconds == 172_800


def test_the_library_never_imports_streamlit_or_the_cli():
    wrong = {}
    for name, path in modules().items():
        if LAYERS[part_of(name)] >= LAYERS["mining.commands"]:
            continue
        bad = sorted(
            m
            for m, _, _ in _imported(path)
            if m.split(".")[0] in {"streamlit", "click"}
            or m.startswith(("mining.cli", "mining.ui", "mining.commands"))
        )
        if bad:
            wrong[name] = bad
    assert wrong == {}


def test_the_app_never_imports_the_sample_generator():
    """What the generator documents about the sample logs reaches the app as data (samples.json)."""
    app = {name: path for name, path in modules().items() if part_of(name) == "mining.ui"}
    app["app"] = ROOT / "app.py"
    wrong = sorted(
        f"{name}:{line} imports {module}"
        for name, path in app.items()
        for module, names, line in _imported(path)
        if any(
            m == "mining.samples" or m.startswith("mining.samples.")
            for m in (module, *(f"{module}.{n}" for n in names))
        )
    )
    assert wrong == []


def test_only_the_store_imports_duckdb():
    users = sorted(
        n for n, p in modules().items() if any(m.split(".")[0] == "duckdb" for m, _, _ in _imported(p))
    )
    assert users == ["mining.store"]


def test_pm4py_stays_behind_its_adapter():
    users = sorted(
        n for n, p in modules().items() if any(m.split(".")[0] == "pm4py" for m, _, _ in _imported(p))
    )
    assert all(u == "mining.pm4py_adapter" or u.startswith("mining.models") for u in users), users
