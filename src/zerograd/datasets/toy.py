"""The book's synthetic datasets: ``get_spiral``/``Spiral`` and ``SinCurve``.

Both draw from NumPy's global RNG exactly as DeZero does, so the book's printed numbers
reproduce: ``get_spiral`` reseeds it (1984 for train, 2020 for test), ``SinCurve`` draws its
noise from whatever state it is in.
"""

from __future__ import annotations

import numpy as np

from zerograd.datasets._base import Dataset


def get_spiral(train: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Three interleaved spiral arms, 100 points each: ``x`` (300, 2) float32, ``t`` (300,).

    Calls ``np.random.seed(1984 if train else 2020)`` first, as DeZero does.
    """
    seed = 1984 if train else 2020
    np.random.seed(seed=seed)

    num_data, num_class, input_dim = 100, 3, 2
    data_size = num_class * num_data
    x = np.zeros((data_size, input_dim), dtype=np.float32)
    t = np.zeros(data_size, dtype=int)
    # One scalar draw per point, in DeZero's order (class-major), so the data is identical.
    for j in range(num_class):
        for i in range(num_data):
            rate = i / num_data
            radius = 1.0 * rate
            theta = j * 4.0 + 4.0 * rate + np.random.randn() * 0.2
            ix = num_data * j + i
            x[ix] = np.array([radius * np.sin(theta), radius * np.cos(theta)])
            t[ix] = j
    indices = np.random.permutation(num_data * num_class)
    return x[indices], t[indices]


class Spiral(Dataset):
    """``get_spiral`` as a ``Dataset`` (``train`` picks the seed)."""

    def prepare(self) -> None:
        self.data, self.label = get_spiral(self.train)


class SinCurve(Dataset):
    """A noisy sine (train) or a clean cosine (test) over ``[0, 2*pi]``, 1000 points, for
    next-value prediction: ``data`` is ``y[:-1]``, ``label`` is ``y[1:]``, both (999, 1).

    The noise, ``np.random.uniform(-0.05, 0.05, 1000)``, is drawn for both splits.
    """

    def prepare(self) -> None:
        num_data = 1000
        x = np.linspace(0, 2 * np.pi, num_data)
        noise = np.random.uniform(-0.05, 0.05, size=x.shape)
        y = np.sin(x) + noise if self.train else np.cos(x)
        y = y.astype(np.float64)
        self.data = y[:-1][:, np.newaxis]
        self.label = y[1:][:, np.newaxis]
