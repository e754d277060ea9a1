"""``Dataset``: DeZero's indexable collection of (data, label) pairs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Transform = Callable[[Any], Any]


def _identity(x: Any) -> Any:
    return x


class Dataset:
    """A dataset: ``prepare()`` fills ``data`` and ``label``; ``ds[i]`` is one transformed pair.

    ``label`` may stay ``None`` (the pair's second item is then ``None``). ``transform`` and
    ``target_transform`` are applied per example, as in DeZero.

    >>> import numpy as np
    >>> class Squares(Dataset):
    ...     def prepare(self):
    ...         self.data = np.arange(4)
    ...         self.label = self.data ** 2
    >>> ds = Squares()
    >>> len(ds), ds[3]
    (4, (np.int64(3), np.int64(9)))
    """

    def __init__(
        self,
        train: bool = True,
        transform: Transform | None = None,
        target_transform: Transform | None = None,
    ) -> None:
        self.train = train
        self.transform = _identity if transform is None else transform
        self.target_transform = _identity if target_transform is None else target_transform
        self.data: Any = None
        self.label: Any = None
        self.prepare()

    def __getitem__(self, index: Any) -> tuple[Any, Any]:
        if not np.isscalar(index):
            raise TypeError(
                f"{type(self).__name__}: index must be a scalar integer, got "
                f"{type(index).__name__} (use a DataLoader for batches)"
            )
        if self.label is None:
            return self.transform(self.data[index]), None
        return self.transform(self.data[index]), self.target_transform(self.label[index])

    def __len__(self) -> int:
        return len(self.data)

    def prepare(self) -> None:
        """Load ``data`` and ``label`` (subclasses override)."""
