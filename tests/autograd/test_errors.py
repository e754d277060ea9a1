"""Bad input fails at the call that made it, with a message naming what went wrong."""

from __future__ import annotations

import re

import numpy as np
import pytest

import zerograd.functions as F
from zerograd import Function, Variable


@pytest.mark.parametrize(
    ("data", "type_name"),
    [(1.0, "float"), ([1, 2], "list"), (3, "int"), ((1.0,), "tuple"), ("x", "str")],
)
def test_variable_rejects_non_arrays_naming_the_type(data, type_name: str) -> None:
    with pytest.raises(TypeError, match=rf"\b{type_name}\b"):
        Variable(data)


def test_variable_accepts_none_and_arrays() -> None:
    assert Variable(None).data is None
    assert Variable(np.array(1.0)).shape == ()
    assert Variable(np.zeros((2, 0))).shape == (2, 0)


def _shapes_pattern(a: tuple[int, ...], b: tuple[int, ...]) -> str:
    return re.escape(str(a)) + ".*" + re.escape(str(b))


@pytest.mark.parametrize(
    ("make", "name", "a", "b"),
    [
        (lambda a, b: a + b, "add", (2, 3), (4,)),
        (lambda a, b: b + a, "add", (2, 3), (4,)),  # reflected: shapes in call order
        (lambda a, b: a * b, "mul", (2, 3), (3, 2)),
        (lambda a, b: a / b, "div", (5,), (2,)),
        (lambda a, b: a @ b, "matmul", (2, 3), (4, 5)),
        (lambda a, b: F.matmul(a, b), "matmul", (2, 3), (2,)),
        (lambda a, b: a @ b, "matmul", (7, 2, 3), (5, 3, 4)),
    ],
)
def test_mismatched_shapes_name_the_function_and_both_shapes(make, name, a, b) -> None:
    x = Variable(np.ones(a))
    y = Variable(np.ones(b))
    with pytest.raises(ValueError) as info:
        make(x, y)
    message = str(info.value)
    assert name in message
    shapes = {str(a), str(b)}
    assert all(s in message for s in shapes), message


def test_mismatch_with_a_plain_array_operand() -> None:
    x = Variable(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"add.*\(2, 3\).*\(4,\)"):
        x + np.ones(4)
    with pytest.raises(ValueError, match=_shapes_pattern((2, 3), (4,))):
        x - np.ones(4)


def test_non_numeric_input_is_a_type_error_naming_the_type() -> None:
    x = Variable(np.ones(2))
    with pytest.raises(TypeError, match="str"):
        x + "a"
    with pytest.raises(TypeError, match="list"):
        F.sin([1.0, 2.0])


class _TwoInOneGrad(Function):
    def forward(self, a, b):
        return a * b

    def backward(self, gy):
        return gy  # one gradient for two inputs


class _OneInTwoGrads(Function):
    def forward(self, a):
        return a * 2

    def backward(self, gy):
        return gy * 2, gy


class _WrongShape(Function):
    def forward(self, a):
        return a.sum()

    def backward(self, gy):
        return Variable(np.ones(7))


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize(
    ("cls", "pattern"),
    [
        (_TwoInOneGrad, r"_TwoInOneGrad.*1 gradient.*2 input"),
        (_OneInTwoGrads, r"_OneInTwoGrads.*2 gradient.*1 input"),
    ],
)
def test_backward_returning_the_wrong_number_of_gradients(cls, pattern, create_graph) -> None:
    inputs = [Variable(np.array([1.0, 2.0])) for _ in range(2 if cls is _TwoInOneGrad else 1)]
    y = F.sin(cls()(*inputs))
    with pytest.raises(ValueError, match=pattern):
        y.backward(create_graph=create_graph)


@pytest.mark.parametrize("create_graph", [False, True])
def test_backward_returning_a_gradient_of_the_wrong_shape(create_graph) -> None:
    x = Variable(np.ones((2, 3)))
    y = _WrongShape()(x) * 2.0
    with pytest.raises(ValueError, match=r"_WrongShape.*\(7,\).*\(2, 3\)"):
        y.backward(create_graph=create_graph)


def test_backward_on_a_variable_without_data() -> None:
    with pytest.raises(ValueError, match="no data"):
        Variable(None).backward()


def test_function_without_forward_names_itself() -> None:
    class Unfinished(Function):
        pass

    with pytest.raises(NotImplementedError, match="Unfinished"):
        Unfinished()(Variable(np.ones(2)))


def test_a_seed_of_the_wrong_shape_is_refused() -> None:
    x = Variable(np.ones(3))
    y = F.sin(x)
    y.grad = Variable(np.ones(4))
    with pytest.raises(ValueError, match=r"gradient set on the output has shape \(4,\).*\(3,\)"):
        y.backward()
