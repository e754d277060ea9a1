"""core_simple: the book's steps 23-32 core, grad as a raw ndarray, like DeZero's."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from tests.compat.dezero_ref import run_dezero_code
from zerograd import core_simple as cs
from zerograd.core_simple import Function, Variable, no_grad, using_config

PROGRAM = """
import numpy as np
from {pkg}.core_simple import Variable, Function, no_grad, setup_variable
setup_variable()

def goldstein(x, y):
    z = (1 + (x + y + 1)**2 * (19 - 14*x + 3*x**2 - 14*y + 6*x*y + 3*y**2)) * \\
        (30 + (2*x - 3*y)**2 * (18 - 32*x + 12*x**2 + 48*y - 36*x*y + 27*y**2))
    return z

class Square(Function):
    def forward(self, x):
        return x ** 2
    def backward(self, gy):
        return 2 * self.inputs[0].data * gy

x, y = Variable(np.array(1.0)), Variable(np.array(1.0))
z = goldstein(x, y)
z.backward()
print(repr(x.grad), repr(y.grad), z)
x = Variable(np.array([[1.0, 2.0], [3.0, 4.0]]))
a = Square()(x)
w = a / 3 - 2.0 ** 1 + (-a) * np.array(0.5) + 1 / a
w.backward(retain_grad=True)
print(repr(x.grad), repr(a.grad), w.grad)
with no_grad():
    print(Square()(x).creator)
"""


def test_matches_dezero_core_simple(tmp_path, capsys) -> None:
    expected = run_dezero_code(PROGRAM.format(pkg="dezero"), tmp_path)
    exec(compile(PROGRAM.format(pkg="zerograd"), "program", "exec"), {})
    assert capsys.readouterr().out == expected


def test_grad_is_a_raw_array_and_no_create_graph() -> None:
    x = Variable(np.array(3.0))
    y = x**3
    y.backward()
    assert isinstance(x.grad, (np.ndarray, np.generic)) and x.grad == 27.0
    assert "create_graph" not in inspect.signature(Variable.backward).parameters
    assert y.grad is None  # not a leaf: dropped without retain_grad
    y.backward()  # the output's seed is fresh again; leaves accumulate
    assert x.grad == 54.0
    x.cleargrad()
    assert x.grad is None


def test_diamond_graph_each_function_once() -> None:
    x = Variable(np.array(2.0))
    a = x**2
    y = a**2 + a**2
    y.backward()
    assert float(y.data) == 32.0 and float(x.grad) == 64.0


def test_deep_graph_needs_no_recursion() -> None:
    x = Variable(np.array(1.0))
    y = x
    for _ in range(20000):
        y = y + 0.0
    y.backward()
    assert x.grad == 1.0


def test_leaf_backward_seeds_itself() -> None:
    x = Variable(np.array([1.0, 2.0]))
    x.backward()  # DeZero crashes here
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])


def test_variable_basics() -> None:
    with pytest.raises(TypeError, match="not supported"):
        Variable(1.0)
    x = Variable(np.array([[1, 2], [3, 4]]), name="x")
    assert (x.shape, x.ndim, x.size, len(x), x.dtype) == ((2, 2), 2, 4, 2, np.dtype(int))
    assert repr(x) == "variable([[1 2]\n          [3 4]])"
    assert repr(Variable(None)) == "variable(None)"
    y = np.array(2.0) * Variable(np.array(3.0))  # __array_priority__ routes to __rmul__
    assert isinstance(y, Variable) and y.data == 6.0
    assert (2.0 - Variable(np.array(3.0))).data == -1.0
    assert (3.0 / Variable(np.array(2.0))).data == 1.5
    assert cs.as_array(1.5).shape == () and cs.as_variable(x) is x
    cs.setup_variable()  # harmless


def test_no_grad_and_using_config() -> None:
    x = Variable(np.array(2.0))
    with no_grad():
        assert (x * x).creator is None
    with using_config("enable_backprop", False):
        assert (x + x).generation == 0
    assert isinstance((x * x).creator, cs.Mul)


def test_user_function_protocol() -> None:
    class Exp(Function):
        def forward(self, x):
            return np.exp(x)

        def backward(self, gy):
            return np.exp(self.inputs[0].data) * gy

    x = Variable(np.array(0.5))
    y = Exp()(Exp()(x))
    y.backward()
    assert np.isclose(x.grad, np.exp(np.exp(0.5)) * np.exp(0.5))
    assert y.creator.generation == 1 and y.generation == 2
