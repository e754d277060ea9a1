"""Elementwise math: ``sin cos tanh exp log``."""

from __future__ import annotations

from typing import Any

from zerograd.autograd.function import Function
from zerograd.autograd.variable import Variable


class Sin(Function):
    lean = True

    def forward(self, x: Any) -> Any:
        self.retain_inputs(0)
        return self.xp.sin(x)

    def backward(self, gy: Any) -> Any:
        return gy * self.ops.cos(self.saved_input(0))


def sin(x: Any) -> Variable:
    """``sin(x)``; d/dx = ``cos(x)``."""
    return Sin()(x)


class Cos(Function):
    lean = True

    def forward(self, x: Any) -> Any:
        self.retain_inputs(0)
        return self.xp.cos(x)

    def backward(self, gy: Any) -> Any:
        return gy * -self.ops.sin(self.saved_input(0))


def cos(x: Any) -> Variable:
    """``cos(x)``; d/dx = ``-sin(x)``."""
    return Cos()(x)


class Tanh(Function):
    lean = True

    def forward(self, x: Any) -> Any:
        self.retain_outputs(0)
        return self.xp.tanh(x)

    def backward(self, gy: Any) -> Any:
        y = self.saved_output(0)
        return gy * (1 - y * y)


def tanh(x: Any) -> Variable:
    """``tanh(x)``; d/dx = ``1 - tanh(x)**2`` (computed from the output)."""
    return Tanh()(x)


class Exp(Function):
    lean = True

    def forward(self, x: Any) -> Any:
        self.retain_outputs(0)
        return self.xp.exp(x)

    def backward(self, gy: Any) -> Any:
        return gy * self.saved_output(0)


def exp(x: Any) -> Variable:
    """``e ** x``; d/dx = ``exp(x)`` (the output itself)."""
    return Exp()(x)


class Log(Function):
    lean = True

    def forward(self, x: Any) -> Any:
        self.retain_inputs(0)
        return self.xp.log(x)

    def backward(self, gy: Any) -> Any:
        return gy / self.saved_input(0)


def log(x: Any) -> Variable:
    """Natural logarithm; d/dx = ``1/x``."""
    return Log()(x)
