"""``MpiCommunicator``: the collectives over MPI, through mpi4py (imported on creation)."""

from __future__ import annotations

import sys
import time
import traceback
from typing import Any

import numpy as np

from zerograd import cuda
from zerograd.distributed.communicator import CommunicatorBase, check_root

__all__ = ["MpiCommunicator"]


def _import_mpi(where: str) -> Any:
    try:
        from mpi4py import MPI
    except ImportError:
        raise RuntimeError(
            f"{where}: MPI needs mpi4py and an MPI library: pip install 'zerograd[mpi]' "
            f"(mpi4py and the mpich wheel), or mpi4py over a system MPI"
        ) from None
    return MPI


_abort_hook_installed = False


def _install_abort_hook(comm: CommunicatorBase) -> None:
    """An uncaught exception on one rank aborts the whole job (ChainerMN's
    ``global_except_hook``): otherwise the other ranks would wait for it forever."""
    global _abort_hook_installed
    if _abort_hook_installed:
        return
    previous = sys.excepthook

    def hook(exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            header = f"[rank {comm.rank}/{comm.size}] uncaught exception:\n"
            if previous is sys.__excepthook__:
                # One write: mpiexec forwards a rank's output while it tears the job down, and
                # a traceback printed line by line lost its last lines (the error) under load.
                text = "".join(traceback.format_exception(exc_type, exc, tb))
                sys.stderr.write(header + text)
            else:
                sys.stderr.write(header)
                previous(exc_type, exc, tb)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            time.sleep(0.2)  # time for mpiexec to forward the output before the abort
            comm.abort(1)

    sys.excepthook = hook
    _abort_hook_installed = True


class MpiCommunicator(CommunicatorBase):
    """Collectives over MPI (mpi4py). Gradients travel in one buffer per dtype; arrays on a
    GPU are staged through the host (``pure_nccl`` keeps them on the device). ``mpi_comm``
    is the mpi4py communicator (default ``MPI.COMM_WORLD``)."""

    name = "mpi"

    def __init__(self, mpi_comm: Any = None) -> None:
        MPI = _import_mpi("create_communicator")
        self._MPI = MPI
        comm = MPI.COMM_WORLD if mpi_comm is None else mpi_comm
        self.mpi_comm = comm
        self.rank, self.size = comm.Get_rank(), comm.Get_size()
        node = comm.Split_type(MPI.COMM_TYPE_SHARED, key=self.rank)
        self.intra_rank, self.intra_size = node.Get_rank(), node.Get_size()
        peers = comm.Split(color=self.intra_rank, key=self.rank)  # one rank per machine
        self.inter_rank = peers.Get_rank()
        leaders = np.array([int(self.intra_rank == 0)], np.int64)
        comm.Allreduce(MPI.IN_PLACE, leaders, op=MPI.SUM)
        self.inter_size = int(leaders[0])
        node.Free()
        peers.Free()
        if self.size > 1:
            _install_abort_hook(self)

    def barrier(self) -> None:
        self.mpi_comm.Barrier()

    def abort(self, code: int = 1) -> None:
        self.mpi_comm.Abort(code)

    def _allreduce_sum(self, buf: Any) -> None:
        if cuda.is_device_array(buf):
            host = cuda.as_numpy(buf)
            self.mpi_comm.Allreduce(self._MPI.IN_PLACE, host, op=self._MPI.SUM)
            buf.set(host)
        else:
            self.mpi_comm.Allreduce(self._MPI.IN_PLACE, buf, op=self._MPI.SUM)

    def _bcast(self, buf: Any, root: int) -> None:
        check_root(root, self.size, "bcast")
        if cuda.is_device_array(buf):
            host = cuda.as_numpy(buf)
            self.mpi_comm.Bcast(host.view(np.uint8), root=root)
            buf.set(host)
        else:
            self.mpi_comm.Bcast(buf.view(np.uint8), root=root)

    def _bcast_bytes(self, blob: bytes | None, root: int) -> bytes:
        check_root(root, self.size, "bcast_obj")
        length = np.array([0 if blob is None else len(blob)], np.int64)
        self.mpi_comm.Bcast(length, root=root)
        if blob is not None:
            buf = np.frombuffer(bytearray(blob), np.uint8)
        else:
            buf = np.empty(int(length[0]), np.uint8)
        self.mpi_comm.Bcast(buf, root=root)
        return buf.tobytes()

    def _counts(self, blob: bytes) -> tuple[np.ndarray, np.ndarray]:
        counts = np.empty(self.size, np.int64)
        self.mpi_comm.Allgather(np.array([len(blob)], np.int64), counts)
        return counts, np.concatenate([[0], np.cumsum(counts)[:-1]])

    def _allgather_bytes(self, blob: bytes) -> list[bytes]:
        counts, displs = self._counts(blob)
        recv = np.empty(int(counts.sum()), np.uint8)
        send = np.frombuffer(blob, np.uint8)
        self.mpi_comm.Allgatherv(send, [recv, counts, displs, self._MPI.BYTE])
        return [recv[d : d + c].tobytes() for d, c in zip(displs, counts)]

    def _gather_bytes(self, blob: bytes, root: int) -> list[bytes] | None:
        check_root(root, self.size, "gather_obj")
        counts, displs = self._counts(blob)
        send = np.frombuffer(blob, np.uint8)
        if self.rank != root:
            self.mpi_comm.Gatherv(send, None, root=root)
            return None
        recv = np.empty(int(counts.sum()), np.uint8)
        self.mpi_comm.Gatherv(send, [recv, counts, displs, self._MPI.BYTE], root=root)
        return [recv[d : d + c].tobytes() for d, c in zip(displs, counts)]
