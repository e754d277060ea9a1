"""Arithmetic: ``add sub rsub mul div rdiv neg pow rpow`` (the Variable operators).

Forward and backward formulas are DeZero's, so results match DeZero bit for bit; the base
class sums broadcast gradients back to each input's shape.
"""

from __future__ import annotations

from typing import Any

from zerograd.autograd.function import Function
from zerograd.autograd.variable import Variable
from zerograd.functions._util import broadcast_error


class Add(Function):
    lean = True

    def forward(self, x0: Any, x1: Any) -> Any:
        try:
            return x0 + x1
        except ValueError:
            raise broadcast_error("add", x0, x1) from None

    def backward(self, gy: Any) -> Any:
        return gy, gy


def add(x0: Any, x1: Any) -> Variable:
    """``x0 + x1`` with NumPy broadcasting."""
    return Add()(x0, x1)


class Mul(Function):
    lean = True

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


def mul(x0: Any, x1: Any) -> Variable:
    """``x0 * x1`` with NumPy broadcasting."""
    return Mul()(x0, x1)


class Neg(Function):
    lean = True
    check_shapes = False

    def forward(self, x: Any) -> Any:
        return -x

    def backward(self, gy: Any) -> Any:
        return -gy


def neg(x: Any) -> Variable:
    """``-x``."""
    return Neg()(x)


def sub(x0: Any, x1: Any) -> Variable:
    """``x0 - x1``, composed as ``x0 + (-x1)`` (negation is exact, so the result is too)."""
    # Negate a constant as a constant: wrapped alone by neg it would stay float64 and turn a
    # float32 ``x - 0.5`` into float64; left raw, add makes it adopt x0's dtype.
    return add(x0, neg(x1) if isinstance(x1, Variable) else -x1)


def rsub(x0: Any, x1: Any) -> Variable:
    """``x1 - x0`` (the reflected operator)."""
    return add(x1, neg(x0))


class Div(Function):
    lean = True

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
        gx1 = gy * (-self.saved_input(0) / x1**2) if n1 else None
        return gx0, gx1


def div(x0: Any, x1: Any) -> Variable:
    """``x0 / x1`` with NumPy broadcasting."""
    return Div()(x0, x1)


def rdiv(x0: Any, x1: Any) -> Variable:
    """``x1 / x0`` (the reflected operator)."""
    return Div()(x1, x0)


class Pow(Function):
    """``x ** c``; the exponent may be a constant or a Variable with its own gradient."""

    lean = True

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
        gx = c * x ** (c - 1) * gy if n0 else None
        gc = gy * self.saved_output(0) * self.ops.log(x) if n1 else None
        return gx, gc


def pow(x: Any, c: Any) -> Variable:  # DeZero's name
    """``x ** c``."""
    return Pow()(x, c)


def rpow(x: Any, c: Any) -> Variable:
    """``c ** x`` (the reflected operator)."""
    return Pow()(c, x)
