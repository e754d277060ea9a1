"""``Linear`` and ``EmbedID``: the dense layers."""

from __future__ import annotations

from typing import Any

import numpy as np

import zerograd.functions as F
from zerograd import cuda
from zerograd.autograd.variable import Parameter, Variable
from zerograd.layers.layer import Layer

__all__ = ["EmbedID", "Linear"]


class Linear(Layer):
    """Fully connected layer: ``y = x @ W + b`` with ``W`` of shape ``(in_size, out_size)``.

    ``W`` is drawn as DeZero draws it, ``randn(in_size, out_size) * sqrt(1 / in_size)`` from
    NumPy's global RNG: at construction when ``in_size`` is given, else at the first call
    (``in_size`` is then the input's last dimension). ``b`` starts at zero.

    >>> import numpy as np, zerograd.layers as L
    >>> layer = L.Linear(3, in_size=4)
    >>> layer(np.ones((2, 4), dtype=np.float32)).shape
    (2, 3)
    """

    def __init__(
        self,
        out_size: int,
        nobias: bool = False,
        dtype: Any = np.float32,
        in_size: int | None = None,
    ) -> None:
        super().__init__()
        self.in_size = in_size
        self.out_size = out_size
        self.dtype = dtype
        self.W = Parameter(None, name="W")
        if in_size is not None:
            self._init_W()
        self.b = None if nobias else Parameter(np.zeros(out_size, dtype=dtype), name="b")

    def _init_W(self, xp: Any = np) -> None:
        n_in, n_out = self.in_size, self.out_size
        W = xp.random.randn(n_in, n_out).astype(self.dtype)
        # Scale in the parameter's dtype: a float64 scalar would promote W on NumPy 2.
        W *= W.dtype.type(np.sqrt(1 / n_in))  # type: ignore[operator]  # n_in is known here
        self.W.data = W

    def forward(self, x: Any) -> Variable:
        W = self.W.data
        if W is None:
            self.in_size = x.shape[-1]
            xp = cuda.get_array_module(x)
            self._init_W(xp)
            if self.b is not None and xp is not np:
                self.b.to_gpu()  # the whole layer lives where its first input does
        try:
            return F.linear(x, self.W, self.b)
        except ValueError as error:
            # Checked only on failure: the happy path is hot.
            if x.ndim == 0 or x.shape[-1] != self.W.data.shape[0]:
                n = x.shape[-1] if x.ndim else 0
                raise ValueError(
                    f"Linear: input of shape {tuple(x.shape)} has {n} features; this layer "
                    f"expects in_size={self.W.data.shape[0]} (W has shape {self.W.data.shape})"
                ) from error
            raise

    def extra_repr(self) -> str:
        W = self.W.data
        in_size = self.in_size if W is None else W.shape[0]  # known once loaded, too
        dtype = np.dtype(self.dtype if W is None else W.dtype).name
        return (
            f"in_size={in_size}, out_size={self.out_size}, bias={self.b is not None}, dtype={dtype}"
        )


class EmbedID(Layer):
    """Embedding table: row ``x`` of ``W`` for each integer id in ``x``.

    ``W = randn(in_size, out_size)`` from NumPy's global RNG at construction. DeZero keeps it
    float64 (so its printed numbers reproduce); pass ``dtype=np.float32`` for a float32 model.
    """

    def __init__(self, in_size: int, out_size: int, dtype: Any = np.float64) -> None:
        super().__init__()
        self.in_size = in_size
        self.out_size = out_size
        self.W = Parameter(np.random.randn(in_size, out_size).astype(dtype, copy=False), name="W")

    def forward(self, x: Any) -> Variable:
        return F.embed_id(x, self.W)

    def extra_repr(self) -> str:
        return f"in_size={self.in_size}, out_size={self.out_size}, dtype={self.W.data.dtype}"
