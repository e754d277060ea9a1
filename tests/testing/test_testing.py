"""The gradient oracle must be able to fail: wrong backward rules are caught, with names."""

from __future__ import annotations

import numpy as np
import pytest

import zerograd.functions as F
from zerograd import Function, Variable
from zerograd.testing import (
    array_allclose,
    array_equal,
    check_backward,
    check_double_backward,
    gradient_check,
    numerical_grad,
)

RNG = np.random.default_rng(0)
X = RNG.uniform(-1.0, 1.0, (2, 3))
Y = RNG.uniform(-1.0, 1.0, (2, 3))


class GoodSin(Function):
    def forward(self, x):
        return np.sin(x)

    def backward(self, gy):
        (x,) = self.inputs
        return gy * F.cos(x)


class WrongSin(Function):
    """d/dx sin = sin: plainly wrong."""

    def forward(self, x):
        return np.sin(x)

    def backward(self, gy):
        (x,) = self.inputs
        return gy * F.sin(x)


class IgnoresGy(Function):
    """Right local derivative, but the upstream gradient is dropped: an all-ones seed hides it."""

    def forward(self, x):
        return np.sin(x)

    def backward(self, gy):
        (x,) = self.inputs
        return F.cos(x)


class WrongSecondInput(Function):
    """x0 * x1 with a wrong gradient for x1 only."""

    def forward(self, x0, x1):
        return x0 * x1

    def backward(self, gy):
        x1 = self.inputs[1]
        return gy * x1, gy * x1


class NotTwiceDifferentiable(Function):
    """First order right, but backward works on raw arrays: nothing is recorded for the
    second derivative, which then comes out as zero."""

    def forward(self, x):
        return x**3

    def backward(self, gy):
        x = self.inputs[0].data
        return gy * (3 * x**2)


class ScaledSecondOrder(Function):
    """x**3 whose backward is right in value but whose derivative is scaled wrongly."""

    def forward(self, x):
        return x**3

    def backward(self, gy):
        (x,) = self.inputs
        exact = 3 * x.data**2
        # value 3x^2, derivative 6x * 0.5: a wrong second order with a right first order
        return gy * (exact + 1.5 * (x * x - x.data**2))


def test_correct_functions_pass() -> None:
    check_backward(lambda x: GoodSin()(x), X, second_order=True)
    check_backward(lambda x, y: F.sin(x) * y + F.exp(x / 3.0), X, Y, second_order=True)
    check_backward(lambda x, y: x @ y.T, X, Y, second_order=True)
    check_backward(lambda x, b: F.tanh(x + b), X, Y[0], second_order=True)  # broadcasting


def test_wrong_backward_is_caught() -> None:
    with pytest.raises(AssertionError, match="input 0"):
        check_backward(lambda x: WrongSin()(x), X)


def test_backward_that_ignores_gy_is_caught() -> None:
    """DeZero's ``gradient_check`` seeds ones and lets this pass; the strict check does not."""
    assert gradient_check(lambda x: IgnoresGy()(x), X.copy())
    with pytest.raises(AssertionError, match="input 0"):
        check_backward(lambda x: IgnoresGy()(x), X)


def test_backward_that_ignores_gy_is_caught_behind_a_reduction() -> None:
    """Even when the function feeds a sum (whose gy is all ones in DeZero's check)."""
    with pytest.raises(AssertionError):
        check_backward(lambda x: IgnoresGy()(x) * 2.0, X)


def test_wrong_gradient_of_the_second_input_is_named() -> None:
    with pytest.raises(AssertionError, match="input 1"):
        check_backward(lambda a, b: WrongSecondInput()(a, b), X, Y)
    # Checking only the first input passes: the error really is in input 1.
    check_backward(lambda a, b: WrongSecondInput()(a, b), X, Y, grad_inputs=[0])


def test_second_order_errors_are_caught_only_by_the_second_order_check() -> None:
    for cls in (NotTwiceDifferentiable, ScaledSecondOrder):

        def f(x, cls=cls):
            return cls()(x)

        check_backward(f, X)  # first order is right
        with pytest.raises(AssertionError):
            check_backward(f, X, second_order=True)
        with pytest.raises(AssertionError):
            check_double_backward(f, X)


def test_float32_inputs_are_checked_in_float64() -> None:
    check_backward(lambda x: F.sin(x) * x, X.astype(np.float32), second_order=True)
    with pytest.raises(AssertionError):
        check_backward(lambda x: WrongSin()(x), X.astype(np.float32))


def test_integer_inputs_keep_their_dtype_and_are_not_differentiated() -> None:
    index = np.array([2, 0, 0])
    check_backward(lambda x, i: x[:, i.data] * 2.0, X, index)


def test_non_differentiable_inputs_can_be_left_out() -> None:
    check_backward(lambda x, y: x * F.exp(y), X, Y, grad_inputs=[0])
    with pytest.raises(AssertionError, match="input 1"):
        check_backward(lambda x, y: WrongSecondInput()(x, y), X, Y, grad_inputs=[1])


def test_multiple_outputs_are_checked() -> None:
    class SinCos(Function):
        def __init__(self, wrong: bool) -> None:
            self.wrong = wrong

        def forward(self, x):
            return np.sin(x), np.cos(x)

        def backward(self, gs, gc):
            (x,) = self.inputs
            gx_c = 0 if gc is None else (gc if self.wrong else -gc) * F.sin(x)
            return gs * F.cos(x) + gx_c

    check_backward(lambda x: SinCos(False)(x), X)
    with pytest.raises(AssertionError):
        check_backward(lambda x: SinCos(True)(x), X)


def test_numerical_grad_and_gradient_check() -> None:
    g = numerical_grad(lambda x: F.sin(x) * 2.0, Variable(X.copy()))
    np.testing.assert_allclose(g, 2 * np.cos(X), rtol=1e-7)
    assert gradient_check(lambda x: F.sin(x) * 2.0, X.copy())
    assert gradient_check(F.tanh, np.array([1, 2, 3]))  # integers are cast to float64


def test_gradient_check_returns_false_for_a_wrong_backward(capsys) -> None:
    assert not gradient_check(lambda x: WrongSin()(x), X.copy())
    assert "FAILED" in capsys.readouterr().out


def test_array_equal_and_allclose_accept_variables() -> None:
    a = np.array([1.0, 2.0])
    assert array_equal(Variable(a), a.copy())
    assert not array_equal(Variable(a), a + 1)
    assert array_allclose(Variable(a), a + 1e-7)
    assert not array_allclose(a, a + 1e-2)
    assert array_allclose(a, a + 1e-2, rtol=0.1)


def test_utils_logsumexp_is_stable_and_keeps_dims() -> None:
    from zerograd.utils import logsumexp

    x = np.array([[1000.0, 1000.0], [0.0, np.log(3.0)]])
    np.testing.assert_allclose(logsumexp(x, axis=1), [[1000.0 + np.log(2.0)], [np.log(4.0)]])
