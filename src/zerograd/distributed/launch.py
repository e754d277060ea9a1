"""``zerograd train --nproc N``: the command re-runs itself under ``mpiexec -n N``.

The ``mpiexec`` beside the Python interpreter (where ``pip install 'zerograd[mpi]'`` puts
MPICH's) is preferred, else the first on ``PATH``. The N processes run the same command line;
each sees from its launcher's environment that it is one of N and trains its share.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from importlib.util import find_spec

from zerograd.distributed.communicator import launcher_world_size

__all__ = ["add_arguments", "find_mpiexec", "relaunch"]


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``--nproc`` option."""
    parser.add_argument(
        "--nproc",
        type=_positive,
        metavar="N",
        help="train data-parallel on N processes under mpiexec (pip install 'zerograd[mpi]')",
    )


def find_mpiexec() -> str | None:
    """The ``mpiexec`` beside this interpreter, else the one on PATH, else None."""
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.path.isfile(beside) and os.access(beside, os.X_OK):
        return beside
    return shutil.which("mpiexec")


def relaunch(nproc: int | None, argv: Sequence[str]) -> int | None:
    """Run ``python -m zerograd *argv`` under ``mpiexec -n nproc`` and return its exit status;
    ``None`` when this process should simply go on (no ``--nproc``, ``--nproc 1``, or this
    is already one of the ``nproc`` processes). Raises ``TrainError`` when it cannot."""
    from zerograd.train import TrainError

    running = launcher_world_size()
    if running is not None:
        if nproc is not None and nproc != running:
            raise TrainError(
                f"--nproc {nproc}, but this is already one of {running} processes started by "
                f"an MPI launcher; drop --nproc or make them agree"
            )
        return None
    if nproc is None or nproc == 1:
        return None
    if find_spec("mpi4py") is None:
        raise TrainError(f"--nproc {nproc} needs mpi4py: pip install 'zerograd[mpi]'")
    mpiexec = find_mpiexec()
    if mpiexec is None:
        raise TrainError(
            f"--nproc {nproc} needs mpiexec: none beside {sys.executable} or on PATH; "
            f"pip install 'zerograd[mpi]' installs MPICH's (or install a system MPI)"
        )
    command = [mpiexec, "-n", str(nproc), sys.executable, "-m", "zerograd", *argv]
    env = dict(os.environ)
    if nproc >= (os.cpu_count() or 1):
        # As many processes as cores or more: MPICH's busy polling would take the cores from
        # the ranks it waits for; sleep 1 us after repeated empty polls instead (measured on
        # a loaded 2-core machine: an Allreduce of 80 kB in 0.2-0.3 ms instead of 1-4 ms).
        env.setdefault("MPIR_CVAR_CH4_PROGRESS_THROTTLE", "1")
    try:
        return subprocess.call(command, env=env)
    except KeyboardInterrupt:  # mpiexec forwards the signal to its processes
        return 130
