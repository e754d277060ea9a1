"""Reductions and broadcasting: ``sum sum_to broadcast_to``."""

from __future__ import annotations

from typing import Any

from zerograd.autograd.function import Function, sum_to_array
from zerograd.autograd.variable import Variable, as_variable
from zerograd.functions._util import normalize_axis, shape_error


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
    lean = True

    def __init__(self, axis: Any, keepdims: bool) -> None:
        self.axis = axis
        self.keepdims = keepdims

    def forward(self, x: Any) -> Any:
        self.x_shape = x.shape
        normalize_axis("sum", self.axis, x.ndim)
        return x.sum(axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy: Any) -> Any:
        gy = reshape_sum_backward(gy, self.x_shape, self.axis, self.keepdims)
        return self.ops.broadcast_to(gy, self.x_shape)


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    """Sum over ``axis`` (None: all axes; int or tuple)."""
    if isinstance(axis, list):
        axis = tuple(axis)
    return Sum(axis, keepdims)(x)


class SumTo(Function):
    lean = True

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
    shape = tuple(shape)
    if x.shape == shape:
        return as_variable(x)
    return SumTo(shape)(x)


class BroadcastTo(Function):
    lean = True

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
    shape = tuple(shape)
    if x.shape == shape:
        return as_variable(x)
    return BroadcastTo(shape)(x)
