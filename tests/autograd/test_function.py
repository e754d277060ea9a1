"""The ``Function`` protocol DeZero code relies on: forward on arrays, backward on Variables."""

from __future__ import annotations

import weakref

import numpy as np
import pytest

import zerograd.functions as F
from zerograd import Function, Variable, no_grad
from zerograd.functions.elementwise import Sin


class Square(Function):
    def forward(self, x):
        return x**2

    def backward(self, gy):
        x = self.inputs[0].data
        return 2 * x * gy


class SplitSinCos(Function):
    """Two outputs."""

    def forward(self, x):
        return np.sin(x), np.cos(x)

    def backward(self, gy_sin, gy_cos):
        x = self.inputs[0].data
        gx = 0
        if gy_sin is not None:
            gx = gx + gy_sin * np.cos(x)
        if gy_cos is not None:
            gx = gx - gy_cos * np.sin(x)
        return gx


def test_call_records_inputs_outputs_and_generation() -> None:
    x = Variable(np.array(3.0))
    f = Square()
    y = f(x)
    assert isinstance(y, Variable) and float(y.data) == 9.0
    assert y.creator is f
    assert f.inputs[0] is x
    assert isinstance(f.outputs[0], weakref.ref) and f.outputs[0]() is y
    assert f.generation == 0 and y.generation == 1


def test_numpy_scalars_from_forward_become_arrays() -> None:
    class Total(Function):
        def forward(self, x):
            return np.float64(x.sum())  # a NumPy scalar, not an array

        def backward(self, gy):
            return gy * np.ones(self.inputs[0].shape)

    y = Total()(Variable(np.ones(3)))
    assert isinstance(y.data, np.ndarray) and y.data.shape == ()
    y.backward()


def test_user_function_gets_variables_in_backward() -> None:
    seen = {}

    class Probe(Function):
        def forward(self, x):
            return x + x

        def backward(self, gy):
            seen["gy"] = gy
            return gy + gy

    x = Variable(np.array(1.0))
    Probe()(x).backward()
    assert isinstance(seen["gy"], Variable)
    assert float(x.grad.data) == 2.0


def test_user_backward_may_return_arrays_lists_or_none() -> None:
    class Pair(Function):
        def forward(self, a, b):
            return a * b

        def backward(self, gy):
            b = self.inputs[1]
            return [gy.data * b.data, None]  # a list; no gradient for b

    a, b = Variable(np.array(2.0)), Variable(np.array(5.0))
    Pair()(a, b).backward()
    assert float(a.grad.data) == 5.0
    assert b.grad is None


def test_multiple_outputs_return_a_list() -> None:
    x = Variable(np.array(0.3))
    s, c = SplitSinCos()(x)
    assert s.creator is c.creator
    (s * c).backward()
    assert float(x.grad.data) == pytest.approx(np.cos(0.6), rel=1e-14)


def test_one_of_several_outputs_unused_gets_none() -> None:
    x = Variable(np.array(0.3))
    _, c = SplitSinCos()(x)
    F.exp(c).backward()  # the first output is not used
    assert float(x.grad.data) == pytest.approx(-np.exp(np.cos(0.3)) * np.sin(0.3), rel=1e-14)


def test_second_output_feeding_a_chain_and_the_first_output_dropped() -> None:
    x = Variable(np.array(0.3))
    outs = SplitSinCos()(x)
    c = outs[1]
    del outs
    y = c * c
    y.backward()
    assert float(x.grad.data) == pytest.approx(-2 * np.cos(0.3) * np.sin(0.3), rel=1e-14)


def test_no_grad_records_nothing_for_user_functions() -> None:
    x = Variable(np.array(2.0))
    with no_grad():
        y = Square()(x)
    assert y.creator is None
    assert float(y.data) == 4.0


def test_user_functions_and_builtins_mix() -> None:
    x = Variable(np.array([0.5, -1.0]))
    y = F.sum(Square()(F.sin(x)) * 3.0)
    y.backward()
    np.testing.assert_allclose(x.grad.data, 6 * np.sin(x.data) * np.cos(x.data))


def test_builtin_inputs_read_through_edges() -> None:
    """Lean functions keep edges, but ``inputs`` still answers for live inputs."""
    x = Variable(np.array(1.0))
    a = F.sin(x)
    y = a * x
    assert y.creator.inputs[0] is a
    assert y.creator.inputs[1] is x


def test_constant_inputs_get_no_gradient() -> None:
    x = Variable(np.array([1.0, 2.0]))
    c = np.array([3.0, 4.0])
    y = (x * c + c).sum()
    y.backward()
    np.testing.assert_array_equal(x.grad.data, c)


@pytest.mark.parametrize("create_graph", [False, True])
def test_backward_from_a_non_first_output(create_graph: bool) -> None:
    # The seed lands on output 1 of a multi-output function: the user's and a lean one.
    x = Variable(np.array(0.3))
    _, c = SplitSinCos()(x)
    c.backward(create_graph=create_graph)
    assert float(x.grad.data) == pytest.approx(-np.sin(0.3), rel=1e-14)

    v = Variable(np.arange(6.0))
    parts = F.split(v, 3)
    parts[2].backward(create_graph=create_graph)
    np.testing.assert_array_equal(v.grad.data, [0, 0, 0, 0, 1, 1])


def test_gradients_into_several_outputs_of_one_function_accumulate() -> None:
    v = Variable(np.arange(6.0))
    a, _, c = F.split(v, 3)
    y = F.sum(a * 2.0) + F.sum(c * 3.0) + F.sum(c * c)
    y.backward()
    np.testing.assert_array_equal(v.grad.data, [2, 2, 0, 0, 3 + 8, 3 + 10])


def test_a_subclass_of_a_builtin_may_return_variables_from_backward() -> None:
    # A user's backward on a lean built-in may build its gradient from zerograd functions
    # (Variables) even on the fast path; the engine unwraps them.
    class MySin(Sin):
        def backward(self, gy):
            return F.cos(Variable(self.saved_input(0))) * gy

    x = Variable(np.array([0.3, 1.0]))
    F.sum(MySin()(x) * 2.0).backward()
    np.testing.assert_allclose(x.grad.data, 2 * np.cos(x.data))
    assert type(x.grad.data) is np.ndarray


def test_elementwise_functions_get_numpy_scalars_for_0d_float_inputs() -> None:
    """``elementwise = True`` lets the call hand 0-d float arrays over as NumPy scalars (on
    NumPy 2, where they promote alike); other functions, and other inputs, get arrays."""
    from zerograd.autograd.function import NUMPY2

    seen: list[type] = []

    class Twice(Function):
        elementwise = True

        def forward(self, x):
            seen.append(type(x))
            return x + x

        def backward(self, gy):
            return gy + gy

    class Plain(Twice):
        elementwise = False

    for x, want in [
        (np.array(1.5), np.float64 if NUMPY2 else np.ndarray),
        (np.array(1.5, np.float32), np.float32 if NUMPY2 else np.ndarray),
        (np.array(3), np.ndarray),  # integers: NumPy's scalar math warns on overflow
        (np.ones(2), np.ndarray),
    ]:
        seen.clear()
        v = Variable(x)
        y = Twice()(v)
        assert seen == [want] and isinstance(y.data, np.ndarray) and y.dtype == x.dtype
        y.backward()
        assert isinstance(v.grad.data, np.ndarray) and v.grad.dtype == x.dtype
        seen.clear()
        Plain()(Variable(x))
        assert seen == [np.ndarray]


def test_outputs_are_weak_references_in_a_list() -> None:
    x = Variable(np.array(0.5))
    f = SplitSinCos()
    a, b = f(x)
    assert [ref() for ref in f.outputs] == [a, b]
    g = Square()
    assert g.outputs == []  # not called yet
    y = g(x)
    assert len(g.outputs) == 1 and g.outputs[0]() is y
    del y
    assert g.outputs[0]() is None
    with no_grad():
        h = Square()
        h(x)
    assert h.outputs == []  # nothing recorded


def test_outputs_can_be_set() -> None:
    x, y = Variable(np.array(2.0)), Variable(np.array(4.0))
    f = Square()
    f.outputs = [weakref.ref(x), weakref.ref(y)]
    assert [ref() for ref in f.outputs] == [x, y]
    f.outputs = [weakref.ref(y)]
    assert [ref() for ref in f.outputs] == [y]


def test_an_elementwise_function_with_two_outputs_on_0d_inputs() -> None:
    class SinCos(SplitSinCos):
        elementwise = True

    x = Variable(np.array(0.5))
    s, c = SinCos()(x)
    assert isinstance(s.data, np.ndarray) and s.shape == () and float(c.data) == np.cos(0.5)
    (s * c).backward()
    np.testing.assert_allclose(x.grad.data, np.cos(1.0))
