"""The README and the CLI agree: every documented command exists and has help."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from mining.cli import cli

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def documented_commands() -> set[str]:
    return set(re.findall(r"^mining ([a-z][a-z-]*)", README, flags=re.MULTILINE))


def test_every_documented_command_exists_with_help():
    documented = documented_commands()
    assert {"ingest", "logs", "rejects"} <= documented
    for name in sorted(documented):
        res = CliRunner().invoke(cli, [name, "--help"])
        assert res.exit_code == 0, f"`mining {name}` is documented but fails: {res.output}"
        assert "Usage:" in res.output


def test_every_command_is_documented():
    commands = set(cli.list_commands(None)) - {"app"}  # type: ignore[arg-type]
    assert commands <= documented_commands() | {"app"}, sorted(commands - documented_commands())


def test_documented_ingest_flags_exist():
    res = CliRunner().invoke(cli, ["ingest", "--help"])
    for flag in re.findall(r"\[(--[a-z-]+)", README.split("mining ingest PATH", 1)[1].split("```", 1)[0]):
        assert flag in res.output, flag


def test_readme_names_the_two_commands():
    assert "bash .ci/setup && .venv/bin/mining app" in README
    assert "bash .ci/setup --browser && .venv/bin/python -m pytest" in README
    run = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    assert "bash .ci/setup --browser && .venv/bin/python -m pytest" in run


def test_every_monitor_flag_is_documented_and_every_documented_one_exists():
    res = CliRunner().invoke(cli, ["monitor", "--help"])
    synopsis = README.split("mining monitor LOG", 1)[1].split("```", 1)[0]
    documented = set(re.findall(r"(--[a-z][a-z-]+)", synopsis))
    offered = set(re.findall(r"^\s+(--[a-z][a-z-]+)", res.output, re.M)) - {"--help"}
    assert documented == offered
