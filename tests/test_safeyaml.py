"""Every YAML a user supplies (rules, label mappings, allowlists, step models) is read by one loader that
refuses anchors and aliases, tags and repeated keys, naming the file and the line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from mining.cli import cli
from mining.conformance import Allowlist, LabelMapping
from mining.conformance.rules import load_rules
from mining.errors import ConformanceError, MiningError, ModelError, RuleError
from mining.models import load_model
from mining.safeyaml import load_yaml
from tests.conftest import FILES, SAMPLE_LOGS

#: Nine levels of aliases: 2**9 copies of one string from ten lines (a "billion laughs" in small).
LAUGHS = "a: &a [lol, lol]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(8)
)
HOSTILE = {
    "alias": (LAUGHS, "line 1: YAML anchors and aliases (&name, *name) are refused"),
    "object tag": (
        'steps: !!python/object/apply:os.system ["echo owned"]\n',
        "line 1: the YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is refused",
    ),
    "standard tag": ("map:\n  Pay: !!str 5\n", "line 2: the YAML tag 'tag:yaml.org,2002:str' is refused"),
    "local tag": ("skip: !mine [A]\n", "line 1: the YAML tag '!mine' is refused"),
    "repeated key": ("skip: [A]\nskip: [B]\n", "line 2: not valid YAML (the key 'skip' appears twice)"),
}


def _rules(path: Path) -> object:
    return load_rules(path, file=path.name)


def _model(path: Path) -> object:
    return load_model(path.read_bytes(), path.name)


LOADERS: dict[str, tuple[Callable[[Path], object], type[MiningError], str]] = {
    "rules": (_rules, RuleError, "rule files"),
    "allowlist": (Allowlist.load, ConformanceError, "allowlists"),
    "label mapping": (LabelMapping.from_yaml, ConformanceError, "label mappings"),
    "step model": (_model, ModelError, "step lists"),
}


@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize("hostile", HOSTILE)
def test_every_user_yaml_refuses_what_expands_or_builds(tmp_path: Path, loader: str, hostile: str) -> None:
    read, error, kind = LOADERS[loader]
    text, expected = HOSTILE[hostile]
    path = tmp_path / "given.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(error) as err:
        read(path)
    assert str(err.value).startswith(f"given.yaml, {expected}")
    if hostile != "repeated key":
        assert f"{kind} hold only text, lists and mappings" in str(err.value)


def test_the_conform_command_refuses_an_aliased_map_file(tmp_path: Path) -> None:
    laughs = tmp_path / "labels.yaml"
    laughs.write_text(LAUGHS, encoding="utf-8")
    ws = tmp_path / "ws.duckdb"
    runner = CliRunner()
    assert (
        runner.invoke(cli, ["--workspace", str(ws), "ingest", str(FILES / "cli" / "tiny.csv")]).exit_code == 0
    )
    model = SAMPLE_LOGS / "service_desk.bpmn"
    res = runner.invoke(
        cli, ["--workspace", str(ws), "conform", "tiny", "--model", str(model), "--map-file", str(laughs)]
    )
    assert res.exit_code == 1
    assert "Error: labels.yaml, line 1: YAML anchors and aliases (&name, *name) are refused" in res.output
    assert "Traceback" not in res.output


def test_plain_yaml_still_reads() -> None:
    assert load_yaml("map:\n  Pay: Payment\ninvisible: [tau]\n", source="m.yaml") == {
        "map": {"Pay": "Payment"},
        "invisible": ["tau"],
    }
    with pytest.raises(MiningError, match=r"^m\.yaml, line 2: not valid YAML \(.*\); expected a mapping$"):
        load_yaml("a: [1,\n", source="m.yaml", expected="a mapping")


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=12),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
        max_leaves=12,
    )
)
def test_a_plain_document_reads_as_yaml_safe_load_reads_it(value: object) -> None:
    import yaml

    text = yaml.safe_dump(value, allow_unicode=True)
    assert load_yaml(text, source="v.yaml") == yaml.safe_load(text)
