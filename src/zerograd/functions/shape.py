"""Shape functions: ``reshape transpose get_item``."""

from __future__ import annotations

from typing import Any

import numpy as np

from zerograd.autograd.function import Function
from zerograd.autograd.variable import Variable, as_variable
from zerograd.functions._util import shape_error


class Reshape(Function):
    lean = True

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, x: Any) -> Any:
        self.x_shape = x.shape
        try:
            return x.reshape(self.shape)
        except ValueError:
            raise shape_error(
                "reshape", x, expected=f"a size that fits shape {self.shape}"
            ) from None

    def backward(self, gy: Any) -> Any:
        return self.ops.reshape(gy, self.x_shape)


def reshape(x: Any, shape: Any) -> Variable:
    """``x`` with a new ``shape`` (same data; -1 infers one dimension)."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if x.shape == shape:
        return as_variable(x)
    return Reshape(shape)(x)


class Transpose(Function):
    lean = True

    def __init__(self, axes: Any = None) -> None:
        self.axes = axes

    def forward(self, x: Any) -> Any:
        if self.axes is not None and sorted(int(a) % max(x.ndim, 1) for a in self.axes) != list(
            range(x.ndim)
        ):
            raise ValueError(f"transpose: axes {self.axes} are not a permutation of {x.ndim} axes")
        return x.transpose(self.axes)

    def backward(self, gy: Any) -> Any:
        if self.axes is None:
            return self.ops.transpose(gy)
        inv = tuple(np.argsort([a % len(self.axes) for a in self.axes]))
        return self.ops.transpose(gy, inv)


def transpose(x: Any, axes: Any = None) -> Variable:
    """Permute the axes of ``x`` (reverse them when ``axes`` is None)."""
    return Transpose(None if axes is None else tuple(axes))(x)


def _is_basic_index(slices: Any) -> bool:
    items = slices if isinstance(slices, tuple) else (slices,)
    return all(s is None or s is Ellipsis or isinstance(s, (int, slice, np.integer)) for s in items)


class GetItem(Function):
    lean = True

    def __init__(self, slices: Any) -> None:
        self.slices = slices

    def forward(self, x: Any) -> Any:
        self.x_shape = x.shape
        try:
            return x[self.slices]
        except IndexError as e:
            raise IndexError(
                f"get_item: cannot index an array of shape {x.shape} with {self.slices!r}: {e}"
            ) from None

    def backward(self, gy: Any) -> Any:
        return self.ops.apply(GetItemGrad(self.slices, self.x_shape), gy)


class GetItemGrad(Function):
    """Scatter-add ``gy`` into zeros of the input's shape (the adjoint of indexing)."""

    lean = True

    def __init__(self, slices: Any, in_shape: tuple[int, ...]) -> None:
        self.slices = slices
        self.in_shape = in_shape

    def forward(self, gy: Any) -> Any:
        xp = self.xp
        gx = xp.zeros(self.in_shape, dtype=gy.dtype)
        if _is_basic_index(self.slices):
            gx[self.slices] = gy  # basic indexing never repeats an element
        elif xp is np:
            np.add.at(gx, self.slices, gy)
        else:
            import cupyx

            cupyx.scatter_add(gx, self.slices, gy)
        return gx

    def backward(self, ggx: Any) -> Any:
        return get_item(ggx, self.slices)


def get_item(x: Any, slices: Any) -> Variable:
    """``x[slices]`` for any NumPy index (basic or advanced); gradients scatter-add back."""
    if isinstance(slices, Variable):
        slices = slices.data
    elif isinstance(slices, list):
        slices = np.asarray(slices)
    return GetItem(slices)(x)
