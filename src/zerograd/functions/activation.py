"""Activations: ``sigmoid relu leaky_relu softmax log_softmax softplus gelu`` and DeZero's
``sigmoid_simple softmax_simple``.

Forward computations are DeZero's where DeZero has the function, so values match it bit for
bit; every backward is written with differentiable operations (twice differentiable).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from zerograd import cuda
from zerograd.autograd.function import Function
from zerograd.autograd.variable import Variable, as_variable
from zerograd.functions._base import UnaryElementwise
from zerograd.functions._util import array_of, const, log_softmax_array, ndim_of, normalize_axis
from zerograd.functions.arithmetic import mul
from zerograd.functions.elementwise import exp, tanh
from zerograd.functions.reduction import sum


class Sigmoid(UnaryElementwise):
    retained_outputs = (0,)

    def forward(self, x: Any) -> Any:
        half = const(x, 0.5)
        return self.xp.tanh(x * half) * half + half  # DeZero's form: no overflow in exp

    def backward(self, gy: Any) -> Any:
        y = self.saved_output(0)
        return gy * y * (const(y, 1) - y)


def sigmoid(x: Any) -> Variable:
    """Logistic sigmoid ``1 / (1 + exp(-x))``, computed as ``tanh(x/2)/2 + 1/2``.

    >>> import numpy as np
    >>> float(sigmoid(np.array(0.0)).data)
    0.5
    """
    return Sigmoid()(x)


def sigmoid_simple(x: Any) -> Variable:
    """``1 / (1 + exp(-x))`` composed from basic functions (DeZero's step-by-step version)."""
    x = as_variable(x)
    return 1 / (1 + exp(-x))


class ReLU(UnaryElementwise):
    retained_outputs = (0,)  # y > 0 exactly where x > 0

    def forward(self, x: Any) -> Any:
        if x.__class__ is np.ndarray and x.ndim and x.dtype.kind == "f":
            # NumPy's maximum against a scalar misses its vectorized loop (about 2x slower on
            # large arrays); against a zero row broadcast over x it takes it. Same values.
            return np.maximum(x, np.zeros(x.shape[-1], x.dtype))
        return self.xp.maximum(x, const(x, 0.0))

    def backward(self, gy: Any) -> Any:
        # The mask is a constant either way: read the raw output the forward kept.
        return gy * (self.saved_output_array(0) > 0)


def relu(x: Any) -> Variable:
    """``max(x, 0)``; the gradient at 0 is 0."""
    return ReLU()(x)


class LeakyReLU(UnaryElementwise):
    elementwise = False  # forward assigns through a mask: it needs an array

    def __init__(self, slope: float) -> None:
        self.slope = slope

    def forward(self, x: Any) -> Any:
        # For slope >= 0 the output has the input's sign, so keep whichever backward can read.
        if self.slope >= 0:
            self.retain_outputs(0)
        else:
            self.retain_inputs(0)
        y = x.copy()
        y[x <= 0] *= self.slope
        return y

    def backward(self, gy: Any) -> Any:
        saved = self.saved_output(0) if self.slope >= 0 else self.saved_input(0)
        mask = self.xp.where(array_of(saved) > 0, 1.0, self.slope).astype(gy.dtype)
        return gy * mask


def leaky_relu(x: Any, slope: float = 0.2) -> Variable:
    """``x`` where ``x > 0``, else ``slope * x``."""
    return LeakyReLU(slope)(x)


class Softmax(Function):
    array_backward = True
    check_shapes = False
    retained_outputs = (0,)

    def __init__(self, axis: Any = 1) -> None:
        self.axis = axis

    def forward(self, x: Any) -> Any:
        if x.size == 0:  # nothing to normalize (and no maximum to shift by)
            return x.copy()
        y = x - x.max(axis=self.axis, keepdims=True)
        y = self.xp.exp(y)
        y /= y.sum(axis=self.axis, keepdims=True)
        return y

    def backward(self, gy: Any) -> Any:
        y = self.saved_output(0)
        gx = y * gy
        return gx - y * self.ops.sum(gx, axis=self.axis, keepdims=True)


def softmax(x: Any, axis: Any = 1) -> Variable:
    """``exp(x) / sum(exp(x), axis)``, shifted by the maximum so large logits do not overflow."""
    return Softmax(normalize_axis("softmax", axis, ndim_of(x)))(x)


def softmax_simple(x: Any, axis: Any = 1) -> Variable:
    """Softmax composed from ``exp``, ``sum`` and division (DeZero's step-by-step version).

    Unlike DeZero's, it subtracts the (constant) maximum first, so logits of 1000 do not
    overflow; the value and gradient are unchanged by the shift.
    """
    x = as_variable(x)
    axis = normalize_axis("softmax_simple", axis, x.ndim)
    shift = x.data.max(axis=axis, keepdims=True) if x.size else 0.0
    y = exp(x - shift)
    sum_y = sum(y, axis=axis, keepdims=True)
    return y / sum_y


class LogSoftmax(Function):
    array_backward = True
    check_shapes = False
    retained_outputs = (0,)

    def __init__(self, axis: Any = 1) -> None:
        self.axis = axis

    def forward(self, x: Any) -> Any:
        return log_softmax_array(self.xp, x, self.axis)

    def backward(self, gy: Any) -> Any:
        y = self.saved_output(0)
        ops = self.ops
        return gy - ops.exp(y) * ops.sum(gy, axis=self.axis, keepdims=True)


def log_softmax(x: Any, axis: Any = 1) -> Variable:
    """``x - logsumexp(x, axis)``: the logarithm of ``softmax``, stable for any logits."""
    return LogSoftmax(normalize_axis("log_softmax", axis, ndim_of(x)))(x)


class Softplus(UnaryElementwise):
    elementwise = False  # not opted in to NumPy scalars for 0-d inputs
    retained_inputs = (0,)

    def __init__(self, beta: float) -> None:
        self.beta = beta

    def forward(self, x: Any) -> Any:
        xp = self.xp
        beta = const(x, self.beta)
        bx = x * beta if self.beta != 1 else x
        # log(1 + e^z) = max(z, 0) + log1p(e^-|z|): never overflows.
        y = xp.maximum(bx, const(x, 0)) + xp.log1p(xp.exp(-xp.abs(bx)))
        return y / beta if self.beta != 1 else y

    def backward(self, gy: Any) -> Any:
        x = self.saved_input(0)
        bx = x * const(x, self.beta) if self.beta != 1 else x
        return gy * self.ops.apply(Sigmoid(), bx)


def softplus(x: Any, beta: float = 1.0) -> Variable:
    """``log(1 + exp(beta * x)) / beta``, computed without overflow; d/dx = ``sigmoid(beta x)``."""
    if beta <= 0:
        raise ValueError(f"softplus: beta must be positive, got {beta}")
    return Softplus(beta)(x)


def _erf(xp: Any, x: Any) -> Any:
    """The error function on an array (float64 inside; NumPy has none of its own)."""
    if xp.__name__ == "numpy":
        x64 = xp.asarray(x, dtype=xp.float64)
        # (a Python float for a 0-d input, an object array otherwise)
        return xp.asarray(xp.frompyfunc(math.erf, 1, 1)(x64), dtype=xp.float64)
    return cuda.erf(x.astype(xp.float64))  # GPU: CuPy ships one


class NormalCdf(UnaryElementwise):
    """``Phi(x) = (1 + erf(x / sqrt 2)) / 2``, the standard normal distribution function."""

    elementwise = False  # erf is Python's math.erf through frompyfunc, not a ufunc
    retained_inputs = (0,)

    def forward(self, x: Any) -> Any:
        y = 0.5 * (1.0 + _erf(self.xp, x / const(x, math.sqrt(2.0))))
        return y.astype(x.dtype, copy=False)

    def backward(self, gy: Any) -> Any:
        x = self.saved_input(0)
        return gy * (self.ops.exp(x * x * const(x, -0.5)) * const(x, 1 / math.sqrt(2 * math.pi)))


def gelu(x: Any, approximate: str = "none") -> Variable:
    """Gaussian error linear unit ``x * Phi(x)`` (``Phi``: the standard normal CDF).

    ``approximate="tanh"`` gives ``x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))``,
    PyTorch's two options.
    """
    x = as_variable(x)
    if approximate == "none":
        return mul(x, NormalCdf()(x))
    if approximate == "tanh":
        inner = (x + 0.044715 * x * x * x) * math.sqrt(2 / math.pi)
        return 0.5 * x * (1 + tanh(inner))
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
