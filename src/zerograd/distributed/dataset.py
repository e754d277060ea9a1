"""``scatter_dataset``: each rank's share of a dataset (ChainerMN's)."""

from __future__ import annotations

from typing import Any

import numpy as np

from zerograd.datasets import Dataset
from zerograd.distributed.communicator import CommunicatorBase

__all__ = ["SubDataset", "scatter_dataset"]


class SubDataset:
    """The examples ``dataset[i]`` for ``i`` in ``indices``, in that order."""

    def __init__(self, dataset: Any, indices: Any) -> None:
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: Any) -> Any:
        if not isinstance(i, (int, np.integer)):
            raise TypeError(f"SubDataset: index must be an integer, got {type(i).__name__}")
        if not -len(self) <= i < len(self):
            raise IndexError(f"SubDataset: index {i} out of range for {len(self)} examples")
        return self.dataset[int(self.indices[i])]


class _ArrayShard(Dataset):
    """A shard of an array-backed ``Dataset``: its arrays indexed once, transforms kept, so
    that ``DataLoader`` slices arrays instead of calling ``__getitem__`` per example."""

    def __init__(self, dataset: Dataset, indices: np.ndarray) -> None:
        self.indices = indices
        self._source = dataset
        super().__init__(dataset.train, dataset.transform, dataset.target_transform)
        del self._source

    def prepare(self) -> None:
        src = self._source
        self.data = src.data[self.indices]
        self.label = None if src.label is None else src.label[self.indices]


def _array_backed(ds: Any) -> bool:
    return (
        isinstance(ds, Dataset)
        and type(ds).__getitem__ is Dataset.__getitem__
        and isinstance(ds.data, np.ndarray)
        and (ds.label is None or isinstance(ds.label, np.ndarray))
    )


def scatter_dataset(
    dataset: Any,
    comm: CommunicatorBase,
    shuffle: bool = False,
    seed: int = 0,
    force_equal_length: bool = True,
) -> Any:
    """This rank's shard of ``dataset`` (every rank passes the same dataset).

    The examples are ordered (a permutation drawn from ``seed`` when ``shuffle``, by rank 0
    and sent to all), and rank ``r`` of ``n`` takes ``ceil(N / n)`` of them from position
    ``N * r // n``: together the shards cover every example, and all have the same length,
    so all ranks run the same number of steps; a few examples near shard boundaries appear
    twice (ChainerMN's rule). ``force_equal_length=False`` splits exactly instead (for
    evaluation). An array-backed ``Dataset`` gives a ``Dataset`` of the shard's arrays,
    anything else a ``SubDataset``.

    >>> from zerograd.datasets import Spiral
    >>> from zerograd.distributed import create_communicator
    >>> len(scatter_dataset(Spiral(), create_communicator(), shuffle=True))
    300
    """
    n = len(dataset)
    lengths = comm.allgather_obj(n)
    if any(m != n for m in lengths):
        raise ValueError(f"scatter_dataset: the ranks' datasets differ in length: {lengths}")
    if n == 0:
        raise ValueError("scatter_dataset: the dataset is empty")
    if shuffle:
        order = np.random.default_rng(seed).permutation(n) if comm.rank == 0 else None
        order = comm.bcast_obj(order)  # one order, even if NumPy versions differ
    else:
        order = np.arange(n)
    begin = n * comm.rank // comm.size
    if force_equal_length:
        end = begin + -(-n // comm.size)
    else:
        end = n * (comm.rank + 1) // comm.size
    indices = np.asarray(order[begin:end], dtype=np.int64)
    if _array_backed(dataset):
        return _ArrayShard(dataset, indices)
    return SubDataset(dataset, indices)
