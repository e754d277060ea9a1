"""GPU arrays through the communicators (``-m gpu``; needs CuPy, a GPU and MPI): ``mpi``
stages them through the host, ``pure_nccl`` sums them on the device with NCCL. One process
(NCCL does not put two ranks on one GPU), so the mean over ranks is the gradient itself."""

from __future__ import annotations

import pytest

from tests.conftest import _cupy_or_skip
from tests.distributed.conftest import run_mpi

pytestmark = pytest.mark.gpu

SCRIPT = """
import numpy as np, cupy
import zerograd.distributed as zd, zerograd.functions as F
from zerograd.models import MLP
for name in ("mpi", "pure_nccl"):
    comm = zd.create_communicator(name)
    np.random.seed(0)
    model = MLP((5, 3))
    model(np.zeros((1, 2), np.float32))
    model.to_gpu()
    x = cupy.asarray(np.random.randn(4, 2).astype(np.float32))
    F.sum(model(x)).backward()
    grads = [p.grad.data.copy() for p in model.params()]
    data = [p.data.copy() for p in model.params()]
    comm.allreduce_grad(model)
    comm.bcast_data(model)
    for g, d, p in zip(grads, data, model.params()):
        assert isinstance(p.grad.data, cupy.ndarray) and isinstance(p.data, cupy.ndarray)
        assert bool((g == p.grad.data).all()) and bool((d == p.data).all()), name
    print(name, "ok")
"""


def test_device_arrays_through_mpi_and_nccl() -> None:
    _cupy_or_skip()
    result = run_mpi(["-c", SCRIPT], n=1, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "mpi ok" in result.stdout and "pure_nccl ok" in result.stdout
