"""Arithmetic: ``add sub rsub mul div rdiv neg pow rpow`` (the Variable operators).

Forward and backward formulas are DeZero's, so results match DeZero bit for bit; the base
class sums broadcast gradients back to each input's shape.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from zerograd import cuda
from zerograd.autograd.function import Function
from zerograd.autograd.variable import Variable
from zerograd.functions._base import UnaryElementwise
from zerograd.functions._util import WEAK_SCALAR_TYPES, array_of, broadcast_error, const

_new_function = object.__new__


def _scalar(c: Any) -> int | float | None:
    """``c`` as a Python number if it is a real scalar constant (a Python int or float, a
    NumPy scalar or a 0-d array), else None.

    Scalars take the constant fast path below: no wrapped constant, one edge, and (as a Python
    number) NumPy's weak-scalar rule keeps a float32 ``x`` float32 on NumPy 1.x and 2.x.
    """
    t: Any = type(c)
    if t is float or t is int:
        return c
    if t is Variable or isinstance(c, Variable):
        return None
    if isinstance(c, np.generic) or isinstance(c, cuda.array_types):
        if c.ndim == 0 and c.dtype.kind in "iuf":
            return c.item()
    return None


class Add(Function):
    array_backward = True
    elementwise = True

    def forward(self, x0: Any, x1: Any) -> Any:
        try:
            return x0 + x1
        except ValueError:
            raise broadcast_error("add", x0, x1) from None

    def backward(self, gy: Any) -> Any:
        return gy, gy


class Mul(Function):
    array_backward = True
    elementwise = True

    def forward(self, x0: Any, x1: Any) -> Any:
        n0, n1 = self.needs_grad
        # Keep only what the wanted gradients need: x1 for gx0, x0 for gx1.
        self.retained_inputs = (0, 1) if n0 and n1 else (1,) if n0 else (0,) if n1 else ()
        try:
            return x0 * x1
        except ValueError:
            raise broadcast_error("mul", x0, x1) from None

    def backward(self, gy: Any) -> Any:
        n0, n1 = self.needs_grad
        gx0 = gy * self.saved_input(1) if n0 else None
        gx1 = gy * self.saved_input(0) if n1 else None
        return gx0, gx1


class Neg(UnaryElementwise):
    def forward(self, x: Any) -> Any:
        return -x

    def backward(self, gy: Any) -> Any:
        return -gy


def neg(x: Any) -> Variable:
    """``-x``."""
    return Neg()(x)


class Sub(Function):
    # A class of its own (not add + neg): one node instead of two keeps the graphs of
    # higher-order derivatives as small as torch's.
    array_backward = True
    elementwise = True

    def forward(self, x0: Any, x1: Any) -> Any:
        try:
            return x0 - x1
        except ValueError:
            raise broadcast_error("sub", x0, x1) from None

    def backward(self, gy: Any) -> Any:
        return gy, (-gy if self.needs_grad[1] else None)


class Div(Function):
    array_backward = True
    elementwise = True

    def forward(self, x0: Any, x1: Any) -> Any:
        self.retain_inputs(0, 1) if self.needs_grad[1] else self.retain_inputs(1)
        try:
            return x0 / x1
        except ValueError:
            raise broadcast_error("div", x0, x1) from None

    def backward(self, gy: Any) -> Any:
        n0, n1 = self.needs_grad
        x1 = self.saved_input(1)
        gx0 = gy / x1 if n0 else None
        gx1 = None
        if n1:
            x0 = self.saved_input(0)
            if isinstance(gy, Variable):  # recorded: a node whose own derivatives are exact
                gx1 = self.ops.apply(DivGradDivisor(), gy, x0, x1)
            else:
                gx1 = gy * (-x0 / x1**2)
        return gx0, gx1


class DivGradDivisor(Function):
    """``gy * (-x0 / x1**2)``, the gradient of ``x0 / x1`` with respect to ``x1``, as one
    node (DeZero's formula, so the same bits): its derivatives are written so that ``1/x`` has
    PyTorch's second derivative at +-0 and +-inf (the chain through ``x1**2`` gave
    ``inf * 0 = NaN`` there)."""

    array_backward = True
    retained_inputs = (0, 1, 2)

    def forward(self, gy: Any, x0: Any, x1: Any) -> Any:
        return gy * (-x0 / x1**2)

    def backward(self, g: Any) -> Any:
        n_gy, n0, n1 = self.needs_grad
        gy, x0, x1 = self.saved_input(0), self.saved_input(1), self.saved_input(2)
        g_gy = self.ops.apply(DivGradDivisor(), g, x0, x1) if n_gy else None
        ggy = g * gy
        g0 = -ggy / x1 / x1 if n0 else None
        g1 = (ggy + ggy) * ((x0 / x1) / x1) / x1 if n1 else None  # 2 x0 / x1**3
        return g_gy, g0, g1


def rdiv(x0: Any, x1: Any) -> Variable:
    """``x1 / x0`` (the reflected operator)."""
    return Div()(x1, x0)


class ElementwisePow(Function):
    """``x ** c`` where the exponent is an array or Variable with a gradient of its own."""

    array_backward = True

    def forward(self, x: Any, c: Any) -> Any:
        self.retain_inputs(0, 1)
        if self.needs_grad[1]:
            self.retain_outputs(0)
        try:
            return x**c
        except ValueError:
            raise broadcast_error("pow", x, c) from None

    def backward(self, gy: Any) -> Any:
        n0, n1 = self.needs_grad
        x, c = self.saved_input(0), self.saved_input(1)
        # PyTorch's values at base 0: d/dx is 0 where c == 0 (not 0 * 0**-1), d/dc is 0 where
        # c >= 0 (not 0 * log 0): there x is replaced by 1, which gives them.
        x_data, c_data = array_of(x), array_of(c)
        gx = gc = None
        if n0:
            xs = _ones_where(self.ops, (x_data == 0) & (c_data == 0), x)
            gx = c * xs ** (c - const(c, 1)) * gy
        if n1:
            xs = _ones_where(self.ops, (x_data == 0) & (c_data >= 0), x)
            gc = gy * self.saved_output(0) * self.ops.log(xs)
        return gx, gc


def _ones_where(ops: Any, mask: Any, x: Any) -> Any:
    """``x`` with 1 where ``mask`` holds (``x`` itself where it holds nowhere)."""
    if not mask.any():
        return x
    # (a Python 1.0 meeting a Variable takes its dtype; an array needs a typed one)
    return ops.where(mask, 1.0 if isinstance(x, Variable) else x.dtype.type(1), x)


def pow(x: Any, c: Any) -> Variable:  # DeZero's name
    """``x ** c``."""
    k = _scalar(c)
    return ElementwisePow()(x, c) if k is None else Pow(k)(x)


def rpow(x: Any, c: Any) -> Variable:
    """``c ** x`` (the reflected operator)."""
    return ElementwisePow()(c, x)


class _ConstantOp(UnaryElementwise):
    """``x op c`` for a scalar constant ``c`` kept as an attribute (no gradient for it).

    The forward and backward formulas are the same as the two-input functions', so values
    match them bit for bit.
    """

    def __init__(self, c: int | float) -> None:
        self.c = c

    def extra_repr(self) -> str:
        return f"c={self.c!r}"

    def constant_as(self, a: Any, c: int | float | None = None) -> Any:
        """``c`` (default: the constant ``self.c``) as an operand for ``a`` (see ``const``);
        forwards skip the call where NumPy keeps ``a``'s dtype against a Python number."""
        return const(a, self.c if c is None else c)


class AddConstant(_ConstantOp):
    def forward(self, x: Any) -> Any:
        return x + (self.c if x.__class__ in WEAK_SCALAR_TYPES else self.constant_as(x))

    def backward(self, gy: Any) -> Any:
        return gy


class SubConstant(_ConstantOp):
    def forward(self, x: Any) -> Any:
        return x - (self.c if x.__class__ in WEAK_SCALAR_TYPES else self.constant_as(x))

    def backward(self, gy: Any) -> Any:
        return gy


class ConstantSub(_ConstantOp):
    """``c - x``."""

    def forward(self, x: Any) -> Any:
        return (self.c if x.__class__ in WEAK_SCALAR_TYPES else self.constant_as(x)) - x

    def backward(self, gy: Any) -> Any:
        return -gy


class MulConstant(_ConstantOp):
    def forward(self, x: Any) -> Any:
        return x * (self.c if x.__class__ in WEAK_SCALAR_TYPES else self.constant_as(x))

    def backward(self, gy: Any) -> Any:
        return gy * (self.c if gy.__class__ in WEAK_SCALAR_TYPES else self.constant_as(gy))


class DivConstant(_ConstantOp):
    def forward(self, x: Any) -> Any:
        return x / (self.c if x.__class__ in WEAK_SCALAR_TYPES else self.constant_as(x))

    def backward(self, gy: Any) -> Any:
        return gy / (self.c if gy.__class__ in WEAK_SCALAR_TYPES else self.constant_as(gy))


class Pow(_ConstantOp):
    """``x ** c`` for a scalar ``c``: DeZero's ``Pow(c)``."""

    retained_inputs = (0,)
    # NumPy's scalar ``**`` may differ from its array loop in the last bit (float32).
    elementwise = False

    def forward(self, x: Any) -> Any:
        return x ** (self.c if x.__class__ in WEAK_SCALAR_TYPES else self.constant_as(x))

    def backward(self, gy: Any) -> Any:
        x, c = self.saved_input(0), self.c
        if c == 0:  # PyTorch's zero, also at x = 0 (0 * 0**-1 would be NaN)
            return gy * self.constant_as(gy, 0)
        return self.constant_as(x) * x ** self.constant_as(x, c - 1) * gy


def _operator(
    name: str, two: type[Function], one: type[_ConstantOp], doc: str, reflected: bool = False
) -> Callable[[Any, Any], Variable]:
    """The function behind a binary operator: ``two()(x0, x1)`` (``(x1, x0)`` if
    ``reflected``), or ``one`` with ``x1`` as its constant when ``x1`` is a real scalar (no
    wrapped constant, one edge). Built once per operator, it is the hottest path of a user's
    arithmetic: no helper calls for a Python number."""

    def op(x0: Any, x1: Any) -> Variable:
        t = x1.__class__
        if t is not Variable:
            c = x1 if t is float or t is int else _scalar(x1)
            if c is not None:
                f = _new_function(one)  # ``one(c)``: ``__init__`` costs 4% of the chain
                f.c = c
                return f(x0)
        return two()(x1, x0) if reflected else two()(x0, x1)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


add = _operator("add", Add, AddConstant, "``x0 + x1`` with NumPy broadcasting.")
sub = _operator("sub", Sub, SubConstant, "``x0 - x1`` with NumPy broadcasting.")
rsub = _operator("rsub", Sub, ConstantSub, "``x1 - x0`` (the reflected operator).", True)
mul = _operator("mul", Mul, MulConstant, "``x0 * x1`` with NumPy broadcasting.")
div = _operator("div", Div, DivConstant, "``x0 / x1`` with NumPy broadcasting.")
