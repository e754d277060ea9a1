"""Communicators: who this process is among the others, and the collectives it joins.

``create_communicator(name)`` picks one from ``COMMUNICATORS`` (ChainerMN's names). Every
communicator offers the same methods; ``SingleCommunicator`` is the world of one process,
where they cost nothing, so a script written for N processes runs unchanged on one.
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from typing import Any

from zerograd import cuda
from zerograd.autograd import Variable
from zerograd.distributed import _codec, _state
from zerograd.distributed._tree import REDUCE_OPS, zip_apply

__all__ = [
    "COMMUNICATORS",
    "CommunicatorBase",
    "SingleCommunicator",
    "create_communicator",
    "launcher_world_size",
]

# Set by MPI launchers in each process they start: MPICH/Intel MPI (PMI), Open MPI, MVAPICH.
_LAUNCHER_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE")


def launcher_world_size() -> int | None:
    """The number of processes an MPI launcher (``mpiexec``, ``srun``) started, read from
    the environment it gives each process; ``None`` outside a launcher."""
    for var in _LAUNCHER_VARS:
        value = os.environ.get(var)
        if value is not None and value.strip().isdigit():
            return int(value)
    return None


class CommunicatorBase:
    """The collectives of data-parallel training (ChainerMN's ``CommunicatorBase``).

    ``rank`` is this process's index in ``range(size)``; ``intra_rank``/``intra_size`` its
    index and count on this machine, ``inter_rank``/``inter_size`` the machine's index and
    the number of machines. Every method is collective: all ranks call it, in the same order.
    Subclasses provide the array primitives (``_allreduce_sum``, ``_bcast``) and the byte
    primitives behind the object collectives.
    """

    name = "base"
    rank = 0
    size = 1
    intra_rank = 0
    intra_size = 1
    inter_rank = 0
    inter_size = 1

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name={self.name!r}, rank={self.rank}, size={self.size}, "
            f"intra_rank={self.intra_rank})"
        )

    # -- arrays of a model ------------------------------------------------------------------
    def allreduce_grad(self, model: Any) -> None:
        """Replace every parameter's gradient with its mean over all ranks.

        The gradients of one dtype (and device) travel in one flat buffer, one Allreduce
        each. A parameter without a gradient on some ranks counts as zero there; without a
        gradient on every rank it keeps ``grad = None`` everywhere (so all ranks agree on
        which parameters the optimizer updates). Works on a Layer or a list of Parameters.
        """
        named = _state.named_params(model, "allreduce_grad")
        for group in _state.groups(named):
            if group.dtype.kind not in "fc":
                for name, p in group.entries:
                    if p.grad is not None:
                        raise TypeError(
                            f"allreduce_grad: parameter {name!r} has dtype {group.dtype}, "
                            f"which has no gradient; expected a floating dtype"
                        )
                continue
            grads = []
            for name, p in group.entries:
                g = p.grad
                if g is not None and g.shape != p.data.shape:
                    raise ValueError(
                        f"allreduce_grad: gradient of {name!r} has shape {g.shape}, "
                        f"its parameter {p.data.shape}"
                    )
                grads.append(None if g is None else g.data)
            # One slot per parameter after the gradients counts the ranks that had one.
            buf = group.pack(grads, extra=len(grads))
            buf[group.total :] = group.xp.asarray([g is not None for g in grads], buf.dtype)
            self._allreduce_sum(buf)
            had = cuda.as_numpy(buf[group.total :])
            grad_part = buf[: group.total]
            grad_part /= self.size
            for (_, p, lo, hi), count in zip(group.spans(), had):
                p.grad = Variable(group.view(buf, lo, hi, p.data.shape)) if count else None

    def bcast_data(self, model: Any, root: int = 0) -> None:
        """Copy every parameter and buffer (BatchNorm's statistics...) of rank ``root`` to
        all ranks. Raises ValueError on every rank if the ranks' models differ in names,
        shapes or dtypes."""
        entries = _state.named_params(model, "bcast_data") + _state.named_buffers(model)
        self._check_same("bcast_data", entries)
        for group in _state.groups(entries):
            if self.rank == root:
                buf = group.pack([v.data for _, v in group.entries])
            else:
                buf = group.empty()
            self._bcast(buf, root)
            if self.rank != root:
                for _, v, lo, hi in group.spans():
                    v.data = group.view(buf, lo, hi, v.data.shape)

    def allreduce_buffers(self, model: Any) -> None:
        """Average the floating-point buffers (BatchNorm's running mean and variance) over
        all ranks and copy the others from rank 0: run before evaluating or saving, so every
        rank evaluates and saves the same model (ChainerMN's ``AllreducePersistent``)."""
        entries = _state.named_buffers(model)
        if not entries or self.size == 1:
            return
        self._check_same("allreduce_buffers", entries)
        for group in _state.groups(entries):
            buf = group.pack([v.data for _, v in group.entries])
            if group.dtype.kind not in "fc":
                self._bcast(buf, 0)
            else:
                self._allreduce_sum(buf)
                buf /= self.size
            for _, v, lo, hi in group.spans():
                v.data = group.view(buf, lo, hi, v.data.shape)

    # -- Python objects (small: metrics, settings, shards) ----------------------------------
    def bcast_obj(self, obj: Any, root: int = 0) -> Any:
        """Rank ``root``'s ``obj`` on every rank (numbers, strings, lists, tuples, dicts and
        NumPy arrays; no pickle)."""
        blob = _codec.encode(obj, "bcast_obj") if self.rank == root else None
        return _codec.decode(self._bcast_bytes(blob, root))

    def gather_obj(self, obj: Any, root: int = 0) -> list[Any] | None:
        """The list of every rank's ``obj`` (in rank order) on ``root``; ``None`` elsewhere."""
        blobs = self._gather_bytes(_codec.encode(obj, "gather_obj"), root)
        return None if blobs is None else [_codec.decode(b) for b in blobs]

    def allgather_obj(self, obj: Any) -> list[Any]:
        """The list of every rank's ``obj``, in rank order, on every rank."""
        return [
            _codec.decode(b) for b in self._allgather_bytes(_codec.encode(obj, "allgather_obj"))
        ]

    def allreduce_obj(self, obj: Any, op: str = "sum") -> Any:
        """``obj`` (a number, an array, or a list/tuple/dict of them, the same structure on
        every rank) reduced elementwise over ranks with ``op`` = ``"sum"``, ``"mean"``,
        ``"max"`` or ``"min"``. Reduced in rank order, so every rank gets the same bits.

        >>> from zerograd.distributed import create_communicator
        >>> create_communicator("single").allreduce_obj({"loss": 0.5, "n": 3}, op="mean")
        {'loss': 0.5, 'n': 3.0}
        """
        if op not in REDUCE_OPS:
            raise ValueError(f"allreduce_obj: op must be one of {sorted(REDUCE_OPS)}, got {op!r}")
        values = self.allgather_obj(obj)
        combine = REDUCE_OPS[op]
        out = zip_apply(values[0], None, lambda a, _: a, "allreduce_obj")  # checks rank 0's
        for rank, other in enumerate(values[1:], start=1):
            out = zip_apply(out, other, combine, f"allreduce_obj: rank {rank}")
        if op == "mean":
            out = zip_apply(out, None, lambda a, _: a / self.size, "allreduce_obj")
        return out

    def barrier(self) -> None:
        """Wait until every rank has called ``barrier``."""

    def abort(self, code: int = 1) -> None:
        """End every process of the job with exit status ``code`` (MPI_Abort)."""
        sys.exit(code)

    @contextlib.contextmanager
    def abort_on_error(self) -> Iterator[None]:
        """On an exception inside the block, print it (naming this rank) and abort every
        rank, instead of leaving the others waiting in a collective forever."""
        try:
            yield
        except BaseException:
            if self.size > 1:
                print(f"[rank {self.rank}/{self.size}] aborting the job:", file=sys.stderr)
                traceback.print_exc()
                sys.stderr.flush()
                self.abort(1)
            raise

    # -- helpers and primitives -------------------------------------------------------------
    def _check_same(self, where: str, entries: list[tuple[str, Variable]]) -> None:
        problem = _state.first_difference(self.allgather_obj(_state.signature(entries)))
        if problem is not None:  # the same on every rank, so every rank raises
            raise ValueError(f"{where}: the ranks' models differ: {problem}")

    def _allreduce_sum(self, buf: Any) -> None:
        """Sum the 1-D contiguous ``buf`` over ranks, in place."""

    def _bcast(self, buf: Any, root: int) -> None:
        """Copy rank ``root``'s 1-D contiguous ``buf`` into every rank's, in place."""

    def _bcast_bytes(self, blob: bytes | None, root: int) -> bytes:
        return blob  # type: ignore[return-value]

    def _gather_bytes(self, blob: bytes, root: int) -> list[bytes] | None:
        return [blob]

    def _allgather_bytes(self, blob: bytes) -> list[bytes]:
        return [blob]


class SingleCommunicator(CommunicatorBase):
    """The world of one process: rank 0 of 1. Model collectives return at once; object
    collectives still check that their objects could be sent (so a single-process run
    catches what an N-process run would reject)."""

    name = "single"

    def allreduce_grad(self, model: Any) -> None:
        _state.named_params(model, "allreduce_grad")

    def bcast_data(self, model: Any, root: int = 0) -> None:
        check_root(root, 1, "bcast_data")
        _state.named_params(model, "bcast_data")

    def bcast_obj(self, obj: Any, root: int = 0) -> Any:
        check_root(root, 1, "bcast_obj")
        return super().bcast_obj(obj, root)

    def gather_obj(self, obj: Any, root: int = 0) -> list[Any] | None:
        check_root(root, 1, "gather_obj")
        return super().gather_obj(obj, root)


def check_root(root: int, size: int, where: str) -> None:
    if not 0 <= root < size:
        raise ValueError(f"{where}: root must be a rank in [0, {size}), got {root}")


def _mpi(mpi_comm: Any) -> CommunicatorBase:
    from zerograd.distributed.mpi import MpiCommunicator

    return MpiCommunicator(mpi_comm)


def _nccl(mpi_comm: Any) -> CommunicatorBase:
    from zerograd.distributed.nccl import PureNcclCommunicator

    return PureNcclCommunicator(mpi_comm)


#: ``create_communicator``'s names (ChainerMN's where they mean the same).
COMMUNICATORS: dict[str, Callable[[Any], CommunicatorBase]] = {
    "single": lambda mpi_comm: SingleCommunicator(),
    "mpi": _mpi,
    "flat": _mpi,  # ChainerMN's name for one Allreduce over packed gradients
    "pure_nccl": _nccl,
}


def create_communicator(name: str = "auto", mpi_comm: Any = None) -> CommunicatorBase:
    """A communicator from ``COMMUNICATORS``, or with ``name="auto"``: MPI when this process
    was started by an MPI launcher (``mpiexec -n N``), else the single-process one (MPI is
    then not even imported).

    ``"mpi"`` (alias ``"flat"``) insists on MPI; ``"pure_nccl"`` sums gradients on the GPUs
    with NCCL (CuPy); ``"single"`` is one process. Under a launcher of N > 1 processes
    without mpi4py, ``"auto"`` raises instead of training N independent copies.

    >>> comm = create_communicator()  # outside mpiexec
    >>> comm.rank, comm.size
    (0, 1)
    """
    if name == "auto":
        size = launcher_world_size()
        if size is None and mpi_comm is None:
            return SingleCommunicator()
        try:
            import mpi4py  # noqa: F401
        except ImportError:
            if size == 1:
                return SingleCommunicator()
            raise RuntimeError(
                f"create_communicator: this process is one of {size} started by an MPI "
                f"launcher, but mpi4py is not installed: pip install 'zerograd[mpi]'"
            ) from None
        name = "mpi"
    factory = COMMUNICATORS.get(name)
    if factory is None:
        raise ValueError(
            f"create_communicator: unknown name {name!r}; choose from "
            f"{', '.join(['auto', *COMMUNICATORS])}"
        )
    return factory(mpi_comm)
