"""Every script in examples/ runs (with few epochs) and prints what it promises."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests._env import child_env

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def run(*argv: str, cwd: Path) -> str:
    env = child_env(MPLBACKEND="Agg")
    proc = subprocess.run(
        [sys.executable, *argv],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def value(name: str, out: str) -> float:
    return float(re.search(rf"^{name}=(\S+)$", out, re.M).group(1))


def test_every_example_is_tested() -> None:
    tested = {"train_digits.py", "spiral.py", "sin_lstm.py", "dezero_program.py"}
    assert {p.name for p in EXAMPLES.glob("*.py")} == tested


def test_train_digits(tmp_path: Path) -> None:
    out = run(str(EXAMPLES / "train_digits.py"), "--epochs", "5", cwd=tmp_path)
    assert "epoch 5:" in out and value("test_accuracy", out) > 0.9


def test_spiral_with_plot(tmp_path: Path) -> None:
    out = run(str(EXAMPLES / "spiral.py"), "--epochs", "100", "--plot", "regions.png", cwd=tmp_path)
    assert value("train_accuracy", out) > 0.9
    assert (tmp_path / "regions.png").read_bytes()[:4] == b"\x89PNG"


def test_sin_lstm(tmp_path: Path) -> None:
    out = run(str(EXAMPLES / "sin_lstm.py"), "--epochs", "10", cwd=tmp_path)
    assert float(re.search(r"mse=(\S+)", out).group(1)) < 0.05


def test_dezero_program_under_compat(tmp_path: Path) -> None:
    out = run("-m", "zerograd.compat", str(EXAMPLES / "dezero_program.py"), cwd=tmp_path)
    losses = [float(v) for v in re.findall(r"loss (\S+)", out)]
    assert len(losses) == 10 and losses[-1] < losses[0] * 0.5


@pytest.mark.slow
def test_full_length_examples(tmp_path: Path) -> None:
    assert value("test_accuracy", run(str(EXAMPLES / "train_digits.py"), cwd=tmp_path)) >= 0.97
    assert value("train_accuracy", run(str(EXAMPLES / "spiral.py"), cwd=tmp_path)) >= 0.95
