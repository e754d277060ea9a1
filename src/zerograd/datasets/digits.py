"""``Digits``: scikit-learn's bundled 8x8 handwritten digits, the dataset that needs no network.

1797 grey images with values 0..16 (the UCI optdigits test set, shipped inside scikit-learn).
The train/test split is fixed: a permutation from ``RandomState(0)`` (a frozen stream, not
the global RNG) puts 360 images in the test set and 1437 in the train set.
"""

from __future__ import annotations

import functools

import numpy as np

from zerograd.datasets._base import Dataset, Transform
from zerograd.transforms import Compose, Flatten, Normalize, ToFloat

NUM_TEST = 360
_SPLIT_SEED = 0

#: DeZero's default per-example transform (one shared instance, as in DeZero).
_DEFAULT_TRANSFORM = Compose([Flatten(), ToFloat(), Normalize(0.0, 16.0)])


@functools.lru_cache(maxsize=1)
def load_digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """All 1797 images as uint8 (N, 1, 8, 8) and their labels as int64 (N,) (read once;
    callers index them, which copies)."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError(
            "Digits needs scikit-learn, which ships the 8x8 digits: "
            "pip install scikit-learn (or pip install 'zerograd[datasets]')"
        ) from None
    bunch = load_digits()
    images = np.asarray(bunch.images).astype(np.uint8).reshape(-1, 1, 8, 8)
    labels = np.asarray(bunch.target).astype(np.int64)
    images.flags.writeable = labels.flags.writeable = False  # shared by every caller
    return images, labels


class Digits(Dataset):
    """8x8 digits: ``data`` uint8 (N, 1, 8, 8) with values 0..16, ``label`` int64 (N,).

    The default transform flattens and scales to [0, 1] as float32 (like ``MNIST``'s); pass
    ``transform=Compose([ToFloat(), Normalize(0., 16.)])`` to keep the image shape for a CNN.
    """

    def __init__(
        self,
        train: bool = True,
        transform: Transform | None = _DEFAULT_TRANSFORM,
        target_transform: Transform | None = None,
    ) -> None:
        super().__init__(train, transform, target_transform)

    def prepare(self) -> None:
        images, labels = load_digits_arrays()
        order = np.random.RandomState(_SPLIT_SEED).permutation(len(images))
        index = order[NUM_TEST:] if self.train else order[:NUM_TEST]
        self.data, self.label = images[index], labels[index]

    @staticmethod
    def labels() -> dict[int, str]:
        return {i: str(i) for i in range(10)}
