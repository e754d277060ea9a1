"""``Conv2d`` and ``Deconv2d``: 2-D (transposed) convolution layers on NCHW input."""

from __future__ import annotations

from typing import Any

import numpy as np

import zerograd.functions as F
from zerograd import cuda
from zerograd.autograd.variable import Parameter, Variable
from zerograd.layers.layer import Layer

__all__ = ["Conv2d", "Deconv2d"]


def _pair(x: Any) -> tuple[int, int]:
    if isinstance(x, int):
        return x, x
    if isinstance(x, tuple) and len(x) == 2:
        return x
    raise ValueError(f"expected an int or a pair of ints, got {x!r}")


class _ConvBase(Layer):
    _name = ""
    _w_in_axis = 1  # the axis of W that matches the input's channels

    def __init__(
        self,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        pad: Any = 0,
        nobias: bool = False,
        dtype: Any = np.float32,
        in_channels: int | None = None,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.pad = pad
        self.dtype = dtype
        _pair(kernel_size), _pair(stride), _pair(pad)  # fail early on a bad size
        self.W = Parameter(None, name="W")
        if in_channels is not None:
            self._init_W()
        self.b = None if nobias else Parameter(np.zeros(out_channels, dtype=dtype), name="b")

    def _w_shape(self, C: int, OC: int, KH: int, KW: int) -> tuple[int, ...]:
        raise NotImplementedError

    def _init_W(self, xp: Any = np) -> None:
        C, OC = self.in_channels, self.out_channels
        KH, KW = _pair(self.kernel_size)
        W = xp.random.randn(*self._w_shape(C, OC, KH, KW)).astype(self.dtype)  # type: ignore[arg-type]
        W *= W.dtype.type(np.sqrt(1 / (C * KH * KW)))  # type: ignore[operator]
        self.W.data = W

    def _check(self, x: Any) -> None:
        if x.ndim != 4:
            raise ValueError(
                f"{self._name}: expected input of shape (N, C, H, W), got shape {tuple(x.shape)}"
            )
        if self.W.data is None:
            self.in_channels = x.shape[1]
            xp = cuda.get_array_module(x)
            self._init_W(xp)
            if self.b is not None and xp is not np:
                self.b.to_gpu()  # the whole layer lives where its first input does
        else:
            C = self.W.data.shape[self._w_in_axis]
            if x.shape[1] != C:
                raise ValueError(
                    f"{self._name}: input of shape {tuple(x.shape)} has {x.shape[1]} channels; "
                    f"this layer expects in_channels={C} (W has shape {self.W.data.shape})"
                )

    def extra_repr(self) -> str:
        W = self.W.data
        in_channels = self.in_channels if W is None else W.shape[self._w_in_axis]
        return (
            f"in_channels={in_channels}, out_channels={self.out_channels}, "
            f"kernel_size={self.kernel_size}, stride={self.stride}, pad={self.pad}, "
            f"bias={self.b is not None}, dtype={np.dtype(self.dtype).name}"
        )


class Conv2d(_ConvBase):
    """2-D convolution: ``W`` of shape ``(out_channels, in_channels, KH, KW)``.

    ``W = randn(OC, C, KH, KW) * sqrt(1 / (C*KH*KW))`` from NumPy's global RNG, at
    construction when ``in_channels`` is given, else at the first call (DeZero's draws).

    >>> import numpy as np, zerograd.layers as L
    >>> conv = L.Conv2d(4, kernel_size=3, pad=1)
    >>> conv(np.zeros((2, 3, 8, 8), dtype=np.float32)).shape
    (2, 4, 8, 8)
    """

    _name = "Conv2d"

    def _w_shape(self, C: int, OC: int, KH: int, KW: int) -> tuple[int, ...]:
        return (OC, C, KH, KW)

    def forward(self, x: Any) -> Variable:
        self._check(x)
        return F.conv2d(x, self.W, self.b, self.stride, self.pad)


class Deconv2d(_ConvBase):
    """2-D transposed convolution: ``W`` of shape ``(in_channels, out_channels, KH, KW)``,
    drawn like ``Conv2d``'s (DeZero's draws)."""

    _name = "Deconv2d"
    _w_in_axis = 0

    def _w_shape(self, C: int, OC: int, KH: int, KW: int) -> tuple[int, ...]:
        return (C, OC, KH, KW)

    def forward(self, x: Any) -> Variable:
        self._check(x)
        return F.deconv2d(x, self.W, self.b, self.stride, self.pad)
