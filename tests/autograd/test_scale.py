"""Graphs far deeper and wider than Python's recursion limit: nothing may recurse over them."""

from __future__ import annotations

import gc
import sys
import tracemalloc
import weakref

import numpy as np
import pytest

import zerograd.functions as F
from zerograd import Function, Variable


@pytest.fixture
def no_cyclic_gc():
    """Graphs must be freed by reference counting alone (no cycles): keep the collector out."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def test_million_deep_chain_backward_and_free(no_cyclic_gc) -> None:
    """10^6 functions in a line: backward completes, and dropping the output frees them all."""
    n = 10**6
    assert n > 100 * sys.getrecursionlimit()
    x = Variable(np.array(1.5))
    y = -x
    first = weakref.ref(y.creator)
    for _ in range(n - 1):
        y = -y
    assert y.generation == n
    y.backward()
    assert float(y.data) == 1.5  # an even number of negations
    assert float(x.grad.data) == 1.0
    del y
    assert first() is None  # the whole chain is gone (deallocation did not overflow the stack)


def test_deep_chain_of_the_issue(no_cyclic_gc) -> None:
    """The benchmark's deep case ``y = y*1.0 + 0.0`` (10^6 steps: the slow test below)."""
    x = Variable(np.array(2.0))
    y = x
    for _ in range(2 * 10**4):
        y = y * 1.0 + 0.0
    y.backward()
    assert float(x.grad.data) == 1.0
    ref = weakref.ref(y.creator)
    del y
    assert ref() is None


@pytest.mark.slow
def test_million_deep_chain_of_the_issue() -> None:
    x = Variable(np.array(2.0))
    y = x
    for _ in range(10**6):
        y = y * 1.0 + 0.0
    y.backward()
    assert float(x.grad.data) == 1.0


def test_deep_chain_of_user_functions(no_cyclic_gc) -> None:
    """DeZero-style functions keep their inputs: the chain links Variables and Functions."""

    class Double(Function):
        def forward(self, x):
            return x * 2.0

        def backward(self, gy):
            return gy * 2.0

    n = 3 * 10**4
    x = Variable(np.array(1.0))
    y = x
    for _ in range(n):
        y = Double()(y) * 0.5
    ref = weakref.ref(y.creator)
    y.backward()
    assert float(x.grad.data) == 1.0
    del y
    assert ref() is None


def test_wide_fan_in_left_fold(no_cyclic_gc) -> None:
    """One value feeds 10^5 functions whose results are summed one after another."""
    n = 10**5
    c = np.linspace(0.1, 1.0, n)
    x = Variable(np.array(0.7))
    total = F.sin(x * c[0])
    for k in range(1, n):
        total = total + F.sin(x * c[k])
    total.backward()
    assert float(total.data) == pytest.approx(np.sin(0.7 * c).sum(), rel=1e-9)
    assert float(x.grad.data) == pytest.approx((c * np.cos(0.7 * c)).sum(), rel=1e-9)
    ref = weakref.ref(total.creator)
    del total
    assert ref() is None


def test_wide_fan_in_balanced_tree(no_cyclic_gc) -> None:
    n = 2 * 10**4
    c = np.linspace(0.1, 1.0, n)
    x = Variable(np.array(0.7))
    level = [F.sin(x * c[k]) for k in range(n)]
    while len(level) > 1:
        pairs = [level[i] + level[i + 1] for i in range(0, len(level) - 1, 2)]
        level = pairs + ([level[-1]] if len(level) % 2 else [])
    total = level[0]
    total.backward()
    assert float(x.grad.data) == pytest.approx((c * np.cos(0.7 * c)).sum(), rel=1e-9)


def test_one_function_with_a_hundred_thousand_inputs(no_cyclic_gc) -> None:
    """Fan-in at a single node: a user function taking 10^5 inputs."""

    class SumAll(Function):
        def forward(self, *xs):
            return sum(xs[1:], xs[0])

        def backward(self, gy):
            return tuple(gy for _ in self.inputs)

    n = 10**5
    xs = [Variable(np.array(float(k))) for k in range(n)]
    y = SumAll()(*xs)
    (y * 2.0).backward()
    assert float(y.data) == sum(range(n))
    assert all(float(x.grad.data) == 2.0 for x in xs)


def test_unchain_backward_on_a_deep_graph(no_cyclic_gc) -> None:
    n = 10**5
    x = Variable(np.array(0.5))
    kept = []
    y = x
    for k in range(n):
        y = F.sin(y)
        if k % 1000 == 0:
            kept.append(y)  # a few intermediates the user still holds
    refs = [weakref.ref(v.creator) for v in kept]
    y.unchain_backward()
    assert y.creator is not None  # DeZero: y keeps its own creator; everything behind is cut
    assert all(v.creator is None for v in kept)
    assert all(r() is None for r in refs)  # the functions are freed
    assert x.grad is None


def test_create_graph_on_a_deep_chain() -> None:
    """Higher-order backward over a long chain: the recorded gradient graph is deep too."""
    n = 5_000
    x = Variable(np.array(0.5))
    y = x
    for _ in range(n):
        y = y * 1.0 + x * 0.0
    y = y * y
    y.backward(create_graph=True)
    gx = x.grad
    assert float(gx.data) == pytest.approx(1.0)  # d/dx x^2 = 2x
    x.cleargrad()
    gx.backward()
    assert float(x.grad.data) == pytest.approx(2.0)


def test_generations_in_the_billions_cost_nothing() -> None:
    # A long-running loop (truncated backprop through time: the state is unchained, its
    # generation keeps counting) reaches huge generations; backward spans only the graph's own.
    h = Variable(np.array(0.5))
    h.generation = 10**12  # as after 10^12 recorded steps
    x = Variable(np.array(2.0))
    y = F.sin(h * x) + x
    assert y.generation == 10**12 + 3
    tracemalloc.start()
    try:
        y.backward()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20
    assert float(x.grad.data) == pytest.approx(np.cos(1.0) * 0.5 + 1.0, rel=1e-14)
    assert float(h.grad.data) == pytest.approx(np.cos(1.0) * 2.0, rel=1e-14)
