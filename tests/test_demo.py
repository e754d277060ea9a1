"""``zerograd demo``: the seed's example and the order in which backward visits the graph."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests._env import child_env
from zerograd import cli

STEP = re.compile(r"^\s*(\d+)\.\s+(\w+)\s+generation\s+(\d+)", re.MULTILINE)


def _check_output(out: str) -> None:
    assert "y = 32.0" in out
    assert "x.grad = 64.0" in out
    steps = [(int(p), name, int(g)) for p, name, g in STEP.findall(out)]
    # Each function once, largest generation first: the Add, both squares of a, then x**2.
    assert steps == [(1, "Add", 2), (2, "Pow", 1), (3, "Pow", 1), (4, "Pow", 0)]


def test_demo_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["demo"]) == 0
    _check_output(capsys.readouterr().out)


def test_demo_dot_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["demo", "--dot"]) == 0
    out = capsys.readouterr().out
    _check_output(out)
    assert "digraph" in out


def test_python_dash_m_zerograd_demo() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "zerograd", "demo"],
        capture_output=True,
        text=True,
        timeout=60,
        env=child_env(),
        check=True,
    )
    _check_output(result.stdout)


SCRIPT = Path(sys.executable).with_name("zerograd")  # the environment under test's command


@pytest.mark.skipif(not SCRIPT.exists(), reason=f"no console script {SCRIPT} (not installed)")
def test_console_script_demo() -> None:
    result = subprocess.run(
        [str(SCRIPT), "demo"], capture_output=True, text=True, timeout=60, check=True
    )
    _check_output(result.stdout)


def test_unknown_command_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["no-such-command"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
