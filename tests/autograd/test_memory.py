"""Memory: gradients of intermediates are dropped, graphs die with their output, and a chain
of elementwise functions keeps only what backward needs.

NumPy reports its array buffers to ``tracemalloc``, so traced sizes below are array bytes
(plus small Python objects); ``MB`` arrays make the arithmetic obvious.
"""

from __future__ import annotations

import gc
import tracemalloc
import weakref
from collections.abc import Iterator

import numpy as np
import pytest

import zerograd.functions as F
from zerograd import Function, Variable

N = 128 * 1024  # float64 elements in one MiB
MB = N * 8


@pytest.fixture
def no_cyclic_gc() -> Iterator[None]:
    """Freeing must come from reference counting alone: keep the cycle collector out."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@pytest.fixture
def traced() -> Iterator[None]:
    gc.collect()
    tracemalloc.start()
    try:
        yield
    finally:
        tracemalloc.stop()


def _traced_now() -> int:
    return tracemalloc.get_traced_memory()[0]


def test_intermediate_grads_are_dropped_after_backward() -> None:
    x = Variable(np.array([0.5, 1.5]))
    a = F.sin(x)
    b = a * x
    y = F.exp(b).sum()
    y.backward()
    assert x.grad is not None
    assert a.grad is None and b.grad is None
    assert y.grad is None  # DeZero clears the output's seed too


def test_retain_grad_keeps_intermediate_grads() -> None:
    x = Variable(np.array([0.5, 1.5]))
    a = F.sin(x)
    b = a * x
    y = F.exp(b).sum()
    y.backward(retain_grad=True)
    eb = np.exp(np.sin(x.data) * x.data)
    np.testing.assert_allclose(b.grad.data, eb)
    np.testing.assert_allclose(a.grad.data, eb * x.data)
    assert y.grad is not None and float(y.grad.data) == 1.0


def test_retain_grad_method_keeps_only_that_variable() -> None:
    x = Variable(np.array([0.5, 1.5]))
    a = F.sin(x)
    a.retain_grad()
    b = a * x
    y = F.exp(b).sum()
    y.backward()
    assert b.grad is None
    eb = np.exp(np.sin(x.data) * x.data)
    np.testing.assert_allclose(a.grad.data, eb * x.data)


def test_gradient_arrays_are_freed_as_soon_as_consumed(traced) -> None:
    """A chain of 40 negations (which save nothing) on a 1 MiB array: backward holds a couple
    of gradient arrays at a time, not one per function."""
    x = Variable(np.ones(N))
    y = x
    for _ in range(40):
        y = -y
    forward_level = _traced_now()
    assert forward_level < 4 * MB  # nothing saved: x and y only
    tracemalloc.reset_peak()
    y.backward()
    peak = tracemalloc.get_traced_memory()[1] - forward_level
    assert peak < 5 * MB, f"backward peaked at {peak / MB:.1f} MiB above the forward level"
    assert _traced_now() - forward_level < 1.5 * MB  # only x.grad remains
    np.testing.assert_array_equal(x.grad.data, np.ones(N))


def test_elementwise_chain_keeps_only_what_backward_needs(traced) -> None:
    """``y = tanh(sin(y)*0.9 + 0.1)`` for 20 steps: sin, mul and add outputs die at once; only
    the tanh outputs (which tanh's and the next sin's backward need) stay alive."""
    steps = 20
    x0 = np.linspace(-1.0, 1.0, N)
    x = Variable(x0.copy())
    start = _traced_now()
    transient = []  # weak references to arrays backward does not need
    kept = []
    y = x
    for _ in range(steps):
        s = F.sin(y)
        m = s * 0.9
        a = m + 0.1
        y = F.tanh(a)
        transient += [weakref.ref(s.data), weakref.ref(m.data), weakref.ref(a.data)]
        kept.append(weakref.ref(y.data))
        del s, m, a
    assert [r() for r in transient] == [None] * len(transient)
    assert all(r() is not None for r in kept)
    forward = _traced_now() - start
    assert forward < (steps + 2) * MB, f"forward keeps {forward / MB:.1f} MiB for {steps} steps"

    tracemalloc.reset_peak()
    y.backward()
    peak = tracemalloc.get_traced_memory()[1] - start
    assert peak < (steps + 8) * MB, f"backward peaked at {peak / MB:.1f} MiB"

    # The hand-written gradient.
    ys = [x0]
    for _ in range(steps):
        ys.append(np.tanh(np.sin(ys[-1]) * 0.9 + 0.1))
    g = np.ones(N)
    for k in reversed(range(steps)):
        g = g * (1 - ys[k + 1] ** 2) * 0.9 * np.cos(ys[k])
    np.testing.assert_allclose(x.grad.data, g, rtol=1e-12)


def _graph_with_everything() -> tuple[Variable, Variable, list[weakref.ref]]:
    """A graph with fan-out, a diamond, constants, matmul, indexing and a user function."""

    class Cube(Function):
        def forward(self, x):
            return x**3

        def backward(self, gy):
            x = self.inputs[0]
            return 3 * x**2 * gy

    x = Variable(np.random.default_rng(0).standard_normal((3, 4)))
    W = Variable(np.random.default_rng(1).standard_normal((4, 2)))
    a = F.sin(x)
    b = Cube()(a) + a * x  # diamond through a, fan-out of x
    c = (b @ W)[1:, [0, 1, 1]]
    y = F.tanh(c).sum() + F.exp(x).sum() * 0.5
    refs = []
    for v in (a, b, c, y):
        refs += [weakref.ref(v), weakref.ref(v.data), weakref.ref(v.creator)]
    return y, x, refs


def test_dropping_the_output_frees_the_graph(no_cyclic_gc) -> None:
    y, _, refs = _graph_with_everything()
    assert all(r() is not None for r in refs[-3:])
    del y
    assert [r() for r in refs] == [None] * len(refs)


def test_dropping_the_output_after_backward_frees_the_graph(no_cyclic_gc) -> None:
    y, x, refs = _graph_with_everything()
    y.backward()
    y.backward(retain_grad=True)  # intermediate grads must not keep the graph alive either
    assert x.grad is not None
    del y
    assert [r() for r in refs] == [None] * len(refs)
    assert x.creator is None and x.grad.creator is None  # the fast path records nothing


def test_graph_of_a_create_graph_backward_is_collectable() -> None:
    """With ``create_graph=True`` the gradient refers back to the leaf (as in PyTorch), a cycle
    the collector frees once the user lets go."""
    y, x, refs = _graph_with_everything()
    y.backward(create_graph=True)
    assert x.grad.creator is not None
    g_ref = weakref.ref(x.grad)
    del y
    x.cleargrad()
    gc.collect()
    assert g_ref() is None
    assert [r() for r in refs] == [None] * len(refs)
