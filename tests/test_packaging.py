"""What a user installs: one version, the license, the extras the README names, the Quick start."""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

import pytest

import zerograd

ROOT = Path(__file__).resolve().parents[1]

tomllib = pytest.importorskip("tomllib") if sys.version_info >= (3, 11) else None


def pyproject() -> dict:
    if tomllib is None:
        pytest.skip("tomllib is new in Python 3.11")
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_the_version_is_written_once() -> None:
    project = pyproject()["project"]
    assert "version" not in project and "version" in project["dynamic"]
    dynamic = pyproject()["tool"]["setuptools"]["dynamic"]["version"]
    assert dynamic == {"attr": "zerograd.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", zerograd.__version__)


def test_an_installed_wheel_reports_the_same_version() -> None:
    try:
        dist = metadata.distribution("zerograd")
    except metadata.PackageNotFoundError:
        pytest.skip("zerograd is not installed (PYTHONPATH=src)")
    init = Path(zerograd.__file__).resolve()
    if Path(dist.locate_file("zerograd/__init__.py")).resolve() != init:
        pytest.skip("the installed zerograd is not the one under test (editable or elsewhere)")
    assert dist.version == zerograd.__version__
    assert dist.metadata["License-Expression"] == "MIT"


def test_license() -> None:
    assert pyproject()["project"]["license"] == "MIT"
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "Copyright (c) 2026 the zerograd authors" in text


def _readme_section(title: str) -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_quick_start_is_two_commands_that_ci_runs() -> None:
    block = _readme_section("Quick start").split("```bash\n", 1)[1].split("```", 1)[0]
    lines = [line for line in block.splitlines() if line.strip()]
    assert lines == [
        "pip install -e '.[all]' && zerograd train",
        "pip install -e '.[test]' && python -m pytest",
    ]
    assert "README.md" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_the_readme_names_every_extra() -> None:
    extras = set(pyproject()["project"]["optional-dependencies"])
    table = _readme_section("Install")
    named = set(re.findall(r"^\| `([\w-]+)` \|", table, re.M))
    assert named == extras


def test_test_extra_is_test_core_plus_torch() -> None:
    extras = pyproject()["project"]["optional-dependencies"]
    assert set(extras["test"]) == {"zerograd[test-core]", "torch==2.13.0"}
    assert not any(dep.startswith("torch") for dep in extras["test-core"])
