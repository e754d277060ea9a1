"""Run code or scripts under the real DeZero 0.0.13 (the reference) and under zerograd.compat.

DeZero 0.0.13 uses ``np.int`` and friends, removed in NumPy 2: the reference runs in a
subprocess that puts back only the aliases NumPy lacks, so the test process stays clean.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests._env import child_env

ROOT = Path(__file__).resolve().parents[2]

PRELUDE = """\
import numpy as _np
for _alias, _value in (("int", int), ("float", float), ("bool", bool), ("object", object),
                       ("complex", complex)):
    if _alias not in _np.__dict__:
        setattr(_np, _alias, _value)
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["MPLBACKEND"] = "Agg"
    env["PYTHONHASHSEED"] = "0"
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    return child_env(env)


def require_dezero() -> None:
    """Skip when DeZero is not installed (it is in the ``test`` extra; CI fails instead)."""
    import importlib.util

    if importlib.util.find_spec("dezero") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("dezero==0.0.13 is required in CI (pip install -e '.[test]')")
        pytest.skip("dezero is not installed")


def _run(argv: list[str], cwd: Path, timeout: float) -> str:
    proc = subprocess.run(
        argv, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout, check=False
    )
    if proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    return proc.stdout


def run_dezero_code(code: str, cwd: Path, timeout: float = 120) -> str:
    """Run ``code`` with the real ``dezero`` importable; return its stdout."""
    require_dezero()
    return _run([sys.executable, "-c", PRELUDE + code], cwd, timeout)


def run_dezero_script(
    script: Path, *args: str, cwd: Path | None = None, timeout: float = 300
) -> str:
    """Run a DeZero program under the real DeZero (in ``cwd``); return its stdout."""
    require_dezero()
    code = (
        PRELUDE
        + "import runpy, sys\n"
        + f"sys.argv = [{str(script)!r}, *{list(args)!r}]\n"
        + f"sys.path.insert(0, {str(script.parent)!r})\n"
        + f"runpy.run_path({str(script)!r}, run_name='__main__')\n"
    )
    return _run([sys.executable, "-c", code], cwd or script.parent, timeout)


def run_compat_script(
    script: Path, *args: str, cwd: Path | None = None, timeout: float = 300
) -> str:
    """Run a DeZero program under ``python -m zerograd.compat`` (in ``cwd``); return its
    stdout."""
    return _run(
        [sys.executable, "-m", "zerograd.compat", str(script), *args], script.parent, timeout
    )
