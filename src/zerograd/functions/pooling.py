"""Pooling: ``pooling`` (max), ``average_pooling`` and DeZero's ``pooling_simple``.

Each pooling's backward is a function whose own backward is the pooling again (max pooling
with the indices fixed by the forward pass), so both are differentiable to any order.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from zerograd.autograd.function import Function
from zerograd.autograd.variable import Variable, as_variable
from zerograd.functions._im2col import (
    Geometry,
    conv_geometry,
    crop,
    im2col_nchw,
    padded_zeros,
    pair,
)
from zerograd.functions._im2col import taps as _window_taps
from zerograd.functions.conv import im2col
from zerograd.functions.reduction import max as _max


def _taps(g: Geometry) -> Any:
    """For each kernel tap: its index in the flattened window and the strided slices it reads."""
    for j, i, rows, cols in _window_taps(g):
        yield j * g[1] + i, rows, cols


def _pad(xp: Any, x: Any, g: Geometry) -> Any:
    """``x`` with zero padding around H and W."""
    if not (g[4] or g[5]):
        return x
    img = padded_zeros(xp, x.shape, g, x.dtype)
    crop(img, x.shape, g)[...] = x
    return img


class _Pool2d(Function):
    """A pooling over (N, C, H, W) windows: the parameters both poolings share."""

    array_backward = True
    check_shapes = False

    def __init__(self, kernel_size: Any, stride: Any = 1, pad: Any = 0) -> None:
        self.kernel_size = kernel_size
        self.stride = stride
        self.pad = pad


class Pooling(_Pool2d):
    """Max pooling. The gradient of each window goes to one element: the first maximal one in
    row-major window order (NumPy's ``argmax``), as in DeZero and PyTorch."""

    def forward(self, x: Any) -> Any:
        g = conv_geometry("pooling", x.shape, self.kernel_size, self.stride, self.pad)
        if g[4] >= g[0] or g[5] >= g[1]:
            raise ValueError(
                f"pooling: pad {(g[4], g[5])} must be smaller than kernel_size {(g[0], g[1])} "
                f"(a window would see only padding)"
            )
        self.g, self.x_shape = g, x.shape
        # Padding never wins a window (PyTorch's and Chainer's rule; DeZero padded with 0).
        low = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
        col = im2col_nchw(x, g, low)
        N, C, KH, KW, OH, OW = col.shape
        col = col.reshape(N, C, KH * KW, OH, OW)
        self.indexes = col.argmax(axis=2)
        return col.max(axis=2)

    def backward(self, gy: Any) -> Any:
        return self.ops.apply(PoolingGrad(self), gy)


class PoolingGrad(Function):
    """Scatter the output gradient to the window maxima found by a ``Pooling`` forward."""

    array_backward = True
    check_shapes = False

    def __init__(self, mpool: Pooling) -> None:
        self.mpool = mpool

    def forward(self, gy: Any) -> Any:
        p = self.mpool
        img = padded_zeros(self.xp, p.x_shape, p.g, gy.dtype)
        for k, rows, cols in _taps(p.g):
            img[:, :, rows, cols] += self.xp.where(p.indexes == k, gy, 0)
        return crop(img, p.x_shape, p.g)

    def backward(self, ggx: Any) -> Any:
        return self.ops.apply(PoolingWithIndexes(self.mpool), ggx)


class PoolingWithIndexes(Function):
    """Pick, from each window of ``x``, the element where the ``Pooling`` forward found its
    maximum (linear in ``x``: the adjoint of ``PoolingGrad``)."""

    array_backward = True
    check_shapes = False

    def __init__(self, mpool: Pooling) -> None:
        self.mpool = mpool

    def forward(self, x: Any) -> Any:
        p = self.mpool
        img = _pad(self.xp, x, p.g)
        y = None
        for k, rows, cols in _taps(p.g):
            tap = img[:, :, rows, cols]
            y = tap.copy() if y is None else self.xp.where(p.indexes == k, tap, y)
        return y

    def backward(self, gy: Any) -> Any:
        return self.ops.apply(PoolingGrad(self.mpool), gy)


def pooling(x: Any, kernel_size: Any, stride: Any = 1, pad: Any = 0) -> Variable:
    """Max pooling over ``kernel_size`` windows of ``x`` (N, C, H, W); padding counts as
    ``-inf`` (``pad`` must be smaller than the kernel). Output (N, C, OH, OW)."""
    return Pooling(kernel_size, stride, pad)(x)


def pooling_simple(x: Any, kernel_size: Any, stride: Any = 1, pad: Any = 0) -> Variable:
    """Max pooling composed from ``im2col``, ``max``, ``reshape`` and ``transpose`` (DeZero's
    step-by-step version: padding counts as 0, and ties share the gradient, as in ``max``)."""
    x = as_variable(x)
    g = conv_geometry("pooling_simple", x.shape, kernel_size, stride, pad)
    N, C = x.shape[:2]
    KH, KW, OH, OW = g[0], g[1], g[6], g[7]
    col = im2col(x, kernel_size, stride, pad, to_matrix=True)
    col = col.reshape(-1, KH * KW)
    y = _max(col, axis=1)
    return y.reshape(N, OH, OW, C).transpose(0, 3, 1, 2)


class AveragePooling(_Pool2d):
    """Average pooling; padded zeros count in the mean."""

    def forward(self, x: Any) -> Any:
        g = conv_geometry("average_pooling", x.shape, self.kernel_size, self.stride, self.pad)
        self.g, self.x_shape = g, x.shape
        col = im2col_nchw(x, g)
        return col.mean(axis=(2, 3))  # DeZero's computation

    def backward(self, gy: Any) -> Any:
        return self.ops.apply(AveragePoolingGrad(self), gy)


class AveragePoolingGrad(Function):
    """Spread each output gradient evenly over its window (padding included)."""

    array_backward = True
    check_shapes = False

    def __init__(self, apool: AveragePooling) -> None:
        self.apool = apool

    def forward(self, gy: Any) -> Any:
        p = self.apool
        KH, KW = pair(p.g[:2])
        g_share = gy / (KH * KW)
        img = padded_zeros(self.xp, p.x_shape, p.g, g_share.dtype)
        for _, rows, cols in _taps(p.g):
            img[:, :, rows, cols] += g_share
        return crop(img, p.x_shape, p.g)

    def backward(self, ggx: Any) -> Any:
        p = self.apool
        return self.ops.apply(AveragePooling(p.kernel_size, p.stride, p.pad), ggx)


def average_pooling(x: Any, kernel_size: Any, stride: Any = 1, pad: Any = 0) -> Variable:
    """Mean over ``kernel_size`` windows of ``x`` (N, C, H, W); padded zeros count in the
    mean (PyTorch's ``count_include_pad=True``). Output (N, C, OH, OW)."""
    return AveragePooling(kernel_size, stride, pad)(x)
