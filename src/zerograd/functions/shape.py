"""Shape functions: ``reshape transpose get_item expand_dims flatten concat stack split``."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from zerograd import cuda
from zerograd.autograd.function import Function
from zerograd.autograd.variable import Variable, as_variable
from zerograd.functions._util import shape_error


class Reshape(Function):
    array_backward = True

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
    array_backward = True

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
    array_backward = True

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

    array_backward = True

    def __init__(self, slices: Any, in_shape: tuple[int, ...]) -> None:
        self.slices = slices
        self.in_shape = in_shape

    def forward(self, gy: Any) -> Any:
        xp = self.xp
        gx = xp.zeros(self.in_shape, dtype=gy.dtype)
        if _is_basic_index(self.slices):
            gx[self.slices] = gy  # basic indexing never repeats an element
        elif xp is np or hasattr(xp.add, "at"):
            xp.add.at(gx, self.slices, gy)  # repeated indices accumulate
        else:  # CuPy before 13 has no ufunc.at (and DeZero's cupy.scatter_add is gone)
            cuda.scatter_add(gx, self.slices, gy)
        return gx

    def backward(self, ggx: Any) -> Any:
        return self.ops.apply(GetItem(self.slices), ggx)


def get_item(x: Any, slices: Any) -> Variable:
    """``x[slices]`` for any NumPy index (basic or advanced); gradients scatter-add back."""
    if isinstance(slices, Variable):
        slices = slices.data
    elif isinstance(slices, list):
        slices = np.asarray(slices)
    return GetItem(slices)(x)


def expand_dims(x: Any, axis: int) -> Variable:
    """``x`` with a new axis of length 1 at ``axis`` (NumPy's rule: -1 appends one)."""
    x = as_variable(x)
    ndim = x.ndim + 1
    if not isinstance(axis, (int, np.integer)) or not -ndim <= axis < ndim:
        raise ValueError(f"expand_dims: axis {axis!r} is out of range for a result of {ndim} dims")
    shape = list(x.shape)
    shape.insert(int(axis) % ndim, 1)
    return reshape(x, tuple(shape))


def flatten(x: Any) -> Variable:
    """Flatten all axes but the first (the batch): shape ``(N, -1)``."""
    if x.ndim == 0:
        raise ValueError("flatten: got a 0-d array; expected a batch with a first axis")
    return reshape(x, (x.shape[0], -1))


class Concat(Function):
    array_backward = True
    check_shapes = False

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, *xs: Any) -> Any:
        try:
            y = self.xp.concatenate(xs, axis=self.axis)
        except ValueError:
            raise shape_error(
                "concat", *xs, expected=f"equal shapes except along axis {self.axis}"
            ) from None
        self.sections = list(itertools.accumulate(x.shape[self.axis] for x in xs))[:-1]
        return y

    def backward(self, gy: Any) -> Any:
        return tuple(self.ops.split(gy, self.sections, axis=self.axis))


def concat(xs: Sequence[Any], axis: int = 0) -> Variable:
    """Join a sequence of arrays along an existing ``axis`` (NumPy's ``concatenate``)."""
    if len(xs) == 0:
        raise ValueError("concat: got no arrays to join")
    return Concat(axis)(*xs)


def stack(xs: Sequence[Any], axis: int = 0) -> Variable:
    """Join a sequence of same-shaped arrays along a new ``axis``."""
    if len(xs) == 0:
        raise ValueError("stack: got no arrays to join")
    shapes = {tuple(x.shape) for x in xs}
    if len(shapes) != 1:
        raise ValueError(f"stack: got shapes {sorted(shapes)}; expected arrays of equal shape")
    return concat([expand_dims(x, axis) for x in xs], axis=axis % (xs[0].ndim + 1))


class Split(Function):
    array_backward = True
    check_shapes = False

    def __init__(self, indices_or_sections: Any, axis: int) -> None:
        self.indices_or_sections = indices_or_sections
        self.axis = axis

    def forward(self, x: Any) -> Any:
        try:
            ys = self.xp.split(x, self.indices_or_sections, axis=self.axis)
        except ValueError as e:
            raise ValueError(
                f"split: cannot split shape {x.shape} into {self.indices_or_sections!r} along "
                f"axis {self.axis}: {e}"
            ) from None
        self.shapes = [y.shape for y in ys]
        self.dtype = x.dtype
        return tuple(ys)

    def backward(self, *gys: Any) -> Any:
        # Outputs nobody used get zeros, so the pieces tile the input again.
        pieces = [
            self.xp.zeros(shape, dtype=self.dtype) if gy is None else gy
            for gy, shape in zip(gys, self.shapes)
        ]
        return self.ops.apply(Concat(self.axis), *pieces)


def split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[Variable]:
    """Split ``x`` along ``axis`` into a list (NumPy's ``split``: a number of equal sections,
    or the indices where each piece starts)."""
    ys = Split(indices_or_sections, axis)(x)
    return ys if isinstance(ys, list) else [ys]
