"""Smoke: every module imports, every CLI command has help with an example."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import governance
import lakehouse
import nifi_flows
import spark_jobs
from lakehouse.cli.main import COMMANDS, build_parser

pytestmark = pytest.mark.unit


def all_modules() -> list[str]:
    names = []
    for package in (lakehouse, governance, spark_jobs, nifi_flows):
        names.append(package.__name__)
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}."):
            names.append(info.name)
    return names


@pytest.mark.parametrize("module", all_modules())
def test_every_module_imports_and_says_why_it_exists(module: str) -> None:
    mod = importlib.import_module(module)
    assert (mod.__doc__ or "").strip(), f"{module} has no module docstring"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([command, "--help"])
    assert exit_info.value.code == 0
    assert "example" in capsys.readouterr().out.lower()
