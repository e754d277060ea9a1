"""The public, read-only view of the graph (``Function.edges``, ``input_shapes``,
``input_dtypes``, ``inputs``, ``outputs``), ``zerograd.autograd.grad`` against
``torch.autograd.grad``, ``keep_inputs``, and the errors of misused Functions and Variables."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

import zerograd as zg
import zerograd.functions as F
from zerograd.autograd import Function, Variable, grad, keep_inputs
from zerograd.functions.elementwise import Sin, Square

RNG = np.random.default_rng(0)


def t(a: np.ndarray, requires_grad: bool = True) -> Any:
    """``a`` as a float64 torch tensor (the test skips without torch)."""
    torch = pytest.importorskip("torch")
    return torch.tensor(a, dtype=torch.float64, requires_grad=requires_grad)


class UserSquare(Function):
    def forward(self, x):
        return x * x

    def backward(self, gy):
        (x,) = self.inputs
        return 2 * x * gy


class TwoOut(Function):
    array_backward = True
    retained_inputs = (0,)

    def forward(self, x):
        return self.xp.sin(x), self.xp.cos(x)

    def backward(self, g0, g1):
        x = self.saved_input(0)
        ops = self.ops
        gx = 0
        if g0 is not None:
            gx = gx + g0 * ops.cos(x)
        if g1 is not None:
            gx = gx - g1 * ops.sin(x)
        return gx


# -- edges, shapes, dtypes -----------------------------------------------------------------------
def test_edges_name_leaves_producers_and_constants() -> None:
    x = Variable(np.ones((2, 3), np.float32))
    a = F.sin(x)
    y = a * np.float32(2.0) + np.ones(3, np.float32)
    add = y.creator
    assert add.edges() == ((a.creator.edges() and (add.edges()[0][0], 0)), None)
    mul = add.edges()[0][0]
    assert mul.edges() == ((a.creator, 0),)
    assert a.creator.edges() == (x,)
    assert add.input_shapes() == ((2, 3), (3,))
    assert add.input_dtypes() == (np.dtype(np.float32), np.dtype(np.float32))
    assert mul.input_shapes() == ((2, 3),) and mul.input_dtypes() == (np.dtype(np.float32),)


def test_edges_of_a_second_output_and_of_an_input_needing_no_gradient() -> None:
    x = Variable(np.array([0.1, 0.2]))
    s, c = TwoOut()(x)
    y = s * c
    assert y.creator.edges() == ((s.creator, 0), (s.creator, 1))
    assert c.output_index == 1 and s.output_index == 0
    w = Variable(np.array([1.0, 2.0]))
    w.requires_grad = False
    z = x * w
    assert z.creator.edges() == (x, None)
    assert z.creator.needs_grad == (True, False)


def test_shapes_and_dtypes_outlive_the_inputs() -> None:
    x = Variable(np.ones((4, 2)))
    y = F.sum(F.tanh(x @ x.T))  # x @ x.T and tanh(...) are freed: nobody holds them
    tanh = y.creator.edges()[0][0]
    assert y.creator.input_shapes() == ((4, 4),)
    assert y.creator.input_dtypes() == (np.dtype(np.float64),)
    assert y.creator.inputs == [None]  # freed (zerograd keeps only what backward needs)
    assert tanh.input_shapes() == ((4, 4),)


def test_shared_shapes_and_dtypes_read_back_per_input() -> None:
    # Inputs that agree keep one shape/dtype entry: the API still reads one per input.
    a, b = Variable(np.ones((2, 3))), Variable(np.zeros((2, 3)))
    f = (a + b).creator
    assert f.input_shapes() == ((2, 3), (2, 3)) and f.input_dtypes() == (np.dtype("f8"),) * 2
    g = (a * Variable(np.ones((2, 3), np.float32))).creator
    assert g.input_dtypes() == (np.dtype("f8"), np.dtype("f4"))
    h = (a + Variable(np.ones(3))).creator
    assert h.input_shapes() == ((2, 3), (3,)) and h.check_shapes
    s = (Variable(np.array(1.0)) * Variable(np.array(2.0))).creator
    assert s.input_shapes() == ((), ()) and s.input_dtypes() == (np.dtype("f8"),) * 2


class _SquareDeZero(zg.Function):
    """A DeZero-style one-input function: it takes the general path."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x**2

    def backward(self, gy: Variable) -> Variable:
        return 2 * self.inputs[0] * gy


@pytest.mark.parametrize("fn", [_SquareDeZero, None])
def test_a_one_input_call_on_a_second_output_routes_its_gradient_there(fn: Any) -> None:
    # A one-input call keeps a pair edge in a 1-tuple on every path: kept bare, backward
    # read the pair as two edges and sent the gradient to output 0.
    x = Variable(np.arange(4.0))
    _, b = F.split(x, 2)
    if fn is None:
        with zg.autograd.keep_inputs():  # the fast path hands over to the general record
            y = F.square(b)
    else:
        y = fn()(b)
    assert y.creator.edges() == ((b.creator, 1),)
    F.sum(y).backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 4.0, 6.0])


def test_unrecorded_calls_have_no_edges() -> None:
    x = Variable(np.ones(2))
    with zg.no_grad():
        y = F.sin(x)
    assert y.creator is None
    f = Sin()
    f(np.ones(2))  # only constants in: not recorded
    assert f.edges() == () and f.input_shapes() == () and f.outputs == []


def test_freed_intermediates_draw_with_shape_and_dtype() -> None:
    from zerograd.viz import get_dot_graph

    x = Variable(np.ones((3, 2), np.float32), name="x")
    text = get_dot_graph(F.tanh(x @ x.T).sum(), verbose=True)
    labels = [
        line.split('label="')[1].split('"')[0] for line in text.splitlines() if "orange" in line
    ]
    assert "" not in labels
    assert labels.count("(3, 3) float32") == 2  # x @ x.T and its tanh, both freed


# -- grad against torch.autograd.grad --------------------------------------------------------------
def test_grad_of_leaves_sets_no_grad_anywhere() -> None:
    torch = pytest.importorskip("torch")
    a, b = RNG.standard_normal((3, 4)), RNG.standard_normal((4,))
    x, w = Variable(a), Variable(b)
    other = Variable(np.array(2.0))
    y = F.sum(F.tanh(x * w) * other)
    gx, gw = grad(y, [x, w])
    tx, tw, to = t(a), t(b), t(np.array(2.0))
    ex, ew = torch.autograd.grad((torch.tanh(tx * tw) * to).sum(), [tx, tw])
    np.testing.assert_allclose(gx.data, ex.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gw.data, ew.numpy(), rtol=1e-12)
    assert x.grad is None and w.grad is None and other.grad is None and y.grad is None


def test_grad_of_intermediates_and_several_outputs_with_grad_outputs() -> None:
    torch = pytest.importorskip("torch")
    a = RNG.standard_normal((2, 3))
    x = Variable(a)
    h = F.sin(x) * 3.0
    h.retain_grad()
    u, v = F.exp(h), h * h
    gu, gv = RNG.standard_normal((2, 3)), RNG.standard_normal((2, 3))
    gh, gx = grad([u, v], [h, x], [Variable(gu), gv])
    tx = t(a)
    th = torch.sin(tx) * 3.0
    eh, ex = torch.autograd.grad([torch.exp(th), th * th], [th, tx], [t(gu, False), t(gv, False)])
    np.testing.assert_allclose(gh.data, eh.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gx.data, ex.numpy(), rtol=1e-12)
    assert h.grad is None and x.grad is None  # retain_grad does not apply to grad()


@pytest.mark.parametrize("order", [2, 3])
def test_grad_to_any_order_matches_torch(order: int) -> None:
    torch = pytest.importorskip("torch")
    a = RNG.standard_normal(5)
    x = Variable(a)
    tx = t(a)
    y, ty = F.sum(F.tanh(x) * F.sin(x)), (torch.tanh(tx) * torch.sin(tx)).sum()
    g, tg = y, ty
    for _ in range(order):
        (g,) = grad(F.sum(g) if g.ndim else g, x, create_graph=True)
        (tg,) = torch.autograd.grad(tg.sum(), tx, create_graph=True)
        np.testing.assert_allclose(g.data, tg.detach().numpy(), rtol=1e-11)
    assert x.grad is None


def test_grad_of_an_intermediate_second_order() -> None:
    torch = pytest.importorskip("torch")
    a = RNG.standard_normal(3)
    x = Variable(a)
    h = x * 2.0
    y = F.sum(h**3)
    (gh,) = grad(y, h, create_graph=True)
    (ggx,) = grad(F.sum(gh), x)
    tx = t(a)
    th = tx * 2.0
    (eh,) = torch.autograd.grad((th**3).sum(), th, create_graph=True)
    (egx,) = torch.autograd.grad(eh.sum(), tx)
    np.testing.assert_allclose(gh.data, eh.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ggx.data, egx.numpy(), rtol=1e-12)


def test_grad_of_an_output_with_respect_to_itself() -> None:
    x = Variable(np.array([1.0, 2.0]))
    y = x * 3.0
    (gy,) = grad(y, y, Variable(np.array([5.0, 7.0])))
    np.testing.assert_array_equal(gy.data, [5.0, 7.0])
    (gx,) = grad(x, x, np.array([1.0, 1.0]))
    np.testing.assert_array_equal(gx.data, [1.0, 1.0])


def test_grad_errors() -> None:
    x, z = Variable(np.ones(3)), Variable(np.ones(3))
    y = F.sum(x * 2.0)
    with pytest.raises(ValueError, match=r"inputs\[1\].*allow_unused"):
        grad(y, [x, z])
    gx, gz = grad(y, [x, z], allow_unused=True)
    assert gz is None and gx is not None
    with pytest.raises(ValueError, match=r"grad_outputs\[0\] has shape \(2,\).*shape \(\)"):
        grad(y, x, np.ones(2))
    with pytest.raises(ValueError, match=r"outputs\[0\] has shape \(3,\).*grad_outputs"):
        grad(x * 2.0, x)
    with pytest.raises(ValueError, match="2 grad_outputs for 1 outputs"):
        grad(y, x, [None, None])
    with pytest.raises(TypeError, match=r"inputs\[0\] is a ndarray"):
        grad(y, [np.ones(3)])


def test_grad_runs_hooks_and_leaves_backward_state_alone() -> None:
    x = Variable(np.array(2.0))
    h = x * 3.0
    seen = []
    h.register_hook(lambda g: seen.append(float(g.data)))
    y = h * h
    (gx,) = grad(y, x)
    assert float(gx.data) == 36.0 and seen == [12.0]
    y.backward()  # the graph is intact: backward still works after grad
    assert float(x.grad.data) == 36.0


# -- keep_inputs -----------------------------------------------------------------------------------
def test_keep_inputs_keeps_every_input_and_is_off_otherwise() -> None:
    x = Variable(np.array([1.0, 2.0]), name="x")
    c = np.array([3.0, 4.0])
    with keep_inputs():
        h = F.exp(x * c)
        y = F.sum(h + 1.0)
    mul = h.creator.edges()[0][0]
    inputs = mul.inputs
    assert inputs[0] is x and np.array_equal(inputs[1].data, c) and not inputs[1].requires_grad
    del h
    assert y.creator.inputs[0] is not None  # kept although the user dropped it
    z = x * c
    assert z.creator.inputs[1] is None  # off: the constant is not kept
    with keep_inputs(), zg.detect_anomaly():
        w = F.sin(x)
    assert w.creator.inputs == [x]
    with keep_inputs(), keep_inputs(False):
        v = F.sum(F.sin(x) + 1.0)
    assert v.creator.inputs == [None]


# -- misuse --------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [UserSquare, Square])
def test_one_instance_records_one_call(cls: type[Function]) -> None:
    a, b = Variable(np.array(2.0)), Variable(np.array(3.0))
    sq = cls()
    sq(a)
    with pytest.raises(RuntimeError, match=f"{cls.__name__}: this instance already recorded"):
        sq(b)
    with zg.no_grad():
        again = cls()
        again(a)
        again(b)  # unrecorded calls keep nothing: the instance may be reused


def test_retained_inputs_out_of_range_are_named() -> None:
    class Sum3(Function):
        array_backward = True
        retained_inputs = (0, 5)

        def forward(self, a, b, c):
            return a + b + c

        def backward(self, gy):
            return gy, gy, gy

    x = Variable(np.ones(2))
    with pytest.raises(
        ValueError, match=r"Sum3: retained_inputs \(0, 5\) must be indices of its 3"
    ):
        Sum3()(x, x, x)


@pytest.mark.parametrize("kind", ["O", "U", "S", "V", "M"])
def test_variable_refuses_arrays_of_no_numbers(kind: str) -> None:
    data = {
        "O": np.array([object()]),
        "U": np.array(["a"]),
        "S": np.array([b"a"]),
        "V": np.zeros(1, dtype=[("a", "f8")]),
        "M": np.array(["2020-01-01"], dtype="datetime64[D]"),
    }[kind]
    with pytest.raises(TypeError, match=rf"numbers.*dtype {re.escape(str(data.dtype))}"):
        Variable(data)


def test_an_op_on_a_variable_without_data_names_the_function_and_input() -> None:
    x, p = Variable(np.ones(3)), zg.Parameter(None)
    with pytest.raises(ValueError, match="Mul: input 1 holds no data.*give it an array"):
        x * p
    with pytest.raises(ValueError, match="Sin: input 0 holds no data"):
        F.sin(p)
    with pytest.raises(ValueError, match="UserSquare: input 0 holds no data"):
        UserSquare()(p)
