"""Helpers shared by the function families (private)."""

from __future__ import annotations

import operator
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


def as_int(name: str, arg: str, value: Any, expected: str = "an integer") -> int:
    """``value`` as a Python int: any integer (Python's, NumPy's, or anything with
    ``__index__``) but a bool; else a TypeError naming the function and the argument."""
    if value.__class__ is int:
        return value
    if not isinstance(value, (bool, np.bool_)):
        try:
            return operator.index(value)
        except TypeError:
            pass
    raise TypeError(f"{name}: {arg} must be {expected}, got {value!r} ({type(value).__name__})")


def normalize_axis(name: str, axis: Any, ndim: int, arg: str = "axis") -> tuple[int, ...] | None:
    """``axis`` (None, an integer or a tuple/list of them) checked against ``ndim`` and returned
    as a sorted tuple of non-negative axes (None stays None).

    Any integer counts, NumPy's included; bools, floats and other types raise a TypeError, an
    axis out of range or repeated a ValueError, each naming the function and the argument. A
    0-d array accepts axis 0 and -1 as PyTorch does, meaning no axis: ``()``.
    """
    if axis is None:
        return None
    many = isinstance(axis, (tuple, list))
    expected = "None, an integer or a tuple of integers"
    bound = ndim if ndim else 1
    result = []
    for a in axis if many else (axis,):
        i = as_int(name, arg, a, expected)
        if not -bound <= i < bound:
            what = f"{axis!r} holds {a!r}, which" if many else repr(axis)
            raise ValueError(
                f"{name}: {arg} {what} is out of range for an array of {ndim} dimension(s)"
            )
        result.append(i % bound)
    if len(set(result)) != len(result):
        raise ValueError(f"{name}: {arg} {axis!r} repeats an axis")
    return tuple(sorted(result)) if ndim else ()


def single_axis(name: str, axis: Any, ndim: int, arg: str = "axis") -> int:
    """One integer ``axis`` in ``[-ndim, ndim)``, returned non-negative; a TypeError or
    ValueError naming the function and the argument otherwise."""
    i = as_int(name, arg, axis)
    if not -ndim <= i < ndim:
        raise ValueError(
            f"{name}: {arg} {axis!r} is out of range for an array of {ndim} dimension(s)"
        )
    return i % ndim


def as_shape(name: str, shape: Any, arg: str = "shape", infer: bool = False) -> tuple[int, ...]:
    """``shape`` (an integer or a sequence of them) as a tuple of Python ints, each at least 0
    (or one -1 where ``infer``); a TypeError or ValueError naming the function otherwise."""
    many = isinstance(shape, (tuple, list))
    expected = "an integer or a tuple of integers"
    dims = tuple(as_int(name, arg, d, expected) for d in (shape if many else (shape,)))
    if any(d < 0 for d in dims) and not (
        infer and dims.count(-1) == 1 and all(d >= -1 for d in dims)
    ):
        allowed = "at least 0, or one -1" if infer else "at least 0"
        raise ValueError(f"{name}: {arg} {shape!r} has a negative size; each must be {allowed}")
    return dims


def ndim_of(x: Any) -> int:
    """The number of dimensions of an array, a Variable or anything NumPy reads as one."""
    n = getattr(x, "ndim", None)
    return np.ndim(x) if n is None else n


def array_of(v: Any) -> Any:
    """The raw array of a Variable, or ``v`` itself (saved values are Variables when backward
    is recorded; masks and indices computed from them are constants either way)."""
    return v.data if isinstance(v, Variable) else v


def max_shift(xp: Any, x: Any, axis: Any) -> Any:
    """The maximum of ``x`` over ``axis`` (dimensions kept), the shift that keeps ``exp`` from
    overflowing: 0 where it is not finite (a row of -inf, or one holding inf or NaN, then gives
    PyTorch's -inf, inf or NaN instead of ``inf - inf``) and over an empty axis."""
    if x.size == 0:
        return x.sum(axis=axis, keepdims=True)  # zeros of the reduced shape
    m = x.max(axis=axis, keepdims=True)
    finite = xp.isfinite(m)
    if not finite.all():
        m = xp.where(finite, m, xp.zeros((), m.dtype))
    return m


def exp_sum_log(xp: Any, x: Any, m: Any, axis: Any) -> Any:
    """``log(sum(exp(x - m), axis))`` with dimensions kept (-inf over an empty axis)."""
    y = x - m
    if y.ndim:
        xp.exp(y, out=y)
    else:  # NumPy turns 0-d results into scalars, which have no ``out``
        y = xp.exp(y)
    s = y.sum(axis=axis, keepdims=True)
    with np.errstate(divide="ignore"):  # log(0) = -inf: a row of -inf, or an empty axis
        return xp.log(s, out=s) if s.ndim else xp.log(s)


def logsumexp_array(xp: Any, x: Any, axis: Any) -> Any:
    """``log(sum(exp(x), axis, keepdims=True))`` on arrays, stably (DeZero's utils.logsumexp,
    step for step, so that values match it bit for bit): -inf over an empty axis, and -inf,
    inf or NaN for a row of -inf, one holding inf, or one holding NaN (PyTorch's values)."""
    m = max_shift(xp, x, axis)
    return m + exp_sum_log(xp, x, m, axis)


#: Beyond this maximum logit, rounding ``m + log(s)`` (DeZero's ``logsumexp``) costs more than
#: 2**-19 in absolute terms (float32), so ``log_softmax`` computes ``(x - m) - log(s)`` there.
BIG_LOGIT = 32.0


def log_softmax_array(xp: Any, x: Any, axis: Any) -> Any:
    """``x - logsumexp(x, axis)`` (DeZero's computation, same bits) on rows whose maximum
    ``m`` is below ``BIG_LOGIT`` in magnitude; ``(x - m) - log(s)`` on the others, where
    DeZero's rounding of ``m + log(s)`` shows (logits of 1e4 in float32 gave -0.6933594 for
    log(1/2))."""
    # The plain maximum, as DeZero's: a row holding inf or NaN gives NaN (PyTorch's values).
    m = x.max(axis=axis, keepdims=True) if x.size else x.sum(axis=axis, keepdims=True)
    ls = exp_sum_log(xp, x, m, axis)
    y = x - (m + ls)
    if m.size and abs(m).max() >= BIG_LOGIT:  # (one reduction in the common case)
        y = xp.where(abs(m) >= BIG_LOGIT, (x - m) - ls, y)
    return y


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
