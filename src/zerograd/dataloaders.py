"""Mini-batch iterators (DeZero's ``dezero.dataloaders``).

``DataLoader`` draws ``np.random.permutation(len(dataset))`` from NumPy's global RNG at
construction and again at the end of every epoch, exactly as DeZero does, so seeded scripts
see the same batches.

>>> import numpy as np
>>> from zerograd.datasets import Spiral
>>> loader = DataLoader(Spiral(), batch_size=100, shuffle=False)
>>> [x.shape for x, t in loader]
[(100, 2), (100, 2), (100, 2)]
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from zerograd import cuda
from zerograd.datasets._base import Dataset, _identity
from zerograd.functions._util import as_int

__all__ = ["DataLoader", "SeqDataLoader"]


def _plain_arrays(ds: Any) -> bool:
    """True for a ``Dataset`` without transforms whose data and labels are NumPy arrays."""
    return (
        isinstance(ds, Dataset)
        and type(ds).__getitem__ is Dataset.__getitem__
        and ds.transform is _identity
        and ds.target_transform is _identity
        and isinstance(ds.data, np.ndarray)
        and isinstance(ds.label, np.ndarray)
    )


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size`` ``(x, t)`` arrays.

    One pass is one epoch; the iterator then resets itself (reshuffling when ``shuffle``) and
    can be iterated again. ``gpu=True`` returns CuPy arrays.
    """

    def __init__(
        self, dataset: Any, batch_size: int, shuffle: bool = True, gpu: bool = False
    ) -> None:
        name = type(self).__name__
        size = as_int(name, "batch_size", batch_size)
        if size < 1:
            raise ValueError(f"{name}: batch_size must be positive, got {batch_size}")
        batch_size = size
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.data_size = len(dataset)
        self.max_iter = math.ceil(self.data_size / batch_size)
        self.gpu = gpu
        self.reset()

    def reset(self) -> None:
        """Start a new epoch (a new permutation when shuffling)."""
        self.iteration = 0
        if self.shuffle:
            self.index = np.random.permutation(len(self.dataset))
        else:
            self.index = np.arange(len(self.dataset))

    def __iter__(self) -> DataLoader:
        return self

    def __len__(self) -> int:
        """Batches per epoch."""
        return self.max_iter

    def __next__(self) -> tuple[Any, Any]:
        if self.iteration >= self.max_iter:
            self.reset()
            raise StopIteration
        i, batch_size = self.iteration, self.batch_size
        batch_index = self.index[i * batch_size : (i + 1) * batch_size]
        self.iteration += 1
        return self._batch(batch_index)

    def _batch(self, batch_index: Any) -> tuple[Any, Any]:
        ds = self.dataset
        if _plain_arrays(ds):
            # Same arrays as stacking ds[j] one by one, without a Python call per example.
            x, t = ds.data[batch_index], ds.label[batch_index]
        else:
            batch = [ds[j] for j in batch_index]
            x = np.array([example[0] for example in batch])
            t = np.array([example[1] for example in batch])
        if self.gpu:
            x, t = cuda.as_cupy(x), cuda.as_cupy(t)
        return x, t

    def next(self) -> tuple[Any, Any]:
        """``next(loader)`` (DeZero's spelling)."""
        return self.__next__()

    def to_cpu(self) -> None:
        """Return NumPy batches from now on."""
        self.gpu = False

    def to_gpu(self) -> None:
        """Return CuPy batches from now on."""
        self.gpu = True


class SeqDataLoader(DataLoader):
    """Batches for truncated BPTT: row ``i`` of every batch walks the sequence from offset
    ``i * (len(dataset) // batch_size)``, one step per batch (never shuffled)."""

    def __init__(self, dataset: Any, batch_size: int, gpu: bool = False) -> None:
        super().__init__(dataset=dataset, batch_size=batch_size, shuffle=False, gpu=gpu)

    def __next__(self) -> tuple[Any, Any]:
        if self.iteration >= self.max_iter:
            self.reset()
            raise StopIteration
        jump = self.data_size // self.batch_size
        batch_index = [(i * jump + self.iteration) % self.data_size for i in range(self.batch_size)]
        self.iteration += 1
        return self._batch(np.array(batch_index))
