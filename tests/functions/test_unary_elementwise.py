"""``UnaryElementwise``: the one-input elementwise functions are built on it and keep the
engine's short backward path."""

from __future__ import annotations

from typing import Any

import numpy as np

import zerograd as zg
from zerograd.functions import UnaryElementwise, activation, arithmetic, elementwise

ON_THE_BASE = [
    *(getattr(elementwise, n) for n in "Sin Cos Tanh Exp Log Sqrt Square Abs Clip".split()),
    *(getattr(activation, n) for n in "Sigmoid ReLU LeakyReLU Softplus NormalCdf".split()),
    *(getattr(arithmetic, n) for n in "Neg AddConstant SubConstant ConstantSub".split()),
    *(getattr(arithmetic, n) for n in "MulConstant DivConstant Pow".split()),
]


def test_the_one_input_elementwise_functions_are_built_on_it() -> None:
    for cls in ON_THE_BASE:
        assert issubclass(cls, UnaryElementwise), cls.__name__
        assert cls.array_backward and not cls.check_shapes, cls.__name__
        assert cls._short_backward, f"{cls.__name__} lost the short backward path"


def test_the_base_leaves_forward_and_backward_to_its_subclasses() -> None:
    # A base defining backward would send every subclass's backward down the general path.
    assert "forward" not in vars(UnaryElementwise)
    assert "backward" not in vars(UnaryElementwise)


def test_a_new_op_on_the_base() -> None:
    class Cube(UnaryElementwise):
        retained_inputs = (0,)

        def forward(self, x: Any) -> Any:
            return x * x * x

        def backward(self, gy: Any) -> Any:
            x = self.saved_input(0)
            return gy * (x * x) * 3.0

    assert Cube._short_backward and Cube.elementwise and not Cube.check_shapes
    x = zg.Variable(np.array([1.0, -2.0]))
    y = Cube()(x)
    y.backward(create_graph=True)
    assert np.array_equal(y.data, [1.0, -8.0])
    gx = x.grad
    assert np.array_equal(gx.data, [3.0, 12.0])
    x.cleargrad()
    gx.backward()
    assert np.array_equal(x.grad.data, [6.0, -12.0])


def test_a_users_backward_over_a_builtin_takes_the_general_path() -> None:
    class MySin(elementwise.Sin):
        def backward(self, gy: Any) -> Any:  # may return Variables: not the short path
            return gy * zg.functions.cos(self.saved_input(0))

    assert not MySin._short_backward
