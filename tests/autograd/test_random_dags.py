"""Random DAGs against torch: first and second order, float64, to 1e-7.

Hypothesis draws a program: leaves of broadcast-compatible shapes, a list of operations whose
operands index earlier values (so one value may feed many functions, both operands of one
function, diamonds and skip connections), and several sinks. The same program runs on zerograd
and on torch; gradients of every leaf must agree, and so must the gradients of
``<grad, v>`` computed through ``create_graph=True``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

import zerograd.functions as F
from tests.conftest import require_torch
from zerograd import Variable

SHAPES = [(), (3,), (1, 3), (2, 1), (2, 3)]
FULL = (2, 3)

# name -> arity. Every result broadcasts to FULL, so any two values can meet.
OPS = {
    "add": 2,
    "sub": 2,
    "mul": 2,
    "div": 2,  # a / (b*b + 1): the denominator stays away from zero
    "pow2": 1,
    "pow3": 1,
    "neg": 1,
    "sin": 1,
    "cos": 1,
    "tanh": 1,
    "exp": 1,
    "log": 1,  # log(a*a + 1)
    "scale": 1,  # a * 0.7 + c, c a float64 constant array of shape (3,)
    "rsub": 1,  # 1.5 - a
    "rdiv": 1,  # 2.0 / (a*a + 1)
    "sum0": 1,  # sum over axis 0 of the broadcast value: shape (3,)
    "sum1k": 1,  # sum over axis 1, keepdims: shape (2, 1)
    "sumall": 1,  # shape ()
    "matmul": 2,  # (A @ B.T) @ A with A, B broadcast to (2, 3)
    "reshape_t": 1,  # reshape (2, 3) -> (3, 2), then transpose back to (2, 3)
    "index": 1,  # A[:, [2, 0, 0]]: repeated advanced indices scatter-add in backward
}
CONST = np.array([0.25, -0.5, 1.0])


class Lib:
    """The operations on one framework; subclasses bind them."""

    def bcast(self, a: Any) -> Any:
        raise NotImplementedError

    def apply(self, op: str, a: Any, b: Any) -> Any:
        if op == "add":
            return a + b
        if op == "sub":
            return a - b
        if op == "mul":
            return a * b
        if op == "div":
            return a / (b * b + 1.0)
        if op == "pow2":
            return a**2
        if op == "pow3":
            return a**3
        if op == "neg":
            return -a
        if op == "sin":
            return self.sin(a)
        if op == "cos":
            return self.cos(a)
        if op == "tanh":
            return self.tanh(a)
        if op == "exp":
            return self.exp(a)
        if op == "log":
            return self.log(a * a + 1.0)
        if op == "scale":
            return a * 0.7 + self.const(CONST)
        if op == "rsub":
            return 1.5 - a
        if op == "rdiv":
            return 2.0 / (a * a + 1.0)
        if op == "sum0":
            return self.sum(self.bcast(a), 0, False)
        if op == "sum1k":
            return self.sum(self.bcast(a), 1, True)
        if op == "sumall":
            return self.sum(a, None, False)
        if op == "matmul":
            A, B = self.bcast(a), self.bcast(b)
            return self.matmul(self.matmul(A, self.transpose(B)), A)
        if op == "reshape_t":
            return self.transpose(self.reshape(self.bcast(a), (3, 2)))
        if op == "index":
            return self.bcast(a)[:, [2, 0, 0]]
        raise AssertionError(op)


class ZerogradLib(Lib):
    def __init__(self) -> None:
        self.sin, self.cos, self.tanh, self.exp, self.log = F.sin, F.cos, F.tanh, F.exp, F.log

    def bcast(self, a: Variable) -> Variable:
        return F.broadcast_to(a, FULL)

    def const(self, c: np.ndarray) -> np.ndarray:
        return c

    def sum(self, a: Variable, axis: Any, keepdims: bool) -> Variable:
        return F.sum(a, axis=axis, keepdims=keepdims)

    def matmul(self, a: Variable, b: Variable) -> Variable:
        return a @ b

    def transpose(self, a: Variable) -> Variable:
        return a.T

    def reshape(self, a: Variable, shape: tuple[int, ...]) -> Variable:
        return a.reshape(shape)


class TorchLib(Lib):
    def __init__(self, torch: Any) -> None:
        self.torch = torch
        self.sin, self.cos, self.tanh = torch.sin, torch.cos, torch.tanh
        self.exp, self.log = torch.exp, torch.log

    def bcast(self, a: Any) -> Any:
        return a.broadcast_to(FULL)

    def const(self, c: np.ndarray) -> Any:
        return self.torch.tensor(c, dtype=self.torch.float64)

    def sum(self, a: Any, axis: Any, keepdims: bool) -> Any:
        return a.sum() if axis is None else a.sum(dim=axis, keepdim=keepdims)

    def matmul(self, a: Any, b: Any) -> Any:
        return a @ b

    def transpose(self, a: Any) -> Any:
        return a.T

    def reshape(self, a: Any, shape: tuple[int, ...]) -> Any:
        return a.reshape(shape)


@dataclass
class Program:
    leaf_shapes: list[tuple[int, ...]]
    ops: list[tuple[str, int, int]]
    sinks: list[int]
    seed: int

    def leaves(self) -> list[np.ndarray]:
        rng = np.random.default_rng(self.seed)
        return [rng.uniform(-1.5, 1.5, s) for s in self.leaf_shapes]

    def weights(self, shapes: list[tuple[int, ...]]) -> list[np.ndarray]:
        rng = np.random.default_rng(self.seed + 1)
        return [rng.standard_normal(s) for s in shapes]

    def run(self, lib: Lib, leaves: list[Any]) -> list[Any]:
        values = list(leaves)
        for op, i, j in self.ops:
            values.append(lib.apply(op, values[i], values[j]))
        return values


@st.composite
def programs(draw: Any) -> Program:
    n_leaves = draw(st.integers(1, 3))
    leaf_shapes = [draw(st.sampled_from(SHAPES)) for _ in range(n_leaves)]
    ops = []
    for k in range(draw(st.integers(1, 10))):
        n = n_leaves + k
        op = draw(st.sampled_from(sorted(OPS)))
        i = draw(st.integers(0, n - 1))
        # Favour reusing a value as both operands (x*x, x-x, ...): a classic aliasing trap.
        j = i if draw(st.booleans()) else draw(st.integers(0, n - 1))
        ops.append((op, i, j))
    total = n_leaves + len(ops)
    extra = draw(st.lists(st.integers(n_leaves, total - 1), max_size=3))
    sinks = sorted(set(extra) | {total - 1})
    return Program(leaf_shapes, ops, sinks, draw(st.integers(0, 2**31)))


def _loss(program: Program, values: list[Any], weights: list[Any]) -> Any:
    """Several sinks, each weighted by a random array of its shape, summed to a scalar."""
    loss = None
    for s, w in zip(program.sinks, weights):
        term = (values[s] * w).sum()
        loss = term if loss is None else loss + term
    return loss


def _close(got: np.ndarray, want: np.ndarray, what: str) -> None:
    scale = max(1.0, float(np.max(np.abs(want), initial=0.0)))
    np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-7 * scale, err_msg=what)


def _zerograd_grads(program: Program, leaves: list[np.ndarray]) -> tuple[list, list, list]:
    """First-order grads, second-order grads of <grad, v>, and the forward values."""
    xs = [Variable(x.copy()) for x in leaves]
    values = program.run(ZerogradLib(), xs)
    sink_shapes = [values[s].shape for s in program.sinks]
    weights = program.weights(sink_shapes)
    _loss(program, values, weights).backward(create_graph=True)
    grads = [x.grad for x in xs]
    first = [np.zeros(x.shape) if g is None else g.data.copy() for x, g in zip(xs, grads)]
    directions = program.weights([x.shape for x in leaves] + [()])[:-1]
    inner = None
    for g, v in zip(grads, directions):
        if g is None:
            continue
        term = (g * v).sum()
        inner = term if inner is None else inner + term
    for x in xs:
        x.cleargrad()
    second = [np.zeros(x.shape) for x in xs]
    if inner is not None and inner.creator is not None:
        inner.backward()
        second = [np.zeros(x.shape) if x.grad is None else x.grad.data for x in xs]
    return first, second, [v.data for v in values]


def _torch_grads(torch: Any, program: Program, leaves: list[np.ndarray]) -> tuple[list, list, list]:
    xs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in leaves]
    values = program.run(TorchLib(torch), xs)
    sink_shapes = [tuple(values[s].shape) for s in program.sinks]
    weights = [torch.tensor(w) for w in program.weights(sink_shapes)]
    loss = _loss(program, values, weights)
    grads = torch.autograd.grad(loss, xs, create_graph=True, allow_unused=True)
    first = [
        np.zeros(x.shape) if g is None else g.detach().numpy().copy() for x, g in zip(xs, grads)
    ]
    directions = program.weights([x.shape for x in leaves] + [()])[:-1]
    inner = None
    for g, v in zip(grads, directions):
        if g is None:
            continue
        term = (g * torch.tensor(v)).sum()
        inner = term if inner is None else inner + term
    second = [np.zeros(x.shape) for x in leaves]
    if inner is not None and inner.requires_grad:
        seconds = torch.autograd.grad(inner, xs, allow_unused=True)
        second = [np.zeros(x.shape) if g is None else g.numpy() for x, g in zip(xs, seconds)]
    return first, second, [v.detach().numpy() for v in values]


def _check(program: Program, filter_wild: Any = assume) -> None:
    torch = require_torch()
    leaves = program.leaves()
    t_first, t_second, t_values = _torch_grads(torch, program, leaves)
    # Keep the numbers tame: overflow or huge magnitudes would test rounding, not the engine.
    filter_wild(all(np.all(np.abs(v) < 1e4) for v in t_values))
    filter_wild(all(np.all(np.abs(g) < 1e6) for g in t_first + t_second))
    z_first, z_second, z_values = _zerograd_grads(program, leaves)
    for k, (zv, tv) in enumerate(zip(z_values, t_values)):
        assert zv.shape == tv.shape, f"value {k}"
        _close(zv, tv, f"forward value {k} of {program}")
    for k, (zg_, tg) in enumerate(zip(z_first, t_first)):
        assert zg_.shape == leaves[k].shape
        _close(zg_, tg, f"first-order gradient of leaf {k} in {program}")
    for k, (zg_, tg) in enumerate(zip(z_second, t_second)):
        assert zg_.shape == leaves[k].shape
        _close(zg_, tg, f"second-order gradient of leaf {k} in {program}")


@settings(max_examples=120, deadline=None)
@given(programs())
@example(Program([(2, 3)], [("mul", 0, 0)], [1], 0))  # x * x
@example(Program([(3,)], [("sub", 0, 0), ("add", 1, 0)], [2], 1))  # (x - x) + x
@example(  # a diamond: a = sin(x); y = a*cos(a) ... with two sinks
    Program([(2, 1), (3,)], [("sin", 0, 0), ("cos", 2, 2), ("mul", 2, 3), ("add", 4, 1)], [3, 5], 2)
)
@example(Program([(), (2, 3)], [("mul", 0, 1), ("index", 2, 2), ("matmul", 3, 1)], [4], 3))
def test_random_dag_matches_torch(program: Program) -> None:
    _check(program)


@pytest.mark.slow
@settings(max_examples=2000, deadline=None)
@given(programs())
def test_random_dag_matches_torch_many(program: Program) -> None:
    _check(program)


def test_every_op_is_covered_by_the_explicit_programs() -> None:
    """Each op of the table runs once against torch here, whatever hypothesis draws."""
    for k, op in enumerate(sorted(OPS)):
        program = Program([(2, 3), (3,)], [(op, 0, 1), ("mul", 2, 0)], [2, 3], k)

        def tame(condition: bool, program: Program = program) -> None:
            assert condition, f"{program} leaves the tame range: pick another seed"

        _check(program, tame)


def test_separate_backward_calls_accumulate_like_one_sum(torch: Any) -> None:
    """Two sinks sharing a subgraph, one backward each: leaf grads add up across calls."""
    rng = np.random.default_rng(5)
    x0 = rng.standard_normal((2, 3))
    x = Variable(x0.copy())
    a = F.sin(x) * x
    y1 = (a * 2.0).sum()
    y2 = F.exp(a).sum()
    y1.backward()
    y2.backward()
    tx = torch.tensor(x0, requires_grad=True)
    ta = torch.sin(tx) * tx
    ((ta * 2.0).sum() + torch.exp(ta).sum()).backward()
    _close(x.grad.data, tx.grad.numpy(), "accumulated gradient")
