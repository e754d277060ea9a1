"""Higher-order derivatives: ``create_graph=True`` records backward; the default records nothing."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import zerograd.functions as F
from zerograd import Function, Variable, no_grad


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


def test_second_derivative_through_a_dropped_intermediate() -> None:
    """``sin`` keeps only the array of its intermediate input ``3x``; a recorded backward
    rebuilds a Variable that routes gradients on to the multiplication."""
    x = Variable(np.array(0.7))
    y = F.sin(x * 3.0)  # the product's Variable is gone after this line
    y.backward(create_graph=True)
    gx = x.grad
    x.cleargrad()
    gx.backward()
    np.testing.assert_allclose(gx.data, 3 * np.cos(2.1), rtol=1e-12)
    np.testing.assert_allclose(x.grad.data, -9 * np.sin(2.1), rtol=1e-12)


def test_a_live_intermediate_is_the_saved_input_of_a_recorded_backward() -> None:
    x = Variable(np.array([0.3, 0.4]))
    h = x * 2.0
    y = F.sin(h)
    f = y.creator
    assert f.saved_input(0) is h  # recording: the very Variable forward got
    h.data = np.zeros(2)  # rebinding does not change what backward uses
    assert f.saved_input(0).data is not h.data
    with no_grad():
        np.testing.assert_array_equal(f.saved_input(0), [0.6, 0.8])


def test_recorded_backward_after_unchain_backward_stops_at_the_cut() -> None:
    x = Variable(np.array(0.5))
    h = x * 2.0
    y = F.sin(h)
    y.unchain_backward()  # h is a leaf now; y keeps its creator
    y.backward(create_graph=True)
    assert x.grad is None
    np.testing.assert_allclose(h.grad.data, np.cos(1.0))
    g = h.grad
    h.cleargrad()
    g.backward()
    np.testing.assert_allclose(h.grad.data, -np.sin(1.0))
