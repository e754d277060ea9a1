"""Elementwise math: ``sin cos tanh exp log sqrt square abs clip maximum minimum where``."""

from __future__ import annotations

from typing import Any

from zerograd.autograd.function import Function
from zerograd.autograd.variable import Variable
from zerograd.functions._base import UnaryElementwise
from zerograd.functions._util import array_of, broadcast_error, const, shape_error


class Sin(UnaryElementwise):
    retained_inputs = (0,)

    def forward(self, x: Any) -> Any:
        return self.xp.sin(x)

    def backward(self, gy: Any) -> Any:
        return gy * self.ops.cos(self.saved_input(0))


def sin(x: Any) -> Variable:
    """``sin(x)``; d/dx = ``cos(x)``."""
    return Sin()(x)


class Cos(UnaryElementwise):
    retained_inputs = (0,)

    def forward(self, x: Any) -> Any:
        return self.xp.cos(x)

    def backward(self, gy: Any) -> Any:
        return -gy * self.ops.sin(self.saved_input(0))  # -gy: a constant when gy is


def cos(x: Any) -> Variable:
    """``cos(x)``; d/dx = ``-sin(x)``."""
    return Cos()(x)


class Tanh(UnaryElementwise):
    retained_outputs = (0,)

    def forward(self, x: Any) -> Any:
        return self.xp.tanh(x)

    def backward(self, gy: Any) -> Any:
        return self.ops.apply(TanhGrad(), gy, self.saved_output(0))


def tanh(x: Any) -> Variable:
    """``tanh(x)``; d/dx = ``1 - tanh(x)**2`` (computed from the output)."""
    return Tanh()(x)


class TanhGrad(Function):
    """``gy * (1 - y*y)``, tanh's backward as one node (torch's ``tanh_backward``), so that
    repeated differentiation of tanh grows its graph slowly."""

    array_backward = True
    elementwise = True
    check_shapes = False
    retained_inputs = (0, 1)

    def forward(self, gy: Any, y: Any) -> Any:
        return gy * (const(y, 1) - y * y)

    def backward(self, ggx: Any) -> Any:
        n_gy, n_y = self.needs_grad
        gy, y = self.saved_input(0), self.saved_input(1)
        g_gy = self.ops.apply(TanhGrad(), ggx, y) if n_gy else None
        # ggx * -2 is a constant for a seed
        g_y = (ggx * const(ggx, -2)) * (gy * y) if n_y else None
        return g_gy, g_y


class Exp(UnaryElementwise):
    retained_outputs = (0,)

    def forward(self, x: Any) -> Any:
        return self.xp.exp(x)

    def backward(self, gy: Any) -> Any:
        return gy * self.saved_output(0)


def exp(x: Any) -> Variable:
    """``e ** x``; d/dx = ``exp(x)`` (the output itself)."""
    return Exp()(x)


class Log(UnaryElementwise):
    retained_inputs = (0,)

    def forward(self, x: Any) -> Any:
        return self.xp.log(x)

    def backward(self, gy: Any) -> Any:
        return gy / self.saved_input(0)


def log(x: Any) -> Variable:
    """Natural logarithm; d/dx = ``1/x``."""
    return Log()(x)


class Sqrt(UnaryElementwise):
    retained_outputs = (0,)

    def forward(self, x: Any) -> Any:
        return self.xp.sqrt(x)

    def backward(self, gy: Any) -> Any:
        y = self.saved_output(0)
        return gy / (const(y, 2) * y)


def sqrt(x: Any) -> Variable:
    """``x ** 0.5``; d/dx = ``1 / (2 sqrt(x))`` (computed from the output)."""
    return Sqrt()(x)


class Square(UnaryElementwise):
    retained_inputs = (0,)

    def forward(self, x: Any) -> Any:
        return x * x

    def backward(self, gy: Any) -> Any:
        # same bits as gy * (2 * x); a typed 2 keeps a 0-d float32 gy float32 on NumPy 1
        return gy * const(gy, 2) * self.saved_input(0)


def square(x: Any) -> Variable:
    """``x * x``; d/dx = ``2x``."""
    return Square()(x)


class Abs(UnaryElementwise):
    retained_inputs = (0,)

    def forward(self, x: Any) -> Any:
        return self.xp.abs(x)

    def backward(self, gy: Any) -> Any:
        x = array_of(self.saved_input(0))
        # sign(x), but 0 at NaN as well as at 0 (PyTorch's ``sgn``)
        return gy * ((x > 0).astype(x.dtype) - (x < 0))


def abs(x: Any) -> Variable:
    """``|x|``; d/dx = ``sign(x)`` (0 at 0, as in NumPy and PyTorch)."""
    return Abs()(x)


class Clip(UnaryElementwise):
    retained_inputs = (0,)

    def __init__(self, x_min: Any, x_max: Any) -> None:
        self.x_min = x_min
        self.x_max = x_max

    def forward(self, x: Any) -> Any:
        try:
            return self.xp.clip(x, const(x, self.x_min), const(x, self.x_max))
        except ValueError:
            bounds = [b for b in (self.x_min, self.x_max) if hasattr(b, "shape")]
            raise shape_error("clip", x, *bounds, expected="x and bounds that broadcast") from None

    def backward(self, gy: Any) -> Any:
        x = array_of(self.saved_input(0))
        if self.x_min is None:
            mask = x <= self.x_max
        elif self.x_max is None:
            mask = x >= self.x_min
        else:
            mask = (x >= self.x_min) * (x <= self.x_max)
        gx = gy * mask
        if gx.shape != x.shape:  # array bounds broadcast x: sum back to its shape
            gx = self.ops.sum_to(gx, x.shape)
        return gx


def clip(x: Any, x_min: Any, x_max: Any) -> Variable:
    """``x`` limited to ``[x_min, x_max]`` (either bound may be None); the gradient passes
    where ``x_min <= x <= x_max``."""
    if x_min is None and x_max is None:
        raise ValueError("clip: x_min and x_max cannot both be None")
    return Clip(x_min, x_max)(x)


class _Extremum(Function):
    """``maximum``/``minimum``: where the inputs tie, each gets half the gradient, and where
    one is NaN both get all of it (PyTorch's rules)."""

    array_backward = True
    elementwise = True
    retained_inputs = (0, 1)
    _name = ""

    def forward(self, x0: Any, x1: Any) -> Any:
        try:
            return getattr(self.xp, self._name)(x0, x1)
        except ValueError:
            raise broadcast_error(self._name, x0, x1) from None

    def backward(self, gy: Any) -> Any:
        x0, x1 = array_of(self.saved_input(0)), array_of(self.saved_input(1))
        lose0, lose1 = (x0 < x1, x0 > x1) if self._name == "maximum" else (x0 > x1, x0 < x1)
        tie = (x0 == x1) * 0.5
        n0, n1 = self.needs_grad
        gx0 = gy * (1 - lose0 - tie).astype(gy.dtype, copy=False) if n0 else None
        gx1 = gy * (1 - lose1 - tie).astype(gy.dtype, copy=False) if n1 else None
        return gx0, gx1


class Maximum(_Extremum):
    _name = "maximum"


class Minimum(_Extremum):
    _name = "minimum"


def maximum(x0: Any, x1: Any) -> Variable:
    """Elementwise ``max(x0, x1)`` with broadcasting; ties split the gradient equally."""
    return Maximum()(x0, x1)


def minimum(x0: Any, x1: Any) -> Variable:
    """Elementwise ``min(x0, x1)`` with broadcasting; ties split the gradient equally."""
    return Minimum()(x0, x1)


class Where(Function):
    array_backward = True

    def __init__(self, condition: Any) -> None:
        self.condition = condition

    def forward(self, x0: Any, x1: Any) -> Any:
        try:
            return self.xp.where(self.condition, x0, x1)
        except ValueError:
            raise shape_error(
                "where", self.condition, x0, x1, expected="condition, x and y that broadcast"
            ) from None

    def backward(self, gy: Any) -> Any:
        c = self.condition
        n0, n1 = self.needs_grad
        return (gy * c if n0 else None), (gy * ~c if n1 else None)


def where(condition: Any, x: Any, y: Any) -> Variable:
    """``x`` where ``condition`` is true, else ``y`` (broadcast together). ``condition`` (an
    array or a Variable of booleans) gets no gradient."""
    cond = array_of(condition)
    if cond.dtype != bool:
        cond = cond.astype(bool)
    return Where(cond)(x, y)
