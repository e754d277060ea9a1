"""``Variable`` behaves as DeZero's does (DEZERO_API.md), with DeZero's bugs fixed."""

from __future__ import annotations

import gc
import sys
import weakref

import numpy as np
import pytest

import zerograd as zg
import zerograd.functions as F
from zerograd import Parameter, Variable, as_array, as_variable


def _dezero():
    from benchmarks._common import import_dezero  # re-adds NumPy's removed aliases first

    dezero = import_dezero()
    if dezero is None:
        pytest.skip("dezero is not installed")
    return dezero


# -- backward seeds and accumulation ------------------------------------------------------------
def test_backward_on_a_leaf_seeds_ones() -> None:
    """DeZero crashes here (its loop starts from ``creator``); zerograd seeds the leaf."""
    x = Variable(np.array([1.0, 2.0, 3.0]))
    x.backward()
    np.testing.assert_array_equal(x.grad.data, np.ones(3))


def test_backward_starts_from_an_existing_grad() -> None:
    x = Variable(np.array([1.0, 2.0]))
    y = x * x
    y.grad = Variable(np.array([3.0, -1.0]))
    y.backward()
    np.testing.assert_array_equal(x.grad.data, np.array([6.0, -4.0]))
    assert y.grad is None  # the seed is cleared with the other non-leaf grads


def test_gradients_accumulate_across_backward_calls_until_cleargrad() -> None:
    x = Variable(np.array(3.0))
    y = x * x
    y.backward()
    assert float(x.grad.data) == 6.0
    y.backward()  # the same graph again
    assert float(x.grad.data) == 12.0
    z = F.sin(x)
    z.backward()  # another graph
    assert float(x.grad.data) == pytest.approx(12.0 + np.cos(3.0))
    x.cleargrad()
    assert x.grad is None
    y.backward()
    assert float(x.grad.data) == 6.0


def test_accumulated_grad_is_a_new_array_not_an_alias() -> None:
    """``x.grad + g`` makes a new array: an earlier grad held by the user does not change."""
    x = Variable(np.array([1.0, 2.0]))
    (x * 2.0).backward()
    first = x.grad
    first_data = first.data.copy()
    (x * 3.0).backward()
    np.testing.assert_array_equal(first.data, first_data)
    np.testing.assert_array_equal(x.grad.data, np.array([5.0, 5.0]))


def test_leaf_grads_never_share_memory_with_each_other() -> None:
    """Add hands the same gy to both inputs; each leaf must still own its gradient."""
    a = Variable(np.ones(3))
    b = Variable(np.ones(3))
    (a + b).backward()
    assert not np.shares_memory(a.grad.data, b.grad.data)
    a.grad.data += 1.0  # a weight-decay hook does this kind of thing
    np.testing.assert_array_equal(b.grad.data, np.ones(3))


def test_grad_of_a_value_used_twice() -> None:
    x = Variable(np.array(3.0))
    y = x + x
    y.backward()
    assert float(x.grad.data) == 2.0  # DeZero's step 14 bug: it gave 1.0


def test_retain_grad_flag_and_method() -> None:
    x = Variable(np.array(2.0))
    a = x * x
    b = F.exp(a)
    y = b * 3.0
    y.backward(retain_grad=True)
    assert float(y.grad.data) == 1.0
    assert float(b.grad.data) == 3.0
    assert float(a.grad.data) == pytest.approx(3.0 * np.exp(4.0))
    for v in (y, b, a):
        v.cleargrad()
    x.cleargrad()
    a.retain_grad()
    y.backward()
    assert y.grad is None and b.grad is None
    assert float(a.grad.data) == pytest.approx(3.0 * np.exp(4.0))
    assert float(x.grad.data) == pytest.approx(3.0 * np.exp(4.0) * 4.0)


# -- NumPy interplay ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("op", "expected"),
    [
        (lambda a, v: a + v, [3.0, 5.0]),
        (lambda a, v: a - v, [-1.0, -1.0]),
        (lambda a, v: a * v, [2.0, 6.0]),
        (lambda a, v: a / v, [0.5, 2.0 / 3.0]),
        (lambda a, v: a**v, [1.0, 8.0]),
    ],
)
def test_ndarray_on_the_left_defers_to_the_variable(op, expected) -> None:
    """``__array_priority__ = 200``: ``ndarray op Variable`` returns a Variable."""
    a = np.array([1.0, 2.0])
    v = Variable(np.array([2.0, 3.0]))
    result = op(a, v)
    assert isinstance(result, Variable)
    np.testing.assert_allclose(result.data, expected)
    result.sum().backward()
    assert v.grad is not None


def test_ndarray_matmul_on_the_left() -> None:
    a = np.ones((2, 3))
    v = Variable(np.arange(6.0).reshape(3, 2))
    result = a @ v
    assert isinstance(result, Variable)
    np.testing.assert_array_equal(result.data, a @ v.data)
    result.sum().backward()
    np.testing.assert_array_equal(v.grad.data, np.full((3, 2), 2.0))


def test_variable_attributes_and_properties() -> None:
    v = Variable(np.zeros((2, 3), dtype=np.float32), name="v")
    assert v.name == "v"
    assert Variable(np.zeros(1)).name is None
    assert v.shape == (2, 3) and v.ndim == 2 and v.size == 6 and v.dtype == np.float32
    assert len(v) == 2
    assert v.creator is None and v.generation == 0 and v.grad is None
    assert Variable.__array_priority__ == 200
    assert isinstance(Parameter(np.zeros(1)), Variable)


@pytest.mark.parametrize(
    "data",
    [
        None,
        np.array(1.0),
        np.array([1.0, 2.0]),
        np.arange(6.0).reshape(2, 3),
        np.arange(24).reshape(2, 3, 4),
        np.array([1.5, np.nan], dtype=np.float32),
    ],
)
def test_repr_matches_dezero(data) -> None:
    dezero = _dezero()
    assert repr(Variable(data)) == repr(dezero.Variable(data))


def test_repr_format() -> None:
    assert repr(Variable(None)) == "variable(None)"
    assert repr(Variable(np.array(1.0))) == "variable(1.0)"
    assert repr(Variable(np.array([[1, 2], [3, 4]]))) == "variable([[1 2]\n          [3 4]])"


# -- shape methods -----------------------------------------------------------------------------
def test_reshape_takes_a_tuple_a_list_or_varargs() -> None:
    x = Variable(np.arange(6.0))
    for y in (x.reshape((2, 3)), x.reshape([2, 3]), x.reshape(2, 3), x.reshape(2, -1)):
        assert y.shape == (2, 3)
    assert x.reshape(6) is x or x.reshape(6).shape == (6,)
    y = x.reshape(3, 2)
    (y * Variable(np.arange(6.0).reshape(3, 2))).sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.arange(6.0))


def test_transpose_takes_nothing_a_tuple_or_varargs() -> None:
    x = Variable(np.arange(24.0).reshape(2, 3, 4))
    assert x.transpose().shape == (4, 3, 2)
    assert x.T.shape == (4, 3, 2)
    assert x.transpose((1, 0, 2)).shape == (3, 2, 4)
    assert x.transpose([1, 0, 2]).shape == (3, 2, 4)
    assert x.transpose(2, 0, 1).shape == (4, 2, 3)
    assert x.transpose(None).shape == (4, 3, 2)
    y = x.transpose(2, 0, 1)
    w = np.random.default_rng(0).standard_normal((4, 2, 3))
    (y * w).sum().backward()
    np.testing.assert_array_equal(x.grad.data, w.transpose(1, 2, 0))


def test_sum_matmul_dot_max_min_methods() -> None:
    x = Variable(np.arange(6.0).reshape(2, 3))
    assert float(x.sum().data) == 15.0
    np.testing.assert_array_equal(x.sum(axis=0).data, [3.0, 5.0, 7.0])
    assert x.sum(axis=1, keepdims=True).shape == (2, 1)
    w = Variable(np.ones((3, 2)))
    np.testing.assert_array_equal(x.matmul(w).data, x.data @ w.data)
    np.testing.assert_array_equal(x.dot(w).data, x.data @ w.data)


# -- unchain -------------------------------------------------------------------------------------
def test_unchain_cuts_the_graph_for_consumers_already_recorded() -> None:
    """DeZero: after ``a.unchain()``, ``y = a * 3`` backpropagates into ``a`` and stops."""
    x = Variable(np.array(2.0))
    a = x * x
    y = a * 3.0
    a.unchain()
    assert a.creator is None
    y.backward()
    assert float(a.grad.data) == 3.0
    assert x.grad is None  # the cut graph no longer reaches x


def test_unchain_makes_a_leaf_for_later_uses() -> None:
    x = Variable(np.array(2.0))
    a = x * x
    a.unchain()
    y = a * 3.0
    assert a.creator is None
    y.backward()
    assert float(a.grad.data) == 3.0
    assert x.grad is None


def test_unchain_keeps_the_data() -> None:
    x = Variable(np.array(2.0))
    a = x * x
    a.unchain()
    assert float(a.data) == 4.0


def test_unchain_backward_cuts_everything_behind() -> None:
    x = Variable(np.array(2.0))
    a = F.sin(x)
    b = a * x
    c = F.exp(a) + b
    y = c * 2.0
    refs = [weakref.ref(v.creator) for v in (a, b, c)]
    y.unchain_backward()
    assert all(v.creator is None for v in (a, b, c))
    assert y.creator is not None  # DeZero keeps y's own creator; its inputs are leaves now
    gc.collect()
    assert [r() for r in refs] == [None, None, None]
    assert x.creator is None and x.grad is None


def test_unchain_backward_is_iterative() -> None:
    """Far deeper than the recursion limit (DeZero's own version is iterative too)."""
    x = Variable(np.array(0.5))
    y = x
    hold = []
    for k in range(5 * sys.getrecursionlimit()):
        y = F.sin(y)
        if k % 100 == 0:
            hold.append(y)
    y.unchain_backward()
    assert all(v.creator is None for v in hold)


def test_unchain_backward_on_a_leaf_is_harmless() -> None:
    x = Variable(np.array(1.0))
    x.unchain_backward()
    x.unchain()
    assert x.creator is None


# -- helpers -------------------------------------------------------------------------------------
def test_as_array_and_as_variable() -> None:
    a = as_array(3.0)
    assert isinstance(a, np.ndarray) and a.shape == () and a == 3.0
    arr = np.ones(2)
    assert as_array(arr) is arr
    v = Variable(arr)
    assert as_variable(v) is v
    w = as_variable(arr)
    assert isinstance(w, Variable) and w.data is arr


def test_setup_variable_is_a_harmless_no_op() -> None:
    zg.setup_variable()
    x = Variable(np.array(2.0))
    assert float((x * x).data) == 4.0
