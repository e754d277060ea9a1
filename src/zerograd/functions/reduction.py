"""Reductions and broadcasting: ``sum sum_to broadcast_to average mean var max min logsumexp
argmax``."""

from __future__ import annotations

import math
from typing import Any

from zerograd.autograd.function import Function, sum_to_array
from zerograd.autograd.variable import Variable, as_variable
from zerograd.cuda import get_array_module
from zerograd.functions._util import (
    array_of,
    as_shape,
    logsumexp_array,
    ndim_of,
    normalize_axis,
    shape_error,
    single_axis,
)


def reshape_sum_backward(gy: Any, x_shape: tuple[int, ...], axis: Any, keepdims: bool) -> Any:
    """Reshape the gradient of a sum so that it broadcasts against the summed input."""
    ndim = len(x_shape)
    tupled_axis = axis
    if axis is None:
        tupled_axis = None
    elif not isinstance(axis, tuple):
        tupled_axis = (axis,)
    if not (ndim == 0 or tupled_axis is None or keepdims):
        actual_axis = [a if a >= 0 else a + ndim for a in tupled_axis]
        shape = list(gy.shape)
        for a in sorted(actual_axis):
            shape.insert(a, 1)
    else:
        shape = gy.shape
    return gy.reshape(shape)


class Sum(Function):
    array_backward = True

    def __init__(self, axis: Any, keepdims: bool) -> None:
        self.axis = axis
        self.keepdims = keepdims

    def forward(self, x: Any) -> Any:
        self.x_shape = x.shape
        self.axis = normalize_axis("sum", self.axis, x.ndim)
        return x.sum(axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy: Any) -> Any:
        gy = reshape_sum_backward(gy, self.x_shape, self.axis, self.keepdims)
        return self.ops.broadcast_to(gy, self.x_shape)


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    """Sum over ``axis`` (None: all axes; int or tuple)."""
    return Sum(axis, keepdims)(x)


class SumTo(Function):
    array_backward = True

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, x: Any) -> Any:
        self.x_shape = x.shape
        ndim = len(self.shape)
        if x.ndim < ndim or any(
            s != 1 and s != xs for s, xs in zip(self.shape, x.shape[x.ndim - ndim :])
        ):
            raise shape_error("sum_to", x, expected=f"a shape that broadcasts from {self.shape}")
        return sum_to_array(x, self.shape)

    def backward(self, gy: Any) -> Any:
        return self.ops.broadcast_to(gy, self.x_shape)


def sum_to(x: Any, shape: Any) -> Variable:
    """Sum ``x`` over broadcast axes down to ``shape`` (the inverse of ``broadcast_to``)."""
    shape = as_shape("sum_to", shape)
    if x.shape == shape:
        return as_variable(x)
    return SumTo(shape)(x)


class BroadcastTo(Function):
    array_backward = True

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, x: Any) -> Any:
        self.x_shape = x.shape
        try:
            return self.xp.broadcast_to(x, self.shape)
        except ValueError:
            raise shape_error(
                "broadcast_to", x, expected=f"a shape that broadcasts to {self.shape}"
            ) from None

    def backward(self, gy: Any) -> Any:
        return self.ops.sum_to(gy, self.x_shape)


def broadcast_to(x: Any, shape: Any) -> Variable:
    """Broadcast ``x`` to ``shape`` (NumPy rules)."""
    shape = as_shape("broadcast_to", shape)
    if x.shape == shape:
        return as_variable(x)
    return BroadcastTo(shape)(x)


def average(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    """Mean over ``axis`` (None: all axes; int or tuple): ``sum(x, axis) * (y.size / x.size)``,
    DeZero's formula; NaN over nothing (NumPy's and PyTorch's value)."""
    return _mean("average", x, axis, keepdims)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    """``average`` (DeZero's other name for it)."""
    return _mean("mean", x, axis, keepdims)


def _mean(name: str, x: Any, axis: Any, keepdims: bool) -> Variable:
    x = as_variable(x)
    y = sum(x, normalize_axis(name, axis, x.ndim), keepdims)
    return y * (y.data.size / x.data.size if x.data.size else math.nan)


def var(x: Any, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Variable:
    """Variance over ``axis``: ``mean((x - mean(x))**2) * n / (n - ddof)`` (NumPy's ``ddof``)."""
    x = as_variable(x)
    axes = normalize_axis("var", axis, x.ndim)
    n = x.size if axes is None else math.prod(x.shape[a] for a in axes)
    if n - ddof <= 0:
        raise ValueError(f"var: ddof={ddof} leaves no degrees of freedom for {n} element(s)")
    xc = x - mean(x, axes, keepdims=True)
    y = sum(xc * xc, axes, keepdims)
    return y * (1 / (n - ddof))


class Max(Function):
    """``max``/``min`` over axes. Where several elements tie for the extremum, the gradient is
    split equally among them (PyTorch's ``amax`` rule), so it is never counted twice."""

    array_backward = True
    check_shapes = False
    retained_inputs = (0,)
    retained_outputs = (0,)

    def __init__(self, axis: Any = None, keepdims: bool = False) -> None:
        self.axis = axis
        self.keepdims = keepdims

    def _reduce(self, x: Any) -> Any:
        return x.max(axis=self.axis, keepdims=self.keepdims)

    def forward(self, x: Any) -> Any:
        name = type(self).__name__.lower()
        self.axis = axes = normalize_axis(name, self.axis, x.ndim)
        if x.size == 0 and (axes is None or any(x.shape[a] == 0 for a in axes)):
            raise ValueError(
                f"{name}: got an empty array {x.shape} to reduce over axis {axes}; the "
                f"extremum of nothing is undefined"
            )
        return self._reduce(x)

    def backward(self, gy: Any) -> Any:
        x = self.saved_input(0)
        y = self.saved_output(0)
        x_data = array_of(x)
        shape = _kept_shape(x_data.shape, self.axis)
        mask = x_data == array_of(y).reshape(shape)
        weight = mask / mask.sum(axis=self.axis, keepdims=True)
        return self.ops.reshape(gy, shape) * weight.astype(x_data.dtype, copy=False)


class Min(Max):
    def _reduce(self, x: Any) -> Any:
        return x.min(axis=self.axis, keepdims=self.keepdims)


def _kept_shape(shape: tuple[int, ...], axes: Any) -> tuple[int, ...]:
    """The shape of a reduction over ``axes`` (normalized) with ``keepdims=True``."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    """Maximum over ``axis`` (None: all; int or tuple). Ties share the gradient equally."""
    return Max(axis, keepdims)(x)


def min(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    """Minimum over ``axis`` (None: all; int or tuple). Ties share the gradient equally."""
    return Min(axis, keepdims)(x)


class LogSumExp(Function):
    array_backward = True
    check_shapes = False
    retained_inputs = (0,)
    retained_outputs = (0,)

    def __init__(self, axis: Any, keepdims: bool) -> None:
        self.axis = axis
        self.keepdims = keepdims

    def forward(self, x: Any) -> Any:
        self.axis = normalize_axis("logsumexp", self.axis, x.ndim)  # for LogSumExp(...) too
        y = logsumexp_array(self.xp, x, self.axis)
        return y if self.keepdims else y.reshape(_reduced_shape(x.shape, self.axis))

    def backward(self, gy: Any) -> Any:
        x = self.saved_input(0)
        shape = _kept_shape(x.shape, self.axis)
        ops = self.ops
        y = ops.reshape(self.saved_output(0), shape)
        return ops.reshape(gy, shape) * ops.exp(x - y)


def _reduced_shape(shape: tuple[int, ...], axes: Any) -> tuple[int, ...]:
    return () if axes is None else tuple(s for i, s in enumerate(shape) if i not in axes)


def logsumexp(x: Any, axis: Any = 1, keepdims: bool = False) -> Variable:
    """``log(sum(exp(x), axis))``, shifted by the maximum so it never overflows; d/dx is
    ``softmax(x, axis)``. ``axis`` defaults to 1 like DeZero's ``utils.logsumexp``."""
    return LogSumExp(normalize_axis("logsumexp", axis, ndim_of(x)), keepdims)(x)


def argmax(x: Any, axis: int | None = None, keepdims: bool = False) -> Variable:
    """Indices of the maxima along ``axis`` (not differentiable: the result is a constant)."""
    data = array_of(x)
    if axis is not None:
        axis = single_axis("argmax", axis, data.ndim)
    xp = get_array_module(data)
    y = Variable(xp.asarray(xp.argmax(data, axis=axis, keepdims=keepdims)))
    y.requires_grad = False
    return y
