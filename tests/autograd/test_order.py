"""Backward order: the seed's examples, each function exactly once, consumers first."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import zerograd as zg
import zerograd.functions as F
from zerograd import Function, Variable
from zerograd.functions.arithmetic import Add, Mul, Pow
from zerograd.functions.elementwise import Exp, Sin


def test_seed_two_x_to_the_fourth() -> None:
    """Step 16's check: a = x**2; y = a**2 + a**2 is 32 at 2.0 and its gradient 64."""
    x = Variable(np.array(2.0))
    a = x**2
    y = a**2 + a**2
    y.backward()
    assert y.data == 32.0
    assert x.grad is not None
    assert x.grad.data == 64.0


def test_seed_with_a_square_function_written_like_the_book() -> None:
    class Square(Function):
        def forward(self, x):
            return x**2

        def backward(self, gy):
            x = self.inputs[0].data
            return 2 * x * gy

    class Add2(Function):
        def forward(self, x0, x1):
            return x0 + x1

        def backward(self, gy):
            return gy, gy

    x = Variable(np.array(2.0))
    a = Square()(x)
    y = Add2()(Square()(a), Square()(a))
    y.backward()
    assert float(y.data) == 32.0
    assert float(x.grad.data) == 64.0


class _Logged(Function):
    """A user function that appends its name to a shared log when its backward runs."""

    def __init__(self, name: str, log: list[str], fn, dfn) -> None:
        self.name = name
        self.log = log
        self.fn = fn
        self.dfn = dfn

    def forward(self, *xs):
        return self.fn(*xs)

    def backward(self, gy):
        self.log.append(self.name)
        xs = [x.data for x in self.inputs]
        grads = self.dfn(*xs)
        return tuple(g * gy for g in grads) if len(grads) > 1 else grads[0] * gy


def test_branch_and_merge_runs_each_backward_once_consumers_first() -> None:
    """The seed's graph A -> (B, C) -> D: DeZero's list-based traversal ran A twice."""
    log: list[str] = []
    x = Variable(np.array(0.5))
    a = _Logged("A", log, lambda x: x**2, lambda x: (2 * x,))(x)
    b = _Logged("B", log, np.sin, lambda a: (np.cos(a),))(a)
    c = _Logged("C", log, np.exp, lambda a: (np.exp(a),))(a)
    y = _Logged("D", log, lambda b, c: b * c, lambda b, c: (c, b))(b, c)
    y.backward()

    assert Counter(log) == {"A": 1, "B": 1, "C": 1, "D": 1}
    assert log[0] == "D"
    assert set(log[1:3]) == {"B", "C"}
    assert log[3] == "A"
    # d/dx [sin(x^2) exp(x^2)] = 2x (cos(x^2) + sin(x^2)) exp(x^2)
    a0 = 0.25
    expected = 2 * 0.5 * (np.cos(a0) + np.sin(a0)) * np.exp(a0)
    assert x.grad.data == pytest.approx(expected, rel=1e-14)


def test_branch_and_merge_with_builtin_functions(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same graph of zerograd's own (lean) functions: count every backward call."""
    calls: list[str] = []
    for cls in (Pow, Sin, Exp, Mul):
        original = cls.backward

        def counted(self, *gys, _original=original, _name=cls.__name__):
            calls.append(_name)
            return _original(self, *gys)

        monkeypatch.setattr(cls, "backward", counted)

    x = Variable(np.array(0.5))
    a = x**2  # A
    y = F.sin(a) * F.exp(a)  # B, C, D
    y.backward()
    assert Counter(calls) == {"Pow": 1, "Sin": 1, "Exp": 1, "Mul": 1}
    assert calls[0] == "Mul" and calls[-1] == "Pow"
    expected = 2 * 0.5 * (np.cos(0.25) + np.sin(0.25)) * np.exp(0.25)
    assert x.grad.data == pytest.approx(expected, rel=1e-14)


def test_generations_are_recorded() -> None:
    x = Variable(np.array(1.0))
    assert x.generation == 0
    a = F.sin(x)
    assert a.creator.generation == 0 and a.generation == 1
    b = F.exp(a)
    c = a * x  # inputs of generations 1 and 0
    assert c.creator.generation == 1 and c.generation == 2
    d = b + c
    assert d.creator.generation == 2 and d.generation == 3


def test_skip_connection_across_many_generations() -> None:
    """A value used both at the bottom and the top of a long chain gets one gradient sum."""
    x = Variable(np.array(0.3))
    y = x
    for _ in range(50):
        y = F.sin(y)
    z = y * x  # x feeds the last function directly (generation 0 -> 50)
    z.backward()
    # Reference: d/dx [sin^50(x) * x] by forward-mode accumulation in NumPy.
    v, dv = 0.3, 1.0
    for _ in range(50):
        v, dv = np.sin(v), np.cos(v) * dv
    assert x.grad.data == pytest.approx(dv * 0.3 + v, rel=1e-13)


@st.composite
def _user_dags(draw):
    """A random DAG of user functions: (number of leaves, [input indices per node], sinks)."""
    n_leaves = draw(st.integers(1, 3))
    nodes = []
    for k in range(draw(st.integers(1, 14))):
        available = n_leaves + k
        arity = draw(st.integers(1, 3))
        nodes.append([draw(st.integers(0, available - 1)) for _ in range(arity)])
    total = n_leaves + len(nodes)
    sinks = sorted(set(draw(st.lists(st.integers(n_leaves, total - 1), max_size=3)) + [total - 1]))
    return n_leaves, nodes, sinks


@settings(max_examples=60, deadline=None)
@given(_user_dags())
def test_random_dag_each_backward_once_after_all_consumers(dag) -> None:
    """On any DAG (fan-out, repeated operands, several sinks), every function reachable from
    the sinks runs its backward exactly once, after every function that consumes its output."""
    n_leaves, nodes, sinks = dag
    log: list[int] = []

    class Node(Function):
        def __init__(self, index: int) -> None:
            self.index = index

        def forward(self, *xs):
            return sum(np.sin(x) for x in xs)

        def backward(self, gy):
            log.append(self.index)
            grads = tuple(np.cos(x.data) * gy.data for x in self.inputs)
            return grads if len(grads) > 1 else grads[0]

    rng = np.random.default_rng(0)
    values = [Variable(rng.uniform(-1, 1, 2)) for _ in range(n_leaves)]
    consumers: dict[int, set[int]] = {}
    for k, operands in enumerate(nodes):
        index = n_leaves + k
        values.append(Node(index)(*[values[i] for i in operands]))
        for i in operands:
            consumers.setdefault(i, set()).add(index)

    total = values[sinks[0]].sum()
    for s in sinks[1:]:
        total = total + values[s].sum()
    total.backward()

    # Which functions are upstream of a sink.
    reachable = set()
    stack = [s for s in sinks]
    while stack:
        i = stack.pop()
        if i >= n_leaves and i not in reachable:
            reachable.add(i)
            stack.extend(nodes[i - n_leaves])
    assert sorted(log) == sorted(reachable)  # each exactly once
    position = {index: p for p, index in enumerate(log)}
    for index in log:
        for consumer in consumers.get(index, ()):
            if consumer in position:
                assert position[consumer] < position[index]


def test_backward_order_matches_viz_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """``zerograd demo`` prints ``viz.backward_order``: it must be the order backward runs."""
    from zerograd.viz import backward_order

    calls: list[Function] = []
    x = Variable(np.array(2.0))
    a = x**2
    y = a**2 + a**2
    expected = [step.function for step in backward_order(y)]
    for cls in (Pow, Add):
        original = cls.backward

        def wrapped(self, *gys, _original=original):
            calls.append(self)
            return _original(self, *gys)

        monkeypatch.setattr(cls, "backward", wrapped)
    y.backward()
    assert calls == expected
    assert [type(f).__name__ for f in expected] == ["Add", "Pow", "Pow", "Pow"]


def test_backward_inside_a_backward() -> None:
    """Per-backward state is local: a backward rule may run another backward."""

    class InnerGrad(Function):
        def forward(self, x):
            return x * 3

        def backward(self, gy):
            # An unrelated backward while the outer one is running (backward rules run with
            # recording off unless create_graph=True, as in DeZero: switch it back on).
            z = Variable(np.array(1.5))
            with zg.using_config("enable_backprop", True):
                w = F.sin(z) * z
            w.backward()
            self.inner = float(z.grad.data)
            return gy * 3

    x = Variable(np.array(2.0))
    f = InnerGrad()
    y = F.exp(f(F.sin(x)))
    y.backward()
    assert f.inner == pytest.approx(np.cos(1.5) * 1.5 + np.sin(1.5), rel=1e-14)
    expected = np.exp(3 * np.sin(2.0)) * 3 * np.cos(2.0)
    assert float(x.grad.data) == pytest.approx(expected, rel=1e-14)


def test_backward_in_several_threads_at_once() -> None:
    import threading

    results: dict[int, float] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def work(k: int) -> None:
        try:
            barrier.wait()
            x = Variable(np.array(0.1 * (k + 1)))
            y = x
            for _ in range(300):
                y = F.sin(y) + y * 0.5
            y.backward()
            results[k] = float(x.grad.data)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for k in range(4):
        x = Variable(np.array(0.1 * (k + 1)))
        y = x
        for _ in range(300):
            y = F.sin(y) + y * 0.5
        y.backward()
        assert results[k] == float(x.grad.data)
