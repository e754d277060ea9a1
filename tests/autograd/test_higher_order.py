"""Higher-order derivatives: ``create_graph=True`` records backward; the default records nothing."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import zerograd.functions as F
from zerograd import Function, Variable


def _nth_derivatives(f: Any, x0: float, n: int) -> list[float]:
    """d^k f / dx^k at x0 for k = 1..n, by repeated backward with create_graph=True."""
    x = Variable(np.array(x0))
    y = f(x)
    result = []
    for _ in range(n):
        x.cleargrad()
        y.backward(create_graph=True)
        y = x.grad
        result.append(float(y.data))
    return result


def test_seed_polynomial_derivatives() -> None:
    """y = 2x^4 at 2: 8x^3 = 64, 24x^2 = 96, 48x = 96, 48, 0."""
    got = _nth_derivatives(lambda x: (x**2) ** 2 + (x**2) ** 2, 2.0, 5)
    assert got == [64.0, 96.0, 96.0, 48.0, 0.0]


def test_sin_derivatives_cycle() -> None:
    x0 = 0.7
    got = _nth_derivatives(F.sin, x0, 8)
    expected = [np.cos(x0), -np.sin(x0), -np.cos(x0), np.sin(x0)] * 2
    np.testing.assert_allclose(got, expected, rtol=1e-14)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6])
def test_nth_derivative_of_tanh_matches_torch(torch: Any, n: int) -> None:
    """The benchmark's higher-order case, checked against torch."""
    got = _nth_derivatives(F.tanh, 1.0, n)
    x = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    y = torch.tanh(x)
    expected = []
    for _ in range(n):
        (y,) = torch.autograd.grad(y, x, create_graph=True)
        expected.append(float(y.detach()))
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_newton_step_on_a_user_function() -> None:
    """The book's step 33: Newton's method with second derivatives from backward."""
    x = Variable(np.array(2.0))
    for _ in range(10):
        y = x**4 - 2 * x**2
        x.cleargrad()
        y.backward(create_graph=True)
        gx = x.grad
        x.cleargrad()
        gx.backward()
        x.data = x.data - gx.data / x.grad.data
    assert float(x.data) == pytest.approx(1.0, abs=1e-12)


def test_fast_path_records_nothing() -> None:
    x = Variable(np.array([0.5, 1.0]))
    y = F.tanh(F.sin(x) * x)
    y.sum().backward()
    assert x.grad.creator is None


def test_create_graph_records_a_differentiable_gradient() -> None:
    x = Variable(np.array([0.5, 1.0]))
    y = F.tanh(F.sin(x) * x).sum()
    y.backward(create_graph=True)
    assert x.grad.creator is not None
    assert x.grad.generation > 0


def test_the_default_seed_is_a_constant() -> None:
    # No gradient with respect to the seed is recorded: the first derivative of tanh is one
    # TanhGrad node that wants a gradient for tanh's output only (as torch's grad_outputs).
    x = Variable(np.array(1.0))
    y = F.tanh(x)
    y.backward(create_graph=True)
    node = x.grad.creator
    assert type(node).__name__ == "TanhGrad"
    assert node.needs_grad == (False, True)
    assert y.creator is not None and y.grad is None
    # A seed the user sets is used as given, and may itself need a gradient.
    x.cleargrad()
    seed = Variable(np.array(3.0))
    y.grad = seed
    y.backward(create_graph=True, retain_grad=True)
    assert x.grad.creator.needs_grad == (True, True)
    x.grad.backward()
    assert float(seed.grad.data) == pytest.approx(1 - np.tanh(1.0) ** 2, rel=1e-14)


def test_mixed_partials_of_two_variables() -> None:
    """d/dy (df/dx) for f = x^2 y^3 + sin(x y) equals 6 x y^2 + cos(xy) - xy sin(xy)."""
    x = Variable(np.array(0.8))
    y = Variable(np.array(-1.3))
    f = x**2 * y**3 + F.sin(x * y)
    f.backward(create_graph=True)
    gx = x.grad
    x.cleargrad()
    y.cleargrad()
    gx.backward()
    xv, yv = 0.8, -1.3
    expected = 6 * xv * yv**2 + np.cos(xv * yv) - xv * yv * np.sin(xv * yv)
    assert float(y.grad.data) == pytest.approx(expected, rel=1e-13)


def test_user_function_second_order_through_variables() -> None:
    """A DeZero-style function whose backward uses Variables is twice differentiable."""

    class Square(Function):
        def forward(self, x):
            return x**2

        def backward(self, gy):
            (x,) = self.inputs
            return 2 * x * gy

    got = _nth_derivatives(lambda x: Square()(Square()(x)), 1.5, 4)
    np.testing.assert_allclose(got, [4 * 1.5**3, 12 * 1.5**2, 24 * 1.5, 24.0])


def test_gradient_of_the_exponent() -> None:
    """Pow with a Variable exponent: d/dc x^c = x^c log x, and second order too."""
    x = Variable(np.array(1.7))
    c = Variable(np.array(2.5))
    y = x**c
    y.backward(create_graph=True)
    assert float(c.grad.data) == pytest.approx(1.7**2.5 * np.log(1.7), rel=1e-13)
    gc_ = c.grad
    x.cleargrad()
    c.cleargrad()
    gc_.backward()
    assert float(c.grad.data) == pytest.approx(1.7**2.5 * np.log(1.7) ** 2, rel=1e-13)
