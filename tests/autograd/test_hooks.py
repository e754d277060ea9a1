"""``Variable.register_hook`` and ``retain_grad``: hooks see gradients and may replace them."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np
import pytest

import zerograd.functions as F
from zerograd import Function, Variable


def test_leaf_hook_sees_the_summed_gradient_once() -> None:
    seen: list[float] = []
    x = Variable(np.array(3.0))
    x.register_hook(lambda g: seen.append(float(g.data)))
    y = x * x + x  # two paths into x
    y.backward()
    assert seen == [7.0]  # 2x + 1, summed before the hook
    assert float(x.grad.data) == 7.0


@pytest.mark.parametrize("wrap", [True, False], ids=["Variable", "array"])
def test_hook_replaces_the_gradient(wrap: bool) -> None:
    x = Variable(np.array([1.0, 2.0]))

    def times_ten(g: Variable):
        return g * 10 if wrap else g.data * 10

    x.register_hook(times_ten)
    F.sum(x * x).backward()
    np.testing.assert_array_equal(x.grad.data, [20.0, 40.0])
    assert isinstance(x.grad, Variable)


def test_hooks_run_in_order_and_can_be_removed() -> None:
    x = Variable(np.array(1.0))
    remove_add = x.register_hook(lambda g: g + 1)
    x.register_hook(lambda g: g * 2)
    (x * 3).backward()
    assert float(x.grad.data) == (3 + 1) * 2
    remove_add()
    remove_add()  # removing twice is harmless
    x.cleargrad()
    (x * 3).backward()
    assert float(x.grad.data) == 3 * 2


def test_hook_returning_none_keeps_the_gradient() -> None:
    x = Variable(np.array(2.0))
    calls = []
    x.register_hook(lambda g: calls.append(g) and None)
    (x**2).backward()
    assert float(x.grad.data) == 4.0 and len(calls) == 1


def test_non_leaf_hook_changes_what_flows_to_the_leaves() -> None:
    x = Variable(np.array(2.0))
    a = x * 3
    seen: list[float] = []

    def halve(g: Variable) -> Variable:
        seen.append(float(g.data))
        return g * 0.5

    a.register_hook(halve)
    y = a * a
    del a  # the hook lives on a's creator, so it still fires
    y.backward()
    assert seen == [12.0]  # dy/da = 2a = 12
    assert float(x.grad.data) == 12.0 * 0.5 * 3


def test_hook_on_a_non_first_output() -> None:
    class Pair(Function):
        def forward(self, x):
            return x * 2, x * 3

        def backward(self, g0, g1):
            g0 = 0 if g0 is None else g0
            g1 = 0 if g1 is None else g1
            return g0 * 2 + g1 * 3

    x = Variable(np.array(1.0))
    p0, p1 = Pair()(x)
    seen: dict[str, float] = {}
    p0.register_hook(lambda g: seen.__setitem__("p0", float(g.data)))
    p1.register_hook(lambda g: g * 100)
    (p0 * 5 + p1 * 7).backward()
    assert seen == {"p0": 5.0}
    assert float(x.grad.data) == 5 * 2 + 7 * 100 * 3


def test_leaf_hook_sees_one_pass_while_grad_accumulates() -> None:
    x = Variable(np.array(1.0))
    seen: list[float] = []
    x.register_hook(lambda g: seen.append(float(g.data)))
    (x * 2).backward()
    (x * 5).backward()
    assert seen == [2.0, 5.0]
    assert float(x.grad.data) == 7.0


def test_hooks_under_create_graph_get_recorded_variables() -> None:
    """With create_graph=True a hook gets a Variable in the graph and its replacement is
    differentiated too (as in PyTorch)."""
    x = Variable(np.array(2.0))
    creators = []

    def double(g: Variable) -> Variable:
        creators.append(g.creator)
        return g * 2

    x.register_hook(double)
    y = x**3
    y.backward(create_graph=True)
    gx = x.grad
    assert float(gx.data) == 2 * 3 * 4.0
    assert creators[0] is not None  # a recorded gradient
    x.cleargrad()
    gx.backward()
    assert float(x.grad.data) == 2 * (2 * 6 * 2.0)  # the hook doubles again


def test_retain_grad_keeps_one_intermediate() -> None:
    x = Variable(np.array(2.0))
    a = x * 3
    b = a * a
    a.retain_grad()
    y = b + 1
    y.backward()
    assert float(a.grad.data) == 12.0
    assert b.grad is None and y.grad is None
    assert float(x.grad.data) == 36.0


def test_retain_grad_with_retain_grad_true_counts_once() -> None:
    x = Variable(np.array(2.0))
    a = x * 3
    a.retain_grad()
    a.retain_grad()  # a second call changes nothing
    y = a * a
    y.backward(retain_grad=True)
    assert float(a.grad.data) == 12.0
    assert float(y.grad.data) == 1.0


def test_retain_grad_on_the_output_itself() -> None:
    x = Variable(np.array(2.0))
    y = x * 3
    y.retain_grad()
    y.backward()
    assert float(y.grad.data) == 1.0
    y.backward()  # y.grad is the seed again (DeZero), and is kept
    assert float(y.grad.data) == 1.0
    assert float(x.grad.data) == 6.0


def test_retained_grad_sees_what_other_hooks_made() -> None:
    x = Variable(np.array(2.0))
    a = x * 3
    a.retain_grad()
    a.register_hook(lambda g: g * 10)  # registered later, still runs before retain_grad's
    (a * a).backward()
    assert float(a.grad.data) == 120.0
    assert float(x.grad.data) == 360.0


def test_retained_grad_is_not_aliased_with_a_leaf_grad() -> None:
    """Add hands one gradient array to both inputs: each variable gets its own copy, so an
    in-place update of one (weight decay does ``grad.data += ...``) leaves the other alone."""
    x = Variable(np.array([1.0, 2.0]))
    a = x * 3
    a.retain_grad()
    y = F.sum((a + x) * 2)
    y.backward()
    assert not np.shares_memory(a.grad.data, x.grad.data)
    x.grad.data += 100
    np.testing.assert_array_equal(a.grad.data, [2.0, 2.0])


def test_retained_grad_accumulates_like_a_leaf() -> None:
    x = Variable(np.array(1.0))
    a = x * 3
    a.retain_grad()
    y = a * a
    y.backward()
    y.backward()
    assert float(a.grad.data) == 2 * 6.0
    a.cleargrad()
    y.backward()
    assert float(a.grad.data) == 6.0


def test_retain_grad_on_a_leaf_is_a_no_op() -> None:
    x = Variable(np.array(1.0))
    x.retain_grad()
    (x * 4).backward()
    assert float(x.grad.data) == 4.0


@pytest.mark.parametrize("passes", [1, 2])
def test_same_as_torch(torch: ModuleType, passes: int) -> None:
    """Leaf and non-leaf hooks and retain_grad (on the output too, in one pass), against
    PyTorch's semantics; two passes accumulate alike."""
    values = np.array([0.5, -1.0, 2.0])
    # DeZero seeds a second backward with y.grad itself, PyTorch with ones: y's own grad is
    # retained only in the one-pass case.
    retain_output = passes == 1

    def run_zerograd() -> dict[str, Any]:
        x = Variable(values.copy())
        x.register_hook(lambda g: g * 2)
        a = F.sin(x) * x
        a.retain_grad()
        a.register_hook(lambda g: g + 1)
        b = a * a
        y = F.sum(b * x)
        if retain_output:
            y.retain_grad()
            y.register_hook(lambda g: g * 3)
        for _ in range(passes):
            y.backward()
        return {"x": x.grad.data, "a": a.grad.data, "y": y.grad}

    def run_torch() -> dict[str, Any]:
        x = torch.tensor(values.copy(), requires_grad=True)
        x.register_hook(lambda g: g * 2)
        a = torch.sin(x) * x
        a.retain_grad()
        a.register_hook(lambda g: g + 1)
        b = a * a
        y = (b * x).sum()
        if retain_output:
            y.retain_grad()
            y.register_hook(lambda g: g * 3)
        for _ in range(passes):
            y.backward(retain_graph=True)
        return {
            "x": x.grad.numpy(),
            "a": a.grad.numpy(),
            "y": y.grad.numpy() if retain_output else None,
        }

    ours, theirs = run_zerograd(), run_torch()
    np.testing.assert_allclose(ours["x"], theirs["x"], rtol=1e-12)
    np.testing.assert_allclose(ours["a"], theirs["a"], rtol=1e-12)
    if retain_output:
        np.testing.assert_allclose(ours["y"].data, theirs["y"], rtol=1e-12)
    else:
        assert ours["y"] is None  # not retained: cleared after backward, as DeZero does


@pytest.mark.parametrize("leaf", [True, False])
def test_a_hook_returning_the_wrong_shape_is_refused(leaf: bool) -> None:
    x = Variable(np.ones(3))
    h = x * 2.0
    target = x if leaf else h
    target.register_hook(lambda g: Variable(np.ones(2)))
    with pytest.raises(
        ValueError, match=r"returned a gradient of shape \(2,\) for a gradient of shape \(3,\)"
    ):
        F.sin(h).sum().backward()
