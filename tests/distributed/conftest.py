"""Launching ``mpiexec -n N python script`` from a test (MPICH from ``zerograd[mpi]``)."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[2] / "src")


def mpiexec_or_skip() -> str:
    """The mpiexec to use; skips without mpi4py or mpiexec, except in CI, where that fails."""
    from zerograd.distributed.launch import find_mpiexec

    mpiexec = find_mpiexec()
    if find_spec("mpi4py") is None or mpiexec is None:
        missing = "mpi4py" if find_spec("mpi4py") is None else "mpiexec"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{missing} is required in CI (pip install -e '.[test]' has mpich, mpi4py)")
        pytest.skip(f"{missing} is not installed (pip install 'zerograd[mpi]')")
    return mpiexec


def child_env() -> dict[str, str]:
    """The environment of launched processes: this tree's zerograd, one BLAS thread each,
    and MPICH's polling throttled (2 ranks on 2 shared cores must not spin)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([SRC, *filter(None, [env.get("PYTHONPATH")])])
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    env.setdefault("MPIR_CVAR_CH4_PROGRESS_THROTTLE", "1")
    return env


def run_mpi(
    args: list[str], n: int = 2, timeout: float = 120, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``mpiexec -n n python *args`` on this machine, output captured; fails the test on a
    timeout instead of hanging the suite."""
    command = [mpiexec_or_skip(), "-n", str(n), sys.executable, *args]
    try:
        return subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env=child_env(), cwd=cwd
        )
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"{' '.join(command)} did not finish in {timeout} s:\n{error.stderr}")
