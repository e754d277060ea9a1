"""``pure_nccl``: gradients summed on the GPUs with NCCL (``cupy.cuda.nccl``); MPI only
starts it (sends NCCL's id) and carries the object collectives. ChainerMN's
``PureNcclCommunicator``. Each process uses the GPU numbered by its rank on its machine.

Not exercised by the CPU test suite; its GPU test is marked ``gpu``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from zerograd import cuda
from zerograd.distributed.mpi import MpiCommunicator

__all__ = ["PureNcclCommunicator"]


class PureNcclCommunicator(MpiCommunicator):
    """MPI for start-up and objects, NCCL for arrays on the GPU (NumPy arrays use MPI)."""

    name = "pure_nccl"

    def __init__(self, mpi_comm: Any = None) -> None:
        super().__init__(mpi_comm)
        cupy = cuda.require_gpu()
        from cupy.cuda import nccl

        self._cupy, self._nccl = cupy, nccl
        cupy.cuda.Device(self.intra_rank % cupy.cuda.runtime.getDeviceCount()).use()
        uid = self.bcast_obj(list(nccl.get_unique_id()) if self.rank == 0 else None)
        self.nccl_comm = nccl.NcclCommunicator(self.size, tuple(uid), self.rank)

    def _nccl_type(self, dtype: np.dtype) -> int:
        types = {
            np.dtype(np.float16): self._nccl.NCCL_FLOAT16,
            np.dtype(np.float32): self._nccl.NCCL_FLOAT32,
            np.dtype(np.float64): self._nccl.NCCL_FLOAT64,
            np.dtype(np.uint8): self._nccl.NCCL_UINT8,
        }
        if dtype not in types:
            raise TypeError(f"pure_nccl: no NCCL type for dtype {dtype}")
        return int(types[dtype])

    def _allreduce_sum(self, buf: Any) -> None:
        if not cuda.is_device_array(buf):
            return super()._allreduce_sum(buf)
        stream = self._cupy.cuda.get_current_stream()
        ptr = buf.data.ptr
        dtype = self._nccl_type(buf.dtype)
        self.nccl_comm.allReduce(ptr, ptr, buf.size, dtype, self._nccl.NCCL_SUM, stream.ptr)
        return None

    def _bcast(self, buf: Any, root: int) -> None:
        if not cuda.is_device_array(buf):
            return super()._bcast(buf, root)
        stream = self._cupy.cuda.get_current_stream()
        raw = buf.view(self._cupy.uint8)
        self.nccl_comm.bcast(raw.data.ptr, raw.size, self._nccl.NCCL_UINT8, root, stream.ptr)
        return None
