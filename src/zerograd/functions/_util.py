"""Helpers shared by the function families (private)."""

from __future__ import annotations

from typing import Any

import numpy as np

from zerograd.autograd.function import NUMPY2
from zerograd.autograd.variable import Variable

# The types for which NumPy keeps the dtype against a Python number: NumPy 2's arrays and float
# scalars treat Python scalars as "weak" (NEP 50). Empty on NumPy 1.
WEAK_SCALAR_TYPES = (
    frozenset({np.ndarray, np.float64, np.float32, np.float16}) if NUMPY2 else frozenset()
)


def const(x: Any, c: Any) -> Any:
    """``c`` (a Python number or None) as an operand for ``x``: ``c`` itself, except for a raw
    0-d float ``x`` whose promotion rules are value-based (NumPy 1, CuPy), which would turn
    float32 into float64 against a Python number; there ``c`` in ``x``'s dtype (the value NumPy
    2 computes with). Variables need nothing: the recorded op converts."""
    if x.__class__ in WEAK_SCALAR_TYPES or c is None or x.__class__ is Variable:
        return c
    if x.ndim == 0 and x.dtype.kind == "f":
        return x.dtype.type(c)
    return c


def shape_error(name: str, *arrays: Any, expected: str) -> ValueError:
    """A ValueError naming the function, the shapes (and dtypes) it got and what it expected."""
    shapes = ", ".join(
        f"{tuple(a.shape)} {a.dtype}" if hasattr(a, "dtype") else str(tuple(a.shape))
        for a in arrays
    )
    return ValueError(f"{name}: got shapes {shapes}; expected {expected}")


def broadcast_error(name: str, x0: Any, x1: Any) -> ValueError:
    return shape_error(name, x0, x1, expected="shapes that broadcast together")


def normalize_axis(name: str, axis: Any, ndim: int) -> tuple[int, ...] | None:
    """Check ``axis`` (None, int or tuple) against ``ndim`` and return it as a sorted tuple."""
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    result = []
    for a in axes:
        if not isinstance(a, int) or not -ndim <= a < max(ndim, 1):
            raise ValueError(
                f"{name}: axis {axis!r} is out of range for an array of {ndim} dimension(s)"
            )
        result.append(a % ndim if ndim else 0)
    if len(set(result)) != len(result):
        raise ValueError(f"{name}: axis {axis!r} repeats an axis")
    return tuple(sorted(result))


def array_of(v: Any) -> Any:
    """The raw array of a Variable, or ``v`` itself (saved values are Variables when backward
    is recorded; masks and indices computed from them are constants either way)."""
    return v.data if isinstance(v, Variable) else v


def check_axis(name: str, axis: Any, ndim: int) -> Any:
    """Validate ``axis`` (int or tuple) for an array of ``ndim`` dimensions; return it as
    given (an int stays an int, a list becomes a tuple)."""
    normalize_axis(name, axis, ndim)
    return tuple(axis) if isinstance(axis, list) else axis


def logsumexp_array(xp: Any, x: Any, axis: Any) -> Any:
    """``log(sum(exp(x), axis, keepdims=True))`` on arrays, stably (DeZero's utils.logsumexp,
    step for step, so that values match it bit for bit)."""
    m = x.max(axis=axis, keepdims=True)
    y = x - m
    xp.exp(y, out=y)
    s = y.sum(axis=axis, keepdims=True)
    xp.log(s, out=s)
    m += s
    return m


_UNSIGNED = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def check_labels(name: str, t: Any, n: int, n_classes: int, ignore_index: Any = None) -> Any:
    """Check integer class labels ``t`` (n of them, in ``[0, n_classes)`` or equal to
    ``ignore_index``) and return them flattened."""
    kind = t.dtype.kind
    if kind not in "iu":
        raise ValueError(f"{name}: labels t must be integers, got dtype {t.dtype}")
    if t.size != n:
        raise ValueError(
            f"{name}: got {t.size} label(s) (t.shape {tuple(t.shape)}) for a batch of {n} "
            f"(x.shape[0]); expected one label per row"
        )
    if t.ndim != 1:
        t = t.reshape(-1)
    valid = t if ignore_index is None else t[t != ignore_index]
    # One reduction (one device sync on a GPU) in the common, valid case: read as unsigned,
    # a negative label is larger than any class index.
    unsigned = valid.view(_UNSIGNED[valid.dtype.itemsize]) if kind == "i" else valid
    if valid.size and unsigned.max() >= n_classes:
        raise ValueError(
            f"{name}: labels must lie in [0, {n_classes}) for x with {n_classes} classes; got "
            f"labels from {int(valid.min())} to {int(valid.max())}"
        )
    return t
